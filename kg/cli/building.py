"""``kg build``, ``kg stats``, ``kg validate``: making a build and describing it."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from .output import DEFAULT_OUT, keep_until_exit, print_summary, progress


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``build``, ``stats``, ``validate``."""
    b = sub.add_parser("build", help="build the knowledge graph of article folders")
    b.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    b.add_argument("--out", type=Path, default=DEFAULT_OUT, help="export folder (default: exports/)")
    b.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    b.add_argument("--ext", action="append", metavar="EXT[,EXT...]",
                   help="read files with these name endings (repeatable; default: "
                        "md,markdown,mdx,txt)")
    b.add_argument("--provider", metavar="NAME",
                   help="publisher of the articles that name none (a folder from one site); "
                        "needs --provider-domain")
    b.add_argument("--provider-domain", metavar="DOMAIN", help="that publisher's domain")
    b.add_argument("--only-news", action="store_true",
                   help="leave out videos, courses, pages, code samples and undated items")
    b.add_argument("--no-drafts", action="store_true",
                   help="leave out drafts (draft: true, Jekyll's published: false)")
    b.add_argument("--strict", action="store_true",
                   help="exit 1 when any problem was found (default: 0 when every readable "
                        "article was built, problems listed)")
    b.add_argument("--json", action="store_true", help="the summary as JSON, for scripts")
    b.add_argument("--split-nq", type=int, metavar="N",
                   help="also write gzipped N-Quads chunks of at most N triples into "
                        "DIR/chunks/, for bulk loaders")
    b.add_argument("--providers-file", type=Path, metavar="FILE",
                   help="rename, merge or give homepages to providers (default: providers.yaml "
                        "in the first input folder that has one)")
    b.add_argument("--story-threshold", type=float, metavar="X",
                   help="mean pair score for articles to be one story (default 0.23)")
    b.add_argument("--story-window-days", type=float, metavar="D",
                   help="longest span of one story, in days (default 7)")
    b.add_argument("--stories-file", type=Path, metavar="FILE",
                   help="curation of the stories (default: stories.yaml in an input folder)")
    b.set_defaults(func=_cmd_build)

    s = sub.add_parser("stats", help="describe a built graph")
    s.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_cmd_stats)

    v = sub.add_parser("validate", help="check the RDF export against the SHACL shapes")
    v.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    v.add_argument("--shapes", type=Path, help="SHACL shapes (default: ontology/shapes.ttl)")
    v.add_argument("--max", type=int, default=50, help="print at most this many results")
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    v.set_defaults(func=_cmd_validate)


def _cmd_build(args: argparse.Namespace) -> int:
    from ..ingest import NoArticleFiles, default_provider, normalize_extensions
    from ..pipeline import build

    started = time.monotonic()
    extensions = ([e for arg in args.ext for e in arg.split(",")] if args.ext else None)
    try:
        provider = default_provider(args.provider, args.provider_domain)
        result = build(*args.paths, out=args.out, progress=progress(args.quiet),
                       extensions=extensions, provider=provider, only_news=args.only_news,
                       no_drafts=args.no_drafts,
                       providers=args.providers_file,
                       story_threshold=args.story_threshold,
                       story_window_days=args.story_window_days,
                       stories_file=args.stories_file)
    except NoArticleFiles as exc:
        print(f"kg build: {exc}", file=sys.stderr)
        return 1
    except (FileNotFoundError, ValueError) as exc:  # (bad providers/stories files: every entry named)
        print(f"kg build: {exc}", file=sys.stderr)
        return 2
    keep_until_exit(result)
    if args.split_nq:
        from ..exports import write_split_nquads

        result.outputs += write_split_nquads(args.out / "newskg.nq", args.out / "chunks",
                                             args.split_nq)
    if not args.quiet:  # damage found in the last build's state, rebuilt
        for warning in result.warnings:
            print(f"kg build: warning: {warning}", file=sys.stderr)
    problems = result.problems if not args.quiet else [p for p in result.problems
                                                       if p.severity == "error"]
    by_reason = Counter(p.reason for p in result.problems)
    if args.json and not args.quiet:
        print(json.dumps({"out": str(args.out), "built": result.built,
                          "seconds": round(time.monotonic() - started, 3),
                          "outputs": [str(p) for p in result.outputs],
                          "problems": dict(sorted(by_reason.items())),
                          "warnings": result.warnings,
                          "summary": result.summary}, indent=2, ensure_ascii=False))
    elif not args.quiet and not result.built:
        n = len(result.same_records)
        why = (f"{n:,} changed file{'s' * (n != 1)} gave the same records as before; "
               "manifest.json updated" if n else "the same files as its last build")
        print_summary(result.summary, title=f"{args.out}/ is up to date: {why} "
                       f"(checked in {time.monotonic() - started:.1f}s)",
                      extensions=normalize_extensions(extensions))
    elif not args.quiet:
        print_summary(result.summary, title=f"Built {args.out}/ in {time.monotonic() - started:.1f}s",
                      extensions=normalize_extensions(extensions))
        print("wrote: " + ", ".join(p.name for p in result.outputs))
        if "store_graphs_replaced" in result.summary:
            print(f"store: updated in place, {result.summary['store_graphs_replaced']:,} "
                  "named graphs replaced")
    if problems:  # -q: only the files that could not be used at all
        print(f"{len(result.problems):,} problems (details in {args.out / 'problems.jsonl'}): "
              + ", ".join(f"{r} {n:,}" for r, n in sorted(by_reason.items())), file=sys.stderr)
        for p in problems[:5]:
            where = f"{p.path}:{p.line}" if p.line else p.path
            print(f"  {where}: {p.severity}: {p.message}", file=sys.stderr)
    return 1 if args.strict and result.problems else 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from ..exports import read_summary

    try:
        summary = read_summary(args.dir)
    except FileNotFoundError as exc:
        print(f"kg stats: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        print_summary(summary, title=f"Knowledge graph in {args.dir}/")
    return 0


def _cmd_validate(args: argparse.Namespace) -> int:
    from ..shacl import validate
    from ..vocab import RDFError

    try:
        report = validate(args.dir, shapes=args.shapes, progress=progress(args.quiet))
    except (FileNotFoundError, RDFError) as exc:
        print(f"kg validate: {exc}", file=sys.stderr)
        return 2
    status = "conforms" if report.conforms else "does NOT conform"
    if args.quiet:
        if not report.conforms:
            print(f"kg validate: {args.dir} {status}: {len(report.violations):,} violations",
                  file=sys.stderr)
        return 0 if report.conforms else 1
    for r in report.results[:args.max]:
        print(r)
    if len(report.results) > args.max:
        print(f"... and {len(report.results) - args.max:,} more")
    print(f"{args.dir}: {report.triples:,} triples; SHACL {status}: "
          f"{len(report.violations):,} violations, {len(report.warnings):,} warnings")
    return 0 if report.conforms else 1
