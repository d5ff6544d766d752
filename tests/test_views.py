"""Views without a browser: selection, capping, hubs, escaping, determinism, CLI."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime

import pytest

import kg
from kg import stories, view_selection, views
from kg.cli import main
from kg.coverage import story_coverage
from kg.graph import build_graph


@pytest.fixture(scope="module")
def seeds_graph(seeds_dir):
    g = build_graph(kg.load(seeds_dir))
    stories.add_stories(g)
    return g


@pytest.fixture(scope="module")
def aif_graph(corpus_dir):
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    stories.add_stories(g)
    return g


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="kg-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


def test_story_text_is_case_and_accent_insensitive(seeds_graph):
    a = views.select(seeds_graph, story="facial recognition", hops=0)
    b = views.select(seeds_graph, story="  FÁCIAL   Récognition ", hops=0)
    assert a.matched == b.matched and len(a.matched) == 8
    assert 'match "  FÁCIAL   Récognition "' in b.summary


def test_selectors_and_errors(seeds_graph):
    assert len(views.select(seeds_graph, topic="computer VISION", hops=0).matched) == 1
    url = "https://nypost.com/2021/12/15/worcester-bans-city-use-of-facial-recognition-technology/amp/"
    assert len(views.select(seeds_graph, article=url, hops=0).matched) == 1
    assert views.select(seeds_graph, provider="https://www.caixinglobal.com/x", hops=0).matched
    with pytest.raises(views.ViewError):
        views.select(seeds_graph, story="no such words anywhere")
    with pytest.raises(views.ViewError):
        views.select(seeds_graph, story="a", topic="b")


def test_page_is_self_contained_and_deterministic(seeds_graph, tmp_path):
    p1 = views.draw_view(seeds_graph, tmp_path / "a.html", story="facial recognition")
    p2 = views.draw_view(seeds_graph, tmp_path / "b.html", story="facial recognition")
    page = p1.read_text(encoding="utf-8")
    assert page == p2.read_text(encoding="utf-8")
    # No external reference of any kind: every src/href attribute is local.
    assert not re.search(r'<(script|link|img|iframe)[^>]*(src|href)=', page, re.I)
    assert "bootstrap" not in page.lower() and "cdn.jsdelivr" not in page and "unpkg.com" not in page
    assert "Content-Security-Policy" in page
    data = _data(page)
    ids = [n["id"] for n in data["nodes"]]
    assert ids == sorted(set(ids), key=ids.index)
    assert {e["from"] for e in data["edges"]} | {e["to"] for e in data["edges"]} <= set(ids)


def test_pages_are_readable_like_the_other_exports(seeds_graph, tmp_path):
    """Views are for sharing: 0666 minus the umask, as newskg.json, not mkstemp's 0600."""
    from kg._util import _UMASK  # the process's umask, read once at import
    page = views.draw_view(seeds_graph, tmp_path / "a.html", story="facial recognition")
    index = views.write_all(seeds_graph, tmp_path / "all", min_size=2)
    assert stat.S_IMODE(page.stat().st_mode) == 0o666 & ~_UMASK
    assert stat.S_IMODE(index.stat().st_mode) == 0o666 & ~_UMASK
    assert not list(tmp_path.glob("**/.*"))  # no temporary file left


def test_hub_topics_become_facets_on_ai_facial(aif_graph):
    v = views.select(aif_graph, story="facial recognition")
    assert "topic/ai" in v.facets and "topic/computer-vision" in v.facets
    assert "topic/ai" not in v.nodes
    # Sub-stories: the UK fine, the French order and the Worcester ban are
    # clusters of their own.
    def cluster_of(title_part):
        cs = {v.clusters[a] for a in v.clusters if title_part in aif_graph.nodes[a]["title"]}
        return cs
    uk, france, worcester = cluster_of("£17m"), cluster_of("France"), cluster_of("Worcester")
    assert len(uk) == 1 and len(worcester) == 1
    assert uk.isdisjoint(france) and uk.isdisjoint(worcester) and france.isdisjoint(worcester)
    assert len(set(v.clusters.values())) >= 4


def test_cap_keeps_the_most_central(aif_graph):
    v = views.select(aif_graph, story="facial recognition", max_nodes=40)
    assert len(v.nodes) <= 40 and v.dropped > 0
    assert "left out" in v.summary
    kept = [n for n in v.nodes if aif_graph.nodes[n]["kind"] == "article"]
    full = views.select(aif_graph, story="facial recognition")
    inside = {n for n in full.nodes if aif_graph.nodes[n]["kind"] == "article"}
    deg = {a: len(view_selection._article_neighbours(aif_graph, a) & inside) for a in inside}
    assert min(deg[a] for a in kept) >= sorted(deg.values())[len(deg) // 2]


def test_hostile_text_stays_data(tmp_path):
    hostile = '</script><script>window.__pwned=1</script><img src=x onerror="window.__pwned=1"> & "q" <a href=x>'
    art = kg.Article(source="hostile/1.md", title=hostile, url="https://example.com/a",
                     excerpt=hostile, provider=kg.Provider(domain="example.com", name=hostile),
                     topics=["AI <b>"])
    g = build_graph([art])
    page = views.draw_view(g, tmp_path / "h.html", story="script").read_text(encoding="utf-8")
    assert page.count("</script>") == 3  # only our own three blocks end
    assert "<img src=x" not in page and "onerror=\"window" not in page
    assert _data(page)["nodes"][0]["name"] == hostile  # round-trips exactly


def test_write_all_index(aif_graph, tmp_path):
    index = views.write_all(aif_graph, tmp_path)
    pages = sorted(tmp_path.glob("cluster-*.html"))
    assert len(pages) >= 4
    text = index.read_text(encoding="utf-8")
    for p in pages:
        assert f'href="{p.name}"' in text
    # a page per story of 3 articles or more, opened on its own story
    big = [s for s in story_coverage(aif_graph) if s.size >= 3]
    story_pages = sorted(tmp_path.glob("story-*.html"))
    assert len(story_pages) == len(big) >= 4
    for s in big:
        page = tmp_path / ("story-" + s.id.removeprefix("story/") + ".html")
        assert f'href="{page.name}"' in text
        data = _data(page.read_text(encoding="utf-8"))
        assert data["title"] == s.label and data["collapsed"] == []
        assert not any(n.get("matched") for n in data["nodes"])  # no border that marks every article
        assert sorted(n["id"] for n in data["nodes"] if n["kind"] == "article") == list(s.articles)


def test_index_lists_stories_largest_first_and_escaped(tmp_path):
    hostile = '<script>window.__pwned=1</script> & "q"'
    arts = [kg.Article(source=f"s/{i}.md", title=f"{hostile} fined £17m by the ICO {i}",
                       url=f"https://example{i}.com/fine", published=datetime(2021, 11, 29, 10, tzinfo=UTC),
                       provider=kg.Provider(domain=f"example{i}.com", name=f"Outlet <{i}>"))
            for i in range(4)]
    g = build_graph(arts)
    g.add_node("story/big", kind="story", label=hostile)
    g.add_node("story/small", kind="story", label="small")
    for a, d in g.nodes(data=True):
        if d["kind"] == "article":
            g.add_edge(a, "story/small" if "example3" in d["url"] else "story/big", key="inStory")
    text = views.write_all(g, tmp_path, min_size=1).read_text(encoding="utf-8")
    rows = re.findall(r'<tr><td><span[^>]*>.</span> <a href="(story-[^"]+)">', text)
    assert rows == ["story-big.html", "story-small.html"]  # largest first
    assert "<script>" not in text and "&lt;script&gt;window.__pwned=1&lt;/script&gt; &amp; &quot;q&quot;" in text
    assert "Outlet &lt;0&gt;, Outlet &lt;1&gt;, Outlet &lt;2&gt;</td>" in text


def test_cli_view(seeds_dir, tmp_path, capsys):
    built = tmp_path / "built"
    assert main(["build", str(seeds_dir), "--out", str(built), "--quiet"]) == 0
    out = tmp_path / "v.html"
    assert main(["view", str(built), "--story", "facial recognition", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    assert 'articles match "facial recognition"' in said and out.exists()
    # by default each story is folded into its star; --expand-stories opens them all
    assert main(["view", str(built), "--story", "facial recognition", "--expand-stories", "-q",
                 "-o", str(tmp_path / "e.html")]) == 0
    folded, opened = _data(out.read_text()), _data((tmp_path / "e.html").read_text())
    stories = [n["id"] for n in folded["nodes"] if n["kind"] == "story"]
    assert stories and folded["collapsed"] == stories and opened["collapsed"] == []
    assert main(["view", str(built), "--topic", "no such topic", "-o", str(out)]) == 1
    assert main(["view", str(built), "--all", "-o", str(tmp_path / "all")]) == 0
    assert (tmp_path / "all" / "index.html").exists()
    with pytest.raises(SystemExit) as e:
        main(["view", str(built)])
    assert e.value.code == 2


def test_cli_view_of_article_files_reads_their_build_in_the_cache(seeds_dir, tmp_path, capsys):
    # a folder of articles is built into the cache folder (kg.pipeline.built), never into itself
    before = sorted(p.name for p in seeds_dir.iterdir())
    assert main(["view", str(seeds_dir), "--story", "facial recognition",
                 "-o", str(tmp_path / "v.html")]) == 0
    err = capsys.readouterr().err
    assert f"reading the build of {seeds_dir} in " in err and f"kg build {seeds_dir} --out DIR" in err
    assert "Worcester" in (tmp_path / "v.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in seeds_dir.iterdir()) == before


def test_cli_view_of_an_export_folder_goes_into_its_views(seeds_dir, tmp_path, monkeypatch):
    """Not into ./exports/views, which may be another build's (or not exist)."""
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "kg-out"
    assert main(["build", str(seeds_dir), "--out", str(out), "--quiet"]) == 0
    assert main(["view", str(out), "--story", "facial recognition"]) == 0
    assert main(["view", str(out / "newskg.json"), "--topic", "computer vision"]) == 0
    assert main(["view", str(out), "--all"]) == 0
    pages = sorted(p.name for p in (out / "views").glob("*.html"))
    assert [p for p in pages if not p.startswith(("cluster-", "story-"))] == [
        "computer-vision.html", "facial-recognition.html", "index.html"]
    assert len([p for p in pages if p.startswith("cluster-")]) > 1  # and the cluster pages of --all
    assert len([p for p in pages if p.startswith("story-")]) == 1  # the seeds' one story of 3
    assert not (tmp_path / "exports").exists()


def test_a_provider_that_is_no_domain_matches_nothing(seeds_graph):
    # "localhost" has no registrable domain: a ViewError, not a TypeError
    with pytest.raises(views.ViewError, match="nothing matches provider localhost"):
        views.select(seeds_graph, provider="localhost")


def test_colours_come_from_ids_and_labels_not_from_the_page(aif_graph):
    a = views.view_data(aif_graph, views.select(aif_graph, story="facial recognition"))
    b = views.view_data(aif_graph, views.select(aif_graph, story="Clearview"))
    colour = {}
    for data in (a, b):
        assert data["palette"] == list(views.PALETTE)
        for n in data["nodes"]:
            if n["kind"] in ("provider", "story"):
                assert n["color"] == views.stable_colour(n["id"]) and n["color"] in views.PALETTE
                assert colour.setdefault(n["id"], n["color"]) == n["color"]
            elif n["kind"] == "article":
                assert n["color"] in views.PALETTE or n["color"] == views.UNCLUSTERED_COLOUR
        # an article takes its cluster's colour, keyed on the cluster's main story (or first article)
        by_id = {c["id"]: c for c in data["clusters"]}
        keys = views.cluster_ids(aif_graph, {n["id"]: n["cluster"] for n in data["nodes"] if n["kind"] == "article"})
        assert len(set(keys.values())) == len(keys)  # two clusters of a page never share their key
        for n in data["nodes"]:
            if n["kind"] == "article" and by_id[n["cluster"]]["size"] >= 2:
                assert n["color"] == views.stable_colour(keys[n["cluster"]])
    assert set(a["edgeStyles"]) <= set(views.EDGE_STYLE) and a["edgeStyles"]["about"]["dashes"] is True
    assert sum(n["central"] for n in a["nodes"]) == min(len(a["nodes"]), 3 * views.LABELLED_NODES)
