"""Bad input never stops a build: each case yields a Problem, good files still load."""

from __future__ import annotations

import itertools
import random
import tracemalloc
from datetime import UTC
from pathlib import Path

import pytest

import kg
from kg.frontmatter import split_front_matter
from kg.graph import build_graph
from kg.ingest import find_files, parse_article, read_article

SEED = Path(__file__).resolve().parent.parent / "seeds" / "000_e8d8b023fb041968.txt"

GOOD = """---
title: "A good article"
excerpt: "Fine."
publishedDateTime: 2021-12-15T12:20:00Z
webUrl: "https://example.com/good"
type: article
provider:
  name: Example
  domain: example.com
topics:
  - AI
---
"""


def article(title='"A test article"', extra="", url='"https://example.org/t"',
            date="2021-12-01T10:00:00Z", topics="  - AI\n", provider=None) -> str:
    provider = provider or "provider:\n  name: Example Org\n  domain: example.org\n"
    return (f"---\ntitle: {title}\nexcerpt: \"Some text.\"\npublishedDateTime: {date}\n"
            f"webUrl: {url}\ntype: article\n{provider}topics:\n{topics}{extra}---\n")


def build_folder(tmp_path: Path, bad_name: str, bad: bytes | str) -> kg.Corpus:
    folder = tmp_path / "in"
    folder.mkdir(exist_ok=True)
    (folder / "good.md").write_text(GOOD, encoding="utf-8")
    (folder / "seed.txt").write_bytes(SEED.read_bytes())
    data = bad.encode("utf-8") if isinstance(bad, str) else bad
    (folder / bad_name).write_bytes(data)
    return kg.load(folder)


def assert_good_files_built(corpus: kg.Corpus) -> None:
    titles = {a.title for a in corpus.articles}
    assert "A good article" in titles
    assert "Carmaker Xpeng Deletes 430,000 Photos for Misuse of Facial Recognition" in titles
    graph = build_graph(corpus)
    assert graph.number_of_nodes() > 10


def only_problem(corpus: kg.Corpus, reason: str):
    found = [p for p in corpus.problems if p.reason == reason]
    assert len(found) == 1, corpus.problems
    return found[0]


def test_malformed_yaml_unquoted_colon(tmp_path):
    corpus = build_folder(tmp_path, "bad.md", article(title="Breaking: markets fall: again"))
    p = only_problem(corpus, "yaml-syntax")
    assert p.path == "in/bad.md" and p.severity == "error" and p.line == 2
    assert len(corpus.articles) == 2
    assert_good_files_built(corpus)


def test_no_front_matter(tmp_path):
    corpus = build_folder(tmp_path, "plain.md", "# Just markdown\n\nNo metadata here.\n")
    p = only_problem(corpus, "no-front-matter")
    assert p.path == "in/plain.md" and p.severity == "error"
    assert_good_files_built(corpus)


def test_unclosed_front_matter(tmp_path):
    corpus = build_folder(tmp_path, "open.md", "---\ntitle: x\nwebUrl: https://e.com/\n")
    assert only_problem(corpus, "no-front-matter").path == "in/open.md"
    assert_good_files_built(corpus)


@pytest.mark.parametrize("content", [b"", b"   \n\n"])
def test_empty_file(tmp_path, content):
    corpus = build_folder(tmp_path, "empty.md", content)
    assert only_problem(corpus, "empty").path == "in/empty.md"
    assert_good_files_built(corpus)


def test_binary_file(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4
    corpus = build_folder(tmp_path, "image.md", png)
    assert only_problem(corpus, "binary").severity == "error"
    assert_good_files_built(corpus)


def test_utf8_bom_parses_fully(tmp_path):
    corpus = build_folder(tmp_path, "bom.md", b"\xef\xbb\xbf" + article().encode())
    assert corpus.problems == []
    bom = next(a for a in corpus.articles if a.source == "in/bom.md")
    assert bom.title == "A test article" and bom.url == "https://example.org/t"
    assert bom.provider.domain == "example.org" and bom.topics == ("AI",)


def test_latin1_bytes_are_read_and_reported(tmp_path):
    text = article(title='"Caf\xe9 culture in S\xe3o Paulo"')
    corpus = build_folder(tmp_path, "latin1.md", text.encode("latin-1"))
    p = only_problem(corpus, "encoding")
    assert p.severity == "warning" and p.line == 2 and "0xe9" in p.message
    latin = next(a for a in corpus.articles if a.source == "in/latin1.md")
    assert latin.title == "Café culture in São Paulo"
    assert_good_files_built(corpus)


BOMB = """---
title: "lol"
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
topics: *i
---
"""


def test_yaml_alias_bomb_is_refused_in_bounded_memory(tmp_path):
    # how fast: benchmarks/bench_parse.py --alias-bomb
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "bomb.md").write_text(BOMB)
    tracemalloc.start()
    result = read_article(folder / "bomb.md", "in/bomb.md")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert result.article is None
    assert [p.reason for p in result.problems] == ["yaml-aliases"]
    assert peak < 20 * 1024 * 1024
    corpus = build_folder(tmp_path, "bomb.md", BOMB)
    assert only_problem(corpus, "yaml-aliases").path == "in/bomb.md"
    assert_good_files_built(corpus)


def test_very_large_file_is_refused_unread(tmp_path):
    huge = article(extra="") .replace('"Some text."', '"' + "x" * (50 * 1024 * 1024) + '"')
    corpus = build_folder(tmp_path, "huge.md", huge)
    p = only_problem(corpus, "too-large")
    assert p.severity == "error" and "52,4" in p.message
    huge_file = next(f for f in corpus.files if f.path == "in/huge.md")
    assert not huge_file.ok and len(huge_file.sha256) == 64
    assert_good_files_built(corpus)


def test_long_text_is_cut_and_reported(tmp_path):
    text = article().replace('"Some text."', '"' + "y" * 100_000 + '"')
    corpus = build_folder(tmp_path, "long.md", text)
    p = only_problem(corpus, "too-long")
    assert p.field == "excerpt"
    long = next(a for a in corpus.articles if a.source == "in/long.md")
    assert len(long.excerpt) == 20_000


@pytest.mark.parametrize("fm, field, expect", [
    (article(topics="").replace("topics:\n", 'topics: "Coronavirus"\n'), "topics",
     lambda a: a.topics == ("Coronavirus",)),
    (article(provider='provider: "The Daily Planet"\n'), "provider",
     lambda a: a.provider.name == "The Daily Planet" and a.provider.domain == "example.org"),
    (article(title='["a", "list"]'), "title", None),
    (article(title="42"), "title", lambda a: a.title == "42"),
    (article(extra="quality: lots\n"), "quality", lambda a: a.quality is None),
    (article(topics="  - AI\n  - {nested: map}\n  - 7\n"), "topics[1]",
     lambda a: a.topics == ("AI", "7")),
    (article(extra="images: {url: x}\n"), "images", lambda a: a.images == ()),
    (article(extra="related: nope\n"), "related", lambda a: a.related == ()),
])
def test_wrong_types(tmp_path, fm, field, expect):
    corpus = build_folder(tmp_path, "types.md", fm)
    wrong = [p for p in corpus.problems if p.reason == "wrong-type"]
    assert any(p.field == field and p.path == "in/types.md" for p in wrong), corpus.problems
    kept = [a for a in corpus.articles if a.source == "in/types.md"]
    if expect is None:  # a title that is no text: the file cannot be an article
        assert kept == [] and any(p.reason == "missing-field" and p.severity == "error"
                                  for p in corpus.problems)
    else:
        assert len(kept) == 1 and expect(kept[0])
    assert_good_files_built(corpus)


def test_missing_title(tmp_path):
    corpus = build_folder(tmp_path, "untitled.md", article().replace('title: "A test article"\n', ""))
    p = only_problem(corpus, "missing-field")
    assert p.field == "title" and p.severity == "error"
    assert len(corpus.articles) == 2
    assert_good_files_built(corpus)


@pytest.mark.parametrize("date", ["2021-13-45T10:00:00Z", '"2021-02-30"', '"not a date"'])
def test_impossible_dates(tmp_path, date):
    corpus = build_folder(tmp_path, "date.md", article(date=date))
    p = only_problem(corpus, "bad-date")
    assert p.field == "publishedDateTime" and p.line == 4 and p.severity == "warning"
    kept = next(a for a in corpus.articles if a.source == "in/date.md")
    assert kept.published is None and kept.title == "A test article"


@pytest.mark.parametrize("url", ['"javascript:alert(document.cookie)"', '"data:text/html,x"',
                                 '"ftp://example.org/file"'])
def test_non_http_urls_are_dropped_and_reported(tmp_path, url):
    extra = ("related:\n  - title: \"Rel\"\n    webUrl: " + url +
             "\n    provider: {name: R, domain: r.com}\n")
    corpus = build_folder(tmp_path, "js.md", article(url=url, extra=extra))
    bad = sorted(p.field for p in corpus.problems if p.reason == "bad-url")
    assert bad == ["related[0].webUrl", "webUrl"]
    kept = next(a for a in corpus.articles if a.source == "in/js.md")
    assert kept.url is None and "javascript" not in repr(kept)
    graph = build_graph(corpus)
    assert not any("javascript:" in str(d) or "data:" in str(d)
                   for _, d in graph.nodes(data=True))


def test_duplicate_keys(tmp_path):
    text = article(extra='title: "Second title"\n')
    corpus = build_folder(tmp_path, "dup.md", text)
    p = only_problem(corpus, "duplicate-key")
    assert p.field == "title" and p.line == 12
    kept = next(a for a in corpus.articles if a.source == "in/dup.md")
    assert kept.title == "Second title"  # YAML's rule: the last value wins


def test_hostile_text_is_kept_as_data(tmp_path):
    title = '"<script>window.pwned=1</script> \\" quotes & <img src=x onerror=alert(1)>"'
    corpus = build_folder(tmp_path, "hostile.md", article(title=title))
    kept = next(a for a in corpus.articles if a.source == "in/hostile.md")
    assert kept.title == '<script>window.pwned=1</script> " quotes & <img src=x onerror=alert(1)>'
    assert corpus.problems == []


def test_files_found_recursively_with_accepted_suffixes(tmp_path):
    root = tmp_path / "news"
    (root / "a" / "b").mkdir(parents=True)
    (root / ".hidden").mkdir()
    for name in ["a/one.md", "a/b/two.markdown", "three.txt", "MANIFEST.tsv", "x.json",
                 ".hidden/four.md", "a/.five.md"]:
        (root / name).write_text(GOOD.replace("/good", "/" + name.replace("/", "-")))
    names = [name for _, name in find_files([root])]
    assert names == ["news/a/b/two.markdown", "news/a/one.md", "news/three.txt"]
    corpus = kg.load(root)
    assert len(corpus.articles) == 3 and corpus.problems == []


def test_missing_path_is_an_error(tmp_path):
    with pytest.raises(FileNotFoundError):
        kg.load(tmp_path / "nope")


def test_seed_record(seeds_dir):
    corpus = kg.load(seeds_dir)
    assert corpus.problems == []
    (a,) = corpus.articles
    assert a.source == "seeds/000_e8d8b023fb041968.txt"
    assert a.published.tzinfo == UTC
    assert a.topics == ("Computer Vision", "AI")
    assert len(a.related) == 7
    safr = a.related[-1]
    assert safr.excerpt.startswith("SAFR® from RealNetworks")
    conv = a.related[0]
    assert conv.url.startswith("https://theconversation.com/information-is-key")
    assert ("https://theconversation.com/amp/information-is-key-to-public-support-for-police-"
            "use-of-facial-recognition-technology-173584") in conv.urls
    assert conv.provider.domain == "theconversation.com"
    assert a.related[2].provider.name == "Omaha.com" and a.related[2].provider.domain == "apnews.com"


def _odd_texts() -> list[str]:
    """Texts around the front-matter fences: every short combination of odd
    lines and line ends, and random longer ones."""
    lines = ["---", "--- ", "----", "---x", " ---", "---\t", "---\u00a0", "---\u2028", "---\x1c",
             "---\x85", "", "  ", "title: x", "\ufeff---", "...", "# c"]
    ends = ["\n", "\r\n", "\r", ""]
    texts = ["".join(x) for x in itertools.product(lines[:10], ends, lines, ends)]
    rng = random.Random(4)
    for _ in range(20_000):
        texts.append("".join(rng.choice(lines) + rng.choice(ends) for _ in range(rng.randint(1, 8))))
    return texts


def test_front_matter_split_is_python_frontmatters():
    import frontmatter  # the library the split replaces, as the reference

    handler = frontmatter.YAMLHandler()
    for text in _odd_texts():
        if not handler.detect(text):
            expected = None
        else:
            try:
                expected = handler.split(text)[0]
            except ValueError:
                expected = False
        assert split_front_matter(text) == expected, repr(text)


@pytest.mark.parametrize("value, kind", [("[a, b]", "list"), ("{a: 1}", "dict")])
def test_urls_that_are_lists_or_mappings_are_reported(tmp_path, value, kind):
    extra = f"originalUrl: {value}\nimages:\n  - url: {value}\n    width: 5\n"
    corpus = build_folder(tmp_path, "url.md", article(extra=extra))
    bad = [p for p in corpus.problems if p.reason == "bad-url"]
    assert [p.field for p in bad] == ["originalUrl", "images[0].url"]
    assert all(f"not a string: {kind}" in p.message for p in bad)
    kept = next(a for a in corpus.articles if a.source == "in/url.md")
    assert kept.url == "https://example.org/t" and kept.images == ()
    assert_good_files_built(corpus)


RELATED = """related:
  - title: "Shared story"
    webUrl: "https://news.example.com/shared"
    ampWebUrl: "https://news.example.com/shared/amp/"
    provider: {name: News, domain: news.example.com}
    quality: QUALITY
    images:
      - url: "https://img.example.com/a.jpg"
        width: 300
"""


def test_related_entries_repeated_across_files(tmp_path):
    good = RELATED.replace("QUALITY", "40")
    bad = RELATED.replace("QUALITY", "lots")  # a problem in every file that lists it
    nan = RELATED.replace("QUALITY", ".nan")  # orjson would write NaN like null
    null = RELATED.replace("QUALITY", "null")
    texts = [article(extra=good), article(extra=bad), article(extra=good), article(extra=bad),
             article(extra=null), article(extra=nan), article(extra=nan)]
    results = [parse_article(t.encode(), f"f{i}.md") for i, t in enumerate(texts)]
    refs = [r.article.related for r in results]
    assert all(len(r) == 1 and r[0].title == "Shared story" for r in refs)
    assert [r[0].source for r in refs] == [f"f{i}.md" for i in range(7)]
    assert [r[0].quality for r in refs] == [40, None, 40, None, None, None, None]
    assert refs[0][0].urls == ("https://news.example.com/shared",
                               "https://news.example.com/shared/amp/",
                               "https://news.example.com/shared/")
    assert refs[0][0].provider.domain == "example.com"
    assert [[(p.path, p.field) for p in r.problems] for r in results] == [
        [], [("f1.md", "related[0].quality")], [], [("f3.md", "related[0].quality")],
        [], [("f5.md", "related[0].quality")], [("f6.md", "related[0].quality")]]
    assert results[1].problems[0].line == 12


def test_parallel_reading_of_good_and_bad_files(tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    bad = [b"", b"\x00\x01", "# no front matter\n", "---\ntitle: [1\n---\n", "---\ntitle: x\n",
           article(extra="related: nope\n"), article(date='"soon"'), b"\xef\xbb\xbf" + article().encode(),
           article().replace("\n", "\r\n"), article(title='"Caf\xe9"').encode("latin-1")]
    for i in range(1_200):
        data = bad[i % len(bad)] if i % 7 == 0 else article(title=f'"Story {i}"', extra=RELATED
                                                            .replace("QUALITY", str(i % 3)))
        (folder / f"{i:04d}.md").write_bytes(data if isinstance(data, bytes) else data.encode())
    one = kg.load(folder, workers=1)
    two = kg.load(folder, workers=2)
    assert one.articles == two.articles and one.files == two.files and one.problems == two.problems
    assert len(one.files) == 1_200 and {p.reason for p in one.problems} >= {
        "empty", "binary", "no-front-matter", "yaml-syntax", "wrong-type", "bad-date", "encoding"}


@pytest.mark.parametrize("workers", [1, 2])
def test_values_articles_repeat_are_one_object_each(tmp_path, workers):
    # The graph keeps them for every article: a million copies of "news" otherwise.
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(1_200):
        (folder / f"{i:04d}.md").write_text(
            f"---\ntitle: Story {i}\ntype: article\ncategory: news\nlocale: en-us\n"
            "topics: [AI, Chips]\ntags: [robots]\nauthors: [Ada Lovelace]\n---\n")
    articles = kg.load(folder, workers=workers).articles
    assert len(articles) == 1_200
    for field in ("type", "category", "locale"):
        assert len({id(getattr(a, field)) for a in articles}) == 1, field
    for field in ("topics", "tags", "authors"):
        assert len({id(v) for a in articles for v in getattr(a, field)}) == len(
            {v for a in articles for v in getattr(a, field)}), field
    assert articles[0].topics == ("AI", "Chips") and articles[7].category == "news"
