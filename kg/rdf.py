"""The knowledge graph as RDF under the newskg ontology (``ontology/newskg.ttl``).

IRIs come from the graph's node ids (:func:`kg.vocab.iri`), so the same
input gives the same IRIs on any machine.  Every triple sits in the named
graph of each source file that states it (:func:`kg.vocab.source_iri`),
except the descriptions of providers, topics and people, which many files
share: each is stated once, in :data:`kg.vocab.SHARED_GRAPH` (a file's graph
keeps its links to them), so that a name every file repeats is not stored
once per file.  What no file states (computed stories, story membership,
the topic concept scheme) sits in :data:`kg.vocab.COMPUTED_GRAPH`.  Queries
read the union of the named graphs.  What each node states is :func:`kg.terms.describe`.

Serialisation is streamed by hand from the NetworkX graph, never through
rdflib's ``Graph.add``: the walk is :mod:`kg.rdf_walk`, the N-Quads (all
named graphs), Turtle and JSON-LD of the union are written by
:mod:`kg.rdf_writers` (:func:`write_rdf`, re-exported here).  :func:`to_rdf` gives an :class:`rdflib.Dataset` for
convenience and :func:`from_rdf` reads RDF back into NetworkX.
:func:`kg.shacl.validate` checks an export against ``ontology/shapes.ttl``.

>>> import kg
>>> from kg.graph import build_graph
>>> ds = to_rdf(build_graph(kg.load("seeds")))
>>> from rdflib import RDF, SDO, URIRef
>>> len(set(ds.subjects(RDF.type, SDO.NewsArticle)))
8
>>> URIRef("https://w3id.org/newskg/id/provider/caixinglobal.com") in set(ds.subjects())
True
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterator
from typing import TYPE_CHECKING

import networkx as nx

from .normalize import topic_key
from .rdf_syntax import PREFIXES, TURTLE_PROLOGUE, curie, read_turtle_blocks
from .rdf_walk import SHARED_KINDS
from .rdf_writers import JSONLD, NQUADS, TURTLE, RdfWriter, iter_quads, nquads_of_graph, write_rdf
from .terms import EDGE_RELATIONS, ITEMS, KINDS, LIST_ATTRS, PROPERTIES, SCALAR_ATTRS
from .vocab import ID, RDF_TYPE, SOURCE, TOPIC_SCHEME, RDFError, node_id, source_path

if TYPE_CHECKING:
    from rdflib import Dataset

__all__ = ["write_rdf", "RdfWriter", "TURTLE_PROLOGUE", "iter_quads", "nquads_of_graph",
           "read_turtle_blocks", "to_rdf", "from_rdf", "curie", "NQUADS", "TURTLE", "JSONLD"]


def to_rdf(graph: nx.MultiDiGraph) -> Dataset:
    """The graph as an :class:`rdflib.Dataset` (one named graph per file).

    The dataset's default graph is the union of the named graphs, as in the
    store.  Slower than :func:`write_rdf`; meant for scripts.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> ds = to_rdf(build_graph(kg.load("seeds")))
    >>> len(list(ds.graphs())) >= 2
    True
    """
    from rdflib import Dataset

    ds = Dataset(default_union=True)
    for p, ns in PREFIXES:
        ds.bind(p, ns)
    ds.parse(data="".join(iter_quads(graph)), format="nquads")
    return ds


def _rdflib_quads(data: Dataset | str | os.PathLike[str]) -> Iterator[tuple[str, str, str, bool, str | None]]:
    """(subject, predicate, object, object is IRI, graph) from rdflib or a file."""
    from rdflib import URIRef

    if isinstance(data, (str, os.PathLike)):
        import pyoxigraph as ox

        with open(data, "rb") as f:
            for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
                o = q.object
                g = q.graph_name
                yield (q.subject.value, q.predicate.value, o.value, isinstance(o, ox.NamedNode),
                       g.value if isinstance(g, ox.NamedNode) else None)
        return
    for s, p, o, g in data.quads((None, None, None, None)):
        gid = getattr(g, "identifier", g)
        yield str(s), str(p), str(o), isinstance(o, URIRef), (str(gid) if gid is not None else None)


def from_rdf(data: Dataset | str | os.PathLike[str]) -> nx.MultiDiGraph:
    """Read a newskg export back into a NetworkX graph.

    ``data`` is an :class:`rdflib.Dataset` (e.g. from :func:`to_rdf`) or the
    path of an N-Quads file.  Node ids, kinds, attributes, edges and the
    ``sources`` of nodes and edges (from the named graphs) come back; list
    attributes come back sorted (RDF has no order), the canonical URL first
    in ``urls``.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> h = from_rdf(to_rdf(g))
    >>> sorted(h.nodes) == sorted(g.nodes), sorted(h.edges(keys=True)) == sorted(g.edges(keys=True))
    (True, True)
    """
    kinds: dict[str, str] = {}
    node_graphs: dict[str, set[str]] = defaultdict(set)
    attrs: dict[str, dict] = defaultdict(dict)
    lists: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    edges: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    for s, p, o, o_is_iri, g in _rdflib_quads(data):
        if not s.startswith(ID) or s == TOPIC_SCHEME:
            continue
        if p == RDF_TYPE:
            if o in KINDS:
                kinds[s] = KINDS[o]
                if o in ITEMS:
                    attrs[s]["item"] = ITEMS[o]
                if g is not None and g.startswith(SOURCE):
                    node_graphs[s].add(source_path(g))
        elif p in EDGE_RELATIONS and o_is_iri:
            srcs = edges[(s, o, EDGE_RELATIONS[p])]
            if g is not None and g.startswith(SOURCE):
                srcs.add(source_path(g))
        elif p in LIST_ATTRS:
            lists[s][LIST_ATTRS[p]].add(source_path(o) if p == PROPERTIES["wasDerivedFrom"] else o)
        elif p in SCALAR_ATTRS:
            name, parse = SCALAR_ATTRS[p]
            try:
                attrs[s][name] = parse(o)
            except ValueError as e:
                raise RDFError(f"<{s}> <{p}>: cannot read {o!r}: {e}") from e
    for (s, o, _), srcs in edges.items():  # a shared node is in the files that link to it
        for end in (s, o):
            if kinds.get(end) in SHARED_KINDS:
                node_graphs[end].update(srcs)
    g = nx.MultiDiGraph(name="newskg")
    for s in sorted(kinds):
        kind = kinds[s]
        d: dict = {"kind": kind, **attrs.get(s, {})}
        ls = lists.get(s, {})
        if kind == "article":
            alts = sorted(ls.get("urls", ()))
            d["urls"] = ([d["url"]] if "url" in d else []) + alts
            d["tags"] = sorted(ls.get("tags", ()))
            d["alt_titles"] = sorted(ls.get("alt_titles", ()))
            d.setdefault("reference_only", False)
            d["files"] = [] if d["reference_only"] else sorted(ls.get("files", ()))
        elif kind in ("provider", "person"):
            d["alt_names"] = sorted(ls.get("alt_names", ()))
            if kind == "person":
                d["key"] = topic_key(d.get("name", ""))
        elif kind == "topic":
            d["alt_labels"] = sorted(ls.get("alt_labels", ()))
        if node_graphs.get(s):
            d["sources"] = sorted(node_graphs[s])
        g.add_node(node_id(s), **d)
    for (s, o, rel), srcs in sorted(edges.items()):
        if s not in kinds or o not in kinds:
            continue
        d = {"rel": rel}
        if srcs:
            d["sources"] = sorted(srcs)
        g.add_edge(node_id(s), node_id(o), key=rel, **d)
    return g
