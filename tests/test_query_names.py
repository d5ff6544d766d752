"""`kg query` by name, `--list`, bindings in every id form kg prints, and
errors that say what to do (one line, exit 2)."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import kg
from kg.queries import (
    NamedQuery,
    QueryUsageError,
    bind_term,
    find_query,
    named_queries,
    parse_bindings,
    read_query,
)
from kg.vocab import PREFIXES

ROOT = Path(__file__).resolve().parent.parent


def kg_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True,
                          text=True, cwd=ROOT)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("names") / "exports"
    kg.build(ROOT / "seeds", out=folder)
    return folder


def rows(run: subprocess.CompletedProcess) -> list[dict[str, str]]:
    assert run.returncode == 0, run.stderr
    return list(csv.DictReader(io.StringIO(run.stdout)))


def one_line_error(run: subprocess.CompletedProcess) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert run.stdout == "" and run.stderr.count("\n") == 1, run.stderr
    return run.stderr


def test_every_packaged_query_is_listed_with_its_parameters() -> None:
    names = {q.name for q in named_queries()}
    assert names == {p.stem.replace("_", "-") for p in (ROOT / "ontology" / "queries").glob("*.rq")}
    run = kg_cli("query", "--list")
    assert run.returncode == 0
    for q in named_queries():
        assert q.name in run.stdout and q.title in run.stdout
        for p in q.params:
            assert f"--bind {p.name} ({p.kind}" in run.stdout
    listing = json.loads(kg_cli("query", "--list", "--json").stdout)
    by_name = {q["name"]: q for q in listing}
    assert [p["name"] for p in by_name["related-within-k-hops"]["params"]] == ["start", "k"]


def test_a_query_runs_by_name_in_either_spelling(out: Path) -> None:
    dashed = rows(kg_cli("query", str(out), "topic-cooccurrence", "--format", "csv"))
    underscored = rows(kg_cli("query", str(out), "topic_cooccurrence", "--format", "csv"))
    assert dashed == underscored and dashed


def test_provider_binds_from_domain_url_id_and_iri(out: Path) -> None:
    domain = "theconversation.com"
    expected = rows(kg_cli("query", str(out), "articles-by-provider", "--bind", f"domain={domain}"))
    assert expected and {r["domain"] for r in expected} == {domain}
    for form in (domain, f"www.{domain}", f"https://www.{domain}/some/article",
                 f"id:provider/{domain}", f"https://w3id.org/newskg/id/provider/{domain}",
                 f"<https://w3id.org/newskg/id/provider/{domain}>"):
        assert rows(kg_cli("query", str(out), "articles-by-provider", "--bind",
                           f"provider={form}")) == expected, form


def test_article_binds_from_id_iri_and_url(out: Path) -> None:
    (row,) = rows(kg_cli("query", str(out), "SELECT ?a ?u WHERE { ?a schema:url ?u ; "
                         "nkg:relatedArticle ?b } ORDER BY ?a LIMIT 1"))
    article = row["a"].rsplit("/id/", 1)[1]
    expected = rows(kg_cli("query", str(out), "related-within-k-hops", "--bind",
                           f"start=<{row['a']}>", "--bind", "k=1"))
    assert expected
    for form in (f"id:{article}", row["a"], row["u"]):
        assert rows(kg_cli("query", str(out), "related-within-k-hops", "--bind",
                           f"start={form}", "--bind", "k=1")) == expected, form


def test_an_id_as_printed_binds_in_an_ad_hoc_query(out: Path) -> None:
    run = kg_cli("query", str(out), "SELECT ?p WHERE { ?a a schema:NewsArticle ; "
                 "schema:publisher ?p } ORDER BY ?p LIMIT 1", "--format", "table")
    printed = run.stdout.splitlines()[2].strip()
    assert printed.startswith("id:provider/")
    (row,) = rows(kg_cli("query", str(out), "SELECT ?name WHERE { ?p schema:name ?name }",
                         "--bind", f"p={printed}"))
    assert row["name"]


def test_view_takes_the_ids_kg_prints(out: Path, tmp_path: Path) -> None:
    (row,) = rows(kg_cli("query", str(out), "SELECT ?a WHERE { ?a a schema:NewsArticle ; "
                         "schema:url ?u } ORDER BY ?a LIMIT 1"))
    run = kg_cli("view", str(out), "--article", "id:" + row["a"].rsplit("/id/", 1)[1],
                 "-o", str(tmp_path / "a.html"))
    assert run.returncode == 0 and run.stdout.startswith("1 article match"), run.stderr


def test_unknown_and_missing_parameters_list_the_parameters(out: Path, tmp_path: Path) -> None:
    err = one_line_error(kg_cli("query", str(out), "articles-by-provider", "--bind", "providr=x"))
    assert "no parameter 'providr'" in err and "provider (provider" in err and "domain (string" in err
    (tmp_path / "q.rq").write_text("# A query with a required parameter.\n"
                                   "# @param topic string required - a label\n"
                                   "SELECT ?t WHERE { ?t skos:prefLabel ?topic }\n")
    (named,) = named_queries(tmp_path)
    assert isinstance(named, NamedQuery) and named.params[0].required
    with pytest.raises(QueryUsageError, match=r"needs --bind topic=.*its parameters: topic"):
        parse_bindings([], named.text, named)
    with pytest.raises(QueryUsageError, match=r"no variable \?zz"):
        parse_bindings(["zz=1"], "SELECT ?a WHERE { ?a ?b ?c }")


def test_helpful_one_line_errors(out: Path) -> None:
    err = one_line_error(kg_cli("query", str(out), "SELECT * WHERE { ?a foo:bar ?b }"))
    assert "unknown prefix foo: at line 1, column" in err
    assert all(p in err for p in PREFIXES)
    err = one_line_error(kg_cli("query", str(out), "SELECT ?a\nWHERE { ?a ?b ?c }\nLIMT 3"))
    assert "line 3, column" in err or "line 2, column" in err
    err = one_line_error(kg_cli("query", "SELECT ?a WHERE { ?a ?b ?c }", str(out)))
    assert "folder first" in err
    err = one_line_error(kg_cli("query", str(out), str(out / "newskg.nq")))
    assert "is a file, not a query" in err and ".rq" in err
    err = one_line_error(kg_cli("query", str(out), "no-such-query"))
    assert "kg query --list" in err and "topic-cooccurrence" in err
    err = one_line_error(kg_cli("query", str(out), "missing/file.rq"))
    assert "no query file" in err


def test_a_checkout_path_falls_back_to_the_packaged_query(out: Path, tmp_path: Path) -> None:
    text, named = read_query(str(tmp_path / "ontology" / "queries" / "topic_cooccurrence.rq"))
    assert named is not None and named.name == "topic-cooccurrence" and "SELECT" in text
    assert find_query("topic_cooccurrence.rq") == named


def test_bind_term_forms() -> None:
    assert bind_term("id:topic/ai").value == bind_term("AI", "topic").value
    assert bind_term("https://amp.cnn.com/x", "provider").value.endswith("/provider/cnn.com")
    assert bind_term("7", "integer") == 7 and bind_term("7", "string") == "7"
    with pytest.raises(QueryUsageError):
        bind_term("seven", "integer")
