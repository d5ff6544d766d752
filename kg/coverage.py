"""Who covered which story, and when: one :class:`StoryCoverage` per story
node of a graph (:func:`story_coverage`).

``kg stories``, :meth:`kg.KnowledgeGraph.stories`, the stories table and the
stories index of ``kg view --all`` all read this one list, so their sizes,
providers and dates agree.

>>> import kg
>>> from kg.graph import build_graph
>>> from kg.stories import add_stories
>>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
>>> [(s.size, s.providers) for s in story_coverage(g)]
[(3, ('New York Post', 'Omaha.com', 'WGBH'))]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # opening a build (kg.open) stays light: stories load NumPy
    from collections.abc import Iterable

    import networkx as nx

__all__ = ["StoryCoverage", "story_coverage", "story_matches"]


@dataclass(frozen=True)
class StoryCoverage:
    """One story of the graph: the articles that report one event, and who
    published them when."""

    id: str
    label: str
    articles: tuple[str, ...]
    providers: tuple[str, ...]
    first: datetime | None
    last: datetime | None
    score: float | None = None  # mean score of the merges that made it
    method: str | None = None   # how it was found: "curated" when stories.yaml changed it
    curator: str | None = None
    curated: str | None = None  # the date of the stories.yaml that changed it

    @property
    def size(self) -> int:
        return len(self.articles)

    def as_dict(self, graph: nx.MultiDiGraph | None = None) -> dict:
        """A JSON-ready mapping; with ``graph``, the members' titles, URLs and dates too."""
        out = {"id": self.id, "label": self.label, "size": self.size, "score": self.score,
               "method": self.method, "curator": self.curator, "curated": self.curated,
               "providers": list(self.providers),
               "first": self.first.isoformat() if self.first else None,
               "last": self.last.isoformat() if self.last else None,
               "articles": list(self.articles)}
        if graph is not None:
            out["members"] = [{"id": a, "title": graph.nodes[a].get("title", ""),
                               "url": graph.nodes[a].get("url"),
                               "published": (p.isoformat() if (p := graph.nodes[a].get("published"))
                                             else None)} for a in self.articles]
        return out


def story_matches(graph: nx.MultiDiGraph, story: str, members: Iterable[str], text: str) -> bool:
    """Whether every word of ``text`` is a word of the story's label or of a
    member's headline, excerpt or body lead (case-, accent- and hyphen-insensitive;
    synonyms such as "face recognition" read as one: :func:`kg.text.match_words`).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> from kg.stories import add_stories
    >>> s = add_stories(g)[0]
    >>> arts = [a for a, _, k in g.in_edges(s, keys=True) if k == "inStory"]
    >>> story_matches(g, s, arts, "Facial-Recognition WORCESTER"), story_matches(g, s, arts, "Xpeng")
    (True, False)
    >>> story_matches(g, s, arts, "face recognition")
    True
    """
    from .text import fold, match_words  # (NumPy: not on opening a build)

    wanted = match_words(text) or {fold(text).strip()}
    nodes = graph.nodes
    seen = match_words(nodes[story].get("label", ""))
    for a in members:
        if wanted <= seen:
            break
        d = nodes[a]
        seen.update(match_words(" ".join((d.get("title", ""), d.get("excerpt", ""), d.get("lead", "")))))
    return wanted <= seen


def story_coverage(graph: nx.MultiDiGraph, *, match: str | None = None,
                   min_size: int = 1) -> list[StoryCoverage]:
    """The stories of ``graph``, largest first (then by id): articles,
    provider names (sorted), first/last dates and score.

    ``match``: only stories whose label or member headlines or excerpts
    hold every word of it (case-, accent- and hyphen-insensitive, see
    :func:`story_matches`); ``min_size``: only stories of at
    least that many articles.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.stories import add_stories
    >>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
    >>> [s.size for s in story_coverage(g, match="Worcester bans")], story_coverage(g, min_size=4)
    ([3], [])
    """
    members: dict[str, list[str]] = {n: [] for n, k in graph.nodes(data="kind") if k == "story"}
    for a, s, rel in graph.edges(keys=True):
        if rel == "inStory":
            members[s].append(a)
    found = []
    for sid, arts in members.items():
        if len(arts) < min_size or (match and not story_matches(graph, sid, arts, match)):
            continue
        dates = sorted(d for a in arts if (d := graph.nodes[a].get("published")) is not None)
        providers = sorted({graph.nodes[p].get("name") or p for a in arts
                            for _, p, rel in graph.out_edges(a, keys=True) if rel == "publishedBy"})
        d = graph.nodes[sid]
        found.append(StoryCoverage(sid, d.get("label", ""), tuple(sorted(arts)), tuple(providers),
                                   dates[0] if dates else None, dates[-1] if dates else None,
                                   d.get("score"), d.get("method"), d.get("curator"),
                                   d.get("curated")))
    return sorted(found, key=lambda s: (-s.size, s.id))
