"""kg.store.remote, push and kg.server against real servers: Oxigraph (PyPI binary) and Virtuoso (Debian).

Same queries, same results as the embedded store; incremental push proven by
the servers' own per-graph triple counts; retries, auth errors, read-only
serving and query safety with hostile article text.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import Endpoint, oxigraph, start_oxigraph, stop_pid, virtuoso, virtuoso_fresh, virtuoso_server

import kg
from kg.graph import build_graph
from kg.rdf_export import export_rdf
from kg.server import serve
from kg.store import AuthenticationError, EmbeddedStore, RemoteStore, push, read_graphs, sparql_string
from kg.vocab import COMPUTED_GRAPH, SHARED_GRAPH, source_iri

pytestmark = pytest.mark.server
FIXTURES = (oxigraph, virtuoso, virtuoso_fresh, virtuoso_server)  # from servers.py, used by name
ROOT = Path(__file__).resolve().parent.parent

# Representative queries (besides ontology/queries/*.rq): aggregates, joins,
# optional parts, dates, language tags, a CONSTRUCT and an ASK.
QUERIES = {
    "articles": "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a schema:NewsArticle }",
    "providers": """SELECT ?p ?name (COUNT(DISTINCT ?a) AS ?n) WHERE {
        ?a a schema:NewsArticle ; schema:publisher ?p . ?p schema:name ?name }
        GROUP BY ?p ?name""",
    "topics": """SELECT ?label (COUNT(DISTINCT ?a) AS ?n) WHERE {
        ?a schema:about ?t . ?t skos:prefLabel ?label } GROUP BY ?label""",
    "cooccurrence": """SELECT ?x ?y (COUNT(DISTINCT ?a) AS ?n) WHERE {
        ?a schema:about ?t1, ?t2 . ?t1 skos:notation ?x . ?t2 skos:notation ?y
        FILTER(STR(?x) < STR(?y)) }
        GROUP BY ?x ?y HAVING (COUNT(DISTINCT ?a) > 2)""",
    "timeline": """SELECT ?a ?title ?date ?lang WHERE { ?a schema:headline ?title ;
        schema:datePublished ?date . OPTIONAL { ?a schema:inLanguage ?lang } }""",
    "related": """SELECT ?a ?b WHERE { ?a nkg:relatedArticle ?b }""",
    "ask": "ASK { ?a a schema:NewsArticle ; schema:headline ?t }",
    "construct": """CONSTRUCT { ?p schema:name ?n } WHERE { ?p a schema:NewsMediaOrganization ;
        schema:name ?n }""",
}


def example_queries() -> dict[str, str]:
    out = dict(QUERIES)
    for rq in sorted((ROOT / "ontology" / "queries").glob("*.rq")):
        out["rq:" + rq.stem] = rq.read_text(encoding="utf-8")
    return out


def answer(store, query: str) -> object:
    result = store.query(query)
    if result.kind == "ask":
        return result.boolean
    # ORDER BY ties may come in any order: compare as sorted multisets.
    return sorted(map(repr, result.rows))


def build_export(corpus: Path, out: Path) -> Path:
    export_rdf(build_graph(kg.load(corpus)), out)
    return out


def local_counts(export: Path) -> dict[str, int]:
    return {g: len(lines) for g, lines in read_graphs(export / "newskg.nq").items()}


@pytest.fixture(params=["oxigraph", "virtuoso"])
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    return request.getfixturevalue(request.param)


@pytest.fixture(scope="session")
def real_export(corpus_dir, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_export(corpus_dir("real"), tmp_path_factory.mktemp("real-export"))


@pytest.fixture
def small_corpus(corpus_dir, tmp_path: Path) -> Path:
    """30 real articles in a folder of our own (so a test may edit and delete)."""
    dest = tmp_path / "corpus" / "real"
    dest.mkdir(parents=True)
    for f in sorted(corpus_dir("real").glob("*.md"))[:30]:
        shutil.copy(f, dest / f.name)
    return dest


# -- same queries, same results -------------------------------------------------------
@pytest.mark.parametrize("server", ["oxigraph", "virtuoso_fresh"])
def test_push_real_corpus_then_queries_match_embedded(server: str, real_export: Path,
                                                      tmp_path: Path,
                                                      request: pytest.FixtureRequest) -> None:
    endpoint = request.getfixturevalue(server)
    export = tmp_path / "export"
    export.mkdir()
    shutil.copy(real_export / "newskg.nq", export / "newskg.nq")
    store = RemoteStore(endpoint.query_url)
    report = push(export, store)
    assert report.warnings == []
    assert report.graphs_replaced == report.graphs_total == len(local_counts(export))
    assert store.graph_counts() == local_counts(export)
    with EmbeddedStore(real_export / "store", read_only=True) as local:
        for name, query in example_queries().items():
            if endpoint.name == "virtuoso":
                # SPARQL defines `<` on literals, not IRIs; Virtuoso orders
                # IRIs its own way, so compare their strings (portable form).
                query = re.sub(r"FILTER\((\?\w+) < (\?\w+)\)", r"FILTER(STR(\1) < STR(\2))", query)
            assert answer(store, query) == answer(local, query), name
        # the same bound query gives the same answer
        q = "SELECT ?a ?label WHERE { ?a schema:about ?t . ?t skos:prefLabel ?label }"
        label = local.query(q).rows[0][1]
        assert (sorted(store.query(q, bindings={"label": label}).rows)
                == sorted(local.query(q, bindings={"label": label}).rows) != [])


# -- incremental push ------------------------------------------------------------------
def test_change_one_file_then_delete_one(endpoint: Endpoint, small_corpus: Path,
                                        tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    store = RemoteStore(endpoint.query_url)
    first = push(export, store)
    assert first.graphs_replaced == first.graphs_total
    before_local = read_graphs(export / "newskg.nq")
    before_server = store.graph_counts()
    assert before_server == local_counts(export)

    # A new topic in one file: that file's graph grows, no other file's graph moves.
    changed = sorted(small_corpus.glob("*.md"))[3]
    text = changed.read_text(encoding="utf-8")
    assert "\ntopics:\n" in text
    changed.write_text(text.replace("\ntopics:\n", "\ntopics:\n  - Remote Store Testing\n", 1),
                       encoding="utf-8")
    build_export(small_corpus, export)
    after_local = read_graphs(export / "newskg.nq")
    differing = {g for g in after_local if after_local[g] != before_local.get(g)}
    graph = source_iri("real/" + changed.name)
    # (the shared graph too: it describes the new topic)
    assert graph in differing and differing <= {graph, COMPUTED_GRAPH, SHARED_GRAPH}
    second = push(export, store)
    assert second.graphs_replaced == len(differing) and second.graphs_dropped == 0
    after_server = store.graph_counts()
    assert after_server == local_counts(export)
    assert after_server[graph] > before_server[graph]
    assert {g for g in after_server if after_server[g] != before_server.get(g)} <= differing

    # Deleting a file drops its graph.
    gone = sorted(small_corpus.glob("*.md"))[7]
    gone.unlink()
    build_export(small_corpus, export)
    third = push(export, store)
    gone_graph = source_iri("real/" + gone.name)
    assert third.graphs_dropped == 1
    assert gone_graph not in store.graph_counts()
    assert store.graph_counts() == local_counts(export)

    # Nothing changed: nothing is sent, not even a query.
    fourth = push(export, store)
    assert (fourth.graphs_replaced, fourth.graphs_dropped, fourth.requests,
            fourth.bytes_sent) == (0, 0, 0, 0)


def test_full_push_over_existing_graphs_does_not_duplicate(oxigraph: Endpoint, small_corpus: Path,
                                                           tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    store = RemoteStore(oxigraph.query_url)
    push(export, store)
    (export / "push-state.json").unlink()  # as if an interrupted push never saved its state
    push(export, store)
    push(export, store, full=True)
    assert store.graph_counts() == local_counts(export)


@pytest.mark.parametrize("method", ["put", "update"])
def test_other_load_methods_give_the_same_store(oxigraph: Endpoint, small_corpus: Path,
                                                tmp_path: Path, method: str) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    store = RemoteStore(oxigraph.query_url, method=method, batch_triples=300)
    report = push(export, store)
    assert report.method == method and report.requests > 2
    assert store.graph_counts() == local_counts(export)


# -- failures ----------------------------------------------------------------------------
class FaultyProxy:
    """A real HTTP proxy in front of a real server that answers 500 to the
    first two writes: one without forwarding it, one *after* forwarding it
    (the server applied it; the client cannot know)."""

    def __init__(self, target: str) -> None:
        self.target = target.rstrip("/")
        self.writes = 0
        self.failures: list[str] = []
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _relay(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                is_write = self.path.startswith(("/store", "/update")) and self.command != "GET"
                if is_write:
                    proxy.writes += 1
                if is_write and proxy.writes == 1:
                    proxy.failures.append("before")
                    return self._send(500, b"injected failure before forwarding", {})
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() in ("content-type", "accept")}
                req = urllib.request.Request(proxy.target + self.path, data=body or None,
                                             method=self.command, headers=headers)
                try:
                    with urllib.request.urlopen(req, timeout=60) as resp:
                        status, data, rh = resp.status, resp.read(), dict(resp.headers)
                except urllib.error.HTTPError as e:
                    status, data, rh = e.code, e.read(), dict(e.headers)
                if is_write and proxy.writes == 2:
                    proxy.failures.append("after")
                    return self._send(500, b"injected failure after forwarding", {})
                self._send(status, data, rh)

            def _send(self, status: int, data: bytes, headers: dict) -> None:
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() in ("content-type", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_DELETE = _relay

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_500_twice_then_200_ends_complete_and_not_duplicated(oxigraph: Endpoint, small_corpus: Path,
                                                             tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    proxy = FaultyProxy(oxigraph.query_url.rsplit("/", 1)[0])
    try:
        store = RemoteStore(proxy.url + "/query", backoff=0.01, batch_triples=500, method="quads")
        report = push(export, store)
    finally:
        proxy.close()
    assert proxy.failures == ["before", "after"]
    assert report.retries == 2
    direct = RemoteStore(oxigraph.query_url)
    assert direct.graph_counts() == local_counts(export)
    n = direct.query("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }").rows[0][0]
    assert n == sum(local_counts(export).values())


def test_persistent_500_gives_up_with_the_server_message(oxigraph: Endpoint) -> None:
    store = RemoteStore(oxigraph.query_url, retries=1, backoff=0.01)
    with pytest.raises(kg.store.StoreError, match="HTTP 400") as err:
        store.query("SELECT * WHERE { ?s ?p }")  # 400: not retried, message shown
    assert err.value.server_message  # the server's own words


def test_wrong_password_is_a_clear_error_and_exit_code_1(virtuoso: Endpoint, small_corpus: Path,
                                                         tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    auth_url = virtuoso.query_url + "-auth"
    monkeypatch.setenv("KG_ENDPOINT_USER", "dba")
    monkeypatch.setenv("KG_ENDPOINT_PASSWORD", "wrong")
    with pytest.raises(AuthenticationError, match="401"):
        push(export, RemoteStore(auth_url, method="update"))
    done = subprocess.run([sys.executable, "-m", "kg.cli", "push", str(export), "--endpoint",
                           auth_url, "--method", "update"], capture_output=True, text=True,
                          env={**os.environ}, timeout=120)
    assert done.returncode == 1
    assert "401" in done.stderr and "KG_ENDPOINT_PASSWORD" in done.stderr
    # The right password from a netrc file (digest auth) works.
    monkeypatch.delenv("KG_ENDPOINT_USER")
    monkeypatch.delenv("KG_ENDPOINT_PASSWORD")
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login dba password dba\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    report = push(export, RemoteStore(auth_url, method="update"))
    assert report.graphs_replaced == report.graphs_total
    assert RemoteStore(virtuoso.query_url).graph_counts() == local_counts(export)


def test_warns_when_the_default_graph_is_a_bag_union(tmp_path: Path, small_corpus: Path) -> None:
    ep = start_oxigraph(tmp_path / "ox", union=True)
    try:
        export = build_export(small_corpus, tmp_path / "export")
        report = push(export, RemoteStore(ep.query_url))
    finally:
        stop_pid(ep.process)
    assert report.graphs_replaced and any("times" in w for w in report.warnings)


# -- article text never changes a query ----------------------------------------------------
EVIL = ['He said "stop"', "back\\slash\\", "two\nlines\r\n", '"} } DROP ALL ; #',
        "DROP ALL", "'''\"\"\"", "\\u0022}"]


def test_hostile_titles_stay_data(endpoint: Endpoint, tmp_path: Path) -> None:
    headline = ox.NamedNode("https://schema.org/headline")
    quads = [ox.Quad(ox.NamedNode(f"https://w3id.org/newskg/id/article/evil{i}"), headline,
                     ox.Literal(t), ox.NamedNode(source_iri(f"evil/{i}.md")))
             for i, t in enumerate(EVIL)]
    (tmp_path / "newskg.nq").write_bytes(ox.serialize(quads, format=ox.RdfFormat.N_QUADS))
    store = RemoteStore(endpoint.query_url)
    push(tmp_path, store)
    counts = store.graph_counts()
    assert sum(counts.values()) == len(EVIL)
    for i, title in enumerate(EVIL):
        rows = store.query("SELECT ?a ?t WHERE { ?a schema:headline ?t }",
                           bindings={"t": title}).rows
        assert rows == [(f"https://w3id.org/newskg/id/article/evil{i}", title)]
        rows = store.query("SELECT ?a WHERE { ?a schema:headline ?t FILTER(?t = "
                           + sparql_string(title) + ") }").rows
        assert rows == [(f"https://w3id.org/newskg/id/article/evil{i}",)]
        store.replace_graph(source_iri(f"evil/{i}.md"), ox.serialize(
            [ox.Triple(quads[i].subject, headline, ox.Literal(title + " v2"))],
            format=ox.RdfFormat.N_TRIPLES))
    assert store.graph_counts() == counts  # nothing dropped, nothing duplicated
    titles = sorted(r[0] for r in store.query("SELECT ?t WHERE { ?a schema:headline ?t }").rows)
    assert titles == sorted(t + " v2" for t in EVIL)


# -- kg query --endpoint ----------------------------------------------------------------------
def test_cli_query_endpoint_matches_local(oxigraph: Endpoint, small_corpus: Path,
                                          tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    push(export, RemoteStore(oxigraph.query_url))
    q = QUERIES["topics"] + " ORDER BY DESC(?n) ?label"

    def run(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "kg.cli", "query", *args, "--format", "csv"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout
    remote = run(q, "--endpoint", oxigraph.query_url)
    assert remote == run(str(export), q)
    assert remote.count("\n") > 3


# -- kg serve ---------------------------------------------------------------------------------
def _non_loopback_ip() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.1", 9))  # no packet is sent for UDP connect
            ip = s.getsockname()[0]
    except OSError:
        return None
    return None if ip.startswith("127.") else ip


def test_serve_is_read_only_and_loopback_only(small_corpus: Path, tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    with serve(export, port=0) as server, EmbeddedStore(export / "store", read_only=True) as local:
        remote = RemoteStore(server.url)
        for name in ("articles", "providers", "construct"):
            assert answer(remote, QUERIES[name]) == answer(local, QUERIES[name]), name
        with pytest.raises(AuthenticationError, match="403"):
            remote.update("DROP ALL")
        with pytest.raises(AuthenticationError, match="403"):
            remote.replace_graph(source_iri("x.md"), '<https://e/s> <https://e/p> "o" .\n')
        assert remote.graph_counts() == local.graph_counts()
        ip = _non_loopback_ip()
        if ip is not None:
            with pytest.raises(OSError):
                socket.create_connection((ip, server.port), timeout=2).close()


def test_cli_serve_prints_the_url_and_stops_on_ctrl_c(small_corpus: Path, tmp_path: Path) -> None:
    export = build_export(small_corpus, tmp_path / "export")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "kg.cli", "serve", str(export), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert f"http://127.0.0.1:{port}/query" in line and "read-only" in line
        n = RemoteStore(f"http://127.0.0.1:{port}/query").query(QUERIES["articles"]).rows
        assert n[0][0] > 0
        proc.send_signal(signal.SIGINT)
        assert proc.wait(20) == 0
    finally:
        if proc.poll() is None:
            stop_pid(proc)
        proc.stdout.close()
        proc.stderr.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
