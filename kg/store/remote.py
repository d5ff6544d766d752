"""Any SPARQL 1.1 endpoint as a newskg store.

:class:`RemoteStore` is the second implementation of the ``Store`` interface
(the first is the embedded Oxigraph of :mod:`kg.store.embedded`).  It speaks
only W3C standards: the SPARQL 1.1 Protocol for queries (POST, result-format
negotiation), SPARQL 1.1 Update and the Graph Store HTTP Protocol for loading.
The query, update and graph-store URLs are configurable separately because
servers put them at different paths (Oxigraph ``/query`` ``/update``
``/store``; Fuseki ``/ds/query`` ``/ds/update`` ``/ds/data``; Virtuoso
``/sparql`` and ``/sparql-graph-crud``; GraphDB ``/repositories/R`` and
``/repositories/R/statements``).

Credentials never come from the command line: ``KG_ENDPOINT_USER`` /
``KG_ENDPOINT_PASSWORD`` or a netrc file (``$NETRC`` or ``~/.netrc``) entry
for the endpoint's host; HTTP basic and digest are both answered.

Sending a build incrementally is :func:`kg.store.push`'s work; serving a
built store is :mod:`kg.server`'s.

>>> store = RemoteStore("http://127.0.0.1:7878/query")
>>> store.update_url, store.graph_store_url
('http://127.0.0.1:7878/update', 'http://127.0.0.1:7878/store')
"""

from __future__ import annotations

import http.client
import netrc
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..vocab import NEWSKG_GRAPHS, UNION_GRAPH
from .base import AuthenticationError, EndpointError, QueryResult, RemoteError, parse_graph, to_python, to_term
from .sparql import (
    bind_values,
    drop_graphs,
    names_a_dataset,
    query_form,
    sparql_iri,
    sparql_string,
    sparql_term,
    unassert,
    with_prefixes,
)
from .sync import read_graphs

__all__ = ["RemoteStore"]


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

def _parse_results(body: bytes, form: str, url: str) -> QueryResult:
    """SPARQL JSON results, parsed by pyoxigraph; a truncated body is an error."""
    try:
        result = QueryResult.from_oxigraph(
            ox.parse_query_results(body, ox.QueryResultsFormat.JSON))
    except SyntaxError:
        raise EndpointError(f"{url}: truncated or invalid SPARQL JSON results "
                            f"(a server-side timeout?): {body[-200:]!r}", url=url) from None
    if form == "ask" and result.variables == ["__ASK_RETVAL"]:  # Virtuoso answers ASK as a row
        value = str(to_python(result.terms[0][0])) if result.terms else "0"
        return QueryResult("ask", boolean=value not in ("0", "false", "False"))
    return result


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
        if self.graph_store_url and self.load_method() in ("quads", "put"):
            return self.graph_store_url
        return self.update_url

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

    def default_batch_graphs(self) -> int:
        # Virtuoso compiles each DROP GRAPH and GRAPH block of an update into
        # SQL and refuses more than 10,000 lines of it (SP031): 250 small
        # graphs came close, so an update carries at most 100.
        return 100_000 if self.load_method() == "quads" else 100

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
        dg = None if names_a_dataset(sparql) else self.union_graph()
        if form in ("select", "ask"):
            resp = self._post_query(text, "application/sparql-results+json", dg)
            if resp.content_type not in ("application/sparql-results+json", "application/json"):
                raise EndpointError(f"{self.url}: unexpected answer type {resp.content_type!r}",
                                    url=self.url)
            return _parse_results(resp.body, form, self.url)
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
        lines = sorted({f"{q} .\n".encode() for q in parse_graph(graph_iri, nquads)})
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
        for batch in _batches(graphs, self.default_batch(), self.default_batch_graphs()):
            prelude = self._unassert_existing(batch, union)
            if method == "update":
                self.update(prelude + _insert_update(batch, graphs, union))
            else:
                self.update(prelude + drop_graphs(batch))
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
        return unassert(existing, union) + ";\n" if existing else ""

    def drop_graphs(self, iris: Iterable[str], per_request: int = 1000) -> None:
        """Drop named graphs (and what only they held from the union), in chunks."""
        iris = list(iris)
        union = self.union_graph() if iris else None
        for i in range(0, len(iris), per_request):
            chunk = iris[i:i + per_request]
            self.update(unassert(chunk, union) + ";\n" + drop_graphs(chunk))


def _batches(graphs: Mapping[str, list[bytes]], max_triples: int,
             max_graphs: int) -> Iterator[list[str]]:
    """Graph IRIs grouped so that a batch holds at most ``max_triples`` lines
    and ``max_graphs`` graphs (a single bigger graph travels alone: a graph is
    never split).

    >>> [len(b) for b in _batches({f"g{i}": [b"t"] * 3 for i in range(5)}, 7, 9)]
    [2, 2, 1]
    >>> [len(b) for b in _batches({f"g{i}": [b"t"] for i in range(5)}, 99, 2)]
    [2, 2, 1]
    """
    batch: list[str] = []
    size = 0
    for iri in graphs:
        n = len(graphs[iri])
        if batch and (size + n > max_triples or len(batch) == max_graphs):
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
    return drop_graphs(batch) + ";\nINSERT DATA { " + "\n".join(blocks) + " }"


def _strip_graph(line: bytes) -> bytes:
    return line[: line.rindex(b" <")] + b" .\n"
