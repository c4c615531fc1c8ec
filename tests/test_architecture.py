"""The shape of the package: imports run one way, nothing hides a cycle, modules stay small."""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

from ccamap.render.elements import RUNTIME, runtime

from conftest import REPO

SRC = REPO / "src" / "ccamap"
MAX_LINES = 500
#: Modules still over the limit, each owned by another change; remove an entry once the module
#: is split (the lead removes them after merging).
EXEMPT: dict[str, str] = {
}
#: Function-level imports still in modules owned by another change (same rule as above).
INNER_EXEMPT = {
    "ccamap.__main__": "the command turns the garbage collector off before the CLI's imports "
                       "(start-up time, not a cycle)",
    "ccamap.cli": "build, export and import load their stage when run, so that validate starts "
                  "without folium and GDAL (start-up time, not a cycle)",
}


def _module(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in sorted(SRC.rglob("*.py"))}


def _targets(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The ccamap modules an import statement loads (``from ccamap import x`` may be a module)."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        assert node.level == 0, "ccamap uses absolute imports only"
        base = node.module or ""
        names = [f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base
                 for a in node.names]
    out = []
    for name in names:
        while name and name not in MODULES:
            name = name.rpartition(".")[0]
        if name.startswith("ccamap"):
            out.append(name)
    return out


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str) -> tuple[set[str], list[tuple[int, str]]]:
    """Return the ccamap modules ``module`` imports at import time, and function-level ones."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    top: set[str] = set()
    inner: list[tuple[int, str]] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                continue  # annotations only: never executed
            if isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child):
                    if in_function:
                        inner.append((child.lineno, target))
                    else:
                        top.add(target)
            nested = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef
                                               | ast.Lambda)
            visit(child, nested)

    visit(tree, False)
    top.discard(module)
    return top, inner


def _packages(module: str) -> list[str]:
    """The packages that run before ``module`` is imported (``ccamap`` itself left out)."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]


def _graph() -> dict[str, set[str]]:
    """Each module's import-time dependencies among ccamap modules (function-level ones too).

    Importing ``ccamap.validate.inputs`` first runs the package ``ccamap.validate``: that is a
    dependency of every importer outside the package.
    """
    graph: dict[str, set[str]] = {}
    for module in MODULES:
        top, inner = _imports(module)
        deps = set()
        for target in top | {t for _, t in inner}:
            deps.add(target)
            deps |= {p for p in _packages(target) if not module.startswith(p + ".")}
        deps.discard(module)
        deps.discard("ccamap")  # the top package only re-exports; nothing imports it back
        graph[module] = deps
    return graph


def test_the_import_graph_has_no_cycle():
    try:
        order = list(graphlib.TopologicalSorter(_graph()).static_order())
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")
    assert set(order) == set(MODULES)


def test_no_function_level_import_of_a_ccamap_module():
    found = sorted({f"{module}:{line} imports {target}" for module in MODULES
                    if module not in INNER_EXEMPT for line, target in _imports(module)[1]})
    assert found == []


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_stay_small(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    if module in EXEMPT:
        pytest.skip(f"{module} ({lines} lines) is exempt until split: {EXEMPT[module]}")
    assert lines <= MAX_LINES, f"{module} has {lines} lines (at most {MAX_LINES})"


SCRIPTS = sorted((SRC / "assets").rglob("*.js"))


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda p: p.relative_to(SRC).as_posix())
def test_scripts_stay_small(path):
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(SRC)} has {lines} lines (at most {MAX_LINES})"


def test_the_runtime_is_its_parts_in_order():
    parts = SRC / "assets" / "runtime"
    assert sorted(RUNTIME) == sorted(p.name for p in parts.glob("*.js"))
    assert len(set(RUNTIME)) == len(RUNTIME)
    text = runtime()
    assert text == "".join((parts / name).read_text(encoding="utf-8") for name in RUNTIME)
    # one closure: the first part opens it, the last closes it
    assert "(function () {\n  \"use strict\";" in (parts / RUNTIME[0]).read_text(encoding="utf-8")
    assert text.endswith("})();\n")


def test_the_graph_sees_the_imports():
    graph = _graph()
    assert "ccamap.validate.geometry" in graph["ccamap.validate"]
    assert "ccamap.rules" in graph["ccamap.validate.geometry"]
    assert {"ccamap.validate.inputs", "ccamap.validate"} <= graph["ccamap.join"]
    assert graph["ccamap.rules"] == set()
