"""``kg serve``: a built store over the SPARQL 1.1 Protocol, read-only.

:func:`serve` runs the ``oxigraph`` server of PyPI over a built store,
read-only and bound to 127.0.0.1 by default; :class:`Server` stops it.

>>> Path(oxigraph_binary()).name
'oxigraph'
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from .store import EXPORT_FILE, RemoteError, StoreError, build_store

__all__ = ["serve", "Server", "ServeError", "oxigraph_binary", "wait_http"]


class ServeError(RemoteError):
    """The oxigraph server could not be started."""


def _free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def oxigraph_binary() -> str:
    """Path of the ``oxigraph`` server of PyPI (beside this Python, or on PATH)."""
    here = Path(sys.executable).parent / "oxigraph"
    found = str(here) if here.exists() else shutil.which("oxigraph")
    if not found:
        raise ServeError("the `oxigraph` server is missing: pip install oxigraph")
    return found


def wait_http(url: str, process: subprocess.Popen[bytes] | None = None,
              timeout: float = 30.0) -> None:
    """Poll ``url`` until it answers HTTP 200 (or the process dies)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise ServeError(f"server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        time.sleep(0.05)
    raise ServeError(f"{url} not ready after {timeout:.0f} s")


@dataclass
class Server:
    """A running ``oxigraph`` server; a context manager that stops it."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    location: Path
    tempdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def url(self) -> str:
        """The SPARQL query endpoint."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/query"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stderr is not None:
            self.process.stderr.close()
        if self.tempdir is not None:
            self.tempdir.cleanup()
            self.tempdir = None

    def wait(self) -> int:
        return self.process.wait()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _store_location(source: Path) -> Path | None:
    """A RocksDB store directory at or under ``source`` (``CURRENT`` marks one)."""
    for cand in (source, source / "store", source / "oxigraph", source / "sparql"):
        if (cand / "CURRENT").is_file():
            return cand
    for cand in sorted(source.glob("*/CURRENT")):
        return cand.parent
    return None


def serve(source: str | os.PathLike[str], *, host: str = "127.0.0.1", port: int = 7878,
          read_only: bool = True, ready_timeout: float = 60.0) -> Server:
    """Serve a built export over the SPARQL 1.1 Protocol with ``oxigraph``.

    ``source`` is an export folder (its embedded store, or else its
    ``newskg.nq`` loaded into a temporary store) or an N-Quads file.  The
    default graph is the union of the named graphs, as in the embedded
    store (it is materialised there); read-only unless ``read_only=False``;
    ``port=0`` picks a free one.
    """
    src = Path(source)
    tmp: tempfile.TemporaryDirectory[str] | None = None
    location = _store_location(src) if src.is_dir() else None
    binary = oxigraph_binary()
    if location is None:
        nq = src / EXPORT_FILE if src.is_dir() else src
        if not nq.is_file():
            raise ServeError(f"no store and no {EXPORT_FILE} in {src}: run `kg build` first")
        tmp = tempfile.TemporaryDirectory(prefix="newskg-serve-")
        try:
            location = build_store(nq, Path(tmp.name) / "store")
        except StoreError:
            tmp.cleanup()
            raise
    if port == 0:
        port = _free_port(host)
    mode = "serve-read-only" if read_only else "serve"
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    # No --union-default-graph: the store's default graph already holds the
    # set union, and the flag would add each triple once per named graph.
    proc = subprocess.Popen([binary, mode, "--location", str(location), "--bind", bind],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    server = Server(proc, host, port, location, tmp)
    probe_host = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    probe_host = f"[{probe_host}]" if ":" in probe_host else probe_host
    try:
        wait_http(f"http://{probe_host}:{port}/query?query=ASK%7B%7D", proc, ready_timeout)
    except ServeError as exc:
        err = b""
        if proc.poll() is not None and proc.stderr:
            err = proc.stderr.read()
        server.stop()
        raise ServeError(f"{exc}: {err.decode(errors='replace').strip()}") from None
    return server
