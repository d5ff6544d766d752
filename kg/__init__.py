"""newskg: a knowledge graph of news articles, their providers and topics.

>>> import kg
>>> graph = kg.build_graph(kg.load_corpus("seeds"))
>>> graph.nodes["provider/caixinglobal.com"]["name"]
'Caixin Global'
"""

from .exports import BuildResult, build, read_graph, write_graph
from .graph import build_graph
from .ingest import load_corpus
from .records import Article, Corpus, Image, Problem, Provider, SourceFile

__all__ = ["load_corpus", "build_graph", "build", "BuildResult", "read_graph", "write_graph",
           "Article", "Corpus", "Image", "Problem",
           "Provider", "SourceFile"]
__version__ = "0.1.0"
