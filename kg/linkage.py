"""Average-linkage agglomerative clustering of a sparse score graph: the
grouping of same-event stories (:mod:`kg.stories`).

Single linkage (union-find over strong pairs) chains two events through one
article close to both; average linkage merges two groups only when their
articles are close *on average*, every pair not scored counting as 0.

>>> average_linkage([(0.9, 0, 1), (0.2, 1, 2)], 0.5, [0.0, 0.0, 0.0], 10.0)
[([0, 1], 0.9)]
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from typing import Any

import numpy as np

__all__ = ["average_linkage", "strong_components", "link_component", "link_scored"]


def average_linkage(pairs: list[tuple[float, int, int]], threshold: float,
                    times: list[float | None], span: float) -> list[tuple[list[int], float]]:
    """Average-linkage agglomerative clustering of a sparse score graph.

    ``pairs`` are (score, i, j), each pair once; a pair not given scores 0.  Two groups
    merge, best first, while the mean score over all their cross pairs is at
    least ``threshold`` and their articles span at most ``span`` seconds; one
    article close to two events cannot chain them, as the other articles of
    each pull the mean down.  Ties go to the lower indices.  Returns the
    groups of two or more (sorted members) with the mean score of their
    merges.

    >>> average_linkage([(0.9, 0, 1), (0.8, 1, 2), (0.5, 0, 2), (0.9, 3, 4)], 0.6, [0.0] * 5, 1.0)
    [([0, 1, 2], 0.775), ([3, 4], 0.9)]
    >>> average_linkage([(0.9, 0, 1), (0.8, 1, 2)], 0.6, [0.0] * 3, 1.0)  # 2 is far from 0
    [([0, 1], 0.9)]
    """
    parts = strong_components(pairs, threshold)
    groups = [g for part in parts for g in link_component(part, threshold, times, span)]
    return sorted(groups, key=lambda g: g[0][0])


def strong_components(pairs: list[tuple[float, int, int]],
                      threshold: float) -> list[list[tuple[float, int, int]]]:
    """The pairs of each component of the graph of the pairs scoring at least
    ``threshold`` (in the order of ``pairs``); an article with no such pair
    is in none.

    >>> strong_components([(0.9, 0, 1), (0.2, 1, 2), (0.5, 3, 4), (0.6, 1, 3)], 0.5)
    [[(0.9, 0, 1), (0.5, 3, 4), (0.6, 1, 3)]]
    """
    # A merge needs a cross pair of at least ``threshold`` (a mean reaches no
    # higher than its largest term), so every group lies within one component
    # of the strong pairs' graph, and components cluster independently: the
    # same merges in the same order as one run over all pairs, on far fewer
    # pairs (an article with no strong pair stays alone).
    root: dict[int, int] = {}

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for s, i, j in pairs:
        if s >= threshold:
            ri, rj = find(root.setdefault(i, i)), find(root.setdefault(j, j))
            if ri != rj:
                root[max(ri, rj)] = min(ri, rj)
    component = {x: find(x) for x in root}
    parts: dict[int, list[tuple[float, int, int]]] = defaultdict(list)
    for p in pairs:
        c = component.get(p[1])
        if c is not None and c == component.get(p[2]):
            parts[c].append(p)
    return list(parts.values())


def link_component(pairs: list[tuple[float, int, int]], threshold: float,
                   times: list[float | None], span: float) -> list[tuple[list[int], float]]:
    """:func:`average_linkage` of the pairs of one strong component
    (:func:`strong_components`): its groups depend on these pairs, the
    order of the indices and the members' times only.

    >>> link_component([(0.9, 0, 1), (0.1, 1, 2), (0.3, 0, 2)], 0.2, [0.0] * 3, 1.0)
    [([0, 1, 2], 0.55)]
    """
    return link_scored(np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], np.int64),
                       np.array([p[2] for p in pairs], np.int64), threshold, times, span)


def _neighbours(src: np.ndarray, dst: np.ndarray, val: np.ndarray | None) -> dict[int, Any]:
    """For every ``src``: its ``dst`` as a dict to ``val``, or as a set."""
    order = np.argsort(src, kind="stable")
    src, dst = src[order], dst[order]
    starts = np.flatnonzero(np.r_[True, src[1:] != src[:-1]]) if len(src) else src
    ends = np.r_[starts[1:], len(src)].tolist()
    targets = dst.tolist()
    if val is None:
        return {k: set(targets[a:b]) for k, a, b in zip(src[starts].tolist(), starts.tolist(), ends)}
    values = val[order].tolist()
    return {k: dict(zip(targets[a:b], values[a:b]))
            for k, a, b in zip(src[starts].tolist(), starts.tolist(), ends)}


def link_scored(scores: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float,
                times: list[float | None], span: float,
                merges: list[tuple[int, int, float]] | None = None) -> list[tuple[list[int], float]]:
    """:func:`link_component` of the pairs ``(scores[k], left[k], right[k])``
    (each pair once), given as arrays.  ``merges``, when given, receives each
    merge in order: the two groups' labels (lowest members; the second joins
    the first) and their mean score.

    >>> link_scored(np.array([0.9, 0.1, 0.3]), np.array([0, 1, 0]), np.array([1, 2, 2]), 0.2, [0.0] * 3, 1.0)
    [([0, 1, 2], 0.55)]
    """
    # A group is known by its label (its lowest member: what ties are broken by)
    # and, within this function, by a handle: the member whose link dict it
    # keeps, the larger of the two at each merge, so that only the smaller
    # one's neighbours are told of the merge.
    both_ends, other_ends = np.concatenate([left, right]), np.concatenate([right, left])
    # handle -> handle -> sum of scores
    link: dict[int, dict[int, float]] = _neighbours(both_ends, other_ends, np.concatenate([scores, scores]))
    # The neighbours whose mean with a group may reach the threshold (a merged
    # group's mean with c lies between its two parts' means with c, so only
    # their strong neighbours need a look after a merge).
    is_strong = np.concatenate([scores, scores]) >= threshold
    strong: defaultdict[int, set[int]] = defaultdict(set, _neighbours(
        both_ends[is_strong], other_ends[is_strong], None))
    ok = scores >= threshold
    heap = list(zip((-scores[ok]).tolist(), left[ok].tolist(), right[ok].tolist()))
    heapq.heapify(heap)
    size: dict[int, int] = {}  # by handle; 1 when absent
    label: dict[int, int] = {}  # handle -> label; itself when absent
    handle: dict[int, int] = {}  # label -> handle (-1: merged into another); itself when absent
    members: dict[int, list[int]] = {}  # by label
    merged: dict[int, list[float]] = {}
    first = {i: t for i in link if (t := times[i]) is not None}  # by handle
    last = dict(first)
    # Only means that reach the threshold are queued: a mean changes only
    # when one of its groups merges, and then it is queued again, so an entry
    # below it could never be merged (the same merges, in the same order).
    while heap:
        neg, la, lb = heapq.heappop(heap)
        ha, hb = handle.get(la, la), handle.get(lb, lb)
        if ha < 0 or hb < 0:
            continue  # one of them merged since
        total = link[ha].get(hb)
        if total is None:
            continue
        size_a, size_b = size.get(ha, 1), size.get(hb, 1)
        mean = total / (size_a * size_b)
        if abs(mean + neg) > 1e-12:
            continue  # pushed before a merge changed it
        lo = min(first.get(ha, math.inf), first.get(hb, math.inf))
        hi = max(last.get(ha, -math.inf), last.get(hb, -math.inf))
        if hi - lo > span:
            continue  # the group would outgrow the window
        # label lb into la (la < lb); the handle of the larger link dict stays
        big, small = (ha, hb) if len(link[ha]) >= len(link[hb]) else (hb, ha)
        first[big], last[big] = lo, hi
        link_big = link[big]
        del link_big[small]
        link_small = link.pop(small)
        del link_small[big]
        for c, w in link_small.items():  # the sums to every neighbour add up
            link_c = link[c]
            del link_c[small]
            link_big[c] = link_c[big] = link_big.get(c, 0.0) + w
        size_big = size[big] = size_a + size_b
        size.pop(small, None)
        label[big] = la
        handle[la], handle[lb] = big, -1
        if merges is not None:
            merges.append((la, lb, mean))
        members.setdefault(la, [la]).extend(members.pop(lb, [lb]))
        merged_a = merged.setdefault(la, [])
        merged_a.extend(merged.pop(lb, ()))
        merged_a.append(mean)
        near = strong.pop(small)
        for c in near:
            strong[c].discard(small)
        near |= strong[big]
        near.discard(big)
        near.discard(small)
        strong_big = strong[big] = set()
        for c in near:
            m = link_big[c] / (size_big * size.get(c, 1))
            if m >= threshold:
                strong_big.add(c)
                strong[c].add(big)
                lc = label.get(c, c)
                heapq.heappush(heap, (-m, min(la, lc), max(la, lc)))
            else:
                strong[c].discard(big)
    return [(sorted(m), round(sum(merged[r]) / len(merged[r]), 4)) for r, m in members.items()]
