"""End to end on the real corpora in ../shared/corpus: nothing lost, nothing doubled.

Expected figures are recomputed here from the raw YAML (independently of the
ingest code) and checked against the issue's own description of the data.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC
from pathlib import Path

import networkx as nx
import pytest
import yaml

import kg
from kg.graph import build_graph, graph_summary
from kg.normalize import canonical_url, registrable_domain, short_hash, web_url

pytestmark = pytest.mark.corpus


class Raw:
    """The corpus as plain YAML says it, with only the URL/domain rules applied."""

    def __init__(self, folder: Path) -> None:
        self.files: dict[str, dict] = {}
        for path in sorted(folder.glob("*.md")):
            text = path.read_text(encoding="utf-8")
            self.files[f"{folder.name}/{path.name}"] = yaml.load(text.split("---\n")[1],
                                                                   Loader=yaml.CSafeLoader)
        self.web_urls = {m["webUrl"] for m in self.files.values() if m.get("webUrl")}
        self.by_canon = {}
        for name, m in self.files.items():
            url = m.get("webUrl") or m.get("originalUrl")
            if url:
                self.by_canon.setdefault(canonical_url(url), name)

        self.file_urls = set().union(*(self.url_forms(m) for m in self.files.values()))

    @staticmethod
    def url_forms(meta: dict) -> set[str]:
        urls = [meta.get(k) for k in ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl")]
        canon = {canonical_url(u) for u in urls if u}
        return canon | {web_url(u) for u in canon}

    def related_entries(self):
        for name, m in self.files.items():
            for entry in m.get("related") or []:
                yield name, entry


@pytest.fixture(scope="module", params=["real", "ai-facial"])
def built(request, corpus_dir):
    folder = corpus_dir(request.param)
    corpus = kg.load(folder)
    return request.param, Raw(folder), corpus, build_graph(corpus)


def test_raw_data_is_what_the_issue_describes(built):
    name, raw, _, _ = built
    entries = list(raw.related_entries())
    inside = [e for _, e in entries if e.get("webUrl") in raw.web_urls]
    if name == "real":
        assert len(raw.files) == 3677 and len(raw.web_urls) == 3665
        assert sum(1 for m in raw.files.values() if m.get("webUrl") is None) == 12
        assert len(entries) == 2667 and len(inside) == 2462
        assert len({m["topics"][i] for m in raw.files.values() for i in range(len(m["topics"]))}) == 23
    else:
        assert len(raw.files) == 72 and len(entries) == 459 and len(inside) == 381


def test_every_input_file_is_accounted_for(built):
    _, raw, corpus, graph = built
    assert len(corpus.files) == len(raw.files)
    in_graph = {f for _, d in graph.nodes(data=True) if d["kind"] == "article" for f in d["files"]}
    refused = {p.path for p in corpus.problems if p.severity == "error"}
    assert in_graph | refused == set(raw.files)
    assert not in_graph & refused
    assert refused == set()  # the real corpora have no unusable file


def test_article_counts_match_the_data(built):
    name, raw, corpus, graph = built
    s = graph_summary(graph)
    # One article per canonical URL among the files; the 12 URL-less videos
    # are identified by their originalUrl.
    expected_file_articles = len(raw.by_canon) + sum(
        1 for m in raw.files.values() if not (m.get("webUrl") or m.get("originalUrl")))
    assert s["articles_with_file"] == expected_file_articles
    assert s["articles_with_file"] == (3677 if name == "real" else 71)  # ai-facial: one NYT URL, two files
    # Related entries outside the corpus: none of their URLs (web, AMP, AMP
    # cache, in web form) is a URL of a file; entries sharing a URL are one article.
    outside = [e for _, e in raw.related_entries() if not raw.url_forms(e) & raw.file_urls]
    parent: dict[str, str] = {}

    def find(u: str) -> str:
        while parent.setdefault(u, u) != u:
            u = parent[u]
        return u
    for e in outside:
        forms = sorted(raw.url_forms(e))
        for f in forms[1:]:
            parent[find(f)] = find(forms[0])
    assert s["articles_reference_only"] == len({find(min(raw.url_forms(e))) for e in outside})
    assert s["nodes"]["article"] == s["articles_with_file"] + s["articles_reference_only"]


def test_provider_counts_match_the_data(built):
    _, raw, _, graph = built
    domains = {registrable_domain(m["provider"]["domain"]) for m in raw.files.values()}
    # A related entry that is a corpus file is described by that file, provider included.
    domains |= {registrable_domain(e["provider"]["domain"]) for _, e in raw.related_entries()
                if not raw.url_forms(e) & raw.file_urls}
    providers = [d for _, d in graph.nodes(data=True) if d["kind"] == "provider"]
    assert {p["domain"] for p in providers} == domains
    assert len(providers) == len(domains)  # no duplicate provider for one registrable domain
    assert all(registrable_domain(p["domain"]) == p["domain"] for p in providers)


def test_every_related_entry_to_a_corpus_file_is_an_edge(built):
    name, raw, _, graph = built
    checked = 0
    for listing, entry in raw.related_entries():
        target_file = raw.by_canon.get(canonical_url(entry["webUrl"])) if entry.get("webUrl") else None
        if target_file is None:
            continue
        source_url = raw.files[listing].get("webUrl") or raw.files[listing]["originalUrl"]
        u = "article/" + short_hash(canonical_url(source_url))
        target = raw.files[target_file]
        v = "article/" + short_hash(canonical_url(target.get("webUrl") or target["originalUrl"]))
        if u == v:
            continue  # a file listing itself
        assert graph.has_edge(u, v, key="related"), (listing, entry["webUrl"])
        assert listing in graph.edges[u, v, "related"]["sources"]
        checked += 1
    assert checked >= (2400 if name == "real" else 370)
    assert nx.number_of_selfloops(graph) == 0


def test_dates_are_utc_aware_and_text_repaired(built):
    _, _, _, graph = built
    articles = [d for _, d in graph.nodes(data=True) if d["kind"] == "article"]
    dated = [d["published"] for d in articles if "published" in d]
    assert len(dated) == len(articles)
    assert all(dt.tzinfo == UTC for dt in dated)
    texts = [d.get(k, "") for d in articles for k in ("title", "excerpt")]
    assert not [t for t in texts if "Â®" in t or "&#8217;" in t or "&amp;" in t]


def test_conflicting_duplicate_in_ai_facial_is_reported(built):
    name, _, corpus, graph = built
    conflicts = [p for p in graph.graph["problems"] if p.reason == "conflicting-duplicate"]
    if name != "ai-facial":
        assert conflicts == []
        return
    (p,) = conflicts
    nyt = graph.nodes["article/" + short_hash(
        "https://www.nytimes.com/2021/11/29/technology/clearview-ai-uk-privacy-fine.html")]
    assert len(nyt["files"]) == 2 and p.path in nyt["files"]
    assert len(nyt["alt_titles"]) == 1


def test_seed_safr_is_repaired(seeds_dir):
    graph = build_graph(kg.load(seeds_dir))
    safr = [d for _, d in graph.nodes(data=True) if "SAFR" in d.get("excerpt", "")]
    assert len(safr) == 1 and safr[0]["excerpt"].startswith("SAFR® from RealNetworks")
    apnews = graph.nodes["provider/apnews.com"]
    assert apnews["name"] == "Omaha.com"


def test_topic_counts(built):
    name, raw, _, graph = built
    labels = Counter(t for m in raw.files.values() for t in m["topics"])
    topics = [d for _, d in graph.nodes(data=True) if d["kind"] == "topic"]
    assert len(topics) == len(labels) == (23 if name == "real" else 7)
    about = Counter(v for _, v, k in graph.edges(keys=True) if k == "about")
    assert sorted(about.values()) == sorted(
        sum(1 for m in raw.by_canon.values() if t in raw.files[m]["topics"]) for t in labels)


def test_fast_yaml_parser_gives_the_same_values_as_libyaml(corpus_dir):
    from kg.frontmatter import parse_yaml, parse_yaml_libyaml

    for name in ("real", "ai-facial"):
        for path in sorted(corpus_dir(name).glob("*.md")):
            fm = path.read_text(encoding="utf-8").split("---\n")[1]
            assert parse_yaml(fm) == parse_yaml_libyaml(fm), path


def test_parallel_reading_gives_the_same_corpus(corpus_dir):
    folder = corpus_dir("real")
    one = kg.load(folder, workers=1)
    two = kg.load(folder, workers=2)
    assert one.articles == two.articles and one.files == two.files
    assert one.problems == two.problems
