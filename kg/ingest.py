"""Files -> validated, normalised :class:`~kg.records.Article` records.

Finds the article files, reads each one's front matter (:mod:`kg.frontmatter`),
validates and normalises it into a result row (:mod:`kg.records`), and
gathers the corpus, in worker processes and from the record cache when they
help.  Problems are collected, never raised per file: a bad file becomes a
:class:`~kg.records.Problem` and every other file still loads.

>>> import kg
>>> corpus = kg.load("seeds")
>>> corpus
Corpus(1 articles from 1 files, 0 problems)
>>> corpus.articles[0].provider
Provider(domain='caixinglobal.com', name='Caixin Global')
"""

from __future__ import annotations

import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from itertools import repeat
from pathlib import Path
from typing import Any

import orjson

from ._perf import gc_paused, process_map
from .cache import RecordCache, file_stat
from .fields import article_row
from .frontmatter import FrontMatterError, read_front_matter
from .normalize import clean_label, host_of, markdown_lead, registrable_domain
from .records import (
    Article,
    Corpus,
    FileResult,
    Problem,
    Provider,
    ResultRow,
    SourceFile,
    encode_row,
    records_from_row,
    result_from_row,
)

__all__ = ["NoArticleFiles", "default_provider", "load_corpus", "load_scanned", "read_scanned",
           "count_unknown_keys", "read_article",
           "parse_article", "find_files", "scan_files", "same_records", "normalize_extensions",
           "ARTICLE_SUFFIXES", "MAX_FILE_BYTES"]

#: The file name endings read by default: Markdown (``.mdx`` too: MDX is
#: Markdown with JSX, and its front matter is the same) and plain text.
ARTICLE_SUFFIXES = (".md", ".markdown", ".mdx", ".txt")
#: Files larger than this are refused unread (far beyond any real article file).
MAX_FILE_BYTES = 8 * 1024 * 1024


def default_provider(name: str | None, domain: str | None) -> Provider | None:
    """The publisher of a folder from one site, from a name and a domain
    (``kg build --provider NAME --provider-domain D``); ``None`` if neither
    is given.  Raises :class:`ValueError` for a domain that is not one.

    >>> default_provider("BBC News", "https://www.bbc.co.uk/news")
    Provider(domain='bbc.co.uk', name='BBC News')
    """
    if name is None and domain is None:
        return None
    if not domain:
        raise ValueError("--provider needs --provider-domain (the publisher's web domain)")
    found = registrable_domain(host_of(domain) if "://" in domain else domain)
    if found is None:
        raise ValueError(f"--provider-domain {domain!r} is not a registrable domain name")
    return Provider(found, clean_label(name) if name else None)


# -- files --------------------------------------------------------------------
class NoArticleFiles(ValueError):
    """No file to read under the paths given (``kg build`` of an empty or
    wrong folder): names the paths, the extensions looked for and how many
    other files were seen.

    >>> print(NoArticleFiles(["empty"], (".md",), 2))
    no article files in empty: looked for names ending in .md, saw 2 other files
    """

    def __init__(self, paths: Sequence[str | os.PathLike], extensions: Sequence[str],
                 seen: int) -> None:
        self.paths, self.extensions, self.seen = [os.fspath(p) for p in paths], extensions, seen
        super().__init__(
            f"no article files in {', '.join(self.paths)}: looked for names ending in "
            f"{', '.join(extensions)}, saw {seen:,} other file{'s' * (seen != 1)}")


def normalize_extensions(extensions: Iterable[str] | None) -> tuple[str, ...]:
    """File name endings as :func:`find_files` takes them: lower case, with
    their dot, sorted, without duplicates (``None``: :data:`ARTICLE_SUFFIXES`).

    >>> normalize_extensions(["MD", ".mdx", "md"])
    ('.md', '.mdx')
    """
    if extensions is None:
        return ARTICLE_SUFFIXES
    out = sorted({"." + e.strip().lower().lstrip(".") for e in extensions if e.strip(". ")})
    if not out:
        raise ValueError("no file name extensions given")
    return tuple(out)


def find_files(paths: Iterable[str | os.PathLike],
               extensions: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """Article files under the given files/folders, as (path, display name).

    The display name is the path relative to the folder given, prefixed with
    that folder's name (``real/2020-05-06-x.md``): stable across machines, it
    names the file in problems, in provenance and in the RDF graph names.
    Only names ending in one of ``extensions`` (default
    :data:`ARTICLE_SUFFIXES`, any case) are taken; hidden files and folders
    are skipped.  Sorted by name, without duplicates; a path that does not
    exist raises :class:`FileNotFoundError`.  :func:`scan_files` also counts
    what was skipped.

    >>> find_files(["seeds"])
    [('seeds/000_e8d8b023fb041968.txt', 'seeds/000_e8d8b023fb041968.txt')]
    """
    return scan_files(paths, extensions)[0]


def scan_files(paths: Iterable[str | os.PathLike], extensions: Iterable[str] | None = None,
               ) -> tuple[list[tuple[str, str]], dict[str, int]]:
    """:func:`find_files`, and the files it skipped counted by reason:
    ``"hidden"`` (a hidden file, or a file in a hidden folder) or the
    extension that is not read (``".tsv"``; ``"(none)"`` for a name without
    one), sorted by reason.

    >>> scan_files(["seeds"], ["md"])
    ([], {'.txt': 1})
    """
    suffixes = normalize_extensions(extensions)
    found: dict[str, str] = {}
    skipped: Counter[str] = Counter()
    for p in paths:
        root = Path(p)
        if root.is_file():
            found.setdefault(root.name, str(root))
            continue
        if not root.is_dir():
            raise FileNotFoundError(f"no such file or folder: {root}")
        base = root.resolve().name
        join = os.path.join  # plain strings: pathlib objects cost much more per file
        for dirpath, dirnames, filenames in os.walk(root):
            hidden = [d for d in dirnames if d.startswith(".")]
            for d in hidden:
                skipped["hidden"] += sum(len(f) for _, _, f in os.walk(join(dirpath, d)))
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            rel_dir = os.path.relpath(dirpath, root)
            prefix = (f"{base}/" if rel_dir == "." else f"{base}/{rel_dir}/").replace(os.sep, "/")
            for name in filenames:
                if name.startswith("."):
                    skipped["hidden"] += 1
                elif not name.lower().endswith(suffixes):
                    skipped[os.path.splitext(name)[1].lower() or "(none)"] += 1
                else:
                    found.setdefault(prefix + name, join(dirpath, name))
    return [(found[name], name) for name in sorted(found)], dict(sorted(skipped.items()))


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
    """Parse, validate and normalise the bytes of one article file.

    >>> parse_article(b"---\\ntitle: A\\nwebUrl: https://example.org/a\\n---\\n", "a.md").article.url
    'https://example.org/a'
    """
    return result_from_row(name, _parse_row(data, name), {})


def same_records(changed: Sequence[tuple[str, str, str]], cache: RecordCache, *,
                 max_bytes: int = MAX_FILE_BYTES) -> list[SourceFile] | None:
    """Whether changed files still give the records the cache holds for their
    last version: ``changed`` lists (path, name, that version's sha256).

    If every file does (an edit of the body text, of YAML formatting or
    comments), the new :class:`~kg.records.SourceFile` of each, in order, and
    their new entries are appended to the cache file (not saved: rewriting
    the whole cache is the cost this spares); else ``None`` and the cache is
    left alone.

    >>> import shutil, tempfile
    >>> folder = tempfile.mkdtemp() + "/seeds"
    >>> _ = shutil.copytree("seeds", folder)
    >>> cache = RecordCache(folder + "/../records.jsonl")
    >>> before = load_corpus(folder, cache=cache).files[0]; cache.save()
    >>> path, name = find_files([folder])[0]
    >>> with open(path, "a") as f:
    ...     _ = f.write("<!-- a comment: its lead is all the records hold of a body -->\\n")
    >>> after = same_records([(path, name, before.sha256)], RecordCache(cache.path))
    >>> after[0].path == before.path, after[0].sha256 != before.sha256
    (True, True)
    """
    fresh = []
    for path, name, sha256 in changed:
        old = cache.row(name, sha256)
        stat, row = _read_row(path, name, max_bytes)
        payload = encode_row(row)
        if old is None or payload is None:
            return None
        new = orjson.loads(payload)  # compared as the cache keeps rows
        if new[0][2] != old[0][2] or new[1:] != old[1:]:  # (sha256, size, ok), records
            return None
        fresh.append((name, stat, row[0], payload))
    files = []
    for name, stat, (sha256, size, ok), payload in fresh:
        files.append(SourceFile(name, sha256, size, ok))
        cache.append(name, sha256, stat, payload)
    return files


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


def _parse_row(data: bytes, name: str) -> ResultRow:
    """Parse, validate and normalise the bytes of one file into a result row."""
    problems: list[tuple] = []
    digest, size = hashlib.sha256(data).hexdigest(), len(data)
    try:
        meta, fm_text, body = read_front_matter(data, problems)
    except FrontMatterError as exc:
        return _refused(digest, size, exc.reason, exc.message, problems, exc.line)
    article = article_row(meta, fm_text, problems, name)
    if article is not None:  # and the lead of its body, for stories and matching
        article = (*article, markdown_lead(body))
    return (digest, size, article is not None), article, problems


# -- corpus -------------------------------------------------------------------
#: Below this many files, starting worker processes costs more than it saves.
PARALLEL_MIN_FILES = 2_000
_CHUNK = 500


def _read_chunk(chunk: list[tuple[str, str]],
                max_bytes: int) -> list[tuple[tuple | None, ResultRow]]:
    """(stat, row) of each file of a chunk.

    Runs with the cyclic collector paused by :func:`load_corpus`: in this
    process, or in workers forked while it was paused."""
    return [_read_row(path, name, max_bytes) for path, name in chunk]


def load_corpus(*paths: str | os.PathLike, max_bytes: int = MAX_FILE_BYTES,
                workers: int | None = None, cache: RecordCache | None = None,
                progress: Callable[[int, int], None] | None = None,
                extensions: Iterable[str] | None = None,
                provider: Provider | None = None) -> Corpus:
    """Read every article file (``.md``, ``.markdown``, ``.mdx``, ``.txt``, or
    the names ending in ``extensions``) under the paths.

    The corpus counts the files skipped unread by reason (``skipped``, see
    :func:`scan_files`).  A front-matter key that is neither read nor on the
    ignore list (:data:`kg.fields.KNOWN_KEYS`) is one ``unknown-key``
    problem, at the first file that has it, saying in how many files it
    was found.  ``provider`` is the publisher of the articles that name none
    (a folder from one site).

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
    return load_scanned(*scan_files(paths, extensions), max_bytes=max_bytes, workers=workers,
                        cache=cache, progress=progress, provider=provider)


def load_scanned(files: list[tuple[str, str]], skipped: dict[str, int], *,
                 max_bytes: int = MAX_FILE_BYTES, workers: int | None = None,
                 cache: RecordCache | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 provider: Provider | None = None) -> Corpus:
    """:func:`load_corpus` of the files :func:`scan_files` found (and skipped),
    for a caller that scanned them already.

    >>> load_scanned(*scan_files(["seeds"])).files[0].ok
    True
    """
    corpus = Corpus(skipped=skipped)
    add_file, add_article, add_problems = (corpus.files.append, corpus.articles.append,
                                           corpus.problems.extend)
    with gc_paused():
        for file, article, problems in read_scanned(files, max_bytes=max_bytes, workers=workers,
                                                    cache=cache, progress=progress,
                                                    provider=provider):
            add_file(file)
            if article is not None:
                add_article(article)
            if problems:
                add_problems(problems)
        corpus.unknown_keys = count_unknown_keys(corpus.problems)
    return corpus


def read_scanned(files: list[tuple[str, str]], *, max_bytes: int = MAX_FILE_BYTES,
                 workers: int | None = None, cache: RecordCache | None = None,
                 progress: Callable[[int, int], None] | None = None,
                 provider: Provider | None = None) -> list[tuple[SourceFile, Article | None,
                                                                 Sequence[Problem]]]:
    """The records (file, article or ``None``, problems) of each of ``files``
    (as :func:`scan_files` gives them), in their order: from ``cache`` when
    a file is unchanged, else parsed (in worker processes when there are
    many).  Each ``unknown-key`` problem is its file's own (see
    :func:`count_unknown_keys`).  ``provider``: as in :func:`load_corpus`.

    >>> [a.title[:22] for _, a, _ in read_scanned(scan_files(["seeds"])[0])]
    ['Carmaker Xpeng Deletes']
    """
    total = len(files)
    results: list[Any] = [None] * total  # (file, article, problems) in file order
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
        if provider is not None:
            for _, article, _ in results:
                if article is not None and article.provider is None:
                    article.provider = provider
    report(total, total)
    return results


def count_unknown_keys(problems: list[Problem]) -> dict[str, tuple[int, str]]:
    """One ``unknown-key`` problem per key, at its first file, with the number
    of files (in place); answers {key: (files, first file)}."""
    first: dict[str | None, int] = {}
    counts: Counter[str | None] = Counter()
    keep: list[Problem] = []
    for p in problems:
        if p.reason != "unknown-key":
            keep.append(p)
            continue
        counts[p.field] += 1
        if p.field not in first:
            first[p.field] = len(keep)
            keep.append(p)
    if not counts:
        return {}
    for key, i in first.items():
        p = keep[i]
        n = counts[key]
        keep[i] = Problem(p.path, p.reason, f"{p.message} (in {n:,} file{'s' * (n != 1)}; "
                          "this is the first)", p.severity, p.field, p.line)
    problems[:] = keep
    return {str(k): (counts[k], keep[i].path) for k, i in sorted(first.items(), key=str)}


def _parse_files(files: list[tuple[str, str]], todo: range | list[int], results: list,
                 shared: dict, max_bytes: int, workers: int | None,
                 cache: RecordCache | None, report: Callable[[int, int], None]) -> None:
    """Parse the files at the ``todo`` indexes into ``results`` (and the cache)."""
    chunks = [[files[i] for i in todo[k:k + _CHUNK]] for k in range(0, len(todo), _CHUNK)]
    if workers is None:
        workers = (os.cpu_count() or 1) if len(todo) >= PARALLEL_MIN_FILES else 1
    if len(chunks) <= 1:
        workers = 1
    # Rows travel pickled, and the record cache's lines are made here: decoded
    # from its JSON, the records would be made of many more objects, and the
    # lists that JSON gives for tuples, freed among them, would leave holes
    # that keep the heap large once the records are let go of.
    parsed = process_map(_read_chunk, chunks, repeat(max_bytes), processes=workers)
    try:
        done = len(files) - len(todo)
        for k, rows in zip(range(0, len(todo), _CHUNK), parsed):
            for i, (stat, row) in zip(todo[k:k + _CHUNK], rows):
                name = files[i][1]
                results[i] = records_from_row(name, row, shared)  # in file order
                if cache is not None:
                    cache.store(name, row[0][0], stat, encode_row(row))
            done += len(rows)
            report(done, len(files))
    finally:
        parsed.close()  # stops the workers if reading ended early
