"""How the walk's subjects (:mod:`kg.rdf_walk`) are written in each RDF
syntax, by hand: N-Quads lines grouped by named graph, Turtle blocks after
one prologue of prefixes, and JSON-LD objects under the ontology's context.
What goes into which file, and what is copied from the last build's files,
is :mod:`kg.rdf_writers`' business.

>>> import kg
>>> from kg.graph import build_graph
>>> from kg.rdf_walk import subjects
>>> walked = list(subjects(build_graph(kg.load("seeds"))))
>>> next(turtle_subjects(walked)).splitlines()[1]
'<article/128b239017329481> a schema:NewsArticle ;'
>>> curie("https://schema.org/headline")
'schema:headline'
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Collection, Iterable, Iterator

import orjson

from ._util import ONTOLOGY_DIR
from .rdf_walk import Subject, graph_parts
from .terms import CLASS_TERMS, PROPERTIES
from .vocab import (
    DCTERMS,
    ID,
    NKG,
    PARTED_GRAPHS,
    PROV,
    RDFS,
    SCHEMA,
    SKOS,
    XSD,
    escape_literal,
    graph_block,
)

__all__ = ["PREFIXES", "TURTLE_PROLOGUE", "curie", "nquads_by_graph", "turtle_subjects",
           "read_turtle_blocks", "jsonld_context", "jsonld_subjects"]

# The prefixes of the Turtle exports, in the order of their prologue.
PREFIXES = (("schema", SCHEMA), ("nkg", NKG), ("skos", SKOS), ("dcterms", DCTERMS),
             ("prov", PROV), ("rdfs", RDFS), ("xsd", XSD))


def curie(full: str) -> str:
    """``full`` as a CURIE of the Turtle exports' prefixes, else as ``<IRI>``.

    >>> curie("https://schema.org/headline"), curie("urn:x")
    ('schema:headline', '<urn:x>')
    """
    for p, ns in PREFIXES:
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



def nquads_by_graph(subjects: list[Subject], wanted: Collection[str] | None = None,
                     by_member: Collection[str] = ()) -> Iterator[tuple[str, list[str]]]:
    """(block key, N-Quads text chunks) for every named graph, in IRI order,
    a graph of :data:`kg.vocab.PARTED_GRAPHS` in parts (:func:`kg.vocab.graph_block`);
    or for the blocks ``wanted`` that some of ``subjects`` state something in.
    For the blocks ``by_member``, the chunks are (subject IRI, its text) pairs.

    Streamed: one graph's text is built at a time, from an index of the
    subjects each graph mentions, so the whole N-Quads (the largest export)
    never sit in memory.  Within a graph, subjects keep their order.
    """
    members: dict[str, list[int]] = defaultdict(list)
    for i, s in enumerate(subjects):
        for g in dict.fromkeys(graph_parts(s)):
            members[g].append(i)
    nt_pred = _NT_PRED
    shared: dict[int, list[str]] = {}  # node lines of subjects stated in several graphs

    def node_lines(i: int, s: Subject) -> list[str]:
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
    blocks: list[tuple[str, str, list[int]]] = []  # (block key, graph IRI, members)
    for g in sorted(members):
        if g in PARTED_GRAPHS:  # one block per part, members in their order
            by_part: dict[str, list[int]] = defaultdict(list)
            for i in members[g]:
                by_part[graph_block(g, subjects[i].iri)].append(i)
            blocks += [(key, g, by_part[key]) for key in sorted(by_part)]
        else:
            blocks.append((g, g, members[g]))
    for key, g, block_members in blocks:
        if wanted is not None and key not in wanted:
            continue
        tail = f" <{g}> .\n"
        out: list = []
        each = key in by_member
        for i in block_members:
            s = subjects[i]
            start = len(out)
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
            if each:
                out[start:] = [(s.iri, "".join(out[start:]))]
        yield key, out


#: The ``@base`` and ``@prefix`` lines that every Turtle export starts with.
TURTLE_PROLOGUE = f"@base <{ID}> .\n" + "".join(f"@prefix {p}: <{ns}> .\n" for p, ns in PREFIXES)


def turtle_subjects(subjects: Iterable[Subject]) -> Iterator[str]:
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
    >>> from kg.rdf_writers import write_rdf
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


def jsonld_context() -> dict:
    return orjson.loads((ONTOLOGY_DIR / "context.jsonld").read_bytes())["@context"]


def jsonld_subjects(subjects: Iterable[Subject], context: dict) -> Iterator[bytes]:
    """One JSON-LD object per subject, without separators."""
    # Terms whose datatype the context already coerces need no @type per value.
    coerced = {k for k, v in context.items() if isinstance(v, dict) and "@type" in v}
    for s in subjects:
        obj: dict[str, object] = {"id": _jsonld_value(s.iri, "@id", True)}
        for p, v, t in s.statements:
            _append(obj, p, _jsonld_value(v, t, p in coerced))
        for p, target, _ in s.edges:
            _append(obj, p, _jsonld_value(target, "@id", True))
        yield orjson.dumps(obj)


def _append(obj: dict, key: str, value: object) -> None:
    old = obj.get(key)
    if old is None:
        obj[key] = value
    elif isinstance(old, list):
        old.append(value)
    else:
        obj[key] = [old, value]
