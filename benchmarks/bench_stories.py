"""Benchmark of story detection (``kg.stories``) on one corpus, or on copies of it.

Loads the corpus once (or a pickled graph of it, see ``--cache``), then
times ``find_stories`` and ``add_stories`` on a fresh copy of the graph per
run and prints the runs and their median; ``--profile`` prints the top of a
cProfile of ``add_stories`` instead.  ``--copies N`` runs on N copies of the
corpus's articles, shifted 120 days apart (texts, dates and ``related``
links kept): ``--copies 26`` of ../shared/corpus/real (the default corpus) is
the 100,000-article figure in benchmarks/README.md, which was a timed test
before (tests/test_stories.py keeps its behaviour at a few copies).  Last,
the peak memory that one more ``find_stories`` allocates (tracemalloc).
``--drop-dates F`` removes the date of a share F of the articles (by a hash
of the id) before the runs: the cost of deciding undated articles.  Run it
with the checkout first on the path (``PYTHONPATH=.``), or ``kg`` is
whatever the interpreter finds first.

    PYTHONPATH=. .venv/bin/python benchmarks/bench_stories.py [CORPUS] [--runs 3] [--copies 26] \
        [--drop-dates 0.1] [--cache /tmp/g100k-stories.pickle] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import os
import pickle
import pstats
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

import networkx as nx

import kg
from kg import stories
from kg.graph import build_graph

ROOT = Path(__file__).resolve().parent.parent


def copies(base: nx.MultiDiGraph, n: int) -> nx.MultiDiGraph:
    """``n`` copies of the articles of ``base`` (ids ``<id>-<copy>``), 120 days apart."""
    big = nx.MultiDiGraph()
    arts = [(a, d) for a, d in base.nodes(data=True) if d["kind"] == "article"]
    for copy in range(n):
        shift = timedelta(days=120 * copy)
        for a, d in arts:
            attrs = {"kind": "article", "title": d["title"], "excerpt": d.get("excerpt", "")}
            if "published" in d:
                attrs["published"] = d["published"] + shift
            big.add_node(f"{a}-{copy}", **attrs)
        for u, v, k in base.edges(keys=True):
            if k == "related":
                big.add_edge(f"{u}-{copy}", f"{v}-{copy}", key=k, rel=k)
    return big


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "real")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--copies", type=int, default=0, help="run on N copies of the corpus, 120 days apart")
    ap.add_argument("--cache", type=Path, help="pickle of the graph: written once, then reused")
    ap.add_argument("--profile", action="store_true", help="profile one run instead")
    ap.add_argument("--drop-dates", type=float, default=0.0, metavar="F",
                    help="remove the date of this share of the articles (0-1)")
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        data = args.cache.read_bytes()
    else:
        if not args.corpus.is_dir():
            print(f"corpus {args.corpus} not found", file=sys.stderr)
            return 2
        graph = build_graph(kg.load(args.corpus))
        if args.copies:
            graph = copies(graph, args.copies)
        for a, d in graph.nodes(data=True):
            share = int(hashlib.sha256(a.encode()).hexdigest()[:8], 16) / 2**32
            if d.get("kind") == "article" and share < args.drop_dates:
                d.pop("published", None)
        data = pickle.dumps(graph, pickle.HIGHEST_PROTOCOL)
        del graph
        if args.cache:
            args.cache.write_bytes(data)
    if args.profile:
        graph = pickle.loads(data)
        prof = cProfile.Profile()
        prof.runcall(stories.add_stories, graph)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return 0
    timings: dict[str, list[float]] = {"find_stories": [], "add_stories": []}
    for _ in range(args.runs):
        graph = pickle.loads(data)  # a fresh graph each run, without story nodes
        t = time.perf_counter()
        found = stories.find_stories(graph)
        timings["find_stories"].append(time.perf_counter() - t)
        t = time.perf_counter()
        ids = stories.add_stories(graph)
        timings["add_stories"].append(time.perf_counter() - t)
        assert len(ids) == len(found)
        del graph
    # Peak memory of one more find_stories, above the graph it reads.
    graph = pickle.loads(data)
    tracemalloc.start()
    stories.find_stories(graph)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    del graph
    arts = sum(1 for _, k in pickle.loads(data).nodes(data="kind") if k == "article")
    what = f"{args.copies} copies of {args.corpus}" if args.copies else str(args.corpus)
    what += f" ({args.drop_dates:.0%} undated)" if args.drop_dates else ""
    print(f"{what}: {len(ids)} stories over {arts} articles; kg from {Path(kg.__file__).parent}; "
          f"load {os.getloadavg()[0]:.2f}")
    for name, times in timings.items():
        print(f"{name}: " + ", ".join(f"{t:.2f}" for t in times)
              + f" s; median {statistics.median(times):.2f} s")
    print(f"find_stories peak memory (tracemalloc, above the graph): {peak / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
