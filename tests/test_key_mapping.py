"""The keys of other front-matter formats (Jekyll, Hugo, Eleventy, feeds):
aliases read into the article's fields, ignored keys, unknown keys reported."""

from __future__ import annotations

import pytest

import kg
from kg.fields import ALIASES, IGNORED_KEYS, KNOWN_KEYS
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


@pytest.mark.parametrize("key", sorted(KNOWN_KEYS))
def test_every_known_key_is_documented(key):
    from pathlib import Path

    doc = (Path(__file__).resolve().parent.parent / "docs" / "input-formats.md").read_text()
    assert f"`{key}`" in doc
    assert (key in IGNORED_KEYS) or any(key in keys for keys in ALIASES.values())


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
