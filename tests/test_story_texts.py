"""The article texts story detection keeps between builds (kg.story_texts):
taken from an earlier run where an article's fields are as they were, they
equal texts read anew, whatever changed; and story labels kept by a saved
state are those a cold run gives."""

from __future__ import annotations

import random

import numpy as np
import pytest

import kg
from kg.graph import build_graph
from kg.stories import find_stories
from kg.story_state import StoryState
from kg.story_texts import ArticleTexts, article_texts, pack_strings, unpack_strings


def _articles(g) -> list[str]:
    return sorted(n for n, d in g.nodes(data=True) if d["kind"] == "article")


@pytest.fixture(scope="module")
def real_graph(corpus_dir):
    return build_graph(kg.load(corpus_dir("real")))


def _scramble(g, rng: random.Random) -> int:
    """Edit, add and remove articles of ``g`` at random: how many articles'
    texts changed or are new."""
    ids = _articles(g)
    changed = 0
    edited = rng.sample(ids, 12)
    for a in edited:
        d = g.nodes[a]
        field = rng.choice(["title", "excerpt", "lead", "url", "published"])
        if field == "published":  # not a text: read again it is not
            continue
        donor = g.nodes[rng.choice(ids)]
        before = d.get(field)
        if field == "lead" and rng.random() < 0.5:
            d.pop("lead", None)
        else:
            d[field] = donor.get(field) or (before or "") + " Fresh words: zebra 42 Tbilisi"
        changed += d.get(field) != before
    for a in rng.sample(sorted(set(ids) - set(edited)), 5):
        g.remove_node(a)
    for k in range(4):
        donor = g.nodes[rng.choice(_articles(g))]
        g.add_node(f"article/new-{rng.random()}-{k}", **{**donor, "title": f"A new headline {k} on Mars"})
        changed += 1
    return changed


@pytest.mark.parametrize("seed", range(6))
def test_texts_taken_from_an_earlier_run_equal_texts_read_anew(real_graph, seed):
    g = real_graph.copy()
    g.graph.update(real_graph.graph)
    texts = article_texts(g, _articles(g), keyed=True)
    assert texts.fresh == len(texts.ids) and len(texts.words) > 1000
    rng = random.Random(seed)
    for _ in range(3):  # changes upon changes: each run from the last
        changed = _scramble(g, rng)
        ids = _articles(g)
        again = article_texts(g, ids, known=texts)
        anew = article_texts(g, ids, keyed=True)
        assert again == anew
        assert np.array_equal(again.keys, anew.keys)
        assert again.fresh == changed
        texts = again


def test_texts_read_back_from_their_arrays(real_graph):
    texts = article_texts(real_graph, _articles(real_graph), keyed=True)
    back = ArticleTexts.from_arrays(texts.ids, texts.arrays())
    assert back == texts and np.array_equal(back.keys, texts.keys)
    cut = texts.arrays()
    cut["text_marks_lens"] = cut["text_marks_lens"][:-1]
    with pytest.raises(ValueError):
        ArticleTexts.from_arrays(texts.ids, cut)


def test_strings_of_any_text_are_packed():
    strings = ["", "plain", "a\0b", "\ud800 lone surrogate", "é\n\t", ""]
    assert unpack_strings(*pack_strings(strings)) == strings
    lens, text = pack_strings(strings)
    with pytest.raises(ValueError):
        unpack_strings(lens[:-2], text)


def test_a_kept_label_changes_when_its_headline_does(corpus_dir, tmp_path):
    """A label is kept from the saved run only while none of its members
    changed: the headline a label was taken from, edited, gives the new one."""
    g = build_graph(kg.load(corpus_dir("ai-facial")))
    state = StoryState(tmp_path / "stories.state")
    before = state.find(g)
    story = max(before, key=lambda s: len(s.members))
    source = next(a for a in story.members if g.nodes[a]["title"].startswith(story.label))
    g.nodes[source]["title"] = story.label + " as first reported"
    after = state.find(g)
    assert after == find_stories(g)
    assert state.counts["texts_read"] == 1 and state.counts["groups_kept"] > 0
    # (the labels the saved state holds would not do)
    assert {s.label for s in after} != {s.label for s in before}


@pytest.mark.parametrize("split_min", [2, 101])
def test_texts_read_in_two_processes_equal_texts_read_in_one(real_graph, monkeypatch, split_min):
    """Above ``SPLIT_MIN`` articles, a forked copy reads half of them: the
    joined halves are the whole's, whichever half holds which words."""
    from kg import story_texts

    ids = _articles(real_graph)
    one = article_texts(real_graph, ids, keyed=True)
    monkeypatch.setattr(story_texts, "SPLIT_MIN", split_min)
    pids: list[int] = []
    forked = story_texts.Forked

    class Counted(forked):  # type: ignore[misc,valid-type]
        def __init__(self, *args):
            super().__init__(*args)
            pids.append(self._pid)

    monkeypatch.setattr(story_texts, "Forked", Counted)
    two = article_texts(real_graph, ids, keyed=True)
    assert len(pids) == 1 and pids[0] > 0  # the second half was read by a child
    assert two == one and two.marks == one.marks
    # Fewer articles than SPLIT_MIN: no child.
    few = ids[:split_min - 1]
    assert article_texts(real_graph, few, keyed=True) == article_texts(real_graph, few)
    assert len(pids) == 1
    # No memory to spare for a copy of this process: no child either.
    monkeypatch.setattr(story_texts, "room_to_fork", lambda: False)
    assert article_texts(real_graph, ids, keyed=True) == one and len(pids) == 1


def test_room_to_fork_compares_the_memory_available_with_this_process(tmp_path, monkeypatch):
    from kg import _perf

    pages = 1_000_000  # resident, 4 GB of 4 KiB pages
    statm = tmp_path / "statm"
    statm.write_text(f"2000000 {pages} 10 1 0 50 0\n")
    monkeypatch.setattr(_perf, "_STATM", str(statm))
    monkeypatch.setattr(_perf.os, "sysconf", lambda name: 4096)
    meminfo = tmp_path / "meminfo"
    monkeypatch.setattr(_perf, "_MEMINFO", str(meminfo))
    for available_kb, room in ((9_000_000, True), (7_000_000, False)):
        meminfo.write_text(f"MemTotal: 16000000 kB\nMemFree: 1 kB\nMemAvailable: {available_kb} kB\n")
        assert _perf.room_to_fork() is room
    meminfo.write_text("MemTotal: 16000000 kB\n")  # an old kernel: no MemAvailable
    assert _perf.room_to_fork() is True


def test_a_failure_in_the_forked_half_is_raised_here(real_graph, monkeypatch):
    from kg import story_texts

    monkeypatch.setattr(story_texts, "SPLIT_MIN", 2)
    ids = _articles(real_graph)
    g = real_graph.copy()
    g.nodes[ids[-1]]["title"] = None  # not text: fails in the child, which reads the second half
    with pytest.raises(TypeError, match="NoneType"):
        article_texts(g, ids)
