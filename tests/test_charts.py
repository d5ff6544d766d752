"""`kg timeline`: its CSV/JSON on stdout, its charts (PNG/SVG by matplotlib, the
offline HTML chart, looked at in headless Chromium), and their escaping."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.charts import render_timeline, timeline_html
from kg.cli import main
from kg.graph import build_graph
from kg.tables import timeline

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"


@pytest.fixture(scope="module")
def ai_build(corpus_dir, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("charts") / "ai-facial"
    kg.build(corpus_dir("ai-facial"), out=out)
    return out


def test_timeline_csv_and_json_on_stdout(ai_build, capsysbinary):
    assert main(["timeline", str(ai_build), "--match", "clearview", "--by", "week",
                 "--since", "2021-11-01", "--until", "2021-12-31"]) == 0
    lines = capsysbinary.readouterr().out.decode().splitlines()
    assert lines[0] == "period,matching,total,share"
    assert lines[1].startswith("2021-11-01,") and lines[-1].startswith("2021-12-27,")
    assert main(["timeline", str(ai_build), "--match", "clearview", "--by-provider",
                 "--format", "json"]) == 0
    data = json.loads(capsysbinary.readouterr().out)
    assert data["match"] == "clearview" and data["split"] == "provider"
    expected = kg.open(ai_build).timeline("clearview", split="provider")
    assert sum(r["matching"] for r in data["rows"]) == expected.matching.sum() > 10
    assert {"period", "provider", "matching", "total", "share"} == set(data["rows"][0])


def test_timeline_charts_are_written_and_deterministic(ai_build, tmp_path):
    for fmt in ("png", "svg", "html"):
        assert main(["timeline", str(ai_build), "--match", "facial recognition", "--format", fmt]) == 0
    made = ai_build / "timelines"
    assert sorted(p.name for p in made.iterdir()) == [
        "facial-recognition-week.html", "facial-recognition-week.png", "facial-recognition-week.svg"]
    assert (made / "facial-recognition-week.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    svg = (made / "facial-recognition-week.svg").read_text()
    assert 'Articles matching "facial recognition" per week' in svg.replace("&quot;", '"')
    assert "share of all articles (%)" in svg and "matching articles" in svg
    out = tmp_path / "again.svg"
    assert main(["timeline", str(ai_build), "--match", "facial recognition", "--format", "svg",
                 "-o", str(out)]) == 0
    assert out.read_bytes() == (made / "facial-recognition-week.svg").read_bytes()


def test_html_chart_escapes_what_it_shows(tmp_path):
    g = build_graph(kg.load(ROOT / "seeds"))
    t = timeline(g, "<script>alert(1)</script>", by="month")
    page = timeline_html(t)
    assert "<script" not in page and "&lt;script&gt;" in page
    t = timeline(g, "facial", by="month", split="provider")
    t.loc[0, "provider"] = '<img src=x onerror="alert(1)">'
    page = timeline_html(t)
    assert "<img" not in page and "&lt;img src=x" in page


def test_bad_arguments_are_usage_errors(ai_build, capsys):
    assert main(["timeline", str(ai_build), "--match", "x", "--since", "yesterday"]) == 2
    assert "not a date: 'yesterday'" in capsys.readouterr().err
    assert main(["timeline", str(ai_build / "nothing"), "--match", "x"]) == 2
    assert "neither an export folder" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown timeline format"):
        render_timeline(kg.open(ai_build).timeline("x"), "xlsx")


def test_missing_matplotlib_names_the_charts_extra(ai_build):
    code = ("import sys; sys.modules['matplotlib'] = None; from kg.cli import main; "
            f"sys.exit(main(['timeline', {str(ai_build)!r}, '--match', 'x', '--format', 'png']))")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [
        "kg timeline: matplotlib is not installed: pip install 'newskg[charts]'"]


@pytest.mark.browser
def test_html_chart_in_chromium_is_readable_and_offline(ai_build, browser):
    path = ai_build / "chart.html"
    assert main(["timeline", str(ai_build), "--match", "clearview", "--by", "day", "--by-provider",
                 "--format", "html", "-o", str(path)]) == 0
    external: list[str] = []
    errors: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    try:

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                external.append(r.request.url)
                r.abort()
        page.route("**/*", route)
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(path.resolve().as_uri())
        texts = page.eval_on_selector_all("svg text", "els => els.map(e => [e.textContent, "
                                          "parseFloat(getComputedStyle(e).fontSize), "
                                          "e.getBoundingClientRect().right])")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "timeline-clearview-by-provider.png"))
    finally:
        page.close()
    assert not external and not errors
    shown = [t for t, _, _ in texts]
    assert 'Articles matching "clearview" per day, by provider' in shown
    assert "matching articles" in shown and "share of the provider's articles (%)" in shown
    assert any(t.startswith("other (") for t in shown)  # the legend: 7 providers and the rest
    assert min(size for _, size, _ in texts) >= 12
    assert max(right for _, _, right in texts) <= 1280  # nothing cut off at the right
