"""Blocking for story detection: which pairs of articles are worth scoring.

Scoring every pair grows with the square of the corpus; reports of one
event share several of their rarer words, names and figures, so each
article is looked up in a time-ordered term index by its rarest terms that
other articles in its window hold too (:func:`window_candidates`).  The work
then grows with the pairs that share rare terms.  :mod:`kg.stories` scores
the pairs found.

>>> ptr = np.array([0, 3, 6, 8])          # three articles' terms (numbered rarest first)
>>> terms = np.array([0, 1, 5, 0, 1, 6, 2, 5])
>>> found = window_candidates(ptr, terms, np.array([0.0, 60.0, 120.0]), 3600.0)
>>> [divmod(c, 3) for c in found.tolist()]   # 0 and 1 share two keys; 2's only key is 5
[(0, 1), (0, 2)]
>>> window_candidates(ptr, terms, np.array([0.0, 60.0, 1e6]), 3600.0).tolist()  # 2 too late
[1]
"""

from __future__ import annotations

import numpy as np

from ._perf import thread_map
from .text import sorted_unique

__all__ = ["window_candidates", "ranges", "member", "KEYS", "MAX_POSTINGS", "MAX_CANDIDATES"]

KEYS = 8             # rarest shared terms of an article used to look up candidates
MAX_POSTINGS = 400   # a key shared by more articles in the window is no key
MAX_CANDIDATES = 64  # an article's candidates: those sharing the most keys, then the nearest in time
_BLOCK = 500_000     # slice entries expanded at once, in each of two threads (memory)
_OWNERS = 12_500     # articles whose keys are looked up at once, two blocks at a time (memory)


def member(a: np.ndarray, sorted_b: np.ndarray) -> np.ndarray:
    """Which values of ``a`` are in ``sorted_b``.

    >>> member(np.array([3, 4]), np.array([1, 3])).tolist()
    [True, False]
    """
    if not len(sorted_b):
        return np.zeros(len(a), bool)
    at = np.minimum(np.searchsorted(sorted_b, a), len(sorted_b) - 1)
    return sorted_b[at] == a


def ranges(starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges ``starts[k] .. starts[k] + lens[k]`` concatenated: (k, position) of each element.

    >>> [x.tolist() for x in ranges(np.array([5, 0]), np.array([2, 1]))]
    [[0, 0, 1], [5, 6, 0]]
    """
    owner = np.repeat(np.arange(len(lens)), lens)
    ends = np.cumsum(lens)
    pos = np.arange(ends[-1] if len(ends) else 0) + np.repeat(starts - (ends - lens), lens)
    return owner, pos


def window_candidates(ptr: np.ndarray, terms: np.ndarray, times: np.ndarray,
                      window: float, rarity: np.ndarray | None = None,
                      owners: np.ndarray | None = None) -> np.ndarray:
    """Sorted codes ``i * n + j`` (``i < j``) of the pairs published within
    ``window`` seconds that share rare terms.

    Article ``i``'s terms are ``terms[ptr[i]:ptr[i + 1]]``, increasing, and
    ``rarity[k]`` orders ``terms[k]`` among its article's terms, rarest
    first (default: the term numbers); ``times`` are seconds (NaN: no time,
    never a candidate).  Each article's keys are its ``KEYS`` rarest terms
    that other articles in its window hold too (at most ``MAX_POSTINGS`` of
    them: a term that common is no key); it looks them up in a time-ordered
    term index and keeps the articles that hold at least two of them (or its
    only one): the ``MAX_CANDIDATES`` that hold the most, then the nearest
    in time.  With ``owners`` (a mask of articles), only those articles
    look theirs up: the pairs found are those found from an owner.
    """
    n = len(ptr) - 1
    art = np.repeat(np.arange(n), np.diff(ptr))
    order = np.flatnonzero(~np.isnan(times))
    order = order[np.argsort(times[order], kind="stable")]  # by time, then index
    nt = len(order)
    if nt < 2:
        return np.zeros(0, np.int64)
    at = np.full(n, -1, np.int64)  # article -> place in time order
    at[order] = np.arange(nt)
    st = times[order]
    # Articles within the window of each place p: places lo[p] .. hi[p] - 1.
    lo = np.searchsorted(st, st - window, "left")
    hi = np.searchsorted(st, st + window, "right")
    # The term index: (term, place) of every timed article.
    held = at[art] >= 0
    posting = terms[held] * nt + at[art[held]]
    posting.sort()
    del art, held
    places = np.arange(nt) if owners is None else np.flatnonzero(owners[order])
    # Owners a block at a time: an owner's candidates depend on it alone, and
    # the arrays of every term of every owner at once are many times the index.
    # (Two blocks at a time, on two cores.)
    found = [np.zeros(0, np.int64)]
    for part in thread_map(lambda b: _owner_candidates(places[b:b + _OWNERS], ptr, terms, rarity,
                                                       order, st, lo, hi, posting),
                           range(0, len(places), _OWNERS)):
        found += part
    return sorted_unique(np.concatenate(found))


def _owner_candidates(places: np.ndarray, ptr: np.ndarray, terms: np.ndarray,
                      rarity: np.ndarray | None, order: np.ndarray, st: np.ndarray,
                      lo: np.ndarray, hi: np.ndarray, posting: np.ndarray) -> list[np.ndarray]:
    """:func:`window_candidates` of the articles at ``places`` (in time order):
    sorted code arrays."""
    n, nt = len(ptr) - 1, len(order)
    owner, pos = ranges(ptr[order[places]], np.diff(ptr)[order[places]])
    owner = places[owner]  # a place in time order
    # Lookups by term, then time: both bounds below come in increasing
    # order, which keeps searchsorted's lookups near each other in memory.
    by_key = np.argsort(terms[pos] * nt + owner, kind="stable")
    key, owner, pos = terms[pos][by_key], owner[by_key], pos[by_key]
    rank = (terms if rarity is None else rarity)[pos]
    start = np.searchsorted(posting, key * nt + lo[owner])
    count = np.searchsorted(posting, key * nt + hi[owner]) - start
    # A slice holds the article itself; one of more than MAX_POSTINGS is no key.
    ok = (count > 1) & (count <= MAX_POSTINGS)
    key, owner, start, count, rank = key[ok], owner[ok], start[ok], count[ok], rank[ok]
    # An owner's rarest keys first: its first KEYS slices.
    by_owner = np.lexsort((rank, owner))
    key, owner, start, count = key[by_owner], owner[by_owner], start[by_owner], count[by_owner]
    first_of = np.searchsorted(owner, owner, "left")
    ok = np.arange(len(owner)) - first_of < KEYS
    slices = np.bincount(owner[ok], minlength=nt)
    multi = slices >= 2  # the articles in at least two slices (of one: every article in it)
    # The slices, owner by owner, expanded a block of owners at a time:
    # they grow faster than the corpus (the window fills up as it grows),
    # their pairs far fewer, so expanding them all at once runs out of memory.
    owner, start, count = owner[ok], start[ok], count[ok]
    per_owner = np.cumsum(np.bincount(owner, weights=count, minlength=nt))
    cuts = np.searchsorted(per_owner, np.arange(_BLOCK, per_owner[-1], _BLOCK), "right")
    rows = np.searchsorted(owner, np.concatenate(([0], cuts, [nt])))
    found = []
    for r0, r1 in zip(rows[:-1].tolist(), rows[1:].tolist()):
        if r0 == r1:
            continue
        which, at_pos = ranges(start[r0:r1], count[r0:r1])
        p = owner[r0:r1][which]
        # (owner place, other place): a pair is at most once per slice, so
        # its run length is the number of keys the two share.
        pair = p * nt + posting[at_pos] % nt
        pair.sort()
        head = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        shared = np.diff(np.r_[head, len(pair)])
        pair = pair[head]
        p, q = np.divmod(pair, nt)
        keep = (p != q) & np.where(multi[p], shared >= 2, True)
        p, q, shared = p[keep], q[keep], shared[keep]
        # The MAX_CANDIDATES that share the most keys, then the nearest in
        # time (then the lower place): how many an article is compared with
        # does not grow with how many articles its window holds.
        by_rank = np.lexsort((q, np.abs(st[q] - st[p]), -shared, p))
        p, q = p[by_rank], q[by_rank]
        first = np.searchsorted(p, p, "left")
        top = np.arange(len(p)) - first < MAX_CANDIDATES
        i, j = order[p[top]], order[q[top]]
        found.append(sorted_unique(np.minimum(i, j) * n + np.maximum(i, j)))
    return found
