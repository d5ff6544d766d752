"""Pure normalisation functions: URLs, domains, topic labels, text and dates.

Everything here is deterministic and offline (the Public Suffix List comes
bundled with the ``publicsuffixlist`` package).

>>> canonical_url("HTTPS://WWW.Example.com:443/News/A?utm_source=x&id=2#top")
'https://www.example.com/News/A?id=2'
>>> web_url("https://theconversation-com.cdn.ampproject.org/c/s/theconversation.com/amp/story-1")
'https://theconversation.com/story-1'
>>> registrable_domain("www.cbc.ca")
'cbc.ca'
>>> repair_text("SAFRÂ® is here &#8217;")
'SAFR® is here ’'
>>> topic_key("  Coronavirus   in US ")
'coronavirus in us'
>>> parse_datetime("2019-08-19T14:00:10-07:00").isoformat()
'2019-08-19T21:00:10+00:00'
"""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

__all__ = [
    "canonical_url", "web_url", "registrable_domain", "host_of", "topic_key",
    "topic_slug", "repair_text", "clean_label", "parse_datetime", "short_hash",
    "ITEM_WORDS", "item_kind", "markdown_lead", "LEAD_CHARS",
]

# Query parameters that identify a campaign or a click, never the page.
_TRACKING = frozenset({
    "fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "ocid", "cmpid",
    "igshid", "_ga", "yclid", "twclid", "wt.mc_id", "cid", "ncid", "soc_src",
    "soc_trk", "__twitter_impression", "ito", "ref_src",
})
_AMP_PARAMS = frozenset({"amp", "outputtype", "amp_js_v", "usqp", "amp_gsa"})
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_UNSAFE = re.compile(r'[ <>"{}|\\^`]')
# An http(s) URL with a lower-case host, no port, no fragment, no
# characters that need quoting and a non-empty path: canonical as it stands.
_PLAIN = re.compile(r"https?://[a-z0-9][a-z0-9.\-]*\.[a-z0-9\-]+/[^\s#<>\"{}|\\^`\x00-\x1f\x7f]*\Z")
_AMP_CACHE = re.compile(r"^[a-z0-9-]+\.cdn\.ampproject\.org$")
_AMP_CACHE_PATH = re.compile(r"^/(?:c|v|i)/(s/)?(.+)$")


class URLError(ValueError):
    """A value that is not an absolute http(s) URL."""


@lru_cache(maxsize=200_000)
def canonical_url(url: str) -> str:
    """Return the canonical form of an http(s) URL, or raise :class:`URLError`.

    Lower-cases scheme and host, drops default ports, the fragment and
    tracking parameters (``utm_*``, ``fbclid``, ...), unwraps the AMP cache
    (``*.cdn.ampproject.org/c/s/...``) and keeps the path's case.
    """
    if not isinstance(url, str):
        raise URLError(f"not a string: {type(url).__name__}")
    if _PLAIN.match(url):  # the common case, without urlsplit
        if "cdn.ampproject.org" not in url:
            if "?" not in url or not _has_tracking(url):
                return url  # already canonical
        else:
            _, host, path, query = _split_plain(url)
            if _AMP_CACHE.match(host):
                inner = _unwrap_amp_cache(path, query)
                if inner is not None:
                    return canonical_url(inner)
    raw = url.strip()
    if _CONTROL.search(raw):
        raise URLError(f"control character in URL {raw[:80]!r}")
    if _UNSAFE.search(raw):
        # Characters no IRI may hold (a space in "apnews.com/Business Wire/...").
        raw = _UNSAFE.sub(lambda m: quote(m.group(0), safe=""), raw)
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as exc:
        raise URLError(f"unparseable URL {raw[:80]!r}: {exc}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise URLError(f"not an http(s) URL: {raw[:80]!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host or "." not in host and host != "localhost":
        raise URLError(f"no host name in URL {raw[:80]!r}")
    if _AMP_CACHE.match(host):
        inner = _unwrap_amp_cache(parts.path, parts.query)
        if inner is not None:
            return canonical_url(inner)
    netloc = host
    if port is not None and not (scheme == "http" and port == 80 or scheme == "https" and port == 443):
        netloc = f"{host}:{port}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs if not _is_tracking(k)]
        if len(kept) != len(pairs):
            query = urlencode(kept, quote_via=quote, safe="/:@!$'()*+,;=")
    path = parts.path or "/"
    return urlunsplit((scheme, netloc, path, query, ""))


def _split_plain(url: str) -> tuple[str, str, str, str]:
    """(scheme, host, path, query) of a URL that ``_PLAIN`` matches: what
    ``urlsplit`` gives for it (scheme, netloc, path, query; no fragment)."""
    scheme, _, rest = url.partition("://")
    slash = rest.index("/")
    path, _, query = rest[slash:].partition("?")
    return scheme, rest[:slash], path, query


def _has_tracking(url: str) -> bool:
    q = url.find("?")
    return q >= 0 and _TRACKING_HINT.search(url, q) is not None and \
        any(_is_tracking(k.partition("=")[0]) for k in url[q + 1:].split("&"))


#: Where a tracking parameter may start (any case): most queries have none,
#: and then need no split.  Matches wherever ``_is_tracking`` would.
_TRACKING_HINT = re.compile("[?&](?:utm_|" + "|".join(map(re.escape, sorted(_TRACKING))) + ")",
                            re.IGNORECASE)


def _is_tracking(key: str) -> bool:
    k = key.lower()
    return k.startswith("utm_") or k in _TRACKING


def _unwrap_amp_cache(path: str, query: str) -> str | None:
    # https://example-com.cdn.ampproject.org/c/s/example.com/amp/x -> https://example.com/amp/x
    # ("/c/" is content, "/v/" a viewer; "/s/" marks https; "/i/" images.)
    m = _AMP_CACHE_PATH.match(path)
    if not m:
        return None
    scheme = "https" if m.group(1) else "http"
    rest = m.group(2)
    return f"{scheme}://{rest}" + (f"?{query}" if query else "")


@lru_cache(maxsize=200_000)
def web_url(url: str) -> str:
    """Map an AMP variant of a URL to its web URL (canonicalised).

    Handles the shapes seen in real feeds: AMP cache hosts, ``amp.`` hosts,
    ``/amp/`` and ``/amp-...`` path segments, ``.amp.html`` / ``.amp``
    suffixes, ``?amp``, ``?amp=1``, ``?outputType=amp``.

    >>> web_url("https://amp.cnn.com/cnn/2020/05/01/us/story/index.html")
    'https://cnn.com/cnn/2020/05/01/us/story/index.html'
    >>> web_url("https://www.ft.com/content/abc?outputType=amp")
    'https://www.ft.com/content/abc'
    >>> web_url("https://nypost.com/2021/12/15/worcester-bans/amp/")
    'https://nypost.com/2021/12/15/worcester-bans/'
    """
    canon = canonical_url(url)
    if "amp" not in canon.lower():
        return canon
    if _PLAIN.match(canon):
        scheme, netloc, path, query = _split_plain(canon)
        host = netloc
    else:
        parts = urlsplit(canon)
        scheme, netloc, path, query = parts.scheme, parts.netloc, parts.path, parts.query
        host = parts.hostname or ""
    if host.startswith("amp."):
        netloc = netloc[4:]
    path = _AMP_SEGMENT.sub("", path) or "/"
    path = _AMP_SUFFIX.sub(lambda m: m.group(1) or "", path)
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        kept = [(k, v) for k, v in pairs
                if not (k.lower() in _AMP_PARAMS and v.lower() in ("", "1", "true", "amp"))]
        if len(kept) != len(pairs):
            query = urlencode(kept, quote_via=quote, safe="/:@!$'()*+,;=")
    return f"{scheme}://{netloc}{path}?{query}" if query else f"{scheme}://{netloc}{path}"


_AMP_SEGMENT = re.compile(r"/amp(?=/|$)")
_AMP_SUFFIX = re.compile(r"\.amp(\.html?)?$")


@lru_cache(maxsize=50_000)
def host_of(url: str) -> str:
    """The host name of an (already canonical) URL."""
    return urlsplit(url).hostname or ""


_psl = None


@lru_cache(maxsize=50_000)
def registrable_domain(name: str) -> str | None:
    """The registrable domain ("eTLD+1") of a host name, URL or domain field.

    Uses the Public Suffix List bundled with ``publicsuffixlist`` (ICANN and
    private sections), never the network.  Returns ``None`` for values that
    are not a domain name under a public suffix.

    >>> registrable_domain("https://amp.theguardian.com/world")
    'theguardian.com'
    >>> registrable_domain("news.bbc.co.uk")
    'bbc.co.uk'
    """
    global _psl
    if _psl is None:
        from publicsuffixlist import PublicSuffixList

        _psl = PublicSuffixList()
    value = name.strip().lower()
    if "/" in value:
        value = urlsplit(value if "//" in value else "//" + value).hostname or ""
    value = value.split(":")[0].strip(".")
    if not value or not re.fullmatch(r"[a-z0-9.\-_]+|[^\s/@]+", value):
        return None
    try:
        value = value.encode("idna").decode("ascii") if not value.isascii() else value
    except UnicodeError:
        return None
    return _psl.privatesuffix(value)


@lru_cache(maxsize=100_000)  # provider names and topic labels repeat across files
def clean_label(text: str) -> str:
    """Repair a short label and collapse its whitespace."""
    return " ".join(repair_text(text).split())


@lru_cache(maxsize=100_000)
def topic_key(label: str) -> str:
    """The identity of a topic: NFKC, case-folded, single-spaced.

    >>> topic_key("COVID‑19") == topic_key("covid-19")
    True
    """
    text = unicodedata.normalize("NFKC", clean_label(label)).casefold()
    text = text.translate(_DASHES)
    return " ".join(text.split())


_DASHES = str.maketrans({c: "-" for c in "\u2010\u2011\u2012\u2013\u2014\u2212"})


@lru_cache(maxsize=100_000)
def topic_slug(key: str) -> str:
    """A readable, collision-free IRI segment for a topic key.

    >>> topic_slug("coronavirus in us")
    'coronavirus-in-us'
    >>> topic_slug("c++")
    'c-cedb1bac'
    """
    slug = re.sub(r"[^a-z0-9]+", "-", key).strip("-") or "topic"
    if slug.replace("-", " ") != key:
        slug = f"{slug}-{short_hash(key, 8)}"
    return slug


def short_hash(text: str, length: int = 16) -> str:
    """A stable hex digest prefix (SHA-256) of a text."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_fix: Callable[[str], str] | None = None  # made at first use: importing ftfy takes a while


def repair_text(text: str) -> str:
    """Repair mojibake and HTML entities in article text; strip control chars.

    Quotes stay curly: ``&#8217;`` becomes ``’``.  Text that neither holds an
    entity nor looks like mojibake (ftfy's badness test) is only NFC
    normalised: the common case, and much faster than a full repair.
    """
    if text.isascii() and "&" not in text:
        # printable ASCII holds no control character: skip the regex
        return text.strip() if text.isprintable() else _CONTROLS.sub("", text).strip()
    global _fix
    fix = _fix
    if fix is None:
        fix = _fix = _make_fix()
    return _CONTROLS.sub("", fix(text)).strip()


def _make_fix() -> Callable[[str], str]:
    import ftfy
    from ftfy.badness import is_bad

    config = ftfy.TextFixerConfig(
        unescape_html=False, uncurl_quotes=False, fix_latin_ligatures=False,
        fix_character_width=False, explain=False)
    suspects = _mojibake_suspects()

    def fix(s: str) -> str:
        if "&" in s or (suspects is None or suspects.search(s)) and is_bad(s):
            s = ftfy.fix_text(s, config)
            if "&" in s:  # entities, one level only
                s = html.unescape(s)
                s = ftfy.fix_text(s, config) if not s.isascii() else s
        return unicodedata.normalize("NFC", s)
    return fix


#: Where ftfy's badness test (``ftfy.badness.BADNESS_RE``) can match: every
#: alternative of its pattern needs one character of these categories of
#: ``ftfy.badness.MOJIBAKE_CATEGORIES`` or one of these letters (the
#: Windows-1251/1253 and MacRoman sequences), so text with none of them skips
#: the full test.  Chosen, alternative by alternative, to avoid typography
#: common in clean text (curly quotes, dashes, ellipses, bullets), which then
#: needs no full test either.
_SUSPECT_CATEGORIES = ("c1", "bad", "law", "currency", "numeric", "kaomoji", "upper_accented",
                       "lower_accented", "box")
_SUSPECT_LETTERS = "\u201a\u0392\u0393\u039e\u039f\u0412\u0413\u0420\u0421\u03b2\u0432"  # ‚ΒΓΞΟВГРСβв
#: The SHA-256 of the ftfy pattern those were read from (ftfy 6.3): with any
#: other pattern every text takes the full test, slower but never wrong.
_BADNESS_SHA256 = "9dcc0f2ac90d9ae3c85eb7b9b2c0b8a8e8126153847c2b30c91a0bb263f3b8c4"


def _mojibake_suspects() -> re.Pattern | None:
    """A character class such that no text without one of its characters
    looks like mojibake to ftfy, or ``None`` if ftfy's test is not the one
    the class was read from."""
    from ftfy.badness import BADNESS_RE, MOJIBAKE_CATEGORIES

    if hashlib.sha256(BADNESS_RE.pattern.encode("utf-8")).hexdigest() != _BADNESS_SHA256:
        return None
    chars = set(_SUSPECT_LETTERS)
    for name in _SUSPECT_CATEGORIES:
        chars |= _class_chars(MOJIBAKE_CATEGORIES[name])
    return re.compile("[" + "".join(map(re.escape, sorted(chars))) + "]")


def _class_chars(body: str) -> set[str]:
    """The characters of a regex class body made of literal characters and
    ``a-z`` ranges (how ftfy writes its categories)."""
    out: set[str] = set()
    i = 0
    while i < len(body):
        if i + 2 < len(body) and body[i + 1] == "-":
            out.update(map(chr, range(ord(body[i]), ord(body[i + 2]) + 1)))
            i += 3
        else:
            out.add(body[i])
            i += 1
    return out


class DateError(ValueError):
    """A date value that cannot be read as a point in time."""


def parse_datetime(value: object) -> datetime:
    """Read a YAML date/datetime or an ISO 8601 / RFC 2822 string as aware UTC.

    Naive values are taken to be UTC.

    >>> parse_datetime("2021-12-15T12:20:00Z").isoformat()
    '2021-12-15T12:20:00+00:00'
    >>> parse_datetime("Wed, 15 Dec 2021 12:20:00 +0100").isoformat()
    '2021-12-15T11:20:00+00:00'
    """
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime.combine(value, time(0, 0))
    elif isinstance(value, str):
        return _parse_datetime_text(value)
    else:
        raise DateError(f"not a date: {type(value).__name__}")
    return _as_utc(dt)


@lru_cache(maxsize=100_000)  # related entries repeat the same dates across files
def _parse_datetime_text(value: str) -> datetime:
    text = value.strip()
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        try:
            dt = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            raise DateError(f"not a date: {text[:60]!r}") from None
    return _as_utc(dt)


def _as_utc(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


#: Words of a ``type`` or ``layout`` value that say an item is not news, and
#: what it is instead (see :func:`item_kind`).
ITEM_WORDS = {
    "video": "video", "videos": "video", "videoobject": "video",
    "course": "course", "courses": "course", "lesson": "course", "module": "course",
    "tutorial": "course", "training": "course", "learn": "course",
    "page": "page", "docs": "page", "doc": "page", "documentation": "page",
    "reference": "page", "landing": "page", "home": "page", "default": "page",
    "code": "code", "sample": "code", "samples": "code", "snippet": "code", "example": "code",
}
_NEWS_WORDS = frozenset({"article", "news", "newsarticle", "post", "blog", "blogposting",
                         "story", "press", "release"})
_WORD = re.compile(r"[a-z]+")


@lru_cache(maxsize=1024)
def item_kind(value: str) -> str | None:
    """What a ``type`` or ``layout`` value says an item is: ``None`` for
    news (or a value that says nothing), else ``"video"``, ``"course"``,
    ``"page"`` or ``"code"``.

    >>> item_kind("article"), item_kind("Video"), item_kind("code-sample"), item_kind("post")
    (None, 'video', 'code', None)
    """
    words = _WORD.findall(value.lower())
    if any(w in _NEWS_WORDS for w in words):
        return None
    return next((ITEM_WORDS[w] for w in words if w in ITEM_WORDS), None)


#: Characters of a body's lead kept (about its first two sentences).
LEAD_CHARS = 400
_MARKUP = [
    (re.compile(r"```.*?(?:```|\Z)|~~~.*?(?:~~~|\Z)", re.S), " "),    # fenced code
    (re.compile(r"<!--.*?(?:-->|\Z)", re.S), " "),                     # HTML comments
    (re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S), " "),                   # Hugo, Liquid, Nunjucks tags
    (re.compile(r"^\s*(?:import|export)\s.*$", re.M), " "),            # MDX statements
    (re.compile(r"!\[[^\]]*\]\([^)]*\)"), " "),                          # images
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),                        # links: their text
    (re.compile(r"\[([^\]]*)\]\[[^\]]*\]"), r"\1"),                        # reference links
    (re.compile(r"^\s*\[[^\]]+\]:\s*\S+.*$", re.M), " "),                # link definitions
    (re.compile(r"<[^>\n]{0,500}>"), " "),                               # HTML tags
    (re.compile(r"^\s{0,3}(?:#{1,6}\s|>\s?|[-*+]\s|\d+[.)]\s)", re.M), ""),  # heading, quote, list marks
    (re.compile(r"^\s*(?:[-*_]\s*){3,}$|^\s*\|.*\|\s*$", re.M), " "),    # rules, table rows
    (re.compile(r"(\*\*|__|\*|`)(?=\S)(.+?)(?<=\S)\1"), r"\2"),          # emphasis, code spans
]


def markdown_lead(body: str, limit: int = LEAD_CHARS) -> str | None:
    """The first words of a Markdown body as plain text (code, markup, links'
    targets and template tags left out), cut at a word near ``limit``
    characters; ``None`` when there is no text.

    >>> markdown_lead("# Clearview fined\\n\\nThe [ICO](https://ico.org.uk) said **on Monday** "
    ...               "that {{< tweet 1 >}} it would fine")
    'Clearview fined The ICO said on Monday that it would fine'
    >>> markdown_lead("```\\ncode only\\n```\\n") is None
    True
    """
    if not body or body.isspace():
        return None
    text = body[: limit * 20]  # the lead is near the start; markup is seldom longer
    for pattern, repl in _MARKUP:
        text = pattern.sub(repl, text)
    text = " ".join(repair_text(text).split())
    if len(text) > limit:
        text = text[:limit].rsplit(" ", 1)[0]
    return text or None
