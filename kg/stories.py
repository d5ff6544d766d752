"""Same-story groups and topic clusters of articles.

Two computed structures sit on top of the knowledge graph:

* **Stories** (:func:`find_stories`, :func:`add_stories`): articles that
  report the same event, usually from different providers.  Two articles are
  scored by the cosine of their IDF-weighted title + excerpt terms (title
  terms count double), plus a bonus when one lists the other as ``related``;
  pairs are only compared when published within ``window`` of each other.
  Pairs at or above ``threshold`` are merged greedily, strongest first, and a
  merge is refused when the group would span more than ``window`` (so a daily
  column with the same headline does not chain into one story).  Candidate
  pairs come from a term index (each article is looked up by its rarest
  terms), never from all pairs; numpy screens them with approximate scores,
  and only the pairs that may reach the threshold are scored exactly, so
  100,000 articles take about 3 seconds.
* **Topic clusters** (:func:`topic_clusters`, :func:`cluster_labels`):
  Louvain communities (igraph's, seeded, so deterministic) of the article
  graph made of ``related`` links, shared stories, text similarity and
  shared topics, where a topic's weight falls with its frequency and hub
  topics (carried by more than ``hub_share`` of the articles) weigh nothing.

>>> import kg
>>> g = kg.build_graph(kg.load_corpus("seeds"))
>>> ids = add_stories(g)
>>> [g.nodes[s]["label"] for s in ids]
['Worcester bans city use of facial recognition technology']
>>> g.nodes[ids[0]]["size"], g.nodes[ids[0]]["method"]
(2, 'tfidf-cosine+related')
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain, repeat

import networkx as nx
import numpy as np

from ._perf import gc_paused

__all__ = [
    "Story", "find_stories", "add_stories", "story_id", "fold", "terms",
    "topic_clusters", "cluster_labels", "hub_topics",
    "DEFAULT_THRESHOLD", "DEFAULT_WINDOW", "METHOD",
]

#: Minimum pair score for two articles to be one story (chosen on the
#: labelled pairs of ``tests/test_stories.py``).
DEFAULT_THRESHOLD = 0.6
#: Longest time between the first and the last article of one story.
DEFAULT_WINDOW = timedelta(days=4)
METHOD = "tfidf-cosine+related"
#: Added to the text score of a pair when one article lists the other.
RELATED_BONUS = 0.15
_TITLE_WEIGHT = 2.0
IDF_POWER = 1.0
_KEYS = 4           # rarest terms of an article used to look up candidates
_MAX_POSTINGS = 400  # a key shared by more articles in the window is no key
_BLOCK = 1_000_000   # slice entries expanded at once by _Docs.candidates (memory)

_STOP = frozenset("""
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down
during each few for from further had has have having he her here hers him his
how i if in into is it its itself just me more most my no nor not now of off
on once only or other our out over own same she should so some such than that
the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you
your says said say new news may might one two its it's s t us via amid latest
""".split())
# Combining marks (accents) left by NFKD decomposition.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]{2,}")
# "Headline - The New York Times": a short provider tail after a dash or bar.
_TAIL = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\u2013\u2014]{2,40}$")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text, for matching.

    >>> fold("Reconnaissance FACIALE à Montréal")
    'reconnaissance faciale a montreal'
    """
    if text.isascii():
        return text.lower()  # the common case, 50x faster than decomposing
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def terms(text: str) -> list[str]:
    """The content words of a text: folded, stop words and 1-letter words dropped.

    >>> terms("Clearview AI faces £17m fine in the UK")
    ['clearview', 'ai', 'faces', '17m', 'fine', 'uk']
    """
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP]


# Bulk tokenising (_text_terms).  The texts are folded and joined with
# _MARK, a word of its own that no normalisation, case mapping or tokenising
# touches; every other character that is not a word character becomes a
# space.  Words are then found and numbered with numpy rather than made into
# millions of Python strings: a word of up to 8 ASCII characters is numbered
# by its bytes read as one little-endian integer (below _LONG: its last byte
# is at most "z"), and the few longer or non-ASCII words from _LONG up.
_MARK = "\x00"
_LONG = 0x7B << 56
_MASKS = np.array([(1 << (8 * k)) - 1 for k in range(9)], np.uint64)
# For ASCII text, ``[^\W_]`` is ``[A-Za-z0-9]``: this table lower-cases
# letters, keeps digits and _MARK and blanks everything else.
_ASCII_WORDS = bytes(c + 32 if 65 <= c <= 90 else c if 97 <= c <= 122 or 48 <= c <= 57 or c == 0
                     else 32 for c in range(256))
_WORD_CHAR = re.compile(r"[^\W_]")


def _blanked(texts: list[str], ascii: bool) -> tuple[str, np.ndarray]:
    """The texts folded, joined with _MARK, other non-word characters blanked.

    Returns that text and its characters as bytes (1 for a non-ASCII one).
    """
    sep = f" {_MARK} "
    joined = sep.join(texts) + sep
    if joined.count(_MARK) != len(texts):  # a text holds _MARK: a non-word character too
        joined = sep.join([t.replace(_MARK, " ") for t in texts]) + sep
    if ascii:
        data = joined.encode("ascii").translate(_ASCII_WORDS)
        return data.decode("ascii"), np.frombuffer(data, np.uint8)
    # NFKD and casefold map character by character, and _MARK is a starter
    # without decomposition, so folding the joined texts folds each text.
    folded = _COMBINING.sub("", unicodedata.normalize("NFKD", joined)).casefold()
    # Blanked through a code point table: 4x faster than a regex here.
    blank = [ord(c) for c in set(folded) if c != _MARK and not _WORD_CHAR.match(c)]
    codes = np.frombuffer(folded.encode("utf-32-le", "surrogatepass"), np.uint32)
    table = np.arange(int(codes.max()) + 1, dtype=np.uint32)
    table[blank] = ord(" ")
    codes = table[codes]
    return (codes.tobytes().decode("utf-32-le", "surrogatepass"),
            np.where(codes < 128, codes, 1).astype(np.uint8))


def _numbered_words(text: str, chars: np.ndarray,
                    long_words: dict[str, int]) -> tuple[np.ndarray, np.ndarray]:
    """The words of a :func:`_blanked` text: (text number, word number) of each.

    Words of more than 8 characters or with a non-ASCII one are numbered
    in ``long_words``.
    """
    inside = chars != ord(" ")
    edge = np.concatenate(([False], inside, [False]))
    edge = np.flatnonzero(edge[1:] != edge[:-1])
    starts, ends = edge[0::2], edge[1::2]
    mark = chars[starts] == 0
    which = np.cumsum(mark) - mark  # the marks before each word
    keep = ~mark
    starts, ends, which = starts[keep], ends[keep], which[keep]
    size = ends - starts
    # Every 8 bytes from every offset, as integers.
    data = chars.tobytes() + bytes(8)
    words8 = np.ndarray((len(chars) + 1,), "<u8", data, strides=(1,))
    number = (words8[starts] & _MASKS[np.minimum(size, 8)]).view(np.int64)
    special = size > 8
    special[np.searchsorted(starts, np.flatnonzero(chars == 1), "right") - 1] = True
    others = [text[s:e] for s, e in zip(starts[special].tolist(), ends[special].tolist())]
    for w in others:
        if w not in long_words:
            long_words[w] = _LONG + len(long_words)
    number[special] = np.fromiter(map(long_words.__getitem__, others), np.int64, len(others))
    return which, number


def _word_of(numbers: np.ndarray, long_words: dict[str, int]) -> list[str]:
    """The words of word numbers (see :func:`_numbered_words`)."""
    # Trailing NUL bytes are dropped by numpy; long words' numbers are replaced below.
    out = [b.decode("latin-1") for b in numbers.astype("<u8").view("S8").tolist()]
    if long_words:
        word_of = {v: w for w, v in long_words.items()}
        for k in np.flatnonzero(numbers >= _LONG).tolist():
            out[k] = word_of[int(numbers[k])]
    return out


def _text_terms(texts: list[str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """The terms of each text (the set of its :func:`terms`), numbered in bulk.

    Returns the terms in text order, then the term numbers of text ``k``
    as ``terms[ptr[k]:ptr[k + 1]]``, increasing.
    """
    ascii = [t.isascii() for t in texts]
    long_words: dict[str, int] = {}
    found = [(np.zeros(0, np.int64), np.zeros(0, np.int64))]
    for flag in (True, False):
        ks = [k for k, a in enumerate(ascii) if a is flag]
        if ks:
            which, number = _numbered_words(*_blanked([texts[k] for k in ks], flag), long_words)
            found.append((np.array(ks, np.int64)[which], number))
    text = np.concatenate([t for t, _ in found])
    number = np.concatenate([w for _, w in found])
    vocab = _unique(number)
    seen = _word_of(vocab, long_words)
    words = sorted(w for w in seen if len(w) > 1 and w not in _STOP)
    rank = dict(zip(words, range(len(words))))
    term = np.array([rank.get(w, -1) for w in seen], np.int64)[np.searchsorted(vocab, number)]
    nv = max(len(words), 1)
    keep = term >= 0  # not a stop word or a 1-character word
    text, term = np.divmod(_unique(text[keep] * nv + term[keep]), nv)
    ptr = np.zeros(len(texts) + 1, np.int64)
    np.cumsum(np.bincount(text, minlength=len(texts)), out=ptr[1:])
    return words, ptr, term


def _strip_tail(title: str) -> str:
    if not ("-" in title or "|" in title or "\u2013" in title or "\u2014" in title):
        return title  # the common case: no dash or bar, no tail (skips the regex)
    stripped = _TAIL.sub("", title)
    return stripped if len(stripped) >= 20 else title


def story_id(members: Iterable[str]) -> str:
    """The id of a story: a hash of its sorted member article ids.

    >>> story_id(["article/b", "article/a"]) == story_id(["article/a", "article/b"])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()
    return "story/" + digest[:16]


@dataclass(frozen=True)
class Story:
    """A group of articles reporting the same event."""

    id: str
    members: tuple[str, ...]
    label: str
    score: float  # mean score of the links that joined the group


def _unique(a: np.ndarray) -> np.ndarray:
    """The distinct values of ``a``, sorted.

    (numpy 2.3+'s ``np.unique`` hashes integers: 30x slower than this here.)
    """
    a = np.sort(a)
    if len(a) > 1:
        a = a[np.concatenate(([True], a[1:] != a[:-1]))]
    return a


def _member(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    """Which values of ``a`` are in ``sorted_b``."""
    if not len(sorted_b):
        return np.zeros(len(a), bool)
    at = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[at] == a


def _ranges(starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges ``starts[k] .. starts[k] + lens[k]`` concatenated: (k, position) of each element."""
    owner = np.repeat(np.arange(len(lens)), lens)
    ends = np.cumsum(lens)
    pos = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - lens), lens)
    return owner, pos


class _Docs:
    """Article term vectors, IDF weights and publication times.

    Terms are numbered by rarity (document frequency, then the term), so an
    article's vector, a dict keyed by term number in increasing order, lists
    its rarest terms first, and sums over shared terms run in the same order
    whatever ``PYTHONHASHSEED`` is.

    The vectors are held as numpy arrays (article ``i``'s terms are
    ``terms[ptr[i]:ptr[i + 1]]``, increasing) with approximate unit weights
    to screen candidate pairs in bulk; the exact dict of one article, whose
    float sums decide every score, is made by :meth:`vector` on demand.
    """

    def __init__(self, graph: nx.MultiDiGraph, nodes: Iterable[str] | None = None):
        if nodes is None:  # (its node dict: NodeDataView makes a tuple per node)
            nodes = [n for n, d in graph._node.items() if d.get("kind") == "article"]
        ids = sorted(nodes)
        n = len(ids)
        attrs = graph._node  # networkx's node dict: its NodeView costs 2x here
        with gc_paused():  # many small strings and lists, none of them cyclic
            data = list(map(attrs.__getitem__, ids))
            titles = [_strip_tail(d.get("title", "")) for d in data]
            bodies = [d.get("excerpt", "") for d in data]
            times = [_timestamp(d.get("published")) for d in data]
            del data
            # Each distinct text once: same-story copies repeat their texts.
            texts = list(dict.fromkeys(chain(titles, bodies)))
            number = dict(zip(texts, range(len(texts))))
            title_text = np.fromiter(map(number.__getitem__, titles), np.int64, n)
            body_text = np.fromiter(map(number.__getitem__, bodies), np.int64, n)
            del titles, bodies, number
            words, text_ptr, text_terms = _text_terms(texts)
            del texts
        nv = len(words)
        lens = np.diff(text_ptr)
        # (article, term, 0 for title / 1 for excerpt), deduplicated keeping
        # the title: a term in both counts once, with the title's weight.
        keys = []
        for flag, which in ((0, title_text), (1, body_text)):
            owner, pos = _ranges(text_ptr[which], lens[which])
            keys.append((owner * nv + text_terms[pos]) * 2 + flag)
        key = np.concatenate(keys)
        key.sort()
        code = key >> 1
        first = np.ones(len(key), bool)
        first[1:] = code[1:] != code[:-1]
        is_title = (key[first] & 1) == 0
        code = code[first]
        art, term = np.divmod(code, max(nv, 1))
        df = np.bincount(term, minlength=nv)
        order = np.lexsort((np.arange(nv), df))  # rarest first, ties by term
        rank = np.empty(nv, np.int64)
        rank[order] = np.arange(nv)
        total = max(n, 1)
        idf = [(math.log((1 + total) / (1 + d)) + 1.0) ** IDF_POWER for d in df[order].tolist()]
        title_idf = [x * _TITLE_WEIGHT for x in idf]
        # Renumbered and sorted again, the title flag riding along in bit 0.
        key = ((art * nv + rank[term]) << 1) + ~is_title
        key.sort()
        is_title = (key & 1) == 0
        self.codes = key >> 1    # article * nv + term, increasing: for lookups
        self.art, self.terms = np.divmod(self.codes, max(nv, 1))
        # IDF weights before normalisation
        self.raw = np.where(is_title, np.array(title_idf, float)[self.terms],
                            np.array(idf, float)[self.terms])
        self.ptr = np.zeros(n + 1, np.int64)
        np.cumsum(np.bincount(self.art, minlength=n), out=self.ptr[1:])
        norm = np.sqrt(np.bincount(self.art, weights=self.raw * self.raw, minlength=n))
        norm[norm == 0] = 1.0
        self.approx = self.raw / norm[self.art]  # summed in another order than vector()'s
        self.nv = nv
        self.graph = graph
        self.ids = ids
        self.index = {a: i for i, a in enumerate(ids)}
        self.times = times
        self.time_array = np.array([np.nan if t is None else t for t in times], float)
        self._vectors: dict[int, dict[int, float]] = {}

    def vector(self, i: int) -> dict[int, float]:
        """Article ``i``'s unit vector, term number -> weight, in term order."""
        v = self._vectors.get(i)
        if v is None:
            lo, hi = self.ptr[i], self.ptr[i + 1]
            weights = self.raw[lo:hi].tolist()
            norm = math.sqrt(sum([x * x for x in weights])) or 1.0
            v = self._vectors[i] = dict(zip(self.terms[lo:hi].tolist(), [x / norm for x in weights]))
        return v

    def cosine(self, i: int, j: int) -> float:
        if j < i:
            i, j = j, i
        a, b = self.vector(i), self.vector(j)
        # In the lower index's term order: the same float sum every run.
        return sum([x * b[w] for w, x in a.items() if w in b])

    def related_pairs(self) -> np.ndarray:
        """Sorted codes ``i * len(ids) + j`` (``i < j``) of the related articles."""
        succ = self.graph._succ  # networkx's adjacency dict: its views cost 2x here
        left, right = [], []
        for i, nbrs in enumerate(map(succ.__getitem__, self.ids)):
            vs = [v for v, keys in nbrs.items() if "related" in keys]
            if vs:
                left.append((i, len(vs)))
                right.extend(vs)
        a = np.repeat(*np.array(left, np.int64).reshape(-1, 2).T)
        b = np.fromiter(map(self.index.get, right, repeat(-1)), np.int64, len(right))
        keep = (b >= 0) & (a != b)  # articles only, no self-loop
        a, b = a[keep], b[keep]
        return _unique(np.minimum(a, b) * len(self.ids) + np.maximum(a, b))

    def candidates(self, window: float) -> np.ndarray:
        """Sorted codes ``i * len(ids) + j`` (``i < j``) of pairs published
        within ``window`` seconds that share rare terms.

        Each article looks up its ``_KEYS`` rarest terms in a time-ordered
        term index and keeps the articles that hold at least two of them
        (or its only one); near-duplicates share most of their rare terms.
        """
        n = len(self.ids)
        t = self.time_array
        order = np.flatnonzero(~np.isnan(t))
        order = order[np.argsort(t[order], kind="stable")]  # by time, then index
        nt = len(order)
        if nt < 2:
            return np.zeros(0, np.int64)
        at = np.full(n, -1, np.int64)  # article -> place in time order
        at[order] = np.arange(nt)
        st = t[order]
        # Articles within the window of each place p: places lo[p] .. hi[p] - 1.
        lo = np.searchsorted(st, st - window, "left")
        hi = np.searchsorted(st, st + window, "right")
        nkeys = np.minimum(np.diff(self.ptr)[order], _KEYS)
        owner, pos = _ranges(self.ptr[order], nkeys)  # owner: a place in time order
        # Lookups by term, then time: both bounds below come in increasing
        # order, which makes searchsorted 10x faster (memory locality).
        key, owner = np.divmod(np.sort(self.terms[pos] * nt + owner), nt)
        looked_up = np.zeros(self.nv, bool)
        looked_up[key] = True
        # The term index: (term, place) of every timed article holding a key term.
        held = looked_up[self.terms] & (at[self.art] >= 0)
        posting = self.terms[held] * nt + at[self.art[held]]
        posting.sort()
        start = np.searchsorted(posting, key * nt + lo[owner])
        count = np.searchsorted(posting, key * nt + hi[owner]) - start
        # A slice holds the article itself; one of more than _MAX_POSTINGS is no key.
        ok = (count > 1) & (count <= _MAX_POSTINGS)
        slices = np.bincount(owner[ok], minlength=nt)
        single = (nkeys == 1) & (slices == 1)  # its only key: every article in the slice
        multi = (nkeys >= 2) & (slices >= 2)   # the articles in at least two slices
        ok &= (single | multi)[owner]
        # The slices, owner by owner, expanded a block of owners at a time:
        # they hold ~N**1.9 entries (the window fills up as the corpus grows,
        # ~260 million at 1,000,000 articles), their pairs far fewer.
        by_owner = np.argsort(owner[ok], kind="stable")
        owner, start, count = owner[ok][by_owner], start[ok][by_owner], count[ok][by_owner]
        per_owner = np.cumsum(np.bincount(owner, weights=count, minlength=nt))
        cuts = np.searchsorted(per_owner, np.arange(_BLOCK, per_owner[-1], _BLOCK), "right")
        rows = np.searchsorted(owner, np.concatenate(([0], cuts, [nt])))
        found = [np.zeros(0, np.int64)]
        for r0, r1 in zip(rows[:-1].tolist(), rows[1:].tolist()):
            if r0 == r1:
                continue
            which, at_pos = _ranges(start[r0:r1], count[r0:r1])
            p = owner[r0:r1][which]
            pair = order[p] * n + order[posting[at_pos] % nt]
            two = pair[multi[p]]
            two.sort()
            two = two[1:][two[1:] == two[:-1]]  # a pair is at most once per slice
            pair = np.concatenate([pair[single[p]], two])
            i, j = np.divmod(pair, n)
            keep = i != j
            i, j = i[keep], j[keep]
            found.append(_unique(np.minimum(i, j) * n + np.maximum(i, j)))
        return _unique(np.concatenate(found))

    def _approx_cosines(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Cosines of the pairs ``left[k], right[k]``, to within 1e-12 (another sum order)."""
        out = np.zeros(len(left))
        if not len(left) or not self.nv:
            return out
        size = np.diff(self.ptr)
        swap = size[left] > size[right]  # walk the shorter vector
        a, b = np.where(swap, right, left), np.where(swap, left, right)
        # Looked up in the other's order: nearby lookups, 10x faster.
        by_b = np.argsort(b)
        a, b = a[by_b], b[by_b]
        codes, approx = self.codes, self.approx
        step = max(1, 2_000_000 // max(1, int(size.mean()) + 1))  # bounded memory
        for s in range(0, len(a), step):
            ca, cb = a[s:s + step], b[s:s + step]
            owner, pos = _ranges(self.ptr[ca], size[ca])
            want = cb[owner] * self.nv + self.terms[pos]
            at = np.minimum(np.searchsorted(codes, want), len(codes) - 1)
            hit = codes[at] == want  # (codes is not empty: nv > 0)
            out[by_b[s:s + step]] = np.bincount(owner[hit], minlength=len(ca),
                                                weights=approx[pos[hit]] * approx[at[hit]])
        return out

    def scored_pairs(self, window: timedelta, floor: float) -> list[tuple[float, int, int]]:
        """Pairs in the window scoring at least ``floor``, best first.

        Candidate pairs are screened in bulk with approximate cosines; the
        few near or above ``floor`` are scored exactly, with the same float
        sums in the same order as :meth:`cosine`.
        """
        span = window.total_seconds()
        n = len(self.ids)
        related = self.related_pairs()
        t = self.time_array
        i, j = np.divmod(related, max(n, 1))
        near = np.abs(t[i] - t[j]) <= span  # False without a date (NaN)
        pairs = _unique(np.concatenate([self.candidates(span), related[near]]))
        is_related = _member(pairs, related)
        i, j = np.divmod(pairs, max(n, 1))
        approx = self._approx_cosines(i, j) + np.where(is_related, RELATED_BONUS, 0.0)
        sure = approx >= floor - 1e-9  # the approximation is off by ~1e-15
        out = []
        vector = self.vector
        for i, j, rel in zip(i[sure].tolist(), j[sure].tolist(), is_related[sure].tolist()):
            a, b = vector(i), vector(j)  # i < j; the sum of cosine(), inlined
            s = sum([x * b[w] for w, x in a.items() if w in b])
            if rel:
                s += RELATED_BONUS
            if s >= floor:
                out.append((round(min(s, 1.0), 4), i, j))
        out.sort(key=lambda x: (-x[0], x[1], x[2]))
        return out


def _timestamp(value) -> float | None:
    try:
        return value.timestamp()
    except AttributeError:
        return None


def find_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                 window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group the articles of ``graph`` that report the same event.

    Returns the stories of two or more articles, sorted by id.  Articles
    without a publication date are left out (the window cannot apply).

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> [len(s.members) for s in find_stories(g)]
    [2]
    >>> find_stories(g, threshold=1.01)
    []
    """
    if not 0.0 <= threshold <= 1.5:
        raise ValueError(f"threshold must be between 0 and 1.5, not {threshold}")
    with gc_paused():  # builds millions of small, acyclic objects
        return _find_stories(graph, threshold, window)


def _find_stories(graph: nx.MultiDiGraph, threshold: float, window: timedelta) -> list[Story]:
    docs = _Docs(graph)
    span = window.total_seconds()
    parent = list(range(len(docs.ids)))
    first = list(docs.times)
    last = list(docs.times)
    link_scores: dict[int, list[float]] = defaultdict(list)
    groups: dict[int, list[int]] = {}  # root -> members, for groups of two or more

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for s, i, j in docs.scored_pairs(window, threshold):
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        lo, hi = min(first[ri], first[rj]), max(last[ri], last[rj])
        if hi - lo > span:
            continue  # the group would outgrow the window
        if rj < ri:
            ri, rj = rj, ri
        parent[rj] = ri
        first[ri], last[ri] = lo, hi
        link_scores[ri].extend(link_scores.pop(rj, []))
        link_scores[ri].append(s)
        groups[ri] = groups.pop(ri, [ri]) + groups.pop(rj, [rj])
    stories = []
    for r, members in groups.items():
        members.sort()
        ids = tuple(sorted(docs.ids[i] for i in members))
        scores = link_scores[r]
        stories.append(Story(id=story_id(ids), members=ids,
                             label=_story_label(docs, members),
                             score=round(sum(scores) / len(scores), 4)))
    stories.sort(key=lambda s: s.id)
    return stories


def _story_label(docs: _Docs, members: list[int]) -> str:
    """The headline most similar to the others (ties: earliest, then id)."""
    def key(i: int):
        total = sum(docs.cosine(i, j) for j in members if j != i)
        return (-round(total, 6), docs.times[i] or 0.0, docs.ids[i])
    best = min(members, key=key)
    return docs.graph.nodes[docs.ids[best]].get("title", docs.ids[best])


def add_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                window: timedelta = DEFAULT_WINDOW) -> list[str]:
    """Add story nodes and ``inStory`` edges to ``graph`` in place.

    Existing story nodes are replaced, so calling it twice gives the same
    graph.  Story nodes carry ``kind="story"``, ``label``, ``method``,
    ``threshold``, ``score``, ``size`` and ``window_days``.  Returns the
    story ids, sorted.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> add_stories(g) == add_stories(g)
    True
    >>> sum(1 for *_, k in g.edges(keys=True) if k == "inStory")
    2
    """
    # Collector paused, and no (node, kind) tuple made per node: right after
    # build_graph, such allocations set off full scans of the new graph
    # (9 s of the stage at 100,000 articles in ``kg build``).
    with gc_paused():
        stories = find_stories(graph, threshold=threshold, window=window)
        graph.remove_nodes_from([n for n, d in graph._node.items() if d.get("kind") == "story"])
        for s in stories:
            graph.add_node(s.id, kind="story", label=s.label, method=METHOD,
                           threshold=threshold, score=s.score, size=len(s.members),
                           window_days=window.total_seconds() / 86400)
            for a in s.members:
                graph.add_edge(a, s.id, key="inStory", rel="inStory")
    return [s.id for s in stories]


# -- topic clusters ----------------------------------------------------------

def hub_topics(graph: nx.MultiDiGraph, articles: Iterable[str], *,
               hub_share: float = 0.5) -> dict[str, int]:
    """Topics carried by more than ``hub_share`` of ``articles`` -> count.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> arts = [n for n, d in g.nodes(data=True) if d["kind"] == "article" and d["files"]]
    >>> sorted(hub_topics(g, arts))
    ['topic/ai', 'topic/computer-vision']
    """
    arts = list(articles)
    counts = _neighbour_counts(graph, arts, "about")
    limit = hub_share * len(arts)
    return {t: c for t, c in sorted(counts.items()) if c > limit}


def _neighbour_counts(graph: nx.MultiDiGraph, articles: list[str], rel: str) -> Counter:
    counts: Counter = Counter()
    for a in articles:
        counts.update({v for _, v, k in graph.out_edges(a, keys=True) if k == rel})
    return counts


def topic_clusters(graph: nx.MultiDiGraph, articles: Iterable[str] | None = None, *,
                   seed: int = 42, resolution: float = 1.0,
                   hub_share: float = 0.5, similarity_floor: float = 0.3,
                   window: timedelta = timedelta(days=14)) -> dict[str, int]:
    """Louvain clusters of articles -> cluster number (0 = largest).

    The clustered graph joins articles by ``related`` links (weight 1), by a
    shared story (2), by text similarity at or above ``similarity_floor``
    within ``window`` (the score), and through their topics, each weighted by
    its rarity among ``articles``; hub topics weigh nothing, so a topic on
    every article does not pull them all together.  Louvain is igraph's
    (in C: 8 s for the 120,000 articles of a 100,000-file corpus, where
    NetworkX's took 3 minutes), fed by a generator seeded with ``seed``, so
    the clusters are the same on every run.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> c = topic_clusters(g)
    >>> c == topic_clusters(g), min(c.values())
    (True, 0)
    """
    import random

    import igraph

    if articles is None:
        articles = (n for n, k in graph.nodes(data="kind") if k == "article")
    arts = sorted(set(articles))
    if not arts:
        return {}
    inside = set(arts)
    vertex = {a: i for i, a in enumerate(arts)}  # then the topics and stories linked
    weights: dict[tuple[int, int], float] = {}

    def link(u: str, v: str, w: float) -> None:
        if w <= 0 or u == v:
            return
        i = vertex[u]
        j = vertex.setdefault(v, len(vertex))
        pair = (i, j) if i < j else (j, i)
        weights[pair] = weights.get(pair, 0.0) + w

    for a in arts:
        for _, v, k in sorted(graph.out_edges(a, keys=True)):
            if k == "related" and v in inside:
                link(a, v, 1.0)
            elif k == "inStory":
                link(a, v, 2.0)
    docs = _Docs(graph, arts)
    for s, i, j in docs.scored_pairs(window, similarity_floor):
        link(docs.ids[i], docs.ids[j], s)
    counts = _neighbour_counts(graph, arts, "about")
    n = len(arts)
    for a in arts:
        for _, t, k in sorted(graph.out_edges(a, keys=True)):
            if k != "about" or counts[t] > hub_share * n or counts[t] < 2:
                continue
            # Rarer topics bind harder; a topic on half the articles barely.
            link(a, t, 0.5 * math.log(n / counts[t]) / math.log(max(n, 2)))
    h = igraph.Graph(n=len(vertex), edges=list(weights),
                     edge_attrs={"weight": list(weights.values())})
    # igraph draws from a Python generator (by default the random module);
    # a private seeded one leaves the caller's random state alone.
    igraph.set_random_number_generator(random.Random(seed))
    try:
        communities = h.community_multilevel(weights="weight", resolution=resolution)
    finally:
        igraph.set_random_number_generator(random)
    groups = [sorted(arts[i] for i in c if i < n) for c in communities]
    groups = [g for g in groups if g]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return {a: i for i, g in enumerate(groups) for a in g}


def cluster_labels(graph: nx.MultiDiGraph, clusters: dict[str, int], *,
                   top: int = 3, hub_share: float = 0.5) -> dict[int, str]:
    """A label per cluster from its most characteristic topics and title terms.

    A term scores by its share of the cluster's headlines times its rarity
    among all clustered articles; a non-hub topic carried by most of the
    cluster comes first.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> labels = cluster_labels(g, topic_clusters(g))
    >>> all(isinstance(v, str) and v for v in labels.values())
    True
    """
    arts = sorted(clusters)
    n = len(arts)
    if not n:
        return {}
    article_terms = {a: set(terms(_strip_tail(graph.nodes[a].get("title", "")))) for a in arts}
    df: Counter = Counter()
    for ts in article_terms.values():
        df.update(ts)
    topic_df = _neighbour_counts(graph, arts, "about")
    members: dict[int, list[str]] = defaultdict(list)
    for a in arts:
        members[clusters[a]].append(a)
    labels = {}
    for c, ms in sorted(members.items()):
        size = len(ms)
        tf: Counter = Counter()
        for a in ms:
            tf.update(article_terms[a])
        scored = sorted(((-(cnt / size) * math.log(n / df[w]), w)
                         for w, cnt in tf.items() if cnt >= min(2, size)), key=lambda x: x)
        words = [w for _, w in scored[:top]]
        parts = []
        ttf = _neighbour_counts(graph, ms, "about")
        for t, cnt in sorted(ttf.items(), key=lambda kv: (-kv[1], kv[0])):
            if topic_df[t] <= hub_share * n and cnt / size >= 0.5 and cnt / size > topic_df[t] / n:
                parts.append(graph.nodes[t].get("label", t))
                break
        parts.extend(words)
        labels[c] = " · ".join(parts) if parts else graph.nodes[ms[0]].get("title", ms[0])[:40]
    return labels
