"""Topic communities of articles and their labels.

:func:`topic_clusters` finds Louvain communities (igraph's, seeded, so
deterministic) of the article graph made of ``related`` links, shared
stories, text similarity and shared topics, where a topic's weight falls with
its frequency and hub topics (carried by more than ``hub_share`` of the
articles, :func:`hub_topics`) weigh nothing; :func:`cluster_labels` names
each community.  The text similarity is the story score of
:func:`kg.stories.similar_pairs`, at a lower floor and over a longer window.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> clusters = topic_clusters(g)
>>> sorted(set(clusters.values()))[:2]
[0, 1]
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from datetime import timedelta

import networkx as nx

from .stories import similar_pairs
from .text import fold, stem_words, strip_tail, terms

__all__ = ["topic_clusters", "cluster_labels", "hub_topics"]

# Words as written, to show a label word as most often spelled ("ICO", not "ico").
_SURFACE = re.compile(r"[^\W_]{2,}")
# Company suffixes: in many names, naming none.
_SUFFIXES = frozenset({"inc", "ltd", "llc", "plc", "corp", "co", "gmbh"})


def hub_topics(graph: nx.MultiDiGraph, articles: Iterable[str], *,
               hub_share: float = 0.5) -> dict[str, int]:
    """Topics carried by more than ``hub_share`` of ``articles`` -> count.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> arts = [n for n, d in g.nodes(data=True) if d["kind"] == "article" and d["files"]]
    >>> sorted(hub_topics(g, arts))
    ['topic/ai', 'topic/computer-vision']
    """
    arts = list(articles)
    counts = _neighbour_counts(graph, arts, "about")
    limit = hub_share * len(arts)
    return {t: c for t, c in sorted(counts.items()) if c > limit}


def _neighbour_counts(graph: nx.MultiDiGraph, articles: list[str], rel: str) -> Counter:
    counts: Counter = Counter()
    for a in articles:
        counts.update({v for _, v, k in graph.out_edges(a, keys=True) if k == rel})
    return counts


def topic_clusters(graph: nx.MultiDiGraph, articles: Iterable[str] | None = None, *,
                   seed: int = 42, resolution: float = 1.0,
                   hub_share: float = 0.5, similarity_floor: float = 0.3,
                   window: timedelta = timedelta(days=14)) -> dict[str, int]:
    """Louvain clusters of articles -> cluster number (0 = largest).

    The clustered graph joins articles by ``related`` links (weight 1), by a
    shared story (2), by text similarity at or above ``similarity_floor``
    within ``window`` (the score), and through their topics, each weighted by
    its rarity among ``articles``; hub topics weigh nothing, so a topic on
    every article does not pull them all together.  Louvain is igraph's
    (in C: NetworkX's pure-Python one does not scale to large corpora), fed
    by a generator seeded with ``seed``, so the clusters are the same on
    every run.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> c = topic_clusters(g)
    >>> c == topic_clusters(g), min(c.values())
    (True, 0)
    """
    import random

    import igraph

    if articles is None:
        articles = (n for n, k in graph.nodes(data="kind") if k == "article")
    arts = sorted(set(articles))
    if not arts:
        return {}
    inside = set(arts)
    vertex = {a: i for i, a in enumerate(arts)}  # then the topics and stories linked
    weights: dict[tuple[int, int], float] = {}

    def link(u: str, v: str, w: float) -> None:
        if w <= 0 or u == v:
            return
        i = vertex[u]
        j = vertex.setdefault(v, len(vertex))
        pair = (i, j) if i < j else (j, i)
        weights[pair] = weights.get(pair, 0.0) + w

    for a in arts:
        for _, v, k in sorted(graph.out_edges(a, keys=True)):
            if k == "related" and v in inside:
                link(a, v, 1.0)
            elif k == "inStory":
                link(a, v, 2.0)
    for s, a, b in similar_pairs(graph, arts, floor=similarity_floor, window=window):
        link(a, b, s)
    counts = _neighbour_counts(graph, arts, "about")
    n = len(arts)
    for a in arts:
        for _, t, k in sorted(graph.out_edges(a, keys=True)):
            if k != "about" or counts[t] > hub_share * n or counts[t] < 2:
                continue
            # Rarer topics bind harder; a topic on half the articles barely.
            link(a, t, 0.5 * math.log(n / counts[t]) / math.log(max(n, 2)))
    h = igraph.Graph(n=len(vertex), edges=list(weights),
                     edge_attrs={"weight": list(weights.values())})
    # igraph draws from a Python generator (by default the random module);
    # a private seeded one leaves the caller's random state alone.
    igraph.set_random_number_generator(random.Random(seed))
    try:
        communities = h.community_multilevel(weights="weight", resolution=resolution)
    finally:
        igraph.set_random_number_generator(random)
    groups = [sorted(arts[i] for i in c if i < n) for c in communities]
    groups = [g for g in groups if g]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return {a: i for i, g in enumerate(groups) for a in g}


def cluster_labels(graph: nx.MultiDiGraph, clusters: dict[str, int], *,
                   top: int = 3, hub_share: float = 0.5) -> dict[int, str]:
    """A label per cluster: its most distinctive words and topics against the
    other clusters (class-based TF-IDF, as in BERTopic).

    A candidate is a content word of a headline (provider tail dropped) or
    excerpt, or a topic carried by the article; words of hub topics (on more
    than ``hub_share`` of the articles) are left out, as are stop words,
    company suffixes and words on more than ``hub_share`` of the articles.
    It scores ``tf * log(1 + A / f)``: ``tf`` the cluster's articles that have
    it, ``A`` the articles per cluster, ``f`` the articles of all clusters
    that have it, so what every cluster says weighs little.  The best ``top``
    (ties by name), on at least two of the cluster's articles when it has
    two, are joined with " · ", each as most often written; a word inside a
    chosen topic's label is not repeated.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> labels = cluster_labels(g, topic_clusters(g))
    >>> labels[1]
    'bans · Worcester · city'
    """
    arts = sorted(clusters)
    n = len(arts)
    if not n:
        return {}
    hubs = hub_topics(graph, arts, hub_share=hub_share)
    hub_words = {w for t in hubs for w in terms(graph.nodes[t].get("label", ""))}
    written: dict[str, Counter] = defaultdict(Counter)
    stem: dict[str, str] = {}
    article_terms: dict[str, dict[str, float]] = {}
    for a in arts:
        d = graph.nodes[a]
        title, excerpt = strip_tail(d.get("title", "")), d.get("excerpt", "")
        title_words, excerpt_words = terms(title), terms(excerpt)
        # Headlines capitalise every word: a word written in lower case at
        # all is shown so unless capitalised far more often ("ICO" never is).
        for word in _SURFACE.findall(title + " \n " + excerpt):
            written[fold(word)][word] += 3 if word.islower() else 1
        # A headline word counts fully, an excerpt's half: headlines name
        # the event, excerpts add context every cluster shares.  Words count
        # by stem ("certificate" and "certificates" are one).
        for w in title_words + excerpt_words:
            if w not in stem:
                stem[w] = stem_words([w])[0]
        weights = ({stem[w]: 0.5 for w in excerpt_words if w not in hub_words}
                   | {stem[w]: 1.0 for w in title_words if w not in hub_words})
        weights.update((t, 1.0) for _, t, k in graph.out_edges(a, keys=True) if k == "about")
        article_terms[a] = {w: x for w, x in weights.items()
                            if w not in hubs and w not in _SUFFIXES and not w.isdigit()}
    spelled: dict[str, Counter] = defaultdict(Counter)
    for w, forms in sorted(written.items()):
        if w in stem:
            spelled[stem[w]].update(forms)
    df: Counter = Counter()
    for ts in article_terms.values():
        df.update(ts.keys())
    members: dict[int, list[str]] = defaultdict(list)
    for a in arts:
        members[clusters[a]].append(a)
    per_cluster = n / len(members)
    # Words on more than hub_share of all the articles name none of them.
    common = {w for w, f in df.items() if f > hub_share * n} if n > 2 else set()
    labels = {}
    for c, ms in sorted(members.items()):
        tf: Counter = Counter()
        seen: Counter = Counter()
        for a in ms:
            tf.update(article_terms[a])
            seen.update(article_terms[a].keys())
        scored = sorted((-cnt * math.log1p(per_cluster / df[w]), w)
                        for w, cnt in tf.items() if seen[w] >= min(2, len(ms)) and w not in common)
        parts: list[str] = []
        covered: set[str] = set()
        for _, w in scored:
            if len(parts) == top:
                break
            if w in graph and graph.nodes[w].get("kind") == "topic":
                label = graph.nodes[w].get("label", w)
                words = set(stem_words(terms(label)))
                if words <= covered:
                    continue
                covered.update(words)
                parts.append(label)
            elif w not in covered:
                covered.add(w)
                parts.append(spelled[w].most_common(1)[0][0] if spelled[w] else w)
        labels[c] = " · ".join(parts) if parts else graph.nodes[ms[0]].get("title", ms[0])[:40]
    return labels
