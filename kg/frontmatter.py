"""Bytes -> text -> front-matter mapping: the first step of reading an article file.

A file is UTF-8 text (Windows-1252/Latin-1 is taken, with a warning, when it
is not; a byte order mark is dropped; lines may end in CRLF) that opens with a
front-matter block, followed by a Markdown body.  The block is one of the
three that Jekyll, Hugo and Eleventy read:

* YAML between ``---`` lines (Jekyll, Eleventy, Hugo);
* TOML between ``+++`` lines (Hugo's default), read by :mod:`tomllib`;
* a JSON object opening the file (Hugo, Eleventy), read by :mod:`json`;
* a ``---`` fence naming its language, as Eleventy (gray-matter) reads it:
  ``---json``, ``---yaml``, ``---toml`` (``---js`` is code: refused, named).

:func:`read_front_matter` answers the mapping of that block and the body
after it, or raises :class:`FrontMatterError` naming why the file cannot be
used (with the line in the file where known); what it can read past (a wrong
encoding, duplicate keys) it appends as warnings.

>>> meta, text, body = read_front_matter(b"---\\ntitle: A\\ntags: [x]\\n---\\nbody", [])
>>> meta, text, body
({'title': 'A', 'tags': ['x']}, '\\ntitle: A\\ntags: [x]\\n', 'body')
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

import yaml

__all__ = ["FrontMatterError", "read_front_matter", "decode_text", "split_front_matter",
           "parse_yaml", "parse_yaml_libyaml", "parse_toml", "parse_json", "MAX_ALIASES"]

#: Alias references allowed in one front matter; news metadata uses none, and
#: an "alias bomb" needs many.
MAX_ALIASES = 16

#: The front-matter fence: python-frontmatter's YAML boundary, exactly (a line
#: of three or more dashes and nothing but whitespace), so odd files split as
#: they always did.
_FENCE = re.compile(r"^-{3,}\s*$", re.MULTILINE)
#: Hugo's TOML fence: a line of exactly three plus signs.
_TOML_FENCE = re.compile(r"^\+{3}[ \t\r]*$", re.MULTILINE)
_TOML_LINE = re.compile(r"at line (\d+)")
#: Eleventy's (gray-matter's) fence naming the language: ``---json``.
_LANG_FENCE = re.compile(r"---[ \t]*([A-Za-z]+)[ \t]*\r?$", re.MULTILINE)


class FrontMatterError(ValueError):
    """A file whose front matter cannot be read at all.

    ``reason`` is the problem's stable code (``empty``, ``binary``,
    ``no-front-matter``, ``mixed-delimiters``, ``yaml-syntax``,
    ``yaml-aliases``, ``toml-syntax``, ``json-syntax``, ``not-a-mapping``,
    ``unsupported-language``),
    ``message`` says it in words, ``line`` is the line in the file where
    known.
    """

    def __init__(self, reason: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.reason, self.message, self.line = reason, message, line



def _mixed(opened: str, closed: str, text: str, at: int) -> FrontMatterError:
    """The error of a front matter opened with one fence and closed by the other."""
    return FrontMatterError("mixed-delimiters", f"front matter opened with {opened} is closed "
                            f"by {closed}: use the same fence on both sides",
                            text.count("\n", 0, at) + 1)

def read_front_matter(data: bytes, problems: list[tuple]) -> tuple[dict, str, str]:
    """The front-matter mapping of a file's bytes, the front matter's text
    (to find the line of a field in) and the body: the text after the line
    that closes the front matter.

    Raises :class:`FrontMatterError` when the file has no usable front
    matter.  Warnings are appended to ``problems`` as problem rows
    ``(reason, message, "warning", field, line)`` (see :mod:`kg.records`):
    text that is not UTF-8, keys given twice (the last value is used).

    >>> problems = []
    >>> read_front_matter(b"---\\na: 1\\na: 2\\n---\\nThe body.\\n", problems)[::2], problems[0][:2]
    (({'a': 2}, 'The body.\\n'), ('duplicate-key', "key 'a' appears more than once; the last value is used"))
    >>> read_front_matter(b"---\\ntitle: A\\n---\\nText.\\n\\n---\\n", [])[2]  # a body ending in a rule
    'Text.\\n\\n---\\n'
    >>> read_front_matter(b"no fence", [])
    Traceback (most recent call last):
    ...
    kg.frontmatter.FrontMatterError: no front matter (the file must start with --- for YAML, +++ for TOML or { for JSON)
    """
    if not data or data.isspace():
        raise FrontMatterError("empty", "empty file")
    if b"\x00" in data:
        raise FrontMatterError("binary", "binary file (contains NUL bytes)")
    text = decode_text(data, problems)
    first = text[:1]
    if first == "+" and text.startswith("+++"):
        meta, fm_text, stop = _read_toml(text)
    elif first == "{" or (first.isspace() and text.lstrip()[:1] == "{"):
        meta, fm_text = parse_json(text, problems)
        stop = len(fm_text)
    elif first == "-" and (lang := _LANG_FENCE.match(text)) is not None:
        meta, fm_text, stop = _read_tagged(text, lang, problems)
    else:
        span = _yaml_span(text)
        if span is None:
            raise FrontMatterError(
                "no-front-matter", "no front matter (the file must start with --- for YAML, "
                "+++ for TOML or { for JSON)")
        if span is False:
            toml_close = _TOML_FENCE.search(text)
            if toml_close is not None:
                raise _mixed("--- (YAML)", "+++ (TOML)", text, toml_close.start())
            raise FrontMatterError("no-front-matter", "front matter is not closed by a --- line")
        start, stop = span
        fm_text = text[start:stop]
        meta = _read_yaml(fm_text, problems)
    end = text.find("\n", stop)  # the body starts past the closing line
    return meta, fm_text, "" if end < 0 else text[end + 1:]


def _read_tagged(text: str, lang: re.Match, problems: list[tuple]) -> tuple[dict, str, int]:
    """The front matter of a ``---json`` (``---yaml``, ``---toml``) fence:
    (mapping, its text, where its text ends)."""
    closing = _FENCE.search(text, lang.end())
    if closing is None:
        raise FrontMatterError("no-front-matter", f"front matter opened with ---{lang[1]} is "
                               "not closed by a --- line", 1)
    fm_text = text[lang.end():closing.start()]  # from the newline: lines are the file's
    name = lang[1].lower()
    if name == "json":
        return parse_json(fm_text, problems)[0], fm_text, closing.start()
    if name == "toml":
        return parse_toml(fm_text), fm_text, closing.start()
    if name in ("yaml", "yml"):
        return _read_yaml(fm_text, problems), fm_text, closing.start()
    raise FrontMatterError("unsupported-language", f"front matter in {lang[1]!r} (---{lang[1]}) "
                           "is not read: kg reads YAML, TOML and JSON", 1)


def _read_yaml(fm_text: str, problems: list[tuple]) -> dict:
    try:
        meta, duplicates = parse_yaml(fm_text)
    except _AliasBomb as exc:
        raise FrontMatterError("yaml-aliases", f"refused: {exc} (a YAML alias bomb?)") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None  # 0-based, after the opening ---
        reason = f"{exc.problem or exc.context}".strip()
        raise FrontMatterError("yaml-syntax", f"malformed YAML: {reason}", line) from None
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        raise FrontMatterError("yaml-syntax", f"malformed YAML: {str(exc)[:200]}") from None
    if not isinstance(meta, dict):
        raise FrontMatterError("not-a-mapping",
                               f"front matter is a {type(meta).__name__}, not a mapping")
    for key, line in duplicates:
        problems.append(("duplicate-key", f"key {key!r} appears more than once; the last "
                         "value is used", "warning", str(key), line + 1))
    return meta


def decode_text(data: bytes, problems: list[tuple]) -> str:
    """The text of a file's bytes: UTF-8 (a byte order mark dropped), or else
    Windows-1252 (Latin-1 for bytes it leaves undefined), with an ``encoding``
    warning appended to ``problems``.

    >>> problems = []
    >>> decode_text(b"caf\\xe9", problems), problems[0][0]
    ('café', 'encoding')
    """
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a UTF-8 byte order mark is not content
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        problems.append((
            "encoding", f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
            f"{exc.start}); read as Windows-1252/Latin-1", "warning", None, line))
        try:
            return data.decode("cp1252")
        except UnicodeDecodeError:
            return data.decode("latin-1")


def split_front_matter(text: str) -> str | None | Literal[False]:
    """The text between the opening fence and the next fence line.

    ``None`` when the text does not open with a fence, ``False`` when no
    fence closes it.  Same answer as python-frontmatter's
    ``YAMLHandler.detect``/``split`` (tested), without scanning the text with
    a regex: candidate closing fences are found with ``str.find``.

    >>> split_front_matter("---\\ntitle: A\\n---\\nbody"), split_front_matter("---\\nopen")
    ('\\ntitle: A\\n', False)
    """
    span = _yaml_span(text)
    return span if not span else text[span[0]:span[1]]


def _yaml_span(text: str) -> tuple[int, int] | None | Literal[False]:
    """Where the text of :func:`split_front_matter` starts and ends."""
    opening = _FENCE.match(text)
    if opening is None:
        return None
    start = opening.end()
    i = start - 1  # the next match may start at any later line start
    while (i := text.find("\n---", i)) >= 0:
        i += 1
        if _FENCE.match(text, i):
            return start, i
    return False


# -- YAML ---------------------------------------------------------------------
class _AliasBomb(yaml.YAMLError):
    pass


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """libyaml's safe loader that reports duplicate keys, refuses alias
    bombs and leaves timestamps as text (so a bad date is a field problem,
    not a parse failure of the whole file)."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[str, int]] = []
        self.alias_uses = 0

    def construct_object(self, node, deep=False):  # noqa: ANN001
        if node in self.constructed_objects:
            self.alias_uses += 1
            if self.alias_uses > MAX_ALIASES:
                raise _AliasBomb(f"more than {MAX_ALIASES} alias references")
        return super().construct_object(node, deep)

    def construct_mapping(self, node, deep=False):  # noqa: ANN001
        if isinstance(node, yaml.MappingNode):
            seen: set = set()
            for key_node, _ in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in seen:
                        self.duplicates.append((key_node.value, key_node.start_mark.line))
                    seen.add(key_node.value)
        return super().construct_mapping(node, deep)


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_str)


def parse_yaml_libyaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """Parse front matter with libyaml (the careful path of :func:`parse_yaml`):
    (value, duplicate keys as (key, 0-based line)); timestamps stay text.

    >>> parse_yaml_libyaml("a: 1\\nb: 2021-12-15\\na: 3\\n")
    ({'a': 3, 'b': '2021-12-15'}, [('a', 2)])
    """
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


try:  # the Rust YAML parser: much faster, same results on the real corpora (tested)
    import yaml_rs

    _RS_LIMITS = yaml_rs.AliasLimits(max_alias_expansions_per_anchor=MAX_ALIASES,
                                     max_replay_stack_depth=4,
                                     max_total_replayed_events=4 * MAX_ALIASES)
except ImportError:  # pragma: no cover - yaml-rs is a declared dependency
    yaml_rs = None  # type: ignore[assignment]


def parse_yaml(text: str) -> tuple[Any, list[tuple[str, int]]]:
    """Parse front matter: (value, duplicate keys as (key, 0-based line)).

    The fast parser answers the common case; anything it refuses (syntax
    errors, duplicate keys, aliases) is parsed again by libyaml, whose
    errors carry the line and whose checks name the duplicate keys.

    >>> parse_yaml("title: A\\npublished: 2021-12-15T12:20:00Z\\n")
    ({'title': 'A', 'published': '2021-12-15T12:20:00Z'}, [])
    """
    if yaml_rs is not None:
        try:
            return yaml_rs.loads(text, parse_datetime=False, alias_limits=_RS_LIMITS), []
        except Exception:  # noqa: BLE001 - any refusal: take the careful path
            pass
    return parse_yaml_libyaml(text)


# -- TOML and JSON ----------------------------------------------------------------
def _read_toml(text: str) -> tuple[dict, str, int]:
    opening = _TOML_FENCE.match(text)
    if opening is None:
        raise FrontMatterError("no-front-matter", "a TOML front matter opens with a line of "
                               "exactly +++", 1)
    start = opening.end()
    closing = _TOML_FENCE.search(text, start)
    if closing is None:
        dashes = _FENCE.search(text, start)
        if dashes is not None:
            raise _mixed("+++ (TOML)", "--- (YAML)", text, dashes.start())
        raise FrontMatterError("no-front-matter", "TOML front matter is not closed by a +++ line")
    fm_text = text[start:closing.start()]
    return parse_toml(fm_text), fm_text, closing.start()


def parse_toml(fm_text: str) -> dict:
    """The mapping of a TOML front matter (the text after the opening ``+++``,
    so that line numbers are the file's); dates and times stay
    :mod:`datetime` values.

    >>> parse_toml("\\ntitle = 'A'\\ntags = ['x']\\n")
    {'title': 'A', 'tags': ['x']}
    >>> parse_toml("\\ntitle = A\\n")
    Traceback (most recent call last):
    ...
    kg.frontmatter.FrontMatterError: malformed TOML: Invalid value (at line 2, column 9)
    """
    import tomllib  # only folders with TOML front matter pay for the import

    try:
        return tomllib.loads(fm_text.replace("\r\n", "\n"))
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        m = _TOML_LINE.search(str(exc))
        raise FrontMatterError("toml-syntax", f"malformed TOML: {str(exc)[:200]}",
                               int(m.group(1)) if m else None) from None


def parse_json(text: str, problems: list[tuple] | None = None) -> tuple[dict, str]:
    """The mapping of a JSON front matter (an object opening the text) and the
    object's text; what follows the object is the body.  A key given twice
    in one object is a ``duplicate-key`` warning appended to ``problems``
    (the last value is used, as JSON parsers do).

    >>> parse_json('{"title": "A",\\n "tags": ["x"]}\\nbody')[0]
    {'title': 'A', 'tags': ['x']}
    >>> parse_json('{"title": "A",\\n "tags": [x]}')
    Traceback (most recent call last):
    ...
    kg.frontmatter.FrontMatterError: malformed JSON: Expecting value
    """
    start = len(text) - len(text.lstrip())
    duplicates: list[str] = []

    def mapping(pairs: list[tuple[str, Any]]) -> dict:
        out = dict(pairs)
        if len(out) < len(pairs):
            seen: set[str] = set()
            for k, _ in pairs:
                if k in seen:
                    duplicates.append(k)
                seen.add(k)
        return out

    try:
        meta, end = json.JSONDecoder(object_pairs_hook=mapping).raw_decode(text, start)
    except json.JSONDecodeError as exc:
        raise FrontMatterError("json-syntax", f"malformed JSON: {exc.msg}", exc.lineno) from None
    except (RecursionError, ValueError) as exc:
        raise FrontMatterError("json-syntax", f"malformed JSON: {str(exc)[:200]}") from None
    if not isinstance(meta, dict):  # pragma: no cover - raw_decode of "{" gives a dict
        raise FrontMatterError("not-a-mapping", "JSON front matter is not an object")
    if problems is not None:
        for key in duplicates:
            problems.append(("duplicate-key", f"key {key!r} appears more than once; the last "
                             "value is used", "warning", key, None))
    return meta, text[:end]
