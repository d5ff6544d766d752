"""Deterministic synthetic news corpus in the seed's article format.

Writes N Markdown files whose YAML front matter copies the shapes of the
user's sample (``seeds/000_e8d8b023fb041968.txt``) and of the real corpora
in ``../shared/corpus`` (field order, quoting, blank lines, AMP URL shapes,
``null`` values, offsets in dates, mojibake and escapes in text)::

    python benchmarks/generate_corpus.py 100000 /tmp/corpus-100k [--seed 0] [--flat]

or, from Python, ``generate(100_000, "/tmp/corpus-100k", seed=0)``.

Layout: files are named ``YYYY-MM-DD-slug.md`` like the real ones, sorted by
publication time and spread over sub-folders ``000/``, ``001/``, ... of at
most 10,000 files each (``--flat`` puts them all in OUTDIR).  OUTDIR also
gets ``MANIFEST.tsv`` (file, webUrl, story): the ground truth of the
same-story groups, for evaluating story clustering.

Distributions (all from one seed; the same N and seed give byte-identical
files):

* ~2,000 providers with Zipf popularity (s=1); a few with a second name for
  the same domain ("Omaha.com" for apnews.com) or a ``www.`` domain variant.
* 300 topics (subjects, "X in Region", "X Aspect"), Zipf popularity,
  1-4 per article, a child topic usually listed with its parent.
* 0-2 images per article; 0-8 related entries (a few up to 16), ~85% of them
  copies of another generated file's entry (its exact webUrl, title,
  excerpt, date, provider) and the rest pointing outside the corpus.
* ~5% of articles belong to same-story groups: the same or nearly the same
  title and excerpt, published by different providers within a day.
* Provider logos (``provider.images``, 50x50) in some rich files, as in ai-facial.
* Two record styles, as in the real corpus: the "rich" one of the seed
  (quality, published, related, secured) and the older "feed" one (locale,
  ``ampWebUrl: null``, ``images: null``, no related).
"""

from __future__ import annotations

import argparse
import base64
import bisect
import random
import re
import string
import sys
import time
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path

__all__ = ["generate", "build_corpus", "render", "Article", "Provider"]

FILES_PER_DIR = 10_000
N_PROVIDERS = 2_000
N_TOPICS = 300
STORY_SHARE = 0.05          # share of articles that belong to a same-story group
RELATED_INSIDE = 0.85       # share of related entries that point at a generated file
RICH_SHARE = 0.70           # share of articles in the seed's "rich" style
START = 1546300800          # 2019-01-01T00:00:00Z
END = 1735689600            # 2025-01-01T00:00:00Z

# --------------------------------------------------------------------------- words

_PLACES = (
    "Springfield Riverside Lakeview Omaha Tulsa Dayton Boise Fresno Toledo Akron Madison "
    "Spokane Tacoma Reno Provo Mobile Macon Peoria Joliet Topeka Wichita Lansing Flint Erie "
    "Albany Trenton Camden Salem Eugene Bend Yakima Billings Fargo Duluth Rochester Syracuse "
    "Buffalo Hartford Bristol Norwich Leeds Derby York Bath Perth Hobart Darwin Cairns Regina "
    "Halifax Moncton Kelowna Nanaimo Sudbury Windsor Kingston Galway Cork Limerick Pune Nagpur "
    "Austin Denver Tampa Orlando Miami Memphis Nashville Louisville Raleigh Durham Richmond "
    "Norfolk Savannah Charleston Augusta Columbus Cleveland Detroit Chicago Milwaukee Houston "
    "Dallas Phoenix Tucson Portland Seattle Oakland Sacramento Anchorage Honolulu Boston Baltimore"
).split()
_PAPERS = (
    "Herald Tribune Gazette Times Post Journal Courier Observer Chronicle Sentinel Register "
    "Record Ledger Dispatch Star News Press Examiner Telegraph Independent Mirror Bulletin "
    "Monitor Review Enquirer Beacon Standard Express Leader Daily Current Voice Report"
).split()
_TECH_A = "Tech Data Cyber Cloud Byte Silicon Quantum Digital Code Pixel Signal Future Smart Next".split()
_TECH_B = "Pulse Wire Insider Report Today Watch Hub Beat Radar Lab Brief Times Review Crunch".split()
_SECTIONS = (
    "news business world politics tech science health local opinion markets sports "
    "entertainment lifestyle national us-news economy education environment"
).split()
_SUBJ_PL = (
    "Officials Scientists Researchers Regulators Investors Lawmakers Doctors Analysts Police "
    "Residents Startups Teachers Experts Governors Senators Engineers Workers Retailers "
    "Airlines Hospitals Universities Farmers Voters Economists Nurses Parents Students"
).split()
_COMPANIES = (
    "Apple;Microsoft;Google;Amazon;Meta;Tesla;Nvidia;Samsung;Xpeng;Clearview AI;SenseTime;"
    "Pfizer;Moderna;Boeing;Intel;Netflix;Uber;TikTok;Huawei;Sony;Alibaba;OpenAI;IBM;Toyota;"
    "Shell;The EU;The WHO;The Fed;The FDA;The FBI;Congress;The Senate;Beijing;Ottawa;Canberra"
).split(";")
# (singular, plural) verb forms
_VERBS = tuple(tuple(v.split("|")) for v in (
    "warns of|warn of;reports|report;bans|ban;approves|approve;delays|delay;launches|launch;"
    "cuts|cut;expands|expand;unveils|unveil;probes|probe;fines|fine;backs|back;rejects|reject;"
    "plans|plan;eyes|eye;sues over|sue over;doubles down on|double down on;pauses|pause;"
    "boosts|boost;questions|question;slams|slam;defends|defend;invests in|invest in;tests|test;"
    "weighs|weigh;scraps|scrap;extends|extend;tightens|tighten;targets|target;debates|debate"
).split(";"))
_ADJ = (
    "new;controversial;sweeping;record;first;major;global;local;emergency;long-awaited;"
    "$2 billion;surprise;tighter;expanded;experimental;temporary;costly;landmark;voluntary"
).split(";")
_NOUNS = (
    "rules plan deal ban study program guidelines tax investment trial partnership lawsuit "
    "fund policy system tool report strategy network budget review pilot framework"
).split()
_TAILS = (
    "amid {kw} concerns;over {kw};in {place};after weeks of debate;despite pushback;this week;"
    "for the first time;ahead of the holidays;as cases rise;as prices climb;in court filing;"
    "after data breach;as deadline looms;amid criticism;for {n} million users;by {year}"
).split(";")
_SENTENCES = (
    "The move comes as {subj} face growing pressure over {kw}.",
    "{Subj} said the decision would affect about {n},000 people in {place}.",
    "According to a statement released on {day}, the changes take effect next month.",
    "Critics say the plan does not go far enough to address {kw}.",
    "The company’s shares rose {n}% in early trading after the announcement.",
    "A spokesperson declined to comment on the details of the {noun}.",
    "\"We are taking this very seriously,\" a spokesperson for {company} said.",
    "Experts warn that {kw} could have lasting effects on {place} and beyond.",
    "The report, published by researchers in {place}, surveyed more than {n},000 adults.",
    "It is the latest in a series of measures aimed at {kw}.",
    "Officials in {place} reported {n} new cases on {day}, bringing the total to {m},{k}.",
    "The {noun} was first proposed in {year} but stalled amid opposition.",
    "Here’s what you need to know about the {adj} {noun} and what it means for you.",
    "{company} said it would invest ${n} million over the next {m} years.",
    "The agency has until {day} to respond to the {noun}, court documents show.",
    "Lawmakers in {place} are expected to vote on the measure later this week.",
)
_DAYS = "Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split()
_PREFIXES = ("WATCH NOW: ", "UPDATE: ", "BREAKING: ", "Video: ", "UPDATED: ")
_MOJIBAKE = ("Â®", "â€™", "Ã©", "â€œ", "Â£")
_TAGS = (
    "US US-CA US-NY US-TX US-FL US-WA US-PA US-OH US-SC US-VA US-OK US-OR US-MA US-IL US-GA "
    "GB CA CA-ON CA-BC AU IN CN JP KR DE FR IT ES BR IE"
).split()
_IMG_SIZES = (
    (1200, 628), (1920, 1080), (800, 600), (640, 360), (560, 373), (320, 213),
    (2000, 1333), (1024, 682), (700, 450), (1280, 720), (624, 430), (1600, 900),
)
_SHARED_IMG_HOSTS = (
    "d29xw9s9x32j3w.cloudfront.net", "www.gannett-cdn.com", "s.hdnux.com",
    "bloximages.newyork1.vip.townnews.com", "storage.googleapis.com",
)
_TLDS = ("com",) * 74 + ("co.uk",) * 5 + ("ca",) * 4 + ("com.au",) * 3 + ("org",) * 4 + \
    ("net",) * 3 + ("in",) * 2 + ("ie",) + ("news",) + ("io",) * 2 + ("co",)
_LOCALE = {"co.uk": "en-gb", "ca": "en-ca", "com.au": "en-au", "in": "en-in", "ie": "en-ie"}

# Head of the Zipf distribution: (name, domain, alt name, www variant, hosts, url style, amp style)
_KNOWN = (
    ("Reuters", "reuters.com", None, False, ("www.reuters.com",), 3, None),
    ("New York Times", "nytimes.com", None, False, ("www.nytimes.com",), 0, "q_outputtype"),
    ("AP News", "apnews.com", "Omaha.com", False, ("apnews.com",), 4, None),
    ("CNBC", "cnbc.com", None, False, ("www.cnbc.com",), 0, "amp_prefix"),
    ("The Guardian", "theguardian.com", None, False, ("www.theguardian.com",), 1, "amp_host"),
    ("Washington Post", "washingtonpost.com", None, False, ("www.washingtonpost.com",), 0, "q_outputtype"),
    ("BBC News", "bbc.co.uk", None, False, ("www.bbc.co.uk",), 1, "dot_amp"),
    ("Fox News", "foxnews.com", None, False, ("www.foxnews.com",), 1, "dot_amp"),
    ("USA Today", "usatoday.com", None, False, ("www.usatoday.com",), 6, "amp_prefix"),
    ("NBC News", "nbcnews.com", None, False, ("www.nbcnews.com",), 1, "amp_suffix"),
    ("Business Insider", "businessinsider.com", None, False,
     ("www.businessinsider.com", "markets.businessinsider.com"), 1, "q_amp"),
    ("Forbes", "forbes.com", None, False, ("www.forbes.com",), 0, "amp_suffix"),
    ("U.S. News & World Report", "usnews.com", None, False, ("www.usnews.com",), 1, None),
    ("The Conversation", "theconversation.com", None, False, ("theconversation.com",), 1, "amp_prefix"),
    ("CBC News", "cbc.ca", None, True, ("www.cbc.ca",), 1, "amp_prefix"),
    ("MarketWatch", "marketwatch.com", None, False, ("www.marketwatch.com",), 1, "amp_prefix"),
    ("The Motley Fool", "fool.com", None, False, ("www.fool.com",), 0, "amp_prefix"),
    ("New York Post", "nypost.com", None, False, ("nypost.com",), 0, "amp_suffix"),
    ("Business Standard", "business-standard.com", None, False,
     ("www.business-standard.com",), 2, "amp_host"),
    ("Caixin Global", "caixinglobal.com", None, False, ("www.caixinglobal.com",), 5, None),
    ("TechCrunch", "techcrunch.com", None, False, ("techcrunch.com",), 0, "amp_suffix"),
    ("The Verge", "theverge.com", None, False, ("www.theverge.com",), 0, None),
    ("ZDNet", "zdnet.com", None, False, ("www.zdnet.com",), 1, "amp_prefix"),
    ("CNN", "cnn.com", None, False, ("www.cnn.com", "edition.cnn.com"), 0, "amp_host"),
    ("NPR", "npr.org", None, False, ("www.npr.org",), 0, None),
    ("Al Jazeera", "aljazeera.com", None, False, ("www.aljazeera.com",), 0, "amp_prefix"),
    ("The Independent", "independent.co.uk", None, False, ("www.independent.co.uk",), 2, "amp_html"),
    ("CBS Boston / WBZ", "cbslocal.com", "CBS San Francisco", False,
     ("boston.cbslocal.com", "sanfrancisco.cbslocal.com"), 0, "amp_suffix"),
    ("South China Morning Post", "scmp.com", None, False, ("www.scmp.com",), 1, "amp_prefix"),
    ("RTÉ", "rte.ie", None, True, ("www.rte.ie",), 1, None),
    ("Yahoo News", "yahoo.com", "Yahoo Finance", False,
     ("news.yahoo.com", "finance.yahoo.com"), 2, "amp_prefix"),
    ("Nasdaq", "nasdaq.com", None, False, ("www.nasdaq.com",), 1, "q_amp"),
)

_TOPIC_MAIN = (
    "Coronavirus;AI;Computer Vision;Climate Change;Elections;Stock Market;Cryptocurrency;"
    "Cybersecurity;Space;Electric Vehicles;Power Apps;Privacy;Immigration;Healthcare;Education;"
    "Energy;Housing;Inflation;Trade;Sports;Film;Music;Smartphones;Social Media;Semiconductors;"
    "Vaccines;Wildfires;Hurricanes;Oil Prices;Supply Chain;Remote Work;Robotics;"
    "Quantum Computing;5G;Gaming;Streaming;Tourism;Aviation;Agriculture;Mental Health;"
    "Cancer Research;Genetics;Ukraine War;Brexit;Human Rights;Facial Recognition;"
    "Machine Learning;Autonomous Driving;Renewable Energy;Banking;Real Estate;Retail;"
    "Labor Market;Taxes;Antitrust;Big Tech;Olympics;Football;Basketball;Tennis;Model-driven apps;"
    "Canvas apps;Portals;AI Builder;Teams integration;Economic Impact;Travel Impact;"
    "Political Impact;Education Impact;Events Impact;Stock Impact;Treatment;New Cases"
).split(";")
_TOPIC_REGIONS = (
    "US;Canada;Europe;Asia;China;Japan;South Korea;India;UK;Australia;Africa;Latin America;"
    "Middle East;Germany;France"
).split(";")
_TOPIC_ASPECTS = "Regulation;Research;Funding;Lawsuits;Startups;Policy;Ethics;Jobs".split(";")

_FORMATTER = string.Formatter()
_FIELDS: dict[str, tuple[str, ...]] = {}
_NUMBERS = {"n": (2, 99), "m": (2, 9), "k": (100, 1000), "year": (2019, 2027)}
_SLOTS: dict[str, tuple[str, ...] | list[str]] = {
    "day": _DAYS, "subj": _SUBJ_PL, "Subj": _SUBJ_PL, "company": _COMPANIES, "noun": _NOUNS,
    "adj": _ADJ,
}

_SLUG_DROP = re.compile(r"[^a-z0-9\s-]+")
_SLUG_SPACE = re.compile(r"[\s-]+")

# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class Provider:
    """A publisher: display name(s), registrable domain and URL habits."""

    name: str
    domain: str
    alt_name: str | None
    www_variant: bool
    hosts: tuple[str, ...]
    url_style: int
    amp_style: str | None
    img_style: int
    locale: str
    logo: bool = False


@dataclass(slots=True)
class Topic:
    """A topic label, its parent (for "X in Region") and words for titles."""

    label: str
    parent: int | None
    kw: str
    place: str | None


@dataclass(slots=True)
class Article:
    """One article, either a generated file or a related entry outside the corpus."""

    when: int                    # epoch seconds, UTC
    date: str                    # publishedDateTime as written
    title: str
    excerpt: str
    pname: str
    pdomain: str
    web: str | None
    amp: str | None = None
    cdn: str | None = None
    original: str | None = None
    type: str = "article"
    quality: int | None = None
    heat: int | None = -1
    published: bool | None = False
    locale: str | None = None
    topics: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    images: list[tuple[str, int, int, bool]] = field(default_factory=list)
    related: list[int | Article] = field(default_factory=list)   # int: index of a file
    rich: bool = True            # the seed's style; else the older feed style
    logo: str | None = None      # provider logo URL (provider.images), rich files only
    secured: str = ""
    story: int = -1
    path: str = ""


# --------------------------------------------------------------------------- helpers


def _q(s: str) -> str:
    """A YAML double-quoted scalar (escapes backslash, quote and line breaks)."""
    if "\\" in s or '"' in s or "\n" in s or "\r" in s or "\t" in s:
        s = (s.replace("\\", "\\\\").replace('"', '\\"')
             .replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t"))
    return f'"{s}"'


def slugify(title: str, limit: int = 90) -> str:
    """The file-name slug of a title, like the real corpus (`'` and `$` dropped)."""
    s = _SLUG_SPACE.sub("-", _SLUG_DROP.sub("", title.lower())).strip("-")
    if len(s) > limit:
        s = s[:limit].rsplit("-", 1)[0]
    return s or "untitled"


def _fmt_time(t: int, offset_h: int) -> tuple[str, str]:
    """(publishedDateTime text, local date) for epoch ``t`` written at UTC+offset_h."""
    g = time.gmtime(t + offset_h * 3600)
    base = (f"{g.tm_year:04d}-{g.tm_mon:02d}-{g.tm_mday:02d}T"
            f"{g.tm_hour:02d}:{g.tm_min:02d}:{g.tm_sec:02d}")
    suffix = "Z" if offset_h == 0 else f"-{-offset_h:02d}:00"
    return base + suffix, base[:10]


def _plural(noun: str) -> str:
    """English plural of the nouns used here (rules, policies, taxes)."""
    if noun.endswith("s"):
        return noun
    if noun.endswith("y"):
        return noun[:-1] + "ies"
    return noun + ("es" if noun.endswith("x") else "s")


def _zipf_cum(n: int, s: float) -> list[float]:
    return list(accumulate(1.0 / (k + 1) ** s for k in range(n)))


class _Rng(random.Random):
    """``random.Random`` with cheaper ``choice`` and ``randrange`` (still seeded)."""

    def choice(self, seq):  # type: ignore[override]
        return seq[int(self.random() * len(seq))]

    def randrange(self, start, stop=None, step=1):  # type: ignore[override]
        if step != 1:
            raise ValueError("only step=1 is supported")
        if stop is None:
            start, stop = 0, start
        return start + int(self.random() * (stop - start))


class _Zipf:
    """Draw indices 0..n-1 with Zipf(s) popularity."""

    def __init__(self, rng: random.Random, n: int, s: float) -> None:
        self._cum = _zipf_cum(n, s)
        self._total = self._cum[-1]
        self._rand = rng.random

    def __call__(self) -> int:
        return bisect.bisect_left(self._cum, self._rand() * self._total)


def _cdn_amp(amp: str) -> str:
    """The cdn.ampproject.org form of an https AMP URL (``-`` doubled in the host)."""
    rest = amp.split("://", 1)[1]
    host = rest.split("/", 1)[0].split("?", 1)[0]
    return f"https://{host.replace('-', '--').replace('.', '-')}.cdn.ampproject.org/c/s/{rest}"


# --------------------------------------------------------------------------- universe


def _make_providers(seed: int) -> list[Provider]:
    """The ~2,000 providers, most popular first (independent of N)."""
    rng = random.Random(f"providers:{seed}")
    out: list[Provider] = []
    seen: set[str] = set()
    for name, dom, alt, www, known_hosts, style, amp in _KNOWN:
        tld = dom.split(".", 1)[1]
        out.append(Provider(name, dom, alt, www, known_hosts, style, amp, rng.randrange(5),
                            _LOCALE.get(tld, "en-us"), logo=True))
        seen.add(dom)
    amp_styles = (None, None, None, "amp_prefix", "amp_suffix", "amp_host", "amp_html",
                  "q_amp", "q_outputtype", "dot_amp", "amphtml", "amp_prefix")
    while len(out) < N_PROVIDERS:
        r = rng.random()
        if r < 0.45:
            place, paper = rng.choice(_PLACES), rng.choice(_PAPERS)
            name = f"The {place} {paper}" if rng.random() < 0.5 else f"{place} {paper}"
            stem = [place.lower(), paper.lower()]
        elif r < 0.70:
            a, b = rng.choice(_TECH_A), rng.choice(_TECH_B)
            name = f"{a}{b}" if rng.random() < 0.6 else f"{a} {b}"
            stem = [a.lower(), b.lower()]
        elif r < 0.85:
            call = rng.choice("KW") + "".join(rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(3))
            name = f"{call} {rng.choice((2, 4, 5, 7, 9, 10, 11, 13))}" if rng.random() < 0.6 else call
            stem = [call.lower()]
        else:
            place = rng.choice(_PLACES)
            kind = rng.choice(("News", "Today", "Now", "Live", "Business Journal", "Patch"))
            name = f"{place} {kind}"
            stem = [place.lower(), kind.lower().replace(" ", "")]
        sep = "-" if len(stem) > 1 and rng.random() < 0.15 else ""
        tld = rng.choice(_TLDS)
        dom = f"{sep.join(stem)}.{tld}"
        if dom in seen:
            continue
        seen.add(dom)
        r = rng.random()
        if r < 0.65:
            hosts: tuple[str, ...] = (f"www.{dom}",)
        elif r < 0.90:
            hosts = (dom,)
        else:
            hosts = (f"www.{dom}", f"{rng.choice(('news', 'local', 'markets', 'm', 'edition'))}.{dom}")
        style = rng.randrange(8)
        amp = rng.choice(amp_styles)
        alt = None
        if rng.random() < 0.04:
            alt = rng.choice((f"{dom.split('.')[0].capitalize()}.{tld}", f"{name} Online",
                              f"{name} Staff"))
        out.append(Provider(name, dom, alt, rng.random() < 0.03, hosts, style, amp,
                            rng.randrange(5), _LOCALE.get(tld, "en-us"), logo=rng.random() < 0.2))
    return out


def _make_topics(seed: int) -> list[Topic]:
    """300 topics in popularity order; "X in Region" and "X Aspect" have parent X."""
    rng = random.Random(f"topics:{seed}")
    proper = {"AI", "Power Apps", "5G", "Brexit", "Olympics", "AI Builder", "Ukraine War"}
    topics = [Topic(t, None, t if t in proper else t.lower(), None) for t in _TOPIC_MAIN]
    mains = list(range(30))
    pairs = [(m, r) for m in mains[:12] for r in _TOPIC_REGIONS]
    pairs += [(m, a) for m in mains for a in _TOPIC_ASPECTS]
    rng.shuffle(pairs)
    seen = {t.label for t in topics}
    for m, extra in pairs:
        if len(topics) >= N_TOPICS:
            break
        parent = topics[m]
        label = f"{parent.label} in {extra}" if extra in _TOPIC_REGIONS else f"{parent.label} {extra}"
        if label in seen:
            continue
        seen.add(label)
        place = extra if extra in _TOPIC_REGIONS else None
        topics.append(Topic(label, m, parent.kw, place))
    parents = [topics[t.parent].label if t.parent is not None else None for t in topics]
    order = list(range(len(topics)))
    tail = order[6:]
    rng.shuffle(tail)
    order = order[:6] + tail
    shuffled = [topics[i] for i in order]
    index = {t.label: i for i, t in enumerate(shuffled)}
    for i, old in enumerate(order):     # parent indices refer to the new order
        plabel = parents[old]
        shuffled[i].parent = index[plabel] if plabel is not None else None
    return shuffled


# --------------------------------------------------------------------------- builder


@dataclass(frozen=True)
class Shape:
    """How the corpus is linked: the costs of a build depend on it.

    ``inside``: share of related entries that point at a generated file (the
    rest point outside the corpus); ``related``: factor on the number of
    related entries per file; ``topics``: factor on the number of topics per
    file.  The defaults are the real files' shape, and give the same corpus
    as before shapes existed.
    """

    inside: float = RELATED_INSIDE
    related: float = 1.0
    topics: float = 1.0

    @classmethod
    def parse(cls, text: str) -> Shape:
        """``"inside=0.5,related=2,topics=1.5"`` (any of them) -> a Shape."""
        fields = {}
        for part in filter(None, text.split(",")):
            key, _, value = part.partition("=")
            if key.strip() not in ("inside", "related", "topics"):
                raise ValueError(f"unknown shape field {key.strip()!r} (inside, related, topics)")
            fields[key.strip()] = float(value)
        return cls(**fields)

    def __str__(self) -> str:
        return f"inside={self.inside:g},related={self.related:g},topics={self.topics:g}"


class _Builder:
    """Builds the in-memory corpus; every random draw comes from one seeded RNG."""

    def __init__(self, n: int, seed: int, shape: Shape = Shape()) -> None:
        self.n = n
        self.shape = shape
        self.rng = _Rng(seed)
        self.providers = _make_providers(seed)
        self.topics = _make_topics(seed)
        self.pick_provider = _Zipf(self.rng, len(self.providers), 1.0)
        self.pick_topic = _Zipf(self.rng, len(self.topics), 0.9)
        self.children: dict[int, list[int]] = {}
        for i, t in enumerate(self.topics):
            if t.parent is not None:
                self.children.setdefault(t.parent, []).append(i)
        self.urls: set[str] = set()
        self.ext_pool: dict[int, list[Article]] = {}

    # -- text ---------------------------------------------------------------

    def _fill(self, tpl: str, topic: Topic) -> str:
        """Fill a sentence template, drawing only the values it names."""
        names = _FIELDS.get(tpl)
        if names is None:
            names = _FIELDS[tpl] = tuple(f for _, f, _, _ in _FORMATTER.parse(tpl) if f)
        if not names:
            return tpl
        rng = self.rng
        values: dict[str, str | int] = {}
        for f in names:
            if f in values:
                continue
            if f == "kw":
                values[f] = topic.kw
            elif f == "place":
                values[f] = topic.place or rng.choice(_PLACES)
            elif f in _NUMBERS:
                lo, hi = _NUMBERS[f]
                values[f] = rng.randrange(lo, hi)
            else:
                v = rng.choice(_SLOTS[f])
                values[f] = v.lower() if f == "subj" else v
        return tpl.format(**values)

    def title(self, topic: Topic) -> str:
        rng = self.rng
        r = rng.random()
        if r < 0.55:
            if rng.random() < 0.5:
                subj, verb = rng.choice(_COMPANIES), rng.choice(_VERBS)[0]
            else:
                subj, verb = rng.choice(_SUBJ_PL), rng.choice(_VERBS)[1]
            t = f"{subj} {verb} {rng.choice(_ADJ)} {topic.kw} {rng.choice(_NOUNS)}"
            if rng.random() < 0.7:
                t += " " + self._fill(rng.choice(_TAILS), topic)
        elif r < 0.70:
            place = topic.place or rng.choice(_PLACES)
            t = f"{place} reports {rng.randrange(2, 999)} new {topic.kw} cases, {rng.randrange(1, 60)} deaths"
        elif r < 0.80:
            place = topic.place or rng.choice(_PLACES)
            t = f"How {topic.kw} is changing {_plural(rng.choice(_NOUNS))} in {place}"
        elif r < 0.90:
            who, word = rng.choice(_SUBJ_PL), rng.choice(_NOUNS)
            t = f"{who}: The {topic.kw} \"{word}\" is {rng.choice(_ADJ)}, not {rng.choice(_ADJ)}"
        else:
            who, verb = rng.choice(_COMPANIES), rng.choice(_VERBS)[0]
            t = f"Why {who} {verb} {topic.kw} {_plural(rng.choice(_NOUNS))} now"
        t = t[0].upper() + t[1:]
        if rng.random() < 0.4:
            t = " ".join(w[:1].upper() + w[1:] for w in t.split(" "))
        r = rng.random()
        if r < 0.005:
            t = t.replace(" ", f" {rng.choice(_MOJIBAKE)} ", 1)
        elif r < 0.008:
            t += " \\ Part 2"
        return t

    def excerpt(self, topic: Topic) -> str:
        rng = self.rng
        parts = [self._fill(rng.choice(_SENTENCES), topic) for _ in range(rng.randrange(1, 4))]
        sep = "\r\n" if rng.random() < 0.005 else " "
        e = sep.join(parts)
        if rng.random() < 0.3 and len(e) > 200:
            e = e[:200]          # feeds cut excerpts mid-word, like the seed's
        if rng.random() < 0.005:
            e = e.replace(" ", f" {rng.choice(_MOJIBAKE)} ", 1)
        return e

    # -- URLs ---------------------------------------------------------------

    def web_url(self, p: Provider, slug: str, when: int) -> str:
        rng = self.rng
        host = rng.choice(p.hosts)
        g = time.gmtime(when)
        y, mo, d = f"{g.tm_year:04d}", f"{g.tm_mon:02d}", f"{g.tm_mday:02d}"
        sec = rng.choice(_SECTIONS)
        s = p.url_style
        if s == 0:
            path = f"/{y}/{mo}/{d}/{slug}/"
        elif s == 1:
            path = f"/{sec}/{slug}-{rng.randrange(10**5, 10**7)}"
        elif s == 2:
            path = f"/{sec}/{slug}-{rng.randrange(10**7, 10**9)}.html"
        elif s == 3:
            path = f"/article/{sec}-{slug[:40].rstrip('-')}-id{rng.getrandbits(40):010X}"
        elif s == 4:
            path = f"/{rng.getrandbits(128):032x}"
        elif s == 5:
            path = f"/{y}-{mo}-{d}/{slug}-{rng.randrange(10**8, 10**9)}.html"
        elif s == 6:
            path = f"/story/{sec}/{y}/{mo}/{d}/{slug}/{rng.randrange(10**9, 10**10)}/"
        else:
            path = f"/{sec}/{y}{mo}{d}/{slug}.html"
        url = f"https://{host}{path}"
        if rng.random() < 0.02:
            url += f"?cat={rng.randrange(100, 999)}"
        while url in self.urls:
            url += "-2" if not url.endswith("/") else "2/"
        self.urls.add(url)
        return url

    def amp_url(self, p: Provider, web: str) -> str | None:
        """The provider's AMP variant of ``web`` (None when it has none)."""
        a = p.amp_style
        if a is None or "?" in web:
            return None
        scheme_host, _, path = web.partition("://")[2].partition("/")
        host = scheme_host
        if a == "amp_prefix":
            return f"https://{host}/amp/{path}"
        if a == "amphtml":
            return f"https://{host}/amphtml/{path}"
        if a == "amp_suffix":
            return web + "amp/" if web.endswith("/") else web + "/amp/"
        if a == "amp_host":
            bare = host[4:] if host.startswith("www.") else host
            return f"https://amp.{bare}/{path}"
        if a == "amp_html":
            return web[:-5] + ".amp.html" if web.endswith(".html") else f"https://{host}/amp/{path}"
        if a == "q_amp":
            return web + "?amp"
        if a == "q_outputtype":
            return web + "?outputType=amp"
        return web.rstrip("/") + ".amp"       # dot_amp

    def image(self, p: Provider, slug: str, when: int, cached: bool) -> tuple[str, int, int, bool]:
        rng = self.rng
        w, h = rng.choice(_IMG_SIZES)
        g = time.gmtime(when)
        s = p.img_style
        if s == 0:
            url = (f"https://img.{p.domain}/{g.tm_year}-{g.tm_mon:02d}-{g.tm_mday:02d}/"
                   f"{rng.randrange(10**14, 10**15)}_{w}_{h}.jpg")
        elif s == 1:
            url = f"https://www.{p.domain}/wp-content/uploads/{g.tm_year}/{g.tm_mon:02d}/{slug[:30].rstrip('-')}-{w}x{h}.jpg"
        elif s == 2:
            url = (f"https://images.{p.domain}/files/{rng.randrange(10**5, 10**6)}/original/"
                   f"file-{g.tm_year}{g.tm_mon:02d}{g.tm_mday:02d}-{rng.randrange(10, 99)}-"
                   f"{rng.getrandbits(30):x}.jpg?ixlib=rb-1.1.0&q=45&auto=format&w={w}&h={h}&fit=crop")
        elif s == 3:
            url = f"https://{rng.choice(_SHARED_IMG_HOSTS)}/media/{rng.getrandbits(128):032x}/{w}.png"
        else:
            url = f"https://cdn.{p.domain}/resize/{w}x{h}!/quality/70/?url=https%3A%2F%2F{p.domain}%2F{slug[:24].rstrip('-')}.jpg"
        return url, w, h, cached

    # -- articles -----------------------------------------------------------

    def _topics_for(self) -> list[int]:
        rng = self.rng
        first = self.pick_topic()
        k = round(rng.choices((1, 2, 3, 4), (20, 60, 16, 4))[0] * self.shape.topics)
        out = [first]
        parent = self.topics[first].parent
        if parent is not None and rng.random() < 0.8:
            out.append(parent)
        tries = 0
        while len(out) < k and tries < 12:
            tries += 1
            kids = self.children.get(out[-1]) or self.children.get(parent or -1)
            cand = rng.choice(kids) if kids and rng.random() < 0.5 else self.pick_topic()
            if cand not in out:
                out.append(cand)
        return out

    def _provider_fields(self, p: Provider) -> tuple[str, str]:
        rng = self.rng
        name = p.alt_name if p.alt_name and rng.random() < 0.25 else p.name
        dom = f"www.{p.domain}" if p.www_variant and rng.random() < 0.5 else p.domain
        return name, dom

    def _secured(self) -> str:
        rb = self.rng.randbytes
        return (base64.b64encode(rb(self.rng.randrange(200, 320))).decode() + ";"
                + base64.b64encode(rb(16)).decode())

    def article(self, when: int, topics: list[int], p: Provider, title: str | None = None,
                excerpt: str | None = None) -> Article:
        """A new file's article (URLs, images and extra fields drawn here)."""
        rng = self.rng
        topic = self.topics[topics[0]]
        title = title or self.title(topic)
        excerpt = excerpt if excerpt is not None else self.excerpt(topic)
        off = 0 if rng.random() < 0.85 else (-7 if 3 <= time.gmtime(when).tm_mon <= 10 else -8)
        date, _ = _fmt_time(when, off)
        slug = slugify(title)
        pname, pdom = self._provider_fields(p)
        rich = rng.random() < RICH_SHARE
        a = Article(when, date, title, excerpt, pname, pdom, None, rich=rich,
                    topics=[self.topics[t].label for t in topics])
        if rng.random() < 0.003:          # a video: no webUrl, only a YouTube originalUrl
            a.type = "video"
            vid = base64.urlsafe_b64encode(rng.randbytes(8)).decode()[:11]
            a.original = f"https://youtube.com/watch?v={vid}"
            a.images = [(f"https://i.ytimg.com/vi/{vid}/maxresdefault.jpg", 1280, 720, True)]
        else:
            a.web = self.web_url(p, slug, when)
            if rng.random() < 0.9:
                a.amp = self.amp_url(p, a.web)
                a.cdn = _cdn_amp(a.amp) if a.amp else None
            r = rng.random()
            if r < (0.25 if rich else 0.15):
                r2 = rng.random()
                if r2 < 0.7:
                    a.original = a.web
                elif r2 < 0.9 and "?" not in a.web:
                    a.original = a.web + "?utm_source=feedburner&utm_medium=feed&utm_campaign=Feed%3A+news"
                else:
                    a.original = "http://" + a.web.split("://", 1)[1]
            k = rng.choices((0, 1, 2), (12, 80, 8))[0]
            cached = rich and rng.random() < 0.5
            a.images = [self.image(p, slug, when, cached) for _ in range(k)]
        if rich:
            a.quality = max(0, min(170, int(rng.gauss(64, 35))))
            a.published = rng.random() < 0.12
            if p.logo and rng.random() < 0.5:
                a.logo = f"https://cdn.example.org/assets/images/organizations/{p.domain}-50x50.jpg"
        else:
            a.published = None
            a.locale = p.locale
        r = rng.random()
        a.heat = None if r < 0.015 else (-1 if r < 0.35 else rng.randrange(20, 300))
        if rng.random() < 0.45:
            a.tags = rng.sample(_TAGS, rng.choices((1, 2), (85, 15))[0])
        if rich:
            a.secured = self._secured()
        return a

    def _variant(self, title: str, excerpt: str, pname: str) -> tuple[str, str]:
        """A near-same title and excerpt, as another outlet runs the same story."""
        rng = self.rng
        r = rng.random()
        if r < 0.35:
            t = title
        elif r < 0.50:
            t = rng.choice(_PREFIXES) + title
        elif r < 0.65:
            t = f"{title} {rng.choice(('-', '|'))} {pname}"
        elif r < 0.80:
            t = title.lower().capitalize() if title != title.lower().capitalize() else title.title()
        else:
            words = title.split(" ")
            if len(words) > 4:
                del words[rng.randrange(1, len(words))]
            t = " ".join(words).replace("'", "’")
        r = rng.random()
        if r < 0.6:
            e = excerpt
        elif r < 0.85:
            e = excerpt.split(". ")[0].rstrip(".") + "."
        else:
            words = excerpt.split(" ")
            words[rng.randrange(len(words))] = rng.choice(_NOUNS)
            e = " ".join(words)
        return t, e

    def external(self, month: int) -> Article:
        """A related entry outside the corpus, shared by citers of the same month."""
        rng = self.rng
        pool = self.ext_pool.setdefault(month, [])
        if pool and rng.random() < 0.5:
            return pool[rng.randrange(len(pool))]
        when = START + month * 2_629_746 + rng.randrange(2_629_746)
        when = min(when, END - 60) // 60 * 60
        topics = self._topics_for()
        p = self.providers[self.pick_provider()]
        topic = self.topics[topics[0]]
        title = self.title(topic)
        slug = slugify(title)
        pname, pdom = self._provider_fields(p)
        a = Article(when, _fmt_time(when, 0)[0], title, self.excerpt(topic), pname, pdom,
                    self.web_url(p, slug, when))
        if rng.random() < 0.9:
            a.amp = self.amp_url(p, a.web or "")
            a.cdn = _cdn_amp(a.amp) if a.amp else None
        a.quality = max(0, min(170, int(rng.gauss(50, 30))))
        if rng.random() < 0.7:
            a.images = [self.image(p, slug, when, rng.random() < 0.4)]
        pool.append(a)
        return a

    def build(self) -> list[Article]:
        """All N articles, sorted by time, with paths and related entries."""
        rng = self.rng
        n = self.n
        group_p = STORY_SHARE / (3.2 - 2.2 * STORY_SHARE)   # mean group size ~3.2
        arts: list[Article] = []
        story = 0
        while len(arts) < n:
            when = (START + rng.randrange(END - START - 86_400)) // 60 * 60
            if rng.random() < 0.1:
                when += rng.randrange(60)
            topics = self._topics_for()
            pi = self.pick_provider()
            lead = self.article(when, topics, self.providers[pi])
            arts.append(lead)
            if rng.random() < group_p and len(arts) < n:
                size = min(rng.choices((2, 3, 4, 5, 6), (40, 25, 15, 12, 8))[0], n - len(arts) + 1)
                lead.story = story
                used = {pi}
                for _ in range(size - 1):
                    for _ in range(20):
                        pj = self.pick_provider()
                        if pj not in used:
                            break
                    used.add(pj)
                    p = self.providers[pj]
                    t, e = self._variant(lead.title, lead.excerpt, p.name)
                    a = self.article(when + rng.randrange(86_400) // 60 * 60, topics, p, t, e)
                    a.story = story
                    arts.append(a)
                story += 1
        arts.sort(key=lambda a: (a.when, a.web or a.original or ""))
        self._paths(arts)
        self._related(arts)
        return arts

    def _paths(self, arts: list[Article]) -> None:
        width = max(3, len(str((len(arts) - 1) // FILES_PER_DIR)))
        names: set[str] = set()
        for i, a in enumerate(arts):
            base = f"{a.date[:10]}-{slugify(a.title)}"
            name, k = base, 2
            while name in names:
                name, k = f"{base}-{k}", k + 1
            names.add(name)
            a.path = f"{i // FILES_PER_DIR:0{width}d}/{name}.md"

    def _related(self, arts: list[Article]) -> None:
        rng = self.rng
        by_topic: dict[str, list[int]] = {}
        pos: list[dict[str, int]] = []
        for i, a in enumerate(arts):
            d = {}
            for t in a.topics:
                lst = by_topic.setdefault(t, [])
                d[t] = len(lst)
                lst.append(i)
            pos.append(d)
        stories: dict[int, list[int]] = {}
        for i, a in enumerate(arts):
            if a.story >= 0:
                stories.setdefault(a.story, []).append(i)
        counts = tuple(range(17))
        weights = (14, 16, 15, 13, 11, 9, 7, 5, 4, 1, 1, 1, 1, 0.5, 0.5, 0.5, 1)
        for i, a in enumerate(arts):
            if not a.rich:
                continue
            k = round(rng.choices(counts, weights)[0] * self.shape.related)
            if k == 0:
                continue
            chosen: list[int | Article] = []
            taken = {i}
            mates = [j for j in stories.get(a.story, ()) if j != i]
            month = (a.when - START) // 2_629_746
            for _ in range(k):
                if rng.random() < self.shape.inside:
                    j = self._pick_inside(i, a, arts, mates, by_topic, pos, taken)
                    if j is not None:
                        taken.add(j)
                        chosen.append(j)
                        continue
                ext = self.external(month)
                if not any(ext is c for c in chosen):
                    chosen.append(ext)
            a.related = chosen

    def _pick_inside(self, i: int, a: Article, arts: list[Article], mates: list[int],
                     by_topic: dict[str, list[int]], pos: list[dict[str, int]],
                     taken: set[int]) -> int | None:
        """A file to cite from ``a``: a same-story mate first, else a topic neighbour."""
        while mates:
            j = mates.pop(0)
            if j not in taken and arts[j].web is not None:
                return j
        rng = self.rng
        for _ in range(8):
            t = rng.choice(a.topics)
            lst = by_topic[t]
            p = min(max(pos[i][t] + rng.randint(-25, 25), 0), len(lst) - 1)
            j = lst[p]
            if j not in taken and arts[j].web is not None:
                return j
        return None


# --------------------------------------------------------------------------- render


def _images(out: list[str], images: list[tuple[str, int, int, bool]], ind: str) -> None:
    for url, w, h, cached in images:
        out.append(f'{ind}- url: {_q(url)}\n{ind}  width: {w}\n{ind}  height: {h}\n')
        if cached:
            out.append(f"{ind}  isCached: true\n")


def _related_entry(a: Article, with_image: bool) -> str:
    out = [f"  - title: {_q(a.title)}\n    excerpt: {_q(a.excerpt)}\n"
           f"    publishedDateTime: {a.date}\n    webUrl: {_q(a.web or '')}\n"]
    if a.amp:
        out.append(f"    ampWebUrl: {_q(a.amp)}\n    cdnAmpWebUrl: {_q(a.cdn or '')}\n")
    out.append(f"    type: {a.type}\n    provider:\n      name: {a.pname}\n"
               f"      domain: {a.pdomain}\n    quality: {a.quality if a.quality is not None else 39}\n")
    if with_image and a.images:
        out.append("    images:\n")
        _images(out, a.images[:1], "      ")
    return "".join(out)


def _scalar(v: int | bool | None) -> str:
    if v is None:
        return "null"
    if v is True or v is False:
        return "true" if v else "false"
    return str(v)


def render(a: Article, arts: list[Article], cache: dict[int, str] | None = None) -> str:
    """The file text of ``a`` (``arts`` resolves related entries that are files)."""
    out = [f"---\ncategory: news\ntitle: {_q(a.title)}\nexcerpt: {_q(a.excerpt)}\n"
           f"publishedDateTime: {a.date}\n"]
    if a.original:
        out.append(f"originalUrl: {_q(a.original)}\n")
    out.append(f"webUrl: {_q(a.web) if a.web else 'null'}\n")
    if a.amp:
        out.append(f"ampWebUrl: {_q(a.amp)}\ncdnAmpWebUrl: {_q(a.cdn or '')}\n")
    elif not a.rich:
        out.append("ampWebUrl: null\ncdnAmpWebUrl: null\n")
    out.append(f"type: {a.type}\n")
    if a.rich:
        out.append(f"quality: {_scalar(a.quality)}\nheat: {_scalar(a.heat)}\n"
                   f"published: {_scalar(a.published)}\n")
    else:
        out.append(f"heat: {_scalar(a.heat)}\nlocale: {a.locale}\n")
    out.append(f"\nprovider:\n  name: {a.pname}\n  domain: {a.pdomain}\n")
    if a.logo:
        out.append(f"  images:\n    - url: {_q(a.logo)}\n      width: 50\n      height: 50\n")
    out.append("\ntopics:\n")
    out.extend(f"  - {t}\n" for t in a.topics)
    if a.tags:
        out.append("\ntags:\n")
        out.extend(f"  - {t}\n" for t in a.tags)
    if a.rich:
        if a.images:
            out.append("\nimages:\n")
            _images(out, a.images, "  ")
        if a.related:
            out.append("\nrelated:\n")
            for r in a.related:
                if isinstance(r, int):
                    text = cache.get(r) if cache is not None else None
                    if text is None:
                        text = _related_entry(arts[r], with_image=True)
                        if cache is not None:
                            cache[r] = text
                    out.append(text)
                else:
                    out.append(_related_entry(r, with_image=True))
        out.append(f"\nsecured: {_q(a.secured)}\n---\n\n")
    else:
        if a.images:
            out.append("\nimages:\n")
            _images(out, a.images, "  ")
        else:
            out.append("\nimages: null\n")
        out.append("---\n\n")
    return "".join(out)


# --------------------------------------------------------------------------- API


def build_corpus(n: int, seed: int = 0, shape: Shape = Shape()) -> list[Article]:
    """The N articles of the corpus in memory, sorted by time (nothing written)."""
    if n < 1:
        raise ValueError("n must be >= 1")
    return _Builder(n, seed, shape).build()


def generate(n: int, outdir: str | Path, seed: int = 0, *, flat: bool = False,
             shape: Shape = Shape()) -> Path:
    """Write an N-file corpus (and MANIFEST.tsv) under ``outdir``; return it."""
    out = Path(outdir)
    arts = build_corpus(n, seed, shape)
    if flat:
        for a in arts:
            a.path = a.path.split("/", 1)[1]
    out.mkdir(parents=True, exist_ok=True)
    made: set[str] = set()
    cache: dict[int, str] = {}
    manifest = ["file\twebUrl\tstory\n"]
    for a in arts:
        d = a.path.rpartition("/")[0]
        if d and d not in made:
            (out / d).mkdir(exist_ok=True)
            made.add(d)
        with open(out / a.path, "wb") as fh:
            fh.write(render(a, arts, cache).encode("utf-8"))
        story = f"s{a.story:06d}" if a.story >= 0 else ""
        manifest.append(f"{a.path}\t{a.web or a.original or ''}\t{story}\n")
    (out / "MANIFEST.tsv").write_text("".join(manifest), encoding="utf-8")
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate_corpus.py N OUTDIR [--seed S] [--flat]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("n", type=int, help="number of article files")
    ap.add_argument("outdir", type=Path)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--flat", action="store_true", help="no sub-folders")
    ap.add_argument("--shape", type=Shape.parse, default=Shape(),
                    help="inside=SHARE,related=FACTOR,topics=FACTOR (default: the real files')")
    args = ap.parse_args(argv)
    if args.n < 1:
        ap.error("N must be >= 1")
    t0 = time.perf_counter()
    generate(args.n, args.outdir, args.seed, flat=args.flat, shape=args.shape)
    print(f"wrote {args.n} files to {args.outdir} in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
