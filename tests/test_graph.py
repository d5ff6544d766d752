"""Identity and merging rules of the graph stage, on small hand-written fixtures."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest

import kg
from kg.graph import article_id, build_graph, graph_summary, unshare_attrs
from kg.normalize import short_hash


def write(folder: Path, name: str, *, title: str, url: str | None, domain: str = "example.com",
          provider: str = "Example", topics=("AI",), related: str = "", extra: str = "",
          date: str = "2021-12-01T10:00:00Z") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    url_line = f'webUrl: "{url}"' if url else "webUrl: null"
    topic_lines = "".join(f"  - {t}\n" for t in topics)
    (folder / name).write_text(
        f'---\ntitle: "{title}"\npublishedDateTime: {date}\n{url_line}\n{extra}type: article\n'
        f"provider:\n  name: {provider}\n  domain: {domain}\ntopics:\n{topic_lines}"
        f"{related}---\n", encoding="utf-8")


def rel(title: str, url: str, domain: str = "other.org", name: str = "Other", amp: str | None = None) -> str:
    amp_line = f'    ampWebUrl: "{amp}"\n' if amp else ""
    return (f'  - title: "{title}"\n    publishedDateTime: 2021-12-02T10:00:00Z\n'
            f'    webUrl: "{url}"\n{amp_line}    type: article\n'
            f"    provider:\n      name: {name}\n      domain: {domain}\n    quality: 3\n")


def graph_of(*folders: Path) -> nx.MultiDiGraph:
    return build_graph(kg.load(*folders))


def node_by_url(g: nx.MultiDiGraph, url: str) -> dict:
    return g.nodes["article/" + short_hash(url)]


def test_reference_only_article_is_upgraded_whatever_the_file_order(tmp_path):
    # "a-" sorts before "z-": the citing file is read first in one folder, last in the other.
    for order, (citing, cited) in {"first": ("a-citing.md", "z-cited.md"),
                                   "last": ("z-citing.md", "a-cited.md")}.items():
        folder = tmp_path / order
        write(folder, citing, title="Citing", url="https://example.com/citing",
              related="related:\n" + rel("Cited (as seen by the citer)", "https://other.org/cited"))
        write(folder, cited, title="Cited", url="https://other.org/cited", domain="other.org",
              provider="Other")
        g = graph_of(folder)
        cited_node = node_by_url(g, "https://other.org/cited")
        assert cited_node["reference_only"] is False
        assert cited_node["title"] == "Cited"  # the file's own data wins
        assert cited_node["files"] == [f"{order}/{cited}"]
        assert g.has_edge(article_id_of(g, "https://example.com/citing"),
                          article_id_of(g, "https://other.org/cited"), key="related")
        assert graph_summary(g)["nodes"]["article"] == 2


def article_id_of(g, url):
    nid = "article/" + short_hash(url)
    assert nid in g
    return nid


def test_reference_only_article_when_no_file(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a",
          related="related:\n" + rel("Elsewhere", "https://other.org/x"))
    g = graph_of(tmp_path / "in")
    ref = node_by_url(g, "https://other.org/x")
    assert ref["reference_only"] is True and ref["files"] == [] and ref["title"] == "Elsewhere"
    assert ref["sources"] == ["in/a.md"]
    assert g.has_edge("article/" + short_hash("https://other.org/x"), "provider/other.org", key="publishedBy")


def test_related_entry_matches_a_file_by_its_amp_url(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a",
          related="related:\n" + rel("B", "https://amp.other.org/b/amp/", domain="other.org"))
    write(tmp_path / "in", "b.md", title="B", url="https://other.org/b/", domain="other.org")
    g = graph_of(tmp_path / "in")
    assert graph_summary(g)["nodes"]["article"] == 2
    assert g.has_edge(article_id_of(g, "https://example.com/a"),
                      article_id_of(g, "https://other.org/b/"), key="related")


def test_same_url_different_headlines_merge_and_report(tmp_path):
    url = "https://www.nytimes.com/2021/11/29/technology/clearview.html"
    write(tmp_path / "in", "one.md", title="Clearview AI is fined", url=url, domain="nytimes.com")
    write(tmp_path / "in", "two.md", title="U.K. fines Clearview AI", url=url + "?utm_source=x",
          domain="nytimes.com", topics=("Privacy",))
    g = graph_of(tmp_path / "in")
    node = node_by_url(g, url)
    assert node["files"] == ["in/one.md", "in/two.md"]
    assert node["title"] == "Clearview AI is fined" and node["alt_titles"] == ["U.K. fines Clearview AI"]
    (p,) = g.graph["problems"]
    assert p.reason == "conflicting-duplicate" and p.path == "in/two.md" and "in/one.md" in p.message
    nid = "article/" + short_hash(url)
    assert {v for _, v, k in g.out_edges(nid, keys=True) if k == "about"} == {"topic/ai", "topic/privacy"}


def test_articles_without_url_get_stable_distinct_ids(tmp_path):
    for run in ("r1", "r2"):
        write(tmp_path / run, "v1.md", title="Video one", url=None, domain="microsoft.com")
        write(tmp_path / run, "v2.md", title="Video two", url=None, domain="microsoft.com")
    g1, g2 = graph_of(tmp_path / "r1"), graph_of(tmp_path / "r2")
    ids1 = sorted(n for n, d in g1.nodes(data=True) if d["kind"] == "article")
    ids2 = sorted(n for n, d in g2.nodes(data=True) if d["kind"] == "article")
    assert len(ids1) == 2 and ids1 == ids2
    assert all("url" not in g1.nodes[n] for n in ids1)


def test_original_url_identifies_an_article_without_web_url(tmp_path):
    write(tmp_path / "in", "v.md", title="Video", url=None,
          extra='originalUrl: "https://youtube.com/watch?v=WJk-Y8LQlfE"\n')
    (nid,) = [n for n, d in graph_of(tmp_path / "in").nodes(data=True) if d["kind"] == "article"]
    assert nid == "article/" + short_hash("https://youtube.com/watch?v=WJk-Y8LQlfE")


def test_file_listing_itself_makes_no_self_loop(tmp_path):
    write(tmp_path / "in", "self.md", title="Self", url="https://example.com/self",
          related="related:\n" + rel("Self", "https://example.com/self", domain="example.com"))
    g = graph_of(tmp_path / "in")
    assert nx.number_of_selfloops(g) == 0 and graph_summary(g)["edges"]["related"] == 0


def test_providers_are_one_per_registrable_domain(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://www.cbc.ca/a", domain="www.cbc.ca", provider="CBC")
    write(tmp_path / "in", "b.md", title="B", url="https://cbc.ca/b", domain="cbc.ca", provider="CBC News")
    write(tmp_path / "in", "c.md", title="C", url="https://cbc.ca/c", domain="cbc.ca", provider="CBC News")
    write(tmp_path / "in", "d.md", title="D", url="https://www.dailymail.co.uk/d",
          domain="dailymail.co.uk", provider="Daily Mail")
    write(tmp_path / "in", "e.md", title="E", url="https://www.dailymail.co.uk/e",
          domain="www.dailymail.co.uk", provider="Mail Online")
    write(tmp_path / "in", "f.md", title="F", url="https://www.dailymail.co.uk/f",
          domain="dailymail.co.uk", provider="Daily Mail")
    g = graph_of(tmp_path / "in")
    providers = {n: d for n, d in g.nodes(data=True) if d["kind"] == "provider"}
    assert set(providers) == {"provider/cbc.ca", "provider/dailymail.co.uk"}
    assert providers["provider/cbc.ca"]["name"] == "CBC News"
    assert providers["provider/cbc.ca"]["alt_names"] == ["CBC"]
    assert providers["provider/dailymail.co.uk"]["name"] == "Daily Mail"
    assert providers["provider/dailymail.co.uk"]["alt_names"] == ["Mail Online"]


def test_topics_merge_by_normalised_label(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a", topics=("Power Apps", "AI"))
    write(tmp_path / "in", "b.md", title="B", url="https://example.com/b", topics=("power  apps",))
    write(tmp_path / "in", "c.md", title="C", url="https://example.com/c", topics=("Power Apps",))
    g = graph_of(tmp_path / "in")
    topic = g.nodes["topic/power-apps"]
    assert topic["label"] == "Power Apps" and topic["alt_labels"] == ["power apps"]
    assert g.in_degree("topic/power-apps") == 3
    assert sorted(n for n, d in g.nodes(data=True) if d["kind"] == "topic") == ["topic/ai", "topic/power-apps"]


def test_edges_carry_the_files_that_assert_them(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a",
          related="related:\n" + rel("X", "https://other.org/x"))
    write(tmp_path / "in", "b.md", title="B", url="https://example.com/b",
          related="related:\n" + rel("X", "https://other.org/x"))
    g = graph_of(tmp_path / "in")
    x = "article/" + short_hash("https://other.org/x")
    assert g.nodes[x]["sources"] == ["in/a.md", "in/b.md"]
    assert g.edges[x, "provider/other.org", "publishedBy"]["sources"] == ["in/a.md", "in/b.md"]
    assert g.nodes["provider/example.com"]["sources"] == ["in/a.md", "in/b.md"]


def test_build_result_does_not_depend_on_record_order(seeds_dir, tmp_path):
    corpus = kg.load(seeds_dir)
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a",
          related="related:\n" + rel("Worcester", "https://nypost.com/2021/12/15/worcester-bans-city-use-of-facial-recognition-technology/"))
    other = kg.load(tmp_path / "in")
    forward = build_graph(corpus.articles + other.articles)
    backward = build_graph(other.articles[::-1] + corpus.articles[::-1])
    assert list(forward.nodes(data=True)) == list(backward.nodes(data=True))
    assert list(forward.edges(keys=True, data=True)) == list(backward.edges(keys=True, data=True))


@pytest.mark.parametrize("kind", ["article", "provider", "topic", "image"])
def test_node_ids_have_their_kind_as_prefix(seeds_dir, kind):
    g = graph_of(seeds_dir)
    ids = [n for n, d in g.nodes(data=True) if d["kind"] == kind]
    assert ids and all(n.startswith(kind + "/") for n in ids)
    assert all(g.nodes[n]["sources"] == ["seeds/000_e8d8b023fb041968.txt"] for n in ids)


def test_article_id_is_hash_of_canonical_url(seeds_dir):
    (a,) = kg.load(seeds_dir).articles
    assert article_id(a) == "article/" + short_hash(a.url)


def test_one_files_edges_of_one_relation_share_their_attributes(tmp_path):
    write(tmp_path / "in", "a.md", title="A", url="https://example.com/a", topics=("AI", "Law", "Chips"))
    write(tmp_path / "in", "b.md", title="B", url="https://example.com/b", topics=("AI", "Law"))
    g = build_graph(kg.load(tmp_path / "in"), share_attrs=True)
    a, b = (node_by_url(g, f"https://example.com/{x}") for x in "ab")
    about_a = [d for _, _, d in g.out_edges("article/" + short_hash("https://example.com/a"), data=True)
               if d["rel"] == "about"]
    assert len(about_a) == 3 and len({id(d) for d in about_a}) == 1
    assert about_a[0] == {"rel": "about", "sources": a["sources"]}
    # another file's edges have their own
    into_ai = [keys["about"] for keys in g.pred["topic/ai"].values()]
    assert len({id(d) for d in into_ai}) == 2 and b["sources"] == ["in/b.md"]
    # node ids in the adjacency are the nodes' own strings, not copies
    ids = {n: id(n) for n in g}
    assert all(id(v) == ids[v] for u in g for v in g.succ[u])
    assert all(id(u) == ids[u] for v in g for u in g.pred[v])
    # undone, every edge has its own, equal to what it was
    before = list(g.edges(keys=True, data=True))
    unshare_attrs(g)
    assert list(g.edges(keys=True, data=True)) == before
    assert len({id(d) for *_, d in before}) < len(before)
    assert len({id(d) for *_, d in g.edges(keys=True, data=True)}) == len(before)
    assert len({id(d["sources"]) for *_, d in g.edges(keys=True, data=True)}) == len(before)
    # and by default nothing is shared
    plain = graph_of(tmp_path / "in")
    assert len({id(d) for *_, d in plain.edges(keys=True, data=True)}) == len(before)


def test_a_builds_graph_has_edges_of_their_own(seeds_dir, tmp_path):
    g = kg.build(seeds_dir, out=tmp_path / "out").graph
    edges = list(g.edges(keys=True, data=True))
    assert len({id(d) for *_, d in edges}) == len(edges) == g.number_of_edges() > 0
    assert len({id(d["sources"]) for *_, d in edges if "sources" in d}) == sum("sources" in d for *_, d in edges)


def test_merging_providers_leaves_edges_sharing_attributes_alone():
    from kg.providers import _merge
    g = nx.MultiDiGraph()
    g.add_node("provider/a.com", kind="provider", domain="a.com", name="A", sources=["f1"])
    g.add_node("provider/b.com", kind="provider", domain="b.com", name="B", sources=["f2"])
    g.add_node("topic/x", kind="topic")
    shared = {"rel": "publishedBy", "sources": ["f1"]}
    g.add_edge("article/1", "provider/a.com", key="publishedBy")
    g.add_edge("article/1", "provider/b.com", key="publishedBy")
    g.add_edge("article/1", "topic/x", key="publishedBy")
    for v in ("provider/a.com", "topic/x"):
        g._succ["article/1"][v]["publishedBy"] = shared
    g._succ["article/1"]["provider/b.com"]["publishedBy"] = {"rel": "publishedBy", "sources": ["f2"]}
    _merge(g, "provider/b.com", into="provider/a.com")
    assert g.edges["article/1", "provider/a.com", "publishedBy"]["sources"] == ["f1", "f2"]
    assert g.edges["article/1", "topic/x", "publishedBy"]["sources"] == ["f1"]
    assert g.pred["provider/a.com"]["article/1"]["publishedBy"]["sources"] == ["f1", "f2"]
