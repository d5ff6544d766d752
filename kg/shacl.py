"""Validation of an export against ``ontology/shapes.ttl`` (SHACL, with pySHACL).

:func:`validate` takes an export folder, an RDF file, an rdflib graph or a
NetworkX graph and returns a :class:`ValidationReport` of readable
:class:`Violation` results.  A Turtle export written by newskg is validated
a piece of whole subject blocks at a time, on forked worker processes
(:func:`kg._perf.process_map`): the whole export as one rdflib graph would
not fit in memory for a large corpus, and each piece carries what the
shapes need from the rest, so the results are those of the whole graph.

>>> import kg
>>> from kg.graph import build_graph
>>> validate(build_graph(kg.load("seeds"))).conforms
True
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Callable, Iterable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx

from ._perf import process_map
from ._util import ONTOLOGY_DIR
from .rdf import NQUADS, TURTLE, TURTLE_PROLOGUE, curie, read_turtle_blocks, to_rdf
from .vocab import ID, NKG, RDF_TYPE, XSD, RDFError

if TYPE_CHECKING:
    from rdflib import Graph

__all__ = ["validate", "ValidationReport", "Violation", "SHAPES"]

#: The shapes an export is validated against by default.
SHAPES = ONTOLOGY_DIR / "shapes.ttl"
SH = "http://www.w3.org/ns/shacl#"


@dataclass(frozen=True)
class Violation:
    """One SHACL validation result, readable with ``str()``.

    >>> from kg.vocab import iri
    >>> print(Violation("Violation", iri("provider/x"), "nkg:domain", "not a domain", '"x y"'))
    Violation: <provider/x> nkg:domain: not a domain (value "x y")
    """

    severity: str          # "Violation", "Warning" or "Info"
    focus: str             # the node that failed
    path: str | None       # the property (CURIE where known)
    message: str
    value: str | None = None
    shape: str | None = None

    def __str__(self) -> str:
        where = _short(self.focus) + (f" {self.path}" if self.path else "")
        value = f" (value {self.value})" if self.value is not None else ""
        return f"{self.severity}: {where}: {self.message}{value}"


@dataclass
class ValidationReport:
    """The outcome of :func:`validate`: ``conforms`` is False when any result
    has severity Violation (warnings are listed but do not fail).

    >>> warning = Violation("Warning", "urn:x", "schema:url", "no URL")
    >>> report = ValidationReport(conforms=True, results=[warning], triples=3)
    >>> report.violations, len(report.warnings)
    ([], 1)
    """

    conforms: bool
    results: list[Violation]
    triples: int

    @property
    def violations(self) -> list[Violation]:
        """The results of severity Violation."""
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Violation]:
        """The other results (warnings and information)."""
        return [r for r in self.results if r.severity != "Violation"]


def _short(term: str) -> str:
    if term.startswith(ID):
        return "<" + term[len(ID):] + ">"
    return curie(term) if term.startswith("http") else term


def _data_graph(data: Graph | nx.Graph | str | os.PathLike[str]) -> Graph:
    """An rdflib Graph of the union for ``validate``."""
    from rdflib import Dataset, Graph

    if isinstance(data, nx.Graph):
        data = to_rdf(data)
    if isinstance(data, (str, os.PathLike)):
        path = Path(data)
        if path.is_dir():
            for name in (TURTLE, NQUADS):
                if (path / name).exists():
                    path, data = path / name, None
                    break
            else:
                raise FileNotFoundError(f"no {TURTLE} or {NQUADS} in {path}: run `kg build` first")
        if not path.exists():
            raise FileNotFoundError(f"{path} not found")
        if path.suffix in (".nq", ".ttl", ".nt"):
            return _rdflib_graph(path)
        return Graph().parse(path, format="json-ld" if path.suffix == ".jsonld" else "turtle")
    if isinstance(data, Dataset):
        g = Graph()
        for s, p, o, _ in data.quads((None, None, None, None)):
            g.add((s, p, o))
        return g
    return data


def _rdflib_graph(path: Path) -> Graph:
    """The union of an RDF file's triples as an rdflib Graph.

    Parsed by pyoxigraph, which is quicker at it than rdflib's parsers.
    """
    import pyoxigraph as ox
    from rdflib import Graph

    g = Graph()
    try:
        _add_oxigraph_triples(g, ox.parse(path=str(path)))
    except SyntaxError as e:
        raise RDFError(f"{path}: {e}") from e
    return g


def _add_oxigraph_triples(g: Graph, triples: Iterable) -> int:
    """Add pyoxigraph triples (or quads: their triples) to rdflib graph ``g``,
    each distinct term converted once; returns the size of ``g``."""
    import pyoxigraph as ox
    from rdflib import BNode, Literal, URIRef

    cache: dict[str, object] = {}
    xsd_string = XSD + "string"

    def conv(t):
        key = str(t)
        r = cache.get(key)
        if r is None:
            if isinstance(t, ox.NamedNode):
                r = URIRef(t.value)
            elif isinstance(t, ox.Literal):
                dt = t.datatype.value
                r = (Literal(t.value, lang=t.language) if t.language else
                     Literal(t.value, datatype=None if dt == xsd_string else URIRef(dt)))
            else:
                r = BNode(t.value)
            cache[key] = r
        return r

    g.addN((conv(t.subject), conv(t.predicate), conv(t.object), g) for t in triples)
    return len(g)


def validate(data: Graph | nx.Graph | str | os.PathLike[str],
             shapes: str | os.PathLike[str] | None = None, *,
             progress: Callable[[str, int, int], None] | None = None) -> ValidationReport:
    """Validate an export against ``ontology/shapes.ttl`` with pySHACL.

    ``data`` is an export folder (its ``newskg.ttl``, else ``newskg.nq``), an
    RDF file, an rdflib graph/dataset or a NetworkX graph.  A Turtle export
    of newskg is validated in pieces of whole subject blocks on forked worker
    processes (two by default), so memory holds a few pieces at a time rather
    than the whole export as one rdflib graph.
    ``progress(stage, done, total)`` is called as pieces are done, as in
    :func:`kg.pipeline.build`.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> report = validate(build_graph(kg.load("seeds")))
    >>> report.conforms, report.violations
    (True, [])
    """
    from rdflib import Graph

    sg = Graph().parse(os.fspath(shapes) if shapes else SHAPES, format="turtle")
    turtle = _newskg_turtle(data)
    if turtle is not None:
        results, triples = _validate_pieces(turtle, sg, progress=progress)
    else:
        g = _data_graph(data)
        results, triples = _shacl(g, sg), len(g)
    results.sort(key=lambda v: (v.severity != "Violation", v.focus, v.path or "", v.message,
                                v.value or ""))
    return ValidationReport(conforms=not any(v.severity == "Violation" for v in results),
                            results=results, triples=triples)


def _shacl(g: Graph, sg: Graph) -> list[Violation]:
    """pySHACL's results on graph ``g`` with shapes ``sg``, readable."""
    import pyshacl
    from rdflib import URIRef

    _, results, _ = pyshacl.validate(g, shacl_graph=sg, inference="none",
                                     allow_warnings=True, advanced=False)
    sh = lambda name: URIRef(SH + name)  # noqa: E731
    out = []
    for r in results.subjects(URIRef(RDF_TYPE), sh("ValidationResult")):
        focus_node = results.value(r, sh("focusNode"))
        sev = str(results.value(r, sh("resultSeverity")) or SH + "Violation")[len(SH):]
        path = results.value(r, sh("resultPath"))
        value = results.value(r, sh("value"))
        shape = results.value(r, sh("sourceShape"))
        out.append(Violation(
            severity=sev, focus=str(focus_node),
            path=curie(str(path)) if isinstance(path, URIRef) else (None if path is None else "(path)"),
            message=str(results.value(r, sh("resultMessage")) or "does not conform"),
            value=None if value is None else value.n3(),
            # a property shape written inline is a blank node: no name to show
            shape=str(shape) if isinstance(shape, URIRef) else None))
    return out


def _newskg_turtle(data: object) -> Path | None:
    """The Turtle export ``data`` names (a folder or the file), if newskg wrote it."""
    if not isinstance(data, (str, os.PathLike)):
        return None
    path = Path(data)
    if path.is_dir():
        path = path / TURTLE
    if path.suffix != ".ttl" or not path.is_file():
        return None
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        return path if f.read(len(TURTLE_PROLOGUE)) == TURTLE_PROLOGUE else None


# What a piece of the Turtle needs from the rest to be validated alone: the
# classes of the nodes it points to (sh:class) and, for each story, one of its
# articles (a story has at least one: sh:inversePath nkg:inStory).  Set before
# the worker processes fork, so they share it instead of receiving it.
_PIECE_CONTEXT: tuple[dict[str, tuple[str, ...]], dict[str, str], Graph] | None = None


def _validate_pieces(path: Path, sg: Graph, piece_chars: int = 4 << 20, processes: int | None = None,
                     progress: Callable[[str, int, int], None] | None = None,
                     ) -> tuple[list[Violation], int]:
    """SHACL results for a newskg Turtle export, validated a piece at a time.

    Each piece is whole subject blocks (every triple of its subjects) plus,
    from the rest, the classes of the nodes it points to and one article of
    each of its stories, and only its own subjects are validated.  The
    shapes look no further than that, so the results are those of the whole
    graph at once (a test compares them).
    """
    import pyoxigraph as ox

    global _PIECE_CONTEXT
    report = progress or (lambda stage, done, total: None)
    report("reading the classes of every node", 0, 0)
    classes: dict[str, list[str]] = defaultdict(list)
    story_article: dict[str, str] = {}
    in_story = NKG + "inStory"
    total = 0
    try:
        for t in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE):
            total += 1
            p = t.predicate.value
            if p == RDF_TYPE:
                classes[t.subject.value].append(t.object.value)
            elif p == in_story:
                story_article.setdefault(t.object.value, t.subject.value)
    except SyntaxError as e:
        raise RDFError(f"{path}: {e}") from e
    pieces = read_turtle_blocks(path, chunk_chars=piece_chars)
    processes = processes or min(2, os.cpu_count() or 1)
    results: list[Violation] = []
    triples = 0
    report("validating triples", 0, total)
    _PIECE_CONTEXT = ({s: tuple(c) for s, c in classes.items()}, story_article, sg)
    del classes
    if path.stat().st_size <= piece_chars:
        processes = 1  # one piece: not worth a worker
    try:
        # Forked workers (never spawned: a spawned one would first re-run the
        # caller's script, and one without a `__main__` guard never returns)
        # share the context set above instead of receiving it with each piece.
        with closing(process_map(_validate_piece, pieces, processes=processes,
                                 ordered=False)) as done:
            for found, n in done:
                results += found
                triples += n
                report("validating triples", triples, total)
    finally:
        _PIECE_CONTEXT = None
    return results, triples


def _validate_piece(piece: str) -> tuple[list[Violation], int]:
    import pyoxigraph as ox
    from rdflib import Graph, URIRef

    assert _PIECE_CONTEXT is not None
    classes, story_article, shapes = _PIECE_CONTEXT
    g = Graph()
    own = _add_oxigraph_triples(g, ox.parse(input=TURTLE_PROLOGUE + piece,
                                            format=ox.RdfFormat.TURTLE))
    subjects = set(g.subjects())
    rdf_type, in_story, story = URIRef(RDF_TYPE), URIRef(NKG + "inStory"), NKG + "Story"
    # The shapes target this piece's own subjects by name, not by class: the
    # nodes typed below for context are not validated (they fail, being
    # incomplete here, and reporting that is what makes pySHACL slow).
    sg = Graph()
    for prefix, namespace in shapes.namespaces():  # messages name paths with them
        sg.bind(prefix, namespace)
    sg += shapes
    for shape, cls in list(sg.subject_objects(URIRef(SH + "targetClass"))):
        sg.remove((shape, URIRef(SH + "targetClass"), cls))
        for s in subjects:
            if (s, rdf_type, cls) in g:
                sg.add((shape, URIRef(SH + "targetNode"), s))
    for o in set(g.objects()) - subjects:
        if isinstance(o, URIRef):
            for c in classes.get(str(o), ()):
                g.add((o, rdf_type, URIRef(c)))
    for s in subjects:
        if story in classes.get(str(s), ()) and str(s) in story_article:
            g.add((URIRef(story_article[str(s)]), in_story, s))
    return _shacl(g, sg), own
