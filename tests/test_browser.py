"""Generated views in a real headless Chromium (Debian's, driven by playwright).

Pages are opened from file:// with every non-file request blocked and
recorded.  The page's own Content-Security-Policy is bypassed so that
playwright can evaluate its probes; the escaping is then tested without
that safety net.
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

import kg
from kg import stories, views
from kg.cli import main
from kg.graph import build_graph

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"

pytestmark = pytest.mark.browser




class Opened:
    def __init__(self, browser, path: Path, viewport: tuple[int, int] = (1400, 900), wait: bool = True):
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
        if wait:  # a view: until its layout is done
            self.page.wait_for_function("window.kgStable === true", timeout=60_000)

    def at(self, node_id: str) -> tuple[float, float]:
        """Where a node is drawn on the page."""
        return tuple(self.page.evaluate(
            "id => { const p = network.getPositions([id])[id]; const d = network.canvasToDOM(p);"
            " const r = document.getElementById('kg-canvas').getBoundingClientRect();"
            " return [d.x + r.left, d.y + r.top]; }", node_id))

    def shown(self) -> set[str]:
        """The ids of the nodes drawn (not hidden)."""
        return set(self.page.evaluate("network.body.data.nodes.get().filter(n => !n.hidden).map(n => n.id)"))

    def hover(self, node_id: str) -> str:
        """Move the mouse over a node; the tooltip's text."""
        page = self.page
        page.mouse.move(5, 5)
        page.wait_for_timeout(50)
        pos = self.at(node_id)
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
        # the seeds' one story is folded into its star: its tooltip sums it up
        story = next(n for n in data["nodes"] if n["kind"] == "story")
        assert o.hover(story["id"]) == "\n".join([story["name"], f"story · {story['articles']} articles",
                                                  story["date"], "click to show or hide its articles"])
        assert set(story["members"]).isdisjoint(o.shown())
        o.page.mouse.click(*o.at(story["id"]))
        assert set(story["members"]) <= o.shown()
        arts = [n for n in data["nodes"] if n["kind"] == "article" and n["url"]]
        assert {a["id"] for a in arts} & set(story["members"]) and len(arts) >= 3
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
        before = o.shown()
        page.locator("#kg-kinds input[value=topic]").uncheck()
        hidden = before - o.shown()
        assert hidden and all(h.startswith("topic/") for h in hidden)
        # without the stars, nothing stands for a story's articles: they are drawn
        page.locator("#kg-kinds input[value=story]").uncheck()
        data = page.evaluate("window.kgData")
        members = {m for n in data["nodes"] if n["kind"] == "story" for m in n["members"]}
        assert members and members <= o.shown() and not any(n.startswith("story/") for n in o.shown())
        page.locator("#kg-kinds input[value=story]").check()
        page.select_option("#kg-provider", "provider/nypost.com")
        assert page.locator("#kg-list li").count() == 1
        # the provider's article is in the story: its star stays, the other stories' would not
        assert o.shown() == {n["id"] for n in data["nodes"] if n["kind"] == "story"}
        assert o.errors == []
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
        # folded into their stars, 89 articles are tens of nodes, not hundreds
        shown = o.shown()
        assert 20 <= len(shown) <= 90 and sum(n.startswith("story/") for n in shown) >= 10
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
        # 300 articles folded into their stories: tens of nodes drawn, not hundreds
        shown = o.shown()
        assert 20 <= len(shown) <= 100 and sum(n.startswith("story/") for n in shown) >= 20
        # on-screen label height = font size in graph units x the zoom after stabilisation
        labels = page.evaluate(
            "Object.values(network.body.nodes).filter(n => n.options.label)"
            ".map(n => [n.id, n.options.font.size * network.getScale(), n.options.hidden])")
        assert 10 <= len(labels) <= views.LABELLED_NODES
        assert min(px for _, px, _ in labels) >= 12
        assert not any(hidden for _, _, hidden in labels)
        # the largest stories come first
        data = page.evaluate("window.kgData")
        biggest = max((n for n in data["nodes"] if n["kind"] == "story"), key=lambda n: (len(n["members"]), n["id"]))
        assert biggest["id"] in {i for i, _, _ in labels}
        # the rest appear when zooming in
        page.evaluate("network.moveTo({scale: network.getScale() * 2}); network.emit('zoom', {}); 0")
        labelled = page.evaluate(
            "Object.values(network.body.nodes).filter(n => n.options.label && !n.options.hidden).length")
        assert labelled == len(shown)
        legend = page.inner_text("#kg-legend")
        for words in ("Shape = kind of node", "Size = a story's: its articles here", "thick black border",
                      "dashed: about a topic", "colour = its topic cluster", "colour = the provider's own",
                      "colour = the story's own", "stands for its articles", "line to a folded story",
                      "one colour can mean unrelated things"):
            assert words in legend
        ARTIFACTS.mkdir(exist_ok=True)
        page.evaluate("network.moveTo({scale: window.kgInitialScale}); network.emit('zoom', {}); network.fit(); 0")
        page.screenshot(path=str(ARTIFACTS / "coronavirus-400-real.png"))
        assert o.external == [] and o.errors == []
    finally:
        o.close()


def test_stories_are_folded_until_clicked(browser, corpus_dir, tmp_path):
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    stories.add_stories(g)
    view = views.select(g, story="facial recognition")
    out = views.write_view(g, view, tmp_path / "folded.html")
    o = Opened(browser, out)
    try:
        page = o.page
        data = page.evaluate("window.kgData")
        story = max((n for n in data["nodes"] if n["kind"] == "story"), key=lambda n: (len(n["members"]), n["id"]))
        assert len(story["members"]) >= 3
        in_stories = {m for n in data["nodes"] if n["kind"] == "story" for m in n["members"]}
        linked: dict[str, set] = {}
        for e in data["edges"]:
            if e["rel"] not in ("related", "inStory"):
                linked.setdefault(e["to"], set()).add(e["from"])
        folded = {n for n, arts in linked.items() if arts <= in_stories}
        assert o.shown() == {n["id"] for n in data["nodes"]} - in_stories - folded
        # a related link into a folded story is drawn to its star, once per pair
        merged = page.evaluate("network.body.data.edges.get().filter(e => e.merged)"
                               ".map(e => [e.from, e.to, e.merged])")
        assert merged and all(a in o.shown() and b in o.shown() and k >= 1 for a, b, k in merged)
        assert any(a.startswith("story/") and b.startswith("story/") for a, b, _ in merged)
        assert len({(a, b) for a, b, _ in merged}) == len(merged)
        # the side list still names every article
        assert page.locator("#kg-list li").count() == sum(1 for n in data["nodes"] if n["kind"] == "article")
        star = o.at(story["id"])
        page.mouse.click(*star)
        page.wait_for_timeout(100)
        # its articles appear around the star (nothing else is in two stories)
        assert set(story["members"]) <= o.shown()
        far = max(((x - star[0]) ** 2 + (y - star[1]) ** 2) ** 0.5 for x, y in map(o.at, story["members"]))
        assert far < 250
        page.mouse.click(*o.at(story["id"]))
        page.wait_for_timeout(100)
        assert set(story["members"]).isdisjoint(o.shown())
        assert o.errors == []
    finally:
        o.close()


def test_the_index_lists_the_stories_of_kg_stories(browser, corpus_dir, tmp_path):
    built = tmp_path / "built"
    assert main(["build", str(corpus_dir("ai-facial")), "--out", str(built), "--quiet"]) == 0
    assert main(["view", str(built), "--all", "-q"]) == 0
    index = built / "views" / "index.html"
    o = Opened(browser, index, wait=False)
    try:
        rows = o.page.evaluate(
            "[...document.querySelectorAll('#kg-stories tbody tr')].map(r => ({href: r.querySelector('a')"
            ".getAttribute('href'), colour: getComputedStyle(r.querySelector('.kg-star')).color,"
            " cells: [...r.cells].map(c => c.textContent.trim())}))")
        assert o.external == [] and o.errors == []
    finally:
        o.close()
    with contextlib.redirect_stdout(io.StringIO()) as said:
        assert main(["stories", str(built), "--json", "--min-size", "3"]) == 0
    listed = json.loads(said.getvalue())
    assert len(rows) == len(listed) >= 4
    by_label = {s["label"]: s for s in listed}
    sizes = []
    for row in rows:
        label, size, providers, names, first, last = row["cells"]
        s = by_label[label.lstrip("\u2605 ")]
        assert (int(size), int(providers)) == (s["size"], len(s["providers"]))
        assert (first, last) == (s["first"][:10], s["last"][:10])
        assert set(names.split(" and ")[0].split(", ")) <= set(s["providers"])
        assert (built / "views" / row["href"]).is_file()
        sizes.append((-int(size), first))
    assert sizes == sorted(sizes)  # largest first, then earliest
    # the story page opens with the story's articles drawn, its star in the index's colour
    row, s = rows[0], by_label[rows[0]["cells"][0].lstrip("\u2605 ")]
    o = Opened(browser, built / "views" / row["href"])
    try:
        assert set(s["articles"]) <= o.shown()
        colour = o.page.evaluate("id => network.body.data.nodes.get(id).color.background", s["id"])
        r, g_, b = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
        assert row["colour"] == f"rgb({r}, {g_}, {b})"
        assert o.errors == []
    finally:
        o.close()
