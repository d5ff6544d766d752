"""``kg query``, ``kg push``, ``kg serve``: SPARQL on a build, here or on a server."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from .output import DEFAULT_OUT, result_table


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``query``, ``push``, ``serve``."""
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


def _cmd_query(args: argparse.Namespace) -> int:
    from .. import queries
    from ..store import QuerySyntaxError, RemoteError, StoreError, open_store

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
    text = result_table(result) if fmt == "table" else result.serialize(fmt)
    try:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:  # `kg query ... | head`
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - for the rest of the process
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    from ..store import PushError, RemoteError, RemoteStore, push

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

    from ..server import serve
    from ..store import RemoteError

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
