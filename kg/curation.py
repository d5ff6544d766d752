"""Curation: a researcher's corrections of the stories, from ``stories.yaml``.

A ``stories.yaml`` beside the articles (or given with ``kg build
--stories-file``) is applied on every build, after story detection, in a
fixed order (remove, split, merge, name)::

    curator: Jane Doe            # who, recorded on every story it changes
    date: 2026-12-04             # when (an ISO date, or date and time)
    remove:                      # articles that are in no story
      - https://example.org/a
    split:                       # articles that leave their stories and are one story
      - [https://example.org/b, https://example.org/c]
    merge:                       # the stories of these articles are one story
      - [https://example.org/d, https://example.org/e]
    name:                        # the label of the story holding the article
      https://example.org/d: The ICO's provisional fine of Clearview AI

Articles are given by URL (any form the graph knows) or id.  A story a
curation changes gets ``method = "curated"`` and the ``curator`` and
``curated`` date (in the RDF: ``dcterms:contributor`` and ``dcterms:date``);
one named only keeps its method.  A malformed file, or one
naming an article the graph does not have, raises :class:`CurationError`
with the file and line, before anything is changed.

>>> import kg, tempfile, pathlib
>>> from kg.graph import build_graph
>>> from kg.stories import add_stories
>>> g = build_graph(kg.load("seeds"))
>>> _ = add_stories(g)
>>> f = pathlib.Path(tempfile.mkdtemp()) / "stories.yaml"
>>> _ = f.write_text("curator: me\\nremove: [8373b665cde0dc69]\\n"
...                  "name: {e1bee6dae58838f9: Worcester bans facial recognition}\\n")
>>> [(g.nodes[s]["label"], g.nodes[s]["size"], g.nodes[s]["method"]) for s in apply_curation(g, load_curation(f))]
[('Worcester bans facial recognition', 2, 'curated')]
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import networkx as nx
import yaml

from .stories import story_id

__all__ = ["Curation", "CurationError", "load_curation", "apply_curation", "resolve_article",
           "FILE_NAME"]

FILE_NAME = "stories.yaml"
_KEYS = ("curator", "date", "remove", "split", "merge", "name")


class CurationError(ValueError):
    """A curation file that cannot be applied: ``path:line: reason``."""


@dataclass(frozen=True)
class Curation:
    """The corrections of one file, each article with its line (see :func:`load_curation`)."""

    path: str
    sha256: str
    curator: str | None
    date: str | None
    remove: tuple[tuple[str, int], ...]
    split: tuple[tuple[tuple[str, int], ...], ...]
    merge: tuple[tuple[tuple[str, int], ...], ...]
    name: tuple[tuple[str, int, str], ...]


def _fail(path: str, node: yaml.Node | None, reason: str) -> CurationError:
    line = node.start_mark.line + 1 if node is not None else 1
    return CurationError(f"{path}:{line}: {reason}")


def _scalar(path: str, node: yaml.Node, what: str, expected: str = "a URL or an article id") -> str:
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(path, node, f"{what} must be {expected}")
    return str(node.value).strip()


def _date(path: str, node: yaml.Node) -> str:
    """The ``date:`` of a curation file in ISO form (``2026-12-04`` or ``2026-12-04T10:30:00``)."""
    text = _scalar(path, node, "date", "a date such as 2026-12-04")
    try:
        if len(text) == 10:
            return date.fromisoformat(text).isoformat()
        return datetime.fromisoformat(text).isoformat()
    except ValueError:
        raise _fail(path, node, f"date must be a date such as 2026-12-04 (or with a time), not {text!r}") from None


def _articles(path: str, node: yaml.Node, what: str) -> tuple[tuple[str, int], ...]:
    if not isinstance(node, yaml.SequenceNode):
        raise _fail(path, node, f"{what} must be a list of URLs or article ids")
    return tuple((_scalar(path, n, what), n.start_mark.line + 1) for n in node.value)


def load_curation(path: str | os.PathLike) -> Curation:
    """Read and check a curation file (its structure; the URLs are checked
    against a graph by :func:`apply_curation`)."""
    p = str(path)
    data = Path(path).read_bytes()
    try:
        root = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise CurationError(f"{p}{line}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    if root is None:
        root = yaml.MappingNode("tag:yaml.org,2002:map", [])
    if not isinstance(root, yaml.MappingNode):
        raise _fail(p, root, "expected a mapping with keys " + ", ".join(_KEYS))
    found: dict[str, yaml.Node] = {}
    for key, value in root.value:
        name = str(key.value)
        if name not in _KEYS:
            raise _fail(p, key, f"unknown key {name!r} (expected one of {', '.join(_KEYS)})")
        if name in found:
            raise _fail(p, key, f"{name!r} given twice")
        found[name] = value
    empty = yaml.SequenceNode("tag:yaml.org,2002:seq", [])
    groups = {}
    for key in ("split", "merge"):
        node = found.get(key, empty)
        if not isinstance(node, yaml.SequenceNode):
            raise _fail(p, node, f"{key} must be a list of lists of articles")
        groups[key] = tuple(_articles(p, g, f"each {key} entry") for g in node.value)
        for g, n in zip(groups[key], node.value):
            if len(g) < 2:
                raise _fail(p, n, f"a {key} entry needs two articles or more")
    names = found.get("name", yaml.MappingNode("tag:yaml.org,2002:map", []))
    if not isinstance(names, yaml.MappingNode):
        raise _fail(p, names, "name must map an article to a label")
    named = tuple((_scalar(p, k, "a name key"), k.start_mark.line + 1, _scalar(p, v, "a label", "a text"))
                  for k, v in names.value)
    curator = _scalar(p, found["curator"], "curator", "a name") if "curator" in found else None
    date = _date(p, found["date"]) if "date" in found else None
    return Curation(path=p, sha256=hashlib.sha256(data).hexdigest(), curator=curator,
                    date=date, remove=_articles(p, found.get("remove", empty), "remove"),
                    split=groups["split"], merge=groups["merge"], name=named)


def resolve_article(graph: nx.MultiDiGraph, ref: str) -> str:
    """The article node id of a URL or an id; ``KeyError`` when there is none.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> resolve_article(g, "https://www.wgbh.org/news/local-news/2021/12/15/"
    ...                    "worcester-bans-use-of-controversial-facial-recognition-technology")
    'article/8373b665cde0dc69'
    >>> resolve_article(g, "8373b665cde0dc69")
    'article/8373b665cde0dc69'
    """
    from .normalize import canonical_url, short_hash

    if ref in graph and graph.nodes[ref].get("kind") == "article":
        return ref
    node = "article/" + ref if "/" not in ref else "article/" + short_hash(canonical_url(ref))
    if node in graph and graph.nodes[node].get("kind") == "article":
        return node
    for n, d in graph.nodes(data=True):  # a URL seen in another form (AMP, original)
        if d.get("kind") == "article" and ref in (d.get("url"), *d.get("urls", ())):
            return n
    raise KeyError(f"no article {ref!r} in the graph")


def apply_curation(graph: nx.MultiDiGraph, curation: Curation) -> list[str]:
    """Apply ``curation`` to the story nodes of ``graph`` in place; the story ids, sorted.

    Every article is resolved first: an unknown one raises
    :class:`CurationError` and the graph is left as it was.
    """
    def ids(group: tuple[tuple[str, int], ...]) -> list[str]:
        out = []
        for ref, line in group:
            try:
                out.append(resolve_article(graph, ref))
            except KeyError:
                raise CurationError(f"{curation.path}:{line}: no article {ref!r} in the corpus") from None
        return out

    removed = ids(curation.remove)
    splits = [ids(g) for g in curation.split]
    merges = [ids(g) for g in curation.merge]
    names = [(ids(((ref, line),))[0], label) for ref, line, label in curation.name]
    story_of: dict[str, str] = {}
    stories: dict[str, dict] = {}
    for n, d in list(graph.nodes(data=True)):
        if d.get("kind") == "story":
            stories[n] = dict(d)
    for a, s, k in graph.edges(keys=True):
        if k == "inStory":
            story_of[a] = s
    members: dict[str, set[str]] = {s: set() for s in stories}
    for a, s in story_of.items():
        members[s].add(a)
    touched: set[str] = set()

    def leave(a: str) -> None:
        s = story_of.pop(a, None)
        if s is not None:
            members[s].discard(a)
            touched.add(s)

    for a in removed:
        leave(a)
    groups = [(g, False) for g in splits] + [(g, True) for g in merges]
    for fresh, (group, is_merge) in enumerate(groups, 1):
        new = f"curated/{fresh}"
        base = next((stories[story_of[a]] for a in group if a in story_of), {})
        stories[new], members[new] = dict(base), set()
        for a in group:
            old = story_of.get(a)
            moving = members[old] if (is_merge and old is not None) else {a}
            for m in list(moving):
                leave(m)
                story_of[m] = new
                members[new].add(m)
        touched.add(new)
    labels = {story_of[a]: label for a, label in names if a in story_of}
    # The graph again: the old story nodes out, the resulting ones in.
    graph.remove_nodes_from(list(stories.keys() & set(graph.nodes)))
    out = []
    for s, arts in sorted(members.items(), key=lambda x: sorted(x[1])):
        if len(arts) < 2:
            continue
        attrs = dict(stories[s])
        attrs.update(kind="story", size=len(arts))
        if s in touched:
            attrs.update(method="curated", curator=curation.curator, curated=curation.date)
            attrs = {k: v for k, v in attrs.items() if v is not None}
        if s in labels:
            attrs["label"] = labels[s]
        attrs.setdefault("label", graph.nodes[min(arts)].get("title", min(arts)))
        sid = story_id(arts)
        graph.add_node(sid, **attrs)
        for a in sorted(arts):
            graph.add_edge(a, sid, key="inStory", rel="inStory")
        out.append(sid)
    return sorted(out)
