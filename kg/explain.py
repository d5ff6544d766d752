"""Why two articles are (not) one story: the pair's score and what made it.

``kg stories --explain URL1 URL2`` prints :meth:`PairExplanation.lines`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import networkx as nx
import numpy as np

from ._perf import gc_paused
from .anchors import describe
from .curation import resolve_article
from .stories import DEFAULT_WINDOW
from .story_docs import CONFLICT, RELATED_BONUS, SYNDICATION_BONUS, UNDATED_FADE, StoryDocs

__all__ = ["PairExplanation", "explain_pair", "resolve_article", "CONFLICT"]


@dataclass(frozen=True)
class PairExplanation:
    """Why two articles are (not) one story: see :func:`explain_pair`."""

    a: str
    b: str
    score: float           # the pair's story score (text x fade x conflicts + bonuses)
    cosine: float          # of the TF-IDF + anchor vectors
    fade: float            # 1 the same moment, 0.5 at the window (0 outside it); UNDATED_FADE undated
    conflict: float        # CONFLICT per clash of places or figures, else 1
    related: bool
    syndicated: bool
    days_apart: float | None
    shared: tuple[tuple[str, float], ...]  # shared terms and anchors, biggest share of the cosine first
    places: tuple[tuple[str, ...], tuple[str, ...]]
    figures: tuple[tuple[str, ...], tuple[str, ...]]
    same_story: bool | None = None  # in the graph's stories, when it has any
    time_from: tuple[str | None, str | None] = (None, None)  # an undated one's borrowed time

    def as_dict(self) -> dict:
        """A JSON-ready mapping."""
        from dataclasses import asdict

        return asdict(self)

    def lines(self) -> list[str]:
        """The explanation as text, for people."""
        apart = "no date" if self.days_apart is None else f"{self.days_apart:.1f} days apart"
        out = [f"score {self.score:.3f} = cosine {self.cosine:.3f} x fade {self.fade:.2f} "
               f"({apart}) x conflict {self.conflict:.2f}"
               + (f" + related {RELATED_BONUS}" if self.related else "")
               + (f" + syndication {SYNDICATION_BONUS}" if self.syndicated else "")]
        if self.shared:
            out.append("shared: " + ", ".join(f"{w} ({c:.2f})" for w, c in self.shared))
        for name, (x, y) in (("places", self.places), ("figures", self.figures)):
            if x or y:
                out.append(f"{name} in the headlines: {', '.join(x) or '-'} | {', '.join(y) or '-'}")
        for art, other in zip((self.a, self.b), self.time_from):
            if other is not None:
                out.append(f"{art} has no date: it takes the time of {other} (a related "
                           f"link or a copy), its pairs fade by {UNDATED_FADE}")
        if self.same_story is not None:
            out.append("same story" if self.same_story else "not in the same story")
        return out


@gc_paused()
def explain_pair(graph: nx.MultiDiGraph, a: str, b: str, *,
                 window: timedelta = DEFAULT_WINDOW, top: int = 8) -> PairExplanation:
    """The story score of articles ``a`` and ``b`` (URLs or ids) and what
    made it: shared terms and anchors (each with its share of the cosine),
    the time between them, clashing places or figures, links, copies.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> e = explain_pair(g, "e1bee6dae58838f9", "8373b665cde0dc69")
    >>> e.score >= 0.23, [w for w, _ in e.shared][:3]
    (True, ['ban', 'worcest', 'citi'])
    """
    docs = StoryDocs(graph)
    i, j = sorted((docs.index[resolve_article(graph, a)], docs.index[resolve_article(graph, b)]))
    left, right = np.array([i], np.int64), np.array([j], np.int64)
    va, vb = docs.vector(i), docs.vector(j)
    shares = sorted(((x * vb[w], w) for w, x in va.items() if w in vb), key=lambda c: (-c[0], c[1]))
    cosine = docs.cosine(i, j)
    related = bool(np.isin(i * len(docs.ids) + j, docs.related_pairs()))
    span = window.total_seconds()
    ti, tj = docs.times[i], docs.times[j]
    apart = None if ti is None or tj is None else abs(ti - tj)
    # Compared at all: within the window (an undated one by its borrowed
    # time), or an undated one tied to the other (see kg.stories).
    inside = (bool(abs(docs.time_array[i] - docs.time_array[j]) <= span)
              or bool(np.isin(i * len(docs.ids) + j, docs.ties)))
    score = float(docs.pair_scores(left, right, np.array([cosine]), np.array([related]), span)[0])
    fade = float(docs.fade(left, right, span)[0]) if inside else 0.0

    def lender(x: int) -> str | None:
        return docs.ids[docs.borrowed[x]] if x in docs.borrowed else None
    stories = [{s for _, s, k in graph.out_edges(docs.ids[x], keys=True) if k == "inStory"}
               for x in (i, j)]
    has_stories = any(d.get("kind") == "story" for d in graph._node.values())
    (pa, fa), (pb, fb) = docs.marks[i], docs.marks[j]
    return PairExplanation(
        a=docs.ids[i], b=docs.ids[j], score=round(score if inside else 0.0, 4),
        cosine=round(cosine, 4), fade=round(fade, 4),
        conflict=float(docs.conflicts(left, right)[0]), related=related,
        syndicated=bool(docs.syndicated(left, right)[0]),
        days_apart=None if apart is None else round(apart / 86400, 2),
        shared=tuple((describe(docs.words[w]), round(c, 3)) for c, w in shares[:top]),
        places=(tuple(sorted(pa)), tuple(sorted(pb))),
        figures=(tuple(sorted(describe(f) for f in fa)), tuple(sorted(describe(f) for f in fb))),
        same_story=bool(stories[0] & stories[1]) if has_stories else None,
        time_from=(lender(i), lender(j)))
