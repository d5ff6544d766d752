"""Shared fixtures: the real corpora beside the checkout, and small builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_CORPUS = ROOT.parent / "shared" / "corpus"
SEEDS = ROOT / "seeds"


def _corpus(name: str) -> Path:
    path = SHARED_CORPUS / name
    if not path.is_dir():
        message = f"real corpus {path} is absent (it lives in ../shared/corpus beside the checkout)"
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; under CI=true it must be present")
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def corpus_dir():
    """``corpus_dir("real")`` -> Path of ../shared/corpus/real (skips if absent)."""
    return _corpus


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    return SEEDS
