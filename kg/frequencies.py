"""Time-local document frequencies for story detection (:mod:`kg.stories`).

A term's weight in an article comes from how many articles *of its time*
hold it, as in online topic detection and tracking: the articles of the
fewest calendar months around the article's own that hold
``DF_ARTICLES`` articles (:func:`df_spans`).  A word that fills the news of
one month weighs little then and more in another; and an edit, an
addition or a removal changes the vectors of the articles of nearby months
only, so that stories can be updated where a corpus changed
(:mod:`kg.story_state`).  Undated articles have no months around them:
they count the whole corpus.

>>> month = np.array([600, 600, 601])                  # article -> month
>>> art, term = np.array([0, 0, 1, 2]), np.array([0, 1, 0, 1])
>>> df, total = span_frequencies(month, art, term, least=2)
>>> df.tolist(), total.tolist()      # months 600's articles (two) for 0 and 1; 600-602 for 2
([2, 1, 2, 2], [2, 2, 3])
"""

from __future__ import annotations

import numpy as np

__all__ = ["DF_ARTICLES", "time_buckets", "df_spans", "span_frequencies"]

#: Document frequencies are counted over the fewest months around an
#: article's that hold this many articles (:func:`df_spans`).
DF_ARTICLES = 1000


def time_buckets(times: np.ndarray) -> np.ndarray:
    """The month of each time (seconds, NaN: no date): its UTC calendar
    month counted from January 1970; -1 when undated.

    >>> time_buckets(np.array([0.0, 31 * 86400.0, np.nan])).tolist()
    [0, 1, -1]
    """
    out = np.full(len(times), -1, np.int64)
    dated = ~np.isnan(times)
    out[dated] = times[dated].astype("datetime64[s]").astype("datetime64[M]").astype(np.int64)
    return out


def df_spans(month: np.ndarray, least: int = DF_ARTICLES) -> tuple[np.ndarray, np.ndarray]:
    """For each article's month (-1: undated), the first and last month
    whose articles count its document frequencies: the fewest months on
    either side of its own that hold at least ``least`` articles (all of them
    in a smaller corpus).  Undated articles count every article (``lo`` 0,
    ``hi`` beyond every month): they have no months around them.

    >>> lo, hi = df_spans(np.array([5, 5, 6, 9, -1]), least=3)
    >>> lo[:4].tolist(), hi[:4].tolist()  # months 4 and 10 to 13 hold none
    ([5, 5, 5, 5], [6, 6, 7, 9])
    """
    lo = np.zeros(len(month), np.int64)
    hi = np.full(len(month), 10**6, np.int64)
    dated = month >= 0
    if not dated.any():
        return lo, hi
    first, last = int(month[dated].min()), int(month[dated].max())
    per = np.concatenate([[0], np.cumsum(np.bincount(month[dated] - first, minlength=last - first + 1))])
    months = np.arange(first, last + 1)
    reach = np.zeros(len(months), np.int64)
    todo = np.ones(len(months), bool)
    for r in range(0, last - first + 1):
        a = np.maximum(months - r, first) - first
        b = np.minimum(months + r, last) - first + 1
        done = todo & (per[b] - per[a] >= least)
        reach[done] = r
        todo &= ~done
        if not todo.any():
            break
    reach[todo] = last - first
    m = month[dated]
    r = reach[m - first]
    lo[dated], hi[dated] = np.maximum(m - r, first), np.minimum(m + r, last)
    return lo, hi


def span_frequencies(month: np.ndarray, art: np.ndarray, term: np.ndarray,
                     least: int = DF_ARTICLES) -> tuple[np.ndarray, np.ndarray]:
    """The document frequency of each distinct (article, term) entry over
    the months of its article's :func:`df_spans`, and the number of articles
    of each article's span.

    >>> month = np.array([0, 1, 2, -1])  # the last undated: it counts every month
    >>> art, term = np.array([0, 1, 1, 2, 3]), np.array([0, 0, 1, 0, 1])
    >>> df, total = span_frequencies(month, art, term, least=1)
    >>> df.tolist(), total.tolist()
    ([1, 1, 1, 1, 2], [1, 1, 1, 4])
    """
    lo, hi = df_spans(month, least)
    dated = month >= 0
    first = int(month[dated].min()) if dated.any() else 0
    place = np.where(dated, month - first, -1) + 1  # 0: undated, then months
    width = int(place.max()) + 2
    lo_p = np.where(dated, lo - first + 1, 0)
    end_p = np.where(dated, hi - first + 1, width - 1) + 1  # one past the span's last place
    # Each entry is a distinct article's: a term's articles counted by place and
    # summed along the places make any span's count two lookups.  The table
    # is made for a chunk of terms at a time, so it is never larger than the
    # entries (a long corpus of many words would make it months x words).
    nv = int(term.max()) + 1 if len(term) else 0
    step = max(1, min(nv, (len(term) + width) // width))  # terms per chunk
    df = np.empty(len(term), np.int64)
    for t0 in range(0, nv, step):
        if step < nv:
            sel: np.ndarray | slice = np.flatnonzero((term >= t0) & (term < t0 + step))
            a, t = art[sel], term[sel] - t0
        else:
            sel, a, t = slice(None), art, term
        counts = np.bincount(t * width + place[a], minlength=step * width).reshape(step, width)
        cum = np.zeros((step, width + 1), np.int64)
        np.cumsum(counts, axis=1, out=cum[:, 1:])
        df[sel] = cum[t, end_p[a]] - cum[t, lo_p[a]]
    per = np.concatenate([[0], np.cumsum(np.bincount(place, minlength=width))])
    total = per[np.minimum(end_p, width)] - per[lo_p]
    return df, total
