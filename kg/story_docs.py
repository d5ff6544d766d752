"""What story scores are computed from: :class:`StoryDocs`, the articles'
term vectors, times and headline marks, and the scores of pairs of them
(:mod:`kg.stories` clusters the pairs; :mod:`kg.story_state` keeps what a
build computed for the next; :mod:`kg.explain` takes a score apart).

A pair's score is the cosine of the two TF-IDF vectors, faded by the time
between the articles, times the headline conflicts, plus the ``related``
and syndication bonuses (:meth:`StoryDocs.pair_scores`).

>>> import kg
>>> from kg.graph import build_graph
>>> docs = StoryDocs(build_graph(kg.load("seeds")))
>>> scores, left, right = docs.scored_arrays(timedelta(days=7), 0.5)
>>> [(docs.ids[i] < docs.ids[j], s) for s, i, j in zip(scores.tolist(), left, right)]
[(True, 1.0)]
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import timedelta
from itertools import repeat
from typing import Any

import networkx as nx
import numpy as np

from ._perf import thread_map
from .anchors import read_marks
from .blocking import MAX_POSTINGS, member, ranges, window_candidates
from .frequencies import span_frequencies, time_buckets
from .story_texts import ArticleTexts, article_texts
from .text import sorted_unique

__all__ = [
    "StoryDocs", "RELATED_BONUS", "SYNDICATION_BONUS", "CONFLICT", "DATE_CLASH", "UNDATED_FADE",
    "IDF_POWER",
]

#: Added to the text score of a pair when one article lists the other
#: (aggregators list whole topics as related: evidence, not proof).
RELATED_BONUS = 0.1
#: Added when the two are copies: the same excerpt, or the same URL slug.
SYNDICATION_BONUS = 0.5
#: The text score is multiplied by this when both headlines name places, or
#: figures, and none in common (Maryland's schools and Connecticut's).
CONFLICT = 0.5
#: The text score is multiplied by this when both headlines name a day and
#: not the same one (a daily column: "what to know on May 7", "on May 8").
DATE_CLASH = 0.2
#: The fade of a pair when either article has no date of its own: the mean
#: fade over the window (nothing says how near in it the article is), so an
#: undated article needs a stronger text to join than a dated one the same day.
UNDATED_FADE = 0.75
_TITLE_WEIGHT = 2.0
IDF_POWER = 1.0
# Candidates scored at once, two blocks at a time: their temporaries, not the
# corpus, set the memory.
_SCORE_BLOCK = 1_000_000


class StoryDocs:
    """Article term vectors, IDF weights, publication times and headline
    marks: what story scores are computed from (:mod:`kg.explain` reads it).

    Terms are numbered in the order of their stems, and an article's vector,
    a dict keyed by term number in increasing order, lists them in that
    order: sums over shared terms run in the same order whatever
    ``PYTHONHASHSEED`` is, and whatever other articles come and go.  Weights
    come from the document frequencies of the article's time bucket
    (:func:`time_buckets`): an article's vector depends on its bucket only.

    The vectors are held as numpy arrays (article ``i``'s terms are
    ``terms[ptr[i]:ptr[i + 1]]``, increasing, with unit weights ``unit``),
    so that pairs are scored in bulk (:meth:`cosines`); :meth:`vector`
    gives one article's as a dict (``kg stories --explain`` lists the
    shared terms' shares of a cosine).
    """

    def __init__(self, graph: nx.MultiDiGraph, nodes: Iterable[str] | None = None,
                 texts: ArticleTexts | None = None) -> None:
        if texts is not None:
            ids = texts.ids
        else:
            if nodes is None:  # (its node dict: NodeDataView makes a tuple per node)
                nodes = [n for n, d in graph._node.items() if d.get("kind") == "article"]
            ids = sorted(nodes)
            texts = article_texts(graph, ids)
        n = len(ids)
        attrs = graph._node  # networkx's node dict: its NodeView adds a call per lookup
        times = [_timestamp(d.get("published")) for d in map(attrs.__getitem__, ids)]
        words = texts.words
        nv = len(words)
        self.size = np.diff(texts.ptr)  # terms per article
        art = np.repeat(np.arange(n), self.size)
        term = texts.entries >> 1
        is_title = (texts.entries & 1) == 0
        code = art * max(nv, 1) + term
        # Document frequencies of the months around the article's
        # (:func:`kg.frequencies.df_spans`), not of the whole corpus: a change elsewhere
        # leaves its vector as it is.
        month = time_buckets(np.array([np.nan if t is None else t for t in times], float))
        df, total = span_frequencies(month, art, term)
        # A word in every article of the bucket weighs nothing.
        idf = np.log((1.0 + total[art]) / (1.0 + df)) ** IDF_POWER
        self.codes = code        # article * nv + term, increasing: for lookups
        self.art, self.terms = art, term
        # Terms are numbered in the stems' order, the same whatever else the
        # corpus holds, so sums over terms run in the same order after a change.
        # Blocking tries an article's rarest terms in its bucket first.
        self.rarity = df * max(nv, 1) + term
        raw = np.where(is_title, idf * _TITLE_WEIGHT, idf)  # IDF weights before normalisation
        self.ptr = texts.ptr
        norm = np.sqrt(np.bincount(self.art, weights=raw * raw, minlength=n))
        norm[norm == 0] = 1.0
        self.unit = raw / norm[self.art]
        del raw
        self.nv = nv
        self.graph = graph
        self.ids = ids
        self.index = {a: i for i, a in enumerate(ids)}
        self.times = times
        # Times the window reads: an undated article takes one from its ties
        # (:meth:`_borrow_times`), else it stays NaN and outside every window.
        self.time_array = np.array([np.nan if t is None else t for t in times], float)
        self.dated = ~np.isnan(self.time_array)
        self.borrowed: dict[int, int] = {}  # undated article -> the article whose time it took
        self._related: np.ndarray | None = None
        self._vectors: dict[int, dict[int, float]] = {}
        self.words = words  # by term number
        self.excerpt_code = _codes([d.get("excerpt", "") if len(d.get("excerpt", "")) >= 40 else None
                                    for d in map(attrs.__getitem__, ids)])
        read = {m: read_marks(m) for m in dict.fromkeys(texts.marks)}  # copies share headlines
        marks = list(map(read.__getitem__, texts.marks))
        self.marks = [(places, figures) for places, figures, _ in marks]
        # Days named in a headline ("on May 7"): two different ones, two events.
        self.title_dates = [days for *_, days in marks]
        self.slug_code = _codes([s or None for s in texts.slugs])
        self.texts = texts
        self.ties = self._undated_ties()
        self._borrow_times()

    def keep_only_vectors(self) -> None:
        """Let go of what scoring reads and labelling does not (the texts,
        blocking's rarities, the headline marks, the copy codes, the related
        pairs): afterwards only :meth:`cosines`, :meth:`vector` and the
        times, ids and graph are left, which :func:`kg.stories.make_stories`
        reads.

        >>> import kg
        >>> from kg.graph import build_graph
        >>> docs = StoryDocs(build_graph(kg.load("seeds")))
        >>> docs.keep_only_vectors()
        >>> round(docs.cosine(0, 0), 6), hasattr(docs, "texts")
        (1.0, False)
        """
        del self.texts, self.art, self.rarity, self.marks, self.title_dates
        del self.excerpt_code, self.slug_code, self.ties
        self._related = None

    def vector(self, i: int) -> dict[int, float]:
        """Article ``i``'s unit vector, term number -> weight, in term order."""
        v = self._vectors.get(i)
        if v is None:
            lo, hi = self.ptr[i], self.ptr[i + 1]
            v = self._vectors[i] = dict(zip(self.terms[lo:hi].tolist(), self.unit[lo:hi].tolist()))
        return v

    def cosine(self, i: int, j: int) -> float:
        """The cosine of articles ``i`` and ``j``, summed as the build sums it."""
        return float(self.cosines(np.array([i], np.int64), np.array([j], np.int64))[0])

    def related_pairs(self) -> np.ndarray:
        """Sorted codes ``i * len(ids) + j`` (``i < j``) of the related articles."""
        if self._related is None:
            self._related = self._find_related()
        return self._related

    def _find_related(self) -> np.ndarray:
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

    def _undated_ties(self) -> np.ndarray:
        """Sorted codes ``i * len(ids) + j`` (``i < j``) of the pairs where an
        undated article is tied to another by a ``related`` link or as a copy
        (:meth:`syndicated`): the only evidence that places it in time."""
        n = len(self.ids)
        undated = np.flatnonzero(~self.dated)
        if not len(undated):
            return np.zeros(0, np.int64)
        related = self.related_pairs()
        i, j = np.divmod(related, max(n, 1))
        found = [related[~self.dated[i] | ~self.dated[j]]]
        for code in (self.excerpt_code, self.slug_code):
            wanted = code[undated]
            wanted = sorted_unique(wanted[wanted >= 0])
            holders = np.flatnonzero(member(code, wanted))  # articles sharing an undated one's code
            if not len(holders):
                continue
            holders = holders[np.argsort(code[holders], kind="stable")]
            bounds = np.searchsorted(code[holders], wanted)
            groups = np.split(holders, bounds[1:])
            for group in groups:
                if len(group) > MAX_POSTINGS:
                    continue  # a boilerplate excerpt, not copies of one article
                u = group[~self.dated[group]]
                a, b = np.repeat(u, len(group)), np.tile(group, len(u))
                keep = a != b
                found.append(np.minimum(a, b)[keep] * n + np.maximum(a, b)[keep])
        return sorted_unique(np.concatenate(found))

    def _borrow_times(self) -> None:
        """Give each undated article tied to dated ones (:attr:`ties`) the
        time of the one whose text is closest (ties: the lower index), so
        that the window finds its candidates; its pairs still fade by
        ``UNDATED_FADE`` (:meth:`fade`): a stronger text is needed."""
        n = len(self.ids)
        i, j = np.divmod(self.ties, max(n, 1))
        partners: dict[int, list[int]] = {}
        for u, p in zip(np.concatenate([i, j]).tolist(), np.concatenate([j, i]).tolist()):
            if self.dated[p] and not self.dated[u]:
                partners.setdefault(u, []).append(p)
        for u, ps in sorted(partners.items()):
            best = min(ps, key=lambda p: (-self.cosine(u, p), p))
            self.borrowed[u] = best
            self.time_array[u] = self.time_array[best]

    def window_times(self) -> list[float | None]:
        """Each article's time as the window reads it (borrowed ones too)."""
        return [None if math.isnan(t) else t for t in self.time_array.tolist()]

    def fade(self, left: np.ndarray, right: np.ndarray, span: float) -> np.ndarray:
        """A factor per pair: 1 at the same moment, falling to 0.5 at ``span``
        seconds apart; ``UNDATED_FADE`` when either has no date of its own
        (a borrowed time says only that the pair is near, not how near)."""
        dt = np.abs(self.time_array[left] - self.time_array[right])
        fade = 1.0 - 0.5 * np.minimum(np.nan_to_num(dt, nan=0.0) / max(span, 1.0), 1.0)
        return np.where(self.dated[left] & self.dated[right], fade, UNDATED_FADE)

    def candidates(self, window: float, owners: np.ndarray | None = None) -> np.ndarray:
        """Sorted codes ``i * len(ids) + j`` (``i < j``) of pairs published
        within ``window`` seconds that share rare terms, found from ``owners``
        (a mask; all) (:func:`kg.blocking.window_candidates`)."""
        return window_candidates(self.ptr, self.terms, self.time_array, window, self.rarity, owners)

    def cosines(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Cosines of the pairs ``left[k], right[k]``.

        Each is summed over the shorter vector's terms in term order (the
        lower index's when both are as long), so a pair has the same cosine
        alone or in bulk, in either order."""
        out = np.zeros(len(left))
        if not len(left) or not self.nv:
            return out
        size = self.size
        left, right = np.minimum(left, right), np.maximum(left, right)
        swap = size[left] > size[right]  # walk the shorter vector
        a, b = np.where(swap, right, left), np.where(swap, left, right)
        # Looked up in the other's order: nearby lookups, close in memory.
        by_b = np.argsort(b)
        a, b = a[by_b], b[by_b]
        codes, unit = self.codes, self.unit
        step = max(1, 1_000_000 // max(1, int(size.mean()) + 1))  # bounded memory (two threads)
        for s in range(0, len(a), step):
            ca, cb = a[s:s + step], b[s:s + step]
            owner, pos = ranges(self.ptr[ca], size[ca])
            want = cb[owner] * self.nv + self.terms[pos]
            at = np.minimum(np.searchsorted(codes, want), len(codes) - 1)
            hit = codes[at] == want  # (codes is not empty: nv > 0)
            out[by_b[s:s + step]] = np.bincount(owner[hit], minlength=len(ca),
                                                weights=unit[pos[hit]] * unit[at[hit]])
        return out

    def syndicated(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """Which pairs are copies: the same excerpt, or the same last segment
        of the canonical URL path (one article under two sections or hosts)."""
        same = np.zeros(len(left), bool)
        for code in (self.excerpt_code, self.slug_code):
            same |= (code[left] == code[right]) & (code[left] >= 0)
        return same

    def conflicts(self, left: np.ndarray, right: np.ndarray) -> np.ndarray:
        """A factor per pair: ``CONFLICT`` for each of places and figures that
        both headlines name with none in common (:func:`kg.anchors.title_marks`);
        and ``DATE_CLASH`` when both name days and none in common."""
        marks, dates = self.marks, self.title_dates
        out = [1.0] * len(left)
        for k, (i, j) in enumerate(zip(left.tolist(), right.tolist())):
            (pa, fa), (pb, fb) = marks[i], marks[j]
            if pa and pb and pa.isdisjoint(pb):
                out[k] *= CONFLICT
            da, db = dates[i], dates[j]
            if da and db and da.isdisjoint(db):
                out[k] *= DATE_CLASH
            if fa and fb and fa.isdisjoint(fb):
                out[k] *= CONFLICT
        return np.array(out, float)

    def pair_scores(self, left: np.ndarray, right: np.ndarray, cosines: np.ndarray,
                    related: np.ndarray, span: float) -> np.ndarray:
        """The story scores of pairs from their text cosines: the cosine,
        fading to half at ``span`` seconds apart (:meth:`fade`), times the
        conflicts, plus the related and syndication bonuses."""
        fade = self.fade(left, right, span) * self.conflicts(left, right)
        bonus = (np.where(related, RELATED_BONUS, 0.0)
                 + np.where(self.syndicated(left, right), SYNDICATION_BONUS, 0.0))
        return cosines * fade + bonus

    def scored_arrays(self, window: timedelta, floor: float, owners: np.ndarray | None = None,
                      touching: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs in the window scoring at least ``floor`` (scores, rounded to
        4 places and at most 1, and the two ends ``i < j``), best first, then
        by ``i`` and ``j``; with masks ``owners`` and ``touching``, those with
        an end in ``touching`` whose candidates come from ``owners``
        (:mod:`kg.story_state`).  Candidates are screened by a bound (the
        score without the conflicts, factors of at most 1), and only those
        that reach it get their conflicts weighed."""
        span = window.total_seconds()
        n = len(self.ids)
        related = self.related_pairs()
        t = self.time_array
        i, j = np.divmod(related, max(n, 1))
        near = np.abs(t[i] - t[j]) <= span  # False without a date (NaN)
        pairs = sorted_unique(np.concatenate([self.candidates(span, owners), related[near], self.ties]))
        if touching is not None:
            pairs = pairs[touching[pairs // max(n, 1)] | touching[pairs % max(n, 1)]]
        blocks = [pairs[at:at + _SCORE_BLOCK]  # (one block when none)
                  for at in range(0, max(len(pairs), 1), _SCORE_BLOCK)]
        del pairs
        found = thread_map(lambda block: self._score_block(block, related, span, floor), blocks)
        del blocks
        scores, left, right = (np.concatenate(part) for part in zip(*found))
        order = np.lexsort((right, left, -scores))
        return scores[order], left[order], right[order]

    def _score_block(self, pairs: np.ndarray, related: np.ndarray, span: float,
                     floor: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`scored_arrays` of some of the candidate pairs (codes), unsorted."""
        n = len(self.ids)
        is_related = member(pairs, related)
        left, right = np.divmod(pairs, max(n, 1))
        # Without the conflicts (factors of at most 1): a bound, to screen with.
        cosines = self.cosines(left, right)
        bound = (cosines * self.fade(left, right, span)
                 + np.where(is_related, RELATED_BONUS, 0.0)
                 + np.where(self.syndicated(left, right), SYNDICATION_BONUS, 0.0))
        sure = bound >= floor
        left, right = left[sure], right[sure]
        scores = self.pair_scores(left, right, cosines[sure], is_related[sure], span)
        keep = scores >= floor
        return np.round(np.minimum(scores[keep], 1.0), 4), left[keep], right[keep]


def _codes(values: list[str | None]) -> np.ndarray:
    """A number per distinct value (-1 for None), in order of first sight."""
    number: dict[str, int] = {}
    return np.array([-1 if v is None else number.setdefault(v, len(number)) for v in values], np.int64)


def _timestamp(value: Any) -> float | None:  # a datetime, or anything without a time
    try:
        return value.timestamp()
    except AttributeError:
        return None
