"""``kg stories``, ``kg view``, ``kg export tables``, ``kg timeline``: what a build shows a reader."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from .output import DEFAULT_OUT

if TYPE_CHECKING:
    import networkx as nx


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``stories``, ``view``, ``export``, ``timeline``."""
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

    vw = sub.add_parser("view", help="write an interactive HTML view (offline, self-contained)")
    vw.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build`, or a folder of articles "
                         "(built into the cache; default: exports/)")
    which = vw.add_mutually_exclusive_group(required=True)
    which.add_argument("--story", metavar="TEXT",
                       help="articles whose title, excerpt or topics have the words of TEXT "
                            "(whole words, any case, accents and hyphens; 'face recognition' = 'facial recognition')")
    which.add_argument("--regex", metavar="PATTERN",
                       help="articles whose title, excerpt or topics match a regular expression (any case)")
    which.add_argument("--topic", metavar="LABEL", help="articles about a topic")
    which.add_argument("--article", metavar="URL", help="one article (URL or id)")
    which.add_argument("--provider", metavar="DOMAIN", help="articles of a provider")
    which.add_argument("--all", action="store_true",
                       help="index.html of the stories and topic clusters, and a page for each")
    vw.add_argument("--hops", type=int, default=1, metavar="K", help="expand K hops (default 1)")
    vw.add_argument("--max-nodes", type=int, default=400, metavar="N", help="cap (default 400)")
    vw.add_argument("--expand-stories", action="store_true",
                    help="show every story's articles from the start (by default a story is one "
                         "star, sized by its articles, opened by a click)")
    vw.add_argument("--since", metavar="DATE", help="only articles published from DATE (YYYY-MM-DD)")
    vw.add_argument("--until", metavar="DATE", help="only articles published until DATE, inclusive")
    vw.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="output file (default: views/<name>.html in the export folder; "
                         "--all: a folder)")
    vw.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    vw.set_defaults(func=_cmd_view)

    ex = sub.add_parser("export", help="write tables of a built graph (CSV or Parquet)")
    exs = ex.add_subparsers(dest="what", required=True, metavar="WHAT")
    et = exs.add_parser("tables", help="articles, providers, topics, people, stories and edges as tables "
                                       "(needs pandas: pip install 'newskg[pandas]')")
    et.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build`, or a folder of articles "
                         "(built into the cache; default: exports/)")
    et.add_argument("--format", choices=["csv", "parquet"], default="csv")
    et.add_argument("-o", "--output", type=Path, metavar="DIR",
                    help="output folder (default: tables/ in the export folder)")
    et.add_argument("--no-clusters", action="store_true",
                    help="leave the topic clusters out of articles (faster on large corpora)")
    et.set_defaults(func=_cmd_export_tables)

    tl = sub.add_parser("timeline", help="articles matching a text per day/week/month, and their "
                                         "share of all articles (needs 'newskg[pandas]')")
    tl.add_argument("dir", nargs="?", type=Path, default=DEFAULT_OUT,
                    help="export folder of `kg build`, or a folder of articles "
                         "(built into the cache; default: exports/)")
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


def _cmd_stories(args: argparse.Namespace) -> int:
    from ..knowledge_graph import KnowledgeGraph

    folder = _export_folder("stories", args.dir)
    if folder is None:
        return 2
    try:
        kgraph = KnowledgeGraph(folder)
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
            score += ("  [curated" + (f" by {s.curator}" if s.curator else "")
                      + (f" on {s.curated}" if s.curated else "") + "]")
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


def _cmd_view(args: argparse.Namespace) -> int:
    import re

    from ..exports import read_graph
    from ..views import ViewError, select, write_all, write_view

    src = args.dir
    if src.suffix == ".json" and src.is_file():
        graph_file = src
    else:
        folder = _export_folder("view", src, quiet=args.quiet)
        if folder is None:
            return 2
        graph_file = folder / "newskg.json"
    views_dir = graph_file.parent / "views"
    try:
        graph = read_graph(graph_file)
        if args.since or args.until:
            from ..tables import between

            graph = between(graph, args.since, args.until)
        if args.all:
            index = write_all(graph, args.output or views_dir, max_nodes=args.max_nodes)
            if not args.quiet:
                pages = [len(list(index.parent.glob(f"{kind}-*.html"))) for kind in ("story", "cluster")]
                print(f"wrote {index}, {pages[0]} story pages and {pages[1]} cluster pages")
            return 0
        from ..queries import node_ref

        article = node_ref(args.article) if args.article else None
        provider = node_ref(args.provider).removeprefix("provider/") if args.provider else None
        chosen = dict(story=args.story, regex=args.regex, topic=args.topic, article=article, provider=provider)
        name = next(v for v in chosen.values() if v is not None)
        slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60] or "view"
        out = args.output or views_dir / f"{slug}.html"
        view = select(graph, hops=args.hops, max_nodes=args.max_nodes, **chosen)
        # the view just selected, not selected again
        write_view(graph, view, out, expand_stories=args.expand_stories)
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


def _export_folder(command: str, src: Path, quiet: bool = False) -> Path | None:
    """The export folder to read for ``src`` (an export folder, or a corpus
    folder built into the cache: :func:`kg.pipeline.built`), or None after
    saying why not."""
    from ..ingest import NoArticleFiles
    from ..pipeline import built

    try:
        out = built(src)
    except (FileNotFoundError, NoArticleFiles) as exc:
        print(f"kg {command}: {exc}", file=sys.stderr)
        return None
    if out != src and not quiet:
        print(f"kg {command}: reading the build of {src} in {out} "
              f"(`kg build {src} --out DIR` to choose the folder)", file=sys.stderr)
    return out


def _open_graph(command: str, src: Path) -> tuple[Path, nx.MultiDiGraph] | None:
    """The export folder to read for ``src`` and its graph, or None after saying why not."""
    from ..exports import read_graph

    folder = _export_folder(command, src)
    return None if folder is None else (folder, read_graph(folder))


def _cmd_export_tables(args: argparse.Namespace) -> int:
    from ..tables import MissingExtra, write_tables

    opened = _open_graph("export tables", args.dir)
    if opened is None:
        return 2
    folder, graph = opened
    try:
        paths = write_tables(graph, args.output or folder / "tables", format=args.format,
                             clusters=not args.no_clusters)
    except MissingExtra as exc:
        print(f"kg export tables: {exc}", file=sys.stderr)
        return 2
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _cmd_timeline(args: argparse.Namespace) -> int:
    import re

    from ..charts import render_timeline
    from ..tables import MissingExtra, timeline

    opened = _open_graph("timeline", args.dir)
    if opened is None:
        return 2
    folder, graph = opened
    try:
        df = timeline(graph, args.match, by=args.by, split=args.split, since=args.since,
                      until=args.until)
        data = render_timeline(df, args.format, top=args.top)
    except (MissingExtra, ValueError) as exc:  # a missing extra, a bad --since/--until
        print(f"kg timeline: {exc}", file=sys.stderr)
        return 2
    out = args.output
    if out is None and args.format in ("csv", "json"):
        sys.stdout.buffer.write(data)
        return 0
    if out is None:
        slug = re.sub(r"[^a-z0-9]+", "-", (args.match or "all").lower()).strip("-")[:60] or "all"
        out = folder / "timelines" / f"{slug}-{args.by}{'-' + args.split if args.split else ''}.{args.format}"
    from .._util import atomic_writer

    with atomic_writer(out, "wb") as f:
        f.write(data)
    print(f"wrote {out} ({len(df):,} rows)")
    return 0
