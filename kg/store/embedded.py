"""The embedded backend: Oxigraph on disk (pyoxigraph), no server.

:class:`EmbeddedStore` answers queries against the union of the per-file
named graphs, which it keeps materialised in its default graph.
:class:`StoreBuilder` fills a fresh store in the background while a build
writes its RDF, and swaps it in atomically; :class:`StoreUpdate` instead
replaces in place the few graphs that changed since the last build (what
changed is :mod:`kg.store.sync`'s to say).

>>> import kg, tempfile
>>> from pathlib import Path
>>> out = Path(tempfile.mkdtemp())
>>> from kg.graph import build_graph
>>> from kg.rdf import write_rdf
>>> files = write_rdf(build_graph(kg.load("seeds")), out)
>>> build_store(files["nquads"], out / "store")
PosixPath('...store')
>>> with EmbeddedStore(find_store(out), read_only=True) as store:
...     store.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle }").rows
[(8,)]
"""

from __future__ import annotations

import ctypes
import os
import re
import shutil
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path

import pyoxigraph as ox

from ..vocab import BASE, PARTED_GRAPHS, PREFIXES, block_graph, graph_block
from .base import QueryResult, QuerySyntaxError, StoreError, StoreNotFoundError, parse_graph, to_term
from .sparql import FILL_UNION
from .sync import GraphDiff, StateError, read_state, state_path, write_state

__all__ = ["EmbeddedStore", "StoreBuilder", "StoreUpdate", "build_store", "find_store",
           "DEFAULT_STORE", "STORE_DIR"]

DEFAULT_STORE = Path("exports") / "store"
STORE_DIR = "store"

# -- the embedded backend -------------------------------------------------------------
_POSITION = re.compile(r"error at (\d+):(\d+)")


def _syntax_error(e: SyntaxError) -> QuerySyntaxError:
    msg = str(e)
    m = _POSITION.match(msg)
    if m:  # pyoxigraph says "error at LINE:COLUMN: what was expected"
        line, col = int(m.group(1)), int(m.group(2))
        return QuerySyntaxError(f"malformed SPARQL query at line {line}, column {col}: "
                                f"{msg[m.end():].lstrip(': ')}", line, col)
    return QuerySyntaxError(f"malformed SPARQL query: {msg}")


class EmbeddedStore:
    """An on-disk (or in-memory, ``path=None``) Oxigraph store.

    Read-only stores can be opened by many processes at once; a writable one
    by one process.  ``query`` answers against the union of the named graphs.

    The union is materialised: the store's default graph holds each triple of
    the named graphs once, and every method here keeps it in step.  We do not
    use pyoxigraph's ``use_default_graph_as_union`` because up to 0.5 it
    yields a triple once *per named graph* that holds it (oxigraph issue
    #1919), so shared providers and topics would be counted several times.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, read_only: bool = False):
        self.path = Path(path) if path is not None else None
        self.read_only = read_only
        if read_only and self.path is not None and not (self.path / "CURRENT").exists():
            raise StoreNotFoundError(f"no store at {self.path}: run `kg build` first")
        try:
            if self.path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(self.path))
            else:
                self._store = ox.Store(str(self.path))
        except OSError as e:
            raise StoreError(f"cannot open the store at {self.path}: {e}") from e

    # context manager / lifecycle
    def __enter__(self) -> EmbeddedStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Flush and release the store (pyoxigraph closes it when collected)."""
        store = self.__dict__.pop("_store", None)
        if store is not None and not self.read_only:
            store.flush()
        del store  # the last reference: Oxigraph releases its files now

    @property
    def oxigraph(self) -> ox.Store:
        """The underlying ``pyoxigraph.Store``."""
        try:
            return self._store
        except AttributeError:
            raise StoreError("the store is closed") from None

    def query(self, sparql: str, *, bindings: Mapping[str, object] | None = None) -> QueryResult:
        """Run a SPARQL query against the union of the named graphs.

        The prefixes in :data:`PREFIXES` need no declaration, and relative
        IRIs resolve against :data:`BASE` (``<article/…>``, as in the Turtle
        export).
        """
        subs = {ox.Variable(k): to_term(v) for k, v in (bindings or {}).items()}
        try:
            result = self.oxigraph.query(sparql, base_iri=BASE, prefixes=PREFIXES,
                                         substitutions=subs or None)
        except SyntaxError as e:
            raise _syntax_error(e) from None
        except RuntimeError as e:  # e.g. a binding for a variable the query does not project
            raise StoreError(f"cannot run the query: {e}") from None
        return QueryResult.from_oxigraph(result)

    def load(self, nquads_path: str | os.PathLike, *, union: str | os.PathLike | None = None,
             trusted: bool = False) -> None:
        """Bulk-load an N-Quads file (fast; not transactional).

        ``union``: optionally, a Turtle/N-Triples file that holds exactly the
        union of those quads' triples (such as ``newskg.ttl``), loaded as the
        default graph; faster than computing the union in the store.
        ``trusted=True`` skips Oxigraph's IRI and literal validation (faster
        parsing): only for files that newskg itself wrote.
        """
        try:
            self.oxigraph.bulk_load(path=str(nquads_path), format=ox.RdfFormat.N_QUADS,
                                    lenient=trusted)
            if union is not None:
                self.oxigraph.bulk_load(path=str(union), format=ox.RdfFormat.from_extension(
                    Path(union).suffix.lstrip(".")) or ox.RdfFormat.TURTLE, lenient=trusted)
            else:
                self.oxigraph.update(FILL_UNION)
        except SyntaxError as e:
            raise StoreError(f"invalid RDF in {nquads_path}: {e}") from e

    def replace_graph(self, graph_iri: str, nquads: bytes | str) -> None:
        """Replace one named graph by the given triples in one transaction."""
        self.update_graphs({graph_iri: nquads})

    def drop_graph(self, graph_iri: str) -> None:
        self.update_graphs({}, drop=[graph_iri])

    def update_graphs(self, replace: Mapping[str, bytes | str], drop: Iterable[str] = (),
                      previous: Mapping[str, bytes | str] | None = None) -> None:
        """Replace some named graphs and drop others, all in one transaction.

        ``replace`` maps block keys (graph IRIs, or parts of one,
        :func:`kg.vocab.graph_block`) to their new N-Quads (or N-Triples);
        the union in the default graph is kept in step.  This is how ``kg
        build`` updates the store when only a few files changed.  Only the
        triples that differ are written: a large graph with a small change
        (the stories') costs its change, not its size.  ``previous`` gives
        the N-Quads the store holds for some of these blocks, as written (then
        the change is the lines that differ; otherwise the block is read back).

        >>> import tempfile
        >>> with EmbeddedStore(tempfile.mkdtemp()) as store:
        ...     store.update_graphs({"urn:g": "<urn:s> <urn:p> <urn:1> .\\n<urn:s> <urn:p> <urn:2> .\\n",
        ...                          "urn:h": "<urn:s> <urn:p> <urn:2> .\\n"})
        ...     store.update_graphs({"urn:g": "<urn:s> <urn:p> <urn:3> .\\n"}, drop=["urn:h"])
        ...     sorted(r[0] for r in store.query("SELECT ?o { ?s ?p ?o }").rows)
        ['urn:3']
        """
        previous = previous or {}
        self._read: dict[str, dict[str, set[str]]] = {}  # graphs read back, by block
        # graph IRI -> the triples it loses and gains (a subject's triples in a
        # graph sit in one of its blocks, so blocks of one graph never overlap)
        lose: dict[str, set[str]] = defaultdict(set)
        gain: dict[str, set[str]] = defaultdict(set)
        whole: set[str] = set()  # graphs dropped whole
        for key in drop:
            graph_iri, part = block_graph(key)
            lose[graph_iri] |= self._triples(key, previous.get(key))
            if part is None:
                whole.add(graph_iri)
        for key, nquads in replace.items():
            graph_iri, _ = block_graph(key)
            was = previous.get(key)
            if was is not None:  # our own text on both sides: its lines are its triples
                old_lines, new_lines = set(_lines(was)), set(_lines(nquads))
                old = self._triples(key, b"\n".join([*(old_lines - new_lines), b""]))
                new = self._triples(key, b"\n".join([*(new_lines - old_lines), b""]))
            else:
                old, new = self._triples(key), self._triples(key, nquads)
            lose[graph_iri] |= old
            gain[graph_iri] |= new
        deletes: list[str] = []
        inserts: list[str] = []
        losing: dict[str, list[str]] = defaultdict(list)  # triple -> the graphs it leaves
        added_somewhere: set[str] = set()
        dropped: set[str] = set()  # graphs dropped whole: whatever they held goes
        for graph_iri in sorted(lose.keys() | gain.keys()):
            gone, added = lose[graph_iri] - gain[graph_iri], gain[graph_iri] - lose[graph_iri]
            g = ox.NamedNode(graph_iri)
            for t in gone:
                losing[t].append(graph_iri)
            added_somewhere |= added
            if graph_iri in whole and not added:
                deletes.append(f"DROP SILENT GRAPH {g}")
                dropped.add(graph_iri)
            elif gone:
                body = " .\n".join(sorted(gone))
                deletes.append(f"DELETE DATA {{ GRAPH {g} {{\n{body}\n}} }}")
            if added:
                body = " .\n".join(sorted(added))
                inserts += [f"INSERT DATA {{ GRAPH {g} {{\n{body}\n}} }}", f"INSERT DATA {{\n{body}\n}}"]
        # Out of the union too, unless another graph still holds it.  Which
        # do is asked before the update, not in it: a query inside the update
        # reads through every change before it, and slows the rest of it.
        candidates = sorted(losing.keys() - added_somewhere)
        if candidates:
            held: dict[str, set[str]] = defaultdict(set)
            rows = "\n".join(f"({t})" for t in candidates)
            found = self.oxigraph.query(f"SELECT ?s ?p ?o ?h WHERE {{ VALUES (?s ?p ?o) {{\n{rows}\n}} "
                                        "GRAPH ?h { ?s ?p ?o } }")
            assert isinstance(found, ox.QuerySolutions)
            for q in found:
                held[f"{q['s']} {q['p']} {q['o']}"].add(q["h"].value)
            unheld = [t for t in candidates if (held[t] - dropped).issubset(losing[t])]
            if unheld:
                body = " .\n".join(unheld)
                deletes.append(f"DELETE DATA {{\n{body}\n}}")
        if deletes or inserts:
            # One SPARQL update is one transaction: readers see the old graphs
            # or the new ones, never a mix.
            self.oxigraph.update(" ;\n".join(deletes + inserts))

    def _triples(self, key: str, nquads: bytes | str | None = None) -> set[str]:
        """The triples of some N-Quads text for one block (``None``: of the
        block in the store), as SPARQL terms."""
        graph_iri, part = block_graph(key)
        if nquads is not None:
            return {f"{q.subject} {q.predicate} {q.object}" for q in parse_graph(graph_iri, nquads)}
        blocks = self._read.get(graph_iri)
        if blocks is None:  # the graph read once, split by block
            blocks = self._read[graph_iri] = defaultdict(set)
            for q in self.oxigraph.quads_for_pattern(None, None, None, ox.NamedNode(graph_iri)):
                triple = f"{q.subject} {q.predicate} {q.object}"
                blocks[graph_iri].add(triple)
                if graph_iri in PARTED_GRAPHS:
                    blocks[graph_block(graph_iri, str(q.subject)[1:-1])].add(triple)
        return blocks.get(key, set())

    def graph_counts(self) -> dict[str, int]:
        """Triples per named graph, sorted by graph IRI."""
        r = self.query("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                       "GROUP BY ?g ORDER BY ?g")
        return {g: n for g, n in r.rows}

    def __len__(self) -> int:
        """Number of quads, named graphs and the union together."""
        return len(self.oxigraph)


class StoreBuilder:
    """A fresh embedded store, filled in the background and swapped in atomically.

    Bulk loads run in ``threads`` background threads, outside Python's
    global lock, so the caller goes on producing RDF while the parts it
    already handed over load: ``kg build`` streams its N-Quads and its
    Turtle here block by block as it writes them.  Text is gathered into
    chunks of about ``chunk_bytes``; at most two chunks per thread wait in
    memory, then :meth:`add` blocks until a load finishes, where Oxigraph's
    own loading of a whole file would hold all of it at once.

    The store is built in a temporary folder beside ``store_dir``;
    :meth:`commit` waits for every load, compacts the store for queries and
    renames it into place.  Leaving the ``with`` block without committing
    (an exception, say) deletes it: a crash mid-build leaves the previous
    store (or none), never a half-loaded one.

    Unless some text or file was added with ``union=True``, :meth:`commit`
    computes the union of the named graphs into the default graph.

    >>> import tempfile, pathlib
    >>> where = pathlib.Path(tempfile.mkdtemp()) / "store"
    >>> with StoreBuilder(where) as builder:
    ...     builder.add("<urn:s> <urn:p> <urn:o> <urn:g> .\\n")
    ...     builder.commit().name
    'store'
    >>> with EmbeddedStore(where, read_only=True) as store:
    ...     store.query("ASK { <urn:s> <urn:p> <urn:o> }").boolean  # in the union
    True
    """

    def __init__(self, store_dir: str | os.PathLike, *, trusted: bool = False,
                 threads: int = 2, chunk_bytes: int = 8 << 20) -> None:
        self.store_dir = Path(store_dir)
        self.trusted = trusted
        self.chunk_bytes = chunk_bytes
        self.store_dir.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.store_dir.with_name(f".{self.store_dir.name}.tmp-{os.getpid()}")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._store: EmbeddedStore | None = EmbeddedStore(self._tmp)
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="kg-store-load")
        self._room = threading.BoundedSemaphore(2 * threads)
        self._futures: list[Future] = []
        # (format, prologue) -> texts waiting to make a chunk, and their size
        self._buffers: dict[tuple[ox.RdfFormat, str], tuple[list[str], list[int]]] = {}
        self._union = False

    def __enter__(self) -> StoreBuilder:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._store is not None:
            self.abort()

    def add(self, text: str, *, format: ox.RdfFormat = ox.RdfFormat.N_QUADS,
            prologue: str = "", union: bool = False) -> None:
        """Queue RDF text for loading: N-Quads lines by default.

        Texts of one ``format`` are joined into chunks, so each text must
        be whole statements (whole lines, whole Turtle subject blocks);
        ``prologue`` (e.g. Turtle ``@prefix`` lines) is put before every
        chunk.  ``union=True``: these texts together hold exactly the union
        of the named graphs' triples, for the default graph.
        """
        self._union |= union
        texts, size = self._buffers.setdefault((format, prologue), ([], [0]))
        texts.append(text)
        size[0] += len(text)
        if size[0] >= self.chunk_bytes:
            self._flush(format, prologue)

    def add_file(self, path: str | os.PathLike, *, union: bool = False) -> None:
        """Queue an RDF file (format from its extension) for loading.

        N-Quads and N-Triples are read and loaded in chunks; other formats
        in one piece.  ``union`` is as in :meth:`add`.
        """
        path = Path(path)
        format = ox.RdfFormat.from_extension(path.suffix.lstrip(".")) or ox.RdfFormat.N_QUADS
        self._union |= union
        if format not in (ox.RdfFormat.N_QUADS, ox.RdfFormat.N_TRIPLES):
            self._submit({"path": str(path), "format": format}, str(path))
            return
        with open(path, encoding="utf-8") as f:
            while chunk := f.read(self.chunk_bytes):
                if not chunk.endswith("\n"):
                    chunk += f.readline()  # up to the end of its last line
                self._submit({"input": chunk, "format": format}, str(path))

    def commit(self, digests: Mapping[str, str] | None = None) -> Path:
        """Wait for every load, then move the store into place; returns its path.

        ``digests`` (graph IRI -> :func:`kg.store.sync.graph_digest` of its N-Quads) are
        saved beside the store so that the next build can update only the
        graphs that changed (:class:`StoreUpdate`).
        """
        for format, prologue in list(self._buffers):
            self._flush(format, prologue)
        self._wait()
        store = self._store
        assert store is not None, "commit() after commit() or abort()"
        if not self._union:
            store.oxigraph.update(FILL_UNION)
        # Each bulk load adds files that overlap all the others' key ranges,
        # and a query then seeks in every one of them: compacting them once
        # costs a little time here and makes every query faster.
        store.oxigraph.optimize()
        store.close()
        self._store = None
        state = state_path(self.store_dir)
        state.unlink(missing_ok=True)  # it describes the store being replaced
        if self.store_dir.exists() and _exchange(self._tmp, self.store_dir):
            shutil.rmtree(self._tmp, ignore_errors=True)  # now the old store
        else:  # (killed between these renames, a build leaves no store)
            old = self.store_dir.with_name(f".{self.store_dir.name}.old-{os.getpid()}")
            shutil.rmtree(old, ignore_errors=True)
            if self.store_dir.exists():
                os.rename(self.store_dir, old)
            os.rename(self._tmp, self.store_dir)
            shutil.rmtree(old, ignore_errors=True)
        if digests is not None:
            write_state(state, {EMBEDDED: {"graphs": dict(digests),
                                           "files": _store_files(self.store_dir)}})
        return self.store_dir

    def abort(self) -> None:
        """Stop loading and delete the half-built store."""
        self._buffers.clear()
        for f in self._futures:
            f.cancel()
        self._pool.shutdown(wait=True)  # a running bulk load cannot be interrupted
        if self._store is not None:
            self._store.close()
            self._store = None
        shutil.rmtree(self._tmp, ignore_errors=True)

    def _flush(self, format: ox.RdfFormat, prologue: str) -> None:
        texts, size = self._buffers.pop((format, prologue), ([], [0]))
        if texts:
            self._submit({"input": prologue + "".join(texts), "format": format}, format.name)

    def _submit(self, source: dict, what: str) -> None:
        assert self._store is not None, "the builder is committed or aborted"
        self._room.acquire()  # bounded: memory stays at a few chunks
        try:
            future = self._pool.submit(self._store.oxigraph.bulk_load, lenient=self.trusted,
                                       **source)
        except BaseException:
            self._room.release()
            raise
        future.add_done_callback(lambda _: self._room.release())
        future.what = what  # type: ignore[attr-defined]
        self._futures.append(future)
        self._raise_failed(done_only=True)

    def _wait(self) -> None:
        wait(self._futures)
        self._raise_failed(done_only=False)
        self._pool.shutdown(wait=True)

    def _raise_failed(self, *, done_only: bool) -> None:
        pending = []
        for f in self._futures:
            if done_only and not f.done():
                pending.append(f)
                continue
            e = f.exception()
            if isinstance(e, SyntaxError):
                raise StoreError(f"invalid RDF in {f.what}: {e}") from e  # type: ignore[attr-defined]
            if e is not None:
                raise e
        self._futures = pending  # loads that succeeded need no more looking at


def build_store(nquads_path: str | os.PathLike, store_dir: str | os.PathLike = DEFAULT_STORE,
                *, union: str | os.PathLike | None = None, trusted: bool = False,
                digests: Mapping[str, str] | None = None) -> Path:
    """Bulk-load an N-Quads file into a fresh store at ``store_dir``, atomically.

    ``union``: optionally, a file that holds exactly the union of those
    quads' triples (such as the ``newskg.ttl`` written beside the N-Quads),
    loaded as the default graph alongside the N-Quads; otherwise the union
    is computed in the store.  ``trusted=True`` skips Oxigraph's IRI and
    literal validation: only for files that newskg itself wrote.
    ``digests`` are as in :meth:`StoreBuilder.commit`.  The store is
    replaced atomically (see :class:`StoreBuilder`).
    """
    with StoreBuilder(store_dir, trusted=trusted) as builder:
        builder.add_file(nquads_path)
        if union is not None:
            builder.add_file(union, union=True)
        return builder.commit(digests)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two folders in one step (Linux's ``renameat2``), so that a
    process killed while it swaps in a new store leaves the old one or the
    new one in place, never none; false where that is not possible."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError, TypeError):  # not glibc; TypeError: no CDLL(None) on Windows
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


# -- incremental updates of the embedded store ------------------------------------
#: The embedded store's name in its state file.
EMBEDDED = "embedded"


def _store_files(store_dir: Path) -> dict[str, list[int]]:
    """Size and modification time (ns) of each file of a closed store.

    Recorded in its state: the state's digests are trusted only for a store
    whose files are still those (opening it read-only changes none; opening
    it for writing, replacing or damaging it does).
    """
    return {p.name: [(st := p.stat()).st_size, st.st_mtime_ns]
            for p in sorted(store_dir.iterdir()) if p.is_file()}


class StoreUpdate:
    """Which named graphs changed since the store at ``store_dir`` was loaded.

    Feed it every graph of the new export (``add``, e.g. as
    :meth:`kg.rdf.RdfWriter.write_nquads`'s ``each_graph``).  If the store
    and its saved digests exist and at most ``max_share`` of the graphs (or
    100) changed, :meth:`apply` replaces just those graphs (one transaction) and
    ``worthwhile`` is true; otherwise rebuild with :func:`build_store`,
    passing ``digests``.

    Nothing is taken on trust: a state that cannot be read, that names
    graphs of a store that is gone, or whose store's files changed since
    (:func:`_store_files`), makes the store rebuilt, and so does a store
    that cannot be updated (:meth:`apply` then answers ``None``); each says
    so in ``warnings``.

    >>> import tempfile, pathlib
    >>> u = StoreUpdate(pathlib.Path(tempfile.mkdtemp()) / "store")
    >>> u.add("urn:g", "<urn:s> <urn:p> <urn:o> <urn:g> .\\n")
    >>> u.worthwhile  # no store there yet
    False
    """

    def __init__(self, store_dir: str | os.PathLike, *, max_share: float = 0.05,
                 previous: Callable[[str, str], bytes | None] | None = None) -> None:
        self.store_dir = Path(store_dir)
        #: ``previous(graph_iri, digest)``: the graph's last N-Quads if they have that digest
        self.previous = previous
        self.state_path = state_path(self.store_dir)
        self.warnings: list[str] = []
        old: dict[str, str] = {}
        try:
            state = read_state(self.state_path).get(EMBEDDED, {})
        except StateError as exc:
            state = {}
            self.warnings.append(f"{exc}: not used; the store was rebuilt")
        if state.get("graphs"):
            if not (self.store_dir / "CURRENT").exists():
                self.warnings.append(f"the store {self.store_dir} that {self.state_path} "
                                     "describes is gone: rebuilt")
            elif state.get("files") != _store_files(self.store_dir):
                self.warnings.append(f"the store {self.store_dir} changed since {self.state_path} "
                                     "described it (written to, replaced or damaged): rebuilt")
            else:
                old = state["graphs"]
        self.old = old
        self._diff = GraphDiff(old)
        self.changed: dict[str, str] = {}
        # Replacing a few graphs is much cheaper than a rebuild, and
        # replacing many much dearer (benchmarks/README.md, "Stores").
        self._limit = max(100, int(max_share * len(self.old)))

    @property
    def digests(self) -> dict[str, str]:
        """The digest of every graph added so far."""
        return self._diff.digests

    def add(self, graph_iri: str, nquads: str, digest: str | None = None) -> None:
        """Record one graph of the new export (its N-Quads text as written;
        its :func:`~kg.store.sync.graph_digest` too, if known)."""
        if self._diff.add(graph_iri, nquads, digest) and len(self.changed) <= self._limit:
            self.changed[graph_iri] = nquads

    @property
    def gone(self) -> list[str]:
        """Graphs of the store that the new export no longer has."""
        return self._diff.gone

    @property
    def worthwhile(self) -> bool:
        """Whether updating in place beats a rebuild (and is possible)."""
        return bool(self.old) and len(self.changed) + len(self.gone) <= self._limit

    def apply(self) -> int | None:
        """Replace the changed graphs and drop the gone ones; returns how
        many, or ``None`` (and a warning) if the store could not be updated:
        rebuild it then."""
        # Without its digests a store is rebuilt next time: so a crash
        # between the update and the new digests costs a rebuild, never a
        # store that silently disagrees with its export.
        self.state_path.unlink(missing_ok=True)
        try:
            with EmbeddedStore(self.store_dir) as store:
                # The texts the store holds, where the last export still has them.
                known = {g: self.previous(g, self.old[g]) if self.previous else None
                         for g in [*self.changed, *self.gone] if g in self.old}
                store.update_graphs(self.changed, drop=self.gone,
                                    previous={g: t for g, t in known.items() if t is not None})
        except (StoreError, OSError, RuntimeError) as exc:  # Oxigraph: RuntimeError("Corruption: ...")
            self.warnings.append(f"the store {self.store_dir} could not be updated ({exc}): rebuilt")
            return None
        write_state(self.state_path, {EMBEDDED: {"graphs": self.digests,
                                                 "files": _store_files(self.store_dir)}})
        return len(self.changed) + len(self.gone)


def _lines(text: bytes | str) -> list[bytes]:
    return (text.encode() if isinstance(text, str) else text).splitlines()


def find_store(path: str | os.PathLike) -> Path:
    """The store folder itself, or the ``store/`` of an export folder.

    >>> find_store("exports").as_posix()
    'exports/store'
    """
    path = Path(path)
    if (path / "CURRENT").exists():
        return path
    return path / STORE_DIR
