"""The ``kg`` command: a thin layer over the library.

Exit codes: 0 ok, 1 problems found (nothing to read, problems with
``--strict``, SHACL violations, ...), 2 usage error.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from . import building, output, querying, reading


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
    building.add_commands(sub)
    reading.add_commands(sub)
    querying.add_commands(sub)
    return p


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("newskg")
    except PackageNotFoundError:  # a checkout on sys.path, never installed
        return "unknown (not installed)"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.quiet_all:
        args.quiet = True
    return args.func(args)


def console_main() -> None:
    """The ``kg`` command: :func:`main`, then exit without a final collection."""
    output.kept = []
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # `kg query ... | head`: the reader has all it wanted
        # Python would report the failed flush of stdout at exit: point it nowhere.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, as a shell reports it
    # Everything is written and closed.  Frozen, the objects left are not
    # walked by the interpreter's last garbage collection, which would
    # otherwise walk them all before exiting; what commands kept (a whole
    # graph after `kg build`) is held by a cycle that, frozen, only the end
    # of the process frees, not the module's clean-up one object at a time.
    output.kept.append(output.kept)
    gc.freeze()
    sys.exit(code)
