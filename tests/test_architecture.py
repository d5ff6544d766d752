"""The package's structure, as docs/ARCHITECTURE.md describes it: imports run
one way (no circles), no module takes another's private names, no module
grows past a page a newcomer can hold in mind."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

KG = Path(__file__).resolve().parent.parent / "kg"
MAX_LINES = 600


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(KG.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(KG.rglob("*.py"))}


def _imports(name: str, path: Path) -> list[tuple[str, list[str], int]]:
    """(imported kg module, names taken from it, line) for every import in the
    file: at the top, inside functions, under TYPE_CHECKING alike."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            names = [a.name for a in node.names]
            if target in MODULES:
                # `from . import x` and `from .store import embedded` take modules
                subs = [n for n in names if f"{target}.{n}" in MODULES]
                if subs:
                    found += [(f"{target}.{n}", [], node.lineno) for n in subs]
                    names = [n for n in names if n not in subs]
                if names or not subs:
                    found.append((target, names, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, [], node.lineno) for a in node.names if a.name in MODULES]
    return found


def _graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(MODULES)
    for name, path in MODULES.items():
        if name == "kg":
            continue  # the facade: it names everything, and nothing imports it
        for target, _, _ in _imports(name, path):
            if target != name:
                g.add_edge(name, target)
    return g


def test_the_checker_sees_circles_and_private_names(tmp_path):
    # what the checks below rest on: a file's imports, relative or not, found
    assert ("kg.records", ["Article", "Corpus", "Problem"]) in [
        (t, sorted(n)) for t, n, _ in _imports("kg.graph", KG / "graph.py")]
    cycle = nx.DiGraph([("a", "b"), ("b", "a")])
    assert list(nx.simple_cycles(cycle))


def test_imports_run_one_way():
    cycles = sorted(sorted(c) for c in nx.simple_cycles(_graph()))
    assert cycles == [], f"import circles: {cycles}"


def test_no_module_imports_the_facade():
    importers = [name for name, path in MODULES.items() if name != "kg"
                 and any(t == "kg" for t, _, _ in _imports(name, path))]
    assert importers == []


def test_no_module_takes_another_modules_private_names():
    taken = [f"{name}:{line} takes {n} from {target}"
             for name, path in MODULES.items() for target, names, line in _imports(name, path)
             if target != name for n in names if n.startswith("_") and not n.startswith("__")]
    assert taken == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_fits_on_a_page(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (at most {MAX_LINES})"


def test_bottom_floor_imports_no_stage():
    # records, normalize and vocab are what every stage stands on
    for name in ("kg.records", "kg.normalize", "kg.vocab"):
        assert list(_graph().successors(name)) == [], name
