"""Interactive HTML views of the knowledge graph: offline, safe, stable.

A view is the subgraph around a story text, a topic, an article or a
provider (:func:`select`), drawn with vis-network (the copy bundled with the
``pyvis`` package) into one self-contained HTML file (:func:`draw_view`):

* **offline**: the vis-network script and style are inlined, nothing is
  loaded from the network, and a Content-Security-Policy forbids it anyway;
* **safe**: every article field travels as JSON data (``<``, ``>`` and ``&``
  escaped as ``\\u003c``...) inside a ``<script type="application/json">``
  block and reaches the page through ``textContent`` only, tooltips included
  (pyvis' own template switches to ``innerHTML`` as soon as a title contains
  ``href``, which is why it is not used);
* **readable**: a story is drawn as one star sized by its articles until it
  is clicked (``expand_stories`` opens them from the start), so a
  neighbourhood of hundreds of articles shows tens of nodes; each provider,
  story and topic cluster (:func:`kg.clusters.topic_clusters`, keyed by
  :func:`cluster_ids`) has one colour on every page (:func:`stable_colour`),
  articles take their cluster's, other kinds their kind's; only the most
  linked nodes are labelled at first; hub topics and
  mega-providers (on more than ``hub_share`` of the articles shown) become
  legend facets instead of nodes, so they cannot turn the picture into a
  star; large neighbourhoods are capped at ``max_nodes``, keeping the most
  central articles;
* **stable**: the layout seed is fixed, physics runs until stabilised before
  the graph is shown and is then switched off.

>>> import kg, tempfile, pathlib
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> view = select(g, story="FACIAL recognition")
>>> view.summary.split(";")[0]
'8 articles match "FACIAL recognition" (title 8)'
>>> out = draw_view(g, pathlib.Path(tempfile.mkdtemp()) / "v.html", story="facial recognition")
>>> "cdn" in out.read_text() or "https://unpkg" in out.read_text()
False
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import os
import re
import textwrap
from collections import Counter, defaultdict
from collections.abc import Collection
from importlib import resources
from pathlib import Path
from string import Template

import networkx as nx

from ._util import atomic_writer
from .clusters import cluster_labels, topic_clusters
from .coverage import story_coverage
from .view_selection import DEFAULT_HUB_SHARE, DEFAULT_MAX_NODES, View, ViewError, select

__all__ = ["View", "ViewError", "select", "DEFAULT_MAX_NODES", "DEFAULT_HUB_SHARE", "draw_view",
           "write_view", "render_view", "write_all", "view_data", "cluster_ids",
           "KIND_STYLE", "PALETTE", "stable_colour", "EDGE_STYLE",
           "LABELLED_NODES", "UNCLUSTERED_COLOUR"]


#: vis-network shape and colour of each kind (articles take their cluster's colour).
KIND_STYLE = {
    "article": {"shape": "dot", "color": "#9e9e9e"},
    "provider": {"shape": "square", "color": "#455a64"},
    "topic": {"shape": "diamond", "color": "#8d6e63"},
    "story": {"shape": "star", "color": "#fbc02d"},
    "image": {"shape": "triangle", "color": "#bdbdbd"},
    "person": {"shape": "hexagon", "color": "#00897b"},
}
#: Paul Tol's "muted" qualitative scheme: nine colours told apart with any
#: colour-vision deficiency (https://personal.sron.nl/~pault/).
PALETTE = ("#CC6677", "#332288", "#DDCC77", "#117733", "#88CCEE", "#882255", "#44AA99",
           "#999933", "#AA4499")
#: Articles outside every topic cluster.
UNCLUSTERED_COLOUR = "#DDDDDD"


def stable_colour(key: str) -> str:
    """The palette colour of a stable key (a provider's, story's or cluster's
    id): a hash, so the same thing has the same colour on every page.

    >>> stable_colour("provider/bbc.co.uk") == stable_colour("provider/bbc.co.uk")
    True
    >>> stable_colour("story/x") in PALETTE
    True
    """
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


#: How each relation is drawn, and what the legend says of it.
EDGE_STYLE = {
    "related": {"dashes": False, "width": 1.2, "meaning": "related: the aggregator listed it beside the other"},
    "inStory": {"dashes": False, "width": 1.2, "meaning": "article in a story (same event)"},
    "publishedBy": {"dashes": False, "width": 0.5, "meaning": "published by a provider"},
    "about": {"dashes": True, "width": 0.5, "meaning": "about a topic"},
    "author": {"dashes": False, "width": 0.5, "meaning": "written by a person"},
}
#: How many nodes carry a label at the initial zoom (the most linked ones).
LABELLED_NODES = 24
# Preferred edge lengths: article-article links short, hub-ish links long, so
# sub-stories sit apart even when they share a provider or a topic.
_EDGE_LENGTH = {"related": 90, "inStory": 60, "publishedBy": 220, "about": 260, "author": 200}


# -- rendering -------------------------------------------------------------------

def _vis_assets() -> tuple[str, str]:
    lib = resources.files("pyvis") / "templates" / "lib" / "vis-9.1.2"
    js = (lib / "vis-network.min.js").read_text(encoding="utf-8")
    css = (lib / "vis-network.css").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = re.sub(r"/\*# sourceMappingURL=.*?\*/", "", css)
    # Inline <script>/<style>: a closing tag inside would end the block early.
    if re.search(r"</(script|style)", js + css, re.I):
        raise RuntimeError("vis-network asset contains a closing tag")
    return js, css


def _template(name: str) -> Template:
    return Template((resources.files("kg") / "templates" / name).read_text(encoding="utf-8"))


def _json_for_script(data) -> str:
    """JSON that cannot end its <script> block or open a comment/CDATA."""
    text = json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return (text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _brief(text: str, words: int = 4, chars: int = 28) -> str:
    ws = text.split()
    out = " ".join(ws[:words])
    if len(out) > chars:
        out = out[:chars].rstrip()
    return out + ("…" if out != text.strip() else "")


def _two_lines(text: str, width: int = 24) -> str:
    lines = textwrap.wrap(text, width)
    if len(lines) > 2:
        lines = [lines[0], lines[1].rstrip("…") + "…"]
    return "\n".join(lines)


def _safe_url(url) -> str:
    return url if isinstance(url, str) and re.match(r"^https?://", url, re.I) else ""


def _node_name(graph: nx.MultiDiGraph, n: str) -> str:
    d = graph.nodes[n]
    return d.get("title") or d.get("label") or d.get("name") or d.get("url") or n


_GOLDEN = math.pi * (3 - math.sqrt(5))


def _initial_positions(graph: nx.MultiDiGraph, view: View, edges: list[dict]) -> dict[str, tuple]:
    """Deterministic starting layout: clusters on a sunflower spiral, each
    cluster's articles on a small spiral around its centre, other nodes at
    the mean of the articles they link.  The browser then only relaxes it,
    which is what keeps large views quick to stabilise."""
    members: dict[int, list[str]] = defaultdict(list)
    for n in view.nodes:
        if graph.nodes[n]["kind"] == "article":
            members[view.clusters.get(n, -1)].append(n)
    pos: dict[str, tuple] = {}
    done = 0
    for i, c in enumerate(sorted(members, key=lambda c: (c < 0, c))):
        ms = sorted(members[c])
        radius = 28 * math.sqrt(done + len(ms) / 2) * 1.6
        cx, cy = radius * math.cos(i * _GOLDEN * 2.4), radius * math.sin(i * _GOLDEN * 2.4)
        for j, a in enumerate(ms):
            r = 22 * math.sqrt(j)
            pos[a] = (round(cx + r * math.cos(j * _GOLDEN), 1), round(cy + r * math.sin(j * _GOLDEN), 1))
        done += len(ms)
    linked: dict[str, list[tuple]] = defaultdict(list)
    for e in edges:
        if e["from"] in pos and e["to"] not in pos:
            linked[e["to"]].append(pos[e["from"]])
    for k, n in enumerate(view.nodes):
        if n in pos:
            continue
        ps = linked.get(n) or [(0.0, 0.0)]
        x = sum(p[0] for p in ps) / len(ps) + 15 * math.cos(k * _GOLDEN)
        y = sum(p[1] for p in ps) / len(ps) + 15 * math.sin(k * _GOLDEN)
        pos[n] = (round(x, 1), round(y, 1))
    return pos


def cluster_ids(graph: nx.MultiDiGraph, clusters: dict[str, int]) -> dict[int, str]:
    """A stable id for each topic cluster of a page: the id of its largest
    story (most members in the cluster, then smallest id) not already taken
    by a larger cluster, else of its first article.  Cluster numbers are
    counted afresh on each page and labels depend on the other clusters
    there; a cluster's main story is the same on every page that shows it,
    so its colour is too.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> from kg.stories import add_stories
    >>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
    >>> members = sorted(a for a, _, k in g.edges(keys=True) if k == "inStory")
    >>> ids = cluster_ids(g, {a: i for i, a in enumerate(members)})
    >>> ids[0].startswith("story/"), ids[1] == members[1]
    (True, True)
    """
    stories: dict[int, Counter] = defaultdict(Counter)
    first: dict[int, str] = {}
    for a, c in clusters.items():
        first[c] = min(first.get(c, a), a)
        stories[c].update(v for _, v, k in graph.out_edges(a, keys=True) if k == "inStory")
    ids: dict[int, str] = {}
    taken: set[str] = set()
    for c in sorted(first):  # 0 is the largest
        ids[c] = next((s for s in sorted(stories[c], key=lambda s: (-stories[c][s], s)) if s not in taken),
                      first[c])
        taken.add(ids[c])
    return ids


def view_data(graph: nx.MultiDiGraph, view: View, *, seed: int = 42,
              expand_stories: bool | Collection[str] = False) -> dict:
    """The JSON-able description of a view that the page draws (no markup).

    Each story is first drawn as one star standing for its articles (a click
    shows or hides them); ``expand_stories=True`` shows every story's
    articles from the start, a collection of story ids those stories'.
    """
    shown = set(view.nodes)
    provider_of = {}
    for a in view.nodes:
        if graph.nodes[a]["kind"] == "article":
            ps = [v for _, v, k in graph.out_edges(a, keys=True) if k == "publishedBy"]
            provider_of[a] = ps[0] if ps else ""
    edges = []
    for u in view.nodes:
        for _, v, k in graph.out_edges(u, keys=True):
            if v in shown and k in _EDGE_LENGTH:
                edges.append({"from": u, "to": v, "rel": k, "length": _EDGE_LENGTH[k],
                              "dashes": EDGE_STYLE[k]["dashes"], "width": EDGE_STYLE[k]["width"]})
    edges.sort(key=lambda e: (e["from"], e["to"], e["rel"]))
    degree: Counter[str] = Counter()
    for e in edges:
        degree[e["from"]] += 1
        degree[e["to"]] += 1
    counts = Counter(view.clusters.values())
    key_of = cluster_ids(graph, view.clusters)
    colour_of = {c: stable_colour(key_of[c]) if counts[c] >= 2 else UNCLUSTERED_COLOUR for c in counts}
    # Labels on the most linked nodes only (the page keeps LABELLED_NODES of
    # these whose labels do not overlap): the rest show theirs on hover or zoom.
    central = set(sorted(view.nodes, key=lambda n: (-degree[n], n))[:3 * LABELLED_NODES])
    # A border on every article would tell nothing apart (a story's own page).
    marked = set(view.matched) if set(provider_of) - set(view.matched) else set()
    nodes = []
    for n in view.nodes:
        d = graph.nodes[n]
        kind = d["kind"]
        name = _node_name(graph, n)
        # a story's star is what a reader reads first: a longer label, on two
        # short lines so that it covers fewer neighbours
        label = _two_lines(_brief(name, 7, 44)) if kind == "story" else _brief(name)
        item = {"id": n, "kind": kind, "name": name, "label": label,
                "size": round(8 + 5 * math.sqrt(degree[n]), 2), "degree": degree[n],
                "central": n in central, "color": KIND_STYLE.get(kind, KIND_STYLE["article"])["color"]}
        if kind in ("provider", "story"):
            item["color"] = stable_colour(n)
        if kind == "article":
            c = view.clusters.get(n, -1)
            item["cluster"] = c
            item["color"] = colour_of.get(c, UNCLUSTERED_COLOUR)
            p = provider_of.get(n, "")
            item["provider"] = graph.nodes[p].get("name", p) if p else ""
            item["providerId"] = p
            pub = d.get("published")
            item["date"] = pub.strftime("%Y-%m-%d %H:%M UTC") if hasattr(pub, "strftime") else ""
            item["sortDate"] = pub.isoformat() if hasattr(pub, "isoformat") else ""
            item["url"] = _safe_url(d.get("url"))
            item["matched"] = n in marked
        elif kind == "provider":
            item["domain"] = d.get("domain", "")
        elif kind == "story":
            everyone = [u for u, _, k in graph.in_edges(n, keys=True) if k == "inStory"]
            item["score"] = d.get("score")
            item["members"] = sorted(u for u in everyone if u in shown)
            item["articles"] = len(everyone)
            days = sorted(p.date().isoformat() for u in everyone
                          if hasattr(p := graph.nodes[u].get("published"), "date"))
            item["date"] = " to ".join(sorted({days[0], days[-1]})) if days else ""
            item["size"] = round(8 + 5 * math.sqrt(max(1, len(item["members"]))), 2)
        nodes.append(item)
    positions = _initial_positions(graph, view, edges)
    for item in nodes:
        item["x"], item["y"] = positions[item["id"]]
    clusters = [{"id": c, "label": view.labels.get(c, str(c)), "size": counts[c], "color": colour_of[c]}
                for c in sorted(counts)]
    facets = [{"id": h, "kind": graph.nodes[h]["kind"], "name": _node_name(graph, h), "count": c}
              for h, c in view.facets.items()]
    providers = sorted({(graph.nodes[p].get("name", p), p) for p in provider_of.values() if p})
    if expand_stories is True:
        expanded: Collection[str] = shown
    else:
        expanded = set(expand_stories or ())
    folded = [n["id"] for n in nodes if n["kind"] == "story" and n["members"] and n["id"] not in expanded]
    return {"title": view.title, "summary": view.summary, "nodes": nodes, "edges": edges,
            "clusters": clusters, "facets": facets, "kinds": KIND_STYLE,
            "providers": [{"id": p, "name": name, "color": stable_colour(p)} for name, p in providers],
            "edgeStyles": {k: v for k, v in EDGE_STYLE.items() if any(e["rel"] == k for e in edges)},
            "seed": seed, "dropped": view.dropped, "labelled": LABELLED_NODES,
            "collapsed": folded, "palette": list(PALETTE)}


def render_view(graph: nx.MultiDiGraph, view: View, *, seed: int = 42,
                expand_stories: bool | Collection[str] = False) -> str:
    """The HTML page of a view (a string, self-contained); ``expand_stories``
    as in :func:`view_data`."""
    js, css = _vis_assets()
    page = _template("view.html").substitute(
        title=html.escape(view.title, quote=True),
        vis_css=css, vis_js=js,
        data=_json_for_script(view_data(graph, view, seed=seed, expand_stories=expand_stories)),
    )
    return page


def _write_atomic(path: Path, text: str) -> None:
    with atomic_writer(path, "w") as f:
        f.write(text)


def draw_view(graph: nx.MultiDiGraph, out: str | os.PathLike, *, story: str | None = None,
              topic: str | None = None, article: str | None = None, provider: str | None = None,
              articles: list[str] | None = None, hops: int = 1,
              max_nodes: int = DEFAULT_MAX_NODES, hub_share: float = DEFAULT_HUB_SHARE,
              seed: int = 42, title: str | None = None,
              expand_stories: bool | Collection[str] = False) -> Path:
    """Write the view selected as in :func:`select` to ``out`` (HTML); return its path.

    >>> import kg, tempfile, pathlib
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> p = draw_view(g, pathlib.Path(tempfile.mkdtemp()) / "x.html", topic="computer vision")
    >>> p.read_text().count("</script>")
    3
    """
    view = select(graph, story=story, topic=topic, article=article, provider=provider,
                  articles=articles, hops=hops, max_nodes=max_nodes, hub_share=hub_share,
                  seed=seed, title=title)
    return write_view(graph, view, out, seed=seed, expand_stories=expand_stories)


def write_view(graph: nx.MultiDiGraph, view: View, out: str | os.PathLike, *,
               seed: int = 42, expand_stories: bool | Collection[str] = False) -> Path:
    """Write a view already chosen with :func:`select` to ``out`` (HTML); return its path.

    >>> import kg, tempfile, pathlib
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> v = select(g, topic="computer vision")
    >>> write_view(g, v, pathlib.Path(tempfile.mkdtemp()) / "x.html").name
    'x.html'
    """
    path = Path(out)
    _write_atomic(path, render_view(graph, view, seed=seed, expand_stories=expand_stories))
    return path


def _which(shown: int, of: int, things: str) -> str:
    return f"The {of} {things}" if shown == of else f"The {shown} largest of the {of} {things}"


def _story_page(story_id: str) -> str:
    return "story-" + re.sub(r"[^A-Za-z0-9_-]+", "-", story_id.removeprefix("story/")) + ".html"


def write_all(graph: nx.MultiDiGraph, out_dir: str | os.PathLike, *,
              max_nodes: int = DEFAULT_MAX_NODES, min_size: int = 3, max_pages: int = 60,
              seed: int = 42, hub_share: float = DEFAULT_HUB_SHARE) -> Path:
    """A page per story and per topic cluster of the whole graph, plus ``index.html``.

    Stories and clusters of at least ``min_size`` articles get a page (the
    ``max_pages`` largest of each); a story's page opens with its articles
    shown.  The index lists the stories (largest first, then earliest) with
    their size, providers and dates, then the clusters with their label, size
    and dates.

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> from kg.stories import add_stories
    >>> g = build_graph(kg.load("seeds")); _ = add_stories(g)
    >>> index = write_all(g, tempfile.mkdtemp(), min_size=2)
    >>> sorted(p.name.split("-")[0] for p in index.parent.iterdir())
    ['cluster', 'cluster', 'index.html', 'story']
    """
    out = Path(out_dir)
    arts = [n for n, k in graph.nodes(data="kind") if k == "article"]
    stories = story_coverage(graph)
    listed = sorted((s for s in stories if s.size >= min_size),
                    key=lambda s: (-s.size, s.first.isoformat() if s.first else "~", s.id))[:max_pages]
    story_rows = []
    for st in listed:
        name = _story_page(st.id)
        view = select(graph, articles=list(st.articles), hops=0, max_nodes=max_nodes, seed=seed,
                      hub_share=hub_share, title=st.label)
        write_view(graph, view, out / name, seed=seed, expand_stories=[st.id])
        most = Counter(graph.nodes[p].get("name") or p for a in st.articles
                       for _, p, k in graph.out_edges(a, keys=True) if k == "publishedBy")
        names = sorted(most, key=lambda p: (-most[p], p))
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        first, last = (d.date().isoformat() if d else "" for d in (st.first, st.last))
        story_rows.append(
            f'<tr><td><span class="kg-star" style="color:{stable_colour(st.id)}">\u2605</span> '
            f'<a href="{html.escape(name)}">{html.escape(st.label or st.id)}</a></td>'
            f'<td class="n">{st.size}</td><td class="n">{len(st.providers)}</td>'
            f'<td>{html.escape(shown)}</td><td>{first}</td><td>{last}</td></tr>')
    clusters = topic_clusters(graph, arts, seed=seed, hub_share=hub_share)
    labels = cluster_labels(graph, clusters, hub_share=hub_share)
    members: dict[int, list[str]] = defaultdict(list)
    for a, c in clusters.items():
        members[c].append(a)
    cluster_rows: list[str] = []
    for c in sorted(members):
        ms = sorted(members[c])
        if len(ms) < min_size or len(cluster_rows) >= max_pages:
            continue
        name = f"cluster-{c:03d}.html"
        label = labels[c]
        draw_view(graph, out / name, articles=ms, hops=0, max_nodes=max_nodes, seed=seed,
                  hub_share=hub_share, title=f"Cluster {c}: {label}")
        dates = sorted(graph.nodes[a]["published"].date().isoformat() for a in ms
                       if hasattr(graph.nodes[a].get("published"), "date"))
        providers = len({v for a in ms for _, v, k in graph.out_edges(a, keys=True) if k == "publishedBy"})
        cluster_rows.append(
            f'<tr><td><a href="{html.escape(name)}">{html.escape(label)}</a></td>'
            f'<td class="n">{len(ms)}</td><td class="n">{providers}</td>'
            f'<td>{dates[0] if dates else ""}</td><td>{dates[-1] if dates else ""}</td></tr>')
    page = _template("index.html").substitute(
        articles=len(arts), stories=len(stories), clusters=len(members), min_size=min_size,
        listed=_which(len(story_rows), sum(1 for s in stories if s.size >= min_size), "stories"),
        cluster_pages=_which(len(cluster_rows), sum(1 for ms in members.values() if len(ms) >= min_size),
                             "clusters"),
        story_rows="\n".join(story_rows), cluster_rows="\n".join(cluster_rows))
    index = out / "index.html"
    _write_atomic(index, page)
    return index
