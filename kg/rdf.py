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
rdflib's ``Graph.add``: N-Quads (all named graphs), Turtle and JSON-LD of
the union, each written atomically and deterministically
(:func:`write_rdf`).  :func:`to_rdf` gives an :class:`rdflib.Dataset` for
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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import orjson

from ._perf import gc_paused
from ._util import ONTOLOGY_DIR, atomic_writer
from .normalize import topic_key
from .terms import (
    CLASS_TERMS,
    CLASSES,
    EDGE_PROPERTIES,
    EDGE_RELATIONS,
    ITEMS,
    KINDS,
    LIST_ATTRS,
    PROPERTIES,
    SCALAR_ATTRS,
    SCHEME_STATEMENTS,
    Statement,
    describe,
    source_statements,
)
from .vocab import (
    COMPUTED_GRAPH,
    DCTERMS,
    ID,
    NKG,
    PROV,
    RDF_TYPE,
    RDFS,
    SCHEMA,
    SHARED_GRAPH,
    SKOS,
    SOURCE,
    TOPIC_SCHEME,
    XSD,
    RDFError,
    escape_literal,
    iri,
    node_id,
    source_iri,
    source_path,
)

if TYPE_CHECKING:
    from rdflib import Dataset

__all__ = ["write_rdf", "RdfWriter", "TURTLE_PROLOGUE", "iter_quads", "nquads_of_graph",
           "read_turtle_blocks", "to_rdf", "from_rdf", "curie", "NQUADS", "TURTLE", "JSONLD"]

NQUADS = "newskg.nq"
TURTLE = "newskg.ttl"
JSONLD = "newskg.jsonld"

# The prefixes of the Turtle exports, in the order of their prologue.
_PREFIXES = (("schema", SCHEMA), ("nkg", NKG), ("skos", SKOS), ("dcterms", DCTERMS),
             ("prov", PROV), ("rdfs", RDFS), ("xsd", XSD))


def curie(full: str) -> str:
    """``full`` as a CURIE of the Turtle exports' prefixes, else as ``<IRI>``.

    >>> curie("https://schema.org/headline"), curie("urn:x")
    ('schema:headline', '<urn:x>')
    """
    for p, ns in _PREFIXES:
        if full.startswith(ns):
            return f"{p}:{full[len(ns):]}"
    return f"<{full}>"


_NT_PRED = {k: f"<{v}>" for k, v in PROPERTIES.items()}
_TTL_PRED = {k: ("a" if k == "type" else curie(v)) for k, v in PROPERTIES.items()}


def _literal(value: str, dtype: str, datatype: str) -> str:
    """A literal with its language tag (``@en``) or ``datatype`` reference."""
    lit = '"' + escape_literal(value) + '"'
    if not dtype:
        return lit
    if dtype[0] == "@":
        return lit + dtype
    return lit + "^^" + datatype


def _nt_object(value: str, dtype: str) -> str:
    if dtype == "@id":
        return f"<{value}>"
    return _literal(value, dtype, f"<{XSD}{dtype}>")


def _ttl_object(value: str, dtype: str) -> str:
    if dtype == "@id":
        if value.startswith(ID):
            return f"<{value[len(ID):]}>"  # relative to @base
        if value in CLASS_TERMS:
            return curie(value)
        return f"<{value}>"
    return _literal(value, dtype, f"xsd:{dtype}")


# -- the walk over the graph --------------------------------------------------------
#: Kinds whose descriptions are stated once, in :data:`kg.vocab.SHARED_GRAPH`.
SHARED_KINDS = frozenset({"provider", "topic", "person"})
_SHARED = [SHARED_GRAPH]


@dataclass
class _Subject:
    iri: str
    statements: list[Statement]
    graphs: list[str]                                 # graphs of the node statements
    edges: list[tuple[str, str, list[str]]] = field(default_factory=list)  # (prop, object IRI, graphs)


def _subjects(graph: nx.MultiDiGraph) -> Iterator[_Subject]:
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
        s = _Subject(iris.setdefault(nid, iri(nid)), describe(nid, d),
                     _SHARED if d["kind"] in SHARED_KINDS else _sources_graphs(srcs))
        for prop, v, esrcs in sorted(out_edges.get(nid, ()), key=lambda e: (e[0], e[1])):
            target = iris.get(v) or iris.setdefault(v, iri(v))
            s.edges.append((prop, target, _sources_graphs(esrcs)))
        yield s
    if has_topics:
        yield _Subject(TOPIC_SCHEME, SCHEME_STATEMENTS, [COMPUTED_GRAPH])
    for f in sorted(files):
        g = source_iri(f)
        yield _Subject(g, source_statements(f), [g])


def _graph_parts(s: _Subject) -> Iterator[str]:
    """The graphs subject ``s`` says something in, each once."""
    yield from s.graphs
    for p, v, _ in s.statements:
        if p == "wasDerivedFrom":
            yield from ([v] if v in s.graphs else s.graphs)
    for _, _, graphs in s.edges:
        yield from graphs


def _nquads_by_graph(subjects: list[_Subject]) -> Iterator[tuple[str, list[str]]]:
    """(graph IRI, N-Quads text chunks) for every named graph, in IRI order.

    Streamed: one graph's text is built at a time, from an index of the
    subjects each graph mentions, so the whole N-Quads (the largest export)
    never sit in memory.  Within a graph, subjects keep their order.
    """
    members: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(subjects):
        for g in dict.fromkeys(_graph_parts(s)):
            members[g].append(i)
    nt_pred = _NT_PRED
    shared: dict[int, list[str]] = {}  # node lines of subjects stated in several graphs

    def node_lines(i: int, s: _Subject) -> list[str]:
        lines = shared.get(i)
        if lines is None:
            subj = f"<{s.iri}> "
            lines = [subj + nt_pred[p] + " " + _nt_object(v, t)
                     for p, v, t in s.statements if p != "wasDerivedFrom"]
            if len(s.graphs) > 1:
                shared[i] = lines
        return lines

    # A topic is stated in most files' graphs: "g in graphs" on its list would
    # make the walk quadratic, so long lists are tested through a set.
    sets: dict[int, frozenset[str]] = {}

    def holds(graphs: list[str], g: str) -> bool:
        if len(graphs) < 8:
            return g in graphs
        found = sets.get(id(graphs))
        if found is None:
            found = sets[id(graphs)] = frozenset(graphs)
        return g in found

    derived_pred = nt_pred["wasDerivedFrom"]
    for g in sorted(members):
        tail = f" <{g}> .\n"
        out: list[str] = []
        for i in members[g]:
            s = subjects[i]
            subj = f"<{s.iri}> "
            in_g = holds(s.graphs, g)
            if in_g:
                out.append(tail.join(node_lines(i, s)) + tail)
            for p, v, _ in s.statements:
                # "derived from file F" is what file F states: asserting it in
                # every file's graph would grow as (files per article) squared.
                if p == "wasDerivedFrom" and (g == v or (in_g and not holds(s.graphs, v))):
                    out.append(f"{subj}{derived_pred} <{v}>{tail}")
            for prop, target, graphs in s.edges:
                if holds(graphs, g):
                    out.append(f"{subj}{nt_pred[prop]} <{target}>{tail}")
        yield g, out


def iter_quads(graph: nx.MultiDiGraph) -> Iterator[str]:
    """N-Quads text of the whole graph, in chunks, grouped by named graph.

    Named graphs come in IRI order; within one, subjects in node-id order.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> text = "".join(iter_quads(build_graph(kg.load("seeds"))))
    >>> text.count(" .\\n") == text.count("\\n")
    True
    """
    for _, chunks in _nquads_by_graph(list(_subjects(graph))):
        yield from chunks


@gc_paused()  # a walk of the whole graph, as in write_rdf
def nquads_of_graph(graph: nx.MultiDiGraph, graph_iri: str) -> str:
    """The N-Quads of one named graph (e.g. one source file), for
    :meth:`kg.store.Store.replace_graph`.

    >>> import kg
    >>> from kg.vocab import COMPUTED_GRAPH
    >>> from kg.graph import build_graph
    >>> text = nquads_of_graph(build_graph(kg.load("seeds")), COMPUTED_GRAPH)
    >>> all(line.endswith(f" <{COMPUTED_GRAPH}> .") for line in text.splitlines())
    True
    """
    subjects = [s for s in _subjects(graph) if graph_iri in _graph_parts(s)]
    return "".join(chunk for g, chunks in _nquads_by_graph(subjects) if g == graph_iri
                   for chunk in chunks)


#: The ``@base`` and ``@prefix`` lines that every Turtle export starts with.
TURTLE_PROLOGUE = f"@base <{ID}> .\n" + "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in _PREFIXES)


def _turtle(subjects: Iterable[_Subject]) -> Iterator[str]:
    """One Turtle block per subject (after :data:`TURTLE_PROLOGUE`)."""
    for s in subjects:
        pairs = [(p, _ttl_object(v, t)) for p, v, t in s.statements]
        pairs += [(p, _ttl_object(target, "@id")) for p, target, _ in s.edges]
        parts: list[str] = []
        last = None
        for p, o in pairs:  # consecutive objects of one property: "p o1, o2"
            if p == last:
                parts[-1] += ", " + o
            else:
                parts.append(f"{_TTL_PRED[p]} {o}")
                last = p
        yield f"\n{_ttl_object(s.iri, '@id')} " + " ;\n    ".join(parts) + " .\n"


def read_turtle_blocks(path: str | os.PathLike, chunk_chars: int = 8 << 20) -> Iterator[str]:
    """A Turtle export read back in pieces of about ``chunk_chars``, each
    whole subject blocks, valid Turtle after :data:`TURTLE_PROLOGUE`.

    Blocks are separated by a blank line, which no literal holds (line
    breaks are escaped), so each piece is extended to the next blank line.

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> ttl = write_rdf(build_graph(kg.load("seeds")), tempfile.mkdtemp())["turtle"]
    >>> pieces = list(read_turtle_blocks(ttl, chunk_chars=1000))
    >>> len(pieces) > 1, TURTLE_PROLOGUE + "".join(pieces) == ttl.read_text(encoding="utf-8")
    (True, True)
    """
    with open(path, encoding="utf-8", newline="\n") as f:
        if f.read(len(TURTLE_PROLOGUE)) != TURTLE_PROLOGUE:
            raise ValueError(f"{path} is not a newskg Turtle export")
        while piece := f.read(chunk_chars):
            lines = [piece]
            while not (piece.endswith("\n\n") or piece == "\n"):  # to a block's end
                piece = f.readline()
                if not piece:
                    break
                lines.append(piece)
            yield "".join(lines)


def _jsonld_value(value: str, dtype: str, coerced: bool) -> object:
    if dtype == "@id":
        if value.startswith(ID):
            return value[len(ID):]
        return CLASS_TERMS.get(value, value)
    if dtype and dtype[0] == "@":
        return {"@value": value, "@language": dtype[1:]}
    if dtype and not coerced:
        return {"@value": value, "@type": "xsd:" + dtype}
    return value


def _context() -> dict:
    return orjson.loads((ONTOLOGY_DIR / "context.jsonld").read_bytes())["@context"]


def _jsonld(subjects: Iterable[_Subject]) -> Iterator[bytes]:
    context = _context()
    # Terms whose datatype the context already coerces need no @type per value.
    coerced = {k for k, v in context.items() if isinstance(v, dict) and "@type" in v}
    yield b'{"@context": ' + orjson.dumps(context) + b',\n"@graph": [\n'
    first = True
    for s in subjects:
        obj: dict[str, object] = {"id": _jsonld_value(s.iri, "@id", True)}
        for p, v, t in s.statements:
            _append(obj, p, _jsonld_value(v, t, p in coerced))
        for p, target, _ in s.edges:
            _append(obj, p, _jsonld_value(target, "@id", True))
        yield (b"" if first else b",\n") + orjson.dumps(obj)
        first = False
    yield b"\n]}\n"


def _append(obj: dict, key: str, value: object) -> None:
    old = obj.get(key)
    if old is None:
        obj[key] = value
    elif isinstance(old, list):
        old.append(value)
    else:
        obj[key] = [old, value]


class RdfWriter:
    """The RDF files of one graph, written one by one.

    The graph is walked once; each ``write_*`` method then writes one file,
    atomically and deterministically.  :func:`write_rdf` writes all three;
    ``kg build`` (:func:`kg.pipeline.export_rdf`) also hands the N-Quads and
    the Turtle to the store as they are written.  The caller pauses the
    cyclic collector around the whole stage (:func:`kg._perf.gc_paused`), as
    those two do: the walk and each writer allocate a great many objects.

    >>> import kg, tempfile, pathlib
    >>> from kg.graph import build_graph
    >>> w = RdfWriter(build_graph(kg.load("seeds")))
    >>> w.write_nquads(pathlib.Path(tempfile.mkdtemp()) / NQUADS)
    (155, 3)
    """

    def __init__(self, graph: nx.MultiDiGraph) -> None:
        self.subjects = list(_subjects(graph))

    def write_nquads(self, path: str | os.PathLike,
                     each_graph: Callable[[str, str], None] | None = None) -> tuple[int, int]:
        """Stream every named graph to ``path``; returns (quads, graphs).

        ``each_graph(graph_iri, nquads_text)`` is called for every graph
        as it is written.
        """
        quads = graphs = 0
        with atomic_writer(path, "w") as f:
            for g, chunks in _nquads_by_graph(self.subjects):
                text = "".join(chunks)
                quads += text.count("\n")
                graphs += 1
                f.write(text)
                if each_graph is not None:
                    each_graph(g, text)
        return quads, graphs

    def write_turtle(self, path: str | os.PathLike,
                     each_subject: Callable[[str], None] | None = None) -> Path:
        """The union of the named graphs as Turtle.

        ``each_subject(turtle_text)`` is called with every subject's block
        as it is written; each block is valid Turtle after
        :data:`TURTLE_PROLOGUE`.
        """
        with atomic_writer(path, "w") as f:
            f.write(TURTLE_PROLOGUE)
            for block in _turtle(self.subjects):
                f.write(block)
                if each_subject is not None:
                    each_subject(block)
        return Path(path)

    def write_jsonld(self, path: str | os.PathLike) -> Path:
        """The union of the named graphs as JSON-LD (``ontology/context.jsonld``)."""
        with atomic_writer(path, "wb") as f:
            f.writelines(_jsonld(self.subjects))
        return Path(path)


# The walk allocates a great many acyclic objects and frees them by reference
# count: collections during it would rescan the whole graph and free nothing.
# Paused once around the whole entry point (kg.pipeline.export_rdf does the same).
@gc_paused()
def write_rdf(graph: nx.MultiDiGraph, out_dir: str | os.PathLike) -> dict:
    """Write ``newskg.nq``, ``newskg.ttl`` and ``newskg.jsonld`` into ``out_dir``.

    N-Quads hold every named graph; Turtle and JSON-LD hold the union (for
    reading).  Each file is written atomically; the same graph gives
    byte-identical files.  Returns the paths (``nquads``, ``turtle``,
    ``jsonld``) and counts (``quads``, ``graphs``).

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> info = write_rdf(build_graph(kg.load("seeds")), tempfile.mkdtemp())
    >>> info["nquads"].name, info["graphs"]
    ('newskg.nq', 3)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = RdfWriter(graph)
    quads, graphs = writer.write_nquads(out / NQUADS)
    writer.write_turtle(out / TURTLE)
    writer.write_jsonld(out / JSONLD)
    return {"nquads": out / NQUADS, "turtle": out / TURTLE, "jsonld": out / JSONLD,
            "quads": quads, "graphs": graphs}


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
    for p, ns in _PREFIXES:
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
