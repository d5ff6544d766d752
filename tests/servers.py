"""Real SPARQL servers for the tests: Oxigraph (PyPI binary) and Virtuoso (Debian).

Each server runs on free 127.0.0.1 ports in a temporary directory, is polled
until it answers, and is stopped by its PID.  Virtuoso tests skip with the
reason when ``virtuoso-t`` is not installed (``.ci/deps.sh`` installs it),
except under ``CI=true``, where they fail.

Import the fixtures into a test module: ``from servers import oxigraph, virtuoso``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from kg.server import oxigraph_binary, wait_http


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def stop_pid(proc: subprocess.Popen, timeout: float = 15.0) -> None:
    """SIGTERM by PID, then SIGKILL if it lingers."""
    if proc.poll() is not None:
        return
    os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()


@dataclass
class Endpoint:
    name: str
    query_url: str
    update_url: str
    graph_store_url: str
    process: subprocess.Popen
    port: int
    extra: dict


# -- Oxigraph --------------------------------------------------------------------
def start_oxigraph(location: Path, *, union: bool = False, read_only: bool = False) -> Endpoint:
    port = free_port()
    args = [oxigraph_binary(), "serve-read-only" if read_only else "serve",
            "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    if union:
        args.append("--union-default-graph")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(base + "/query?query=ASK%7B%7D", proc, timeout=30)
    except BaseException:
        stop_pid(proc)
        raise
    return Endpoint("oxigraph", base + "/query", base + "/update", base + "/store", proc, port, {})


@pytest.fixture
def oxigraph(tmp_path: Path) -> Iterator[Endpoint]:
    """A fresh writable Oxigraph server (its default graph is a real graph, which
    push fills with the set union of the named graphs)."""
    ep = start_oxigraph(tmp_path / "oxigraph")
    yield ep
    stop_pid(ep.process)


# -- Virtuoso --------------------------------------------------------------------
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql_port}
DisableUnixSocket = 1
DirsAllowed = ., {d}
NumberOfBuffers = 20000
MaxDirtyBuffers = 15000
CheckpointInterval = 60
ThreadsPerQuery = 2

[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerThreads = 4
MaxKeepAlives = 10
KeepAliveTimeout = 10

[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 300
MaxQueryCostEstimationTime = 0
"""


def virtuoso_missing() -> str | None:
    for tool in ("virtuoso-t", "isql-vt"):
        if shutil.which(tool) is None:
            return (f"`{tool}` not found: Virtuoso is not installed "
                    "(apt-get install virtuoso-opensource-7-bin, see .ci/deps.sh)")
    return None


def require_virtuoso() -> None:
    reason = virtuoso_missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason + "; under CI=true the Virtuoso tests must run")
        pytest.skip(reason)


def isql(sql_port: int, statement: str) -> str:
    done = subprocess.run(["isql-vt", str(sql_port), "dba", "dba", f"exec={statement}"],
                          capture_output=True, text=True, timeout=60)
    if done.returncode:
        raise RuntimeError(f"isql-vt failed: {done.stdout}{done.stderr}")
    return done.stdout


def start_virtuoso(directory: Path) -> Endpoint:
    directory.mkdir(parents=True, exist_ok=True)
    sql_port, http_port = free_port(), free_port()
    ini = directory / "virtuoso.ini"
    ini.write_text(textwrap.dedent(VIRTUOSO_INI.format(d=directory, sql_port=sql_port,
                                                       http_port=http_port)))
    log = open(directory / "stdout.log", "wb")  # noqa: SIM115 - the server writes it until stopped
    proc = subprocess.Popen(["virtuoso-t", "+foreground", "+configfile", str(ini)],
                            cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_http(base + "/sparql?query=ASK%7B%7D", proc, timeout=120)
        # Anonymous SPARQL may read only until granted; tests push anonymously
        # through /sparql and with digest credentials through /sparql-auth.
        isql(sql_port, 'grant SPARQL_UPDATE to "SPARQL";')
    except BaseException:
        stop_pid(proc, timeout=30)
        sys.stderr.write((directory / "stdout.log").read_text(errors="replace")[-2000:])
        raise
    return Endpoint("virtuoso", base + "/sparql", base + "/sparql", base + "/sparql-graph-crud",
                    proc, http_port, {"sql_port": sql_port})


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Endpoint]:
    require_virtuoso()
    started = time.monotonic()
    ep = start_virtuoso(tmp_path_factory.mktemp("virtuoso"))
    ep.extra["startup_s"] = time.monotonic() - started
    yield ep
    stop_pid(ep.process, timeout=30)


@pytest.fixture
def virtuoso_fresh(tmp_path: Path) -> Iterator[Endpoint]:
    """A Virtuoso of its own, for a big push (clearing one takes longer than starting one)."""
    require_virtuoso()
    ep = start_virtuoso(tmp_path / "virtuoso")
    yield ep
    stop_pid(ep.process, timeout=30)


@pytest.fixture
def virtuoso(virtuoso_server: Endpoint) -> Iterator[Endpoint]:
    """The session's Virtuoso with no newskg graphs left by an earlier test."""
    _clear_newskg(virtuoso_server)
    yield virtuoso_server


def _clear_newskg(ep: Endpoint) -> None:
    from kg.store import RemoteStore, sparql_iri
    from kg.vocab import UNION_GRAPH

    store = RemoteStore(ep.query_url)
    graphs = [*store.graph_counts(), UNION_GRAPH]
    for i in range(0, len(graphs), 500):  # plain drops: everything goes
        store.update(";\n".join(f"DROP SILENT GRAPH {sparql_iri(g)}" for g in graphs[i:i + 500]))
