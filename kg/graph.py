"""Records -> a NetworkX knowledge graph, one node per real-world thing.

The graph is a :class:`networkx.MultiDiGraph`.  Every node has a ``kind`` and
a stable id of the form ``"<kind>/<key>"`` (the path of its IRI, see
:func:`kg.rdf.iri`):

============  ==========================  ====================================
kind          id                          identity
============  ==========================  ====================================
article       ``article/<sha256[:16]>``   canonical URL (or, for a file's
                                          article with no URL, the file's path
                                          relative to the corpus root; for a
                                          ``related`` entry with no URL,
                                          provider + title + date)
provider      ``provider/<domain>``       registrable domain
topic         ``topic/<slug>``            normalised label (:func:`topic_key`)
image         ``image/<sha256[:16]>``     canonical image URL
person        ``person/<slug>``           normalised name (:func:`topic_key`)
story         ``story/<sha256[:16]>``     added by :mod:`kg.stories`
============  ==========================  ====================================

Node attributes (absent when unknown, never ``None``):

* every node: ``kind``; ``sources`` (sorted list of the input files, relative
  paths, that mention the node).
* article: ``title``, ``url``, ``urls`` (every canonical URL seen), ``excerpt``,
  ``published`` (aware UTC :class:`~datetime.datetime`), ``type``,
  ``category``, ``quality``, ``heat``, ``locale``, ``tags``, ``files`` (the
  article's own files; empty for articles known only by reference),
  ``reference_only`` (bool), ``alt_titles`` (other headlines seen for it),
  ``modified``; ``lead`` (the start of its file's body, when it has one);
  ``item`` when it is not news (``video``, ``course``, ``page``,
  ``code``, ``work``: see :attr:`kg.records.Article.item`); ``draft`` (true)
  for a draft.
* provider: ``domain``, ``name`` (most frequent), ``alt_names``.
* topic: ``label`` (most frequent spelling), ``key``, ``alt_labels``.
* image: ``url``, ``width``, ``height``.
* person: ``name`` (most frequent spelling), ``key``, ``alt_names``.

Edges are keyed by their relation, stored again as ``rel``:
``publishedBy`` (article -> provider), ``about`` (article -> topic),
``related`` (article -> article), ``image`` (article -> image),
``inStory`` (article -> story) and ``author`` (article -> person).  Each edge has ``sources``: the files that
assert it.

>>> import kg
>>> g = build_graph(kg.load("seeds"))
>>> sorted({d["kind"] for _, d in g.nodes(data=True)})
['article', 'image', 'provider', 'topic']
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from itertools import chain
from typing import Any

import networkx as nx

from ._perf import gc_paused
from .normalize import short_hash, topic_key, topic_slug
from .records import Article, Corpus, Problem

__all__ = ["build_graph", "article_id", "provider_id", "topic_id", "image_id", "person_id",
           "RELATIONS", "KINDS", "nodes_of_kind"]

KINDS = ("article", "provider", "topic", "image", "story", "person")
RELATIONS = ("publishedBy", "about", "related", "image", "inStory", "author")


def article_id(article: Article, *, own_file: bool = False) -> str:
    """The node id of an article: a hash of its canonical URL.

    An article without any URL is identified by its file's path below the
    corpus root (``own_file``: the record is the file's own article), never by
    its title alone: two posts titled "Weekly update" stay two.  A
    ``related`` entry without a URL is identified by provider, title and date.

    >>> a, b = Article("blog/a.md", "Weekly update"), Article("blog/b.md", "Weekly update")
    >>> article_id(a, own_file=True) != article_id(b, own_file=True)
    True
    """
    if article.url:
        return "article/" + short_hash(article.url)
    if own_file:  # the path below the corpus root: the same wherever the folder is
        root, sep, below = article.source.partition("/")
        return "article/" + short_hash("file\x1f" + (below if sep else root))
    parts = (
        article.provider.domain if article.provider else "",
        topic_key(article.title),
        article.published.isoformat() if article.published else "",
    )
    return "article/" + short_hash("no-url\x1f" + "\x1f".join(parts))


def provider_id(domain: str) -> str:
    return "provider/" + domain


def topic_id(key: str) -> str:
    return "topic/" + topic_slug(key)


def image_id(url: str) -> str:
    return "image/" + short_hash(url)


def person_id(key: str) -> str:
    """The node id of a person, from the normalised name (:func:`topic_key`).

    >>> person_id(topic_key("Jane  DOE"))
    'person/jane-doe'
    """
    return "person/" + topic_slug(key)


def nodes_of_kind(graph: nx.MultiDiGraph, kind: str) -> Iterator[str]:
    """Ids of the nodes of one kind, in graph order."""
    return (n for n, k in graph.nodes(data="kind") if k == kind)


_ARTICLE_FIELDS = ("url", "excerpt", "published", "modified", "type", "category", "quality",
                   "heat", "locale", "item", "lead")


class GraphBuilder:
    """The graph of articles given in path order: :func:`build_graph` of a
    corpus, :mod:`kg.graph_patch` of the files near a change."""

    def __init__(self) -> None:
        self.g = nx.MultiDiGraph(name="newskg")
        # NetworkX's own dicts, filled as add_node and add_edge would fill
        # them (a MultiDiGraph's factories are plain dicts), without a call
        # and its checks per node and per edge
        self.node, self.succ, self.pred = self.g._node, self.g._succ, self.g._pred
        self.problems: list[Problem] = []
        self.sources: dict[str, set[str]] = defaultdict(set)
        self.edge_sources: dict[tuple[str, str, str], set[str]] = defaultdict(set)
        self.provider_names: dict[str, Counter] = defaultdict(Counter)
        self.topic_labels: dict[str, Counter] = defaultdict(Counter)
        self.person_names: dict[str, Counter] = defaultdict(Counter)
        self.ids: dict[str, str] = {}
        self.no_url_titles: dict[str, str] = {}  # title key -> first file, articles without URL

    # -- nodes -------------------------------------------------------------
    def add_file_article(self, a: Article) -> str:
        nid = article_id(a, own_file=True)
        if not a.url:
            key = topic_key(a.title)
            first = self.no_url_titles.setdefault(key, a.source)
            if first != a.source:
                self.problems.append(Problem(
                    path=a.source, reason="possible-duplicate", field="title",
                    message=(f"same title as {first} and neither has a URL; kept as two "
                             "articles, identified by their files")))
        if nid in self.node:
            node = self.node[nid]
            node["files"].append(a.source)
            if a.title == node["title"]:
                self.problems.append(Problem(
                    path=a.source, reason="duplicate", field="url",
                    message=(f"same URL {a.url} and headline as {node['files'][0]}: merged "
                             "into one article that keeps both files")))
            elif a.title not in node["alt_titles"]:
                node["alt_titles"].append(a.title)
                self.problems.append(Problem(
                    path=a.source, reason="conflicting-duplicate", field="title",
                    message=(f"same URL {a.url or '(none)'} as {node['files'][0]} but a "
                             f"different headline ({a.title!r} vs {node['title']!r}); "
                             "merged into one article that keeps both files")))
        else:
            attrs: dict[str, Any] = {"kind": "article", "title": a.title}
            for f in _ARTICLE_FIELDS:
                v = getattr(a, f)
                if v is not None:
                    attrs[f] = v
            if a.draft:  # only then: exports without drafts stay as they were
                attrs["draft"] = True
            attrs["urls"] = list(a.urls)
            attrs["tags"] = list(a.tags)
            attrs["files"] = [a.source]
            attrs["reference_only"] = False
            attrs["alt_titles"] = []
            self._add_node(nid, attrs)
        self.sources[nid].add(a.source)
        self._describe(nid, a, a.source)
        self._named(nid, a.topics, "topic", topic_id, self.topic_labels, "about", a.source)
        self._named(nid, a.authors, "person", person_id, self.person_names, "author", a.source)
        return nid

    def _named(self, nid: str, names: Iterable[str], kind: str, make_id: Callable[[str], str],
               counts: dict[str, Counter], rel: str, source: str) -> None:
        """Link an article to the nodes its topics or authors name: one node
        per normalised name, every spelling counted (the preferred is the
        most frequent)."""
        for name in names:
            key = topic_key(name)
            if not key:
                continue
            node = make_id(key)
            if node not in self.node:
                self._add_node(node, {"kind": kind, "key": key})
            counts[node][name] += 1
            self.sources[node].add(source)
            self._edge(nid, node, rel, source)

    def _describe(self, nid: str, a: Article, source: str) -> None:
        """Provider and image edges of an article, as one file states them."""
        if a.provider is not None:
            pid = provider_id(a.provider.domain)
            if pid not in self.node:
                self._add_node(pid, {"kind": "provider", "domain": a.provider.domain})
            if a.provider.name:
                self.provider_names[pid][a.provider.name] += 1
            self.sources[pid].add(source)
            self._edge(nid, pid, "publishedBy", source)
        for img in a.images:
            iid = image_id(img.url)
            if iid not in self.node:
                attrs: dict[str, Any] = {"kind": "image", "url": img.url}
                if img.width is not None:
                    attrs["width"] = img.width
                if img.height is not None:
                    attrs["height"] = img.height
                self._add_node(iid, attrs)
            self.sources[iid].add(source)
            self._edge(nid, iid, "image", source)

    def add_related(self, src_id: str, ref: Article, source: str, target: str, loose: bool) -> None:
        """The edge of a ``related`` entry to the article it resolved to
        (:func:`related_targets`); a reference-only article (``loose``: the
        entry names no file) is made by its first entry and described by each."""
        if target not in self.node and not loose:  # a file outside a partial build (kg.graph_patch)
            self._add_node(target, {"kind": "article", "outside": True})
        elif target not in self.node:
            attrs: dict[str, Any] = {"kind": "article", "title": ref.title}
            for f in _ARTICLE_FIELDS:
                v = getattr(ref, f)
                if v is not None:
                    attrs[f] = v
            attrs["urls"] = list(ref.urls)
            attrs["tags"] = []
            attrs["files"] = []
            attrs["reference_only"] = True
            attrs["alt_titles"] = []
            self._add_node(target, attrs)
        if loose:
            self.sources[target].add(source)
            self._describe(target, ref, source)
        self._edge(src_id, target, "related", source)

    def _add_node(self, nid: str, attrs: dict[str, Any]) -> None:
        self.node[nid] = attrs
        self.succ[nid] = {}
        self.pred[nid] = {}
        self.ids[nid] = nid

    def _edge(self, u: str, v: str, rel: str, source: str) -> None:
        # The node's own id string, not the equal one just made from a name:
        # otherwise every edge keeps a copy of it in the adjacency dicts.
        u, v = self.ids[u], self.ids[v]
        key = (u, v, rel)
        if key not in self.edge_sources:
            succ = self.succ[u]
            keydict = succ.get(v)
            if keydict is None:
                keydict = succ[v] = self.pred[v][u] = {}
            keydict[rel] = None  # its attributes are set by finish()
        self.edge_sources[key].add(source)

    # -- finishing ----------------------------------------------------------
    def finish(self, share_attrs: bool) -> nx.MultiDiGraph:
        g, node, succ = self.g, self.node, self.succ
        for nid, srcs in self.sources.items():
            node[nid]["sources"] = sorted(srcs)
        # The pipeline never changes an edge's attributes in place
        # (kg.providers replaces them), so it can share them: see build_graph.
        shared: dict[tuple[str, str, str], dict[str, Any]] = {}
        for (u, v, rel), srcs in self.edge_sources.items():
            if share_attrs and len(srcs) == 1:
                (src,) = srcs
                attrs = shared.get((u, rel, src))
                if attrs is None:
                    attrs = shared[u, rel, src] = {"rel": rel, "sources": [src]}
            else:
                attrs = {"rel": rel, "sources": sorted(srcs)}
            succ[u][v][rel] = attrs
        for spellings in (self.provider_names, self.topic_labels, self.person_names):
            for nid, counts in spellings.items():
                name_node(node[nid], counts)
        for nid in nodes_of_kind(g, "provider"):
            if "name" not in node[nid]:
                name_node(node[nid], None)
        g.graph["problems"] = self.problems
        return g


def name_node(attrs: dict[str, Any], counts: Counter | None) -> None:
    """Give a provider, topic or person its preferred spelling (the most
    frequent; ties: alphabetical) and the others, sorted, from the spellings
    counted; a provider named by none is named by its domain.

    >>> d = {"kind": "topic", "key": "ai"}
    >>> name_node(d, Counter({"AI": 3, "ai": 1, "A.I.": 1}))
    >>> d["label"], d["alt_labels"]
    ('AI', ['A.I.', 'ai'])
    """
    name, alt = ("label", "alt_labels") if attrs["kind"] == "topic" else ("name", "alt_names")
    if counts:
        best = min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        attrs[name], attrs[alt] = best, sorted(k for k in counts if k != best)
    elif attrs["kind"] == "provider":
        attrs[name], attrs[alt] = attrs["domain"], []


def build_graph(corpus: Corpus | Iterable[Article], *, share_attrs: bool = False) -> nx.MultiDiGraph:
    """Build the knowledge graph of a corpus.

    Files are merged by canonical URL; ``related`` entries become ``related``
    edges to the file article with a matching URL (web, AMP or original), or
    to an article node marked ``reference_only`` (entries with a URL in
    common are one: :func:`related_targets`).  The result does not depend
    on the order of the records, and its nodes are in id order.  Conflicts found while merging (one URL
    under two headlines) are listed in ``graph.graph["problems"]``.

    With ``share_attrs``, the edges of one relation that one file states
    from one node (an article's topics, its related articles) share one
    attribute dict, in a good part less memory for the edges (the build's
    choice); change such a graph's edge attributes by replacing a dict, or
    call :func:`unshare_attrs` first.

    >>> import kg
    >>> g = build_graph(kg.load("seeds"))
    >>> sum(1 for _, d in g.nodes(data=True) if d.get("reference_only"))
    7
    """
    articles = corpus.articles if isinstance(corpus, Corpus) else list(corpus)
    articles = sorted(articles, key=lambda a: a.source)
    b = GraphBuilder()
    with gc_paused():
        ids = [b.add_file_article(a) for a in articles]
        claims = file_claims(zip(articles, ids))
        targets = related_targets(articles, ids, claims.get)
        for a, nid, tos in zip(articles, ids, targets):
            for ref, target in zip(a.related, tos):
                if target is not None:
                    b.add_related(nid, ref, a.source, *target)
        return sort_nodes(b.finish(share_attrs))


def file_claims(articles: Iterable[tuple[Article, str]]) -> dict[str, str]:
    """Which file article each URL names: the first file (in path order) whose
    canonical URL it is, else the first that lists it among its ``urls``.
    ``articles``: (record, node id) pairs of the files, in path order."""
    owner: dict[str, str] = {}
    later: list[tuple[str, str]] = []
    for a, nid in articles:
        if a.url:
            owner.setdefault(a.url, nid)
        later.extend((u, nid) for u in a.urls)
    for u, nid in later:
        owner.setdefault(u, nid)
    return owner


def ref_keys(ref: Article) -> list[str]:
    """What ties ``related`` entries to one reference-only article: any URL
    in common, or the same id (:func:`article_id`: for an entry without a
    URL, its provider, headline and date)."""
    keys = list(ref.urls)
    if ref.url and ref.url not in keys:
        keys.append(ref.url)
    keys.append(article_id(ref))  # ("article/...": never a URL)
    return keys


def file_target(ref: Article, owner: Callable[[str], str | None]) -> str | None:
    """The file article a ``related`` entry names: by its canonical URL, else
    by the first of its ``urls`` that a file claims (:func:`file_claims`)."""
    target = owner(ref.url) if ref.url else None
    if target is None:
        for u in ref.urls:
            target = owner(u)
            if target is not None:
                break
    return target


def related_targets(articles: Sequence[Article], ids: Sequence[str],
                    owner: Callable[[str], str | None]) -> list[list[tuple[str, bool] | None]]:
    """The node each ``related`` entry of each article links to, and whether
    the entry is loose (names no file article); ``None``: the file itself.
    An entry that names no file article is one of the reference-only articles: entries with a URL or an id in common
    (:func:`ref_keys`) are one, identified and described by the first of them
    in path order.  The result is the same whatever the order of the files."""
    out: list[list[tuple[str, bool] | None]] = []
    loose: list[tuple[list[tuple[str, bool] | None], int, Article]] = []
    for a, nid in zip(articles, ids):
        row: list[tuple[str, bool] | None] = []
        for ref in a.related:
            target = file_target(ref, owner)
            if target is None:
                loose.append((row, len(row), ref))
                row.append(None)  # (set below)
            else:
                row.append(None if target == nid else (target, False))
        out.append(row)
    for (row, i, _), node in zip(loose, reference_only_ids([ref for *_, ref in loose])):
        row[i] = (node, True)
    return out


def reference_only_ids(refs: Sequence[Article]) -> list[str]:
    """The node of each entry of ``refs`` (in path order, none naming a file
    article): entries joined by a key in common (:func:`ref_keys`) share the
    id of the first of them."""
    parent: dict[str, str] = {}

    def find(k: str) -> str:
        root = k
        while (up := parent.setdefault(root, root)) != root:
            root = up
        while k != root:  # path compression
            parent[k], k = root, parent[k]
        return root

    keys = [ref_keys(ref) for ref in refs]
    for ks in keys:
        root = find(ks[0])
        for k in ks[1:]:
            other = find(k)
            if other != root:
                parent[other] = root
    first: dict[str, str] = {}
    return [first.setdefault(find(ks[0]), article_id(ref)) for ks, ref in zip(keys, refs)]


def sort_nodes(graph: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """Put the nodes in id order (a graph patched by :mod:`kg.graph_patch` then
    iterates as one built whole), in place; returns ``graph``."""
    for d in (graph._node, graph._succ, graph._pred):  # (_adj is _succ)
        ordered = sorted(d.items())
        d.clear()
        d.update(ordered)
    return graph


def unshare_attrs(graph: nx.MultiDiGraph) -> None:
    """Give every edge its own attribute dict and ``sources`` list, undoing
    ``build_graph(share_attrs=True)``, so that the usual in-place changes of
    NetworkX (``graph.edges[u, v, k]["weight"] = 1``) touch one edge.

    >>> import kg
    >>> g = build_graph(kg.load("seeds"), share_attrs=True)
    >>> unshare_attrs(g)
    >>> len({id(d) for *_, d in g.edges(keys=True, data=True)}) == g.number_of_edges()
    True
    """
    seen: set[int] = set()
    for nbrs in graph._succ.values():
        for keydict in nbrs.values():
            for key, attrs in keydict.items():
                if id(attrs) in seen:
                    keydict[key] = attrs = dict(attrs)
                    if "sources" in attrs:
                        attrs["sources"] = list(attrs["sources"])
                else:
                    seen.add(id(attrs))


def graph_summary(graph: nx.MultiDiGraph) -> dict:
    """Counts that describe a graph: nodes by kind, edges by relation, ...

    >>> import kg
    >>> s = graph_summary(build_graph(kg.load("seeds")))
    >>> s["nodes"]["article"], s["edges"]["related"]
    (8, 7)
    """
    # (networkx's dicts, not its views: a view makes a tuple per node and edge)
    node, succ, pred = graph._node, graph._succ, graph._pred
    of_kind: dict[str, list[str]] = defaultdict(list)
    for n, d in node.items():
        of_kind[d["kind"]].append(n)
    kinds = {k: len(ns) for k, ns in of_kind.items()}
    rels = Counter(chain.from_iterable(chain.from_iterable(map(dict.values, succ.values()))))
    arts = list(map(node.__getitem__, of_kind["article"]))
    dates = [p for d in arts if isinstance(p := d.get("published"), datetime)]

    def linked(kind: str, rel: str) -> Counter[str]:
        """The nodes of ``kind`` by how many ``rel`` edges reach them."""
        counts = ((n, sum(rel in kd for kd in pred[n].values())) for n in of_kind[kind])
        return Counter({n: c for n, c in counts if c})

    top_providers = linked("provider", "publishedBy")
    top_topics = linked("topic", "about")
    top_people = linked("person", "author")
    nodes = graph.nodes

    def top(counter: Counter, attr: str) -> list[list]:
        items = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
        return [[nodes[n].get(attr, n), c] for n, c in items]

    summary = {
        "nodes": {k: kinds.get(k, 0) for k in KINDS},
        "edges": {r: rels.get(r, 0) for r in RELATIONS},
        "articles_with_file": sum(1 for d in arts if not d.get("reference_only")),
        "articles_reference_only": sum(1 for d in arts if d.get("reference_only")),
        "source_files": len({f for d in arts for f in d.get("files", ())}),
        "date_range": [min(dates).isoformat(), max(dates).isoformat()] if dates else None,
        "top_providers": top(top_providers, "name"),
        "top_topics": top(top_topics, "label"),
    }
    if top_people:
        summary["top_people"] = top(top_people, "name")
    drafts = sum(1 for d in arts if d.get("draft"))
    if drafts:
        summary["drafts"] = drafts
    items = Counter(d["item"] for d in arts if d.get("item"))
    if items:  # the items that are not news, by kind
        summary["not_news"] = dict(sorted(items.items()))
    return summary
