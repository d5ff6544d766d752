"""Time the parse stage (``kg.load``: files -> validated records).

Each run is a fresh process, so nothing is warm but the OS page cache:

* ``cold``: no record cache, every file parsed;
* ``fill``: an empty record cache, every file parsed and the cache saved;
* ``warm``: the cache the last ``fill`` saved, every file taken from it.

Prints the median wall time of ``--runs`` runs of each, and the load
average, as the machine may be shared::

    python benchmarks/bench_parse.py /tmp/corpus-100k --runs 3
    python benchmarks/bench_parse.py /tmp/corpus-100k --against /tmp/old-checkout

``--gc-paused`` pauses Python's cyclic collector, as ``kg build`` does.
The CPU time of the measuring process is printed too: with ``--workers 1``
it is all the work, and it moves much less than wall time on a shared
machine.
``--alias-bomb`` instead times refusing the YAML alias bomb of
``tests/test_ingest.py`` (the corpus argument is then ignored)::

    python benchmarks/bench_parse.py - --alias-bomb
``--against DIR`` runs the same with the ``kg`` package of another checkout
(e.g. ``git worktree add /tmp/old-checkout HEAD~3``), alternating the two
run by run so that both see the same load.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

RUN = r"""
import json, os, resource, sys, time
import kg
from kg.cache import RecordCache
corpus, mode, cache_path, workers, gc_paused = sys.argv[1:6]
if gc_paused == "1":
    import gc
    gc.disable()
wall = time.perf_counter()
cpu = resource.getrusage(resource.RUSAGE_SELF)
cache = None if mode == "cold" else RecordCache(cache_path)  # reading it is part of the stage
if mode == "fill" and len(cache):
    raise SystemExit("fill needs an empty cache")
result = kg.load(corpus, cache=cache, workers=None if workers == "auto" else int(workers))
wall = time.perf_counter() - wall
end = resource.getrusage(resource.RUSAGE_SELF)
cpu = end.ru_utime - cpu.ru_utime + end.ru_stime - cpu.ru_stime
if mode == "fill":
    cache.save()
print(json.dumps({"wall": wall, "cpu": cpu, "files": len(result.files),
                  "hits": cache.hits if cache else None}))
"""


def run_once(code_dir: Path, corpus: str, mode: str, cache_path: Path, workers: str,
             gc_paused: bool = False) -> dict:
    """One measurement in a fresh interpreter whose ``kg`` comes from ``code_dir``."""
    env = dict(os.environ, PYTHONPATH=str(code_dir))
    out = subprocess.run([sys.executable, "-c", RUN, corpus, mode, str(cache_path), workers,
                          "1" if gc_paused else "0"],
                         env=env, cwd=tempfile.gettempdir(), capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def alias_bomb(runs: int) -> None:
    """Print the median time ``kg.read_article`` takes to refuse the alias bomb."""
    import time

    sys.path.insert(0, str(ROOT))
    from kg.ingest import read_article
    from tests.test_ingest import BOMB

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bomb.md"
        path.write_text(BOMB, encoding="utf-8")
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            result = read_article(path, "in/bomb.md")
            times.append(time.perf_counter() - started)
    assert [p.reason for p in result.problems] == ["yaml-aliases"]
    print(f"alias bomb refused in {statistics.median(times) * 1000:.2f} ms "
          f"(median of {runs}; runs: {', '.join(f'{t * 1000:.2f}' for t in times)})")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; print one line per (code, mode) with medians."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--workers", default="auto", help="worker processes (default: auto)")
    ap.add_argument("--against", type=Path, help="another checkout to compare with")
    ap.add_argument("--modes", default="cold,fill,warm")
    ap.add_argument("--gc-paused", action="store_true",
                    help="pause the cyclic collector, as kg build does")
    ap.add_argument("--alias-bomb", action="store_true",
                    help="time refusing the YAML alias bomb of the tests instead")
    args = ap.parse_args(argv)
    if args.alias_bomb:
        alias_bomb(args.runs)
        return 0
    codes = {"this": ROOT}
    if args.against:
        codes["other"] = args.against.resolve()
    modes = args.modes.split(",")
    results: dict[tuple[str, str], list[dict]] = {}
    print(f"load average at start: {os.getloadavg()[0]:.2f}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(args.runs):
            for label, code in codes.items():  # alternate: both see the same load
                cache_path = Path(tmp) / f"{label}-records.jsonl"
                for mode in modes:
                    if mode == "fill" and cache_path.exists():
                        cache_path.unlink()
                    r = run_once(code, args.corpus, mode, cache_path, args.workers,
                                 args.gc_paused)
                    results.setdefault((label, mode), []).append(r)
                    print(f"  run {i + 1} {label:5} {mode:4} {r['wall']:6.2f} s "
                          f"(cpu {r['cpu']:.3f} s)", flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    for (label, mode), rs in results.items():
        walls = [r["wall"] for r in rs]
        cpus = [r["cpu"] for r in rs]
        print(f"{label:5} {mode:4} median wall {statistics.median(walls):6.2f} s "
              f"(runs: {', '.join(f'{w:.2f}' for w in walls)}), median cpu "
              f"{statistics.median(cpus):.3f} s, {rs[0]['files']:,} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
