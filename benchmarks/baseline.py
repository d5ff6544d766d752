"""The straightforward pipeline newskg is measured against (issue "Performance and scale").

    python benchmarks/baseline.py CORPUS_DIR [--turtle] [--out DIR] [--topic LABEL]

Stages, each timed, in one process and with Python's defaults (GC on, one core):

parse      ``frontmatter.load(path)`` for every ``*.md`` file (python-frontmatter,
           which already uses PyYAML's C loader when it is installed)
graph      a ``networkx.MultiDiGraph``: articles keyed by webUrl (else originalUrl,
           else a hash of the file path), providers by domain, topics by label,
           images by URL; edges publishedBy / about / related / image
rdf        ``rdflib.Graph.add`` per triple, schema.org (https://schema.org/) terms
serialize  ``Graph.serialize(format="nt")`` to a file (and Turtle with ``--turtle``)
queries    two SPARQL queries with ``Graph.query``: topic co-occurrence and top
           providers for a topic

It prints one JSON object on stdout: wall seconds, CPU seconds (user+sys of
this process: steadier than wall time on a busy machine) and peak RSS
(``ru_maxrss``, so the running peak of the process) after each stage, files, nodes, edges, triples,
rates and the queries' times.  It is deliberately naive: it is the thing to beat,
not something to optimise.

:func:`same_rdf` is the other baseline of ``benchmarks/bench_rdf.py``: rdflib
given exactly the quads ``kg build`` writes, and writing the same three files.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import frontmatter
import networkx as nx
import rdflib
from rdflib import RDF, XSD, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SDO, SKOS

__all__ = ["find_files", "parse_files", "build_graph", "to_rdf", "serialize",
           "baseline_queries", "run", "same_rdf", "TOPIC_COOCCURRENCE", "TOP_PROVIDERS"]

BASE = "https://newskg.example.org/id/"
_IRI_SAFE = ":/?#[]@!$&'()*+,;=%~"

TOPIC_COOCCURRENCE = """
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?a ?b (COUNT(DISTINCT ?article) AS ?n) WHERE {
  ?article a schema:NewsArticle ; schema:about ?t1, ?t2 .
  ?t1 skos:prefLabel ?a .
  ?t2 skos:prefLabel ?b .
  FILTER (STR(?a) < STR(?b))
}
GROUP BY ?a ?b
ORDER BY DESC(?n) ?a ?b
LIMIT 20
"""

TOP_PROVIDERS = """
PREFIX schema: <https://schema.org/>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?publisher (SAMPLE(?name) AS ?label) (COUNT(DISTINCT ?article) AS ?n) WHERE {
  ?topic skos:prefLabel ?topicLabel .
  ?article schema:about ?topic ;
           schema:publisher ?publisher .
  ?publisher schema:name ?name .
}
GROUP BY ?publisher
ORDER BY DESC(?n) ?publisher
LIMIT 20
"""

Record = tuple[str, dict[str, Any]]


def _peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (Linux: ru_maxrss is KiB)."""
    kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024 if sys.platform != "darwin" else kib / 2**20, 1)


# --------------------------------------------------------------------------- stages


def find_files(corpus_dir: str | Path) -> list[Path]:
    """Every ``*.md`` file under ``corpus_dir``, sorted."""
    return sorted(Path(corpus_dir).rglob("*.md"))


def parse_files(paths: Iterable[Path]) -> tuple[list[Record], int]:
    """(path, front matter) for every file that parses; and the number that did not."""
    records: list[Record] = []
    errors = 0
    for path in paths:
        try:
            post = frontmatter.load(path)
        except Exception:           # a broken file is skipped, as a simple script would
            errors += 1
            continue
        records.append((str(path), post.metadata))
    return records, errors


def _article_id(meta: dict[str, Any], path: str) -> str:
    url = meta.get("webUrl") or meta.get("originalUrl")
    if isinstance(url, str) and url:
        return url
    return "sha1:" + hashlib.sha1(path.encode("utf-8")).hexdigest()


def _add_article(g: nx.MultiDiGraph, aid: str, meta: dict[str, Any], stub: bool) -> None:
    """Add or update an article node with its provider, topics and images."""
    if not stub or aid not in g:
        g.add_node(aid, kind="Article", stub=stub, title=meta.get("title"),
                   excerpt=meta.get("excerpt"), published=meta.get("publishedDateTime"),
                   url=meta.get("webUrl") or meta.get("originalUrl"), type=meta.get("type"))
    provider = meta.get("provider")
    if isinstance(provider, dict) and provider.get("domain"):
        pid = f"provider:{provider['domain']}"
        g.add_node(pid, kind="Provider", name=provider.get("name"), domain=provider["domain"])
        g.add_edge(aid, pid, key="publishedBy", rel="publishedBy")
    for topic in meta.get("topics") or ():
        tid = f"topic:{topic}"
        g.add_node(tid, kind="Topic", label=str(topic))
        g.add_edge(aid, tid, key="about", rel="about")
    for image in meta.get("images") or ():
        if isinstance(image, dict) and image.get("url"):
            iid = f"image:{image['url']}"
            g.add_node(iid, kind="Image", url=image["url"], width=image.get("width"),
                       height=image.get("height"))
            g.add_edge(aid, iid, key="image", rel="image")


def build_graph(records: Iterable[Record]) -> nx.MultiDiGraph:
    """The NetworkX knowledge graph of the parsed files (related entries become stubs)."""
    g = nx.MultiDiGraph()
    for path, meta in records:
        aid = _article_id(meta, path)
        _add_article(g, aid, meta, stub=False)
        g.nodes[aid]["source"] = path
        for rel in meta.get("related") or ():
            if not isinstance(rel, dict) or not rel.get("webUrl"):
                continue
            _add_article(g, rel["webUrl"], rel, stub=True)
            g.add_edge(aid, rel["webUrl"], key="related", rel="related")
    return g


def _iri(url: str) -> URIRef:
    return URIRef(quote(url, safe=_IRI_SAFE))


def _node_iri(node: str, data: dict[str, Any]) -> URIRef:
    kind = data.get("kind")
    if kind == "Article":
        return _iri(node) if not node.startswith("sha1:") else URIRef(BASE + "article/" + node[5:])
    if kind == "Provider":
        return URIRef(BASE + "provider/" + quote(str(data["domain"]), safe=""))
    if kind == "Topic":
        return URIRef(BASE + "topic/" + quote(str(data["label"]), safe=""))
    return URIRef(BASE + "image/" + hashlib.sha1(str(data["url"]).encode("utf-8")).hexdigest())


def to_rdf(g: nx.MultiDiGraph) -> Graph:
    """An rdflib Graph of ``g``, one ``Graph.add`` per triple."""
    rdf = Graph()
    rdf.bind("schema", SDO)
    rdf.bind("skos", SKOS)
    rdf.bind("dcterms", DCTERMS)
    iris = {node: _node_iri(node, data) for node, data in g.nodes(data=True)}
    for node, data in g.nodes(data=True):
        s = iris[node]
        kind = data.get("kind")
        if kind == "Article":
            rdf.add((s, RDF.type, SDO.NewsArticle))
            if data.get("title") is not None:
                rdf.add((s, SDO.headline, Literal(str(data["title"]))))
            if data.get("excerpt") is not None:
                rdf.add((s, SDO.description, Literal(str(data["excerpt"]))))
            published = data.get("published")
            if isinstance(published, datetime):
                rdf.add((s, SDO.datePublished, Literal(published)))
            elif published is not None:
                rdf.add((s, SDO.datePublished, Literal(str(published), datatype=XSD.dateTime)))
            if data.get("url"):
                rdf.add((s, SDO.url, _iri(str(data["url"]))))
        elif kind == "Provider":
            rdf.add((s, RDF.type, SDO.NewsMediaOrganization))
            if data.get("name") is not None:
                rdf.add((s, SDO.name, Literal(str(data["name"]))))
        elif kind == "Topic":
            rdf.add((s, RDF.type, SKOS.Concept))
            rdf.add((s, SKOS.prefLabel, Literal(data["label"])))
        elif kind == "Image":
            rdf.add((s, RDF.type, SDO.ImageObject))
            rdf.add((s, SDO.url, _iri(str(data["url"]))))
            for prop in ("width", "height"):
                if isinstance(data.get(prop), int):
                    rdf.add((s, getattr(SDO, prop), Literal(data[prop])))
    predicates = {"publishedBy": SDO.publisher, "about": SDO.about, "image": SDO.image,
                  "related": DCTERMS.relation}
    for u, v, rel in g.edges(keys=True):
        rdf.add((iris[u], predicates[rel], iris[v]))
    return rdf


def serialize(rdf: Graph, path: Path, fmt: str) -> int:
    """Write ``rdf`` to ``path`` in ``fmt`` ("nt", "turtle"); return the file's size."""
    rdf.serialize(destination=str(path), format=fmt, encoding="utf-8")
    return path.stat().st_size


def baseline_queries(rdf: Graph, topic: str = "Coronavirus") -> dict[str, dict[str, Any]]:
    """Run the example queries with ``Graph.query``: seconds, row count and first rows."""
    out: dict[str, dict[str, Any]] = {}
    bindings: dict[str, dict[str, Literal]] = {
        "topic_cooccurrence": {}, "top_providers_for_topic": {"topicLabel": Literal(topic)}}
    texts = {"topic_cooccurrence": TOPIC_COOCCURRENCE, "top_providers_for_topic": TOP_PROVIDERS}
    for name, text in texts.items():
        t0 = time.perf_counter()
        result = rdf.query(text, initBindings=bindings[name])  # type: ignore[arg-type]
        rows = [tuple(str(v) for v in row) for row in result]  # type: ignore[union-attr]
        out[name] = {"seconds": round(time.perf_counter() - t0, 3), "rows": len(rows),
                     "top": rows[:3]}
    out["top_providers_for_topic"]["topic"] = topic
    return out


# --------------------------------------------------------------------------- driver


def same_rdf(nquads: str | Path, out_dir: str | Path) -> dict[str, Any]:
    """rdflib doing the RDF part of ``kg build`` itself: the same quads, the same files.

    Every quad of a ``newskg.nq`` that ``kg build`` wrote is added with
    ``Dataset.add`` (one named graph per file, rdflib terms made from the
    quad's strings), and the dataset is serialised as ``kg build`` does:
    N-Quads of the named graphs, then Turtle and JSON-LD of their union
    (an rdflib ``Graph``, one ``add`` per triple of the dataset).  The
    dataset is rdflib's in-memory store, so nothing is loaded elsewhere.

    Reading the N-Quads back into strings (with pyoxigraph) is not timed:
    it stands for the walk over the NetworkX graph that would make them.
    Returns the seconds of each step, their sum (``rdf_stage_seconds``),
    the quads, the union's triples and the peak RSS.
    """
    import pyoxigraph as ox
    from rdflib import Dataset

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    xsd_string = str(XSD.string)
    quads: list[tuple[str, str, tuple[str, str | None, str | None] | str, str]] = []
    with open(nquads, "rb") as f:
        for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
            o = q.object
            obj = o.value if isinstance(o, ox.NamedNode) else (
                o.value, o.language, None if o.language else o.datatype.value)
            quads.append((q.subject.value, q.predicate.value, obj, q.graph_name.value))

    steps: dict[str, float] = {}

    def step(name: str, t0: float) -> float:
        now = time.perf_counter()
        steps[name] = round(now - t0, 3)
        return now

    t = time.perf_counter()
    ds = Dataset(default_union=True)
    for s, p, o, g in quads:
        if isinstance(o, str):
            obj = URIRef(o)
        else:
            value, lang, dt = o
            obj = Literal(value, lang=lang, datatype=None if dt in (None, xsd_string) else URIRef(dt))
        ds.add((URIRef(s), URIRef(p), obj, URIRef(g)))
    t = step("dataset_add", t)
    ds.serialize(destination=str(out / "same.nq"), format="nquads", encoding="utf-8")
    t = step("serialize_nquads", t)
    union = Graph()
    for triple in ds.triples((None, None, None)):
        union.add(triple)
    t = step("union_graph_add", t)
    union.serialize(destination=str(out / "same.ttl"), format="turtle", encoding="utf-8")
    t = step("serialize_turtle", t)
    union.serialize(destination=str(out / "same.jsonld"), format="json-ld", encoding="utf-8")
    step("serialize_jsonld", t)
    return {"quads": len(quads), "union_triples": len(union), "steps": steps,
            "rdf_stage_seconds": round(sum(steps.values()), 3), "peak_rss_mb": _peak_rss_mb()}


def run(corpus_dir: str | Path, out_dir: str | Path | None = None, *, turtle: bool = False,
        topic: str = "Coronavirus") -> dict[str, Any]:
    """Run every stage on ``corpus_dir`` and return the figures (see module doc)."""
    stages: dict[str, dict[str, float]] = {}
    t_start = time.perf_counter()

    cpu = [time.process_time()]

    def done(name: str, t0: float) -> None:
        now = time.process_time()
        stages[name] = {"seconds": round(time.perf_counter() - t0, 3),
                        "cpu_seconds": round(now - cpu[0], 3), "peak_rss_mb": _peak_rss_mb()}
        cpu[0] = now

    tmp = None
    if out_dir is None:
        tmp = tempfile.mkdtemp(prefix="newskg-baseline-")
        out = Path(tmp)
    else:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
    try:
        t0 = time.perf_counter()
        cpu[0] = time.process_time()
        paths = find_files(corpus_dir)
        records, errors = parse_files(paths)
        done("parse", t0)

        t0 = time.perf_counter()
        g = build_graph(records)
        done("graph", t0)

        t0 = time.perf_counter()
        rdf = to_rdf(g)
        done("rdf", t0)
        triples = len(rdf)

        sizes: dict[str, int] = {}
        t0 = time.perf_counter()
        sizes["nt"] = serialize(rdf, out / "baseline.nt", "nt")
        done("serialize_nt", t0)
        if turtle:
            t0 = time.perf_counter()
            sizes["turtle"] = serialize(rdf, out / "baseline.ttl", "turtle")
            done("serialize_turtle", t0)

        t0 = time.perf_counter()
        queries = baseline_queries(rdf, topic)
        done("queries", t0)
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)

    wall = time.perf_counter() - t_start
    build = sum(s["seconds"] for k, s in stages.items() if k != "queries")
    kinds: dict[str, int] = {}
    for _, kind in g.nodes(data="kind"):
        kinds[kind] = kinds.get(kind, 0) + 1
    n = len(records)
    return {
        "pipeline": "baseline",
        "corpus": str(corpus_dir),
        "files": len(paths),
        "articles": n,
        "parse_errors": errors,
        "nodes": g.number_of_nodes(),
        "nodes_by_kind": kinds,
        "edges": g.number_of_edges(),
        "triples": triples,
        "triples_per_article": round(triples / n, 1) if n else 0.0,
        "stages": stages,
        "build_seconds": round(build, 3),
        "wall_seconds": round(wall, 3),
        "files_per_second": round(len(paths) / stages["parse"]["seconds"], 1)
        if stages["parse"]["seconds"] else None,
        "triples_per_second_rdf": round(triples / stages["rdf"]["seconds"], 1)
        if stages["rdf"]["seconds"] else None,
        "peak_rss_mb": _peak_rss_mb(),
        "output_bytes": sizes,
        "queries": queries,
        "environment": {
            "python": platform.python_version(),
            "rdflib": rdflib.__version__,
            "networkx": nx.__version__,
            "cpus": os.cpu_count(),
        },
    }


def main(argv: list[str] | None = None) -> int:
    """Command line: print the figures of one baseline run as JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("corpus_dir", type=Path)
    ap.add_argument("--turtle", action="store_true", help="also serialise Turtle")
    ap.add_argument("--out", type=Path, default=None,
                    help="keep baseline.nt (and .ttl) here (default: a temp dir, removed)")
    ap.add_argument("--topic", default="Coronavirus", help="topic of the top-providers query")
    args = ap.parse_args(argv)
    if not args.corpus_dir.is_dir():
        ap.error(f"not a directory: {args.corpus_dir}")
    json.dump(run(args.corpus_dir, args.out, turtle=args.turtle, topic=args.topic),
              sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
