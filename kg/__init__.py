"""newskg: a knowledge graph of news articles, their providers and topics.

Three verbs: :func:`load` reads article folders into records, :func:`build`
runs the whole pipeline into an export folder, :func:`open` opens a built one.
Everything else lives in the module of its stage (``kg.graph``, ``kg.rdf``,
``kg.store``, ``kg.views``, ...; see docs/ARCHITECTURE.md).

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
# does not import NetworkX, NumPy and the rest.  "module:attr" where the
# facade's name is not the module's.
_HOME = {
    "load": "ingest:load_corpus", "build": "pipeline", "open": "knowledge_graph",
    "KnowledgeGraph": "knowledge_graph", "BuildResult": "pipeline", "QueryResult": "store",
    "Corpus": "records", "Article": "records", "Provider": "records", "Image": "records",
    "Problem": "records", "SourceFile": "records",
}

if TYPE_CHECKING:
    from .ingest import load_corpus as load
    from .knowledge_graph import KnowledgeGraph, open
    from .pipeline import BuildResult, build
    from .records import Article, Corpus, Image, Problem, Provider, SourceFile
    from .store import QueryResult

__all__ = ["load", "build", "open", "KnowledgeGraph", "BuildResult", "QueryResult",
           "Corpus", "Article", "Provider", "Image", "Problem", "SourceFile"]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module 'kg' has no attribute {name!r}")
    module, _, attr = home.partition(":")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), attr or name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
