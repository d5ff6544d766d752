"""``kg serve``: a built store over the SPARQL 1.1 Protocol, read-only and safe
to leave running.

A standard-library HTTP front (:class:`http.server.ThreadingHTTPServer`)
hands each query to a pool of worker processes, each holding the store
opened read-only.  What this buys over running Oxigraph's own server:

* ``SERVICE`` (federation) is refused with a 400 before anything runs,
  unless ``allow_federation``: otherwise anyone who can query could make
  the server fetch any address it can reach;
* a query past ``timeout`` seconds gets its worker killed and replaced, so
  the CPU really returns to idle, and the client gets a 503 saying why; a
  client that hangs up mid-query frees its worker the same way;
* the whole answer is serialised in the worker before the status line is
  sent: an error is always an error status, never a 200 with a broken body;
* at most ``max_results`` rows (or triples) are answered; past that, an
  error saying so rather than a silently cut result;
* the same predeclared prefixes and base IRI as ``kg query``
  (:data:`kg.vocab.PREFIXES`, :data:`kg.vocab.BASE`);
* one log line per request on the ``kg.server`` logger.

:func:`oxigraph_binary` finds Oxigraph's own server (PyPI ``oxigraph``) for
the tests and benchmarks that compare with it.


('json', 'application/sparql-results+json')

('ttl', 'text/turtle')
"""

from __future__ import annotations

import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .serve_pool import PoolError, QueryPool, ServeError, negotiate
from .store import EXPORT_FILE, StoreError, build_store
from .store.sparql import query_form, uses_service

__all__ = ["serve", "Server", "ServeError", "ServeOptions", "negotiate", "oxigraph_binary",
           "query_page", "wait_http"]

log = logging.getLogger("kg.server")

MAX_BODY = 1 << 20  # a query text longer than 1 MiB is not a query a person wrote


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


# -- the HTTP front -----------------------------------------------------------------
@dataclass
class ServeOptions:
    """What ``kg serve`` allows: see :func:`serve`."""

    timeout: float = 30.0
    max_results: int | None = 100_000
    allow_federation: bool = False
    cors: str | None = None
    extra_headers: dict[str, str] = field(default_factory=dict)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newskg")
    except PackageNotFoundError:
        return "0"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 120  # an idle keep-alive connection (or a client that stalls) is closed
    server_version = f"newskg/{_version()}"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # one line per request, written by _send

    def _send(self, status: int, ctype: str, body: bytes, *, started: float,
              what: str = "", rows: int | None = None) -> None:
        if status == 499:  # nobody is listening any more
            self.close_connection = True
        else:
            self.send_response(status)
            self.send_header("Content-Type", ctype + ("; charset=utf-8" if ctype.startswith("text/")
                                                      else ""))
            self.send_header("Content-Length", str(len(body)))
            if self.server.options.cors:
                self.send_header("Access-Control-Allow-Origin", self.server.options.cors)
            if status == 405:
                self.send_header("Allow", "GET, POST, OPTIONS")
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)
        detail = f" {rows:,} rows" if rows is not None else ""
        reason = "" if status < 400 else " " + body[:200].decode("utf-8", "replace").splitlines()[0]
        log.info("%s %s %s %s %d %dB %.3fs%s%s", time.strftime("%Y-%m-%dT%H:%M:%S"),
                 self.client_address[0], self.command,
                 _printable(what or self.path.split("?")[0]), status, len(body),
                 time.monotonic() - started, detail, _printable(reason))

    def _error(self, status: int, message: str, started: float, what: str = "") -> None:
        self._send(status, "text/plain", (message + "\n").encode(), started=started, what=what)

    def do_GET(self) -> None:
        started = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        if url.path == "/query":
            self._query(params, started)
        elif url.path == "/":
            self._send(200, "text/html", self.server.page, started=started)
        else:
            self._error(404, f"not found: {url.path} (the SPARQL endpoint is /query)", started)

    do_HEAD = do_GET

    def do_POST(self) -> None:
        started = time.monotonic()
        url = urllib.parse.urlsplit(self.path)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._error(400, "bad Content-Length", started)
            return
        if length > MAX_BODY:
            self.close_connection = True
            self._error(413, f"request body over {MAX_BODY:,} bytes", started)
            return
        body = self.rfile.read(length) if length else b""
        if url.path != "/query":
            self._refuse_write(url.path, started)
            return
        params = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        text = body.decode("utf-8", "replace")
        if ctype == "application/x-www-form-urlencoded":
            for k, v in urllib.parse.parse_qs(text, keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            params["query"] = [text]
        elif ctype == "application/sparql-update":
            self._refuse_write(url.path, started)
            return
        else:
            self._error(415, f"unsupported Content-Type {ctype!r}: send "
                             "application/sparql-query or a form", started)
            return
        self._query(params, started)

    def _refuse_write(self, path: str, started: float) -> None:
        if path in ("/update", "/store", "/query"):
            self._error(403, "this endpoint is read-only: no SPARQL Update, no Graph Store writes",
                        started)
        else:
            self._error(404, f"not found: {path} (the SPARQL endpoint is /query)", started)

    def do_PUT(self) -> None:
        self._refuse_write(urllib.parse.urlsplit(self.path).path, time.monotonic())

    do_DELETE = do_PATCH = do_PUT

    def do_OPTIONS(self) -> None:
        started = time.monotonic()
        if not self.server.options.cors:
            self._error(405, "OPTIONS is for CORS: start kg serve with --cors", started)
            return
        self.send_response(204)
        self.send_header("Access-Control-Allow-Origin", self.server.options.cors)
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.send_header("Access-Control-Max-Age", "86400")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def _query(self, params: dict[str, list[str]], started: float) -> None:
        options = self.server.options
        queries = params.get("query", [])
        if len(queries) != 1 or not queries[0].strip():
            self._error(400, "give one SPARQL query in the `query` parameter", started)
            return
        query = queries[0]
        what = "query " + " ".join(query.split())[:80]
        try:
            form = query_form(query)
        except ValueError as exc:
            self._error(400, f"{exc}", started, what)
            return
        if form == "update":
            self._error(403, "this endpoint is read-only: SPARQL Update is refused", started, what)
            return
        if not options.allow_federation and uses_service(query):
            self._error(400, "SERVICE (a federated query to another endpoint) is refused: "
                             "start kg serve with --allow-federation to allow it", started, what)
            return
        kind = "graph" if form in ("construct", "describe") else form
        accept = self.headers.get("Accept")
        if negotiate(kind, accept) is None:
            self._error(406, f"no offered format for a {kind} result in Accept: {accept}",
                        started, what)
            return
        job = {"query": query, "accept": accept, "timeout": options.timeout,
               "default_graph": params.get("default-graph-uri", []),
               "named_graphs": params.get("named-graph-uri", []),
               "max_results": options.max_results}
        try:
            status, ctype, body, rows = self.server.pool.run(
                job, started + options.timeout, self.connection)
        except PoolError as exc:
            self._error(exc.status, str(exc), started, what)
            return
        if status != 200:  # the worker's one-line message, ended as the front's are
            self._error(status, body.decode("utf-8", "replace").rstrip("\n"), started, what)
            return
        self._send(status, ctype, body, started=started, what=what, rows=rows)


def _printable(text: str) -> str:
    """Text from a request, safe in a log line (no terminal escapes, no line breaks)."""
    return "".join(c if c.isprintable() else "?" for c in text)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    pool: QueryPool
    options: ServeOptions
    page: bytes


def query_page() -> bytes:
    """The query page of ``GET /``: an editor, the example queries, a results table.

    Offline (nothing fetched from elsewhere); the examples travel as JSON
    data whose ``<`` are escaped, and results are put in the page as text.

    >>> b"topic-cooccurrence" in query_page() and b"</script>" in query_page()
    True
    """
    import json
    from importlib import resources

    from .queries import named_queries

    examples = [{"name": q.name, "title": q.title, "description": q.description,
                 "params": [vars(p) for p in q.params], "text": q.text}
                for q in named_queries()]
    data = (json.dumps(examples, ensure_ascii=False).replace("<", "\\u003c")
            .replace(">", "\\u003e").replace("&", "\\u0026"))
    template = (resources.files("kg") / "templates" / "query.html").read_text(encoding="utf-8")
    return template.replace("__EXAMPLES__", data).encode()


# -- the server ---------------------------------------------------------------------
class Server:
    """A running ``kg serve``; a context manager that stops it."""

    def __init__(self, httpd: _HTTPServer, pool: QueryPool, location: Path,
                 tempdir: tempfile.TemporaryDirectory[str] | None):
        self.httpd, self.pool, self.location, self.tempdir = httpd, pool, location, tempdir
        self.host: str = str(httpd.server_address[0])
        self.port = int(httpd.server_address[1])
        self._thread = threading.Thread(target=httpd.serve_forever, name="kg-serve", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        """The SPARQL query endpoint."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/query"

    def worker_pids(self) -> list[int]:
        """Process ids of the query workers now running."""
        return self.pool.pids()

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.shutdown()
            self._thread.join()
        self.httpd.server_close()
        self.pool.close()
        if self.tempdir is not None:
            self.tempdir.cleanup()
            self.tempdir = None

    def wait(self) -> None:
        """Block until the server stops (Ctrl-C still interrupts)."""
        while self._thread.is_alive():
            self._thread.join(0.5)

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
          timeout: float = 30.0, max_results: int | None = 100_000,
          allow_federation: bool = False, cors: str | None = None,
          workers: int | None = None) -> Server:
    """Serve a built export over the SPARQL 1.1 Protocol, read-only, in the background.

    ``source`` is an export folder (its embedded store, or else its
    ``newskg.nq`` loaded into a temporary store) or an N-Quads file.  The
    default graph is the union of the named graphs, as in the embedded
    store.  ``port=0`` picks a free port; ``workers`` queries run at once
    (default: the number of CPUs, at most 8); ``cors`` is the
    ``Access-Control-Allow-Origin`` to send (``"*"`` for any page).
    """
    src = Path(source)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    location = _store_location(src) if src.is_dir() else None
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
    if timeout <= 0:
        raise ValueError("timeout must be positive")
    size = workers or min(8, os.cpu_count() or 1)
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        server_class = type("_Bound", (_HTTPServer,), {"address_family": family})
        httpd = server_class((host, port), _Handler)
    except OSError as exc:
        if tmp is not None:
            tmp.cleanup()
        raise ServeError(f"cannot listen on {host}:{port}: {exc}") from None
    try:
        pool = QueryPool(location, size)
    except BaseException:
        httpd.server_close()
        if tmp is not None:
            tmp.cleanup()
        raise
    httpd.pool = pool
    httpd.page = query_page()
    httpd.options = ServeOptions(timeout, max_results, allow_federation, cors)
    return Server(httpd, pool, location, tmp)
