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

__all__ = ["average_linkage", "link_pairs", "link_groups", "link_scored", "relink_groups",
           "components", "Group"]


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
    return link_pairs(np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], np.int64),
                      np.array([p[2] for p in pairs], np.int64), threshold, times, span)


def link_pairs(scores: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float,
               times: list[float | None], span: float) -> list[tuple[list[int], float]]:
    """:func:`average_linkage` of the pairs ``(scores[k], left[k], right[k])``,
    given as arrays; the groups sorted by their lowest member.

    >>> link_pairs(np.array([0.9, 0.2]), np.array([0, 1]), np.array([1, 2]), 0.5, [0.0] * 3, 10.0)
    [([0, 1], 0.9)]
    """
    # A merge needs a cross pair of at least ``threshold`` (a mean reaches no
    # higher than its largest term), so every group lies within one component
    # of the strong pairs' graph: the pairs across components are left out
    # (an article with no strong pair stays alone).
    strong = scores >= threshold
    comp = components(len(times), left[strong], right[strong])
    part = (comp[left] >= 0) & (comp[left] == comp[right])
    found = link_groups(scores[part], left[part], right[part], threshold, times, span)
    return sorted(((g.members, g.score) for g in found), key=lambda g: g[0][0])


#: Pairs linked at once by :func:`link_groups`: its link dicts, not the corpus, set the memory.
LINK_BLOCK = 2_000_000


def link_groups(scores: np.ndarray, left: np.ndarray, right: np.ndarray, threshold: float,
                times: list[float | None], span: float) -> list[Group]:
    """:func:`link_scored` of the pairs, each group with its merges.

    Above ``LINK_BLOCK`` pairs, the articles are cut, in time order, into
    blocks of about that many pairs, and each block is linked alone: the
    groups of the pairs within blocks.  The pairs across blocks then appear
    as an incremental build's new pairs do (:func:`relink_groups`): their
    ends are linked again with their groups, near the cuts, and the other
    groups kept.  The same groups as one run (tests/test_stories.py), with
    one block's links in memory at a time, not the corpus'."""
    if len(scores) <= LINK_BLOCK:
        merges: list[tuple[int, int, float]] = []
        return _split_merges(link_scored(scores, left, right, threshold, times, span, merges), merges)
    n = len(times)
    rank = np.empty(n, np.int64)
    rank[np.argsort([-math.inf if x is None else x for x in times], kind="stable")] = np.arange(n)
    last = np.sort(np.maximum(rank[left], rank[right]))  # a pair counts in its later end's block
    cuts = np.unique(last[LINK_BLOCK::LINK_BLOCK])
    block = np.searchsorted(cuts, rank, "right")
    inside = block[left] == block[right]
    order = np.flatnonzero(inside)
    order = order[np.argsort(block[left[order]], kind="stable")]
    bounds = np.searchsorted(block[left[order]], np.arange(len(cuts) + 2)).tolist()
    groups: list[Group] = []
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        mine = order[lo:hi]
        merges = []
        found = link_scored(scores[mine], left[mine], right[mine], threshold, times, span, merges)
        groups += _split_merges(found, merges)
    relink = np.zeros(n, bool)
    relink[left[~inside]] = relink[right[~inside]] = True
    group_of = np.full(n, -1, np.int64)
    for k, g in enumerate(groups):
        group_of[g.members] = k
    hit = set(group_of[relink & (group_of >= 0)].tolist())
    for k in hit:
        relink[groups[k].members] = True
    kept, linked = relink_groups(scores, left, right, relink,
                                 [g for k, g in enumerate(groups) if k not in hit],
                                 threshold, times, span)
    return kept + linked


def components(n: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The component of each of ``n`` items in the graph of the pairs ``a[k], b[k]``:
    its lowest index, -1 for an item in no pair.

    >>> components(5, np.array([0, 3]), np.array([2, 1])).tolist()
    [0, 1, 0, 1, -1]
    """
    root = list(range(n))

    def find(x: int) -> int:
        while root[x] != x:
            root[x] = root[root[x]]
            x = root[x]
        return x

    for x, y in zip(a.tolist(), b.tolist()):
        rx, ry = find(x), find(y)
        if rx != ry:
            root[max(rx, ry)] = min(rx, ry)
    comp = np.array([find(x) for x in range(n)], np.int64)
    paired = np.zeros(n, bool)
    paired[a] = paired[b] = True
    comp[~paired] = -1
    return comp


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
    """The average linkage of the pairs ``(scores[k], left[k], right[k])``
    (each pair once), given as arrays, without the split into components
    of :func:`link_pairs`: its groups depend on these pairs, the order of
    the indices and the members' times only.  ``merges``, when given, receives each
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
    # The strong pairs in the order a heap of them would give them (best
    # first, then by the ends); only the means of merged groups are pushed on
    # a heap.  Most pairs are passed over once their ends merge: a heap of
    # them all cost a pop of some twenty comparisons each.
    ok = np.flatnonzero(scores >= threshold)
    ok = ok[np.lexsort((right[ok], left[ok], -scores[ok]))]
    queue = list(zip((-scores[ok]).tolist(), left[ok].tolist(), right[ok].tolist()))
    del ok
    heap: list[tuple[float, int, int]] = []
    at, end = 0, len(queue)
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
    while at < end or heap:
        if heap and (at == end or heap[0] < queue[at]):
            neg, la, lb = heapq.heappop(heap)
        else:
            neg, la, lb = queue[at]
            at += 1
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


class Group:
    """A group of articles (sorted indices), its score, and the merges that made it
    (:func:`kg.linkage.link_scored`), in order."""

    __slots__ = ("members", "score", "merges")

    def __init__(self, members: list[int], score: float, merges: list[tuple[int, int, float]]) -> None:
        self.members, self.score, self.merges = members, score, merges


def _split_merges(found: list[tuple[list[int], float]],
                  merges: list[tuple[int, int, float]]) -> list[Group]:
    """The groups :func:`kg.linkage.link_scored` found, each with its merges."""
    group_of = {x: k for k, (members, _) in enumerate(found) for x in members}
    own: list[list[tuple[int, int, float]]] = [[] for _ in found]
    for merge in merges:
        own[group_of[merge[0]]].append(merge)
    return [Group(members, score, mine) for (members, score), mine in zip(found, own)]


def relink_groups(scores: np.ndarray, left: np.ndarray, right: np.ndarray, relink: np.ndarray,
            kept: list[Group], threshold: float, times: list[float | None],
            span: float) -> tuple[list[Group], list[Group]]:
    """The groups of :func:`kg.linkage.link_scored` over all the pairs, given the
    groups of the last run whose members' pairs and times did not change
    (``kept``) and the articles to link again (``relink``, updated in place):
    the relinked articles grow, a kept group at a time, until no group of
    theirs could meet a kept one (:func:`_groups_that_may_meet`).  Returns the
    kept groups and the new ones.

    Only the relinked articles' components (by their strong pairs with each
    other) that grew in the last round are linked and checked again: a
    mean reaches no higher than its largest term, so a component's groups
    are its own, and one that took in no kept group met none (a kept group
    that may meet it has a strong pair with it)."""
    done: dict[tuple[int, int], list[Group]] = {}  # a component -> its groups
    near_strong = scores >= threshold - _EPS  # as _groups_that_may_meet compares
    while True:
        members = np.flatnonzero(relink)
        at = np.full(len(relink), -1, np.int64)
        at[members] = np.arange(len(members))
        inside = relink[left] & relink[right] & near_strong
        comp = components(len(members), at[left[inside]], at[right[inside]])
        lone = comp < 0
        comp[lone] = np.flatnonzero(lone)  # an article with no such pair: a component alone
        # A component is known by its lowest member and its size: components
        # only grow, so those two unchanged mean the same members.
        keys = list(zip(members[comp].tolist(), np.bincount(comp)[comp].tolist()))
        done = {key: done[key] for key in set(keys) if key in done}
        is_new = np.array([key not in done for key in keys], bool)
        new = np.zeros(len(relink), bool)
        new[members[is_new]] = True
        merges: list[tuple[int, int, float]] = []
        sel = new[left] & new[right]  # (a weak pair across two components changes no merge)
        found = link_scored(scores[sel], left[sel], right[sel], threshold, times, span, merges)
        crossing = (new[left] & ~relink[right]) | (new[right] & ~relink[left])
        linked = _split_merges(found, merges)
        meet = _groups_that_may_meet(linked, kept, scores[crossing], left[crossing],
                                     right[crossing], relink, threshold, times, span)
        for key in {key for key, fresh in zip(keys, is_new.tolist()) if fresh}:
            done[key] = []
        key_of = dict(zip(members.tolist(), keys))
        for g in linked:
            done[key_of[g.members[0]]].append(g)
        if not meet:
            return kept, [g for groups in done.values() for g in groups]
        for g in meet:
            relink[g.members] = True
        kept = [g for g in kept if not relink[g.members[0]]]


#: Two means closer than this are taken as tied (sums of floats in two orders).
_EPS = 1e-9


class _Forest:
    """The merge trees of some groups: per node its size, the heights it was
    made and merged at, and the span of its members' times."""

    def __init__(self, groups: list[Group], times: list[float | None]) -> None:
        self.times = times
        self.parent: list[int] = []
        self.size: list[int] = []
        self.born: list[float] = []
        self.dies: list[float | None] = []  # None: never merged again
        self.lo: list[float] = []
        self.hi: list[float] = []
        self.group: list[Group] = []
        self.leaf: dict[int, int] = {}
        self.group_of = {x: g for g in groups for x in g.members}  # trees made when first asked

    def _tree(self, g: Group) -> None:
        at = {x: self._leaf(x, g) for x in g.members}
        for a, b, h in g.merges:
            x, y = at[a], at[b]
            node = self._node(self.size[x] + self.size[y], h, min(self.lo[x], self.lo[y]),
                              max(self.hi[x], self.hi[y]), g)
            self.parent[x] = self.parent[y] = node
            self.dies[x] = self.dies[y] = h
            at[a] = node
            del at[b]

    def _node(self, size: int, born: float, lo: float, hi: float, group: Group) -> int:
        self.parent.append(-1)
        self.size.append(size)
        self.born.append(born)
        self.dies.append(None)
        self.lo.append(lo)
        self.hi.append(hi)
        self.group.append(group)
        return len(self.size) - 1

    def _leaf(self, x: int, group: Group) -> int:
        t = self.times[x]
        node = self.leaf[x] = self._node(1, math.inf, math.inf if t is None else t,
                                         -math.inf if t is None else t, group)
        return node

    def chain(self, x: int) -> list[int]:
        """The nodes that hold article ``x``, from its leaf up (a lone article: its leaf)."""
        node = self.leaf.get(x)
        if node is None:
            g = self.group_of.get(x)
            if g is None:
                node = self._leaf(x, Group([x], 0.0, []))
            else:
                self._tree(g)
                node = self.leaf[x]
        out = [node]
        while self.parent[node] >= 0:
            node = self.parent[node]
            out.append(node)
        return out


def _groups_that_may_meet(linked: list[Group], kept: list[Group], scores: np.ndarray,
                          left: np.ndarray, right: np.ndarray, relink: np.ndarray,
                          threshold: float, times: list[float | None], span: float) -> list[Group]:
    """The kept groups (or lone articles) that a run over all articles might merge
    with a group of the relinked ones.

    Two groups that coexist during the run (one's making and the other's end
    overlap) merge only when their mean reaches the height of the next merge;
    that height is at least the height at which the first of the two is merged
    into another (merge heights only fall: average linkage is reducible, and a
    span too wide stays too wide), or the threshold for a group never merged
    again.  A mean below that, for every coexisting pair of groups across the
    two sides, leaves every merge of both runs as it was.
    """
    if not len(scores):
        return []
    mine, theirs = _Forest(linked, times), _Forest(kept, times)
    ours_of: dict[int, list[int]] = {}  # an article's chain, made once
    theirs_of: dict[int, list[int]] = {}
    sums: dict[int, float] = defaultdict(float)  # x << 32 | y -> the sum of their pairs
    ours_first = relink[left]
    for p, a, r in zip(scores.tolist(), np.where(ours_first, left, right).tolist(),
                       np.where(ours_first, right, left).tolist()):
        ours = ours_of.get(a)
        if ours is None:
            ours = ours_of[a] = [x << 32 for x in mine.chain(a)]
        chain = theirs_of.get(r)
        if chain is None:
            chain = theirs_of[r] = theirs.chain(r)
        for y in chain:
            for x in ours:
                sums[x | y] += p
    meet: dict[int, Group] = {}
    for xy, total in sums.items():
        x, y = xy >> 32, xy & 0xFFFFFFFF
        mean = total / (mine.size[x] * theirs.size[y])
        if mean < threshold - _EPS:
            continue
        dx, dy = mine.dies[x], theirs.dies[y]
        if mine.born[x] < (-math.inf if dy is None else dy) or \
                theirs.born[y] < (-math.inf if dx is None else dx):
            continue  # one is gone before the other is made
        if max(mine.hi[x], theirs.hi[y]) - min(mine.lo[x], theirs.lo[y]) > span:
            continue
        if mean >= max(threshold if dx is None else dx, threshold if dy is None else dy) - _EPS:
            top = y
            while theirs.parent[top] >= 0:
                top = theirs.parent[top]
            meet[top] = theirs.group[top]
    return list(meet.values())
