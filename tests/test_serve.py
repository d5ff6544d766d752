"""kg serve against real clients: federation refused, timeouts that free the CPU,
errors that clients see as errors, and the same prefixes as ``kg query``.

Every test starts a real server on 127.0.0.1 (``kg serve`` as a process, or
:func:`kg.server.serve` in this one) and talks to it over HTTP.
"""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from servers import free_port, stop_pid
from SPARQLWrapper import JSON, SPARQLWrapper

import kg
from kg.server import negotiate, serve, wait_http
from kg.store.sparql import uses_service

pytestmark = pytest.mark.server
ROOT = Path(__file__).resolve().parent.parent
# Four copies of every triple side by side: the seeds' few thousand triples
# give some 10^14 combinations, which no timeout in these tests outlasts.
HEAVY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
# The same, streamed: the first rows come at once, the last never.
STREAMED = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("serve") / "exports"
    kg.build(ROOT / "seeds", out=out)
    return out


def post(url: str, query: str, accept: str = "application/sparql-results+json",
         timeout: float = 30) -> tuple[int, str]:
    body = urllib.parse.urlencode({"query": query}).encode()
    req = urllib.request.Request(url, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded", "Accept": accept})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


class Listener:
    """A real HTTP server that records every connection made to it."""

    def __init__(self) -> None:
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/sparql"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


# -- federation -------------------------------------------------------------------
def test_service_is_refused_and_the_listener_receives_nothing(export: Path,
                                                              listener: Listener) -> None:
    spellings = [
        f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"select * {{ service silent <{listener.url}> {{ ?s ?p ?o }} }}",
        f"SELECT * {{ # a comment }}\n ?x ?y ?z . SeRvIcE<{listener.url}>{{ ?s ?p ?o }} }}",
        f"SELECT * {{ \\u0053ERVICE <{listener.url}> {{ ?s ?p ?o }} }}",
        f"ASK {{ {{ SELECT * {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }} }} }}",
    ]
    with serve(export, port=0, workers=1) as server:
        for query in spellings:
            status, text = post(server.url, query)
            assert status == 400, query
            assert "SERVICE" in text and "--allow-federation" in text
        # SERVICE as data is not a federated query
        status, text = post(server.url, "SELECT * { ?a schema:headline 'SERVICE <x> {}' } # SERVICE")
        assert status == 200, text
    time.sleep(0.3)
    assert listener.connections == 0


def test_allow_federation_reaches_the_listener(export: Path, listener: Listener) -> None:
    """The refusal above is what kept the listener silent: allowed, it is called."""
    with serve(export, port=0, workers=1, allow_federation=True, timeout=10) as server:
        post(server.url, f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}")
    assert listener.connections >= 1


def test_service_detection_ignores_strings_iris_and_comments() -> None:
    assert not uses_service('SELECT * { ?s <urn:SERVICE> "SERVICE" . ?s ?SERVICE svc:SERVICE }')
    assert not uses_service('SELECT * { ?s ?p """ SERVICE <x> {} """ } # SERVICE')
    assert not uses_service("SELECT * { ?s ?p 'x'@service }")
    assert uses_service("SELECT * {\n\tSERVICE\n<x> { } }")


# -- timeouts ---------------------------------------------------------------------
def _tree_cpu(proc: psutil.Process) -> float:
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def _workers(server: psutil.Process) -> set[int]:
    """The query workers alive (a killed one may linger as a zombie until reaped)."""
    alive = set()
    for p in server.children():
        try:
            if p.status() != psutil.STATUS_ZOMBIE and "spawn_main" in " ".join(p.cmdline()):
                alive.add(p.pid)
        except psutil.Error:
            pass
    return alive


@pytest.fixture
def cli_server(export: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", str(export), "--port",
                             str(port), "--timeout", "2", "--workers", "2"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT)
    url = f"http://127.0.0.1:{port}/query"
    try:
        wait_http(url + "?query=ASK%7B%7D", proc, timeout=60)
        yield proc, url
    finally:
        stop_pid(proc)
        assert proc.stderr is not None
        proc.stderr.close()


def test_heavy_query_stops_at_the_timeout_and_the_cpu_returns_to_idle(cli_server) -> None:
    proc, url = cli_server
    server = psutil.Process(proc.pid)
    workers_before = _workers(server)
    started = time.monotonic()
    status, text = post(url, HEAVY)
    elapsed = time.monotonic() - started
    assert status == 503 and "timeout of 2 s" in text
    assert elapsed < 5
    # The worker that ran it is gone (killed, not left computing) ...
    workers_after = _workers(server)
    assert workers_before - workers_after
    # ... and the whole server, its replacement worker started, falls idle.
    deadline = time.monotonic() + 20
    while True:
        before = _tree_cpu(server)
        time.sleep(1.0)
        used = _tree_cpu(server) - before
        if used < 0.1:
            break
        assert time.monotonic() < deadline, f"server still busy: {used:.2f} s CPU a second"
    # and it still answers
    assert post(url, "ASK { ?a a schema:NewsArticle }")[0] == 200
    proc.send_signal(signal.SIGINT)
    assert proc.wait(20) == 0


def test_a_client_that_hangs_up_frees_its_worker(export: Path) -> None:
    with serve(export, port=0, workers=1, timeout=60) as server:
        busy = server.worker_pids()
        body = urllib.parse.urlencode({"query": HEAVY}).encode()
        with socket.create_connection((server.host, server.port)) as sock:
            sock.sendall(b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: "
                         b"application/x-www-form-urlencoded\r\nContent-Length: "
                         + str(len(body)).encode() + b"\r\n\r\n" + body)
            time.sleep(1)
        # The only worker was busy for a minute; the hang-up freed it for this one.
        status, _ = post(server.url, "ASK { ?a a schema:NewsArticle }", timeout=50)
        assert status == 200
        assert not set(busy) & set(server.worker_pids())


# -- errors are errors ---------------------------------------------------------------
def test_sparqlwrapper_sees_a_failure_mid_answer_as_an_error(export: Path) -> None:
    """Rows already computed never go out with a 200 before the answer is whole."""
    with serve(export, port=0, workers=1, timeout=2, max_results=50) as server:
        client = SPARQLWrapper(server.url)
        client.setReturnFormat(JSON)
        client.setQuery("SELECT ?t WHERE { ?a schema:headline ?t }")
        rows = client.query().convert()["results"]["bindings"]
        assert rows and all("t" in r for r in rows)
        client.setQuery(STREAMED + " LIMIT 20")  # within the limit: answered
        assert len(client.query().convert()["results"]["bindings"]) == 20
        for query in (STREAMED, "SELECT * WHERE { ?s ?p ?o }"):  # past the timeout / the limit
            client.setQuery(query)
            with pytest.raises(Exception) as err:  # noqa: PT011 - whichever SPARQLWrapper raises
                client.query().convert()
            assert "503" in str(err.value) or "--max-results" in str(err.value)


def test_same_prefixes_and_base_as_kg_query(export: Path) -> None:
    from kg.store import open_store

    query = "SELECT ?p (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle ; schema:publisher ?p } GROUP BY ?p"
    with open_store(export) as local:
        expected = sorted(local.query(query).rows)
    with serve(export, port=0, workers=1) as server:
        client = SPARQLWrapper(server.url)
        client.setReturnFormat(JSON)
        client.setQuery(query)
        rows = client.query().convert()["results"]["bindings"]
        assert sorted((r["p"]["value"], int(r["n"]["value"])) for r in rows) == expected
        first = expected[0][0].rsplit("/", 1)[1]
        status, text = post(server.url, f"ASK {{ <provider/{first}> a schema:NewsMediaOrganization }}")
        assert status == 200 and '"boolean":true' in text


def test_formats_and_refusals(export: Path) -> None:
    with serve(export, port=0, workers=1) as server:
        assert post(server.url, "SELECT ?a { ?a a schema:NewsArticle } LIMIT 1",
                    accept="text/csv")[1].startswith("a\r\n")
        status, text = post(server.url, "CONSTRUCT WHERE { ?a a schema:NewsArticle } LIMIT 1",
                            accept="application/n-triples")
        assert status == 200 and text.endswith(" .\n")
        assert post(server.url, "ASK {}", accept="image/png")[0] == 406
        assert post(server.url, "DROP ALL")[0] == 403
        status, text = post(server.url, "SELECT ?a WHERE { ?a ?b }")
        assert status == 400 and "at line 1, column" in text and text.count("\n") == 1
        status, text = post(server.url, "SELECT * WHERE { ?a foo:bar ?b }")
        assert status == 400 and "unknown prefix foo:" in text and "schema" in text
        req = urllib.request.Request(server.url.replace("/query", "/store"), data=b"",
                                     method="PUT")
        with pytest.raises(urllib.error.HTTPError, match="403"):
            urllib.request.urlopen(req, timeout=10)


def test_a_bad_content_length_is_refused_at_once(export: Path) -> None:
    with serve(export, port=0, workers=1) as server, \
            socket.create_connection((server.host, server.port), timeout=10) as sock:
        sock.sendall(b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/"
                     b"sparql-query\r\nContent-Length: -5\r\n\r\nASK {}")
        assert sock.recv(100).startswith(b"HTTP/1.1 400 ")


def test_one_log_line_per_request_without_control_characters(export: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="kg.server")
    with serve(export, port=0, workers=1) as server:
        post(server.url, "ASK { ?a a schema:NewsArticle } # \x1b[31m red")
        post(server.url, "SELECT * { SERVICE <http://127.0.0.1:1/> {} }")
    lines = [r.getMessage() for r in caplog.records if r.name == "kg.server"]
    # one line each; the two handler threads may log in either order
    (ask,) = [line for line in lines if "ASK" in line]
    (service,) = [line for line in lines if "SERVICE <" in line]
    assert " 200 " in ask and "\x1b" not in ask and "?[31m" in ask and ask.endswith("1 rows")
    assert " 400 " in service and "--allow-federation" in service


def test_cors_is_off_unless_asked(export: Path) -> None:
    with serve(export, port=0, workers=1) as plain, serve(export, port=0, workers=1,
                                                          cors="*") as open_:
        for server, expected in ((plain, None), (open_, "*")):
            with urllib.request.urlopen(server.url + "?query=ASK%7B%7D", timeout=10) as resp:
                assert resp.headers.get("Access-Control-Allow-Origin") == expected


def test_negotiation() -> None:
    assert negotiate("select", "text/tab-separated-values") == ("tsv", "text/tab-separated-values")
    assert negotiate("graph", "application/n-triples, text/plain;q=0.9") == (
        "nt", "application/n-triples")
    assert negotiate("ask", "*/*") == ("json", "application/sparql-results+json")
    assert negotiate("graph", "text/csv") is None


def test_unused_listener_helper_is_real() -> None:
    """The listener used above does see connections (so 0 means none came)."""
    lst = Listener()
    try:
        socket.create_connection(("127.0.0.1", int(lst.url.split(":")[2].split("/")[0]))).close()
        time.sleep(0.5)
        assert lst.connections == 1
    finally:
        lst.close()




def test_a_worker_that_dies_is_replaced(export: Path) -> None:
    """A worker killed from outside costs at most the query it held, never the server."""
    import os
    import signal as _signal

    with serve(export, port=0, workers=1) as server:
        (pid,) = server.worker_pids()
        os.kill(pid, _signal.SIGKILL)
        time.sleep(0.5)
        statuses = [post(server.url, "ASK { ?a a schema:NewsArticle }")[0] for _ in range(2)]
        assert statuses[-1] == 200 and set(statuses) <= {200, 500}
        deadline = time.monotonic() + 30
        while server.worker_pids() in ([], [pid]):
            assert time.monotonic() < deadline
            time.sleep(0.1)
        assert post(server.url, "ASK { ?a a schema:NewsArticle }")[0] == 200
