"""The export files: writers and readers, nothing else.

``kg build`` (:mod:`kg.pipeline`) writes into one folder (``exports/`` by default):

=====================  =====================================================
``newskg.graphml``     the graph as GraphML (list values as JSON text; every
                       node with a ``label``, its ``kind``, and its id as ``name``)
``newskg.json``        the graph as node-link JSON (read back by
                       :func:`read_graph`)
``problems.jsonl``     one JSON object per :class:`~kg.records.Problem`
``manifest.json``      input files with content hashes, counts by kind
``chunks/``            gzipped N-Quads for bulk loaders (``--split-nq``)
=====================  =====================================================

The RDF files are written by :mod:`kg.rdf`.  Every file is written
atomically (temporary file + rename) and deterministically: the same input
gives byte-identical files.

>>> import kg, tempfile
>>> from kg.graph import build_graph
>>> graph = build_graph(kg.load("seeds"))
>>> out = tempfile.mkdtemp()
>>> [p.name for p in write_graph(graph, out)]
['newskg.json', 'newskg.graphml']
>>> read_graph(out).number_of_nodes() == graph.number_of_nodes()
True
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from ._perf import gc_paused
from ._util import atomic_writer
from .blocks import BlockWriter, Written, content_digest, node_runs, runs
from .records import Problem, SourceFile

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["write_graph", "write_graph_json", "write_graphml", "read_graph", "write_problems",
           "read_problems", "write_manifest", "read_summary", "write_split_nquads",
           "GRAPH_JSON", "GRAPHML", "PROBLEMS", "MANIFEST"]

GRAPH_JSON = "newskg.json"
GRAPHML = "newskg.graphml"
PROBLEMS = "problems.jsonl"
MANIFEST = "manifest.json"


# -- node-link JSON -------------------------------------------------------------
def _json_line(obj: dict) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def write_graph_json(graph: nx.MultiDiGraph, path: str | os.PathLike,
                     index_dir: str | os.PathLike | None = None, fingerprint: str = "",
                     digests: Mapping[str, str] | None = None) -> Written:
    """Node-link JSON, one node or edge per line (diff-friendly).

    With ``index_dir`` (an index kept for the next build, :mod:`kg.blocks`,
    of code ``fingerprint``), the lines of a run of nodes, and those of their
    out-edges, are copied from the previous ``path`` when none of the nodes
    changed; ``digests`` has the :func:`kg.blocks.node_digest` of nodes
    whose digest is known already (the others' are computed).
    """
    meta = {k: v for k, v in graph.graph.items() if k != "problems"}
    nodes, succ = graph._node, graph._succ  # networkx's dicts: its views cost more here
    head = (b'{"directed": true, "multigraph": true, "graph": ' + _json_line(meta)
            + b',\n"nodes": [\n')
    middle, tail = b'\n],\n"edges": [\n', b"\n]}\n"
    if index_dir is None:
        made = [(run, "") for run in runs(nodes)]
    else:
        made = node_runs(nodes, succ, digests)
    first_edges = next((i for i, (run, _) in enumerate(made) if any(succ[n] for n in run)), -1)

    def node_lines(run: list[str], first: bool) -> bytes:
        lines = b",\n".join(_json_line({"id": n, **nodes[n]}) for n in run)
        return lines if first else b",\n" + lines

    def edge_lines(run: list[str], first: bool) -> bytes:
        lines = b",\n".join(_json_line({"source": u, "target": v, "key": k, **d})
                            for u in run for v, keydict in succ[u].items() for k, d in keydict.items())
        return lines if first or not lines else b",\n" + lines

    # (the first run's lines, and the first edges', have no comma before them)
    out = BlockWriter(path, None if index_dir is None else Path(index_dir) / f"{Path(path).name}.blocks",
                      fingerprint)
    blocks: list[tuple[str, str, Callable[[], bytes]]] = [(" head", content_digest(head), lambda: head)]
    blocks += ((f"n {run[-1]}", f"{i == 0} {digest}", functools.partial(node_lines, run, i == 0))
               for i, (run, digest) in enumerate(made))
    blocks.append((" middle", "", lambda: middle))
    blocks += ((f"e {run[-1]}", f"{i == first_edges} {digest}",
                functools.partial(edge_lines, run, i == first_edges)) for i, (run, digest) in enumerate(made))
    blocks.append((" tail", "", lambda: tail))
    return out.write(blocks)


_DATETIME_ATTRS = ("published", "modified")


def read_graph(path: str | os.PathLike = "exports") -> nx.MultiDiGraph:
    """Read the graph written by ``kg build`` (a folder or its ``newskg.json``).

    Datetimes come back as aware :class:`~datetime.datetime` objects, lists
    as lists: the result equals the graph that was written.
    """
    path = Path(path)
    if path.is_dir():
        path = path / GRAPH_JSON
    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run `kg build` first")
    import networkx as nx

    # Millions of new objects and nothing to free: the collector would only
    # rescan them.
    with gc_paused():
        data = orjson.loads(path.read_bytes())
        g = nx.MultiDiGraph(**data.get("graph", {}))
        for node in data["nodes"]:
            nid = node.pop("id")
            for a in _DATETIME_ATTRS:
                if a in node:
                    node[a] = datetime.fromisoformat(node[a])
            g.add_node(nid, **node)
        for e in data["edges"]:
            g.add_edge(e.pop("source"), e.pop("target"), key=e.pop("key"), **e)
    return g


# -- GraphML --------------------------------------------------------------------
_GRAPHML_TYPES = {bool: "boolean", int: "long", float: "double"}


def _xml(text: str) -> str:
    """Escape text for XML content or a double-quoted attribute."""
    if "&" in text or "<" in text or ">" in text or '"' in text:
        # str.replace runs in C; str.translate with a dict is slower here
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;"))
    return text


def _graphml_text(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _xml(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int or kind is float:
        return repr(value)
    if kind is datetime:
        return value.isoformat()
    return _xml(orjson.dumps(value).decode())  # lists: JSON text


def _graphml_data(ids: dict[str, str]) -> Callable[[dict], str]:
    """The ``<data>`` elements of an attribute dict, as one string.

    Most lists are short and repeated (the ``sources`` of an article's
    edges): their text is made once.
    """
    lists: dict[tuple, str] = {}
    text = _graphml_text

    def data(d: dict) -> str:
        parts = []
        for k, v in d.items():
            if v.__class__ is list:
                key = tuple(v)
                t = lists.get(key)
                if t is None:
                    t = lists[key] = text(v)
            else:
                t = text(v)
            parts.append(f'<data key="{ids[k]}">{t}</data>')
        return "".join(parts)

    return data


def _node_label(node: str, d: dict) -> str:
    """What a node is called: its label, title or name, else its URL or id."""
    for key in ("label", "title", "name", "url"):
        value = d.get(key)
        if isinstance(value, str) and value:
            return value
    return node


def write_graphml(graph: nx.MultiDiGraph, path: str | os.PathLike,
                  index_dir: str | os.PathLike | None = None, fingerprint: str = "",
                  digests: Mapping[str, str] | None = None) -> Written:
    """GraphML that ``networkx.read_graphml`` (and Gephi, yEd, igraph) reads.

    Streamed by hand: NetworkX's writer builds the whole XML tree in memory.
    List values are written as JSON text, datetimes as ISO 8601.  Every node
    has a ``label`` (title, name or label) and ``kind``; ``name`` is the
    node's stable id (igraph's vertex name), so a provider's name is its label.

    With ``index_dir`` (an index kept for the next build, :mod:`kg.blocks`,
    of code ``fingerprint``), the lines of a node whose attributes and
    out-edges did not change since the previous ``path`` are copied from it
    (``digests``: as :func:`write_graph_json`'s).
    """
    # Every node has a label (what Gephi and Cytoscape show) and its stable id
    # as ``name`` (igraph's vertex name); a provider's own name is its label.
    keys: dict[tuple[str, str], str] = {("node", "label"): "string", ("node", "name"): "string"}
    nodes, succ = graph._node, graph._succ  # networkx's dicts: its views cost more here
    # Blocks of a run of nodes' lines and of their edges' lines (kg.blocks.runs),
    # each with a digest of the run's nodes (kg.blocks.node_digest), in order.
    node_keys: set[str] = {"label", "name"}
    edge_keys: set[str] = set()
    for n, d in nodes.items():
        if not node_keys.issuperset(d):  # a key's type is that of its first value
            for k, v in d.items():
                if k not in node_keys:
                    node_keys.add(k)
                    keys["node", k] = _GRAPHML_TYPES.get(type(v), "string")
        for keydict in succ[n].values():
            for ed in keydict.values():
                if not edge_keys.issuperset(ed):
                    for k, v in ed.items():
                        if k not in edge_keys:
                            edge_keys.add(k)
                            keys["edge", k] = _GRAPHML_TYPES.get(type(v), "string")
    made = [(run, "") for run in runs(nodes)] if index_dir is None else node_runs(nodes, succ, digests)
    ordered = sorted(keys)
    node_data = _graphml_data({name: f"d{i}" for i, (dom, name) in enumerate(ordered)
                               if dom == "node"})
    edge_data = _graphml_data({name: f"d{i}" for i, (dom, name) in enumerate(ordered)
                               if dom == "edge"})
    head = ("<?xml version='1.0' encoding='utf-8'?>\n"
            '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
            'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n'
            + "".join(f'<key id="d{i}" for="{domain}" attr.name="{_xml(name)}" '
                      f'attr.type="{keys[domain, name]}"/>\n' for i, (domain, name) in enumerate(ordered))
            + '<graph edgedefault="directed">\n').encode()
    tail = b"</graph>\n</graphml>\n"

    def node_lines(run: list[str]) -> bytes:
        lines = []
        for n in run:
            d = nodes[n]
            shown = {"label": _node_label(n, d), "name": n}
            shown.update((k, v) for k, v in d.items() if k not in shown)
            lines.append(f'<node id="{_xml(n)}">{node_data(shown)}</node>\n')
        return "".join(lines).encode()

    def edge_lines(run: list[str]) -> bytes:
        lines = []
        for u in run:
            # The edges of one relation that one file states from a node share
            # one attribute dict (build_graph(share_attrs=True)): its data once.
            made: dict[int, str] = {}
            for v, keydict in succ[u].items():
                for k, d in keydict.items():
                    data = made.get(id(d))
                    if data is None:
                        data = made[id(d)] = edge_data(d)
                    lines.append(f'<edge source="{_xml(u)}" target="{_xml(v)}" id="{_xml(k)}">{data}</edge>\n')
        return "".join(lines).encode()

    # The key table decides every block's data ids: another table, another fingerprint.
    out = BlockWriter(path, None if index_dir is None else Path(index_dir) / f"{Path(path).name}.blocks",
                      f"{fingerprint} {hashlib.blake2b(head, digest_size=16).hexdigest()}")
    blocks: list[tuple[str, str, Callable[[], bytes]]] = [(" head", "", lambda: head)]
    blocks += ((f"n {run[-1]}", digest, functools.partial(node_lines, run)) for run, digest in made)
    blocks += ((f"e {run[-1]}", digest, functools.partial(edge_lines, run)) for run, digest in made)
    blocks.append((" tail", "", lambda: tail))
    return out.write(blocks)


def write_graph(graph: nx.MultiDiGraph, out_dir: str | os.PathLike) -> list[Path]:
    """Write ``newskg.json`` and ``newskg.graphml`` into ``out_dir``."""
    out = Path(out_dir)
    write_graph_json(graph, out / GRAPH_JSON)
    write_graphml(graph, out / GRAPHML)
    return [out / GRAPH_JSON, out / GRAPHML]


# -- problems -------------------------------------------------------------------
def write_problems(problems: Iterable[Problem], path: str | os.PathLike) -> None:
    with atomic_writer(path) as f:
        for p in problems:
            f.write(orjson.dumps(p.to_dict()) + b"\n")


def read_problems(path: str | os.PathLike = "exports") -> list[Problem]:
    path = Path(path)
    if path.is_dir():
        path = path / PROBLEMS
    if not path.exists():
        return []
    return [Problem(**orjson.loads(line)) for line in path.read_bytes().splitlines() if line]


_SUMMARY_KEYS = ("nodes", "edges", "articles_with_file", "articles_reference_only",
                 "source_files", "date_range", "top_providers", "top_topics", "problems")


def read_summary(path: str | os.PathLike = "exports") -> dict:
    """What ``kg stats`` prints about an export folder: nodes by kind, edges
    by relation, dates, top providers and topics, problems by reason.

    Read from ``manifest.json`` when the build that wrote it wrote it after
    ``newskg.json`` (instant at any size); otherwise, say after a build that
    failed half-way or a graph written by hand, computed from ``newskg.json``
    and ``problems.jsonl`` (slow on a large graph).

    >>> import kg, tempfile
    >>> out = tempfile.mkdtemp()
    >>> _ = kg.build("seeds", out=out, rdf=False)
    >>> s = read_summary(out)
    >>> s["nodes"]["article"], s["edges"]["related"], s["problems"]
    (8, 7, {})
    """
    path = Path(path)
    manifest, graph_json = path / MANIFEST, path / GRAPH_JSON
    try:
        if manifest.stat().st_mtime_ns >= graph_json.stat().st_mtime_ns:
            summary = orjson.loads(manifest.read_bytes())["summary"]
            if all(k in summary for k in _SUMMARY_KEYS):
                return {k: summary[k] for k in _SUMMARY_KEYS}
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no manifest, or not one we wrote: compute it
    from .graph import graph_summary

    summary = graph_summary(read_graph(path))
    summary["problems"] = dict(sorted(Counter(p.reason for p in read_problems(path)).items()))
    return {k: summary[k] for k in _SUMMARY_KEYS}


def write_manifest(summary: dict, files: list[SourceFile], path: str | os.PathLike) -> None:
    """``manifest.json``: the build's summary and every input file (path,
    content hash, size, whether it gave an article)."""
    # (not dataclasses.asdict, which copies recursively)
    manifest = {"summary": summary, "files": [
        {"path": f.path, "sha256": f.sha256, "size": f.size, "ok": f.ok} for f in files]}
    with atomic_writer(path) as f:
        f.write(orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n")


# -- N-Quads chunks for bulk loaders ------------------------------------------------
def write_split_nquads(nq_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
                       max_triples: int, *, union: bool = True) -> list[Path]:
    """Split an N-Quads file into gzipped chunks of at most ``max_triples`` lines.

    With ``union`` (the default) the chunks end with the set union of the
    named graphs as default-graph triples: the default graph newskg queries
    (a loader puts them in its default graph, or in the graph it is told,
    e.g. Virtuoso's ``ld_dir(..., 'https://w3id.org/newskg/graph/union')``).

    The chunks (``newskg-00001.nq.gz``, ...) are what the bulk loaders of
    Virtuoso (``ld_dir``), Neptune, QLever and ``oxigraph load`` take.  Byte
    identical for the same input (gzip without a timestamp); each chunk is
    written atomically; stale chunks of an earlier split are removed.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "x.nq").write_text('<https://e/a> <https://e/p> "1" <https://e/g> .\\n' * 3)
    >>> [p.name for p in write_split_nquads(d / "x.nq", d / "chunks", 2)]
    ['newskg-00001.nq.gz', 'newskg-00002.nq.gz']
    >>> len(write_split_nquads(d / "x.nq", d / "chunks", 2, union=False))
    2
    """
    if max_triples < 1:
        raise ValueError("max_triples must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def flush(lines: list[bytes]) -> None:
        path = out / f"newskg-{len(written) + 1:05d}.nq.gz"
        # mtime=0 and no file name in the header: same input, same bytes.
        with atomic_writer(path) as f:
            f.write(gzip.compress(b"".join(lines), compresslevel=6, mtime=0))
        written.append(path)

    chunk: list[bytes] = []

    def add(line: bytes) -> None:
        nonlocal chunk
        chunk.append(line)
        if len(chunk) >= max_triples:
            flush(chunk)
            chunk = []
    triples: set[bytes] = set()
    with open(nq_path, "rb") as fh:
        for line in fh:
            if not line.strip():
                continue
            line = line if line.endswith(b"\n") else line + b"\n"
            add(line)
            if union:
                triples.add(line[: line.rindex(b" <")] + b" .\n")  # the quad as a triple
    for line in sorted(triples):
        add(line)
    if chunk:
        flush(chunk)
    keep = {p.name for p in written}
    for stale in out.glob("newskg-*.nq.gz"):
        if stale.name not in keep:
            stale.unlink()
    return written
