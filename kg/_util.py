"""Small helpers shared by the pipeline stages."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

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


@contextmanager
def atomic_writer(path: str | os.PathLike, mode: str = "wb") -> Iterator[IO]:
    """Open a temporary file beside ``path``; rename it over ``path`` on success.

    An interrupted write leaves the previous file (or none), never half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, mode) if "b" in mode
              else os.fdopen(fd, mode, encoding="utf-8", newline="\n")) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600; exports are for sharing
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise




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
