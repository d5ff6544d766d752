"""Event anchors: what stays the same when outlets tell one event differently.

Headlines of one event differ across outlets ("£17m fine", "$23 million
fine", "fined $22.6 million"; "ICO", "Information Commissioner's Office";
"French regulator", "France"), but the actors, the figures and the dates
hold.  :func:`anchor_words` turns them into extra words of an article's
text, so that story detection (:mod:`kg.stories`) weighs them like any rare
word, by corpus frequency:

- **money**, converted to US dollars with approximate rates and put on two
  staggered logarithmic grids, so that two amounts within about 10 % of
  each other share a word whatever the currency (``£17m`` = ``$22.6
  million``);
- **counts** with a scale or thousands separators (``10 billion``,
  ``430,000``);
- **dates** as month and day (``Dec. 14``, ``December 14``);
- **names**: acronyms of capitalised phrases (``Airports Authority of
  India`` -> ``aai``), a small alias table (:data:`ALIASES`) and demonyms
  (``French`` -> ``france``).

Every anchor word starts with ``zz`` (a prefix no English word has) except
aliases, which are the plain word they stand for.  :func:`describe` reads an
anchor word back for people (``kg stories --explain``).

>>> anchor_words("Clearview AI faces £17m fine", "The Information Commissioner's Office said")
['zzusd92a', 'zzusd93b', 'ico']
>>> anchor_words("Fined $22.6 million", "")
['zzusd92a', 'zzusd93b']
>>> describe("zzusd92a")
'money ≈ $19.3M-$23.1M'
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from collections.abc import Callable

__all__ = ["anchor_words", "with_anchors", "AnchorMemo", "headline_anchors", "describe", "title_marks",
           "marks_text", "read_marks",
           "ALIASES", "USD_RATES", "PLACES"]

#: Approximate US dollars per unit (2020-2022): a tolerance of about 10 %
#: absorbs the drift between outlets' conversions.
USD_RATES = {
    "usd": 1.0, "gbp": 1.35, "eur": 1.15, "cad": 0.79, "aud": 0.73, "nzd": 0.69,
    "cny": 0.157, "jpy": 0.009, "inr": 0.0134, "krw": 0.00085, "hkd": 0.128,
    "chf": 1.08, "sgd": 0.74,
}
_CURRENCY = {
    "$": "usd", "us$": "usd", "usd": "usd", "dollar": "usd", "dollars": "usd",
    "£": "gbp", "gbp": "gbp", "pound": "gbp", "pounds": "gbp", "sterling": "gbp",
    "€": "eur", "eur": "eur", "euro": "eur", "euros": "eur",
    "c$": "cad", "ca$": "cad", "cad": "cad", "a$": "aud", "au$": "aud", "aud": "aud",
    "nz$": "nzd", "nzd": "nzd", "hk$": "hkd", "hkd": "hkd",
    "¥": "cny", "yuan": "cny", "rmb": "cny", "cny": "cny", "yen": "jpy", "jpy": "jpy",
    "₹": "inr", "rs": "inr", "rs.": "inr", "inr": "inr", "rupees": "inr", "won": "krw",
    "chf": "chf", "francs": "chf", "sgd": "sgd", "s$": "sgd",
}
_SCALE = {
    "k": 1e3, "thousand": 1e3, "m": 1e6, "mn": 1e6, "mln": 1e6, "million": 1e6,
    "b": 1e9, "bn": 1e9, "billion": 1e9, "trillion": 1e12, "lakh": 1e5, "crore": 1e7,
}
_SYM = r"(?:US\$|C\$|CA\$|A\$|AU\$|NZ\$|HK\$|S\$|\$|£|€|¥|₹|USD|GBP|EUR|CAD|AUD|NZD|HKD|CNY|RMB|INR|Rs\.?|CHF|SGD|JPY)"
_NUM = r"(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)"
_SC = r"(?:\s?(k|m|mn|mln|b|bn|thousand|million|billion|trillion|lakh|crore)\b)?"
_UNIT = (r"(?:[-\s](dollars?|pounds?|sterling|euros?|yuan|rmb|yen|rupees|won|francs)\b)?")
# "£17m", "USD22.68M", "$ 23 million", "GBP 17 million"
_MONEY_BEFORE = re.compile(_SYM + r"\s?" + _NUM + _SC, re.IGNORECASE)
# "17 million pounds", "100,000 yuan", "17 million-pound"
_MONEY_AFTER = re.compile(r"(?<![\w$£€¥₹.])" + _NUM + _SC + r"[-\s](dollars?|pounds?|sterling|euros?|yuan|"
                          r"rmb|yen|rupees|won)\b", re.IGNORECASE)
_COUNT = re.compile(r"(?<![\w$£€¥₹.,])" + _NUM + r"\s?(thousand|million|billion|trillion|lakh|crore)?\b",
                    re.IGNORECASE)
_MONTHS = {m[:3]: i for i, m in enumerate("january february march april may june july august "
                                          "september october november december".split(), 1)}
_DATE = re.compile(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?\s(\d{1,2})(?:st|nd|rd|th)?\b")
# Capitalised phrases of two or more words, joined by a few lower-case connectors.
_CAP = r"[A-Z][\w’'&.-]*"
_PHRASE = re.compile(_CAP + r"(?:\s(?:(?:of|for|and|de|du|des|et|la|le|l’|l')\s?)*" + _CAP + r")+")
_CONNECTORS = frozenset("of for and de du des et la le the".split())
# Grid width: two amounts within 10 % share a cell on one of two staggered grids.
_STEP = math.log(1.2)

#: Folded phrase (or word, case-sensitive when upper-case) -> the word it stands for.
ALIASES = {
    "information commissioner": "ico", "commission nationale de l'informatique": "cnil",
    "commission nationale de l’informatique": "cnil",
    "national commission for information": "cnil",
    "united kingdom": "uk", "britain": "uk", "british": "uk", "brits": "uk", "u.k.": "uk",
    "united states": "usa", "u.s.": "usa", "american": "usa", "america": "usa", "US": "usa",
    "french": "france", "chinese": "china", "canadian": "canada", "indian": "india",
    "korean": "korea", "australian": "australia", "australians": "australia",
    "japanese": "japan", "german": "germany", "european union": "eu", "italian": "italy",
    "spanish": "spain", "irish": "ireland", "scottish": "scotland",
    "federal bureau of investigation": "fbi", "centers for disease control": "cdc",
}
_ALIAS = re.compile(r"(?<![\w.])(" + "|".join(
    re.escape(k) for k in sorted(ALIASES, key=len, reverse=True)) + r")(?![\w])", re.IGNORECASE)


def _number(text: str) -> float:
    return float(text.replace(",", ""))


def _money_words(usd: float) -> list[str]:
    if usd <= 0:
        return []
    x = math.log(usd) / _STEP
    return [f"zzusd{math.floor(x)}a", f"zzusd{math.floor(x + 0.5)}b"]


# What a text must hold for a pattern to match it: most texts hold none of
# these, and a substring test costs far less than a scan with the pattern's
# case-insensitive alternations at every position.
_DIGIT = re.compile(r"\d")
_MONEY_HINTS = ("$", "£", "€", "¥", "₹", "usd", "gbp", "eur", "cad", "aud", "nzd", "hkd", "cny",
                "rmb", "inr", "chf", "sgd", "jpy", "dollar", "pound", "sterling", "yuan",
                "yen", "rupees", "won")
_RUPEES = re.compile(r"rs\.?\s?\d")  # "Rs" alone is in too many words
# "US" is an alias in capitals only: "us" is in too many words to be a hint.
_ALIAS_HINTS = tuple(sorted({k.casefold() for k in ALIASES if k != "US"}))
_SCALE_WORDS = ("thousand", "million", "billion", "trillion", "lakh", "crore")


def _may_name_money(folded: str) -> bool:
    return any(h in folded for h in _MONEY_HINTS) or _RUPEES.search(folded) is not None


def _may_name_alias(text: str, folded: str) -> bool:
    return "US" in text or any(k in folded for k in _ALIAS_HINTS)


def anchor_words(title: str, excerpt: str) -> list[str]:
    """The anchor words of an article's title and excerpt, in order of finding.

    >>> anchor_words("Xpeng fined 100,000 yuan", "Dec. 14: the Airports Authority of India")
    ['zzusd52a', 'zzusd53b', 'zzd1214', 'aai']
    """
    text = f"{title}\n{excerpt}"
    out: list[str] = []
    # Casefolded, as the patterns' IGNORECASE matches (the long s is an s).
    folded = text.casefold()
    if _DIGIT.search(text):
        _numbers(text, folded, out)
    if excerpt:
        for m in _PHRASE.finditer(excerpt):  # headlines capitalise every word
            words = [w for w in re.split(r"\s+", m.group(0)) if w.lower() not in _CONNECTORS]
            if len(words) >= 3:
                out.append("".join(w[0] for w in words).lower())
    if _may_name_alias(text, folded):
        out += _aliases(text)
    return list(dict.fromkeys(out))


@functools.lru_cache(maxsize=1 << 17)
def headline_anchors(title: str) -> tuple[str, ...]:
    """:func:`anchor_words` of a headline alone, remembered: story detection
    asks for each headline's anchors several times.

    >>> headline_anchors("Clearview AI faces £17m fine")
    ('zzusd92a', 'zzusd93b')
    """
    return tuple(anchor_words(title, ""))


def _aliases(text: str) -> list[str]:
    """The words of :data:`ALIASES` that ``text`` names."""
    out = []
    for m in _ALIAS.finditer(text):
        key = m.group(1)
        if key.lower() == "us" and key != "US":
            continue  # the pronoun
        alias = ALIASES.get(key) or ALIASES.get(key.lower())
        if alias:
            out.append(alias)
    return out


def _numbers(text: str, folded: str, out: list[str]) -> None:
    """Money, counts and dates of ``text`` (which holds a digit), onto ``out``."""
    money_spans: list[tuple[int, int]] = []
    money = _may_name_money(folded)
    for pattern, sym_first in ((_MONEY_BEFORE, True), (_MONEY_AFTER, False)) if money else ():
        for m in pattern.finditer(text):
            if sym_first:
                sym, num, scale = m.group(0)[:m.start(1) - m.start()].strip(), m.group(1), m.group(2)
            else:
                num, scale, sym = m.group(1), m.group(2), m.group(3)
            if any(a <= m.start() < b for a, b in money_spans):
                continue
            sym = sym.lower().rstrip()
            # "million-pound" after an amount that named its currency already
            currency = _CURRENCY.get(sym) or _CURRENCY.get(sym.rstrip("s"))
            if currency is None:
                continue
            value = _number(num) * _SCALE.get((scale or "").lower(), 1.0)
            out += _money_words(value * USD_RATES[currency])
            money_spans.append((m.start(), m.end()))
    # a count needs a scale word or thousands separators
    counts = "," in text or any(w in folded for w in _SCALE_WORDS)
    for m in _COUNT.finditer(text) if counts else ():
        if any(a <= m.start() < b for a, b in money_spans):
            continue
        num, scale = m.group(1), m.group(2)
        if not scale and "," not in num:
            continue  # a plain number is a word of the text already
        value = _number(num) * _SCALE.get((scale or "").lower(), 1.0)
        out.append(f"zzn{value:.3g}".replace("+", "").replace(".", "p"))
    for m in _DATE.finditer(text):
        day = int(m.group(2))
        if 1 <= day <= 31:
            out.append(f"zzd{_MONTHS[m.group(1).lower()[:3]]:02d}{day:02d}")


#: Places whose naming in two headlines that name no place in common says
#: "two events": US states, Canadian provinces, countries (folded).
PLACES = frozenset("""
alabama alaska arizona arkansas california colorado connecticut delaware florida georgia hawaii
idaho illinois indiana iowa kansas kentucky louisiana maine maryland massachusetts michigan
minnesota mississippi missouri montana nebraska nevada ohio oklahoma oregon pennsylvania
tennessee texas utah vermont virginia washington wisconsin wyoming alberta manitoba ontario
quebec saskatchewan yukon newfoundland
uk usa france china canada india korea australia japan germany italy spain ireland scotland
russia brazil mexico iran israel turkey egypt nigeria kenya pakistan bangladesh indonesia
singapore malaysia thailand vietnam philippines taiwan sweden norway denmark finland poland
netherlands belgium switzerland austria greece portugal argentina chile peru colombia
new_hampshire new_jersey new_mexico new_york north_carolina north_dakota south_carolina
south_dakota rhode_island west_virginia nova_scotia new_brunswick british_columbia
prince_edward_island new_zealand south_africa hong_kong
""".split())
_PLACE = re.compile(r"\b(" + "|".join(sorted((p.replace("_", " ") for p in PLACES), key=len, reverse=True))
                    + r")\b")
_NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_TITLE_NUMBER = re.compile(r"(?<![\w-])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?:\s?(k|m|mn|b|bn|million|billion))?(?![\w-])"
                           r"|\b(" + "|".join(list(_NUMBER_WORDS)[1:]) + r")\b", re.IGNORECASE)


def title_marks(title: str) -> tuple[frozenset[str], frozenset[str]]:
    """The places and the figures a headline names: two headlines that both
    name places (or figures) but none in common report different events
    (Maryland's schools and Connecticut's; Oregon's 70 new cases and 79).

    Figures are counts and amounts (money as in :func:`anchor_words`), not
    years and not the 19 of COVID-19.

    >>> places, figures = title_marks("Oregon reports six new deaths, 70 new cases of COVID-19 in 2020")
    >>> sorted(places), sorted(figures)
    (['oregon'], ['6', '70'])
    >>> sorted(title_marks("Clearview AI faces £17m fine in Britain")[1])
    ['zzusd92a', 'zzusd93b']
    """
    folded = title.lower()
    places = set()
    for m in _PLACE.finditer(folded):
        places.add(m.group(1).replace(" ", "_"))
    if _may_name_alias(title, title.casefold()):
        places.update(a for a in _aliases(title) if a in PLACES)
    if "british_columbia" in places and "uk" in places and "britain" not in folded:
        places.discard("uk")
    figures = {w for w in headline_anchors(title) if w.startswith("zzusd")}
    money = [(m.start(), m.end()) for p in (_MONEY_BEFORE, _MONEY_AFTER) for m in p.finditer(title)
             ] if _may_name_money(title.casefold()) else []
    numbers = _DIGIT.search(title) or any(w in folded for w in _NUMBER_WORDS)
    for m in _TITLE_NUMBER.finditer(title) if numbers else ():
        if any(a <= m.start() < b for a, b in money):
            continue
        if m.group(3):
            figures.add(_NUMBER_WORDS[m.group(3).lower()])
            continue
        value = _number(m.group(1)) * _SCALE.get((m.group(2) or "").lower(), 1.0)
        if m.group(2) is None and "," not in m.group(1) and 1900 <= value <= 2100:
            continue  # a year
        figures.add(f"{value:g}")
    return frozenset(places), frozenset(figures)


def describe(word: str) -> str:
    """An anchor word (see :func:`anchor_words`) in words; any other word as it is.

    >>> describe("zzd1214"), describe("zzn1e10"), describe("ico")
    ('date 12-14', 'count 1e10', 'ico')
    """
    m = re.fullmatch(r"zzusd(-?\d+)([ab])", word)
    if m:
        cell = int(m.group(1)) - (0.5 if m.group(2) == "b" else 0.0)
        lo, hi = math.exp(cell * _STEP), math.exp((cell + 1) * _STEP)
        return f"money ≈ {_dollars(lo)}-{_dollars(hi)}"
    if word.startswith("zzd") and word[3:].isdigit():
        return f"date {word[3:5]}-{word[5:]}"
    if word.startswith("zzn"):
        return "count " + word[3:].replace("p", ".")
    return word


def _dollars(x: float) -> str:
    for scale, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if x >= scale:
            return f"${x / scale:.1f}{suffix}"
    return f"${x:.0f}"


def with_anchors(titles: list[str], excerpts: list[str],
                 memo: AnchorMemo | None = None) -> tuple[list[str], list[str]]:
    """Titles and excerpts, each followed by its anchor words (story
    detection's texts, :mod:`kg.stories`): a headline's anchors weigh as
    headline words.  ``memo`` holds the anchors of texts seen before.

    >>> with_anchors(["ICO fines Clearview"], [""])[0][0].startswith("ICO fines Clearview")
    True
    """
    memo = AnchorMemo() if memo is None else memo
    out_titles, out_bodies = [], []
    for t, e in zip(titles, excerpts):
        head, body = memo.anchors(t, e)
        out_titles.append(t + "\n" + head)
        out_bodies.append(e + "\n" + body)
    return out_titles, out_bodies


class AnchorMemo:
    """The anchors (:func:`with_anchors`) and marks (:func:`marks_text`) of
    the texts seen in one run, by a digest of each text: same-story copies
    repeat their headlines and excerpts.

    >>> memo = AnchorMemo()
    >>> memo.anchors("Clearview AI faces £17m fine", "The Information Commissioner's Office said")
    ('zzusd92a zzusd93b', 'ico')
    >>> memo.marks("Oregon reports 70 new cases on May 7")
    'oregon\\n7 70\\nzzd0507'
    """

    def __init__(self) -> None:
        self.known: dict[bytes, str] = {}

    def _get(self, key: bytes, make: Callable[[], str]) -> str:
        value = self.known.get(key)
        if value is None:
            value = self.known[key] = make()
        return value

    def anchors(self, title: str, excerpt: str) -> tuple[str, str]:
        """The anchor words of a headline, and the others of its excerpt, each joined by spaces."""
        def make() -> str:
            head = headline_anchors(title)
            body = [w for w in anchor_words(title, excerpt) if w not in head]
            return " ".join(head) + "\n" + " ".join(body)

        key = _digest("a", title + "\0" + excerpt)
        head, _, body = self._get(key, make).partition("\n")
        return head, body

    def marks(self, title: str) -> str:
        """:func:`marks_text` of a headline, remembered."""
        return self._get(_digest("m", title), lambda: marks_text(title))


def marks_text(title: str) -> str:
    """:func:`title_marks` and the days a headline names (its date anchors:
    two different ones, two events) as one line each, words sorted: what
    :func:`read_marks` reads back.

    >>> marks_text("Oregon reports 70 new cases on May 7")
    'oregon\\n7 70\\nzzd0507'
    """
    places, figures = title_marks(title)
    days = [w for w in headline_anchors(title) if w.startswith("zzd")]
    return "\n".join(" ".join(sorted(x)) for x in (places, figures, days))


def read_marks(text: str) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The places, figures and days of :func:`marks_text`.

    >>> [sorted(x) for x in read_marks("oregon\\n7 70\\nzzd0507")]
    [['oregon'], ['7', '70'], ['zzd0507']]
    """
    places, figures, days = text.split("\n")
    # Most headlines name none: one shared empty set, not one per headline.
    marks = [frozenset(x.split()) if x else _NONE for x in (places, figures, days)]
    return marks[0], marks[1], marks[2]


_NONE: frozenset[str] = frozenset()


def _digest(kind: str, text: str) -> bytes:
    return hashlib.blake2b((kind + text).encode("utf-8", "surrogatepass"), digest_size=16).digest()
