"""The performance benchmark behind ``make bench [N=...]``.

    python benchmarks/run.py [--n 100000] [--repeat 3] [--seed 0]
                             [--skip-baseline] [--keep] [--corpus DIR] [--json PATH]

What it does, on one synthetic corpus (``generate_corpus.py``, cached in
``${TMPDIR:-/tmp}/newskg-bench/corpus-N-seedS`` and reused while complete and
made by the same generator):

1. **baseline**: ``benchmarks/baseline.py`` (python-frontmatter -> NetworkX ->
   rdflib -> N-Triples) in a subprocess, ``--repeat`` times.  Its two rdflib
   queries are timed up to 20,000 files only (``--baseline-queries`` forces
   them: they take minutes beyond).  Skipped above 300,000 files: it needs
   ~66 KB of RAM per article.
2. **kg build, cold**: ``kg.pipeline.build(corpus, out=<fresh dir>, cache=False)``
   and the same with ``cache=True`` into a fresh folder (an empty cache that
   is filled), each in its own process.  Steps 1 and 2 are interleaved, a
   baseline and the two builds per round, ``--repeat`` rounds, so that the
   ratios compare runs of the same periods.
3. **incremental**: one file's title changed (a different file each time),
   then ``build`` again into the cached folder; ``--repeat`` times.  The same
   with one file's body text changed (its records stay the same).  The
   changed files are restored after each, built once more, and then built
   ``--repeat`` times with nothing changed (only checked: up to date).
4. **queries**: every ``ontology/queries/*.rq`` on the built store, each
   ``--repeat`` times, in a fresh process (variables named in a query's
   header, such as ``?topic`` or ``?start``, are bound to the most frequent
   topic, the most frequent provider and a well-linked article).

Every figure is a median over the repeats.  Times are the wall time of the
whole process (interpreter start and imports included) and the stage times
that ``build`` reports; memory is the peak of the process tree, sampled every
0.1 s (less often for large processes, whose PSS costs the kernel more to
sum: at most 5% of a core) as the sum of the processes' PSS (so the parsing
workers count, and the pages they share with their parent count once), next
to ``ru_maxrss`` (the largest single process).  The machine load (``os.getloadavg``) is recorded
before and after every run: on a shared machine, read wall times with it.

The table goes to stdout and the same figures, in JSON with sorted keys, to
``benchmarks/results/bench-N.json``.  Benchmarks are not tests: nothing here
is collected by pytest.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
QUERIES = ROOT / "ontology" / "queries"
RESULTS = HERE / "results"
GENERATOR = HERE / "generate_corpus.py"
BASELINE = HERE / "baseline.py"
BASELINE_MAX_N = 300_000
BASELINE_QUERIES_MAX_N = 20_000   # rdflib's topic co-occurrence takes ~95 s at 20,000
SAMPLE_SECONDS = 0.1

#: The issues' targets (issues 6 and 23), measured at 100,000 articles.
TARGET_BUILD_SECONDS = 30.0
TARGET_PEAK_MB = 2048.0
TARGET_PEAK_MB_1M = 16384.0   # 1,000,000 articles on one machine: within 16 GiB
TARGET_SPEEDUP = 8.0
TARGET_MEMORY_RATIO = 3.0
TARGET_INCREMENTAL_SECONDS = 3.0   # one file changed (any field), or one removed
TARGET_APPEND_SECONDS = 10.0       # 1,000 new files appended
TARGET_QUERY_SECONDS = 1.0         # every example query
TARGET_SCALING = 1.3        # 1M: time per article within 1.3x of the 100k figure
APPENDED = 1000             # files appended in the append scenario


# --------------------------------------------------------------------- measuring

def _children(pid: int) -> list[int]:
    """``pid`` and all its descendants (Linux /proc)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as fh:
                    todo.extend(int(c) for c in fh.read().split())
        except OSError:
            continue
    return out


def _pss_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class _Sampler(threading.Thread):
    """Samples the PSS of a process tree every ``SAMPLE_SECONDS``."""

    def __init__(self, pid: int):
        super().__init__(daemon=True)
        self.pid = pid
        self.samples: list[tuple[float, float]] = []   # (monotonic time, MiB)
        self.stop = threading.Event()

    def run(self) -> None:
        if not os.path.exists("/proc/self/smaps_rollup"):
            return  # not Linux: ru_maxrss only
        while not self.stop.is_set():
            t = time.monotonic()
            kib = sum(_pss_kib(p) for p in _children(self.pid))
            self.samples.append((time.monotonic(), kib / 1024))
            # The kernel walks every page to sum the PSS: ~55 ms of CPU for
            # a 2.5 GB process.  Sampled every 0.1 s that took a third of a
            # core from the build; wait 20 reads' time (<= 5% of a core).
            self.stop.wait(max(SAMPLE_SECONDS, 20 * (time.monotonic() - t)))

    def peak(self, start: float = float("-inf"), end: float = float("inf")) -> float | None:
        inside = [mb for t, mb in self.samples if start <= t <= end]
        return round(max(inside), 1) if inside else None


def measure(cmd: list[str]) -> dict[str, Any]:
    """Run ``cmd``; its wall/CPU time, peak memory, load and stdout."""
    load_before = os.getloadavg()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=ROOT)
        sampler = _Sampler(proc.pid)
        sampler.start()
        try:
            # wait4 gives this child's own rusage (ru_maxrss: the largest of it and
            # its children); RUSAGE_CHILDREN would be a maximum over every run so far.
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            sampler.stop.set()
            sampler.join()
        wall = time.monotonic() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.stderr.write(stderr[-4000:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited with {proc.returncode}")
    return {"wall": wall, "start": t0, "stdout": stdout, "stderr": stderr,
            "sampler": sampler, "usage": usage,
            "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()]}


def _usage(run: dict[str, Any]) -> dict[str, float | None]:
    u = run["usage"]
    if u is None:
        return {"cpu": None, "maxrss_mb": None}
    scale = 1024 if sys.platform != "darwin" else 2**20
    return {"cpu": round(u.ru_utime + u.ru_stime, 3), "maxrss_mb": round(u.ru_maxrss / scale, 1)}


def _median(xs: list[float | None]) -> float | None:
    xs = [x for x in xs if x is not None]
    return round(statistics.median(xs), 3) if xs else None


# --------------------------------------------------------------------- workers
# Each measured run is this script again with --worker, so one process = one run.

_kept: list[object] = []  # what the worker leaves to the end of its process


def _worker_build(corpus: str, out: str, cache: bool) -> dict[str, Any]:
    import kg.pipeline
    t0 = time.monotonic()
    result = kg.pipeline.build(corpus, out=out, cache=cache, rdf=True)
    total = time.monotonic() - t0
    _kept.append(result)  # left to the end of the process, as `kg build` leaves it
    s = result.summary
    return {"start": t0, "build_seconds": round(total, 3), "timings": result.timings,
            "stage_order": list(result.timings),  # the JSON below sorts the keys
            "files": s.get("files", {}), "quads": s.get("quads"),
            # (from the summary: an up-to-date build reads its graph back only when asked)
            "nodes": sum(s["nodes"].values()), "edges": sum(s["edges"].values()),
            "problems": len(result.problems)}


def _query_files() -> list[Path]:
    return sorted(QUERIES.glob("*.rq"))


def _header(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if line.startswith("#"))


def _bindings(store) -> dict[str, Any]:
    """Deterministic values for the variables the example queries document."""
    import pyoxigraph as ox

    def first(q: str):
        rows = list(store.query(q))
        return rows[0][0] if rows else None

    topic = first("SELECT ?l (COUNT(?a) AS ?n) WHERE { ?a schema:about/skos:prefLabel ?l } "
                  "GROUP BY ?l ORDER BY DESC(?n) ?l LIMIT 1")
    domain = first("SELECT ?d (COUNT(?a) AS ?n) WHERE { ?a schema:publisher/nkg:domain ?d } "
                   "GROUP BY ?d ORDER BY DESC(?n) ?d LIMIT 1")
    start = first("SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a a schema:NewsArticle ; "
                  "nkg:relatedArticle ?b } GROUP BY ?a ORDER BY DESC(?n) ?a LIMIT 1")
    out: dict[str, Any] = {"topic": topic, "domain": domain, "k": 2}
    if start is not None:
        out["start"] = ox.NamedNode(str(start))
    return {k: v for k, v in out.items() if v is not None}


def _worker_queries(out: str, repeat: int) -> dict[str, Any]:
    from kg.store import open_store

    t0 = time.monotonic()
    store = open_store(out)
    opened = time.monotonic() - t0
    values = _bindings(store)
    results: dict[str, Any] = {}
    for path in _query_files():
        text = path.read_text(encoding="utf-8")
        header = _header(text)
        wanted = set(re.findall(r"[Bb]ind \?(\w+)", header)) | set(re.findall(r"@param (\w+)", header))
        if "start" in wanted:
            wanted.add("k")  # documented with the start article ("--bind k=1")
        binds = {k: v for k, v in values.items() if k in wanted}
        times, rows = [], 0
        for _ in range(repeat):
            t = time.perf_counter()
            rows = len(store.query(text, bindings=binds).rows)
            times.append(time.perf_counter() - t)
        results[path.stem] = {"seconds": _median(times), "runs": [round(x, 4) for x in times],
                              "rows": rows, "bindings": {k: str(v) for k, v in binds.items()}}
    store.close()
    return {"open_seconds": round(opened, 3), "queries": results}


# --------------------------------------------------------------------- corpus

def _generator_hash() -> str:
    return hashlib.sha256(GENERATOR.read_bytes()).hexdigest()[:12]


def ensure_corpus(n: int, seed: int, root: Path, shape: str = "") -> tuple[Path, float | None]:
    """The cached corpus of ``n`` files (generated unless complete); seconds spent.

    ``shape`` is the generator's ``--shape`` (default: the real files' shape)."""
    sys.path.insert(0, str(HERE))
    from generate_corpus import Shape, generate  # noqa: E402

    form = Shape.parse(shape)
    tag = "" if form == Shape() else "-" + re.sub(r"[^a-z0-9.]+", "-", str(form))
    corpus = root / f"corpus-{n}-seed{seed}{tag}"
    marker = corpus / ".bench-complete.json"
    want = {"n": n, "seed": seed, "generator": _generator_hash(), "shape": str(form)}
    if marker.exists():
        try:
            if json.loads(marker.read_text()) == want:
                return corpus, None
        except ValueError:
            pass
    tmp = root / f".tmp-corpus-{n}-seed{seed}-{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    print(f"generating {n:,} files into {corpus} ...", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    generate(n, tmp, seed, shape=form)
    (tmp / ".bench-complete.json").write_text(json.dumps(want))
    shutil.rmtree(corpus, ignore_errors=True)
    os.replace(tmp, corpus)
    return corpus, round(time.perf_counter() - t0, 1)


def _article_files(corpus: Path) -> list[Path]:
    return sorted(p for p in corpus.rglob("*.md"))


# --------------------------------------------------------------------- the runs

def _me() -> list[str]:
    return [sys.executable, str(Path(__file__).resolve())]


def _worker_baseline(corpus: str, queries: bool) -> dict[str, Any]:
    sys.path.insert(0, str(HERE))
    import baseline
    if not queries:  # rdflib's queries take minutes past 20,000 articles
        baseline.baseline_queries = lambda rdf, topic="": {}
    return baseline.run(corpus)


def run_baseline(corpus: Path, queries: bool, which: str = "") -> dict[str, Any]:
    print(f"baseline ({which}{'' if queries else ', without its queries'}) ...",
          file=sys.stderr, flush=True)
    r = measure(_me() + ["--worker", "baseline", str(corpus)]
                + (["--baseline-queries"] if queries else []))
    data = json.loads(r["stdout"])
    u = _usage(r)
    return {"wall": round(r["wall"], 3), "cpu": u["cpu"], "maxrss_mb": u["maxrss_mb"],
            "peak_pss_mb": r["sampler"].peak(), "load_before": r["load_before"],
            "load_after": r["load_after"], "report": data}


def _median_baseline(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median build time (its report stands for all), with
    the medians of wall time, CPU and memory over every run."""
    middle = sorted(runs, key=lambda r: r["report"]["build_seconds"])[(len(runs) - 1) // 2]
    return {**middle, "wall": _median([r["wall"] for r in runs]),
            "cpu": _median([r["cpu"] for r in runs]),
            "maxrss_mb": _median([r["maxrss_mb"] for r in runs]),
            "peak_pss_mb": _median([r["peak_pss_mb"] for r in runs]),
            "build_seconds_every_run": [r["report"]["build_seconds"] for r in runs]}


def run_build(corpus: Path, out: Path, cache: bool) -> dict[str, Any]:
    cmd = _me() + ["--worker", "build", str(corpus), str(out)] + (["--cache"] if cache else [])
    r = measure(cmd)
    data = json.loads(r["stdout"])
    stages: dict[str, dict[str, float | None]] = {}
    t = data["start"]
    for name in data["stage_order"]:
        secs = data["timings"][name]
        stages[name] = {"seconds": secs, "peak_pss_mb": r["sampler"].peak(t, t + secs)}
        t += secs
    u = _usage(r)
    return {"wall": round(r["wall"], 3), "build_seconds": data["build_seconds"], "cpu": u["cpu"],
            "maxrss_mb": u["maxrss_mb"], "peak_pss_mb": r["sampler"].peak(),
            "stages": stages, "quads": data["quads"], "files": data["files"],
            "nodes": data["nodes"], "edges": data["edges"], "problems": data["problems"],
            "load_before": r["load_before"], "load_after": r["load_after"]}


def run_queries(out: Path, repeat: int) -> dict[str, Any]:
    print("queries ...", file=sys.stderr, flush=True)
    r = measure(_me() + ["--worker", "queries", str(out), "--repeat", str(repeat)])
    data = json.loads(r["stdout"])
    data["load_before"], data["load_after"] = r["load_before"], r["load_after"]
    return data


def _digest_exports(out: Path) -> dict[str, str]:
    """SHA-256 of the deterministic export files (not the store, not the cache).

    Streamed: Linux gives a child this process's peak RSS as its starting
    ``ru_maxrss`` (copied at fork, kept across exec), so reading the 1.1 GB
    of N-Quads whole made every later run report at least 1.2 GB."""
    digests = {}
    for p in sorted(out.iterdir()):
        if p.is_file():
            with open(p, "rb") as f:
                digests[p.name] = hashlib.file_digest(f, "sha256").hexdigest()
    return digests


def _summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of a list of build runs."""
    stage_names = list(runs[0]["stages"])  # in pipeline order
    return {
        "wall": _median([r["wall"] for r in runs]),
        "build_seconds": _median([r["build_seconds"] for r in runs]),
        "cpu": _median([r["cpu"] for r in runs]),
        "peak_pss_mb": _median([r["peak_pss_mb"] for r in runs]),
        "maxrss_mb": _median([r["maxrss_mb"] for r in runs]),
        "stages": {s: {"seconds": _median([r["stages"].get(s, {}).get("seconds") for r in runs]),
                       "peak_pss_mb": _median([r["stages"].get(s, {}).get("peak_pss_mb")
                                               for r in runs])}
                   for s in stage_names},
        "runs": runs,
    }


def _edit_title(path: Path, i: int) -> None:
    """Change an article's front matter: its title (so its records change)."""
    data = path.read_bytes()
    assert b'\ntitle: "' in data, path
    path.write_bytes(data.replace(b'\ntitle: "', b'\ntitle: "Edited (%d): ' % i, 1))


def _edit_body(path: Path, i: int) -> None:
    """Change a file's body outside its lead (its records stay the same): the
    generated files have no body, so the edit is a comment, which no lead holds."""
    with open(path, "ab") as fh:
        fh.write(f"\n<!-- Edited for the incremental benchmark ({i}). -->\n".encode())


def bench(n: int, repeat: int, seed: int, skip_baseline: bool, keep: bool,
          corpus: Path | None, work_root: Path, baseline_queries: bool | None = None,
          shape: str = "") -> dict[str, Any]:
    work_root.mkdir(parents=True, exist_ok=True)
    generated = None
    if corpus is None:
        corpus, generated = ensure_corpus(n, seed, work_root, shape)
    files = _article_files(corpus)
    result: dict[str, Any] = {
        "n": len(files), "seed": seed, "shape": shape, "repeat": repeat, "corpus": str(corpus),
        "corpus_generation_seconds": generated, "environment": _environment(),
        "load_start": [round(x, 2) for x in os.getloadavg()],
    }
    with_baseline = not skip_baseline and len(files) <= BASELINE_MAX_N
    if baseline_queries is None:
        baseline_queries = len(files) <= BASELINE_QUERIES_MAX_N

    runs_dir = Path(tempfile.mkdtemp(prefix="runs-", dir=work_root))
    baselines: list[dict[str, Any]] = []
    cold: list[dict[str, Any]] = []
    cached: list[dict[str, Any]] = []
    digests: dict[str, dict[str, str]] = {}
    try:
        # Interleaved, a baseline and two cold builds per round: the machine's
        # speed drifts, and a ratio of medians taken in different periods drifts with it.
        for i in range(repeat):
            if with_baseline:
                baselines.append(run_baseline(corpus, baseline_queries, f"{i + 1}/{repeat}"))
            for use_cache, bucket in ((False, cold), (True, cached)):
                out = runs_dir / f"{'cache' if use_cache else 'nocache'}-{i}"
                label = "cache on" if use_cache else "cache off"
                print(f"kg build, cold, {label} ({i + 1}/{repeat}) ...", file=sys.stderr, flush=True)
                bucket.append(run_build(corpus, out, use_cache))
                if i == repeat - 1:
                    digests[label] = _digest_exports(out)
                elif not keep:
                    shutil.rmtree(out)
        result["baseline"] = _median_baseline(baselines) if baselines else None
        result["build_cold"] = _summarise(cold)
        result["build_cold_cache"] = _summarise(cached)
        # cache on and off must give the same exports (the cache is invisible)
        same = digests["cache on"] == digests["cache off"]
        result["exports_identical_with_and_without_cache"] = same

        warm = runs_dir / f"cache-{repeat - 1}"
        for key, edit, what, offset in (("build_incremental", _edit_title, "a title", 13),
                                        ("build_body_edit", _edit_body, "a body", 29)):
            picks = [files[(k * 7919 + offset) % len(files)] for k in range(repeat)]
            originals = {p: p.read_bytes() for p in picks}
            incremental: list[dict[str, Any]] = []
            try:
                for k, path in enumerate(picks):
                    print(f"kg build, incremental, {what} edited ({k + 1}/{repeat}) ...",
                          file=sys.stderr, flush=True)
                    edit(path, k)
                    r = run_build(corpus, warm, True)
                    r["changed"] = str(path.relative_to(corpus))
                    incremental.append(r)
            finally:
                for path, data in originals.items():
                    path.write_bytes(data)
            result[key] = _summarise(incremental)
            print("kg build, after restoring the files ...", file=sys.stderr, flush=True)
            run_build(corpus, warm, True)
        # Files taken away and put back: one (removed, then added), and the
        # newest APPENDED (a day's articles: removed, then appended).
        aside = runs_dir / "aside"
        for count, gone_key, back_key in ((1, "build_removed", "build_added"),
                                          (APPENDED, "build_removed_many", "build_appended")):
            gone: list[dict[str, Any]] = []
            back: list[dict[str, Any]] = []
            for k in range(repeat):
                picks = ([files[(k * 7919 + 41) % len(files)]] if count == 1
                         else files[-min(count, len(files) // 2):])
                print(f"kg build, {len(picks)} file(s) removed, then put back ({k + 1}/{repeat}) ...",
                      file=sys.stderr, flush=True)
                moved = [(p, aside / p.relative_to(corpus)) for p in picks]
                try:
                    for p, q in moved:
                        q.parent.mkdir(parents=True, exist_ok=True)
                        os.replace(p, q)
                    gone.append(run_build(corpus, warm, True))
                finally:
                    for p, q in moved:
                        os.replace(q, p)
                back.append(run_build(corpus, warm, True))
            result[gone_key], result[back_key] = _summarise(gone), _summarise(back)
        # The same files as the cold builds: the same exports, whatever the path.
        result["incremental_equals_cold"] = _digest_exports(warm) == digests["cache on"]
        # Again with nothing changed since the last build: only checked.
        unchanged = []
        for k in range(repeat):
            print(f"kg build, nothing changed ({k + 1}/{repeat}) ...", file=sys.stderr, flush=True)
            unchanged.append(run_build(corpus, warm, True))
        result["build_unchanged"] = _summarise(unchanged)
        result["queries"] = run_queries(warm, repeat)
    finally:
        if keep:
            print(f"kept the build folders in {runs_dir}", file=sys.stderr)
            result["kept"] = str(runs_dir)
        else:
            shutil.rmtree(runs_dir, ignore_errors=True)
    result["load_end"] = [round(x, 2) for x in os.getloadavg()]
    result["derived"] = _derived(result)
    result["targets"] = _targets(result)
    return result


def _environment() -> dict[str, Any]:
    import importlib.metadata as md
    versions = {}
    for dist in ("newskg", "pyoxigraph", "networkx", "rdflib", "orjson", "PyYAML", "yaml-rs"):
        try:
            versions[dist] = md.version(dist)
        except md.PackageNotFoundError:
            versions[dist] = None
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                capture_output=True, text=True).stdout.strip() or None
    except OSError:
        commit = None
    mem = None
    try:
        with open("/proc/meminfo") as fh:
            mem = round(int(fh.readline().split()[1]) / 2**20, 1)
    except OSError:
        pass
    return {"python": platform.python_version(), "platform": platform.platform(),
            "cpus": os.cpu_count(), "memory_gib": mem, "commit": commit,
            "versions": versions, "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a and b else None


def _peak(build: dict[str, Any]) -> float:
    """The process tree's sampled PSS, or the largest process if that is more."""
    return max(x for x in (build["peak_pss_mb"], build["maxrss_mb"], 0.0) if x is not None)


def _derived(res: dict[str, Any]) -> dict[str, Any]:
    n = res["n"]
    cold = res["build_cold"]
    quads = cold["runs"][0]["quads"]
    d: dict[str, Any] = {
        "files_per_second": round(n / cold["wall"], 1),
        "parse_files_per_second": round(n / cold["stages"]["parse"]["seconds"], 1)
        if cold["stages"].get("parse", {}).get("seconds") else None,
        "quads": quads,
        "quads_per_article": round(quads / n, 1) if quads else None,
        "quads_per_second": round(quads / cold["wall"], 1) if quads else None,
        "seconds_per_1000_articles": round(1000 * cold["wall"] / n, 4),
        "peak_mb": _peak(cold),
        # what `kg build` does by default: the record cache, graph and story states kept too
        "peak_mb_cache": _peak(res["build_cold_cache"]),
    }
    base = res.get("baseline")
    if base:
        rep = base["report"]
        d["baseline_build_seconds"] = rep["build_seconds"]
        d["baseline_files_per_second"] = round(n / rep["build_seconds"], 1)
        d["baseline_triples"] = rep["triples"]
        d["baseline_triples_per_second"] = round(rep["triples"] / rep["build_seconds"], 1)
        d["baseline_peak_mb"] = base["maxrss_mb"] or base["peak_pss_mb"]  # one process: exact
        d["speedup"] = _ratio(rep["build_seconds"], cold["wall"])
        d["memory_ratio"] = _ratio(d["baseline_peak_mb"], d["peak_mb"])
        ours = res["queries"]["queries"]
        d["query_ratio"] = {name: _ratio(rep["queries"][name]["seconds"], ours[name]["seconds"])
                            for name in ("topic_cooccurrence", "top_providers_for_topic")
                            if name in rep["queries"] and name in ours}
    ref = RESULTS / "bench-100000.json"
    if n >= 500_000 and ref.exists():
        ref_d = json.loads(ref.read_text())["derived"]
        d["scaling_vs_100k"] = _ratio(d["seconds_per_1000_articles"],
                                      ref_d["seconds_per_1000_articles"])
    return d


def _targets(res: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets with the measured value and met / not met."""
    d = res["derived"]
    out = []

    def add(name: str, value: float | None, limit: float, higher_is_better: bool, unit: str):
        met = None if value is None else (value >= limit if higher_is_better else value <= limit)
        out.append({"target": name, "value": value, "limit": limit, "unit": unit,
                    "met": met})

    add("cold build wall (files -> graph + N-Quads + store)", res["build_cold"]["wall"],
        TARGET_BUILD_SECONDS, False, "s")
    peak_limit = TARGET_PEAK_MB_1M if res["n"] >= 500_000 else TARGET_PEAK_MB
    add("cold build peak memory, cache off", d["peak_mb"], peak_limit, False, "MiB")
    add("cold build peak memory, cache on (kg build's default)", d["peak_mb_cache"], peak_limit,
        False, "MiB")
    add("speed-up vs baseline", d.get("speedup"), TARGET_SPEEDUP, True, "x")
    add("memory ratio vs baseline", d.get("memory_ratio"), TARGET_MEMORY_RATIO, True, "x")
    add("incremental rebuild, one file's title changed", res["build_incremental"]["wall"],
        TARGET_INCREMENTAL_SECONDS, False, "s")
    for key, what, limit in (("build_removed", "one file removed", TARGET_INCREMENTAL_SECONDS),
                             ("build_appended", f"{APPENDED:,} files appended",
                              TARGET_APPEND_SECONDS)):
        if key in res:
            add(f"incremental rebuild, {what}", res[key]["wall"], limit, False, "s")
    slowest = max(res["queries"]["queries"].values(), key=lambda q: q["seconds"] or 0.0,
                  default=None)
    if slowest is not None:
        add("slowest example query", slowest["seconds"], TARGET_QUERY_SECONDS, False, "s")
    if "scaling_vs_100k" in d:
        add("time per article vs the 100,000 run", d["scaling_vs_100k"], TARGET_SCALING,
            False, "x")
    for key, what in (("exports_identical_with_and_without_cache",
                       "exports identical with and without the cache"),
                      ("incremental_equals_cold",
                       "exports after the incremental builds identical to a cold build's")):
        if key in res:
            out.append({"target": what, "unit": "", "value": res[key], "limit": True,
                        "met": res[key]})
    return out


# --------------------------------------------------------------------- the table

def _fmt(x: Any, unit: str = "") -> str:
    if x is None:
        return "-"
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, float):
        text = f"{x:,.0f}" if abs(x) >= 100 else f"{x:,.2f}" if abs(x) >= 1 else f"{x:.3f}"
    else:
        text = f"{x:,}" if isinstance(x, int) else str(x)
    return f"{text} {unit}".rstrip()


def table(res: dict[str, Any]) -> str:
    lines: list[str] = []
    w = lines.append
    env = res["environment"]
    d = res["derived"]
    w(f"newskg benchmark: {res['n']:,} articles, medians of {res['repeat']}, "
      f"{env['cpus']} CPUs, {env['memory_gib']} GiB, Python {env['python']}, commit {env['commit']}")
    w(f"load average (1/5/15 min) at start {res['load_start']}, at end {res['load_end']}")
    w("")
    cols = ("stage", "baseline s", "baseline MiB", "cold s", "cold MiB", "cache s", "incr. s")
    w("{:<16}{:>12}{:>14}{:>10}{:>10}{:>10}{:>10}".format(*cols))
    base = res.get("baseline")
    bst = base["report"]["stages"] if base else {}
    c, cc, inc = res["build_cold"], res["build_cold_cache"], res["build_incremental"]
    # the baseline's stages next to ours where they do the same work
    # "rdf" is the N-Quads, "exports" the Turtle, JSON-LD, graph JSON/GraphML,
    # problems and manifest, both while the store loads in the background;
    # "store" what is left of loading, and compaction.
    pairs = [("parse", "parse"), ("graph", "graph"), ("stories", None),
             ("rdf", "rdf"), ("(serialize nt)", "serialize_nt"),
             ("store", None), ("exports", None), ("manifest", None)]
    for ours, theirs in pairs:
        b = bst.get(theirs) if theirs else None
        w("{:<16}{:>12}{:>14}{:>10}{:>10}{:>10}{:>10}".format(
            ours, _fmt(b and b["seconds"]), _fmt(b and b["peak_rss_mb"]),
            _fmt(c["stages"].get(ours, {}).get("seconds")),
            _fmt(c["stages"].get(ours, {}).get("peak_pss_mb")),
            _fmt(cc["stages"].get(ours, {}).get("seconds")),
            _fmt(inc["stages"].get(ours, {}).get("seconds"))))
    w("{:<16}{:>12}{:>14}{:>10}{:>10}{:>10}{:>10}".format(
        "total (process)", _fmt(base and base["report"]["build_seconds"]),
        _fmt(d.get("baseline_peak_mb")), _fmt(c["wall"]), _fmt(d["peak_mb"]),
        _fmt(cc["wall"]), _fmt(inc["wall"])))
    w("")
    w(f"kg build (cold, cache off): {_fmt(d['files_per_second'])} files/s overall, "
      f"{_fmt(d['parse_files_per_second'])} files/s parsing, {_fmt(d['quads'])} quads "
      f"({_fmt(d['quads_per_article'])}/article), {_fmt(d['quads_per_second'])} quads/s; "
      f"CPU {_fmt(c['cpu'])} s; largest process {_fmt(c['maxrss_mb'])} MiB")
    w(f"kg build (cold, cache on: the default): {_fmt(cc['wall'])} s, peak "
      f"{_fmt(d['peak_mb_cache'])} MiB; CPU {_fmt(cc['cpu'])} s; largest process "
      f"{_fmt(cc['maxrss_mb'])} MiB")
    if base:
        w(f"baseline: {_fmt(d['baseline_files_per_second'])} files/s, "
          f"{_fmt(d['baseline_triples'])} triples, {_fmt(d['baseline_triples_per_second'])} "
          f"triples/s; CPU {_fmt(base['cpu'])} s")
        w(f"ratio to the baseline: {_fmt(d['speedup'])}x faster, "
          f"{_fmt(d['memory_ratio'])}x less memory")
    w("")
    w("incremental builds (medians; stage seconds):")
    for key, what in (("build_incremental", "one title changed"),
                      ("build_body_edit", "one body edited"),
                      ("build_removed", "one file removed"), ("build_added", "one file added"),
                      ("build_removed_many", f"{APPENDED:,} files removed"),
                      ("build_appended", f"{APPENDED:,} files appended"),
                      ("build_unchanged", "nothing changed")):
        if key in res:
            r = res[key]
            stages = ", ".join(f"{k} {_fmt(v['seconds'])}" for k, v in r["stages"].items()
                               if v["seconds"])
            w(f"  {what:<22}{_fmt(r['wall']):>8} s  CPU {_fmt(r['cpu']):>6} s  "
              f"{_fmt(r['peak_pss_mb']):>7} MiB   {stages}")
    w("")
    if "build_body_edit" in res:
        w(f"kg build after a body-only edit of one file (same records: manifest rewritten): "
          f"{_fmt(res['build_body_edit']['wall'])} s")
    if "build_unchanged" in res:
        w(f"kg build again with nothing changed (up to date, only checked): "
          f"{_fmt(res['build_unchanged']['wall'])} s")
    w(f"exports identical with and without the cache: "
      f"{_fmt(res['exports_identical_with_and_without_cache'])}")
    w("")
    q = res["queries"]
    w(f"queries on the built store (opened in {_fmt(q['open_seconds'])} s; median seconds):")
    bq = base["report"]["queries"] if base else {}
    for name, info in q["queries"].items():
        extra = ""
        if name in bq:
            extra = f"   (baseline rdflib: {_fmt(bq[name]['seconds'])} s)"
        binds = ", ".join(f"{k}={v}" for k, v in info["bindings"].items())
        w(f"  {name:<28}{_fmt(info['seconds']):>10} s  {info['rows']:>8,} rows"
          f"{'  [' + binds + ']' if binds else ''}{extra}")
    w("")
    w("targets (issues 6 and 23)" + ("" if res["n"] == 100_000 else
                             f", set for 100,000 articles; this run has {res['n']:,}") + ":")
    for t in res["targets"]:
        met = {True: "met", False: "NOT MET", None: "n/a"}[t["met"]]
        limit = t["limit"]
        lim = "" if isinstance(limit, bool) else (
            f" (limit {'>=' if 'ratio' in t['target'] or 'speed' in t['target'] else '<='} "
            f"{_fmt(limit)} {t['unit']})")
        w(f"  {t['target']}: {_fmt(t['value'], t['unit'])}{lim}: {met}")
    return "\n".join(lines)


# --------------------------------------------------------------------- main

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="newskg performance benchmark (make bench)")
    ap.add_argument("--n", type=int, default=100_000, help="number of articles (default 100000)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measurement (default 3)")
    ap.add_argument("--seed", type=int, default=0, help="corpus seed (default 0)")
    ap.add_argument("--skip-baseline", action="store_true", help="do not run the baseline")
    ap.add_argument("--keep", action="store_true", help="keep the build folders")
    ap.add_argument("--baseline-queries", action=argparse.BooleanOptionalAction, default=None,
                    help="time the baseline's rdflib queries too (default: up to 20,000 files)")
    ap.add_argument("--corpus", type=Path, help="use this corpus folder instead of generating")
    ap.add_argument("--shape", default="",
                    help="the generated corpus' shape: inside=SHARE,related=FACTOR,topics=FACTOR "
                         "(generate_corpus.py --shape; default: the real files')")
    ap.add_argument("--json", type=Path, help="results file (default results/bench-N.json)")
    ap.add_argument("--work", type=Path,
                    default=Path(os.environ.get("TMPDIR") or "/tmp") / "newskg-bench",
                    help="cache of corpora and build folders (default $TMPDIR/newskg-bench)")
    ap.add_argument("--worker", nargs="+", help=argparse.SUPPRESS)
    ap.add_argument("--cache", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.worker:
        sys.path.insert(0, str(ROOT))
        kind, *rest = args.worker
        if kind == "build":
            data = _worker_build(rest[0], rest[1], args.cache)
        elif kind == "baseline":
            data = _worker_baseline(rest[0], bool(args.baseline_queries))
        else:
            data = _worker_queries(rest[0], args.repeat)
        print(json.dumps(data, sort_keys=True), flush=True)
        _kept.append(_kept)  # and exit as the kg command does (kg.cli.console_main)
        gc.freeze()
        return 0

    if args.n < 1 or args.repeat < 1:
        ap.error("--n and --repeat must be >= 1")
    if args.corpus is not None and not args.corpus.is_dir():
        ap.error(f"not a directory: {args.corpus}")
    res = bench(args.n, args.repeat, args.seed, args.skip_baseline, args.keep,
                args.corpus, args.work, args.baseline_queries, args.shape)
    print(table(res))
    tag = "-" + re.sub(r"[^a-z0-9.]+", "-", args.shape) if args.shape else ""
    path = args.json or RESULTS / f"bench-{res['n']}{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(res, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    print(f"\nwrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
