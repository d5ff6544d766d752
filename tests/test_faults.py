"""Faults: a build killed at any point, and damaged caches (issue 23, "Bad input and faults").

A ``kg build`` killed with SIGKILL (a crash, an out-of-memory kill, a power
cut) must leave the previous build usable: every export file is whole (the
previous version or the new one, never half of one), and the store answers
as the previous build's or the new build's, never a mix.  The next build
must then be correct: equal to a cold build of the same files into a fresh
folder.  The kills are real: ``kg build`` runs in a subprocess and kills
itself as a stage ends (the test hook :data:`kg.pipeline.KILL_AT`), or is
killed from here after a delay spread over a build's duration.

A damaged cache (record cache, build stamp, the store's state file, the
store itself) is detected, said in a warning (``BuildResult.warnings``,
printed by ``kg build``) and rebuilt: the build equals a cold one.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

import kg
from kg.cache import RecordCache, _checksum
from kg.last_build import GRAPH_JOURNAL, GRAPH_STATE, RDF_INPUTS
from kg.pipeline import CACHE, KILL_AT, STAMP, STORY_STATE
from kg.store import open_store, state_path

ROOT = Path(__file__).resolve().parent.parent
OUTPUTS = ("newskg.json", "newskg.graphml", "problems.jsonl", "manifest.json", "newskg.nq",
           "newskg.ttl", "newskg.jsonld")
ARTICLES = "SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle }"
SYNTHETIC = 120  # more files than a store update in place takes (100 graphs)


@pytest.fixture()
def folder(corpus_dir, tmp_path) -> Path:
    """ai-facial, and enough small files of our own that changing them all
    makes the build replace its store rather than update it."""
    dest = tmp_path / "in"
    shutil.copytree(corpus_dir("ai-facial"), dest)
    for i in range(SYNTHETIC):
        (dest / f"zz-{i:03d}.md").write_text(
            f"---\ntitle: Synthetic story number {i}\nwebUrl: https://example{i % 5}.org/news/{i}\n"
            f"date: 2021-12-{1 + i % 28:02d}\ntopics: [AI, Topic {i % 3}]\n---\nBody {i}.\n",
            encoding="utf-8")
    return dest


# -- what a build folder holds ------------------------------------------------------------
def store_quads(out: Path) -> list[str]:
    with open_store(out) as store:
        return sorted(str(q) for q in store.oxigraph)


def snapshot(out: Path) -> dict[str, object]:
    """Every export file's bytes and the store's quads (named graphs and union)."""
    files: dict[str, object] = {name: (out / name).read_bytes() for name in OUTPUTS}
    files["store"] = store_quads(out)
    return files


def leftovers(out: Path) -> list[str]:
    """Temporary files and folders in the export folder and its cache."""
    return sorted(p.name for d in (out, out / ".cache") if d.is_dir() for p in d.iterdir()
                  if p.name.startswith(".") and p.name != ".cache")


def processes_writing_into(out: Path) -> list[int]:
    """Processes (other than this one) whose command line names ``out``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                cmdline = (entry / "cmdline").read_bytes()
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if str(out).encode() in cmdline and state != "Z":
                found.append(int(entry.name))
    return found


def kg_build(folder: Path, out: Path, kill_at: str | None = None) -> subprocess.Popen:
    """``kg build folder --out out`` in a subprocess (killing itself at ``kill_at``)."""
    env = {k: v for k, v in os.environ.items() if k != KILL_AT}
    if kill_at is not None:
        env[KILL_AT] = kill_at
    return subprocess.Popen([sys.executable, "-m", "kg.cli", "build", str(folder), "--out", str(out),
                             "-q"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)


# -- changes between the previous build and the interrupted one ---------------------------
def edit_title(folder: Path) -> None:  # one graph replaced in the store
    victim = sorted(folder.glob("2021-*.md"))[5]
    text = victim.read_text(encoding="utf-8")
    victim.write_text(text.replace("\ntitle: ", "\ntitle: Edited: ", 1), encoding="utf-8")


def add_file(folder: Path) -> None:
    (folder / "added.md").write_text("---\ntitle: An added story\nwebUrl: https://example.net/added\n"
                                     "date: 2021-12-02\ntopics: [AI]\n---\n", encoding="utf-8")


def remove_file(folder: Path) -> None:  # an article no other file names
    (folder / "zz-000.md").unlink()


def edit_body(folder: Path) -> None:  # the same records: the manifest alone is rewritten
    victim = sorted(folder.glob("2021-*.md"))[5]
    victim.write_text(victim.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")


def change_many(folder: Path) -> None:  # more graphs than an update in place takes
    for path in sorted(folder.glob("zz-*.md")):
        path.write_text(path.read_text(encoding="utf-8").replace("Synthetic", "Changed"),
                        encoding="utf-8")


def assert_whole(out: Path, before: dict, after: dict) -> None:
    """Every export of ``out`` is the previous build's or the new build's,
    the store answers as one of them, and the graph JSON loads."""
    for name in OUTPUTS:
        assert (out / name).read_bytes() in (before[name], after[name]), name
    quads = store_quads(out)
    assert quads == before["store"] or quads == after["store"]
    opened = kg.open(out)
    assert opened.query(ARTICLES).rows[0][0] == (before["articles"] if quads == before["store"]
                                                 else after["articles"])
    assert opened.graph.number_of_nodes() > 0


def state_of(out: Path) -> dict:
    """:func:`snapshot`, and the number of articles ``kg.open`` counts."""
    state = snapshot(out)
    state["articles"] = kg.open(out).query(ARTICLES).rows[0][0]
    return state


def expected(folder: Path, tmp_path: Path) -> dict:
    """A cold build's state: the same files into a fresh folder, no cache."""
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    kg.build(folder, out=fresh, cache=False)
    return state_of(fresh)


def previous_build(folder: Path, out: Path) -> dict:
    assert kg.build(folder, out=out).built
    return state_of(out)


def assert_next_build_is_correct(folder: Path, out: Path, after: dict, *,
                                 cut_short_append: bool = False) -> None:
    """The next build succeeds, warns of nothing, equals a cold build and
    leaves no temporary file; the one after is up to date.

    ``cut_short_append``: the killed build may have been appending to the
    record cache (a body edit), and a line cut short is damage to say."""
    assert processes_writing_into(out) == []  # nothing of the killed build goes on writing
    result = kg.build(folder, out=out)
    assert all(cut_short_append and "record cache" in w for w in result.warnings), result.warnings
    now = snapshot(out)
    for name in OUTPUTS:
        assert now[name] == after[name], name
    assert now["store"] == after["store"]
    assert leftovers(out) == []
    assert not kg.build(folder, out=out).built


STAGES = ["parse", "graph", "stories", "rdf", "exports", "store", "manifest"]
#: (what changed, the stage at whose end the build is killed): one file (its
#: graph replaced in the store) or many (the store rebuilt) at every stage;
#: a file added or removed as the RDF and the exports are written.
KILLS = ([(change, stage) for change in (edit_title, change_many) for stage in STAGES]
         + [(change, stage) for change in (add_file, remove_file) for stage in ("rdf", "exports")])


@pytest.mark.parametrize("change,stage", KILLS, ids=lambda v: getattr(v, "__name__", v))
def test_a_build_killed_as_a_stage_ends_leaves_the_last_build_usable_and_the_next_correct(
        folder, tmp_path, change, stage):
    out = tmp_path / "out"
    before = previous_build(folder, out)
    change(folder)
    after = expected(folder, tmp_path)
    assert before["store"] != after["store"]
    proc = kg_build(folder, out, kill_at=stage)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == -signal.SIGKILL, err.decode()
    assert_whole(out, before, after)
    if stage in ("parse", "graph", "stories"):  # nothing written yet
        assert snapshot(out) == {k: v for k, v in before.items() if k != "articles"}
    assert_next_build_is_correct(folder, out, after)


@pytest.mark.parametrize("change", [edit_title, change_many, edit_body],
                         ids=["one-file", "many-files", "body-only"])
def test_a_build_killed_at_any_moment(folder, tmp_path, change):
    """Kills from outside at delays spread over a whole build, so that some
    land inside stages (a store update, a store's swap, a cache save)."""
    out = tmp_path / "out"
    before = previous_build(folder, out)
    kept = tmp_path / "kept"
    shutil.copytree(out, kept, copy_function=shutil.copy2)  # mtimes kept: the stamp holds
    change(folder)
    after = expected(folder, tmp_path)
    shutil.copytree(kept, tmp_path / "probe", copy_function=shutil.copy2)
    started = time.monotonic()
    kg_build(folder, tmp_path / "probe").communicate(timeout=300)  # how long one takes
    duration = time.monotonic() - started
    points = 6
    for k in range(1, points + 1):
        shutil.rmtree(out)
        shutil.copytree(kept, out, copy_function=shutil.copy2)
        proc = kg_build(folder, out)
        time.sleep(duration * k / (points + 1))
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=300)
        assert_whole(out, before, after)
        assert_next_build_is_correct(folder, out, after, cut_short_append=change is edit_body)


# -- damaged caches -----------------------------------------------------------------------
def cache_lines(out: Path) -> list[bytes]:
    return (out / CACHE).read_bytes().splitlines(keepends=True)


def truncate_cache(out: Path) -> None:
    data = (out / CACHE).read_bytes()
    (out / CACHE).write_bytes(data[:len(data) * 3 // 5])  # mid-line


def garble_a_line(out: Path) -> None:
    lines = cache_lines(out)
    line = bytearray(lines[7])
    line[len(line) // 2:len(line) // 2 + 6] = b"\x00#!@\xff?"
    lines[7] = bytes(line)
    (out / CACHE).write_bytes(b"".join(lines))


def rewrite_payload(out: Path, how: Callable[[list], object]) -> None:
    """Give the line of the file :func:`edit_title` edits another payload,
    with a valid checksum (so that only decoding it can tell; a build that
    patches the last graph decodes only the entries of what changed)."""
    victim = sorted((out.parent / "in").glob("2021-*.md"))[5].name
    lines = cache_lines(out)
    line_no = next(i for i, line in enumerate(lines) if f'/{victim}"\t'.encode() in line)
    _, _, rest = lines[line_no].rstrip(b"\n").partition(b" ")
    head, name, payload = rest.split(b"\t", 2)
    rest = head + b"\t" + name + b"\t" + orjson.dumps(how(orjson.loads(payload)))
    lines[line_no] = _checksum(rest) + b" " + rest + b"\n"
    (out / CACHE).write_bytes(b"".join(lines))


def wrong_fields(out: Path) -> None:
    rewrite_payload(out, lambda row: {"title": "not a row"})


def article_dropped(out: Path) -> None:  # "ok" says there is an article; there is none
    rewrite_payload(out, lambda row: [row[0], None, row[2]])


def other_content_hash(out: Path) -> None:  # the row says it was parsed from other content
    rewrite_payload(out, lambda row: [["0" * 64, *row[0][1:]], *row[1:]])


def garble_cache_header(out: Path) -> None:
    lines = cache_lines(out)
    (out / CACHE).write_bytes(b'{"format": 3, "fingerpr\n' + b"".join(lines[1:]))


def garble_stamp(out: Path) -> None:
    (out / STAMP).write_bytes(b'{"stamp": "12ab", "outputs": {"newskg.nq": [1]}')


def truncate_story_state(out: Path) -> None:
    path = out / STORY_STATE
    path.write_bytes(path.read_bytes()[:-100])


def truncate_graph_state(out: Path) -> None:
    path = out / GRAPH_STATE
    path.write_bytes(path.read_bytes()[:-1000])


def garble_graph_journal(out: Path) -> None:
    path = out / GRAPH_JOURNAL
    data = path.read_bytes()
    path.write_bytes(data[:-3] + bytes(b ^ 0xFF for b in data[-3:]))


def truncate_rdf_inputs(out: Path) -> None:
    path = out / RDF_INPUTS
    path.write_bytes(path.read_bytes()[:-1000])


def stamp_of_wrong_shape(out: Path) -> None:
    (out / STAMP).write_bytes(b'{"stamp": 1, "outputs": [], "paths": 2}')


def garble_store_state(out: Path) -> None:
    path = state_path(out / "store")
    path.write_bytes(path.read_bytes()[:100])


def store_state_of_wrong_shape(out: Path) -> None:
    state_path(out / "store").write_bytes(b'{"version": 2, "targets": {"embedded": []}}')


def delete_store(out: Path) -> None:  # its state names graphs of a store that is gone
    shutil.rmtree(out / "store")


def empty_store_in_its_place(out: Path) -> None:
    """The store deleted, and an empty one made in its place (``open_store``
    for writing does that): the state describes another store."""
    shutil.rmtree(out / "store")
    with open_store(out, read_only=False) as store:
        store.drop_graph("urn:nothing")


def damage_store_files(out: Path) -> None:
    for path in (out / "store").iterdir():
        if path.suffix == ".sst":
            path.write_bytes(path.read_bytes()[:200] + b"\0" * 100)


DAMAGE = [truncate_cache, garble_a_line, wrong_fields, article_dropped, other_content_hash,
          garble_cache_header, garble_stamp, stamp_of_wrong_shape, garble_store_state,
          store_state_of_wrong_shape, delete_store, empty_store_in_its_place, damage_store_files,
          truncate_story_state, truncate_graph_state, garble_graph_journal, truncate_rdf_inputs]
#: Damage found only when the entry is decoded, as the files it is for changed.
READ_ONLY_WHEN_USED = {wrong_fields, article_dropped, other_content_hash, truncate_story_state,
                       truncate_graph_state, garble_graph_journal, truncate_rdf_inputs}


def warning_words(damage: Callable) -> str:
    """Words of the warning this damage gives."""
    name = damage.__name__
    if "graph_state" in name or "graph_journal" in name:
        return "graph state"
    if "story" in name:
        return "story state"
    if "rdf_inputs" in name:
        return "RDF inputs"
    if "store" in name:
        return "store"
    if "stamp" in name:
        return "stamp"
    return "record cache"


@pytest.mark.parametrize("edit", [False, True], ids=["same-files", "title-edited"])
@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_cache_is_detected_said_and_rebuilt(folder, tmp_path, damage, edit):
    out = tmp_path / "out"
    kg.build(folder, out=out)
    damage(out)
    if edit:
        edit_title(folder)
    result = kg.build(folder, out=out)
    if damage in READ_ONLY_WHEN_USED and not edit:
        # Its checksum holds: only decoding the entry tells, and a build of
        # the same files uses none (it is up to date, and right).
        assert not result.built and result.warnings == []
        edit_title(folder)
        result = kg.build(folder, out=out)
    assert result.built
    assert any(warning_words(damage) in w for w in result.warnings), result.warnings
    after = expected(folder, tmp_path)
    now = snapshot(out)
    for name in OUTPUTS:
        assert now[name] == after[name], name
    assert now["store"] == after["store"]
    assert result.files == kg.build(folder, out=tmp_path / "fresh").files  # hashes as read
    # Repaired: the next build is up to date and says nothing.
    again = kg.build(folder, out=out)
    assert not again.built and again.warnings == []
    if (out / CACHE).exists():
        cache = RecordCache(out / CACHE)
        assert len(cache) == len(result.files)
        kg.load(folder, cache=cache)
        assert cache.corrupt == 0 and cache.misses == 0


def test_kg_build_prints_the_warning(folder, tmp_path):
    out = tmp_path / "out"
    kg.build(folder, out=out)
    garble_a_line(out)
    proc = subprocess.run([sys.executable, "-m", "kg.cli", "build", str(folder), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "kg build: warning:" in proc.stderr and "record cache" in proc.stderr


# -- a killed build's forked child ---------------------------------------------------------
CHILD_OF_A_KILLED_BUILD = """
import os, signal
from kg._perf import Forked
ready_r, ready_w = os.pipe()
never_r, never_w = os.pipe()
def child():
    print(os.getpid(), flush=True)
    os.write(ready_w, b"x")
    os.read(never_r, 1)  # as long as the parent lives: nothing is ever written
Forked(child)
os.read(ready_r, 1)
os.kill(os.getpid(), signal.SIGKILL)
"""


def running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_the_forked_child_of_a_killed_build_stops():
    """The child that writes the other exports while the store is updated
    (kg._perf.Forked) must not outlive a build killed with SIGKILL: it would
    go on writing into the folder the next build writes."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD_OF_A_KILLED_BUILD], cwd=ROOT,
                            stdout=subprocess.PIPE)
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    assert proc.wait(timeout=60) == -signal.SIGKILL
    deadline = time.monotonic() + 30  # it ends at once; without the fix, never
    while running(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    if running(child):
        os.kill(child, signal.SIGKILL)
        pytest.fail("the forked child outlived its killed parent")
    proc.stdout.close()


def test_a_new_store_is_swapped_in_in_one_step(tmp_path):
    """StoreBuilder.commit exchanges the new store with the old one (one
    rename(2) call), so no moment is left without a store to kill a build in."""
    from kg.store.embedded import _exchange

    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "old").touch()
    (tmp_path / ".store.tmp-1").mkdir()
    (tmp_path / ".store.tmp-1" / "new").touch()
    assert _exchange(tmp_path / ".store.tmp-1", tmp_path / "store")
    assert [p.name for p in (tmp_path / "store").iterdir()] == ["new"]
    assert [p.name for p in (tmp_path / ".store.tmp-1").iterdir()] == ["old"]
    assert not _exchange(tmp_path / "store", tmp_path / "none")  # nothing to exchange with
