"""The one mechanism for parallel work, and for pausing the cyclic collector.

Every stage that forks, runs work in a thread or pauses Python's cyclic
garbage collector does it through these few functions, so that how newskg
uses the machine's cores and memory is decided in one place:

* :func:`gc_paused`: bulk construction of millions of acyclic objects (parsing,
  graph building, the RDF walk), during which the collector would rescan them
  again and again and free nothing.  A context manager and a decorator.
* :func:`process_map`: a function over many items in forked worker processes
  (they inherit the loaded modules and read-only data, nothing is re-imported).
* :class:`Forked`: one function in a forked copy of this process, which shares
  a large graph copy-on-write instead of pickling it; with :class:`Shared`,
  a list of calls that it and this process take in turn; :func:`room_to_fork`
  says whether the system has the memory for such a copy.
* :func:`in_background`: one function in a thread, for work that runs outside
  the GIL (Oxigraph loads) or waits on the disk.
* :func:`thread_map`: a function over blocks of numpy work in two threads
  (numpy sorts, searches and indexes outside the GIL).
* :func:`release_freed_memory`: give freed C heap pages back to the system.

>>> list(process_map(abs, [-1, -2, 3], processes=1))
[1, 2, 3]
>>> with in_background(sum, [1, 2]) as total:
...     total.result()
3
"""

from __future__ import annotations

import ctypes
import gc
import os
import pickle
import signal
import traceback
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

__all__ = ["gc_paused", "process_map", "Forked", "Shared", "in_background", "thread_map",
           "release_freed_memory", "can_fork", "room_to_fork"]

T = TypeVar("T")
R = TypeVar("R")


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for a bulk construction.

    During bulk building the collector rescans millions of young objects and
    finds nothing to free; pausing it makes parsing and graph building much
    faster.  Reference counting still frees memory as usual.

    What was made meanwhile is moved to the oldest generation when the
    collector resumes (unless the caller froze objects of its own, which
    this would thaw): left young, every object of a graph just built would
    be walked by the next young collection, and again by the one after.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            if not gc.get_freeze_count():
                gc.freeze()  # (two list splices: no object is visited)
                gc.unfreeze()
            gc.enable()


def can_fork() -> bool:
    """Whether worker processes can be forked here (POSIX) rather than spawned."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods()


_STATM, _MEMINFO = "/proc/self/statm", "/proc/meminfo"  # (Linux)


def room_to_fork() -> bool:
    """Whether a forked copy of this process could copy every page it holds
    and leave as much again of the memory the system has available (this
    process goes on allocating meanwhile).

    A child copies a page as soon as it writes to it, and Python writes to
    the pages of every object it touches (their reference counts) and fills
    the holes of its heap with what it allocates: next to a graph of many
    gigabytes, a child that reads part of it can copy gigabytes.  Where that
    cannot be told (no ``/proc``), yes.
    """
    try:
        with open(_STATM) as f:
            resident = int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        with open(_MEMINFO) as f:
            available = next(int(line.split()[1]) * 1024 for line in f
                             if line.startswith("MemAvailable:"))
    except (OSError, ValueError, IndexError, StopIteration):
        return True
    return available > 2 * resident


def process_map(fn: Callable[..., R], *iterables: Iterable[Any], processes: int | None = None,
                ordered: bool = True) -> Generator[R, None, None]:
    """``map(fn, *iterables)`` on ``processes`` forked workers (default: one per
    core); in this process when ``processes`` is 1 or there is no ``fork``.

    Workers are forked, never spawned: a spawned worker re-runs the caller's
    script first, and one without a ``__main__`` guard would never return.
    Results come in order, or as they finish with ``ordered=False``.  The
    workers are started at the first result and stopped after the last;
    ``close()`` stops them early (e.g. in a ``finally``, when the caller
    stops reading because of an error).
    """
    processes = processes or os.cpu_count() or 1
    if processes <= 1 or not can_fork():
        yield from map(fn, *iterables)
        return
    import multiprocessing

    jobs = ((fn, args) for args in zip(*iterables))
    with multiprocessing.get_context("fork").Pool(processes) as pool:
        yield from (pool.imap if ordered else pool.imap_unordered)(_star, jobs)


def _star(job: tuple[Callable[..., R], tuple]) -> R:
    fn, args = job
    return fn(*args)


@contextmanager
def in_background(fn: Callable[..., R], *args: Any, name: str = "kg-background") -> Iterator[Future[R]]:
    """``fn(*args)`` in a thread while the ``with`` block runs; its future.

    Leaving the block waits for ``fn`` to finish, whatever happened in the
    block, so that nothing it writes is still being written when the caller
    goes on (or fails, and the next build starts).
    """
    with ThreadPoolExecutor(1, thread_name_prefix=name) as pool:
        future = pool.submit(fn, *args)
        # What fn holds (a cache's lines, say) goes as soon as fn is done,
        # not when the block ends: this frame keeps no reference to it.
        del fn, args
        yield future


def thread_map(fn: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``list(map(fn, items))``, two items at a time in two threads (one
    where there is one core): for blocks of numpy work, which sorts,
    searches and indexes outside the GIL.  Two blocks are in memory at once:
    callers size their blocks for that.

    >>> thread_map(abs, [-1, -2, 3])
    [1, 2, 3]
    """
    items = list(items)
    if len(items) < 2 or (os.cpu_count() or 1) < 2:
        return list(map(fn, items))
    with ThreadPoolExecutor(2, thread_name_prefix="kg-numpy") as pool:
        done = list(pool.map(fn, items))
    # What the threads freed stays in their own malloc arenas, resident, unless trimmed.
    release_freed_memory()
    return done


def release_freed_memory() -> None:
    """Give the C heap's freed pages back to the operating system (glibc's
    ``malloc_trim``; nothing elsewhere).  Large short-lived buffers freed in
    the middle of a build otherwise stay resident: Python's small objects
    come from arenas of their own, not from those pages."""
    try:
        ctypes.CDLL(None).malloc_trim(0)
    except (OSError, AttributeError, TypeError):  # not glibc (TypeError: no CDLL(None) on Windows)
        pass


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
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child: report, then leave without the parent's cleanup
            try:
                os.close(read)
                signal.signal(signal.SIGTERM, _stop)
                _stop_with(parent)
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


class Shared:
    """Calls that this process and the children it forks afterwards take in
    turn, in order, each call once: whichever is free takes the next.
    A forked child runs :meth:`run` (``Forked(shared.run)``) while this
    process does other work, then runs it too; what work is left to each is
    decided as they go, not beforehand.

    >>> done = []
    >>> shared = Shared([(done.append, (1,)), (done.append, (2,))])
    >>> shared.run(); shared.run(); done
    [1, 2]
    """

    def __init__(self, calls: list[tuple[Callable, tuple]]) -> None:
        import multiprocessing

        self.calls = calls
        self._next = multiprocessing.Value("i", 0)  # in shared memory, with a lock

    def run(self) -> None:
        """Make the calls no process has taken yet, one at a time."""
        while True:
            with self._next.get_lock():
                i = self._next.value
                self._next.value = i + 1
            if i >= len(self.calls):
                return
            fn, args = self.calls[i]
            fn(*args)


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
        text = (repr(value) if ok or not isinstance(value, BaseException)
                else "".join(traceback.format_exception(value)))
        return pickle.dumps((False, ChildProcessError(text)))


def _stop(signum: int, frame: object) -> None:
    raise SystemExit(1)


def _stop_with(parent: int) -> None:
    """Have this forked child stopped (SIGTERM) when the thread that forked
    it ends, even by SIGKILL: a killed build's child must not go on writing
    into the export folder while the next build writes there (Linux's
    ``PR_SET_PDEATHSIG``; elsewhere, nothing)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError, TypeError):  # TypeError: no CDLL(None) on Windows
        return
    if os.getppid() != parent:  # it died before that
        raise SystemExit(1)
