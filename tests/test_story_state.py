"""Incremental story detection (kg.story_state): after any change to a
corpus, the stories a saved state gives equal a cold ``find_stories`` of the
same files, and a state that cannot be trusted is not used."""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

import kg
from kg.graph import build_graph
from kg.stories import find_stories
from kg.story_state import StoryState, update_stories


def _graph(folder: Path):
    return build_graph(kg.load(folder))


def _edit(path: Path, key: str, value: str | None) -> None:
    """Set (or, with None, remove) a top-level YAML key of a file."""
    text = path.read_text(encoding="utf-8")
    line = re.compile(rf"^{key}:.*\n", re.M)
    assert line.search(text), f"{path} has no {key}"
    text = line.sub("" if value is None else f"{key}: {value}\n", text, count=1)
    path.write_text(text, encoding="utf-8")


def _generator():
    """benchmarks/generate_corpus.py, imported by path (benchmarks/ is no package)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "benchmarks" / "generate_corpus.py"
    spec = importlib.util.spec_from_file_location("generate_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _same_as_cold(state: StoryState, folder: Path) -> dict:
    g = _graph(folder)
    got = state.find(g)
    cold = find_stories(g)
    assert got == cold
    assert got, "the corpus has stories: the comparison means something"
    return dict(state.counts)


@pytest.fixture()
def facial(tmp_path, corpus_dir):
    folder = tmp_path / "c"
    shutil.copytree(corpus_dir("ai-facial"), folder)
    return folder


def test_every_kind_of_change_gives_the_cold_stories(facial, tmp_path):
    state = StoryState(tmp_path / "stories.state")
    counts = _same_as_cold(state, facial)
    assert counts["pairs_rescored"] > 0 and counts["pairs_kept"] == 0
    counts = _same_as_cold(state, facial)  # nothing changed: nothing recomputed
    assert counts["articles_changed"] == 0 and counts["texts_read"] == 0
    assert counts["pairs_rescored"] == 0 and counts["articles_relinked"] == 0
    assert counts["pairs_kept"] > 0

    files = sorted(facial.glob("*.md"))
    # a title changed
    _edit(files[10], "title", '"Clearview AI fined again by the ICO for scraping faces"')
    counts = _same_as_cold(state, facial)
    assert counts["articles_changed"] >= 1 and counts["texts_read"] == 1
    # a file removed, whose article no other file lists as related
    g = _graph(facial)
    unlisted = sorted(d["files"][0] for n, d in g.nodes(data=True)
                      if d["kind"] == "article" and len(d.get("files", ())) == 1
                      and not any(k == "related" for _, _, k in g.in_edges(n, keys=True)))
    (facial / Path(unlisted[0]).name).unlink()
    counts = _same_as_cold(state, facial)
    assert counts["articles_removed"] == 1
    # an article made undated (it borrows a time from its ties, or has none)
    _edit(files[30], "publishedDateTime", None)
    _same_as_cold(state, facial)
    # files appended: copies of others under new URLs and newer dates
    for k, src in enumerate(files[40:43]):
        new = facial / f"zz-appended-{k}.md"
        shutil.copyfile(src, new)
        _edit(new, "webUrl", f'"https://example.org/appended/{k}"')
        _edit(new, "originalUrl", f'"https://example.org/appended/{k}"')
        _edit(new, "publishedDateTime", f"2024-05-0{k + 1}T10:00:00Z")
    counts = _same_as_cold(state, facial)
    assert counts["articles"] >= 91 and counts["texts_read"] == 3
    # a related link added: the file's `related` list gains an entry
    target = files[50]
    text = target.read_text(encoding="utf-8")
    entry = ('related:\n  - title: "ICO fines Clearview AI over facial recognition database"\n'
             '    webUrl: "https://example.org/related/ico"\n')
    text = text.replace("\nrelated:\n", "\n" + entry, 1) if "\nrelated:\n" in text else \
        text.replace("\n---\n", "\n" + entry + "---\n", 1)
    target.write_text(text, encoding="utf-8")
    _same_as_cold(state, facial)


def test_a_change_recomputes_a_part_of_a_large_corpus(tmp_path):
    """In a corpus of many months, a title change rescores the pairs of its
    months only, and most components keep their groups."""
    folder = _generator().generate(3000, tmp_path / "c", 7)
    state = StoryState(tmp_path / "stories.state")
    cold = _same_as_cold(state, folder)
    files = sorted(folder.rglob("*.md"))
    _edit(files[len(files) // 2], "title", '"Parliament delays the vote on the budget"')
    counts = _same_as_cold(state, folder)
    assert counts["pairs_rescored"] < cold["pairs_rescored"] / 2
    assert counts["articles_relinked"] < cold["articles_relinked"] / 4


def test_a_state_linked_in_blocks_is_updated_like_one_linked_whole(tmp_path, monkeypatch):
    """A cold run over many pairs links a block of articles at a time
    (kg.linkage.LINK_BLOCK); the groups and the merges it saves are those of
    one run, so the next run's update equals a cold one."""
    from kg import linkage

    folder = _generator().generate(3000, tmp_path / "c", 7)
    g = _graph(folder)
    whole = find_stories(g)
    state = StoryState(tmp_path / "stories.state")
    with monkeypatch.context() as m:
        m.setattr(linkage, "LINK_BLOCK", 100)
        assert state.find(g) == whole
        assert state.counts["pairs_rescored"] > 10 * 100  # so that there were blocks
    files = sorted(folder.rglob("*.md"))
    _edit(files[len(files) // 3], "title", '"Parliament delays the vote on the budget"')
    counts = _same_as_cold(state, folder)
    assert 0 < counts["articles_relinked"] < len(files) / 4


@pytest.mark.parametrize("damage", ["truncate", "flip", "format", "garbage"])
def test_a_damaged_state_is_not_trusted(facial, tmp_path, damage):
    path = tmp_path / "stories.state"
    g = _graph(facial)
    ids, warnings = update_stories(g, path)
    assert ids and warnings == []
    raw = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(raw[: len(raw) // 2])
    elif damage == "flip":
        path.write_bytes(raw[:-40] + bytes([raw[-40] ^ 1]) + raw[-39:])
    elif damage == "format":
        path.write_bytes(raw.replace(b"newskg-stories", b"newskg-stoXies", 1))
    else:
        path.write_bytes(b"\x00\x01 not a state")
    state = StoryState(path)
    g = _graph(facial)
    assert state.find(g) == find_stories(g)
    assert state.warnings and "stories found anew" in state.warnings[0]
    assert state.counts["pairs_kept"] == 0  # nothing of the damaged state was used
    again = StoryState(path)  # and the state saved anew is sound
    assert again.find(_graph(facial)) == find_stories(g) and again.warnings == []
    assert again.counts["pairs_rescored"] == 0


def test_other_settings_start_afresh(facial, tmp_path):
    from datetime import timedelta

    path = tmp_path / "stories.state"
    g = _graph(facial)
    StoryState(path).find(g)
    state = StoryState(path)
    assert state.find(g, window=timedelta(days=3)) == find_stories(g, window=timedelta(days=3))
    assert state.counts["pairs_kept"] == 0 and state.warnings == []


def _score_arrays(pairs):
    """(scores, left, right) of (score, i, j) pairs, as kg.linkage takes them."""
    import numpy as np

    return (np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], np.int64),
            np.array([p[2] for p in pairs], np.int64))


def _linked(pairs, threshold, times, span):
    """The groups of one run over the pairs, each with its merges."""
    from kg.linkage import _split_merges, link_scored

    merges: list = []
    return _split_merges(link_scored(*_score_arrays(pairs), threshold, times, span, merges), merges)


def _relink(before, dirty, after, threshold, times, span, seed):
    """relink_groups once the ``dirty`` articles' pairs changed, checked
    against linking all the pairs ``after`` again: the articles to relink
    at the start, and at the end."""
    import numpy as np

    from kg.linkage import link_scored, relink_groups

    relink = np.zeros(len(times), bool)
    kept = []
    for g in before:
        if dirty & set(g.members):
            relink[g.members] = True
        else:
            kept.append(g)
    relink[list(dirty)] = True
    start = relink.copy()
    kept, linked = relink_groups(*_score_arrays(after), relink, kept, threshold, times, span)
    got = sorted((g.members, g.score) for g in kept + linked)
    assert got == sorted(link_scored(*_score_arrays(after), threshold, times, span)), seed
    return start, relink


def test_relinking_part_of_the_articles_gives_the_groups_of_all():
    """kg.linkage.relink_groups: on random score graphs where the pairs and
    times of a few articles change, the kept groups of the last run plus the
    relinked ones equal linking everything again (scores in eighths: exact
    sums and many ties)."""
    import itertools
    import random

    grew = partial = 0
    for seed in range(400):
        rng = random.Random(seed)
        n = rng.randint(4, 30)
        density = rng.uniform(0.1, 0.5)
        pairs = {(i, j): rng.randint(1, 8) / 8 for i, j in itertools.combinations(range(n), 2)
                 if rng.random() < density}
        times = [rng.choice([None, 0.0, 1.0, 2.0, 3.0]) for _ in range(n)]
        threshold, span = rng.choice([0.25, 0.375, 0.5]), rng.choice([1.0, 2.0, 10.0])
        before = _linked([(s, i, j) for (i, j), s in pairs.items()], threshold, times, span)
        dirty = set(rng.sample(range(n), rng.randint(1, 2)))
        for d in dirty:
            if rng.random() < 0.3:
                times[d] = rng.choice([None, 0.0, 1.0, 2.0, 3.0])
            for other in range(n):
                key = (min(d, other), max(d, other))
                if other != d and rng.random() < density:
                    pairs[key] = rng.randint(1, 8) / 8
                elif rng.random() < 0.5:
                    pairs.pop(key, None)
        after = [(s, i, j) for (i, j), s in sorted(pairs.items())]
        start, relink = _relink(before, dirty, after, threshold, times, span, seed)
        grew += int(relink.sum()) > int(start.sum())
        partial += int(relink.sum()) < n
    assert grew > 20 and partial > 100, (grew, partial)  # both ways were taken


def test_relinking_islands_that_settle_in_different_rounds_gives_the_groups_of_all():
    """kg.linkage.relink_groups links again only the components of the
    relinked articles that took in a kept group in the last round; on
    several unconnected random score graphs at once (islands), where one
    island stops growing while another grows on, the result still equals
    linking everything again."""
    import itertools
    import random

    uneven = 0
    for seed in range(300):
        rng = random.Random(seed)
        threshold, span = rng.choice([0.25, 0.375, 0.5]), rng.choice([1.0, 2.0, 10.0])
        pairs: dict[tuple[int, int], float] = {}
        times: list[float | None] = []
        islands: list[range] = []
        dirty: set[int] = set()
        for _ in range(rng.randint(2, 4)):
            first, n = len(times), rng.randint(4, 20)
            island = range(first, first + n)
            islands.append(island)
            density = rng.uniform(0.2, 0.6)
            pairs.update({(i, j): rng.randint(1, 8) / 8 for i, j in itertools.combinations(island, 2)
                          if rng.random() < density})
            times += [rng.choice([None, 0.0, 1.0, 2.0, 3.0]) for _ in island]
            if rng.random() < 0.8:
                dirty.add(rng.choice(island))
        before = _linked([(s, i, j) for (i, j), s in sorted(pairs.items())], threshold, times, span)
        for d in dirty:  # new scores with the rest of its island
            island = next(r for r in islands if d in r)
            for other in island:
                key = (min(d, other), max(d, other))
                if other != d and rng.random() < 0.5:
                    pairs[key] = rng.randint(1, 8) / 8
        after = [(s, i, j) for (i, j), s in sorted(pairs.items())]
        start, relink = _relink(before, dirty, after, threshold, times, span, seed)
        grown = {any(relink[x] and not start[x] for x in island) for island in islands
                 if start[island.start:island.stop].any()}
        uneven += grown == {True, False}  # one island grew, another did not
    assert uneven > 30, uneven


@pytest.mark.parametrize("seed", range(20))
def test_merged_pairs_are_in_the_order_a_full_sort_gives(seed):
    """Rescored pairs put among the kept ones (kg.story_state._merge_pairs)
    land where sorting all of them would put them: best first, then by ends,
    ties of rounded scores included."""
    import numpy as np

    from kg.story_state import _merge_pairs

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 40))
    codes = np.unique(rng.integers(0, n * n, int(rng.integers(0, 300))))
    i, j = np.divmod(codes, n)
    i, j = np.minimum(i, j)[i != j], np.maximum(i, j)[i != j]
    s = np.round(rng.random(len(i)) * rng.choice([0.01, 1.0]), 2)  # few scores: many ties
    order = np.lexsort((j, i, -s))
    s, i, j = s[order], i[order], j[order]
    fresh = rng.random(len(s)) < rng.random()
    merged = _merge_pairs((s[fresh], i[fresh], j[fresh]), (s[~fresh], i[~fresh], j[~fresh]), n)
    assert [x.tolist() for x in merged] == [s.tolist(), i.tolist(), j.tolist()]
    shuffled = rng.permutation(int((~fresh).sum()))  # kept pairs out of order: sorted anyway
    kept = (s[~fresh][shuffled], i[~fresh][shuffled], j[~fresh][shuffled])
    merged = _merge_pairs((s[fresh], i[fresh], j[fresh]), kept, n, in_order=False)
    assert [x.tolist() for x in merged] == [s.tolist(), i.tolist(), j.tolist()]
