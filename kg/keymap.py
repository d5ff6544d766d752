"""Which front-matter key means what: the key tables of the input formats
(documented, and checked against, in docs/input-formats.md), and the one
step that brings other formats' nested shapes to the flat keys the tables
name (:func:`lift`).

:mod:`kg.fields` reads the values; this module only says where they are.

>>> meta, origins, unread = lift({"title": "A", "params": {"author": "Bo", "mood": "ok"}},
...                              ["params"])
>>> meta, origins, unread
({'title': 'A', 'author': 'Bo'}, {'author': 'params.author'}, ['params.mood'])
>>> date_of_name("blog/_posts/2021-12-01-launch.md")
'2021-12-01'
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

__all__ = ["ALIASES", "IGNORED_KEYS", "KNOWN_KEYS", "NESTED_KEYS", "CONTAINERS", "SEED_KEYS",
           "lift", "date_of_name"]

#: The keys read for each field, first found first.  The seed format's own
#: key comes first; the others are those of Jekyll, Hugo, Eleventy, Zola and
#: common feeds.
ALIASES: dict[str, tuple[str, ...]] = {
    "title": ("title", "headline"),
    "url": ("webUrl", "originalUrl", "ampWebUrl", "cdnAmpWebUrl", "url", "canonical_url",
            "canonical", "canonicalURL", "permalink", "link"),
    "excerpt": ("excerpt", "description", "summary", "abstract"),
    "published": ("publishedDateTime", "date", "published", "pubDate", "datePublished",
                  "publishDate", "published_at"),
    "modified": ("lastmod", "updated", "modified", "dateModified", "last_modified_at",
                 "updated_at"),
    "authors": ("author", "authors", "byline", "creator"),
    "topics": ("topics", "categories", "category", "tags", "keywords"),
    "tags": ("tags", "keywords"),
    "category": ("category",),
    "images": ("images", "image", "cover", "featured_image", "thumbnail"),
    "provider": ("provider", "publisher", "source", "site_name"),
    "locale": ("locale", "lang", "language", "inLanguage"),
    "type": ("type",),
    "item": ("type", "layout"),
    "quality": ("quality",),
    "heat": ("heat",),
    "related": ("related",),
}
#: Keys read deliberately as nothing: publishing machinery of the seed's
#: feed and of static site generators, which says nothing about the article.
#: ``published`` is here when it is a yes/no flag (the seed's
#: ``published: false``); as a date it is read.
IGNORED_KEYS = frozenset({
    "secured", "published", "isCached", "draft", "slug", "weight", "aliases",
    "comments", "sitemap", "menu", "menus", "toc", "math", "mathjax", "sidebar", "nav_order",
    "parent", "grand_parent", "has_children", "nav_exclude", "search_exclude", "redirect_from",
    "redirect_to", "eleventyNavigation", "eleventyExcludeFromCollections", "eleventyComputed",
    "pagination", "permalinkBypassOutputDir", "templateEngineOverride", "headless",
    "isCJKLanguage", "markup", "outputs", "resources", "cascade", "build", "translationKey",
    "linkTitle", "expiryDate", "url_path", "sidebar_position", "sidebar_label", "hide_title",
    "hide_table_of_contents", "pagination_next", "pagination_prev", "custom_edit_url", "id",
    "share", "related_posts", "excerpt_separator", "render_with_liquid", "template",
    "in_search_index",
    # inside the seed format's values (see NESTED_KEYS): the feed's cache flag
    # of an image, and the provider's own logo
    "images[].isCached", "provider.images",
})
#: Every key that is read or deliberately ignored; any other is reported.
KNOWN_KEYS = frozenset(k for keys in ALIASES.values() for k in keys) | IGNORED_KEYS
#: The keys read inside compound values, by path; any other (not ``path.key``
#: in IGNORED_KEYS) is reported as ``path.key``.  The seed format's: a
#: provider, its images, a related entry (read as an article without topics,
#: tags and related).  Other formats': a person (``author: {name: ...}``,
#: ``authors: [{name: ...}]``), an image (``image: {path: ...}``), a publisher
#: (``publisher: {name, url}``); any key of ALIASES' people, images and
#: provider rows holds these shapes.
NESTED_KEYS: dict[str, frozenset[str]] = {
    "provider": frozenset({"name", "domain"}),
    "images[]": frozenset({"url", "width", "height"}),
    "related[]": frozenset({"title", "excerpt", "publishedDateTime", "webUrl", "originalUrl",
                            "ampWebUrl", "cdnAmpWebUrl", "type", "category", "quality", "heat",
                            "locale", "provider", "images"}),
    "person": frozenset({"name"}),
    "image": frozenset({"url", "src", "path", "image", "width", "height"}),
    "publisher": frozenset({"name", "domain", "url"}),
}
#: Mappings whose keys are read as if they were top-level keys (when the top
#: level does not give the same key): Hugo's ``params`` (custom fields, where
#: themes keep ``author``, ``images``...), Zola's ``extra`` and
#: ``taxonomies``, and jekyll-seo-tag's ``seo``, of which only the keys named
#: here are read, as the key they map to.  ``None``: every known key is read.
CONTAINERS: dict[str, dict[str, str] | None] = {
    "params": None,
    "extra": None,
    "taxonomies": None,
    "seo": {"date_modified": "dateModified", "type": "type"},
}
#: The seed format's keys: a file with no other key has no alias to look for.
SEED_KEYS = frozenset({
    "title", "excerpt", "publishedDateTime", "webUrl", "originalUrl", "ampWebUrl",
    "cdnAmpWebUrl", "type", "quality", "heat", "locale", "provider", "topics", "tags",
    "category", "images", "related", "published", "secured"})
#: Known top-level keys by their lower-case spelling: Hugo reads keys in any
#: case (``publishdate``, ``linktitle``), and exports write ``Title``, ``Tags``.
_FOLDED = {k.lower(): k for k in KNOWN_KEYS if "." not in k and "[" not in k}
#: Keys whose value is read (ignored keys that no alias reads are left out
#: when lifted: ``params.draft`` is a custom field, not Hugo's draft).
_READ = frozenset(k for keys in ALIASES.values() for k in keys)
#: Jekyll's posts are named ``YEAR-MONTH-DAY-title.md``; the date is the
#: post's when the front matter gives none.
_NAME_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})-")


def lift(meta: dict, odd: Iterable[Any]) -> tuple[dict, dict[str, str], list[str]]:
    """``meta`` with the known keys of its containers (:data:`CONTAINERS`)
    and the other spellings of known keys (``Tags``) as top-level keys, the
    key each came from (``{"author": "params.author"}``), and the paths of
    what stays unread (a container's unknown keys, and keys the top level
    already gives).  ``odd`` are the keys of ``meta`` not in
    :data:`KNOWN_KEYS`; a key given at the top level wins.

    >>> lift({"Tags": ["a"], "seo": {"type": "BlogPosting", "links": []}}, ["Tags", "seo"])
    ({'tags': ['a'], 'type': 'BlogPosting'}, {'tags': 'Tags', 'type': 'seo.type'}, ['seo.links'])
    """
    out = dict(meta)
    origins: dict[str, str] = {}
    unread: list[str] = []
    for key in sorted(odd, key=str):
        if key in CONTAINERS:
            value = out.pop(key)
            if not isinstance(value, dict):
                unread.append(key)
                continue
            renames = CONTAINERS[key]
            for inner in sorted(value, key=str):
                name = str(inner)
                target = (_FOLDED.get(name.lower()) if renames is None
                          else renames.get(name))
                if target is not None and target not in _READ:
                    continue  # an ignored key, wherever it is
                if target is None or target in out:
                    unread.append(f"{key}.{name}")
                else:
                    out[target] = value[inner]
                    origins[target] = f"{key}.{name}"
        elif isinstance(key, str):
            target = _FOLDED.get(key.lower())
            if target is not None and target not in out:
                out[target] = out.pop(key)
                origins[target] = key
    return out, origins, unread


def date_of_name(path: str) -> str | None:
    """The ``YYYY-MM-DD`` a file's name starts with (Jekyll's posts), or None.

    >>> date_of_name("site/notes/about.md") is None
    True
    """
    m = _NAME_DATE.match(path.rpartition("/")[2])
    return f"{m[1]}-{m[2]}-{m[3]}" if m else None
