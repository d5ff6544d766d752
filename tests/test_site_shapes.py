"""Small folders in the shapes researchers have (a Jekyll blog, a Hugo site
with TOML, an Eleventy site, MDX, JSON front matter, a docs repository),
built end to end and counted: graph, RDF, store, SHACL."""

from __future__ import annotations

from pathlib import Path

import pytest

import kg
from kg.graph import nodes_of_kind
from kg.shacl import validate

SITE = {
    # Jekyll: YAML, date with offset, author, space-separated categories, tags
    "jekyll/_posts/2021-12-01-launch.md": """---
layout: post
title: "We launched"
date: 2021-12-01 09:00:00 +0100
author: Jane Doe
categories: news product
tags: [launch]
---
Text.
""",
    "jekyll/_posts/2021-12-08-update.markdown": """---
layout: post
title: "Weekly update"
date: 2021-12-08
authors: [Jane Doe, Sam Roe]
categories: [news]
mood: busy
---
""",
    "jekyll/_posts/2021-12-15-update.markdown": """---
layout: post
title: "Weekly update"
date: 2021-12-15
author: { name: Sam Roe }
tags: news
---
""",
    # Hugo: TOML
    "hugo/content/posts/first.md": """+++
title = "Hugo first"
date = 2021-11-02T10:00:00Z
lastmod = 2021-11-03T10:00:00Z
authors = ["Ann Lee"]
tags = ["go"]
categories = ["Engineering"]
url = "https://hugo.example.org/first/"
+++
""",
    # Eleventy: YAML with string tags and a byline
    "eleventy/notes/one.md": """---
title: Eleventy one
date: 2021-10-10
tags: notes
byline: Kim Park
---
""",
    # MDX
    "mdx/docs/intro.mdx": """---
title: Intro to MDX
date: 2021-09-09
author: Ann Lee
keywords: [mdx, react]
---
import X from './x'

<X />
""",
    # JSON front matter
    "json/post.md": """{
  "title": "JSON post",
  "date": "2021-08-08T08:00:00Z",
  "author": "Bo Chen",
  "tags": ["json"]
}
Body.
""",
    # a docs repository: pages, with a README and assets that are not read
    "docs/guide/install.md": "---\ntitle: Install\ndate: 2021-07-07\ntags: [setup]\n---\n",
    "docs/guide/image.png": "",
    "docs/Makefile": "all:\n",
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("shapes") / "sites"
    for name, text in SITE.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    out = root.parent / "out"
    return kg.build(root, out=out)


def test_every_article_with_date_authors_and_topics(built):
    g = built.graph
    arts = {g.nodes[n]["files"][0].split("/", 2)[2]: n for n in nodes_of_kind(g, "article")}
    assert len(arts) == 8  # both "Weekly update" posts stayed two articles

    def facts(name):
        n = arts[name]
        people = sorted(g.nodes[v]["name"] for _, v, k in g.out_edges(n, keys=True) if k == "author")
        topics = sorted(g.nodes[v]["label"] for _, v, k in g.out_edges(n, keys=True) if k == "about")
        return g.nodes[n]["published"].date().isoformat(), people, topics

    assert facts("_posts/2021-12-01-launch.md") == ("2021-12-01", ["Jane Doe"],
                                                    ["launch", "news", "product"])
    assert facts("_posts/2021-12-08-update.markdown") == ("2021-12-08", ["Jane Doe", "Sam Roe"],
                                                          ["news"])
    assert facts("_posts/2021-12-15-update.markdown") == ("2021-12-15", ["Sam Roe"], ["news"])
    assert facts("content/posts/first.md") == ("2021-11-02", ["Ann Lee"], ["Engineering", "go"])
    assert facts("notes/one.md") == ("2021-10-10", ["Kim Park"], ["notes"])
    assert facts("docs/intro.mdx") == ("2021-09-09", ["Ann Lee"], ["mdx", "react"])
    assert facts("post.md") == ("2021-08-08", ["Bo Chen"], ["json"])
    assert facts("guide/install.md") == ("2021-07-07", [], ["setup"])
    assert g.nodes[arts["content/posts/first.md"]]["modified"].isoformat() == \
        "2021-11-03T10:00:00+00:00"


def test_summary_counts_people_skips_and_unknown_keys(built):
    s = built.summary
    assert s["nodes"]["person"] == 5 and s["edges"]["author"] == 8
    assert s["files"] == {"read": 8, "articles": 8, "skipped": 0,
                          "not_read": {"(none)": 1, ".png": 1}}
    assert s["unknown_keys"] == {"mood": [1, "sites/jekyll/_posts/2021-12-08-update.markdown"]}
    assert s["problems"] == {"possible-duplicate": 1, "unknown-key": 1}
    assert s["top_people"][:2] == [["Ann Lee", 2], ["Jane Doe", 2]]


def test_rdf_and_store_hold_the_people(built):
    graph = kg.open(built.out)
    rows = graph.query("""
        SELECT ?name (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle ; schema:author ?p .
                                              ?p a schema:Person ; schema:name ?name }
        GROUP BY ?name ORDER BY ?name""").rows
    assert rows == [("Ann Lee", 2), ("Bo Chen", 1), ("Jane Doe", 2), ("Kim Park", 1),
                    ("Sam Roe", 2)]
    n = graph.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle ; "
                    "schema:datePublished ?d }").rows
    assert n == [(8,)]
    modified = graph.query("SELECT ?d WHERE { ?a schema:dateModified ?d }").rows
    assert [d.isoformat() for (d,) in modified] == ["2021-11-03T10:00:00+00:00"]


def test_export_conforms_to_the_shapes(built):
    report = validate(Path(built.out))
    assert report.conforms, [str(r) for r in report.results[:5]]


def test_rdf_reads_back_to_the_same_people(built):
    from kg.rdf import from_rdf

    back = from_rdf(Path(built.out) / "newskg.nq")
    people = {n: d for n, d in back.nodes(data=True) if d["kind"] == "person"}
    original = {n: d for n, d in built.graph.nodes(data=True) if d["kind"] == "person"}
    assert {n: (d["name"], d["key"]) for n, d in people.items()} == \
        {n: (d["name"], d["key"]) for n, d in original.items()}


DOCS = {
    "news/2021-12-01-launch.md": "---\ntitle: Launch\ndate: 2021-12-01\ntype: article\n---\n",
    "news/2021-12-02-talk.md": "---\ntitle: The talk\ndate: 2021-12-02\ntype: video\n---\n",
    "docs/install.md": "---\ntitle: Install\nlayout: docs\ndate: 2021-07-07\n---\n",
    "docs/course/one.md": "---\ntitle: Lesson one\nlayout: lesson\n---\n",
    "docs/samples/hello.md": "---\ntitle: Hello world\ntype: code-sample\n---\n",
    "docs/faq.md": "---\ntitle: FAQ\n---\n",
}
KIND_OF = {"Launch": "NewsArticle", "The talk": "VideoObject", "Install": "WebPage",
           "Lesson one": "Course", "Hello world": "SoftwareSourceCode", "FAQ": "CreativeWork"}


def test_items_that_are_not_news_are_typed_and_counted(tmp_path):
    root = tmp_path / "repo"
    for name, text in DOCS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    result = kg.build(root, out=tmp_path / "out")
    assert result.summary["not_news"] == {"code": 1, "course": 1, "page": 1, "video": 1,
                                          "work": 1}
    rows = kg.open(result.out).query("""
        SELECT ?title ?class WHERE { ?a schema:headline ?title ; a ?class }
        ORDER BY ?title""").rows
    assert {t: c.split("/")[-1] for t, c in rows} == KIND_OF
    assert validate(Path(result.out)).conforms
    from kg.rdf import from_rdf

    back = from_rdf(Path(result.out) / "newskg.nq")
    assert sorted(d.get("item", "") for _, d in back.nodes(data=True) if d["kind"] == "article") \
        == ["", "code", "course", "page", "video", "work"]

    only = kg.build(root, out=tmp_path / "only", only_news=True)
    assert only.summary["nodes"]["article"] == 1
    assert only.summary["files"]["left_out"] == {"code": 1, "course": 1, "page": 1, "video": 1,
                                                 "work": 1}
    assert "not_news" not in only.summary


def test_people_in_the_tables_and_export_tables(built, tmp_path):
    import pandas as pd

    from kg.cli import main

    graph = kg.open(built.out)
    people = graph.people()
    assert people[["name", "articles"]].values.tolist() == [
        ["Ann Lee", 2], ["Bo Chen", 1], ["Jane Doe", 2], ["Kim Park", 1], ["Sam Roe", 2]]
    ann = people.set_index("name").loc["Ann Lee"]
    assert ann.providers == "example.org"  # the registrable domain of its URL
    assert (ann["first"].date().isoformat(), ann["last"].date().isoformat()) == ("2021-09-09", "2021-11-02")
    assert int(people.articles.sum()) == built.summary["edges"]["author"]
    arts = graph.articles(clusters=False).set_index("title")
    assert arts.loc["We launched", "authors"] == "Jane Doe"
    assert sorted(arts.loc["Weekly update", "authors"].tolist()) == ["Jane Doe; Sam Roe", "Sam Roe"]
    assert arts.loc["Install", "authors"] == ""
    assert main(["export", "tables", str(built.out), "-o", str(tmp_path / "t")]) == 0
    csv = pd.read_csv(tmp_path / "t" / "people.csv", keep_default_na=False)
    assert csv.name.tolist() == people.name.tolist() and csv.articles.tolist() == [2, 1, 2, 1, 2]
    assert csv.loc[0, "first"] == "2021-09-09T00:00:00Z"


DRAFTS = {
    "jekyll/_posts/2021-12-01-out.md": "---\ntitle: Out\ndate: 2021-12-01\n---\n",
    "jekyll/_posts/2021-12-02-not-yet.md": "---\ntitle: Not yet\ndate: 2021-12-02\n"
                                           "published: false\n---\n",
    "hugo/content/wip.md": '+++\ntitle = "Work in progress"\ndate = 2021-12-03\ndraft = true\n+++\n',
    "hugo/content/done.md": '+++\ntitle = "Done"\ndate = 2021-12-04\ndraft = false\n+++\n',
    "eleventy/idea.md": "---\ntitle: Idea\ndate: 2021-12-05\ndraft: true\ntype: video\n---\n",
    # the seed's feed: its `published: false` is the feed's flag, not a draft
    "feed/a.md": "---\ntitle: Feed item\npublishedDateTime: 2021-12-06T00:00:00Z\n"
                 "webUrl: https://example.org/a\npublished: false\n---\n",
}


def test_drafts_are_kept_marked_and_counted_and_no_drafts_leaves_them_out(tmp_path, capsys):
    from kg.cli import main

    root = tmp_path / "drafts"
    for name, text in DRAFTS.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    built = kg.build(root, out=tmp_path / "all")
    g = built.graph
    drafts = sorted(g.nodes[n]["title"] for n in nodes_of_kind(g, "article") if g.nodes[n].get("draft"))
    assert drafts == ["Idea", "Not yet", "Work in progress"]
    assert built.summary["drafts"] == 3 and built.summary["nodes"]["article"] == 6
    assert "problems" not in built.summary or not built.summary["problems"].get("unknown-key")
    assert len(kg.open(built.out).query("SELECT ?a WHERE { ?a schema:headline ?t }").rows) == 6

    assert main(["build", str(root), "--out", str(tmp_path / "final"), "--no-drafts"]) == 0
    out = capsys.readouterr().out
    assert "left out (--no-drafts): draft 3" in out
    final = kg.open(tmp_path / "final")
    titles = sorted(t for (t,) in final.query("SELECT ?t WHERE { ?a schema:headline ?t }").rows)
    assert titles == ["Done", "Feed item", "Out"]
    assert "drafts" not in final.summary

    only = kg.build(root, out=tmp_path / "news", only_news=True, no_drafts=True)
    assert only.summary["files"]["left_out"] == {"draft": 2, "video": 1}
    assert only.summary["nodes"]["article"] == 3
