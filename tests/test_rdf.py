"""Graph -> RDF: IRIs, escaping, the three serialisations, named graphs,
datatypes, determinism and the round trip back to NetworkX."""

from __future__ import annotations

import functools
import tempfile
from datetime import UTC, datetime, timezone
from pathlib import Path

import networkx as nx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, SDO, XSD, Literal, URIRef

import kg
import kg.rdf_writers
from kg.graph import build_graph
from kg.rdf import TURTLE_PROLOGUE, from_rdf, nquads_of_graph, read_turtle_blocks, to_rdf, write_rdf
from kg.rdf_export import export_rdf
from kg.records import Article, Image, Provider
from kg.stories import add_stories
from kg.vocab import (
    COMPUTED_GRAPH,
    ID,
    NKG,
    SHARED_GRAPH,
    RDFError,
    escape_literal,
    iri,
    node_id,
    source_iri,
    source_path,
)

DEFAULT_GC_THRESHOLDS = __import__("gc").get_threshold()

ROOT = Path(__file__).resolve().parent.parent


# -- shared builders (imported by the other RDF/store test modules) ---------------------
@functools.cache
def built(path: str) -> tuple[nx.MultiDiGraph, Path]:
    """Graph (with stories) of an input folder and an export folder holding
    its RDF files and store; built once per test session."""
    g = build_graph(kg.load(path))
    add_stories(g)
    out = Path(tempfile.mkdtemp(prefix="kg-rdf-test-"))
    export_rdf(g, out)
    return g, out


def fixture_graph() -> nx.MultiDiGraph:
    """A small hand-made graph: 5 files, 3 providers, 3 topics, one shared
    reference-only article, one story spanning two providers, a locale."""
    utc = UTC
    reuters, bbc, cnn = (Provider("reuters.com", "Reuters"), Provider("bbc.co.uk", "BBC News"),
                         Provider("cnn.com", "CNN"))
    ref = Article(source="", title="Cited \"primer\" on masks", url="https://who.int/masks",
                  urls=("https://who.int/masks",), provider=Provider("who.int", "WHO"),
                  published=datetime(2020, 3, 1, 9, 0, tzinfo=utc))
    arts = [
        Article(source="f/a.md", title="Masks work, study says", url="https://reuters.com/a",
                urls=("https://reuters.com/a",), provider=reuters, locale="en-us",
                excerpt="A line\nwith a break", quality=40, heat=7,
                published=datetime(2020, 3, 2, 10, 0, tzinfo=utc),
                topics=("Coronavirus", "Health"), images=(Image("https://img/x.jpg", 640, 480),),
                related=(ref,)),
        Article(source="f/b.md", title="Study: masks work", url="https://bbc.co.uk/b",
                urls=("https://bbc.co.uk/b",), provider=bbc,
                published=datetime(2020, 3, 2, 18, 30, tzinfo=utc),
                topics=("Coronavirus", "Health", "Science"), related=(ref,)),
        Article(source="f/c.md", title="Markets fall", url="https://reuters.com/c",
                urls=("https://reuters.com/c",), provider=reuters,
                published=datetime(2020, 3, 3, 8, 0, tzinfo=utc), topics=("Coronavirus",)),
        Article(source="f/d.md", title="New vaccine trial", url="https://cnn.com/d",
                urls=("https://cnn.com/d", "https://amp.cnn.com/d"), provider=cnn,
                published=datetime(2020, 3, 3, 9, 0, tzinfo=utc), topics=("Science",),
                related=(Article(source="", title="Markets fall", url="https://reuters.com/c",
                                 urls=("https://reuters.com/c",)),)),
        Article(source="f/e e.md", title="No topics here", url="https://cnn.com/e",
                urls=("https://cnn.com/e",), provider=cnn,
                published=datetime(2020, 3, 4, 9, 0, tzinfo=utc)),
    ]
    g = build_graph(arts)
    a, b = kg.graph.article_id(arts[0]), kg.graph.article_id(arts[1])
    g.add_node("story/s1", kind="story", label="Masks work", method="test", threshold=0.5,
               score=0.75, size=2, window_days=4.0)
    g.add_edge(a, "story/s1", key="inStory", rel="inStory")
    g.add_edge(b, "story/s1", key="inStory", rel="inStory")
    return g


def union(path: Path, fmt: str) -> set:
    if fmt == "nquads":
        ds = rdflib.Dataset()
        ds.parse(path, format="nquads")
        return {(s, p, o) for s, p, o, _ in ds.quads((None, None, None, None))}
    return set(rdflib.Graph().parse(path, format=fmt))


# -- identifiers and escaping ------------------------------------------------------------
@pytest.mark.parametrize("nid", ["article/0123abcd", "provider/bbc.co.uk", "topic/c-cedb1bac",
                                 "topic/a b%c:d", "provider/bücher.de", "story/x?y#z"])
def test_iri_is_a_valid_iri_and_inverts(nid):
    value = iri(nid)
    assert value.startswith(ID)
    ox.NamedNode(value)  # raises on an invalid IRI
    assert node_id(value) == nid


def test_source_iri_inverts_and_is_valid():
    for name in ["real/2020-05-06-x.md", "ai facial/ü #1.md", "a/%20.md"]:
        ox.NamedNode(source_iri(name))
        assert source_path(source_iri(name)) == name


def test_node_id_rejects_foreign_iris():
    with pytest.raises(RDFError):
        node_id("https://example.org/article/1")


@pytest.mark.parametrize("text", ['plain', 'say "hi"', "back\\slash", "line\nbreak\r\n",
                                  "tab\tand \x01 \x7f control", "ünïcödé ✓ 𝄞", 'end\\',
                                  '"""', ""])
def test_escape_literal_parses_back_to_the_same_string(text):
    line = f'<http://e/s> <http://e/p> "{escape_literal(text)}" .\n'
    (quad,) = list(ox.parse(line.encode(), format=ox.RdfFormat.N_TRIPLES))
    assert quad.object.value == text


def test_escape_literal_replaces_lone_surrogates():
    out = escape_literal("a\ud800b")
    assert out == "a\ufffdb"
    out.encode("utf-8")


# -- the export ---------------------------------------------------------------------------
def test_three_serialisations_hold_the_same_triples(tmp_path):
    info = write_rdf(fixture_graph(), tmp_path)
    nq = union(info["nquads"], "nquads")
    assert nq == union(info["turtle"], "turtle")
    assert nq == union(info["jsonld"], "json-ld")
    assert info["quads"] == len(info["nquads"].read_text().splitlines())


@pytest.mark.parametrize("stage", ["write_rdf", "export_rdf"])
def test_rdf_stage_pauses_the_cyclic_collector(tmp_path, seeds_dir, monkeypatch, stage):
    # Each collection of the oldest generation rescans every object of the
    # graph; the walk allocates millions and frees them by reference count.
    import gc

    graph = build_graph(kg.load(seeds_dir))
    run = {"write_rdf": write_rdf, "export_rdf": export_rdf}[stage]
    walking: list[str] = []  # the parts of the walk running now
    walked: set[str] = set()
    started: list[tuple[str, ...]] = []  # collections started inside the walk

    def watched(part):
        def running(*args):
            walking.append(part.__name__)
            walked.add(part.__name__)
            try:
                yield from part(*args)
            finally:
                walking.pop()
        return running

    # the walk (subjects) and each writer's pass over it, as they run
    for name in ("subjects", "nquads_by_graph", "turtle_subjects", "jsonld_subjects"):
        monkeypatch.setattr(kg.rdf_writers, name, watched(getattr(kg.rdf_writers, name)))

    def count(phase, info):
        if phase == "start" and walking:
            started.append(tuple(walking))

    gc.set_threshold(1)  # without the pause, a collection every few allocations
    gc.callbacks.append(count)
    try:
        assert gc.isenabled()
        run(graph, tmp_path)
        assert gc.isenabled()  # given back as found
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*DEFAULT_GC_THRESHOLDS)
    assert walked == {"subjects", "nquads_by_graph", "turtle_subjects", "jsonld_subjects"}
    assert started == []
    assert (tmp_path / "newskg.nq").stat().st_size > 0


def test_turtle_read_back_in_pieces_of_whole_blocks(tmp_path, seeds_dir):
    ttl = write_rdf(build_graph(kg.load(seeds_dir)), tmp_path)["turtle"]
    text = ttl.read_text(encoding="utf-8")
    whole = set(ox.parse(path=str(ttl), format=ox.RdfFormat.TURTLE))
    for size in (1, 200, 5000, 10**7):
        pieces = list(read_turtle_blocks(ttl, size))
        assert TURTLE_PROLOGUE + "".join(pieces) == text
        assert len(pieces) > 1 or size == 10**7
        triples = set()
        for piece in pieces:  # each parses on its own
            triples |= set(ox.parse(TURTLE_PROLOGUE + piece, format=ox.RdfFormat.TURTLE))
        assert triples == whole and len(whole) > 100
    (tmp_path / "other.ttl").write_text("@prefix ex: <urn:x> .\n")
    with pytest.raises(ValueError, match="not a newskg Turtle export"):
        list(read_turtle_blocks(tmp_path / "other.ttl"))


def test_exports_are_byte_identical_across_builds(tmp_path, seeds_dir):
    names = ("newskg.nq", "newskg.ttl", "newskg.jsonld")
    outs = []
    for i in range(2):
        g = build_graph(kg.load(seeds_dir))
        add_stories(g)
        write_rdf(g, tmp_path / str(i))
        outs.append([(tmp_path / str(i) / n).read_bytes() for n in names])
    assert outs[0] == outs[1]


def test_node_order_does_not_change_the_export(tmp_path):
    g = fixture_graph()
    h = nx.MultiDiGraph()
    h.add_nodes_from(reversed(list(g.nodes(data=True))))
    h.add_edges_from(reversed(list(g.edges(keys=True, data=True))))
    write_rdf(g, tmp_path / "a")
    write_rdf(h, tmp_path / "b")
    assert (tmp_path / "a/newskg.nq").read_bytes() == (tmp_path / "b/newskg.nq").read_bytes()


def test_literals_carry_datatypes_and_language_tags():
    g = fixture_graph()
    ds = to_rdf(g)
    a = URIRef(iri(kg.graph.article_id(Article(source="", title="", url="https://reuters.com/a"))))
    assert ds.value(a, SDO.headline) == Literal("Masks work, study says", lang="en-us")
    assert ds.value(a, SDO.description) == Literal("A line\nwith a break", lang="en-us")
    published = ds.value(a, SDO.datePublished)
    assert published.datatype == XSD.dateTime and str(published) .endswith(("Z", "+00:00"))
    assert published.toPython() == datetime(2020, 3, 2, 10, 0, tzinfo=UTC)
    assert ds.value(a, URIRef(NKG + "quality")) == Literal(40, datatype=XSD.integer)
    assert ds.value(a, SDO.url) == Literal("https://reuters.com/a", datatype=XSD.anyURI)
    assert ds.value(a, URIRef(NKG + "referenceOnly")) == Literal(False)
    # no locale: plain xsd:string
    b = URIRef(iri(kg.graph.article_id(Article(source="", title="", url="https://bbc.co.uk/b"))))
    assert ds.value(b, SDO.headline) == Literal("Study: masks work")
    img = ds.value(a, SDO.image)
    assert ds.value(img, SDO.width) == Literal(640, datatype=XSD.integer)
    story = URIRef(iri("story/s1"))
    assert ds.value(story, URIRef(NKG + "threshold")) == Literal("0.5", datatype=XSD.double)


def test_datetimes_are_written_in_utc(tmp_path):
    g = fixture_graph()
    nid = next(kg.graph.nodes_of_kind(g, "article"))
    from datetime import timedelta
    g.nodes[nid]["published"] = datetime(2020, 1, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    text = "".join(kg.rdf.iter_quads(g))
    assert '"2020-01-01T10:00:00Z"^^<http://www.w3.org/2001/XMLSchema#dateTime>' in text


def test_named_graphs_follow_the_sources():
    g = fixture_graph()
    ds = to_rdf(g)
    graphs = {str(c.identifier) for c in ds.graphs()} - {str(rdflib.graph.DATASET_DEFAULT_GRAPH_ID)}
    files = ("f/a.md", "f/b.md", "f/c.md", "f/d.md", "f/e e.md")
    assert graphs == {source_iri(f) for f in files} | {COMPUTED_GRAPH, SHARED_GRAPH}
    # a shared provider is described once, in the shared graph; each file
    # that mentions it links to it in its own graph
    reuters = URIRef(iri("provider/reuters.com"))
    shared = ds.graph(URIRef(SHARED_GRAPH))
    assert (reuters, RDF.type, SDO.NewsMediaOrganization) in shared
    for f in files:
        assert (reuters, None, None) not in ds.graph(URIRef(source_iri(f)))
    linking = {f for f in files
               if (None, SDO.publisher, reuters) in ds.graph(URIRef(source_iri(f)))}
    assert linking == {"f/a.md", "f/c.md"}
    # only providers, topics and people are in it
    kinds = {g.nodes[node_id(str(s))]["kind"] for s in shared.subjects()}
    assert kinds == {"provider", "topic"}
    # and each is described in no other graph
    for c in ds.graphs():
        if str(c.identifier) != SHARED_GRAPH:
            assert not {s for s in c.subjects() if str(s).startswith(ID)} & set(shared.subjects())
    # the reference-only article is in both citing files' graphs, derived from them
    who = next(n for n, d in g.nodes(data=True) if d.get("reference_only"))
    for f in ("f/a.md", "f/b.md"):
        assert (URIRef(iri(who)), RDF.type, SDO.NewsArticle) in ds.graph(URIRef(source_iri(f)))
    assert set(ds.objects(URIRef(iri(who)), URIRef("http://www.w3.org/ns/prov#wasDerivedFrom"))) == {
        URIRef(source_iri("f/a.md")), URIRef(source_iri("f/b.md"))}
    # computed story and membership sit in the computed graph only
    computed = ds.graph(URIRef(COMPUTED_GRAPH))
    assert (URIRef(iri("story/s1")), RDF.type, URIRef(NKG + "Story")) in computed
    assert len(list(computed.subject_objects(URIRef(NKG + "inStory")))) == 2


def test_nquads_of_graph_is_that_graphs_slice():
    g = fixture_graph()
    part = nquads_of_graph(g, source_iri("f/c.md"))
    quads = list(ox.parse(part.encode(), format=ox.RdfFormat.N_QUADS))
    assert quads and all(q.graph_name.value == source_iri("f/c.md") for q in quads)
    full = "".join(kg.rdf.iter_quads(g))
    assert set(part.splitlines()) <= set(full.splitlines())


# -- round trip ----------------------------------------------------------------------------
_SET_ATTRS = {"urls", "tags", "alt_titles", "alt_names", "alt_labels", "files", "sources"}


def assert_same_graph(g: nx.MultiDiGraph, h: nx.MultiDiGraph) -> None:
    assert sorted(g.nodes) == sorted(h.nodes)
    assert sorted(g.edges(keys=True)) == sorted(h.edges(keys=True))
    for n, d in g.nodes(data=True):
        e = h.nodes[n]
        assert set(d) == set(e), (n, set(d) ^ set(e))
        for k, v in d.items():
            if k in _SET_ATTRS:
                assert set(v) == set(e[k]), (n, k)
            else:
                assert v == e[k], (n, k, v, e[k])
    for u, v, k, d in g.edges(keys=True, data=True):
        e = h.edges[u, v, k]
        assert d.get("rel") == e.get("rel") and set(d.get("sources", ())) == set(e.get("sources", ()))


def test_round_trip_fixture_through_rdflib():
    g = fixture_graph()
    assert_same_graph(g, from_rdf(to_rdf(g)))


def test_round_trip_seeds_through_nquads_file(seeds_dir):
    g, out = built(str(seeds_dir))
    assert_same_graph(g, from_rdf(out / "newskg.nq"))


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["real", "ai-facial"])
def test_round_trip_real_corpora(corpus_dir, name):
    g, out = built(str(corpus_dir(name)))
    assert_same_graph(g, from_rdf(out / "newskg.nq"))


def test_every_term_written_is_declared_in_the_ontology_and_named_by_the_context():
    import json

    from kg.terms import CLASS_TERMS, PROPERTIES

    ontology = rdflib.Graph().parse(ROOT / "ontology" / "newskg.ttl")
    context = json.loads((ROOT / "ontology" / "context.jsonld").read_text())["@context"]
    prefixes = {k: v for k, v in context.items() if isinstance(v, str) and v.endswith(("/", "#"))}

    def expand(term: str | dict) -> str:
        curie = term["@id"] if isinstance(term, dict) else term
        prefix, _, local = curie.partition(":")
        return prefixes[prefix] + local if prefix in prefixes else curie

    undeclared = [t for t in [*PROPERTIES.values(), *CLASS_TERMS] if t != str(RDF.type)
                  and (URIRef(t), RDF.type, None) not in ontology]
    assert undeclared == []
    assert {t: expand(context[t]) for t in PROPERTIES if t != "type"} == \
        {t: iri for t, iri in PROPERTIES.items() if t != "type"}
    assert {t: expand(context[t]) for t in CLASS_TERMS.values()} == \
        {t: c for c, t in CLASS_TERMS.items()}
