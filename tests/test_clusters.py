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


def test_labels_name_what_sets_a_cluster_apart_on_ai_facial(corpus_dir):
    import kg
    from kg.clusters import cluster_labels, topic_clusters
    from kg.graph import build_graph

    g = build_graph(kg.load(corpus_dir("ai-facial")))
    clusters = topic_clusters(g)
    labels = cluster_labels(g, clusters)
    assert labels == cluster_labels(g, clusters)  # deterministic
    uk = {clusters[a] for a in clusters if "£17m" in g.nodes[a].get("title", "")}
    assert len(uk) == 1
    uk_label = labels[uk.pop()].lower().split(" · ")
    assert {"clearview", "ico", "fine"} & set(uk_label), uk_label
    generic = {"information", "use", "using", "technology", "tech", "ai", "new", "facial", "face",
               "recognition", "company", "companies", "data", "says", "report", "set"}
    for label in labels.values():
        words = set(label.lower().replace(" · ", " ").split())
        assert 1 <= len(label.split(" · ")) <= 3
        assert words - generic, f"label of generic words only: {label!r}"
