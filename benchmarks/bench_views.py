"""Benchmark of views: generation time and time until the page is stabilised.

Builds the graph of ../shared/corpus/real (plus stories), then for 500 and
2,000 nodes writes the view of the topic "Coronavirus" (capped at that many
nodes) and opens it in headless Chromium (Debian's /usr/bin/chromium):
``stabilised`` is ``performance.now()`` when physics has settled and the
graph is shown (from navigation start, so parsing the 0.7 MB of inlined
vis-network counts).  Also times the story detection of the corpus and
``kg view --all`` (topic clusters of the whole corpus, a page per story and per cluster).

    .venv/bin/python benchmarks/bench_views.py [CORPUS] [--runs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import kg
from kg import stories, views
from kg.graph import build_graph

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=ROOT.parent / "shared" / "corpus" / "real")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--sizes", type=int, nargs="+", default=[500, 2000])
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus {args.corpus} not found", file=sys.stderr)
        return 2
    graph = build_graph(kg.load(args.corpus))
    arts = sum(1 for _, k in graph.nodes(data="kind") if k == "article")
    t = time.perf_counter()
    ids = stories.add_stories(graph)
    print(f"stories: {len(ids)} over {arts} articles in {time.perf_counter() - t:.2f} s")
    tmp = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    index = views.write_all(graph, tmp / "all")
    took = time.perf_counter() - t
    pages = [len(list(index.parent.glob(f"{kind}-*.html"))) for kind in ("story", "cluster")]
    print(f"kg view --all: {pages[0]} story and {pages[1]} cluster pages over {arts} articles in {took:.2f} s")
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for size in args.sizes:
            gen, stab, wall = [], [], []
            for _ in range(args.runs):
                out = tmp / f"view-{size}.html"
                t = time.perf_counter()
                views.draw_view(graph, out, topic="Coronavirus", hops=0, max_nodes=size)
                gen.append(time.perf_counter() - t)
                page = browser.new_page(viewport={"width": 1400, "height": 900}, bypass_csp=True)
                t = time.perf_counter()
                page.goto(out.as_uri())
                page.wait_for_function("window.kgStable === true", timeout=120_000)
                wall.append(time.perf_counter() - t)
                stab.append(page.evaluate("window.kgStableAt") / 1000)
                nodes = page.evaluate("network.body.data.nodes.length")
                page.close()
            print(f"{nodes:5d} nodes ({out.stat().st_size / 1e6:.1f} MB): generate "
                  f"{statistics.median(gen):.2f} s, stabilised in Chromium "
                  f"{statistics.median(stab):.2f} s (wall {statistics.median(wall):.2f} s), "
                  f"median of {args.runs}")
        browser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
