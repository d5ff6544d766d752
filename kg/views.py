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
* **readable**: articles are coloured by topic cluster
  (:func:`kg.clusters.topic_clusters`), providers and stories by their id
  (:func:`stable_colour`: the same colour on every page), other kinds by kind;
  only the most linked nodes are labelled at first; hub topics and
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
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any

import networkx as nx

from ._util import atomic_writer
from .clusters import cluster_labels, topic_clusters
from .normalize import topic_key
from .text import first_field, fold, match_words

__all__ = ["View", "ViewError", "select", "draw_view", "write_view", "render_view", "write_all",
           "KIND_STYLE", "CLUSTER_COLOURS", "PALETTE", "stable_colour", "EDGE_STYLE",
           "LABELLED_NODES", "UNCLUSTERED_COLOUR"]

DEFAULT_MAX_NODES = 400
DEFAULT_HUB_SHARE = 0.5

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
#: Kept for callers of the old per-view numbering; colours now come from :func:`stable_colour`.
CLUSTER_COLOURS = list(PALETTE)
#: Articles outside every topic cluster.
UNCLUSTERED_COLOUR = "#DDDDDD"


def stable_colour(key: str) -> str:
    """The palette colour of a stable key (a provider or story id, a cluster's
    label): a hash, so the same thing has the same colour on every page.

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


class ViewError(ValueError):
    """A view that cannot be made: nothing matched, or no selector given."""


@dataclass
class View:
    """What a view shows: node ids, the matched articles and what was left out."""

    nodes: list[str]
    matched: list[str]
    summary: str
    title: str
    dropped: int = 0
    facets: dict[str, int] = field(default_factory=dict)  # hub node -> articles
    clusters: dict[str, int] = field(default_factory=dict)
    labels: dict[int, str] = field(default_factory=dict)


# -- selection -------------------------------------------------------------------

def _articles(graph: nx.MultiDiGraph) -> list[str]:
    return [n for n, k in graph.nodes(data="kind") if k == "article"]


# Patterns that can backtrack for ever, e.g. (a+)+ or (a|a)*: a quantified
# group that itself holds a quantifier or an alternation.
_NESTED = re.compile(r"\((?:[^()\\]|\\.)*[+*}|](?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,)")


def _search_regex(pattern: str) -> re.Pattern[str]:
    """A user's regular expression, or a :class:`ViewError` saying why not."""
    if not pattern.strip():
        raise ViewError("empty regular expression")
    if len(pattern) > 200:
        raise ViewError(f"regular expression too long ({len(pattern)} characters, at most 200)")
    if _NESTED.search(pattern):
        raise ViewError(f"regular expression {pattern!r} repeats a repeated group "
                        "(it could run for ever): write it without nested repetition")
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ViewError(f"not a regular expression: {pattern!r} ({exc})") from None


def _match_text(graph: nx.MultiDiGraph, text: str, regex: bool = False) -> tuple[list[str], Counter]:
    """Articles matching ``text`` and the field where each matched first.

    A text matches when each of its content words is a whole word of the
    title (other titles included), the excerpt or a topic label of the
    article (case-, accent- and hyphen-insensitive, synonyms read as one:
    :func:`kg.text.match_words`); all in the same field, or counted as
    ``several``.  With ``regex`` the text is a regular expression searched
    (case-insensitively) in each field.
    """
    pattern = _search_regex(text) if regex else None
    wanted = match_words(text) if pattern is None else set()
    if pattern is None and not wanted:
        raise ViewError(f"no word to search for in {text!r} (only stop words or single letters): "
                        "use --regex for those")
    topic_words: dict[str, Any] = {}
    for t, d in graph.nodes(data=True):
        if d["kind"] == "topic":
            label = " ".join([d.get("label", "")] + list(d.get("alt_labels", [])))
            topic_words[t] = label if pattern is not None else match_words(label)
    hits: list[str] = []
    where: Counter = Counter()
    for n, d in graph.nodes(data=True):
        if d["kind"] != "article":
            continue
        title = " ".join([d.get("title", "")] + list(d.get("alt_titles", [])))
        topics = [topic_words[v] for _, v, k in graph.out_edges(n, keys=True) if k == "about"]
        field_texts = [("title", title), ("excerpt", d.get("excerpt", "")), ("body", d.get("body", ""))]
        found: str | None
        if pattern is not None:
            texts = field_texts + [("topics", " ".join(topics))]
            found = next((name for name, t in texts if t and pattern.search(t)), None)
        else:
            fields = [(name, match_words(t)) for name, t in field_texts if t]
            fields.append(("topics", set().union(*topics)))
            found = first_field(wanted, fields)
        if found is not None:
            hits.append(n)
            where[found] += 1
    return sorted(hits), where


def _match_topic(graph: nx.MultiDiGraph, label: str) -> list[str]:
    key = topic_key(label)
    wanted = fold(key)
    topics = [t for t, d in graph.nodes(data=True) if d["kind"] == "topic"
              and (fold(d.get("key", "")) == wanted or t == label
                   or any(fold(topic_key(a)) == wanted for a in d.get("alt_labels", [])))]
    return sorted({u for t in topics for u, _, k in graph.in_edges(t, keys=True) if k == "about"})


def _match_article(graph: nx.MultiDiGraph, url: str) -> list[str]:
    if url in graph and graph.nodes[url]["kind"] == "article":
        return [url]
    from .normalize import URLError, canonical_url, web_url
    try:
        forms = {canonical_url(url), web_url(url)}
    except URLError as exc:
        raise ViewError(f"not an article URL or id: {url!r} ({exc})") from None
    return sorted(n for n, d in graph.nodes(data=True) if d["kind"] == "article"
                  and (d.get("url") in forms or forms & set(d.get("urls", ()))))


def _match_provider(graph: nx.MultiDiGraph, domain: str) -> tuple[list[str], str]:
    from .normalize import registrable_domain
    d = domain.strip().lower()
    d = d.split("://", 1)[-1].split("/", 1)[0]
    # not a domain under a public suffix: no such provider, said by the caller
    pid = d if d.startswith("provider/") else "provider/" + (registrable_domain(d) or d)
    if pid not in graph:
        return [], pid
    return sorted(u for u, _, k in graph.in_edges(pid, keys=True) if k == "publishedBy"), pid


def _article_neighbours(graph: nx.MultiDiGraph, a: str) -> set[str]:
    """Articles one hop away: related either way, or in the same story."""
    out = set()
    for _, v, k in graph.out_edges(a, keys=True):
        if k == "related":
            out.add(v)
        elif k == "inStory":
            out.update(u for u, _, kk in graph.in_edges(v, keys=True) if kk == "inStory")
    for u, _, k in graph.in_edges(a, keys=True):
        if k == "related":
            out.add(u)
    out.discard(a)
    return out


def select(graph: nx.MultiDiGraph, *, story: str | None = None, regex: str | None = None,
           topic: str | None = None, article: str | None = None, provider: str | None = None,
           articles: list[str] | None = None,
           hops: int = 1, max_nodes: int = DEFAULT_MAX_NODES,
           hub_share: float = DEFAULT_HUB_SHARE, seed: int = 42, title: str | None = None) -> View:
    """Choose the nodes of a view and say what was found.

    Exactly one selector: ``story`` (its words matched as whole words of
    titles, excerpts or topic labels, case-, accent- and hyphen-insensitive,
    with :data:`kg.text.SYNONYMS`), ``regex`` (a regular expression searched
    in those fields), ``topic`` (label),
    ``article`` (URL or id), ``provider`` (domain) or ``articles`` (ids).
    The matched articles are expanded ``hops`` times through ``related``
    links and shared stories; their providers, topics and stories are added.
    Past ``max_nodes`` the most central articles are kept.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> v = select(g, provider="www.nypost.com", hops=0)
    >>> v.title, len(v.matched)
    ('provider nypost.com', 1)
    """
    given = [(k, v) for k, v in (("story", story), ("regex", regex), ("topic", topic), ("article", article),
                                  ("provider", provider), ("articles", articles)) if v is not None]
    if len(given) != 1:
        raise ViewError("give exactly one of story, regex, topic, article, provider or articles")
    if hops < 0 or max_nodes < 1:
        raise ViewError("hops must be >= 0 and max_nodes >= 1")
    where: Counter = Counter()
    if story is not None:
        (matched, where), what = _match_text(graph, story), f'"{story}"'
    elif regex is not None:
        (matched, where), what = _match_text(graph, regex, regex=True), f"/{regex}/"
    elif topic is not None:
        matched, what = _match_topic(graph, topic), f"topic {topic}"
    elif article is not None:
        matched, what = _match_article(graph, article), f"article {article}"
    elif provider is not None:
        matched, pid = _match_provider(graph, provider)
        what = f"provider {pid.removeprefix('provider/')}"
    else:
        assert articles is not None  # exactly one was given
        matched = sorted(a for a in articles if a in graph and graph.nodes[a]["kind"] == "article")
        what = f"{len(articles)} given articles"
    if not matched:
        raise ViewError(f"nothing matches {what}")
    chosen = set(matched)
    frontier = set(matched)
    for _ in range(hops):
        nxt = set()
        for a in sorted(frontier):
            nxt |= _article_neighbours(graph, a)
        frontier = nxt - chosen
        chosen |= frontier
        if not frontier:
            break
    arts = sorted(chosen)
    dropped = 0
    # Room for the articles' providers/topics/stories too: about 1 in 4.
    budget = max(1, int(max_nodes * 0.75)) if len(arts) > 1 else 1
    if len(arts) > budget:
        arts = _most_central(graph, arts, set(matched), budget)
        dropped = len(chosen) - len(arts)
    clusters = topic_clusters(graph, arts, seed=seed, hub_share=hub_share)
    labels = cluster_labels(graph, clusters, hub_share=hub_share)
    nodes, facets = _with_context(graph, arts, hub_share, max_nodes)
    counts = Counter(clusters.values())
    fields = " (" + ", ".join(f"{f} {where[f]}" for f in ("title", "excerpt", "body", "topics", "several")
                              if where[f]) + ")" if where else ""
    parts = [f"{len(matched)} article{'s' if len(matched) != 1 else ''} match {what}{fields}"]
    if len(chosen) > len(matched):
        parts.append(f"{len(chosen) - len(matched)} more within {hops} hop{'s' if hops != 1 else ''}")
    if dropped:
        parts.append(f"{dropped} less central article{'s' if dropped != 1 else ''} left out (max {max_nodes} nodes)")
    big = [f"{labels[c]} ({n})" for c, n in sorted(counts.items()) if n >= 2][:8]
    if big:
        parts.append("clusters: " + ", ".join(big))
    if facets:
        parts.append("hubs shown as facets: " + ", ".join(
            f"{graph.nodes[h].get('label') or graph.nodes[h].get('name') or h} ({c})" for h, c in facets.items()))
    if title is None:
        title = story if story is not None else regex if regex is not None else what
    return View(nodes=nodes, matched=matched, summary="; ".join(parts), title=title,
                dropped=dropped, facets=facets, clusters=clusters, labels=labels)


def _most_central(graph: nx.MultiDiGraph, arts: list[str], matched: set[str], budget: int) -> list[str]:
    """The ``budget`` articles with most links inside the selection (matches first on ties)."""
    inside = set(arts)
    shared: dict[str, Counter] = defaultdict(Counter)
    for a in arts:
        for _, v, k in graph.out_edges(a, keys=True):
            if k in ("about", "inStory", "publishedBy"):
                shared[k][v] += 1

    def score(a: str) -> tuple:
        deg = len(_article_neighbours(graph, a) & inside)
        context = sum(math.log1p(shared[k][v]) for _, v, k in graph.out_edges(a, keys=True)
                      if k in shared)
        return (-(deg + 0.1 * context), a not in matched, a)

    return sorted(sorted(arts, key=score)[:budget])


def _with_context(graph: nx.MultiDiGraph, arts: list[str], hub_share: float,
                  max_nodes: int) -> tuple[list[str], dict[str, int]]:
    """Articles plus their providers, topics, people and stories; hubs become facets."""
    counts: Counter = Counter()
    for a in arts:
        counts.update({v for _, v, k in graph.out_edges(a, keys=True)
                       if k in ("about", "publishedBy", "inStory", "author")})
    n = len(arts)
    facets = {}
    context = []
    for v, c in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
        kind = graph.nodes[v]["kind"]
        if kind in ("topic", "provider", "person") and n >= 4 and c > hub_share * n:
            facets[v] = c
        else:
            context.append(v)
    room = max(0, max_nodes - n)
    return sorted(arts) + sorted(context[:room]), facets


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


def _cluster_colour(label: str, size: int) -> str:
    """A topic cluster's colour, keyed on its label: cluster numbers are
    counted afresh on each page, the label names the same topics everywhere."""
    return stable_colour("cluster:" + label) if label and size >= 2 else UNCLUSTERED_COLOUR


def view_data(graph: nx.MultiDiGraph, view: View, *, seed: int = 42,
              collapse_stories: bool = False) -> dict:
    """The JSON-able description of a view that the page draws (no markup).

    With ``collapse_stories`` the page first shows each story as its star
    alone; a click on it shows or hides its articles.
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
    colour_of = {c: _cluster_colour(view.labels.get(c, ""), counts[c]) for c in counts}
    # Labels on the most linked nodes only (the page keeps LABELLED_NODES of
    # these whose labels do not overlap): the rest show theirs on hover or zoom.
    central = set(sorted(view.nodes, key=lambda n: (-degree[n], n))[:3 * LABELLED_NODES])
    nodes = []
    for n in view.nodes:
        d = graph.nodes[n]
        kind = d["kind"]
        name = _node_name(graph, n)
        item = {"id": n, "kind": kind, "name": name, "label": _brief(name),
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
            item["matched"] = n in view.matched
        elif kind == "provider":
            item["domain"] = d.get("domain", "")
        elif kind == "story":
            item["score"] = d.get("score")
            item["members"] = sorted(u for u, _, k in graph.in_edges(n, keys=True) if k == "inStory" and u in shown)
        nodes.append(item)
    positions = _initial_positions(graph, view, edges)
    for item in nodes:
        item["x"], item["y"] = positions[item["id"]]
    clusters = [{"id": c, "label": view.labels.get(c, str(c)), "size": counts[c], "color": colour_of[c]}
                for c in sorted(counts)]
    facets = [{"id": h, "kind": graph.nodes[h]["kind"], "name": _node_name(graph, h), "count": c}
              for h, c in view.facets.items()]
    providers = sorted({(graph.nodes[p].get("name", p), p) for p in provider_of.values() if p})
    return {"title": view.title, "summary": view.summary, "nodes": nodes, "edges": edges,
            "clusters": clusters, "facets": facets, "kinds": KIND_STYLE,
            "providers": [{"id": p, "name": name, "color": stable_colour(p)} for name, p in providers],
            "edgeStyles": {k: v for k, v in EDGE_STYLE.items() if any(e["rel"] == k for e in edges)},
            "seed": seed, "dropped": view.dropped, "labelled": LABELLED_NODES,
            "collapseStories": collapse_stories}


def render_view(graph: nx.MultiDiGraph, view: View, *, seed: int = 42,
                collapse_stories: bool = False) -> str:
    """The HTML page of a view (a string, self-contained); ``collapse_stories``
    as in :func:`view_data`."""
    js, css = _vis_assets()
    page = _template("view.html").substitute(
        title=html.escape(view.title, quote=True),
        vis_css=css, vis_js=js,
        data=_json_for_script(view_data(graph, view, seed=seed, collapse_stories=collapse_stories)),
    )
    return page


def _write_atomic(path: Path, text: str) -> None:
    with atomic_writer(path, "w") as f:
        f.write(text)


def draw_view(graph: nx.MultiDiGraph, out: str | os.PathLike, *, story: str | None = None,
              topic: str | None = None, article: str | None = None, provider: str | None = None,
              articles: list[str] | None = None, hops: int = 1,
              max_nodes: int = DEFAULT_MAX_NODES, hub_share: float = DEFAULT_HUB_SHARE,
              seed: int = 42, title: str | None = None, collapse_stories: bool = False) -> Path:
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
    return write_view(graph, view, out, seed=seed, collapse_stories=collapse_stories)


def write_view(graph: nx.MultiDiGraph, view: View, out: str | os.PathLike, *,
               seed: int = 42, collapse_stories: bool = False) -> Path:
    """Write a view already chosen with :func:`select` to ``out`` (HTML); return its path.

    >>> import kg, tempfile, pathlib
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> v = select(g, topic="computer vision")
    >>> write_view(g, v, pathlib.Path(tempfile.mkdtemp()) / "x.html").name
    'x.html'
    """
    path = Path(out)
    _write_atomic(path, render_view(graph, view, seed=seed, collapse_stories=collapse_stories))
    return path


def write_all(graph: nx.MultiDiGraph, out_dir: str | os.PathLike, *,
              max_nodes: int = DEFAULT_MAX_NODES, min_size: int = 3, max_pages: int = 60,
              seed: int = 42, hub_share: float = DEFAULT_HUB_SHARE) -> Path:
    """One page per topic cluster of the whole graph plus ``index.html``.

    Clusters of at least ``min_size`` articles get a page (the ``max_pages``
    largest); the index links them with their label, size and dates.

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> index = write_all(g, tempfile.mkdtemp(), min_size=2)
    >>> sorted(p.name for p in index.parent.iterdir())
    ['cluster-000.html', 'cluster-001.html', 'index.html']
    """
    out = Path(out_dir)
    arts = _articles(graph)
    clusters = topic_clusters(graph, arts, seed=seed, hub_share=hub_share)
    labels = cluster_labels(graph, clusters, hub_share=hub_share)
    members: dict[int, list[str]] = defaultdict(list)
    for a, c in clusters.items():
        members[c].append(a)
    entries: list[dict[str, Any]] = []
    for c in sorted(members):
        ms = sorted(members[c])
        if len(ms) < min_size or len(entries) >= max_pages:
            continue
        name = f"cluster-{c:03d}.html"
        label = labels[c]
        draw_view(graph, out / name, articles=ms, hops=0, max_nodes=max_nodes, seed=seed,
                  hub_share=hub_share, title=f"Cluster {c}: {label}")
        dates = sorted(graph.nodes[a]["published"].date().isoformat() for a in ms
                       if hasattr(graph.nodes[a].get("published"), "date"))
        providers = len({v for a in ms for _, v, k in graph.out_edges(a, keys=True) if k == "publishedBy"})
        entries.append({"href": name, "label": label, "size": len(ms), "providers": providers,
                        "first": dates[0] if dates else "", "last": dates[-1] if dates else ""})
    stories = sum(1 for _, k in graph.nodes(data="kind") if k == "story")
    rows = "\n".join(
        f'<tr><td><a href="{html.escape(e["href"])}">{html.escape(e["label"])}</a></td>'
        f'<td>{e["size"]}</td><td>{e["providers"]}</td><td>{e["first"]}</td><td>{e["last"]}</td></tr>'
        for e in entries)
    page = _template("index.html").substitute(
        rows=rows, articles=len(arts), clusters=len(members), pages=len(entries), stories=stories)
    index = out / "index.html"
    _write_atomic(index, page)
    return index
