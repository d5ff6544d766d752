"""Small helpers shared by the pipeline stages."""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import tempfile
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk construction.

    During bulk building the collector rescans millions of young objects and
    finds nothing to free; pausing it makes parsing and graph building much
    faster.  Reference counting still frees memory as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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


def release_freed_memory() -> None:
    """Give the C heap's freed pages back to the operating system (glibc's
    ``malloc_trim``; nothing elsewhere).  Large short-lived buffers freed in
    the middle of a build otherwise stay resident: Python's small objects
    come from arenas of their own, not from those pages."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (TypeError: no CDLL(None) on Windows)
        pass


@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    An interrupted write leaves the previous file (or none), never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, **({} if "b" in mode else {"encoding": "utf-8", "newline": "\n"})) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; exports are for sharing
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class Forked:
    """``fn(*args)`` running in a forked copy of this process.

    The child shares the parent's memory as it was at the fork (copy on
    write), so it can write exports of a large graph without the graph being
    pickled.  :meth:`result` waits for it and returns what ``fn`` returned or
    raises what it raised; used as a context manager, leaving the block early
    (an exception) stops the child, whose atomic writers then clean up.  Where
    there is no ``fork`` (Windows), ``fn`` runs at once in this process.

    >>> Forked(sum, [1, 2, 3]).result()
    6
    """

    def __init__(self, fn: Callable[..., object], *args: object) -> None:
        self._pid = 0
        self._value: tuple[bool, object] = (True, None)
        if not hasattr(os, "fork"):  # pragma: no cover - POSIX here
            self._value = _call(fn, args)
            return
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without the parent's cleanup
            try:
                os.close(read)
                signal.signal(signal.SIGTERM, _stop)
                outcome = _call(fn, args)
                with os.fdopen(write, "wb") as f:
                    f.write(_pickled(outcome))
            finally:
                os._exit(0)
        os.close(write)
        self._pid, self._read = pid, read

    def result(self) -> object:
        """Wait for the child; its return value (or its exception, raised)."""
        if self._pid:
            with os.fdopen(self._read, "rb") as f:
                data = f.read()
            _, status = os.waitpid(self._pid, 0)
            self._pid = 0
            self._value = (pickle.loads(data) if data else
                           (False, ChildProcessError("the child process ended with exit code "
                                                  f"{os.waitstatus_to_exitcode(status)}")))
        ok, value = self._value
        if not ok:
            raise value  # type: ignore[misc]
        return value

    def __enter__(self) -> Forked:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if self._pid and exc_type is not None:
            os.kill(self._pid, signal.SIGTERM)
            os.close(self._read)
            os.waitpid(self._pid, 0)
            self._pid = 0


def _call(fn: Callable[..., object], args: tuple) -> tuple[bool, object]:
    try:
        return True, fn(*args)
    except BaseException as exc:  # noqa: BLE001 - handed to the parent
        return False, exc


def _pickled(outcome: tuple[bool, object]) -> bytes:
    try:
        return pickle.dumps(outcome)
    except Exception:  # an unpicklable result or exception: its text
        ok, value = outcome
        text = repr(value) if ok else "".join(traceback.format_exception(value))  # type: ignore[arg-type]
        return pickle.dumps((False, ChildProcessError(text)))


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(1)
