"""What every store backend shares: the ``Store`` interface, query results,
RDF terms <-> Python values, and the errors.

Backends (:mod:`kg.store.embedded`, :mod:`kg.store.remote`) import this
module; it imports no backend.  :class:`QueryResult` is backend-neutral: it
holds the answer as pyoxigraph RDF terms and gives rows of plain Python
values, a pandas DataFrame, or the SPARQL 1.1 Results CSV/TSV/JSON/XML that
pyoxigraph's own writers produce (N-Triples/Turtle for graphs).

>>> r = QueryResult("select", ["n"], [(to_term(1),)])
>>> r.rows, r.serialize("csv")
([(1,)], 'n\\r\\n1\\r\\n')
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from datetime import date, datetime
from typing import Any, Protocol, runtime_checkable
from typing import Literal as TLiteral

import pyoxigraph as ox

from ..vocab import PREFIXES, XSD

__all__ = ["Store", "QueryResult", "Term", "to_python", "to_term", "parse_graph",
           "StoreError", "StoreNotFoundError", "QuerySyntaxError", "RemoteError",
           "EndpointError", "AuthenticationError", "PushError"]


# -- errors --------------------------------------------------------------------------
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


class RemoteError(StoreError):
    """A remote SPARQL endpoint, or pushing to one, failed."""


class EndpointError(RemoteError):
    """The endpoint refused a request (4xx) or kept failing (5xx, network)."""

    def __init__(self, message: str, *, status: int | None = None, url: str = "",
                 server_message: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.server_message = server_message


class AuthenticationError(EndpointError):
    """401/403: missing or wrong credentials, or the endpoint is read-only."""


class PushError(RemoteError):
    """The export cannot be pushed (missing file, default-graph triples, ...)."""


# -- the interface -------------------------------------------------------------------
Term = ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple
Kind = TLiteral["select", "ask", "graph"]


@runtime_checkable
class Store(Protocol):
    """What every SPARQL backend offers (embedded Oxigraph, remote endpoint).

    * ``query(sparql, bindings=...)`` runs SELECT/ASK/CONSTRUCT/DESCRIBE
      against the union of the named graphs.  ``bindings`` maps variable
      names (without ``?``) to values that are substituted as RDF terms,
      never spliced into the text.  :data:`kg.vocab.PREFIXES` and the base
      IRI :data:`kg.vocab.BASE` are predeclared (see :func:`to_term` for the
      mapping of Python values).  Queries meant to take bindings should
      project the bound variables, so that a backend may implement them with
      a trailing ``VALUES`` clause.
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
    # by exact type, most frequent first: a large result converts every term
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
        if value.language:  # type: ignore[attr-defined]
            return ox.Literal(str(value), language=value.language)  # type: ignore[attr-defined]
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


def parse_graph(graph_iri: str, nquads: bytes | str) -> list[ox.Quad]:
    """Parse N-Quads/N-Triples meant for one named graph; reject other graphs.

    >>> [str(q.graph_name) for q in parse_graph("urn:g", "<urn:s> <urn:p> <urn:o> .\\n")]
    ['<urn:g>']
    """
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


# -- results ------------------------------------------------------------------------
_RESULT_FORMATS = {"csv": ox.QueryResultsFormat.CSV, "tsv": ox.QueryResultsFormat.TSV,
                   "json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML}
_GRAPH_FORMATS = {"nt": ox.RdfFormat.N_TRIPLES, "ntriples": ox.RdfFormat.N_TRIPLES,
                  "n-triples": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE,
                  "turtle": ox.RdfFormat.TURTLE}


def _tsv_term(term: Term) -> str:
    # A term as pyoxigraph writes it (N-Triples syntax, which SPARQL TSV
    # accepts); a triple term needs the <<( )>> that str() leaves out.
    if type(term) is ox.Triple:
        return f"<<( {_tsv_term(term.subject)} {term.predicate} {_tsv_term(term.object)} )>>"
    return str(term)


class QueryResult:
    """The answer to a query, backend-neutral.

    ``kind`` is ``"select"``, ``"ask"`` or ``"graph"`` (CONSTRUCT/DESCRIBE).
    Iterating gives rows of plain Python values (:func:`to_python`): one
    tuple per solution in ``variables`` order for SELECT, one ``(s, p, o)``
    per triple for graphs; ASK results have ``boolean`` and no rows.
    ``terms`` / ``triples`` keep the RDF terms.

    >>> r = QueryResult("select", ["name", "n"], [(to_term("CNN"), to_term(2))])
    >>> r.dicts()
    [{'name': 'CNN', 'n': 2}]
    >>> r.serialize("tsv")
    '?name\\t?n\\n"CNN"\\t2\\n'
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

    def to_dataframe(self) -> Any:
        """A pandas DataFrame of the rows (requires pandas).

        Columns are the SELECT variables, or ``subject``/``predicate``/``object``.

        >>> QueryResult("ask", boolean=True).to_dataframe()["boolean"].tolist()
        [True]
        """
        from .._util import require_extra

        pd = require_extra("pandas", "pandas")
        if self.kind == "ask":
            return pd.DataFrame({"boolean": [self.boolean]})
        columns = ["subject", "predicate", "object"] if self.kind == "graph" else self.variables
        return pd.DataFrame(self.rows, columns=columns)

    #: Rows a notebook shows before "... N more rows".
    HTML_ROWS = 50

    def _repr_html_(self) -> str:
        """The result as an HTML table for Jupyter: every value escaped, IRIs
        shortened with the query prefixes, at most :attr:`HTML_ROWS` rows.

        >>> r = QueryResult("select", ["h"], [(to_term("<b>x</b>"),)])
        >>> "&lt;b&gt;x&lt;/b&gt;" in r._repr_html_() and "<b>" not in r._repr_html_()
        True
        """
        import html

        if self.kind == "ask":
            return f"<p>ASK: <b>{'true' if self.boolean else 'false'}</b></p>"
        header = ["subject", "predicate", "object"] if self.kind == "graph" else self.variables
        rows = ([(t.subject, t.predicate, t.object) for t in self.triples[:self.HTML_ROWS]]
                if self.kind == "graph" else self.terms[:self.HTML_ROWS])

        def cell(term: object) -> str:
            if term is None:
                return ""
            value = str(getattr(term, "value", term))
            if isinstance(term, ox.NamedNode):
                for p, ns in PREFIXES.items():
                    if value.startswith(ns):
                        value = f"{p}:{value[len(ns):]}"
                        break
            return html.escape(value)

        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td style=\"text-align:left\">{cell(t)}</td>" for t in row)
                       + "</tr>" for row in rows)
        more = len(self) - len(rows)
        note = f"<p>... {more:,} more rows (of {len(self):,})</p>" if more > 0 else (
            f"<p>{len(self):,} row{'s' * (len(self) != 1)}</p>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{note}"

    def serialize(self, format: str = "json") -> str:
        """The result in a standard format, written by pyoxigraph.

        SELECT/ASK: ``csv``, ``tsv``, ``json``, ``xml`` (SPARQL 1.1 Query
        Results formats).  Graphs: ``nt`` (N-Triples) or ``ttl`` (Turtle).

        >>> QueryResult("ask", boolean=False).serialize("json")
        '{"head":{},"boolean":false}'
        """
        fmt = format.lower()
        if self.kind == "graph":
            rdf_format = _GRAPH_FORMATS.get(fmt)
            if rdf_format is None:
                raise ValueError(f"graph results serialize as nt or ttl, not {format!r}")
            # not "id:": node IRIs hold "/", which Turtle names must escape
            prefixes = ({p: ns for p, ns in PREFIXES.items() if p != "id"}
                        if rdf_format == ox.RdfFormat.TURTLE else None)
            return ox.serialize(self.triples, format=rdf_format, prefixes=prefixes).decode()  # type: ignore[union-attr]
        results_format = _RESULT_FORMATS.get(fmt)
        if results_format is None:
            raise ValueError(f"unknown result format {format!r} (csv, tsv or json)")
        return self._oxigraph_results().serialize(format=results_format).decode()  # type: ignore[union-attr]

    def _oxigraph_results(self) -> ox.QuerySolutions | ox.QueryBoolean:
        """The result as pyoxigraph's own results object, for its writers.

        pyoxigraph makes those only by running or parsing, so the terms are
        written as SPARQL TSV (each term in pyoxigraph's own syntax) and
        parsed back: cheaper than keeping a serialised copy of every answer
        (see benchmarks/README.md, "Stores").
        """
        if self.kind == "ask":
            doc = '{"head":{},"boolean":%s}' % ("true" if self.boolean else "false")
            return ox.parse_query_results(doc, ox.QueryResultsFormat.JSON)
        lines = ["\t".join(["?" + v for v in self.variables])]
        lines += ["\t".join(["" if t is None else _tsv_term(t) for t in row])
                  for row in self.terms]
        lines.append("")
        return ox.parse_query_results("\n".join(lines), ox.QueryResultsFormat.TSV)

    @classmethod
    def from_oxigraph(cls, result: Any) -> QueryResult:
        """Wrap what ``pyoxigraph.Store.query`` or ``pyoxigraph.parse_query_results``
        returned (consumes it).

        >>> QueryResult.from_oxigraph(ox.Store().query("ASK { }"))
        QueryResult(ask: True)
        """
        if isinstance(result, ox.QueryBoolean):
            return cls("ask", boolean=bool(result))
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            return cls("select", names, [tuple(s) for s in result])
        return cls("graph", triples=list(result))

