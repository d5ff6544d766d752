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

from .keymap import (
    ALIASES,
    CONTAINERS,
    IGNORED_KEYS,
    KNOWN_KEYS,
    NESTED_KEYS,
    SEED_KEYS,
    date_of_name,
    lift,
)
from .normalize import (
    ITEM_WORDS,
    DateError,
    URLError,
    canonical_url,
    clean_label,
    host_of,
    item_kind,
    parse_datetime,
    registrable_domain,
    repair_text,
    web_url,
)

__all__ = ["article_row", "MAX_TITLE_CHARS", "MAX_TEXT_CHARS", "ALIASES", "IGNORED_KEYS",
           "KNOWN_KEYS", "NESTED_KEYS", "CONTAINERS", "ITEM_WORDS", "item_kind"]

MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 20_000


def article_row(meta: dict, fm_text: str, problems: list[tuple],
                path: str = "") -> tuple | None:
    """The article row of a file's front-matter mapping (``None`` when the
    file has no usable title), appending a problem row to ``problems`` for
    each value dropped, cut or read otherwise; ``fm_text`` is the front
    matter's text, to name the line of a field; ``path`` the file's name
    (a Jekyll post's date is in it)."""
    return _Validator(fm_text, problems).article(meta, path=path)


_PROVIDER_KEYS, _IMAGE_KEYS = NESTED_KEYS["provider"], NESTED_KEYS["images[]"]
_PERSON_KEYS, _IMAGE_ALIAS_KEYS = NESTED_KEYS["person"], NESTED_KEYS["image"]
_PUBLISHER_KEYS, _RELATED_KEYS = NESTED_KEYS["publisher"], NESTED_KEYS["related[]"]
#: The keys of a provider and of an image that need no report, read or
#: ignored, when nothing was lifted (see _Validator.origins): the seed feed's
#: images carry its cache flag, its providers their logo.
_PROVIDER_SEEN, _IMAGE_SEEN = (
    NESTED_KEYS[path] | {k[len(path) + 1:] for k in IGNORED_KEYS if k.startswith(path + ".")}
    for path in ("provider", "images[]"))
_DATE_ALIASES = ALIASES["published"][1:]
_MODIFIED = ALIASES["modified"]
_AUTHORS = ALIASES["authors"]
_URL_ALIASES = ALIASES["url"][4:]
_EXCERPT_ALIASES = ALIASES["excerpt"][1:]
_IMAGE_ALIASES = ALIASES["images"][1:]
_PROVIDER_ALIASES = ALIASES["provider"][1:]
_LOCALE_ALIASES = ALIASES["locale"][1:]
#: Topic keys when there is no ``topics``, and how a text value splits:
#: Jekyll reads ``categories``/``tags`` text as space-separated; a comma
#: separates where there is one.
_TOPIC_FALLBACK = (("categories", True), ("category", False), ("tags", True),
                   ("keywords", True))



# The validator builds rows (see records.article_from_row): an article row is
#   (title, url, urls, excerpt, published, type, category, quality, heat,
#    locale, provider, topics, tags, images, related[, modified, authors, item])
# (a related entry's row stops at related)
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
_NO_ORIGINS: dict[str, str] = {}


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

    __slots__ = ("fm_text", "problems", "unknown", "origins")

    def __init__(self, fm_text: str, problems: list[tuple]) -> None:
        self.fm_text = fm_text
        self.problems = problems
        self.unknown: set[str] = set()
        #: top-level keys read from elsewhere (keymap.lift): key -> where it was
        self.origins: dict[str, str] = _NO_ORIGINS  # replaced, never changed

    def unknown_keys(self, keys: Any, path: str) -> None:
        """Report each key of ``keys`` not read nor ignored, once a file, as ``path.key``."""
        for key in sorted(keys, key=str):
            f = self._origin(f"{path}{key}")
            if f.removeprefix("related[].") not in IGNORED_KEYS and f not in self.unknown:
                self.unknown.add(f)
                self.problem(f, "unknown-key", f"key {f[:80]!r} is not read "
                             "(not mapped, not on the ignore list); dropped")

    def problem(self, field: str, reason: str, message: str,
                severity: str = "warning") -> None:
        if self.origins:  # name a lifted key where the file has it: params.author
            named = self._origin(field)
            if named != field and message.startswith(field):
                message = named + message[len(field):]
            field = named
        self.problems.append((reason, message, severity, field, self._line_of(field)))

    def _origin(self, field: str) -> str:
        if not self.origins:  # nothing lifted (nearly every file)
            return field
        top = re.split(r"[\[.]", field, maxsplit=1)[0]
        origin = self.origins.get(top)
        return field if origin is None else origin + field[len(top):]

    def _line_of(self, field: str) -> int | None:
        top = re.escape(re.split(r"[\[.]", field, maxsplit=1)[0])
        # YAML `key:`, TOML `key =` or `[key]`, JSON `"key":`
        m = re.search(rf'^(?:{top}\s*:|{top}\s*=|\[\[?{top}[\].]|\s*"{top}"\s*:)', self.fm_text,
                      re.MULTILINE)
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

    def images(self, value: Any, field: str, path: str | None = None) -> tuple[tuple, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(field, "wrong-type", f"{field} should be a list, got "
                         f"{type(value).__name__}; dropped")
            return ()
        out: dict[str, tuple] = {}
        for i, item in enumerate(value):
            if item.__class__ is dict:  # fast path: text URL, integer (or no) sizes
                if path is not None and \
                        not item.keys() <= (_IMAGE_KEYS if self.origins else _IMAGE_SEEN):
                    self.unknown_keys(item.keys() - _IMAGE_KEYS, path)
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
            if isinstance(item, str):  # Hugo's `images = ["a.png"]`: URLs alone
                found = self.url(item, f, "")
                if found and found not in out:
                    out[found] = (found, None, None)
                continue
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

    def article(self, meta: dict, field: str = "", *, nested: bool = False,
                path: str = "") -> tuple | None:
        p = f"{field}." if field else ""
        text, url, integer = self.text, self.url, self.integer
        # keys beyond the seed format's: only then can other formats' aliases be there
        other = not nested and not meta.keys() <= SEED_KEYS
        unread: list[str] | tuple = ()
        if other and not meta.keys() <= KNOWN_KEYS:  # Hugo's params, seo, `Tags`...
            meta, self.origins, unread = lift(meta, meta.keys() - KNOWN_KEYS)
        get = meta.get
        base = "related[]." if nested else ""
        if nested and not meta.keys() <= _RELATED_KEYS:
            self.unknown_keys(meta.keys() - _RELATED_KEYS, base)
        v = get("title")
        if v is None and other:
            v = get("headline")
        title = text(v, p, "title", MAX_TITLE_CHARS)
        if title:
            title = " ".join(title.split())
        if not title:
            if not nested or get("title") is None:
                self.problem(f"{p}title", "missing-field",
                             f"no {p}title; " + ("entry dropped" if nested else "file skipped"),
                             "warning" if nested else "error")
            return None
        v = get("webUrl")
        web = None if v is None else url(v, p, "webUrl")
        v = get("ampWebUrl")
        amp = None if v is None else url(v, p, "ampWebUrl")
        v = get("cdnAmpWebUrl")
        cdn = None if v is None else url(v, p, "cdnAmpWebUrl")
        v = get("originalUrl")
        original = None if v is None else url(v, p, "originalUrl")
        if web is None and original is None and other:
            web = self.alias_url(meta)
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
            v = get("topics")
            topics = self.str_list(v, "topics") if v is not None else self.alias_topics(meta)
            related = self.related(get("related"))
        urls_ = tuple(urls)
        # the fields in the order of the record, problems in that order too
        # (absent fields, common in related entries, skip the call)
        v = get("excerpt")
        if v is None and other:
            v, k = _first(meta, _EXCERPT_ALIASES)
        else:
            k = "excerpt"
        excerpt = None if v is None else text(v, p, k, MAX_TEXT_CHARS)
        v = get("publishedDateTime")
        k = "publishedDateTime"
        if v is None and not nested:
            v, k = _first(meta, _DATE_ALIASES)
            if v is None:  # Jekyll: a post's date is in its name
                v = date_of_name(path)
        published = None if v is None else self.date(v, p, k)
        v = get("type")
        type_ = None if v is None else text(v, p, "type", 100)
        v = get("category")
        category = None if v is None else text(v, p, "category", 100)
        quality = integer(get("quality"), p, "quality")
        heat = integer(get("heat"), p, "heat")
        v = get("locale")
        k = "locale"
        if v is None and other:
            v, k = _first(meta, _LOCALE_ALIASES)
        locale = None if v is None else text(v, p, k, 35)
        v = get("provider")
        if v is None and other:
            provider = self.alias_provider(meta, urls_)
        else:
            if v.__class__ is dict and \
                    not v.keys() <= (_PROVIDER_KEYS if self.origins else _PROVIDER_SEEN):
                self.unknown_keys(v.keys() - _PROVIDER_KEYS, f"{base}provider.")
            provider = self.provider(v, f"{p}provider", urls_)
        if not nested:
            v = get("tags")
            tags = self.str_list(_split(v) if v.__class__ is str else v, "tags")
        v = get("images")
        if v is None and other:
            images = self.alias_images(meta)
        else:
            images = () if v is None else self.images(
                v, f"{p}images", "related[].images[]." if nested else "images[].")
        if nested:  # a related entry's row: without the file's own fields
            return (title, web, urls_, excerpt, published, type_, category, quality, heat,
                    locale, provider, topics, tags, images, related)
        modified = item = None
        authors: tuple[str, ...] = ()
        if type_ is not None:
            item = item_kind(type_)
        if other:
            v = get("layout")
            if item is None and v.__class__ is str:
                item = item_kind(v)
            v, k = _first(meta, _MODIFIED)
            if v is not None:
                modified = self.date(v, "", k)
            v, k = _first(meta, _AUTHORS)
            if v is not None:
                authors = self.people(v, k)
            unknown = meta.keys() - KNOWN_KEYS
            if unknown or unread:
                self.unknown_keys(unknown.union(unread), "")
        if item is None and published is None and provider is None:
            item = "work"  # nothing says it is news
        # Hugo's `draft: true`, Jekyll's `published: false` (in the seed's
        # feed, which has `publishedDateTime`, `published` is its own flag)
        draft = get("draft") is True or (get("published") is False
                                          and "publishedDateTime" not in meta)
        return (title, web, urls_, excerpt, published, type_, category, quality, heat, locale,
                provider, topics, tags, images, related, modified, authors, item, draft)

    # -- the other formats' keys (see ALIASES) ------------------------------------
    def alias_url(self, meta: dict) -> str | None:
        v, k = _first(meta, _URL_ALIASES)
        if v is None:
            return None
        if isinstance(v, str) and "://" not in v and not v.lstrip().startswith("//"):
            self.problem(k, "relative-url", f"{k} {v[:80]!r} is a path, not a URL; the "
                         "article is identified by its file")
            return None
        return self.url(v, "", k)

    def alias_topics(self, meta: dict) -> tuple[str, ...]:
        found: list[str] = []
        for key, split in _TOPIC_FALLBACK:
            v = meta.get(key)
            if v is None:
                continue
            if isinstance(v, str):
                v = _split(v) if split else [v]
            for label in self.str_list(v, key):
                if label not in found:
                    found.append(label)
        return tuple(found)

    def alias_provider(self, meta: dict, urls: tuple[str, ...]) -> tuple | None:
        v, k = _first(meta, _PROVIDER_ALIASES)
        if v is None:
            return self.provider(None, "provider", urls)
        if isinstance(v, dict):  # schema.org style: {name, url} or {name, domain}
            if not v.keys() <= _PUBLISHER_KEYS:
                self.unknown_keys(v.keys() - _PUBLISHER_KEYS, f"{k}.")
            domain = v.get("domain")
            link = v.get("url")
            if domain is None and isinstance(link, str):
                domain = host_of(link) if "://" in link else link
            return self.provider({"name": v.get("name"), "domain": domain}, k, urls)
        if isinstance(v, str):  # a name: the domain comes from the article's URL
            name = self.text(v, "", k, MAX_TITLE_CHARS)
            domain = registrable_domain(host_of(urls[0])) if urls else None
            if domain is None:
                self.problem(k, "missing-field", f"{k} {v[:80]!r} has no domain and the "
                             "article no URL: no provider (kg build --provider-domain gives one)")
                return None
            return (domain, clean_label(name) if name else None)
        return self.provider(v, k, urls)

    def alias_images(self, meta: dict) -> tuple[tuple, ...]:
        v, k = _first(meta, _IMAGE_ALIASES)
        if v is None:
            return ()
        many = isinstance(v, list)
        out: list[Any] = []
        for i, item in enumerate(v if many else [v]):
            link = item
            if isinstance(item, dict):  # {url or src, width, height}; jekyll-seo-tag's {path}
                if not item.keys() <= _IMAGE_ALIAS_KEYS:
                    self.unknown_keys(item.keys() - _IMAGE_ALIAS_KEYS, f"{k}[]." if many else f"{k}.")
                link = item.get("url") or item.get("src") or item.get("path") or item.get("image")
                item = {"url": link, "width": item.get("width"), "height": item.get("height")}
            elif isinstance(item, str):
                item = {"url": item}
            if isinstance(link, str) and link and "://" not in link and not link.startswith("//"):
                f = f"{k}[{i}]" if many else k
                self.problem(f, "relative-url", f"{f} {link[:80]!r} is a path on the site, "
                             "not a URL; dropped")
                continue
            out.append(item)
        return self.images(out, k)

    def people(self, value: Any, field: str) -> tuple[str, ...]:
        items = value if isinstance(value, list) else [value]
        out: list[str] = []
        for i, item in enumerate(items):
            f = f"{field}[{i}]" if isinstance(value, list) else field
            if isinstance(item, dict):  # {name, email, twitter...}: only the name is read
                if not item.keys() <= _PERSON_KEYS:
                    self.unknown_keys(item.keys() - _PERSON_KEYS,
                                      f"{field}[]." if isinstance(value, list) else f"{field}.")
                item = item.get("name")
            name = self.text(item, f, "", MAX_TITLE_CHARS)
            if name:
                name = " ".join(name.split())
                if name not in out:
                    out.append(name)
        return tuple(out)


def _split(text: str) -> list[str]:
    """A list written as text: comma-separated, or else space-separated (Jekyll)."""
    return text.split("," if "," in text else None)


def _first(meta: dict, keys: tuple[str, ...]) -> tuple[Any, str]:
    """The first of ``keys`` with a value (and the key); a yes/no ``published``
    is a flag, not a date."""
    for k in keys:
        v = meta.get(k)
        if v is not None and v.__class__ is not bool:
            return v, k
    return None, keys[0]
