"""The ontology's terms for the graph: the class of each node kind, the
property of each attribute and relation, and what one node states in them.

Both directions of the mapping live here, so that they change together:
:func:`describe` gives a node's statements (written out by :mod:`kg.rdf`),
and :data:`KINDS`, :data:`EDGE_RELATIONS`, :data:`LIST_ATTRS` and
:data:`SCALAR_ATTRS` give back the kind, relation or attribute of a class or
property (read by :func:`kg.rdf.from_rdf`).

>>> describe("provider/bbc.co.uk", {"kind": "provider", "domain": "bbc.co.uk", "name": "BBC News"})
[('type', 'https://schema.org/NewsMediaOrganization', '@id'), ('name', 'BBC News', ''), ('domain', 'bbc.co.uk', '')]
>>> KINDS[CLASSES["topic"]], EDGE_RELATIONS[PROPERTIES["publisher"]]
('topic', 'publishedBy')
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import UTC, datetime

from .vocab import DCTERMS, NKG, PROV, RDF_TYPE, RDFS, SCHEMA, SKOS, TOPIC_SCHEME, source_iri

__all__ = ["PROPERTIES", "EDGE_PROPERTIES", "CLASSES", "ITEM_CLASSES", "ITEMS", "SOURCE_FILE_CLASS",
           "CLASS_TERMS", "DRAFT", "Statement", "describe", "source_statements", "SCHEME_STATEMENTS", "KINDS",
           "EDGE_RELATIONS", "LIST_ATTRS", "SCALAR_ATTRS"]

# A statement is (property, lexical value, datatype); the datatype is "@id" for
# an IRI, "" for xsd:string, "@<tag>" for a language-tagged string, else an
# xsd local name.  Properties are the JSON-LD terms of ontology/context.jsonld.
PROPERTIES: dict[str, str] = {
    "type": RDF_TYPE,
    "headline": SCHEMA + "headline",
    "alternativeHeadline": SCHEMA + "alternativeHeadline",
    "description": SCHEMA + "description",
    "datePublished": SCHEMA + "datePublished",
    "dateModified": SCHEMA + "dateModified",
    "url": SCHEMA + "url",
    "alternateUrl": NKG + "alternateUrl",
    "articleSection": SCHEMA + "articleSection",
    "contentType": NKG + "contentType",
    "creativeWorkStatus": SCHEMA + "creativeWorkStatus",
    "quality": NKG + "quality",
    "heat": NKG + "heat",
    "inLanguage": SCHEMA + "inLanguage",
    "keywords": SCHEMA + "keywords",
    "wasDerivedFrom": PROV + "wasDerivedFrom",
    "referenceOnly": NKG + "referenceOnly",
    "name": SCHEMA + "name",
    "alternateName": SCHEMA + "alternateName",
    "domain": NKG + "domain",
    "prefLabel": SKOS + "prefLabel",
    "altLabel": SKOS + "altLabel",
    "notation": SKOS + "notation",
    "inScheme": SKOS + "inScheme",
    "contentUrl": SCHEMA + "contentUrl",
    "width": SCHEMA + "width",
    "height": SCHEMA + "height",
    "label": RDFS + "label",
    "method": NKG + "method",
    "threshold": NKG + "threshold",
    "score": NKG + "score",
    "size": NKG + "size",
    "windowDays": NKG + "windowDays",
    "identifier": DCTERMS + "identifier",
    "contributor": DCTERMS + "contributor",
    "date": DCTERMS + "date",
    # edges
    "publisher": SCHEMA + "publisher",
    "about": SCHEMA + "about",
    "relatedArticle": NKG + "relatedArticle",
    "image": SCHEMA + "image",
    "inStory": NKG + "inStory",
    "author": SCHEMA + "author",
}
#: Graph relation (edge key) -> property.
EDGE_PROPERTIES = {"publishedBy": "publisher", "about": "about", "related": "relatedArticle",
                   "image": "image", "inStory": "inStory", "author": "author"}
#: Node kind -> class.
CLASSES = {"article": SCHEMA + "NewsArticle", "provider": SCHEMA + "NewsMediaOrganization",
           "topic": SKOS + "Concept", "image": SCHEMA + "ImageObject", "story": NKG + "Story",
           "person": SCHEMA + "Person"}
#: The class of an article node whose ``item`` says it is not news.
ITEM_CLASSES = {"video": SCHEMA + "VideoObject", "course": SCHEMA + "Course",
                "page": SCHEMA + "WebPage", "code": SCHEMA + "SoftwareSourceCode",
                "work": SCHEMA + "CreativeWork"}
SOURCE_FILE_CLASS = NKG + "SourceFile"
#: Class -> its short term in Turtle and JSON-LD (``ontology/context.jsonld``).
CLASS_TERMS = {CLASSES["article"]: "NewsArticle", CLASSES["provider"]: "NewsMediaOrganization",
               CLASSES["topic"]: "Concept", CLASSES["image"]: "ImageObject",
               CLASSES["story"]: "Story", CLASSES["person"]: "Person",
               **{c: c[len(SCHEMA):] for c in ITEM_CLASSES.values()},
               SOURCE_FILE_CLASS: "SourceFile",
               SKOS + "ConceptScheme": "ConceptScheme"}

_LANG = re.compile(r"[a-z]{2,3}(-[a-z0-9]{1,8})*\Z")


def _lang(locale: object) -> str:
    """A BCP 47 tag (lower case, as RDF stores normalise it) or '' if unusable."""
    if not isinstance(locale, str):
        return ""
    tag = locale.strip().replace("_", "-").lower()
    return tag if _LANG.match(tag) else ""


def _datetime(value: datetime) -> str:
    if value.tzinfo is None:  # the graph holds aware UTC datetimes; be safe
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _double(value: float) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    return repr(value)


Statement = tuple[str, str, str]  # (property, lexical form or IRI, datatype)
#: The schema:creativeWorkStatus of a draft (schema.org's example term).
DRAFT = "Draft"


def describe(nid: str, d: dict) -> list[Statement]:
    """The statements about node ``nid`` with attributes ``d`` (without its edges)."""
    kind = d["kind"]
    item = d.get("item") if kind == "article" else None
    st: list[Statement] = [("type", ITEM_CLASSES[item] if item else CLASSES[kind], "@id")]
    add = st.append
    if kind == "article":
        tag = _lang(d.get("locale"))
        text_type = "@" + tag if tag else ""
        add(("headline", d["title"], text_type))
        for t in d.get("alt_titles", ()):
            add(("alternativeHeadline", t, text_type))
        if d.get("excerpt") is not None:
            add(("description", d["excerpt"], text_type))
        if isinstance(d.get("published"), datetime):
            add(("datePublished", _datetime(d["published"]), "dateTime"))
        if isinstance(d.get("modified"), datetime):
            add(("dateModified", _datetime(d["modified"]), "dateTime"))
        url = d.get("url")
        if url:
            add(("url", url, "anyURI"))
        for u in d.get("urls", ()):
            if u != url:
                add(("alternateUrl", u, "anyURI"))
        if d.get("category") is not None:
            add(("articleSection", d["category"], ""))
        if d.get("type") is not None:
            add(("contentType", d["type"], ""))
        if d.get("draft"):  # only drafts: other exports stay as they were
            add(("creativeWorkStatus", DRAFT, ""))
        for attr in ("quality", "heat"):
            if d.get(attr) is not None:
                add((attr, str(int(d[attr])), "integer"))
        if d.get("locale") is not None:
            add(("inLanguage", d["locale"], ""))
        for t in d.get("tags", ()):
            add(("keywords", t, ""))
        # Own files; an article known only by reference comes from the files
        # that list it.
        for f in (d.get("files") or d.get("sources") or ()):
            add(("wasDerivedFrom", source_iri(f), "@id"))
        add(("referenceOnly", "true" if d.get("reference_only") else "false", "boolean"))
    elif kind == "provider":
        add(("name", d.get("name") or d["domain"], ""))
        for n in d.get("alt_names", ()):
            add(("alternateName", n, ""))
        add(("domain", d["domain"], ""))
    elif kind == "person":
        add(("name", d.get("name") or d["key"], ""))
        for n in d.get("alt_names", ()):
            add(("alternateName", n, ""))
    elif kind == "topic":
        add(("prefLabel", d["label"], ""))
        for n in d.get("alt_labels", ()):
            add(("altLabel", n, ""))
        add(("notation", d["key"], ""))
        add(("inScheme", TOPIC_SCHEME, "@id"))
    elif kind == "image":
        add(("contentUrl", d["url"], "anyURI"))
        for attr in ("width", "height"):
            if d.get(attr) is not None:
                add((attr, str(int(d[attr])), "integer"))
    elif kind == "story":
        add(("label", str(d.get("label", nid)), ""))
        if d.get("method") is not None:
            add(("method", str(d["method"]), ""))
        for attr in ("threshold", "score"):
            if d.get(attr) is not None:
                add((attr, _double(d[attr]), "double"))
        if d.get("size") is not None:
            add(("size", str(int(d["size"])), "integer"))
        if d.get("window_days") is not None:
            add(("windowDays", _double(d["window_days"]), "double"))
        # Who corrected it in stories.yaml, and when (kg.curation).
        if d.get("curator") is not None:
            add(("contributor", str(d["curator"]), ""))
        if d.get("curated") is not None:
            add(("date", str(d["curated"]), "dateTime" if "T" in str(d["curated"]) else "date"))
    return st


def source_statements(path: str) -> list[Statement]:
    """The statements about source file ``path`` (a relative file name).

    >>> source_statements("seeds/a.md")[1]
    ('identifier', 'seeds/a.md', '')
    """
    return [("type", SOURCE_FILE_CLASS, "@id"), ("identifier", path, "")]


#: The statements about the topics' concept scheme (:data:`kg.vocab.TOPIC_SCHEME`).
SCHEME_STATEMENTS: list[Statement] = [
    ("type", SKOS + "ConceptScheme", "@id"), ("prefLabel", "newskg topics", "@en")]


# -- and back: what a class or property gives back in the graph --
#: Class -> node kind.
KINDS = {v: k for k, v in CLASSES.items()} | {c: "article" for c in ITEM_CLASSES.values()}
#: Class -> the ``item`` of an article that is not news.
ITEMS = {c: item for item, c in ITEM_CLASSES.items()}
#: Property -> graph relation (edge key).
EDGE_RELATIONS = {PROPERTIES[p]: rel for rel, p in EDGE_PROPERTIES.items()}
#: Property -> list attribute (one value per statement).
LIST_ATTRS = {
    PROPERTIES["alternativeHeadline"]: "alt_titles", PROPERTIES["alternateUrl"]: "urls",
    PROPERTIES["keywords"]: "tags", PROPERTIES["wasDerivedFrom"]: "files",
    PROPERTIES["alternateName"]: "alt_names", PROPERTIES["altLabel"]: "alt_labels",
}
#: Property -> (attribute, parser of the lexical form).
SCALAR_ATTRS: dict[str, tuple[str, Callable[[str], object]]] = {
    PROPERTIES["headline"]: ("title", str), PROPERTIES["description"]: ("excerpt", str),
    PROPERTIES["datePublished"]: ("published", datetime.fromisoformat),
    PROPERTIES["dateModified"]: ("modified", datetime.fromisoformat),
    PROPERTIES["url"]: ("url", str), PROPERTIES["articleSection"]: ("category", str),
    PROPERTIES["contentType"]: ("type", str), PROPERTIES["quality"]: ("quality", int),
    PROPERTIES["creativeWorkStatus"]: ("draft", lambda s: s == DRAFT),
    PROPERTIES["heat"]: ("heat", int), PROPERTIES["inLanguage"]: ("locale", str),
    PROPERTIES["referenceOnly"]: ("reference_only", lambda s: s in ("true", "1")),
    PROPERTIES["name"]: ("name", str), PROPERTIES["domain"]: ("domain", str),
    PROPERTIES["prefLabel"]: ("label", str), PROPERTIES["notation"]: ("key", str),
    PROPERTIES["contentUrl"]: ("url", str), PROPERTIES["width"]: ("width", int),
    PROPERTIES["height"]: ("height", int), PROPERTIES["label"]: ("label", str),
    PROPERTIES["method"]: ("method", str), PROPERTIES["threshold"]: ("threshold", float),
    PROPERTIES["score"]: ("score", float), PROPERTIES["size"]: ("size", int),
    PROPERTIES["windowDays"]: ("window_days", float),
    PROPERTIES["contributor"]: ("curator", str), PROPERTIES["date"]: ("curated", str),
}
