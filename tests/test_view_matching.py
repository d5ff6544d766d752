"""`kg view --story` matches whole words with synonyms; `--regex` for the rest."""

from __future__ import annotations

import networkx as nx
import pytest

from kg import views
from kg.cli import main


def _graph(titles: list[str]) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for i, t in enumerate(titles):
        g.add_node(f"article/{i}", kind="article", title=t, excerpt="", url=f"https://x.example/{i}")
    return g


def test_face_recognition_finds_facial_hyphen_recognition():
    g = _graph(["Police expand facial-recognition cameras", "Face Recognition at airports",
                "Récognition faciale", "A face in the crowd, no recognition"])
    v = views.select(g, story="face recognition", hops=0)
    assert v.matched == ["article/0", "article/1"]
    assert 'match "face recognition" (title 2)' in v.summary


def test_ai_is_a_whole_word_not_part_of_said():
    g = _graph(["Minister said nothing", "AI regulator fines firm", "Artificial intelligence rules"])
    assert views.select(g, story="AI", hops=0).matched == ["article/1", "article/2"]
    with pytest.raises(views.ViewError, match="nothing matches"):
        views.select(_graph(["Minister said nothing", "Maintain the rails"]), story="ai", hops=0)


def test_fields_are_counted_title_excerpt_topics():
    g = _graph(["Clearview fined", "Regulators act"])
    g.nodes["article/1"]["excerpt"] = "The ICO fined Clearview"
    g.add_node("article/2", kind="article", title="Other", excerpt="")
    g.add_node("topic/cv", kind="topic", label="Clearview AI")
    g.add_edge("article/2", "topic/cv", key="about")
    v = views.select(g, story="clearview", hops=0)
    assert len(v.matched) == 3 and "(title 1, excerpt 1, topics 1)" in v.summary


def test_a_regex_matches_what_words_cannot():
    g = _graph(["Clearview AI faces £17m fine", "Clearview ordered to stop", "UK fines Meta"])
    v = views.select(g, regex=r"clearview.*\bfine", hops=0)
    assert v.matched == ["article/0"] and "match /clearview.*\\bfine/ (title 1)" in v.summary


@pytest.mark.parametrize("pattern, said", [
    ("[unclosed", "not a regular expression"),
    ("(a+)+$", "repeats a repeated group"),
    ("(x|xx)*y", "repeats a repeated group"),
    ("a" * 201, "too long"),
    ("  ", "empty regular expression"),
])
def test_hostile_regexes_are_clear_errors(pattern, said):
    with pytest.raises(views.ViewError, match=said):
        views.select(_graph(["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"]), regex=pattern, hops=0)


def test_only_stop_words_is_a_clear_error():
    with pytest.raises(views.ViewError, match="use --regex"):
        views.select(_graph(["The said"]), story="the said", hops=0)


def test_cli_regex_and_bad_regex(seeds_dir, tmp_path, capsys):
    built = tmp_path / "exports"
    assert main(["-q", "build", str(seeds_dir), "--out", str(built)]) == 0
    capsys.readouterr()
    assert main(["view", str(built), "--regex", r"worcester\s+bans", "-o", str(tmp_path / "v.html")]) == 0
    assert "match /worcester\\s+bans/ (title " in capsys.readouterr().out
    assert main(["view", str(built), "--regex", "(", "-o", str(tmp_path / "w.html")]) == 1
    assert "kg view: not a regular expression" in capsys.readouterr().err


def test_face_recognition_on_ai_facial(corpus_dir):
    import kg
    from kg.graph import build_graph

    g = build_graph(kg.load(corpus_dir("ai-facial")))
    face = views.select(g, story="face recognition", hops=0).matched
    assert face == views.select(g, story="facial recognition", hops=0).matched
    hyphen = [a for a in face if "facial-recognition" in g.nodes[a]["title"].lower()]
    assert hyphen  # "facial-recognition" headlines are found by "face recognition"
