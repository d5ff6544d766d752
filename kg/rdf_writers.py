"""The RDF export files: N-Quads (every named graph), Turtle and JSON-LD
(their union), written in the syntaxes of :mod:`kg.rdf_syntax` from the walk
of :mod:`kg.rdf_walk`, each atomically and deterministically
(:func:`write_rdf`), in blocks that a later build copies where their inputs
did not change.

>>> import kg, tempfile
>>> from kg.graph import build_graph
>>> write_rdf(build_graph(kg.load("seeds")), tempfile.mkdtemp())["graphs"]
3
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import networkx as nx
import orjson

from ._perf import gc_paused
from .blocks import BlockWriter, PreviousBlocks, Written, content_digest, runs
from .rdf_syntax import (
    TURTLE_PROLOGUE,
    jsonld_context,
    jsonld_subjects,
    nquads_by_graph,
    turtle_subjects,
)
from .rdf_walk import Inputs, Subject, graph_inputs, graph_parts, member_iri, subjects
from .vocab import block_graph, iri

__all__ = ["write_rdf", "RdfWriter", "iter_quads", "nquads_of_graph", "NQUADS", "TURTLE", "JSONLD"]

NQUADS = "newskg.nq"
TURTLE = "newskg.ttl"
JSONLD = "newskg.jsonld"

def _encoded(chunks: list[str]) -> bytes:
    return "".join(chunks).encode()


def iter_quads(graph: nx.MultiDiGraph) -> Iterator[str]:
    """N-Quads text of the whole graph, in chunks, grouped by named graph.

    Named graphs come in IRI order; within one, subjects in node-id order.

    >>> import kg
    >>> from kg.graph import build_graph
    >>> text = "".join(iter_quads(build_graph(kg.load("seeds"))))
    >>> text.count(" .\\n") == text.count("\\n")
    True
    """
    for _, chunks in nquads_by_graph(list(subjects(graph))):
        yield from chunks


@gc_paused()  # a walk of the whole graph, as in write_rdf
def nquads_of_graph(graph: nx.MultiDiGraph, graph_iri: str) -> str:
    """The N-Quads of one named graph (e.g. one source file), for
    :meth:`kg.store.Store.replace_graph`.

    >>> import kg
    >>> from kg.vocab import COMPUTED_GRAPH
    >>> from kg.graph import build_graph
    >>> text = nquads_of_graph(build_graph(kg.load("seeds")), COMPUTED_GRAPH)
    >>> all(line.endswith(f" <{COMPUTED_GRAPH}> .") for line in text.splitlines())
    True
    """
    mentioning = [s for s in subjects(graph) if graph_iri in graph_parts(s)]
    return "".join(chunk for key, chunks in nquads_by_graph(mentioning)
                   if block_graph(key)[0] == graph_iri for chunk in chunks)


class RdfWriter:
    """The RDF files of one graph, written one by one.

    The graph is walked once; each ``write_*`` method then writes one file,
    atomically and deterministically.  :func:`write_rdf` writes all three;
    ``kg build`` (:func:`kg.rdf_export.export_rdf`) also hands the N-Quads and
    the Turtle to the store as they are written.  The caller pauses the
    cyclic collector around the whole stage (:func:`kg._perf.gc_paused`), as
    those two do: the walk and each writer allocate a great many objects.

    >>> import kg, tempfile, pathlib
    >>> from kg.graph import build_graph
    >>> w = RdfWriter(build_graph(kg.load("seeds")))
    >>> written = w.write_nquads(pathlib.Path(tempfile.mkdtemp()) / NQUADS)
    >>> written.lines, len({block_graph(b.key)[0] for b in written.blocks})  # quads, graphs
    (155, 3)
    """

    def __init__(self, graph: nx.MultiDiGraph, index_dir: str | os.PathLike | None = None,
                 fingerprint: str = "", inputs: Inputs | None = None) -> None:
        self.graph = graph
        #: Where each file's block index is kept (``None``: every block rendered, no index).
        self.index_dir = Path(index_dir) if index_dir is not None else None
        #: The code that wrote an index (an index of other code is not trusted).
        self.fingerprint = fingerprint
        self._subjects: list[Subject] | None = None
        self._inputs = inputs  # (made on first use if not given)
        # The subjects of the last partial walk: the Turtle and the JSON-LD
        # change in the same runs, so the second file reuses the first's.
        self._part: tuple[list[str], list[Subject]] | None = None

    @property
    def subjects(self) -> list[Subject]:
        """Every subject of the export (the whole walk, made on first use)."""
        if self._subjects is None:
            self._subjects = list(subjects(self.graph))
        return self._subjects

    @property
    def inputs(self) -> Inputs:
        """What each block is made of (:func:`kg.rdf_walk.graph_inputs`, made on first use)."""
        if self._inputs is None:
            self._inputs = graph_inputs(self.graph)
        return self._inputs

    def release(self) -> None:
        """Let go of the walk and the inputs (a new walk is made if a file is written after)."""
        self._subjects = self._inputs = self._part = None

    def _index(self, path: str | os.PathLike) -> Path | None:
        return self.index_dir / f"{Path(path).name}.blocks" if self.index_dir is not None else None

    def _blocks(self, path: str | os.PathLike) -> BlockWriter:
        return BlockWriter(path, self._index(path), self.fingerprint)

    def previous(self, path: str | os.PathLike) -> PreviousBlocks:
        """The blocks of the file at ``path`` as the last build wrote them,
        still readable once the ``write_*`` methods replace it."""
        return PreviousBlocks(path, self._index(path), self.fingerprint)

    def _walk(self, keys: list[str], total: int) -> list[Subject]:
        """The subjects of member ``keys``: the whole walk if that is all of them."""
        if len(keys) == total:
            return self.subjects
        if self._part is None or self._part[0] != keys:
            self._part = (keys, list(subjects(self.graph, keys)))
        return self._part[1]

    def write_nquads(self, path: str | os.PathLike,
                     each_graph: Callable[[str, str, bytes | None], None] | None = None) -> Written:
        """Stream every named graph to ``path``, one block per graph; returns
        what was written (``lines``: the quads; ``blocks``: the graphs).

        With an ``index_dir`` (indexes kept for the next build, :mod:`kg.blocks`), a
        graph whose inputs (:func:`kg.rdf_walk.graph_inputs`) are unchanged
        since the previous ``path`` was written is copied from it, and only
        the subjects of the other graphs are walked.  When the inputs were
        made from the previous ones (``since``), the members of a changed part
        of a large graph whose nodes did not change keep their lines too
        (``copied_members``): one article that joins a story does not make
        its part of the stories' graph described again.
        ``each_graph(graph_iri, content_digest, nquads)`` is called for every
        graph in order, ``nquads`` being ``None`` for a copied one.
        """
        out = self._blocks(path)
        if out.index_path is None:
            blocks: Iterable[tuple[str, str, Callable[[], bytes]]] = (
                (g, "", functools.partial(_encoded, chunks))
                for g, chunks in nquads_by_graph(self.subjects))
            return out.write(blocks, each=each_graph)
        graphs = self.inputs.graphs
        dirty = [g for g, (digest, _) in graphs.items() if not out.unchanged(g, digest)]
        kept = self._kept_members(out, dirty)
        walked = (self.subjects if len(dirty) == len(graphs) and not kept
                  else list(subjects(self.graph, {k for g in dirty for k in graphs[g][1]
                                                  if k not in kept.get(g, ())})))
        made = nquads_by_graph(walked, set(dirty), kept.keys())
        copied = 0

        def rendered() -> Iterator[tuple[str, bytes]]:
            nonlocal copied
            pending = next(made, None)
            for g in dirty:
                chunks: list = []  # (none when every member of the block is kept)
                if pending is not None and pending[0] == g:
                    chunks, pending = pending[1], next(made, None)
                if g not in kept:
                    yield g, _encoded(chunks)
                    continue
                old, fresh = kept[g], dict(chunks)
                copied += len(old)
                yield g, b"".join(old[m] if m in old else fresh[member_iri(m)].encode()
                                  for m in graphs[g][1])

        render = _in_step(rendered())
        written = out.write(((g, digest, functools.partial(render, g))
                             for g, (digest, _) in graphs.items()), each=each_graph)
        written.copied_members = copied
        return written

    def _kept_members(self, out: BlockWriter, dirty: list[str]) -> dict[str, dict[str, bytes]]:
        """For the changed parts of large graphs (:data:`kg.vocab.PARTED_GRAPHS`):
        the lines, in the file ``out`` replaces, of each member whose node
        is unchanged since, by member key.  Only when these inputs were made
        from the ones that part was written from (so a member of the same
        digest has the same lines), and its bytes are as written."""
        inputs = self.inputs
        changed = inputs.changed
        if changed is None or not out.old:
            return {}
        kept: dict[str, dict[str, bytes]] = {}
        try:
            fd = os.open(out.path, os.O_RDONLY)
        except OSError:
            return {}
        try:
            for g in dirty:
                prev = out.old.get(g)
                if (prev is None or block_graph(g)[1] is None
                        or inputs.before.get(g) != prev.digest):
                    continue
                data = os.pread(fd, prev.length, prev.offset)
                lines = _by_subject(data) if content_digest(data) == prev.content else None
                if lines is None:
                    continue
                members = {m: text for m in inputs.graphs[g][1]
                           if m[0] != "\0" and m not in changed
                           and (text := lines.get(iri(m))) is not None}
                if members:
                    kept[g] = members
        finally:
            os.close(fd)
        return kept

    def _write_subjects(self, path: str | os.PathLike, head: bytes, sep: bytes, tail: bytes,
                        blocks: Callable[[list[Subject]], Iterator[bytes]],
                        each: Callable[[str, str, bytes | None], None] | None = None) -> Written:
        """``head``, the subjects (``sep`` between two) in blocks of a run of
        subjects each (:func:`kg.blocks.runs`; copied when none of its nodes
        changed), ``tail``; with ``each``, every block is rendered."""
        out = self._blocks(path)
        if each is not None:
            out.old = {}  # the caller wants every block's bytes
        keyed = (self.inputs.subjects if out.index_path is not None
                 else dict.fromkeys(map(str, range(len(self.subjects))), ""))
        first = next(iter(keyed), None)  # the only subject without a separator
        keyed_runs = []
        for run in runs(keyed):
            made = "\n".join(f"{k}\0{keyed[k]}" for k in run)
            keyed_runs.append((run, _digest(f"{run[0] == first}\n{made}".encode())))
        dirty = [run for run, digest in keyed_runs if not out.unchanged(run[-1], digest)]
        raw = blocks(self._walk([k for run in dirty for k in run], len(keyed)))

        def rendered() -> Iterator[tuple[str, bytes]]:
            for run in dirty:
                yield run[-1], b"".join(data if k == first else sep + data
                                        for k, data in zip(run, itertools.islice(raw, len(run))))

        render = _in_step(rendered())
        body = ((run[-1], digest, functools.partial(render, run[-1])) for run, digest in keyed_runs)
        return out.write(itertools.chain(
            [(_HEAD, _digest(head), lambda: head)], body, [(_TAIL, _digest(tail), lambda: tail)]),
            each=each)

    def write_turtle(self, path: str | os.PathLike,
                     each_subject: Callable[[str], None] | None = None) -> Written:
        """The union of the named graphs as Turtle, in blocks of runs of subjects
        (with an ``index_dir``, the blocks of unchanged nodes copied from the
        previous ``path``; see :meth:`write_nquads`).

        ``each_subject(turtle_text)`` is called with every block (the
        Turtle of a run of subjects) as it is written (then every block is
        rendered); each block is valid Turtle after :data:`TURTLE_PROLOGUE`.
        """
        def blocks(walked: list[Subject]) -> Iterator[bytes]:
            return (b.encode() for b in turtle_subjects(walked))

        def each(key: str, digest: str, data: bytes | None) -> None:
            if key not in (_HEAD, _TAIL):
                assert data is not None and each_subject is not None
                each_subject(data.decode())

        return self._write_subjects(path, TURTLE_PROLOGUE.encode(), b"", b"", blocks,
                                    each if each_subject is not None else None)

    def write_jsonld(self, path: str | os.PathLike) -> Written:
        """The union of the named graphs as JSON-LD (``ontology/context.jsonld``),
        in blocks of runs of subjects (with an ``index_dir``, see :meth:`write_turtle`)."""
        context = jsonld_context()
        head = b'{"@context": ' + orjson.dumps(context) + b',\n"@graph": [\n'
        return self._write_subjects(path, head, b",\n", b"\n]}\n",
                                    lambda walked: jsonld_subjects(walked, context))


def _by_subject(nquads: bytes) -> dict[str, bytes] | None:
    r"""The lines of each subject of ``nquads`` (those of one subject follow one
    another, as :func:`nquads_by_graph` writes them: ``None`` if not).

    >>> _by_subject(b"<a> <p> <o> <g> .\n<a> <q> <o> <g> .\n<b> <p> <o> <g> .\n")["a"]
    b'<a> <p> <o> <g> .\n<a> <q> <o> <g> .\n'
    >>> _by_subject(b"<a> <p> <o> <g> .\n<b> <p> <o> <g> .\n<a> <q> <o> <g> .\n") is None
    True
    """
    out: dict[str, bytes] = {}
    for subject, lines in itertools.groupby(nquads.splitlines(keepends=True),
                                            key=lambda line: line[1:line.index(b">")]):
        key = subject.decode()
        if key in out:
            return None
        out[key] = b"".join(lines)
    return out


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def _in_step(blocks: Iterable[tuple[str, bytes]]) -> Callable[[str], bytes]:
    """``render(key)`` giving the next of ``blocks``, which come in the
    order the writer asks for them."""
    it = iter(blocks)

    def render(key: str) -> bytes:
        got, data = next(it)
        assert got == key, (got, key)
        return data

    return render


#: Keys of the head and tail blocks (no subject key starts with a space).
_HEAD, _TAIL = " head", " tail"


# The walk allocates a great many acyclic objects and frees them by reference
# count: collections during it would rescan the whole graph and free nothing.
# Paused once around the whole entry point (kg.rdf_export.export_rdf does the same).
@gc_paused()
def write_rdf(graph: nx.MultiDiGraph, out_dir: str | os.PathLike) -> dict:
    """Write ``newskg.nq``, ``newskg.ttl`` and ``newskg.jsonld`` into ``out_dir``.

    N-Quads hold every named graph; Turtle and JSON-LD hold the union (for
    reading).  Each file is written atomically; the same graph gives
    byte-identical files.  Returns the paths (``nquads``, ``turtle``,
    ``jsonld``) and counts (``quads``, ``graphs``).

    >>> import kg, tempfile
    >>> from kg.graph import build_graph
    >>> info = write_rdf(build_graph(kg.load("seeds")), tempfile.mkdtemp())
    >>> info["nquads"].name, info["graphs"]
    ('newskg.nq', 3)
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    writer = RdfWriter(graph)
    written = writer.write_nquads(out / NQUADS)
    writer.write_turtle(out / TURTLE)
    writer.write_jsonld(out / JSONLD)
    return {"nquads": out / NQUADS, "turtle": out / TURTLE, "jsonld": out / JSONLD,
            "quads": written.lines, "graphs": len({block_graph(b.key)[0] for b in written.blocks})}
