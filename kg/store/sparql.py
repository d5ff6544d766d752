"""SPARQL text: values as terms, bindings, the form of a query, prefixes, and
the updates that keep the union of the named graphs in step.

Every value that goes into SPARQL text goes through :func:`sparql_term`
(or :func:`sparql_string` / :func:`sparql_iri`), so article text can never
change a query:

>>> sparql_string('a "quoted" } DROP ALL\\n')
'"a \\\\"quoted\\\\" } DROP ALL\\\\n"'
>>> bind_values('SELECT ?t WHERE { ?a <https://schema.org/headline> ?t }', {"t": "x"})
'SELECT ?t WHERE { VALUES (?t) { ("x") } ?a <https://schema.org/headline> ?t }'
"""

from __future__ import annotations

import datetime as _dt
import decimal
import math
import re
from collections.abc import Iterator, Mapping, Sequence

import pyoxigraph as ox

from ..vocab import BASE, PREFIXES, XSD, escape_literal

__all__ = ["sparql_string", "sparql_iri", "sparql_term", "query_form", "bind_values",
           "uses_service", "projected", "with_prefixes", "names_a_dataset", "unassert", "drop_graphs", "FILL_UNION"]

_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def sparql_string(text: str) -> str:
    """``text`` as a quoted SPARQL string literal that cannot end early.

    Escaped by :func:`kg.vocab.escape_literal`, which never writes the
    ``\\u`` forms of a quote, backslash or line end (SPARQL expands those
    before tokenising).  A lone surrogate is refused: it cannot go on the
    wire, and replacing it would change what the caller asked for.

    >>> print(sparql_string('say "hi"\\\\ } DROP ALL'))
    "say \\"hi\\"\\\\ } DROP ALL"
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"string is not valid Unicode: {exc}") from None
    return '"' + escape_literal(text) + '"'


def sparql_iri(iri: str) -> str:
    """``<iri>``; raises ValueError for characters an IRIREF cannot hold.

    >>> sparql_iri("https://w3id.org/newskg/topic/ai")
    '<https://w3id.org/newskg/topic/ai>'
    >>> sparql_iri("https://x/> } DROP ALL")
    Traceback (most recent call last):
    ...
    ValueError: not a valid IRI for SPARQL: 'https://x/> } DROP ALL'
    """
    if not isinstance(iri, str) or not iri or _IRI_FORBIDDEN.search(iri) or ":" not in iri:
        raise ValueError(f"not a valid IRI for SPARQL: {iri!r}")
    return f"<{iri}>"


def _typed(lexical: str, datatype: str) -> str:
    return f"{sparql_string(lexical)}^^{sparql_iri(datatype)}"


def sparql_term(value: object) -> str:
    """A Python value or pyoxigraph term as SPARQL term syntax.

    ``str`` is a plain string literal; use ``pyoxigraph.NamedNode`` for IRIs.

    >>> sparql_term(3), sparql_term(True), sparql_term(ox.NamedNode("https://e/x"))
    ('"3"^^<http://www.w3.org/2001/XMLSchema#integer>', '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>', '<https://e/x>')
    >>> sparql_term(ox.Literal("Bonjour", language="fr"))
    '"Bonjour"@fr'
    """
    if isinstance(value, ox.NamedNode):
        return sparql_iri(value.value)
    if isinstance(value, ox.Literal):
        if value.language:
            if not _LANG.match(value.language):
                raise ValueError(f"bad language tag {value.language!r}")
            return f"{sparql_string(value.value)}@{value.language}"
        if value.datatype.value == XSD + "string":
            return sparql_string(value.value)
        return _typed(value.value, value.datatype.value)
    if isinstance(value, ox.BlankNode):
        raise ValueError("blank nodes cannot be sent to another store")
    if isinstance(value, bool):  # before int: bool is an int
        return _typed("true" if value else "false", XSD + "boolean")
    if isinstance(value, int):
        return _typed(str(value), XSD + "integer")
    if isinstance(value, float):
        if math.isnan(value):
            return _typed("NaN", XSD + "double")
        if math.isinf(value):
            return _typed("INF" if value > 0 else "-INF", XSD + "double")
        return _typed(repr(value), XSD + "double")
    if isinstance(value, decimal.Decimal):
        return _typed(format(value, "f"), XSD + "decimal")
    if isinstance(value, _dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a timezone (newskg stores UTC)")
        return _typed(value.isoformat().replace("+00:00", "Z"), XSD + "dateTime")
    if isinstance(value, _dt.date):
        return _typed(value.isoformat(), XSD + "date")
    if isinstance(value, str):
        return sparql_string(value)
    raise TypeError(f"cannot bind a {type(value).__name__} as an RDF term")


# -- query text scanning -------------------------------------------------------------
# One alternation, tried left to right at each position: what a SPARQL lexer
# must skip (strings, IRIs, comments, variables, prefixed names) so that a
# brace or keyword inside them is never mistaken for structure.
_TOKEN = re.compile(r'''
    (?P<skip>
        """(?:[^"\\]|\\.|"(?!""))*"""          # long strings
      | \'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'
      | "(?:[^"\\\n\r]|\\.)*"                  # strings
      | '(?:[^'\\\n\r]|\\.)*'
      | <[^<>"{}|^`\\\x00-\x20]*>              # IRIs
      | \#[^\n\r]*                             # comments
      | [?$][A-Za-z0-9_\u00b7-\uffff]+         # variables
      | [A-Za-z_][\w.-]*:[\w.:%-]*             # prefixed names
      | :[\w.:%-]*
      | @[A-Za-z]+(?:-[A-Za-z0-9]+)*           # language tags
    )
  | (?P<word>[A-Za-z]+)
  | (?P<open>\{)
  | (?P<close>\})
''', re.VERBOSE | re.DOTALL)

_FORMS = {"SELECT": "select", "ASK": "ask", "CONSTRUCT": "construct", "DESCRIBE": "describe"}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE",
                 "COPY", "WITH"}


def _top_level(query: str) -> Iterator[tuple[str, str, int]]:
    """(kind, text, end offset) of the tokens at brace depth 0 (and braces)."""
    depth = 0
    for m in _TOKEN.finditer(query):
        kind = m.lastgroup
        if kind == "open":
            if depth == 0:
                yield "open", "{", m.end()
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0:
            yield "word", m.group().upper(), m.end()


def query_form(query: str) -> str:
    """``select``, ``ask``, ``construct``, ``describe`` or ``update``.

    >>> query_form("PREFIX s: <https://schema.org/> # SELECT in a comment\\nASK { ?a s:name 'SELECT' }")
    'ask'
    """
    for kind, text, _ in _top_level(query):
        if kind == "word":
            if text in _FORMS:
                return _FORMS[text]
            if text in _UPDATE_WORDS:
                return "update"
    raise ValueError("not a SPARQL query: no SELECT, ASK, CONSTRUCT or DESCRIBE")


_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")


def _unescape_codepoints(query: str) -> str:
    def char(m: re.Match) -> str:
        try:
            return chr(int(m.group(1) or m.group(2), 16))
        except (ValueError, OverflowError):
            return m.group()
    return _CODEPOINT.sub(char, query)


def uses_service(query: str) -> bool:
    """Whether the query calls another endpoint (a ``SERVICE`` keyword).

    The keyword is looked for as a SPARQL lexer sees it, so ``SERVICE`` in a
    string, an IRI, a comment, a variable or a prefixed name does not count.
    The text is scanned both as written and with its ``\\u`` escapes
    expanded (SPARQL allows them anywhere), so neither reading can hide
    the keyword from the other.

    >>> uses_service("SELECT * { service <http://127.0.0.1:1/> { ?s ?p ?o } }")
    True
    >>> uses_service("SELECT * { ?s ?p 'SERVICE <x>' } # SERVICE <y> {}")
    False
    >>> uses_service("SELECT * { \\u0053ERVICE <http://127.0.0.1:1/> { ?s ?p ?o } }")
    True
    """
    for text in {query, _unescape_codepoints(query)}:
        if any(m.lastgroup == "word" and m.group().upper() == "SERVICE"
               for m in _TOKEN.finditer(text)):
            return True
    return False


def projected(query: str) -> set[str] | None:
    """The variables a SELECT query projects (None for ``SELECT *`` or another form).

    >>> sorted(projected("SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a ?p ?b }"))
    ['a', 'n']
    """
    select = None
    for kind, text, end in _top_level(query):
        if kind == "word" and text == "SELECT" and select is None:
            select = end
        elif select is not None and (kind == "open" or text in ("WHERE", "FROM")):
            clause = query[select:end]
            if "*" in clause.split("(")[0]:
                return None
            # "(expr AS ?n)" projects ?n only
            clause = re.sub(r"\((?:[^()]|\([^()]*\))*\bAS\s+([?$]\w+)\s*\)", r" \1 ", clause,
                            flags=re.I)
            return set(re.findall(r"[?$](\w+)", clause))
    return None


def names_a_dataset(query: str) -> bool:
    """Whether the query picks its own default graph (a top-level ``FROM``).

    >>> names_a_dataset("SELECT * FROM <urn:g> { ?s ?p ?o }"), names_a_dataset("ASK { ?s ?p 'FROM' }")
    (True, False)
    """
    return any(k == "word" and t == "FROM" for k, t, _ in _top_level(query))


def bind_values(query: str, bindings: Mapping[str, object] | None) -> str:
    """Bind variables to RDF terms by a ``VALUES`` block opening the WHERE clause.

    The values are escaped by :func:`sparql_term`, so they are terms, never
    syntax; the block is joined before the rest of the pattern, as
    pyoxigraph's ``substitutions`` do.

    >>> bind_values("ASK { ?a ?p ?t }", {"t": 'x" } DROP ALL #'})
    'ASK { VALUES (?t) { ("x\\\\" } DROP ALL #") } ?a ?p ?t }'
    """
    if not bindings:
        return query
    names = list(bindings)
    for name in names:
        if not _VARNAME.match(name):
            raise ValueError(f"bad variable name {name!r}")
    row = " ".join(sparql_term(bindings[n]) for n in names)
    block = " VALUES (" + " ".join("?" + n for n in names) + ") { (" + row + ") }"
    tokens = list(_top_level(query))
    opens = [end for kind, _, end in tokens if kind == "open"]
    where = [i for i, (kind, text, _) in enumerate(tokens) if kind == "word" and text == "WHERE"]
    if where:
        opens = [end for kind, _, end in tokens[where[0]:] if kind == "open"]
    elif query_form(query) == "construct":
        opens = opens[1:]  # without WHERE, CONSTRUCT's first group is its template
    if opens:
        end = opens[0]
        return query[:end] + block + query[end:]
    raise ValueError("the query has no WHERE clause to bind variables in")


_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:")


def with_prefixes(query: str) -> str:
    """Declare the base IRI and the :data:`kg.vocab.PREFIXES` the query uses but
    does not declare (the embedded store knows them; a remote endpoint may not).

    >>> with_prefixes("ASK { ?a a schema:NewsArticle }").splitlines()[:2]
    ['BASE <https://w3id.org/newskg/id/>', 'PREFIX schema: <https://schema.org/>']
    """
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)}
    used = {m.group()[:-1] for m in re.finditer(r"(?<![\w?$:<])[A-Za-z][\w-]*:", query)}
    # A BASE of the query itself comes later and wins.
    lines = [f"BASE <{BASE}>"] + [f"PREFIX {p}: <{iri}>" for p, iri in PREFIXES.items()
                                  if p in used and p not in declared]
    return "\n".join([*lines, query])


# -- keeping the union in step ----------------------------------------------------------
#: Fills the default graph with the set union of the named graphs.
FILL_UNION = "INSERT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }"


def unassert(graphs: Sequence[str], union: str | None = None) -> str:
    """Update removing from the union what only ``graphs`` hold.

    The union is the store's default graph, or the named graph ``union`` on
    servers whose default graph is already every graph (Virtuoso).  Run
    before those graphs are replaced or dropped; their new triples are then
    added to the union again, so it stays the set union of the named graphs.

    >>> unassert(["urn:g"]).split(" WHERE ")[0]
    'DELETE { ?s ?p ?o }'
    >>> unassert(["urn:g"], union="urn:u").split(" WHERE ")[0]
    'DELETE { GRAPH <urn:u> { ?s ?p ?o } }'
    """
    iris = [sparql_iri(g) for g in graphs]
    keep_out = ", ".join(iris + ([sparql_iri(union)] if union else []))
    target = f"GRAPH {sparql_iri(union)} {{ ?s ?p ?o }}" if union else "?s ?p ?o"
    # One graph (the build's in-place update) is named outright: Oxigraph
    # plans that a little better than a VALUES block.
    source = f"GRAPH {iris[0]}" if len(iris) == 1 else f"VALUES ?g {{ {' '.join(iris)} }} GRAPH ?g"
    return (f"DELETE {{ {target} }} WHERE {{ {source} {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h NOT IN ({keep_out})) }} }}")


def drop_graphs(graphs: Sequence[str]) -> str:
    """Update dropping named graphs (no error for those that do not exist).

    >>> drop_graphs(["urn:a", "urn:b"])
    'DROP SILENT GRAPH <urn:a>;\\nDROP SILENT GRAPH <urn:b>'
    """
    return ";\n".join(f"DROP SILENT GRAPH {sparql_iri(g)}" for g in graphs)
