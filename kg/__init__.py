"""newskg: a knowledge graph of news articles, their providers and topics.

>>> import kg
>>> graph = kg.build_graph(kg.load_corpus("seeds"))
>>> graph.nodes["provider/caixinglobal.com"]["name"]
'Caixin Global'
"""

from .exports import BuildResult, build, read_graph, write_graph
from .graph import build_graph
from .ingest import load_corpus
from .remote import RemoteStore, push, serve
from .rdf import from_rdf, to_rdf, validate, write_rdf
from .records import Article, Corpus, Image, Problem, Provider, SourceFile
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
