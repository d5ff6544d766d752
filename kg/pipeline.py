"""The pipeline: files -> records -> graph -> stories -> exports, RDF and store.

:func:`build` runs the stages in order and decides what can be reused from
the last build into the same folder (:mod:`kg.last_build`): nothing at all
(the same files, code and options: only checked), the graph it kept (patched
where a few files changed, which alone are read), the record cache's parsed
files, or the store (only the named graphs that changed are replaced in it).
The RDF and the store are written by :mod:`kg.rdf_export`, which runs the
other exports handed to it meanwhile.  What each file holds is decided by
the writers (:mod:`kg.exports`, :mod:`kg.rdf`); how the cores are used, by
:mod:`kg._perf`.

>>> import kg, tempfile
>>> out = tempfile.mkdtemp()
>>> result = build("seeds", out=out)
>>> result.summary["nodes"]["article"], result.built
(8, True)
>>> build("seeds", out=out).built  # nothing changed: nothing rebuilt
False
"""

from __future__ import annotations

import functools
import hashlib
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from ._perf import gc_paused, in_background, release_freed_memory
from ._util import remove_stale_temps
from .cache import RecordCache, build_fingerprint
from .exports import (
    GRAPH_JSON,
    GRAPHML,
    MANIFEST,
    PROBLEMS,
    read_graph,
    read_problems,
    write_graph_json,
    write_graphml,
    write_manifest,
    write_problems,
)
from .ingest import NoArticleFiles, count_unknown_keys, normalize_extensions, read_scanned, scan_files
from .last_build import (
    STAMP,
    GraphOrigin,
    keep_inputs,
    keeps_journal,
    new_state_name,
    patch_last_graph,
    previous_inputs,
    save_graph_journal,
    save_graph_state,
    story_members,
    up_to_date,
    write_stamp,
)
from .records import Problem, Provider, SourceFile

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["build", "built", "BuildResult", "CACHE", "STAMP"]

CACHE = ".cache/records.jsonl"
STORY_STATE = ".cache/stories.state"  # what the last build's stories were made from
#: A test hook (tests/test_faults.py): ``build`` kills its own process with
#: SIGKILL as the stage of this name ends (see ``timings``), as a crash would.
KILL_AT = "NEWSKG_TEST_KILL_AT"


# -- the whole build --------------------------------------------------------------
@dataclass
class BuildResult:
    """What :func:`build` produced.

    ``files`` lists every input file read (path, content hash, size, whether
    it gave an article).  The article records themselves are let go once the
    graph holds them; :func:`kg.load` returns them.
    """

    files: list[SourceFile]
    problems: list[Problem]
    #: The export folder (open it with :func:`kg.open`).
    out: Path
    outputs: list[Path] = field(default_factory=list)
    summary: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)  # seconds per stage
    #: False when the exports were already up to date and nothing was rebuilt.
    built: bool = True
    #: Files that changed since the last build but gave the same records (say,
    #: an edit of the body text): only ``manifest.json`` was rewritten for them.
    same_records: list[str] = field(default_factory=list)
    #: What was found damaged in the last build's state (the record cache, the
    #: stamp, the store or its state) and so not trusted, but rebuilt.
    warnings: list[str] = field(default_factory=list)
    #: How many files changed (added, changed, removed) when the last build's
    #: graph was patched (:mod:`kg.graph_patch`); ``None`` when it was built whole.
    patched: int | None = None
    _graph: nx.MultiDiGraph | None = field(default=None, repr=False)
    _shared_attrs: bool = field(default=False, repr=False)

    @property
    def graph(self) -> nx.MultiDiGraph:
        """The knowledge graph (read back from ``newskg.json`` if nothing was
        rebuilt, then without ``graph.graph["problems"]``: see ``problems``)."""
        if self._graph is None:
            self._graph = read_graph(self.out / GRAPH_JSON)
        elif self._shared_attrs:  # the build's memory saving, undone for the caller
            from .graph import unshare_attrs
            unshare_attrs(self._graph)
            self._shared_attrs = False
        return self._graph


# The collector would rescan the growing graph again and again and find
# nothing to free.
@gc_paused()
def build(*paths: str | os.PathLike, out: str | os.PathLike = "exports",
          cache: bool = True, rdf: bool = True,
          progress: Callable[[str, int, int], None] | None = None,
          story_threshold: float | None = None, story_window_days: float | None = None,
          stories_file: str | os.PathLike | None = None,
          providers: str | os.PathLike | None = None,
          extensions: Iterable[str] | None = None,
          provider: Provider | None = None, only_news: bool = False,
          no_drafts: bool = False) -> BuildResult:
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
    ('seeds/000_e8d8b023fb041968.txt', {'read': 1, 'articles': 1, 'skipped': 0}, 165)

    With the cache, a build whose input files, code and options are exactly
    those of the last complete build into ``out``, whose outputs are as it
    left them, rebuilds nothing (``result.built`` is false; the graph is
    read back from ``newskg.json`` when asked for).  When ``out`` already
    holds a store built from nearly the same input, only the named graphs
    whose N-Quads changed are replaced in it (one transaction;
    ``summary["store_graphs_replaced"]`` says how many); otherwise the store
    is rebuilt from scratch.

    ``story_threshold`` and ``story_window_days`` are passed to
    :func:`kg.stories.add_stories` (its defaults when ``None``); the
    curation of ``stories_file`` (default: a ``stories.yaml`` in an input
    folder) is applied to the stories (:mod:`kg.curation`), and a bad one
    raises :class:`kg.curation.CurationError` before anything is written.

    Files whose names end in ``extensions`` are read (default:
    :data:`kg.ingest.ARTICLE_SUFFIXES`); when none is found,
    :class:`~kg.ingest.NoArticleFiles` is raised and nothing is written.
    ``provider`` publishes the articles that name none (see
    :func:`kg.ingest.load_corpus`).  Items that are not news (videos,
    courses, pages, code samples, undated works: :attr:`kg.records.Article.item`)
    are typed as such and counted in ``summary["not_news"]``; ``only_news``
    leaves them out (counted in ``summary["files"]["left_out"]``).  Drafts
    (``draft: true``, Jekyll's ``published: false``) are built, marked
    ``draft`` and counted in ``summary["drafts"]``; ``no_drafts`` leaves them
    out (``left_out["draft"]``).
    ``summary["files"]`` counts the files read, the articles, the files
    skipped (read, but without a usable article; by reason in ``skipped_by``)
    and the files not read (by extension, or ``hidden``, in ``not_read``).

    ``progress(stage, done, total)`` is called as the build goes: with the
    files checked against the last build (``"checking for changes"``), the
    files read (``"reading files"``) and the named graphs written (``"writing
    RDF"``, ``total`` being an estimate), and with ``total=0`` when a stage
    without a count starts (``"building the graph"`` and so on).

    ``providers``: a providers file (:mod:`kg.providers`) renaming, merging
    and giving homepages to providers; by default the ``providers.yaml`` of
    the first input folder that has one.
    """
    from .providers import apply_providers, find_providers_file, read_providers

    if story_threshold is not None and not 0.0 <= story_threshold <= 1.5:
        raise ValueError(f"the story threshold must be between 0 and 1.5, not {story_threshold}")
    if story_window_days is not None and not story_window_days >= 0:
        raise ValueError(f"the story window must be at least 0 days, not {story_window_days}")
    if stories_file is None:  # beside the articles (the name is kg.curation.FILE_NAME)
        stories_file = next((p / "stories.yaml" for p in map(Path, paths)
                             if (p / "stories.yaml").is_file()), None)
    curation = None
    if stories_file is not None:  # (an up-to-date build imports neither numpy nor networkx)
        from .curation import load_curation

        curation = load_curation(stories_file)
    # Only options that differ from the defaults, so a default build's stamp does not change.
    options = "".join(f" {k}={v!r}" for k, v in (("story_threshold", story_threshold),
                                                   ("story_window_days", story_window_days),
                                                   ("curation", curation and curation.sha256))
                      if v is not None)
    out = Path(out)
    providers_file = Path(providers) if providers is not None else find_providers_file(paths)
    rules = read_providers(providers_file) if providers_file is not None else None
    if rules is not None:
        options += f" providers={rules.digest}"
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 3)
        clock = now
        if os.environ.get(KILL_AT) == stage:  # the test hook: see KILL_AT
            os.kill(os.getpid(), signal.SIGKILL)

    report = progress or (lambda stage, done, total: None)
    suffixes = normalize_extensions(extensions)
    found, not_read = scan_files(paths, suffixes)
    if not found:
        raise NoArticleFiles(paths, suffixes, sum(not_read.values()))
    # the options the stamp covers
    rdf_key = f"{rdf} ext={','.join(suffixes)} provider={provider} only_news={only_news}"
    rdf_key += " no_drafts" if no_drafts else ""  # as before without it: the stamp holds
    record_cache = RecordCache(out / CACHE) if cache else None
    warnings: list[str] = []
    hashes: dict[str, str] = {}  # name -> SHA-256 of the files checked
    if record_cache is not None and paths:
        done = up_to_date(out, found, record_cache, rdf_key + options, report, warnings.append,
                          hashes)
        # A damaged cache may be damage beyond it: build, and save it whole.
        if done is not None and not record_cache.corrupt:
            lap("check")
            return BuildResult(done["files"], read_problems(out), out, done["outputs"],
                               done["summary"], timings, built=False,
                               same_records=done["same_records"])
        (out / STAMP).unlink(missing_ok=True)  # until this build is complete
    for folder in (out, out / ".cache"):  # what killed builds left
        remove_stale_temps(folder)
    from .curation import apply_curation
    from .graph import build_graph, graph_summary  # not needed when up to date
    from .graph_patch import index_graph
    from .rdf_export import export_rdf
    from .rdf_walk import graph_inputs
    from .stories import DEFAULT_THRESHOLD, DEFAULT_WINDOW, add_stories
    from .story_state import update_stories

    # The graph the last build kept is patched when few files changed
    # (kg.last_build); else every file is read, and the graph built whole.
    keep_graph = record_cache is not None and rules is None and not only_news and not no_drafts
    last = None
    if keep_graph and record_cache is not None and not record_cache.corrupt:
        report("reading files", 0, 0)
        last = patch_last_graph(out, rdf_key + options, found, record_cache, hashes, provider,
                                warnings.append)
        if record_cache.corrupt:  # found on the way: read everything, and save the cache whole
            last = None
    left_out: Counter[str] = Counter()
    if last is None:
        read = read_scanned(found, cache=record_cache, provider=provider,
                            progress=lambda done, total: report("reading files", done, total))
        files = [file for file, _, _ in read]
        articles = [a for _, a, _ in read if a is not None]
        found_problems = {file.path: list(ps) for file, _, ps in read if ps}
        del read
        left_out = Counter(a.item for a in articles if a.item) if only_news else Counter()
        if no_drafts:  # a draft that is not news is counted once, as not news
            left_out["draft"] = sum(1 for a in articles if a.draft and not (only_news and a.item))
        left_out = +left_out
        if left_out:
            articles = [a for a in articles if not (only_news and a.item)
                        and not (no_drafts and a.draft)]
    else:
        files, found_problems = last.files, last.problems
    problems = [p for f in files for p in found_problems.get(f.path, ())]
    unknown_keys = count_unknown_keys(problems)  # (one problem per key)
    if record_cache is not None and record_cache.corrupt:
        warnings.append(f"the record cache {record_cache.path} had {record_cache.corrupt:,} "
                        "damaged entries (an interrupted write, or damage on disk): not used; "
                        "their files were parsed again")
    lap("parse")
    # The record cache is saved beside the graph's construction and then let
    # go, so that its lines are not held until the exports' peak.  Its rows
    # are right whatever happens to this build; what marks a build complete
    # is the stamp, written last.  Saved before anything forks.
    # (A patch read only the files that changed: the others' lines are kept as they are.)
    with (in_background(_keep_records, record_cache, last is None, name="kg-cache-save")
          if record_cache is not None else nullcontext()):
        del record_cache
        report("building the graph", 0, 0)
        index = None
        origin = None  # where the graph comes from, for the RDF walk (kg.last_build)
        if last is not None:
            graph, index = last.graph, last.index
            origin = GraphOrigin(last.state, last.touched)
        elif keep_graph:
            graph, index = index_graph(articles)
            del articles  # the graph holds what the exports need
            release_freed_memory()  # (not resident while the state is written)
            # Kept now, and the index let go of, rather than held until the exports' peak.
            origin = GraphOrigin(new_state_name())
            save_graph_state(out, rdf_key + options, graph, index, files, found_problems,
                             origin.state)
            index = None
        else:
            graph = build_graph(articles, share_attrs=True)
            del articles
        if rules is not None:
            graph.graph["problems"] += apply_providers(graph, rules)
        if last is None:  # the records, and the state's bytes, freed: not resident during the stories
            release_freed_memory()
        lap("graph")
        report("finding stories", 0, 0)
        threshold = DEFAULT_THRESHOLD if story_threshold is None else story_threshold
        window = DEFAULT_WINDOW if story_window_days is None else timedelta(days=story_window_days)
        if cache:  # recomputed where the corpus changed (kg.story_state)
            warnings += update_stories(graph, out / STORY_STATE, threshold=threshold,
                                       window=window)[1]
        else:
            add_stories(graph, threshold=threshold, window=window)
        if curation is not None:
            apply_curation(graph, curation)
        lap("stories")
    release_freed_memory()  # the cache's lines, and the rows they were made from
    problems = problems + graph.graph["problems"]
    problems.sort(key=lambda p: (p.path, p.line or 0, p.field or "", p.reason))
    summary = graph_summary(graph)
    summary["files"] = {"read": len(files), "articles": sum(f.ok for f in files),
                        "skipped": sum(not f.ok for f in files)}
    skipped_by = Counter(p.reason for p in problems if p.severity == "error")
    if skipped_by:
        summary["files"]["skipped_by"] = dict(sorted(skipped_by.items()))
    if not_read:
        summary["files"]["not_read"] = not_read
    if left_out:
        summary["files"]["left_out"] = dict(sorted(left_out.items()))
    summary["problems"] = dict(sorted(Counter(p.reason for p in problems).items()))
    if unknown_keys:  # key -> [files, first file]
        summary["unknown_keys"] = {k: list(v) for k, v in unknown_keys.items()}
    # For the next build to patch: what changed since the graph kept (a journal),
    # or, once the journal is long, the graph anew (a state of a new name).
    renewed = last is not None and not keeps_journal(last)
    # The graph's RDF inputs (kg.rdf_walk.graph_inputs): in a patched build, the
    # last build's, walked again where the graphs differ; kept for the next one.
    inputs, keep = None, None
    if rdf and origin is not None and curation is None:
        stories = story_members(graph)
        since = None
        if last is not None:
            since = previous_inputs(out, rdf_key + options, origin, stories, warnings.append)
        if since is not None:
            inputs = graph_inputs(graph, since)
        del since
        if renewed:  # this graph is the new state's own: no node patched since
            origin = GraphOrigin(new_state_name())
        keep = functools.partial(keep_inputs, out, rdf_key + options, origin, stories)
    # Written while the store loads, or in parallel with the N-Quads when
    # the store is updated in place (see export_rdf); with the node digests
    # of a patched build's inputs (a whole build lets them go before these).
    digests = inputs.subjects if inputs is not None else None
    others: list[tuple[Callable, tuple]] = [
        (write_graph_json, (graph, out / GRAPH_JSON, out / ".cache", build_fingerprint(), digests)),
        (write_problems, (problems, out / PROBLEMS)),
        (write_graphml, (graph, out / GRAPHML, out / ".cache", build_fingerprint(), digests))]
    del digests
    if last is not None and not renewed:
        others.append((save_graph_journal, (out, rdf_key + options, last.journal)))
    elif renewed:
        others.append((save_graph_state, (out, rdf_key + options, graph, index, files,
                                          found_problems, origin.state if origin else new_state_name())))
    patched = None if last is None else last.changed
    del last
    outputs: list[Path] = []
    if rdf:
        rdf_info = export_rdf(graph, out, also=others, lap=lap, progress=report,
                              graphs=summary["files"]["articles"] + 2, inputs=inputs, keep=keep)
        del inputs
        summary["quads"] = rdf_info["quads"]
        if rdf_info["store_graphs_replaced"] is not None:
            summary["store_graphs_replaced"] = rdf_info["store_graphs_replaced"]
        summary["nquads_graphs_rendered"] = rdf_info["nquads_graphs_rendered"]
        summary["rdf_nodes_walked"] = rdf_info["rdf_nodes_walked"]
        warnings += rdf_info["warnings"]
        outputs = rdf_info["paths"]
    else:
        report("writing exports", 0, 0)
        for fn, args in others:
            fn(*args)
        lap("exports")
    # Last, with the number of quads; not how this build updated the store or the N-Quads.
    write_manifest({k: v for k, v in summary.items()
                    if k not in ("store_graphs_replaced", "nquads_graphs_rendered",
                                 "rdf_nodes_walked")},
                    files, out / MANIFEST)
    outputs = [out / GRAPH_JSON, out / GRAPHML, out / PROBLEMS, out / MANIFEST] + outputs
    if cache:
        write_stamp(out, files, outputs, summary, rdf_key + options)
    lap("manifest")
    return BuildResult(files, problems, out, outputs, summary, timings, warnings=warnings,
                       patched=patched, _graph=graph, _shared_attrs=True)


def _keep_records(cache: RecordCache, whole: bool) -> None:
    """Save the record cache (``whole``, or only this build's new entries),
    then let go of its lines, and give their memory back to the system: the
    graph's small objects would not reuse it."""
    if whole:
        cache.save()
    else:
        cache.append_new()
    cache.close()
    release_freed_memory()


def built(path: str | os.PathLike) -> Path:
    """The export folder to read for ``path``: ``path`` itself when a build
    wrote it; when it is a folder of articles, its build in the user's
    cache folder, made (or brought up to date, incrementally) now.

    So ``kg stories``, ``kg view``, ``kg timeline`` and ``kg.open`` take a
    corpus folder as well as an export folder.  The cache folder is
    ``$NEWSKG_CACHE_DIR``, else ``$XDG_CACHE_HOME/newskg``, else
    ``~/.cache/newskg``; one sub-folder per corpus (its name and a hash of
    its absolute path).  Raises :class:`FileNotFoundError` when ``path`` is
    neither, :class:`~kg.ingest.NoArticleFiles` when it holds no articles.

    >>> out = built("seeds")
    >>> out.name.startswith("seeds-"), (out / GRAPH_JSON).is_file()
    (True, True)
    >>> built(out) == out
    True
    """
    src = Path(path)
    if (src / GRAPH_JSON).is_file():
        return src
    if not src.is_dir():
        raise FileNotFoundError(f"{src} is neither an export folder of `kg build` nor a folder of articles")
    root = Path(os.environ.get("NEWSKG_CACHE_DIR")
                or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "newskg")
    absolute = src.resolve()
    out = root / f"{absolute.name or 'root'}-{hashlib.sha256(str(absolute).encode()).hexdigest()[:12]}"
    build(src, out=out)
    return out
