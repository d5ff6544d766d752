"""SPARQL stores: one small interface, two backends, one way to keep them in step.

* :mod:`kg.store.base`: the :class:`Store` interface, :class:`QueryResult`,
  RDF terms <-> Python values, the errors;
* :mod:`kg.store.embedded`: Oxigraph on disk (the default);
* :mod:`kg.store.remote`: any SPARQL 1.1 endpoint;
* :mod:`kg.store.sparql`: SPARQL text (escaping, bindings, union updates);
* :mod:`kg.store.sync`: what changed between a build and a store;
  :mod:`kg.store.push` sends it to an endpoint.

Queries are written against the default graph, which every backend answers
as the *union* of the per-file named graphs (see ``ontology/newskg.ttl``).
This module re-exports the public names and opens a store by place:

>>> import kg, tempfile
>>> out = kg.build("seeds", out=tempfile.mkdtemp()).out
>>> with open_store(out) as store:
...     store.query("SELECT (COUNT(?a) AS ?n) WHERE { ?a a schema:NewsArticle }").rows
[(8,)]
"""

from __future__ import annotations

import os

from ..vocab import BASE, PREFIXES
from .base import (
    AuthenticationError,
    EndpointError,
    PushError,
    QueryResult,
    QuerySyntaxError,
    RemoteError,
    Store,
    StoreError,
    StoreNotFoundError,
    Term,
    parse_graph,
    to_python,
    to_term,
)
from .embedded import (
    DEFAULT_STORE,
    STORE_DIR,
    EmbeddedStore,
    StoreBuilder,
    StoreUpdate,
    build_store,
    find_store,
)
from .push import EXPORT_FILE, STATE_FILE, PushReport, push
from .remote import RemoteStore
from .sparql import bind_values, query_form, sparql_iri, sparql_string, sparql_term, with_prefixes
from .sync import GraphDiff, graph_digest, read_graphs, state_path

__all__ = ["Store", "QueryResult", "Term", "to_python", "to_term", "parse_graph",
           "StoreError", "StoreNotFoundError", "QuerySyntaxError", "RemoteError",
           "EndpointError", "AuthenticationError", "PushError",
           "EmbeddedStore", "StoreBuilder", "StoreUpdate", "build_store", "find_store",
           "DEFAULT_STORE", "STORE_DIR", "RemoteStore", "push", "PushReport",
           "EXPORT_FILE", "STATE_FILE", "sparql_string", "sparql_iri", "sparql_term",
           "bind_values", "query_form", "with_prefixes", "graph_digest", "GraphDiff",
           "read_graphs", "state_path", "open_store", "PREFIXES", "BASE"]


def open_store(path_or_url: str | os.PathLike = "exports", *, read_only: bool = True) -> Store:
    """Open the store of an export folder (or a store folder, or a SPARQL URL).

    A path opens the :class:`EmbeddedStore` (read-only by default, so many
    readers can share it); an ``http(s)://`` URL opens a :class:`RemoteStore`.

    >>> open_store("/nonexistent")
    Traceback (most recent call last):
    ...
    kg.store.base.StoreNotFoundError: no store at /nonexistent/store: run `kg build` first
    """
    text = os.fspath(path_or_url)
    if text.startswith(("http://", "https://")):
        return RemoteStore(text)
    return EmbeddedStore(find_store(text), read_only=read_only)
