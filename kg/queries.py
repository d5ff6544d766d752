"""The example queries by name, bindings from the ids kg prints, and errors a
person can act on.

The example queries ship in the package (``ontology/queries/*.rq``, installed
as ``kg.ontology.queries``); each opens with a comment that describes it and
declares its parameters, one ``# @param NAME KIND [required] - text`` line
each.  ``KIND`` says how a ``--bind`` value is read (:func:`bind_term`):

* ``article``: an id (``id:article/…``), its IRI, or the article's URL;
* ``provider``: an id, its IRI, a domain (``www.cbc.ca`` is ``cbc.ca``) or a URL;
* ``topic``: an id, its IRI, or its label;
* ``integer``, ``string``, ``iri``.

>>> [q.name for q in named_queries()][:2]
['articles-by-provider', 'coverage-timeline']
>>> bind_term("id:provider/cbc.ca").value
'https://w3id.org/newskg/id/provider/cbc.ca'
>>> bind_term("https://www.cbc.ca/news/x", "provider").value
'https://w3id.org/newskg/id/provider/cbc.ca'
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ._util import ONTOLOGY_DIR
from .normalize import URLError, canonical_url, host_of, registrable_domain, short_hash, topic_key, topic_slug, web_url
from .store import QuerySyntaxError, Store
from .store.sparql import bind_values, projected, query_form, sparql_iri
from .vocab import ID, PREFIXES, iri, node_id

__all__ = ["Param", "NamedQuery", "QueryUsageError", "named_queries", "find_query",
           "read_query", "parse_bindings", "bind_term", "apply_bindings", "node_ref", "explain_syntax_error", "KINDS"]

#: How a parameter's ``--bind`` value is read.
KINDS = ("article", "provider", "topic", "integer", "string", "iri")
_PARAM = re.compile(r"^#\s*@param\s+[?$]?(\w+)\s+(\w+)(\s+required)?\s*(?:[-:]\s*)?(.*)$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


class QueryUsageError(ValueError):
    """A query, a query name or a binding that cannot be used as given."""


@dataclass(frozen=True)
class Param:
    """A parameter of a named query: a variable to bind with ``--bind NAME=VALUE``."""

    name: str
    kind: str
    required: bool
    description: str

    def __str__(self) -> str:
        need = "required" if self.required else "optional"
        return f"{self.name} ({self.kind}, {need}): {self.description}"


@dataclass(frozen=True)
class NamedQuery:
    """One of the example queries: its name, what it answers and its parameters."""

    name: str
    path: Path
    description: str
    params: tuple[Param, ...]

    @property
    def title(self) -> str:
        """The description's first clause (up to its first colon or full stop)."""
        return re.split(r"(?<=[a-z)])[:.]\s", self.description + " ", maxsplit=1)[0].strip()

    @property
    def text(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _parse(path: Path) -> NamedQuery:
    described: list[str] = []
    params: list[Param] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        m = _PARAM.match(line)
        if m:
            kind = m.group(2).lower()
            if kind not in KINDS:
                raise ValueError(f"{path.name}: parameter {m.group(1)} has unknown kind {kind!r}")
            params.append(Param(m.group(1), kind, bool(m.group(3)), m.group(4).strip()))
        elif not params:
            described.append(line.lstrip("#").strip())
    paragraph = " ".join(described).split("  ")[0]
    return NamedQuery(path.stem.replace("_", "-"), path, paragraph, tuple(params))


def named_queries(folder: str | Path | None = None) -> list[NamedQuery]:
    """The example queries, by name (shipped in the package, or ``folder``'s ``*.rq``).

    >>> q = find_query("articles-by-provider")
    >>> [p.name for p in q.params], q.title
    (['provider', 'domain'], 'Articles by a provider with their topics')
    """
    where = Path(folder) if folder is not None else ONTOLOGY_DIR / "queries"
    return [_parse(p) for p in sorted(where.glob("*.rq"))]


def find_query(name: str) -> NamedQuery | None:
    """The example query called ``name`` (``-`` or ``_``, with or without ``.rq``)."""
    key = name.removesuffix(".rq").replace("_", "-")
    return next((q for q in named_queries() if q.name == key), None)


def _names() -> str:
    return ", ".join(q.name for q in named_queries())


def read_query(arg: str) -> tuple[str, NamedQuery | None]:
    """(query text, named query or None) from what a user typed: a query's
    name, a query file (``.rq``/``.sparql``) or the text of a query.

    >>> read_query("SELECT * { ?s ?p ?o }")[0]
    'SELECT * { ?s ?p ?o }'
    >>> read_query("top_providers_for_topic")[1].name
    'top-providers-for-topic'
    """
    if _NAME.match(arg.removesuffix(".rq")) or "/" in arg or arg.endswith((".rq", ".sparql")):
        named = find_query(Path(arg).name) if arg.endswith(".rq") or _NAME.match(arg) else None
        path = Path(arg)
        if arg.endswith((".rq", ".sparql")) and path.is_file():
            return path.read_text(encoding="utf-8"), named if named and named.path == path else None
        if named is not None:
            return named.text, named
        if arg.endswith((".rq", ".sparql")):
            raise QueryUsageError(f"no query file {arg}, and no example query of that name "
                                  f"(`kg query --list`: {_names()})")
        if path.is_file():
            raise QueryUsageError(f"{arg} is a file, not a query: a query file's name ends in .rq")
        if _NAME.match(arg):
            raise QueryUsageError(f"{arg!r} is neither a query nor an example query's name "
                                  f"(`kg query --list`: {_names()})")
    if Path(arg).is_dir():
        raise QueryUsageError(f"{arg} is a folder, not a query: kg query [DIR] QUERY (the folder first)")
    return arg, None


def bind_term(value: str, kind: str | None = None, store: Store | None = None) -> object:
    """The RDF term or Python value to bind for ``value`` read as ``kind``.

    Any kind takes ``<IRI>``, ``id:…`` (as kg prints ids) and a full newskg
    IRI.  An article URL is looked up in ``store`` when given (articles are
    known by their canonical and AMP forms), else hashed as kg ids it.

    >>> bind_term("42"), bind_term("AI"), bind_term("<https://e/x>").value
    (42, 'AI', 'https://e/x')
    >>> bind_term("Coronavirus in US", "topic").value
    'https://w3id.org/newskg/id/topic/coronavirus-in-us'
    """
    if value.startswith("<") and value.endswith(">"):
        return ox.NamedNode(value[1:-1])
    if value.startswith("id:"):
        return ox.NamedNode(iri(value[3:]))
    if value.startswith(ID):
        return ox.NamedNode(value)
    if kind in ("article", "provider", "topic") and value.startswith(kind + "/"):
        return ox.NamedNode(iri(value))
    try:
        if kind == "provider":
            host = host_of(value) if "://" in value else value.strip().lower()
            return ox.NamedNode(iri("provider/" + (registrable_domain(host) or host)))
        if kind == "article":
            return _article(value, store)
    except URLError as exc:
        raise QueryUsageError(f"{value!r} is not a {kind} id, IRI or URL: {exc}") from None
    if kind == "topic":
        return ox.NamedNode(iri("topic/" + topic_slug(topic_key(value))))
    if kind == "iri":
        return ox.NamedNode(value)
    if kind == "integer" or (kind is None and value.lstrip("-").isdigit()):
        try:
            return int(value)
        except ValueError:
            raise QueryUsageError(f"{value!r} is not an integer") from None
    return value


def node_ref(value: str) -> str:
    """A node id from an id as kg prints it (``id:…``) or a newskg IRI;
    anything else unchanged (a URL, a domain, a label).

    >>> node_ref("id:article/128b239017329481"), node_ref("https://w3id.org/newskg/id/provider/cbc.ca")
    ('article/128b239017329481', 'provider/cbc.ca')
    """
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1]
    if value.startswith("id:"):
        return value[3:]
    return node_id(value) if value.startswith(ID) else value


def _article(url: str, store: Store | None) -> ox.NamedNode:
    forms = sorted({canonical_url(url), web_url(url)})
    if store is not None:
        listed = ", ".join(f'"{f}"' for f in forms)
        found = store.query("SELECT DISTINCT ?a WHERE { ?a a schema:NewsArticle ; "
                            "schema:url|nkg:alternateUrl ?u "
                            f"FILTER(STR(?u) IN ({listed})) }} ORDER BY ?a LIMIT 1").terms
        if found and isinstance(found[0][0], ox.NamedNode):
            return found[0][0]
    sparql_iri(forms[0])  # refuses what no IRI can hold
    return ox.NamedNode(iri("article/" + short_hash(web_url(url))))


def parse_bindings(items: Sequence[str], query: str, named: NamedQuery | None = None,
                   store: Store | None = None) -> dict[str, object]:
    """``VAR=VALUE`` strings as bindings for ``query``; a named query's
    parameters are checked (unknown, missing) and read by their kind.

    >>> parse_bindings(["topic=AI"], "SELECT ?n { ?t ?p ?topic }")
    {'topic': 'AI'}
    """
    params = {p.name: p for p in named.params} if named else {}
    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip().lstrip("?$")
        if not sep or not name:
            raise QueryUsageError(f"--bind expects VAR=VALUE, got {item!r}")
        if named is not None and name not in params:
            raise QueryUsageError(f"{named.name} has no parameter {name!r}; "
                                  f"its parameters: {_listing(named.params)}")
        if named is None and not re.search(rf"[?$]{re.escape(name)}(?!\w)", query):
            raise QueryUsageError(f"the query has no variable ?{name} to bind")
        out[name] = bind_term(value, params[name].kind if name in params else None, store)
    missing = [p for p in params.values() if p.required and p.name not in out]
    if missing and named is not None:
        raise QueryUsageError(f"{named.name} needs --bind {missing[0].name}=...; "
                              f"its parameters: {_listing(named.params)}")
    return out


def apply_bindings(query: str, bindings: dict[str, object]) -> tuple[str, dict[str, object]]:
    """(query, bindings left): variables the query does not project are bound
    by a ``VALUES`` block of escaped terms, which any store accepts; projected
    ones are left to the store, which substitutes them everywhere.

    >>> apply_bindings("SELECT ?n WHERE { ?a ?p ?n }", {"a": 1, "n": 2})
    ('SELECT ?n WHERE { VALUES (?a) { ("1"^^<http://www.w3.org/2001/XMLSchema#integer>) } ?a ?p ?n }', {'n': 2})
    """
    shown = projected(query)
    if shown is None or not bindings:
        return query, bindings
    inner = {k: v for k, v in bindings.items() if k not in shown}
    return bind_values(query, inner), {k: v for k, v in bindings.items() if k in shown}


def _listing(params: Iterable[Param]) -> str:
    return "; ".join(map(str, params)) or "none"


_PREFIXED = re.compile(r"(?<![\w?$:<\"'])([A-Za-z][\w.-]*)?:(?=[\w%])")
_DECLARED = re.compile(r"(?i)\bPREFIX\s+([A-Za-z][\w.-]*)?\s*:")


def explain_syntax_error(exc: QuerySyntaxError, query: str) -> str:
    """One line a person can act on: where, the text there, and what to do.

    >>> from kg.store import EmbeddedStore
    >>> try:  # doctest: +ELLIPSIS
    ...     EmbeddedStore().query("SELECT * WHERE { ?a foo:bar ?b }")
    ... except QuerySyntaxError as e:
    ...     print(explain_syntax_error(e, "SELECT * WHERE { ?a foo:bar ?b }"))
    unknown prefix foo: at line 1, column 21; predeclared: nkg, schema, ... (or declare it: PREFIX foo: <...>)
    """
    declared = {m.group(1) or "" for m in _DECLARED.finditer(query)} | set(PREFIXES)
    where = f" at line {exc.line}, column {exc.column}" if exc.line else ""
    for m in _PREFIXED.finditer(_strip_strings(query)):
        prefix = m.group(1) or ""
        if prefix not in declared:
            line = query.count("\n", 0, m.start()) + 1
            column = m.start() - (query.rfind("\n", 0, m.start()) + 1) + 1
            return (f"unknown prefix {prefix}: at line {line}, column {column}; predeclared: "
                    f"{', '.join(PREFIXES)} (or declare it: PREFIX {prefix}: <...>)")
    near = ""
    if exc.line:
        lines = query.splitlines() or [""]
        text = lines[min(exc.line, len(lines)) - 1][max(0, (exc.column or 1) - 1):].strip()
        near = f" (near {text[:30]!r})" if text else " (at the end)"
    reason = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
    reason = " ".join(reason.split())
    if len(reason) > 160:
        reason = reason[:157] + "..."
    form = ""
    try:
        query_form(query)
    except ValueError:
        form = " (not a SELECT, ASK, CONSTRUCT or DESCRIBE query)"
    return f"malformed SPARQL query{where}{near}: {reason}{form}"


def _strip_strings(query: str) -> str:
    """The query with its strings, IRIs and comments blanked out."""
    return re.sub(r'"[^"\n]*"|\'[^\'\n]*\'|<[^<>\s]*>|#[^\n]*', lambda m: " " * len(m.group()), query)

