"""The query workers of ``kg serve``: processes that each hold the store open
read-only, answer one query at a time, and are killed and replaced when a
query outlives its timeout or its client.

Each answer is serialised whole in the worker (:func:`answer`), so the HTTP
front decides the status line knowing the outcome.

>>> negotiate("select", "text/csv;q=0.5, application/sparql-results+json")
('json', 'application/sparql-results+json')
>>> negotiate("graph", None)
('ttl', 'text/turtle')
"""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import os
import queue
import re
import signal
import socket
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from .store import QueryResult, QuerySyntaxError, RemoteError
from .vocab import BASE, PREFIXES

__all__ = ["QueryPool", "PoolError", "ServeError", "answer", "negotiate", "hung_up"]

log = logging.getLogger("kg.server")


class ServeError(RemoteError):
    """The server could not be started."""


# -- content negotiation ------------------------------------------------------------
_RESULTS = {"application/sparql-results+json": "json", "application/json": "json",
            "application/sparql-results+xml": "xml", "application/xml": "xml",
            "text/csv": "csv", "text/tab-separated-values": "tsv"}
_GRAPHS = {"text/turtle": "ttl", "application/n-triples": "nt", "text/plain": "nt",
           "application/rdf+xml": "xml", "application/n-quads": "nq"}
_DEFAULT = {"select": "application/sparql-results+json", "ask": "application/sparql-results+json",
            "graph": "text/turtle"}


def negotiate(kind: str, accept: str | None) -> tuple[str, str] | None:
    """(format name, media type) for a result ``kind`` (``select``, ``ask`` or
    ``graph``) under an ``Accept`` header; None when nothing offered fits."""
    offered = _GRAPHS if kind == "graph" else _RESULTS
    default = _DEFAULT[kind]
    if not accept or not accept.strip():
        return offered[default], default
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = (s.strip() for s in part.split(";"))
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, media.lower()))
    for _, _, media in sorted(ranked):
        if media in offered:
            return offered[media], media
        if media in ("*/*", "application/*", "text/*") or media == default.split("/")[0] + "/*":
            return offered[default], default
    return None


# -- the workers --------------------------------------------------------------------
def answer(store: Any, job: dict) -> tuple[int, str, bytes, int]:
    """(status, content type, body, rows) for one query, fully serialised."""
    import pyoxigraph as ox

    try:
        default = [ox.NamedNode(g) for g in job["default_graph"]] or None
        named = [ox.NamedNode(g) for g in job["named_graphs"]] or None
    except ValueError as exc:
        return 400, "text/plain", f"bad graph IRI: {exc}".encode(), 0
    try:
        result = store.query(job["query"], base_iri=BASE, prefixes=PREFIXES,
                             default_graph=default, named_graphs=named)
    except SyntaxError as exc:  # said as kg query says it: where, the text there, what to do
        from .queries import explain_syntax_error

        at = re.match(r"error at (\d+):(\d+)", str(exc))
        error = (QuerySyntaxError(str(exc), int(at.group(1)), int(at.group(2))) if at
                 else QuerySyntaxError(str(exc)))
        return 400, "text/plain", explain_syntax_error(error, job["query"]).encode(), 0
    kind = ("ask" if isinstance(result, ox.QueryBoolean) else
            "select" if isinstance(result, ox.QuerySolutions) else "graph")
    chosen = negotiate(kind, job["accept"])
    if chosen is None:
        return 406, "text/plain", (f"no offered format for a {kind} result in Accept: "
                                   f"{job['accept']}").encode(), 0
    fmt, media = chosen
    if kind == "ask":
        body = QueryResult("ask", boolean=bool(result)).serialize(fmt).encode()
        return 200, media, body, 1
    limit = job["max_results"]
    items = list(itertools.islice(result, limit + 1) if limit else result)
    if limit and len(items) > limit:
        return 400, "text/plain", (f"the answer has more than {limit:,} "
                                   f"{'rows' if kind == 'select' else 'triples'} (the server's "
                                   "--max-results): add a LIMIT, or page with OFFSET").encode(), 0
    if kind == "select":
        names = [v.value for v in result.variables]
        body = QueryResult("select", names, [tuple(s) for s in items]).serialize(fmt).encode()
    else:
        rdf = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES,
               "xml": ox.RdfFormat.RDF_XML, "nq": ox.RdfFormat.N_QUADS}[fmt]
        prefixes = ({p: ns for p, ns in PREFIXES.items() if p != "id"}
                    if rdf == ox.RdfFormat.TURTLE else None)
        body = ox.serialize(items, format=rdf, prefixes=prefixes) or b""
    return 200, media, body, len(items)


def _worker_main(location: str, conn: Connection) -> None:
    """A worker process: open the store read-only, answer jobs until the pipe closes."""
    import pyoxigraph as ox

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is for the front, which stops us
    try:
        store = ox.Store.read_only(location)
    except OSError as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = answer(store, job)
        except Exception as exc:  # an answer, whatever went wrong: the front stays up
            reply = (500, "text/plain", f"query failed: {exc}".encode(), 0)
        try:
            conn.send(reply)
        except OSError:
            return


class PoolError(Exception):
    """A query the pool could not answer, with the HTTP status to say so."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(eq=False)  # workers are told apart by identity
class _Worker:
    process: Any
    conn: Connection


class QueryPool:
    """Worker processes, each with the store open; a late or orphaned query's
    worker is killed and replaced."""

    def __init__(self, location: str | os.PathLike[str], size: int, start_timeout: float = 60.0):
        self.location = str(location)
        self.start_timeout = start_timeout
        # spawn: the front runs threads, which a forked child must not inherit.
        self._ctx = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self.closed = False
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_worker_main, args=(self.location, child),
                                 name="kg-serve-worker", daemon=True)
        proc.start()
        child.close()
        try:
            if not parent.poll(self.start_timeout):
                raise ServeError(f"a query worker did not start in {self.start_timeout:.0f} s")
            state, detail = parent.recv()
        except EOFError:
            state, detail = "failed", f"exit code {proc.exitcode}"
        if state != "ready":
            proc.kill()
            raise ServeError(f"a query worker cannot open the store at {self.location}: {detail}")
        worker = _Worker(proc, parent)
        with self._lock:
            self._workers.add(worker)
        return worker

    def pids(self) -> list[int]:
        with self._lock:
            return sorted(w.process.pid for w in self._workers)

    def _retire(self, worker: _Worker) -> None:
        """Kill a worker (its query may run for ever) and start another in the background."""
        with self._lock:
            self._workers.discard(worker)
        worker.process.kill()
        worker.conn.close()
        worker.process.join(5)  # gone (and reaped) before the client hears it was stopped

        def replace() -> None:
            if not self.closed:
                try:
                    self._idle.put(self._start())
                except ServeError as exc:
                    log.error("%s", exc)
        threading.Thread(target=replace, name="kg-serve-respawn", daemon=True).start()

    def run(self, job: dict, deadline: float, client: socket.socket | None) -> tuple:
        try:
            worker = self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise PoolError(503, "every query worker stayed busy until the timeout") from None
        try:
            worker.conn.send(job)
        except OSError:  # it died while idle
            self._retire(worker)
            raise PoolError(500, "the query worker had died; try again") from None
        watched: list[Any] = [worker.conn] + ([client] if client is not None else [])
        while True:
            remaining = deadline - time.monotonic()
            ready = wait(watched, remaining) if remaining > 0 else []
            if worker.conn in ready:
                try:
                    reply = worker.conn.recv()
                except (EOFError, OSError):
                    self._retire(worker)
                    raise PoolError(500, "the query worker died") from None
                self._idle.put(worker)
                return reply
            if client is not None and client in ready:
                if hung_up(client):
                    self._retire(worker)
                    raise PoolError(499, "the client closed the connection")
                watched = [worker.conn]  # it sent more (a pipelined request): not a hang-up
                continue
            if not ready:
                self._retire(worker)
                raise PoolError(503, f"the query ran past the server's timeout of "
                                   f"{job['timeout']:g} s and was stopped")

    def close(self) -> None:
        self.closed = True
        with self._lock:
            workers, self._workers = list(self._workers), set()
        for w in workers:
            w.process.kill()
        for w in workers:
            w.process.join()
            w.conn.close()


def hung_up(sock: socket.socket) -> bool:
    """Whether the peer closed ``sock`` (without reading what it may have sent)."""
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
