"""Stage times of incremental builds, for the exports (issue 23).

    python benchmarks/bench_incremental_exports.py [--n 20000] [--code DIR] [--json PATH]

On a synthetic corpus of ``--n`` files (``run.ensure_corpus``), the last
1,000 held aside: a cold build (with the record cache) of the others, then
incremental builds after (1) one title changed, (2) one file removed,
(3) the 1,000 files appended.  Prints the stage times ``build`` reports
(parse, graph, stories, rdf, exports, manifest) and the wall time of each.
``--code`` is the checkout whose ``kg`` is imported (default: this one), so
the same script times the code before a change.  Not a test.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--code", type=Path, default=HERE.parent)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.code.resolve()))
    sys.path.insert(1, str(HERE))
    from run import ensure_corpus

    import kg

    print(f"kg from {kg.__file__}", file=sys.stderr)
    root = Path(tempfile.gettempdir()) / "newskg-bench"
    root.mkdir(exist_ok=True)
    corpus, _ = ensure_corpus(args.n, 0, root)
    work = Path(tempfile.mkdtemp(prefix="bench-incr-", dir=root))
    src, aside, out = work / "in", work / "aside", work / "out"
    shutil.copytree(corpus, src)
    files = sorted(src.rglob("*.md"))
    aside.mkdir()
    held = files[-1000:]
    for p in held:
        p.rename(aside / p.name)
    results = {}

    def timed(what: str) -> None:
        t0 = time.perf_counter()
        r = kg.build(src, out=out)
        wall = time.perf_counter() - t0
        results[what] = {"wall": round(wall, 2), **{k: round(v, 2) for k, v in r.timings.items()},
                         "nquads_graphs_rendered": r.summary.get("nquads_graphs_rendered")}
        print(what, json.dumps(results[what]), file=sys.stderr, flush=True)

    try:
        timed("cold")
        victim = files[13]
        data = victim.read_bytes()
        victim.write_bytes(data.replace(b'\ntitle: "', b'\ntitle: "Edited: ', 1))
        timed("one title changed")
        gone = files[17]
        gone.rename(work / gone.name)
        timed("one file removed")
        for p in held:
            (aside / p.name).rename(src / p.name)
        timed("1,000 appended")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=1, sort_keys=True))
    stages = ["wall"] + [k for k in next(iter(results.values())) if k not in ("wall", "nquads_graphs_rendered")]
    print("| build | " + " | ".join(stages) + " |")
    print("|---" * (len(stages) + 1) + "|")
    for what, r in results.items():
        print(f"| {what} | " + " | ".join(f"{r.get(s, '')}" for s in stages) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
