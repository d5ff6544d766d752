"""Fixtures for every test, the doctests in kg/ included."""

from __future__ import annotations

import os
import tempfile

import pytest


@pytest.fixture(autouse=True, scope="session")
def _temporary_files_under_pytest_basetemp(tmp_path_factory: pytest.TempPathFactory):
    """Put what tests and doctests make with ``tempfile.mkdtemp()`` under pytest's
    own temporary root, which pytest prunes to the last three runs. Without this,
    every run left its export folders in /tmp (7 GB after a few hundred runs)."""
    old = tempfile.tempdir
    tempfile.tempdir = str(tmp_path_factory.mktemp("tempfile"))
    yield
    tempfile.tempdir = old


@pytest.fixture(autouse=True, scope="session")
def _build_cache_under_pytest_basetemp(tmp_path_factory: pytest.TempPathFactory):
    """Builds that readers make of corpus folders (:func:`kg.pipeline.built`)
    go under pytest's temporary root, never into the user's ~/.cache; the CLI
    run in subprocesses inherits it."""
    old = os.environ.get("NEWSKG_CACHE_DIR")
    os.environ["NEWSKG_CACHE_DIR"] = str(tmp_path_factory.mktemp("build-cache"))
    yield
    if old is None:
        os.environ.pop("NEWSKG_CACHE_DIR", None)
    else:
        os.environ["NEWSKG_CACHE_DIR"] = old
