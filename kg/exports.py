"""The export folder: write and read the graph, problems and build manifest.

``kg build`` writes into one folder (``exports/`` by default):

=====================  =====================================================
``newskg.graphml``     the graph as GraphML (list values as JSON text)
``newskg.json``        the graph as node-link JSON (read back by
                       :func:`read_graph`)
``problems.jsonl``     one JSON object per :class:`~kg.records.Problem`
``manifest.json``      input files with content hashes, counts by kind
=====================  =====================================================

Every file is written atomically (temporary file + rename) and
deterministically: the same input gives byte-identical files.

>>> import kg, tempfile
>>> out = tempfile.mkdtemp()
>>> result = kg.build("seeds", out=out)
>>> g = kg.read_graph(out)
>>> g.number_of_nodes() == result.graph.number_of_nodes()
True
"""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ._perf import Forked, gc_paused, release_freed_memory
from ._util import atomic_writer
from .cache import RecordCache, build_fingerprint
from .ingest import _find_files, load_corpus
from .records import Problem, SourceFile

if TYPE_CHECKING:
    import networkx as nx

    from .rdf import RdfWriter

__all__ = ["build", "BuildResult", "export_rdf", "write_graph", "read_graph", "write_problems",
           "read_problems", "read_summary", "atomic_writer", "GRAPH_JSON", "GRAPHML", "PROBLEMS",
           "MANIFEST"]

GRAPH_JSON = "newskg.json"
GRAPHML = "newskg.graphml"
PROBLEMS = "problems.jsonl"
MANIFEST = "manifest.json"
CACHE = ".cache/records.jsonl"
STAMP = ".cache/build.json"  # what the last complete build was made from, and wrote


# -- node-link JSON -------------------------------------------------------------
def _json_line(obj: dict) -> bytes:
    return orjson.dumps(obj, option=orjson.OPT_NON_STR_KEYS)


def write_graph_json(graph: nx.MultiDiGraph, path: str | os.PathLike) -> None:
    """Node-link JSON, one node or edge per line (diff-friendly)."""
    meta = {k: v for k, v in graph.graph.items() if k != "problems"}
    with atomic_writer(path) as f:
        f.write(b'{"directed": true, "multigraph": true, "graph": ' + _json_line(meta))
        f.write(b',\n"nodes": [\n')
        first = True
        for n, d in graph.nodes(data=True):
            f.write((b"" if first else b",\n") + _json_line({"id": n, **d}))
            first = False
        f.write(b'\n],\n"edges": [\n')
        first = True
        for u, v, k, d in graph.edges(keys=True, data=True):
            f.write((b"" if first else b",\n") + _json_line({"source": u, "target": v, "key": k, **d}))
            first = False
        f.write(b"\n]}\n")


_DATETIME_ATTRS = ("published",)


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
    # rescan them (9.5 s -> 5.2 s at 100,000 articles without it).
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
        # str.replace runs in C; str.translate with a dict is ~10x slower here
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace('"', "&quot;"))
    return text


def _graphml_text(value: object) -> str:
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


def write_graphml(graph: nx.MultiDiGraph, path: str | os.PathLike) -> None:
    """GraphML that ``networkx.read_graphml`` (and Gephi, yEd, igraph) reads.

    Streamed by hand: NetworkX's writer builds the whole XML tree in memory.
    List values are written as JSON text, datetimes as ISO 8601.
    """
    keys: dict[tuple[str, str], str] = {}
    nodes, succ = graph._node, graph._succ  # networkx's dicts: its views cost 2x here
    for d in nodes.values():
        for k, v in d.items():
            if ("node", k) not in keys:
                keys["node", k] = _GRAPHML_TYPES.get(type(v), "string")
    for nbrs in succ.values():
        for keydict in nbrs.values():
            for d in keydict.values():
                for k, v in d.items():
                    if ("edge", k) not in keys:
                        keys["edge", k] = _GRAPHML_TYPES.get(type(v), "string")
    ordered = sorted(keys)
    node_data = _graphml_data({name: f"d{i}" for i, (dom, name) in enumerate(ordered)
                               if dom == "node"})
    edge_data = _graphml_data({name: f"d{i}" for i, (dom, name) in enumerate(ordered)
                               if dom == "edge"})
    with atomic_writer(path, "w") as f:
        f.write("<?xml version='1.0' encoding='utf-8'?>\n"
                '<graphml xmlns="http://graphml.graphdrawing.org/xmlns" '
                'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
                'xsi:schemaLocation="http://graphml.graphdrawing.org/xmlns '
                'http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd">\n')
        for i, (domain, name) in enumerate(ordered):
            f.write(f'<key id="d{i}" for="{domain}" attr.name="{_xml(name)}" '
                    f'attr.type="{keys[domain, name]}"/>\n')
        f.write('<graph edgedefault="directed">\n')
        out: list[str] = []
        for n, d in nodes.items():
            out.append(f'<node id="{_xml(n)}">{node_data(d)}</node>\n')
            if len(out) > 20_000:
                f.write("".join(out))
                out.clear()
        xml_ids: dict[str, str] = {}  # node ids, escaped once
        for u, nbrs in succ.items():
            source = _xml(u)
            for v, keydict in nbrs.items():
                target = xml_ids.get(v)
                if target is None:
                    target = xml_ids[v] = _xml(v)
                for k, d in keydict.items():
                    out.append(f'<edge source="{source}" target="{target}" id="{_xml(k)}">'
                               f'{edge_data(d)}</edge>\n')
            if len(out) > 20_000:
                f.write("".join(out))
                out.clear()
        f.write("".join(out))
        f.write("</graph>\n</graphml>\n")


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
    and ``problems.jsonl`` (12 s at 100,000 articles).

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


def _write_manifest(summary: dict, files: list[SourceFile], path: Path) -> None:
    # (dataclasses.asdict, which copies recursively, took 1 s at 100,000 files)
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


# -- RDF and the store --------------------------------------------------------------
def export_rdf(graph: nx.MultiDiGraph, out_dir: str | os.PathLike, *,
               also: Sequence[tuple[Callable, tuple]] = (),
               lap: Callable[[str], None] | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               graphs: int = 0) -> dict:
    """The RDF part of ``kg build``: ``newskg.nq``, ``newskg.ttl``,
    ``newskg.jsonld`` and the embedded store ``store/`` in ``out_dir``.

    The N-Quads (every named graph) and then the Turtle (their union) are
    handed to a :class:`~kg.store.StoreBuilder` block by block as they are
    written, and Oxigraph threads bulk-load them on the other core; then a
    thread finishes the store (the rest of the load, one compaction) while
    this one writes the JSON-LD and runs the ``also`` calls (``(function,
    args)`` pairs: the other exports of ``kg build``).  If
    ``out_dir`` already holds a store built from nearly the same graph, only
    the named graphs whose N-Quads changed are replaced in it (one
    transaction), and a forked process writes the Turtle, the JSON-LD and
    the ``also`` calls while this one writes the N-Quads; otherwise a fresh
    store replaces it atomically.
    ``lap(stage)`` is called as the ``"rdf"`` (N-Quads), ``"exports"`` and
    ``"store"`` (what is left of loading, and compaction) stages end;
    ``progress`` is as in :func:`build`, ``graphs`` the number of named
    graphs expected (for its estimate of the time left).

    Returns the ``paths`` written, the number of ``quads`` and
    ``store_graphs_replaced`` (``None`` when the store was rebuilt).

    >>> import kg, tempfile
    >>> info = export_rdf(kg.build_graph(kg.load_corpus("seeds")), tempfile.mkdtemp())
    >>> [p.name for p in info["paths"]], info["store_graphs_replaced"]
    (['newskg.nq', 'newskg.ttl', 'newskg.jsonld', 'store'], None)
    """
    import pyoxigraph as ox

    from .rdf import JSONLD, NQUADS, TURTLE, TURTLE_PROLOGUE, RdfWriter, read_turtle_blocks
    from .store import STORE_DIR, StoreBuilder, StoreUpdate

    out = Path(out_dir)
    lap = lap or (lambda stage: None)
    report = progress or (lambda stage, done, total: None)
    written = 0
    replaced = None
    # The collector would rescan the graph's millions of objects again and
    # again as the walk allocates, and find nothing to free (as in build).
    with gc_paused(), ExitStack() as unfinished:  # an uncommitted store is deleted
        writer = RdfWriter(graph)
        report("writing RDF", 0, graphs)

        def fresh_store() -> StoreBuilder:
            # trusted: newskg wrote this RDF, so Oxigraph need not re-validate it
            return unfinished.enter_context(StoreBuilder(out / STORE_DIR, trusted=True))

        update = StoreUpdate(out / STORE_DIR)
        # With no store to update, a fresh one loads on the other core while
        # the N-Quads are written.  With one, a few graphs are likely to be
        # replaced in it: the other core writes the other exports meanwhile.
        builder = None if update.old else fresh_store()
        others = None
        if update.old:
            others = unfinished.enter_context(Forked(
                _write_others, writer, out, [(writer.write_turtle, (out / TURTLE,)), *also]))

        def each_graph(graph_iri: str, nquads: str) -> None:
            nonlocal written
            update.add(graph_iri, nquads)
            if builder is not None:
                builder.add(nquads)
            written += 1
            if written % 1000 == 0:
                report("writing RDF", written, max(graphs, written + 1))

        quads, _ = writer.write_nquads(out / NQUADS, each_graph=each_graph)
        report("writing RDF", written, written)
        lap("rdf")
        if update.worthwhile:  # a few files changed: replace their graphs
            report("updating the store", 0, 0)
            replaced = update.apply()
        elif builder is None:
            builder = fresh_store()
            builder.add_file(out / NQUADS)
        report("writing exports", 0, 0)
        if others is not None:
            others.result()
            if builder is not None:  # too many graphs changed: a fresh store after all
                for blocks in read_turtle_blocks(out / TURTLE):
                    builder.add(blocks, format=ox.RdfFormat.TURTLE, prologue=TURTLE_PROLOGUE,
                                union=True)
            lap("exports")
            if builder is not None:
                report("loading and compacting the store", 0, 0)
                builder.commit(update.digests)
        else:
            def each_subject(turtle: str) -> None:  # the union: the store's default graph
                builder.add(turtle, format=ox.RdfFormat.TURTLE, prologue=TURTLE_PROLOGUE,
                            union=True)

            writer.write_turtle(out / TURTLE, each_subject=each_subject)
            # The store has all its input: it finishes loading and is compacted
            # (in one thread, outside the GIL: ~14 s at 100,000 articles, the
            # other core idle) while this thread writes the other exports.
            with ThreadPoolExecutor(1, thread_name_prefix="kg-store-commit") as pool:
                committed = pool.submit(builder.commit, update.digests)
                _write_others(writer, out, also)
                lap("exports")
                report("loading and compacting the store", 0, 0)
                committed.result()
        lap("store")
    return {"paths": [out / NQUADS, out / TURTLE, out / JSONLD, out / STORE_DIR],
            "quads": quads, "store_graphs_replaced": replaced}


def _write_others(writer: RdfWriter, out: Path, also: Sequence[tuple[Callable, tuple]]) -> None:
    """The JSON-LD, then the ``also`` calls."""
    from .rdf import JSONLD

    writer.write_jsonld(out / JSONLD)
    for fn, args in also:
        fn(*args)


# -- the whole build --------------------------------------------------------------
@dataclass
class BuildResult:
    """What :func:`build` produced.

    ``files`` lists every input file read (path, content hash, size, whether
    it gave an article).  The article records themselves are let go once the
    graph holds them (4 GB at a million articles); :func:`kg.load_corpus`
    returns them.
    """

    files: list[SourceFile]
    problems: list[Problem]
    outputs: list[Path] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per stage
    #: False when the exports were already up to date and nothing was rebuilt.
    built: bool = True
    #: Files that changed since the last build but gave the same records (say,
    #: an edit of the body text): only ``manifest.json`` was rewritten for them.
    same_records: list[str] = field(default_factory=list)
    _graph: nx.MultiDiGraph | None = field(default=None, repr=False)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The knowledge graph (read back from ``newskg.json`` if nothing was
        rebuilt, then without ``graph.graph["problems"]``: see ``problems``)."""
        if self._graph is None:
            self._graph = read_graph(self.outputs[0].parent / GRAPH_JSON)
        return self._graph


def build(*paths: str | os.PathLike, out: str | os.PathLike = "exports",
          cache: bool = True, rdf: bool = True,
          progress: Callable[[str, int, int], None] | None = None) -> BuildResult:
    """Run the whole pipeline on article folders and write the export folder.

    files -> records (with the record cache of ``out/.cache`` unless
    ``cache=False``) -> graph with stories -> ``newskg.json``,
    ``newskg.graphml``, ``problems.jsonl``, ``manifest.json`` and, unless
    ``rdf=False``, the RDF files and the embedded SPARQL store.  Returns the
    input files, the graph, every problem (ingest and merge) and the paths
    written.

    >>> import kg, tempfile
    >>> result = kg.build("seeds", out=tempfile.mkdtemp())
    >>> result.files[0].path, result.summary["files"], result.summary["quads"]
    ('seeds/000_e8d8b023fb041968.txt', {'read': 1, 'articles': 1, 'skipped': 0}, 164)

    With the cache, a build whose input files, code and options are exactly
    those of the last complete build into ``out``, whose outputs are as it
    left them, rebuilds nothing (``result.built`` is false; the graph is
    read back from ``newskg.json`` when asked for).  When ``out`` already
    holds a store built from nearly the same input, only the named graphs
    whose N-Quads changed are replaced in it (one transaction;
    ``summary["store_graphs_replaced"]`` says how many); otherwise the store
    is rebuilt from scratch.

    ``progress(stage, done, total)`` is called as the build goes: with the
    files checked against the last build (``"checking for changes"``), the
    files read (``"reading files"``) and the named graphs written (``"writing
    RDF"``, ``total`` being an estimate), and with ``total=0`` when a stage
    without a count starts (``"building the graph"`` and so on).
    """
    out = Path(out)
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now

    # The collector would rescan the growing graph again and again and find
    # nothing to free.
    with gc_paused():
        report = progress or (lambda stage, done, total: None)
        record_cache = RecordCache(out / CACHE) if cache else None
        if record_cache is not None and paths:
            done = _up_to_date(out, _find_files(paths), record_cache, rdf, report)
            if done is not None:
                lap("check")
                return BuildResult(done["files"], read_problems(out), done["outputs"],
                                   done["summary"], timings, built=False,
                                   same_records=done["same_records"])
            (out / STAMP).unlink(missing_ok=True)  # until this build is complete
        from .graph import build_graph, graph_summary  # not needed when up to date
        from .stories import add_stories

        corpus = load_corpus(*paths, cache=record_cache,
                             progress=lambda done, total: report("reading files", done, total))
        lap("parse")
        saving = None
        if record_cache is not None:
            # Saved beside the graph's construction and then let go, so that its
            # lines (270 MB at 100,000 files) are not held until the exports'
            # peak.  Its rows are right whatever happens to this build; what
            # marks a build complete is the stamp, written last.
            saver = ThreadPoolExecutor(1, thread_name_prefix="kg-cache-save")
            saving = saver.submit(record_cache.save)
            saver.shutdown(wait=False)
            del record_cache
        report("building the graph", 0, 0)
        graph = build_graph(corpus)
        files, problems = corpus.files, corpus.problems
        del corpus  # the graph holds what the exports need
        lap("graph")
        report("finding stories", 0, 0)
        add_stories(graph)
        lap("stories")
        if saving is not None:
            saving.result()  # done before anything forks
            del saving
            release_freed_memory()  # its lines, and the rows they were made from
        problems = problems + graph.graph["problems"]
        problems.sort(key=lambda p: (p.path, p.line or 0, p.field or "", p.reason))
        summary = graph_summary(graph)
        summary["files"] = {"read": len(files), "articles": sum(f.ok for f in files),
                            "skipped": sum(not f.ok for f in files)}
        summary["problems"] = dict(sorted(Counter(p.reason for p in problems).items()))
        # Written while the store loads, or in parallel with the N-Quads when
        # the store is updated in place (see export_rdf).
        others: list[tuple[Callable, tuple]] = [
            (write_graph, (graph, out)), (write_problems, (problems, out / PROBLEMS))]
        outputs: list[Path] = []
        if rdf:
            rdf_info = export_rdf(graph, out, also=others, lap=lap, progress=report,
                                  graphs=summary["files"]["articles"] + 1)
            summary["quads"] = rdf_info["quads"]
            if rdf_info["store_graphs_replaced"] is not None:
                summary["store_graphs_replaced"] = rdf_info["store_graphs_replaced"]
            outputs = rdf_info["paths"]
        else:
            report("writing exports", 0, 0)
            for fn, args in others:
                fn(*args)
            lap("exports")
        # Last, with the number of quads; not how this build updated the store.
        _write_manifest({k: v for k, v in summary.items() if k != "store_graphs_replaced"},
                        files, out / MANIFEST)
        outputs = [out / GRAPH_JSON, out / GRAPHML, out / PROBLEMS, out / MANIFEST] + outputs
        if cache:
            _write_stamp(out, files, outputs, summary, rdf)
        lap("manifest")
    return BuildResult(files, problems, outputs, summary, timings, _graph=graph)


def _input_stamp(hashes: Iterable[tuple[str, str]], rdf: bool) -> str:
    """What a build is made from: the code, the options, the files' names and contents."""
    h = hashlib.sha256(f"{build_fingerprint()} rdf={rdf}\n".encode())
    for name, sha256 in hashes:
        h.update(f"{name}\0{sha256}\n".encode())
    return h.hexdigest()


def _output_files(out: Path, outputs: list[Path], rdf: bool) -> list[Path]:
    from .store import STORE_DIR, state_path

    files = [p for p in outputs if p.is_file()]
    # CURRENT changes when the store is opened for writing (read-only is fine)
    return files + [out / STORE_DIR / "CURRENT", state_path(out / STORE_DIR)] if rdf else files


def _write_stamp(out: Path, files: list[SourceFile], outputs: list[Path], summary: dict,
                 rdf: bool) -> None:
    if not all(f.sha256 for f in files):
        return  # an unreadable file: read it again next time
    stamp = {"stamp": _input_stamp(((f.path, f.sha256) for f in files), rdf),
             "outputs": {p.relative_to(out).as_posix(): [(st := p.stat()).st_size, st.st_mtime_ns]
                         for p in _output_files(out, outputs, rdf)},
             "paths": [p.relative_to(out).as_posix() for p in outputs],
             "summary": summary}
    with atomic_writer(out / STAMP) as f:
        f.write(orjson.dumps(stamp))


def _up_to_date(out: Path, found: list[tuple[str, str]], cache: RecordCache, rdf: bool,
                report: Callable[[str, int, int], None]) -> dict | None:
    """The last build's files, outputs and summary if it was made from
    exactly these files (and code and options) and its outputs are as it left
    them (same sizes and modification times); else ``None``.

    Files whose bytes changed but whose records did not (an edit of the body
    text, of YAML formatting or comments) are parsed here and compared with
    the cache: if every changed file gives the records it gave before, only
    ``manifest.json`` (which lists each file's hash and size) and the stamp
    are rewritten, and their new entries appended to the record cache;
    ``"same_records"`` names those files.
    """
    try:
        stamp = orjson.loads((out / STAMP).read_bytes())
        for rel, (size, mtime_ns) in stamp["outputs"].items():
            st = os.stat(out / rel)
            if (st.st_size, st.st_mtime_ns) != (size, mtime_ns):
                return None
        manifest = orjson.loads((out / MANIFEST).read_bytes())
        hashes = []
        for i, (path, name) in enumerate(found):
            sha256 = cache.content_hash(path, name)
            if not sha256:
                return None
            hashes.append((name, sha256))
            if i % 1000 == 0:
                report("checking for changes", i, len(found))
        report("checking for changes", len(found), len(found))
        files = [SourceFile(**f) for f in manifest["files"]]
        changed: list[int] = []
        if _input_stamp(hashes, rdf) != stamp["stamp"]:
            if (_input_stamp(((f.path, f.sha256) for f in files), rdf) != stamp["stamp"]
                    or [f.path for f in files] != [name for name, _ in hashes]):
                return None  # other code or options, or files added or removed
            changed = [i for i, (f, (_, sha256)) in enumerate(zip(files, hashes))
                       if f.sha256 != sha256]
            if len(changed) > _RECHECK_MAX or not _same_records(found, files, changed, cache):
                return None
        summary = {k: v for k, v in stamp["summary"].items() if k != "store_graphs_replaced"}
        outputs = [out / p for p in stamp["paths"]]
        if changed:
            _write_manifest(manifest["summary"], files, out / MANIFEST)
            _write_stamp(out, files, outputs, stamp["summary"], rdf)
        return {"files": files, "summary": summary, "outputs": outputs,
                "same_records": [files[i].path for i in changed]}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


#: At most this many changed files are parsed to see whether their records changed.
_RECHECK_MAX = 1000


def _same_records(found: list[tuple[str, str]], files: list[SourceFile], changed: list[int],
                  cache: RecordCache) -> bool:
    """Whether each changed file gives the records its last version gave; if
    so, ``files`` now lists their new hashes and sizes, and the cache holds
    their new content."""
    from .cache import encode_row
    from .ingest import MAX_FILE_BYTES, _read_row

    fresh = []
    for i in changed:
        path, name = found[i]
        old = cache.row(name, files[i].sha256)
        stat, row = _read_row(path, name, MAX_FILE_BYTES)
        payload = encode_row(row)
        if old is None or payload is None:
            return False
        new = orjson.loads(payload)  # compared as the cache keeps rows
        if new[0][2] != old[0][2] or new[1:] != old[1:]:  # (sha256, size, ok), records
            return False
        fresh.append((i, stat, row[0], payload))
    for i, stat, (sha256, size, ok), payload in fresh:
        files[i] = SourceFile(files[i].path, sha256, size, ok)
        # appended, not saved: rewriting the cache took 1.5 s at 100,000 files
        cache.append(files[i].path, sha256, stat, payload)
    return True
