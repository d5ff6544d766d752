"""The query page of `kg serve` (GET /) in a real headless Chromium: the
example queries preloaded, results as a table, article text shown as text,
nothing fetched from elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_browser import ARTIFACTS, HOSTILE

import kg
from kg.graph import build_graph
from kg.queries import named_queries
from kg.rdf_export import export_rdf
from kg.server import serve

pytestmark = [pytest.mark.browser, pytest.mark.server]
ROOT = Path(__file__).resolve().parent.parent




def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    elsewhere: list[str] = []
    errors: list[str] = []

    def route(r):
        if r.request.url.startswith(url):
            r.continue_()
        else:
            elsewhere.append(r.request.url)
            r.abort()
    context.route("**/*", route)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    return context, page, elsewhere, errors


def test_examples_run_from_the_page(browser, corpus_dir, tmp_path: Path) -> None:
    corpus = corpus_dir("ai-facial")
    out = tmp_path / "ai-facial"
    kg.build(corpus, out=out)
    with serve(out, port=0, workers=1) as server:
        base = server.url.removesuffix("query")
        context, page, elsewhere, errors = open_page(browser, base)
        try:
            options = page.eval_on_selector_all("#examples option", "os => os.map(o => o.value)")
            assert options[1:] == [q.name for q in named_queries()]
            page.select_option("#examples", "top-providers-for-topic")
            assert page.input_value("#query") == next(
                q.text for q in named_queries() if q.name == "top-providers-for-topic")
            assert "?topic (string)" in page.text_content("#about")
            page.click("#run")
            page.wait_for_selector("#results table")
            header = page.eval_on_selector_all("#results th", "ths => ths.map(t => t.textContent)")
            assert header == ["topic", "provider", "name", "articles"]
            assert page.locator("#results tbody tr").count() > 10
            assert "rows" in page.text_content("#status")
            ARTIFACTS.mkdir(exist_ok=True)
            shot = ARTIFACTS / "query-page-ai-facial.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size > 20_000
            # an error is shown as the server's message
            page.fill("#query", "SELECT * WHERE { ?a foo:bar ?b }")
            page.focus("#query")
            page.keyboard.press("Control+Enter")
            page.wait_for_function("document.querySelector('#status').className === 'bad'")
            assert "HTTP 400" in page.text_content("#status")
            assert elsewhere == [] and errors == []
        finally:
            context.close()


def test_hostile_titles_are_shown_as_text(browser, tmp_path: Path) -> None:
    arts = [kg.Article(source=f"h/{i}.md", title=t, excerpt=t, url=f"https://example.com/{i}",
                       provider=kg.Provider(domain=f"example{i % 2}.com", name=t),
                       topics=("Hostile",)) for i, t in enumerate(HOSTILE)]
    out = tmp_path / "hostile"
    export_rdf(build_graph(arts), out)
    with serve(out, port=0, workers=1) as server:
        context, page, elsewhere, errors = open_page(browser, server.url.removesuffix("query"))
        try:
            page.fill("#query", "SELECT ?t WHERE { ?a schema:headline ?t } ORDER BY ?t")
            page.click("#run")
            page.wait_for_selector("#results table")
            cells = page.eval_on_selector_all("#results td", "tds => tds.map(t => t.textContent)")
            assert sorted(cells) == sorted(HOSTILE)
            assert page.evaluate("typeof window.__pwned") == "undefined"
            assert page.evaluate("document.querySelectorAll('#results img, #results svg, "
                                 "#results b, #results script').length") == 0
            assert elsewhere == [] and errors == []
        finally:
            context.close()
