"""Shared fixtures: the real corpora beside the checkout, and small builders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Debian's Chromium, driven by playwright (never `playwright install`).
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
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


@pytest.fixture(scope="module")
def browser():
    """A headless Chromium for the module's page tests (skips when absent;
    under CI=true it must be present)."""
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is absent (apt-get install chromium; .ci/deps.sh does it)"
        if os.environ.get("CI") == "true":
            pytest.fail(msg + "; under CI=true it must be present")
        pytest.skip(msg)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()
