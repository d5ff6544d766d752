"""The package as a user gets it: a wheel installed (not editable) into a fresh
virtual environment, run from a folder outside the checkout.

The wheel is built from a copy of the checkout (so no build/ is left here).
The venv borrows the dependencies of the running interpreter's environment
through a path file (no network, a few seconds), but not its import of
this checkout: only the wheel provides ``kg``.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str | Path, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, str]]:
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("kg", "ontology"):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    wheels = tmp / "wheels"
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", wheels, src, cwd=tmp, env=env)
    (wheel,) = wheels.glob("newskg-*.whl")
    shipped = set(zipfile.ZipFile(wheel).namelist())
    modules = {str(f.relative_to(ROOT)) for f in (ROOT / "kg").rglob("*.py")}
    assert modules <= shipped, f"left out of the wheel: {sorted(modules - shipped)}"
    queries = {f"kg/ontology/queries/{f.name}" for f in (ROOT / "ontology" / "queries").glob("*.rq")}
    assert queries <= shipped and "kg/templates/query.html" in shipped
    env_dir = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    py = env_dir / "bin" / "python"
    purelib = Path(run(py, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))",
                       cwd=tmp, env=env).stdout.strip())
    # Dependencies from this environment's site-packages (its .pth files, such
    # as an editable install of newskg, are not run from a path-file entry).
    (purelib / "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    run(sys.executable, "-m", "pip", "--python", py, "install", "--no-deps", "-q", wheel,
        cwd=tmp, env=env)
    outside = tmp / "elsewhere"
    outside.mkdir()
    return env_dir, outside, env


def test_kg_comes_from_the_wheel(installed) -> None:
    env_dir, outside, env = installed
    where = run(env_dir / "bin" / "python", "-c", "import kg; print(kg.__file__)",
                cwd=outside, env=env).stdout.strip()
    assert where.startswith(str(env_dir)), where


def test_version_list_and_a_query_by_name_outside_the_checkout(installed) -> None:
    env_dir, outside, env = installed
    kg = env_dir / "bin" / "kg"
    from importlib.metadata import version

    assert run(kg, "--version", cwd=outside, env=env).stdout.strip() == f"kg {version('newskg')}"
    listing = run(kg, "query", "--list", cwd=outside, env=env).stdout
    assert "articles-by-provider" in listing and "--bind provider (provider" in listing
    shutil.copytree(ROOT / "seeds", outside / "seeds")
    run(kg, "build", "seeds", "-q", cwd=outside, env=env)
    csv = run(kg, "query", "articles-by-provider", "--bind", "provider=www.theconversation.com",
              "--format", "csv", cwd=outside, env=env).stdout
    lines = csv.splitlines()
    assert lines[0] == "domain,published,article,headline,topic"
    assert len(lines) > 1 and all(line.startswith("theconversation.com,") for line in lines[1:])
    # the example of `kg --help` works here too
    example = next(line.split()[1:3] for line in run(kg, "--help", cwd=outside, env=env).stdout
                   .splitlines() if line.startswith("  kg query"))
    assert run(kg, *example, "--format", "csv", cwd=outside, env=env).stdout.startswith("topicA,")
