"""Same-event stories: the articles that report one event.

Two articles are scored by the cosine of their IDF-weighted title + excerpt
terms (title terms count double), plus a bonus when one lists the other as
``related``; pairs are only compared when published within ``window`` of
each other.  Pairs at or above ``threshold`` are merged greedily, strongest
first, and a merge is refused when the group would span more than
``window`` (so a daily column with the same headline does not chain into one
story).  Candidate pairs come from a term index (each article is looked up
by its rarest terms), never from all pairs, so the work grows with the pairs
that share rare terms, not with the square of the corpus; numpy screens them
with approximate scores, and only the pairs that may reach the threshold are
scored exactly.  Topic communities, which reuse the scored pairs
(:func:`similar_pairs`), live in :mod:`kg.clusters`.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> ids = add_stories(g)
>>> [g.nodes[s]["label"] for s in ids]
['Worcester bans city use of facial recognition technology']
>>> g.nodes[ids[0]]["size"], g.nodes[ids[0]]["method"]
(2, 'tfidf-cosine+related')
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from itertools import chain, repeat
from typing import Any, cast

import networkx as nx
import numpy as np

from ._perf import gc_paused
from .text import sorted_unique, strip_tail, text_terms

__all__ = [
    "Story", "find_stories", "add_stories", "story_id", "similar_pairs",
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

def story_id(members: Iterable[str]) -> str:
    """The id of a story: a hash of its sorted member article ids.

    >>> story_id(["article/b", "article/a"]) == story_id(["article/a", "article/b"])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()
    return "story/" + digest[:16]


@dataclass(frozen=True)
class Story:
    """A group of articles reporting the same event (see :func:`find_stories`).

    >>> Story(story_id(["article/a", "article/b"]), ("article/a", "article/b"), "Headline", 0.8).members
    ('article/a', 'article/b')
    """

    id: str
    members: tuple[str, ...]
    label: str
    score: float  # mean score of the links that joined the group


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

    def __init__(self, graph: nx.MultiDiGraph, nodes: Iterable[str] | None = None) -> None:
        if nodes is None:  # (its node dict: NodeDataView makes a tuple per node)
            nodes = [n for n, d in graph._node.items() if d.get("kind") == "article"]
        ids = sorted(nodes)
        n = len(ids)
        attrs = graph._node  # networkx's node dict: its NodeView adds a call per lookup
        data = list(map(attrs.__getitem__, ids))
        titles = [strip_tail(d.get("title", "")) for d in data]
        bodies = [d.get("excerpt", "") for d in data]
        times = [_timestamp(d.get("published")) for d in data]
        del data
        # Each distinct text once: same-story copies repeat their texts.
        texts = list(dict.fromkeys(chain(titles, bodies)))
        number = dict(zip(texts, range(len(texts))))
        title_text = np.fromiter(map(number.__getitem__, titles), np.int64, n)
        body_text = np.fromiter(map(number.__getitem__, bodies), np.int64, n)
        del titles, bodies, number
        words, text_ptr, text_term = text_terms(texts)
        del texts
        nv = len(words)
        lens = np.diff(text_ptr)
        # (article, term, 0 for title / 1 for excerpt), deduplicated keeping
        # the title: a term in both counts once, with the title's weight.
        keys = []
        for flag, which in ((0, title_text), (1, body_text)):
            owner, pos = _ranges(text_ptr[which], lens[which])
            keys.append((owner * nv + text_term[pos]) * 2 + flag)
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
        succ = self.graph._succ  # networkx's adjacency dict: its views add a call per lookup
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
        return sorted_unique(np.minimum(a, b) * len(self.ids) + np.maximum(a, b))

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
        # order, which keeps searchsorted's lookups near each other in memory.
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
        # they grow faster than the corpus (the window fills up as it grows),
        # their pairs far fewer, so expanding them all at once runs out of memory.
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
            found.append(sorted_unique(np.minimum(i, j) * n + np.maximum(i, j)))
        return sorted_unique(np.concatenate(found))

    def _approx_cosines(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Cosines of the pairs ``left[k], right[k]``, to within 1e-12 (another sum order)."""
        out = np.zeros(len(left))
        if not len(left) or not self.nv:
            return out
        size = np.diff(self.ptr)
        swap = size[left] > size[right]  # walk the shorter vector
        a, b = np.where(swap, right, left), np.where(swap, left, right)
        # Looked up in the other's order: nearby lookups, close in memory.
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
        pairs = sorted_unique(np.concatenate([self.candidates(span), related[near]]))
        is_related = _member(pairs, related)
        left, right = np.divmod(pairs, max(n, 1))
        approx = self._approx_cosines(left, right) + np.where(is_related, RELATED_BONUS, 0.0)
        sure = approx >= floor - 1e-9  # the approximation is off by ~1e-15
        out = []
        vector = self.vector
        for i, j, rel in zip(left[sure].tolist(), right[sure].tolist(), is_related[sure].tolist()):
            a, b = vector(i), vector(j)  # i < j; the sum of cosine(), inlined
            s = sum([x * b[w] for w, x in a.items() if w in b])
            if rel:
                s += RELATED_BONUS
            if s >= floor:
                out.append((round(min(s, 1.0), 4), i, j))
        out.sort(key=lambda x: (-x[0], x[1], x[2]))
        return out


def _timestamp(value: Any) -> float | None:  # a datetime, or anything without a time
    try:
        return value.timestamp()
    except AttributeError:
        return None


@gc_paused()  # builds millions of small, acyclic objects
def find_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                 window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group the articles of ``graph`` that report the same event.

    Returns the stories of two or more articles, sorted by id.  Articles
    without a publication date are left out (the window cannot apply).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> [len(s.members) for s in find_stories(g)]
    [2]
    >>> find_stories(g, threshold=1.01)
    []
    """
    return _find_stories(graph, threshold, window)


@gc_paused()  # as find_stories
def similar_pairs(graph: nx.MultiDiGraph, articles: Iterable[str], *, floor: float,
                  window: timedelta) -> list[tuple[float, str, str]]:
    """Pairs of ``articles`` published within ``window`` whose story score
    (text cosine plus the ``related`` bonus) is at least ``floor``, best first:
    (score, article id, article id), the lower id first.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> arts = [n for n, k in g.nodes(data="kind") if k == "article"]
    >>> [(s, a < b) for s, a, b in similar_pairs(g, arts, floor=0.6, window=DEFAULT_WINDOW)]
    [(1.0, True)]
    """
    docs = _Docs(graph, articles)
    ids = docs.ids
    return [(s, ids[i], ids[j]) for s, i, j in docs.scored_pairs(window, floor)]


def _find_stories(graph: nx.MultiDiGraph, threshold: float, window: timedelta) -> list[Story]:
    if not 0.0 <= threshold <= 1.5:
        raise ValueError(f"threshold must be between 0 and 1.5, not {threshold}")
    docs = _Docs(graph)
    span = window.total_seconds()
    parent = list(range(len(docs.ids)))
    # Articles without a date are never paired (scored_pairs), so the None
    # times are never compared.
    first = cast(list[float], list(docs.times))
    last = list(first)
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
    def key(i: int) -> tuple[float, float, str]:
        total = sum(docs.cosine(i, j) for j in members if j != i)
        return (-round(total, 6), docs.times[i] or 0.0, docs.ids[i])
    best = min(members, key=key)
    return docs.graph.nodes[docs.ids[best]].get("title", docs.ids[best])


@gc_paused()
def add_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                window: timedelta = DEFAULT_WINDOW) -> list[str]:
    """Add story nodes and ``inStory`` edges to ``graph`` in place.

    Existing story nodes are replaced, so calling it twice gives the same
    graph.  Story nodes carry ``kind="story"``, ``label``, ``method``,
    ``threshold``, ``score``, ``size`` and ``window_days``.  Returns the
    story ids, sorted.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> add_stories(g) == add_stories(g)
    True
    >>> sum(1 for *_, k in g.edges(keys=True) if k == "inStory")
    2
    """
    # Collector paused (the decorator), and no (node, kind) tuple made per
    # node: right after build_graph, such allocations set off full scans of
    # the whole new graph, which free nothing.
    stories = _find_stories(graph, threshold, window)
    graph.remove_nodes_from([n for n, d in graph._node.items() if d.get("kind") == "story"])
    for s in stories:
        graph.add_node(s.id, kind="story", label=s.label, method=METHOD,
                       threshold=threshold, score=s.score, size=len(s.members),
                       window_days=window.total_seconds() / 86400)
        for a in s.members:
            graph.add_edge(a, s.id, key="inStory", rel="inStory")
    return [s.id for s in stories]
