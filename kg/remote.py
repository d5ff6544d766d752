"""Any SPARQL 1.1 endpoint as a newskg store: query, push, serve.

:class:`RemoteStore` is the second implementation of the ``Store`` interface
(the first is the embedded Oxigraph of :mod:`kg.store`).  It speaks only W3C
standards: the SPARQL 1.1 Protocol for queries (POST, result-format
negotiation), SPARQL 1.1 Update and the Graph Store HTTP Protocol for loading.
The query, update and graph-store URLs are configurable separately because
servers put them at different paths (Oxigraph ``/query`` ``/update``
``/store``; Fuseki ``/ds/query`` ``/ds/update`` ``/ds/data``; Virtuoso
``/sparql`` and ``/sparql-graph-crud``; GraphDB ``/repositories/R`` and
``/repositories/R/statements``).

Credentials never come from the command line: ``KG_ENDPOINT_USER`` /
``KG_ENDPOINT_PASSWORD`` or a netrc file (``$NETRC`` or ``~/.netrc``) entry
for the endpoint's host; HTTP basic and digest are both answered.

:func:`push` sends an export incrementally (one named graph per source file;
only graphs whose content hash changed since the last push to that endpoint
are replaced, graphs that disappeared are dropped).  :func:`serve` runs the
``oxigraph`` server of PyPI over a built store, read-only and on 127.0.0.1 by
default.  :func:`write_split_nquads` writes the gzipped chunks that offline
bulk loaders take.

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
import hashlib
import http.client
import json
import math
import netrc
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .store import QueryResult, StoreError, _nquads_for_graph, build_store, to_term
from .vocab import BASE, NEWSKG_GRAPHS, PREFIXES, UNION_GRAPH, XSD

__all__ = [
    "RemoteStore", "RemoteError", "EndpointError", "AuthenticationError",
    "PushError", "ServeError", "PushReport", "Server", "push", "serve",
    "sparql_string", "sparql_iri", "sparql_term", "bind_values", "query_form",
    "read_graphs", "graph_hash", "NEWSKG_GRAPHS", "UNION_GRAPH",
]

STATE_FILE = "push-state.json"
EXPORT_FILE = "newskg.nq"


class RemoteError(StoreError):
    """Base class of the errors of this module."""


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


class ServeError(RemoteError):
    """The oxigraph server could not be started."""


# ---------------------------------------------------------------- escaping --

_ECHAR = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t",
          "\b": "\\b", "\f": "\\f"}
# Characters that need an escape inside a "..." SPARQL string.  Other control
# characters become \\u escapes; never \\u0022 / \\u005C / \\u000A, which some
# parsers expand *before* tokenising (SPARQL 1.1 section 19.2).
_STRING_SPECIAL = re.compile(r'[\\"\x00-\x1f\x7f]')
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_LANG = re.compile(r"^[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*$")
_VARNAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _escape_char(m: re.Match[str]) -> str:
    c = m.group(0)
    return _ECHAR.get(c) or "\\u%04X" % ord(c)


def sparql_string(text: str) -> str:
    """``text`` as a quoted SPARQL string literal that cannot end early.

    >>> print(sparql_string('say "hi"\\\\ } DROP ALL'))
    "say \\"hi\\"\\\\ } DROP ALL"
    """
    if not isinstance(text, str):
        raise TypeError(f"expected str, got {type(text).__name__}")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates cannot go on the wire
        raise ValueError(f"string is not valid Unicode: {exc}") from None
    return '"' + _STRING_SPECIAL.sub(_escape_char, text) + '"'


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


# ------------------------------------------------------- query text scanning --

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
    """Declare the base IRI and the :data:`kg.store.PREFIXES` the query uses but
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


# ------------------------------------------------------------------- HTTP --

@dataclass
class _Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


def _credentials(url: str) -> tuple[str, str] | None:
    user = os.environ.get("KG_ENDPOINT_USER")
    password = os.environ.get("KG_ENDPOINT_PASSWORD")
    if user is not None:
        return user, password or ""
    host = urllib.parse.urlsplit(url).hostname or ""
    path = os.environ.get("NETRC") or os.path.expanduser("~/.netrc")
    if os.path.isfile(path):
        try:
            entry = netrc.netrc(path).authenticators(host)
        except (netrc.NetrcParseError, OSError) as exc:
            raise RemoteError(f"cannot read {path}: {exc}") from None
        if entry:
            return entry[0] or "", entry[2] or ""
    return None


class _Http:
    """urllib with basic/digest auth, timeouts, retries with backoff on 5xx."""

    RETRY_STATUS = frozenset({500, 502, 503, 504, 429})

    def __init__(self, url: str, *, timeout: float, retries: int, backoff: float) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.password is not None:
            raise RemoteError("put credentials in KG_ENDPOINT_USER/KG_ENDPOINT_PASSWORD or "
                              "~/.netrc, not in the URL (it ends up in shell history)")
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        handlers: list[urllib.request.BaseHandler] = []
        creds = _credentials(url)
        if creds:
            mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            mgr.add_password(None, f"{parts.scheme}://{parts.netloc}/", *creds)
            handlers += [urllib.request.HTTPDigestAuthHandler(mgr),
                         urllib.request.HTTPBasicAuthHandler(mgr)]
        self._opener = urllib.request.build_opener(*handlers)
        self.requests = 0
        self.bytes_sent = 0
        self.retried = 0

    def request(self, method: str, url: str, *, body: bytes | None = None,
                headers: Mapping[str, str] | None = None) -> _Response:
        attempt = 0
        while True:
            req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
            self.requests += 1
            self.bytes_sent += len(body or b"")
            try:
                with self._opener.open(req, timeout=self.timeout) as resp:
                    return _Response(resp.status, resp.headers, resp.read())
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace").strip()
                if exc.code not in self.RETRY_STATUS or attempt >= self.retries:
                    raise self._error(exc.code, url, text) from None
            except ValueError as exc:  # urllib: unsupported auth scheme
                raise AuthenticationError(f"{url}: {exc}", url=url) from None
            except (urllib.error.URLError, ConnectionError, TimeoutError,
                    http.client.HTTPException) as exc:
                if attempt >= self.retries:
                    raise EndpointError(f"{url}: no answer after {attempt + 1} attempts: "
                                        f"{getattr(exc, 'reason', exc)}", url=url) from None
            attempt += 1
            self.retried += 1
            time.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))

    @staticmethod
    def _error(status: int, url: str, text: str) -> EndpointError:
        shown = text[:2000] or "(no message)"
        if status in (401, 403):
            hint = ("check KG_ENDPOINT_USER/KG_ENDPOINT_PASSWORD or ~/.netrc"
                    if status == 401 else "the endpoint refuses this (read-only, or the "
                    "account may not write)")
            return AuthenticationError(f"HTTP {status} from {url}: {shown} ({hint})",
                                       status=status, url=url, server_message=text)
        return EndpointError(f"HTTP {status} from {url}: {shown}", status=status, url=url,
                             server_message=text)


# ----------------------------------------------------------------- results --

def _json_term(t: Mapping[str, Any]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    kind = t.get("type")
    value = t.get("value", "")
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if kind in ("literal", "typed-literal"):  # typed-literal: Virtuoso's old JSON
        lang = t.get("xml:lang")
        if lang:
            return ox.Literal(value, language=lang)
        dt = t.get("datatype")
        return ox.Literal(value, datatype=ox.NamedNode(dt)) if dt else ox.Literal(value)
    raise RemoteError(f"unsupported term in SPARQL JSON results: {t!r}")


def _parse_json_results(body: bytes, form: str, url: str) -> QueryResult:
    try:
        data = json.loads(body)
    except ValueError:
        raise EndpointError(f"{url}: truncated or invalid SPARQL JSON results "
                            f"(a server-side timeout?): {body[-200:]!r}", url=url) from None
    if "boolean" in data:
        return QueryResult("ask", boolean=bool(data["boolean"]))
    variables = list(data.get("head", {}).get("vars", []))
    bindings = data.get("results", {}).get("bindings", [])
    if form == "ask" and variables == ["__ASK_RETVAL"]:  # Virtuoso answers ASK as a row
        value = bindings[0]["__ASK_RETVAL"]["value"] if bindings else "0"
        return QueryResult("ask", boolean=value not in ("0", "false"))
    rows = [tuple(_json_term(b[v]) if v in b else None for v in variables) for b in bindings]
    return QueryResult("select", variables, rows)


def _parse_graph(body: bytes, content_type: str, url: str) -> QueryResult:
    fmt = ox.RdfFormat.from_media_type(content_type) or ox.RdfFormat.N_TRIPLES
    try:
        triples = [q.triple for q in ox.parse(body, fmt)]
    except SyntaxError as exc:
        raise EndpointError(f"{url}: truncated or invalid {content_type} answer: {exc}",
                            url=url) from None
    return QueryResult("graph", triples=triples)


# ------------------------------------------------------------ the store --

def _derive(url: str) -> tuple[str, str | None, str]:
    """(update URL, graph store URL, graph parameter name) guessed from a query URL."""
    parts = urllib.parse.urlsplit(url)
    path = parts.path.rstrip("/")

    def at(p: str) -> str:
        return urllib.parse.urlunsplit((parts.scheme, parts.netloc, p, "", ""))
    if path.endswith("/query") or path == "query":  # Oxigraph, Fuseki
        base = path[: -len("query")]
        return at(base + "update"), at(base + "store"), "graph"
    if path.endswith("/sparql") or path.endswith("/sparql-auth"):  # Virtuoso, Neptune
        base = path.rsplit("/", 1)[0]
        return url, at(base + "/sparql-graph-crud" + ("-auth" if path.endswith("-auth") else "")), "graph-uri"
    m = re.search(r"/repositories/[^/]+$", path)
    if m:  # GraphDB, RDF4J
        return at(path + "/statements"), at(path + "/rdf-graphs/service"), "graph"
    return url, None, "graph"


class RemoteStore:
    """A SPARQL 1.1 endpoint behind the newskg ``Store`` interface.

    ``url`` is the query endpoint; ``update_url`` and ``graph_store_url``
    default to the usual paths of the server type.  ``method`` picks how
    graphs are loaded: ``"quads"`` (Graph Store POST of N-Quads to the
    dataset, several graphs per request: Oxigraph, Fuseki, GraphDB),
    ``"update"`` (``DROP SILENT GRAPH`` + ``INSERT DATA`` in one SPARQL
    Update per batch: any SPARQL 1.1 server), ``"put"`` (Graph Store PUT of
    one graph per request: the plainest protocol), or ``"auto"`` (quads for
    Oxigraph, update elsewhere).

    >>> store = RemoteStore("http://127.0.0.1:7878/query")
    >>> store.update_url, store.graph_store_url
    ('http://127.0.0.1:7878/update', 'http://127.0.0.1:7878/store')
    """

    def __init__(self, url: str, *, update_url: str | None = None,
                 graph_store_url: str | None = None, method: str = "auto",
                 timeout: float = 300.0, retries: int = 4, backoff: float = 0.5,
                 batch_triples: int | None = None, graph_prefix: str | None = NEWSKG_GRAPHS,
                 union_graph: str | None = "auto") -> None:
        if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
            raise RemoteError(f"not an http(s) endpoint URL: {url!r}")
        if method not in ("auto", "quads", "update", "put"):
            raise ValueError(f"unknown load method {method!r}")
        self.url = url
        d_update, d_gsp, self.graph_param = _derive(url)
        self.update_url = update_url or d_update
        self.graph_store_url = graph_store_url or d_gsp
        if graph_store_url and "sparql-graph-crud" not in graph_store_url:
            self.graph_param = "graph"
        self.method = method
        self.batch_triples = batch_triples
        self.graph_prefix = graph_prefix
        self._union_graph = union_graph
        self.http = _Http(url, timeout=timeout, retries=retries, backoff=backoff)
        self._server: str | None = None

    # -- context manager / Store protocol ------------------------------------
    def __enter__(self) -> RemoteStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: every request uses its own connection."""

    def __repr__(self) -> str:
        return f"RemoteStore({self.url!r})"

    @property
    def write_key(self) -> str:
        """Identifies the written dataset in the push state file."""
        return self.graph_store_url if self.load_method() in ("quads", "put") else self.update_url

    # -- server identity ------------------------------------------------------
    def server(self) -> str:
        """The endpoint's ``Server`` header (one ASK request, cached)."""
        if self._server is None:
            resp = self._post_query("ASK { }", "application/sparql-results+json")
            self._server = resp.headers.get("Server") or ""
        return self._server

    def union_graph(self) -> str | None:
        """Where the set union of the named graphs lives on this endpoint.

        ``None``: the store's own default graph (Oxigraph and Fuseki not in
        union mode), which push fills, as the embedded store does.  An IRI
        (:data:`UNION_GRAPH`, automatically for Virtuoso, whose default graph
        is every graph, a triple counted once per graph): push fills that
        graph and queries name it as their ``default-graph-uri``.
        """
        if self._union_graph != "auto":
            return self._union_graph
        return UNION_GRAPH if "virtuoso" in self.server().lower() else None

    def load_method(self) -> str:
        if self.method != "auto":
            return self.method
        if self.graph_store_url and self.server().lower().startswith("oxigraph"):
            return "quads"
        return "update"

    def default_batch(self) -> int:
        if self.batch_triples:
            return self.batch_triples
        # Oxigraph takes big N-Quads bodies at full speed; Virtuoso's SPARQL
        # compiler is happiest with INSERT DATA of a few thousand triples.
        return 200_000 if self.load_method() == "quads" else 5_000

    # -- queries ----------------------------------------------------------------
    def _post_query(self, query: str, accept: str, default_graph: str | None = None) -> _Response:
        params = [("query", query)]
        if default_graph:
            params.append(("default-graph-uri", default_graph))
        body = urllib.parse.urlencode(params).encode()
        return self.http.request("POST", self.url, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None) -> QueryResult:
        """Run a SPARQL query on the endpoint; same results as the embedded store.

        The prefixes of :data:`kg.store.PREFIXES` need no declaration here
        either; ``bindings`` become a ``VALUES`` block of escaped terms
        (:func:`bind_values`, with :func:`kg.store.to_term` for Python values).
        """
        form = query_form(sparql)
        if form == "update":
            raise ValueError("query() runs queries; use update() for SPARQL Update")
        terms = {k: to_term(v) for k, v in (bindings or {}).items()}
        text = with_prefixes(bind_values(sparql, terms))
        # The union graph is the default graph unless the query picks its own.
        has_from = any(k == "word" and t == "FROM" for k, t, _ in _top_level(sparql))
        dg = None if has_from else self.union_graph()
        if form in ("select", "ask"):
            resp = self._post_query(text, "application/sparql-results+json", dg)
            if resp.content_type not in ("application/sparql-results+json", "application/json"):
                raise EndpointError(f"{self.url}: unexpected answer type {resp.content_type!r}",
                                    url=self.url)
            return _parse_json_results(resp.body, form, self.url)
        resp = self._post_query(text, "application/n-triples, text/plain;q=0.9, text/turtle;q=0.8",
                                dg)
        ctype = "application/n-triples" if resp.content_type == "text/plain" else resp.content_type
        return _parse_graph(resp.body, ctype, self.url)

    def update(self, sparql_update: str) -> None:
        """Send a SPARQL 1.1 Update (form-encoded POST to the update URL)."""
        body = urllib.parse.urlencode({"update": sparql_update}).encode()
        self.http.request("POST", self.update_url, body=body,
                          headers={"Content-Type": "application/x-www-form-urlencoded"})

    def graph_counts(self) -> dict[str, int]:
        """Triples per named graph (those under ``graph_prefix``, default newskg's)."""
        where = f"GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != {sparql_iri(UNION_GRAPH)})"
        if self.graph_prefix:
            where += f" FILTER(STRSTARTS(STR(?g), {sparql_string(self.graph_prefix)}))"
        res = self.query(f"SELECT ?g (COUNT(*) AS ?n) WHERE {{ {where} }} GROUP BY ?g ORDER BY ?g")
        return {g: n for g, n in res.rows}

    # -- loading ------------------------------------------------------------------
    def drop_graph(self, graph_iri: str) -> None:
        """Remove one named graph (no error when it does not exist)."""
        self.drop_graphs([graph_iri])

    def replace_graph(self, graph_iri: str, nquads: bytes | str) -> None:
        """Replace one named graph with the triples of N-Triples/N-Quads text."""
        lines = sorted({f"{q} .\n".encode() for q in _nquads_for_graph(graph_iri, nquads)})
        self.replace_graphs({graph_iri: lines})

    def load(self, nquads_path: str | os.PathLike[str]) -> None:
        """Replace every named graph of an N-Quads file on the endpoint."""
        self.replace_graphs(read_graphs(Path(nquads_path)))

    def replace_graphs(self, graphs: Mapping[str, list[bytes]],
                       on_batch: Callable[[list[str]], None] | None = None) -> None:
        """Replace named graphs (iri -> its N-Quads lines), batch by batch.

        Each batch first drops its graphs, so re-sending a batch after an
        error or an interruption never duplicates or leaves stale triples.
        ``on_batch`` is called with the graphs of each completed batch.
        """
        method = self.load_method()
        if method in ("put", "quads") and not self.graph_store_url:
            raise RemoteError(f"method {method!r} needs a graph store URL (--graph-store)")
        union = self.union_graph()
        for batch in _batches(graphs, self.default_batch()):
            prelude = self._unassert_existing(batch, union)
            if method == "update":
                self.update(prelude + _insert_update(batch, graphs, union))
            else:
                self.update(prelude + _drops(batch))
                if method == "put":
                    for iri in batch:
                        self._gsp("PUT", iri, b"".join(_strip_graph(x) for x in graphs[iri]))
                else:
                    body = b"".join(b"".join(graphs[i]) for i in batch)
                    self.http.request("POST", self.graph_store_url or "", body=body,
                                      headers={"Content-Type": "application/n-quads"})
                self._gsp("POST", union, b"".join(sorted(
                    {_strip_graph(x) for i in batch for x in graphs[i]})))
            if on_batch:
                on_batch(batch)

    def _gsp(self, method: str, graph: str | None, ntriples: bytes) -> None:
        """A Graph Store request on one graph (``None``: the default graph)."""
        query = (urllib.parse.urlencode({self.graph_param: graph}) if graph else "default")
        sep = "&" if "?" in (self.graph_store_url or "") else "?"
        self.http.request(method, f"{self.graph_store_url}{sep}{query}", body=ntriples,
                          headers={"Content-Type": "application/n-triples"})

    def _unassert_existing(self, batch: list[str], union: str | None) -> str:
        """The union clean-up for those graphs of the batch the server holds
        (asked first: on a first push there are none, and the clean-up's
        FILTER NOT EXISTS is the slow part on some servers)."""
        values = " ".join(sparql_iri(g) for g in batch)
        found = self.query(f"SELECT DISTINCT ?g WHERE {{ VALUES ?g {{ {values} }} "
                           "GRAPH ?g { ?s ?p ?o } }")
        existing = [row[0] for row in found.rows]
        return _unassert(existing, union) + ";\n" if existing else ""

    def drop_graphs(self, iris: Iterable[str], per_request: int = 1000) -> None:
        """Drop named graphs (and what only they held from the union), in chunks."""
        iris = list(iris)
        union = self.union_graph() if iris else None
        for i in range(0, len(iris), per_request):
            chunk = iris[i:i + per_request]
            self.update(_unassert(chunk, union) + ";\n" + _drops(chunk))


def _drops(batch: list[str]) -> str:
    return ";\n".join(f"DROP SILENT GRAPH {sparql_iri(i)}" for i in batch)


def _unassert(batch: list[str], union: str | None) -> str:
    """Update removing from the union what only the batch's graphs hold.

    Run before the batch is replaced; its new triples are then added to the
    union again, so the union stays the set union of the named graphs.
    """
    values = " ".join(sparql_iri(g) for g in batch)
    keep_out = ", ".join([sparql_iri(g) for g in batch] + ([sparql_iri(union)] if union else []))
    target = f"GRAPH {sparql_iri(union)} {{ ?s ?p ?o }}" if union else "?s ?p ?o"
    return (f"DELETE {{ {target} }} WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"FILTER NOT EXISTS {{ GRAPH ?h {{ ?s ?p ?o }} FILTER(?h NOT IN ({keep_out})) }} }}")


def _batches(graphs: Mapping[str, list[bytes]], max_triples: int) -> Iterator[list[str]]:
    """Graph IRIs grouped so that a batch holds at most ``max_triples`` lines
    (a single bigger graph travels alone: a graph is never split)."""
    batch: list[str] = []
    size = 0
    for iri in graphs:
        n = len(graphs[iri])
        if batch and size + n > max_triples:
            yield batch
            batch, size = [], 0
        batch.append(iri)
        size += n
    if batch:
        yield batch


def _insert_update(batch: list[str], graphs: Mapping[str, list[bytes]], union: str | None) -> str:
    """DROP + INSERT DATA for a batch (and its triples into the union),
    every term re-escaped by :func:`sparql_term`."""
    blocks = []
    union_triples: set[str] = set()
    for iri in batch:
        triples = [f"{sparql_term(q.subject)} {sparql_term(q.predicate)} {sparql_term(q.object)} ."
                   for q in ox.parse(b"".join(graphs[iri]), ox.RdfFormat.N_QUADS)]
        union_triples.update(triples)
        blocks.append(f"GRAPH {sparql_iri(iri)} {{ " + " ".join(triples) + " }")
    all_triples = " ".join(sorted(union_triples))
    blocks.append(f"GRAPH {sparql_iri(union)} {{ {all_triples} }}" if union else all_triples)
    return _drops(batch) + ";\nINSERT DATA { " + "\n".join(blocks) + " }"


# ------------------------------------------------------------ N-Quads files --

def _strip_graph(line: bytes) -> bytes:
    return line[: line.rindex(b" <")] + b" .\n"


def _graph_of(line: bytes, lineno: int, path: Path) -> str:
    """The graph IRI of one N-Quads line (fast path for single-spaced lines)."""
    body = line.rstrip()
    if body.endswith(b"> ."):
        j = body.rfind(b" <")
        cand = body[j + 1:-2].rstrip()
        if j > 0 and b" " not in cand and b'"' not in cand:
            # A quoteless line is a quad iff it has four terms; a line with a
            # literal has the literal closed before the candidate (see tests).
            if b'"' in body or body.count(b" ") == 4:
                return cand[1:-1].decode()
    try:
        quads = list(ox.parse(line, ox.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise PushError(f"{path}:{lineno}: not N-Quads: {exc}") from None
    if not quads or not isinstance(quads[0].graph_name, ox.NamedNode):
        raise PushError(f"{path}:{lineno}: triple in the default graph; newskg pushes "
                        "named graphs only")
    return quads[0].graph_name.value


def read_graphs(path: Path) -> dict[str, list[bytes]]:
    """An N-Quads file as {graph IRI: sorted unique lines}, in graph order."""
    graphs: dict[str, list[bytes]] = {}
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith(b"#"):
                continue
            if not line.endswith(b"\n"):
                line += b"\n"
            g = _graph_of(line, lineno, path)
            lines = graphs.get(g)
            if lines is None:
                graphs[g] = [line]
            else:
                lines.append(line)
    for g, lines in graphs.items():
        graphs[g] = sorted(set(lines))
    return dict(sorted(graphs.items()))


def graph_hash(lines: list[bytes]) -> str:
    """Content hash of a graph: sha256 of its sorted unique N-Quads lines."""
    h = hashlib.sha256()
    for line in lines:
        h.update(line)
    return h.hexdigest()


# -------------------------------------------------------------------- push --

@dataclass
class PushReport:
    endpoint: str
    method: str = ""
    graphs_total: int = 0
    graphs_replaced: int = 0
    graphs_dropped: int = 0
    graphs_unchanged: int = 0
    triples_sent: int = 0
    bytes_sent: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def triples_per_second(self) -> float:
        return self.triples_sent / self.seconds if self.seconds else 0.0


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load_state(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {"version": 1, "endpoints": {}}
    try:
        state = json.loads(path.read_bytes())
    except ValueError as exc:
        raise PushError(f"{path}: unreadable push state ({exc}); delete it to push everything")
    if state.get("version") != 1:
        raise PushError(f"{path}: unknown push state version")
    return state


def push(source: str | os.PathLike[str], store: RemoteStore, *, full: bool = False,
         state_path: str | os.PathLike[str] | None = None, check_union: bool = True,
         progress: Callable[[int, int], None] | None = None) -> PushReport:
    """Send an export to an endpoint, replacing only the graphs that changed.

    ``source`` is an export folder (holding ``newskg.nq``) or an N-Quads
    file.  Content hashes of what each endpoint holds are kept in
    ``push-state.json`` beside it (saved after every batch, so an interrupted
    push resumes where it stopped).  ``full`` ignores that state and
    replaces every graph.  After sending, one ASK of the default graph checks
    that the server answers it as the union of the named graphs; if not, a
    warning is added to the report.

    ``push("exports", RemoteStore("http://127.0.0.1:7878/query"))`` is what
    ``kg push exports --endpoint http://127.0.0.1:7878/query`` does.
    """
    started = time.perf_counter()
    src = Path(source)
    nq = src / EXPORT_FILE if src.is_dir() else src
    if not nq.is_file():
        raise PushError(f"{nq} not found: run `kg build` first")
    spath = Path(state_path) if state_path else nq.parent / STATE_FILE
    state = _load_state(spath)
    graphs = read_graphs(nq)
    hashes = {g: graph_hash(lines) for g, lines in graphs.items()}
    report = PushReport(endpoint=store.url, graphs_total=len(graphs))
    req0, bytes0, retry0 = store.http.requests, store.http.bytes_sent, store.http.retried

    # The state is keyed by the write target; work it out without a request
    # when nothing could need sending.
    key = store.graph_store_url if store.method in ("quads", "put") else None
    known_keys = list(state["endpoints"])
    if key is None:
        candidates = [k for k in (store.graph_store_url, store.update_url) if k in known_keys]
        key = candidates[0] if candidates and not full else None
    pushed: dict[str, str] = {} if full or key is None else dict(
        state["endpoints"].get(key, {}).get("graphs", {}))
    changed = [g for g, h in hashes.items() if pushed.get(g) != h]
    gone = sorted(g for g in pushed if g not in hashes)
    report.graphs_unchanged = len(graphs) - len(changed)
    if not changed and not gone:
        report.seconds = time.perf_counter() - started
        return report

    report.method = store.load_method()
    key = store.write_key
    entry = state["endpoints"].setdefault(key, {"graphs": {}})
    entry["graphs"] = pushed
    entry["query"] = store.url
    last_save = [time.monotonic()]

    def save(force: bool = False) -> None:
        # Saving 100k hashes after every batch would dominate a big push; the
        # state may lag a few seconds since re-sending a batch is harmless.
        if force or time.monotonic() - last_save[0] > 2.0:
            _atomic_write(spath, json.dumps(state, sort_keys=True, indent=0).encode())
            last_save[0] = time.monotonic()

    if gone:
        store.drop_graphs(gone)
        for g in gone:
            pushed.pop(g, None)
        report.graphs_dropped = len(gone)
        save(force=True)

    done = [0]

    def on_batch(batch: list[str]) -> None:
        for g in batch:
            pushed[g] = hashes[g]
            report.triples_sent += len(graphs[g])
        done[0] += len(batch)
        if progress:
            progress(done[0], len(changed))
        save()

    store.replace_graphs({g: graphs[g] for g in changed}, on_batch=on_batch)
    report.graphs_replaced = len(changed)
    save(force=True)
    if check_union and changed:
        report.warnings += _check_union(store, graphs[changed[0]][0])
    report.requests = store.http.requests - req0
    report.bytes_sent = store.http.bytes_sent - bytes0
    report.retries = store.http.retried - retry0
    report.seconds = time.perf_counter() - started
    return report


def _check_union(store: RemoteStore, line: bytes) -> list[str]:
    """A pushed triple must be in the default graph once: not zero times (the
    server does not see the union) nor once per graph (a bag union)."""
    q = next(iter(ox.parse(line, ox.RdfFormat.N_QUADS)))
    pattern = f"{sparql_term(q.subject)} {sparql_term(q.predicate)} {sparql_term(q.object)}"
    n = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows[0][0]
    if n == 1:
        return []
    if n == 0:
        return [f"{store.url}: a query of the default graph does not find the triples just "
                "pushed; newskg's queries will find nothing there (see the README's "
                "'Scaling out' for this server's setting)"]
    return [f"{store.url}: the default graph holds a pushed triple {n} times, so counts will be "
            "inflated: the server unions the named graphs into the default graph as a bag "
            "(Oxigraph --union-default-graph, Fuseki unionDefaultGraph). Run it without; newskg "
            "keeps the set union in the default graph itself (or pass union_graph=UNION_GRAPH)."]


# ------------------------------------------------------------------ serve --

def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def oxigraph_binary() -> str:
    """Path of the ``oxigraph`` server of PyPI (beside this Python, or on PATH)."""
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.exists() else shutil.which("oxigraph")
    if not found:
        raise ServeError("the `oxigraph` server is missing: pip install oxigraph")
    return found


def wait_http(url: str, process: subprocess.Popen[bytes] | None = None,
              timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers HTTP 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServeError(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise ServeError(f"{url} not ready after {timeout:.0f} s")


@dataclass
class Server:
    """A running ``oxigraph`` server; a context manager that stops it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    location: Path
    tempdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """The SPARQL query endpoint."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/query"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        if self.tempdir is not None:
            self.tempdir.cleanup()
            self.tempdir = None

    def wait(self) -> int:
        return self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _store_location(source: Path) -> Path | None:
    """A RocksDB store directory at or under ``source`` (``CURRENT`` marks one)."""
    for cand in (source, source / "store", source / "oxigraph", source / "sparql"):
        if (cand / "CURRENT").is_file():
            return cand
    for cand in sorted(source.glob("*/CURRENT")):
        return cand.parent
    return None


def serve(source: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 7878,
          read_only: bool = True, ready_timeout: float = 60.0) -> Server:
    """Serve a built export over the SPARQL 1.1 Protocol with ``oxigraph``.

    ``source`` is an export folder (its embedded store, or else its
    ``newskg.nq`` loaded into a temporary store) or an N-Quads file.  The
    default graph is the union of the named graphs, as in the embedded
    store (it is materialised there); read-only unless ``read_only=False``;
    ``port=0`` picks a free one.
    """
    src = Path(source)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    location = _store_location(src) if src.is_dir() else None
    binary = oxigraph_binary()
    if location is None:
        nq = src / EXPORT_FILE if src.is_dir() else src
        if not nq.is_file():
            raise ServeError(f"no store and no {EXPORT_FILE} in {src}: run `kg build` first")
        tmp = tempfile.TemporaryDirectory(prefix="newskg-serve-")
        try:
            location = build_store(nq, Path(tmp.name) / "store")
        except StoreError:
            tmp.cleanup()
            raise
    if port == 0:
        port = _free_port(host)
    mode = "serve-read-only" if read_only else "serve"
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    # No --union-default-graph: the store's default graph already holds the
    # set union, and the flag would add each triple once per named graph.
    proc = subprocess.Popen([binary, mode, "--location", str(location), "--bind", bind],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(proc, host, port, location, tmp)
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    probe_host = f"[{probe_host}]" if ":" in probe_host else probe_host
    try:
        wait_http(f"http://{probe_host}:{port}/query?query=ASK%7B%7D", proc, ready_timeout)
    except ServeError as exc:
        err = b""
        if proc.poll() is not None and proc.stderr:
            err = proc.stderr.read()
        server.stop()
        raise ServeError(f"{exc}: {err.decode(errors='replace').strip()}") from None
    return server
