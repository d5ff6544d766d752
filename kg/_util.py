"""Small helpers shared by the pipeline stages."""

from __future__ import annotations

import gc
import multiprocessing
import os
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
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


# Calls for the forked process: the child inherits this at fork time, so the
# arguments (a whole graph) are shared memory, never pickled.
_INHERITED: list[tuple[Callable, tuple]] = []


def _call_inherited(i: int) -> object:
    fn, args = _INHERITED[i]
    return fn(*args)


@contextmanager
def forked(calls: list[tuple[Callable, tuple]]) -> Iterator[list[Future]]:
    """Run ``calls`` (``(fn, args)`` pairs) one after another in one forked
    process while the caller goes on; yields their futures, in order.

    The child sees the parent's memory as it was when entering, copy-on-write,
    so big arguments cost nothing to pass; only return values are pickled.
    An exception in a call is raised by its future's ``result()``.  Where
    ``fork`` does not exist (Windows), the calls run here, before yielding.
    """
    if "fork" not in multiprocessing.get_all_start_methods():
        futures = []
        for fn, args in calls:
            f: Future = Future()
            try:
                f.set_result(fn(*args))
            except Exception as e:  # noqa: BLE001 - handed to the caller via the future
                f.set_exception(e)
            futures.append(f)
        yield futures
        return
    _INHERITED[:] = calls
    try:
        with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
            yield [pool.submit(_call_inherited, i) for i in range(len(calls))]
    finally:
        _INHERITED.clear()
