"""Export files rewritten block by block: unchanged blocks copied, the rest rendered.

An export is a sequence of blocks in a deterministic order (N-Quads: one
per named graph).  Each block has a ``key``, a ``digest`` of what it is made
of (computed by the caller before rendering) and a ``render`` function
giving its bytes.  :func:`write_blocks` writes the new file: a block whose
key and digest are in the previous file's index is copied from the previous
file (adjacent runs in one ``os.copy_file_range``), every other block is
rendered.  The file is written atomically (:func:`kg._util.atomic_writer`),
and the new index is written beside, in ``.cache/``.

The index is trusted only if its checksum holds, it was written by the same
code (``fingerprint``) and the file it describes is still the one on disk
(inode, size, modification time); otherwise every block is rendered, and a
warning says why unless the index is just of another file or another
version of the code (a build killed between writing the index and renaming
the file, a file replaced by hand, an upgrade).

>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> blocks = [("a", "1", lambda: b"A\\n"), ("b", "1", lambda: b"B\\n")]
>>> w = write_blocks(d / "f.txt", blocks, d / ".cache/f.txt.blocks", "code-1")
>>> w.rendered, w.copied, (d / "f.txt").read_bytes()
(2, 0, b'A\\nB\\n')
>>> blocks = [("a", "1", lambda: b"never called\\n"), ("c", "1", lambda: b"C\\n")]
>>> w = write_blocks(d / "f.txt", blocks, d / ".cache/f.txt.blocks", "code-1")
>>> w.rendered, w.copied, (d / "f.txt").read_bytes()
(1, 1, b'A\\nC\\n')
"""

from __future__ import annotations

import hashlib
import os
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import orjson

from ._util import atomic_writer

__all__ = ["Block", "BlockWriter", "PreviousBlocks", "Written", "read_index", "write_blocks", "runs",
           "content_digest", "node_digest", "node_runs", "INDEX_VERSION"]

INDEX_VERSION = 1
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Block:
    """One block of a written file: where its bytes are, and what made them."""

    key: str
    digest: str      # of its inputs, from the caller
    offset: int
    length: int
    content: str     # content_digest of its bytes
    lines: int       # newlines in its bytes (e.g. the quads of an N-Quads block)


@dataclass
class Written:
    """What :func:`write_blocks` did."""

    blocks: list[Block]
    rendered: int = 0
    copied: int = 0
    copied_bytes: int = 0
    #: members of rendered blocks whose lines were copied (see :meth:`kg.rdf.RdfWriter.write_nquads`)
    copied_members: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def lines(self) -> int:
        """The newlines of the whole file."""
        return sum(b.lines for b in self.blocks)


def content_digest(data: bytes) -> str:
    """The digest of a block's bytes (the first 128 bits of SHA-256, as
    :func:`kg.store.sync.graph_digest`, so a graph block's is its store digest).

    >>> content_digest(b"x")
    '2d711642b726b04401627ca9fbac32f5'
    """
    return hashlib.sha256(data).hexdigest()[:32]


def _plain(value: object) -> object:
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    return repr(value)


def node_digest(attrs: dict, out_edges: dict) -> str:
    """A digest of a graph node: its attributes and its out-edges
    (NetworkX's successor dict: target -> key -> attributes), each in its
    order, as every export writes them.  A node of the same digest has the
    same lines in every export made block by block (graph JSON, GraphML, RDF).

    >>> node_digest({"kind": "topic"}, {}) == node_digest({"kind": "topic"}, {})
    True
    >>> node_digest({"a": 1, "b": 2}, {}) == node_digest({"b": 2, "a": 1}, {})
    False
    """
    return hashlib.blake2b(orjson.dumps([attrs, out_edges], option=orjson.OPT_NON_STR_KEYS,
                                        default=_plain), digest_size=16).hexdigest()


def node_runs(nodes: dict[str, dict], succ: dict[str, dict], digests: Mapping[str, str] | None = None,
              ) -> list[tuple[list[str], str]]:
    """The graph's nodes in :func:`runs`, each with a digest of its nodes'
    :func:`node_digest` (taken from ``digests`` where it has them)."""
    known = digests or {}
    out = []
    for run in runs(nodes):
        made = "\n".join(f"{n}\0{known.get(n) or node_digest(nodes[n], succ[n])}" for n in run)
        out.append((run, content_digest(made.encode())))
    return out


def runs(keys: Iterable[str], mean: int = 8) -> Iterator[list[str]]:
    """``keys`` in runs of about ``mean``, cut after every key whose CRC-32
    is a multiple of ``mean``: where a run ends depends on its own keys only,
    so a key added or removed changes its run and leaves the others as they were
    (blocks of many small items, with an index a fraction of the size).

    The keys a change touches lie all over the order (node ids are hashes),
    so the share of runs it changes is about ``1 - exp(-touched / runs)``:
    short runs keep that near the share of keys touched.

    >>> [len(r) for r in runs(map(str, range(20)), 4)]
    [5, 2, 8, 2, 3]
    >>> sum(runs(["a", "b"], 1), []) == ["a", "b"]
    True
    """
    run: list[str] = []
    for key in keys:
        run.append(key)
        if zlib.crc32(key.encode()) % mean == 0:
            yield run
            run = []
    if run:
        yield run


def _file_id(st: os.stat_result) -> list[int]:
    return [st.st_ino, st.st_size, st.st_mtime_ns]


def read_index(index_path: str | os.PathLike, data_path: str | os.PathLike,
               fingerprint: str) -> tuple[dict[str, Block] | None, str | None]:
    """The blocks of ``data_path`` by key, from its index, with ``None`` as
    the second item; or ``(None, reason)`` when the index cannot be trusted
    (``(None, None)`` when there is no index, no file, or the index is of
    another file: nothing to warn of).

    >>> read_index("/nonexistent.blocks", "/nonexistent", "code-1")
    (None, None)
    """
    index_path, data_path = Path(index_path), Path(data_path)
    try:
        raw = index_path.read_bytes()
        st = data_path.stat()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{index_path}: unreadable ({exc}): {data_path.name} rewritten whole"
    body, _, check = raw.rstrip(b"\n").rpartition(b"\n")
    why = None
    try:
        if hashlib.sha256(body).hexdigest().encode() != check:
            why = "checksum does not match"
        else:
            head = orjson.loads(body)
            if (head.get("version") != INDEX_VERSION or head.get("fingerprint") != fingerprint
                    or head.get("file") != _file_id(st)):
                # Not damage: another version of newskg (its first build
                # rewrites everything anyway), a build killed between the
                # index and the rename, a file put there by hand.  Rewritten, silently.
                return None, None
            else:
                blocks = {b[0]: Block(*b) for b in head["blocks"]}
                end = 0
                for b in head["blocks"]:  # contiguous, within the file
                    if b[2] != end or b[3] < 0:
                        why = "blocks do not tile the file"
                        break
                    end += b[3]
                else:
                    if end != st.st_size or len(blocks) != len(head["blocks"]):
                        why = "blocks do not tile the file"
    except (ValueError, TypeError, KeyError, AttributeError, IndexError):
        why = "damaged"
    if why is not None:
        return None, f"{index_path}: {why}; not used: {data_path.name} rewritten whole"
    return blocks, None


def _write_index(index_path: Path, fingerprint: str, file_id: list[int], blocks: list[Block]) -> None:
    body = orjson.dumps({"version": INDEX_VERSION, "fingerprint": fingerprint, "file": file_id,
                         "blocks": [[b.key, b.digest, b.offset, b.length, b.content, b.lines]
                                    for b in blocks]})
    with atomic_writer(index_path) as f:
        f.write(body + b"\n" + hashlib.sha256(body).hexdigest().encode() + b"\n")


def _copy(src_fd: int, dst: IO[bytes], offset: int, length: int) -> None:
    """``length`` bytes of ``src_fd`` from ``offset`` appended to ``dst``."""
    dst.flush()
    out_fd = dst.fileno()
    while length > 0:
        try:
            n = os.copy_file_range(src_fd, out_fd, length, offset)
        except OSError:  # another file system, or no such call: copy through memory
            n = 0
        if n == 0:
            data = os.pread(src_fd, min(length, _COPY_CHUNK), offset)
            if not data:
                raise OSError(f"the previous file ended {length} bytes early")
            os.write(out_fd, data)
            n = len(data)
        offset += n
        length -= n
    dst.seek(0, os.SEEK_END)  # the buffered file's idea of where it is


class BlockWriter:
    """Rewrites ``path`` block by block against its index at ``index_path``
    (``None``: no index, every block rendered, none kept).

    :meth:`unchanged` says which blocks will be copied, before any is
    rendered (so a caller can prepare just the others); :meth:`write`
    writes the file.
    """

    def __init__(self, path: str | os.PathLike, index_path: str | os.PathLike | None,
                 fingerprint: str) -> None:
        self.path = Path(path)
        self.index_path = Path(index_path) if index_path is not None else None
        self.fingerprint = fingerprint
        self.warnings: list[str] = []
        old = None
        if self.index_path is not None:
            old, warning = read_index(self.index_path, self.path, fingerprint)
            self.warnings += [warning] if warning else []
        self.old: dict[str, Block] = old or {}

    def unchanged(self, key: str, digest: str) -> bool:
        """Whether the block ``key`` with inputs ``digest`` will be copied."""
        prev = self.old.get(key)
        return prev is not None and prev.digest == digest

    def write(self, blocks: Iterable[tuple[str, str, Callable[[], bytes]]], *,
              each: Callable[[str, str, bytes | None], None] | None = None) -> Written:
        """Write the file from ``(key, digest, render)`` blocks, in that order.

        ``each(key, content_digest, data)`` is called for every block in
        order, ``data`` being its bytes when rendered, ``None`` when copied
        (without an index and ``each``, no content digest is computed).
        Keys are unique; a digest must change whenever the block's bytes would.
        """
        old = self.old
        written = Written([], warnings=list(self.warnings))
        digests = self.index_path is not None or each is not None
        src = open(self.path, "rb") if old else None  # noqa: SIM115 (closed below; read after the rename too)
        try:
            with atomic_writer(self.path, "wb") as f:
                pos = 0
                run_start = run_len = 0  # the pending run of old bytes to copy

                def flush_run() -> None:
                    nonlocal run_len
                    if run_len:
                        assert src is not None
                        _copy(src.fileno(), f, run_start, run_len)
                        written.copied_bytes += run_len
                        run_len = 0

                for key, digest, render in blocks:
                    prev = old.get(key)
                    if prev is not None and prev.digest == digest:
                        if run_len and run_start + run_len == prev.offset:
                            run_len += prev.length
                        else:
                            flush_run()
                            run_start, run_len = prev.offset, prev.length
                        written.blocks.append(Block(key, digest, pos, prev.length, prev.content,
                                                    prev.lines))
                        written.copied += 1
                        pos += prev.length
                        if each is not None:
                            each(key, prev.content, None)
                        continue
                    flush_run()
                    data = render()
                    f.write(data)
                    content = content_digest(data) if digests else ""
                    written.blocks.append(Block(key, digest, pos, len(data), content,
                                                data.count(b"\n")))
                    written.rendered += 1
                    pos += len(data)
                    if each is not None:
                        each(key, content, data)
                flush_run()
                if self.index_path is not None:
                    f.flush()
                    # Indexed before the rename: a kill between the two leaves an
                    # index of the temporary file, which the old file does not match.
                    _write_index(self.index_path, self.fingerprint,
                                 _file_id(os.fstat(f.fileno())), written.blocks)
        finally:
            if src is not None:
                src.close()
        return written


def write_blocks(path: str | os.PathLike,
                 blocks: Iterable[tuple[str, str, Callable[[], bytes]]],
                 index_path: str | os.PathLike | None, fingerprint: str, *,
                 each: Callable[[str, str, bytes | None], None] | None = None) -> Written:
    """Write ``path`` from ``(key, digest, render)`` blocks, copying from the
    previous ``path`` every block its index holds with the same key and
    digest (:class:`BlockWriter`); returns what was done and the new index
    (also written to ``index_path``).
    """
    return BlockWriter(path, index_path, fingerprint).write(blocks, each=each)


class PreviousBlocks:
    """The blocks of a file as its index describes them, readable after the
    file is replaced (its descriptor is held from the start).

    :meth:`read` gives a block's bytes only if they still have the content
    digest the caller expects: what is read is checked, never trusted.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> w = write_blocks(d / "f", [("a", "1", lambda: b"A\\n")], d / "f.blocks", "code-1")
    >>> with PreviousBlocks(d / "f", d / "f.blocks", "code-1") as before:
    ...     w = write_blocks(d / "f", [("a", "2", lambda: b"B\\n")], d / "f.blocks", "code-1")
    ...     before.read("a", content_digest(b"A\\n")), before.read("a", "other")
    (b'A\\n', None)
    """

    def __init__(self, path: str | os.PathLike, index_path: str | os.PathLike | None,
                 fingerprint: str) -> None:
        self._fd: int | None = None
        self.blocks: dict[str, Block] = {}
        if index_path is None:
            return
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError:
            return
        blocks, _ = read_index(index_path, path, fingerprint)  # damage: the writer warns
        self.blocks = blocks or {}

    def read(self, key: str, content: str) -> bytes | None:
        """The bytes of block ``key`` if its content digest is ``content``."""
        b = self.blocks.get(key)
        if b is None or b.content != content or self._fd is None:
            return None
        data = os.pread(self._fd, b.length, b.offset)
        return data if content_digest(data) == content else None

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> PreviousBlocks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
