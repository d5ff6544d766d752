"""Generated views in a real headless Chromium (Debian's, driven by playwright).

Pages are opened from file:// with every non-file request blocked and
recorded.  The page's own Content-Security-Policy is bypassed so that
playwright can evaluate its probes; the escaping is then tested without
that safety net.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import kg
from kg import stories, views
from kg.graph import build_graph

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser




class Opened:
    def __init__(self, browser, path: Path, viewport: tuple[int, int] = (1400, 900)):
        self.context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                           bypass_csp=True)
        self.page = self.context.new_page()
        self.external: list[str] = []
        self.errors: list[str] = []

        def route(r):
            if r.request.url.startswith("file://"):
                r.continue_()
            else:
                self.external.append(r.request.url)
                r.abort()
        self.context.route("**/*", route)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.goto(path.resolve().as_uri())
        self.page.wait_for_function("window.kgStable === true", timeout=60_000)

    def hover(self, node_id: str) -> str:
        """Move the mouse over a node; the tooltip's text."""
        page = self.page
        page.mouse.move(5, 5)
        page.wait_for_timeout(50)
        pos = page.evaluate(
            "id => { const p = network.getPositions([id])[id]; const d = network.canvasToDOM(p);"
            " const r = document.getElementById('kg-canvas').getBoundingClientRect();"
            " return [d.x + r.left, d.y + r.top]; }", node_id)
        page.mouse.move(pos[0], pos[1])
        tip = page.locator("div.vis-tooltip")
        tip.wait_for(state="visible", timeout=5_000)
        return tip.inner_text()

    def close(self):
        self.context.close()


def _tooltip_text(node: dict) -> str:
    return "\n".join([node["name"], node["provider"] or "unknown provider",
                      node["date"] or "undated"] + ([node["url"]] if node["url"] else []))


@pytest.fixture(scope="module")
def seeds_view(seeds_dir, tmp_path_factory):
    g = build_graph(kg.load(seeds_dir))
    stories.add_stories(g)
    out = tmp_path_factory.mktemp("views") / "facial.html"
    view = views.select(g, story="facial recognition")
    views.draw_view(g, out, story="facial recognition")
    return out, view


def test_seed_view_renders_offline(browser, seeds_view):
    path, view = seeds_view
    o = Opened(browser, path)
    try:
        assert o.page.evaluate("network.body.data.nodes.length") == len(view.nodes)
        assert o.page.evaluate("document.querySelector('#kg-canvas canvas') !== null")
        assert o.page.evaluate("window.kgStableAt") > 0
        assert o.page.locator("#kg-list li").count() == sum(1 for n in view.nodes if n.startswith("article/"))
        assert o.external == [] and o.errors == []
    finally:
        o.close()


def test_hover_shows_the_tooltip_text_exactly(browser, seeds_view):
    path, view = seeds_view
    o = Opened(browser, path)
    try:
        data = o.page.evaluate("window.kgData")
        arts = [n for n in data["nodes"] if n["kind"] == "article" and n["url"]][:3]
        assert arts
        for node in arts:
            assert o.hover(node["id"]) == _tooltip_text(node)
        assert o.errors == []
    finally:
        o.close()


def test_filters_hide_nodes(browser, seeds_view):
    path, view = seeds_view
    o = Opened(browser, path)
    try:
        page = o.page
        page.locator("#kg-kinds input[value=topic]").uncheck()
        hidden = page.evaluate("network.body.data.nodes.get().filter(n => n.hidden).map(n => n.id)")
        assert hidden and all(h.startswith("topic/") for h in hidden)
        page.select_option("#kg-provider", "provider/nypost.com")
        assert page.locator("#kg-list li").count() == 1
    finally:
        o.close()


HOSTILE = [
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    '<a href="javascript:window.__pwned=3">click</a> href',
    "</script><script>window.__pwned = 4</script>",
    "\"'><svg onload=window.__pwned=5>",
    "Tom & Jerry's \"quoted\" <b>bold</b> 1 < 2 &amp;",
    "<!-- <script>window.__pwned=6</script> -->",
]


def test_hostile_titles_execute_nothing(browser, tmp_path):
    arts = [kg.Article(source=f"h/{i}.md", title=t, excerpt=t, url=f"https://example.com/{i}",
                       provider=kg.Provider(domain=f"example{i % 2}.com", name=t),
                       topics=("Hostile",)) for i, t in enumerate(HOSTILE)]
    g = build_graph(arts)
    out = views.draw_view(g, tmp_path / "hostile.html", topic="hostile")
    o = Opened(browser, out)
    try:
        page = o.page
        data = page.evaluate("window.kgData")
        for node in data["nodes"]:
            text = o.hover(node["id"])
            if node["kind"] == "article":
                assert text == _tooltip_text(node)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        titles = page.evaluate("[...document.querySelectorAll('#kg-list li a')].map(a => a.textContent)")
        assert sorted(titles) == sorted(HOSTILE)
        assert page.evaluate("document.querySelectorAll('img, svg, b, aside script').length") == 0
        assert o.external == [] and o.errors == []
    finally:
        o.close()


def test_facial_recognition_story_view_screenshot(browser, corpus_dir, tmp_path):
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    stories.add_stories(g)
    view = views.select(g, story="facial recognition")
    out = views.draw_view(g, tmp_path / "facial.html", story="facial recognition")
    o = Opened(browser, out)
    try:
        page = o.page
        assert page.evaluate("network.body.data.nodes.length") == len(view.nodes)
        colours = page.evaluate(
            "[...new Set(network.body.data.nodes.get().filter(n => n.id.startsWith('article/'))"
            ".map(n => n.color.background))]")
        assert len(colours) >= 4  # the sub-stories are separate coloured groups
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "facial-recognition-ai-facial.png"
        page.screenshot(path=str(shot))
        assert shot.stat().st_size > 20_000
        assert o.external == [] and o.errors == []
    finally:
        o.close()


def test_providers_and_stories_keep_their_colour_across_pages(browser, corpus_dir, tmp_path):
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    stories.add_stories(g)
    pages = {}
    for name, text in (("facial", "facial recognition"), ("clearview", "Clearview")):
        view = views.select(g, story=text)
        pages[name] = (views.write_view(g, view, tmp_path / f"{name}.html"), set(view.nodes))
    shared = pages["facial"][1] & pages["clearview"][1]
    probe = sorted(n for n in shared if n.startswith(("provider/", "story/")))
    assert any(n.startswith("provider/") for n in probe) and any(n.startswith("story/") for n in probe)
    seen = []
    for path, _ in pages.values():
        o = Opened(browser, path)
        try:
            seen.append(o.page.evaluate(
                "ids => ids.map(id => network.body.data.nodes.get(id).color.background)", probe))
            assert o.errors == []
        finally:
            o.close()
    assert seen[0] == seen[1]
    assert seen[0] == [views.stable_colour(n) for n in probe]
    assert len(set(seen[0])) > 1  # a palette, not one colour for all


def test_labels_of_a_400_node_view_are_readable_at_the_initial_zoom(browser, corpus_dir, tmp_path):
    g = build_graph(kg.load(corpus_dir("real")))
    stories.add_stories(g)
    view = views.select(g, topic="Coronavirus", max_nodes=400)
    assert len(view.nodes) == 400
    out = views.write_view(g, view, tmp_path / "coronavirus-400.html")
    o = Opened(browser, out, viewport=(1280, 800))
    try:
        page = o.page
        # on-screen label height = font size in graph units x the zoom after stabilisation
        px = page.evaluate(
            "Object.values(network.body.nodes).filter(n => n.options.label)"
            ".map(n => n.options.font.size * network.getScale())")
        assert 10 <= len(px) <= views.LABELLED_NODES
        assert min(px) >= 12
        # the rest appear when zooming in
        page.evaluate("network.moveTo({scale: network.getScale() * 2}); network.emit('zoom', {}); 0")
        labelled = page.evaluate("Object.values(network.body.nodes).filter(n => n.options.label).length")
        assert labelled == 400
        legend = page.inner_text("#kg-legend")
        for words in ("Shape = kind of node", "Size = number of links", "thick black border",
                      "dashed: about a topic", "colour = topic cluster", "colour = the provider's own"):
            assert words in legend
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("network.moveTo({scale: window.kgInitialScale}); network.emit('zoom', {}); network.fit(); 0")
        page.screenshot(path=str(ARTIFACTS / "coronavirus-400-real.png"))
        assert o.external == [] and o.errors == []
    finally:
        o.close()


def test_collapsed_stories_open_on_click(browser, corpus_dir, tmp_path):
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    stories.add_stories(g)
    view = views.select(g, story="facial recognition")
    out = views.write_view(g, view, tmp_path / "collapsed.html", collapse_stories=True)
    o = Opened(browser, out)
    try:
        page = o.page
        data = page.evaluate("window.kgData")
        story = max((n for n in data["nodes"] if n["kind"] == "story"), key=lambda n: (len(n["members"]), n["id"]))
        assert len(story["members"]) >= 3
        hidden = "ids => ids.filter(id => network.body.data.nodes.get(id).hidden)"
        shown_at_first = page.evaluate("network.body.data.nodes.get().filter(n => !n.hidden).length")
        in_stories = {m for n in data["nodes"] if n["kind"] == "story" for m in n["members"]}
        linked: dict[str, set] = {}
        for e in data["edges"]:
            if e["rel"] not in ("related", "inStory"):
                linked.setdefault(e["to"], set()).add(e["from"])
        folded = {n for n, arts in linked.items() if arts <= in_stories}
        assert shown_at_first == len(data["nodes"]) - len(in_stories) - len(folded)
        assert page.evaluate(hidden, story["members"]) == story["members"]
        # the side list still names every article
        assert page.locator("#kg-list li").count() == sum(1 for n in data["nodes"] if n["kind"] == "article")
        pos = page.evaluate(
            "id => { const p = network.canvasToDOM(network.getPositions([id])[id]);"
            " const r = document.getElementById('kg-canvas').getBoundingClientRect();"
            " return [p.x + r.left, p.y + r.top]; }", story["id"])
        page.mouse.click(pos[0], pos[1])
        page.wait_for_timeout(100)
        # members in no other (still collapsed) story appear
        others = {m for n in data["nodes"] if n["kind"] == "story" and n["id"] != story["id"] for m in n["members"]}
        assert set(page.evaluate(hidden, story["members"])) <= others
        assert len(page.evaluate(hidden, story["members"])) < len(story["members"])
        assert o.errors == []
    finally:
        o.close()
