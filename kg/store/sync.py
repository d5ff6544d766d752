"""The one diff that keeps any store in step with a build.

A build's RDF is one named graph per source file (and one computed graph).
A store is in step with a build when it holds exactly those graphs; to get
there after the build changes, only the graphs whose N-Quads changed are
replaced and those that disappeared are dropped.  This module says what
changed; each backend applies it its own way:

* the embedded store, in place after a build (:class:`kg.store.StoreUpdate`,
  fed graph by graph by the RDF writer), or rebuilt when too much changed;
* a remote endpoint, by :func:`kg.store.push` of ``newskg.nq``.

Both use the same three things: :func:`graph_digest` of a graph's N-Quads
text, a state file of the digests each target holds (:func:`read_state`,
:func:`write_state`; ``.cache/store-graphs.json`` for the embedded store,
``push-state.json`` for endpoints), and :class:`GraphDiff`.

>>> diff = GraphDiff({"urn:a": graph_digest("<urn:s> <urn:p> <urn:o> <urn:a> .\\n"), "urn:b": "0"})
>>> diff.add("urn:a", "<urn:s> <urn:p> <urn:o> <urn:a> .\\n"), diff.add("urn:c", "")
(False, True)
>>> diff.gone
['urn:b']
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import orjson

from .._util import atomic_writer
from .base import PushError, StoreError

__all__ = ["graph_digest", "GraphDiff", "read_state", "write_state", "state_path",
           "read_graphs", "graphs_of_file", "StateError", "STATE_VERSION"]

STATE_VERSION = 2


class StateError(StoreError):
    """A state file that cannot be read (damaged, or of an unknown version)."""


def graph_digest(nquads: str | bytes) -> str:
    """Content hash of one named graph's N-Quads text, as ``kg build`` writes it.

    The RDF writer hands each graph's text to the build as it writes it,
    and ``newskg.nq`` holds the same text graph after graph, so a digest of
    either is the same (:func:`graphs_of_file`).

    >>> graph_digest("<urn:s> <urn:p> <urn:o> <urn:g> .\\n") == graph_digest(b"<urn:s> <urn:p> <urn:o> <urn:g> .\\n")
    True
    """
    # SHA-256 (its first 128 bits): in hardware on current x86 and ARM,
    # faster than BLAKE2b there (benchmarks/README.md, "Stores").
    data = nquads.encode() if isinstance(nquads, str) else nquads
    return hashlib.sha256(data).hexdigest()[:32]


class GraphDiff:
    """Which graphs changed against ``old`` (graph IRI -> digest a target holds).

    :meth:`add` every graph of the build, in any order; then ``digests``
    holds the new digests and :attr:`gone` the graphs to drop.
    """

    def __init__(self, old: Mapping[str, str]) -> None:
        self.old = dict(old)
        self.digests: dict[str, str] = {}

    def add(self, graph_iri: str, nquads: str | bytes, digest: str | None = None) -> bool:
        """Record a graph of the build (its text, or its ``digest`` when
        known); whether the target must replace it."""
        digest = self.digests[graph_iri] = digest or graph_digest(nquads)
        return self.old.get(graph_iri) != digest

    @property
    def gone(self) -> list[str]:
        """The graphs the target holds that the build no longer has, sorted."""
        return sorted(g for g in self.old if g not in self.digests)


# -- state files --------------------------------------------------------------------
def state_path(store_dir: str | os.PathLike) -> Path:
    """Where the digests of the embedded store at ``store_dir`` are kept.

    >>> state_path("exports/store").as_posix()
    'exports/.cache/store-graphs.json'
    """
    store_dir = Path(store_dir)
    return store_dir.parent / ".cache" / f"{store_dir.name}-graphs.json"


def read_state(path: str | os.PathLike) -> dict[str, dict[str, Any]]:
    """The targets of a state file: ``{target: {"graphs": {IRI: digest}, ...}}``.

    No file: no targets.  Raises :class:`StateError` for a file that cannot
    be read.  A push state of version 1 (digests of another kind) still
    names the graphs each endpoint holds: they are all replaced once, and
    those gone since are dropped.
    """
    path = Path(path)
    try:
        state = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as exc:
        raise StateError(f"{path}: unreadable state ({exc})") from None
    version = state.get("version") if isinstance(state, dict) else None
    targets = (state.get("targets") if version == STATE_VERSION else
               state.get("endpoints", {}) if version == 1 else None)
    if not isinstance(targets, dict) or not all(
            isinstance(t, dict) and isinstance(t.get("graphs"), dict) for t in targets.values()):
        raise StateError(f"{path}: not a state file of version {STATE_VERSION}")
    return targets


def write_state(path: str | os.PathLike, targets: Mapping[str, Mapping[str, Any]]) -> None:
    """Write a state file atomically (see :func:`read_state`)."""
    with atomic_writer(path) as f:
        f.write(orjson.dumps({"version": STATE_VERSION, "targets": targets},
                             option=orjson.OPT_SORT_KEYS))


# -- graphs of an N-Quads file ----------------------------------------------------------
def _graph_of(line: bytes, lineno: int, path: Path) -> str:
    """The graph IRI of one N-Quads line (fast path for single-spaced lines)."""
    body = line.rstrip()
    if body.endswith(b"> ."):
        j = body.rfind(b" <")
        cand = body[j + 1:-2].rstrip()
        # A quoteless line is a quad iff it has four terms; a line with a
        # literal has the literal closed before the candidate (see tests).
        if (j > 0 and b" " not in cand and b'"' not in cand
                and (b'"' in body or body.count(b" ") == 4)):
            return cand[1:-1].decode()
    import pyoxigraph as ox

    try:
        quads = list(ox.parse(line, ox.RdfFormat.N_QUADS))
    except SyntaxError as exc:
        raise PushError(f"{path}:{lineno}: not N-Quads: {exc}") from None
    if not quads or not isinstance(quads[0].graph_name, ox.NamedNode):
        raise PushError(f"{path}:{lineno}: triple in the default graph; newskg pushes "
                        "named graphs only")
    return quads[0].graph_name.value


def graphs_of_file(path: str | os.PathLike) -> Iterator[tuple[str, list[bytes]]]:
    """(graph IRI, its lines in file order) for every graph of an N-Quads file,
    in IRI order.  For ``newskg.nq`` a graph's lines are the text the RDF
    writer handed to the build (a graph of :data:`kg.vocab.PARTED_GRAPHS`:
    its parts one after the other), so both have one :func:`graph_digest`.

    Blank and comment lines are skipped; every line ends with a newline.
    Raises :class:`PushError` for a line that is not a quad in a named graph.
    """
    path = Path(path)
    graphs: dict[str, list[bytes]] = {}
    with open(path, "rb") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip() or line.lstrip().startswith(b"#"):
                continue
            if not line.endswith(b"\n"):
                line += b"\n"
            g = _graph_of(line, lineno, path)
            lines = graphs.get(g)
            if lines is None:
                graphs[g] = [line]
            else:
                lines.append(line)
    for g in sorted(graphs):
        yield g, graphs.pop(g)


def read_graphs(path: str | os.PathLike) -> dict[str, list[bytes]]:
    """An N-Quads file as {graph IRI: sorted unique lines}, in graph order."""
    return {g: sorted(set(lines)) for g, lines in graphs_of_file(path)}
