"""The names newskg's RDF is written in: namespaces, IRIs, literal syntax.

Every stage that reads or writes RDF text (the RDF writer, the stores, the
server) takes its namespaces, the IRIs of nodes, files and graphs, and the
escaping of literals from here, so that they cannot drift apart.

>>> iri("provider/caixinglobal.com")
'https://w3id.org/newskg/id/provider/caixinglobal.com'
>>> PREFIXES["schema"] == SCHEMA
True
"""

from __future__ import annotations

import functools
import re
import zlib
from urllib.parse import quote, unquote

__all__ = ["NKG", "ID", "SOURCE", "COMPUTED_GRAPH", "SHARED_GRAPH", "UNION_GRAPH", "NEWSKG_GRAPHS", "TOPIC_SCHEME",
           "SCHEMA", "SKOS", "DCTERMS", "PROV", "RDF", "RDF_TYPE", "RDFS", "XSD", "OWL",
           "PREFIXES", "BASE", "RDFError", "iri", "node_id", "source_iri", "source_path",
           "escape_literal", "PARTED_GRAPHS", "GRAPH_PARTS", "graph_block", "block_graph"]

#: Every IRI newskg mints lives under this namespace.
NEWSKG_GRAPHS = "https://w3id.org/newskg/"
NKG = "https://w3id.org/newskg/ontology#"
#: Nodes of the graph: ``ID + node id``.
ID = "https://w3id.org/newskg/id/"
#: Source files, each also the name of the graph of what it states.
SOURCE = "https://w3id.org/newskg/source/"
#: What no file states (stories, story membership, the topic scheme).
COMPUTED_GRAPH = "https://w3id.org/newskg/graph/computed"
#: The one description of each provider, topic and person: files share them,
#: and a file's graph holds its links to them (``schema:publisher``,
#: ``schema:about``, ``schema:author``), not their names again.
SHARED_GRAPH = "https://w3id.org/newskg/graph/shared"
#: Where the set union of the named graphs is kept on servers whose default
#: graph is already the (bag) union of every graph, such as Virtuoso.
UNION_GRAPH = "https://w3id.org/newskg/graph/union"
TOPIC_SCHEME = ID + "topics"
#: Graphs written, stored and updated in parts: each holds statements about
#: tens of thousands of subjects, of which a build changes a few.  A part
#: holds the subjects whose IRI hashes to it (:func:`graph_block`).
PARTED_GRAPHS = frozenset({COMPUTED_GRAPH, SHARED_GRAPH})
GRAPH_PARTS = 64

SCHEMA = "https://schema.org/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
PROV = "http://www.w3.org/ns/prov#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDF_TYPE = RDF + "type"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
OWL = "http://www.w3.org/2002/07/owl#"

#: Prefixes every query may use without declaring them.
PREFIXES: dict[str, str] = {
    "nkg": NKG, "schema": SCHEMA, "skos": SKOS, "dcterms": DCTERMS, "prov": PROV,
    "rdf": RDF, "rdfs": RDFS, "xsd": XSD, "owl": OWL, "id": ID,
}
#: Base IRI of queries: ``<topic/ai>`` is ``https://w3id.org/newskg/id/topic/ai``.
BASE = ID


class RDFError(ValueError):
    """RDF that newskg cannot read: not an export of ours, bad syntax, an IRI
    that is not one of newskg's."""


_IRI_SAFE = re.compile(r"[A-Za-z0-9_.~/-]*").fullmatch  # what quote(safe="/") keeps


def iri(node: str) -> str:
    """The IRI of a graph node id (percent-encoded where needed).

    >>> iri("topic/coronavirus-in-us")
    'https://w3id.org/newskg/id/topic/coronavirus-in-us'
    """
    if _IRI_SAFE(node):  # nearly every id: nothing to encode
        return ID + node
    return ID + quote(node, safe="/")


def node_id(node_iri: str) -> str:
    """The node id of an IRI made by :func:`iri` (its inverse).

    >>> node_id(iri("provider/bbc.co.uk"))
    'provider/bbc.co.uk'
    """
    if not node_iri.startswith(ID):
        raise RDFError(f"<{node_iri}> is not a newskg node IRI (expected {ID}...)")
    return unquote(node_iri[len(ID):])


@functools.lru_cache(maxsize=1 << 20)  # one per input file, asked for once per node mention
def source_iri(path: str) -> str:
    """The IRI of a source file: its named graph and its ``nkg:SourceFile``.

    >>> source_iri("real/2020-05-06 x.md")
    'https://w3id.org/newskg/source/real/2020-05-06%20x.md'
    """
    return SOURCE + quote(path, safe="/")


def source_path(graph_iri: str) -> str:
    """The relative file name of a source IRI (inverse of :func:`source_iri`)."""
    if not graph_iri.startswith(SOURCE):
        raise RDFError(f"<{graph_iri}> is not a newskg source IRI")
    return unquote(graph_iri[len(SOURCE):])


_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"}
_NEEDS_ESCAPE = re.compile(r'[\\"\n\r\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]')


def _escape_char(m: re.Match) -> str:
    c = m.group()
    if c in _ESCAPES:
        return _ESCAPES[c]
    if "\ud800" <= c <= "\udfff":  # a lone surrogate cannot be encoded: replace it
        return "\ufffd"
    return f"\\u{ord(c):04X}"


def escape_literal(text: str) -> str:
    """Escape a string for a ``"..."`` literal of N-Triples, N-Quads, Turtle or SPARQL.

    Backslash, quote, CR and LF take their character escapes (never ``\\u``
    forms, which SPARQL expands before tokenising); other control characters
    become ``\\uXXXX`` so the text stays readable; lone surrogates (which no
    UTF-8 text can hold) become U+FFFD.

    >>> print(escape_literal('say "hi"\\n\\\\ \\x01'))
    say \\"hi\\"\\n\\\\ \\u0001
    """
    if _NEEDS_ESCAPE.search(text) is None:
        return text
    return _NEEDS_ESCAPE.sub(_escape_char, text)


def graph_block(graph_iri: str, subject_iri: str) -> str:
    """The block (of the N-Quads, of the store's digests) holding what a
    subject states in a named graph: the graph's IRI, or for one of
    :data:`PARTED_GRAPHS` its IRI, a space and the subject's part.

    >>> graph_block(SOURCE + "a.md", ID + "article/1") == SOURCE + "a.md"
    True
    >>> graph_block(COMPUTED_GRAPH, ID + "story/1")[len(COMPUTED_GRAPH):]
    ' 23'
    """
    if graph_iri not in PARTED_GRAPHS:
        return graph_iri
    return f"{graph_iri} {zlib.crc32(subject_iri.encode()) % GRAPH_PARTS:02d}"


def block_graph(key: str) -> tuple[str, int | None]:
    """The graph IRI and part (``None``: the whole graph) of a block key.

    >>> block_graph(COMPUTED_GRAPH + " 58") == (COMPUTED_GRAPH, 58)
    True
    """
    graph_iri, _, part = key.partition(" ")
    return graph_iri, int(part) if part else None
