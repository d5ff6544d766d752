"""Small folders in the shapes researchers have, written as each tool's
documentation shows them (a Jekyll blog with jekyll-seo-tag, a Hugo site in
TOML and YAML with `params`, an Eleventy site with `---json`, MDX, JSON front
matter, a Zola page, a docs repository with pages that are not news), built
end to end with `kg.build` and counted three ways: in the graph, in the RDF
(`newskg.nq` parsed back) and in the embedded store (SPARQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import kg
from kg.graph import nodes_of_kind
from kg.rdf import from_rdf
from kg.shacl import validate
from kg.terms import ITEMS

SITE = {
    # Jekyll (jekyllrb.com/docs/posts): YAML, date with offset, author,
    # space-separated categories, tags
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
    # jekyll-seo-tag's shapes (docs/advanced-usage.md); no date key: the
    # post's name dates it
    "jekyll/_posts/2021-12-20-cards.md": """---
layout: post
title: Social cards
author:
  name: Jane Doe
  twitter: janedoe
image:
  path: /assets/card.png
  width: 1200
  height: 630
seo:
  type: BlogPosting
  date_modified: 2021-12-21 10:00:00 +0000
tags: [seo]
---
""",
    # Hugo: TOML, and gohugo.io's example of custom fields under [params]
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
    "hugo/content/posts/conference.md": """+++
date = 2023-10-17T15:11:37-07:00
title = 'Annual conference'
tags = ['events']
[params]
  display_related = true
  [params.author]
    email = 'jsmith@example.org'
    name = 'John Smith'
+++
""",
    # Hugo in YAML, with keys in the case Hugo's own docs write them
    "hugo/content/posts/yaml.md": """---
title: Hugo in YAML
publishdate: 2021-11-05
linktitle: YAML
keywords: [yaml]
params:
  authors: [Ann Lee]
---
""",
    # Eleventy: string tags and a byline; a permalink path; `---json`
    "eleventy/notes/one.md": """---
title: Eleventy one
date: 2021-10-10
tags: notes
byline: Kim Park
---
""",
    "eleventy/posts/two.md": """---
title: Eleventy two
date: 2021-10-12
tags: [post, featured]
permalink: /posts/two/
eleventyNavigation:
  key: Two
author: Kim Park
---
""",
    "eleventy/posts/three.md": """---json
{
  "title": "Eleventy three",
  "date": "2021-10-14",
  "tags": ["post"],
  "author": "Kim Park"
}
---
Body.
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
    # JSON front matter (Hugo)
    "json/post.md": """{
  "title": "JSON post",
  "date": "2021-08-08T08:00:00Z",
  "author": "Bo Chen",
  "tags": ["json"]
}
Body.
""",
    # Zola: TOML with [taxonomies]
    "zola/content/blog/post.md": """+++
title = "Zola post"
date = 2022-03-01
authors = ["Bo Chen"]
[taxonomies]
tags = ["rust"]
categories = ["Engineering"]
+++
""",
    # a docs repository: pages and a tutorial beside a dated page; a README
    # without front matter, assets and a Makefile
    "docs/guide/install.md": "---\ntitle: Install\ndate: 2021-07-07\ntags: [setup]\n---\n",
    "docs/guide/api.md": "---\ntitle: API reference\nlayout: docs\nnav_order: 2\n---\n",
    "docs/tutorials/first-steps.md": "---\ntitle: First steps\nlayout: tutorial\n"
                                     "date: 2021-07-08\ntags: [setup]\n---\n",
    "docs/README.md": "# The docs\n\nNo front matter here.\n",
    "docs/guide/image.png": "",
    "docs/Makefile": "all:\n",
}
#: Every file that is an article: (date, authors, topics, item).
EXPECTED = {
    "jekyll/_posts/2021-12-01-launch.md": ("2021-12-01", ["Jane Doe"], ["launch", "news", "product"], None),
    "jekyll/_posts/2021-12-08-update.markdown": ("2021-12-08", ["Jane Doe", "Sam Roe"], ["news"], None),
    "jekyll/_posts/2021-12-15-update.markdown": ("2021-12-15", ["Sam Roe"], ["news"], None),
    "jekyll/_posts/2021-12-20-cards.md": ("2021-12-20", ["Jane Doe"], ["seo"], None),
    "hugo/content/posts/first.md": ("2021-11-02", ["Ann Lee"], ["Engineering", "go"], None),
    "hugo/content/posts/conference.md": ("2023-10-17", ["John Smith"], ["events"], None),
    "hugo/content/posts/yaml.md": ("2021-11-05", ["Ann Lee"], ["yaml"], None),
    "eleventy/notes/one.md": ("2021-10-10", ["Kim Park"], ["notes"], None),
    "eleventy/posts/two.md": ("2021-10-12", ["Kim Park"], ["featured", "post"], None),
    "eleventy/posts/three.md": ("2021-10-14", ["Kim Park"], ["post"], None),
    "mdx/docs/intro.mdx": ("2021-09-09", ["Ann Lee"], ["mdx", "react"], None),
    "json/post.md": ("2021-08-08", ["Bo Chen"], ["json"], None),
    "zola/content/blog/post.md": ("2022-03-01", ["Bo Chen"], ["Engineering", "rust"], None),
    "docs/guide/install.md": ("2021-07-07", [], ["setup"], None),
    "docs/guide/api.md": (None, [], [], "page"),
    "docs/tutorials/first-steps.md": ("2021-07-08", [], ["setup"], "course"),
}
#: Every key not read: (files, first file).
UNKNOWN = {
    "mood": (1, "jekyll/_posts/2021-12-08-update.markdown"),
    "author.twitter": (1, "jekyll/_posts/2021-12-20-cards.md"),
    "params.author.email": (1, "hugo/content/posts/conference.md"),
    "params.display_related": (1, "hugo/content/posts/conference.md"),
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


def _facts(g) -> dict[str, tuple]:
    """(date, authors, topics, item) of each article of a graph, by file."""
    out = {}
    for n in nodes_of_kind(g, "article"):
        d = g.nodes[n]
        (name,) = d["files"]  # one file each: nothing merged
        people = sorted(g.nodes[v]["name"] for _, v, k in g.out_edges(n, keys=True) if k == "author")
        topics = sorted(g.nodes[v]["label"] for _, v, k in g.out_edges(n, keys=True) if k == "about")
        day = d["published"].date().isoformat() if d.get("published") else None
        out[name.removeprefix("sites/")] = (day, people, topics, d.get("item"))
    return out


def _store_facts(graph: kg.KnowledgeGraph) -> dict[str, tuple]:
    """The same, asked of the store in SPARQL."""
    q = graph.query
    files = dict(q("SELECT ?a ?f WHERE { ?a prov:wasDerivedFrom/dcterms:identifier ?f }").rows)
    facts: dict[str, list] = {f.removeprefix("sites/"): [None, [], [], None] for f in files.values()}
    for a, d in q("SELECT ?a ?d WHERE { ?a schema:datePublished ?d }").rows:
        facts[files[a].removeprefix("sites/")][0] = d.date().isoformat()
    for a, name in q("SELECT ?a ?n WHERE { ?a schema:author/schema:name ?n }").rows:
        facts[files[a].removeprefix("sites/")][1].append(name)
    for a, label in q("SELECT ?a ?l WHERE { ?a schema:about/skos:prefLabel ?l }").rows:
        facts[files[a].removeprefix("sites/")][2].append(label)
    for a, cls in q("SELECT ?a ?c WHERE { ?a prov:wasDerivedFrom ?s ; a ?c }").rows:
        facts[files[a].removeprefix("sites/")][3] = ITEMS.get(cls)
    return {f: (d, sorted(p), sorted(t), i) for f, (d, p, t, i) in facts.items()}


def test_every_article_with_date_authors_and_topics_in_graph_rdf_and_store(built):
    assert _facts(built.graph) == EXPECTED
    assert _facts(from_rdf(Path(built.out) / "newskg.nq")) == EXPECTED
    assert _store_facts(kg.open(built.out)) == EXPECTED


def test_counted_alike_in_graph_rdf_and_store(built):
    people = {p for _, authors, _, _ in EXPECTED.values() for p in authors}
    topics = {t for _, _, ts, _ in EXPECTED.values() for t in ts}
    counts = {"articles": len(EXPECTED), "people": len(people), "topics": len(topics),
              "dated": sum(1 for d, *_ in EXPECTED.values() if d),
              "author": sum(len(a) for _, a, _, _ in EXPECTED.values()),
              "about": sum(len(t) for _, _, t, _ in EXPECTED.values())}
    for g in (built.graph, from_rdf(Path(built.out) / "newskg.nq")):
        arts = list(nodes_of_kind(g, "article"))
        rels = [k for _, _, k in g.edges(keys=True)]
        assert {"articles": len(arts), "people": len(list(nodes_of_kind(g, "person"))),
                "topics": len(list(nodes_of_kind(g, "topic"))),
                "dated": sum(1 for n in arts if g.nodes[n].get("published")),
                "author": rels.count("author"), "about": rels.count("about")} == counts
    q = kg.open(built.out).query

    def count(where: str) -> int:
        ((n,),) = q(f"SELECT (COUNT(*) AS ?n) WHERE {{ {where} }}").rows
        return n

    assert {"articles": count("?a prov:wasDerivedFrom ?s"), "people": count("?p a schema:Person"),
            "topics": count("?t a skos:Concept"), "dated": count("?a schema:datePublished ?d"),
            "author": count("?a schema:author ?p"), "about": count("?a schema:about ?t")} == counts
    s = built.summary
    assert (s["nodes"]["article"], s["nodes"]["person"], s["nodes"]["topic"],
            s["edges"]["author"], s["edges"]["about"]) == (
        counts["articles"], counts["people"], counts["topics"], counts["author"], counts["about"])


def test_no_two_different_articles_merged(built):
    g = built.graph
    ids = list(nodes_of_kind(g, "article"))
    assert len(ids) == len(set(ids)) == len(EXPECTED) == built.summary["files"]["articles"]
    # the two "Weekly update" posts stay two, reported as possible duplicates
    dup = [p for p in built.problems if p.reason == "possible-duplicate"]
    assert [(p.path, p.field) for p in dup] == [
        ("sites/jekyll/_posts/2021-12-15-update.markdown", "title")]


def test_every_unknown_key_reported_in_summary_and_problems_jsonl(built):
    want = {k: [n, f"sites/{first}"] for k, (n, first) in UNKNOWN.items()}
    assert built.summary["unknown_keys"] == want
    lines = (Path(built.out) / "problems.jsonl").read_text().splitlines()
    found = {p["field"]: p for p in map(json.loads, lines) if p["reason"] == "unknown-key"}
    assert {k: [int(p["message"].split("(in ")[1].split(" ")[0]), p["path"]]
            for k, p in found.items()} == want
    manifest = json.loads((Path(built.out) / "manifest.json").read_text())
    assert manifest["summary"]["unknown_keys"] == want


def test_summary_counts_files_skips_and_problems(built):
    s = built.summary
    assert s["files"] == {"read": 17, "articles": 16, "skipped": 1,
                          "skipped_by": {"no-front-matter": 1},
                          "not_read": {"(none)": 1, ".png": 1}}
    assert s["problems"] == {"no-front-matter": 1, "possible-duplicate": 1, "relative-url": 2,
                             "unknown-key": 4}
    assert s["not_news"] == {"course": 1, "page": 1}
    assert s["top_people"][:3] == [["Ann Lee", 3], ["Jane Doe", 3], ["Kim Park", 3]]
    relative = sorted((p.path, p.field) for p in built.problems if p.reason == "relative-url")
    assert relative == [("sites/eleventy/posts/two.md", "permalink"),
                        ("sites/jekyll/_posts/2021-12-20-cards.md", "image")]


def test_the_cli_says_it_all_and_exits_0(built, tmp_path):
    import subprocess
    import sys

    root = Path(built.out).parent / "sites"
    run = subprocess.run([sys.executable, "-m", "kg.cli", "build", str(root), "--out",
                          str(tmp_path / "out")], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert ("files (.md, .markdown, .mdx, .txt): 17 read, 16 articles, 1 skipped "
            "(no-front-matter 1); not read: (none) 1, .png 1") in run.stdout
    assert ("unknown keys (not read): author.twitter 1 (sites/jekyll/_posts/2021-12-20-cards.md), "
            "mood 1 (sites/jekyll/_posts/2021-12-08-update.markdown), params.author.email 1 "
            "(sites/hugo/content/posts/conference.md), params.display_related 1 "
            "(sites/hugo/content/posts/conference.md)") in run.stdout
    assert "8 problems" in run.stderr


def test_export_conforms_to_the_shapes(built):
    report = validate(Path(built.out))
    assert report.conforms, [str(r) for r in report.results[:5]]


def test_rdf_reads_back_to_the_same_people(built):
    back = from_rdf(Path(built.out) / "newskg.nq")
    people = {n: d for n, d in back.nodes(data=True) if d["kind"] == "person"}
    original = {n: d for n, d in built.graph.nodes(data=True) if d["kind"] == "person"}
    assert {n: (d["name"], d["key"]) for n, d in people.items()} == \
        {n: (d["name"], d["key"]) for n, d in original.items()}
    modified = kg.open(built.out).query("SELECT ?d WHERE { ?a schema:dateModified ?d } ORDER BY ?d")
    assert [d.isoformat() for (d,) in modified.rows] == ["2021-11-03T10:00:00+00:00",
                                                         "2021-12-21T10:00:00+00:00"]


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
        ["Ann Lee", 3], ["Bo Chen", 2], ["Jane Doe", 3], ["John Smith", 1], ["Kim Park", 3],
        ["Sam Roe", 2]]
    ann = people.set_index("name").loc["Ann Lee"]
    assert ann.providers == "example.org"  # the registrable domain of its URL
    assert (ann["first"].date().isoformat(), ann["last"].date().isoformat()) == ("2021-09-09", "2021-11-05")
    assert int(people.articles.sum()) == built.summary["edges"]["author"]
    arts = graph.articles(clusters=False).set_index("title")
    assert arts.loc["We launched", "authors"] == "Jane Doe"
    assert sorted(arts.loc["Weekly update", "authors"].tolist()) == ["Jane Doe; Sam Roe", "Sam Roe"]
    assert arts.loc["Install", "authors"] == ""
    assert main(["export", "tables", str(built.out), "-o", str(tmp_path / "t")]) == 0
    csv = pd.read_csv(tmp_path / "t" / "people.csv", keep_default_na=False)
    assert csv.name.tolist() == people.name.tolist() and csv.articles.tolist() == [3, 2, 3, 1, 3, 2]
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
    # stated in the RDF (schema:creativeWorkStatus "Draft"), in the store, and read back
    q = kg.open(built.out).query
    assert sorted(t for (t,) in q('SELECT ?t WHERE { ?a schema:creativeWorkStatus "Draft" ; '
                                  'schema:headline ?t }').rows) == drafts
    assert q("SELECT (COUNT(*) AS ?n) WHERE { ?a schema:creativeWorkStatus ?s }").rows == [(3,)]
    back = from_rdf(Path(built.out) / "newskg.nq")
    assert sorted(d["title"] for _, d in back.nodes(data=True) if d.get("draft")) == drafts
    from pyld import jsonld  # the JSON-LD context names the term too

    nq = jsonld.to_rdf(json.loads((Path(built.out) / "newskg.jsonld").read_text()),
                       {"format": "application/n-quads"})
    assert nq.count('<https://schema.org/creativeWorkStatus> "Draft"') == 3
    assert validate(Path(built.out)).conforms

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


def test_people_in_a_view(built):
    import re

    page = kg.open(built.out).view(regex="Weekly update").html()
    data = json.loads(re.search(r'<script type="application/json" id="kg-data">(.*?)</script>',
                                page, re.S).group(1))
    label = {n["id"]: n["label"] for n in data["nodes"]}
    assert sorted(label[n["id"]] for n in data["nodes"] if n["kind"] == "person") == [
        "Jane Doe", "Sam Roe"]
    assert sorted(label[e["to"]] for e in data["edges"] if e["rel"] == "author") == [
        "Jane Doe", "Sam Roe", "Sam Roe"]
    assert "person" in data["kinds"] and "author" in data["edgeStyles"]
