"""SHACL: the exports of the seeds and of both real corpora conform to
ontology/shapes.ttl; deliberately broken graphs do not, with readable results."""

from __future__ import annotations

from dataclasses import astuple

import pytest
import rdflib
from rdflib import SDO, URIRef
from test_rdf import built, fixture_graph
from test_store import kg_cli

from kg.shacl import SHAPES, _validate_pieces, validate
from kg.vocab import NKG, iri


def test_fixture_conforms():
    report = validate(fixture_graph())
    assert report.conforms and report.results == []


def test_seeds_export_conforms(seeds_dir):
    _, out = built(str(seeds_dir))
    report = validate(out)
    assert report.conforms, "\n".join(map(str, report.results))
    assert report.triples > 100


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["real", "ai-facial"])
def test_real_corpus_exports_conform(corpus_dir, name):
    _, out = built(str(corpus_dir(name)))
    report = validate(out)  # newskg.ttl: the union (same triples as newskg.nq, see test_rdf)
    assert report.conforms, "\n".join(map(str, report.violations[:20]))


def _messages(report) -> set[tuple[str, str | None]]:
    return {(v.focus, v.path) for v in report.violations}


def test_broken_graph_does_not_conform():
    g = fixture_graph()
    art = next(n for n, d in g.nodes(data=True) if d["kind"] == "article" and not d["reference_only"])
    g.nodes[art]["title"] = ""                           # empty headline
    g.nodes["provider/cnn.com"]["domain"] = "not a domain"
    g.add_edge(art, "provider/cnn.com", key="about", rel="about", sources=["f/a.md"])  # not a topic
    g.nodes["story/s1"]["method"] = None                 # a story without its method
    report = validate(g)
    assert not report.conforms
    assert _messages(report) >= {
        (iri(art), "schema:headline"), (iri("provider/cnn.com"), "nkg:domain"),
        (iri(art), "schema:about"), (iri("story/s1"), "nkg:method")}
    text = "\n".join(map(str, report.violations))
    assert "<provider/cnn.com> nkg:domain" in text and "not a domain" in text


def test_broken_rdf_does_not_conform():
    """Breakage the NetworkX graph cannot express: two headlines, a wrong
    datatype, a non-UTC date, a missing class."""
    from kg.rdf import to_rdf
    ds = to_rdf(fixture_graph())
    g = rdflib.Graph()
    for s, p, o, _ in ds.quads((None, None, None, None)):
        g.add((s, p, o))
    art = next(g.subjects(SDO.headline, rdflib.Literal("Markets fall")))
    g.add((art, SDO.headline, rdflib.Literal("A second headline")))
    g.set((art, URIRef(NKG + "quality"), rdflib.Literal("high")))
    g.set((art, SDO.datePublished, rdflib.Literal("2020-03-03T09:00:00+01:00", datatype=rdflib.XSD.dateTime,
                                                  normalize=False)))
    g.remove((URIRef(iri("provider/reuters.com")), rdflib.RDF.type, None))
    report = validate(g)
    assert not report.conforms
    assert _messages(report) >= {(str(art), "schema:headline"), (str(art), "nkg:quality"),
                                 (str(art), "schema:datePublished"), (str(art), "schema:publisher")}


def test_article_without_url_is_a_warning_not_a_violation():
    g = fixture_graph()
    art = next(n for n, d in g.nodes(data=True) if d.get("url") == "https://cnn.com/e")
    del g.nodes[art]["url"]
    g.nodes[art]["urls"] = []
    report = validate(g)
    assert report.conforms
    assert [(w.focus, w.path, w.severity) for w in report.warnings] == [(iri(art), "schema:url", "Warning")]


def test_cli_validate_exit_codes(seeds_dir, tmp_path):
    _, out = built(str(seeds_dir))
    r = kg_cli("validate", str(out))
    assert r.returncode == 0 and "conforms" in r.stdout
    broken = tmp_path / "newskg.ttl"
    text = (out / "newskg.ttl").read_text()
    broken.write_text(text.replace("schema:name ", "schema:name 42, ", 1))
    r = kg_cli("validate", str(tmp_path))
    assert r.returncode == 1 and "does NOT conform" in r.stdout and "schema:name" in r.stdout
    r = kg_cli("validate", str(tmp_path / "missing"))
    assert r.returncode == 2 and "Traceback" not in r.stderr


def test_turtle_export_in_pieces_gives_the_results_of_the_whole_graph(tmp_path):
    """`kg validate` checks a Turtle export a piece at a time; pieces down to
    one subject each (whose publishers, topics and story articles are all in
    other pieces) give exactly the results of the whole graph at once."""
    from rdflib import Graph

    from kg.rdf import write_rdf

    g = fixture_graph()
    art = next(n for n, d in g.nodes(data=True) if d["kind"] == "article" and not d["reference_only"])
    g.nodes[art]["title"] = ""
    g.nodes["provider/cnn.com"]["domain"] = "not a domain"
    g.add_edge(art, "provider/cnn.com", key="about", rel="about", sources=["f/a.md"])
    g.nodes["story/s1"]["method"] = None
    turtle = write_rdf(g, tmp_path)["turtle"]
    whole = validate(Graph().parse(turtle))  # an rdflib graph: validated at once
    assert not whole.conforms and len(whole.violations) >= 4
    assert any(v.focus == iri("story/s1") for v in whole.violations)
    shapes = Graph().parse(SHAPES)
    for piece_chars, processes in ((1, 1), (300, 2), (5000, 2), (1 << 20, 1)):
        results, triples = _validate_pieces(turtle, shapes, piece_chars=piece_chars,
                                            processes=processes)
        assert sorted(map(astuple, results)) == sorted(map(astuple, whole.results)), piece_chars
        assert triples == whole.triples
    assert validate(tmp_path).results == whole.results  # the folder: its Turtle, in pieces


def test_progress_counts_the_triples_validated(seeds_dir):
    _, out = built(str(seeds_dir))
    calls = []
    report = validate(out, progress=lambda stage, done, total: calls.append((stage, done, total)))
    counted = [(done, total) for stage, done, total in calls if stage == "validating triples"]
    assert calls[0][0] == "reading the classes of every node"
    assert counted[0] == (0, report.triples) and counted[-1] == (report.triples, report.triples)
    assert [d for d, _ in counted] == sorted(d for d, _ in counted)


def test_cli_validate_of_an_unreadable_turtle_is_a_clear_error(tmp_path):
    (tmp_path / "newskg.ttl").write_bytes(b"\xff\xfe not Turtle")
    r = kg_cli("validate", str(tmp_path))
    assert r.returncode == 2 and "newskg.ttl" in r.stderr and "Traceback" not in r.stderr


def test_pieces_on_two_processes_work_from_a_script_without_a_main_guard(seeds_dir, tmp_path):
    """Research scripts often call the library at top level: the worker
    processes must not re-run them (spawned ones would, and hang)."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    _, out = built(str(seeds_dir))
    script = tmp_path / "check.py"
    script.write_text(
        "from pathlib import Path\n"
        "from rdflib import Graph\n"
        "import kg.shacl as S\n"
        f"turtle = Path({str(out / 'newskg.ttl')!r})\n"
        "shapes = Graph().parse(S.SHAPES)\n"
        "results, triples = S._validate_pieces(turtle, shapes, piece_chars=2000, processes=2)\n"
        "print(len(results), triples)\n")
    # the kg under test, not whichever one is installed
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    r = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["0", str(validate(out).triples)]
