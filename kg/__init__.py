"""newskg: a knowledge graph of news articles, their providers and topics.

Three verbs: :func:`load` reads article folders into records, :func:`build`
runs the whole pipeline into an export folder, :func:`open` opens a built one.

>>> import kg, tempfile
>>> corpus = kg.load("seeds")                        # records and problems
>>> corpus.articles[0].provider.name
'Caixin Global'
>>> result = kg.build("seeds", out=tempfile.mkdtemp())   # graph, RDF, store, exports
>>> g = kg.open(result.out)                          # the built graph
>>> g.graph.nodes["provider/caixinglobal.com"]["name"]
'Caixin Global'
>>> g.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle }").rows
[(8,)]
"""

import importlib
from typing import TYPE_CHECKING

# The public names load their module when first used, so that a command
# which needs none of them (`kg build` on an unchanged corpus, `kg stats`)
# does not import NetworkX, NumPy and the rest: ~0.3 s of each run.
_HOME = {
    "load": "ingest:load_corpus", "open": "knowledge_graph", "KnowledgeGraph": "knowledge_graph",
    "build": "pipeline", "BuildResult": "pipeline", "read_graph": "exports",
    "write_graph": "exports", "build_graph": "graph", "load_corpus": "ingest",
    "RemoteStore": "store", "push": "store", "serve": "server",
    "from_rdf": "rdf", "to_rdf": "rdf", "validate": "shacl", "write_rdf": "rdf",
    "Article": "records", "Corpus": "records", "Image": "records", "Problem": "records",
    "Provider": "records", "SourceFile": "records",
    "QueryResult": "store", "Store": "store", "build_store": "store", "open_store": "store",
    "add_stories": "stories", "cluster_labels": "clusters", "find_stories": "stories",
    "topic_clusters": "clusters", "draw_view": "views", "write_all": "views",
}

if TYPE_CHECKING:
    from .clusters import cluster_labels, topic_clusters
    from .exports import read_graph, write_graph
    from .graph import build_graph
    from .ingest import load_corpus
    from .ingest import load_corpus as load
    from .knowledge_graph import KnowledgeGraph, open
    from .pipeline import BuildResult, build
    from .rdf import from_rdf, to_rdf, write_rdf
    from .records import Article, Corpus, Image, Problem, Provider, SourceFile
    from .server import serve
    from .shacl import validate
    from .store import QueryResult, RemoteStore, Store, build_store, open_store, push
    from .stories import add_stories, find_stories
    from .views import draw_view, write_all

__all__ = ["load", "build", "open", "KnowledgeGraph", "BuildResult",
           "Corpus", "Article", "Provider", "Image", "Problem", "SourceFile",
           # older names, until the rooms' modules move to the three verbs
           "load_corpus", "build_graph", "read_graph", "write_graph", "to_rdf", "from_rdf",
           "write_rdf", "validate", "open_store", "build_store", "Store", "QueryResult",
           "add_stories", "find_stories", "topic_clusters", "cluster_labels", "draw_view",
           "write_all", "RemoteStore", "push", "serve"]
__version__ = "0.1.0"


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    module, _, attr = home.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
