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

import hashlib
import itertools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import networkx as nx
import orjson

from .terms import CLASSES, EDGE_PROPERTIES, SCHEME_STATEMENTS, Statement, describe, source_statements
from .vocab import COMPUTED_GRAPH, PARTED_GRAPHS, SHARED_GRAPH, TOPIC_SCHEME, graph_block, iri, source_iri

__all__ = ["Subject", "subjects", "graph_parts", "graph_inputs", "Inputs", "SHARED_KINDS", "SCHEME_KEY", "FILE_KEY"]

#: Kinds whose descriptions are stated once, in :data:`kg.vocab.SHARED_GRAPH`.
SHARED_KINDS = frozenset({"provider", "topic", "person"})
_SHARED = [SHARED_GRAPH]


class Subject:
    """One subject of the export: its statements, their graphs, its out-edges.

    A build holds every subject of the graph at once (the N-Quads are written
    graph by graph, in another order than the subjects'), so each keeps its
    statements and edges as one flat tuple rather than a list of tuples.

    >>> s = Subject("urn:a", [("type", "urn:C", "@id")], ["urn:g"], [("about", "urn:t", ["urn:g"])])
    >>> list(s.statements), list(s.edges)
    ([('type', 'urn:C', '@id')], [('about', 'urn:t', ['urn:g'])])
    """

    __slots__ = ("iri", "graphs", "_statements", "_edges")

    def __init__(self, iri: str, statements: Iterable[Statement], graphs: list[str],
                 edges: Iterable[tuple[str, str, list[str]]] = ()) -> None:
        self.iri = iri
        self.graphs = graphs  # graphs of the node statements
        self._statements = tuple(itertools.chain.from_iterable(statements))
        self._edges: tuple[Any, ...] = tuple(itertools.chain.from_iterable(edges))

    @property
    def statements(self) -> Iterator[Statement]:
        """(property, lexical form or IRI, datatype) of each statement about the node."""
        flat = iter(self._statements)
        return zip(flat, flat, flat)

    @property
    def edges(self) -> Iterator[tuple[str, str, list[str]]]:
        """(property, object IRI, graphs) of each out-edge."""
        flat: Iterator[Any] = iter(self._edges)
        return zip(flat, flat, flat)


#: Member keys of the subjects that are no node: the topic scheme, and a
#: source file (the key's tail is its relative name).
SCHEME_KEY = "\0scheme"
FILE_KEY = "\0file\0"


class _Graphs:
    """Graph IRI lists of ``sources`` tuples, one list per distinct tuple."""

    def __init__(self) -> None:
        self.of: dict[tuple[str, ...], list[str]] = {}

    def __call__(self, sources: Iterable[str] | None) -> list[str]:
        key = tuple(sources or ())
        graphs = self.of.get(key)
        if graphs is None:
            graphs = self.of[key] = [source_iri(s) for s in key] or [COMPUTED_GRAPH]
        return graphs


def _out_edges(graph: nx.MultiDiGraph, nid: str) -> list[tuple[str, str, list[str] | tuple]]:
    """(property, target id, sources) of the exported edges out of ``nid``, sorted."""
    nodes = graph._node  # networkx's own dicts: its views add a call to every lookup
    out = []
    for v, keydict in graph._succ[nid].items():
        if nodes[v].get("kind") not in CLASSES:
            continue  # relations outside the ontology are not exported
        for k, d in keydict.items():
            prop = EDGE_PROPERTIES.get(k)
            if prop is not None:
                out.append((prop, v, d.get("sources") or ()))
    out.sort(key=lambda e: (e[0], e[1]))
    return out


def subjects(graph: nx.MultiDiGraph, only: Collection[str] | None = None) -> Iterator[Subject]:
    """Every subject of the export, in a deterministic order; with ``only``
    (member keys, as :func:`graph_inputs` gives them), just those subjects,
    in the same order."""
    iris: dict[str, str] = {}
    graphs_of = _Graphs()
    files: set[str] = set()
    has_topics = False
    nodes = graph._node
    nids = sorted(nodes) if only is None else sorted(k for k in only if k in nodes)
    for nid in nids:
        d = nodes[nid]
        if d.get("kind") not in CLASSES:
            continue
        has_topics = has_topics or d["kind"] == "topic"
        srcs = d.get("sources") or ()
        edges = _out_edges(graph, nid)
        if only is None:
            files.update(srcs)
            files.update(d.get("files") or ())
            for _, _, esrcs in edges:
                files.update(esrcs)
        yield Subject(iris.setdefault(nid, iri(nid)), describe(nid, d),
                      _SHARED if d["kind"] in SHARED_KINDS else graphs_of(srcs),
                      [(prop, iris.get(v) or iris.setdefault(v, iri(v)), graphs_of(esrcs))
                       for prop, v, esrcs in edges])
    if only is not None:
        has_topics = SCHEME_KEY in only
        files = {k[len(FILE_KEY):] for k in only if k.startswith(FILE_KEY)}
    if has_topics:
        yield Subject(TOPIC_SCHEME, SCHEME_STATEMENTS, [COMPUTED_GRAPH])
    for f in sorted(files):
        g = source_iri(f)
        yield Subject(g, source_statements(f), [g])


def _plain(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


@dataclass
class Inputs:
    """What each block of the RDF exports is made of (:func:`graph_inputs`)."""

    #: block key (:func:`kg.vocab.graph_block`: a graph IRI, or one part of a
    #: large graph) -> (digest, member keys), in key order
    graphs: dict[str, tuple[str, list[str]]]
    #: subject key -> digest of its node (attributes, out-edges), in the walk's order
    subjects: dict[str, str]


def graph_inputs(graph: nx.MultiDiGraph) -> Inputs:
    """For every named graph (every part of one of :data:`kg.vocab.PARTED_GRAPHS`),
    in key order: a digest of what its N-Quads are made of, and the member keys
    of the subjects that state something in it (for :func:`subjects`'s
    ``only``); and a digest of every subject.

    A member's part of a graph is its whole node (attributes, out-edges) if
    the node's statements sit there, else the edges it states there and the
    files it is derived from; the digest covers every member's part, in order.
    Nothing is described: this walk only reads attributes.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.vocab import SHARED_GRAPH
    >>> inputs = graph_inputs(build_graph(kg.load("seeds")))
    >>> shared = [k for k in inputs.graphs if k.startswith(SHARED_GRAPH)]
    >>> len(shared) > 1, all(m.startswith(("provider/", "topic/"))
    ...                      for k in shared for m in inputs.graphs[k][1])
    (True, True)
    """
    members: dict[str, list[str]] = defaultdict(list)
    parts: dict[str, list[bytes]] = defaultdict(list)
    digests: dict[str, str] = {}
    graphs_of = _Graphs()
    sources: set[tuple[str, ...]] = set()  # every list of files named, once
    has_topics = False
    nodes, succ = graph._node, graph._succ
    exported = {n for n, d in nodes.items() if d.get("kind") in CLASSES}
    every = len(exported) == len(nodes)  # the usual case: no edge left out for its target
    edge_props = EDGE_PROPERTIES
    dumps, blake2b = orjson.dumps, hashlib.blake2b
    opt = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
    for nid in sorted(exported):
        d = nodes[nid]
        kind = d["kind"]
        has_topics = has_topics or kind == "topic"
        srcs = d.get("sources") or ()
        own = d.get("files") or ()
        sources.add(tuple(own))
        edges = []  # as _out_edges, inline: this walk is over every node of every build
        for v, keydict in succ[nid].items():
            if every or v in exported:
                for k, ed in keydict.items():
                    prop = edge_props.get(k)
                    if prop is not None:
                        edges.append((prop, v, ed.get("sources") or ()))
        if len(edges) > 1:
            edges.sort(key=_prop_target)
        shared = kind in SHARED_KINDS
        if shared:
            sources.add(tuple(srcs))
            node_graphs = _SHARED
        else:
            node_graphs = graphs_of(srcs)
        digest = blake2b(dumps([d, edges], option=opt, default=_plain), digest_size=16).digest()
        digests[nid] = digest.hex()
        whole = nid.encode() + b"\0" + digest
        edge_graphs: dict[str, list[int]] = {}
        for i, (_, _, esrcs) in enumerate(edges):
            if esrcs == srcs and not shared:
                continue  # the node's own graphs
            for g in graphs_of(esrcs):
                edge_graphs.setdefault(g, []).append(i)
        for g in node_graphs:
            g = graph_block(g, iri(nid)) if g in PARTED_GRAPHS else g
            members[g].append(nid)
            parts[g].append(whole)
        for g, idx in edge_graphs.items():
            if g in node_graphs:
                continue
            g = graph_block(g, iri(nid)) if g in PARTED_GRAPHS else g
            members[g].append(nid)
            parts[g].append(nid.encode() + b"\1" + dumps(
                [own or srcs, [edges[i][:2] for i in idx]], default=_plain))
    files = {f for key in itertools.chain(sources, graphs_of.of) for f in key}
    if has_topics:
        scheme = graph_block(COMPUTED_GRAPH, TOPIC_SCHEME)
        members[scheme].append(SCHEME_KEY)
        parts[scheme].append(SCHEME_KEY.encode())
        digests[SCHEME_KEY] = "scheme"
    for f in sorted(files):
        g = source_iri(f)
        members[g].append(FILE_KEY + f)
        parts[g].append(FILE_KEY.encode() + f.encode())
        digests[FILE_KEY + f] = "file"
    return Inputs({g: (hashlib.blake2b(b"\n".join(parts[g]), digest_size=16).hexdigest(),
                       members[g]) for g in sorted(members)}, digests)


def _prop_target(edge: tuple) -> tuple[str, str]:
    return edge[0], edge[1]


def graph_parts(s: Subject) -> Iterator[str]:
    """The graphs subject ``s`` says something in, each once."""
    yield from s.graphs
    for p, v, _ in s.statements:
        if p == "wasDerivedFrom":
            yield from ([v] if v in s.graphs else s.graphs)
    for _, _, graphs in s.edges:
        yield from graphs

