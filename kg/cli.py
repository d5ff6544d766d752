"""The ``kg`` command: a thin layer over the library.

Exit codes: 0 ok, 1 problems found (bad input files, SHACL violations, ...),
2 usage error.
"""

from __future__ import annotations

import argparse
import sys
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


def _cmd_build(args: argparse.Namespace) -> int:
    raise NotImplementedError  # being written by the lead


def _cmd_stats(args: argparse.Namespace) -> int:
    raise NotImplementedError  # being written by the lead


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
