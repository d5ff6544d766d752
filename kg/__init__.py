"""newskg: a knowledge graph of news articles, their providers and topics.

>>> import kg
>>> graph = kg.build_graph(kg.load_corpus("seeds"))
>>> graph.nodes["provider/caixinglobal.com"]["name"]
'Caixin Global'
"""

import importlib
from typing import TYPE_CHECKING

# The public names load their module when first used, so that a command
# which needs none of them (`kg build` on an unchanged corpus, `kg stats`)
# does not import NetworkX, NumPy and the rest: ~0.3 s of each run.
_HOME = {
    "build": "exports", "BuildResult": "exports", "read_graph": "exports",
    "write_graph": "exports", "build_graph": "graph", "load_corpus": "ingest",
    "RemoteStore": "remote", "push": "remote", "serve": "remote",
    "from_rdf": "rdf", "to_rdf": "rdf", "validate": "shacl", "write_rdf": "rdf",
    "Article": "records", "Corpus": "records", "Image": "records", "Problem": "records",
    "Provider": "records", "SourceFile": "records",
    "QueryResult": "store", "Store": "store", "build_store": "store", "open_store": "store",
    "add_stories": "stories", "cluster_labels": "stories", "find_stories": "stories",
    "topic_clusters": "stories", "draw_view": "views", "write_all": "views",
}

if TYPE_CHECKING:
    from .exports import BuildResult, build, read_graph, write_graph
    from .graph import build_graph
    from .ingest import load_corpus
    from .rdf import from_rdf, to_rdf, write_rdf
    from .records import Article, Corpus, Image, Problem, Provider, SourceFile
    from .remote import RemoteStore, push, serve
    from .shacl import validate
    from .store import QueryResult, Store, build_store, open_store
    from .stories import add_stories, cluster_labels, find_stories, topic_clusters
    from .views import draw_view, write_all

__all__ = ["load_corpus", "build_graph", "build", "BuildResult", "read_graph", "write_graph",
           "Article", "Corpus", "Image", "Problem",
           "Provider", "SourceFile",
           "to_rdf", "from_rdf", "write_rdf", "validate", "open_store", "build_store", "Store",
           "QueryResult",
           "add_stories", "find_stories", "topic_clusters", "cluster_labels",
           "draw_view", "write_all", "RemoteStore", "push", "serve"]
__version__ = "0.1.0"


def __getattr__(name: str):
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
