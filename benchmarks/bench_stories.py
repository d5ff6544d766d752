"""Benchmark of story detection (``kg.stories.add_stories``) on one corpus.

Loads the corpus once (or a pickled graph of it, see ``--cache``), then
times ``add_stories`` on a fresh copy of the graph per run and prints the
runs and their median; ``--profile`` prints the top of a cProfile instead.

    .venv/bin/python benchmarks/bench_stories.py /tmp/corpus-100k [--runs 3] \
        [--cache /tmp/g100k-stories.pickle] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pickle
import pstats
import statistics
import sys
import time
from pathlib import Path

import kg
from kg import stories


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", type=Path)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--cache", type=Path, help="pickle of the graph: written once, then reused")
    ap.add_argument("--profile", action="store_true", help="profile one run instead")
    args = ap.parse_args()
    if args.cache and args.cache.exists():
        data = args.cache.read_bytes()
    else:
        if not args.corpus.is_dir():
            print(f"corpus {args.corpus} not found", file=sys.stderr)
            return 2
        data = pickle.dumps(kg.build_graph(kg.load_corpus(args.corpus)), pickle.HIGHEST_PROTOCOL)
        if args.cache:
            args.cache.write_bytes(data)
    if args.profile:
        graph = pickle.loads(data)
        prof = cProfile.Profile()
        prof.runcall(stories.add_stories, graph)
        pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        return 0
    times = []
    for _ in range(args.runs):
        graph = pickle.loads(data)  # a fresh graph each run, without story nodes
        t = time.perf_counter()
        ids = stories.add_stories(graph)
        times.append(time.perf_counter() - t)
        del graph
    arts = sum(1 for _, k in pickle.loads(data).nodes(data="kind") if k == "article")
    print(f"{args.corpus}: {len(ids)} stories over {arts} articles; load {os.getloadavg()[0]:.2f}")
    print("add_stories: " + ", ".join(f"{t:.2f}" for t in times)
          + f" s; median {statistics.median(times):.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
