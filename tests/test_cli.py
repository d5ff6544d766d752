"""`kg build` and `kg stats`: exports, determinism, exit codes."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

import kg
from kg.cli import main, output
from kg.exports import read_graph, write_graph
from kg.graph import build_graph
from kg.queries import find_query

EXPORTS = ("newskg.json", "newskg.graphml", "problems.jsonl", "manifest.json")


def kg_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_build_seeds_writes_the_exports(seeds_dir, tmp_path):
    out = tmp_path / "exports"
    run = kg_cli("build", str(seeds_dir), "--out", str(out))
    assert run.returncode == 0, run.stderr
    for name in EXPORTS:
        assert (out / name).is_file()
    assert "article" in run.stdout and "known only by reference: 7" in run.stdout
    assert (out / "problems.jsonl").read_text() == ""
    manifest = json.loads((out / "manifest.json").read_text())
    (f,) = manifest["files"]
    assert f["path"] == "seeds/000_e8d8b023fb041968.txt" and f["ok"] and len(f["sha256"]) == 64
    nq = (out / "newskg.nq").read_text(encoding="utf-8")
    assert manifest["summary"]["quads"] == nq.count("\n") == 165
    assert not list(out.glob(".*.tmp"))  # atomic writes leave no temporary files


def test_exports_are_byte_identical_across_builds(corpus_dir, tmp_path):
    src = corpus_dir("ai-facial")
    assert main(["build", str(src), "--out", str(tmp_path / "a"), "-q"]) == 0  # one conflict
    assert main(["build", str(src), "--out", str(tmp_path / "s"), "-q", "--strict"]) == 1
    # The same files copied elsewhere, under another folder order: same bytes.
    copy = tmp_path / "elsewhere" / "ai-facial"
    shutil.copytree(src, copy)
    assert main(["build", str(copy), "--out", str(tmp_path / "b"), "-q"]) == 0
    for name in EXPORTS:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


def test_graphml_and_json_read_back_to_the_same_graph(corpus_dir, tmp_path):
    result = kg.build(corpus_dir("ai-facial"), out=tmp_path)
    original = result.graph
    back = read_graph(tmp_path)
    assert list(back.nodes(data=True)) == list(original.nodes(data=True))
    assert list(back.edges(keys=True, data=True)) == list(original.edges(keys=True, data=True))
    graphml = nx.read_graphml(tmp_path / "newskg.graphml", force_multigraph=True)
    assert graphml.number_of_nodes() == original.number_of_nodes()
    assert graphml.number_of_edges() == original.number_of_edges()
    seed_like = next(n for n, d in original.nodes(data=True) if d["kind"] == "article" and d["files"])
    assert json.loads(graphml.nodes[seed_like]["files"]) == original.nodes[seed_like]["files"]
    assert graphml.nodes[seed_like]["published"] == original.nodes[seed_like]["published"].isoformat()


def test_bad_files_are_listed_in_problems_jsonl_and_a_summary(seeds_dir, tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(seeds_dir, folder)
    (folder / "broken.md").write_text("---\ntitle: a: b\n---\n")
    (folder / "empty.md").write_text("")
    out = tmp_path / "out"
    run = kg_cli("build", str(folder), "--out", str(out))
    assert run.returncode == 0  # every readable article was built
    assert "files (.md, .markdown, .mdx, .txt): 3 read, 1 articles, 2 skipped (empty 1, yaml-syntax 1)" in run.stdout
    assert kg_cli("build", str(folder), "--out", str(out), "--strict").returncode == 1
    assert "2 problems" in run.stderr and "empty 1" in run.stderr and "yaml-syntax 1" in run.stderr
    assert "in/broken.md:2: error: malformed YAML" in run.stderr
    problems = [json.loads(line) for line in (out / "problems.jsonl").read_text().splitlines()]
    assert [(p["path"], p["reason"]) for p in problems] == [("in/broken.md", "yaml-syntax"),
                                                           ("in/empty.md", "empty")]
    graph = read_graph(out)  # the seed still built: itself and its 7 related articles
    assert sum(1 for _, k in graph.nodes(data="kind") if k == "article") == 8


def test_usage_errors_exit_2(tmp_path):
    assert kg_cli("build", str(tmp_path / "missing")).returncode == 2
    assert kg_cli("stats", str(tmp_path / "nothing-built")).returncode == 2
    assert kg_cli("frobnicate").returncode == 2


def test_help_starts_a_newcomer_with_commands_that_work(tmp_path):
    """The quick start in `kg --help` names real files and runs as shown."""
    root = Path(__file__).resolve().parent.parent
    text = kg_cli("--help").stdout
    steps = [line.split()[1:] for line in text.splitlines() if line.startswith("  kg ")]
    assert [s[0] for s in steps] == ["build", "query", "view"]
    build, query, view = steps
    assert (root / build[1]).is_dir() and find_query(query[1]) is not None
    out = tmp_path / "exports"
    assert kg_cli("build", str(root / build[1]), "--out", str(out), "-q").returncode == 0
    assert kg_cli("query", str(out), query[1], "--format", "csv").returncode == 0
    page = next(word.rstrip(",") for word in view if "views/" in word)
    assert kg_cli("view", str(out), *view[1:3]).returncode == 0
    assert (out / "views" / Path(page).name).is_file()


def test_stats_text_and_json(corpus_dir, tmp_path):
    kg.build(corpus_dir("ai-facial"), out=tmp_path)
    run = kg_cli("stats", str(tmp_path), "--json")
    assert run.returncode == 0
    s = json.loads(run.stdout)
    assert s["nodes"]["article"] == 91 and s["articles_with_file"] == 71
    assert s["articles_reference_only"] == 20 and s["problems"] == {"conflicting-duplicate": 1}
    assert s["top_topics"][0] == ["AI", 71]
    assert s["date_range"][0].startswith("2021-10-14")
    text = kg_cli("stats", str(tmp_path)).stdout
    assert "known only by reference: 20" in text and "conflicting-duplicate 1" in text


def test_stats_come_from_the_manifest_unless_the_graph_is_newer(seeds_dir, corpus_dir, tmp_path):
    kg.build(corpus_dir("ai-facial"), out=tmp_path)
    from_manifest = kg.exports.read_summary(tmp_path)
    manifest = tmp_path / "manifest.json"
    stamp = manifest.stat().st_mtime_ns
    os.utime(manifest, ns=(stamp, stamp - 10**9))  # as if newskg.json had been written since
    assert kg.exports.read_summary(tmp_path) == from_manifest  # computed: the same answer
    # A graph written after the manifest (a build that stopped half-way, a
    # script): its own counts, not the manifest's.
    write_graph(build_graph(kg.load(seeds_dir)), tmp_path)
    s = json.loads(kg_cli("stats", str(tmp_path), "--json").stdout)
    assert s["nodes"]["article"] == 8 and s["articles_with_file"] == 1
    os.utime(manifest)  # now the manifest is the newer file again
    assert kg.exports.read_summary(tmp_path)["nodes"]["article"] == 91


def test_build_of_several_folders(seeds_dir, corpus_dir, tmp_path):
    result = kg.build(seeds_dir, corpus_dir("ai-facial"), out=tmp_path)
    files = {f.path.split("/")[0] for f in result.files}
    assert files == {"seeds", "ai-facial"}
    # The seed's related Worcester (AP) article is a file in ai-facial? Either way no duplicates:
    urls = [d["url"] for _, d in result.graph.nodes(data=True) if d["kind"] == "article" and "url" in d]
    assert len(urls) == len(set(urls))


@pytest.mark.parametrize("flag", ["--help"])
def test_help(flag):
    run = kg_cli(flag)
    assert run.returncode == 0 and "build" in run.stdout and "stats" in run.stdout


def test_build_split_nq_writes_bounded_gzipped_chunks(seeds_dir, tmp_path):
    import gzip

    out = tmp_path / "out"
    assert main(["build", str(seeds_dir), "--out", str(out), "-q", "--split-nq", "50"]) == 0
    chunks = sorted((out / "chunks").glob("newskg-*.nq.gz"))
    lines = [gzip.decompress(c.read_bytes()).decode().splitlines() for c in chunks]
    assert len(chunks) >= 2 and all(0 < len(part) <= 50 for part in lines)
    every = {line for part in lines for line in part}
    assert set((out / "newskg.nq").read_text().splitlines()) <= every


def test_later_builds_are_up_to_date_or_update_the_store_in_place(seeds_dir, tmp_path):
    src = Path(shutil.copytree(seeds_dir, tmp_path / "in"))
    out = tmp_path / "exports"
    first = kg_cli("build", str(src), "--out", str(out))
    assert first.returncode == 0 and "updated in place" not in first.stdout
    second = kg_cli("build", str(src), "--out", str(out))
    assert second.returncode == 0
    assert f"{out}/ is up to date" in second.stdout and "wrote:" not in second.stdout
    assert "article             8" in second.stdout  # the summary of the last build
    seed = next(src.iterdir())
    text = seed.read_text(encoding="utf-8")
    # (a comment: the records hold the lead of a body, which a comment is not)
    seed.write_text(text + "\n<!-- A line added to the body. -->\n", encoding="utf-8")
    body = kg_cli("build", str(src), "--out", str(out))
    assert body.returncode == 0 and "wrote:" not in body.stdout
    assert (f"{out}/ is up to date: 1 changed file gave the same records as before; "
            "manifest.json updated") in body.stdout
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    seed.write_text(text.replace(title, 'title: "A changed headline"', 1), encoding="utf-8")
    third = kg_cli("build", str(src), "--out", str(out))
    assert third.returncode == 0
    assert re.search(r"store: updated in place, [1-9]\d* named graphs replaced", third.stdout)
    csv = kg_cli("query", str(out), 'SELECT (COUNT(*) AS ?n) WHERE { ?a schema:headline '
                 '"A changed headline" }', "--format", "csv").stdout
    assert csv.split() == ["n", "1"]


def test_an_up_to_date_build_and_stats_import_neither_networkx_nor_numpy(seeds_dir, tmp_path):
    out = tmp_path / "exports"
    assert kg_cli("build", str(seeds_dir), "--out", str(out), "-q").returncode == 0
    for args in (("build", str(seeds_dir), "--out", str(out)), ("stats", str(out))):
        run = subprocess.run([sys.executable, "-X", "importtime", "-m", "kg.cli", *args],
                             capture_output=True, text=True)
        assert run.returncode == 0, run.stderr
        imported = {line.split("|")[-1].strip() for line in run.stderr.splitlines()
                    if line.startswith("import time:")}
        assert "kg.exports" in imported and "networkx" not in imported
        assert "numpy" not in imported
    assert "is up to date" in kg_cli("build", str(seeds_dir), "--out", str(out)).stdout


def test_every_public_name_of_the_package_loads():
    import kg

    assert sorted(kg.__all__) == sorted(kg._HOME) and set(kg.__all__) <= set(dir(kg))
    for name in kg.__all__:
        module, _, attr = kg._HOME[name].partition(":")
        assert getattr(kg, name).__name__ == (attr or name)
        assert getattr(kg, name).__module__.startswith(f"kg.{module}")
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        _ = kg.nothing


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_on_a_terminal_after_the_first_second(monkeypatch):
    clock = [0.0]
    monkeypatch.setattr(output.time, "monotonic", lambda: clock[0])
    out = _Terminal()
    show = output.progress(False, out)
    show("building the graph", 0, 0)  # a build's first second shows nothing
    assert out.getvalue() == ""
    clock[0] = 2.0
    show("reading files", 0, 100)
    show("reading files", 50, 100)
    show("reading files", 100, 100)
    show("finding stories", 0, 0)
    show("writing RDF", 0, 10)
    show("writing RDF", 10, 10)
    show("writing RDF", 10, 10)  # the end reported twice: shown once
    text = out.getvalue()
    assert "reading files" in text and "100/100" in text
    assert "finding stories ...\n" in text
    assert text.count("10/10") == 1
    assert text.index("reading files") < text.index("finding stories") < text.index("writing RDF")
    assert "files/s" in text and "graphs/s" in text  # what each stage counts


def test_progress_on_a_terminal_that_reports_no_size(monkeypatch):
    # script(1) and some CI runners give a terminal of 0x0, as a new pty is:
    # tqdm hid every bar on it
    import os
    import select

    master, slave = os.openpty()
    with os.fdopen(slave, "w") as stream:
        started = output.time.monotonic()
        show = output.progress(False, stream)
        monkeypatch.setattr(output.time, "monotonic", lambda: started + 5)  # past the first second
        show("reading files", 0, 10)
        show("reading files", 10, 10)
        stream.flush()
        shown = b""
        while select.select([master], [], [], 0.5)[0]:  # all the pty holds
            shown += os.read(master, 1 << 16)
    os.close(master)
    assert b"10/10" in shown


def test_no_progress_when_quiet_or_not_a_terminal():
    assert output.progress(True, _Terminal()) is None
    assert output.progress(False, io.StringIO()) is None


def test_build_reports_every_stage(seeds_dir, tmp_path):
    calls: list[tuple[str, int, int]] = []
    kg.build(seeds_dir, out=tmp_path / "a", progress=lambda *a: calls.append(a))
    stages = list(dict.fromkeys(stage for stage, _, _ in calls))
    assert stages == ["reading files", "building the graph", "finding stories", "writing RDF",
                      "writing exports", "loading and compacting the store"]
    assert ("reading files", 1, 1) in calls  # the seed file
    rdf = [(done, total) for stage, done, total in calls if stage == "writing RDF"]
    assert rdf[-1][0] == rdf[-1][1] >= 3  # the end: its graph, the computed and the shared (in parts)
    calls.clear()
    kg.build(seeds_dir, out=tmp_path / "a", progress=lambda *a: calls.append(a))
    assert {stage for stage, _, _ in calls} == {"checking for changes"}  # up to date
    kg.build(seeds_dir, out=tmp_path / "a", progress=lambda *a: calls.append(a), cache=False)
    assert "updating the store" in {stage for stage, _, _ in calls}


def test_a_reader_that_stops_early_gets_no_traceback(seeds_dir, tmp_path):
    """`kg build ... | head -1`: the closed pipe ends kg quietly, as it ends cat."""
    with subprocess.Popen([sys.executable, "-m", "kg.cli", "build", str(seeds_dir), "--out",
                           str(tmp_path / "out")], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE) as proc:
        proc.stdout.close()  # before kg writes anything
        err = proc.stderr.read().decode()
        assert proc.wait() == 141
    assert "Traceback" not in err and "BrokenPipe" not in err, err
    assert (tmp_path / "out" / "newskg.nq").is_file()  # the build itself completed


def test_readers_take_a_corpus_folder_and_build_it_into_the_cache(seeds_dir, tmp_path):
    # `kg stories CORPUS` as the issues write it: the corpus is built into the
    # cache folder, never into the corpus, then brought up to date, not rebuilt
    corpus = tmp_path / "corpus"
    shutil.copytree(seeds_dir, corpus)
    before = sorted(p.name for p in corpus.iterdir())
    first = kg_cli("stories", str(corpus))
    assert first.returncode == 0, first.stderr
    assert "Worcester bans city use of facial recognition technology" in first.stdout
    note = re.search(r"reading the build of \S+ in (\S+) ", first.stderr)
    assert note, first.stderr
    out = Path(note.group(1))
    assert out.parent == Path(os.environ["NEWSKG_CACHE_DIR"])
    assert sorted(p.name for p in corpus.iterdir()) == before  # nothing written into it
    stamp = (out / "newskg.json").stat().st_mtime_ns
    again = kg_cli("timeline", str(corpus), "--match", "facial", "--by", "month", "--format", "csv")
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0].startswith("period") and "2021-12" in again.stdout
    assert (out / "newskg.json").stat().st_mtime_ns == stamp  # up to date: not rebuilt
    # a changed file: the cache's build follows it
    changed = sorted(corpus.glob("*.txt"))[0]
    text = changed.read_text(encoding="utf-8")
    changed.write_text(text.replace("\ntitle: \"", "\ntitle: \"Changed title: ", 1), encoding="utf-8")
    assert kg_cli("stories", str(corpus)).returncode == 0
    assert any(d.get("title", "").startswith("Changed title: ")
               for _, d in read_graph(out).nodes(data=True))
    # the same from Python
    assert [s.size for s in kg.open(corpus).stories()] == [3]


def test_readers_say_what_a_folder_is_not(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    for command in ("stories", "view", "timeline"):
        for folder, words in ((tmp_path / "missing", "neither an export folder"),
                              (empty, "no article files")):
            r = kg_cli(command, str(folder), *(["--topic", "x"] if command == "view" else []))
            assert r.returncode == 2 and words in r.stderr, (command, folder, r.stderr)
