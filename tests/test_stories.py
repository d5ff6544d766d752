"""Stories (same-event groups).

The labelled pairs below were built by reading the corpora (title, excerpt,
date and provider of each article; ids are ``article/<hash of canonical URL>``).
A *story* here is what DESIGN.md defines: the same event carried with
near-identical headline or text by several outlets (wire copy, syndication,
republication).  Independent write-ups of one event (the UK ICO fine told
in fifteen different ways) are not story pairs: they are what the topic
clusters group, and are left out of the labelled set rather than labelled
either way.  Negatives are hard on purpose: other Clearview AI events in the
same weeks, the same daily headline on another day, the same state's figures
a day later.
"""

from __future__ import annotations

import itertools
import random
from datetime import timedelta

import numpy as np
import pytest

import kg
from kg import blocking, stories, story_docs
from kg.graph import build_graph

# -- labelled pairs ------------------------------------------------------------
# ai-facial: groups of syndicated copies of one event.
AIF_SAME = {
    # "Watchdogs order Clearview AI to stop using facial recognition tool ..." (CP wire)
    "canada": "6919edf97fe1ce17 f44808e79b4f0211 05eedda8accda744 86e3d03048e275d8 13d651177336f2b7",
    # "Worcester bans (city) use of (controversial) facial recognition technology" (AP)
    "worcester": "e1bee6dae58838f9 8373b665cde0dc69 e8ae449879e1d855",
    # "Survey sheds light on police use of facial recognition" (CNHI papers)
    "survey": "3ce6c543f6928f46 2add5ffa6c7e5a20 fe86be86d744512b",
    # "France ... CNIL has ordered ... Clearview AI that has collected 10 billion images" (Reuters)
    "france-reuters": "57b8724142950bd2 0020c9fa79f570fb 837aaa903ff7028f",
    # "Our casual use of facial analysis tools ..." (The Conversation, republished)
    "casual-use": "cd784a51e33d9b06 7dd2b31c0b574bbf",
    # "Facial Recognition Systems Regulation: Outlook for 2022" (two URLs)
    "frs-outlook": "4fb80a2b686ace60 8bf76e55921e0118",
    # research-live: "Facial recognition company fined by ICO (following data breach)"
    "ico-research-live": "8defd96f18e60cf6 657e73b27fe55eef",
}
# ai-facial: every article of one event group is a different story from
# every article of another (these groups include the independent write-ups).
AIF_EVENTS = {
    "uk-ico-fine": "b2963e1a8b886896 b7d222dedf851209 8740715d998bad58 9e6aee0b9f6f44b5 "
                   "cb4add67faad85a9 33a7f51486e3485c 2ce774d7c2f7ecc5 c64f6764b7bca8fc "
                   "55d806631979221f 469e74fca7d54d04 8defd96f18e60cf6 657e73b27fe55eef "
                   "a619625140671a37 5087351d85fb1b63 c72d4873d7fff051",
    "patent": "8f1fffc2b75b7dd6 ae39babcb478eb33 f85f05c5fd31079f 50c83179e33b8bf6 "
              "cec5a6f26bd38984 995af151bd8b0364",
    "canada": AIF_SAME["canada"],
    "france": "57b8724142950bd2 94993374196cc2ca 0020c9fa79f570fb 837aaa903ff7028f "
              "926e20c82787993e e9453170c502f018 eabd161a4bac7e15",
    "worcester": AIF_SAME["worcester"],
    "xpeng": "04f3b0dadecc5748 128b239017329481",
    "airports": "6c133f29251f43b6 a7a5c78266f8b0db",
    "survey": AIF_SAME["survey"],
    "casual-use": "cd784a51e33d9b06 7dd2b31c0b574bbf ac453ea1cc67b51f 1b6800bc1bd6682c",
    "frs-outlook": AIF_SAME["frs-outlook"],
    "sensetime": "1c7b89b2fbbf9934 21232cb88f997530 9f1557d764de4b07 a602468bd2b7023b",
}
# real: wire stories carried by two outlets (or one outlet under two URLs).
REAL_SAME = """
2753773693e5c6ad 631f47e9ca694ab1  Abe: no Tokyo Olympics unless COVID-19 contained (NPR, NHPR)
47942088d67cd873 27e70cb106e76616  Tokyo Olympics difficult without vaccine, JMA says
55a717d60aa32df0 d21149a95857d814  teacher appreciation week during school closures
3646feeb00cf5de6 235e444525395036  Airbnb laying off 1,900 employees
ed6b74bb938f7dfb 278f980f6d019bb9  Canada to do millionth coronavirus test
54e2e220a2962e08 5ed79cdf66970b8b  Fourth of July parade canceled in Alameda
9cee8fcb44fbfb08 b0b148002657b62f  Factbox: impact on sports events
3228656fa1fe1b55 69778d7e4a501f26  Nebraska health officials report 4 more deaths (U.S. News, AP)
5a534485ecb7ced7 f8758efc953c3144  New Hampshire hits high of 19 deaths
f6377ed60a91788f 85cebe95e7c9a95d  North Dakota single-day high of 6 deaths
ffd6872ee57848db a70fee9393cbdfc2  Nova Scotia reports seven new cases
f91f7493a9266560 87c981590018e7f9  Oklahoma cases top 4,200
bfef64716664a51b 36d8ccec58299a2b  Oklahoma medical pot record sales
f7c72bd4b9f62a75 b9a123836b0815d1  Ontario to collect race-based data
b269bc56d7f6789f 1564b0895cd2f1a3  Pennsylvania governor prefers federal aid
05c25a3ab0426076 43aecb4caa7f60cc  Quebec to collect data on race (CTV, two URLs)
2bf1baf1e3de31df bf023d7a35f8b337  Saskatchewan premier satisfied with testing
4274f5212c6cba95 27ff7b31edfd83ac  South Carolina to test nursing homes
3654cd6bdaccfe2f 0e10236654be5ca3  Spain averts political crisis
87243250063d40ee 0ac5055c5b968e0c  Spain extends state of emergency
78294d929823c525 cb7bf5e9458684dc  Stock market wrap-up (Nasdaq, Motley Fool)
bf13bf6917730a3a 1aa38ec81d33a422  grim outlook for North Dakota economy
4ecd444a9fe49cab 165356287050da78  Twenty-five new cases in Saskatchewan
f92fcf9aaca6f495 0a65794450244343  University of Tennessee fall semester
7c51d9464cda6902 39e57e59c05f62ae  West Virginia summer food program
144bd41f4963303d 5fbde2b4a9d984b9  138 employees at California meat plant
1840161209c1523e 1dc9fcce11756af2  138 employees at central California meat plant
144bd41f4963303d 1840161209c1523e  (the same two stories under both headlines)
5fbde2b4a9d984b9 1dc9fcce11756af2
34dc7498b91a48de 03f659e72af53c30  National Frozen Foods outbreak
fc7cda14fe17787d 8a500451112fd0b3  Alaska cruise ship cancellations
4f8e5c42138889a2 8936c0f541485412  Mark Cuban adds to Twitter stake (CNBC, two URLs)
"""
REAL_DIFFERENT = """
a00f62ef3a15292e fb6e31b85fb8336c  "The latest developments on COVID-19 in Canada", 13 vs 14 March
a00f62ef3a15292e 0dcdad211d4d95c4  ... 13 vs 15 March
a00f62ef3a15292e ec920dbcd0996866  ... 13 vs 16 March
fb6e31b85fb8336c 0dcdad211d4d95c4  ... 14 vs 15 March
fb6e31b85fb8336c ec920dbcd0996866  ... 14 vs 16 March
0dcdad211d4d95c4 ec920dbcd0996866  ... 15 vs 16 March
2df6ba47fb9b5f89 9ba33ae8ff099af5  ... 8 vs 9 May
3228656fa1fe1b55 7e0fd47c9c2663e6  Nebraska 4 more deaths (6 May) vs total to 86 (7 May)
3228656fa1fe1b55 4fd0a5ca4cd67199
69778d7e4a501f26 7e0fd47c9c2663e6
69778d7e4a501f26 4fd0a5ca4cd67199
47942088d67cd873 2753773693e5c6ad  Japan Medical Association vs Abe on the Olympics
2bf1baf1e3de31df 4ecd444a9fe49cab  Saskatchewan premier on testing vs 25 new cases
f6377ed60a91788f bf13bf6917730a3a  North Dakota deaths vs North Dakota economy study
f91f7493a9266560 bfef64716664a51b  Oklahoma cases vs Oklahoma medical pot sales
"""


def _ids(text: str) -> list[str]:
    return ["article/" + x for x in text.split()]


def _pairs(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.strip().splitlines():
        a, b = line.split()[:2]
        out.append(("article/" + a, "article/" + b))
    return out


def labelled_pairs() -> tuple[list, list]:
    """(same-story pairs, different-story pairs) as (corpus, id, id)."""
    same = [("ai-facial", a, b) for m in AIF_SAME.values()
            for a, b in itertools.combinations(_ids(m), 2)]
    same += [("real", a, b) for a, b in _pairs(REAL_SAME)]
    diff = [("ai-facial", a, b)
            for g1, g2 in itertools.combinations(sorted(AIF_EVENTS), 2)
            for a in _ids(AIF_EVENTS[g1]) for b in _ids(AIF_EVENTS[g2])]
    diff += [("real", a, b) for a, b in _pairs(REAL_DIFFERENT)]
    return same, diff


@pytest.fixture(scope="module")
def graphs(corpus_dir):
    return {name: build_graph(kg.load(corpus_dir(name))) for name in ("ai-facial", "real")}


def precision_recall(graphs, threshold: float, window: timedelta = stories.DEFAULT_WINDOW):
    same, diff = labelled_pairs()
    story_of = {}
    for name, g in graphs.items():
        for s in stories.find_stories(g, threshold=threshold, window=window):
            for a in s.members:
                story_of[(name, a)] = s.id

    def together(c, a, b):
        return (c, a) in story_of and story_of[(c, a)] == story_of.get((c, b))

    tp = sum(together(*p) for p in same)
    fp = sum(together(*p) for p in diff)
    precision = tp / (tp + fp) if tp + fp else 0.0
    return precision, tp / len(same)


# -- tests -----------------------------------------------------------------------

def test_labelled_pairs_exist_in_the_corpora(graphs):
    same, diff = labelled_pairs()
    assert len(same) >= 40 and len(diff) >= 500
    for corpus, a, b in same + diff:
        assert a in graphs[corpus] and b in graphs[corpus], (corpus, a, b)
        assert graphs[corpus].nodes[a]["kind"] == "article"


@pytest.mark.corpus
def test_precision_and_recall_on_labelled_pairs(graphs):
    precision, recall = precision_recall(graphs, stories.DEFAULT_THRESHOLD)
    print(f"threshold {stories.DEFAULT_THRESHOLD}: precision {precision:.3f} recall {recall:.3f}")
    assert precision >= 0.9
    assert recall >= 0.9


@pytest.mark.corpus
def test_threshold_is_a_real_trade_off(graphs):
    # Too low merges different events, too high splits wire copies: the
    # labelled set can tell them apart, so it can fail a bad threshold.
    low_p, low_r = precision_recall(graphs, 0.1)
    high_p, high_r = precision_recall(graphs, 0.95)
    assert low_p < 0.9
    assert high_r < 0.9


@pytest.mark.corpus
def test_window_keeps_a_daily_headline_apart(graphs):
    g = graphs["real"]
    canada = ["article/" + x for x in "a00f62ef3a15292e fb6e31b85fb8336c 0dcdad211d4d95c4 ec920dbcd0996866".split()]
    found = stories.find_stories(g)
    for s in found:
        assert len(set(s.members) & set(canada)) <= 2, s
    for s in found:
        times = [g.nodes[a]["published"] for a in s.members]
        assert max(times) - min(times) <= stories.DEFAULT_WINDOW


def test_seed_story_nodes_and_edges(seeds_dir):
    g = build_graph(kg.load(seeds_dir))
    ids = stories.add_stories(g)
    assert len(ids) == 1
    node = g.nodes[ids[0]]
    assert node["kind"] == "story"
    assert node["method"] == stories.METHOD
    assert node["threshold"] == stories.DEFAULT_THRESHOLD
    assert node["size"] == 3 and stories.DEFAULT_THRESHOLD <= node["score"] <= 1
    assert "sources" not in node
    members = sorted(u for u, _, k in g.in_edges(ids[0], keys=True) if k == "inStory")
    assert ids[0] == stories.story_id(members)
    urls = sorted(g.nodes[m]["url"] for m in members)
    assert all("worcester" in g.nodes[m]["title"].lower() for m in members), urls
    providers = {v for m in members for _, v, k in g.out_edges(m, keys=True) if k == "publishedBy"}
    assert len(providers) == 3  # AP, carried by Omaha.com and the New York Post, and WGBH
    for m in members:
        assert g.edges[m, ids[0], "inStory"] == {"rel": "inStory"}


def test_add_stories_is_idempotent_and_deterministic(seeds_dir):
    g1 = build_graph(kg.load(seeds_dir))
    g2 = build_graph(kg.load(seeds_dir))
    a = stories.add_stories(g1)
    assert stories.add_stories(g1) == a == stories.add_stories(g2)
    assert sorted(g1.nodes(data=True)) == sorted(g2.nodes(data=True))
    assert sum(1 for n, k in g1.nodes(data="kind") if k == "story") == len(a)
    none = stories.add_stories(g1, threshold=1.5)
    assert none == [] and not any(k == "story" for _, k in g1.nodes(data="kind"))


def test_bad_threshold_raises(seeds_dir):
    g = build_graph(kg.load(seeds_dir))
    with pytest.raises(ValueError):
        stories.find_stories(g, threshold=-0.1)


def _reference_candidates(docs, window: float) -> set[tuple[int, int]]:
    """The candidate pairs as the first, pure-Python version found them."""
    from bisect import bisect_left, bisect_right
    vectors = [docs.vector(i) for i in range(len(docs.ids))]
    order = sorted((t, i) for i, t in enumerate(docs.times) if t is not None)
    post: dict[int, list[int]] = {}
    for _, i in order:
        for w in vectors[i]:
            post.setdefault(w, []).append(i)
    pairs = set()
    for t, i in order:
        slices = []  # of its rarest terms (in its months) that others in the window hold too
        lo_i, hi_i = docs.ptr[i], docs.ptr[i + 1]
        rarity = dict(zip(docs.terms[lo_i:hi_i].tolist(), docs.rarity[lo_i:hi_i].tolist()))
        for w in sorted(vectors[i], key=rarity.__getitem__):
            times = [docs.times[j] for j in post[w]]
            lo, hi = bisect_left(times, t - window), bisect_right(times, t + window)
            if 1 < hi - lo <= blocking.MAX_POSTINGS:
                slices.append(set(post[w][lo:hi]))
            if len(slices) == blocking.KEYS:
                break
        if not slices:
            continue
        shared = {j: sum(j in s for s in slices) for j in set().union(*slices) if j != i}
        found = [j for j, k in shared.items() if k >= 2 or len(slices) == 1]
        # the MAX_CANDIDATES sharing the most keys, then the nearest in time
        found.sort(key=lambda j: (-shared[j], abs(docs.times[j] - t), docs.times[j], j))
        pairs.update((min(i, j), max(i, j)) for j in found[:blocking.MAX_CANDIDATES])
    return pairs


def test_candidates_and_screening_match_a_plain_computation(graphs, monkeypatch):
    g = graphs["real"]
    docs = stories.StoryDocs(g)
    n = len(docs.ids)
    for days in (4, 14):
        span = days * 86400.0
        found = {divmod(c, n) for c in docs.candidates(span).tolist()}
        assert found == _reference_candidates(docs, span)
        # Where an article's candidates are cut (MAX_CANDIDATES): the same cut.
        with monkeypatch.context() as m:
            m.setattr(blocking, "MAX_CANDIDATES", 5)
            few = {divmod(c, n) for c in docs.candidates(span).tolist()}
            assert few == _reference_candidates(docs, span) and len(few) < len(found) / 2
        # Expanded a few owners at a time (as at a million articles): the same pairs.
        with monkeypatch.context() as m:
            m.setattr(blocking, "_BLOCK", 50)
            assert {divmod(c, n) for c in docs.candidates(span).tolist()} == found
        # And owners looked up a block at a time: the same pairs.
        with monkeypatch.context() as m:
            m.setattr(blocking, "_OWNERS", 97)
            assert {divmod(c, n) for c in docs.candidates(span).tolist()} == found
        related = {divmod(c, n) for c in docs.related_pairs().tolist()}
        assert related == {tuple(sorted((docs.index[u], docs.index[v])))
                           for u, v, k in g.edges(keys=True)
                           if k == "related" and u != v and u in docs.index and v in docs.index}
        # Screening by approximate cosines must keep every pair that an
        # exact score puts at or above the floor, with the exact score.
        for floor in (0.1, 0.3):
            expect = []
            cands = sorted(found | {(i, j) for i, j in related
                                    if abs(docs.times[i] - docs.times[j]) <= span})
            left = np.array([i for i, _ in cands], np.int64)
            right = np.array([j for _, j in cands], np.int64)
            cosines = np.array([docs.cosine(i, j) for i, j in cands])
            is_related = np.array([p in related for p in cands], bool)
            scores = docs.pair_scores(left, right, cosines, is_related, span)
            rounded = np.round(np.minimum(scores, 1.0), 4).tolist()
            expect = [(r, i, j) for s, r, (i, j) in zip(scores.tolist(), rounded, cands) if s >= floor]
            expect.sort(key=lambda x: (-x[0], x[1], x[2]))
            got = docs.scored_arrays(timedelta(days=days), floor)
            assert list(zip(*(a.tolist() for a in got))) == expect
            # Scored a few pairs at a time, two blocks at once: the same, in the same order.
            with monkeypatch.context() as m:
                m.setattr(story_docs, "_SCORE_BLOCK", 101)
                again = docs.scored_arrays(timedelta(days=days), floor)
            assert len(cands) > 10 * 101 and len(got[0]) > 100
            assert all(np.array_equal(a, b) for a, b in zip(again, got))


def test_stories_of_copies_of_a_corpus(graphs):
    """Behaviour at scale, at a size that runs in a moment: the real corpus
    copied four times, 120 days apart, finds each copy's stories again (its
    timing at 26 copies, 100,000 articles, is benchmarks/bench_stories.py)."""
    import networkx as nx
    base = graphs["real"]
    big = nx.MultiDiGraph()
    arts = [(n, d) for n, d in base.nodes(data=True) if d["kind"] == "article"]
    for copy in range(4):
        shift = timedelta(days=120 * copy)
        for n, d in arts:
            attrs = {"kind": "article", "title": d["title"], "excerpt": d.get("excerpt", "")}
            if "published" in d:
                attrs["published"] = d["published"] + shift
            big.add_node(f"{n}-{copy}", **attrs)
        for u, v, k in base.edges(keys=True):
            if k == "related":
                big.add_edge(f"{u}-{copy}", f"{v}-{copy}", key=k, rel=k)
    assert big.number_of_nodes() == 4 * len(arts)
    found = stories.find_stories(big)
    one = len(stories.find_stories(base))
    assert one > 100
    assert len(found) >= 3 * one  # each copy finds (about) its own stories
    assert found == stories.find_stories(big)  # deterministic
    members = [a for s in found for a in s.members]
    assert len(members) == len(set(members))  # no article in two stories
    for s in found:
        assert len(s.members) >= 2 and s.id == stories.story_id(s.members)
        times = [big.nodes[a]["published"] for a in s.members]
        assert max(times) - min(times) <= stories.DEFAULT_WINDOW


@pytest.mark.parametrize("entry", ["find_stories", "add_stories", "similar_pairs"])
def test_entry_points_pause_the_collector_and_give_it_back(seeds_dir, entry):
    import gc
    import sys

    g = build_graph(kg.load(seeds_dir))
    arts = [n for n, k in g.nodes(data="kind") if k == "article"]
    calls = {"find_stories": lambda: stories.find_stories(g),
             "add_stories": lambda: stories.add_stories(g),
             "similar_pairs": lambda: stories.similar_pairs(g, arts, floor=0.3,
                                                            window=stories.DEFAULT_WINDOW)}
    ours = {sys.modules["kg.stories"].__file__, sys.modules["kg.text"].__file__}
    collections = []

    def count(phase, info):
        frame = sys._getframe(1)
        while phase == "start" and frame is not None:
            if frame.f_code.co_filename in ours:  # a collection inside the entry point
                collections.append(frame.f_code.co_name)
                break
            frame = frame.f_back

    thresholds = gc.get_threshold()
    gc.set_threshold(1)  # without the pause, a collection every few allocations
    gc.callbacks.append(count)
    try:
        assert gc.isenabled()
        assert calls[entry]()
        assert gc.isenabled()  # given back as found
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*thresholds)
    assert collections == []


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["real", "ai-facial"])
def test_targets_of_issue_19_on_the_labelled_events(corpus_dir, name):
    """B-cubed F1 >= 0.90, B-cubed recall >= 0.85 and pairwise precision >=
    0.90 on the labelled events of tests/data (benchmarks/stories_eval.py
    prints the figures and the per-event table)."""
    import importlib.util
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "stories_eval.py"
    spec = importlib.util.spec_from_file_location("stories_eval", script)
    assert spec is not None and spec.loader is not None
    ev = sys.modules.get("stories_eval")
    if ev is None:
        ev = importlib.util.module_from_spec(spec)
        sys.modules["stories_eval"] = ev  # dataclasses look their module up by name
        spec.loader.exec_module(ev)
    result = ev.run_corpus(name, Path(corpus_dir(name)).parent)
    assert not result.unknown_urls
    assert result.targets == {"bcubed_f1": True, "bcubed_recall": True,
                              "pairwise_precision": True}, ev.report(result)


# -- grouping ------------------------------------------------------------------------

def test_average_linkage_does_not_chain_two_events_through_one_article():
    from kg.linkage import average_linkage

    # Event A = 0, 1, 2; event B = 4, 5, 6; article 3 is close to 2 and to 4.
    strong = [(0.8, a, b) for ev in ((0, 1, 2), (4, 5, 6)) for a, b in itertools.combinations(ev, 2)]
    bridge = [(0.9, 2, 3), (0.9, 3, 4)]
    groups = average_linkage(strong + bridge, 0.3, [0.0] * 7, 10.0)
    members = [set(m) for m, _ in groups]
    assert not any({0, 6} <= m for m in members), groups  # single linkage would give one group
    assert any({0, 1, 2} <= m for m in members) and any({4, 5, 6} <= m for m in members)


def _greedy_average_linkage(pairs, threshold, times, span):
    """The definition, by brute force: merge the two groups of the highest
    mean score (ties: the lowest labels) that fit the window, while it
    reaches ``threshold``."""
    score = {(i, j): s for s, i, j in pairs} | {(j, i): s for s, i, j in pairs}
    groups = {x: [x] for _, i, j in pairs for x in (i, j)}
    merges: dict[int, list[float]] = {}
    while True:
        best = None
        for a, b in itertools.combinations(sorted(groups), 2):
            mean = (sum(score.get((x, y), 0.0) for x in groups[a] for y in groups[b])
                    / (len(groups[a]) * len(groups[b])))
            when = [times[x] for x in groups[a] + groups[b] if times[x] is not None]
            fits = not when or max(when) - min(when) <= span
            if mean >= threshold and fits and (best is None or (-mean, a, b) < best):
                best = (-mean, a, b)
        if best is None:
            break
        neg, a, b = best
        groups[a] += groups.pop(b)
        merges[a] = merges.get(a, []) + merges.pop(b, []) + [-neg]
    return sorted((sorted(groups[r]), round(sum(m) / len(m), 4)) for r, m in merges.items())


@pytest.mark.parametrize("seed", range(60))
def test_average_linkage_is_the_greedy_definition(seed):
    # random sparse score graphs, scores in eighths so that sums and ties are exact
    from kg.linkage import average_linkage

    rng = random.Random(seed)
    n = rng.randint(2, 14)
    pairs = [(rng.randint(1, 8) / 8, i, j) for i, j in itertools.combinations(range(n), 2)
             if rng.random() < 0.45]
    times = [rng.choice([None, 0.0, 1.0, 2.0, 3.0]) for _ in range(n)]
    threshold, span = rng.choice([0.25, 0.375, 0.5]), rng.choice([1.0, 2.0, 10.0])
    assert sorted(average_linkage(pairs, threshold, times, span)) == \
        _greedy_average_linkage(pairs, threshold, times, span)


@pytest.mark.parametrize("seed", range(200))
def test_linking_in_blocks_of_articles_gives_the_groups_of_one_run(seed, monkeypatch):
    # A million articles' pairs are linked a block of articles at a time
    # (kg.linkage.LINK_BLOCK); here blocks of a few pairs, on random graphs
    # whose events overlap in time, with undated articles and ties.
    from kg import linkage

    rng = random.Random(seed)
    n = rng.randint(4, 60)
    times = [None if rng.random() < 0.1 else float(rng.randint(0, 12)) for _ in range(n)]
    pairs = [(rng.randint(1, 8) / 8, i, j) for i, j in itertools.combinations(range(n), 2)
             if rng.random() < 0.25 and (times[i] is None or times[j] is None
                                         or abs(times[i] - times[j]) <= 4)]
    threshold, span = rng.choice([0.25, 0.375, 0.5]), rng.choice([2.0, 4.0])
    arrays = (np.array([p[0] for p in pairs], float), np.array([p[1] for p in pairs], np.int64),
              np.array([p[2] for p in pairs], np.int64))
    whole = linkage.link_pairs(*arrays, threshold, times, span)
    if n <= 14:
        assert sorted(whole) == _greedy_average_linkage(pairs, threshold, times, span)
    for block in (1, 3, rng.randint(4, 40)):
        monkeypatch.setattr(linkage, "LINK_BLOCK", block)
        assert linkage.link_pairs(*arrays, threshold, times, span) == whole, block


def test_linking_the_real_corpus_in_blocks_finds_the_same_stories(graphs, monkeypatch):
    from kg import linkage

    whole = stories.find_stories(graphs["real"])
    monkeypatch.setattr(linkage, "LINK_BLOCK", 500)
    assert stories.find_stories(graphs["real"]) == whole and len(whole) > 100


def test_average_linkage_respects_the_window_and_is_deterministic():
    from kg.linkage import average_linkage

    pairs = [(0.9, 0, 1), (0.9, 1, 2)]
    assert average_linkage(pairs, 0.3, [0.0, 5.0, 10.0], 6.0) == [([0, 1], 0.9)]
    assert average_linkage(pairs, 0.3, [0.0, 5.0, 10.0], 10.0) == [([0, 1, 2], 0.675)]
    shuffled = list(reversed(pairs))
    assert average_linkage(shuffled, 0.3, [0.0] * 3, 1.0) == average_linkage(pairs, 0.3, [0.0] * 3, 1.0)


def test_a_story_decision_for_articles_without_text_or_date():
    import networkx as nx

    g = nx.MultiDiGraph()
    g.add_node("article/a", kind="article", title="", excerpt="")
    g.add_node("article/b", kind="article", title="Clearview fined £17m")
    g.add_node("article/c", kind="article", title="Clearview fined £17m", excerpt="",
               published=None)
    assert stories.find_stories(g) == []  # no dates: each alone, no error


def _event_graph():
    """Three dated reports of one event, their undated variants, and fillers."""
    from datetime import UTC, datetime

    import networkx as nx

    g = nx.MultiDiGraph()
    day = datetime(2021, 11, 29, 10, tzinfo=UTC)
    excerpt = ("The Information Commissioner's Office said Clearview AI could face a fine of "
               "£17 million for collecting images of people in the UK without their knowledge.")
    reports = [("ICO warns Clearview AI could face £17m fine", excerpt),
               ("UK watchdog plans £17m fine for Clearview AI", "Clearview AI may have broken UK "
                "data protection law, says the Information Commissioner's Office."),
               ("Clearview AI faces $23 million fine in Britain", "The Information Commissioner "
                "said Clearview AI scraped images of UK residents.")]
    for k, (title, text) in enumerate(reports):
        g.add_node(f"article/r{k}", kind="article", title=title, excerpt=text,
                   url=f"https://news{k}.example/{k}", published=day + timedelta(hours=k))
    fillers = ["Tomatoes ripen early in gardens", "Chess champion retires", "Bridge repairs delay commuters",
               "Museum opens dinosaur hall", "Bakery wins pastry award", "Storm topples old oak",
               "Orchestra tours abroad", "Library extends opening hours"]
    for k, title in enumerate(fillers):
        g.add_node(f"article/f{k}", kind="article", title=title, excerpt="",
                   url=f"https://filler.example/{k}", published=day + timedelta(hours=k))
    return g, excerpt


def _story_of(g, article):
    found = [s for s in stories.find_stories(g) if article in s.members]
    return set(found[0].members) if found else None


def test_an_undated_copy_or_linked_report_joins_its_story():
    g, excerpt = _event_graph()
    assert _story_of(g, "article/r0") == {"article/r0", "article/r1", "article/r2"}
    # A copy (the same excerpt) without a date: tied to r0, it takes its time.
    g.add_node("article/copy", kind="article", title="ICO warns Clearview AI could face £17m fine",
               excerpt=excerpt, url="https://syndicate.example/a/1")
    assert _story_of(g, "article/copy") == {"article/r0", "article/r1", "article/r2", "article/copy"}
    docs = stories.StoryDocs(g)
    assert docs.times[docs.index["article/copy"]] is None
    assert docs.borrowed == {docs.index["article/copy"]: docs.index["article/r0"]}
    # A report of its own, no date, listing r1 as related: joins on its text.
    g.add_node("article/linked", kind="article", title="Clearview AI may be fined £17m by UK's ICO",
               excerpt="The Information Commissioner's Office says images of people in the UK "
                       "were collected without their knowledge.", url="https://other.example/b")
    g.add_edge("article/linked", "article/r1", key="related", rel="related")
    assert "article/linked" in _story_of(g, "article/r0")


def test_an_undated_article_without_ties_or_text_stays_alone():
    g, excerpt = _event_graph()
    # The same event, close in words, but nothing ties it in time.
    g.add_node("article/untied", kind="article", title="ICO warns Clearview AI could face £17m fine",
               excerpt="Clearview AI could face a £17 million fine from the UK's Information Commissioner.",
               url="https://untied.example/c")
    # Tied by a related link, but about something else: the tie is not enough.
    g.add_node("article/off", kind="article", title="Amazon extends its moratorium on police use of Rekognition",
               excerpt="Amazon says the pause on selling its software to police will continue.",
               url="https://off.example/d")
    g.add_edge("article/off", "article/r0", key="related", rel="related")
    # No title, no excerpt, no date, but linked: nothing to join on.
    g.add_node("article/empty", kind="article", title="", excerpt="", url="https://empty.example/e")
    g.add_edge("article/r2", "article/empty", key="related", rel="related")
    assert _story_of(g, "article/r0") == {"article/r0", "article/r1", "article/r2"}
    for a in ("article/untied", "article/off", "article/empty"):
        assert _story_of(g, a) is None


def test_articles_without_title_or_excerpt_are_decided_by_what_they_have():
    g, excerpt = _event_graph()
    g.add_node("article/notitle", kind="article", title="", excerpt=excerpt[:-1] + " and abroad.",
               url="https://notitle.example/f", published=g.nodes["article/r0"]["published"])
    g.add_node("article/noexcerpt", kind="article", title="ICO warns Clearview AI could face £17m fine",
               url="https://noexcerpt.example/g", published=g.nodes["article/r0"]["published"])
    assert {"article/notitle", "article/noexcerpt"} <= _story_of(g, "article/r0")


def test_undated_copies_of_each_other_are_one_story():
    g, _ = _event_graph()
    text = "Residents of the harbour town voted to keep the old lighthouse lit through the winter months."
    for k in range(2):
        g.add_node(f"article/u{k}", kind="article", title="Harbour town keeps lighthouse lit",
                   excerpt=text, url=f"https://copies{k}.example/lighthouse")
    assert _story_of(g, "article/u0") == {"article/u0", "article/u1"}


# -- explain, Python and command line ---------------------------------------------

def test_undated_files_get_a_decision_and_an_explanation(tmp_path):
    from kg.explain import explain_pair

    def write(name, title, excerpt, url, date=None, related=None):
        lines = ["---", f'title: "{title}"', f'excerpt: "{excerpt}"', f'webUrl: "{url}"']
        if date:
            lines.append(f"publishedDateTime: {date}")
        if related:
            lines += ["related:", f'  - title: "{related[0]}"', f'    webUrl: "{related[1]}"']
        (tmp_path / name).write_text("\n".join(lines + ["---", ""]), encoding="utf-8")

    text = ("The Information Commissioner's Office said Clearview AI could face a fine of £17 million "
            "for collecting images of people in the UK.")
    write("a.md", "ICO warns Clearview AI could face £17m fine", text, "https://a.example/ico", "2021-11-29T10:00:00Z")
    write("b.md", "UK watchdog plans £17m fine for Clearview AI", "Clearview AI may have broken UK data "
          "protection law, says the Information Commissioner's Office.", "https://b.example/uk",
          "2021-11-29T12:00:00Z")
    write("copy.md", "ICO warns Clearview AI could face £17m fine", text, "https://copy.example/x")
    write("alone.md", "ICO warns Clearview AI could face £17m fine", "Clearview AI could face a £17m fine.",
          "https://alone.example/y")
    for k, title in enumerate(["Tomatoes ripen early", "Chess champion retires", "Bridge repairs delay commuters",
                               "Museum opens dinosaur hall", "Bakery wins pastry award", "Storm topples oak"]):
        write(f"f{k}.md", title, "", f"https://f.example/{k}", "2021-11-29T09:00:00Z")
    g = build_graph(kg.load(tmp_path))
    stories.add_stories(g)
    ids = {d["url"]: n for n, d in g.nodes(data=True) if d.get("kind") == "article"}
    story = {a: s for a, s, k in g.edges(keys=True) if k == "inStory"}
    a, b, copy, alone = (ids[f"https://{h}.example/{p}"] for h, p in
                         (("a", "ico"), ("b", "uk"), ("copy", "x"), ("alone", "y")))
    assert story[a] == story[b] == story[copy] and alone not in story
    why = explain_pair(g, copy, b)
    assert why.days_apart is None and why.same_story and why.fade == stories.UNDATED_FADE
    assert f"{copy} has no date: it takes the time of {a}" in "\n".join(why.lines())
    assert explain_pair(g, alone, a).score == 0.0  # nothing ties it: never compared


@pytest.mark.corpus
def test_explain_says_what_joins_and_what_separates(graphs):
    from kg.explain import explain_pair

    g = graphs["ai-facial"]
    same = explain_pair(g, "b2963e1a8b886896", "cb4add67faad85a9")  # ICO £17m fine: two outlets
    assert same.score >= stories.DEFAULT_THRESHOLD
    shared = [w for w, _ in same.shared]
    assert "ico" in shared and any(w.startswith("money ≈ $") for w in shared)
    assert same.days_apart is not None and same.days_apart < 1
    other = explain_pair(g, "b2963e1a8b886896", "8f1fffc2b75b7dd6")  # the fine vs the patent
    assert other.score < 0.1 and other.fade < 1
    text = "\n".join(other.lines())
    assert text.startswith("score ") and "days apart" in text
    with pytest.raises(KeyError):
        explain_pair(g, "b2963e1a8b886896", "https://example.org/not-here")


def test_kg_stories_command(tmp_path, seeds_dir, capsys):
    import json
    import shutil

    from kg.cli import main

    shutil.copytree(seeds_dir, tmp_path / "seeds")
    out = tmp_path / "out"
    assert main(["build", str(tmp_path / "seeds"), "--out", str(out), "-q"]) == 0
    capsys.readouterr()
    assert main(["stories", str(out), "--members"]) == 0
    text = capsys.readouterr().out
    assert "   3 articles    3 providers" in text and "Worcester bans city use" in text
    assert "<https://www.wgbh.org/news/local-news/2021/12/15/" in text and "(1 story)" in text
    assert main(["stories", str(out), "--match", "xpeng"]) == 0
    assert capsys.readouterr().out.strip() == "(0 stories)"
    assert main(["stories", str(out), "--match", "face recognition"]) == 0  # a synonym
    assert "Worcester bans city use" in capsys.readouterr().out
    assert main(["stories", str(out), "--min-size", "4", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["stories", str(out), "--json", "--members", "--match", "FACIAL-recognition"]) == 0
    (story,) = json.loads(capsys.readouterr().out)
    assert story["size"] == 3 and len(story["members"]) == 3 and story["score"] > 0.23
    assert main(["stories", str(out), "--explain", "e1bee6dae58838f9", "8373b665cde0dc69"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("score ") and lines[-1] == "same story"
    assert main(["stories", str(out), "--explain", "e1bee6dae58838f9", "nope"]) == 2
    assert "no article 'nope'" in capsys.readouterr().err
    assert main(["stories", str(tmp_path / "missing")]) == 2


def test_build_story_options_reach_the_stories_and_the_stamp(tmp_path, seeds_dir, capsys):
    import shutil

    from kg.cli import main

    shutil.copytree(seeds_dir, tmp_path / "seeds")
    out = tmp_path / "out"
    args = ["build", str(tmp_path / "seeds"), "--out", str(out), "-q"]
    assert main(args) == 0
    assert len(kg.open(out).stories()) == 1
    # Another threshold is another build, not "up to date".
    assert main(args + ["--story-threshold", "1.2"]) == 0
    assert kg.open(out).stories() == []
    # Six hours: the AP story and its Omaha.com copy (4 hours apart), not WGBH 8 hours on.
    assert main(args + ["--story-window-days", "0.25"]) == 0
    found = kg.open(out).stories()
    assert [s.size for s in found] == [2]
    node = kg.open(out).graph.nodes[found[0].id]
    assert node["window_days"] == pytest.approx(0.25)
    assert main(args + ["--story-threshold", "-1"]) == 2
    assert "threshold" in capsys.readouterr().err


# -- curation -------------------------------------------------------------------------

AIF_URL = {
    "ico_warns": "https://www.computerweekly.com/news/252510161/ICO-warns-facial-recognition-company-"
                 "Clearview-AI-could-face-17m-fine-over-privacy-breaches",
    "bloomberg": "https://www.bloomberg.com/news/articles/2021-11-29/clearview-ai-risks-23-million-fine-"
                 "for-snooping-on-brits",
    "cnet_patent": "https://www.cnet.com/news/clearview-ai-set-to-get-patent-for-controversial-facial-"
                   "recognition-tech/",
    "hothardware": "https://hothardware.com/news/clearview-ai-facial-recognition-wins-patent",
}


@pytest.mark.corpus
def test_curation_merges_splits_removes_and_names(corpus_dir, tmp_path, capsys):
    import json
    import shutil
    from datetime import date

    from kg.cli import main
    from kg.shacl import validate

    corpus = tmp_path / "ai-facial"
    shutil.copytree(corpus_dir("ai-facial"), corpus)
    out = tmp_path / "out"
    assert main(["build", str(corpus), "--out", str(out), "-q"]) in (0, 1)
    before = {s.id: s for s in kg.open(out).stories()}
    g = kg.open(out).graph
    story_of = {a: s for a, s, k in g.edges(keys=True) if k == "inStory"}
    ico, bloomberg = "article/b2963e1a8b886896", "article/b7d222dedf851209"
    cnet, hot = "article/8f1fffc2b75b7dd6", "article/f85f05c5fd31079f"
    assert story_of[ico] != story_of.get(bloomberg) and story_of[cnet] != story_of[hot]
    (corpus / "stories.yaml").write_text(
        "curator: A. Researcher\ndate: 2026-12-04\n"
        f"merge:\n  - [{AIF_URL['ico_warns']}, {AIF_URL['bloomberg']}]\n"
        f"  - [{AIF_URL['cnet_patent']}, {AIF_URL['hothardware']}]\n"
        "remove:\n  - 8defd96f18e60cf6\n"
        f"name:\n  {AIF_URL['cnet_patent']}: Clearview AI's US patent\n", encoding="utf-8")
    assert main(["build", str(corpus), "--out", str(out), "-q"]) in (0, 1)
    g = kg.open(out).graph
    story_of = {a: s for a, s, k in g.edges(keys=True) if k == "inStory"}
    assert story_of[ico] == story_of[bloomberg]
    assert story_of[cnet] == story_of[hot]
    assert "article/8defd96f18e60cf6" not in story_of
    patent = g.nodes[story_of[cnet]]
    assert patent["label"] == "Clearview AI's US patent" and patent["method"] == "curated"
    assert patent["curator"] == "A. Researcher" and patent["size"] == 6
    assert patent["curated"] == "2026-12-04"
    rdf = (out / "newskg.nq").read_text(encoding="utf-8")
    assert '"curated"' in rdf
    # Who and when, in the store: on the curated stories only.
    rows = kg.open(out).query(
        "SELECT ?label ?who ?when ?method WHERE { ?s a nkg:Story ; rdfs:label ?label ; nkg:method ?method ; "
        "dcterms:contributor ?who ; dcterms:date ?when }").rows
    assert ("Clearview AI's US patent", "A. Researcher", date(2026, 12, 4), "curated") in rows
    assert len(rows) == 2 and {r[1:] for r in rows} == {("A. Researcher", date(2026, 12, 4), "curated")}
    assert validate(out).conforms
    capsys.readouterr()
    assert main(["stories", str(out), "--match", "patent"]) == 0
    assert "[curated by A. Researcher on 2026-12-04]  Clearview AI's US patent" in capsys.readouterr().out
    assert main(["stories", str(out), "--match", "patent", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [(s["curator"], s["curated"]) for s in shown if s["method"] == "curated"] == [
        ("A. Researcher", "2026-12-04")]
    untouched = [s for s in kg.open(out).stories() if s.id in before]
    assert untouched and all(s.method != "curated" for s in untouched)


@pytest.mark.parametrize("text, line, reason", [
    ("merge: [a, b]\n", 1, "a list of URLs or article ids"),
    ("curator: me\nsplit:\n  - [8373b665cde0dc69]\n", 3, "two articles or more"),
    ("remove:\n  - nope\n", 2, "no article 'nope'"),
    ("names: {}\n", 1, "unknown key 'names'"),
    ("merge:\n  - [a, b\n", 3, "not valid YAML"),
    ("curator: me\ndate: 4 December\n", 2, "date must be a date such as 2026-12-04"),
    ("curator: [a, b]\n", 1, "curator must be a name"),
])
def test_a_bad_curation_file_says_where_and_changes_nothing(seeds_dir, tmp_path, capsys,
                                                             text, line, reason):
    import shutil

    from kg.cli import main

    seeds = tmp_path / "seeds"
    shutil.copytree(seeds_dir, seeds)
    out = tmp_path / "out"
    assert main(["build", str(seeds), "--out", str(out), "-q"]) == 0
    before = (out / "newskg.json").read_bytes()
    bad = tmp_path / "stories.yaml"
    bad.write_text(text, encoding="utf-8")
    capsys.readouterr()
    assert main(["build", str(seeds), "--out", str(out), "-q", "--stories-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:{line}:" in err and reason in err, err
    assert (out / "newskg.json").read_bytes() == before


def test_headlines_naming_other_days_or_places_are_kept_apart():
    from datetime import UTC, datetime

    import networkx as nx

    def graph(titles):
        g = nx.MultiDiGraph()
        for k, (title, hour) in enumerate(titles):
            g.add_node(f"article/{k}", kind="article", title=title, excerpt="",
                       published=datetime(2020, 5, 7, tzinfo=UTC).replace(hour=hour))
        return g

    fillers = [(t, 1) for t in ("Tomatoes ripen early in gardens", "Chess champion retires",
                                "Bridge repairs delay commuters", "Museum opens dinosaur hall",
                                "Bakery wins pastry award", "Storm topples old oak",
                                "Orchestra tours abroad", "Library extends opening hours")]
    daily = graph([("Coronavirus live updates: what to know in North Carolina on May 7", 8),
                   ("Coronavirus live updates: what to know in North Carolina on May 8", 20)] + fillers)
    same = graph([("Coronavirus live updates: what to know in North Carolina on May 7", 8),
                  ("Coronavirus live updates: what to know in North Carolina on May 7", 20)] + fillers)
    assert [s.members for s in stories.find_stories(same)] == [("article/0", "article/1")]
    assert stories.find_stories(daily) == []
    places = graph([("Maryland schools to stay closed for remainder of academic year", 8),
                    ("Connecticut schools to stay closed for remainder of academic year", 9)] + fillers)
    docs = stories.StoryDocs(places)
    assert docs.conflicts(np.array([0]), np.array([1])).tolist() == [story_docs.CONFLICT]


def test_the_lead_of_the_body_joins_posts_that_have_no_excerpt(tmp_path):
    # Jekyll/Hugo posts: a title, a date, a body; no excerpt.  Two reports of
    # one event with unlike headlines are one story by what their bodies
    # open with; without the bodies they are not.
    def write(folder, name, title, date, body):
        folder.mkdir(exist_ok=True)
        (folder / name).write_text(f'---\ntitle: "{title}"\ndate: {date}\n---\n{body}\n', encoding="utf-8")

    lead_a = ("## Update\n\nThe [Information Commissioner's Office](https://ico.org.uk) said on Monday that "
              "**Clearview AI** faces a provisional fine of £17 million for scraping images of UK residents.")
    lead_b = ("Britain's data watchdog plans to fine Clearview AI $22.6 million, the Information "
              "Commissioner's Office said, over images of UK residents scraped from the web.\n\n```\ncode\n```")
    others = ["Tomatoes ripen early", "Chess champion retires", "Bridge repairs delay commuters",
              "Museum opens dinosaur hall", "Bakery wins pastry award", "Storm topples oak"]
    for folder, bodies in ((tmp_path / "with", (lead_a, lead_b)), (tmp_path / "without", ("", ""))):
        write(folder, "a.md", "Regulator moves against face search firm", "2021-11-29", bodies[0])
        write(folder, "b.md", "A setback for a controversial startup", "2021-11-30", bodies[1])
        for k, title in enumerate(others):
            write(folder, f"f{k}.md", title, "2021-11-29", f"{title}, the town heard today.")
    found = {}
    for which in ("with", "without"):
        g = build_graph(kg.load(tmp_path / which))
        stories.add_stories(g)
        found[which] = sorted(sorted(g.nodes[a]["title"] for a, _, k in g.in_edges(s, keys=True)
                                     if k == "inStory")
                              for s, d in g.nodes(data=True) if d.get("kind") == "story")
        if which == "with":
            lead = next(d["lead"] for _, d in g.nodes(data=True) if d.get("title", "").startswith("Regulator"))
            assert lead.startswith("Update The Information Commissioner's Office said on Monday")
            assert "https://" not in lead and "**" not in lead
    assert found["with"] == [["A setback for a controversial startup", "Regulator moves against face search firm"]]
    assert found["without"] == []
