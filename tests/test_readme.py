"""The README's examples are what the commands print on the seeds."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# The subprocesses run in a folder of their own: import this checkout's kg there.
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def examples() -> list[tuple[str, str]]:
    """(command, expected output) for every `$ kg ...` line of a code block."""
    found = []
    for block in re.findall(r"^```[a-z]*\n(.*?)^```$", README, re.S | re.M):
        parts = re.split(r"^\$ ", block, flags=re.M)
        for part in parts[1:]:
            command, _, output = part.partition("\n")
            if command.startswith("kg query") or command.startswith("kg view"):
                found.append((command, output.strip("\n")))
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "seeds", work / "seeds")
    shutil.copytree(ROOT / "ontology", work / "ontology")
    run = subprocess.run([sys.executable, "-m", "kg.cli", "build", "seeds", "-q"], cwd=work,
                         capture_output=True, text=True, env=ENV)
    assert run.returncode == 0, run.stderr
    return work


def test_readme_has_examples():
    commands = [c for c, _ in examples()]
    assert len(commands) >= 5 and any("--story" in c for c in commands)


@pytest.mark.parametrize("command, expected", examples(), ids=lambda v: v[:60] if isinstance(v, str) else None)
def test_readme_example_output(workdir, command, expected):
    argv = shlex.split(command)[1:]
    if argv[0] == "query" and "--format" not in argv:
        argv += ["--format", "table"]  # what a terminal shows
    run = subprocess.run([sys.executable, "-m", "kg.cli", *argv], cwd=workdir,
                         capture_output=True, text=True, env=ENV)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip("\n") == expected


def test_readme_python_examples_run(corpus_dir, tmp_path, monkeypatch):
    """The README's Python blocks run as written (its output folder moved to tmp)."""
    corpus_dir("ai-facial")  # skips, or fails under CI, without the corpus
    blocks = re.findall(r"^```python\n(.*?)^```$", README, re.S | re.M)
    assert blocks and any("kg.open(" in b for b in blocks)
    monkeypatch.chdir(ROOT)
    for block in blocks:
        code = block.replace('"/tmp/ai', f'"{tmp_path}/ai')
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    assert (tmp_path / "ai" / "facial.html").is_file()


def test_readme_claims_about_the_facial_recognition_stories(corpus_dir, tmp_path):
    """What the README says `kg stories` shows on ai-facial, it shows."""
    import kg

    built = kg.build(corpus_dir("ai-facial"), out=tmp_path / "ai")
    sizes = {}
    for story in kg.open(built.out).stories():
        sizes.setdefault(story.label, (story.size, len(story.providers)))
    # (README words, a story label's words): size, providers
    claims = {("£17m fine of Clearview AI (12\narticles from 11 outlets)", "£17m fine"): (12, 11),
              ("France's order to Clearview (7)", "France orders Clearview"): (7, None),
              ("watchdogs' order (5)", "Watchdogs order Clearview"): (5, None),
              ("the Worcester ban (3)", "Worcester bans"): (3, None)}
    for (said, words), (size, providers) in claims.items():
        assert said in README
        found = [v for label, v in sizes.items() if words in label]
        assert found and found[0][0] == size, (words, found)
        assert providers is None or found[0][1] == providers
