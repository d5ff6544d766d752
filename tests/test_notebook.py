"""The example notebooks, executed by nbclient in a real kernel on the seeds and on
ai-facial: any error fails; the results, the chart and the view display inline."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "examples" / "facial-recognition.ipynb"


def test_notebook_is_stored_without_outputs():
    nb = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert code and all(c["outputs"] == [] and c["execution_count"] is None for c in code)


def run(corpus: Path, monkeypatch, tmp_path: Path) -> list[dict]:
    import nbformat
    from nbclient import NotebookClient

    # A kernel of this very Python (not whatever "python3" a machine has
    # installed), importing this checkout's kg and reading this corpus.
    spec = tmp_path / "jupyter" / "kernels" / "newskg-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "newskg test", "language": "python"}), encoding="utf-8")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    monkeypatch.setenv("NEWSKG_CORPUS", str(corpus))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="newskg-test",
                   resources={"metadata": {"path": str(NOTEBOOK.parent)}}).execute()
    return [c for c in nb.cells if c.cell_type == "code"]


def html_of(cell) -> str:
    return "".join(o.get("data", {}).get("text/html", "") for o in cell.outputs)


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in cell.outputs)


@pytest.mark.parametrize("name", ["seeds", "ai-facial"])
def test_notebook_runs_and_displays_inline(name, corpus_dir, monkeypatch, tmp_path):
    corpus = ROOT / "seeds" if name == "seeds" else corpus_dir(name)
    cells = run(corpus, monkeypatch, tmp_path)
    assert f"{name} -> " in text_of(cells[0])
    found = text_of(cells[1])
    assert "mention facial recognition" in found
    if name == "ai-facial":
        n = int(found.split(" of ")[0])
        assert n >= 40  # the corpus is about it
        assert "Clearview" in html_of(cells[2])  # its stories table
        assert "<table" in html_of(cells[4])  # the weekly timeline, as a pandas table
    chart, query, view = html_of(cells[5]), html_of(cells[6]), html_of(cells[7])
    assert chart.startswith("<iframe srcdoc=") and "matching articles" in chart
    assert "<table><thead><tr><th>provider</th><th>articles</th>" in query
    assert view.startswith("<iframe srcdoc=") and "kgStable" in view
    assert "<script" not in view.split('srcdoc="', 1)[1].split('"', 1)[0]  # escaped in the attribute


def test_query_results_display_as_escaped_capped_tables(tmp_path):
    import kg
    from kg.store import QueryResult

    kg.build(ROOT / "seeds", out=tmp_path)
    with kg.open(tmp_path) as g:
        r = g.query("SELECT ?a ?h WHERE { ?a schema:headline ?h } ORDER BY ?h")
        page = r._repr_html_()
        assert page.count("<tr>") == 1 + len(r) == 9 and "<p>8 rows</p>" in page
        assert "<td style=\"text-align:left\">id:article/" in page  # IRIs shortened by prefix
        assert "true" in g.query("ASK { ?a a schema:NewsArticle }")._repr_html_()
        r.HTML_ROWS = 3
        assert r._repr_html_().count("<tr>") == 4 and "... 5 more rows (of 8)" in r._repr_html_()
    hostile = QueryResult("select", ["x"], [(kg.store.to_term('<img src=x onerror="alert(1)">'),)])
    assert "<img" not in hostile._repr_html_()
