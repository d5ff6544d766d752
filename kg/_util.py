"""Small helpers shared by the pipeline stages."""

from __future__ import annotations

import hashlib
import marshal
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def _ontology_dir() -> Path:
    # A checkout has ontology/ beside kg/; an installed package has kg/ontology/.
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "ontology", here / "ontology"):
        if (candidate / "newskg.ttl").is_file():
            return candidate
    return here.parent / "ontology"


#: The ontology, shapes, JSON-LD context and example queries.
ONTOLOGY_DIR = _ontology_dir()


class AtomicFile:
    """A temporary file beside ``path`` (``.file``, open for writing) that
    :meth:`commit` renames over ``path`` and :meth:`discard` removes; for a
    file written over a longer span than one ``with`` block (see
    :func:`atomic_writer`).

    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "x.txt"
    >>> f = AtomicFile(path)
    >>> _ = f.file.write(b"done"); path.exists()
    False
    >>> f.commit(); path.read_bytes(), [p.name for p in path.parent.iterdir()]
    (b'done', ['x.txt'])
    """

    def __init__(self, path: str | os.PathLike, mode: str = "wb") -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # The writer's pid in the name tells a killed writer's file from a live one's.
        # Named here, not by tempfile.mkstemp: a signal that stops the writer just
        # after the file is made (a build's forked child, stopped with its parent)
        # must find the name to remove.
        while True:
            self.tmp = str(self.path.parent / f".{self.path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp")
            try:
                fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
                break
            except FileExistsError:
                continue
            except BaseException:
                Path(self.tmp).unlink(missing_ok=True)
                raise
        try:
            self.file: IO = (os.fdopen(fd, mode) if "b" in mode
                             else os.fdopen(fd, mode, encoding="utf-8", newline="\n"))
        except BaseException:
            os.close(fd)
            self.discard()
            raise
        self.done = False

    def commit(self) -> None:
        """Close the file and put it in place of ``path``."""
        self.file.close()
        os.chmod(self.tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; exports are for sharing
        os.replace(self.tmp, self.path)
        self.done = True

    def discard(self) -> None:
        """Close and remove the file, unless committed (so it may be called twice)."""
        if getattr(self, "done", False):
            return
        self.done = True
        try:
            if hasattr(self, "file"):
                self.file.close()
        finally:
            Path(self.tmp).unlink(missing_ok=True)


@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    An interrupted write leaves the previous file (or none), never half a file;
    a killed one, its temporary file, which :func:`remove_stale_temps` removes.
    """
    tmp = AtomicFile(path, mode)
    try:
        yield tmp.file
        tmp.commit()
    except BaseException:
        tmp.discard()
        raise


#: Temporary files of :func:`atomic_writer` (``.NAME.PID-XXXX.tmp``) and folders
#: of :class:`kg.store.StoreBuilder` (``.NAME.tmp-PID``, ``.NAME.old-PID``).
_TEMP = re.compile(r"\..+\.(?:(?:tmp|old)-(\d+)|(\d+)-\w+\.tmp)")


def write_checked(path: str | os.PathLike, key: str, value: Any) -> str:
    """Write ``value`` (what :mod:`marshal` writes: plain values, nothing that
    runs code when read) to ``path`` atomically, under ``key`` (what it was
    made with) and a checksum; returns the checksum, for :func:`read_checked`.

    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/x"
    >>> digest = write_checked(path, "v1", {"a": [1, 2]})
    >>> read_checked(path, "v1") == ({"a": [1, 2]}, digest), read_checked(path, "v2")
    (True, None)
    """
    return write_parts(path, key, [value])


def write_parts(path: str | os.PathLike, key: str, parts: Iterable[Any]) -> str:
    """:func:`write_checked` for a value in ``parts``, each marshalled and
    written in turn, so that only one part is ever held as bytes (a graph of
    a million articles is gigabytes of them).  ``parts`` may be a generator
    that makes each part when asked; it is closed whatever happens.  Objects
    shared between parts are written once per part, and read back as copies.
    Returns the checksum, for :func:`read_parts`.

    >>> import tempfile
    >>> path = tempfile.mkdtemp() + "/x"
    >>> digest = write_parts(path, "v1", (n * [n] for n in range(3)))
    >>> read_parts(path, "v1") == ([[], [1], [2, 2]], digest)
    True
    """
    digest = hashlib.sha256()
    each = iter(parts)
    try:
        with atomic_writer(path) as f:
            f.write(b"%s\n%s\n" % (_CHECKED, key.encode()))
            at = f.tell()
            f.write(b"%s\n" % (b"-" * _DIGEST_CHARS))  # until the parts are written and hashed
            for part in each:
                body = marshal.dumps(part)
                size = len(body).to_bytes(8, "little")
                digest.update(size)
                digest.update(body)
                f.write(size)
                f.write(body)
                del body
            checksum = digest.hexdigest()[:_DIGEST_CHARS]
            f.seek(at)
            f.write(checksum.encode())
    finally:
        close = getattr(each, "close", None)
        if close is not None:
            close()
    return checksum


def read_checked(path: str | os.PathLike, key: str) -> tuple[Any, str] | None:
    """The value :func:`write_checked` wrote to ``path`` under ``key``, and its
    checksum; ``None`` if there is no such file, or it was written under another
    key.  Raises :class:`ValueError` if the file is damaged."""
    read = read_parts(path, key)
    if read is None:
        return None
    parts, digest = read
    if len(parts) != 1:
        raise ValueError(f"{path}: {len(parts)} parts where one was written")
    return parts[0], digest


def read_parts(path: str | os.PathLike, key: str) -> tuple[list[Any], str] | None:
    """The parts :func:`write_parts` wrote to ``path`` under ``key``, and the
    checksum; as :func:`read_checked`."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        return None
    # (offsets, not partition: that would copy the body, hundreds of MB, three times)
    first = data.find(b"\n")
    second = data.find(b"\n", first + 1)
    third = data.find(b"\n", second + 1)
    if third < 0 or data[:first] != _CHECKED or data[first + 1:second] != key.encode():
        return None
    digest, body = data[second + 1:third], memoryview(data)[third + 1:]
    if hashlib.sha256(body).hexdigest()[:_DIGEST_CHARS].encode() != digest:
        raise ValueError(f"{path}: the checksum does not match (a damaged or cut file)")
    parts = []
    at = 0
    try:
        while at < len(body):
            size = int.from_bytes(body[at:at + 8], "little")
            if at + 8 + size > len(body):
                raise ValueError("a part runs past the end")
            parts.append(marshal.loads(body[at + 8:at + 8 + size]))
            at += 8 + size
    except (EOFError, TypeError, ValueError) as exc:  # (intact bytes marshal cannot read: another Python)
        raise ValueError(f"{path}: {exc}") from None
    return parts, digest.decode()


# SHA-256 (cut to 128 bits), not BLAKE2: CPUs hash it in hardware, and these bodies are large.
_DIGEST_CHARS = 32
_CHECKED = b"newskg checked 3"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    try:  # a zombie has ended: in a container whose init reaps nothing, it stays one
        return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0] != b"Z"
    except (OSError, IndexError):
        return True


def remove_stale_temps(folder: str | os.PathLike) -> list[str]:
    """Remove the temporary files and folders that writers killed before
    they could clean up (SIGKILL, a power cut) left in ``folder``; those of
    running processes stay.  Returns their names.

    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / ".newskg.nq.999999999-abc.tmp").write_text("half")
    >>> remove_stale_temps(d), list(d.iterdir())
    (['.newskg.nq.999999999-abc.tmp'], [])
    """
    removed: list[str] = []
    try:
        entries = sorted(Path(folder).iterdir())
    except (FileNotFoundError, NotADirectoryError):
        return removed
    for entry in entries:
        m = _TEMP.fullmatch(entry.name)
        if m and not _alive(int(m.group(1) or m.group(2))):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
            removed.append(entry.name)
    return removed


class MissingExtra(ImportError):
    """An optional dependency is not installed; the message names the extra
    that brings it (``pip install 'newskg[EXTRA]'``)."""


def require_extra(module: str, extra: str):
    """Import ``module``, or raise :class:`MissingExtra` naming ``extra``.

    >>> require_extra("json", "pandas").__name__
    'json'
    >>> require_extra("no_such_module_x", "pandas")
    Traceback (most recent call last):
    ...
    kg._util.MissingExtra: no_such_module_x is not installed: pip install 'newskg[pandas]'
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingExtra(f"{module} is not installed: pip install 'newskg[{extra}]'") from None
