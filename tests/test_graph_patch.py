"""kg.graph_patch: a patched graph is the graph built whole from the new files."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

import kg
from kg.graph import build_graph
from kg.graph_patch import index_graph, load_state, patch_graph, same_graph, save_state
from kg.rdf_walk import FILE_KEY, graph_inputs
from kg.records import Article, Image, Provider
from kg.vocab import SOURCE, source_path

# Few of each, so that files share URLs, entries, images and names often.
URLS = [f"https://n{i % 5}.example/a{i}" for i in range(14)]
DOMAINS = ["n0.example", "n1.example", "n2.example", "other.org"]
NAMES = ["News", "The News", "NEWS", None]
TOPICS = ["AI", "ai", "Privacy", "Facial recognition", "Policy"]
PEOPLE = ["Jane Doe", "jane doe", "John Roe"]
IMAGES = [f"https://img.example/{i}.jpg" for i in range(5)]
TITLES = ["Weekly update", "Court bans face scans", "Court Bans Face Scans", "New rules", "Recap"]


def _article(rng: random.Random, source: str, *, entry: bool = False) -> Article:
    url = rng.choice(URLS + [None]) if rng.random() < 0.85 else None
    urls = tuple(dict.fromkeys(([url] if url else []) + rng.sample(URLS, rng.randint(0, 2))))
    day = rng.choice([None, 1, 2, 3])
    return Article(
        source=source, title=rng.choice(TITLES), url=url, urls=urls,
        excerpt=rng.choice([None, "An excerpt."]),
        published=datetime(2021, 5, day, tzinfo=UTC) if day else None,
        provider=Provider(rng.choice(DOMAINS), rng.choice(NAMES)) if rng.random() < 0.9 else None,
        topics=() if entry else tuple(rng.sample(TOPICS, rng.randint(0, 3))),
        authors=() if entry else tuple(rng.sample(PEOPLE, rng.randint(0, 2))),
        images=tuple(Image(u, rng.choice([None, 640, 800]), None)
                     for u in rng.sample(IMAGES, rng.randint(0, 2))),
        related=() if entry else tuple(_article(rng, source, entry=True)
                                       for _ in range(rng.randint(0, 4))),
        quality=rng.choice([None, 1, 3]))


def _corpus(rng: random.Random, n: int) -> dict[str, Article]:
    return {f"c/{i:03d}.md": _article(rng, f"c/{i:03d}.md") for i in range(n)}


def _edit(rng: random.Random, files: dict[str, Article], k: int) -> dict[str, Article | None]:
    """``k`` changes: files removed, added, or rewritten."""
    out: dict[str, Article | None] = {}
    for _ in range(k):
        what = rng.random()
        if what < 0.3 and files:
            out[rng.choice(sorted(files))] = None
        elif what < 0.6:
            name = f"c/{rng.randint(0, 999):03d}.md"
            out[name] = _article(rng, name)
        elif files:
            name = rng.choice(sorted(files))
            out[name] = _article(rng, name)
    return out


def _apply(files: dict[str, Article], changes: dict[str, Article | None]) -> dict[str, Article]:
    after = dict(files)
    for name, a in changes.items():
        if a is None:
            after.pop(name, None)
        else:
            after[name] = a
    return after


def _loader(files: dict[str, Article], changes: dict) -> Callable[[str], Article]:
    """The records of the files that did not change (the patch has the others)."""
    def load(name: str) -> Article:
        assert name in files and name not in changes, name
        return files[name]
    return load


def _snapshot(graph) -> dict[str, tuple]:
    """Each node's attributes and out-edges, as values."""
    return {n: (repr(d), repr(graph._succ[n])) for n, d in graph._node.items()}


def _file_graphs_with_members(inputs) -> set[str]:
    return {source_path(g) for g, (_, members) in inputs.graphs.items()
            if g.startswith(SOURCE) and any(not m.startswith("\0") for m in members)}


@pytest.mark.parametrize("seed", range(300))
def test_a_patched_graph_is_the_graph_of_the_new_files(seed):
    rng = random.Random(seed)
    files = _corpus(rng, rng.randint(1, 30))
    graph, index = index_graph(files.values())
    inputs = graph_inputs(graph)
    since: set[str] = set()  # changed since `inputs` were taken: patches add up
    for _ in range(3):  # patches on patches
        changes = _edit(rng, files, rng.randint(1, 4))
        after = _apply(files, changes)
        old = {f: files.get(f) for f in changes}
        new = {f: after.get(f) for f in changes}
        before = _snapshot(graph)
        touched = patch_graph(graph, index, old, new, load=_loader(after, changes))
        now = _snapshot(graph)
        assert {n for n in before.keys() | now.keys() if before.get(n) != now.get(n)} <= touched
        whole, whole_index = index_graph(after.values())
        assert same_graph(graph, whole), (seed, sorted(changes))
        assert same_graph(graph, build_graph(after.values()))
        assert index == whole_index
        # The RDF's inputs, walked only where the patches reached, are the whole walk's.
        since |= touched
        every = graph_inputs(graph)
        assert graph_inputs(graph, since=(inputs, since)) == every
        # (what that relies on: a file named by a node has a node in its graph)
        assert _file_graphs_with_members(every) == {
            k[len(FILE_KEY):] for k in every.subjects if k.startswith(FILE_KEY)}
        if rng.random() < 0.5:
            inputs, since = every, set()
        files = after


def test_patching_reads_only_the_files_near_the_change():
    """One headline changed in 300 files that cite one another: the patch
    reads the files of the articles it touches, not the corpus."""
    rng = random.Random(7)
    files = {}
    for i in range(300):
        name = f"c/{i:03d}.md"
        refs = tuple(Article(name, f"Story {j}", url=f"https://x.example/{j}",
                             urls=(f"https://x.example/{j}",), provider=Provider("x.example", "X"))
                     for j in rng.sample(range(300), 3))
        files[name] = Article(name, f"Story {i}", url=f"https://x.example/{i}",
                              urls=(f"https://x.example/{i}",), provider=Provider("x.example", "X"),
                              topics=("AI",), related=refs)
    graph, index = index_graph(files.values())
    loaded: list[str] = []
    name = "c/150.md"
    renamed = Article(**{**{f: getattr(files[name], f) for f in Article.__slots__}, "title": "New"})
    patch_graph(graph, index, {name: files[name]}, {name: renamed},
                load=lambda f: loaded.append(f) or files[f])
    assert same_graph(graph, build_graph({**files, name: renamed}.values()))
    assert graph.nodes["article/" + kg.normalize.short_hash("https://x.example/150")]["title"] == "New"
    assert len(loaded) < 10, loaded


def test_an_entry_that_joins_two_reference_only_articles_makes_them_one():
    a = Article("c/a.md", "A", url="https://a.example/1", urls=("https://a.example/1",),
                related=(Article("c/a.md", "Cited", url="https://z.example/1",
                                 urls=("https://z.example/1",)),))
    b = Article("c/b.md", "B", url="https://b.example/1", urls=("https://b.example/1",),
                related=(Article("c/b.md", "Cited (AMP)", url="https://z.example/2",
                                 urls=("https://z.example/2",)),))
    graph, index = index_graph([a, b])
    assert sum(d.get("reference_only", False) for _, d in graph.nodes(data=True)) == 2
    joined = Article("c/c.md", "C", url="https://c.example/1", urls=("https://c.example/1",),
                     related=(Article("c/c.md", "Both", url="https://z.example/2",
                                      urls=("https://z.example/2", "https://z.example/1")),))
    patch_graph(graph, index, {"c/c.md": None}, {"c/c.md": joined}, load={"c/a.md": a, "c/b.md": b}.get)
    assert same_graph(graph, build_graph([a, b, joined]))
    only = [n for n, d in graph.nodes(data=True) if d.get("reference_only")]
    assert len(only) == 1 and graph.nodes[only[0]]["title"] == "Cited"  # the first file's entry
    patch_graph(graph, index, {"c/c.md": joined}, {"c/c.md": None}, load={"c/a.md": a, "c/b.md": b}.get)
    assert same_graph(graph, build_graph([a, b]))


def test_the_state_kept_between_builds_gives_back_the_graph_and_index(tmp_path):
    rng = random.Random(3)
    files = _corpus(rng, 40)
    files["c/x.md"] = Article("c/x.md", "Dated twice", url="https://x.example/1",
                              published=datetime(2021, 5, 1, 8, tzinfo=UTC),
                              modified=datetime(2021, 5, 2, 9, 30, tzinfo=UTC))
    graph, index = index_graph(files.values())
    graph.add_node("story/1", kind="story", label="A story")  # stories are not kept
    graph.add_edge("article/" + kg.normalize.short_hash("https://x.example/1"), "story/1", key="inStory")
    save_state(tmp_path / "graph.state", "key", graph, index, extra={"files": [1, 2]})
    again, same_index, extra, _ = load_state(tmp_path / "graph.state", "key")
    graph.remove_node("story/1")
    assert same_graph(again, graph) and same_index == index and extra == {"files": [1, 2]}
    node = again.nodes["article/" + kg.normalize.short_hash("https://x.example/1")]
    assert node["modified"] == datetime(2021, 5, 2, 9, 30, tzinfo=UTC)
    # a pair of edges is one dict in both directions, as NetworkX keeps them
    assert all(again._pred[v][u] is kd for u, nbrs in again._succ.items() for v, kd in nbrs.items())
    assert load_state(tmp_path / "graph.state", "other key") is None
    assert load_state(tmp_path / "missing.state", "key") is None
    data = (tmp_path / "graph.state").read_bytes()
    (tmp_path / "graph.state").write_bytes(data[:-100])
    with pytest.raises(ValueError, match="checksum"):
        load_state(tmp_path / "graph.state", "key")


def test_the_state_written_in_many_runs_of_nodes_gives_back_the_same_graph(tmp_path, monkeypatch):
    graph, index = index_graph(_corpus(random.Random(9), 60).values())
    for per_part in (1, 7, 10**6):  # (a run of one node; runs that do not divide the nodes; one run)
        monkeypatch.setattr(kg.graph_patch, "_NODES_PER_PART", per_part)
        save_state(tmp_path / "graph.state", "key", graph, index)
        again, same_index, _, _ = load_state(tmp_path / "graph.state", "key")
        assert same_graph(again, graph) and same_index == index


def test_saving_the_state_leaves_the_graph_as_it_was_even_when_the_write_fails(tmp_path):
    # The state writes the graph's datetimes as text in the graph's own dicts, then puts them back.
    graph, index = index_graph(_corpus(random.Random(5), 30).values())
    before = [(n, a, d[a]) for n, d in graph.nodes(data=True) for a in ("published", "modified")
              if a in d]
    assert len(before) > 10 and all(isinstance(t, datetime) for *_, t in before)
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(OSError):
        save_state(tmp_path / "file" / "graph.state", "key", graph, index)
    save_state(tmp_path / "graph.state", "key", graph, index)
    assert all(graph.nodes[n][a] is t for n, a, t in before)
