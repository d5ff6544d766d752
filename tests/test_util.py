"""Helpers of kg._util: atomic writes, work in a forked process, freed memory."""

from __future__ import annotations

import gc
import os
import sys
import time
import weakref
from pathlib import Path

import pytest

from kg._perf import Forked, Shared, gc_paused, release_freed_memory
from kg._util import atomic_writer, read_checked, read_parts, remove_stale_temps, write_parts


def _write(path, text: str) -> int:
    with atomic_writer(path, "w") as f:
        f.write(text)
    return os.getpid()


def test_forked_work_happens_in_another_process_and_returns_its_result(tmp_path):
    child = Forked(_write, tmp_path / "a.txt", "from the child")
    assert child.result() not in (os.getpid(), None)
    assert (tmp_path / "a.txt").read_text() == "from the child"
    assert child.result() != os.getpid()  # asked again: the same answer


def test_forked_work_raises_its_exception_in_the_parent(tmp_path):
    with pytest.raises(ValueError, match="null"):
        Forked(_write, tmp_path / "bad\0name", "x").result()
    with pytest.raises(ChildProcessError, match="exit code 3"):
        Forked(os._exit, 3).result()  # died without a word


def _take(log: Path, i: int) -> None:
    time.sleep(0.05)  # long enough for the other process to take the next call
    with open(log, "a") as f:
        f.write(f"{i} {os.getpid()}\n")


def test_shared_calls_are_each_made_once_by_whichever_process_is_free(tmp_path):
    log = tmp_path / "log"
    shared = Shared([(_take, (log, i)) for i in range(12)])
    child = Forked(shared.run)
    time.sleep(0.12)  # this process is busy with its own work meanwhile
    shared.run()
    child.result()
    taken = [line.split() for line in log.read_text().splitlines()]
    assert sorted(int(i) for i, _ in taken) == list(range(12))  # each once
    by = {pid for _, pid in taken}
    assert str(os.getpid()) in by and len(by) == 2  # both took some
    mine = [int(i) for i, pid in taken if pid == str(os.getpid())]
    assert min(mine) > 0  # the child, first at work, took the first


def _slow_write(path) -> None:
    with atomic_writer(path, "w") as f:
        f.write("partial")
        time.sleep(30)


def test_leaving_early_stops_the_child_and_leaves_no_partial_file(tmp_path):
    started = time.monotonic()
    with pytest.raises(KeyError), Forked(_slow_write, tmp_path / "slow.txt"):
        deadline = time.monotonic() + 10
        while not list(tmp_path.iterdir()) and time.monotonic() < deadline:
            time.sleep(0.01)  # until the child has its temporary file
        raise KeyError("the parent failed")
    assert time.monotonic() - started < 10
    assert list(tmp_path.iterdir()) == []  # the child's atomic writer cleaned up


def _resident_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def _freed_then_released() -> tuple[float, float]:
    lines = [os.urandom(8) * 375 for _ in range(20_000)]  # 60 MB of 3,000-byte lines: the C heap
    keep = os.urandom(8) * 375  # allocated last, so the heap's top stays in use  # noqa: F841
    del lines
    before = _resident_mb()
    release_freed_memory()
    return before, _resident_mb()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim, /proc")
def test_freed_heap_memory_is_given_back():
    before, after = Forked(_freed_then_released).result()  # a fresh heap of its own
    assert before - after > 40, (before, after)


def _paused_then_resumed() -> tuple[int, int, bool, int, int]:
    gc.collect()
    with gc_paused():
        made = [[i] for i in range(10_000)]
    oldest = {id(o) for o in gc.get_objects(generation=2)}
    in_oldest = sum(id(x) in oldest for x in made)
    # Objects the caller froze stay frozen: resuming must not thaw them.
    mine = [[i] for i in range(1_000)]  # noqa: F841 (frozen with the rest)
    gc.freeze()
    frozen = gc.get_freeze_count()
    with gc_paused():
        made += [[i] for i in range(1_000)]
    return in_oldest, len(made), gc.isenabled(), frozen, gc.get_freeze_count()


def test_objects_made_while_the_collector_is_paused_are_not_left_young():
    # (no young collection then walks the whole graph a build has just made)
    in_oldest, made, enabled, frozen_before, frozen_after = Forked(_paused_then_resumed).result()
    assert in_oldest == 10_000 and made == 11_000 and enabled
    assert frozen_before > 1_000 and frozen_after == frozen_before


def test_in_background_lets_go_of_its_work_as_soon_as_it_is_done():
    # kg build saves the record cache beside the graph's construction: the
    # cache's lines must be freed when the save ends, not when the block does.
    from kg._perf import in_background

    class Cache:
        def save(self) -> str:
            return "saved"

    cache = Cache()
    alive = weakref.ref(cache)
    with in_background(cache.save) as saving:
        del cache
        assert saving.result() == "saved"
        for _ in range(200):  # the worker drops its work item just after the result
            if alive() is None:
                break
            time.sleep(0.01)
        assert alive() is None


def test_the_temporary_file_of_a_writer_that_ended_unreaped_is_removed(tmp_path):
    # A writer's process that ended and that nobody waited for (a zombie: a killed
    # build's child, adopted by an init that reaps nothing) is not alive.
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    try:
        for _ in range(100):
            if Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z":
                break
            time.sleep(0.01)
        stale = tmp_path / f".newskg.json.{pid}-abcd.tmp"
        stale.write_text("half")
        live = tmp_path / f".newskg.nq.{os.getpid()}-abcd.tmp"
        live.write_text("being written")
        assert remove_stale_temps(tmp_path) == [stale.name]
        assert live.exists()
    finally:
        os.waitpid(pid, 0)


def test_an_interrupted_writer_removes_its_temporary_file(tmp_path):
    with pytest.raises(KeyboardInterrupt), atomic_writer(tmp_path / "out.txt") as f:
        f.write(b"half")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []


def test_a_file_written_in_parts_reads_back_part_by_part_and_refuses_damage(tmp_path):
    path = tmp_path / "state"
    parts = [{"a": [1, 2]}, "text", (3.5, None), list(range(1000))]
    digest = write_parts(path, "k", iter(parts))
    assert read_parts(path, "k") == (parts, digest)
    assert read_parts(path, "other key") is None and read_parts(tmp_path / "none", "k") is None
    with pytest.raises(ValueError, match="parts where one"):  # read_checked wants one part
        read_checked(path, "k")
    data = path.read_bytes()
    for damaged in (data[:-1], data[:-10] + bytes(10), data + b"\0"):
        path.write_bytes(damaged)
        with pytest.raises(ValueError, match="checksum"):
            read_parts(path, "k")


def test_a_failed_write_in_parts_closes_its_generator_and_leaves_the_last_file(tmp_path):
    path = tmp_path / "state"
    write_parts(path, "k", ["before"])
    closed = []

    def parts():
        try:
            yield "fine"
            yield object()  # marshal cannot write it
            yield "never"
        finally:
            closed.append(True)

    with pytest.raises(ValueError):
        write_parts(path, "k", parts())
    assert closed == [True]
    assert read_parts(path, "k") == (["before"], read_parts(path, "k")[1])
    assert [p.name for p in tmp_path.iterdir()] == ["state"]  # no temporary file left
