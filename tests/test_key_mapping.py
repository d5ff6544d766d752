"""The keys of other front-matter formats (Jekyll, Hugo, Eleventy, feeds):
aliases read into the article's fields, ignored keys, unknown keys reported."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kg
from kg.fields import ALIASES, CONTAINERS, IGNORED_KEYS, KNOWN_KEYS, NESTED_KEYS
from kg.ingest import parse_article

JEKYLL = """---
layout: post
title:  "Welcome to Jekyll!"
date:   2021-12-15 12:20:00 +0100
last_modified_at: 2021-12-20
author: Jane Doe
categories: jekyll update
tags: [release, "Ruby"]
description: "You'll find this post in your _posts directory."
image: https://example.org/img/cover.png
permalink: /jekyll/update/welcome/
---
Body.
"""


def test_jekyll_post():
    r = parse_article(JEKYLL.encode(), "blog/_posts/2021-12-15-welcome.md")
    a = r.article
    assert a.title == "Welcome to Jekyll!"
    assert a.published.isoformat() == "2021-12-15T11:20:00+00:00"
    assert a.modified.isoformat() == "2021-12-20T00:00:00+00:00"
    assert a.authors == ("Jane Doe",)
    assert a.topics == ("jekyll", "update", "release", "Ruby")
    assert a.tags == ("release", "Ruby")
    assert a.excerpt == "You'll find this post in your _posts directory."
    assert [i.url for i in a.images] == ["https://example.org/img/cover.png"]
    assert a.url is None  # a permalink path is not a URL: reported, the file identifies it
    assert [(p.reason, p.field, p.line) for p in r.problems] == [
        ("relative-url", "permalink", 11)]


HUGO = """+++
title = "Hugo post"
date = 2021-12-15T12:20:00Z
lastmod = 2021-12-16T08:00:00-05:00
authors = ["Ann Lee", "Bo Chen"]
tags = ["go", "static sites"]
categories = ["Engineering"]
summary = "A summary."
url = "https://blog.example.org/hugo-post/"
publisher = "Example Blog"
images = ["https://blog.example.org/a.png"]
draft = false
+++
"""


def test_hugo_toml_post():
    r = parse_article(HUGO.encode(), "site/content/posts/hugo.md")
    a = r.article
    assert r.problems == []
    assert (a.title, a.url, a.excerpt) == ("Hugo post", "https://blog.example.org/hugo-post/",
                                           "A summary.")
    assert a.published.isoformat() == "2021-12-15T12:20:00+00:00"
    assert a.modified.isoformat() == "2021-12-16T13:00:00+00:00"
    assert a.authors == ("Ann Lee", "Bo Chen")
    assert a.topics == ("Engineering", "go", "static sites")
    assert a.provider == kg.Provider("example.org", "Example Blog")
    assert [i.url for i in a.images] == ["https://blog.example.org/a.png"]


ELEVENTY = """---
title: Eleventy note
date: 2021-12-15
tags: post
keywords: "css, grid"
byline: { name: "Kim Park" }
excerpt: Short.
link: https://notes.example.net/note/
source: { name: Notes, url: "https://notes.example.net" }
cover: { src: "https://notes.example.net/c.jpg", width: 800, height: 400 }
eleventyNavigation: { key: note }
---
"""


def test_eleventy_post():
    r = parse_article(ELEVENTY.encode(), "notes/note.md")
    a = r.article
    assert r.problems == []
    assert a.authors == ("Kim Park",)
    assert a.topics == ("post", "css", "grid")
    assert a.provider == kg.Provider("example.net", "Notes")
    assert a.images == (kg.Image("https://notes.example.net/c.jpg", 800, 400),)
    assert a.url == "https://notes.example.net/note/"


def test_the_seed_format_keys_win_and_published_flag_is_ignored(seeds_dir):
    (a,) = kg.load(seeds_dir).articles
    assert a.published.isoformat() == "2021-12-15T12:20:00+00:00"  # `published: false` ignored
    assert a.topics == ("Computer Vision", "AI") and a.tags == ()
    assert a.modified is None and a.authors == ()


def test_topics_key_keeps_tags_apart():
    r = parse_article(b"---\ntitle: A\ntopics: [AI]\ntags: [x]\n---\n", "a.md")
    assert (r.article.topics, r.article.tags) == (("AI",), ("x",))


def test_unknown_keys_are_reported_once_per_key_with_a_count(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    for i in range(3):
        (root / f"{i}.md").write_text(f"---\ntitle: Post {i}\nmood: happy\n"
                                      + ("colour: red\n" if i else "") + "---\n")
    corpus = kg.load(root)
    assert len(corpus.articles) == 3
    got = [(p.path, p.field, p.line, p.message) for p in corpus.problems]
    assert got == [
        ("site/0.md", "mood", 3, "key 'mood' is not read (not mapped, not on the ignore list); "
                                 "dropped (in 3 files; this is the first)"),
        ("site/1.md", "colour", 4, "key 'colour' is not read (not mapped, not on the ignore "
                                   "list); dropped (in 2 files; this is the first)")]
    assert corpus.unknown_keys == {"colour": (2, "site/1.md"), "mood": (3, "site/0.md")}
    result = kg.build(root, out=tmp_path / "out", rdf=False)
    assert result.summary["unknown_keys"] == {"colour": [2, "site/1.md"],
                                              "mood": [3, "site/0.md"]}
    assert result.summary["problems"] == {"unknown-key": 2}


def test_default_provider_for_a_folder_from_one_site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "a.md").write_text("---\ntitle: A\n---\n")
    (root / "b.md").write_text("---\ntitle: B\nurl: https://other.org/b\n---\n")
    corpus = kg.load(root, provider=kg.Provider("example.org", "Example"))
    assert [a.provider for a in corpus.articles] == [kg.Provider("example.org", "Example"),
                                                     kg.Provider("other.org", None)]


DOC = (Path(__file__).resolve().parent.parent / "docs" / "input-formats.md").read_text()


def _section(title: str) -> str:
    return DOC.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def _rows(section: str) -> list[list[list[str]]]:
    """The backticked words of each cell of each table row of a section."""
    return [[re.findall(r"`([^`]+)`", cell) for cell in line.split("|")[1:-1]]
            for line in section.splitlines() if line.startswith("| `")]


def test_the_key_table_is_the_aliases_row_for_row():
    assert {cells[0][0]: tuple(cells[1]) for cells in _rows(_section("Keys"))} == ALIASES
    assert [cells[0][0] for cells in _rows(_section("Keys"))] == list(ALIASES)


def test_the_nested_tables_are_the_containers_and_nested_keys():
    rows = _rows(_section("Nested values"))
    containers = {c[0][0]: None if not c[2] else dict(zip(c[2][::2], c[2][1::2]))
                  for c in rows if c[0][0] in CONTAINERS}
    assert containers == CONTAINERS
    nested = {c[0][0].split(" ")[0]: frozenset(c[1]) for c in rows if c[0][0] not in CONTAINERS}
    assert nested == NESTED_KEYS


def test_the_ignore_list_is_the_ignored_keys():
    paragraphs = _section("Ignored keys").strip().split("\n\n")
    assert set(re.findall(r"`([^`]+)`", paragraphs[1])) == IGNORED_KEYS


def test_keys_in_any_case_name_one_known_key():
    top = [k for k in KNOWN_KEYS if "." not in k and "[" not in k]
    assert len({k.lower() for k in top}) == len(top)


def test_provider_options_of_kg_build(tmp_path, capsys):
    from kg.cli import main
    from kg.exports import read_graph

    root = tmp_path / "site"
    root.mkdir()
    (root / "a.md").write_text("---\ntitle: A\ndate: 2021-12-15\n---\n")
    out = tmp_path / "out"
    assert main(["build", str(root), "--out", str(out), "-q", "--provider", "Example News",
                 "--provider-domain", "www.example.org"]) == 0
    g = read_graph(out)
    assert g.nodes["provider/example.org"]["name"] == "Example News"
    assert main(["build", str(root), "--out", str(out), "-q", "--provider", "X"]) == 2
    assert "--provider needs --provider-domain" in capsys.readouterr().err


def test_unknown_keys_inside_provider_images_and_related_are_reported(tmp_path):
    root = tmp_path / "feed"
    root.mkdir()
    entry = ("  - title: R{n}\n    webUrl: https://example.org/r{n}\n    topics: [x]\n"
             "    provider: {{name: E, domain: example.org, logo: l.png}}\n"
             "    images:\n      - {{url: 'https://example.org/i.png', width: 1, height: 1,"
             " isCached: true, alt: a}}\n")
    for n in range(3):
        (root / f"{n}.md").write_text(
            f"---\ntitle: A{n}\nwebUrl: https://example.org/a{n}\n"
            "provider: {name: E, domain: example.org, images: [], tier: 1}\n"
            "images:\n  - {url: 'https://example.org/a.png', width: 1, height: 2, isCached: true,"
            " caption: c}\nrelated:\n" + entry.format(n=n) + (entry.format(n=n + 10) if n else "")
            + "---\n")
    (root / "plain.md").write_text("---\ntitle: P\nwebUrl: https://example.org/p\n"
                                   "images: [{url: 'https://example.org/p.png', isCached: false}]\n---\n")
    (root / "few.md").write_text("---\ntitle: F\nprovider: {name: E, tier: 2}\n"  # fewer keys
                                 "images: [{url: 'https://example.org/f.png', caption: c}]\n---\n")
    corpus = kg.load(root)
    assert len(corpus.articles) == 5
    assert corpus.unknown_keys == {k: (3, "feed/0.md") for k in (
        "related[].images[].alt", "related[].provider.logo", "related[].topics")} | {
        k: (4, "feed/0.md") for k in ("images[].caption", "provider.tier")}
    found = {p.field: p for p in corpus.problems if p.reason == "unknown-key"}
    assert sorted(found) == sorted(corpus.unknown_keys)
    assert found["related[].topics"].line == 7 and "in 3 files" in found["related[].topics"].message
    a0 = next(a for a in corpus.articles if a.title == "A0")
    assert a0.provider == kg.Provider("example.org", "E") and len(a0.images) == 1
    assert [r.title for r in a0.related] == ["R0"] and a0.related[0].images[0].width == 1


# Hugo's documented example of custom fields (gohugo.io, methods/page/params),
# in the three formats its page toggles between.
HUGO_PARAMS = {
    "yaml": """---
date: 2023-10-17T15:11:37-07:00
params:
  author:
    email: jsmith@example.org
    name: John Smith
  display_related: true
  key-with-hyphens: must use index function
title: Annual conference
---
""",
    "toml": """+++
date = 2023-10-17T15:11:37-07:00
title = 'Annual conference'
[params]
  display_related = true
  key-with-hyphens = 'must use index function'
  [params.author]
    email = 'jsmith@example.org'
    name = 'John Smith'
+++
""",
    "json": """{
   "date": "2023-10-17T15:11:37-07:00",
   "params": {
      "author": {
         "email": "jsmith@example.org",
         "name": "John Smith"
      },
      "display_related": true,
      "key-with-hyphens": "must use index function"
   },
   "title": "Annual conference"
}
""",
}


@pytest.mark.parametrize("fmt", sorted(HUGO_PARAMS))
def test_hugo_params_are_read_and_their_other_keys_reported(fmt):
    r = parse_article(HUGO_PARAMS[fmt].encode(), "site/content/posts/conference.md")
    a = r.article
    assert (a.title, a.authors) == ("Annual conference", ("John Smith",))
    assert a.published.isoformat() == "2023-10-17T22:11:37+00:00"
    line = {"yaml": 3, "toml": 4, "json": 3}[fmt]  # the line of `params`
    assert [(p.reason, p.field, p.line) for p in r.problems] == [
        ("unknown-key", "params.author.email", line),
        ("unknown-key", "params.display_related", line),
        ("unknown-key", "params.key-with-hyphens", line)]


JEKYLL_SEO = """---
layout: post
title: Cards for every post
author:
  twitter: benbalter
image:
  path: /img/twitter.png
  height: 100
  width: 100
seo:
  type: BlogPosting
  date_modified: 2019-09-15 18:10:00 -03:00
  links: [https://twitter.com/BenBalter]
tags: [seo]
---
"""


def test_jekyll_seo_tag_shapes_and_the_date_of_a_post_name():
    # jekyll-seo-tag's documented shapes (docs/advanced-usage.md); the post
    # has no date key: Jekyll dates it by its name
    r = parse_article(JEKYLL_SEO.encode(), "blog/_posts/2019-09-14-cards.md")
    a = r.article
    assert a.published.isoformat() == "2019-09-14T00:00:00+00:00"
    assert a.modified.isoformat() == "2019-09-15T21:10:00+00:00"  # seo.date_modified
    assert (a.type, a.item, a.topics, a.authors, a.images) == ("BlogPosting", None, ("seo",), (), ())
    assert [(p.reason, p.field, p.line) for p in r.problems] == [
        ("relative-url", "image", 6),  # a path on the site, not a URL
        ("unknown-key", "author.twitter", 4),  # an author without a name: none, reported
        ("unknown-key", "seo.links", 10)]
    assert "'/img/twitter.png' is a path on the site, not a URL" in r.problems[0].message


def test_people_images_and_publishers_read_their_keys_and_report_the_others():
    r = parse_article(b"""---
title: Mapped
date: 2021-01-01
authors: [{name: Ann Lee, email: ann@example.org}, Bo Chen]
image: [{src: "https://example.org/a.png", alt: A, width: 10}, "https://example.org/b.png"]
publisher: {name: Example, url: "https://www.example.org", logo: "https://example.org/l.png"}
---
""", "a.md")
    a = r.article
    assert a.authors == ("Ann Lee", "Bo Chen")
    assert a.images == (kg.Image("https://example.org/a.png", 10, None),
                        kg.Image("https://example.org/b.png", None, None))
    assert a.provider == kg.Provider("example.org", "Example")
    assert [(p.field, p.line) for p in r.problems] == [
        ("publisher.logo", 6), ("image[].alt", 5), ("authors[].email", 4)]


def test_zola_taxonomies_and_extra():
    r = parse_article(b"""+++
title = "Zola post"
date = 2022-03-01
description = "A Zola page."
authors = ["Ann Lee"]

[taxonomies]
tags = ["rust", "ssg"]
series = ["Static sites"]

[extra]
image = "https://example.org/zola.png"
local_image = "zola.png"
+++
""", "zola/content/blog/post.md")
    a = r.article
    assert (a.excerpt, a.authors, a.topics) == ("A Zola page.", ("Ann Lee",), ("rust", "ssg"))
    assert [i.url for i in a.images] == ["https://example.org/zola.png"]
    assert [(p.field, p.line) for p in r.problems] == [("extra.local_image", 11),
                                                      ("taxonomies.series", 7)]


def test_keys_in_another_case_are_read_and_the_top_level_wins():
    r = parse_article(b"""---
Title: Capitalised
publishdate: 2021-05-01
linktitle: Caps
Tags: [a, b]
tags: [c]
description: Top.
params: {description: Custom., mood: ok}
---
""", "a.md")
    a = r.article
    assert (a.title, a.topics, a.excerpt) == ("Capitalised", ("c",), "Top.")
    assert a.published.isoformat() == "2021-05-01T00:00:00+00:00"
    # `Tags` names the same key as `tags`, which the file gives: not read
    assert [p.field for p in r.problems] == ["Tags", "params.description", "params.mood"]


def test_a_value_read_from_a_container_is_named_where_it_is():
    r = parse_article(b"---\ntitle: A\nparams:\n  date: soon\n  images: {url: x}\n---\n", "a.md")
    assert [(p.reason, p.field, p.line, p.message.split(":")[0]) for p in r.problems] == [
        ("bad-date", "params.date", 3, "params.date"),
        ("wrong-type", "params.images", 3, "params.images should be a list, got dict; dropped")]
