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

__all__ = ["average_linkage", "strong_components", "link_component"]


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
    link: dict[int, dict[int, float]] = defaultdict(dict)  # group -> group -> sum of scores
    for s, i, j in pairs:  # each pair once
        link[i][j] = link[j][i] = s
    size: dict[int, int] = defaultdict(lambda: 1)
    members: dict[int, list[int]] = {}
    merged: dict[int, list[float]] = {}
    first = {i: t for i in link if (t := times[i]) is not None}
    last = dict(first)
    # Only means that reach the threshold are queued: a mean changes only
    # when one of its groups merges, and then it is queued again, so an entry
    # below it could never be merged (the same merges, in the same order).
    heap = [(-s, i, j) for s, i, j in pairs if s >= threshold]
    heapq.heapify(heap)
    while heap:
        neg, a, b = heapq.heappop(heap)
        total = link.get(a, {}).get(b)
        if total is None:
            continue  # one of them merged since
        mean = total / (size[a] * size[b])
        if abs(mean + neg) > 1e-12:
            continue  # pushed before a merge changed it
        lo = min(first.get(a, math.inf), first.get(b, math.inf))
        hi = max(last.get(a, -math.inf), last.get(b, -math.inf))
        if hi - lo > span:
            continue  # the group would outgrow the window
        # b into a (a < b): the sums to every neighbour add up.
        first[a], last[a] = lo, hi
        link_a = link[a]
        del link_a[b], link[b][a]
        for c, w in link.pop(b).items():
            link_c = link[c]
            del link_c[b]
            link_a[c] = link_c[a] = link_a.get(c, 0.0) + w
        size_a = size[a] = size[a] + size.pop(b)
        members.setdefault(a, [a]).extend(members.pop(b, [b]))
        merged_a = merged.setdefault(a, [])
        merged_a.extend(merged.pop(b, ()))
        merged_a.append(mean)
        for c, w in link_a.items():
            m = w / (size_a * size[c])
            if m >= threshold:
                heapq.heappush(heap, (-m, min(a, c), max(a, c)))
    return [(sorted(m), round(sum(merged[r]) / len(merged[r]), 4)) for r, m in members.items()]
