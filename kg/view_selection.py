"""Which nodes a view shows: the articles matching a story's words, a
regular expression, a topic, an article or a provider, their neighbourhood
within a few hops, the most central when there are too many, and the hub
topics and providers turned into facets (:func:`select`).

:mod:`kg.views` draws what this module selects.

>>> import kg
>>> from kg.graph import build_graph
>>> view = select(build_graph(kg.load("seeds")), topic="computer vision")
>>> view.title, len(view.matched)
('topic computer vision', 1)
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from .clusters import cluster_labels, topic_clusters
from .normalize import topic_key
from .text import first_field, fold, match_words

__all__ = ["View", "ViewError", "select", "DEFAULT_MAX_NODES", "DEFAULT_HUB_SHARE"]

DEFAULT_MAX_NODES = 400
DEFAULT_HUB_SHARE = 0.5


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
    title (other titles included), the excerpt, the lead of the body or a
    topic label of the article (case-, accent- and hyphen-insensitive, synonyms read as one:
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
        field_texts = [("title", title), ("excerpt", d.get("excerpt", "")), ("body", d.get("lead", ""))]
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
    parts = [f"{len(matched)} article{'s' if len(matched) != 1 else ''} match {what}{fields}" if articles is None
             else f"{len(matched)} article{'s' if len(matched) != 1 else ''}"
             + (f" of the {len(articles)} given" if len(matched) < len(articles) else "")]
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
    # Stories first: an article drawn inside its story needs the story's node.
    for v, c in sorted(counts.items(), key=lambda kv: (graph.nodes[kv[0]]["kind"] != "story", -kv[1], kv[0])):
        kind = graph.nodes[v]["kind"]
        if kind in ("topic", "provider", "person") and n >= 4 and c > hub_share * n:
            facets[v] = c
        else:
            context.append(v)
    room = max(0, max_nodes - n)
    return sorted(arts) + sorted(context[:room]), facets
