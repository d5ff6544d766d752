"""Small helpers shared by the pipeline stages."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


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
