"""What story detection reads of each article's own text, kept between builds.

An article's terms (the Snowball stems of its headline and of its excerpt
and lead, each with its anchor words, :mod:`kg.anchors`), its headline marks
and its URL's slug come from its own fields alone: :func:`article_texts`
makes them in bulk, and takes those of an earlier run (``known``,
:class:`ArticleTexts`) for every article whose title, excerpt, lead and URL
are as they were, by a digest of the four.  So a build after an edit
tokenises, stems and anchors the articles that changed, not the corpus
(:mod:`kg.story_state` keeps the texts beside its stories).

The result does not depend on ``known``: a term's number is its place among
the sorted stems of the articles given, whatever an earlier run held.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> ids = sorted(n for n, k in g.nodes(data="kind") if k == "article")
>>> texts = article_texts(g, ids, keyed=True)
>>> g.nodes[ids[0]]["title"] += " again"
>>> again = article_texts(g, ids, known=texts)
>>> again.fresh, again == article_texts(g, ids, keyed=True)
(1, True)
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain

import networkx as nx
import numpy as np

from ._perf import Forked, can_fork, gc_paused, room_to_fork
from .anchors import AnchorMemo, with_anchors
from .blocking import ranges
from .text import stem_words, strip_tail, text_terms

__all__ = ["ArticleTexts", "article_texts", "pack_strings", "unpack_strings"]


@dataclass(eq=False)
class ArticleTexts:
    """Per article (``ids``, sorted), what story scores read of its text.

    Article ``i``'s terms are ``entries[ptr[i]:ptr[i + 1]] >> 1``,
    increasing, numbers in ``words`` (sorted stems); the low bit is 0 when
    the term is in the headline (or its anchors), 1 when only in the excerpt
    or lead.  ``marks[i]`` is :func:`kg.anchors.marks_text` of its headline,
    ``slugs[i]`` its URL's slug ("" when none).  ``keys``: a digest of the
    fields these come from, per article (:func:`article_texts` with
    ``keyed``), else ``None``.  ``fresh``: how many articles were read anew.
    """

    ids: list[str]
    words: list[str]
    ptr: np.ndarray
    entries: np.ndarray
    marks: list[str]
    slugs: list[str]
    keys: np.ndarray | None = None
    fresh: int = field(default=0)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ArticleTexts):
            return NotImplemented
        return (self.ids == other.ids and self.words == other.words
                and np.array_equal(self.ptr, other.ptr) and np.array_equal(self.entries, other.entries)
                and self.marks == other.marks and self.slugs == other.slugs)

    def arrays(self) -> dict[str, np.ndarray]:
        """Arrays to save (:meth:`from_arrays` reads them back; the ids are
        saved by whoever saves these)."""
        assert self.keys is not None, "texts made without keys cannot be reused"
        out = {"text_keys": self.keys, "text_ptr": self.ptr, "text_entries": self.entries.astype(np.int32)}
        for name in ("words", "marks", "slugs"):
            out[f"text_{name}_lens"], out[f"text_{name}"] = pack_strings(getattr(self, name))
        return out

    @classmethod
    def from_arrays(cls, ids: list[str], arrays: Mapping[str, np.ndarray]) -> ArticleTexts:
        words, marks, slugs = (unpack_strings(arrays[f"text_{name}_lens"], arrays[f"text_{name}"])
                               for name in ("words", "marks", "slugs"))
        ptr = arrays["text_ptr"]
        if not (len(ptr) == len(ids) + 1 == len(marks) + 1 == len(slugs) + 1
                and arrays["text_keys"].shape == (len(ids), 2)):
            raise ValueError("the article texts do not match their ids")
        return cls(ids, words, ptr, arrays["text_entries"].astype(np.int64), marks, slugs,
                   arrays["text_keys"])


def article_texts(graph: nx.MultiDiGraph, ids: list[str], known: ArticleTexts | None = None,
                  keyed: bool = False) -> ArticleTexts:
    """The :class:`ArticleTexts` of articles ``ids`` (sorted) of ``graph``,
    taking from ``known`` those of every article whose fields are as they
    were; with ``keyed`` (or ``known``), their digests too, for a later run."""
    attrs = graph._node  # networkx's node dict: its NodeView adds a call per lookup
    data = list(map(attrs.__getitem__, ids))
    n = len(ids)
    keys = _field_keys(data) if keyed or known is not None else None
    reuse = np.full(n, -1, np.int64)
    if known is not None and known.keys is not None and keys is not None:
        at = dict(zip(known.ids, range(len(known.ids))))
        reuse = np.fromiter((at.get(a, -1) for a in ids), np.int64, n)
        ok = reuse >= 0
        ok[ok] = (known.keys[reuse[ok]] == keys[ok]).all(axis=1)
        reuse[~ok] = -1
    else:
        known = None
    fresh = np.flatnonzero(reuse < 0)
    new_words, new_ptr, new_entries, new_marks = _read_texts([data[i] for i in fresh.tolist()])
    old = np.flatnonzero(reuse >= 0)
    sizes = np.zeros(n, np.int64)
    sizes[fresh] = np.diff(new_ptr)
    old_pos = np.zeros(0, np.int64)
    if known is not None:
        sizes[old] = np.diff(known.ptr)[reuse[old]]
        old_pos = ranges(known.ptr[reuse[old]], sizes[old])[1]
        used = np.zeros(len(known.words), bool)
        used[known.entries[old_pos] >> 1] = True
        kept_words = [known.words[t] for t in np.flatnonzero(used).tolist()]
        words = sorted(set(kept_words).union(new_words))
    else:
        words = new_words
    # Term numbers move as words come and go, in order: an article's entries stay increasing.
    number = dict(zip(words, range(len(words))))
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(sizes, out=ptr[1:])
    entries = np.empty(int(ptr[-1]), np.int64)
    entries[ranges(ptr[fresh], sizes[fresh])[1]] = _renumber(new_entries, new_words, number)
    marks: list[str] = [""] * n
    slugs: list[str] = [""] * n
    for i, m, d in zip(fresh.tolist(), new_marks, map(data.__getitem__, fresh.tolist())):
        marks[i], slugs[i] = m, _slug(d.get("url", "")) or ""
    if known is not None:
        entries[ranges(ptr[old], sizes[old])[1]] = _renumber(known.entries[old_pos], known.words, number)
        for i, k in zip(old.tolist(), reuse[old].tolist()):
            marks[i], slugs[i] = known.marks[k], known.slugs[k]
    return ArticleTexts(ids, words, ptr, entries, marks, slugs, keys, len(fresh))


def _renumber(entries: np.ndarray, words: list[str], number: dict[str, int]) -> np.ndarray:
    """``entries`` whose terms are places in ``words``, as places in ``number``."""
    if not len(entries):
        return entries
    to = np.fromiter(map(number.get, words, [-1] * len(words)), np.int64, len(words))
    return (to[entries >> 1] << 1) | (entries & 1)


def pack_strings(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as arrays, their lengths and their UTF-8 (any text: lone
    surrogates too), for :func:`unpack_strings`.

    >>> unpack_strings(*pack_strings(["a", "", "b\\0c"]))
    ['a', '', 'b\\x00c']
    """
    return (np.fromiter(map(len, strings), np.int64, len(strings)),
            np.frombuffer("".join(strings).encode("utf-8", "surrogatepass"), np.uint8))


def unpack_strings(lens: np.ndarray, text: np.ndarray) -> list[str]:
    """The strings of :func:`pack_strings`."""
    joined = text.tobytes().decode("utf-8", "surrogatepass")
    ends = np.cumsum(lens).tolist()
    if (ends[-1] if ends else 0) != len(joined):
        raise ValueError("the article texts' strings do not match their lengths")
    return [joined[a:b] for a, b in zip([0] + ends[:-1], ends)]


def _field_keys(data: list[dict]) -> np.ndarray:
    """A 128-bit digest per article of what :func:`_read_texts` and the slug read."""
    # (marshal: an unambiguous encoding of the four, lone surrogates too, in C)
    raw = b"".join([hashlib.blake2b(marshal.dumps((d.get("title"), d.get("excerpt"), d.get("lead"),
                                                   d.get("url"))), digest_size=16).digest()
                    for d in data])
    return np.frombuffer(raw, np.uint64).reshape(-1, 2).copy() if data else np.zeros((0, 2), np.uint64)


#: At least this many articles are read in two processes (the other half
#: in a forked copy of this one): below it, forking costs more than it saves.
SPLIT_MIN = 20_000

Read = tuple[list[str], np.ndarray, np.ndarray, list[str]]


def _read_texts(data: list[dict]) -> Read:
    """The sorted stems of these articles, their entries (as
    :class:`ArticleTexts`, numbered in those stems) and headline marks.

    Each article's are made from its fields alone, so two halves read apart
    and joined are the whole's: the second half is read by a forked copy of
    this process while this one reads the first (anchoring and stemming hold
    the GIL, so threads would take turns), when the system has the memory
    for the copy (:func:`kg._perf.room_to_fork`: at a million articles on a
    24 GB machine, it has not)."""
    if len(data) < SPLIT_MIN or not can_fork() or not room_to_fork():
        return _read_part(data)
    half = len(data) // 2
    with Forked(_read_part, data[half:]) as other:
        first = _read_part(data[:half])
        second: Read = other.result()  # type: ignore[assignment]
    return _joined(first, second)


def _joined(first: Read, second: Read) -> Read:
    """The :func:`_read_texts` of two lists of articles, one after the other.

    >>> a = (["fine", "ico"], np.array([0, 2]), np.array([0, 3]), ["m1"])
    >>> b = (["clearview", "fine"], np.array([0, 1, 2]), np.array([2, 1]), ["m2", "m3"])
    >>> words, ptr, entries, marks = _joined(a, b)
    >>> words, ptr.tolist(), entries.tolist(), marks
    (['clearview', 'fine', 'ico'], [0, 2, 3, 4], [2, 5, 2, 1], ['m1', 'm2', 'm3'])
    """
    words = sorted(set(first[0]).union(second[0]))
    number = dict(zip(words, range(len(words))))
    ptr = np.concatenate([first[1], first[1][-1] + second[1][1:]])
    entries = np.concatenate([_renumber(first[2], first[0], number),
                              _renumber(second[2], second[0], number)])
    return words, ptr, entries, first[3] + second[3]


@gc_paused()  # (in a forked child too: a collection there would copy the parent's heap)
def _read_part(data: list[dict]) -> Read:
    n = len(data)
    memo = AnchorMemo()  # same-story copies repeat their texts
    heads = [strip_tail(d.get("title", "")) for d in data]
    # The excerpt, and the lead of the body (files of blogs and sites often
    # have no excerpt: their lead is what an excerpt would say).
    titles, bodies = with_anchors(heads, [" ".join(filter(None, (d.get("excerpt"), d.get("lead"))))
                                          for d in data], memo)
    marks = [memo.marks(h) for h in heads]
    # Each distinct text once: same-story copies repeat their texts.
    texts = list(dict.fromkeys(chain(titles, bodies)))
    number = dict(zip(texts, range(len(texts))))
    title_text = np.fromiter(map(number.__getitem__, titles), np.int64, n)
    body_text = np.fromiter(map(number.__getitem__, bodies), np.int64, n)
    del titles, bodies, number
    words, text_ptr, text_term = text_terms(texts)
    del texts
    # Words of one stem are one term ("fined", "fines"): numbered by stem.
    stems = sorted(set(stem_words(words)))
    stem_number = dict(zip(stems, range(len(stems))))
    text_term = np.array([stem_number[s] for s in stem_words(words)], np.int64)[text_term]
    nv = max(len(stems), 1)
    lens = np.diff(text_ptr)
    # (article, term, 0 for title / 1 for excerpt), deduplicated keeping
    # the title: a term in both counts once, with the title's weight.
    keys = []
    for flag, which in ((0, title_text), (1, body_text)):
        owner, pos = ranges(text_ptr[which], lens[which])
        keys.append((owner * nv + text_term[pos]) * 2 + flag)
    key = np.concatenate(keys)
    key.sort()
    code = key >> 1
    first = np.ones(len(key), bool)
    first[1:] = code[1:] != code[:-1]
    art, term = np.divmod(code[first], nv)
    ptr = np.zeros(n + 1, np.int64)
    np.cumsum(np.bincount(art, minlength=n), out=ptr[1:])
    return stems, ptr, term * 2 + (key[first] & 1), marks


def _slug(url: str) -> str | None:
    """The last segment of a URL's path when long enough to name one article."""
    path = url.split("?", 1)[0].split("#", 1)[0].rstrip("/")
    last = path.rsplit("/", 1)[-1]
    if last.isdigit() and len(last) >= 6:  # an article number: of its site only
        return path.split("/")[2] + "/" + last if path.count("/") >= 3 else None
    return last if len(last) >= 24 else None
