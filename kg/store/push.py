"""Push a build to a SPARQL endpoint, replacing only the graphs that changed.

The remote side of :mod:`kg.store.sync`: the graphs of ``newskg.nq``, their
digests against those the endpoint was last sent (``push-state.json``), and
a :class:`~kg.store.sync.GraphDiff` saying what to replace and what to drop;
:class:`~kg.store.remote.RemoteStore` sends it.

>>> PushReport("http://127.0.0.1:7878/query").triples_per_second
0.0
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .base import PushError
from .remote import RemoteStore
from .sparql import sparql_term
from .sync import GraphDiff, StateError, graphs_of_file, read_state, write_state

__all__ = ["push", "PushReport", "STATE_FILE", "EXPORT_FILE"]

STATE_FILE = "push-state.json"
EXPORT_FILE = "newskg.nq"


@dataclass
class PushReport:
    """What a :func:`push` did."""

    endpoint: str
    method: str = ""
    graphs_total: int = 0
    graphs_replaced: int = 0
    graphs_dropped: int = 0
    graphs_unchanged: int = 0
    triples_sent: int = 0
    bytes_sent: int = 0
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    @property
    def triples_per_second(self) -> float:
        return self.triples_sent / self.seconds if self.seconds else 0.0


def push(source: str | os.PathLike[str], store: RemoteStore, *, full: bool = False,
         state_path: str | os.PathLike[str] | None = None, check_union: bool = True,
         progress: Callable[[int, int], None] | None = None) -> PushReport:
    """Send an export to an endpoint, replacing only the graphs that changed.

    ``source`` is an export folder (holding ``newskg.nq``) or an N-Quads
    file.  The digests of what each endpoint holds are kept in
    ``push-state.json`` beside it (saved after every batch, so an interrupted
    push resumes where it stopped).  ``full`` ignores that state and
    replaces every graph.  After sending, one ASK of the default graph checks
    that the server answers it as the union of the named graphs; if not, a
    warning is added to the report.

    ``push("exports", RemoteStore("http://127.0.0.1:7878/query"))`` is what
    ``kg push exports --endpoint http://127.0.0.1:7878/query`` does.
    """
    started = time.perf_counter()
    src = Path(source)
    nq = src / EXPORT_FILE if src.is_dir() else src
    if not nq.is_file():
        raise PushError(f"{nq} not found: run `kg build` first")
    spath = Path(state_path) if state_path else nq.parent / STATE_FILE
    try:
        targets = read_state(spath)
    except StateError as exc:
        raise PushError(f"{exc}; delete it to push everything") from None

    # The state is keyed by the write target; work it out without a request
    # when nothing could need sending.
    key = store.graph_store_url if store.method in ("quads", "put") else None
    if key is None:
        candidates = [k for k in (store.graph_store_url, store.update_url) if k in targets]
        key = candidates[0] if candidates and not full else None
    pushed: dict[str, str] = {} if full or key is None else dict(
        targets.get(key, {}).get("graphs", {}))
    diff = GraphDiff(pushed)
    graphs: dict[str, list[bytes]] = {}
    changed: list[str] = []
    for g, lines in graphs_of_file(nq):
        if diff.add(g, b"".join(lines)):
            changed.append(g)
        graphs[g] = sorted(set(lines))
    gone = diff.gone
    report = PushReport(endpoint=store.url, graphs_total=len(graphs))
    req0, bytes0, retry0 = store.http.requests, store.http.bytes_sent, store.http.retried
    report.graphs_unchanged = len(graphs) - len(changed)
    if not changed and not gone:
        report.seconds = time.perf_counter() - started
        return report

    report.method = store.load_method()
    entry: dict[str, Any] = targets.setdefault(store.write_key, {})
    entry["graphs"] = pushed
    entry["query"] = store.url
    last_save = [time.monotonic()]

    def save(force: bool = False) -> None:
        # Saving every digest after every batch would dominate a big push; the
        # state may lag a few seconds since re-sending a batch is harmless.
        if force or time.monotonic() - last_save[0] > 2.0:
            write_state(spath, targets)
            last_save[0] = time.monotonic()

    if gone:
        store.drop_graphs(gone)
        for g in gone:
            pushed.pop(g, None)
        report.graphs_dropped = len(gone)
        save(force=True)

    done = [0]

    def on_batch(batch: list[str]) -> None:
        for g in batch:
            pushed[g] = diff.digests[g]
            report.triples_sent += len(graphs[g])
        done[0] += len(batch)
        if progress:
            progress(done[0], len(changed))
        save()

    store.replace_graphs({g: graphs[g] for g in changed}, on_batch=on_batch)
    report.graphs_replaced = len(changed)
    save(force=True)
    if check_union and changed:
        report.warnings += _check_union(store, graphs[changed[0]][0])
    report.requests = store.http.requests - req0
    report.bytes_sent = store.http.bytes_sent - bytes0
    report.retries = store.http.retried - retry0
    report.seconds = time.perf_counter() - started
    return report


def _check_union(store: RemoteStore, line: bytes) -> list[str]:
    """A pushed triple must be in the default graph once: not zero times (the
    server does not see the union) nor once per graph (a bag union)."""
    q = next(iter(ox.parse(line, ox.RdfFormat.N_QUADS)))
    pattern = f"{sparql_term(q.subject)} {sparql_term(q.predicate)} {sparql_term(q.object)}"
    n = store.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {pattern} }}").rows[0][0]
    if n == 1:
        return []
    if n == 0:
        return [f"{store.url}: a query of the default graph does not find the triples just "
                "pushed; newskg's queries will find nothing there (see the README's "
                "'Scaling out' for this server's setting)"]
    return [f"{store.url}: the default graph holds a pushed triple {n} times, so counts will be "
            "inflated: the server unions the named graphs into the default graph as a bag "
            "(Oxigraph --union-default-graph, Fuseki unionDefaultGraph). Run it without; newskg "
            "keeps the set union in the default graph itself (or pass union_graph=UNION_GRAPH)."]
