"""Front-matter fields -> validated, normalised article row, problems named.

Every known key is checked and normalised (:mod:`kg.normalize`) into an
article row (see :mod:`kg.records`); what is dropped, cut or read otherwise
is reported as a problem row naming the field, the reason and the line.
Nothing here touches a file.

>>> problems = []
>>> row = article_row({"title": "A", "webUrl": "https://Example.org/a?utm_source=x",
...                    "quality": "high"}, "title: A\\nwebUrl: x\\nquality: high\\n", problems)
>>> row[:3]
('A', 'https://example.org/a', ('https://example.org/a',))
>>> problems
[('wrong-type', 'quality should be an integer, got str; dropped', 'warning', 'quality', 3)]
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import orjson

from .normalize import (
    DateError,
    URLError,
    canonical_url,
    clean_label,
    host_of,
    parse_datetime,
    registrable_domain,
    repair_text,
    web_url,
)

__all__ = ["article_row", "MAX_TITLE_CHARS", "MAX_TEXT_CHARS"]

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 20_000


def article_row(meta: dict, fm_text: str, problems: list[tuple]) -> tuple | None:
    """The article row of a file's front-matter mapping (``None`` when the
    file has no usable title), appending a problem row to ``problems`` for
    each value dropped, cut or read otherwise; ``fm_text`` is the front
    matter's text, to name the line of a field."""
    return _Validator(fm_text, problems).article(meta)


# The validator builds rows (see records.article_from_row): an article row is
#   (title, url, urls, excerpt, published, type, category, quality, heat,
#    locale, provider, topics, tags, images, related)
# with provider (domain, name), images ((url, width, height), ...) and
# related a tuple of article rows; the source file is added when the row
# becomes an Article.

_INTEGER = re.compile(r"\s*-?\d{1,12}\s*")
#: Memo bounds: past these, a memo starts afresh, so its memory stays
#: bounded however many files a process reads.
_MEMO_MAX = 50_000
_RELATED_MAX = 100_000
#: Related entries by their exact content (orjson bytes): real feeds list the
#: same related articles in many files.  Only entries validated without a
#: problem are kept, so a hit never hides a problem.
_RELATED: dict[bytes, tuple | None] = {}
#: Provider rows by (name, domain) as written, when they gave no problem.
_PROVIDERS: dict[tuple[str | None, str], tuple[str, str | None] | None] = {}
_MISSING = object()


@lru_cache(maxsize=100_000)
def _label(text: str) -> str | None:
    """A topic or tag label of plain text; None when too long (the reporting path)."""
    out = repair_text(text)
    if len(out) > MAX_TITLE_CHARS:
        return None
    return clean_label(out) if out else ""


class _Validator:
    """Turns one parsed front matter into an article row, reporting what it drops.

    Each method has a fast path for well-typed values; anything else takes the
    reporting path, which names the field, the reason and the line.
    """

    __slots__ = ("fm_text", "problems")

    def __init__(self, fm_text: str, problems: list[tuple]) -> None:
        self.fm_text = fm_text
        self.problems = problems

    def problem(self, field: str, reason: str, message: str,
                severity: str = "warning") -> None:
        self.problems.append((reason, message, severity, field, self._line_of(field)))

    def _line_of(self, field: str) -> int | None:
        top = re.split(r"[\[.]", field, maxsplit=1)[0]
        m = re.search(rf"^{re.escape(top)}\s*:", self.fm_text, re.MULTILINE)
        return self.fm_text.count("\n", 0, m.start()) + 1 if m else None

    # scalars: the field's name is prefix + key, put together only to report
    def text(self, value: Any, p: str, key: str, limit: int) -> str | None:
        if value.__class__ is str:
            out = repair_text(value)
            if len(out) <= limit:
                return out or None
        elif value is None:
            return None
        return self._text(value, p + key, limit)

    def _text(self, value: Any, field: str, limit: int) -> str | None:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            self.problem(field, "wrong-type", f"{field} should be text, got "
                         f"{type(value).__name__}; dropped")
            return None
        if not isinstance(value, str):
            self.problem(field, "wrong-type", f"{field} should be text, got "
                         f"{type(value).__name__}; read as text")
            value = str(value)
        out = repair_text(value)
        if len(out) > limit:
            self.problem(field, "too-long", f"{field} has {len(out):,} characters; "
                         f"cut to {limit:,}")
            out = out[:limit]
        return out or None

    def integer(self, value: Any, p: str, key: str) -> int | None:
        if value is None or value.__class__ is int:
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and _INTEGER.fullmatch(value):
            return int(value)
        self.problem(p + key, "wrong-type", f"{p}{key} should be an integer, got "
                     f"{type(value).__name__}; dropped")
        return None

    def date(self, value: Any, p: str, key: str):
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except DateError as exc:
            self.problem(p + key, "bad-date", f"{p}{key}: {exc}; dropped")
            return None

    def url(self, value: Any, p: str, key: str) -> str | None:
        if value is None or value == "":
            return None
        if value.__class__ is str or isinstance(value, str):
            try:
                return canonical_url(value)
            except URLError as exc:
                message = str(exc)
        else:  # what canonical_url says of any non-text (lists and mappings
            # cannot even be looked up in its cache)
            message = f"not a string: {type(value).__name__}"
        self.problem(p + key, "bad-url", f"{p}{key}: {message}; dropped")
        return None

    def str_list(self, value: Any, field: str) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            self.problem(field, "wrong-type", f"{field} should be a list, got text; "
                         "read as a list of one")
            value = [value]
        if not isinstance(value, list):
            self.problem(field, "wrong-type", f"{field} should be a list, got "
                         f"{type(value).__name__}; dropped")
            return ()
        out: list[str] = []
        for i, item in enumerate(value):
            label = _label(item) if item.__class__ is str else None
            if label is None:  # not text, or too long: the reporting path
                label = self.text(item, field, f"[{i}]", MAX_TITLE_CHARS)
                if label:
                    label = clean_label(label)
            if label and label not in out:
                out.append(label)
        return tuple(out)

    # compound values
    def provider(self, value: Any, field: str, urls: tuple[str, ...]) -> tuple | None:
        if value.__class__ is dict:
            name, domain = value.get("name"), value.get("domain")
            if domain.__class__ is str and domain and (name is None or name.__class__ is str):
                key = (name, domain)
                row = _PROVIDERS.get(key)
                if row is None:
                    seen = len(self.problems)
                    row = self._provider(value, field, urls)
                    if len(self.problems) == seen:  # then the domain field gave the domain
                        if len(_PROVIDERS) >= _MEMO_MAX:
                            _PROVIDERS.clear()
                        _PROVIDERS[key] = row
                return row
        return self._provider(value, field, urls)

    def _provider(self, value: Any, field: str, urls: tuple[str, ...]) -> tuple | None:
        name = domain_text = None
        if isinstance(value, dict):
            name = self.text(value.get("name"), field, ".name", MAX_TITLE_CHARS)
            domain_text = value.get("domain")
            if domain_text is not None and not isinstance(domain_text, str):
                self.problem(f"{field}.domain", "wrong-type", f"{field}.domain should be "
                             f"text, got {type(domain_text).__name__}; dropped")
                domain_text = None
        elif isinstance(value, str):
            self.problem(field, "wrong-type", f"{field} should be a mapping with name "
                         "and domain, got text; read as the provider's name")
            name = self.text(value, field, "", MAX_TITLE_CHARS)
        elif value is not None:
            self.problem(field, "wrong-type", f"{field} should be a mapping, got "
                         f"{type(value).__name__}; dropped")
        domain = registrable_domain(domain_text) if domain_text else None
        if domain_text and domain is None:
            self.problem(f"{field}.domain", "bad-domain", f"{field}.domain "
                         f"{domain_text[:80]!r} is not a registrable domain name")
        if domain is None and urls:
            domain = registrable_domain(host_of(urls[0]))
        if domain is None:
            if value is not None:
                self.problem(field, "missing-field", f"{field}: no usable domain; "
                             "the article has no provider")
            return None
        return (domain, clean_label(name) if name else None)

    def images(self, value: Any, field: str) -> tuple[tuple, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(field, "wrong-type", f"{field} should be a list, got "
                         f"{type(value).__name__}; dropped")
            return ()
        out: dict[str, tuple] = {}
        for i, item in enumerate(value):
            if item.__class__ is dict:  # fast path: text URL, integer (or no) sizes
                u, w, h = item.get("url"), item.get("width"), item.get("height")
                if (u.__class__ is str and u and (w is None or w.__class__ is int)
                        and (h is None or h.__class__ is int)):
                    try:
                        url = canonical_url(u)
                    except URLError:
                        pass  # reported below
                    else:
                        if url not in out:
                            out[url] = (url, w, h)
                        continue
            f = f"{field}[{i}]"
            if not isinstance(item, dict):
                self.problem(f, "wrong-type", f"{f} should be a mapping; dropped")
                continue
            found = self.url(item.get("url"), f, ".url")
            if found and found not in out:
                out[found] = (found, self.integer(item.get("width"), f, ".width"),
                              self.integer(item.get("height"), f, ".height"))
        return tuple(out.values())

    def related(self, value: Any) -> tuple[tuple, ...]:
        if value is not None and not isinstance(value, list):
            self.problem("related", "wrong-type", "related should be a list, got "
                         f"{type(value).__name__}; dropped")
            return ()
        out: list[tuple] = []
        for i, entry in enumerate(value or ()):
            if not isinstance(entry, dict):
                f = f"related[{i}]"
                self.problem(f, "wrong-type", f"{f} should be a mapping; dropped")
                continue
            key: bytes | None
            try:
                key = orjson.dumps(entry)
            except TypeError:  # bytes, sets, non-text keys, huge integers: no memo
                key = None
            else:
                if b"null" in key and (b":null" in key or b",null" in key or b"[null" in key):
                    key = None  # orjson writes NaN and infinities as null too: not exact
            row: Any = _MISSING if key is None else _RELATED.get(key, _MISSING)
            if row is _MISSING:
                seen = len(self.problems)
                row = self.article(entry, f"related[{i}]", nested=True)
                if key is not None and len(self.problems) == seen:
                    if len(_RELATED) >= _RELATED_MAX:
                        _RELATED.clear()
                    _RELATED[key] = row
            if row is not None:
                out.append(row)
        return tuple(out)

    def article(self, meta: dict, field: str = "", *, nested: bool = False) -> tuple | None:
        p = f"{field}." if field else ""
        get = meta.get
        text, url, integer = self.text, self.url, self.integer
        title = text(get("title"), p, "title", MAX_TITLE_CHARS)
        if title:
            title = " ".join(title.split())
        if not title:
            if not nested or get("title") is None:
                self.problem(f"{p}title", "missing-field",
                             f"no {p}title; " + ("entry dropped" if nested else "file skipped"),
                             "warning" if nested else "error")
            return None
        web = url(get("webUrl"), p, "webUrl")
        amp = url(get("ampWebUrl"), p, "ampWebUrl")
        cdn = url(get("cdnAmpWebUrl"), p, "cdnAmpWebUrl")
        original = url(get("originalUrl"), p, "originalUrl")
        urls: list[str] = []
        for u in (web, original, amp, cdn):
            if u:
                if u not in urls:
                    urls.append(u)
                form = web_url(u)
                if form not in urls:
                    urls.append(form)
        web = web or original
        if web is None and urls:
            web = web_url(urls[0])  # only AMP forms given: their web URL
            if web not in urls:
                urls.insert(0, web)
        topics: tuple[str, ...]
        tags: tuple[str, ...]
        related: tuple[tuple, ...]
        if nested:
            topics = tags = related = ()
        else:
            topics = self.str_list(get("topics"), "topics")
            related = self.related(get("related"))
        urls_ = tuple(urls)
        # the fields in the order of the record, problems in that order too
        # (absent fields, common in related entries, skip the call)
        v = get("excerpt")
        excerpt = None if v is None else text(v, p, "excerpt", MAX_TEXT_CHARS)
        v = get("publishedDateTime")
        published = None if v is None else self.date(v, p, "publishedDateTime")
        v = get("type")
        type_ = None if v is None else text(v, p, "type", 100)
        v = get("category")
        category = None if v is None else text(v, p, "category", 100)
        quality = integer(get("quality"), p, "quality")
        heat = integer(get("heat"), p, "heat")
        v = get("locale")
        locale = None if v is None else text(v, p, "locale", 35)
        provider = self.provider(get("provider"), f"{p}provider", urls_)
        if not nested:
            tags = self.str_list(get("tags"), "tags")
        v = get("images")
        images = () if v is None else self.images(v, f"{p}images")
        return (title, web, urls_, excerpt, published, type_, category, quality, heat, locale,
                provider, topics, tags, images, related)
