"""The walk over the graph that every RDF writer shares: each node's
statements (:func:`kg.terms.describe`), its out-edges and the named graphs
they sit in, one :class:`Subject` per node in node-id order, then the topic
scheme and one subject per source file.

>>> import kg
>>> from kg.graph import build_graph
>>> subs = list(subjects(build_graph(kg.load("seeds"))))
>>> subs[0].iri.startswith("https://w3id.org/newskg/id/")
True
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx

from .terms import CLASSES, EDGE_PROPERTIES, SCHEME_STATEMENTS, Statement, describe, source_statements
from .vocab import COMPUTED_GRAPH, SHARED_GRAPH, TOPIC_SCHEME, iri, source_iri

__all__ = ["Subject", "subjects", "graph_parts", "SHARED_KINDS"]

#: Kinds whose descriptions are stated once, in :data:`kg.vocab.SHARED_GRAPH`.
SHARED_KINDS = frozenset({"provider", "topic", "person"})
_SHARED = [SHARED_GRAPH]


@dataclass
class Subject:
    """One subject of the export: its statements, their graphs, its out-edges."""

    iri: str
    statements: list[Statement]
    graphs: list[str]                                 # graphs of the node statements
    edges: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (prop, object IRI, graphs)


def subjects(graph: nx.MultiDiGraph) -> Iterator[Subject]:
    """Every subject of the export, in a deterministic order."""
    iris: dict[str, str] = {}
    graphs_of: dict[tuple[str, ...], list[str]] = {}  # sources -> graph IRIs, shared

    def _sources_graphs(sources: Iterable[str] | None) -> list[str]:
        key = tuple(sources or ())
        graphs = graphs_of.get(key)
        if graphs is None:
            graphs = graphs_of[key] = [source_iri(s) for s in key] or [COMPUTED_GRAPH]
        return graphs

    files: set[str] = set()
    has_topics = False
    nodes = graph._node  # networkx's own dicts: its views add a call to every lookup
    out_edges: dict[str, list] = defaultdict(list)
    for u, nbrs in graph._succ.items():
        if nodes[u].get("kind") not in CLASSES:
            continue  # relations outside the ontology are not exported
        for v, keydict in nbrs.items():
            if nodes[v].get("kind") not in CLASSES:
                continue
            for k, d in keydict.items():
                prop = EDGE_PROPERTIES.get(k)
                if prop is not None:
                    srcs = d.get("sources") or ()
                    files.update(srcs)
                    out_edges[u].append((prop, v, srcs))
    for nid in sorted(nodes):
        d = nodes[nid]
        if d.get("kind") not in CLASSES:
            continue
        has_topics = has_topics or d["kind"] == "topic"
        srcs = d.get("sources") or ()
        files.update(srcs)
        files.update(d.get("files") or ())
        s = Subject(iris.setdefault(nid, iri(nid)), describe(nid, d),
                     _SHARED if d["kind"] in SHARED_KINDS else _sources_graphs(srcs))
        for prop, v, esrcs in sorted(out_edges.get(nid, ()), key=lambda e: (e[0], e[1])):
            target = iris.get(v) or iris.setdefault(v, iri(v))
            s.edges.append((prop, target, _sources_graphs(esrcs)))
        yield s
    if has_topics:
        yield Subject(TOPIC_SCHEME, SCHEME_STATEMENTS, [COMPUTED_GRAPH])
    for f in sorted(files):
        g = source_iri(f)
        yield Subject(g, source_statements(f), [g])


def graph_parts(s: Subject) -> Iterator[str]:
    """The graphs subject ``s`` says something in, each once."""
    yield from s.graphs
    for p, v, _ in s.statements:
        if p == "wasDerivedFrom":
            yield from ([v] if v in s.graphs else s.graphs)
    for _, _, graphs in s.edges:
        yield from graphs

