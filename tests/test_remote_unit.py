"""kg.store.remote, sparql and sync without a server: escaping, binding, N-Quads reading, bulk chunks.

The escaping tests feed the output to a real SPARQL parser (pyoxigraph) and
check that the value comes back unchanged and the query keeps its shape.
"""

from __future__ import annotations

import gzip
from datetime import UTC
from pathlib import Path

import pyoxigraph as ox
import pytest

from kg.exports import write_split_nquads
from kg.store import (
    PushError,
    RemoteError,
    RemoteStore,
    bind_values,
    graph_digest,
    query_form,
    read_graphs,
    sparql_iri,
    sparql_string,
    sparql_term,
    with_prefixes,
)

EVIL = [
    'He said "stop"',
    "back\\slash \\ and \\\\ double",
    "line one\nline two\r\nthree\ttab",
    '} } DROP ALL ; INSERT DATA { <a:b> <a:c> "x" }',
    '" . } DROP ALL #',
    "\\u0022 escaped quote that is not one \\U0000007D",
    '"""triple""" and \'\'\'single\'\'\'',
    "# not a comment",
    "control \x00\x01\x07\x1f\x7f end",
    "unicode ünïcödé 中文 🙂 \u2028 \u00a0",
    "",
]


@pytest.mark.parametrize("text", EVIL)
def test_string_escaping_round_trips_through_a_real_parser(text: str) -> None:
    store = ox.Store()
    rows = list(store.query(f"SELECT ?x ?y WHERE {{ BIND({sparql_string(text)} AS ?x) "
                            f"BIND(1 AS ?y) }}"))
    assert len(rows) == 1
    assert rows[0]["x"].value == text
    assert rows[0]["y"].value == "1"  # the rest of the query still ran


@pytest.mark.parametrize("text", EVIL)
def test_update_with_evil_literal_inserts_exactly_one_triple(text: str) -> None:
    store = ox.Store()
    store.add(ox.Quad(ox.NamedNode("https://e/keep"), ox.NamedNode("https://e/p"), ox.Literal("k"),
                      ox.NamedNode("https://e/g0")))
    store.update(f"INSERT DATA {{ GRAPH <https://e/g> {{ <https://e/s> <https://e/p> "
                 f"{sparql_term(text)} }} }}")
    assert len(store) == 2
    assert [q.object.value for q in store.quads_for_pattern(ox.NamedNode("https://e/s"), None, None)] == [text]


def test_string_rejects_lone_surrogates_and_non_strings() -> None:
    with pytest.raises(ValueError):
        sparql_string("bad \ud800")
    with pytest.raises(TypeError):
        sparql_string(3)  # type: ignore[arg-type]


@pytest.mark.parametrize("iri", ["https://x/> } DROP ALL", "https://x/a b", 'https://x/"',
                                 "https://x/{}", "no-scheme", "", "https://x/\\u003E"])
def test_iri_rejects_what_would_break_out(iri: str) -> None:
    with pytest.raises(ValueError):
        sparql_iri(iri)


def test_terms_of_python_values() -> None:
    from datetime import date, datetime
    store = ox.Store()
    for value, expected in [(3, "3"), (-2.5, "-2.5"), (True, "true"),
                            (datetime(2020, 5, 6, 12, tzinfo=UTC), "2020-05-06T12:00:00Z"),
                            (date(2020, 5, 6), "2020-05-06"),
                            (ox.Literal("chat", language="fr"), "chat")]:
        row = next(iter(store.query(f"SELECT ?x WHERE {{ BIND({sparql_term(value)} AS ?x) }}")))
        assert row["x"].value == expected
    with pytest.raises(ValueError):
        sparql_term(datetime(2020, 1, 1))  # naive: ambiguous
    with pytest.raises(ValueError):
        sparql_term(ox.BlankNode("b"))
    with pytest.raises(TypeError):
        sparql_term(object())


def _dataset() -> ox.Store:
    store = ox.Store()
    p = ox.NamedNode("https://schema.org/headline")
    for i, title in enumerate(EVIL):
        store.add(ox.Quad(ox.NamedNode(f"https://e/a{i}"), p, ox.Literal(title),
                          ox.NamedNode(f"https://e/g{i}")))
    return store


QUERIES = [
    "SELECT ?a ?t WHERE { ?a <https://schema.org/headline> ?t }",
    "SELECT ?a ?t (COUNT(*) AS ?n) { ?a <https://schema.org/headline> ?t } GROUP BY ?a ?t",
    "PREFIX s: <https://schema.org/>\n# a comment with { braces } and WHERE\n"
    "SELECT ?t ?a WHERE { ?a s:headline ?t FILTER(?t != \"}\") }",
    "ASK { ?a <https://schema.org/headline> ?t }",
    "CONSTRUCT { ?a <https://e/title> ?t } WHERE { ?a <https://schema.org/headline> ?t }",
    "CONSTRUCT { ?a <https://e/title> ?t } { ?a <https://schema.org/headline> ?t }",
    "SELECT * WHERE { { SELECT ?a ?t WHERE { ?a <https://schema.org/headline> ?t } } }",
]


@pytest.mark.parametrize("query", QUERIES)
@pytest.mark.parametrize("title", EVIL)
def test_bind_values_matches_oxigraph_substitutions(query: str, title: str) -> None:
    store = _dataset()
    opts = {"use_default_graph_as_union": True}
    expected = store.query(query, substitutions={ox.Variable("t"): ox.Literal(title)}, **opts)
    got = store.query(bind_values(query, {"t": ox.Literal(title)}), **opts)
    if isinstance(expected, ox.QueryBoolean):
        assert bool(got) == bool(expected) is True
    elif isinstance(expected, ox.QuerySolutions):
        exp = sorted(str(s["a"]) for s in expected)
        assert sorted(str(s["a"]) for s in got) == exp == [f"<https://e/a{EVIL.index(title)}>"]
    else:
        assert sorted(map(str, got)) == sorted(map(str, expected))
    assert len(store) == len(EVIL)  # nothing was dropped


def test_bind_values_needs_a_pattern_and_safe_names() -> None:
    with pytest.raises(ValueError):
        bind_values("DESCRIBE <https://e/x>", {"t": "x"})
    with pytest.raises(ValueError):
        bind_values("SELECT * { ?s ?p ?t }", {"t) } DROP ALL": "x"})


def test_query_form_ignores_strings_iris_and_comments() -> None:
    assert query_form("# ASK\nSELECT * { ?s ?p 'ASK' }") == "select"
    assert query_form("PREFIX ask: <https://e/select#> CONSTRUCT WHERE { ?s ask:p ?o }") == "construct"
    assert query_form("DROP ALL") == "update"
    assert query_form("describe <https://e/x>") == "describe"
    with pytest.raises(ValueError):
        query_form("{ }")


def test_with_prefixes_declares_only_missing_known_prefixes() -> None:
    q = "PREFIX schema: <http://schema.org/>\nSELECT * { ?a a schema:X ; skos:p <http://e/x> }"
    out = with_prefixes(q)
    assert out.count("PREFIX schema:") == 1
    assert out.startswith("BASE <https://w3id.org/newskg/id/>\n"
                          "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n")
    assert "PREFIX http" not in out


NQ = (
    '<https://e/s> <https://e/p> "a \\" <https://e/x> b" <https://e/g1> .\n'
    '<https://e/s> <https://e/p> <https://e/o> <https://e/g1> .\n'
    '<https://e/s> <https://e/p> "x"^^<http://www.w3.org/2001/XMLSchema#integer> <https://e/g2> .\n'
    '<https://e/s> <https://e/p> "chat"@fr <https://e/g2> .\n'
    '_:b <https://e/p>  "spaced" \t <https://e/g3>  .\n'
    '<https://e/s> <https://e/p> <https://e/o> <https://e/g1> .\n'
)


def test_read_graphs_groups_lines_by_graph_like_a_parser(tmp_path: Path) -> None:
    path = tmp_path / "x.nq"
    path.write_text(NQ)
    graphs = read_graphs(path)
    expected: dict[str, set[str]] = {}
    for q in ox.parse(path=str(path), format=ox.RdfFormat.N_QUADS):
        expected.setdefault(q.graph_name.value, set()).add(str(q.triple))
    assert list(graphs) == sorted(expected)
    for g, lines in graphs.items():
        got = {str(q.triple) for q in ox.parse(b"".join(lines), ox.RdfFormat.N_QUADS)}
        assert got == expected[g]
        assert len(lines) == len(expected[g])  # duplicate lines counted once
    assert graph_digest(b"".join(graphs["https://e/g1"])) != graph_digest(b"".join(graphs["https://e/g2"]))


@pytest.mark.parametrize("line", ['<https://e/s> <https://e/p> <https://e/o> .\n',
                                  '<https://e/s> <https://e/p> "x"^^<https://e/dt> .\n',
                                  '<https://e/s> <https://e/p> "q <https://e/g> ." .\n'])
def test_read_graphs_refuses_default_graph_triples(tmp_path: Path, line: str) -> None:
    path = tmp_path / "x.nq"
    path.write_text(line)
    with pytest.raises(PushError, match="default graph"):
        read_graphs(path)


def test_split_nquads_chunks_are_bounded_complete_and_deterministic(tmp_path: Path) -> None:
    lines = [f'<https://e/s{i}> <https://e/p> "{i}" <https://e/g{i % 7}> .\n' for i in range(25)]
    src = tmp_path / "x.nq"
    src.write_text("".join(lines))
    chunks = write_split_nquads(src, tmp_path / "out", 10, union=False)
    assert [p.name for p in chunks] == ["newskg-00001.nq.gz", "newskg-00002.nq.gz",
                                        "newskg-00003.nq.gz"]
    texts = [gzip.decompress(p.read_bytes()).decode() for p in chunks]
    assert [t.count("\n") for t in texts] == [10, 10, 5]
    assert "".join(texts) == "".join(lines)
    first = [p.read_bytes() for p in chunks]
    again = write_split_nquads(src, tmp_path / "out", 10, union=False)
    assert [p.read_bytes() for p in again] == first
    # With the union: every quad, then each distinct triple once in the default graph.
    src.write_text("".join(lines) + lines[0].replace("<https://e/g0>", "<https://e/g9>"))
    with_union = write_split_nquads(src, tmp_path / "out", 30)
    loaded = ox.Store()
    for p in with_union:
        loaded.load(gzip.decompress(p.read_bytes()), ox.RdfFormat.N_QUADS)
    assert len(loaded) == 26 + 25
    assert len(list(loaded.quads_for_pattern(None, None, None, ox.DefaultGraph()))) == 25
    assert len(write_split_nquads(src, tmp_path / "out", 60)) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["newskg-00001.nq.gz"]


def test_endpoint_urls_are_derived_per_server_type() -> None:
    v = RemoteStore("http://h:8890/sparql")
    assert (v.update_url, v.graph_store_url, v.graph_param) == (
        "http://h:8890/sparql", "http://h:8890/sparql-graph-crud", "graph-uri")
    f = RemoteStore("http://h:3030/ds/query", graph_store_url="http://h:3030/ds/data")
    assert (f.update_url, f.graph_store_url, f.graph_param) == (
        "http://h:3030/ds/update", "http://h:3030/ds/data", "graph")
    g = RemoteStore("http://h:7200/repositories/news")
    assert g.update_url == "http://h:7200/repositories/news/statements"


def test_credentials_in_the_url_are_refused() -> None:
    with pytest.raises(RemoteError, match="not in the URL"):
        RemoteStore("http://dba:secret@h:8890/sparql")
    with pytest.raises(RemoteError):
        RemoteStore("file:///etc/passwd")
