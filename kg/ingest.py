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
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import frontmatter
import yaml

from ._util import gc_paused
from .normalize import (DateError, URLError, canonical_url, clean_label, host_of,
                        parse_datetime, registrable_domain, repair_text, web_url)
from .records import Article, Corpus, Image, Problem, Provider, SourceFile

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

_BOUNDARY = frontmatter.YAMLHandler()


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
def iter_article_files(paths: Iterable[str | os.PathLike]) -> list[tuple[Path, str]]:
    """Article files under the given files/folders, as (path, display name).

    The display name is the path relative to the folder given, prefixed with
    that folder's name (``real/2020-05-06-x.md``): stable across machines, it
    names the file in problems, in provenance and in the RDF graph names.
    Hidden files and folders are skipped.  Sorted, without duplicates.
    """
    found: dict[str, Path] = {}
    for p in paths:
        root = Path(p)
        if root.is_file():
            found.setdefault(root.name, root)
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"no such file or folder: {root}")
        base = root.resolve().name
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            for name in filenames:
                if name.startswith(".") or not name.lower().endswith(ARTICLE_SUFFIXES):
                    continue
                rel = name if rel_dir == "." else f"{rel_dir}/{name}"
                found.setdefault(f"{base}/{rel}".replace(os.sep, "/"), Path(dirpath) / name)
    return sorted(((path, name) for name, path in found.items()), key=lambda t: t[1])


@dataclass(slots=True)
class FileResult:
    """What reading one file gave: the article (or ``None``), the file, problems."""

    article: Article | None
    file: SourceFile
    problems: list[Problem]


def read_article(path: str | os.PathLike, name: str | None = None, *,
                 max_bytes: int = MAX_FILE_BYTES) -> FileResult:
    """Read, parse, validate and normalise one article file.

    >>> r = read_article("seeds/000_e8d8b023fb041968.txt")
    >>> r.article.title, r.problems
    ('Carmaker Xpeng Deletes 430,000 Photos for Misuse of Facial Recognition', [])
    """
    path = Path(path)
    name = name or path.name
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return _refuse(name, _hash_file(path), size, "too-large",
                           f"{size:,} bytes, more than the limit of {max_bytes:,}")
        data = path.read_bytes()
    except OSError as exc:
        return _refuse(name, "", 0, "unreadable", f"cannot read: {exc.strerror or exc}")
    return parse_article(data, name)


def _refuse(name: str, digest: str, size: int, reason: str, message: str,
            problems: list[Problem] | None = None, line: int | None = None) -> FileResult:
    problems = problems or []
    problems.append(Problem(name, reason, message, "error", None, line))
    return FileResult(None, SourceFile(name, digest, size, False), problems)


def parse_article(data: bytes, name: str) -> FileResult:
    """Parse, validate and normalise the bytes of one article file."""
    problems: list[Problem] = []
    digest, size = hashlib.sha256(data).hexdigest(), len(data)

    def fail(reason: str, message: str, line: int | None = None) -> FileResult:
        return _refuse(name, digest, size, reason, message, problems, line)

    if not data.strip():
        return fail("empty", "empty file")
    if b"\x00" in data:
        return fail("binary", "binary file (contains NUL bytes)")
    text = _decode(data, name, problems)

    if not _BOUNDARY.detect(text):
        return fail("no-front-matter", "no YAML front matter (the file must start with ---)")
    try:
        fm_text, _body = _BOUNDARY.split(text)
    except ValueError:
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
        problems.append(Problem(name, "duplicate-key", f"key {key!r} appears more than "
                                "once; the last value is used", "warning", str(key), line + 1))
    v = _Validator(name, fm_text, problems)
    article = v.article(meta)
    if article is None:
        return FileResult(None, SourceFile(name, digest, size, False), problems)
    return FileResult(article, SourceFile(name, digest, size, True), problems)


def _hash_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _decode(data: bytes, name: str, problems: list[Problem]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark is not content
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append(Problem(
            name, "encoding", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); read as Windows-1252/Latin-1", "warning", None, line))
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


# -- validation ---------------------------------------------------------------
_URL_FIELDS = ("webUrl", "ampWebUrl", "cdnAmpWebUrl", "originalUrl")


class _Validator:
    """Turns one parsed front matter into an Article, reporting what it drops."""

    def __init__(self, name: str, fm_text: str, problems: list[Problem]) -> None:
        self.name = name
        self.fm_text = fm_text
        self.problems = problems

    def problem(self, field: str, reason: str, message: str,
                severity: str = "warning") -> None:
        self.problems.append(Problem(self.name, reason, message, severity, field,
                                     self._line_of(field)))

    def _line_of(self, field: str) -> int | None:
        top = re.split(r"[\[.]", field, maxsplit=1)[0]
        m = re.search(rf"^{re.escape(top)}\s*:", self.fm_text, re.MULTILINE)
        return self.fm_text.count("\n", 0, m.start()) + 1 if m else None

    # scalars
    def text(self, value: Any, field: str, limit: int) -> str | None:
        if value is None:
            return None
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

    def integer(self, value: Any, field: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str) and re.fullmatch(r"\s*-?\d{1,12}\s*", value):
            return int(value)
        self.problem(field, "wrong-type", f"{field} should be an integer, got "
                     f"{type(value).__name__}; dropped")
        return None

    def date(self, value: Any, field: str):
        if value is None:
            return None
        try:
            return parse_datetime(value)
        except DateError as exc:
            self.problem(field, "bad-date", f"{field}: {exc}; dropped")
            return None

    def url(self, value: Any, field: str) -> str | None:
        if value is None or value == "":
            return None
        try:
            return canonical_url(value)
        except URLError as exc:
            self.problem(field, "bad-url", f"{field}: {exc}; dropped")
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
            label = self.text(item, f"{field}[{i}]", MAX_TITLE_CHARS)
            if label:
                label = clean_label(label)
                if label and label not in out:
                    out.append(label)
        return tuple(out)

    # compound values
    def provider(self, value: Any, field: str, urls: tuple[str, ...]) -> Provider | None:
        name = domain_text = None
        if isinstance(value, dict):
            name = self.text(value.get("name"), f"{field}.name", MAX_TITLE_CHARS)
            domain_text = value.get("domain")
            if domain_text is not None and not isinstance(domain_text, str):
                self.problem(f"{field}.domain", "wrong-type", f"{field}.domain should be "
                             f"text, got {type(domain_text).__name__}; dropped")
                domain_text = None
        elif isinstance(value, str):
            self.problem(field, "wrong-type", f"{field} should be a mapping with name "
                         "and domain, got text; read as the provider's name")
            name = self.text(value, field, MAX_TITLE_CHARS)
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
        return Provider(domain=domain, name=clean_label(name) if name else None)

    def images(self, value: Any, field: str) -> tuple[Image, ...]:
        if value is None:
            return ()
        if not isinstance(value, list):
            self.problem(field, "wrong-type", f"{field} should be a list, got "
                         f"{type(value).__name__}; dropped")
            return ()
        out: dict[str, Image] = {}
        for i, item in enumerate(value):
            f = f"{field}[{i}]"
            if not isinstance(item, dict):
                self.problem(f, "wrong-type", f"{f} should be a mapping; dropped")
                continue
            url = self.url(item.get("url"), f"{f}.url")
            if url and url not in out:
                out[url] = Image(url, self.integer(item.get("width"), f"{f}.width"),
                                 self.integer(item.get("height"), f"{f}.height"))
        return tuple(out.values())

    def article(self, meta: dict, field: str = "", *, nested: bool = False) -> Article | None:
        p = f"{field}." if field else ""
        title = self.text(meta.get("title"), f"{p}title", MAX_TITLE_CHARS)
        if title:
            title = " ".join(title.split())
        if not title:
            if not nested or meta.get("title") is None:
                self.problem(f"{p}title", "missing-field",
                             f"no {p}title; " + ("entry dropped" if nested else "file skipped"),
                             "warning" if nested else "error")
            return None
        raw = {f: self.url(meta.get(f), f"{p}{f}") for f in _URL_FIELDS}
        web = raw["webUrl"] or raw["originalUrl"]
        urls: list[str] = []
        for u in (raw["webUrl"], raw["originalUrl"], raw["ampWebUrl"], raw["cdnAmpWebUrl"]):
            if u:
                for form in (u, web_url(u)):
                    if form not in urls:
                        urls.append(form)
        if web is None and urls:
            web = web_url(urls[0])  # only AMP forms given: their web URL
            if web not in urls:
                urls.insert(0, web)
        topics = () if nested else self.str_list(meta.get("topics"), f"{p}topics")
        related: list[Article] = []
        if not nested:
            rel = meta.get("related")
            if rel is not None and not isinstance(rel, list):
                self.problem("related", "wrong-type", "related should be a list, got "
                             f"{type(rel).__name__}; dropped")
            elif rel:
                for i, entry in enumerate(rel):
                    f = f"related[{i}]"
                    if not isinstance(entry, dict):
                        self.problem(f, "wrong-type", f"{f} should be a mapping; dropped")
                        continue
                    ref = self.article(entry, f, nested=True)
                    if ref is not None:
                        related.append(ref)
        return Article(
            source=self.name,
            title=title,
            url=web,
            urls=tuple(urls),
            excerpt=self.text(meta.get("excerpt"), f"{p}excerpt", MAX_TEXT_CHARS),
            published=self.date(meta.get("publishedDateTime"), f"{p}publishedDateTime"),
            type=self.text(meta.get("type"), f"{p}type", 100),
            category=self.text(meta.get("category"), f"{p}category", 100),
            quality=self.integer(meta.get("quality"), f"{p}quality"),
            heat=self.integer(meta.get("heat"), f"{p}heat"),
            locale=self.text(meta.get("locale"), f"{p}locale", 35),
            provider=self.provider(meta.get("provider"), f"{p}provider", tuple(urls)),
            topics=topics,
            tags=() if nested else self.str_list(meta.get("tags"), f"{p}tags"),
            images=self.images(meta.get("images"), f"{p}images"),
            related=tuple(related),
        )


# -- corpus -------------------------------------------------------------------
#: Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2_000
_CHUNK = 500


def _read_chunk(chunk: list[tuple[str, str]], max_bytes: int) -> list[FileResult]:
    with gc_paused():
        return [read_article(path, name, max_bytes=max_bytes) for path, name in chunk]


def load_corpus(*paths: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES,
                workers: int | None = None, cache: "RecordCache | None" = None,
                progress: Callable[[int, int], None] | None = None) -> Corpus:
    """Read every article file (``.md``, ``.markdown``, ``.txt``) under the paths.

    Large corpora are read by ``workers`` processes (default: one per core);
    the result is the same whatever the number.  With a
    :class:`~kg.cache.RecordCache`, files whose content was parsed before are
    taken from it and only new or changed files are parsed.
    ``progress(done, total)`` is called now and then while files are read.

    >>> load_corpus("seeds").articles[0].published.isoformat()
    '2021-12-15T12:20:00+00:00'
    """
    if not paths:
        raise TypeError("load_corpus() needs at least one path")
    files = [(str(path), name) for path, name in iter_article_files(paths)]
    results: list[FileResult | None] = [None] * len(files)
    todo = list(range(len(files)))
    report = progress or (lambda done, total: None)
    report(0, len(files))
    if cache is not None and len(cache):
        todo = []
        with gc_paused():
            for i, (path, name) in enumerate(files):
                try:
                    if os.stat(path).st_size > max_bytes:
                        todo.append(i)
                        continue
                    data = Path(path).read_bytes()
                except OSError:
                    todo.append(i)
                    continue
                hit = cache.get(name, hashlib.sha256(data).hexdigest())
                if hit is None:
                    results[i] = parse_article(data, name)
                    cache.put(results[i])
                else:
                    results[i] = hit
                if i % 1000 == 0:
                    report(i, len(files))
    chunks = [[files[i] for i in todo[k:k + _CHUNK]] for k in range(0, len(todo), _CHUNK)]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(todo) >= PARALLEL_MIN_FILES else 1
    if workers <= 1 or len(chunks) <= 1:
        parsed = map(_read_chunk, chunks, [max_bytes] * len(chunks))
        pool = None
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # fork: workers inherit the loaded modules (no re-import per worker).
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else None
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method))
        parsed = pool.map(_read_chunk, chunks, [max_bytes] * len(chunks))
    try:
        done = len(files) - len(todo)
        with gc_paused():
            for k, chunk_results in zip(range(0, len(todo), _CHUNK), parsed):
                for i, result in zip(todo[k:k + _CHUNK], chunk_results):
                    results[i] = result  # in file order, whatever the workers
                    if cache is not None:
                        cache.misses += 1  # parsed without a look-up: cache empty
                        cache.put(result)
                done += len(chunk_results)
                report(done, len(files))
    finally:
        if pool is not None:
            pool.shutdown()
    corpus = Corpus()
    for result in results:
        corpus.files.append(result.file)
        corpus.problems.extend(result.problems)
        if result.article is not None:
            corpus.articles.append(result.article)
    report(len(files), len(files))
    return corpus
