"""SPARQL stores: one small interface, an embedded Oxigraph backend.

:class:`Store` is the interface every backend implements: the embedded
:class:`EmbeddedStore` here (pyoxigraph, on disk, no server) and the remote
SPARQL 1.1 endpoint in :mod:`kg.remote`.  Queries are written against the
default graph, which every backend answers as the *union* of the per-file
named graphs (see ``ontology/newskg.ttl``).

:class:`QueryResult` is backend-neutral: it holds the answer as pyoxigraph
RDF terms and gives rows of plain Python values, a pandas DataFrame, or the
exact SPARQL 1.1 Results CSV/TSV/JSON (N-Triples/Turtle for graphs).

>>> import kg, tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp())
>>> files = kg.write_rdf(kg.build_graph(kg.load_corpus("seeds")), out)
>>> build_store(files["nquads"], out / "store")
PosixPath('...store')
>>> with kg.open_store(out) as store:
...     store.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle }").rows
[(8,)]
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable
from typing import Literal as TLiteral

import orjson
import pyoxigraph as ox

from ._util import atomic_writer
from .vocab import BASE, PREFIXES, XSD

__all__ = ["Store", "QueryResult", "EmbeddedStore", "open_store", "build_store",
           "StoreBuilder", "StoreUpdate", "graph_digest",
           "StoreError", "QuerySyntaxError", "StoreNotFoundError", "to_term",
           "PREFIXES", "BASE", "DEFAULT_STORE", "STORE_DIR"]

DEFAULT_STORE = Path("exports") / "store"
STORE_DIR = "store"

class StoreError(Exception):
    """Something went wrong with a store (missing, unreadable, bad data)."""


class StoreNotFoundError(StoreError, FileNotFoundError):
    """No store at the given place: run ``kg build`` first."""


class QuerySyntaxError(StoreError, ValueError):
    """A malformed SPARQL query; ``line``/``column`` locate the error (1-based)."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column


Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Kind = TLiteral["select", "ask", "graph"]


@runtime_checkable
class Store(Protocol):
    """What every SPARQL backend offers (embedded Oxigraph, remote endpoint).

    * ``query(sparql, bindings=...)`` runs SELECT/ASK/CONSTRUCT/DESCRIBE
      against the union of the named graphs.  ``bindings`` maps variable
      names (without ``?``) to values that are substituted as RDF terms,
      never spliced into the text.  :data:`PREFIXES` and the base IRI
      :data:`BASE` are predeclared (see :func:`to_term` for the mapping of
      Python values).  Queries meant to take bindings should project the
      bound variables, so that a backend may implement them with a trailing
      ``VALUES`` clause.
    * ``load(nquads_path)`` adds the quads of an N-Quads file.
    * ``replace_graph(graph_iri, nquads)`` replaces one named graph
      atomically with the given triples (N-Quads in that graph, or N-Triples).
    * ``drop_graph(graph_iri)`` removes a named graph (no error if absent).
    * ``graph_counts()`` -> ``{graph IRI: number of triples}``.
    * ``close()``; stores are context managers.
    """

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None) -> QueryResult: ...

    def load(self, nquads_path: str | os.PathLike) -> None: ...

    def replace_graph(self, graph_iri: str, nquads: bytes | str) -> None: ...

    def drop_graph(self, graph_iri: str) -> None: ...

    def graph_counts(self) -> dict[str, int]: ...

    def close(self) -> None: ...

    def __enter__(self) -> Store: ...

    def __exit__(self, *exc: object) -> None: ...


# -- RDF terms <-> Python values ----------------------------------------------------
_XSD_STRING = XSD + "string"
_RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_INTEGER_TYPES = {XSD + t for t in (
    "integer", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt",
    "unsignedShort", "unsignedByte")}
_FLOAT_TYPES = {XSD + "decimal", XSD + "double", XSD + "float"}
# datatype IRI -> the Python value of a lexical form; other datatypes stay strings
_FROM_LEXICAL: dict[str, Callable[[str], object]] = {
    **dict.fromkeys(_INTEGER_TYPES, int), **dict.fromkeys(_FLOAT_TYPES, float),
    XSD + "boolean": lambda lex: lex in ("true", "1"),
    XSD + "dateTime": datetime.fromisoformat, XSD + "date": date.fromisoformat}


def to_python(term: Term | None) -> object:
    """A plain Python value for an RDF term.

    IRIs -> ``str``; blank nodes -> ``"_:id"``; literals by datatype: integers
    -> ``int``, decimal/double/float -> ``float``, boolean -> ``bool``,
    dateTime -> aware ``datetime``, date -> ``date``, anything else (and any
    ill-typed literal) -> its lexical form; unbound -> ``None``.

    >>> to_python(ox.Literal("42", datatype=ox.NamedNode(XSD + "integer")))
    42
    >>> to_python(ox.NamedNode("https://w3id.org/newskg/id/topic/ai"))
    'https://w3id.org/newskg/id/topic/ai'
    """
    # by exact type, most frequent first: query results convert ~10^5 terms
    kind = type(term)
    if kind is ox.NamedNode:
        return term.value  # type: ignore[union-attr]
    if kind is ox.Literal:
        lex = term.value  # type: ignore[union-attr]
        convert = _FROM_LEXICAL.get(term.datatype.value)  # type: ignore[union-attr]
        if convert is None:
            return lex
        try:
            return convert(lex)
        except ValueError:
            return lex
    if term is None:
        return None
    if kind is ox.BlankNode:
        return "_:" + term.value  # type: ignore[union-attr]
    return str(term)  # RDF-star triple term


def to_term(value: object) -> Term:
    """The RDF term a Python binding value stands for.

    IRIs must be given as ``pyoxigraph.NamedNode`` or ``rdflib.URIRef`` (a
    plain ``str`` is a string literal); ``bool``/``int``/``float``/
    ``datetime``/``date`` become typed literals.

    >>> str(to_term("Coronavirus")), str(to_term(3))
    ('"Coronavirus"', '"3"^^<http://www.w3.org/2001/XMLSchema#integer>')
    """
    if isinstance(value, (ox.NamedNode, ox.BlankNode, ox.Literal, ox.Triple)):
        return value
    cls = type(value).__name__
    if cls == "URIRef":  # rdflib, without importing it
        return ox.NamedNode(str(value))
    if cls == "Literal" and hasattr(value, "datatype"):  # rdflib.Literal
        if value.language:
            return ox.Literal(str(value), language=value.language)
        if value.datatype:
            return ox.Literal(str(value), datatype=ox.NamedNode(str(value.datatype)))
        return ox.Literal(str(value))
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(XSD + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))
    if isinstance(value, float):
        return ox.Literal(repr(value), datatype=ox.NamedNode(XSD + "double"))
    if isinstance(value, datetime):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))
    if isinstance(value, date):
        return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    if isinstance(value, str):
        return ox.Literal(value)
    raise TypeError(f"cannot use a {type(value).__name__} as a SPARQL binding")


# -- results ------------------------------------------------------------------------
_NT_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NT_ESCAPE_RE = re.compile(r'[\\"\n\r\t]')
_TSV_INTEGER = re.compile(r"[+-]?[0-9]+\Z")
_TSV_DECIMAL = re.compile(r"[+-]?[0-9]*\.[0-9]+\Z")
_TSV_DOUBLE = re.compile(r"[+-]?(?:[0-9]+\.[0-9]*|\.[0-9]+|[0-9]+)[eE][+-]?[0-9]+\Z")


def _tsv_term(term: Term | None) -> str:
    """A term in SPARQL TSV: Turtle syntax, numbers and booleans abbreviated."""
    if term is None:
        return ""
    if isinstance(term, ox.Literal):
        lex, dt = term.value, term.datatype.value
        if ((dt == XSD + "integer" and _TSV_INTEGER.match(lex))
                or (dt == XSD + "decimal" and _TSV_DECIMAL.match(lex))
                or (dt == XSD + "double" and _TSV_DOUBLE.match(lex))
                or (dt == XSD + "boolean" and lex in ("true", "false"))):
            return lex
        text = '"' + _NT_ESCAPE_RE.sub(lambda m: _NT_ESCAPES[m.group()], lex) + '"'
        if term.language:
            return text + "@" + term.language
        if dt != _XSD_STRING:
            return text + "^^<" + dt + ">"
        return text
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return str(term)


def _csv_value(term: Term | None) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, (ox.NamedNode, ox.Literal)):
        return term.value
    return str(term)


def _json_term(term: Term) -> dict:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, str] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != _XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    return {"type": "triple", "value": {
        "subject": _json_term(term.subject), "predicate": _json_term(term.predicate),
        "object": _json_term(term.object)}}


class QueryResult:
    """The answer to a query, backend-neutral.

    ``kind`` is ``"select"``, ``"ask"`` or ``"graph"`` (CONSTRUCT/DESCRIBE).
    Iterating gives rows of plain Python values (:func:`to_python`): one
    tuple per solution in ``variables`` order for SELECT, one ``(s, p, o)``
    per triple for graphs; ASK results have ``boolean`` and no rows.
    ``terms`` / ``triples`` keep the RDF terms.

    >>> r = QueryResult("select", ["n"], [(ox.Literal("1", datatype=ox.NamedNode(XSD + "integer")),)])
    >>> r.rows, r.serialize("csv")
    ([(1,)], 'n\\r\\n1\\r\\n')
    """

    def __init__(self, kind: Kind, variables: list[str] | None = None,
                 terms: list[tuple[Term | None, ...]] | None = None,
                 boolean: bool | None = None, triples: list[ox.Triple] | None = None):
        self.kind: Kind = kind
        self.variables: list[str] = list(variables or [])
        self.terms: list[tuple[Term | None, ...]] = list(terms or [])
        self.boolean: bool | None = boolean
        self.triples: list[ox.Triple] = list(triples or [])

    @property
    def rows(self) -> list[tuple]:
        """All rows as tuples of Python values."""
        return list(self)

    def __iter__(self) -> Iterator[tuple]:
        if self.kind == "graph":
            for t in self.triples:
                yield (to_python(t.subject), to_python(t.predicate), to_python(t.object))
        else:
            for row in self.terms:
                yield tuple(to_python(t) for t in row)

    def __len__(self) -> int:
        return len(self.triples) if self.kind == "graph" else len(self.terms)

    def __bool__(self) -> bool:
        return bool(self.boolean) if self.kind == "ask" else len(self) > 0

    def __repr__(self) -> str:
        if self.kind == "ask":
            return f"QueryResult(ask: {self.boolean})"
        return f"QueryResult({self.kind}: {len(self)} rows, variables={self.variables})"

    def dicts(self) -> list[dict[str, object]]:
        """SELECT rows as ``{variable: value}`` dicts (unbound -> ``None``)."""
        return [dict(zip(self.variables, row)) for row in self]

    def to_dataframe(self):
        """A pandas DataFrame of the rows (requires pandas).

        Columns are the SELECT variables, or ``subject``/``predicate``/``object``.
        """
        try:
            import pandas as pd
        except ImportError as e:  # pragma: no cover - depends on the install
            raise ImportError("to_dataframe() needs pandas: pip install pandas") from e
        if self.kind == "ask":
            return pd.DataFrame({"boolean": [self.boolean]})
        columns = ["subject", "predicate", "object"] if self.kind == "graph" else self.variables
        return pd.DataFrame(self.rows, columns=columns)

    def serialize(self, format: str = "json") -> str:
        """The result in a standard format.

        SELECT/ASK: ``csv``, ``tsv``, ``json`` (SPARQL 1.1 Query Results
        CSV/TSV and JSON).  Graphs: ``nt`` (N-Triples) or ``ttl`` (Turtle).
        """
        fmt = format.lower()
        if self.kind == "graph":
            rdf_format = {"nt": ox.RdfFormat.N_TRIPLES, "ntriples": ox.RdfFormat.N_TRIPLES,
                          "n-triples": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE,
                          "turtle": ox.RdfFormat.TURTLE}.get(fmt)
            if rdf_format is None:
                raise ValueError(f"graph results serialize as nt or ttl, not {format!r}")
            # not "id:": node IRIs hold "/", which Turtle names must escape
            prefixes = ({p: ns for p, ns in PREFIXES.items() if p != "id"}
                        if rdf_format == ox.RdfFormat.TURTLE else None)
            return ox.serialize(self.triples, format=rdf_format, prefixes=prefixes).decode()
        if fmt == "json":
            if self.kind == "ask":
                doc: dict[str, Any] = {"head": {}, "boolean": bool(self.boolean)}
            else:
                doc = {"head": {"vars": self.variables}, "results": {"bindings": [
                    {v: _json_term(t) for v, t in zip(self.variables, row) if t is not None}
                    for row in self.terms]}}
            return orjson.dumps(doc).decode()
        if fmt == "csv":
            if self.kind == "ask":
                return "true" if self.boolean else "false"
            buf = io.StringIO()
            w = csv.writer(buf, lineterminator="\r\n")
            w.writerow(self.variables)
            for row in self.terms:
                w.writerow([_csv_value(t) for t in row])
            return buf.getvalue()
        if fmt == "tsv":
            if self.kind == "ask":
                return "true" if self.boolean else "false"
            lines = ["\t".join("?" + v for v in self.variables)]
            lines += ["\t".join(_tsv_term(t) for t in row) for row in self.terms]
            return "\n".join(lines) + "\n"
        raise ValueError(f"unknown result format {format!r} (csv, tsv or json)")

    @classmethod
    def from_oxigraph(cls, result: Any) -> QueryResult:
        """Wrap what ``pyoxigraph.Store.query`` returned (consumes it)."""
        if isinstance(result, ox.QueryBoolean):
            return cls("ask", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            return cls("select", names, [tuple(s) for s in result])
        return cls("graph", triples=list(result))


# -- the embedded backend -------------------------------------------------------------
_POSITION = re.compile(r"error at (\d+):(\d+)")


def _syntax_error(e: SyntaxError) -> QuerySyntaxError:
    msg = str(e)
    m = _POSITION.match(msg)
    if m:  # pyoxigraph says "error at LINE:COLUMN: what was expected"
        line, col = int(m.group(1)), int(m.group(2))
        return QuerySyntaxError(f"malformed SPARQL query at line {line}, column {col}: "
                                f"{msg[m.end():].lstrip(': ')}", line, col)
    return QuerySyntaxError(f"malformed SPARQL query: {msg}")


def _nquads_for_graph(graph_iri: str, nquads: bytes | str) -> list[ox.Quad]:
    """Parse N-Quads/N-Triples meant for one named graph; reject other graphs."""
    data = nquads.encode() if isinstance(nquads, str) else nquads
    g = ox.NamedNode(graph_iri)
    out = []
    try:
        for q in ox.parse(data, format=ox.RdfFormat.N_QUADS):
            if isinstance(q.graph_name, ox.DefaultGraph):
                q = ox.Quad(q.subject, q.predicate, q.object, g)
            elif q.graph_name != g:
                raise StoreError(f"quad in graph {q.graph_name} given for graph <{graph_iri}>")
            out.append(q)
    except SyntaxError as e:
        raise StoreError(f"invalid N-Quads for <{graph_iri}>: {e}") from e
    return out


_FILL_UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def _unassert(g: ox.NamedNode) -> str:
    """Update removing from the default (union) graph what only graph g holds."""
    return (f"DELETE {{ ?s ?p ?o }} WHERE {{ GRAPH {g} {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h != {g}) }} }}")


class EmbeddedStore:
    """An on-disk (or in-memory, ``path=None``) Oxigraph store.

    Read-only stores can be opened by many processes at once; a writable one
    by one process.  ``query`` answers against the union of the named graphs.

    The union is materialised: the store's default graph holds each triple of
    the named graphs once, and every method here keeps it in step.  We do not
    use pyoxigraph's ``use_default_graph_as_union`` because up to 0.5 it
    yields a triple once *per named graph* that holds it (oxigraph issue
    #1919), so shared providers and topics would be counted several times.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        if read_only and self.path is not None and not (self.path / "CURRENT").exists():
            raise StoreNotFoundError(f"no store at {self.path}: run `kg build` first")
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self._store = ox.Store(str(self.path))
        except OSError as e:
            raise StoreError(f"cannot open the store at {self.path}: {e}") from e

    # context manager / lifecycle
    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and release the store (pyoxigraph closes it when collected)."""
        store = self.__dict__.pop("_store", None)
        if store is not None and not self.read_only:
            store.flush()
        del store  # the last reference: Oxigraph releases its files now

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying ``pyoxigraph.Store``."""
        try:
            return self._store
        except AttributeError:
            raise StoreError("the store is closed") from None

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None) -> QueryResult:
        """Run a SPARQL query against the union of the named graphs.

        The prefixes in :data:`PREFIXES` need no declaration, and relative
        IRIs resolve against :data:`BASE` (``<article/…>``, as in the Turtle
        export).
        """
        subs = {ox.Variable(k): to_term(v) for k, v in (bindings or {}).items()}
        try:
            result = self.oxigraph.query(sparql, base_iri=BASE, prefixes=PREFIXES,
                                         substitutions=subs or None)
        except SyntaxError as e:
            raise _syntax_error(e) from None
        except RuntimeError as e:  # e.g. a binding for a variable the query does not project
            raise StoreError(f"cannot run the query: {e}") from None
        return QueryResult.from_oxigraph(result)

    def load(self, nquads_path: str | os.PathLike, *, union: str | os.PathLike | None = None,
             trusted: bool = False) -> None:
        """Bulk-load an N-Quads file (fast; not transactional).

        ``union``: optionally, a Turtle/N-Triples file that holds exactly the
        union of those quads' triples (such as ``newskg.ttl``), loaded as the
        default graph; faster than computing the union in the store.
        ``trusted=True`` skips Oxigraph's IRI and literal validation (faster
        parsing): only for files that newskg itself wrote.
        """
        try:
            self.oxigraph.bulk_load(path=str(nquads_path), format=ox.RdfFormat.N_QUADS,
                                    lenient=trusted)
            if union is not None:
                self.oxigraph.bulk_load(path=str(union), format=ox.RdfFormat.from_extension(
                    Path(union).suffix.lstrip(".")) or ox.RdfFormat.TURTLE, lenient=trusted)
            else:
                self.oxigraph.update(_FILL_UNION)
        except SyntaxError as e:
            raise StoreError(f"invalid RDF in {nquads_path}: {e}") from e

    def replace_graph(self, graph_iri: str, nquads: bytes | str) -> None:
        """Replace one named graph by the given triples in one transaction."""
        self.update_graphs({graph_iri: nquads})

    def drop_graph(self, graph_iri: str) -> None:
        self.update_graphs({}, drop=[graph_iri])

    def update_graphs(self, replace: Mapping[str, bytes | str],
                      drop: Iterable[str] = ()) -> None:
        """Replace some named graphs and drop others, all in one transaction.

        ``replace`` maps graph IRIs to their new N-Quads (or N-Triples); the
        union in the default graph is kept in step.  This is how ``kg build``
        updates the store when only a few files changed.
        """
        ops: list[str] = []
        for graph_iri in drop:
            g = ox.NamedNode(graph_iri)
            ops += [_unassert(g), f"DROP SILENT GRAPH {g}"]
        for graph_iri, nquads in replace.items():
            quads = _nquads_for_graph(graph_iri, nquads)
            g = ox.NamedNode(graph_iri)
            body = " .\n".join(f"{q.subject} {q.predicate} {q.object}" for q in quads)
            ops += [_unassert(g), f"DROP SILENT GRAPH {g}",
                    f"INSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}", f"INSERT DATA {{\n{body}\n}}"]
        if ops:
            # One SPARQL update is one transaction: readers see the old graphs
            # or the new ones, never a mix.
            self.oxigraph.update(" ;\n".join(ops))

    def graph_counts(self) -> dict[str, int]:
        """Triples per named graph, sorted by graph IRI."""
        r = self.oxigraph.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                                "GROUP BY ?g ORDER BY ?g")
        return {s["g"].value: int(s["n"].value) for s in r}

    def __len__(self) -> int:
        """Number of quads, named graphs and the union together."""
        return len(self.oxigraph)


class StoreBuilder:
    """A fresh embedded store, filled in the background and swapped in atomically.

    Bulk loads run in ``threads`` background threads, outside Python's
    global lock, so the caller goes on producing RDF while the parts it
    already handed over load: ``kg build`` streams its N-Quads and its
    Turtle here block by block as it writes them.  Text is gathered into
    chunks of about ``chunk_bytes``; at most two chunks per thread wait in
    memory, then :meth:`add` blocks until a load finishes.  (Oxigraph's own
    loading of a whole file holds ~1.5 GB at 100,000 articles.)

    The store is built in a temporary folder beside ``store_dir``;
    :meth:`commit` waits for every load, compacts the store for queries and
    renames it into place.  Leaving the ``with`` block without committing
    (an exception, say) deletes it: a crash mid-build leaves the previous
    store (or none), never a half-loaded one.

    Unless some text or file was added with ``union=True``, :meth:`commit`
    computes the union of the named graphs into the default graph.

    >>> import tempfile, pathlib
    >>> where = pathlib.Path(tempfile.mkdtemp()) / "store"
    >>> with StoreBuilder(where) as builder:
    ...     builder.add("<urn:s> <urn:p> <urn:o> <urn:g> .\\n")
    ...     builder.commit().name
    'store'
    >>> with EmbeddedStore(where, read_only=True) as store:
    ...     store.query("ASK { <urn:s> <urn:p> <urn:o> }").boolean  # in the union
    True
    """

    def __init__(self, store_dir: str | os.PathLike, *, trusted: bool = False,
                 threads: int = 2, chunk_bytes: int = 8 << 20) -> None:
        self.store_dir = Path(store_dir)
        self.trusted = trusted
        self.chunk_bytes = chunk_bytes
        self.store_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.store_dir.with_name(f".{self.store_dir.name}.tmp-{os.getpid()}")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._store: EmbeddedStore | None = EmbeddedStore(self._tmp)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="kg-store-load")
        self._room = threading.BoundedSemaphore(2 * threads)
        self._futures: list[Future] = []
        # (format, prologue) -> texts waiting to make a chunk, and their size
        self._buffers: dict[tuple[ox.RdfFormat, str], tuple[list[str], list[int]]] = {}
        self._union = False

    def __enter__(self) -> StoreBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._store is not None:
            self.abort()

    def add(self, text: str, *, format: ox.RdfFormat = ox.RdfFormat.N_QUADS,
            prologue: str = "", union: bool = False) -> None:
        """Queue RDF text for loading: N-Quads lines by default.

        Texts of one ``format`` are joined into chunks, so each text must
        be whole statements (whole lines, whole Turtle subject blocks);
        ``prologue`` (e.g. Turtle ``@prefix`` lines) is put before every
        chunk.  ``union=True``: these texts together hold exactly the union
        of the named graphs' triples, for the default graph.
        """
        self._union |= union
        texts, size = self._buffers.setdefault((format, prologue), ([], [0]))
        texts.append(text)
        size[0] += len(text)
        if size[0] >= self.chunk_bytes:
            self._flush(format, prologue)

    def add_file(self, path: str | os.PathLike, *, union: bool = False) -> None:
        """Queue an RDF file (format from its extension) for loading.

        N-Quads and N-Triples are read and loaded in chunks; other formats
        in one piece.  ``union`` is as in :meth:`add`.
        """
        path = Path(path)
        format = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.N_QUADS
        self._union |= union
        if format not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES):
            self._submit({"path": str(path), "format": format}, str(path))
            return
        with open(path, encoding="utf-8") as f:
            while chunk := f.read(self.chunk_bytes):
                if not chunk.endswith("\n"):
                    chunk += f.readline()  # up to the end of its last line
                self._submit({"input": chunk, "format": format}, str(path))

    def commit(self, digests: Mapping[str, str] | None = None) -> Path:
        """Wait for every load, then move the store into place; returns its path.

        ``digests`` (graph IRI -> :func:`graph_digest` of its N-Quads) are
        saved beside the store so that the next build can update only the
        graphs that changed (:class:`StoreUpdate`).
        """
        for format, prologue in list(self._buffers):
            self._flush(format, prologue)
        self._wait()
        store = self._store
        assert store is not None, "commit() after commit() or abort()"
        if not self._union:
            store.oxigraph.update(_FILL_UNION)
        # Each bulk load adds files that overlap all the others' key ranges,
        # and a query then seeks in every one of them: compacting them once
        # costs ~8 s at 100,000 articles and makes queries ~2x faster.
        store.oxigraph.optimize()
        store.close()
        self._store = None
        state = _state_path(self.store_dir)
        state.unlink(missing_ok=True)  # it describes the store being replaced
        old = self.store_dir.with_name(f".{self.store_dir.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        if self.store_dir.exists():
            os.rename(self.store_dir, old)
        os.rename(self._tmp, self.store_dir)
        shutil.rmtree(old, ignore_errors=True)
        if digests is not None:
            _write_state(state, digests)
        return self.store_dir

    def abort(self) -> None:
        """Stop loading and delete the half-built store."""
        self._buffers.clear()
        for f in self._futures:
            f.cancel()
        self._pool.shutdown(wait=True)  # a running bulk load cannot be interrupted
        if self._store is not None:
            self._store.close()
            self._store = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _flush(self, format: ox.RdfFormat, prologue: str) -> None:
        texts, size = self._buffers.pop((format, prologue), ([], [0]))
        if texts:
            self._submit({"input": prologue + "".join(texts), "format": format}, format.name)

    def _submit(self, source: dict, what: str) -> None:
        assert self._store is not None, "the builder is committed or aborted"
        self._room.acquire()  # bounded: memory stays at a few chunks
        try:
            future = self._pool.submit(self._store.oxigraph.bulk_load, lenient=self.trusted,
                                       **source)
        except BaseException:
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        future.what = what  # type: ignore[attr-defined]
        self._futures.append(future)
        self._raise_failed(done_only=True)

    def _wait(self) -> None:
        wait(self._futures)
        self._raise_failed(done_only=False)
        self._pool.shutdown(wait=True)

    def _raise_failed(self, *, done_only: bool) -> None:
        pending = []
        for f in self._futures:
            if done_only and not f.done():
                pending.append(f)
                continue
            e = f.exception()
            if isinstance(e, SyntaxError):
                raise StoreError(f"invalid RDF in {f.what}: {e}") from e  # type: ignore[attr-defined]
            if e is not None:
                raise e
        self._futures = pending  # loads that succeeded need no more looking at


def build_store(nquads_path: str | os.PathLike, store_dir: str | os.PathLike = DEFAULT_STORE,
                *, union: str | os.PathLike | None = None, trusted: bool = False,
                digests: Mapping[str, str] | None = None) -> Path:
    """Bulk-load an N-Quads file into a fresh store at ``store_dir``, atomically.

    ``union``: optionally, a file that holds exactly the union of those
    quads' triples (such as the ``newskg.ttl`` written beside the N-Quads),
    loaded as the default graph alongside the N-Quads; otherwise the union
    is computed in the store.  ``trusted=True`` skips Oxigraph's IRI and
    literal validation: only for files that newskg itself wrote.
    ``digests`` are as in :meth:`StoreBuilder.commit`.  The store is
    replaced atomically (see :class:`StoreBuilder`).
    """
    with StoreBuilder(store_dir, trusted=trusted) as builder:
        builder.add_file(nquads_path)
        if union is not None:
            builder.add_file(union, union=True)
        return builder.commit(digests)


# -- incremental updates of the embedded store ------------------------------------
def graph_digest(nquads: str) -> str:
    """Content hash of one named graph's N-Quads text, as ``kg build`` writes it."""
    # SHA-256 (first 128 bits): in hardware on current x86 and ARM, twice
    # as fast as BLAKE2b there (0.9 s against 1.8 s for 1.2 GB of N-Quads).
    return hashlib.sha256(nquads.encode()).hexdigest()[:32]


def _state_path(store_dir: Path) -> Path:
    return store_dir.parent / ".cache" / f"{store_dir.name}-graphs.json"


def _write_state(path: Path, digests: Mapping[str, str]) -> None:
    with atomic_writer(path) as f:
        f.write(orjson.dumps({"version": 1, "graphs": dict(digests)}))


def _read_state(path: Path) -> dict[str, str]:
    try:
        state = orjson.loads(path.read_bytes())
        graphs = state["graphs"] if state.get("version") == 1 else {}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}  # no state, or an unreadable one: the store is rebuilt
    return graphs if isinstance(graphs, dict) else {}


class StoreUpdate:
    """Which named graphs changed since the store at ``store_dir`` was loaded.

    Feed it every graph of the new export (``add``, e.g. as
    :meth:`kg.rdf.RdfWriter.write_nquads`'s ``each_graph``).  If the store
    and its saved digests exist and at most ``max_share`` of the graphs (or
    100) changed, :meth:`apply` replaces just those graphs (one transaction) and
    ``worthwhile`` is true; otherwise rebuild with :func:`build_store`,
    passing ``digests``.

    >>> import tempfile, pathlib
    >>> u = StoreUpdate(pathlib.Path(tempfile.mkdtemp()) / "store")
    >>> u.add("urn:g", "<urn:s> <urn:p> <urn:o> <urn:g> .\\n")
    >>> u.worthwhile  # no store there yet
    False
    """

    def __init__(self, store_dir: str | os.PathLike, *, max_share: float = 0.01) -> None:
        self.store_dir = Path(store_dir)
        self.state_path = _state_path(self.store_dir)
        exists = (self.store_dir / "CURRENT").exists()
        self.old = _read_state(self.state_path) if exists else {}
        self.digests: dict[str, str] = {}
        self.changed: dict[str, str] = {}
        # Replacing a graph takes ~15 ms at 100,000 articles; a rebuild ~40 s.
        self._limit = max(100, int(max_share * len(self.old)))

    def add(self, graph_iri: str, nquads: str) -> None:
        digest = self.digests[graph_iri] = graph_digest(nquads)
        if self.old.get(graph_iri) != digest and len(self.changed) <= self._limit:
            self.changed[graph_iri] = nquads

    @property
    def gone(self) -> list[str]:
        return sorted(g for g in self.old if g not in self.digests)

    @property
    def worthwhile(self) -> bool:
        return bool(self.old) and len(self.changed) + len(self.gone) <= self._limit

    def apply(self) -> int:
        """Replace the changed graphs and drop the gone ones; returns how many."""
        # Without its digests a store is rebuilt next time: so a crash
        # between the update and the new digests costs a rebuild, never a
        # store that silently disagrees with its export.
        self.state_path.unlink(missing_ok=True)
        with EmbeddedStore(self.store_dir) as store:
            store.update_graphs(self.changed, drop=self.gone)
        _write_state(self.state_path, self.digests)
        return len(self.changed) + len(self.gone)


def _store_path(path: Path) -> Path:
    """Accept the store folder itself or an export folder that holds ``store/``."""
    if (path / "CURRENT").exists():
        return path
    return path / STORE_DIR


def open_store(path_or_url: str | os.PathLike = "exports", *, read_only: bool = True) -> Store:
    """Open the store of an export folder (or a store folder, or a SPARQL URL).

    A path opens the embedded store (read-only by default, so many readers
    can share it); an ``http(s)://`` URL opens :class:`kg.remote.RemoteStore`.

    >>> import kg
    >>> kg.open_store("/nonexistent")
    Traceback (most recent call last):
    ...
    kg.store.StoreNotFoundError: no store at /nonexistent/store: run `kg build` first
    """
    text = os.fspath(path_or_url)
    if text.startswith(("http://", "https://")):
        try:
            from .remote import RemoteStore
        except ImportError as e:
            raise StoreError(f"remote SPARQL endpoints need kg.remote, which is not available: {e}") from e
        return RemoteStore(text)
    path = _store_path(Path(text))
    if not read_only:
        return EmbeddedStore(path)
    return EmbeddedStore(path, read_only=True)
