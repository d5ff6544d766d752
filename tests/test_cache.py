"""The record cache: incremental builds re-parse only what changed, never trust bad entries."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
import pytest

import kg
from kg import last_build, pipeline
from kg.cache import RecordCache
from kg.pipeline import CACHE
from kg.store import open_store

OUTPUTS = ("newskg.json", "newskg.graphml", "problems.jsonl", "manifest.json", "newskg.nq",
           "newskg.ttl", "newskg.jsonld")


@pytest.fixture()
def folder(corpus_dir, tmp_path) -> Path:
    dest = tmp_path / "ai-facial"
    shutil.copytree(corpus_dir("ai-facial"), dest)
    return dest


def load(folder: Path, cache_path: Path) -> tuple[kg.Corpus, RecordCache]:
    cache = RecordCache(cache_path)
    corpus = kg.load(folder, cache=cache, workers=1)
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
    title = orjson.dumps(sorted(first.articles, key=lambda a: a.source)[4].title)  # line 5's file
    assert title in lines[5]
    lines[5] = lines[5].replace(title, b'"Tampered ' + title[1:], 1)  # checksum no longer matches
    lines[9] = lines[9][:40] + b"\n"                                  # truncated
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


def stat_fields(cache_path: Path) -> list[bytes]:
    """The stat key of each line of a cache file (``b"-"`` when none)."""
    lines = cache_path.read_bytes().splitlines()[1:]
    return [line.split(b"\t", 1)[0].split(b" ")[2] for line in lines]


def test_files_changed_just_before_reading_keep_no_stat_key(folder, tmp_path):
    # copied a moment ago: their times could not tell a change made in the same tick
    load(folder, tmp_path / "c.jsonl")
    assert set(stat_fields(tmp_path / "c.jsonl")) == {b"-"}


def retag(cache_path: Path, name: str, sha256: str) -> None:
    """Give a file's cache line another content hash (in the line and in its
    row, which must agree) and a valid checksum."""
    from kg.cache import _checksum

    lines = cache_path.read_bytes().splitlines(keepends=True)
    for i, line in enumerate(lines[1:], 1):
        _, _, rest = line.rstrip(b"\n").partition(b" ")
        if orjson.dumps(name) in rest.split(b"\t")[1]:
            head, tail = rest.split(b"\t", 1)
            old, stat = head.split(b" ")
            rest = sha256.encode() + b" " + stat + b"\t" + tail.replace(old, sha256.encode(), 1)
            lines[i] = _checksum(rest) + b" " + rest + b"\n"
    cache_path.write_bytes(b"".join(lines))


def test_unchanged_times_spare_reading_and_a_content_check_is_available(folder, tmp_path):
    cache_path = tmp_path / "c.jsonl"
    cache = RecordCache(cache_path, racy_ns=0)  # trust the times of files copied just now
    first = kg.load(folder, cache=cache, workers=1)
    cache.save()
    assert b"-" not in stat_fields(cache_path)
    name = first.files[3].path
    retag(cache_path, name, "0" * 64)  # the cached hash no longer matches the file
    by_times = RecordCache(cache_path, racy_ns=0)
    again = kg.load(folder, cache=by_times, workers=1)
    assert (by_times.hits, by_times.misses) == (72, 0)  # times match: not read, not hashed
    assert again.articles == first.articles
    by_content = RecordCache(cache_path, racy_ns=0, trust_stat=False)
    kg.load(folder, cache=by_content, workers=1)
    assert (by_content.hits, by_content.misses) == (71, 1)  # every file hashed


def test_a_rewrite_that_keeps_size_and_mtime_is_still_detected(folder, tmp_path):
    cache_path = tmp_path / "c.jsonl"
    cache = RecordCache(cache_path, racy_ns=0)
    kg.load(folder, cache=cache, workers=1)
    cache.save()
    victim = sorted(folder.glob("*.md"))[7]
    st = victim.stat()
    text = victim.read_text(encoding="utf-8")
    i = text.index("title: ") + 9
    changed = text[:i] + ("x" if text[i] != "x" else "y") + text[i + 1:]  # one letter of the title
    assert len(changed.encode()) == st.st_size and changed != text
    victim.write_text(changed, encoding="utf-8")
    os.utime(victim, ns=(st.st_atime_ns, st.st_mtime_ns))  # the old mtime; the ctime moves on
    again = RecordCache(cache_path, racy_ns=0)
    corpus = kg.load(folder, cache=again, workers=1)
    assert (again.hits, again.misses) == (71, 1)
    fresh = kg.load(folder)
    assert corpus.files == fresh.files and corpus.articles == fresh.articles


def test_parallel_loads_fill_and_use_the_cache(corpus_dir, tmp_path):
    folder = corpus_dir("real")  # enough files for worker processes
    cold = RecordCache(tmp_path / "c.jsonl")
    first = kg.load(folder, cache=cold, workers=2)
    cold.save()
    warm = RecordCache(tmp_path / "c.jsonl")
    second = kg.load(folder, cache=warm, workers=2)
    assert warm.hits == len(first.files) and warm.misses == 0
    plain = kg.load(folder, workers=1)
    for corpus in (first, second):
        assert corpus.articles == plain.articles and corpus.files == plain.files
        assert corpus.problems == plain.problems


def many_files(tmp_path: Path) -> Path:
    """1,200 small articles: three chunks, so that workers=2 really uses worker processes."""
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(1_200):
        (folder / f"{i:04d}.md").write_text(
            f"---\ntitle: Story {i}\npublishedDateTime: 2021-12-{1 + i % 28:02d}T10:00:00Z\n"
            f"webUrl: https://example.org/{i}\noriginalUrl: https://example.org/story?id={i}\n"
            "topics: [AI, Chips]\ncategory: news\n---\nBody.\n")
    return folder


@pytest.mark.parametrize("workers", [1, 2])
def test_records_from_the_cache_hold_the_canonical_url_once(tmp_path, workers):
    # As parsing gives them: the URL seen again in ``urls`` is the same string,
    # not a second copy that the graph would keep for every article.
    folder = many_files(tmp_path)
    cold = RecordCache(tmp_path / "c.jsonl")
    parsed = kg.load(folder, cache=cold, workers=workers).articles
    cold.save()
    warm = RecordCache(tmp_path / "c.jsonl")
    cached = kg.load(folder, cache=warm, workers=workers).articles
    assert warm.hits == 1_200 and cached == parsed
    for articles in (parsed, cached):
        assert all(len(a.urls) == 2 and a.url in a.urls for a in articles)
        assert all(any(u is a.url for u in a.urls) for a in articles)


def test_the_cache_file_is_the_same_whether_workers_parse_or_not(tmp_path):
    folder = many_files(tmp_path)
    lines = []
    for workers in (1, 2):
        cache = RecordCache(tmp_path / f"c{workers}.jsonl")
        kg.load(folder, cache=cache, workers=workers)
        cache.save()
        lines.append((tmp_path / f"c{workers}.jsonl").read_bytes().splitlines())
    assert len(lines[0]) == 1201 and lines[0] == lines[1]


def test_a_new_cache_file_is_written_as_files_are_parsed_and_only_then_put_in_place(
        folder, tmp_path):
    path = tmp_path / "c.jsonl"
    cache = RecordCache(path)
    kg.load(folder, cache=cache, workers=1)
    # Its lines are on disk already, in a temporary file: not yet the cache file.
    temps = [p for p in tmp_path.iterdir() if p.name.startswith(".c.jsonl.")]
    assert not path.exists() and len(temps) == 1 and temps[0].stat().st_size > 72 * 100
    cache.save()
    assert [p.name for p in tmp_path.iterdir() if p.name != "ai-facial"] == ["c.jsonl"]
    # The same bytes as a cache that holds its new lines until it is saved
    # (as it does when there is a cache file to add them to).
    other = tmp_path / "other.jsonl"
    other.write_bytes(path.read_bytes().splitlines(keepends=True)[0])  # a valid, empty cache
    held = RecordCache(other)
    kg.load(folder, cache=held, workers=1)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".other.jsonl.")]
    held.save()
    assert other.read_bytes() == path.read_bytes() and len(RecordCache(path)) == 72


def test_a_cache_closed_or_dropped_unsaved_leaves_no_file(folder, tmp_path):
    cache = RecordCache(tmp_path / "c.jsonl")
    kg.load(folder, cache=cache, workers=1)
    cache.close()
    dropped = RecordCache(tmp_path / "d.jsonl")
    kg.load(folder, cache=dropped, workers=1)
    del dropped
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ai-facial"]


def test_an_unchanged_cache_is_not_rewritten(folder, tmp_path):
    load(folder, tmp_path / "c.jsonl")
    os.utime(tmp_path / "c.jsonl", ns=(0, 0))
    _, cache = load(folder, tmp_path / "c.jsonl")
    assert cache.hits == 72 and (tmp_path / "c.jsonl").stat().st_mtime_ns == 0


@pytest.mark.parametrize("workers", [1, 2])
def test_records_json_cannot_hold_are_parsed_again_not_cached(tmp_path, workers):
    folder = tmp_path / "in"
    folder.mkdir()
    for i in range(600):  # two chunks: workers=2 really uses worker processes
        (folder / f"{i:03d}.md").write_text(f"---\ntitle: Story {i}\nquality: {i}\n---\n")
    (folder / "big.md").write_text("---\ntitle: Big\nquality: 99999999999999999999999\n---\n")
    cache = RecordCache(tmp_path / "c.jsonl")
    corpus = kg.load(folder, cache=cache, workers=workers)
    cache.save()
    big = next(a for a in corpus.articles if a.title == "Big")
    assert big.quality == 99999999999999999999999  # beyond JSON's 64-bit integers
    again = RecordCache(tmp_path / "c.jsonl")
    second = kg.load(folder, cache=again, workers=workers)
    assert (again.hits, again.misses) == (600, 1) and second.articles == corpus.articles


# -- builds with nothing to do -------------------------------------------------------
def _outputs(out: Path) -> dict[str, tuple[bytes, int]]:
    return {name: ((out / name).read_bytes(), (out / name).stat().st_mtime_ns)
            for name in OUTPUTS}


def test_an_unchanged_input_rebuilds_nothing(folder, tmp_path):
    out = tmp_path / "out"
    first = kg.build(folder, out=out)
    assert first.built
    before = _outputs(out)
    with open_store(out) as store:  # read-only use leaves the build up to date
        assert store.query("ASK { ?a a schema:NewsArticle }").boolean
    for f in folder.glob("*.md"):
        os.utime(f, ns=(1, 1))  # new times, same content: still nothing to do
    again = kg.build(folder, out=out)
    assert not again.built and list(again.timings) == ["check"]
    assert _outputs(out) == before  # not even rewritten
    assert again.files == first.files and again.problems == first.problems
    assert again.outputs == first.outputs
    assert again.summary == first.summary
    assert sorted(again.graph.nodes(data=True)) == sorted(first.graph.nodes(data=True))
    assert (sorted(again.graph.edges(keys=True, data=True))
            == sorted(first.graph.edges(keys=True, data=True)))


#: A body longer than the lead the records keep (kg.normalize.LEAD_CHARS).
LONG_BODY = "\n" + "The story went on, paragraph after paragraph. " * 20 + "\n"


def _give_a_long_body(folder: Path) -> Path:
    victim = sorted(folder.glob("*.md"))[5]
    victim.write_text(victim.read_text(encoding="utf-8") + LONG_BODY, encoding="utf-8")
    return victim


def _edit_body(folder: Path, out: Path) -> Path:
    """An edit of the body past its lead: the records stay the same."""
    victim = sorted(folder.glob("*.md"))[5]
    assert victim.read_text(encoding="utf-8").endswith(LONG_BODY)
    victim.write_text(victim.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    return victim


def _edit_title(folder: Path, out: Path) -> None:
    victim = sorted(folder.glob("*.md"))[5]
    text = victim.read_text(encoding="utf-8")
    assert "\ntitle: " in text
    victim.write_text(text.replace("\ntitle: ", "\ntitle: Edited: ", 1), encoding="utf-8")


def _edit_title_and_a_body(folder: Path, out: Path) -> None:
    victim = sorted(folder.glob("*.md"))[9]
    victim.write_text(victim.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    _edit_title(folder, out)


def _body_with_a_nul(folder: Path, out: Path) -> None:  # now a binary file: refused
    victim = sorted(folder.glob("*.md"))[5]
    victim.write_bytes(victim.read_bytes() + b"\x00")


def _add_file(folder: Path, out: Path) -> None:
    src = sorted(folder.glob("*.md"))[5]
    shutil.copy(src, folder / ("zz-" + src.name))


def _remove_file(folder: Path, out: Path) -> None:
    sorted(folder.glob("*.md"))[5].unlink()


def _touch_output(folder: Path, out: Path) -> None:
    with open(out / "newskg.json", "ab") as f:
        f.write(b"\n")


def _delete_output(folder: Path, out: Path) -> None:
    (out / "newskg.ttl").unlink()


def _delete_store(folder: Path, out: Path) -> None:
    shutil.rmtree(out / "store")


def _write_to_store(folder: Path, out: Path) -> None:
    with open_store(out, read_only=False) as store:
        store.drop_graph("urn:nothing")


def _break_stamp(folder: Path, out: Path) -> None:
    (out / ".cache" / "build.json").write_bytes(b'{"stamp": 1')


@pytest.mark.parametrize("change", [_edit_title, _edit_title_and_a_body, _body_with_a_nul,
                                    _add_file, _remove_file, _touch_output, _delete_output,
                                    _delete_store, _write_to_store, _break_stamp])
def test_any_change_to_inputs_or_outputs_rebuilds(folder, tmp_path, change):
    out = tmp_path / "out"
    kg.build(folder, out=out)
    change(folder, out)
    again = kg.build(folder, out=out)
    assert again.built
    fresh = tmp_path / "fresh"
    kg.build(folder, out=fresh, cache=False)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert not kg.build(folder, out=out).built  # and then up to date again


@pytest.mark.parametrize("writer", ["write_graph_json", "write_graphml"])  # the child's, the parent's
def test_a_failure_in_the_forked_exports_fails_the_build_and_the_next_one_repairs(
        folder, tmp_path, monkeypatch, writer):
    out = tmp_path / "out"
    kg.build(folder, out=out)
    _edit_title(folder, out)  # the store is updated in place: exports written by a child

    def disk_full(graph, path, *index):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, writer, disk_full)
    with pytest.raises(OSError, match="No space left"):
        kg.build(folder, out=out)
    assert not (out / pipeline.STAMP).exists()  # not taken as up to date
    monkeypatch.undo()
    assert kg.build(folder, out=out).built
    fresh = tmp_path / "fresh"
    kg.build(folder, out=fresh, cache=False)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith(".newskg")]  # no temp files


def test_a_failure_while_a_fresh_store_is_finished_fails_the_build_and_the_next_one_repairs(
        folder, tmp_path, monkeypatch):
    """The store is finished in a thread while the other exports are written:
    a failure in either fails the build; nothing half-made is left behind."""
    out = tmp_path / "out"

    def disk_full(graph, path, *index):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pipeline, "write_graph_json", disk_full)
    with pytest.raises(OSError, match="No space left"):
        kg.build(folder, out=out)
    assert not (out / pipeline.STAMP).exists()
    monkeypatch.undo()

    loaded = kg.store.StoreBuilder._wait

    def a_load_fails(self):
        loaded(self)
        raise RuntimeError("a load failed")

    monkeypatch.setattr(kg.store.StoreBuilder, "_wait", a_load_fails)
    with pytest.raises(RuntimeError, match="a load failed"):
        kg.build(folder, out=tmp_path / "out2")
    monkeypatch.undo()
    assert not (tmp_path / "out2" / "store").exists()  # no half-finished store
    assert not [p.name for p in (tmp_path / "out2").iterdir() if p.name.startswith(".store")]
    assert kg.build(folder, out=out).built
    fresh = tmp_path / "fresh"
    kg.build(folder, out=fresh, cache=False)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert not [p.name for p in out.iterdir() if p.name.startswith((".newskg", ".store"))]


def test_a_body_edit_rewrites_only_the_manifest(folder, tmp_path):
    out = tmp_path / "out"
    _give_a_long_body(folder)
    kg.build(folder, out=out)
    before = _outputs(out)
    victim = _edit_body(folder, out)
    again = kg.build(folder, out=out)
    assert not again.built and again.same_records == [f"ai-facial/{victim.name}"]
    after = _outputs(out)
    assert {name for name in OUTPUTS if after[name] != before[name]} == {"manifest.json"}
    fresh = tmp_path / "fresh"
    kg.build(folder, out=fresh, cache=False)
    for name in OUTPUTS:  # the manifest lists the file's new hash and size
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name
    assert again.files == kg.build(folder, out=fresh).files
    # The stamp and the cache know the new content: the next build is up to date.
    third = kg.build(folder, out=out)
    assert not third.built and third.same_records == []
    assert _outputs(out) == after
    victim.write_bytes(victim.read_bytes() + b"A second edit.\n")  # again, and back:
    assert kg.build(folder, out=out).same_records == again.same_records  # both
    victim.write_bytes(victim.read_bytes().replace(b"A second edit.\n", b""))
    assert kg.build(folder, out=out).same_records == again.same_records  # compared
    now = _outputs(out)  # with the cache's last entry for the file
    assert {n for n in OUTPUTS if now[n] != after[n]} == {"manifest.json"}  # (its time)
    assert now["manifest.json"][0] == after["manifest.json"][0]
    assert len(RecordCache(out / CACHE)) == 72
    _edit_title(folder, out)  # a real change later: the file is parsed again, not taken
    kg.build(folder, out=out)  # from the cache's entry for its first content
    kg.build(folder, out=fresh, cache=False)
    for name in OUTPUTS:
        assert (out / name).read_bytes() == (fresh / name).read_bytes(), name


def test_other_options_or_code_rebuild(folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    kg.build(folder, out=out, rdf=False)
    assert not kg.build(folder, out=out, rdf=False).built
    assert kg.build(folder, out=out).built  # now with the RDF
    assert not kg.build(folder, out=out).built
    monkeypatch.setattr(last_build, "build_fingerprint", lambda: "other code")
    rebuilt = kg.build(folder, out=out)
    assert rebuilt.built and rebuilt.patched is None  # nor is the graph kept for other code patched


def test_an_edit_of_the_bodys_lead_is_a_change_of_the_records(folder, tmp_path):
    out = tmp_path / "out"
    victim = _give_a_long_body(folder)
    first = kg.build(folder, out=out)
    node = next(d for _, d in first.graph.nodes(data=True) if d.get("lead"))
    assert node["lead"].startswith("The story went on, paragraph after paragraph.")
    assert len(node["lead"]) <= kg.normalize.LEAD_CHARS
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace(LONG_BODY, "\nThe lead changed." + LONG_BODY), encoding="utf-8")
    again = kg.build(folder, out=out)
    assert again.built and again.same_records == []
    assert any(d.get("lead", "").startswith("The lead changed.") for _, d in again.graph.nodes(data=True))
