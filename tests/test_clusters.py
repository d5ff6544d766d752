"""Topic clusters (kg.clusters): Louvain communities of articles."""

from __future__ import annotations

import pytest

import kg
from kg import clusters
from kg.graph import build_graph


@pytest.fixture(scope="module")
def aif_graph(corpus_dir):
    return build_graph(kg.load(corpus_dir("ai-facial")))


def test_topic_clusters_are_seeded_and_leave_the_callers_random_state_alone(aif_graph):
    import random

    g = aif_graph
    random.seed(7)
    expected = random.random()
    random.seed(7)
    first = clusters.topic_clusters(g, seed=1)
    assert random.random() == expected
    assert clusters.topic_clusters(g, seed=1) == first
    assert len(set(first.values())) > 1
    # every article in exactly one cluster, numbered from the largest down
    arts = {n for n, k in g.nodes(data="kind") if k == "article"}
    assert set(first) == arts
    sizes = [list(first.values()).count(c) for c in range(max(first.values()) + 1)]
    assert sizes == sorted(sizes, reverse=True)
