"""Articles without a URL are identified by their file, never by their title
alone; duplicates are merged by URL and reported either way."""

from __future__ import annotations

import kg
from kg.graph import build_graph, nodes_of_kind


def write(root, name, text):
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_same_title_without_url_stays_two_articles_reported(tmp_path):
    root = tmp_path / "blog"
    write(root, "_posts/2021-01-04-weekly.md", "---\ntitle: Weekly update\ndate: 2021-01-04\n---\nA")
    write(root, "_posts/2021-01-11-weekly.md", "---\ntitle: Weekly update\ndate: 2021-01-11\n---\nB")
    write(root, "_posts/2021-01-18-weekly.md", "---\ntitle: weekly  Update\ndate: 2021-01-18\n---\n")
    result = kg.build(root, out=tmp_path / "out")
    g = result.graph
    arts = sorted((g.nodes[n]["files"][0], g.nodes[n]["published"].date().isoformat())
                  for n in nodes_of_kind(g, "article"))
    assert arts == [("blog/_posts/2021-01-04-weekly.md", "2021-01-04"),
                    ("blog/_posts/2021-01-11-weekly.md", "2021-01-11"),
                    ("blog/_posts/2021-01-18-weekly.md", "2021-01-18")]
    assert [(p.path, p.reason) for p in result.problems] == [
        ("blog/_posts/2021-01-11-weekly.md", "possible-duplicate"),
        ("blog/_posts/2021-01-18-weekly.md", "possible-duplicate")]
    assert "same title as blog/_posts/2021-01-04-weekly.md" in result.problems[0].message
    n = kg.open(result.out).query(
        "SELECT (COUNT(DISTINCT ?a) AS ?n) WHERE { ?a a schema:NewsArticle }").rows
    assert n == [(3,)]


def test_same_url_merges_and_is_reported(tmp_path):
    root = tmp_path / "feed"
    text = "---\ntitle: Same story\nurl: https://example.org/s\n---\n"
    write(root, "a.md", text)
    write(root, "b.md", text + "Another body.\n")
    corpus = kg.load(root)
    g = build_graph(corpus)
    (nid,) = nodes_of_kind(g, "article")
    assert g.nodes[nid]["files"] == ["feed/a.md", "feed/b.md"]
    (p,) = g.graph["problems"]
    assert (p.path, p.reason) == ("feed/b.md", "duplicate")


def test_identity_by_file_is_stable_wherever_the_folder_is(tmp_path):
    for where in ("one", "two"):
        write(tmp_path / where / f"notes-{where}", "x.md", "---\ntitle: Note\n---\n")
    ids = [set(nodes_of_kind(build_graph(kg.load(tmp_path / w / f"notes-{w}")), "article"))
           for w in ("one", "two")]
    assert ids[0] == ids[1]
