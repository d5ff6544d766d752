"""The story evaluation (benchmarks/stories_eval.py) and its labelled event sets (tests/data/).

The metrics are checked on tiny clusterings worked out by hand; the labelled
sets are checked against the real corpora (every URL is a file's canonical
URL, no article in two events, enough events); the integration test runs the
script on both corpora and checks that its figures are computed and hang
together.  Whether the targets are met is not asserted here: that belongs to
the story detection's own tests.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import yaml

import kg
from kg.normalize import canonical_url

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SCRIPT = ROOT / "benchmarks" / "stories_eval.py"

_spec = importlib.util.spec_from_file_location("stories_eval", SCRIPT)
assert _spec is not None and _spec.loader is not None
ev = importlib.util.module_from_spec(_spec)
sys.modules["stories_eval"] = ev  # dataclasses look their module up by name
_spec.loader.exec_module(ev)

# Gold A = {1, 2, 3, 4}, B = {5, 6}; predicted X = {1, 2, 5}, Y = {3, 4, 6}.
GOLD = {1: "A", 2: "A", 3: "A", 4: "A", 5: "B", 6: "B"}
PRED = {1: "X", 2: "X", 5: "X", 3: "Y", 4: "Y", 6: "Y"}


# --- metrics on hand-made clusterings --------------------------------------------

def test_the_scripts_doctests_pass() -> None:
    import doctest
    result = doctest.testmod(ev)
    assert result.attempted >= 2 and result.failed == 0


def test_bcubed_worked_example() -> None:
    # precision per item: 2/3 for 1-4, 1/3 for 5 and 6 -> 10/3 / 6 = 5/9
    # recall per item: 2/4 for 1-4, 1/2 for 5 and 6 -> 1/2; F1 = 10/19
    p, r, f = ev.bcubed(GOLD, PRED)
    assert p == pytest.approx(5 / 9)
    assert r == pytest.approx(1 / 2)
    assert f == pytest.approx(10 / 19)


def test_pairwise_worked_example() -> None:
    # gold pairs: 6 in A + 1 in B; predicted pairs: 3 + 3; shared: {1,2}, {3,4}
    p, r = ev.pairwise(GOLD, PRED)
    assert p == pytest.approx(2 / 6)
    assert r == pytest.approx(2 / 7)


def test_perfect_clustering_scores_one_whatever_the_cluster_names() -> None:
    renamed = {i: "story/" + g for i, g in GOLD.items()}
    assert ev.bcubed(GOLD, renamed) == pytest.approx((1.0, 1.0, 1.0))
    assert ev.pairwise(GOLD, renamed) == pytest.approx((1.0, 1.0))


def test_everything_in_one_cluster() -> None:
    one = {i: "all" for i in GOLD}
    p, r, f = ev.bcubed(GOLD, one)
    assert (p, r) == pytest.approx(((4 * 4 / 6 + 2 * 2 / 6) / 6, 1.0))
    assert f == pytest.approx(2 * p / (p + 1))
    assert ev.pairwise(GOLD, one) == pytest.approx((7 / 15, 1.0))


def test_articles_in_no_story_are_clusters_of_their_own() -> None:
    # No prediction at all: every article alone.
    p, r, _ = ev.bcubed(GOLD, {})
    assert (p, r) == pytest.approx((1.0, (4 * 1 / 4 + 2 * 1 / 2) / 6))
    # No predicted pair: precision is vacuously 1, recall 0.
    assert ev.pairwise(GOLD, {}) == pytest.approx((1.0, 0.0))
    # Two absent articles are not put together by being absent.
    assert ev.pairwise({1: "A", 2: "A"}, {}) == pytest.approx((1.0, 0.0))


def test_only_labelled_articles_count() -> None:
    # Unlabelled articles 7 and 8 in X change nothing.
    noisy = {**PRED, 7: "X", 8: "X"}
    assert ev.bcubed(GOLD, noisy) == pytest.approx(ev.bcubed(GOLD, PRED))
    assert ev.pairwise(GOLD, noisy) == pytest.approx(ev.pairwise(GOLD, PRED))


def test_singletons_are_hurt_by_merges() -> None:
    gold = {"a": "E", "b": "E", "s": "single:s"}
    assert ev.bcubed(gold, {"a": 1, "b": 1})[0] == 1.0
    p, r, _ = ev.bcubed(gold, {"a": 1, "b": 1, "s": 1})
    assert (p, r) == pytest.approx((5 / 9, 1.0))
    assert ev.pairwise(gold, {"a": 1, "b": 1, "s": 1}) == pytest.approx((1 / 3, 1.0))


def test_event_table() -> None:
    labels = ev.Labels("toy", {"A": ["1", "2", "3", "4"], "B": ["5", "6"], "C": ["7", "8"]},
                       {"A": "a", "B": "b", "C": "c"}, ["9"])
    pred = {"1": "X", "2": "X", "5": "X", "3": "Y", "4": "Y", "6": "Y", "9": "Z", "8": "Z"}
    rows = {row.event: row for row in ev.event_table(labels, pred)}
    # A: 2 in X and 2 in Y, one foreign article in each: the tie goes to X by name.
    assert (rows["A"].size, rows["A"].together, rows["A"].spread, rows["A"].foreign) == (4, 2, 2, 1)
    # B: one in X (two foreign), one in Y (two foreign): X.
    assert (rows["B"].together, rows["B"].spread, rows["B"].foreign) == (1, 2, 2)
    # C: 7 alone, 8 with the singleton 9: the largest group is a tie of 1; the
    # one with fewer foreign articles (7 alone) wins.
    assert (rows["C"].together, rows["C"].spread, rows["C"].foreign) == (1, 2, 0)


def test_explain_lists_the_clusters_of_split_or_impure_events() -> None:
    labels = ev.Labels("toy", {"A": ["1", "2", "3"], "B": ["4", "5"]}, {"A": "event a", "B": "event b"},
                       ["6"], files={str(i): f"f{i}.md" for i in range(1, 7)})
    pred = {"1": "X", "2": "X", "3": "Y", "6": "Y", "4": "Z", "5": "Z"}
    assert ev.explain(labels, pred) == [
        "A: event a",
        "  1. + f1.md",
        "  1. + f2.md",
        "  2. + f3.md",
        "  2. ! f6.md (singleton)",
    ]


def test_evaluate_targets_and_counts() -> None:
    labels = ev.Labels("toy", {"A": ["1", "2"], "B": ["3", "4"]}, {}, ["5"])
    result = ev.evaluate(labels, {"1": "x", "2": "x", "3": "y", "4": "y"}, corpus_urls={"1", "2", "3", "4"})
    assert (result.articles, result.events, result.multi_article_events, result.singletons) == (5, 2, 2, 1)
    assert result.targets == {"bcubed_f1": True, "bcubed_recall": True, "pairwise_precision": True}
    assert result.unknown_urls == ["5"]
    merged = ev.evaluate(labels, {u: "x" for u in "12345"})
    assert merged.targets["pairwise_precision"] is False
    assert "NOT met" in ev.report(merged)


# --- the labelled sets -------------------------------------------------------------

def _corpus_urls(path: Path) -> tuple[dict[str, str], set[tuple[str, str]]]:
    """File name -> canonical URL of its webUrl; and (file name, URL) of every
    entry of a file's related list."""
    articles = kg.load(path).articles
    return ({a.source.split("/", 1)[1]: a.url for a in articles},
            {(a.source.split("/", 1)[1], r.url) for a in articles for r in a.related})


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["real", "ai-facial"])
def test_labelled_set_is_well_formed(name: str, corpus_dir) -> None:
    doc = yaml.safe_load((DATA / f"events-{name}.yaml").read_text(encoding="utf-8"))
    assert doc["corpus"] == name
    urls, listed = _corpus_urls(corpus_dir(name))
    assert all(canonical_url(u) == u for u in urls.values())
    file_urls = set(urls.values())
    referenced = {u for _, u in listed} - file_urls  # known only from a related list

    def check(row: dict, label: object) -> None:
        if "related_of" in row:  # an article known only from that file's related list
            assert (row["related_of"], row["url"]) in listed and row["url"] in referenced, label
        else:
            assert urls.get(row["file"]) == row["url"], label

    seen: Counter[str] = Counter()
    ids = [e["id"] for e in doc["events"]]
    assert len(ids) == len(set(ids))
    for event in doc["events"]:
        assert event["description"].strip() and event["note"].strip(), event["id"]
        for m in event["members"]:
            check(m, (event["id"], m["url"]))
            seen[m["url"]] += 1
    for row in doc["singletons"] + doc.get("undecided", []):
        check(row, row["url"])
        assert row["note"].strip(), row["url"]
        seen[row["url"]] += 1
    assert [u for u, n in seen.items() if n > 1] == []  # no article labelled twice
    labels = ev.load_labels(DATA / f"events-{name}.yaml")
    assert set(labels.gold()) <= file_urls | referenced
    if name == "real":
        assert sum(len(m) for m in labels.events.values()) >= 300
        assert sum(len(m) > 1 for m in labels.events.values()) >= 40
        assert len(labels.singletons) >= 20
    else:
        # Every article of ai-facial, those known only by reference too, has a
        # call (or is openly undecided).
        assert set(seen) == file_urls | referenced
        # The events the issue names, as the per-event table shows them.
        sizes = {e: len(m) for e, m in labels.events.items()}
        assert sizes["uk-ico-clearview-provisional-fine"] >= 16  # as the issue counts it
        assert sizes["clearview-us-patent"] >= 6
        assert sizes["france-cnil-clearview-order"] == 7
        for event in ("canada-provinces-clearview-order", "india-airports-digi-yatra",
                      "xpeng-fined-deletes-photos", "worcester-ban"):
            assert sizes[event] >= 2


# --- the script on the corpora -----------------------------------------------------

@pytest.mark.corpus
def test_evaluation_runs_on_both_corpora(corpus_dir) -> None:
    root = corpus_dir("real").parent
    corpus_dir("ai-facial")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, str(SCRIPT), "--corpus", "both", "--json",
                          "--corpus-root", str(root)],
                         capture_output=True, text=True, check=True, cwd=ROOT, env=env).stdout
    results = {r["corpus"]: r for r in json.loads(out)}
    assert set(results) == {"real", "ai-facial"}
    for name, r in results.items():
        labels = ev.load_labels(DATA / f"events-{name}.yaml")
        assert r["articles"] == len(labels.gold())
        assert r["unknown_urls"] == []
        for metric in ("bcubed_precision", "bcubed_recall", "bcubed_f1",
                       "pairwise_precision", "pairwise_recall"):
            assert 0.0 <= r[metric] <= 1.0, (name, metric)
        assert r["run"]["stories"] > 0
        assert set(r["targets"]) == {"bcubed_f1", "bcubed_recall", "pairwise_precision"}
        table = {row["event"]: row for row in r["table"]}
        assert set(table) == set(labels.events)
        for event, row in table.items():
            assert row["size"] == len(labels.events[event])
            assert 1 <= row["together"] <= row["size"]
            assert 1 <= row["spread"] <= row["size"]
            assert row["foreign"] >= 0
            # spread 1 means every article of the event is in one cluster
            assert (row["spread"] == 1) == (row["together"] == row["size"])
        # B-cubed recall is the mean share of an article's event found with it:
        # 1.0 exactly when no event is split.
        assert (r["bcubed_recall"] == pytest.approx(1.0)) == all(
            row["spread"] == 1 for row in table.values())


@pytest.mark.corpus
def test_parameters_reach_add_stories(corpus_dir) -> None:
    # The options are passed on: a very loose threshold and a wider window
    # put more labelled articles together than a very strict threshold.
    root = corpus_dir("ai-facial").parent
    strict = ev.run_corpus("ai-facial", root, threshold=0.9)
    loose = ev.run_corpus("ai-facial", root, threshold=0.2, window_days=7)
    assert loose.run["add_stories_kwargs"]["threshold"] == 0.2
    assert loose.run["add_stories_kwargs"].get("window", loose.run["add_stories_kwargs"].get("window_days")) == 7
    assert strict.run["add_stories_kwargs"] == {"threshold": 0.9}
    assert loose.bcubed_recall > strict.bcubed_recall
