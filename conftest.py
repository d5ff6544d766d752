"""Fixtures for every test, the doctests in kg/ included."""

from __future__ import annotations

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
