"""The domain imports only the standard library and itself, and none of its modules in a circle."""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import promoforge.domain

ROOT = Path(promoforge.domain.__file__).parent
PACKAGE = "promoforge.domain"


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join((PACKAGE, *parts))


def _imported_modules(path: Path) -> set[str]:
    """Every module a file imports, in functions and for type checking too; `from a import b` gives a, a.b."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                raise AssertionError(f"{path}: use absolute imports")
            module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _packages_above(name: str) -> set[str]:
    parts = name.split(".")
    return {".".join(parts[:end]) for end in range(1, len(parts))}


def _domain_imports(name: str) -> set[str]:
    """The domain modules importing `name` runs first: those it imports, and the packages above them."""
    own_packages = _packages_above(name)
    found: set[str] = set()
    for imported in _imported_modules(MODULES[name]):
        for module in {imported} | _packages_above(imported):
            if module in MODULES and module != name and module not in own_packages:
                found.add(module)
    return found


def _circles(graph: Mapping[str, Iterable[str]]) -> list[list[str]]:
    """Each circle in an import graph, found once, from the first of its modules in name order."""
    circles: list[list[str]] = []
    finished: set[str] = set()

    def visit(name: str, path: list[str]) -> None:
        if name in path:
            circles.append([*path[path.index(name) :], name])
            return
        if name in finished:
            return
        for imported in sorted(graph.get(name, ())):
            visit(imported, [*path, name])
        finished.add(name)

    for name in sorted(graph):
        visit(name, [])
    return circles


def test_the_domain_imports_only_the_standard_library_and_itself() -> None:
    assert len(MODULES) > 5
    offenders = []
    for path in MODULES.values():
        for name in _imported_modules(path):
            top = name.split(".")[0]
            if name == PACKAGE or name.startswith(f"{PACKAGE}."):
                continue
            if top == "__future__" or top in sys.stdlib_module_names:
                continue
            offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert offenders == []


def test_no_domain_module_imports_itself_through_others() -> None:
    graph = {name: _domain_imports(name) for name in MODULES}
    assert [" -> ".join(circle) for circle in _circles(graph)] == []


def test_the_check_sees_circles_and_imports_made_only_for_type_checking(tmp_path: Path) -> None:
    assert _circles({"a": ["b"], "b": ["c", "d"], "c": ["a"], "d": []}) == [["a", "b", "c", "a"]]
    module = tmp_path / "module.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n\nif TYPE_CHECKING:\n    from promoforge.domain import codes\n"
    )
    assert "promoforge.domain.codes" in _imported_modules(module)
