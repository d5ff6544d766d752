"""A built knowledge graph, opened: what a research script holds.

:func:`open` (``kg.open``) gives a :class:`KnowledgeGraph` over an export
folder written by ``kg build``: the NetworkX graph, SPARQL queries on its
store, its stories, its problems, and views that display themselves in
Jupyter.  Everything is read when first asked for, so opening is instant.

>>> import kg, tempfile
>>> out = tempfile.mkdtemp()
>>> _ = kg.build("seeds", out=out)
>>> with kg.open(out) as g:
...     g.graph.number_of_nodes(), g.query("ASK { ?a a schema:NewsArticle }").boolean
(24, True)
"""

from __future__ import annotations

import html
import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from .coverage import StoryCoverage, story_coverage
from .exports import GRAPH_JSON, read_graph, read_problems, read_summary

if TYPE_CHECKING:
    from datetime import date

    import networkx as nx
    import pandas as pd

    from .explain import PairExplanation
    from .records import Problem
    from .store import QueryResult, Store
    from .views import View

__all__ = ["KnowledgeGraph", "StoryCoverage", "HtmlView", "open"]


@dataclass
class HtmlView:
    """An interactive view, ready to save as an offline HTML page or to show
    in a notebook (Jupyter displays it inline)."""

    graph: nx.MultiDiGraph
    view: View
    expand_stories: bool = False  # every story's articles shown from the start, not its star alone

    @property
    def summary(self) -> str:
        return self.view.summary

    def html(self) -> str:
        """The self-contained HTML page."""
        from .views import render_view

        return render_view(self.graph, self.view, expand_stories=self.expand_stories)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` (atomically); its path."""
        from .views import write_view

        return write_view(self.graph, self.view, path, expand_stories=self.expand_stories)

    def _repr_html_(self) -> str:
        # A page of its own in an iframe: its scripts and styles cannot reach
        # the notebook's, and the notebook's cannot reach the page's.
        return (f'<iframe srcdoc="{html.escape(self.html(), quote=True)}" '
                'style="width:100%;height:640px;border:1px solid #ccc" '
                'sandbox="allow-scripts"></iframe>')


class KnowledgeGraph:
    """The export folder of a build, opened (see :func:`open`)."""

    def __init__(self, path: str | os.PathLike = "exports", *, endpoint: str | None = None) -> None:
        self.path = Path(path)
        self.endpoint = endpoint
        if not (self.path / GRAPH_JSON).is_file():
            raise FileNotFoundError(f"{self.path} holds no built graph ({GRAPH_JSON}): "
                                    f"run `kg build` first")
        self._store: Store | None = None

    def __repr__(self) -> str:
        return f"KnowledgeGraph({str(self.path)!r})"

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the store, if it was opened."""
        if self._store is not None:
            self._store.close()
            self._store = None

    @cached_property
    def graph(self) -> nx.MultiDiGraph:
        """The NetworkX graph (read from ``newskg.json`` when first asked for)."""
        return read_graph(self.path)

    @cached_property
    def summary(self) -> dict:
        """Counts by node kind and relation, dates, top providers and topics, problems."""
        return read_summary(self.path)

    @cached_property
    def problems(self) -> list[Problem]:
        """Every problem the build reported (path, line, field, reason)."""
        return read_problems(self.path)

    @property
    def store(self) -> Store:
        """The SPARQL store: the embedded one of the folder, or ``endpoint``."""
        if self._store is None:
            from .store import open_store

            self._store = open_store(self.endpoint or self.path)
        return self._store

    def query(self, sparql: str, bindings: Mapping[str, object] | None = None,
              **more: object) -> QueryResult:
        """Run a SPARQL query on the union of the named graphs.

        Variables are bound as RDF terms, never spliced into the text; a
        query projects the variables it binds, so that every backend can bind
        them: ``g.query("SELECT ?t ?h WHERE { ?a schema:headline ?h ;
        schema:about/skos:prefLabel ?t }", t="AI")``.
        """
        return self.store.query(sparql, bindings={**(bindings or {}), **more})

    def stories(self, *, match: str | None = None, min_size: int = 1) -> list[StoryCoverage]:
        """The stories, largest first: articles, providers, first/last dates and score.

        ``match``: only stories whose label or member headlines or excerpts
        hold every word of it (case-, accent- and hyphen-insensitive, see
        :func:`kg.coverage.story_matches`); ``min_size``: only stories of at
        least that many articles.
        """
        return story_coverage(self.graph, match=match, min_size=min_size)

    # -- tables (pandas: pip install 'newskg[pandas]') ------------------------

    def articles(self, *, clusters: bool = True) -> pd.DataFrame:
        """A DataFrame of the articles (see :func:`kg.tables.articles_table`)."""
        from .tables import articles_table

        return articles_table(self.graph, clusters=clusters)

    def providers(self) -> pd.DataFrame:
        """A DataFrame of the providers (see :func:`kg.tables.providers_table`)."""
        from .tables import providers_table

        return providers_table(self.graph)

    def topics(self) -> pd.DataFrame:
        """A DataFrame of the topics (see :func:`kg.tables.topics_table`)."""
        from .tables import topics_table

        return topics_table(self.graph)

    def people(self) -> pd.DataFrame:
        """A DataFrame of the people, the articles' authors (see :func:`kg.tables.people_table`)."""
        from .tables import people_table

        return people_table(self.graph)

    def stories_table(self) -> pd.DataFrame:
        """A DataFrame of the stories, largest first (see :func:`kg.tables.stories_table`)."""
        from .tables import stories_table

        return stories_table(self.graph)

    def edges(self) -> pd.DataFrame:
        """A DataFrame of the edges (see :func:`kg.tables.edges_table`)."""
        from .tables import edges_table

        return edges_table(self.graph)

    def timeline(self, match: str | None = None, *, by: str = "week", split: str | None = None,
                 since: str | date | None = None, until: str | date | None = None) -> pd.DataFrame:
        """Articles matching ``match`` per day/week/month and their share of
        all articles of the period, optionally split by ``"provider"`` or
        ``"story"`` (see :func:`kg.tables.timeline`)."""
        from .tables import timeline

        return timeline(self.articles(clusters=False), match, by=by, split=split,
                        since=since, until=until)

    def explain(self, a: str, b: str) -> PairExplanation:
        """Why articles ``a`` and ``b`` (URLs or ids) are or are not one story:
        their score and what made it (:func:`kg.explain.explain_pair`), with
        the window of this build's stories."""
        from datetime import timedelta

        from .explain import explain_pair
        from .stories import DEFAULT_WINDOW

        days = next((d["window_days"] for _, d in self.graph.nodes(data=True)
                     if d.get("kind") == "story" and "window_days" in d), None)
        window = DEFAULT_WINDOW if days is None else timedelta(days=days)
        return explain_pair(self.graph, a, b, window=window)

    def view(self, *, story: str | None = None, regex: str | None = None, topic: str | None = None,
             article: str | None = None, provider: str | None = None, hops: int = 1,
             max_nodes: int | None = None, since: str | date | None = None,
             until: str | date | None = None, expand_stories: bool = False) -> HtmlView:
        """The view around a story's text (or a regular expression), a topic, an article or a provider
        (see :func:`kg.views.select`), of the articles published from
        ``since`` to ``until`` (inclusive dates) if given: ``.save(path)``,
        or shown in Jupyter.  Each story is one star until clicked;
        ``expand_stories`` shows their articles from the start."""
        from .views import DEFAULT_MAX_NODES, select

        graph = self.graph
        if since is not None or until is not None:
            from .tables import between

            graph = between(graph, since, until)
        chosen = select(graph, story=story, regex=regex, topic=topic, article=article, provider=provider,
                        hops=hops, max_nodes=max_nodes or DEFAULT_MAX_NODES)
        return HtmlView(graph, chosen, expand_stories)


def open(path: str | os.PathLike = "exports", *, endpoint: str | None = None) -> KnowledgeGraph:  # noqa: A001
    """Open the export folder of a build (``kg build PATH --out DIR``), or a
    folder of articles: that is built into the user's cache folder first, or
    brought up to date there (:func:`kg.pipeline.built`).

    ``endpoint``: answer queries from this SPARQL endpoint (``kg push`` sent
    the build there) instead of the embedded store.

    >>> import kg, tempfile
    >>> out = tempfile.mkdtemp()
    >>> _ = kg.build("seeds", out=out)
    >>> g = kg.open(out)
    >>> [s.providers for s in g.stories()]
    [('New York Post', 'Omaha.com', 'WGBH')]
    >>> [s.size for s in g.stories(match="Worcester bans")], g.stories(min_size=4)
    ([3], [])
    >>> g.explain("e1bee6dae58838f9", "8373b665cde0dc69").same_story
    True
    >>> g.view(topic="computer vision").summary.split(";")[0]
    '1 article match topic computer vision'
    >>> len(g.articles()), len(g.stories_table())
    (8, 1)
    >>> g.timeline("facial", by="month")[["matching", "total"]].values.tolist()
    [[1, 1]]
    """
    from .pipeline import built

    return KnowledgeGraph(built(path), endpoint=endpoint)
