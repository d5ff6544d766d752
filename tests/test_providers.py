"""providers.yaml: renamed, merged and homepage'd providers, in the graph, the
tables and the store; bad files are clear errors; changing the file rebuilds."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tables import article

import kg
from kg.cli import main
from kg.providers import ProvidersFileError, parse_providers


@pytest.fixture()
def corpus(tmp_path) -> Path:
    d = tmp_path / "news"
    d.mkdir()
    article(d, "b1", "Budget", "2021-11-01T09:00:00Z", "bbc.co.uk", "BBC News")
    article(d, "b2", "Weather", "2021-11-02T09:00:00Z", "bbc.co.uk", "BBC News")
    article(d, "b3", "Sports", "2021-11-03T09:00:00Z", "bbc.com", "BBC")
    article(d, "n1", "Ferry", "2021-11-03T09:00:00Z", "nsnews.com", "News")
    return d


RULES = """\
bbc.co.uk:
  name: BBC
  homepage: https://www.bbc.co.uk/
  merge: [bbc.com]
nsnews.com:
  name: North Shore News
"""


def test_providers_yaml_beside_the_corpus_renames_and_merges(corpus, tmp_path):
    (corpus / "providers.yaml").write_text(RULES, encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", str(corpus), "--out", str(out), "-q"]) == 0
    g = kg.open(out)
    bbc = g.graph.nodes["provider/bbc.co.uk"]
    assert (bbc["name"], bbc["homepage"], bbc["merged_domains"]) == ("BBC", "https://www.bbc.co.uk/",
                                                                     ["bbc.com"])
    assert bbc["alt_names"] == ["BBC News"] and "provider/bbc.com" not in g.graph
    providers = g.providers().set_index("domain")
    assert providers.loc["bbc.co.uk", "articles"] == 3
    assert providers.loc["nsnews.com", ["name", "alt_names"]].tolist() == ["North Shore News", "News"]
    names = {r["name"] for r in g.query("SELECT ?name WHERE { ?p a schema:NewsMediaOrganization ; "
                                        "schema:name ?name }").dicts()}
    assert names == {"BBC", "North Shore News"}
    # Built again: up to date; the file changed: built again, with the new name.
    assert kg.build(corpus, out=out).built is False
    (corpus / "providers.yaml").write_text(RULES.replace("North Shore News", "NS News"), encoding="utf-8")
    result = kg.build(corpus, out=out)
    assert result.built and result.graph.nodes["provider/nsnews.com"]["name"] == "NS News"


def test_providers_file_option_and_unknown_domains(corpus, tmp_path, capsys):
    rules = tmp_path / "elsewhere.yaml"
    rules.write_text("nsnews.com: {name: North Shore News}\nnot-here.org: {name: X}\n", encoding="utf-8")
    out = tmp_path / "out"
    # built (exit 0), the unknown domain listed among the problems; --strict makes it fail
    assert main(["build", str(corpus), "--out", str(out), "--providers-file", str(rules)]) == 0
    assert "not-here.org: no article of the corpus has this provider" in capsys.readouterr().err
    assert main(["build", str(corpus), "--out", str(tmp_path / "strict"), "-q", "--strict",
                 "--providers-file", str(rules)]) == 1
    assert kg.open(out).graph.nodes["provider/nsnews.com"]["name"] == "North Shore News"
    assert kg.open(out).graph.nodes["provider/bbc.com"]["name"] == "BBC"  # untouched


def test_bad_providers_files_are_one_clear_error(corpus, tmp_path, capsys):
    (corpus / "providers.yaml").write_text(
        "bbc.co.uk: {name: BBC, merge: [bbc.com, bbc.co.uk]}\n"
        "cnn.com: {homepage: cnn.com, nmae: CNN}\n"
        "x.org: {merge: [bbc.com]}\n", encoding="utf-8")
    out = tmp_path / "out"
    assert main(["build", str(corpus), "--out", str(out), "-q"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith(f"kg build: {corpus / 'providers.yaml'}: 4 bad entries")
    for reason in ("cannot merge 'bbc.co.uk' into itself", "homepage must be an http(s) URL",
                   "unknown key 'nmae'", "'bbc.com' is already merged into bbc.co.uk"):
        assert reason in err
    assert not (out / "newskg.json").exists()
    with pytest.raises(ProvidersFileError, match="providers.yaml: line 2: not YAML"):
        parse_providers("a: [b\n")
    with pytest.raises(ProvidersFileError, match="expected a mapping"):
        parse_providers("- bbc.com\n")
