"""The ``kg`` command: a thin layer over the library.

Exit codes: 0 ok, 1 problems found (nothing to read, problems with
``--strict``, SHACL violations, ...), 2 usage error.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import shutil
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

DEFAULT_OUT = Path("exports")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kg", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="newskg: a knowledge graph of news articles, their providers and topics.",
        epilog="start with:\n"
               "  kg build seeds/                 files -> exports/ (graph, RDF, store)\n"
               "  kg query topic-cooccurrence      an example query (kg query --list)\n"
               "  kg view --topic AI              exports/views/ai.html, offline\n\n"
               "exit codes: 0 ok, 1 problems found (nothing to read, problems with --strict,"
               " SHACL violations), 2 usage error")
    p.add_argument("--version", action="version", version=f"kg {_version()}")
    p.add_argument("-q", "--quiet", dest="quiet_all", action="store_true",
                   help="print nothing but errors (as -q on the command)")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

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

    st = sub.add_parser("stories", help="list the stories of a build, or explain a pair",
                        description="The stories (same-event groups) of an export folder, "
                                    "largest first: label, size, providers, date span, score.")
    st.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    st.add_argument("--match", metavar="TEXT", help="stories holding every word of TEXT")
    st.add_argument("--min-size", type=int, default=1, metavar="N", help="stories of N articles or more")
    st.add_argument("--members", action="store_true", help="list each story's articles")
    st.add_argument("--json", action="store_true", help="machine-readable output")
    st.add_argument("--explain", nargs=2, metavar=("URL1", "URL2"),
                    help="why two articles (URLs or ids) are or are not one story")
    st.set_defaults(func=_cmd_stories)

    s = sub.add_parser("stats", help="describe a built graph")
    s.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    s.add_argument("--json", action="store_true", help="machine-readable output")
    s.set_defaults(func=_cmd_stats)

    q = sub.add_parser("query", help="run a SPARQL query on the built store",
                       description="Run SELECT/ASK/CONSTRUCT/DESCRIBE against the union of the "
                                   "named graphs. QUERY is an example query's name (see --list), "
                                   "a .rq file or the query's text; DIR is an export folder "
                                   "(default exports/) or a SPARQL endpoint URL.")
    q.add_argument("args", nargs="*", metavar="[DIR] QUERY|NAME|FILE.rq")
    q.add_argument("--list", action="store_true",
                   help="list the example queries with their parameters")
    q.add_argument("--format", "-f", choices=["table", "csv", "tsv", "json", "nt", "ttl"],
                   help="output format (default: table in a terminal, else csv; "
                        "graph results: ttl or nt)")
    q.add_argument("--json", action="store_true", help="same as --format json (--list: as JSON)")
    q.add_argument("--bind", action="append", default=[], metavar="VAR=VALUE",
                   help="bind a variable: VALUE is a string, an integer, <IRI>, an id as kg "
                        "prints it (id:article/...), or what a named query's parameter takes "
                        "(an article URL, a provider domain) (repeatable)")
    q.add_argument("--endpoint", metavar="URL",
                   help="query this SPARQL 1.1 endpoint instead of a built store")
    q.set_defaults(func=_cmd_query)

    v = sub.add_parser("validate", help="check the RDF export against the SHACL shapes")
    v.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    v.add_argument("--shapes", type=Path, help="SHACL shapes (default: ontology/shapes.ttl)")
    v.add_argument("--max", type=int, default=50, help="print at most this many results")
    v.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    v.set_defaults(func=_cmd_validate)

    pu = sub.add_parser("push", help="send the build to a SPARQL 1.1 endpoint (incremental)")
    pu.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder holding newskg.nq (default: exports/)")
    pu.add_argument("--endpoint", required=True, metavar="URL", help="SPARQL query endpoint")
    pu.add_argument("--update", metavar="URL", help="SPARQL Update endpoint (default: derived)")
    pu.add_argument("--graph-store", metavar="URL", help="Graph Store Protocol endpoint")
    pu.add_argument("--method", choices=["auto", "quads", "update", "put"], default="auto",
                    help="how graphs are sent (default: auto)")
    pu.add_argument("--full", action="store_true", help="replace every graph, ignore push-state.json")
    pu.add_argument("--batch-triples", type=int, metavar="N", help="triples per request")
    pu.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    pu.set_defaults(func=_cmd_push)

    sv = sub.add_parser("serve", help="serve the store over the SPARQL 1.1 Protocol, read-only",
                        description="A read-only SPARQL 1.1 Protocol endpoint at /query, and a "
                                    "query page at /. Federation (SERVICE) is refused, queries "
                                    "stop at a timeout, one log line per request on stderr.")
    sv.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT)
    sv.add_argument("--port", type=int, default=7878)
    sv.add_argument("--host", default="127.0.0.1",
                    help="address to bind (default 127.0.0.1; anything else exposes the store)")
    sv.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                    help="stop a query after this long and answer 503 (default 30)")
    sv.add_argument("--max-results", type=int, default=100_000, metavar="N",
                    help="refuse answers of more than N rows or triples (default 100000; 0: no limit)")
    sv.add_argument("--allow-federation", action="store_true",
                    help="run SERVICE clauses (the server then fetches any URL a query names)")
    sv.add_argument("--cors", nargs="?", const="*", metavar="ORIGIN",
                    help="let web pages of ORIGIN (default: any) query the endpoint")
    sv.add_argument("--workers", type=int, metavar="N", help="queries run at once (default: CPUs)")
    sv.add_argument("-q", "--quiet", action="store_true",
                    help="print nothing but errors (no address, no log line per request)")
    sv.set_defaults(func=_cmd_serve)

    vw = sub.add_parser("view", help="write an interactive HTML view (offline, self-contained)")
    vw.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build` (default: exports/)")
    which = vw.add_mutually_exclusive_group(required=True)
    which.add_argument("--story", metavar="TEXT", help="articles whose text or topics contain TEXT")
    which.add_argument("--topic", metavar="LABEL", help="articles about a topic")
    which.add_argument("--article", metavar="URL", help="one article (URL or id)")
    which.add_argument("--provider", metavar="DOMAIN", help="articles of a provider")
    which.add_argument("--all", action="store_true", help="index.html plus one page per topic cluster")
    vw.add_argument("--hops", type=int, default=1, metavar="K", help="expand K hops (default 1)")
    vw.add_argument("--max-nodes", type=int, default=400, metavar="N", help="cap (default 400)")
    vw.add_argument("--since", metavar="DATE", help="only articles published from DATE (YYYY-MM-DD)")
    vw.add_argument("--until", metavar="DATE", help="only articles published until DATE, inclusive")
    vw.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="output file (default: views/<name>.html in the export folder; "
                         "--all: a folder)")
    vw.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    vw.set_defaults(func=_cmd_view)

    ex = sub.add_parser("export", help="write tables of a built graph (CSV or Parquet)")
    exs = ex.add_subparsers(dest="what", required=True, metavar="WHAT")
    et = exs.add_parser("tables", help="articles, providers, topics, stories and edges as tables "
                                       "(needs pandas: pip install 'newskg[pandas]')")
    et.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build` (default: exports/)")
    et.add_argument("--format", choices=["csv", "parquet"], default="csv")
    et.add_argument("-o", "--output", type=Path, metavar="DIR",
                    help="output folder (default: tables/ in the export folder)")
    et.add_argument("--no-clusters", action="store_true",
                    help="leave the topic clusters out of articles (faster on large corpora)")
    et.set_defaults(func=_cmd_export_tables)

    tl = sub.add_parser("timeline", help="articles matching a text per day/week/month, and their "
                                         "share of all articles (needs 'newskg[pandas]')")
    tl.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build` (default: exports/)")
    tl.add_argument("--match", metavar="TEXT", help="words in the title or topics (whole words; case, "
                                                    "accents, punctuation ignored); default: all")
    tl.add_argument("--by", choices=["day", "week", "month"], default="week")
    split = tl.add_mutually_exclusive_group()
    split.add_argument("--by-provider", action="store_const", const="provider", dest="split",
                       help="a line per provider (share: of that provider's articles)")
    split.add_argument("--by-story", action="store_const", const="story", dest="split",
                       help="a line per story")
    tl.add_argument("--since", metavar="DATE", help="first day (YYYY-MM-DD), inclusive")
    tl.add_argument("--until", metavar="DATE", help="last day (YYYY-MM-DD), inclusive")
    tl.add_argument("--format", choices=["csv", "json", "png", "svg", "html"], default="csv",
                    help="csv/json to stdout; png/svg (needs 'newskg[charts]') and html to a file")
    tl.add_argument("--top", type=int, default=7, metavar="N",
                    help="charts: lines for the N largest providers/stories, the rest as 'other'")
    tl.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="output file (charts default: timelines/<match>-<by>.<format> in DIR)")
    tl.set_defaults(func=_cmd_timeline)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newskg")
    except PackageNotFoundError:  # a checkout on sys.path, never installed
        return "unknown (not installed)"


def _unit(stage: str) -> str:
    """What a counted stage counts: "reading files" -> " files"."""
    last = stage.split()[-1]
    return {"RDF": " graphs", "changes": " files"}.get(last, f" {last}")


def _progress(quiet: bool, stream: TextIO | None = None) -> Callable[[str, int, int], None] | None:
    """Progress on stderr (tqdm), only for a terminal and once a second has passed.

    A counted stage (``total`` > 0) gets a bar (done/total, rate, time left);
    a stage without a count gets a line as it starts.
    """
    stream = stream or sys.stderr
    if quiet or not stream.isatty():
        return None
    from tqdm import tqdm

    # A terminal that reports no size (script(1)'s, some CI runners') gets
    # 80x24: given 0 rows, tqdm hides every bar.
    size = shutil.get_terminal_size()

    started = time.monotonic()
    state: dict = {"stage": None, "bar": None}

    def show(stage: str, done: int, total: int) -> None:
        bar = state["bar"]
        if stage != state["stage"]:
            state["stage"] = stage
            if bar is not None:
                bar.close()
            bar = state["bar"] = None
            if not total:
                if time.monotonic() - started >= 1:
                    print(f"{stage} ...", file=stream, flush=True)
                return
            bar = state["bar"] = tqdm(total=total, desc=stage, file=stream, unit=_unit(stage),
                                      delay=max(0.0, 1 - (time.monotonic() - started)),
                                      ncols=size.columns, nrows=size.lines, leave=True)
        if bar is not None:
            if total != bar.total:
                bar.total = total
            bar.update(done - bar.n)
            if done >= total:
                bar.close()
                state["bar"] = None

    return show


def _cmd_build(args: argparse.Namespace) -> int:
    from .ingest import NoArticleFiles, default_provider
    from .pipeline import build

    started = time.monotonic()
    extensions = ([e for arg in args.ext for e in arg.split(",")] if args.ext else None)
    try:
        provider = default_provider(args.provider, args.provider_domain)
        result = build(*args.paths, out=args.out, progress=_progress(args.quiet),
                       extensions=extensions, provider=provider, only_news=args.only_news,
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
    if args.split_nq:
        from .exports import write_split_nquads

        result.outputs += write_split_nquads(args.out / "newskg.nq", args.out / "chunks",
                                             args.split_nq)
    problems = result.problems if not args.quiet else [p for p in result.problems
                                                       if p.severity == "error"]
    by_reason = Counter(p.reason for p in result.problems)
    if args.json and not args.quiet:
        print(json.dumps({"out": str(args.out), "built": result.built,
                          "seconds": round(time.monotonic() - started, 3),
                          "outputs": [str(p) for p in result.outputs],
                          "problems": dict(sorted(by_reason.items())),
                          "summary": result.summary}, indent=2, ensure_ascii=False))
    elif not args.quiet and not result.built:
        n = len(result.same_records)
        why = (f"{n:,} changed file{'s' * (n != 1)} gave the same records as before; "
               "manifest.json updated" if n else "the same files as its last build")
        _print_summary(result.summary, title=f"{args.out}/ is up to date: {why} "
                       f"(checked in {time.monotonic() - started:.1f}s)")
    elif not args.quiet:
        _print_summary(result.summary, title=f"Built {args.out}/ in {time.monotonic() - started:.1f}s")
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


def _cmd_stories(args: argparse.Namespace) -> int:
    from .knowledge_graph import KnowledgeGraph

    try:
        kgraph = KnowledgeGraph(args.dir)
        if args.explain:
            why = kgraph.explain(*args.explain)
            if args.json:
                print(json.dumps(why.as_dict(), indent=2, ensure_ascii=False))
            else:
                print("\n".join(why.lines()))
            return 0
        found = kgraph.stories(match=args.match, min_size=args.min_size)
    except (FileNotFoundError, KeyError) as exc:
        print(f"kg stories: {exc.args[0] if isinstance(exc, KeyError) else exc}", file=sys.stderr)
        return 2
    if args.json:
        graph = kgraph.graph if args.members else None
        print(json.dumps([s.as_dict(graph) for s in found], indent=2, ensure_ascii=False))
        return 0
    for s in found:
        span = (f"{s.first:%Y-%m-%d}..{s.last:%Y-%m-%d}" if s.first and s.last else "no dates")
        score = "" if s.score is None else f"  score {s.score:.2f}"
        if s.method == "curated":
            score += "  [curated" + (f" by {s.curator}]" if s.curator else "]")
        n = len(s.providers)
        print(f"{s.size:>4} articles  {n:>3} provider{'s' if n != 1 else ' '}  {span}{score}  {s.label}")
        if args.members:
            g = kgraph.graph
            for a in s.articles:
                d = g.nodes[a]
                day = f"{d['published']:%Y-%m-%d}" if d.get("published") else "          "
                print(f"       {day}  {d.get('title', a)}  <{d.get('url', a)}>")
    print(f"({len(found)} stor{'y' if len(found) == 1 else 'ies'})")
    return 0


def _cmd_stats(args: argparse.Namespace) -> int:
    from .exports import read_summary

    try:
        summary = read_summary(args.dir)
    except FileNotFoundError as exc:
        print(f"kg stats: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))
    else:
        _print_summary(summary, title=f"Knowledge graph in {args.dir}/")
    return 0


def _cmd_query(args: argparse.Namespace) -> int:
    from . import queries
    from .store import QuerySyntaxError, RemoteError, StoreError, open_store

    if args.list:
        listing = queries.named_queries()
        if args.json:
            print(json.dumps([{"name": q.name, "description": q.description,
                               "params": [vars(p) for p in q.params]} for q in listing], indent=2))
            return 0
        for nq in listing:
            print(f"{nq.name:<28}{nq.title}")
            for param in nq.params:
                print(f"{'':<4}--bind {param}")
        return 0
    if not 1 <= len(args.args) <= 2:
        print("kg query: expected [DIR] QUERY|NAME|FILE.rq (`kg query --list` shows the names)",
              file=sys.stderr)
        return 2
    target, arg = (args.args if len(args.args) == 2 else [str(DEFAULT_OUT), args.args[0]])
    if args.endpoint:
        if len(args.args) == 2:
            print("kg query: give either DIR or --endpoint, not both", file=sys.stderr)
            return 2
        target = args.endpoint
    text = arg
    try:
        text, named = queries.read_query(arg)
        with open_store(target) as store:
            bindings = queries.parse_bindings(args.bind, text, named, store)
            text, bindings = queries.apply_bindings(text, bindings)
            result = store.query(text, bindings=bindings)
    except QuerySyntaxError as exc:
        print(f"kg query: {queries.explain_syntax_error(exc, text)}", file=sys.stderr)
        return 2
    except StoreError as exc:
        # A server that fails or refuses (connection, authentication) is not a usage error.
        if not isinstance(exc, RemoteError) and len(args.args) == 2 and Path(arg).is_dir():
            exc = StoreError(f"{arg} is a folder and {target!r} is not: kg query [DIR] QUERY "
                             "(the folder first)")
        print(f"kg query: {exc}", file=sys.stderr)
        return 1 if isinstance(exc, RemoteError) else 2
    except (queries.QueryUsageError, ValueError) as exc:
        print(f"kg query: {exc}", file=sys.stderr)
        return 2
    if args.json:
        args.format = "json"
    fmt = args.format or ("table" if sys.stdout.isatty() else "csv")
    if result.kind == "graph":
        fmt = fmt if fmt in ("nt", "ttl") else "ttl"
    elif fmt in ("nt", "ttl"):
        print(f"kg query: --format {fmt} is for CONSTRUCT/DESCRIBE results", file=sys.stderr)
        return 2
    text = _table(result) if fmt == "table" else result.serialize(fmt)
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `kg query ... | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    return 0


def _table(result) -> str:
    """A SELECT result as an aligned text table; ASK as true/false."""
    from .store import PREFIXES

    if result.kind == "ask":
        return "true" if result.boolean else "false"

    def cell(term) -> str:
        if term is None:
            return ""
        value = term.value
        if type(term).__name__ == "NamedNode":
            for p, ns in PREFIXES.items():
                if value.startswith(ns):
                    value = f"{p}:{value[len(ns):]}"
                    break
        value = value.replace("\n", " ")
        return value if len(value) <= 70 else value[:69] + "…"

    rows = [[cell(t) for t in row] for row in result.terms]
    header = result.variables
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip(),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.append(f"({len(rows)} row{'s' if len(rows) != 1 else ''})")
    return "\n".join(lines)


def _cmd_validate(args: argparse.Namespace) -> int:
    from .shacl import validate
    from .vocab import RDFError

    try:
        report = validate(args.dir, shapes=args.shapes, progress=_progress(args.quiet))
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
    for label, key in (("top providers", "top_providers"), ("top topics", "top_topics"),
                       ("top people", "top_people")):
        if s.get(key):
            print(f"  {label}: " + ", ".join(f"{name} ({n:,})" for name, n in s[key][:8]))
    files = s.get("files")
    if files:
        line = (f"  files: {files['read']:,} read, {files['articles']:,} articles, "
                f"{files['skipped']:,} skipped")
        if files.get("skipped_by"):
            line += " (" + ", ".join(f"{r} {n:,}" for r, n in files["skipped_by"].items()) + ")"
        if files.get("not_read"):
            line += "; not read: " + ", ".join(f"{r} {n:,}" for r, n in files["not_read"].items())
        if files.get("left_out"):
            line += "; left out (--only-news): " + ", ".join(
                f"{r} {n:,}" for r, n in files["left_out"].items())
        print(line)
    if s.get("not_news"):
        print("  not news: " + ", ".join(f"{r} {n:,}" for r, n in s["not_news"].items()))
    if "problems" in s:
        probs = s["problems"]
        print("  problems: " + (", ".join(f"{r} {n:,}" for r, n in probs.items()) or "none"))


def _cmd_push(args: argparse.Namespace) -> int:
    from .store import PushError, RemoteError, RemoteStore, push

    try:
        store = RemoteStore(args.endpoint, update_url=args.update,
                            graph_store_url=args.graph_store, method=args.method,
                            batch_triples=args.batch_triples)
        report = push(args.dir, store, full=args.full)
    except PushError as exc:
        print(f"kg push: {exc}", file=sys.stderr)
        return 2
    except RemoteError as exc:
        print(f"kg push: {exc}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"kg push: warning: {warning}", file=sys.stderr)
    if not args.quiet:
        if not report.graphs_replaced and not report.graphs_dropped:
            print(f"{args.endpoint}: up to date ({report.graphs_total:,} graphs), nothing sent")
        else:
            print(f"{args.endpoint}: replaced {report.graphs_replaced:,} graphs, dropped "
                  f"{report.graphs_dropped:,}, unchanged {report.graphs_unchanged:,}; "
                  f"{report.triples_sent:,} triples in {report.requests:,} requests, "
                  f"{report.seconds:.1f}s ({report.triples_per_second:,.0f} triples/s)")
    return 1 if report.warnings else 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import logging
    import signal

    from .server import serve
    from .store import RemoteError

    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"kg serve: warning: binding {args.host} makes the store reachable from other "
              "machines", file=sys.stderr)
    if not args.quiet:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logging.getLogger("kg.server").addHandler(handler)
        logging.getLogger("kg.server").setLevel(logging.INFO)
    try:
        server = serve(args.dir, host=args.host, port=args.port, timeout=args.timeout,
                       max_results=args.max_results or None, workers=args.workers,
                       allow_federation=args.allow_federation, cors=args.cors)
    except (RemoteError, ValueError) as exc:
        print(f"kg serve: {exc}", file=sys.stderr)
        return 1
    # SIGTERM like Ctrl-C: stop the workers, remove any temporary store.
    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _interrupt)
    if not args.quiet:
        print(f"SPARQL endpoint (read-only): {server.url}   query page: {server.url[:-5]}   "
              "(Ctrl-C to stop)", flush=True)
    try:
        server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


def _cmd_view(args: argparse.Namespace) -> int:
    import re

    from .exports import read_graph
    from .views import ViewError, select, write_all, write_view

    src = args.dir
    graph_file = src if src.suffix == ".json" else src / "newskg.json"
    if not graph_file.is_file():
        print(f"kg view: {src} is not an export folder (no {graph_file.name}): build it first, "
              f"e.g. `kg build {src} --out exports`", file=sys.stderr)
        return 2
    views_dir = graph_file.parent / "views"
    try:
        graph = read_graph(graph_file)
        if args.since or args.until:
            from .tables import between

            graph = between(graph, args.since, args.until)
        if args.all:
            index = write_all(graph, args.output or views_dir, max_nodes=args.max_nodes)
            if not args.quiet:
                print(f"wrote {index} and {len(list(index.parent.glob('cluster-*.html')))} cluster pages")
            return 0
        from .queries import node_ref

        article = node_ref(args.article) if args.article else None
        provider = node_ref(args.provider).removeprefix("provider/") if args.provider else None
        chosen = dict(story=args.story, topic=args.topic, article=article, provider=provider)
        name = next(v for v in chosen.values() if v is not None)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "view"
        out = args.output or views_dir / f"{slug}.html"
        view = select(graph, hops=args.hops, max_nodes=args.max_nodes, **chosen)
        write_view(graph, view, out)  # the view just selected, not selected again
        if not args.quiet:
            print(view.summary)
            print(f"wrote {out} ({len(view.nodes)} nodes)")
        return 0
    except ViewError as exc:
        print(f"kg view: {exc}", file=sys.stderr)
        return 1
    except ValueError as exc:  # a bad --since/--until
        print(f"kg view: {exc}", file=sys.stderr)
        return 2


def _open_graph(command: str, src: Path):
    """The built graph of an export folder, or None after saying why not."""
    from .exports import GRAPH_JSON, read_graph

    if not (src / GRAPH_JSON).is_file():
        print(f"kg {command}: {src} is not an export folder (no {GRAPH_JSON}): build it first, "
              f"e.g. `kg build CORPUS --out {src}`", file=sys.stderr)
        return None
    return read_graph(src)


def _cmd_export_tables(args: argparse.Namespace) -> int:
    from .tables import MissingExtra, write_tables

    graph = _open_graph("export tables", args.dir)
    if graph is None:
        return 2
    try:
        paths = write_tables(graph, args.output or args.dir / "tables", format=args.format,
                             clusters=not args.no_clusters)
    except MissingExtra as exc:
        print(f"kg export tables: {exc}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _cmd_timeline(args: argparse.Namespace) -> int:
    import re

    from .charts import render_timeline
    from .tables import MissingExtra, timeline

    graph = _open_graph("timeline", args.dir)
    if graph is None:
        return 2
    try:
        df = timeline(graph, args.match, by=args.by, split=args.split, since=args.since,
                      until=args.until)
        data = render_timeline(df, args.format, top=args.top)
    except MissingExtra as exc:
        print(f"kg timeline: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"kg timeline: {exc}", file=sys.stderr)
        return 2
    out = args.output
    if out is None and args.format in ("csv", "json"):
        sys.stdout.buffer.write(data)
        return 0
    if out is None:
        slug = re.sub(r"[^a-z0-9]+", "-", (args.match or "all").lower()).strip("-")[:60] or "all"
        out = args.dir / "timelines" / f"{slug}-{args.by}{'-' + args.split if args.split else ''}.{args.format}"
    from ._util import atomic_writer

    with atomic_writer(out, "wb") as f:
        f.write(data)
    print(f"wrote {out} ({len(df):,} rows)")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quiet_all:
        args.quiet = True
    return args.func(args)


def console_main() -> None:
    """The ``kg`` command: :func:`main`, then exit without a final collection."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `kg query ... | head`: the reader has all it wanted
        # Python would report the failed flush of stdout at exit: point it nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, as a shell reports it
    # Everything is written and closed.  Frozen, the objects left (a whole
    # graph after `kg build`) are not walked by the interpreter's last
    # garbage collection, which would otherwise walk them all before exiting.
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":
    console_main()
