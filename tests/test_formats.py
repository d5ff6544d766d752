"""Front matter in the three formats Jekyll, Hugo and Eleventy read (YAML,
TOML, JSON), the file name endings read, and what is skipped, by reason."""

from __future__ import annotations

from pathlib import Path

import pytest

import kg
from kg.cli import main
from kg.frontmatter import FrontMatterError, read_front_matter
from kg.ingest import NoArticleFiles, parse_article, scan_files

TOML = """+++
title = "A Hugo post"
publishedDateTime = 2021-12-15T12:20:00Z
webUrl = "https://example.org/hugo"
topics = ["AI", "Go"]

[provider]
name = "Example"
domain = "example.org"
+++
Body text.
"""

JSON = """{
  "title": "An Eleventy post",
  "publishedDateTime": "2021-12-15T12:20:00Z",
  "webUrl": "https://example.org/json",
  "topics": ["AI"],
  "provider": {"name": "Example", "domain": "example.org"}
}
Body text.
"""

YAML = """---
title: "A YAML post"
publishedDateTime: 2021-12-15T12:20:00Z
webUrl: "https://example.org/yaml"
topics: [AI]
---
"""


def test_toml_front_matter():
    r = parse_article(TOML.encode(), "in/a.md")
    assert r.problems == []
    a = r.article
    assert (a.title, a.url, a.topics) == ("A Hugo post", "https://example.org/hugo", ("AI", "Go"))
    assert a.published.isoformat() == "2021-12-15T12:20:00+00:00"
    assert a.provider == kg.Provider("example.org", "Example")


def test_json_front_matter():
    r = parse_article(JSON.encode(), "in/a.md")
    assert r.problems == []
    assert (r.article.title, r.article.topics) == ("An Eleventy post", ("AI",))
    assert r.article.published.isoformat() == "2021-12-15T12:20:00+00:00"


@pytest.mark.parametrize("text", [YAML, TOML, JSON])
def test_bom_and_crlf_read_the_same(text):
    plain = parse_article(text.encode(), "in/a.md")
    crlf = parse_article(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode(), "in/a.md")
    assert crlf.problems == [] and crlf.article == plain.article


@pytest.mark.parametrize(("data", "reason", "line", "words"), [
    ('+++\ntitle = "A"\nwebUrl = https://x\n+++\n', "toml-syntax", 3, "TOML"),
    ('+++\ntitle = "A"\ntitle = "B"\n+++\n', "toml-syntax", 3, "TOML"),
    ('{\n  "title": "A",\n  "webUrl": x\n}\n', "json-syntax", 3, "JSON"),
    ('{\n  "title": "A"\n', "json-syntax", 3, "JSON"),
    ('---\ntitle: "A"\n+++\nbody\n', "mixed-delimiters", 3, "closed by +++"),
    ('+++\ntitle = "A"\n---\nbody\n', "mixed-delimiters", 3, "closed by ---"),
    ('+++\ntitle = "A"\n', "no-front-matter", None, "+++"),
    ("no front matter at all\n", "no-front-matter", None, "+++ for TOML"),
    ('---json\n{\n  "title": x\n}\n---\n', "json-syntax", 3, "JSON"),
    ('---json\n{"title": "A"}\n', "no-front-matter", 1, "---json is not closed"),
    ("---toml\ntitle = A\n---\n", "toml-syntax", 2, "TOML"),
    ('---js\n{ title: "A" }\n---\n', "unsupported-language", 1, "kg reads YAML, TOML and JSON"),
])
def test_bad_front_matter_is_reported_with_line_and_reason(data, reason, line, words):
    with pytest.raises(FrontMatterError) as info:
        read_front_matter(data.encode(), [])
    assert (info.value.reason, info.value.line) == (reason, line)
    assert words in info.value.message
    r = parse_article(data.encode(), "in/bad.md")
    (p,) = r.problems
    assert (r.article, p.reason, p.line, p.severity) == (None, reason, line, "error")


def test_eleventy_fences_that_name_their_language():
    # Eleventy (gray-matter) reads `---json`, and `---toml` once configured
    for plain, tagged in ((JSON, "---json\n" + JSON.replace("\nBody text.", "\n---\nBody text.")),
                          (TOML, TOML.replace("+++", "---toml", 1).replace("+++", "---")),
                          (YAML, YAML.replace("---", "---yaml", 1))):
        r = parse_article(tagged.encode(), "in/a.md")
        assert r.problems == [] and r.article == parse_article(plain.encode(), "in/a.md").article


def test_bad_files_do_not_stop_the_rest(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "good.md").write_text(TOML)
    (root / "bad.md").write_text('+++\ntitle = \n+++\n')
    corpus = kg.load(root)
    assert [a.title for a in corpus.articles] == ["A Hugo post"]
    assert [(p.path, p.reason) for p in corpus.problems] == [("site/bad.md", "toml-syntax")]


def make_site(root: Path) -> Path:
    (root / "posts" / ".drafts").mkdir(parents=True)
    (root / "posts" / "a.md").write_text(YAML)
    (root / "posts" / "b.mdx").write_text(TOML.replace("/hugo", "/mdx"))
    (root / "posts" / "c.markdown").write_text(JSON)
    (root / "posts" / ".drafts" / "d.md").write_text(YAML)
    (root / ".hidden.md").write_text(YAML)
    (root / "logo.png").write_bytes(b"\x89PNG")
    (root / "data.json").write_text("{}")
    (root / "Makefile").write_text("all:\n")
    return root


def test_extensions_read_and_skipped_counted_by_reason(tmp_path):
    root = make_site(tmp_path / "site")
    files, skipped = scan_files([root])
    assert [n for _, n in files] == ["site/posts/a.md", "site/posts/b.mdx",
                                     "site/posts/c.markdown"]
    assert skipped == {"(none)": 1, ".json": 1, ".png": 1, "hidden": 2}
    corpus = kg.load(root)
    assert len(corpus.articles) == 3 and corpus.problems == []
    assert corpus.skipped == skipped
    files, skipped = scan_files([root], ["MDX", ".json"])
    assert [n for _, n in files] == ["site/data.json", "site/posts/b.mdx"]
    assert skipped == {"(none)": 1, ".markdown": 1, ".md": 1, ".png": 1, "hidden": 2}


def test_build_summary_counts_files_and_exit_codes(tmp_path, capsys):
    root = make_site(tmp_path / "site")
    (root / "posts" / "bad.md").write_text("---\ntitle: [unclosed\n---\n")
    assert main(["build", str(root), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr()
    assert ("files (.md, .markdown, .mdx, .txt): 4 read, 3 articles, 1 skipped (yaml-syntax 1); "
            "not read: (none) 1, .json 1, .png 1, hidden 2") in out.out
    assert "site/posts/bad.md:3: error: malformed YAML" in out.err
    assert main(["build", str(root), "--out", str(tmp_path / "out"), "--strict", "-q"]) == 1
    assert main(["build", str(root), "--out", str(tmp_path / "out3"), "--ext", "mdx,MARKDOWN"]) == 0
    assert "files (.markdown, .mdx): 2 read, 2 articles, 0 skipped" in capsys.readouterr().out
    result = kg.build(root, out=tmp_path / "out2", rdf=False, extensions=["mdx"])
    assert result.summary["files"] == {"read": 1, "articles": 1, "skipped": 0, "not_read": {
        "(none)": 1, ".json": 1, ".markdown": 1, ".md": 2, ".png": 1, "hidden": 2}}


def test_nothing_to_read_exits_1_with_what_was_looked_for(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["build", str(empty), "--out", str(tmp_path / "out")]) == 1
    assert capsys.readouterr().err == (f"kg build: no article files in {empty}: looked for "
                                       "names ending in .md, .markdown, .mdx, .txt, saw 0 other "
                                       "files\n")
    (empty / "notes.docx").write_bytes(b"x")  # a wrong folder
    assert main(["build", str(empty), "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert (f"no article files in {empty}: looked for names ending in .md, .markdown, .mdx, "
            ".txt, saw 1 other file") in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(NoArticleFiles):
        kg.build(empty, out=tmp_path / "out")
    assert main(["build", str(tmp_path / "missing")]) == 2


@pytest.mark.corpus
@pytest.mark.parametrize(("flags", "said"), [
    ([], "not read: .tsv 1\n  not news: video 12\n"),
    (["--only-news"], "not read: .tsv 1; left out (--only-news): video 12\n"),
])
def test_real_corpus_builds_with_exit_0_and_says_what_it_did_not_read(corpus_dir, tmp_path,
                                                                      flags, said):
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "kg.cli", "build", str(corpus_dir("real")),
                          "--out", str(tmp_path / "out"), *flags],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert ("files (.md, .markdown, .mdx, .txt): 3,677 read, 3,677 articles, 0 skipped; "
            + said) in run.stdout
    assert "problems: none" in run.stdout and run.stderr == ""


def test_json_duplicate_keys_are_reported():
    r = parse_article(b'{"title": "A", "title": "B", "tags": ["x"]}\n', "in/a.md")
    assert r.article.title == "B"
    assert [(p.reason, p.field, p.severity) for p in r.problems] == [
        ("duplicate-key", "title", "warning")]
