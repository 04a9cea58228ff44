"""The package's shape, read with `ast` (nothing is imported): one package per
pipeline stage, dependencies pointing one way, small documented modules.

docs/architecture.md describes the stages; LAYERS below is its order.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "xendrvgen"

# Each top-level package of xendrvgen and its layer: a module may import from
# its own package and from packages of a lower layer, never upward, and never
# sideways into another package of the same layer.
LAYERS = {
    "base": 0,
    "spec": 1,
    "headers": 2, "plan": 2,
    "render": 3,
    "compile": 4,
    "contract": 5, "sim": 5, "interop": 5, "port": 5,
    "cli": 6,
}
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    mods = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        mods[".".join(parts)] = path
    return mods


MODULES = _modules()


def _imports(name: str, path: Path) -> set[str]:
    """Every xendrvgen module `name` imports, at the top or inside a function."""
    is_pkg = path.name == "__init__.py"
    package = name if is_pkg else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                frm = ".".join(base + ([node.module] if node.module else []))
            else:
                frm = node.module
            for a in node.names:
                sub = f"{frm}.{a.name}"
                out.add(sub if sub in MODULES else frm)
    return {m for m in out if m in MODULES and m != name}


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _top(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 else None       # None: xendrvgen/__init__.py (the version)


def test_every_package_has_a_layer():
    tops = {_top(m) for m in MODULES} - {None}
    assert tops <= set(LAYERS), f"give these packages a layer: {sorted(tops - set(LAYERS))}"


def test_imports_point_down_the_pipeline():
    bad = []
    for name, deps in GRAPH.items():
        here = _top(name)
        for dep in deps:
            there = _top(dep)
            if there is None or there == here:
                continue
            if here is None or LAYERS[there] >= LAYERS[here]:
                bad.append(f"{name} imports {dep}")
    assert not bad, "\n".join(sorted(bad))


def test_base_imports_nothing_else_of_the_package():
    bad = [f"{n} imports {d}" for n, deps in GRAPH.items() if _top(n) == "base"
           for d in deps if _top(d) not in ("base", None)]
    assert not bad, "\n".join(bad)


def test_no_import_cycle():
    done: set[str] = set()
    cycles = []

    def visit(node, stack, on_stack):
        stack.append(node)
        on_stack.add(node)
        for dep in sorted(GRAPH[node]):
            if dep in on_stack:
                cycles.append(" -> ".join(stack[stack.index(dep):] + [dep]))
            elif dep not in done:
                visit(dep, stack, on_stack)
        on_stack.discard(stack.pop())
        done.add(node)

    for name in sorted(GRAPH):
        if name not in done:
            visit(name, [], set())
    assert not cycles, "\n".join(cycles)


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_opens_with_a_docstring(name):
    tree = ast.parse(MODULES[name].read_text())
    assert ast.get_docstring(tree), f"{MODULES[name]}: say in a docstring what this module does"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_is_small(name):
    n = len(MODULES[name].read_text().splitlines())
    assert n <= MAX_LINES, f"{MODULES[name]}: {n} lines; split it by concern (at most {MAX_LINES})"
