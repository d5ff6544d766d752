"""What the last build into an export folder was made from, and what of it
a new build can use.

* The stamp (``.cache/build.json``): the code, options and input files of
  the last complete build, and its outputs' sizes and times.  When nothing
  changed, :func:`up_to_date` says so and nothing is rebuilt.
* The graph state (``.cache/graph.state``, :mod:`kg.graph_patch`): the
  graph of the files the last build read, and its index.  When a few files
  changed, :func:`patch_last_graph` reads just those and patches the graph,
  instead of reading every file and building it again.
* The RDF's inputs (``.cache/rdf.inputs``, :func:`kg.rdf_walk.graph_inputs`):
  what each block of the last build's RDF was made of, and which nodes that
  build's graph had patched since the graph state.  A patched build walks
  only the nodes either patch touched, and those whose stories changed
  (:func:`previous_inputs`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ._util import atomic_writer, read_checked, read_parts, write_checked, write_parts
from .cache import RecordCache, build_fingerprint
from .exports import MANIFEST, write_manifest
from .ingest import read_scanned, same_records
from .records import Article, Problem, Provider, SourceFile, records_from_row

if TYPE_CHECKING:
    import networkx as nx

    from .graph_patch import GraphIndex
    from .rdf_walk import Inputs

__all__ = ["STAMP", "GRAPH_STATE", "GRAPH_JOURNAL", "up_to_date", "write_stamp", "input_stamp",
           "patch_last_graph", "save_graph_state", "save_graph_journal", "keeps_journal", "LastGraph",
           "RDF_INPUTS", "GraphOrigin", "previous_inputs", "keep_inputs", "story_members",
           "new_state_name"]

STAMP = ".cache/build.json"  # what the last complete build was made from, and wrote
GRAPH_STATE = ".cache/graph.state"  # the graph of the files a build read (kg.graph_patch)
GRAPH_JOURNAL = ".cache/graph.journal"  # the records, then, of the files changed since
RDF_INPUTS = ".cache/rdf.inputs"  # what the last build's RDF was made of, and from which graph
#: A patch reads this many changed files at least, or a tenth of the corpus; more, and
#: the whole graph is built again (each changed file costs some dozen of the others).
PATCH_MIN = 2000
#: With more files than this in the journal, or this share of the corpus, the build
#: writes the graph state anew: patching it by all of them would cost more.
JOURNAL_MAX, JOURNAL_SHARE = 500, 0.01


def input_stamp(hashes: Iterable[tuple[str, str]], rdf: str) -> str:
    """What a build is made from: the code, the options, the files' names and contents."""
    h = hashlib.sha256(f"{build_fingerprint()} rdf={rdf}\n".encode())
    for name, sha256 in hashes:
        h.update(f"{name}\0{sha256}\n".encode())
    return h.hexdigest()


def _output_files(out: Path, outputs: list[Path], rdf: str) -> list[Path]:
    from .store import STORE_DIR, state_path

    files = [p for p in outputs if p.is_file()]
    # The store's files change when it is opened for writing (read-only is
    # fine), or damaged: then the build is not taken as up to date.
    with_rdf = rdf.startswith("True")
    store = sorted((out / STORE_DIR).iterdir()) if with_rdf else []
    return files + store + [state_path(out / STORE_DIR)] if with_rdf else files


def write_stamp(out: Path, files: list[SourceFile], outputs: list[Path], summary: dict,
                 rdf: str) -> None:
    if not all(f.sha256 for f in files):
        return  # an unreadable file: read it again next time
    stamp = {"stamp": input_stamp(((f.path, f.sha256) for f in files), rdf),
             "outputs": {p.relative_to(out).as_posix(): [(st := p.stat()).st_size, st.st_mtime_ns]
                         for p in _output_files(out, outputs, rdf)},
             "paths": [p.relative_to(out).as_posix() for p in outputs],
             "summary": summary}
    with atomic_writer(out / STAMP) as f:
        f.write(orjson.dumps(stamp))


def up_to_date(out: Path, found: list[tuple[str, str]], cache: RecordCache, rdf: str,
               report: Callable[[str, int, int], None], warn: Callable[[str], None],
               hashes_seen: dict[str, str]) -> dict | None:
    """The last build's files, outputs and summary if it was made from
    exactly these files (and code and options) and its outputs are as it left
    them (same sizes and modification times); else ``None``.  The content
    hashes it took are left in ``hashes_seen`` (name -> SHA-256).

    Files whose bytes changed but whose records did not (an edit of the body
    text, of YAML formatting or comments) are parsed here and compared with
    the cache: if every changed file gives the records it gave before, only
    ``manifest.json`` (which lists each file's hash and size) and the stamp
    are rewritten, and their new entries appended to the record cache;
    ``"same_records"`` names those files.  A stamp or manifest that cannot
    be read is said through ``warn`` (a missing one is not: the last build
    did not finish, or there was none).
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
            hashes_seen[name] = sha256
            if i % 1000 == 0:
                report("checking for changes", i, len(found))
        report("checking for changes", len(found), len(found))
        files = [SourceFile(**f) for f in manifest["files"]]
        changed: list[int] = []
        if input_stamp(hashes, rdf) != stamp["stamp"]:
            if (input_stamp(((f.path, f.sha256) for f in files), rdf) != stamp["stamp"]
                    or [f.path for f in files] != [name for name, _ in hashes]):
                return None  # other code or options, or files added or removed
            changed = [i for i, (f, (_, sha256)) in enumerate(zip(files, hashes))
                       if f.sha256 != sha256]
            if len(changed) > _RECHECK_MAX or not _same_records(found, files, changed, cache):
                return None
        summary = {k: v for k, v in stamp["summary"].items() if k != "store_graphs_replaced"}
        outputs = [out / p for p in stamp["paths"]]
        if changed:
            write_manifest(manifest["summary"], files, out / MANIFEST)
            write_stamp(out, files, outputs, stamp["summary"], rdf)
        return {"files": files, "summary": summary, "outputs": outputs,
                "same_records": [files[i].path for i in changed]}
    except OSError:  # an output or input gone, or the first build
        return None
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        warn(f"the last build's stamp or manifest in {out} is damaged ({type(exc).__name__}: "
             f"{exc}): not used; everything was rebuilt")
        return None


#: At most this many changed files are parsed to see whether their records changed.
_RECHECK_MAX = 1000


def _same_records(found: list[tuple[str, str]], files: list[SourceFile], changed: list[int],
                  cache: RecordCache) -> bool:
    """Whether each changed file gives the records its last version gave; if
    so, ``files`` now lists their new hashes and sizes, and the cache holds
    their new content."""
    fresh = same_records([(*found[i], files[i].sha256) for i in changed], cache)
    if fresh is None:
        return False
    for i, file in zip(changed, fresh):
        files[i] = file
    return True


# -- the graph state --------------------------------------------------------------------
@dataclass
class LastGraph:
    """The graph of the files as they are, patched from a build's graph."""

    graph: nx.MultiDiGraph
    index: GraphIndex
    #: every input file, in the order found
    files: list[SourceFile]
    #: file -> its problems from reading (each ``unknown-key`` its own)
    problems: dict[str, list[Problem]]
    changed: int  # files added, changed or removed since that build
    #: what the journal holds after this build (see :func:`patch_last_graph`)
    journal: tuple[str, dict[str, list | None]]
    #: the graph state's name (:func:`save_graph_state`)
    state: str = ""
    #: the nodes that may differ from the graph state's (:func:`kg.graph_patch.patch_graph`)
    touched: set[str] = field(default_factory=set)


def state_key(rdf: str) -> str:
    """What a graph state must have been made with: the code and the options."""
    return f"{build_fingerprint()} rdf={rdf}"


def save_graph_state(out: Path, rdf: str, graph: nx.MultiDiGraph, index: GraphIndex,
                     files: list[SourceFile], problems: dict[str, list[Problem]],
                     name: str) -> None:
    """Keep ``graph`` (its stories left out) and ``index`` in ``out`` for the
    next build, with an empty journal, under ``name`` (:func:`new_state_name`:
    what the RDF inputs kept with it are of, :class:`GraphOrigin`)."""
    from .graph_patch import save_state

    digest = save_state(out / GRAPH_STATE, state_key(rdf), graph, index, extra=(
        [(f.path, f.sha256, f.size, f.ok) for f in files],
        {f: [(p.reason, p.message, p.severity, p.field, p.line) for p in ps]
         for f, ps in problems.items()}, name))
    write_checked(out / GRAPH_JOURNAL, state_key(rdf), (digest, {}))


def new_state_name() -> str:
    """A name no other graph state has (the state's checksum is known only
    once it is written, which a build may do in another process)."""
    return os.urandom(16).hex()


def keeps_journal(last: LastGraph) -> bool:
    """Whether a patched build keeps a journal (else it writes the graph state anew)."""
    return len(last.journal[1]) <= max(JOURNAL_MAX, int(len(last.files) * JOURNAL_SHARE))


def save_graph_journal(out: Path, rdf: str, journal: tuple[str, dict[str, list | None]]) -> None:
    """Keep the journal of a patched build (:func:`patch_last_graph`)."""
    write_checked(out / GRAPH_JOURNAL, state_key(rdf), journal)


def patch_last_graph(out: Path, rdf: str, found: list[tuple[str, str]], cache: RecordCache,
                     hashes: dict[str, str], provider: Provider | None,
                     warn: Callable[[str], None]) -> LastGraph | None:
    """The graph a build kept (:data:`GRAPH_STATE`) patched to the files
    ``found`` (path, name) as they are now: only the files that changed since
    are read, and the few others the patch needs come from the record cache.

    The graph state is not written again by every build that patches it
    (that would cost more than the patch): beside it, the journal
    (:data:`GRAPH_JOURNAL`) keeps the records, as that build read them, of the
    files changed since, and each build patches the state by all of them.
    ``hashes`` (name -> SHA-256) has the content hashes known already; the
    others are taken now.  ``None`` when there is no state made with this code
    and options, when too many files changed for a patch to pay
    (:data:`PATCH_MIN`), or when the cache no longer has a record the patch
    needs; then the graph is built whole.  A damaged state or journal is said
    through ``warn``, and not used.
    """
    from .graph_patch import load_state, patch_graph

    key = state_key(rdf)
    try:
        state = load_state(out / GRAPH_STATE, key)
        journal = read_checked(out / GRAPH_JOURNAL, key) if state is not None else None
    except ValueError as exc:
        warn(f"the graph state in {out / '.cache'} is damaged ({exc}): not used; "
             "every file was read again")
        return None
    if state is None or journal is None or journal[0][0] != state[3]:
        return None  # none, or for other code or options, or a journal of another state
    graph, index, (rows, raw, state_name), digest = state
    kept: dict[str, list | None] = journal[0][1]
    then = {path: SourceFile(path, sha256, size, ok) for path, sha256, size, ok in rows}
    for path, name in found:
        if name not in hashes:
            sha256 = cache.content_hash(path, name)
            if sha256 is None:
                return None  # unreadable: read and reported by a whole build
            hashes[name] = sha256
    names = {name for _, name in found}
    changed = [(path, name) for path, name in found
               if name not in then or then[name].sha256 != hashes[name]]
    gone = sorted(then.keys() - names)
    if len(changed) + len(gone) > max(PATCH_MIN, len(found) // 10):
        return None
    shared: dict = {}

    def with_provider(article: Article | None) -> Article | None:
        if article is not None and article.provider is None and provider is not None:
            article.provider = provider
        return article

    def row_then(name: str) -> list | None:
        """The result row of a file as the state's build read it."""
        if name in kept:
            return kept[name]
        if name not in then:
            return None  # added since
        row = cache.row(name, then[name].sha256)
        if row is None:
            raise LookupError(name)
        return row

    def record_then(name: str) -> Article | None:
        if name not in kept:  # (the cache checks its rows as it decodes them)
            records = cache.records(name, then[name].sha256, shared)
            if records is None:
                raise LookupError(name)
            return with_provider(records[1])
        row = kept[name]
        return None if row is None else with_provider(records_from_row(name, tuple(row), shared)[1])

    try:
        journal_now = {name: row_then(name) for name in [name for _, name in changed] + gone}
        old = {name: record_then(name) if name in then else None for name in journal_now}
    except LookupError:
        return None
    fresh = read_scanned(changed, cache=cache, provider=provider)
    new: dict[str, Article | None] = dict.fromkeys(gone)
    files_now = {}
    problems = {f: [Problem(f, *p) for p in ps] for f, ps in raw.items()}
    for (_, name), (file, article, found_problems) in zip(changed, fresh):
        new[name] = article
        files_now[name] = file
        problems[name] = list(found_problems)
    for name in gone:
        problems.pop(name, None)

    def load(name: str) -> Article:
        article = record_then(name)
        assert article is not None, f"{name} has no article, yet the graph has its node"
        return article

    try:
        touched = patch_graph(graph, index, old, new, load=load)
    except LookupError:
        return None  # a record the cache lost: build whole
    return LastGraph(graph, index, [files_now.get(name) or then[name] for _, name in found],
                     {f: ps for f, ps in problems.items() if ps}, len(journal_now),
                     (digest, journal_now), state_name, touched)


# -- the RDF's inputs -------------------------------------------------------------------
@dataclass
class GraphOrigin:
    """Where a build's graph comes from: the graph state it was patched from
    (its name) and the nodes the patch touched (none: the state's own graph)."""

    state: str
    touched: set[str] = field(default_factory=set)


def story_members(graph: nx.MultiDiGraph) -> dict[str, list[str]]:
    """Article -> the stories it is in."""
    out: dict[str, list[str]] = {}
    for n, d in graph._node.items():
        if d.get("kind") == "story":
            for a in graph._pred[n]:
                out.setdefault(a, []).append(n)
    return out


def previous_inputs(out: Path, rdf: str, origin: GraphOrigin, stories: dict[str, list[str]],
                    warn: Callable[[str], None]) -> tuple[Inputs, set[str]] | None:
    """The RDF inputs :func:`keep_inputs` kept, if they are of a graph patched
    from the same state as this one (``origin``; ``stories``: its
    :func:`story_members`), and the nodes that may differ between the two
    graphs: those either patch touched, the articles whose stories changed,
    and the stories (for :func:`kg.rdf_walk.graph_inputs`'s ``since``)."""
    from .rdf_walk import Inputs

    try:
        saved = read_parts(out / RDF_INPUTS, state_key(rdf))
        if saved is not None and len(saved[0]) != 5:
            raise ValueError(f"{len(saved[0])} parts where keep_inputs writes 5")
    except ValueError as exc:
        warn(f"the RDF inputs {out / RDF_INPUTS} are damaged ({exc}): not used; "
             "every node was walked again")
        return None
    if saved is None or saved[0][0][0] != origin.state:
        return None  # none, for other code or options, or of a graph from another state
    (_, touched), then, graphs, subjects, placed = saved[0]
    dirty = origin.touched.union(touched)
    dirty.update(a for a in then.keys() | stories.keys() if then.get(a) != stories.get(a))
    dirty.update(s for members in (then, stories) for ss in members.values() for s in ss)
    return Inputs(graphs, subjects, placed), dirty


def keep_inputs(out: Path, rdf: str, origin: GraphOrigin, stories: dict[str, list[str]],
                inputs: Inputs) -> None:
    """Keep a build's RDF ``inputs`` for :func:`previous_inputs`."""
    write_parts(out / RDF_INPUTS, state_key(rdf), (
        (origin.state, sorted(origin.touched)), stories, inputs.graphs, inputs.subjects,
        inputs.placed))
