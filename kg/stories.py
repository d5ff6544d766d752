"""Same-story groups and topic clusters of articles.

Two computed structures sit on top of the knowledge graph:

* **Stories** (:func:`find_stories`, :func:`add_stories`): articles that
  report the same event, usually from different providers.  Two articles are
  scored by the cosine of their IDF-weighted title + excerpt terms (title
  terms count double), plus a bonus when one lists the other as ``related``;
  pairs are only compared when published within ``window`` of each other.
  Pairs at or above ``threshold`` are merged greedily, strongest first, and a
  merge is refused when the group would span more than ``window`` (so a daily
  column with the same headline does not chain into one story).  Candidate
  pairs come from a term index (each article is looked up by its rarest
  terms), never from all pairs, so 100,000 articles take seconds.
* **Topic clusters** (:func:`topic_clusters`, :func:`cluster_labels`):
  Louvain communities (seeded, so deterministic) of the article graph made of
  ``related`` links, shared stories, text similarity and shared topics, where
  a topic's weight falls with its frequency and hub topics (carried by more
  than ``hub_share`` of the articles) weigh nothing.

>>> import kg
>>> g = kg.build_graph(kg.load_corpus("seeds"))
>>> ids = add_stories(g)
>>> [g.nodes[s]["label"] for s in ids]
['Worcester bans city use of facial recognition technology']
>>> g.nodes[ids[0]]["size"], g.nodes[ids[0]]["method"]
(2, 'tfidf-cosine+related')
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable
from itertools import chain
from dataclasses import dataclass
from datetime import timedelta

import networkx as nx

from ._util import gc_paused

__all__ = [
    "Story", "find_stories", "add_stories", "story_id", "fold", "terms",
    "topic_clusters", "cluster_labels", "hub_topics",
    "DEFAULT_THRESHOLD", "DEFAULT_WINDOW", "METHOD",
]

#: Minimum pair score for two articles to be one story (chosen on the
#: labelled pairs of ``tests/test_stories.py``).
DEFAULT_THRESHOLD = 0.6
#: Longest time between the first and the last article of one story.
DEFAULT_WINDOW = timedelta(days=4)
METHOD = "tfidf-cosine+related"
#: Added to the text score of a pair when one article lists the other.
RELATED_BONUS = 0.15
_TITLE_WEIGHT = 2.0
IDF_POWER = 1.0
_KEYS = 4           # rarest terms of an article used to look up candidates
_MAX_POSTINGS = 400  # a key shared by more articles in the window is no key

_STOP = frozenset("""
a about above after again against all also am an and any are as at be because
been before being below between both but by can could did do does doing down
during each few for from further had has have having he her here hers him his
how i if in into is it its itself just me more most my no nor not now of off
on once only or other our out over own same she should so some such than that
the their them then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you
your says said say new news may might one two its it's s t us via amid latest
""".split())
# Combining marks (accents) left by NFKD decomposition.
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_WORD = re.compile(r"[^\W_]{2,}")
# "Headline - The New York Times": a short provider tail after a dash or bar.
_TAIL = re.compile(r"\s+[-|\u2013\u2014]\s+[^-|\u2013\u2014]{2,40}$")


def fold(text: str) -> str:
    """Case- and accent-insensitive form of a text, for matching.

    >>> fold("Reconnaissance FACIALE à Montréal")
    'reconnaissance faciale a montreal'
    """
    if text.isascii():
        return text.lower()  # the common case, 50x faster than decomposing
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text)).casefold()


def terms(text: str) -> list[str]:
    """The content words of a text: folded, stop words and 1-letter words dropped.

    >>> terms("Clearview AI faces £17m fine in the UK")
    ['clearview', 'ai', 'faces', '17m', 'fine', 'uk']
    """
    return [w for w in _WORD.findall(fold(text)) if w not in _STOP]


def _term_set(text: str) -> set[str]:
    return set(_WORD.findall(fold(text))) - _STOP


def _strip_tail(title: str) -> str:
    stripped = _TAIL.sub("", title)
    return stripped if len(stripped) >= 20 else title


def story_id(members: Iterable[str]) -> str:
    """The id of a story: a hash of its sorted member article ids.

    >>> story_id(["article/b", "article/a"]) == story_id(["article/a", "article/b"])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()
    return "story/" + digest[:16]


@dataclass(frozen=True)
class Story:
    """A group of articles reporting the same event."""

    id: str
    members: tuple[str, ...]
    label: str
    score: float  # mean score of the links that joined the group


class _Docs:
    """Article term vectors, IDF weights and publication times.

    Terms are numbered by rarity (document frequency, then the term), so an
    article's vector, a dict keyed by term number in increasing order, lists
    its rarest terms first, and sums over shared terms run in the same order
    whatever ``PYTHONHASHSEED`` is.
    """

    def __init__(self, graph: nx.MultiDiGraph, nodes: Iterable[str] | None = None):
        if nodes is None:
            nodes = (n for n, k in graph.nodes(data="kind") if k == "article")
        ids = sorted(nodes)
        attrs = graph.nodes
        with gc_paused():  # millions of small sets and dicts, none of them cyclic
            seen: dict[str, set[str]] = {}  # same-story copies repeat their texts
            title_terms: list[set[str]] = []
            body_terms: list[set[str]] = []
            times: list[float | None] = []
            for n in ids:
                d = attrs[n]
                text = _strip_tail(d.get("title", ""))
                t = seen.get(text)
                if t is None:
                    t = seen[text] = _term_set(text)
                text = d.get("excerpt", "")
                b = seen.get(text)
                if b is None:
                    b = seen[text] = _term_set(text)
                title_terms.append(t)
                body_terms.append(b - t)
                times.append(_timestamp(d.get("published")))
            del seen
            df = Counter(chain.from_iterable(title_terms))
            df.update(chain.from_iterable(body_terms))
            total = max(len(ids), 1)
            vocab = sorted(df, key=lambda w: (df[w], w))
            rank = {w: r for r, w in enumerate(vocab)}
            idf = [(math.log((1 + total) / (1 + df[w])) + 1.0) ** IDF_POWER for w in vocab]
            title_idf = [x * _TITLE_WEIGHT for x in idf]
            vectors: list[dict[int, float]] = []
            for t, b in zip(title_terms, body_terms):
                v = {r: title_idf[r] for r in map(rank.__getitem__, t)}
                for r in map(rank.__getitem__, b):
                    v[r] = idf[r]
                keys = sorted(v)
                norm = math.sqrt(sum([v[r] * v[r] for r in keys])) or 1.0
                vectors.append({r: v[r] / norm for r in keys})
        self.graph = graph
        self.ids = ids
        self.index = {n: i for i, n in enumerate(ids)}
        self.n = total
        self.vectors = vectors
        self.times = times

    def cosine(self, i: int, j: int) -> float:
        if j < i:
            i, j = j, i
        a, b = self.vectors[i], self.vectors[j]
        # In the lower index's term order: the same float sum every run.
        return sum([x * b[w] for w, x in a.items() if w in b])

    def related_pairs(self) -> set[tuple[int, int]]:
        out = set()
        index = self.index
        succ = self.graph._succ  # networkx's adjacency dict: its views cost 2x here
        for i, u in enumerate(self.ids):
            for v, keys in succ[u].items():
                if "related" in keys and v != u:
                    j = index.get(v)
                    if j is not None:
                        out.add((i, j) if i < j else (j, i))
        return out

    def candidates(self, window: float) -> set[tuple[int, int]]:
        """Pairs published within ``window`` seconds that share rare terms.

        Each article looks up its ``_KEYS`` rarest terms in a time-ordered
        term index and keeps the articles that hold at least two of them
        (or its only one); near-duplicates share most of their rare terms.
        """
        vectors = self.vectors
        order = sorted((t, i) for i, t in enumerate(self.times) if t is not None)
        pairs: set[tuple[int, int]] = set()
        with gc_paused():
            keys = {i: list(vectors[i])[:_KEYS] for _, i in order}
            # Only terms that are some article's key are ever looked up.
            looked_up = set(chain.from_iterable(keys.values()))
            post_ids: dict[int, list[int]] = {w: [] for w in looked_up}
            for _, i in order:  # time order, so every posting list is sorted by time
                for w in looked_up.intersection(vectors[i]):
                    post_ids[w].append(i)
            all_times = self.times
            post_times = {w: [all_times[i] for i in p] for w, p in post_ids.items()}
            for t, i in order:
                ks = keys[i]
                slices = []
                for w in ks:
                    times = post_times[w]
                    if len(times) < 2:
                        continue  # only this article holds it
                    lo = bisect_left(times, t - window)
                    hi = bisect_right(times, t + window)
                    if 1 < hi - lo <= _MAX_POSTINGS:
                        slices.append(post_ids[w][lo:hi])
                # Every slice holds article i itself (its own time is in the window).
                if len(ks) == 1:
                    found = set(slices[0]) if slices else set()
                elif len(slices) < 2:
                    continue
                else:  # the articles in at least two of the slices
                    held, found = set(slices[0]), set()
                    for sl in slices[1:]:
                        found.update(held.intersection(sl))
                        held.update(sl)
                found.discard(i)
                for j in found:
                    pairs.add((i, j) if i < j else (j, i))
        return pairs

    def scored_pairs(self, window: timedelta, floor: float) -> list[tuple[float, int, int]]:
        """Pairs in the window scoring at least ``floor``, best first."""
        span = window.total_seconds()
        related = self.related_pairs()
        pairs = self.candidates(span)
        times = self.times
        for i, j in related:
            if times[i] is not None and times[j] is not None and abs(times[i] - times[j]) <= span:
                pairs.add((i, j))
        out = []
        vectors = self.vectors
        for i, j in pairs:  # i < j; the sum of cosine(), inlined
            a, b = vectors[i], vectors[j]
            s = sum([x * b[w] for w, x in a.items() if w in b])
            if (i, j) in related:
                s += RELATED_BONUS
            if s >= floor:
                out.append((round(min(s, 1.0), 4), i, j))
        out.sort(key=lambda x: (-x[0], x[1], x[2]))
        return out


def _timestamp(value) -> float | None:
    try:
        return value.timestamp()
    except AttributeError:
        return None


def find_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                 window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group the articles of ``graph`` that report the same event.

    Returns the stories of two or more articles, sorted by id.  Articles
    without a publication date are left out (the window cannot apply).

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> [len(s.members) for s in find_stories(g)]
    [2]
    >>> find_stories(g, threshold=1.01)
    []
    """
    if not 0.0 <= threshold <= 1.5:
        raise ValueError(f"threshold must be between 0 and 1.5, not {threshold}")
    with gc_paused():  # builds millions of small, acyclic objects
        return _find_stories(graph, threshold, window)


def _find_stories(graph: nx.MultiDiGraph, threshold: float, window: timedelta) -> list[Story]:
    docs = _Docs(graph)
    span = window.total_seconds()
    parent = list(range(len(docs.ids)))
    first = list(docs.times)
    last = list(docs.times)
    link_scores: dict[int, list[float]] = defaultdict(list)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for s, i, j in docs.scored_pairs(window, threshold):
        ri, rj = root(i), root(j)
        if ri == rj:
            continue
        lo, hi = min(first[ri], first[rj]), max(last[ri], last[rj])
        if hi - lo > span:
            continue  # the group would outgrow the window
        if rj < ri:
            ri, rj = rj, ri
        parent[rj] = ri
        first[ri], last[ri] = lo, hi
        link_scores[ri].extend(link_scores.pop(rj, []))
        link_scores[ri].append(s)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(parent)):
        groups[root(i)].append(i)
    stories = []
    for r, members in groups.items():
        if len(members) < 2:
            continue
        ids = tuple(sorted(docs.ids[i] for i in members))
        scores = link_scores[r]
        stories.append(Story(id=story_id(ids), members=ids,
                             label=_story_label(docs, members),
                             score=round(sum(scores) / len(scores), 4)))
    stories.sort(key=lambda s: s.id)
    return stories


def _story_label(docs: _Docs, members: list[int]) -> str:
    """The headline most similar to the others (ties: earliest, then id)."""
    def key(i: int):
        total = sum(docs.cosine(i, j) for j in members if j != i)
        return (-round(total, 6), docs.times[i] or 0.0, docs.ids[i])
    best = min(members, key=key)
    return docs.graph.nodes[docs.ids[best]].get("title", docs.ids[best])


def add_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                window: timedelta = DEFAULT_WINDOW) -> list[str]:
    """Add story nodes and ``inStory`` edges to ``graph`` in place.

    Existing story nodes are replaced, so calling it twice gives the same
    graph.  Story nodes carry ``kind="story"``, ``label``, ``method``,
    ``threshold``, ``score``, ``size`` and ``window_days``.  Returns the
    story ids, sorted.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> add_stories(g) == add_stories(g)
    True
    >>> sum(1 for *_, k in g.edges(keys=True) if k == "inStory")
    2
    """
    stories = find_stories(graph, threshold=threshold, window=window)
    graph.remove_nodes_from([n for n, k in list(graph.nodes(data="kind")) if k == "story"])
    for s in stories:
        graph.add_node(s.id, kind="story", label=s.label, method=METHOD,
                       threshold=threshold, score=s.score, size=len(s.members),
                       window_days=window.total_seconds() / 86400)
        for a in s.members:
            graph.add_edge(a, s.id, key="inStory", rel="inStory")
    return [s.id for s in stories]


# -- topic clusters ----------------------------------------------------------

def hub_topics(graph: nx.MultiDiGraph, articles: Iterable[str], *,
               hub_share: float = 0.5) -> dict[str, int]:
    """Topics carried by more than ``hub_share`` of ``articles`` -> count.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
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
    every article does not pull them all together.  Deterministic for a
    given ``seed``.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> c = topic_clusters(g)
    >>> c == topic_clusters(g), min(c.values())
    (True, 0)
    """
    if articles is None:
        articles = (n for n, k in graph.nodes(data="kind") if k == "article")
    arts = sorted(set(articles))
    if not arts:
        return {}
    inside = set(arts)
    h = nx.Graph()
    h.add_nodes_from(arts)

    def link(u: str, v: str, w: float) -> None:
        if w <= 0 or u == v:
            return
        if h.has_edge(u, v):
            h[u][v]["weight"] += w
        else:
            h.add_edge(u, v, weight=w)

    for a in arts:
        for _, v, k in sorted(graph.out_edges(a, keys=True)):
            if k == "related" and v in inside:
                link(a, v, 1.0)
            elif k == "inStory":
                link(a, v, 2.0)
    docs = _Docs(graph, arts)
    for s, i, j in docs.scored_pairs(window, similarity_floor):
        link(docs.ids[i], docs.ids[j], s)
    counts = _neighbour_counts(graph, arts, "about")
    n = len(arts)
    for a in arts:
        for _, t, k in sorted(graph.out_edges(a, keys=True)):
            if k != "about" or counts[t] > hub_share * n or counts[t] < 2:
                continue
            # Rarer topics bind harder; a topic on half the articles barely.
            link(a, t, 0.5 * math.log(n / counts[t]) / math.log(max(n, 2)))
    communities = nx.community.louvain_communities(h, weight="weight", resolution=resolution,
                                                   seed=seed)
    groups = [sorted(c & inside) for c in communities]
    groups = [g for g in groups if g]
    groups.sort(key=lambda g: (-len(g), g[0]))
    return {a: i for i, g in enumerate(groups) for a in g}


def cluster_labels(graph: nx.MultiDiGraph, clusters: dict[str, int], *,
                   top: int = 3, hub_share: float = 0.5) -> dict[int, str]:
    """A label per cluster from its most characteristic topics and title terms.

    A term scores by its share of the cluster's headlines times its rarity
    among all clustered articles; a non-hub topic carried by most of the
    cluster comes first.

    >>> import kg
    >>> g = kg.build_graph(kg.load_corpus("seeds"))
    >>> labels = cluster_labels(g, topic_clusters(g))
    >>> all(isinstance(v, str) and v for v in labels.values())
    True
    """
    arts = sorted(clusters)
    n = len(arts)
    if not n:
        return {}
    article_terms = {a: set(terms(_strip_tail(graph.nodes[a].get("title", "")))) for a in arts}
    df: Counter = Counter()
    for ts in article_terms.values():
        df.update(ts)
    topic_df = _neighbour_counts(graph, arts, "about")
    members: dict[int, list[str]] = defaultdict(list)
    for a in arts:
        members[clusters[a]].append(a)
    labels = {}
    for c, ms in sorted(members.items()):
        size = len(ms)
        tf: Counter = Counter()
        for a in ms:
            tf.update(article_terms[a])
        scored = sorted(((-(cnt / size) * math.log(n / df[w]), w)
                         for w, cnt in tf.items() if cnt >= min(2, size)), key=lambda x: x)
        words = [w for _, w in scored[:top]]
        parts = []
        ttf = _neighbour_counts(graph, ms, "about")
        for t, cnt in sorted(ttf.items(), key=lambda kv: (-kv[1], kv[0])):
            if topic_df[t] <= hub_share * n and cnt / size >= 0.5 and cnt / size > topic_df[t] / n:
                parts.append(graph.nodes[t].get("label", t))
                break
        parts.extend(words)
        labels[c] = " · ".join(parts) if parts else graph.nodes[ms[0]].get("title", ms[0])[:40]
    return labels
