"""The RDF part of ``kg build``: the N-Quads, Turtle and JSON-LD files and the
embedded store, written together so that the store loads (or is updated in
place) on the other core while the files are written (:func:`export_rdf`).

What each file holds is decided by the writers (:mod:`kg.rdf_writers`), how
the store loads and is updated by :mod:`kg.store`; this module decides what
overlaps with what, and :mod:`kg.pipeline` hands it the other exports to
run meanwhile.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

import networkx as nx
import pyoxigraph as ox

from ._perf import Forked, Shared, gc_paused, in_background
from .cache import build_fingerprint
from .rdf import JSONLD, NQUADS, TURTLE, TURTLE_PROLOGUE, RdfWriter, read_turtle_blocks
from .store import STORE_DIR, StoreBuilder, StoreUpdate

if TYPE_CHECKING:
    from .rdf_walk import Inputs

__all__ = ["export_rdf"]


@gc_paused()  # the walk allocates millions of acyclic objects
def export_rdf(graph: nx.MultiDiGraph, out_dir: str | os.PathLike, *,
               also: Sequence[tuple[Callable, tuple]] = (),
               lap: Callable[[str], None] | None = None,
               progress: Callable[[str, int, int], None] | None = None,
               graphs: int = 0, inputs: Inputs | None = None,
               keep: Callable[[Inputs], None] | None = None) -> dict:
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
    transaction), and a forked process writes the JSON-LD, the Turtle and
    the ``also`` calls, of which this one takes those left once the
    N-Quads and the store are done; otherwise a fresh store replaces it
    atomically.
    ``lap(stage)`` is called as the ``"rdf"`` (N-Quads), ``"exports"`` and
    ``"store"`` (what is left of loading, and compaction) stages end;
    ``progress`` is as in :func:`build`, ``graphs`` the number of named
    graphs expected (for its estimate of the time left), ``inputs`` the
    graph's :func:`kg.rdf_walk.graph_inputs` if the caller has them;
    ``keep(inputs)`` is called with them before the ``also`` calls.

    Returns the ``paths`` written, the number of ``quads``,
    ``store_graphs_replaced`` (``None`` when the store was rebuilt),
    ``nquads_graphs_rendered`` (the others were copied from the last build's) and
    ``warnings`` (a store, store state or N-Quads block index found damaged, and rebuilt).

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> info = export_rdf(build_graph(kg.load("seeds")), tempfile.mkdtemp())
    >>> [p.name for p in info["paths"]], info["store_graphs_replaced"]
    (['newskg.nq', 'newskg.ttl', 'newskg.jsonld', 'store'], None)
    """
    out = Path(out_dir)
    lap = lap or (lambda stage: None)
    report = progress or (lambda stage, done, total: None)
    written = 0
    replaced = None
    with ExitStack() as unfinished:  # an uncommitted store is deleted
        # Blocks the last build wrote from the same inputs are copied from its files.
        writer = RdfWriter(graph, index_dir=out / ".cache", fingerprint=build_fingerprint(),
                           inputs=inputs)
        del inputs  # (the writer lets go of them before the exports' peak)
        report("writing RDF", 0, graphs)

        def fresh_store() -> StoreBuilder:
            # trusted: newskg wrote this RDF, so Oxigraph need not re-validate it
            return unfinished.enter_context(StoreBuilder(out / STORE_DIR, trusted=True))

        last_nquads = unfinished.enter_context(writer.previous(out / NQUADS))  # to diff against
        update = StoreUpdate(out / STORE_DIR, previous=last_nquads.read)
        # With no store to update, a fresh one loads on the other core while the N-Quads
        # are written.  With one, the other core writes the other exports meanwhile.
        builder = None if update.old else fresh_store()
        others = None
        if update.old:
            graphs = len(writer.inputs.graphs)  # walked before the fork: the child inherits it
            # The child starts on these; this process takes what is left once the store is done.
            shared = Shared([(writer.write_jsonld, (out / JSONLD,)),
                             (writer.write_turtle, (out / TURTLE,)), *also,
                             *([(keep, (writer.inputs,))] if keep else [])])
            others = unfinished.enter_context(Forked(shared.run))

        pending: list[str] = []  # graphs copied from the last N-Quads that the store lacks

        def to_store(graph_iri: str, nquads: str, digest: str) -> None:
            update.add(graph_iri, nquads, digest)
            if builder is not None:
                builder.add(nquads)

        def each_graph(graph_iri: str, digest: str, nquads: bytes | None) -> None:
            nonlocal written
            if nquads is not None:
                to_store(graph_iri, nquads.decode(), digest)
            elif builder is None and update.old.get(graph_iri) == digest:
                update.add(graph_iri, "", digest)  # the store holds it already
            else:
                pending.append(graph_iri)
            written += 1
            if written % 1000 == 0:
                report("writing RDF", written, max(graphs, written + 1))

        nq = writer.write_nquads(out / NQUADS, each_graph=each_graph)
        if pending:
            index = {b.key: b for b in nq.blocks}
            with open(out / NQUADS, "rb") as f:
                for g in pending:
                    f.seek(index[g].offset)
                    to_store(g, f.read(index[g].length).decode(), index[g].content)
        quads, walked = nq.lines, writer.inputs.walked
        report("writing RDF", written, written)
        lap("rdf")
        if update.worthwhile:  # a few files changed: replace their graphs
            report("updating the store", 0, 0)
            replaced = update.apply()  # None: the store is damaged, and rebuilt
        if replaced is None and builder is None:
            builder = fresh_store()
            builder.add_file(out / NQUADS)
        report("writing exports", 0, 0)
        if others is not None:
            shared.run()
            writer.release()
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
            assert builder is not None  # made before the N-Quads, as there was no store to update

            def each_subject(turtle: str) -> None:  # the union: the store's default graph
                builder.add(turtle, format=ox.RdfFormat.TURTLE, prologue=TURTLE_PROLOGUE,
                            union=True)

            writer.write_turtle(out / TURTLE, each_subject=each_subject)
            # The store loads and compacts outside the GIL while this writes the others.
            with in_background(builder.commit, update.digests, name="kg-store-commit") as committed:
                # (the walk let go of before the others, which read the graph)
                calls: list[tuple[Callable, tuple]] = [
                    *([(keep, (writer.inputs,))] if keep else []),
                    (writer.write_jsonld, (out / JSONLD,)), (writer.release, ()), *also]
                for fn, args in calls:
                    fn(*args)
                lap("exports")
                report("loading and compacting the store", 0, 0)
                committed.result()
        lap("store")
    return {"paths": [out / NQUADS, out / TURTLE, out / JSONLD, out / STORE_DIR],
            "quads": quads, "store_graphs_replaced": replaced, "nquads_graphs_rendered": nq.rendered,
            "rdf_nodes_walked": walked,
            "warnings": nq.warnings + update.warnings}
