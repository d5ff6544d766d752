"""CLI basics for scripts: `kg --version`, `-q` prints nothing but errors,
`--json` on build, stats and query."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def kg_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kg.cli", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_version() -> None:
    run = kg_cli("--version")
    assert run.returncode == 0 and run.stdout == f"kg {version('newskg')}\n"


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("quiet")
    shutil.copytree(ROOT / "seeds", base / "in")
    return base / "in", base / "out"


def test_quiet_prints_nothing_on_success(folders: tuple[Path, Path]) -> None:
    src, out = folders
    for argv in (["build", str(src), "--out", str(out), "-q"],
                 ["-q", "build", str(src), "--out", str(out)],  # the second: up to date
                 ["validate", str(out), "-q"],
                 ["view", str(out), "--topic", "AI", "-q", "-o", str(out / "ai.html")],
                 ["-q", "view", str(out), "--all", "-o", str(out / "all")]):
        run = kg_cli(*argv)
        assert (run.returncode, run.stdout, run.stderr) == (0, "", ""), argv


def test_quiet_prints_errors_but_not_warnings(folders: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = folders
    warned = tmp_path / "warned"
    shutil.copytree(src, warned)
    first = sorted(warned.iterdir())[0]
    text = first.read_text()
    # the same article again with another headline: a warning, both files kept
    (warned / "copy.md").write_text(text.replace("title:", "title: Other", 1))
    run = kg_cli("build", str(warned), "--out", str(tmp_path / "o1"), "-q")
    assert run.returncode == 0 and run.stdout == "" and run.stderr == ""  # built; problems listed
    assert (tmp_path / "o1" / "problems.jsonl").read_text()  # the details are kept
    (warned / "broken.md").write_text("---\ntitle: a: b\n---\n")
    run = kg_cli("build", str(warned), "--out", str(tmp_path / "o2"), "-q", "--strict")
    assert run.returncode == 1 and run.stdout == ""
    assert "broken.md:2: error: malformed YAML" in run.stderr
    assert "Other" not in run.stderr


def test_json_summaries(folders: tuple[Path, Path], tmp_path: Path) -> None:
    src, _ = folders
    out = tmp_path / "j"
    built = json.loads(kg_cli("build", str(src), "--out", str(out), "--json").stdout)
    assert built["built"] is True and built["problems"] == {}
    assert built["summary"]["nodes"]["article"] == 8 and str(out / "store") in built["outputs"]
    again = json.loads(kg_cli("build", str(src), "--out", str(out), "--json").stdout)
    assert again["built"] is False
    stats = json.loads(kg_cli("stats", str(out), "--json").stdout)
    assert stats["nodes"] == built["summary"]["nodes"]
    answer = json.loads(kg_cli("query", str(out), "ASK { ?a a schema:NewsArticle }", "--json").stdout)
    assert answer == {"head": {}, "boolean": True}
    listing = json.loads(kg_cli("query", "--list", "--json").stdout)
    assert {q["name"] for q in listing} >= {"articles-by-provider", "topic-cooccurrence"}


def test_kg_build_leaves_its_graph_to_the_end_of_the_process(tmp_path: Path) -> None:
    # Freeing a whole graph object by object only delays the exit: `kg build`
    # keeps it, and the end of the process frees it.  A caller of main() keeps nothing.
    script = (
        "import atexit, sys, weakref\n"
        "import kg.cli, kg.pipeline\n"
        "build, refs = kg.pipeline.build, []\n"
        "def watched(*a, **k):\n"
        "    result = build(*a, **k)\n"
        "    refs.append(weakref.ref(result.graph))\n"
        "    return result\n"
        "kg.pipeline.build = watched\n"
        "atexit.register(lambda: print('graph alive at exit:', refs[0]() is not None))\n"
        f"sys.argv = ['kg', 'build', 'seeds', '--out', {str(tmp_path / 'out')!r}, '-q']\n"
        "kg.cli.console_main()\n")
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT)
    assert (run.returncode, run.stdout, run.stderr) == (0, "graph alive at exit: True\n", "")
    from kg.cli import main, output

    assert main(["build", "seeds", "--out", str(tmp_path / "again"), "-q"]) == 0
    assert output.kept is None
