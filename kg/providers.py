"""Provider names a researcher can correct: ``providers.yaml``.

A provider's name is, by default, the one most of its articles give (see
:mod:`kg.graph`); aggregators sometimes give a wrong one ("News", "Pepsi").
A ``providers.yaml`` in the corpus folder (or ``kg build --providers-file
FILE``) sets, per registrable domain, its ``name``, its ``homepage``, and the
domains to ``merge`` into it::

    bbc.co.uk:
      name: BBC
      homepage: https://www.bbc.co.uk/
      merge: [bbc.com]
    nsnews.com:
      name: North Shore News

A merged domain's articles are published by the domain it is merged into;
its names join that provider's ``alt_names`` and its domain the
``merged_domains``.  Every bad entry (unknown key, not a domain, a domain
merged twice or into itself, a homepage that is not an http(s) URL) is
reported at once by :class:`ProvidersFileError`; nothing is built from a
file that has one.

>>> import kg
>>> from kg.graph import build_graph
>>> g = build_graph(kg.load("seeds"))
>>> rules = parse_providers("apnews.com: {name: Associated Press, merge: [nypost.com]}")
>>> apply_providers(g, rules)
[]
>>> g.nodes["provider/apnews.com"]["name"], "provider/nypost.com" in g
('Associated Press', False)
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .normalize import registrable_domain
from .records import Problem

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["ProviderRule", "ProviderRules", "ProvidersFileError", "PROVIDERS_FILE",
           "parse_providers", "read_providers", "find_providers_file", "apply_providers"]

#: The file's name when it sits in the corpus folder.
PROVIDERS_FILE = "providers.yaml"
_KEYS = ("name", "homepage", "merge")


class ProvidersFileError(ValueError):
    """A providers file that cannot be used; the message lists every bad entry."""


@dataclass(frozen=True)
class ProviderRule:
    domain: str
    name: str | None = None
    homepage: str | None = None
    merge: tuple[str, ...] = ()


@dataclass(frozen=True)
class ProviderRules:
    """The rules of one file, by domain, and the digest of its text (part of
    what a build is made from)."""

    rules: dict[str, ProviderRule] = field(default_factory=dict)
    source: str = "providers.yaml"
    digest: str = ""


def _domain(value: object) -> str | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().lower().removeprefix("https://").removeprefix("http://").split("/")[0]
    return registrable_domain(text)


def parse_providers(text: str, source: str = PROVIDERS_FILE) -> ProviderRules:
    """Parse and check the text of a providers file.

    >>> try:
    ...     parse_providers("Bad Domain: {nme: X}")
    ... except ProvidersFileError as e:
    ...     print(str(e).replace("; ", ";\\n"))
    providers.yaml: 2 bad entries: 'Bad Domain': not a domain;
    'Bad Domain': unknown key 'nme' (expected name, homepage, merge)
    """
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise ProvidersFileError(f"{source}:{where} not YAML: {getattr(exc, 'problem', exc)}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ProvidersFileError(f"{source}: expected a mapping of domain -> settings, "
                                 f"got {type(data).__name__}")
    bad: list[str] = []
    rules: dict[str, ProviderRule] = {}
    merged_into: dict[str, str] = {}
    for key, settings in data.items():
        domain = _domain(key)
        if domain is None:
            bad.append(f"{key!r}: not a domain")
        if settings is None:
            settings = {}
        if not isinstance(settings, dict):
            bad.append(f"{key!r}: expected name/homepage/merge settings, got {type(settings).__name__}")
            continue
        for k in settings:
            if k not in _KEYS:
                bad.append(f"{key!r}: unknown key {k!r} (expected {', '.join(_KEYS)})")
        name, homepage = settings.get("name"), settings.get("homepage")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            bad.append(f"{key!r}: name must be a non-empty text")
        if homepage is not None and (not isinstance(homepage, str)
                                     or not homepage.startswith(("http://", "https://"))):
            bad.append(f"{key!r}: homepage must be an http(s) URL, got {homepage!r}")
        merge = settings.get("merge") or []
        if isinstance(merge, str):
            merge = [merge]
        if not isinstance(merge, list):
            bad.append(f"{key!r}: merge must be a list of domains")
            merge = []
        merged = []
        for m in merge:
            md = _domain(m)
            if md is None:
                bad.append(f"{key!r}: cannot merge {m!r}: not a domain")
            elif md == domain:
                bad.append(f"{key!r}: cannot merge {m!r} into itself")
            elif md in merged_into:
                bad.append(f"{key!r}: {m!r} is already merged into {merged_into[md]}")
            else:
                merged_into[md] = domain or str(key)
                merged.append(md)
        if domain is not None:
            if domain in rules:
                bad.append(f"{key!r}: {domain} is given twice")
            rules[domain] = ProviderRule(domain, name.strip() if isinstance(name, str) else None,
                                         homepage if isinstance(homepage, str) else None,
                                         tuple(merged))
    for md, into in merged_into.items():
        if md in rules:
            bad.append(f"{md!r}: has its own entry but is merged into {into}")
    if bad:
        raise ProvidersFileError(f"{source}: {len(bad)} bad entr{'y' if len(bad) == 1 else 'ies'}: "
                                 + "; ".join(bad))
    return ProviderRules(rules, source, hashlib.sha256(text.encode()).hexdigest())


def read_providers(path: str | os.PathLike) -> ProviderRules:
    """Read and check a providers file (:func:`parse_providers`)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProvidersFileError(f"{path}: cannot read: {exc}") from None
    return parse_providers(text, str(path))


def find_providers_file(paths: tuple[str | os.PathLike, ...]) -> Path | None:
    """The ``providers.yaml`` of the first input folder that has one."""
    for p in paths:
        candidate = Path(p) / PROVIDERS_FILE
        if candidate.is_file():
            return candidate
    return None


def apply_providers(graph: nx.MultiDiGraph, rules: ProviderRules) -> list[Problem]:
    """Rename, merge and give homepages to the providers of ``graph``, in
    place; a warning for each domain of the file that no article has."""
    problems = []
    for domain, rule in sorted(rules.rules.items()):
        pid = "provider/" + domain
        if pid not in graph:
            present = [m for m in rule.merge if "provider/" + m in graph]
            if not present:
                problems.append(Problem(rules.source, "unknown-provider", field=domain,
                                        message=f"{domain}: no article of the corpus has this provider"))
                continue
            graph.add_node(pid, kind="provider", domain=domain, name=domain, alt_names=[],
                           sources=[])
        node = graph.nodes[pid]
        for m in rule.merge:
            mid = "provider/" + m
            if mid not in graph:
                problems.append(Problem(rules.source, "unknown-provider", field=m,
                                        message=f"{m}: no article of the corpus has this provider"))
                continue
            _merge(graph, mid, pid)
        if rule.name is not None and rule.name != node.get("name"):
            alt = set(node.get("alt_names", [])) | {node.get("name") or domain}
            node["alt_names"] = sorted(alt - {rule.name})
            node["name"] = rule.name
        if rule.homepage is not None:
            node["homepage"] = rule.homepage
    return problems


def _merge(graph: nx.MultiDiGraph, old: str, into: str) -> None:
    src, dst = graph.nodes[old], graph.nodes[into]
    for a, _, key, data in list(graph.in_edges(old, keys=True, data=True)):
        if graph.has_edge(a, into, key):
            # replaced, not changed in place: edges may share attributes (kg.graph)
            mine = graph._succ[a][into]  # the dict its view reads, shared with _pred
            mine[key] = {**mine[key], "sources": sorted(set(mine[key].get("sources", []))
                                                        | set(data.get("sources", [])))}
        else:
            graph.add_edge(a, into, key=key, **data)
    names = set(dst.get("alt_names", [])) | set(src.get("alt_names", [])) | {src.get("name")}
    dst["alt_names"] = sorted(n for n in names if n and n != dst.get("name"))
    dst["merged_domains"] = sorted(set(dst.get("merged_domains", [])) | {src["domain"]})
    dst["sources"] = sorted(set(dst.get("sources", [])) | set(src.get("sources", [])))
    graph.remove_node(old)
