"""Benchmark of the tables and timelines of a built graph: time and memory.

Reads the graph of an export folder (``kg build CORPUS --out DIR``; e.g. the
100,000-article corpus of ``benchmarks/generate_corpus.py``), then times each
table, ``kg export tables`` as CSV and as Parquet, and timelines (by week; by
month and provider; by week and story).  Memory is the process's peak
resident set (``ru_maxrss``) after each step, and what the step added to it.

    .venv/bin/python benchmarks/bench_tables.py DIR [--match TEXT]
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def step(name: str, fn: Callable[[], object]) -> object:
    before = peak_mib()
    t = time.perf_counter()
    value = fn()
    took = time.perf_counter() - t
    after = peak_mib()
    rows = f"{len(value):>9,} rows" if hasattr(value, "__len__") else " " * 14
    print(f"{name:<46}{took:>8.2f} s  {rows}  peak {after:>7,.0f} MiB (+{after - before:,.0f})",
          flush=True)
    return value


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="export folder of `kg build`")
    ap.add_argument("--match", default="ai", help="timeline text (default: ai)")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))  # this checkout's kg
    from kg import tables
    from kg.exports import read_graph

    if not (args.dir / "newskg.json").is_file():
        print(f"{args.dir} holds no newskg.json: build it first", file=sys.stderr)
        return 2
    graph = step("read the graph (newskg.json)", lambda: read_graph(args.dir))
    arts = sum(1 for _, k in graph.nodes(data="kind") if k == "article")  # type: ignore[attr-defined]
    print(f"  {arts:,} articles, {graph.number_of_nodes():,} nodes, "  # type: ignore[attr-defined]
          f"{graph.number_of_edges():,} edges")  # type: ignore[attr-defined]
    table = step("articles table, without clusters", lambda: tables.articles_table(graph, clusters=False))
    step("articles table, with topic clusters", lambda: tables.articles_table(graph))
    step("providers table", lambda: tables.providers_table(graph))
    step("topics table", lambda: tables.topics_table(graph))
    step("stories table", lambda: tables.stories_table(graph))
    step("edges table", lambda: tables.edges_table(graph))
    out = Path(tempfile.mkdtemp())
    step("kg export tables --format csv (all five)", lambda: tables.write_tables(graph, out / "csv"))
    step("kg export tables --format parquet (all five)",
         lambda: tables.write_tables(graph, out / "pq", format="parquet"))
    m = args.match
    step(f"timeline {m!r} by week (from the articles table)", lambda: tables.timeline(table, m, by="week"))
    step(f"timeline {m!r} by month, split by provider", lambda: tables.timeline(table, m, by="month",
                                                                         split="provider"))
    step(f"timeline {m!r} by week, split by story", lambda: tables.timeline(table, m, by="week", split="story"))
    step(f"timeline {m!r} by week, from the graph", lambda: tables.timeline(graph, m, by="week"))  # type: ignore[arg-type]
    return 0


if __name__ == "__main__":
    sys.exit(main())
