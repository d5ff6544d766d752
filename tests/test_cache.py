"""The record cache: incremental builds re-parse only what changed, never trust bad entries."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import kg
from kg.cache import RecordCache
from kg.exports import CACHE

OUTPUTS = ("newskg.json", "newskg.graphml", "problems.jsonl", "manifest.json", "newskg.nq",
           "newskg.ttl", "newskg.jsonld")


@pytest.fixture()
def folder(corpus_dir, tmp_path) -> Path:
    dest = tmp_path / "ai-facial"
    shutil.copytree(corpus_dir("ai-facial"), dest)
    return dest


def load(folder: Path, cache_path: Path) -> tuple[kg.Corpus, RecordCache]:
    cache = RecordCache(cache_path)
    corpus = kg.load_corpus(folder, cache=cache, workers=1)
    cache.save()
    return corpus, cache


def test_second_load_parses_nothing_and_gives_the_same_records(folder, tmp_path):
    first, c1 = load(folder, tmp_path / "c.jsonl")
    assert (c1.hits, c1.misses) == (0, 72)
    second, c2 = load(folder, tmp_path / "c.jsonl")
    assert (c2.hits, c2.misses, c2.corrupt) == (72, 0, 0)
    assert second.articles == first.articles and second.files == first.files
    assert second.problems == first.problems


def test_a_changed_file_is_the_only_one_parsed_again(folder, tmp_path):
    load(folder, tmp_path / "c.jsonl")
    victim = sorted(folder.glob("*.md"))[10]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("title: ", 'title: "Changed" #', 1), encoding="utf-8")
    (sorted(folder.glob("*.md"))[20]).unlink()
    corpus, cache = load(folder, tmp_path / "c.jsonl")
    assert (cache.hits, cache.misses) == (70, 1)
    changed = next(a for a in corpus.articles if a.source.endswith(victim.name))
    assert changed.title == "Changed"
    assert len(RecordCache(tmp_path / "c.jsonl")) == 71  # the deleted file's entry is gone


def test_corrupted_entries_are_detected_and_parsed_again(folder, tmp_path):
    first, _ = load(folder, tmp_path / "c.jsonl")
    lines = (tmp_path / "c.jsonl").read_bytes().splitlines(keepends=True)
    lines[5] = lines[5].replace(b'"title":"', b'"title":"Tampered ', 1)  # checksum no longer matches
    lines[9] = lines[9][:40] + b"\n"                                       # truncated
    (tmp_path / "c.jsonl").write_bytes(b"".join(lines))
    second, cache = load(folder, tmp_path / "c.jsonl")
    assert cache.corrupt == 2 and (cache.hits, cache.misses) == (70, 2)
    assert second.articles == first.articles
    assert not any("Tampered" in a.title for a in second.articles)


def test_a_cache_from_other_code_is_ignored(folder, tmp_path):
    load(folder, tmp_path / "c.jsonl")
    data = (tmp_path / "c.jsonl").read_bytes()
    header, _, body = data.partition(b"\n")
    (tmp_path / "c.jsonl").write_bytes(header.replace(b'"fingerprint":"', b'"fingerprint":"x') + b"\n" + body)
    _, cache = load(folder, tmp_path / "c.jsonl")
    assert (cache.hits, cache.misses) == (0, 72)


def test_exports_are_byte_identical_with_and_without_the_cache(folder, tmp_path):
    kg.build(folder, out=tmp_path / "cold", cache=False)
    kg.build(folder, out=tmp_path / "warm")          # fills the cache
    kg.build(folder, out=tmp_path / "warm")          # reads every record from it
    assert (tmp_path / "warm" / CACHE).is_file() and not (tmp_path / "cold" / CACHE).exists()
    for name in OUTPUTS:
        assert (tmp_path / "cold" / name).read_bytes() == (tmp_path / "warm" / name).read_bytes(), name
