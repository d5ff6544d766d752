"""Tables of a built graph (kg.tables, KnowledgeGraph.articles(), ...), `kg export tables`,
and the counts of `timeline` on a hand-written corpus."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import kg
from kg.cli import main
from kg.graph import build_graph
from kg.tables import TABLES, articles_table, stories_table, timeline, timeline_records, write_tables

ROOT = Path(__file__).resolve().parent.parent


def article(folder: Path, name: str, title: str, when: str, domain: str, provider: str,
            topics: tuple[str, ...] = ("AI",)) -> None:
    tops = "\n".join(f"  - {t}" for t in topics)
    (folder / f"{name}.md").write_text(
        f'---\ntitle: "{title}"\npublishedDateTime: {when}\n'
        f'webUrl: "https://{domain}/{name}"\n'
        f"provider:\n  name: {provider}\n  domain: {domain}\ntopics:\n{tops}\n---\nbody\n",
        encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory) -> Path:
    """Nine articles over three ISO weeks of 2021 (weeks of Nov 1, 8 (empty), 15, 22)."""
    d = tmp_path_factory.mktemp("small") / "small"
    d.mkdir()
    rows = [
        ("a1", "Facial recognition ban in Portland", "2021-11-01T09:00:00Z", "a.com", "Alpha"),
        ("a2", "Budget vote", "2021-11-03T09:00:00Z", "a.com", "Alpha"),
        ("b1", "FACIAL Recognition fine", "2021-11-07T23:59:00Z", "b.org", "Beta"),  # Sunday
        ("b2", "Weather", "2021-11-15T00:00:00Z", "b.org", "Beta"),  # Monday of week 3
        ("a3", "Reconnaissance faciale à Montréal", "2021-11-16T10:00:00Z", "a.com", "Alpha"),
        ("a4", "Sports", "2021-11-17T10:00:00Z", "a.com", "Alpha"),
        ("b3", "Elections", "2021-11-22T10:00:00Z", "b.org", "Beta"),
        ("b4", "Markets", "2021-11-23T10:00:00Z", "b.org", "Beta"),
    ]
    for r in rows:
        article(d, *r)
    # Matched by its topic, not its title.
    article(d, "c1", "Cameras in schools", "2021-11-24T10:00:00Z", "c.net", "Gamma",
            topics=("Facial Recognition",))
    return d


@pytest.fixture(scope="module")
def small_graph(small):
    return build_graph(kg.load(small))


def test_weekly_counts_and_shares(small_graph):
    t = timeline(small_graph, "facial recognition", by="week")
    assert [p.strftime("%Y-%m-%d") for p in t.period] == ["2021-11-01", "2021-11-08", "2021-11-15",
                                                          "2021-11-22"]
    assert t.matching.tolist() == [2, 0, 0, 1]  # "faciale" is not "facial recognition"
    assert t.total.tolist() == [3, 0, 3, 3]
    assert t.share.iloc[0] == pytest.approx(2 / 3) and math.isnan(t.share.iloc[1])
    # Accents and case folded: "faciale à" matches "FACIALE A".
    assert timeline(small_graph, "FACIALE A", by="month").matching.tolist() == [1]
    # Whole words: "facial" is not "faciale".
    assert timeline_records(timeline(small_graph, "facial", by="month")) == [
        {"period": "2021-11-01", "matching": 3, "total": 9, "share": round(3 / 9, 6)}]
    assert timeline(small_graph, "facial-recognition", by="month").matching.tolist() == [3]
    assert timeline(small_graph, "recog", by="month").matching.tolist() == [0]


def test_days_since_until_and_splits(small_graph):
    t = timeline(small_graph, "faciale", by="day", since="2021-11-07", until="2021-11-16")
    assert len(t) == 10 and t.period.iloc[0] == pd.Timestamp("2021-11-07")
    assert t.set_index(t.period.dt.strftime("%d")).matching.to_dict() == {
        "07": 0, "08": 0, "09": 0, "10": 0, "11": 0, "12": 0, "13": 0, "14": 0, "15": 0, "16": 1}
    assert t.total.sum() == 3  # b1 (late on the 7th, the whole day counts), b2, a3
    by_provider = timeline(small_graph, "facial", by="month", split="provider")
    assert by_provider[["provider", "matching", "total"]].values.tolist() == [
        ["Alpha", 1, 4], ["Beta", 1, 4], ["Gamma", 1, 1]]
    # Nothing in the window: no rows, or empty periods when both bounds are given.
    assert len(timeline(small_graph, "facial", since="2030-01-01")) == 0
    assert len(timeline(small_graph, "facial", split="provider", until="2000-01-01")) == 0
    empty = timeline(small_graph, "facial", by="day", since="2030-01-01", until="2030-01-03")
    assert empty.matching.tolist() == [0, 0, 0] and empty.share.isna().all()
    with pytest.raises(ValueError, match="by must be one of"):
        timeline(small_graph, "x", by="year")
    with pytest.raises(ValueError, match="not a date"):
        timeline(small_graph, "x", since="last week")


def test_story_split_on_ai_facial(corpus_dir):
    graph = build_graph(kg.load(corpus_dir("ai-facial")))
    from kg.stories import add_stories

    add_stories(graph)
    t = timeline(graph, "clearview", by="week", split="story")
    assert "(no story)" in set(t.story)
    overall = timeline(graph, "clearview", by="week")
    # Every matching article is counted once, in its story or in "(no story)".
    assert t.groupby("period").matching.sum().tolist() == overall.matching.tolist()
    assert (t.groupby("period").total.first().tolist() == overall.total.tolist())


def test_tables_of_ai_facial_answer_who_covered_the_uk_fine(corpus_dir, tmp_path):
    kg.build(corpus_dir("ai-facial"), out=tmp_path)
    g = kg.open(tmp_path)
    arts = g.articles()
    assert len(arts) == sum(1 for _, k in g.graph.nodes(data="kind") if k == "article")
    assert arts.id.is_unique and arts.published.dt.tz is not None
    assert arts.cluster.notna().all() and arts.cluster_label.notna().all()
    stories = g.stories_table()
    assert stories["size"].tolist() == [s.size for s in g.stories()]
    uk = arts[arts.title.str.contains("Clearview") & arts.title.str.contains(r"U\.?K\.?|Brit")]
    assert len(uk) >= 3 and uk.provider.notna().all()
    providers = g.providers()
    assert providers.articles.sum() == sum(1 for *_, k in g.graph.edges(keys=True) if k == "publishedBy")
    assert set(g.topics().label) >= {"AI", "Computer Vision"}
    assert len(g.edges()) == g.graph.number_of_edges()


def test_export_tables_csv_and_parquet_round_trip(corpus_dir, tmp_path):
    out = tmp_path / "ai-facial"
    kg.build(corpus_dir("ai-facial"), out=out)
    assert main(["export", "tables", str(out)]) == 0
    csvs = sorted((out / "tables").glob("*.csv"))
    assert [p.stem for p in csvs] == sorted(TABLES)
    first = {p.name: p.read_bytes() for p in csvs}
    assert main(["export", "tables", str(out), "-o", str(tmp_path / "again")]) == 0
    assert {p.name: p.read_bytes() for p in (tmp_path / "again").glob("*.csv")} == first
    assert main(["export", "tables", str(out), "--format", "parquet", "-o", str(tmp_path / "pq")]) == 0
    graph = kg.open(out).graph
    for name in ("articles", "stories"):
        back = pd.read_parquet(tmp_path / "pq" / f"{name}.parquet")
        expected = articles_table(graph) if name == "articles" else stories_table(graph)
        pd.testing.assert_frame_equal(back, expected, check_dtype=False)
    csv = pd.read_csv(out / "tables" / "articles.csv")
    assert csv.columns.tolist() == articles_table(graph).columns.tolist()
    assert main(["export", "tables", str(out), "--no-clusters", "-o", str(tmp_path / "fast")]) == 0
    fast = pd.read_csv(tmp_path / "fast" / "articles.csv")
    assert "cluster" not in fast.columns and len(fast) == len(csv)


def test_write_tables_rejects_unknown_format(small_graph, tmp_path):
    with pytest.raises(ValueError, match="csv or parquet"):
        write_tables(small_graph, tmp_path, format="xlsx")


def test_missing_pandas_is_a_one_line_error_naming_the_extra(tmp_path):
    kg.build(ROOT / "seeds", out=tmp_path / "seeds")
    code = ("import sys; sys.modules['pandas'] = None; from kg.cli import main; "
            f"sys.exit(main(['export', 'tables', {str(tmp_path / 'seeds')!r}]))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "kg export tables: pandas is not installed: pip install 'newskg[pandas]'"]
    code = ("import sys; sys.modules['pandas'] = None; import kg; from kg.store import QueryResult\n"
            "try:\n    QueryResult('ask', boolean=True).to_dataframe()\n"
            "except ImportError as e:\n    print(e)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.stdout.strip() == "pandas is not installed: pip install 'newskg[pandas]'"


def test_views_since_until_keep_the_window(small, tmp_path, capsys):
    out = tmp_path / "small"
    kg.build(small, out=out)
    g = kg.open(out)
    view = g.view(regex="facial", since="2021-11-07", until="2021-11-16")  # "faciale" too
    shown = {g.graph.nodes[n]["title"] for n in view.view.nodes if g.graph.nodes[n]["kind"] == "article"}
    assert shown == {"FACIAL Recognition fine", "Reconnaissance faciale à Montréal"}
    assert main(["view", str(out), "--story", "facial", "--until", "2021-11-06",
                 "-o", str(tmp_path / "v.html")]) == 0
    assert capsys.readouterr().out.startswith("1 article match")
    assert main(["view", str(out), "--story", "facial", "--since", "2021-12-01"]) == 1
    assert "nothing matches" in capsys.readouterr().err
    assert main(["view", str(out), "--story", "facial", "--since", "Nov 1"]) == 2
    assert "not a date: 'Nov 1'" in capsys.readouterr().err
