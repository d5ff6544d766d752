"""Exports read by other tools: JSON-LD by pyld as a JSON-LD 1.0 processor,
GraphML by networkx and igraph with a label on every node."""

from __future__ import annotations

import json
from pathlib import Path

import igraph
import networkx as nx
import pyoxigraph as ox
import pytest
from pyld import jsonld

import kg
from kg.vocab import XSD

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module", params=["seeds", "ai-facial"])
def export(request: pytest.FixtureRequest, corpus_dir, tmp_path_factory) -> Path:
    src = ROOT / "seeds" if request.param == "seeds" else corpus_dir(request.param)
    out = tmp_path_factory.mktemp("interop") / request.param
    kg.build(src, out=out)
    return out


def _triples(nquads: bytes) -> set[tuple]:
    def norm(term):
        # pyld writes doubles canonically (1.0E0), the N-Quads as written (1.0)
        if isinstance(term, ox.Literal) and term.datatype.value == XSD + "double":
            return ("double", float(term.value))
        return term
    return {(q.subject, q.predicate, norm(q.object))
            for q in ox.parse(nquads, ox.RdfFormat.N_QUADS)}


def test_jsonld_is_read_by_a_json_ld_1_0_processor(export: Path) -> None:
    doc = json.loads((export / "newskg.jsonld").read_text(encoding="utf-8"))
    assert "@version" not in doc["@context"]
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads",
                                 "processingMode": "json-ld-1.0"})
    # the same triples as the union of the named graphs in newskg.nq
    assert _triples(nquads.encode()) == _triples((export / "newskg.nq").read_bytes())


def test_graphml_nodes_have_labels_in_networkx(export: Path) -> None:
    built = kg.open(export).graph
    g = nx.read_graphml(export / "newskg.graphml", force_multigraph=True)
    assert set(g) == set(built)
    for n, d in g.nodes(data=True):
        assert d["label"] and d["kind"] == built.nodes[n]["kind"] and d["name"] == n
        original = built.nodes[n]
        expected = (original.get("label") or original.get("title") or original.get("name")
                    or original.get("url") or n)
        assert d["label"] == expected


def test_graphml_in_igraph_names_vertices_by_id_with_labels(export: Path) -> None:
    built = kg.open(export).graph
    g = igraph.Graph.Read_GraphML(str(export / "newskg.graphml"))
    assert g.vs["name"] == g.vs["id"] == list(built)  # the stable ids, in order
    provider = next(n for n, k in built.nodes(data="kind") if k == "provider")
    v = g.vs.find(name=provider)
    assert v["label"] == built.nodes[provider]["name"] and v["kind"] == "provider"
    assert all(g.vs["label"])
