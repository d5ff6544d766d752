"""The ``kg`` command: a thin layer over the library.

Exit codes: 0 ok, 1 problems found (bad input files, SHACL violations, ...),
2 usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

DEFAULT_OUT = Path("exports")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kg", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    b = sub.add_parser("build", help="build the knowledge graph of article folders")
    b.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT, help="export folder (default: exports/)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
    b.set_defaults(func=_cmd_build)

    s = sub.add_parser("stats", help="describe a built graph")
    s.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_cmd_stats)
    return p


def _progress(quiet: bool):
    """A progress line on stderr, only for a terminal and after a second."""
    if quiet or not sys.stderr.isatty():
        return None
    start = time.monotonic()

    def show(done: int, total: int) -> None:
        elapsed = time.monotonic() - start
        if elapsed < 1 and done < total:
            return
        rate = done / elapsed if elapsed else 0.0
        eta = (total - done) / rate if rate else 0.0
        end = "\n" if done >= total else ""
        print(f"\rreading files {done:,}/{total:,}  {rate:,.0f}/s  ETA {eta:,.0f}s ",
              end=end, file=sys.stderr, flush=True)
    return show


def _cmd_build(args: argparse.Namespace) -> int:
    from .exports import build

    started = time.monotonic()
    try:
        result = build(*args.paths, out=args.out, progress=_progress(args.quiet))
    except FileNotFoundError as exc:
        print(f"kg build: {exc}", file=sys.stderr)
        return 2
    if not args.quiet:
        _print_summary(result.summary, title=f"Built {args.out}/ in {time.monotonic() - started:.1f}s")
        print("wrote: " + ", ".join(p.name for p in result.outputs))
    if result.problems:
        by_reason = Counter(p.reason for p in result.problems)
        print(f"{len(result.problems):,} problems (details in {args.out / 'problems.jsonl'}): "
              + ", ".join(f"{r} {n:,}" for r, n in sorted(by_reason.items())), file=sys.stderr)
        for p in result.problems[:5]:
            where = f"{p.path}:{p.line}" if p.line else p.path
            print(f"  {where}: {p.severity}: {p.message}", file=sys.stderr)
        return 1
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from .exports import read_graph, read_problems
    from .graph import graph_summary

    try:
        graph = read_graph(args.dir)
    except FileNotFoundError as exc:
        print(f"kg stats: {exc}", file=sys.stderr)
        return 2
    summary = graph_summary(graph)
    problems = read_problems(args.dir)
    summary["problems"] = dict(sorted(Counter(p.reason for p in problems).items()))
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary, title=f"Knowledge graph in {args.dir}/")
    return 0


def _print_summary(s: dict, title: str) -> None:
    print(title)
    nodes, edges = list(s["nodes"].items()), list(s["edges"].items())
    print(f"  {'nodes':<24}{'edges'}")
    for (k, n), (r, m) in zip(nodes, edges):
        print(f"  {k:<12}{n:>9,}   {r:<12}{m:>9,}")
    print(f"  articles with a file: {s['articles_with_file']:,}; "
          f"known only by reference: {s['articles_reference_only']:,}")
    if s.get("date_range"):
        print(f"  published: {s['date_range'][0][:10]} .. {s['date_range'][1][:10]}")
    for label, key in (("top providers", "top_providers"), ("top topics", "top_topics")):
        if s.get(key):
            print(f"  {label}: " + ", ".join(f"{name} ({n:,})" for name, n in s[key][:8]))
    if "problems" in s:
        probs = s["problems"]
        print("  problems: " + (", ".join(f"{r} {n:,}" for r, n in probs.items()) or "none"))


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
