"""Records and their row codec: the contract between stages.

A :class:`Corpus` is what :func:`kg.load` returns: one :class:`Article`
per readable article file (in sorted path order), the :class:`SourceFile` of
every input file, and every :class:`Problem` found on the way.  Records hold
*normalised* values (canonical URLs, registrable domains, repaired text,
UTC datetimes); the raw input is never rewritten.

A file's result travels (from worker processes, and through the record cache)
as a compact *result row* of plain values, turned into records only once, in
the process that keeps them (see :data:`ResultRow`)::

    ((sha256, size, ok), article row or None, [(reason, message, severity, field, line), ...])

:func:`encode_row` writes a row as the cache stores it, :func:`records_from_row`
and :func:`article_from_row` make records of one.  The ingest stage writes
rows, the record cache keeps them: both stand on this module, neither on the
other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Literal

import orjson

__all__ = ["Problem", "Provider", "Image", "Article", "SourceFile", "Corpus", "FileResult",
           "ResultRow", "article_from_row", "records_from_row", "result_from_row", "encode_row"]

Severity = Literal["error", "warning"]


@dataclass(slots=True, frozen=True)
class Problem:
    """Something wrong with one input file.

    ``severity`` is ``"error"`` when the file could not be used at all and
    ``"warning"`` when the file was kept without the offending part.
    ``reason`` is a short stable code (``yaml-syntax``, ``wrong-type``, ...)
    that reports group by; ``message`` says what happened in words.
    """

    path: str
    reason: str
    message: str
    severity: Severity = "warning"
    field: str | None = None
    line: int | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(slots=True, frozen=True)
class Provider:
    """A publisher as one file names it: ``domain`` is the registrable domain."""

    domain: str
    name: str | None = None


@dataclass(slots=True, frozen=True)
class Image:
    url: str
    width: int | None = None
    height: int | None = None


@dataclass(slots=True)
class Article:
    """One article as described by a file, or by a ``related`` entry of a file.

    ``url`` is the canonical URL (``None`` for articles published without any
    URL, such as some videos); ``urls`` lists every canonical URL under which
    the article was seen (web, AMP, AMP cache, original), used to match
    ``related`` entries to files.  ``source`` is the file the record came
    from; ``related`` holds the entries of that file's ``related`` list.
    ``modified`` is the date of the last change (``lastmod``, ``updated``),
    ``authors`` the names of its people (``author``, ``authors``, ``byline``).
    ``item`` is ``None`` for news, else what else it is: ``"video"``,
    ``"course"``, ``"page"``, ``"code"`` (from its ``type`` or ``layout``) or
    ``"work"`` (no date and no provider to tell it is news).  ``draft`` is
    true for a draft (``draft: true``, or Jekyll's ``published: false``).
    ``lead`` is the start of the file's body as plain text (at most
    :data:`kg.normalize.LEAD_CHARS` characters), when it has one.
    """

    source: str
    title: str
    url: str | None = None
    urls: tuple[str, ...] = ()
    excerpt: str | None = None
    published: datetime | None = None
    type: str | None = None
    category: str | None = None
    quality: int | None = None
    heat: int | None = None
    locale: str | None = None
    provider: Provider | None = None
    topics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    images: tuple[Image, ...] = ()
    related: tuple[Article, ...] = ()
    modified: datetime | None = None
    authors: tuple[str, ...] = ()
    item: str | None = None
    draft: bool = False
    lead: str | None = None


@dataclass(slots=True, frozen=True)
class SourceFile:
    """One input file: its path relative to the input root and a content hash."""

    path: str
    sha256: str
    size: int
    ok: bool


@dataclass(slots=True)
class Corpus:
    """Everything read from a set of input folders.

    ``skipped`` counts the files left unread, by reason: ``"hidden"`` or the
    extension not read (``".tsv"``).  ``unknown_keys`` counts the files of
    each front-matter key that is neither read nor deliberately ignored, with
    the first file that has it: ``{key: (files, path)}``.
    """

    articles: list[Article] = field(default_factory=list)
    files: list[SourceFile] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    skipped: dict[str, int] = field(default_factory=dict)
    unknown_keys: dict[str, tuple[int, str]] = field(default_factory=dict)

    def __repr__(self) -> str:
        return (f"Corpus({len(self.articles)} articles from {len(self.files)} files, "
                f"{len(self.problems)} problems)")


@dataclass(slots=True)
class FileResult:
    """What reading one file gave: the article (or ``None``), the file, problems."""

    article: Article | None
    file: SourceFile
    problems: list[Problem]


#: A file's result as a compact row of plain values:
#: ``((sha256, size, ok), article row or None, [(reason, message, severity,
#: field, line), ...])``.  An article row holds the :class:`Article`'s fields
#: after ``source``, in order (see :func:`article_from_row`).  The file's name,
#: which every record of the file repeats, is not in the row.  Lists may stand
#: for tuples (as JSON gives them back).
ResultRow = tuple


def encode_row(row: ResultRow) -> bytes | None:
    """A result row as the record cache stores it (JSON), or ``None`` if it
    holds what JSON cannot.

    >>> encode_row((("ab12", 3, False), None, [("empty", "empty file", "error", None, None)]))
    b'[["ab12",3,false],null,[["empty","empty file","error",null,null]]]'
    >>> encode_row((("ab12", 3, True), None, [("x", 2**70)])) is None
    True
    """
    try:
        return orjson.dumps(row)
    except TypeError:  # e.g. an integer beyond 64 bits: parsed again next time
        return None


def records_from_row(name: str, row: ResultRow,
                     shared: dict) -> tuple[SourceFile, Article | None, Sequence[Problem]]:
    """The records of the file ``name``'s result row: (file, article or None,
    problems).  ``shared``: see :func:`article_from_row`.

    >>> file, article, problems = records_from_row(
    ...     "in/x.md", [["ab12", 0, False], None, [["empty", "empty file", "error", None, None]]], {})
    >>> file
    SourceFile(path='in/x.md', sha256='ab12', size=0, ok=False)
    >>> article, problems[0].reason, problems[0].path
    (None, 'empty', 'in/x.md')
    """
    (sha256, size, ok), article, problems = row
    return (SourceFile(name, sha256, size, ok),
            None if article is None else article_from_row(name, article, shared),
            [Problem(name, *p) for p in problems] if problems else ())


def result_from_row(name: str, row: ResultRow, shared: dict) -> FileResult:
    """The :class:`FileResult` of a result row (see :func:`records_from_row`).

    >>> result_from_row("in/x.md", (("ab12", 0, False), None, []), {}).file.ok
    False
    """
    file, article, problems = records_from_row(name, row, shared)
    return FileResult(article, file, list(problems))


def article_from_row(source: str, row: Sequence, shared: dict) -> Article:
    """The :class:`Article` of a compact row (how parsed files travel between
    processes and sit in the record cache).

    The row holds the article's fields after ``source``, in order (a
    ``related`` entry's row stops at ``related``), with the
    provider as ``(domain, name)``, images as ``(url, width, height)``, related
    articles as rows, and the date as a datetime or its ISO text; lists may
    stand for tuples (as JSON gives them).  ``shared`` maps those provider and
    image tuples to the records already made, so equal ones are one object;
    so too the values that articles repeat (type, category, locale, item,
    topics, tags, authors), which the graph keeps for every article.

    >>> a = article_from_row("x.md", ("T", None, [], None, "2021-12-15T12:20:00+00:00", None,
    ...     None, None, None, None, ["example.org", "Example"], ["AI"], [], [], [], None, [], None,
    ...     False), {})
    >>> a.published.isoformat(), a.provider, a.topics
    ('2021-12-15T12:20:00+00:00', Provider(domain='example.org', name='Example'), ('AI',))
    """
    if len(row) == 15:  # a related entry's row
        (title, url, urls, excerpt, published, type_, category, quality, heat, locale,
         provider, topics, tags, images, related) = row
        modified = authors = item = lead = None
        draft = False
    else:
        (title, url, urls, excerpt, published, type_, category, quality, heat, locale,
         provider, topics, tags, images, related, modified, authors, item, draft) = row[:19]
        lead = row[19] if len(row) > 19 else None
    if published.__class__ is str:
        published = _fromisoformat(published)
    if modified.__class__ is str:
        modified = _fromisoformat(modified)
    if provider is not None:
        key = tuple(provider)  # (domain, name)
        provider = shared.get(key)
        if provider is None:
            provider = shared[key] = Provider(*key)
    if images:
        found = []
        for image in images:
            key = tuple(image)  # (url, width, height)
            record = shared.get(key)
            if record is None:
                record = shared[key] = Image(*key)
            found.append(record)
        images = tuple(found)
    one = shared.setdefault
    if urls.__class__ is list:  # decoded from JSON: the canonical URL, seen again, is one object
        urls = [url if u == url else u for u in urls]
    return Article(source, title, url, tuple(urls), excerpt, published,
                   type_ and one(type_, type_), category and one(category, category),
                   quality, heat, locale and one(locale, locale), provider,
                   tuple([one(t, t) for t in topics]) if topics else (),
                   tuple([one(t, t) for t in tags]) if tags else (), images or (),
                   tuple([article_from_row(source, r, shared) for r in related])
                   if related else (), modified,
                   tuple([one(a, a) for a in authors]) if authors else (),
                   item and one(item, item), bool(draft), lead)


_fromisoformat = datetime.fromisoformat
