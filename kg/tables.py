"""Tables of a built graph, and attention over time, as pandas DataFrames.

One call per table: :func:`articles_table`, :func:`providers_table`,
:func:`topics_table`, :func:`people_table`, :func:`stories_table`, :func:`edges_table`;
:func:`write_tables` writes them all as CSV or Parquet.  :func:`timeline`
counts the articles matching a text per day, week or month and their share
of all articles of the period (Media Cloud's "attention"), optionally split
by provider or by story.

pandas (and pyarrow, for Parquet) come with the ``pandas`` extra:
``pip install 'newskg[pandas]'``; without them these functions raise
:class:`MissingExtra`, whose message names the extra to install.

Lists (an article's topics, a story's providers) are one text cell joined by
``"; "`` so that CSV and Parquet hold the same table: ``df.topics.str.split("; ")``
gives them back as lists.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> articles_table(g, clusters=False).loc[0, ["provider", "published"]].tolist()
['Caixin Global', Timestamp('2021-12-15 12:20:00+0000', tz='UTC')]
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._util import MissingExtra, atomic_writer, require_extra
from .text import fold

if TYPE_CHECKING:
    import networkx as nx
    import pandas as pd

__all__ = ["articles_table", "providers_table", "topics_table", "people_table", "stories_table", "edges_table",
           "write_tables", "between", "matches", "timeline", "timeline_records", "TABLES", "PERIODS", "SPLITS",
           "MissingExtra"]

#: The tables :func:`write_tables` writes, in order.
TABLES = ("articles", "providers", "topics", "people", "stories", "edges")
#: Periods of :func:`timeline` -> pandas period frequency (weeks start on Monday).
PERIODS = {"day": "D", "week": "W-SUN", "month": "M"}
#: How :func:`timeline` can split its counts.
SPLITS = ("provider", "story")

_SEP = "; "
_NON_WORD = re.compile(r"[\W_]+")


def _pandas() -> Any:
    return require_extra("pandas", "pandas")


_RELS = ("publishedBy", "about", "inStory", "author")


def _links(graph: nx.MultiDiGraph) -> dict[str, dict[str, list[str]]]:
    """rel -> node -> its targets by that rel, sorted: one walk over the
    edges instead of one adjacency lookup per article and relation."""
    found: dict[str, dict[str, list[str]]] = {r: {} for r in _RELS}
    for u, v, k in graph.edges(keys=True):
        by = found.get(k)
        if by is not None:
            by.setdefault(u, []).append(v)
    for by in found.values():
        for targets in by.values():
            targets.sort()
    return found


def _utc(values: list) -> Any:
    pd = _pandas()
    return pd.to_datetime(pd.Series(values, dtype=object), utc=True)


def articles_table(graph: nx.MultiDiGraph, *, clusters: bool = True) -> pd.DataFrame:
    """One row per article, sorted by id.

    Columns: ``id``, ``url``, ``title``, ``provider`` (its name),
    ``domain``, ``published`` (UTC), ``topics`` (labels joined by ``"; "``),
    ``authors`` (the names of its people, joined by ``"; "``),
    ``story`` and ``story_label``, ``cluster`` and ``cluster_label`` (the
    topic communities of :mod:`kg.clusters`; ``clusters=False`` leaves them
    out, they take longest), ``reference_only`` (known only from another
    article's ``related`` list, no file of its own) and ``file``.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.stories import add_stories
    >>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
    >>> df = articles_table(g)
    >>> len(df), df.story.notna().sum(), df.cluster.notna().all()
    (8, np.int64(3), np.True_)
    """
    pd = _pandas()
    nodes = graph.nodes
    arts = sorted(n for n, k in graph.nodes(data="kind") if k == "article")
    links = _links(graph)
    providers, stories, about = links["publishedBy"], links["inStory"], links["about"]
    authors = links["author"]
    rows = []
    for a in arts:
        d = nodes[a]
        provider = providers[a][0] if a in providers else None
        story = stories[a][0] if a in stories else None
        files = d.get("files") or []
        rows.append({
            "id": a, "url": d.get("url"), "title": d.get("title"),
            "provider": nodes[provider].get("name") if provider else None,
            "domain": nodes[provider].get("domain") if provider else None,
            "published": d.get("published"),
            "topics": _SEP.join(nodes[t].get("label", t) for t in about.get(a, ())),
            "authors": _SEP.join(nodes[p].get("name", p) for p in authors.get(a, ())),
            "story": story, "story_label": nodes[story].get("label") if story else None,
            "reference_only": bool(d.get("reference_only")),
            "file": files[0] if files else None,
        })
    df = pd.DataFrame(rows, columns=["id", "url", "title", "provider", "domain", "published",
                                     "topics", "authors", "story", "story_label", "reference_only", "file"])
    df["published"] = _utc(df["published"].tolist())
    if clusters:
        from .clusters import cluster_labels, topic_clusters

        found = topic_clusters(graph, arts)
        labels = cluster_labels(graph, found)
        df.insert(10, "cluster", pd.array([found.get(a) for a in arts], dtype="Int64"))
        df.insert(11, "cluster_label", [labels.get(found[a]) if a in found else None for a in arts])
    return df


def _dated_span(graph: nx.MultiDiGraph, arts: Iterable[str]) -> tuple[Any, Any]:
    dates = sorted(d for a in arts if (d := graph.nodes[a].get("published")) is not None)
    return (dates[0], dates[-1]) if dates else (None, None)


def _articles_by(graph: nx.MultiDiGraph, kind: str, rel: str) -> dict[str, list[str]]:
    """Every node of ``kind`` -> the articles linked to it by ``rel``."""
    by: dict[str, list[str]] = {n: [] for n, k in graph.nodes(data="kind") if k == kind}
    for a, target, k in graph.edges(keys=True):
        if k == rel:
            by[target].append(a)
    return by


def providers_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per provider: ``id``, ``domain``, ``name`` (the one most of
    its articles give), ``alt_names``, ``articles``, ``stories`` (how many
    stories it carried), ``first`` and ``last`` publication dates.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> providers_table(build_graph(kg.load("seeds"))).loc[0].tolist()[:4]
    ['provider/apnews.com', 'apnews.com', 'Omaha.com', '']
    """
    pd = _pandas()
    by_provider = _articles_by(graph, "provider", "publishedBy")
    in_story = _links(graph)["inStory"]
    rows = []
    for p in sorted(by_provider):
        d, arts = graph.nodes[p], by_provider[p]
        stories = {s for a in arts for s in in_story.get(a, ())}
        first, last = _dated_span(graph, arts)
        rows.append({"id": p, "domain": d.get("domain"), "name": d.get("name"),
                     "alt_names": _SEP.join(d.get("alt_names", [])), "articles": len(arts),
                     "stories": len(stories), "first": first, "last": last})
    df = pd.DataFrame(rows, columns=["id", "domain", "name", "alt_names", "articles", "stories",
                                     "first", "last"])
    return _dates(df, "first", "last")


def _dates(df: Any, *columns: str) -> Any:
    for c in columns:
        df[c] = _utc(df[c].tolist())
    return df


def topics_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per topic: ``id``, ``label``, ``alt_labels``, ``articles``,
    ``providers``, ``first`` and ``last``.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> topics_table(build_graph(kg.load("seeds")))[["label", "articles"]].values.tolist()
    [['AI', 1], ['Computer Vision', 1]]
    """
    pd = _pandas()
    by_topic = _articles_by(graph, "topic", "about")
    published_by = _links(graph)["publishedBy"]
    rows = []
    for t in sorted(by_topic):
        d, arts = graph.nodes[t], by_topic[t]
        providers = {p for a in arts for p in published_by.get(a, ())}
        first, last = _dated_span(graph, arts)
        rows.append({"id": t, "label": d.get("label"), "alt_labels": _SEP.join(d.get("alt_labels", [])),
                     "articles": len(arts), "providers": len(providers), "first": first, "last": last})
    df = pd.DataFrame(rows, columns=["id", "label", "alt_labels", "articles", "providers",
                                     "first", "last"])
    return _dates(df, "first", "last")


def people_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per person (an article's ``author``, ``authors`` or
    ``byline``): ``id``, ``name`` (the spelling most of its articles give),
    ``alt_names``, ``articles``, ``providers`` (the names of the providers
    it wrote for, joined by ``"; "``), ``first`` and ``last`` publication
    dates.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> people_table(build_graph(kg.load("seeds"))).columns.tolist()
    ['id', 'name', 'alt_names', 'articles', 'providers', 'first', 'last']
    """
    pd = _pandas()
    by_person = _articles_by(graph, "person", "author")
    published_by = _links(graph)["publishedBy"]
    rows = []
    for p in sorted(by_person):
        d, arts = graph.nodes[p], by_person[p]
        names = sorted({graph.nodes[v].get("name") or v for a in arts for v in published_by.get(a, ())})
        first, last = _dated_span(graph, arts)
        rows.append({"id": p, "name": d.get("name"), "alt_names": _SEP.join(d.get("alt_names", [])),
                     "articles": len(arts), "providers": _SEP.join(names), "first": first, "last": last})
    df = pd.DataFrame(rows, columns=["id", "name", "alt_names", "articles", "providers", "first", "last"])
    return _dates(df, "first", "last")


def stories_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per story, largest first: ``id``, ``label``, ``size``
    (articles), ``providers`` (how many), ``provider_names`` (joined by
    ``"; "``), ``first`` and ``last``.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.stories import add_stories
    >>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
    >>> stories_table(g)[["size", "provider_names"]].values.tolist()
    [[3, 'New York Post; Omaha.com; WGBH']]
    """
    from .coverage import story_coverage

    pd = _pandas()
    rows = [{"id": s.id, "label": s.label, "size": s.size, "providers": len(s.providers),
             "provider_names": _SEP.join(s.providers), "first": s.first, "last": s.last}
            for s in story_coverage(graph)]
    df = pd.DataFrame(rows, columns=["id", "label", "size", "providers", "provider_names",
                                     "first", "last"])
    return _dates(df, "first", "last")


def edges_table(graph: nx.MultiDiGraph) -> pd.DataFrame:
    """One row per edge: ``source``, ``rel``, ``target``, and ``files``, how
    many source files state it (sorted by source, rel, target).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> df = edges_table(build_graph(kg.load("seeds")))
    >>> sorted(df.rel.unique())
    ['about', 'image', 'publishedBy', 'related']
    """
    pd = _pandas()
    rows = sorted((u, k, v, len(d.get("sources", ()))) for u, v, k, d in graph.edges(keys=True, data=True))
    return pd.DataFrame(rows, columns=["source", "rel", "target", "files"])


def write_tables(graph: nx.MultiDiGraph, out_dir: str | os.PathLike, *, format: str = "csv",
                 tables: Iterable[str] = TABLES, clusters: bool = True) -> list[Path]:
    """Write the tables as ``articles.csv``, ... (or ``.parquet``) into
    ``out_dir``, atomically; the paths written.  ``clusters=False`` leaves
    the topic clusters out of the articles table (the longest part).

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> paths = write_tables(build_graph(kg.load("seeds")), tempfile.mkdtemp())
    >>> [p.name for p in paths]
    ['articles.csv', 'providers.csv', 'topics.csv', 'people.csv', 'stories.csv', 'edges.csv']
    """
    if format not in ("csv", "parquet"):
        raise ValueError(f"tables are written as csv or parquet, not {format!r}")
    if format == "parquet":
        require_extra("pyarrow", "pandas")
    makers = {"articles": lambda g: articles_table(g, clusters=clusters), "providers": providers_table,
              "topics": topics_table, "people": people_table, "stories": stories_table, "edges": edges_table}
    written = []
    for name in tables:
        if name not in makers:
            raise ValueError(f"unknown table {name!r} (one of {', '.join(TABLES)})")
        df = makers[name](graph)
        path = Path(out_dir) / f"{name}.{format}"
        if format == "csv":
            with atomic_writer(path, "w") as f:
                df.to_csv(f, index=False, lineterminator="\n", date_format="%Y-%m-%dT%H:%M:%SZ")
        else:
            with atomic_writer(path, "wb") as f:
                df.to_parquet(f, index=False)
        written.append(path)
    return written


# -- attention over time -----------------------------------------------------------

def _day(value: str | date | datetime | None, end: bool = False) -> datetime | None:
    """``since``/``until`` as a UTC instant; a date's ``until`` is the end of its day."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value) if len(value) <= 10 else datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"not a date: {value!r} (expected YYYY-MM-DD)") from None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    start = datetime(value.year, value.month, value.day, tzinfo=UTC)
    return start + timedelta(days=1) - timedelta(microseconds=1) if end else start


def between(graph: nx.MultiDiGraph, since: str | date | datetime | None = None,
            until: str | date | datetime | None = None) -> nx.MultiDiGraph:
    """The graph without the articles published before ``since`` or after
    ``until`` (inclusive dates; undated articles go too once either is
    given): a read-only view, for :func:`kg.views.select` and the tables.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> arts = lambda h: sum(1 for _, k in h.nodes(data="kind") if k == "article")
    >>> arts(g), arts(between(g, since="2021-12-15")), arts(between(g, until="2021-12-14"))
    (8, 5, 3)
    """
    lo, hi = _day(since), _day(until, end=True)
    if lo is None and hi is None:
        return graph

    def keep(n: str) -> bool:
        d = graph.nodes[n]
        if d.get("kind") != "article":
            return True
        when = d.get("published")
        return when is not None and (lo is None or when >= lo) and (hi is None or when <= hi)

    return graph.subgraph([n for n in graph if keep(n)])


def _words(text: str) -> str:
    """Folded words of a text between spaces: punctuation is a word break."""
    return " " + " ".join(_NON_WORD.sub(" ", fold(text)).split()) + " "


def matches(articles: pd.DataFrame, text: str) -> pd.Series:
    """Which rows of an articles table have ``text`` as whole words (case,
    accents and punctuation ignored) in their title or topics: ``"ai"``
    does not match "said", ``"facial recognition"`` matches
    "Facial-Recognition", ``"covid"`` matches "COVID-19".

    >>> import kg
    >>> from kg.graph import build_graph
    >>> df = articles_table(build_graph(kg.load("seeds")), clusters=False)
    >>> int(matches(df, "FACIAL").sum()), int(matches(df, "faci").sum())
    (7, 0)
    """
    needle = _words(text)
    if not needle.strip():
        raise ValueError("empty match text")
    hay = (articles["title"].fillna("") + " " + articles["topics"].fillna(""))
    return hay.map(lambda s: needle in _words(s)).astype(bool)


def timeline(source: nx.MultiDiGraph | pd.DataFrame, match: str | None = None, *,
             by: str = "week", split: str | None = None,
             since: str | date | datetime | None = None,
             until: str | date | datetime | None = None) -> pd.DataFrame:
    """Articles matching ``match`` per period and their share of all articles.

    ``source`` is a graph or an :func:`articles_table`.  Only articles of the
    corpus (with a file) and a date count: those known only from a
    ``related`` list are what an aggregator chose to link, not what was
    published.  ``by`` is ``day``, ``week`` (starting Monday) or ``month``;
    ``since``/``until`` are inclusive dates.  Every period from the first to
    the last is a row, empty ones with 0.

    Columns: ``period`` (its first day), ``matching``, ``total`` (all
    articles of the period) and ``share`` = matching / total, Media Cloud's
    *attention*.  ``split="provider"`` adds a ``provider`` column and counts
    each provider's articles on their own (``total`` is that provider's
    articles of the period); ``split="story"`` adds ``story`` (its label;
    ``(no story)`` for matching articles in none), ``total`` staying all
    articles of the period.  Only providers or stories with a matching
    article get rows.  ``df.attrs`` records the arguments and ``undated``,
    the articles left out for lack of a date.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> t = timeline(build_graph(kg.load("seeds")), "facial", by="month")
    >>> t[["matching", "total"]].values.tolist(), round(float(t.share[0]), 2)
    ([[1, 1]], 1.0)
    """
    pd = _pandas()
    if by not in PERIODS:
        raise ValueError(f"by must be one of {', '.join(PERIODS)}, not {by!r}")
    if split not in (None, *SPLITS):
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, not {split!r}")
    df = source if isinstance(source, pd.DataFrame) else articles_table(source, clusters=False)
    df = df[~df["reference_only"]]
    undated = int(df["published"].isna().sum())
    df = df[df["published"].notna()]
    lo, hi = _day(since), _day(until, end=True)
    if lo is not None:
        df = df[df["published"] >= lo]
    if hi is not None:
        df = df[df["published"] <= hi]
    hit = matches(df, match) if match else pd.Series(True, index=df.index)
    freq = PERIODS[by]
    period = df["published"].dt.tz_convert(None).dt.to_period(freq)
    first = pd.Period(lo.replace(tzinfo=None), freq) if lo else (period.min() if len(df) else None)
    last = pd.Period(hi.replace(tzinfo=None), freq) if hi else (period.max() if len(df) else None)
    if first is None or last is None or pd.isna(first) or pd.isna(last):  # no article, one bound
        periods = pd.PeriodIndex([], freq=freq)
    else:
        periods = pd.period_range(first, last, freq=freq)
    work = pd.DataFrame({"period": period, "hit": hit.astype(int)})
    if split == "provider":
        work["provider"] = df["provider"].fillna(df["domain"]).fillna("(unknown)")
    elif split == "story":
        work["story"] = df["story_label"].where(df["story"].notna(), "(no story)")
    if split is None:
        g = work.groupby("period", observed=True)["hit"].agg(["sum", "count"])
        g = g.reindex(periods, fill_value=0)
        out = pd.DataFrame({"period": periods.start_time, "matching": g["sum"].to_numpy(),
                            "total": g["count"].to_numpy()})
    else:
        totals = work.groupby("period")["hit"].count().reindex(periods, fill_value=0)
        groups = sorted(work.loc[work["hit"] == 1, split].unique().tolist())
        grid = pd.MultiIndex.from_product([periods, groups], names=["period", split])
        counted = work[work[split].isin(groups)].groupby(["period", split])["hit"]
        g = counted.agg(["sum", "count"]).reindex(grid, fill_value=0)
        out = pd.DataFrame({"period": grid.get_level_values(0).start_time,
                            split: grid.get_level_values(1), "matching": g["sum"].to_numpy()})
        if split == "provider":
            out["total"] = g["count"].to_numpy()
        else:
            out["total"] = totals.reindex(grid.get_level_values(0)).to_numpy()
    out["matching"] = out["matching"].astype("int64")
    out["total"] = out["total"].astype("int64")
    out["share"] = (out["matching"] / out["total"].where(out["total"] > 0)).astype("float64")
    out.attrs.update(match=match, by=by, split=split, since=str(since) if since else None,
                     until=str(until) if until else None, undated=undated)
    return out.reset_index(drop=True)


def timeline_records(df: pd.DataFrame) -> list[dict]:
    """A timeline's rows as JSON-ready dicts (``period`` as ``YYYY-MM-DD``;
    an empty period's share as ``None``).

    >>> import kg
    >>> from kg.graph import build_graph
    >>> timeline_records(timeline(build_graph(kg.load("seeds")), "facial", by="month"))
    [{'period': '2021-12-01', 'matching': 1, 'total': 1, 'share': 1.0}]
    """
    records = []
    for row in df.to_dict("records"):
        row["period"] = row["period"].strftime("%Y-%m-%d")
        for k in ("matching", "total"):
            row[k] = int(row[k])
        share = row["share"]
        row["share"] = None if share != share else round(float(share), 6)  # NaN
        records.append(row)
    return records
