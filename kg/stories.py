"""Same-event stories: the articles that report one event.

Two articles are scored (:class:`kg.story_docs.StoryDocs`) by the cosine of their TF-IDF vectors over title,
excerpt and the lead of the body (Snowball stems; title words count double; document frequencies from
the months around the article's holding :data:`kg.frequencies.DF_ARTICLES` articles, so a word
every article of that time has weighs nothing, and an edit changes the
vectors of its time only) extended with
*event anchors* (:mod:`kg.anchors`: money converted between currencies,
counts, dates, acronyms and aliases such as ICO = Information
Commissioner's Office).  The cosine fades to half over ``window``, is
halved when both headlines name places, or figures, and none in common
(Maryland's schools and Connecticut's; one day's case count and the next),
divided by five when both name a day and not the same one,
and gains a bonus when one article lists the other as ``related`` or both
are copies (same excerpt, same URL slug).  Pairs are only compared when
published within ``window`` of each other.  An article without a date is
compared only when a ``related`` link or a copy ties it to another: it
takes the time of the closest such article, and its pairs fade by
``UNDATED_FADE`` whatever that time, so it joins a story only on a stronger
text than a dated article the same day needs; untied, it stays alone.

Groups come from average-linkage agglomerative clustering of that score
graph (:func:`kg.linkage.average_linkage`): two groups merge while the mean score of
all their cross pairs reaches ``threshold`` and they span at most
``window``, so one article close to two events does not chain them.
Candidate pairs come from a term index (:mod:`kg.blocking`: each article is looked up by its
rarest terms that others in its window share, and keeps at most
``MAX_CANDIDATES``), never from all pairs, so the work grows with the
corpus, not with its square, nor with how many articles share its weeks;
numpy scores them in bulk, a block at a time.  Topic communities, which reuse the
scored pairs (:func:`similar_pairs`), live in :mod:`kg.clusters`.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> ids = add_stories(g)
>>> [g.nodes[s]["label"] for s in ids]
['Worcester bans city use of facial recognition technology']
>>> g.nodes[ids[0]]["size"], g.nodes[ids[0]]["method"]
(3, 'tfidf-anchors+average-linkage')
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import networkx as nx
import numpy as np

from ._perf import gc_paused
from .linkage import link_pairs
from .story_docs import UNDATED_FADE, StoryDocs
from .text import strip_tail

__all__ = [
    "Story", "find_stories", "add_stories", "story_id", "similar_pairs", "StoryDocs",
    "story_labels", "make_stories", "put_stories",
    "DEFAULT_THRESHOLD", "DEFAULT_WINDOW", "METHOD", "UNDATED_FADE",
]

#: Minimum mean score between two groups for them to be one story (chosen
#: on the labelled events of ``tests/data``: benchmarks/stories_eval.py).
DEFAULT_THRESHOLD = 0.23
#: Longest time between the first and the last article of one story.
DEFAULT_WINDOW = timedelta(days=7)
#: Pairs scoring below this are not in the graph that is clustered.
PAIR_FLOOR = 0.1
METHOD = "tfidf-anchors+average-linkage"


def story_id(members: Iterable[str]) -> str:
    """The id of a story: a hash of its sorted member article ids.

    >>> story_id(["article/b", "article/a"]) == story_id(["article/a", "article/b"])
    True
    """
    digest = hashlib.sha256("\n".join(sorted(members)).encode()).hexdigest()
    return "story/" + digest[:16]


@dataclass(frozen=True)
class Story:
    """A group of articles reporting the same event (see :func:`find_stories`).

    >>> Story(story_id(["article/a", "article/b"]), ("article/a", "article/b"), "Headline", 0.8).members
    ('article/a', 'article/b')
    """

    id: str
    members: tuple[str, ...]
    label: str
    score: float  # mean score of the links that joined the group


@gc_paused()  # builds millions of small, acyclic objects
def find_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                 window: timedelta = DEFAULT_WINDOW) -> list[Story]:
    """Group the articles of ``graph`` that report the same event.

    Returns the stories of two or more articles, sorted by id.  An article
    without a publication date joins one only when tied to it by a
    ``related`` link or as a copy, on a strong text (see the module notes).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> [len(s.members) for s in find_stories(g)]
    [3]
    >>> find_stories(g, threshold=1.01)
    []
    """
    return _find_stories(graph, threshold, window)


@gc_paused()  # as find_stories
def similar_pairs(graph: nx.MultiDiGraph, articles: Iterable[str], *, floor: float,
                  window: timedelta) -> list[tuple[float, str, str]]:
    """Pairs of ``articles`` published within ``window`` whose story score
    (text cosine plus the ``related`` bonus) is at least ``floor``, best first:
    (score, article id, article id), the lower id first.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> arts = [n for n, k in g.nodes(data="kind") if k == "article"]
    >>> [(s, a < b) for s, a, b in similar_pairs(g, arts, floor=0.6, window=DEFAULT_WINDOW)]
    [(1.0, True)]
    """
    docs = StoryDocs(graph, articles)
    scores, left, right = (a.tolist() for a in docs.scored_arrays(window, floor))
    return [(s, docs.ids[i], docs.ids[j]) for s, i, j in zip(scores, left, right)]


def _find_stories(graph: nx.MultiDiGraph, threshold: float, window: timedelta) -> list[Story]:
    if not 0.0 <= threshold <= 1.5:
        raise ValueError(f"threshold must be between 0 and 1.5, not {threshold}")
    docs = StoryDocs(graph)
    scores, left, right = docs.scored_arrays(window, min(threshold, PAIR_FLOOR))
    times = docs.window_times()
    docs.keep_only_vectors()  # linking holds a big corpus' peak: what it does not read goes
    return make_stories(docs, link_pairs(scores, left, right, threshold, times,
                                         window.total_seconds()))


def make_stories(docs: StoryDocs, groups: list[tuple[list[int], float]],
                 labels: list[str] | None = None) -> list[Story]:
    """The stories of groups of ``docs`` indices with their scores, labelled
    (``labels``, else :func:`story_labels`), sorted by id.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> docs = StoryDocs(build_graph(kg.load("seeds")))
    >>> make_stories(docs, [([0, 1], 0.5)])[0].members == (docs.ids[0], docs.ids[1])
    True
    """
    stories = []
    if labels is None:
        labels = story_labels(docs, [m for m, _ in groups])
    for (members, score), label in zip(groups, labels):
        ids = tuple(sorted(docs.ids[i] for i in members))
        stories.append(Story(id=story_id(ids), members=ids, label=label, score=score))
    stories.sort(key=lambda s: s.id)
    return stories


def story_labels(docs: StoryDocs, groups: list[list[int]]) -> list[str]:
    """Each group of ``docs`` indices' label: the headline most similar to the others (ties:
    earliest, then id), without a provider tail or a final full stop.

    The cosines of every group's pairs are computed in bulk, in batches of
    bounded size (one call per group would cost more than the scores).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> docs = StoryDocs(build_graph(kg.load("seeds")))
    >>> worcester = [docs.index[a] for a in find_stories(docs.graph)[0].members]
    >>> story_labels(docs, [worcester])
    ['Worcester bans city use of facial recognition technology']
    """
    labels: list[str] = []
    batch: list[list[int]] = []
    pending = 0

    def flush() -> None:
        if not batch:
            return
        left = np.concatenate([np.repeat(np.array(m, np.int64), len(m)) for m in batch])
        right = np.concatenate([np.tile(np.array(m, np.int64), len(m)) for m in batch])
        other = left != right
        cos = np.zeros(len(left))
        cos[other] = docs.cosines(left[other], right[other])
        at = 0
        for m in batch:
            # each member's total over the others of its group, summed as one row
            totals = cos[at:at + len(m) ** 2].reshape(len(m), len(m)).sum(axis=1).tolist()
            at += len(m) ** 2
            best = min(range(len(m)), key=lambda k: (-round(totals[k], 6),
                                                     docs.times[m[k]] or 0.0, docs.ids[m[k]]))
            title = " ".join(docs.graph.nodes[docs.ids[m[best]]].get("title", "").split())
            labels.append(strip_tail(title).removesuffix(".") or docs.ids[m[best]])
        batch.clear()

    for members in groups:
        batch.append(members)
        pending += len(members) ** 2
        if pending >= 2_000_000:
            flush()
            pending = 0
    flush()
    return labels


@gc_paused()
def add_stories(graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
                window: timedelta = DEFAULT_WINDOW) -> list[str]:
    """Add story nodes and ``inStory`` edges to ``graph`` in place.

    Existing story nodes are replaced, so calling it twice gives the same
    graph.  Story nodes carry ``kind="story"``, ``label``, ``method``,
    ``threshold``, ``score``, ``size`` and ``window_days``.  Returns the
    story ids, sorted.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> add_stories(g) == add_stories(g)
    True
    >>> sum(1 for *_, k in g.edges(keys=True) if k == "inStory")
    3
    """
    # Collector paused (the decorator), and no (node, kind) tuple made per
    # node: right after build_graph, such allocations set off full scans of
    # the whole new graph, which free nothing.
    return put_stories(graph, _find_stories(graph, threshold, window), threshold, window)


def put_stories(graph: nx.MultiDiGraph, stories: list[Story], threshold: float,
                window: timedelta) -> list[str]:
    """Replace the story nodes of ``graph`` by ``stories`` (:func:`add_stories`)."""
    graph.remove_nodes_from([n for n, d in graph._node.items() if d.get("kind") == "story"])
    for s in stories:
        graph.add_node(s.id, kind="story", label=s.label, method=METHOD,
                       threshold=threshold, score=s.score, size=len(s.members),
                       window_days=window.total_seconds() / 86400)
        for a in s.members:
            graph.add_edge(a, s.id, key="inStory", rel="inStory")
    return [s.id for s in stories]
