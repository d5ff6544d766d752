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
import heapq
import itertools
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .blocks import node_digest
from .terms import CLASSES, EDGE_PROPERTIES, SCHEME_STATEMENTS, Statement, describe, source_statements
from .vocab import (
    COMPUTED_GRAPH,
    PARTED_GRAPHS,
    SHARED_GRAPH,
    SOURCE,
    TOPIC_SCHEME,
    graph_block,
    iri,
    source_iri,
    source_path,
)

__all__ = ["Subject", "subjects", "graph_parts", "graph_inputs", "Inputs", "member_iri", "SHARED_KINDS",
           "SCHEME_KEY", "FILE_KEY"]

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


def member_iri(key: str) -> str:
    """The subject IRI of a block member's key (:attr:`Inputs.graphs`).

    >>> member_iri("topic/ai") == iri("topic/ai"), member_iri(SCHEME_KEY) == TOPIC_SCHEME
    (True, True)
    """
    if key == SCHEME_KEY:
        return TOPIC_SCHEME
    if key.startswith(FILE_KEY):
        return source_iri(key[len(FILE_KEY):])
    return iri(key)


@dataclass
class Inputs:
    """What each block of the RDF exports is made of (:func:`graph_inputs`)."""

    #: block key (:func:`kg.vocab.graph_block`: a graph IRI, or one part of a
    #: large graph) -> (digest, member keys), in key order
    graphs: dict[str, tuple[str, list[str]]]
    #: subject key -> digest of its node (attributes, out-edges), in the walk's order
    subjects: dict[str, str]
    #: node -> digest of its attributes and the out-edges stated in a source
    #: file's graph (:func:`placed_digest`), where it differs from ``subjects``'
    placed: dict[str, str] = field(default_factory=dict)
    #: how many nodes were walked to make these (not compared)
    walked: int = field(default=0, compare=False)
    #: made from earlier inputs (``since``): the subject keys whose digests
    #: differ from theirs, and their digests of the blocks that hold those
    #: (``None``, ``{}``: made by a whole walk) (not compared)
    changed: set[str] | None = field(default=None, compare=False)
    before: dict[str, str] = field(default_factory=dict, compare=False)


class _Walk:
    """Each node's digest and the blocks it states something in
    (:func:`graph_inputs`), from one graph."""

    def __init__(self, graph: nx.MultiDiGraph, every: bool) -> None:
        self.nodes, self.succ = graph._node, graph._succ
        self.every = every  # every node is exported: no edge is left out for its target
        self.graphs_of = _Graphs()
        self.sources: set[tuple[str, ...]] = set()  # every list of files named, once

    def of(self, nid: str, d: dict) -> tuple[str, str | None, list[str]]:
        """The digest (hex, :func:`kg.blocks.node_digest`) of node ``nid``
        (attributes ``d``), its :func:`placed_digest` if that differs, and
        the blocks it states something in."""
        nodes, graphs_of = self.nodes, self.graphs_of
        srcs = d.get("sources") or ()
        self.sources.add(tuple(d.get("files") or ()))
        if d["kind"] in SHARED_KINDS:
            self.sources.add(tuple(srcs))
            node_graphs = _SHARED
        else:
            node_graphs = graphs_of(srcs)
        graphs = list(node_graphs)
        edge_props = EDGE_PROPERTIES
        computed = False  # an edge of no file (a story's): in the computed graph
        out = self.succ[nid]
        for v, keydict in out.items():
            if self.every or nodes[v].get("kind") in CLASSES:
                for k, ed in keydict.items():
                    if k in edge_props:
                        esrcs = ed.get("sources") or ()
                        computed = computed or not esrcs
                        if esrcs != srcs or node_graphs is _SHARED:  # (else the node's own graphs)
                            graphs += (g for g in graphs_of(esrcs) if g not in graphs)
        return (node_digest(d, out), placed_digest(d, out) if computed else None,
                [graph_block(g, iri(nid)) if g in PARTED_GRAPHS else g for g in graphs])

    def files(self) -> set[str]:
        """Every file named by the nodes walked so far."""
        return {f for key in itertools.chain(self.sources, self.graphs_of.of) for f in key}


_SCHEME_BLOCK = graph_block(COMPUTED_GRAPH, TOPIC_SCHEME)


def placed_digest(attrs: dict, out_edges: dict) -> str:
    """:func:`kg.blocks.node_digest` of a node less its out-edges of no file
    (a story's, in the computed graph): what its statements in the graphs
    of source files, and in the shared graph, are made of.  An article that
    joins or leaves a story keeps the same lines in its file's graph."""
    return node_digest(attrs, {v: kept for v, keydict in out_edges.items()
                               if (kept := {k: ed for k, ed in keydict.items() if ed.get("sources")})})


def _block_digest(g: str, members: Iterable[str], digests: dict[str, str],
                  placed: dict[str, str]) -> str:
    """What block ``g`` is made of: its members, and each one's digest.  A
    member's part of a block (its statements and edges there) is made from
    its node alone, so its digest stands for it (the topic scheme's and a
    file's subject are always the same); outside the computed graph, its
    placed digest does."""
    if g.startswith(COMPUTED_GRAPH):
        parts = (m if m[0] == "\0" else f"{m}\0{digests[m]}" for m in members)
    else:
        parts = (m if m[0] == "\0" else f"{m}\0{placed.get(m) or digests[m]}" for m in members)
    return hashlib.blake2b("\n".join(parts).encode(), digest_size=16).hexdigest()


def graph_inputs(graph: nx.MultiDiGraph, since: tuple[Inputs, Collection[str]] | None = None,
                 ) -> Inputs:
    """For every named graph (every part of one of :data:`kg.vocab.PARTED_GRAPHS`),
    in key order: a digest of what its N-Quads are made of, and the member keys
    of the subjects that state something in it (for :func:`subjects`'s
    ``only``); and a digest of every subject.

    A member of a graph states its node's statements there, or some of its
    edges, all made from the node (:func:`kg.blocks.node_digest`): a graph's
    digest is of its members and their digests, in order.  Nothing is
    described: this walk only reads attributes.

    ``since=(inputs, nodes)``: the inputs of an earlier graph, and the nodes
    (there or here) whose attributes or out-edges may differ from it; then
    only those nodes are walked.  The result is the same.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.vocab import SHARED_GRAPH
    >>> graph = build_graph(kg.load("seeds"))
    >>> inputs = graph_inputs(graph)
    >>> shared = [k for k in inputs.graphs if k.startswith(SHARED_GRAPH)]
    >>> len(shared) > 1, all(m.startswith(("provider/", "topic/"))
    ...                      for k in shared for m in inputs.graphs[k][1])
    (True, True)
    >>> graph.nodes["topic/ai"]["label"] = "Artificial intelligence"
    >>> graph_inputs(graph, since=(inputs, {"topic/ai"})) == graph_inputs(graph)
    True
    """
    if since is not None:
        return _inputs_since(graph, *since)
    members: dict[str, list[str]] = defaultdict(list)
    digests: dict[str, str] = {}
    placed: dict[str, str] = {}
    nodes = graph._node
    exported = {n for n, d in nodes.items() if d.get("kind") in CLASSES}
    walk = _Walk(graph, every=len(exported) == len(nodes))
    has_topics = False
    for nid in sorted(exported):
        d = nodes[nid]
        has_topics = has_topics or d["kind"] == "topic"
        digests[nid], where, blocks = walk.of(nid, d)
        if where is not None:
            placed[nid] = where
        for g in blocks:
            members[g].append(nid)
    if has_topics:
        members[_SCHEME_BLOCK].append(SCHEME_KEY)
        digests[SCHEME_KEY] = "scheme"
    for f in sorted(walk.files()):
        members[source_iri(f)].append(FILE_KEY + f)
        digests[FILE_KEY + f] = "file"
    return Inputs({g: (_block_digest(g, members[g], digests, placed), members[g])
                   for g in sorted(members)}, digests, placed, walked=len(exported))


def _inputs_since(graph: nx.MultiDiGraph, old: Inputs, dirty: Collection[str]) -> Inputs:
    """:func:`graph_inputs` from ``old`` and the nodes that may have changed since.

    A file's subject is there while some node names the file.  Every node
    that names a file also states something in the file's graph (its
    statements, as an article's file does, or an edge from it, as a
    provider's files do), so a file whose graph keeps no node is named no
    more; tests/test_graph_patch.py checks this on random corpora.
    """
    nodes, succ = graph._node, graph._succ
    exported = [n for n in sorted(dirty) if n in nodes and nodes[n].get("kind") in CLASSES]
    walked = len(exported)
    # A node of the same digest is in the same blocks, with the same part in
    # each: only the others are walked.
    same = {n for n in exported if old.subjects.get(n) == node_digest(nodes[n], succ[n])}
    is_exported = set(exported)
    dirty = {n for n in dirty if n not in same and (n in is_exported or n in old.subjects)}
    walk = _Walk(graph, every=False)  # (for the files the changed nodes name)
    fresh = {n: walk.of(n, nodes[n]) for n in exported if n not in same}
    subjects, placed = dict(old.subjects), dict(old.placed)
    for n in dirty:
        placed.pop(n, None)
        if n in fresh:
            subjects[n], where, _ = fresh[n]
            if where is not None:
                placed[n] = where
        else:
            subjects.pop(n, None)
    # Blocks that held a changed node, hold one now, or are of a file one names
    # that had no subject (a file's subject goes with the last node in its graph).
    touched = {g for g, (_, m) in old.graphs.items() if not dirty.isdisjoint(m)}
    joining: dict[str, list[str]] = defaultdict(list)
    for n, (_, _, blocks) in fresh.items():
        for g in blocks:
            joining[g].append(n)
    named = walk.files()
    touched.update(joining)
    touched.update(source_iri(f) for f in named if FILE_KEY + f not in old.subjects)
    old_has_topics = SCHEME_KEY in old.subjects
    if any(n not in fresh for n in dirty):  # one gone: is there a topic left?
        has_topics = any(d.get("kind") == "topic" for d in nodes.values())
    else:
        has_topics = old_has_topics or any(nodes[n]["kind"] == "topic" for n in fresh)
    if has_topics != old_has_topics:
        touched.add(_SCHEME_BLOCK)
    graphs = dict(old.graphs)
    files_gone, files_new = set(), set()
    for g in sorted(touched):
        was = old.graphs[g][1] if g in old.graphs else []
        special = was[-1:] if was and was[-1].startswith("\0") else []  # (no node id does)
        kept = [m for m in (was[:-1] if special else was) if m not in dirty]
        now = list(heapq.merge(kept, joining.get(g, ())))
        if g == _SCHEME_BLOCK:
            special = [SCHEME_KEY] if has_topics else []
        elif g.startswith(SOURCE):
            f = source_path(g)
            if now or f in named:
                if not special:
                    special = [FILE_KEY + f]
                    files_new.add(f)
            elif special:
                special = []
                files_gone.add(f)
        now += special
        if now:
            graphs[g] = (_block_digest(g, now, subjects, placed), now)
        else:
            graphs.pop(g, None)
    if has_topics != old_has_topics or files_new or files_gone or any(
            n not in old.subjects for n in fresh):
        # a key joins: in the walk's order again (nodes, the scheme, the files)
        files = sorted({k[len(FILE_KEY):] for k in old.subjects if k.startswith(FILE_KEY)}
                       - files_gone | files_new)
        node_keys = sorted(k for k in subjects if not k.startswith("\0"))
        subjects = {k: subjects[k] for k in node_keys}
        if has_topics:
            subjects[SCHEME_KEY] = "scheme"
        subjects.update((FILE_KEY + f, "file") for f in files)
    if any(g not in old.graphs for g in touched if g in graphs):  # a block joins: in key order
        graphs = {g: graphs[g] for g in sorted(graphs)}
    return Inputs(graphs, subjects, placed, walked=walked, changed=dirty,
                  before={g: old.graphs[g][0] for g in touched if g in old.graphs})


def graph_parts(s: Subject) -> Iterator[str]:
    """The graphs subject ``s`` says something in, each once."""
    yield from s.graphs
    for p, v, _ in s.statements:
        if p == "wasDerivedFrom":
            yield from ([v] if v in s.graphs else s.graphs)
    for _, _, graphs in s.edges:
        yield from graphs

