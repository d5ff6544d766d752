"""Time-local document frequencies (kg.frequencies) against their definition,
counted article by article."""

import numpy as np
import pytest

from kg.frequencies import df_spans, span_frequencies


def _by_definition(month, art, term, least):
    """Each entry's count of the articles holding its term within its
    article's span (undated articles: every article), and each article's
    count of articles in its span."""
    lo, hi = df_spans(month, least)
    holders: dict[int, set[int]] = {}
    for a, t in zip(art.tolist(), term.tolist()):
        holders.setdefault(t, set()).add(a)

    def within(a: int, b: int) -> bool:
        return month[a] < 0 or (month[b] >= 0 and lo[a] <= month[b] <= hi[a])

    df = [sum(within(a, b) for b in holders[t]) for a, t in zip(art.tolist(), term.tolist())]
    total = [sum(within(a, b) for b in range(len(month))) for a in range(len(month))]
    return df, total


@pytest.mark.parametrize("seed", range(40))
def test_span_frequencies_count_what_they_define(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 50))
    month = rng.integers(0, int(rng.integers(1, 40)), n) + 600
    month[rng.random(n) < 0.2] = -1  # some undated
    vocabulary = int(rng.integers(1, 500))  # many words against few entries: several chunks
    entries = np.unique(rng.integers(0, n, 300) * 1000 + rng.integers(0, vocabulary, 300))
    art, term = entries // 1000, entries % 1000
    least = int(rng.integers(1, 15))
    df, total = span_frequencies(month, art, term, least)
    assert (df.tolist(), total.tolist()) == _by_definition(month, art, term, least)


def test_span_frequencies_of_no_entries():
    df, total = span_frequencies(np.array([600, -1]), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert df.tolist() == [] and total.tolist() == [1, 2]  # the undated one counts both
