"""Incremental exports: after a change, a build that copies the unchanged
blocks of the last export writes the same bytes as a cold build."""

from __future__ import annotations

import os
import re
import shutil

import networkx as nx
import pytest

import kg
from kg import last_build
from kg.blocks import node_digest, runs
from kg.exports import GRAPH_JSON, GRAPHML, MANIFEST, PROBLEMS, read_graph, write_graph_json, write_graphml
from kg.graph import build_graph
from kg.graph_patch import same_graph
from kg.last_build import GRAPH_STATE
from kg.pipeline import CACHE
from kg.rdf_walk import graph_inputs, graph_parts, subjects
from kg.rdf_writers import JSONLD, NQUADS, TURTLE, RdfWriter
from kg.stories import add_stories
from kg.vocab import COMPUTED_GRAPH, graph_block, iri, source_iri

N = 600  # files of the real corpus in the small corpus


@pytest.fixture(scope="module")
def real_files(corpus_dir):
    return sorted(p for p in corpus_dir("real").iterdir() if p.suffix == ".md")


@pytest.fixture(scope="module")
def real_folder(real_files, tmp_path_factory):
    """The first N files of the real corpus, in a folder of their own."""
    folder = tmp_path_factory.mktemp("real")
    for p in real_files[:N]:
        shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture
def real_graph(real_folder):
    return build_graph(kg.load(real_folder))


def retitle(src, files):
    path = src / files[10].name
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^title: .*$", 'title: "A title nobody wrote"', text, count=1,
                           flags=re.M), encoding="utf-8")


def remove(src, files):
    (src / files[20].name).unlink()


def append(src, files):
    for p in files[N:N + 25]:
        shutil.copy(p, src / p.name)


def rename_provider(src, files):
    changed = 0
    for p in sorted(src.iterdir()):
        text = p.read_text(encoding="utf-8")
        if "  domain: lfpress.com\n" in text:
            p.write_text(re.sub(r"^  name: .*$", "  name: The Free Press of London", text,
                                count=1, flags=re.M), encoding="utf-8")
            changed += 1
    assert changed


def add_topic(src, files):
    path = src / files[30].name
    text = path.read_text(encoding="utf-8")
    assert "\ntopics:\n" in text
    path.write_text(text.replace("\ntopics:\n", "\ntopics:\n  - A topic of its own\n", 1),
                    encoding="utf-8")


def undate(src, files):
    path = src / files[40].name
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"^publishedDateTime: .*\n", "", text, count=1, flags=re.M),
                    encoding="utf-8")


@pytest.mark.parametrize("change", [retitle, remove, append, rename_provider, add_topic, undate])
def test_nquads_after_a_change_equal_a_cold_build(tmp_path, real_folder, real_files, change):
    src = shutil.copytree(real_folder, tmp_path / "in")
    kg.build(src, out=tmp_path / "inc", cache=True)
    change(src, real_files)
    inc = kg.build(src, out=tmp_path / "inc")
    cold = kg.build(src, out=tmp_path / "cold")
    assert inc.warnings == []
    assert inc.patched and cold.patched is None  # the last graph patched (kg.graph_patch)
    assert same_graph(inc.graph, cold.graph)
    graphs = cold.summary["nquads_graphs_rendered"]  # a cold build renders every graph
    # most graphs copied, and the result is the cold build's, byte for byte
    assert 0 < inc.summary["nquads_graphs_rendered"] < graphs / 4
    # the RDF walk went over the nodes the patch touched (and their blocks), not every node
    print(change.__name__, inc.summary["rdf_nodes_walked"], cold.summary["rdf_nodes_walked"])
    assert 0 < inc.summary["rdf_nodes_walked"] < cold.summary["rdf_nodes_walked"]
    for name in (NQUADS, TURTLE, JSONLD, GRAPHML, GRAPH_JSON, PROBLEMS, MANIFEST):
        assert (tmp_path / "inc" / name).read_bytes() == (tmp_path / "cold" / name).read_bytes(), name
    # the store was kept in step with it
    assert inc.summary.get("store_graphs_replaced", 0) >= 1
    assert sorted(kg.open(tmp_path / "inc").query(
        "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g").rows) == sorted(
        kg.open(tmp_path / "cold").query(
            "SELECT ?g (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g").rows)


def test_a_damaged_index_means_a_whole_rewrite_with_a_warning(tmp_path, real_files):
    src = tmp_path / "in"
    src.mkdir()
    for p in real_files[:200]:
        shutil.copy(p, src / p.name)
    out = tmp_path / "out"
    first = kg.build(src, out=out)
    index = out / ".cache" / "newskg.nq.blocks"
    index.write_bytes(index.read_bytes()[:-40])
    retitle(src, real_files)
    again = kg.build(src, out=out)
    assert any("newskg.nq.blocks" in w for w in again.warnings)
    assert again.summary["nquads_graphs_rendered"] == first.summary["nquads_graphs_rendered"]
    assert (out / NQUADS).read_bytes() == (kg.build(src, out=tmp_path / "cold").out / NQUADS).read_bytes()


def test_graph_inputs_name_the_members_the_writer_finds(corpus_dir):
    # the light walk (no statements) and the full one agree on who is in which graph
    graph = build_graph(kg.load(corpus_dir("real")))
    inputs = graph_inputs(graph).graphs
    every = list(subjects(graph))
    members: dict[str, list[str]] = {}
    for s in every:
        for g in dict.fromkeys(graph_parts(s)):
            members.setdefault(graph_block(g, s.iri), []).append(s.iri)
    assert sorted(members) == list(inputs)
    assert [s.iri for s in subjects(graph, graph_inputs(graph).subjects)] == [s.iri for s in every]
    for g, (_, keys) in inputs.items():
        assert [s.iri for s in subjects(graph, keys)] == members[g]


def test_an_article_joining_a_story_changes_the_computed_graph_not_its_file(real_graph):
    """An ``inStory`` edge has no file: it is stated in the computed graph, so
    the article's file graph keeps its digest (and its N-Quads are copied)."""
    graph = real_graph
    add_stories(graph)
    inputs = graph_inputs(graph)
    story = next(n for n, d in graph.nodes(data=True) if d["kind"] == "story")
    article = next(n for n, d in graph.nodes(data=True) if d["kind"] == "article"
                   and d["files"] and story not in graph._succ[n])
    graph.add_edge(article, story, key="inStory", rel="inStory")
    graph.nodes[story]["size"] += 1
    after = graph_inputs(graph)
    assert graph_inputs(graph, since=(inputs, {article, story})) == after
    assert after.subjects[article] != inputs.subjects[article]  # (the graph JSON's line changed)
    own = source_iri(graph.nodes[article]["files"][0])
    assert after.graphs[own] == inputs.graphs[own]
    part = graph_block(COMPUTED_GRAPH, iri(article))
    assert after.graphs[part][0] != inputs.graphs.get(part, ("",))[0]
    # and the other way: it leaves the story again
    graph.remove_edge(article, story, key="inStory")
    graph.nodes[story]["size"] -= 1
    assert graph_inputs(graph, since=(after, {article, story})) == graph_inputs(graph) == inputs


def test_writers_copy_what_did_not_change(tmp_path, real_graph):
    # the three RDF writers with their indexes, after one node changed and one appeared
    graph = real_graph

    def write(g, folder):
        w = RdfWriter(g, index_dir=folder / ".cache", fingerprint="code-1")
        return {name: getattr(w, "write_" + kind)(folder / name)
                for name, kind in ((NQUADS, "nquads"), (TURTLE, "turtle"), (JSONLD, "jsonld"))}

    write(graph, tmp_path)
    article = sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "article")[100]
    graph.nodes[article]["title"] = "Changed"
    graph.add_node("topic/aaa", kind="topic", label="AAA", key="aaa", alt_labels=[],
                   sources=graph.nodes[article]["sources"])
    graph.add_node("article/000", **graph.nodes[article])  # first of all subjects
    again = write(graph, tmp_path)
    fresh = write(graph, tmp_path / "fresh")
    for name in (NQUADS, TURTLE, JSONLD):
        assert (tmp_path / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name
        assert 0 < again[name].rendered < fresh[name].rendered / 4, name
    # Turtle and JSON-LD: the runs of the changed article and of the two new
    # nodes (the first subject's run, which loses its first, among them)
    assert again[TURTLE].rendered == again[JSONLD].rendered <= 3


def test_a_changed_part_keeps_the_lines_of_its_unchanged_members(tmp_path, real_graph):
    """An article joins a story: its part of the computed graph, and the
    story's, are written again, but only the lines of the article and the
    story are made anew; the other members' lines come from the last
    N-Quads, whose bytes are checked first."""
    graph = real_graph
    add_stories(graph)
    before = graph_inputs(graph)

    def write(inputs, folder):
        w = RdfWriter(graph, index_dir=folder / ".cache", fingerprint="code-1", inputs=inputs)
        return w.write_nquads(folder / NQUADS)

    for folder in ("kept", "damaged", "skipped"):
        write(before, tmp_path / folder)
    story = next(n for n, d in graph.nodes(data=True) if d["kind"] == "story")
    article = next(n for n, d in graph.nodes(data=True) if d["kind"] == "article"
                   and story not in graph._succ[n]
                   and graph_block(COMPUTED_GRAPH, iri(n)) != graph_block(COMPUTED_GRAPH, iri(story)))
    graph.add_edge(article, story, key="inStory", rel="inStory")
    graph.nodes[story]["size"] += 1
    after = graph_inputs(graph, since=(before, {article, story}))
    assert after.changed == {article, story}
    own, story_part = (after.graphs[graph_block(COMPUTED_GRAPH, iri(n))][1] for n in (article, story))
    assert article in own and article not in before.graphs[graph_block(COMPUTED_GRAPH, iri(article))][1]
    fresh = write(graph_inputs(graph), tmp_path / "fresh")  # a whole walk: nothing kept
    assert fresh.copied_members == 0

    again = write(after, tmp_path / "kept")
    assert (tmp_path / "kept" / NQUADS).read_bytes() == (tmp_path / "fresh" / NQUADS).read_bytes()
    assert again.rendered == 2
    assert again.copied_members == len(own) + len(story_part) - 2  # all but the two that changed

    # A byte of an unchanged member of the story's part is not what the index
    # says (the file's size and time as they were): that part is made whole.
    nq = tmp_path / "damaged" / NQUADS
    st = nq.stat()
    other = next(m for m in story_part if m != story)
    with open(nq, "r+b") as f:
        f.seek(f.read().index(f"<{iri(other)}>".encode()) + 1)
        f.write(b"X")
    os.utime(nq, ns=(st.st_atime_ns, st.st_mtime_ns))
    again = write(after, tmp_path / "damaged")
    assert nq.read_bytes() == (tmp_path / "fresh" / NQUADS).read_bytes()
    assert again.copied_members == len(own) - 1

    # Inputs made from inputs the file was not written from (a build killed
    # before its N-Quads): the parts changed in between are made whole.
    headline = next(n for n, d in graph.nodes(data=True) if d["kind"] == "article"
                    and n not in (article, story))
    graph.nodes[headline]["title"] = "Changed"
    later = graph_inputs(graph, since=(after, {headline}))
    assert later.changed == {headline}
    write(later, tmp_path / "skipped")
    write(graph_inputs(graph), tmp_path / "fresh2")
    assert (tmp_path / "skipped" / NQUADS).read_bytes() == (tmp_path / "fresh2" / NQUADS).read_bytes()


def test_turtle_and_jsonld_walk_their_changed_runs_once(tmp_path, real_graph, monkeypatch):
    import kg.rdf_writers

    graph = real_graph

    def write(folder):
        w = RdfWriter(graph, index_dir=folder / ".cache", fingerprint="code-1")
        return w.write_turtle(folder / TURTLE), w.write_jsonld(folder / JSONLD)

    write(tmp_path)
    article = sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "article")[100]
    graph.nodes[article]["title"] = "Changed"
    walks = []
    walk = kg.rdf_writers.subjects
    monkeypatch.setattr(kg.rdf_writers, "subjects", lambda g, only=None: walks.append(only) or walk(g, only))
    ttl, jsonld = write(tmp_path)
    assert len(walks) == 1 and article in walks[0]  # the changed runs, walked for both files
    assert ttl.rendered == jsonld.rendered == 1
    monkeypatch.setattr(kg.rdf_writers, "subjects", walk)
    write(tmp_path / "fresh")
    for name in (TURTLE, JSONLD):
        assert (tmp_path / name).read_bytes() == (tmp_path / "fresh" / name).read_bytes(), name


def test_graphml_copies_the_lines_of_unchanged_nodes(tmp_path, real_graph):
    graph = real_graph
    index = tmp_path / ".cache"
    first = write_graphml(graph, tmp_path / GRAPHML, index, "code-1")
    assert first.copied == 0 and len(first.blocks) > 20  # runs of nodes, then of their edges
    article, other = sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "article")[:2]
    graph.nodes[article]["title"] = "Changed <b>&</b>"
    graph.add_edge(other, article, key="related", sources=["x.md"])
    again = write_graphml(graph, tmp_path / GRAPHML, index, "code-1")
    write_graphml(graph, tmp_path / "fresh.graphml")  # no index: every line rendered
    assert (tmp_path / GRAPHML).read_bytes() == (tmp_path / "fresh.graphml").read_bytes()
    # the runs of the two nodes: their lines and their edges
    assert 2 <= again.rendered <= 4 and again.copied == len(again.blocks) - again.rendered
    assert nx.read_graphml(tmp_path / GRAPHML, force_multigraph=True).nodes[article]["label"] == \
        "Changed <b>&</b>"
    # a new attribute changes the key table, so every line is rendered again
    graph.nodes[other]["new_attribute"] = 1
    third = write_graphml(graph, tmp_path / GRAPHML, index, "code-1")
    write_graphml(graph, tmp_path / "fresh.graphml")
    assert third.copied == 0
    assert (tmp_path / GRAPHML).read_bytes() == (tmp_path / "fresh.graphml").read_bytes()


def test_graph_json_copies_the_lines_of_unchanged_nodes(tmp_path, real_graph):
    graph = real_graph
    graph.graph.pop("problems")  # (not in the JSON: problems.jsonl has them)
    index = tmp_path / ".cache"
    first = write_graph_json(graph, tmp_path / GRAPH_JSON, index, "code-1")
    assert first.copied == 0 and len(first.blocks) > 20  # runs of nodes, then of their edges
    articles = sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "article")
    article, other = articles[0], articles[len(articles) // 2]
    graph.nodes[article]["title"] = 'Changed "quoted" \u2028'
    graph.add_edge(other, article, key="related", sources=["x.md"])
    digests = {n: node_digest(graph._node[n], graph._succ[n]) for n in articles[-5:]}
    again = write_graph_json(graph, tmp_path / GRAPH_JSON, index, "code-1", digests)
    write_graph_json(graph, tmp_path / "fresh.json")  # no index: every line rendered
    assert (tmp_path / GRAPH_JSON).read_bytes() == (tmp_path / "fresh.json").read_bytes()
    # the runs of the two nodes: their lines and their edges
    assert 2 <= again.rendered <= 4 and again.copied == len(again.blocks) - again.rendered
    assert same_graph(read_graph(tmp_path / GRAPH_JSON), graph)
    # The first node's and the first edge's lines start without a comma: the
    # first run gone, then the edges of the first run that has some.
    small = nx.MultiDiGraph()
    small.add_nodes_from((f"n{i:03d}", {"kind": "topic"}) for i in range(100))
    small.add_edges_from((f"n{i:03d}", "n099", "broader", {}) for i in range(0, 99, 3))
    for cut in ("nodes", "edges"):
        write_graph_json(small, tmp_path / GRAPH_JSON, index, "code-1")
        first = next(runs(n for n in small if cut == "nodes" or small._succ[n]))
        if cut == "nodes":
            small.remove_nodes_from(first)
        else:
            small.remove_edges_from([(u, v, k) for u in first for v in small._succ[u]
                                     for k in small._succ[u][v]])
        written = write_graph_json(small, tmp_path / GRAPH_JSON, index, "code-1")
        write_graph_json(small, tmp_path / "fresh.json")
        assert (tmp_path / GRAPH_JSON).read_bytes() == (tmp_path / "fresh.json").read_bytes()
        assert same_graph(read_graph(tmp_path / GRAPH_JSON), small) and written.copied > 5


def test_builds_patch_the_kept_graph_by_every_change_since_it_was_kept(tmp_path, real_folder,
                                                                         real_files, monkeypatch):
    """The graph state is written by a whole build; the builds after it keep a
    journal of the files changed since, patch the state by all of them, and
    write the state anew once the journal is long."""
    src = shutil.copytree(real_folder, tmp_path / "in")
    out = tmp_path / "inc"
    assert kg.build(src, out=out).patched is None
    state = (out / GRAPH_STATE).read_bytes()
    every = kg.build(src, out=out)
    assert every.patched is None
    state = (out / GRAPH_STATE).read_bytes()
    retitle(src, real_files)
    first = kg.build(src, out=out)
    assert first.patched == 1
    remove(src, real_files)
    again = kg.build(src, out=out)
    assert again.patched == 2 and (out / GRAPH_STATE).read_bytes() == state  # not written again
    # the RDF walk: the nodes either patch touched, from the last build's inputs
    walked = every.summary["rdf_nodes_walked"]
    assert 0 < first.summary["rdf_nodes_walked"] < walked / 4
    assert 0 < again.summary["rdf_nodes_walked"] < walked

    def same_as_cold() -> kg.BuildResult:
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        cold = kg.build(src, out=tmp_path / "cold")
        assert same_graph(kg.open(out).graph, cold.graph)
        for name in (NQUADS, TURTLE, GRAPH_JSON, PROBLEMS, MANIFEST):
            assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes(), name
        return cold

    same_as_cold()
    monkeypatch.setattr(last_build, "JOURNAL_MAX", 2)
    monkeypatch.setattr(last_build, "JOURNAL_SHARE", 0)
    add_topic(src, real_files)  # three files in the journal: the state is written anew
    assert kg.build(src, out=out).patched == 3
    assert (out / GRAPH_STATE).read_bytes() != state
    undate(src, real_files)
    # (the inputs that build kept are of the new state's own graph)
    last = kg.build(src, out=out)
    assert last.patched == 1
    assert 0 < last.summary["rdf_nodes_walked"] < same_as_cold().summary["rdf_nodes_walked"]


def test_without_the_records_the_state_was_made_from_the_graph_is_built_whole(tmp_path, real_folder,
                                                                            real_files):
    src = shutil.copytree(real_folder, tmp_path / "in")
    out = tmp_path / "inc"
    kg.build(src, out=out)
    (out / CACHE).unlink()  # the state is there; the records it needs are not
    retitle(src, real_files)
    again = kg.build(src, out=out)
    assert again.patched is None and again.warnings == []
    kg.build(src, out=tmp_path / "cold")
    for name in (NQUADS, GRAPH_JSON, MANIFEST):
        assert (out / name).read_bytes() == (tmp_path / "cold" / name).read_bytes(), name
    retitle(src, real_files[1:])  # and the next build patches the state the whole build kept
    assert kg.build(src, out=out).patched == 1


def test_more_changes_than_a_patch_pays_for_build_the_graph_whole(tmp_path, real_folder, real_files,
                                                                   monkeypatch):
    """Past a tenth of the corpus (and ``PATCH_MIN`` files), every file is read."""
    src = shutil.copytree(real_folder, tmp_path / "in")
    out = tmp_path / "inc"
    kg.build(src, out=out)
    monkeypatch.setattr(last_build, "PATCH_MIN", 0)
    for p in real_files[N:N + N // 5]:  # more than a tenth of the 720
        shutil.copy(p, src / p.name)
    assert kg.build(src, out=out).patched is None
    retitle(src, real_files)
    assert kg.build(src, out=out).patched == 1
