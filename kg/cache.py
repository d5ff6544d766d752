"""A cache of parsed article files, for incremental builds.

``kg build`` keeps it in ``<export folder>/.cache/records.jsonl``: one line
per input file, keyed by the file's name and holding the SHA-256 of the bytes
it was parsed from.  Nothing in it is trusted blindly:

* the header names the code that wrote it (a fingerprint of the ingest
  modules and of the parsing libraries' versions); any other code ignores it;
* every line carries a checksum (CRC-32) of its content; a line that does
  not match, that does not decode, or whose row disagrees with its content
  hash, is dropped and its file parsed again (``corrupt`` counts them, and
  a damaged header);
* a file is taken from the cache when its content hash matches, or, without
  reading it, when its size, modification and status-change times (ns) and
  inode all match what they were when it was parsed.  Those are recorded
  only for files last changed over two seconds before they were read, so a
  file changed within the file system's clock tick of being read is hashed
  again (git's "racy clean" rule).  Any write to a file moves its change
  time, which no tool sets back; ``RecordCache(path, trust_stat=False)``
  hashes every file all the same.

>>> import tempfile, kg
>>> cache = RecordCache(tempfile.mkdtemp() + "/records.jsonl")
>>> first = kg.load("seeds", cache=cache)
>>> cache.save(); cache.hits, cache.misses
(0, 1)
>>> again = RecordCache(cache.path)
>>> kg.load("seeds", cache=again).articles == first.articles, again.hits
(True, 1)
"""

from __future__ import annotations

import hashlib
import os
import sys
import weakref
import zlib
from importlib import metadata
from pathlib import Path

import orjson

from ._perf import gc_paused
from ._util import ONTOLOGY_DIR, AtomicFile, atomic_writer
from .records import records_from_row

__all__ = ["RecordCache", "build_fingerprint", "file_stat"]

FORMAT = 3
#: Files changed less than this before they were read keep no stat key.
RACY_NS = 2_000_000_000
_NO_STAT = b"-"


def _fingerprint() -> str:
    """Identifies the code that turns bytes into records."""
    h = hashlib.sha256(f"format {FORMAT}".encode())
    here = Path(__file__).parent
    for module in ("ingest.py", "frontmatter.py", "keymap.py", "fields.py", "normalize.py",
                   "records.py", "cache.py"):
        h.update((here / module).read_bytes())
    for dist in ("yaml-rs", "PyYAML", "ftfy", "publicsuffixlist", "orjson"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()[:32]


def build_fingerprint() -> str:
    """Identifies the code and data that turn records into exports: every
    file of the ``kg`` package, the ontology, and the versions of Python and
    of the libraries that parse, build and store."""
    h = hashlib.sha256(_fingerprint().encode())
    here = Path(__file__).parent
    for root in (here, ONTOLOGY_DIR):
        for path in sorted(root.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                h.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes())
    h.update(sys.version.encode())
    for dist in ("networkx", "numpy", "pyoxigraph"):
        try:
            h.update(f"{dist}={metadata.version(dist)}".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{dist}=none".encode())
    return h.hexdigest()[:32]


def file_stat(st: os.stat_result, read_ns: int) -> tuple[int, int, int, int, int]:
    """What the cache keeps of a file's ``stat`` (size, mtime_ns, ctime_ns,
    inode) and when it was taken (``time.time_ns()`` before the file was read)."""
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, read_ns


def _stat_key(st: os.stat_result) -> bytes:
    """A file's stat as the cache's lines hold it: ``size,mtime_ns,ctime_ns,inode``."""
    return b"%d,%d,%d,%d" % (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def _checksum(body: bytes | memoryview) -> bytes:
    # CRC-32: catches damage to a line (truncation, flipped bytes), at disk speed
    return b"%08x" % zlib.crc32(body)


class RecordCache:
    """Parsed files by name and content; see the module docstring.

    A line is ``checksum sha256 stat<TAB>"name"<TAB>payload``: the checksum
    covers the rest of the line, ``stat`` is ``size,mtime_ns,ctime_ns,inode``
    or ``-``, the name is JSON, the payload is the file's result row (see
    :mod:`kg.records`) as :func:`~kg.records.encode_row` writes it.  Lines are checked when looked up, so a
    damaged line counts as ``corrupt`` then.  ``racy_ns`` is how recently
    changed a file may be and keep no stat key (more for file systems with
    coarse times).
    """

    def __init__(self, path: str | os.PathLike, *, trust_stat: bool = True,
                 racy_ns: int = RACY_NS) -> None:
        self.path = Path(path)
        self.fingerprint = _fingerprint()
        self.trust_stat = trust_stat
        self.racy_ns = racy_ns
        self._data = b""  # the cache file, whose lines are checked when looked up
        self._view = memoryview(self._data)
        # the name as JSON -> offsets of its line: (start, end, first tab, second tab)
        self._entries: dict[bytes, tuple[int, int, int, int]] = {}
        self._used: dict[str, bytes | memoryview] = {}  # name -> line, for save()
        # With no cache file to add to, the next one is written whole: its new
        # lines go to it as they come rather than wait for save() in memory
        # (gigabytes at a million files).  None until the first.
        self._spool: AtomicFile | None = None
        self._changed = True  # whether save() has anything new to write
        self.hits = self.misses = self.corrupt = 0
        self._read()

    def __len__(self) -> int:
        return len(self._entries)

    def _read(self) -> None:
        try:
            data = self.path.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            return
        pos = data.find(b"\n") + 1 or len(data)
        try:
            if orjson.loads(data[:pos]) != {"format": FORMAT, "fingerprint": self.fingerprint}:
                return  # written by other code: start afresh
        except orjson.JSONDecodeError:
            self.corrupt += 1  # a damaged header: nothing after it is trusted
            self._changed = True
            return
        self._data, self._view = data, memoryview(data)
        entries, find, size = self._entries, data.find, len(data)
        with gc_paused():
            while pos < size:  # offsets only: no copy of the lines
                end = find(b"\n", pos)
                if end < 0:
                    end = size
                tab = find(b"\t", pos, end)
                tab2 = find(b"\t", tab + 1, end) if tab >= 0 else -1
                if tab2 >= 0:
                    entries[data[tab + 1:tab2]] = (pos, end, tab, tab2)
                elif end > pos:
                    self.corrupt += 1
                pos = end + 1
        self._changed = self.corrupt > 0

    def _entry(self, name: str) -> tuple[str, bytes, memoryview, memoryview] | None:
        """(sha256, stat key, payload, line) of a name's line, if it is intact."""
        span = self._entries.get(orjson.dumps(name))
        if span is None:
            return None
        start, end, tab, tab2 = span
        data, view = self._data, self._view
        space = data.find(b" ", start, tab)
        try:
            if space < 0 or _checksum(view[space + 1:end]) != data[start:space]:
                raise ValueError("checksum")
            sha256, stat = data[space + 1:tab].split(b" ")
            return sha256.decode("ascii"), stat, view[tab2 + 1:end], view[start:end]
        except ValueError:
            # Forgotten once found, so that a damaged line counts once
            # however often its name is looked up.
            del self._entries[orjson.dumps(name)]
            self.corrupt += 1
            self._changed = True
            return None

    def _stat_field(self, stat: tuple[int, int, int, int, int] | None) -> bytes:
        """The stat key of a line: none for a file changed within ``racy_ns``
        of being read, as a later change might keep its times."""
        if stat is None or max(stat[1], stat[2]) >= stat[4] - self.racy_ns:
            return _NO_STAT
        return b"%d,%d,%d,%d" % stat[:4]

    def _decode(self, name: str, sha256: str, payload: bytes | memoryview,
                shared: dict) -> tuple | None:
        try:
            row = orjson.loads(payload)
            # A line whose checksum holds can still disagree with itself (a
            # writer's bug, an edit): a row made from other content than the
            # line's hash, or whose "ok" says otherwise than its article, is
            # not used.
            (digest, size, ok), article, _ = row
            if digest != sha256 or type(size) is not int or ok is not (article is not None):
                raise ValueError("inconsistent row")
            return records_from_row(name, row, shared)
        except (KeyError, TypeError, ValueError, IndexError, orjson.JSONDecodeError):
            self.corrupt += 1
            self._changed = True
            return None

    def lookup(self, path: str, name: str, max_bytes: int, now_ns: int,
               shared: dict) -> tuple | None:
        """The cached records (file, article, problems) of the file at ``path``,
        if it has not changed (see :func:`kg.records.records_from_row`).

        Counts a hit or a miss.  ``now_ns`` is when the build started
        (``time.time_ns()``).
        """
        entry = self._entry(name)
        result = None
        if entry is not None:
            line: bytes | memoryview
            sha256, stat, payload, line = entry
            try:
                st = os.stat(path)
                if st.st_size <= max_bytes:
                    current = _stat_key(st)
                    if not (self.trust_stat and current == stat):  # (a stat key is never b"-")
                        with open(path, "rb") as f:
                            if hashlib.sha256(f.read()).hexdigest() != sha256:
                                raise LookupError(name)  # changed: parse again
                        current = self._stat_field(file_stat(st, now_ns))
                    result = self._decode(name, sha256, payload, shared)
            except (OSError, LookupError):
                pass
        if result is None:
            self.misses += 1
            return None
        self.hits += 1
        if current != stat:  # same content, other times: record the new ones
            line = self._line(sha256, current, name, payload)
            self._changed = True
        self._used[name] = line
        return result

    def content_hash(self, path: str, name: str) -> str | None:
        """The SHA-256 of a file's bytes: the cached one, without reading the
        file, when its stat key matches (as in :meth:`lookup`), or else
        computed from the file; ``None`` if it cannot be read.  Counts no hit
        or miss."""
        entry = self._entry(name)
        try:
            if entry is not None and self.trust_stat and _stat_key(os.stat(path)) == entry[1]:
                return entry[0]
            h = hashlib.sha256()
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    h.update(chunk)
            return h.hexdigest()
        except OSError:
            return None

    def records(self, name: str, sha256: str, shared: dict) -> tuple | None:
        """The cached records of a file with this name and content, checked as
        :meth:`lookup` checks them (a damaged entry counts as ``corrupt``),
        without looking at the file.  Counts no hit or miss."""
        entry = self._entry(name)
        if entry is None or entry[0] != sha256:
            return None
        return self._decode(name, sha256, entry[2], shared)

    def row(self, name: str, sha256: str) -> list | None:
        """The cached result row of a file with this name and content, as
        JSON decodes it (lists for tuples), if its line is intact.  Counts
        no hit or miss."""
        entry = self._entry(name)
        if entry is None or entry[0] != sha256:
            return None
        try:
            return orjson.loads(entry[2])
        except orjson.JSONDecodeError:
            self.corrupt += 1
            return None

    def store(self, name: str, sha256: str, stat: tuple[int, int, int, int, int] | None,
              payload: bytes | None) -> None:
        """Remember the payload of a file parsed from content with this hash
        (``stat``: see :func:`file_stat`; ``None`` if unknown)."""
        if not sha256 or payload is None:
            return  # unreadable (nothing to key it by) or not encodable
        line = self._line(sha256, self._stat_field(stat), name, payload)
        self._changed = True
        if self._data:
            self._used[name] = line
            return
        if self._spool is None:
            self._spool = spool = AtomicFile(self.path)
            weakref.finalize(self, spool.discard)  # (a cache never saved nor closed)
            spool.file.write(self._header())
        self._spool.file.write(line + b"\n")  # (a name's last line counts)

    @staticmethod
    def _line(sha256: str, stat: bytes, name: str, payload: bytes | memoryview) -> bytes:
        rest = b"%s %s\t%s\t%s" % (sha256.encode("ascii"), stat, orjson.dumps(name), payload)
        return _checksum(rest) + b" " + rest

    def append(self, name: str, sha256: str, stat: tuple[int, int, int, int, int] | None,
               payload: bytes) -> None:
        """Add a file's entry at the end of the cache file, without rewriting
        the rest (when the file is read, a name's last line counts).  For
        builds that change a few entries and save nothing else; an append cut
        short is a line whose checksum fails."""
        if not self._data or not sha256:
            return  # no valid cache file to add to: the file is parsed next time
        with open(self.path, "ab") as f:
            f.write(self._line(sha256, self._stat_field(stat), name, payload) + b"\n")

    def append_new(self) -> None:
        """Add this build's new entries (files parsed, or whose times moved)
        at the end of the cache file and leave the others as they are, even
        those this build did not look up (a build that read only the files
        that changed: :mod:`kg.graph_patch`).  With no valid cache file, as
        :meth:`save`."""
        if not self._data:
            return self.save()
        data, entries = self._data, self._entries
        lines = []
        for name, line in self._used.items():
            span = entries.get(orjson.dumps(name))
            if span is None or data[span[0]:span[1]] != line:
                lines.append(bytes(line))
        if lines:
            with open(self.path, "ab") as f:  # (after a cut last line: on a line of its own)
                f.write((b"" if data.endswith(b"\n") else b"\n") + b"\n".join(lines) + b"\n")

    def close(self) -> None:
        """Let go of the cache file's bytes and this build's entries (saved
        first, if they are to be kept): a build does, once they are written,
        rather than hold them while it builds the graph."""
        self._data, self._view = b"", memoryview(b"")
        self._entries, self._used = {}, {}
        if self._spool is not None:
            self._spool.discard()
            self._spool = None

    def save(self) -> None:
        """Write the entries of this build (entries of deleted files are gone).

        Nothing is written when the file would stay the same.
        """
        if not self._changed and len(self._used) == len(self._entries) and self.path.exists():
            return
        used, names = self._used, sorted(self._used)
        if self._spool is not None:  # (then no line was read: used holds none)
            spool, self._spool = self._spool, None
            try:
                self._write_lines(spool.file, used, names)
                spool.commit()
            finally:
                spool.discard()
        else:
            with atomic_writer(self.path) as f:
                f.write(self._header())
                self._write_lines(f, used, names)
        self._changed = False

    def _header(self) -> bytes:
        return orjson.dumps({"format": FORMAT, "fingerprint": self.fingerprint}) + b"\n"

    @staticmethod
    def _write_lines(f, used: dict[str, bytes | memoryview], names: list[str]) -> None:
        # A few thousand lines at a time: joined whole (and then ended), the
        # lines would be copied twice over (gigabytes at a million files).
        for at in range(0, len(names), 4096):
            f.write(b"\n".join([used[name] for name in names[at:at + 4096]]) + b"\n")

