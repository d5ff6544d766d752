"""Incremental story detection: a build's stories, updated where the corpus changed.

:func:`kg.stories.find_stories` scores the pairs of the whole corpus and
clusters them.  Everything a pair's score and candidacy read is local in time
(document frequencies of the months around an article's,
:mod:`kg.frequencies`; candidates within the window, :mod:`kg.blocking`), so
:class:`StoryState` keeps, beside a build (``.cache/stories.state``):

* per article, a digest of what its pairs read: its vector's terms, weights
  and document frequencies, its time (a borrowed one too), headline, excerpt,
  URL, ``related`` partners and undated ties;
* the scored pairs (score, article, article);
* the groups (:func:`kg.linkage.link_scored`), each with the merges that
  made it and their heights.

A run computes the vectors again (in bulk), and then:

* the *changed* articles are those whose digest differs, or that are new;
  the *touched* ones are those within ``window`` of a changed or removed
  article's time (old or new), and the changed ones;
* the pairs with an end touched are found and scored again, from the
  candidates of the articles within ``window`` of a touched one (the only
  ones whose blocking can find such a pair); every other pair is kept:
  neither end changed, and neither end's candidates could;
* the *dirty* articles are the new ones, those whose time moved and the ends
  of every pair that appeared, vanished or changed its score; the groups
  with no dirty member are kept, the others are linked again with the dirty
  articles, alone.  That equals linking everything while no group of theirs
  could ever meet a kept one: average linkage's merge heights only fall, so
  two groups that coexist in a run merge only when their mean reaches the
  height at which the first of them merges into another (the threshold for
  one never merged again).  Every such pair of groups across the two sides
  is checked with the kept groups' saved merges; a kept group that fails is
  linked again too, until none does.  An edit in a corpus whose articles
  all hang together in one component above the threshold relinks a few
  dozen articles, not the component;
* the labels are made again from the vectors.

The result equals :func:`kg.stories.find_stories` on the same graph
(tests/test_story_state.py compares them after edits, additions, removals).
A state file that is damaged, from other settings or from other code, is not
trusted: the run is cold (with a warning when damaged).

>>> import kg, tempfile
>>> from pathlib import Path
>>> from kg.graph import build_graph
>>> from kg.stories import find_stories
>>> g = build_graph(kg.load("seeds"))
>>> state = StoryState(Path(tempfile.mkdtemp()) / "stories.state")
>>> state.find(g) == find_stories(g), state.counts["pairs_rescored"] > 0
(True, True)
>>> state.find(g) == find_stories(g), state.counts["pairs_rescored"], state.counts["articles_relinked"]
(True, 0, 0)
"""

from __future__ import annotations

import hashlib
import io
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import IO

import networkx as nx
import numpy as np
import orjson

from ._perf import gc_paused
from ._util import atomic_writer
from .cache import build_fingerprint
from .frequencies import DF_ARTICLES
from .linkage import Group, components, link_groups, relink_groups
from .stories import (
    DEFAULT_THRESHOLD,
    DEFAULT_WINDOW,
    METHOD,
    PAIR_FLOOR,
    Story,
    StoryDocs,
    make_stories,
    put_stories,
    story_labels,
)
from .story_texts import ArticleTexts, article_texts, pack_strings, unpack_strings

__all__ = ["StoryState", "update_stories", "FORMAT"]

#: The state's format: a file of another is not read.
FORMAT = "newskg-stories-4"

_U64 = np.uint64
#: What :func:`_labels` reads of the saved run.
_LABELLED = ("group_members", "group_sizes", "group_label_lens", "group_labels")


class _Hashing:
    """A file that hashes what is written to it.  It cannot seek, so a
    :class:`zipfile.ZipFile` writes to it in one pass, as to a stream."""

    def __init__(self, f: IO[bytes]) -> None:
        self.f, self.hash = f, hashlib.sha256()

    def write(self, data: bytes) -> int:
        self.hash.update(data)
        return self.f.write(data)

    def flush(self) -> None:
        self.f.flush()

    def close(self) -> None:
        """(the file is its writer's to close)"""


class StoryState:
    """The stories of the last run and what they were made from, in ``path``
    (see the module notes); :meth:`find` updates them.  ``warnings`` says
    why a state was not used; ``counts`` what the last run recomputed."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        self.warnings: list[str] = []
        self.counts: dict[str, int] = {}

    def _load(self, settings: str) -> dict[str, np.ndarray] | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            self.warnings.append(f"the story state {self.path} could not be read ({e}): "
                                 "stories found anew")
            return None
        at = raw.find(b"\n")
        try:
            # (offsets, not partition: that would copy the body)
            if at < 0 or hashlib.sha256(memoryview(raw)[at + 1:]).hexdigest().encode() != raw[:at]:
                raise ValueError("its checksum does not match")
            body = io.BytesIO(raw)  # (shares the bytes)
            body.seek(at + 1)
            with np.load(body, allow_pickle=False) as npz:
                state = {k: npz[k] for k in npz.files}
            head = orjson.loads(state.pop("head").tobytes())
            if head.get("format") != FORMAT:
                return None  # an older or newer newskg's state: not damage, not ours either
            state["ids"] = state["ids"].tobytes().decode().split("\n") if len(state["ids"]) else []
        except (ValueError, KeyError, OSError, zipfile.BadZipFile, UnicodeDecodeError,
                orjson.JSONDecodeError, AttributeError) as e:
            self.warnings.append(f"the story state {self.path} is damaged ({e}): not used; "
                                 "stories found anew")
            return None
        # Other settings or other code: a state for another run, not damage.
        return state if head.get("settings") == settings else None

    @contextmanager
    def _saving(self) -> Iterator[Callable[..., None]]:
        """Write the state as :func:`numpy.savez` would, an array at a time
        as ``save(name=array, ...)`` is called, each written at once rather
        than all held until the end (for the stories' peak), and the
        checksum of what was written, last, in its place at the start."""
        with atomic_writer(self.path) as f:
            f.write(b"-" * 64 + b"\n")
            body = _Hashing(f)
            with zipfile.ZipFile(body, "w", allowZip64=True) as npz:

                def save(**arrays: np.ndarray) -> None:
                    for name, array in arrays.items():
                        with npz.open(f"{name}.npy", "w", force_zip64=True) as member:
                            np.lib.format.write_array(member, np.asanyarray(array),
                                                      allow_pickle=False)

                yield save
            f.seek(0)
            f.write(body.hash.hexdigest().encode())

    @gc_paused()
    def find(self, graph: nx.MultiDiGraph, *, threshold: float = DEFAULT_THRESHOLD,
             window: timedelta = DEFAULT_WINDOW) -> list[Story]:
        """The stories of ``graph``, as :func:`kg.stories.find_stories` finds
        them, recomputing only what changed since the state was saved; then
        saves the state."""
        if not 0.0 <= threshold <= 1.5:
            raise ValueError(f"threshold must be between 0 and 1.5, not {threshold}")
        span = window.total_seconds()
        floor = min(threshold, PAIR_FLOOR)
        settings = (f"{METHOD} threshold={threshold!r} window={span!r} floor={floor!r} "
                    f"df={DF_ARTICLES} code={build_fingerprint()}")
        self.warnings = []
        old = self._load(settings)
        earlier = None  # the saved run's article texts
        if old is not None:
            try:
                earlier = ArticleTexts.from_arrays(list(old["ids"]), old)
            except (ValueError, KeyError, UnicodeDecodeError) as e:
                self.warnings.append(f"the story state {self.path} is damaged ({e}): not used; "
                                     "stories found anew")
                old = None
        articles = sorted(n for n, d in graph._node.items() if d.get("kind") == "article")
        docs = StoryDocs(graph, texts=article_texts(graph, articles, earlier, keyed=True))
        del earlier
        ids, n, index = docs.ids, len(docs.ids), docs.index
        keys = _id_hashes(ids)
        digests = _digests(docs, keys)
        times = docs.time_array  # the window's times (borrowed ones too)
        if old is None:
            changed = np.ones(n, bool)
            touched = changed
            old_at = np.zeros(0, np.int64)
            removed = 0
        else:
            old_at = np.fromiter((index.get(a, -1) for a in old["ids"]), np.int64, len(old["ids"]))
            was = np.full(n, -1, np.int64)  # new index -> old index
            was[old_at[old_at >= 0]] = np.flatnonzero(old_at >= 0)
            changed = was < 0
            known = ~changed
            changed[known] = (old["digests"][was[known]] != digests[known]).any(axis=1)
            # Times (old and new) near which candidates or scores may have changed.
            gone_or_changed = old_at < 0
            gone_or_changed[~gone_or_changed] = changed[old_at[~gone_or_changed]]
            moved = np.concatenate([old["times"][gone_or_changed], times[changed]])
            touched = changed | _near(times, moved, span)
            removed = int((old_at < 0).sum())
        owners = touched | _near(times, times[touched], span)
        fresh_pairs = s, i, j = docs.scored_arrays(window, floor, owners=owners, touching=touched)
        rescored = len(s)
        kept = 0
        if old is not None and len(old["pair_s"]):
            oi, oj = old_at[old["pair_i"]], old_at[old["pair_j"]]
            ok = (oi >= 0) & (oj >= 0)
            ok[ok] = ~touched[oi[ok]] & ~touched[oj[ok]]
            kept = int(ok.sum())
            # Best first, then by indices, as find_stories: the kept pairs are in
            # that order already when the articles kept their order (ids sorted).
            s, i, j = _merge_pairs((s, i, j), (old["pair_s"][ok], oi[ok], oj[ok]), n,
                                   in_order=bool((np.diff(old_at[old_at >= 0]) > 0).all()))
            del oi, oj, ok  # (as long as the saved pairs: not held while linking)

        window_times = docs.window_times()
        with self._saving() as save:
            # Linking holds a big corpus' peak: what the state keeps of the texts
            # and pairs is written first and let go of, and so is what labelling
            # does not read (as in find_stories).
            save(head=np.frombuffer(orjson.dumps({"format": FORMAT, "settings": settings}), np.uint8),
                 ids=np.frombuffer("\n".join(ids).encode(), np.uint8), digests=digests,
                 times=times, pair_s=s, pair_i=i, pair_j=j, **docs.texts.arrays())
            texts_read = docs.texts.fresh
            docs.keep_only_vectors()
            comp = components(n, i[s >= threshold], j[s >= threshold])
            in_part = (comp[i] >= 0) & (comp[i] == comp[j])
            ps, pi, pj = s[in_part], i[in_part], j[in_part]
            if old is None:
                del s, i, j, fresh_pairs, in_part
                relink = comp >= 0
                kept_groups: list[Group] = []
                linked = link_groups(ps, pi, pj, threshold, window_times, span)
            else:
                dirty = _dirty(old, old_at, was, touched, times, fresh_pairs)
                del s, i, j, fresh_pairs, in_part
                kept_groups, relink = _kept_groups(old, old_at, comp, dirty)
                old = {k: old[k] for k in _LABELLED}  # (the rest of the saved run goes)
                kept_groups, linked = relink_groups(ps, pi, pj, relink, kept_groups, threshold,
                                                    window_times, span)
            saved = sorted(kept_groups + linked, key=lambda g: g.members[0])
            self.counts = {"articles": n, "articles_changed": int(changed.sum()),
                           "articles_removed": removed, "articles_touched": int(touched.sum()),
                           "pairs_rescored": rescored, "pairs_kept": kept,
                           "groups_kept": len(kept_groups), "articles_relinked": int(relink.sum()),
                           "texts_read": texts_read}
            labels = _labels(docs, saved, changed, old, old_at)
            flat = [m for g in saved for m in g.merges]
            label_lens, label_text = pack_strings(labels)
            save(group_sizes=np.array([len(g.members) for g in saved], np.int64),
                 group_scores=np.array([g.score for g in saved], float),
                 group_members=np.array([x for g in saved for x in g.members], np.int64),
                 merge_a=np.array([a for a, _, _ in flat], np.int64),
                 merge_b=np.array([b for _, b, _ in flat], np.int64),
                 merge_h=np.array([h for _, _, h in flat], float),
                 group_label_lens=label_lens, group_labels=label_text)
        groups = [(g.members, g.score) for g in saved]
        return make_stories(docs, groups, labels)


def update_stories(graph: nx.MultiDiGraph, path: str | os.PathLike, *,
                   threshold: float = DEFAULT_THRESHOLD,
                   window: timedelta = DEFAULT_WINDOW) -> tuple[list[str], list[str]]:
    """:func:`kg.stories.add_stories` with the state in ``path``
    (:class:`StoryState`): the same story nodes, recomputed where the corpus
    changed.  Returns the story ids and the warnings.

    >>> import kg, tempfile
    >>> from pathlib import Path
    >>> from kg.graph import build_graph
    >>> g = build_graph(kg.load("seeds"))
    >>> ids, warnings = update_stories(g, Path(tempfile.mkdtemp()) / "stories.state")
    >>> len(ids), warnings
    (1, [])
    """
    state = StoryState(path)
    stories = state.find(graph, threshold=threshold, window=window)
    return put_stories(graph, stories, threshold, window), state.warnings


# -- digests: 128 bits as two 64-bit lanes, sums of mixed values -------------------
def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: every input bit moves every output bit
    (unsigned arithmetic wraps, as the mix needs)."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


_SALTS = (_U64(0x9E3779B97F4A7C15), _U64(0xD1B54A32D192ED03))


def _hash_texts(texts: list[str]) -> np.ndarray:
    """Two 64-bit lanes of blake2b per text: (n, 2) uint64."""
    raw = b"".join(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=16).digest()
                   for t in texts)
    return np.frombuffer(raw, _U64).reshape(-1, 2) if texts else np.zeros((0, 2), _U64)


def _id_hashes(ids: list[str]) -> np.ndarray:
    """A stable 128-bit hash per article id (the same whatever else the corpus holds)."""
    return _hash_texts(ids)


def _bits(values: np.ndarray) -> np.ndarray:
    """The bits of floats (NaN: one pattern) or integers, as uint64."""
    values = np.ascontiguousarray(values)
    if values.dtype.kind == "f":
        values = np.where(np.isnan(values), np.nan, values).astype(np.float64)
    else:
        values = values.astype(np.int64)
    return values.view(_U64)


def _digests(docs: StoryDocs, keys: np.ndarray) -> np.ndarray:
    """Per article, a digest of everything its pairs and candidates read:
    (n, 2) uint64."""
    n = len(docs.ids)
    # its vector: each term's word, unit weight and document frequency
    # (words, not term numbers: numbers move as terms come and go)
    word = _hash_texts(docs.words)
    rank = docs.rarity // max(docs.nv, 1)  # the term's document frequency
    out = np.zeros((n, 2), _U64)
    fields = docs.texts.keys  # title, excerpt, lead and URL
    assert fields is not None, "StoryDocs made from keyed texts (kg.story_texts.article_texts)"
    with np.errstate(over="ignore"):
        for lane, salt in enumerate(_SALTS):
            entry = _mix(word[docs.terms, lane] ^ _mix(_bits(docs.unit) ^ salt) ^ _mix(_bits(rank) + salt))
            out[:, lane] = np.bincount(docs.art, minlength=n).astype(_U64) * salt  # term count
            np.add.at(out[:, lane], docs.art, entry)
            out[:, lane] += _mix(fields[:, lane] ^ _mix(_bits(docs.time_array) ^ salt)
                                 ^ _mix(docs.dated.astype(_U64) + salt))
            # related partners and undated ties, each side
            for label, codes in ((1, docs.related_pairs()), (2, docs.ties)):
                a, b = np.divmod(codes, max(n, 1))
                tag = _U64(label) * salt
                np.add.at(out[:, lane], a, _mix(keys[b, lane] ^ tag))
                np.add.at(out[:, lane], b, _mix(keys[a, lane] ^ tag))
            out[:, lane] = _mix(out[:, lane] ^ keys[:, lane])
    return out


def _dirty(old: dict[str, np.ndarray], old_at: np.ndarray, was: np.ndarray, touched: np.ndarray,
           times: np.ndarray, fresh: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """The articles whose linkage may differ from the saved run's: new ones,
    those whose time moved, and both ends of every pair that appeared,
    vanished or changed its score (an end gone: the other)."""
    n = len(was)
    dirty = was < 0
    known = ~dirty
    before, now = old["times"][was[known]], times[known]
    dirty[known] = ~((before == now) | (np.isnan(before) & np.isnan(now)))
    oi, oj = old_at[old["pair_i"]], old_at[old["pair_j"]]
    gone = (oi < 0) | (oj < 0)
    dirty[oi[gone & (oi >= 0)]] = True
    dirty[oj[gone & (oj >= 0)]] = True
    # The pairs the run dropped (an end touched) against those it scored anew.
    live = ~gone
    live[live] = touched[oi[live]] | touched[oj[live]]
    old_codes = np.minimum(oi[live], oj[live]) * n + np.maximum(oi[live], oj[live])
    fs, fi, fj = fresh
    new_codes = np.minimum(fi, fj) * n + np.maximum(fi, fj)
    # One sort of both (each side's codes are unique): a code seen once is a
    # pair that appeared or vanished; one seen twice, old then new, may have moved.
    both = np.concatenate([old_codes, new_codes])
    order = np.argsort(both, kind="stable")
    ranked = both[order]
    twice = np.flatnonzero(ranked[1:] == ranked[:-1])
    once = np.ones(len(ranked), bool)
    once[twice] = once[twice + 1] = False
    at_old, at_new = order[twice], order[twice + 1] - len(old_codes)
    odd = ranked[once]
    moved = old_codes[at_old][old["pair_s"][live][at_old] != fs[at_new]]
    for codes in (odd, moved):
        dirty[codes // max(n, 1)] = True
        dirty[codes % max(n, 1)] = True
    return dirty


def _labels(docs: StoryDocs, groups: list[Group], changed: np.ndarray,
            old: dict[str, np.ndarray] | None, old_at: np.ndarray) -> list[str]:
    """Each group's label: the saved one when the saved run had a group of
    the same members and none of them changed (a label reads its members'
    headlines, times and vectors only: :func:`kg.stories.story_labels`),
    else made anew."""
    was: dict[tuple[int, ...], str] = {}
    if old is not None:
        members = old_at[old["group_members"]].tolist()
        at = 0
        for size, label in zip(old["group_sizes"].tolist(),
                               unpack_strings(old["group_label_lens"], old["group_labels"])):
            was[tuple(members[at:at + size])] = label
            at += size
    flags = changed.tolist()
    labels = [None if any(flags[m] for m in g.members) else was.get(tuple(g.members))
              for g in groups]
    missing = [k for k, label in enumerate(labels) if label is None]
    for k, label in zip(missing, story_labels(docs, [groups[k].members for k in missing])):
        labels[k] = label
    return [label or "" for label in labels]


def _kept_groups(old: dict[str, np.ndarray], old_at: np.ndarray, comp: np.ndarray,
                 dirty: np.ndarray) -> tuple[list[Group], np.ndarray]:
    """The saved groups (in new indices) with no member dirty or gone, and the
    articles to link again: the dirty ones and the rest of their groups."""
    relink = dirty & (comp >= 0)
    kept: list[Group] = []
    sizes, scores = old["group_sizes"].tolist(), old["group_scores"].tolist()
    members = old_at[old["group_members"]].tolist()
    ma, mb = old_at[old["merge_a"]].tolist(), old_at[old["merge_b"]].tolist()
    mh = old["merge_h"].tolist()
    at = m = 0
    for size, score in zip(sizes, scores):
        group = members[at:at + size]
        at, m = at + size, m + size - 1
        if all(x >= 0 and not dirty[x] for x in group):
            kept.append(Group(group, score, list(zip(ma[m - size + 1:m], mb[m - size + 1:m],
                                                       mh[m - size + 1:m]))))
        else:
            relink[[x for x in group if x >= 0]] = True
    return kept, relink


def _merge_pairs(fresh: tuple[np.ndarray, np.ndarray, np.ndarray],
                 kept: tuple[np.ndarray, np.ndarray, np.ndarray], n: int,
                 in_order: bool = True) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two sets of scored pairs ``(scores, i, j)`` of ``n`` articles, each
    best first and then by ``i`` and ``j`` (``kept`` only if ``in_order``), as
    one in that order.  The pairs are few where a build changed little: they
    are put in their places among the kept ones rather than all sorted again.

    >>> s, i, j = _merge_pairs((np.array([.9, .5]), np.array([0, 2]), np.array([1, 3])),
    ...                        (np.array([.9, .7]), np.array([1, 0]), np.array([2, 3])), 4)
    >>> s.tolist(), i.tolist(), j.tolist()
    ([0.9, 0.9, 0.7, 0.5], [0, 1, 0, 2], [1, 2, 3, 3])
    """
    (fs, fi, fj), (ks, ki, kj) = fresh, kept
    ranks = np.union1d(ks[np.flatnonzero(np.diff(ks, prepend=np.inf))], fs)[::-1]  # best first
    if not in_order or len(ranks) * n * n >= 2**62:  # (one int64 key would overflow)
        s, i, j = np.concatenate([fs, ks]), np.concatenate([fi, ki]), np.concatenate([fj, kj])
        order = np.lexsort((j, i, -s))
        return s[order], i[order], j[order]

    def key(s: np.ndarray, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.searchsorted(-ranks, -s) * (n * n) + i * n + j

    at = np.searchsorted(key(ks, ki, kj), key(fs, fi, fj)) + np.arange(len(fs))
    is_fresh = np.zeros(len(fs) + len(ks), bool)
    is_fresh[at] = True
    merged = []
    for f, k in ((fs, ks), (fi, ki), (fj, kj)):
        both = np.empty(len(is_fresh), k.dtype)
        both[is_fresh], both[~is_fresh] = f, k
        merged.append(both)
    return merged[0], merged[1], merged[2]


def _near(times: np.ndarray, marks: np.ndarray, span: float) -> np.ndarray:
    """Which ``times`` are within ``span`` of one of ``marks`` (NaN: neither)."""
    marks = np.sort(marks[~np.isnan(marks)])
    if not len(marks):
        return np.zeros(len(times), bool)
    at = np.searchsorted(marks, times)
    after = marks[np.minimum(at, len(marks) - 1)]
    before = marks[np.maximum(at - 1, 0)]
    with np.errstate(invalid="ignore"):
        return (np.abs(after - times) <= span) | (np.abs(times - before) <= span)
