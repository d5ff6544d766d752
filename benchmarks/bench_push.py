"""Benchmark of ``kg push`` to a local Oxigraph server (not a test).

    python benchmarks/bench_push.py [N] [--nq FILE] [--workdir DIR] [--repeat R]

1. The export: a synthetic N-article corpus (``benchmarks/generate_corpus.py``,
   default N=100,000) through ``load_corpus`` -> ``build_graph`` ->
   ``write_rdf``; or an existing N-Quads file with ``--nq``.
2. Baseline: the physical limit of the server here, one Graph Store HTTP
   upload (``PUT /store?graph=...``) of the whole export as one N-Triples file
   to a fresh ``oxigraph serve`` (the file already in memory: only the
   request is timed).
3. ``kg.store.push`` of the export (reading, grouping by graph, hashing,
   state file, drop + N-Quads POST per batch) to a fresh server, then the
   same push again (nothing changed: nothing sent) and a push with one graph
   changed.

Each fresh-server measurement is repeated ``--repeat`` times (default 3)
and the best is kept: the machine is shared.  Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from servers import start_oxigraph, stop_pid  # noqa: E402

from kg.graph import build_graph  # noqa: E402
from kg.store import RemoteStore, push, read_graphs  # noqa: E402


def make_export(n: int, workdir: Path) -> Path:
    from generate_corpus import generate  # benchmarks/ is on sys.path when run as a script

    import kg
    from kg.rdf import write_rdf

    export = workdir / f"export-{n}"
    nq = export / "newskg.nq"
    if nq.exists():
        return nq
    corpus = workdir / f"corpus-{n}"
    if not corpus.exists():
        t = time.perf_counter()
        generate(n, corpus, seed=0)
        print(f"generated {n:,} articles in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    t = time.perf_counter()
    graph = build_graph(kg.load(corpus))
    write_rdf(graph, export)
    print(f"built the export in {time.perf_counter() - t:.0f}s", file=sys.stderr)
    return nq


def baseline(nt: bytes, workdir: Path) -> float:
    ep = start_oxigraph(workdir / "baseline-store")
    try:
        url = ep.graph_store_url + "?" + urllib.parse.urlencode({"graph": "https://example.org/all"})
        req = urllib.request.Request(url, data=nt, method="PUT",
                                     headers={"Content-Type": "application/n-triples"})
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=3600) as resp:
            resp.read()
        return time.perf_counter() - t
    finally:
        stop_pid(ep.process)
        shutil.rmtree(workdir / "baseline-store", ignore_errors=True)


def push_once(nq: Path, workdir: Path) -> dict:
    export = workdir / "push-export"
    export.mkdir(exist_ok=True)
    (export / "push-state.json").unlink(missing_ok=True)
    if not (export / "newskg.nq").exists():
        os.symlink(nq, export / "newskg.nq")
    ep = start_oxigraph(workdir / "push-store")
    try:
        store = RemoteStore(ep.query_url)
        first = push(export, store)
        t = time.perf_counter()
        again = push(export, store)
        unchanged_s = time.perf_counter() - t
        # One graph changed: forget its hash, as if its file had been edited.
        state = json.loads((export / "push-state.json").read_text())
        graphs = next(iter(state["targets"].values()))["graphs"]
        graphs.pop(sorted(graphs)[len(graphs) // 2])
        (export / "push-state.json").write_text(json.dumps(state))
        one = push(export, store)
        counts = store.graph_counts()
        return {"seconds": first.seconds, "triples": first.triples_sent,
                "graphs": first.graphs_replaced, "requests": first.requests,
                "bytes": first.bytes_sent, "method": first.method,
                "server_triples": sum(counts.values()),
                "unchanged_push_s": round(unchanged_s, 3), "unchanged_requests": again.requests,
                "one_graph_push_s": round(one.seconds, 3), "one_graph_requests": one.requests}
    finally:
        stop_pid(ep.process)
        shutil.rmtree(workdir / "push-store", ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("n", nargs="?", type=int, default=100_000)
    ap.add_argument("--nq", type=Path, help="push this N-Quads file instead of a generated corpus")
    ap.add_argument("--workdir", type=Path, help="keep corpus and export here (default: temporary)")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT / "benchmarks"))
    tmp = None
    workdir = args.workdir
    if workdir is None:
        tmp = tempfile.TemporaryDirectory(prefix="bench-push-")
        workdir = Path(tmp.name)
    workdir.mkdir(parents=True, exist_ok=True)
    try:
        nq = args.nq or make_export(args.n, workdir)
        t = time.perf_counter()
        graphs = read_graphs(nq)
        read_s = time.perf_counter() - t
        nt = b"".join(line[: line.rindex(b" <")] + b" .\n"
                      for lines in graphs.values() for line in lines)
        triples = nt.count(b"\n")
        del graphs
        base = min(baseline(nt, workdir) for _ in range(args.repeat))
        del nt
        runs = [push_once(nq, workdir) for _ in range(args.repeat)]
        best = min(runs, key=lambda r: r["seconds"])
        assert best["server_triples"] == best["triples"] == triples, (best, triples)
        print(json.dumps({
            "n_articles": None if args.nq else args.n, "nquads": str(nq),
            "triples": triples, "graphs": best["graphs"],
            "read_group_hash_s": round(read_s, 2),
            "baseline_whole_file_put_s": round(base, 2),
            "baseline_triples_per_s": round(triples / base),
            "push_s": round(best["seconds"], 2),
            "push_triples_per_s": round(triples / best["seconds"]),
            "push_over_baseline": round(best["seconds"] / base, 2),
            "push_runs_s": [round(r["seconds"], 2) for r in runs],
            **{k: best[k] for k in ("method", "requests", "bytes", "unchanged_push_s",
                                    "unchanged_requests", "one_graph_push_s",
                                    "one_graph_requests")},
            "cpus": os.cpu_count(), "load_avg": os.getloadavg(),
        }, indent=2))
    finally:
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    main()
