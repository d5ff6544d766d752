"""A content-hash cache of parsed article files, for incremental builds.

``kg build`` keeps it in ``<export folder>/.cache/records.jsonl``: one line
per input file, keyed by the file's name *and* the SHA-256 of its bytes, so a
changed file is a miss whatever its modification time.  Nothing in it is
trusted blindly:

* the header names the code that wrote it (a fingerprint of the ingest
  modules and of the parsing libraries' versions); any other code ignores it;
* every line carries a checksum of its payload; a line that does not match,
  or that does not decode, is dropped and its file parsed again.

>>> import tempfile, kg
>>> cache = RecordCache(tempfile.mkdtemp() + "/records.jsonl")
>>> first = kg.load_corpus("seeds", cache=cache)
>>> cache.save(); cache.hits, cache.misses
(0, 1)
>>> again = RecordCache(cache.path)
>>> kg.load_corpus("seeds", cache=again).articles == first.articles, again.hits
(True, 1)
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from importlib import metadata
from pathlib import Path

import orjson

from ._util import atomic_writer
from .records import Article, Image, Problem, Provider, SourceFile

__all__ = ["RecordCache"]

FORMAT = 1


def _fingerprint() -> str:
    """Identifies the code that turns bytes into records."""
    h = hashlib.sha256(f"format {FORMAT}".encode())
    here = Path(__file__).parent
    for module in ("ingest.py", "normalize.py", "records.py", "cache.py"):
        h.update((here / module).read_bytes())
    for dist in ("yaml-rs", "PyYAML", "ftfy", "publicsuffixlist", "python-frontmatter"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()[:32]


def _checksum(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=8).hexdigest().encode()


def _article(d: dict) -> Article:
    return Article(
        source=d["source"], title=d["title"], url=d["url"], urls=tuple(d["urls"]),
        excerpt=d["excerpt"],
        published=datetime.fromisoformat(d["published"]) if d["published"] else None,
        type=d["type"], category=d["category"], quality=d["quality"], heat=d["heat"],
        locale=d["locale"], provider=Provider(**d["provider"]) if d["provider"] else None,
        topics=tuple(d["topics"]), tags=tuple(d["tags"]),
        images=tuple(Image(**i) for i in d["images"]),
        related=tuple(_article(r) for r in d["related"]))


class RecordCache:
    """Parsed files by (name, content hash); see the module docstring."""

    def __init__(self, path: str | os.PathLike) -> None:
        from .ingest import FileResult  # ingest uses the cache: import late

        self._result = FileResult
        self.path = Path(path)
        self.fingerprint = _fingerprint()
        self._lines: dict[tuple[str, str], bytes] = {}
        self._used: dict[str, bytes] = {}
        self.hits = self.misses = self.corrupt = 0
        self._read()

    def __len__(self) -> int:
        return len(self._lines)

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return
        header, _, body = data.partition(b"\n")
        try:
            if orjson.loads(header) != {"format": FORMAT, "fingerprint": self.fingerprint}:
                return  # written by other code: start afresh
        except orjson.JSONDecodeError:
            return
        for line in body.splitlines():
            check, _, payload = line.partition(b" ")
            if _checksum(payload) != check:
                self.corrupt += 1
                continue
            # the key from the payload's first fields, without decoding it all
            try:
                head = orjson.loads(payload[:payload.index(b',"article"')] + b"}")
                self._lines[head["name"], head["sha256"]] = payload
            except (ValueError, KeyError, orjson.JSONDecodeError):
                self.corrupt += 1

    def get(self, name: str, sha256: str):  # -> FileResult | None
        """The cached result of a file with this name and content, if valid."""
        payload = self._lines.get((name, sha256))
        if payload is None:
            self.misses += 1
            return None
        try:
            d = orjson.loads(payload)
            result = self._result(
                _article(d["article"]) if d["article"] else None,
                SourceFile(**d["file"]),
                [Problem(**p) for p in d["problems"]])
        except (KeyError, TypeError, ValueError, orjson.JSONDecodeError):
            self.corrupt += 1
            self.misses += 1
            return None
        self.hits += 1
        self._used[name] = payload
        return result

    def put(self, result) -> None:  # result: FileResult
        """Remember a freshly parsed file (saved by :meth:`save`)."""
        if not result.file.sha256:
            return  # unreadable: nothing to key it by
        self._used[result.file.path] = orjson.dumps({
            "name": result.file.path, "sha256": result.file.sha256,
            "article": result.article, "file": result.file,
            "problems": [p.to_dict() for p in result.problems]})

    def save(self) -> None:
        """Write the entries of this build (entries of deleted files are gone)."""
        with atomic_writer(self.path) as f:
            f.write(orjson.dumps({"format": FORMAT, "fingerprint": self.fingerprint}) + b"\n")
            for name in sorted(self._used):
                payload = self._used[name]
                f.write(_checksum(payload) + b" " + payload + b"\n")
