"""How well story detection finds events: scores ``kg.stories`` against labelled events.

The labelled sets are ``tests/data/events-real.yaml`` (../shared/corpus/real)
and ``tests/data/events-ai-facial.yaml`` (../shared/corpus/ai-facial); how they
were made, and what the figures mean, is in docs/stories-evaluation.md.

The corpus is loaded and its graph built with the current code (``kg.load``,
``kg.graph.build_graph``, ``kg.stories.add_stories``); each labelled article
goes to the cluster of its story (``inStory`` edge), or to a cluster of its
own when it is in no story.  Only labelled articles count: an unlabelled
article in a story does not make it less precise, and labelled singletons
(the hard negatives among them) do.  Prints B-cubed precision, recall and F1,
pairwise precision and recall, whether the targets of issue 19 are met, and a
per-event table:

    size      labelled articles of the event
    together  how many of them are in the event's largest predicted cluster
    spread    how many predicted clusters its articles are in (1 = whole)
    foreign   labelled articles of other events (or singletons) in that
              largest cluster

    .venv/bin/python benchmarks/stories_eval.py [--corpus real|ai-facial|both]
        [--threshold X] [--window-days D] [--drop-dates F] [--json] [--details]
        [--corpus-root DIR]

``--threshold`` and ``--window-days`` are passed to ``add_stories`` only when
given (as ``window_days=D`` if it takes that, else ``window=timedelta(D)``).
``--drop-dates F`` removes the publication date of a share F of the
articles (chosen by a hash of the URL, so the same ones every run) after the
graph is built: how well undated articles find their stories.
Exit status 0 whether or not the targets are met.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Hashable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
# The checkout this script is in is the code evaluated, not whatever ``kg``
# the interpreter would find first (an editable install of another checkout).
sys.path.insert(0, str(ROOT))
DATA = ROOT / "tests" / "data"
CORPUS_ROOT = ROOT.parent / "shared" / "corpus"
CORPORA = ("real", "ai-facial")

#: Targets of issue 19 (on the labelled sets): (metric, minimum).
TARGETS = (("bcubed_f1", 0.90), ("bcubed_recall", 0.85), ("pairwise_precision", 0.90))


# --- labels -------------------------------------------------------------------

@dataclass
class Labels:
    """A labelled set: events (id -> member URLs) and singletons (URLs)."""

    corpus: str
    events: dict[str, list[str]]
    descriptions: dict[str, str]
    singletons: list[str]
    undecided: list[str] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)  # URL -> file name, for reading

    def gold(self) -> dict[str, str]:
        """Article URL -> gold cluster (the event id, or ``single:<url>``)."""
        out = {u: e for e, urls in self.events.items() for u in urls}
        out.update((u, "single:" + u) for u in self.singletons)
        return out


def _where(row: Mapping[str, str]) -> str:
    """A labelled article's file, or the file whose related list names it."""
    return row["file"] if "file" in row else f"(related entry of {row['related_of']})"


def load_labels(path: Path) -> Labels:
    """Read a labelled set (see tests/data/events-*.yaml)."""
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    events = {e["id"]: [m["url"] for m in e["members"]] for e in doc["events"]}
    return Labels(
        corpus=doc["corpus"],
        events=events,
        descriptions={e["id"]: e["description"] for e in doc["events"]},
        singletons=[s["url"] for s in doc.get("singletons") or []],
        undecided=[s["url"] for s in doc.get("undecided") or []],
        files={m["url"]: _where(m) for e in doc["events"] for m in e["members"]}
        | {s["url"]: _where(s) for s in doc.get("singletons") or []},
    )


# --- metrics ------------------------------------------------------------------

def _groups(assign: Mapping[Hashable, Hashable]) -> dict[Hashable, set[Hashable]]:
    groups: dict[Hashable, set[Hashable]] = defaultdict(set)
    for item, label in assign.items():
        groups[label].add(item)
    return groups


def bcubed(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> tuple[float, float, float]:
    """B-cubed precision, recall and F1 of ``pred`` against ``gold`` over gold's items.

    Per item: precision is the share of its predicted cluster that shares its
    gold cluster, recall the share of its gold cluster that shares its
    predicted cluster; both are averaged over items (Bagga & Baldwin 1998;
    Amigo et al. 2009).  Items missing from ``pred`` are clusters of their own.

    >>> bcubed({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "x", "c": "x"})
    (0.5555555555555555, 1.0, 0.7142857142857143)
    """
    items = list(gold)
    if not items:
        return 1.0, 1.0, 1.0
    pred = {i: pred.get(i, ("alone", i)) for i in items}
    gold_groups, pred_groups = _groups({i: gold[i] for i in items}), _groups(pred)
    p = r = 0.0
    for i in items:
        g, c = gold_groups[gold[i]], pred_groups[pred[i]]
        both = len(g & c)
        p += both / len(c)
        r += both / len(g)
    p, r = p / len(items), r / len(items)
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def pairs(assign: Mapping[Hashable, Hashable]) -> set[frozenset[Hashable]]:
    """The unordered pairs of items that share a cluster."""
    return {frozenset(pair) for group in _groups(assign).values()
            for pair in combinations(sorted(group, key=repr), 2)}


def pairwise(gold: Mapping[Hashable, Hashable], pred: Mapping[Hashable, Hashable]) -> tuple[float, float]:
    """Pairwise precision and recall of ``pred`` against ``gold`` over gold's items.

    Precision: of the pairs ``pred`` puts together, the share gold puts
    together (1.0 when ``pred`` puts no pair together); recall: of gold's
    pairs, the share ``pred`` puts together (1.0 when gold has none).

    >>> pairwise({"a": 1, "b": 1, "c": 2}, {"a": "x", "b": "x", "c": "x"})
    (0.3333333333333333, 1.0)
    """
    items = set(gold)
    pred = {i: pred.get(i, ("alone", i)) for i in items}
    g, p = pairs({i: gold[i] for i in items}), pairs(pred)
    both = len(g & p)
    return (both / len(p) if p else 1.0), (both / len(g) if g else 1.0)


@dataclass
class EventRow:
    """One line of the per-event table (see the module docstring)."""

    event: str
    size: int
    together: int
    spread: int
    foreign: int
    description: str


def event_table(labels: Labels, pred: Mapping[str, Hashable]) -> list[EventRow]:
    """How each labelled event is split and what joins it, in the predicted clusters."""
    gold = labels.gold()
    pred = {u: pred.get(u, ("alone", u)) for u in gold}
    members = _groups(pred)
    rows = []
    for event, urls in labels.events.items():
        counts = Counter(pred[u] for u in urls)
        # The largest cluster; ties go to the one with fewer foreign articles.
        best = min(counts, key=lambda c: (-counts[c], len(members[c]) - counts[c], repr(c)))
        foreign = sum(1 for u in members[best] if gold[u] != event)
        rows.append(EventRow(event, len(urls), counts[best], len(counts), foreign,
                             labels.descriptions.get(event, "")))
    return rows


# --- predictions --------------------------------------------------------------

def predicted_clusters(corpus: Path, *, threshold: float | None = None, window_days: float | None = None,
                       drop_dates: float = 0.0) -> tuple[dict[str, str], dict[str, Any], set[str]]:
    """Article URL -> story id for the articles of ``corpus`` that are in a story.

    Builds the graph with the current code.  An article in several stories
    (not expected) goes to the first by id.  Also returns facts about the
    run (stories found, seconds) and the URLs of the corpus's articles (those
    known only from a related list included).
    """
    import kg
    from kg.graph import build_graph
    from kg.stories import add_stories

    kwargs: dict[str, Any] = {}
    params = inspect.signature(add_stories).parameters
    if threshold is not None:
        kwargs["threshold"] = threshold
    if window_days is not None:
        if "window_days" in params:
            kwargs["window_days"] = window_days
        else:
            kwargs["window"] = timedelta(days=window_days)
    start = time.perf_counter()
    graph = build_graph(kg.load(corpus))
    undated = 0
    for data in graph._node.values():
        url = data.get("url")
        if drop_dates and data.get("kind") == "article" and url and _share(url) < drop_dates:
            undated += data.pop("published", None) is not None
    built = time.perf_counter()
    story_ids = add_stories(graph, **kwargs)
    found = time.perf_counter()
    out: dict[str, str] = {}
    urls: set[str] = set()
    multi = 0
    for node, data in graph.nodes(data=True):
        if data.get("kind") != "article":  # (articles known only by reference too)
            continue
        urls.add(data["url"])
        stories = sorted(t for _, t, k in graph.out_edges(node, keys=True) if k == "inStory")
        if stories:
            multi += len(stories) > 1
            out[data["url"]] = stories[0]
    sizes = Counter(out.values())
    facts = {"kg": str(Path(kg.__file__).resolve().parent), "stories": len(story_ids), "articles_in_stories": len(out),
             "largest_story": max(sizes.values(), default=0), "dates_dropped": undated,
             "articles_in_several_stories": multi,
             "load_and_graph_seconds": round(built - start, 2),
             "stories_seconds": round(found - built, 2), "add_stories_kwargs": {
                 k: (v.total_seconds() / 86400 if isinstance(v, timedelta) else v)
                 for k, v in kwargs.items()}}
    return out, facts, urls


def _share(url: str) -> float:
    """A number in [0, 1) fixed by ``url`` (which articles lose their date)."""
    return int(hashlib.sha256(url.encode()).hexdigest()[:8], 16) / 2**32


# --- evaluation ---------------------------------------------------------------

@dataclass
class Result:
    """The figures of one corpus."""

    corpus: str
    articles: int
    events: int
    multi_article_events: int
    singletons: int
    bcubed_precision: float
    bcubed_recall: float
    bcubed_f1: float
    pairwise_precision: float
    pairwise_recall: float
    targets: dict[str, bool]
    run: dict[str, Any]
    table: list[EventRow]
    unknown_urls: list[str]
    details: list[str] = field(default_factory=list)


def evaluate(labels: Labels, pred: Mapping[str, Hashable], run: dict[str, Any] | None = None,
             corpus_urls: set[str] | None = None) -> Result:
    """Score ``pred`` (URL -> cluster; absent = alone) against ``labels``."""
    gold = labels.gold()
    bp, br, bf = bcubed(gold, pred)
    pp, pr = pairwise(gold, pred)
    figures = {"bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": bf,
               "pairwise_precision": pp, "pairwise_recall": pr}
    unknown = sorted(u for u in gold if corpus_urls is not None and u not in corpus_urls)
    return Result(
        corpus=labels.corpus, articles=len(gold), events=len(labels.events),
        multi_article_events=sum(len(v) > 1 for v in labels.events.values()),
        singletons=len(labels.singletons), **figures,
        targets={name: figures[name] >= minimum for name, minimum in TARGETS},
        run=run or {}, table=event_table(labels, pred), unknown_urls=unknown)


def explain(labels: Labels, pred: Mapping[str, Hashable]) -> list[str]:
    """For each event not found whole and pure: its predicted clusters, member by member.

    Members of the event are listed as ``+ file``; labelled articles of other
    events or singletons in the same clusters as ``! file (their event)``.
    """
    gold = labels.gold()
    pred = {u: pred.get(u, ("alone", u)) for u in gold}
    members = _groups(pred)
    lines = []
    for row in sorted(event_table(labels, pred), key=lambda row: (-row.size, row.event)):
        if row.together == row.size and not row.foreign:
            continue
        lines.append(f"{row.event}: {row.description}")
        clusters = sorted({pred[u] for u in labels.events[row.event]},
                          key=lambda c: (-sum(gold[u] == row.event for u in members[c]), repr(c)))
        for k, c in enumerate(clusters, 1):
            for u in sorted(members[c], key=lambda u: (gold[u] != row.event, labels.files.get(u, u))):
                name = labels.files.get(u, u)
                if gold[u] == row.event:
                    lines.append(f"  {k}. + {name}")
                else:
                    other = "singleton" if gold[u].startswith("single:") else gold[u]
                    lines.append(f"  {k}. ! {name} ({other})")
    return lines


def run_corpus(name: str, corpus_root: Path = CORPUS_ROOT, *, threshold: float | None = None,
               window_days: float | None = None, details: bool = False, drop_dates: float = 0.0) -> Result:
    """Evaluate the current story detection on one labelled corpus."""
    labels = load_labels(DATA / f"events-{name}.yaml")
    pred, run, urls = predicted_clusters(corpus_root / name, threshold=threshold, window_days=window_days,
                                         drop_dates=drop_dates)
    result = evaluate(labels, pred, run, urls)
    if details:
        result.details = explain(labels, pred)
    return result


def report(result: Result) -> str:
    """The figures and the per-event table as text."""
    r = result
    lines = [
        f"== {r.corpus}: {r.articles} labelled articles, {r.multi_article_events} multi-article "
        f"events ({r.events} events), {r.singletons} singletons",
        f"   run: {r.run}",
    ]
    if r.unknown_urls:
        lines.append(f"   WARNING: {len(r.unknown_urls)} labelled URLs not in the corpus")
    lines += [
        f"   B-cubed  precision {r.bcubed_precision:.3f}  recall {r.bcubed_recall:.3f}  "
        f"F1 {r.bcubed_f1:.3f}",
        f"   pairwise precision {r.pairwise_precision:.3f}  recall {r.pairwise_recall:.3f}",
    ]
    for name, minimum in TARGETS:
        value = getattr(r, name)
        lines.append(f"   target {name} >= {minimum:.2f}: {value:.3f} "
                     f"{'met' if r.targets[name] else 'NOT met'}")
    width = max((len(row.event) for row in r.table), default=5)
    lines.append(f"   {'event':<{width}}  size  together  spread  foreign")
    for row in sorted(r.table, key=lambda row: (-row.size, row.event)):
        mark = "" if row.together == row.size and not row.foreign else "  *"
        lines.append(f"   {row.event:<{width}}  {row.size:>4}  {row.together:>8}  "
                     f"{row.spread:>6}  {row.foreign:>7}{mark}")
    whole = sum(1 for row in r.table if row.together == row.size and not row.foreign)
    lines.append(f"   events found whole and pure: {whole}/{len(r.table)}")
    if r.details:
        lines.append("   events not found whole and pure (+ member, ! article of another event):")
        lines += ["   " + line for line in r.details]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", choices=(*CORPORA, "both"), default="both")
    parser.add_argument("--threshold", type=float)
    parser.add_argument("--window-days", type=float)
    parser.add_argument("--drop-dates", type=float, default=0.0, metavar="F",
                        help="remove the date of this share of the articles (0-1)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--details", action="store_true",
                        help="list the predicted clusters of every event not found whole and pure")
    parser.add_argument("--corpus-root", type=Path, default=CORPUS_ROOT,
                        help="folder holding real/ and ai-facial/ (default ../shared/corpus)")
    args = parser.parse_args(argv)
    names = CORPORA if args.corpus == "both" else (args.corpus,)
    missing = [n for n in names if not (DATA / f"events-{n}.yaml").is_file()]
    for n in missing:
        print(f"no labelled set {DATA / f'events-{n}.yaml'}: {n} skipped", file=sys.stderr)
    names = tuple(n for n in names if n not in missing)
    results = [run_corpus(n, args.corpus_root, threshold=args.threshold,
                          window_days=args.window_days, details=args.details,
                          drop_dates=args.drop_dates) for n in names]
    if args.json:
        print(json.dumps([asdict(r) for r in results], indent=2, sort_keys=True))
    else:
        print("\n\n".join(map(report, results)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
