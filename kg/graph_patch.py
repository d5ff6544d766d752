"""The graph of a corpus after some files changed, without building it again.

:func:`index_graph` builds the graph as :func:`kg.graph.build_graph` does
and keeps a :class:`GraphIndex` beside it: which file article each URL names,
which files' ``related`` entries carry each URL or id, the reference-only
article of each loose entry, the spellings counted for each provider, topic
and person, and the merge problems of each file.  :func:`patch_graph` then
takes the records of the files that were added, changed or removed and
brings the graph and the index to what a whole build of the new files gives.

It rebuilds only the nodes those files touch.  A node is made from the
files that describe it (its ``sources``): a file article from its files, a
reference-only article from the entries that resolve to it, an image from
the files that show it.  So the patch finds the files whose contribution
may differ (the changed files, the files whose entries name a URL that now
belongs to another article, and those whose entries join one of the
reference-only articles touched), builds the graph of those files and of the
other files of the nodes they touch twice, as the files were and as they
are, and puts the nodes of the second in place of those of the first.
Providers, topics and people, described by thousands of files, are not
rebuilt: their spellings and files move by the difference of the two.

>>> import kg
>>> from kg.graph import build_graph
>>> corpus = kg.load("seeds")
>>> graph, index = index_graph(corpus.articles)
>>> a = corpus.articles[0]
>>> renamed = type(a)(**{**{f: getattr(a, f) for f in a.__slots__}, "title": "Renamed"})
>>> touched = patch_graph(graph, index, {a.source: a}, {a.source: renamed}, load=None)
>>> same_graph(graph, build_graph([renamed])), "provider/apnews.com" in touched
(True, True)
"""

from __future__ import annotations

import itertools
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import astuple, dataclass
from datetime import datetime
from typing import Any

import networkx as nx

from ._perf import gc_paused
from ._util import read_parts, write_parts
from .graph import (
    GraphBuilder,
    article_id,
    file_claims,
    file_target,
    name_node,
    ref_keys,
    reference_only_ids,
    related_targets,
    sort_nodes,
)
from .normalize import topic_key
from .records import Article, Problem

__all__ = ["GraphIndex", "index_graph", "patch_graph", "same_graph", "save_state", "load_state"]

_SHARED = ("provider", "topic", "person")
_Rank = tuple[int, str, int]


@dataclass
class GraphIndex:
    """What :func:`patch_graph` needs to know of the whole corpus."""

    #: URL -> (rank, file article) of the files that claim it: (0, file, -1)
    #: for a canonical URL, (1, file, i) for the ``i``-th of ``urls``; the least rank wins
    claims: dict[str, list[tuple[_Rank, str]]]
    #: key of a ``related`` entry (:func:`kg.graph.ref_keys`) -> the files with such an entry
    mentions: dict[str, set[str]]
    #: key of an entry that names no file article -> its reference-only article
    loose: dict[str, str]
    #: provider, topic or person -> its spellings, counted
    counts: dict[str, Counter]
    #: title key of a file without URL -> those files (kg.graph's "possible-duplicate")
    titles: dict[str, set[str]]
    #: file -> the problems merging found in it
    problems: dict[str, list[Problem]]


def _claims(a: Article) -> list[tuple[str, _Rank]]:
    out = [(a.url, (0, a.source, -1))] if a.url else []
    return out + [(u, (1, a.source, i)) for i, u in enumerate(a.urls)]


def _owner(claims: dict[str, list[tuple[_Rank, str]]], url: str) -> str | None:
    ranked = claims.get(url)
    return ranked[0][1] if ranked else None


def _build(articles: list[Article],
           target: Callable[[Article, str], tuple[str, bool] | None]) -> GraphBuilder:
    """kg.graph's builder over ``articles`` (in path order), each entry
    linked to ``target(entry, node of its file)`` (see
    :func:`kg.graph.related_targets`).  File articles outside ``articles``
    that entries link to are nodes marked ``outside``."""
    b = GraphBuilder()
    ids = [b.add_file_article(a) for a in articles]
    for a, nid in zip(articles, ids):
        for ref in a.related:
            to = target(ref, nid)
            if to is not None:
                b.add_related(nid, ref, a.source, *to)
    b.finish(share_attrs=True)
    return b


def _counts(b: GraphBuilder) -> dict[str, Counter]:
    return {**b.provider_names, **b.topic_labels, **b.person_names}


@gc_paused()
def index_graph(articles: Iterable[Article]) -> tuple[nx.MultiDiGraph, GraphIndex]:
    """The graph of ``articles`` (as :func:`kg.graph.build_graph` makes it,
    with shared edge attributes) and its :class:`GraphIndex`."""
    articles = sorted(articles, key=lambda a: a.source)
    ids = [article_id(a, own_file=True) for a in articles]
    owner = file_claims(zip(articles, ids))
    targets = related_targets(articles, ids, owner.get)
    flat = iter([t for row in targets for t in row])  # in the order _build asks
    b = _build(articles, lambda ref, nid: next(flat))
    graph = sort_nodes(b.g)
    claims: dict[str, list[tuple[_Rank, str]]] = defaultdict(list)
    mentions: dict[str, set[str]] = defaultdict(set)
    loose: dict[str, str] = {}
    titles: dict[str, set[str]] = defaultdict(set)
    for a, nid, row in zip(articles, ids, targets):
        for u, rank in _claims(a):
            claims[u].append((rank, nid))
        if not a.url:
            titles[topic_key(a.title)].add(a.source)
        for ref, to in zip(a.related, row):
            keys = ref_keys(ref)
            for k in keys:
                mentions[k].add(a.source)
            if to is not None and to[1]:
                loose.update(dict.fromkeys(keys, to[0]))
    for ranked in claims.values():
        ranked.sort()
    problems: dict[str, list[Problem]] = defaultdict(list)
    for p in b.problems:
        problems[p.path].append(p)
    return graph, GraphIndex(dict(claims), dict(mentions), loose, _counts(b), dict(titles),
                             dict(problems))


@gc_paused()
def patch_graph(graph: nx.MultiDiGraph, index: GraphIndex, old: Mapping[str, Article | None],
                new: Mapping[str, Article | None], load: Callable[[str], Article] | None) -> set[str]:
    """Bring ``graph`` and ``index`` (from :func:`index_graph`, or from an
    earlier patch; ``graph`` without stories) to the graph of the files as they
    are now, in place.

    ``old`` and ``new`` map each changed file to its record before and after
    (``None``: the file was added, or removed); ``load(file)`` gives the
    record of a file that did not change (the patch reads the few it needs).
    The result is the graph :func:`index_graph` would give for the new files,
    node for node in the same order (see :func:`same_graph`).  Returns the
    nodes (gone, new or kept) whose attributes or out-edges may have changed:
    every other node is as it was.
    """
    changed = set(old) | set(new)
    states = (old, new)
    loaded: dict[str, Article] = {}

    def record(f: str, state: int) -> Article | None:
        if f in changed:
            return states[state].get(f)
        a = loaded.get(f)
        if a is None:
            assert load is not None, f"{f} is needed and no record loader was given"
            a = loaded[f] = load(f)
        return a

    # Which file article each URL names, before and after.
    urls = {u for recs in states for a in recs.values() if a is not None for u, _ in _claims(a)}
    owner_before = {u: _owner(index.claims, u) for u in urls}
    keys_before = {k: set(index.mentions.get(k, ())) for recs in states for a in recs.values()
                   if a is not None for ref in a.related for k in ref_keys(ref)}
    for f, a in old.items():
        if a is not None:
            nid = article_id(a, own_file=True)
            for u, rank in _claims(a):
                index.claims[u].remove((rank, nid))
                if not index.claims[u]:
                    del index.claims[u]
            for ref in a.related:
                for k in ref_keys(ref):
                    files_of = index.mentions.get(k)
                    if files_of is not None:  # (an entry, or a key, may come twice)
                        files_of.discard(f)
                        if not files_of:
                            del index.mentions[k]
    for f, a in new.items():
        if a is not None:
            nid = article_id(a, own_file=True)
            for u, rank in _claims(a):
                ranked = index.claims.setdefault(u, [])
                ranked.append((rank, nid))
                ranked.sort()
            for ref in a.related:
                for k in ref_keys(ref):
                    index.mentions.setdefault(k, set()).add(f)
    moved = {u for u in urls if _owner(index.claims, u) != owner_before[u]}

    def owner(state: int) -> Callable[[str], str | None]:
        if state == 0:
            return lambda u: owner_before[u] if u in owner_before else _owner(index.claims, u)
        return lambda u: _owner(index.claims, u)

    def mentions(k: str, state: int) -> Iterable[str]:
        if state == 0 and k in keys_before:
            return keys_before[k]
        return index.mentions.get(k, ())

    # The loose entries whose reference-only article may change: every entry
    # joined by a key to one that changed, or to a URL that moved, as the
    # files were and as they are; each side explores what the other found.
    files = set(changed)
    seen: tuple[set[str], set[str]] = (set(), set())
    loose: tuple[dict[tuple[str, int], Article], dict[tuple[str, int], Article]] = ({}, {})
    queue = set(moved) | set(keys_before)
    while queue:
        found: set[str] = set()
        for state in (0, 1):
            own, todo = owner(state), [k for k in queue if k not in seen[state]]
            while todo:
                k = todo.pop()
                if k in seen[state]:
                    continue
                seen[state].add(k)
                found.add(k)
                for f in mentions(k, state):
                    a = record(f, state)
                    if a is None:
                        continue
                    files.add(f)
                    for j, ref in enumerate(a.related):
                        if (f, j) not in loose[state]:
                            keys = ref_keys(ref)
                            if k in keys and file_target(ref, own) is None:
                                loose[state][f, j] = ref
                                todo.extend(keys)
        queue = found - (seen[0] & seen[1])
    entries = sorted(loose[1].items())
    renamed = {k: to for (_, ref), to in zip(entries, reference_only_ids([r for _, r in entries]))
               for k in ref_keys(ref)}

    def target(state: int) -> Callable[[Article, str], tuple[str, bool] | None]:
        own = owner(state)

        def to(ref: Article, nid: str) -> tuple[str, bool] | None:
            t = file_target(ref, own)
            if t is not None:
                return None if t == nid else (t, False)
            k = ref_keys(ref)[0]
            return (renamed.get(k) if state else None) or index.loose[k], True
        return to

    def build(among: Iterable[str], state: int) -> GraphBuilder:
        arts = [a for f in sorted(among) if (a := record(f, state)) is not None]
        return _build(arts, target(state))

    # The nodes to rebuild, and every file that describes one of them.
    node, succ, pred = graph._node, graph._succ, graph._pred
    touched = {n for b in (build(files, 0), build(files, 1)) for n, d in b.node.items()
               if d["kind"] not in _SHARED and "outside" not in d}
    among = set(files)
    for n in touched:
        if n in node:
            among.update(node[n]["sources"])
    for state in (0, 1):  # a file without URL: the others of its title
        for f in changed:
            a = states[state].get(f)
            if a is not None and not a.url:
                among.update(index.titles.get(topic_key(a.title), ()))
    before, after = build(among, 0), build(among, 1)

    # In the graph: out with the touched nodes' edges, in with the new nodes.
    for n in touched:
        if n in node:
            for v in succ[n]:
                del pred[v][n]
            succ[n] = {}
    was, now = _counts(before), _counts(after)
    shared = sorted({n for b in (before, after) for n, d in b.node.items() if d["kind"] in _SHARED})
    for n in shared:
        _move_shared(graph, index, n, was.get(n), now.get(n), before.sources.get(n, ()),
                     after, after.sources.get(n, ()))
    for n in touched:
        if n in node and n not in after.node:
            assert not pred[n], f"{n} is gone, but not the edges into it"
            del node[n], succ[n], pred[n]
    for n in touched:
        if n in after.node:
            node[n] = after.node[n]
            pred.setdefault(n, {})
    for n in touched:
        if n in after.node:
            succ[n] = after.succ[n]
            for v, keydict in succ[n].items():
                pred[v][n] = keydict

    # The index: loose entries, titles, problems.
    for (_, ref) in loose[0].items():
        for k in ref_keys(ref):
            index.loose.pop(k, None)
    index.loose.update(renamed)
    for state, recs in enumerate(states):
        for f, a in recs.items():
            if a is not None and not a.url:
                key = topic_key(a.title)
                group = index.titles.setdefault(key, set())
                if state:
                    group.add(f)
                else:
                    group.discard(f)
                if not group:
                    del index.titles[key]
    # Merge problems are between the files of one article, or of one title without URL.
    redo = set(changed)
    for b, recs in ((before, old), (after, new)):
        for a in recs.values():
            if a is not None:
                redo.update(b.node[article_id(a, own_file=True)]["files"])
                if not a.url:
                    redo.update(index.titles.get(topic_key(a.title), ()))
    fresh: dict[str, list[Problem]] = defaultdict(list)
    for p in after.problems:
        fresh[p.path].append(p)
    for f in redo:
        if fresh.get(f):
            index.problems[f] = fresh[f]
        else:
            index.problems.pop(f, None)
    graph.graph["problems"] = [p for f in sorted(index.problems) for p in index.problems[f]]
    sort_nodes(graph)
    return touched.union(shared)


def _move_shared(graph: nx.MultiDiGraph, index: GraphIndex, n: str, was: Counter | None,
                 now: Counter | None, was_in: Iterable[str], after: GraphBuilder,
                 now_in: Iterable[str]) -> None:
    """A provider, topic or person: its spellings and files, less what the
    rebuilt files said of it before (``was``, ``was_in``), plus what they say
    now (``now``, ``now_in``)."""
    node, succ, pred = graph._node, graph._succ, graph._pred
    counts = index.counts.setdefault(n, Counter())
    counts.update(now or Counter())
    counts.subtract(was or Counter())
    for k in [k for k, c in counts.items() if c <= 0]:
        del counts[k]
    files = (set(node[n]["sources"]) - set(was_in) if n in node else set()) | set(now_in)
    if not files:
        if n in node:
            assert not pred[n], f"{n} has no file left, but has edges"
            del node[n], succ[n], pred[n]
        index.counts.pop(n, None)
        return
    if n not in node:
        d = after.node[n]
        node[n] = {k: d[k] for k in ("kind", "domain", "key") if k in d}
        succ[n], pred[n] = {}, {}
    node[n]["sources"] = sorted(files)
    name_node(node[n], counts)
    if not counts:
        index.counts.pop(n, None)


def same_graph(a: nx.MultiDiGraph, b: nx.MultiDiGraph) -> bool:
    """Whether two graphs have the same nodes, edges and attributes, in the
    same order (edges into a node: in any order), and the same problems."""
    if [(n, list(d.items())) for n, d in a._node.items()] != \
            [(n, list(d.items())) for n, d in b._node.items()]:
        return False  # (and each node's attributes in the same order: they are exported so)
    for n, nbrs in a._succ.items():
        if [(v, list(kd.items())) for v, kd in nbrs.items()] != \
                [(v, list(kd.items())) for v, kd in b._succ[n].items()]:
            return False
    if any(set(a._pred[n]) != set(b._pred[n]) for n in a._pred):
        return False
    key = (lambda p: (p.path, p.line or 0, p.field or "", p.reason, p.message))
    return sorted(a.graph.get("problems", []), key=key) == sorted(b.graph.get("problems", []), key=key)


# -- kept between builds ------------------------------------------------------------
_DATETIMES = ("published", "modified")
_NODES_PER_PART = 50_000


@gc_paused()  # (the runs' lists: the collector would rescan the graph for nothing)
def save_state(path: str | os.PathLike, key: str, graph: nx.MultiDiGraph, index: GraphIndex,
               extra: Any = None) -> str:
    """Write ``graph`` (less its stories: :func:`patch_graph` takes a graph
    without them) and ``index`` to ``path``, for :func:`load_state` with the
    same ``key`` (what the build was made with: code and options).  ``extra``:
    anything :mod:`marshal` writes, given back as it was.  Returns the file's
    checksum (:func:`kg._util.write_parts`).

    marshal, not pickle: it makes nothing but values (and is several times
    faster here).
    """
    node, succ, pred = graph._node, graph._succ, graph._pred
    stories = {n for n, d in node.items() if d["kind"] == "story"}
    nodes = {n: d for n, d in node.items() if n not in stories} if stories else node
    edges = {u: ({v: kd for v, kd in nbrs.items() if v not in stories}
                 if stories and not stories.isdisjoint(nbrs) else nbrs)
             for u, nbrs in succ.items() if u not in stories}
    # The predecessors too, though they hold nothing new: marshal writes each
    # edge's key dict once and gives it back shared, as networkx shares it,
    # faster than a loop over the edges makes them.  (A story has no out-edges.)
    preds = {v: us for v, us in pred.items() if v not in stories}
    meta = {k: v for k, v in graph.graph.items() if k != "problems"}

    # In parts, each marshalled and written in turn (kg._util.write_parts), so
    # that only one part is held as bytes: the nodes' attributes a run at a time.
    def parts() -> Iterator[Any]:
        yield (meta, {n: dict(c) for n, c in index.counts.items()}, index.titles,
               {f: [astuple(p) for p in ps] for f, ps in index.problems.items()})
        each = iter(nodes.values())
        while run := list(itertools.islice(each, _NODES_PER_PART)):
            # marshal writes no datetimes: they go as text, in their places (the
            # order of a node's attributes is exported), swapped into the graph's
            # own dicts while the run is written, and put back, rather than
            # copied (copies of the nodes' dicts are gigabytes at a million
            # articles).  Nothing else reads the graph meanwhile (a build
            # writes it in its main thread, or in a forked child of its own).
            times = [(k, a) for k, d in enumerate(run) for a in _DATETIMES if a in d]
            were = [run[k][a] for k, a in times]
            try:
                for (k, a), value in zip(times, were):
                    run[k][a] = value.isoformat()
                yield run, times
            finally:
                for (k, a), value in zip(times, were):
                    run[k][a] = value
        # The nodes' ids with the edges and what else names them (the index's
        # URLs, ids and files, ``extra``), in one part: marshal writes each
        # string and each edge's key dict (shared by both sides) once, and
        # gives them back shared, as they were; the runs above are of
        # attributes only.
        yield list(nodes), edges, preds, index.claims, index.mentions, index.loose, extra

    return write_parts(path, key, parts())


def load_state(path: str | os.PathLike,
               key: str) -> tuple[nx.MultiDiGraph, GraphIndex, Any, str] | None:
    """The graph, index and ``extra`` that :func:`save_state` wrote to
    ``path`` with ``key``, and the file's checksum; ``None`` if there is none,
    or it was made with another key.  Raises :class:`ValueError` if the file
    is damaged.

    >>> import kg, tempfile
    >>> graph, index = index_graph(kg.load("seeds").articles)
    >>> path = tempfile.mkdtemp() + "/graph.state"
    >>> digest = save_state(path, "v1", graph, index, extra=["anything"])
    >>> again, same_index, extra, same_digest = load_state(path, "v1")
    >>> same_graph(again, graph), same_index == index, extra, load_state(path, "v2")
    (True, True, ['anything'], None)
    """
    from .records import Problem

    with gc_paused():
        read = read_parts(path, key)
        if read is None:
            return None
        parts, digest = read
        if len(parts) < 2:
            raise ValueError(f"{path}: {len(parts)} parts, not a graph state")
        meta, counts, titles, problems = parts[0]
        ids, edges, preds, claims, mentions, loose, extra = parts[-1]
        graph = nx.MultiDiGraph(**meta)
        node = graph._node
        each = iter(ids)
        for run, times in parts[1:-1]:
            for k, a in times:
                run[k][a] = datetime.fromisoformat(run[k][a])
            node.update(zip(itertools.islice(each, len(run)), run))
        if len(node) != len(ids):
            raise ValueError(f"{path}: {len(ids):,} nodes, {len(node):,} attribute sets")
        graph._succ.update(edges)
        graph._pred.update(preds)
        index = GraphIndex(claims, mentions, loose, {n: Counter(c) for n, c in counts.items()},
                           titles, {f: [Problem(*p) for p in ps] for f, ps in problems.items()})
        graph.graph["problems"] = [p for f in sorted(index.problems) for p in index.problems[f]]
    return graph, index, extra, digest
