"""Files -> validated, normalised :class:`~kg.records.Article` records.

A file is UTF-8 text with a YAML front-matter block between ``---`` lines and
a (usually empty) Markdown body.  Problems are collected, never raised per
file: a bad file becomes a :class:`~kg.records.Problem` and every other file
still loads.

>>> import kg
>>> corpus = kg.load_corpus("seeds")
>>> corpus
Corpus(1 articles from 1 files, 0 problems)
>>> corpus.articles[0].provider
Provider(domain='caixinglobal.com', name='Caixin Global')
"""

from __future__ import annotations

import hashlib
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import yaml

from ._perf import gc_paused
from .cache import encode_row, file_stat
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
from .records import Article, Corpus, Problem, SourceFile, article_from_row

if TYPE_CHECKING:
    from .cache import RecordCache

__all__ = ["load_corpus", "read_article", "iter_article_files", "ARTICLE_SUFFIXES",
           "MAX_FILE_BYTES"]

ARTICLE_SUFFIXES = (".md", ".markdown", ".txt")
#: Files larger than this are refused unread (real article files are ~5 KB).
MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_TITLE_CHARS = 1_000
MAX_TEXT_CHARS = 20_000
#: Alias references allowed in one front matter; news metadata uses none, and
#: an "alias bomb" needs many.
MAX_ALIASES = 16

#: The front-matter fence: python-frontmatter's YAML boundary, exactly (a line
#: of three or more dashes and nothing but whitespace), so odd files split as
#: they always did.
_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)


# -- YAML ---------------------------------------------------------------------
class _AliasBomb(yaml.YAMLError):
    pass


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader that reports duplicate keys, refuses alias
    bombs and leaves timestamps as text (so a bad date is a field problem,
    not a parse failure of the whole file)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []
        self.alias_uses = 0

    def construct_object(self, node, deep=False):  # noqa: ANN001
        if node in self.constructed_objects:
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                raise _AliasBomb(f"more than {MAX_ALIASES} alias references")
        return super().construct_object(node, deep)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        self.duplicates.append((key_node.value, key_node.start_mark.line))
                    seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


def _parse_yaml_libyaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


try:  # Rust YAML parser: ~6x faster, same results on the real corpora (tested)
    import yaml_rs

    _RS_LIMITS = yaml_rs.AliasLimits(max_alias_expansions_per_anchor=MAX_ALIASES,
                                     max_replay_stack_depth=4,
                                     max_total_replayed_events=4 * MAX_ALIASES)
except ImportError:  # pragma: no cover - yaml-rs is a declared dependency
    yaml_rs = None


def _parse_yaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """Parse front matter: (value, duplicate keys as (key, line)).

    The fast parser answers the common case; anything it refuses (syntax
    errors, duplicate keys, aliases) is parsed again by libyaml, whose
    errors carry the line and whose checks name the duplicate keys.
    """
    if yaml_rs is not None:
        try:
            return yaml_rs.loads(text, parse_datetime=False, alias_limits=_RS_LIMITS), []
        except Exception:  # noqa: BLE001 - any refusal: take the careful path
            pass
    return _parse_yaml_libyaml(text)


# -- files --------------------------------------------------------------------
def _find_files(paths: Iterable[str | os.PathLike]) -> list[tuple[str, str]]:
    """Article files under the paths as (path, display name), sorted by name."""
    found: dict[str, str] = {}
    for p in paths:
        root = Path(p)
        if root.is_file():
            found.setdefault(root.name, str(root))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"no such file or folder: {root}")
        base = root.resolve().name
        join = os.path.join  # plain strings: pathlib costs ~10 us per file
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            prefix = (f"{base}/" if rel_dir == "." else f"{base}/{rel_dir}/").replace(os.sep, "/")
            for name in filenames:
                if name.startswith(".") or not name.lower().endswith(ARTICLE_SUFFIXES):
                    continue
                found.setdefault(prefix + name, join(dirpath, name))
    return [(found[name], name) for name in sorted(found)]


def iter_article_files(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, str]]:
    """Article files under the given files/folders, as (path, display name).

    The display name is the path relative to the folder given, prefixed with
    that folder's name (``real/2020-05-06-x.md``): stable across machines, it
    names the file in problems, in provenance and in the RDF graph names.
    Hidden files and folders are skipped.  Sorted, without duplicates.

    >>> iter_article_files(["seeds"])[0][1]
    'seeds/000_e8d8b023fb041968.txt'
    """
    return [(Path(path), name) for path, name in _find_files(paths)]


@dataclass(slots=True)
class FileResult:
    """What reading one file gave: the article (or ``None``), the file, problems."""

    article: Article | None
    file: SourceFile
    problems: list[Problem]


# A file's result travels (from worker processes, and through the record
# cache) as a compact row of plain values, turned into records only once, in
# the process that keeps them:
#   ((sha256, size, ok), article row or None, [(reason, message, severity, field, line), ...])
# The file's name, which every record of the file repeats, is not in the row.
ResultRow = tuple


def records_from_row(name: str, row: ResultRow,
                     shared: dict) -> tuple[SourceFile, Article | None, Sequence[Problem]]:
    """The records of a result row: (file, article or None, problems).

    ``shared``: see :func:`~kg.records.article_from_row`.
    """
    (sha256, size, ok), article, problems = row
    return (SourceFile(name, sha256, size, ok),
            None if article is None else article_from_row(name, article, shared),
            [Problem(name, *p) for p in problems] if problems else ())


def result_from_row(name: str, row: ResultRow, shared: dict) -> FileResult:
    """The :class:`FileResult` of a result row."""
    file, article, problems = records_from_row(name, row, shared)
    return FileResult(article, file, list(problems))


def read_article(path: str | os.PathLike, name: str | None = None, *,
                 max_bytes: int = MAX_FILE_BYTES) -> FileResult:
    """Read, parse, validate and normalise one article file.

    >>> r = read_article("seeds/000_e8d8b023fb041968.txt")
    >>> r.article.title, r.problems
    ('Carmaker Xpeng Deletes 430,000 Photos for Misuse of Facial Recognition', [])
    """
    name = name or Path(path).name
    return result_from_row(name, _read_row(os.fspath(path), name, max_bytes)[1], {})


def parse_article(data: bytes, name: str) -> FileResult:
    """Parse, validate and normalise the bytes of one article file."""
    return result_from_row(name, _parse_row(data, name), {})


def _read_row(path: str, name: str, max_bytes: int) -> tuple[tuple | None, ResultRow]:
    """(the file's stat for the record cache, or None if unread; its result row)."""
    now = time.time_ns()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            size = st.st_size
            if size > max_bytes:
                return None, _refused(_hash_fd(fd), size, "too-large",
                                      f"{size:,} bytes, more than the limit of {max_bytes:,}")
            data = _read_fd(fd, size)
        finally:
            os.close(fd)
    except OSError as exc:
        return None, _refused("", 0, "unreadable", f"cannot read: {exc.strerror or exc}")
    return file_stat(st, now), _parse_row(data, name)


def _read_fd(fd: int, size: int) -> bytes:
    # to the end of the file, whatever its size said (it may have grown)
    data = os.read(fd, size + 1)
    if not data:
        return data
    parts = [data]
    while chunk := os.read(fd, max(size + 1, 1 << 16)):
        parts.append(chunk)
    return data if len(parts) == 1 else b"".join(parts)


def _hash_fd(fd: int) -> str:
    h = hashlib.sha256()
    while chunk := os.read(fd, 1 << 20):
        h.update(chunk)
    return h.hexdigest()


def _refused(digest: str, size: int, reason: str, message: str,
             problems: list[tuple] | None = None, line: int | None = None) -> ResultRow:
    problems = problems if problems is not None else []
    problems.append((reason, message, "error", None, line))
    return (digest, size, False), None, problems


def _front_matter(text: str) -> str | None | bool:
    """The text between the opening fence and the next fence line.

    ``None`` when the text does not open with a fence, ``False`` when no
    fence closes it.  Same answer as python-frontmatter's
    ``YAMLHandler.detect``/``split`` (tested), without scanning the text with
    a regex: candidate closing fences are found with ``str.find``.
    """
    opening = _FENCE.match(text)
    if opening is None:
        return None
    start = opening.end()
    i = start - 1  # the next match may start at any later line start
    while (i := text.find("\n---", i)) >= 0:
        i += 1
        if _FENCE.match(text, i):
            return text[start:i]
    return False


def _parse_row(data: bytes, name: str) -> ResultRow:
    """Parse, validate and normalise the bytes of one file into a result row."""
    problems: list[tuple] = []
    digest, size = hashlib.sha256(data).hexdigest(), len(data)

    def fail(reason: str, message: str, line: int | None = None) -> ResultRow:
        return _refused(digest, size, reason, message, problems, line)

    if not data or data.isspace():
        return fail("empty", "empty file")
    if b"\x00" in data:
        return fail("binary", "binary file (contains NUL bytes)")
    text = _decode(data, problems)

    fm_text = _front_matter(text)
    if fm_text is None:
        return fail("no-front-matter", "no YAML front matter (the file must start with ---)")
    if fm_text is False:
        return fail("no-front-matter", "front matter is not closed by a --- line")
    try:
        meta, duplicates = _parse_yaml(fm_text)
    except _AliasBomb as exc:
        return fail("yaml-aliases", f"refused: {exc} (a YAML alias bomb?)")
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None  # 0-based, after the opening ---
        reason = f"{exc.problem or exc.context}".strip()
        return fail("yaml-syntax", f"malformed YAML: {reason}", line)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        return fail("yaml-syntax", f"malformed YAML: {str(exc)[:200]}")
    if not isinstance(meta, dict):
        return fail("not-a-mapping", f"front matter is a {type(meta).__name__}, not a mapping")
    for key, line in duplicates:
        problems.append(("duplicate-key", f"key {key!r} appears more than once; the last "
                         "value is used", "warning", str(key), line + 1))
    article = _Validator(fm_text, problems).article(meta)
    return (digest, size, article is not None), article, problems


def _decode(data: bytes, problems: list[tuple]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark is not content
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append((
            "encoding", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); read as Windows-1252/Latin-1", "warning", None, line))
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


# -- validation ---------------------------------------------------------------
# The validator builds rows (see records.article_from_row): an article row is
#   (title, url, urls, excerpt, published, type, category, quality, heat,
#    locale, provider, topics, tags, images, related)
# with provider (domain, name), images ((url, width, height), ...) and
# related a tuple of article rows; the source file is added when the row
# becomes an Article.

_INTEGER = re.compile(r"\s*-?\d{1,12}\s*")
#: Memo bounds: past these, a memo starts afresh (memory stays bounded:
#: ~2 KB a related entry, so ~200 MB at most per process).
_MEMO_MAX = 50_000
_RELATED_MAX = 100_000
#: Related entries by their exact content (orjson bytes): real feeds list the
#: same related articles in many files.  Only entries validated without a
#: problem are kept, so a hit never hides a problem.
_RELATED: dict[bytes, tuple | None] = {}
#: Provider rows by (name, domain) as written, when they gave no problem.
_PROVIDERS: dict[tuple[str | None, str], tuple[str, str | None]] = {}
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
            url = self.url(item.get("url"), f, ".url")
            if url and url not in out:
                out[url] = (url, self.integer(item.get("width"), f, ".width"),
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
            try:
                key = orjson.dumps(entry)
            except TypeError:  # bytes, sets, non-text keys, huge integers: no memo
                key = None
            else:
                if b"null" in key and (b":null" in key or b",null" in key or b"[null" in key):
                    key = None  # orjson writes NaN and infinities as null too: not exact
            row = _MISSING if key is None else _RELATED.get(key, _MISSING)
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


# -- corpus -------------------------------------------------------------------
#: Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2_000
_CHUNK = 500


def _read_chunk(chunk: list[tuple[str, str]], max_bytes: int, encode: bool,
                keep_rows: bool) -> list[tuple[tuple | None, ResultRow | None, bytes | None]]:
    """(stat, row, payload) of each file of a chunk: the payload is the row as
    the record cache stores it (if ``encode``); the row is kept if
    ``keep_rows`` or if it has no payload.  For a record cache, worker
    processes send its payloads alone (no second, pickled copy)."""
    with gc_paused():
        out = []
        for path, name in chunk:
            stat, row = _read_row(path, name, max_bytes)
            payload = encode_row(row) if encode else None
            out.append((stat, row if keep_rows or payload is None else None, payload))
        return out


def load_corpus(*paths: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES,
                workers: int | None = None, cache: RecordCache | None = None,
                progress: Callable[[int, int], None] | None = None) -> Corpus:
    """Read every article file (``.md``, ``.markdown``, ``.txt``) under the paths.

    Large corpora are read by ``workers`` processes (default: one per core);
    the result is the same whatever the number.  With a
    :class:`~kg.cache.RecordCache`, files parsed before are taken from it
    (see there how it tells a changed file) and only new or changed files
    are parsed.  ``progress(done, total)`` is called now and then while
    files are read.

    >>> load_corpus("seeds").articles[0].published.isoformat()
    '2021-12-15T12:20:00+00:00'
    """
    if not paths:
        raise TypeError("load_corpus() needs at least one path")
    files = _find_files(paths)
    total = len(files)
    results: list[tuple | None] = [None] * total  # (file, article, problems) in file order
    shared: dict = {}  # one Provider / Image object per distinct value
    todo: range | list[int] = range(total)
    report = progress or (lambda done, total: None)
    report(0, total)
    with gc_paused():
        if cache is not None and len(cache):
            todo = []
            now = time.time_ns()
            for i, (path, name) in enumerate(files):
                hit = cache.lookup(path, name, max_bytes, now, shared)
                if hit is None:
                    todo.append(i)
                else:
                    results[i] = hit
                if i % 1000 == 0:
                    report(i, total)
        elif cache is not None:
            cache.misses += total  # nothing to look up
        _parse_files(files, todo, results, shared, max_bytes, workers, cache, report)
        corpus = Corpus()
        add_file, add_article, add_problems = (corpus.files.append, corpus.articles.append,
                                               corpus.problems.extend)
        for file, article, problems in results:
            add_file(file)
            if article is not None:
                add_article(article)
            if problems:
                add_problems(problems)
    report(total, total)
    return corpus


def _parse_files(files: list[tuple[str, str]], todo: range | list[int], results: list,
                 shared: dict, max_bytes: int, workers: int | None,
                 cache: RecordCache | None, report: Callable[[int, int], None]) -> None:
    """Parse the files at the ``todo`` indexes into ``results`` (and the cache)."""
    chunks = [[files[i] for i in todo[k:k + _CHUNK]] for k in range(0, len(todo), _CHUNK)]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(todo) >= PARALLEL_MIN_FILES else 1
    if workers <= 1 or len(chunks) <= 1:
        parsed = (_read_chunk(chunk, max_bytes, cache is not None, True) for chunk in chunks)
        pool = None
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: workers inherit the loaded modules (no re-import per worker).
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
        n = len(chunks)  # rows travel pickled, or as the cache's payloads when it wants them
        parsed = pool.map(_read_chunk, chunks, [max_bytes] * n, [cache is not None] * n,
                          [cache is None] * n)
    try:
        done = len(files) - len(todo)
        for k, rows in zip(range(0, len(todo), _CHUNK), parsed):
            for i, (stat, row, payload) in zip(todo[k:k + _CHUNK], rows):
                name = files[i][1]
                if row is None:
                    row = orjson.loads(payload)
                results[i] = records_from_row(name, row, shared)  # in file order
                if cache is not None:
                    cache.store(name, row[0][0], stat, payload)
            done += len(rows)
            report(done, len(files))
    finally:
        if pool is not None:
            pool.shutdown()
