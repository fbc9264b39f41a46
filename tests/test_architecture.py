"""The package's layout keeps its promises: no import cycles, data flows one way, and
ARCHITECTURE.md names every module there is."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "convlab"
ARCHITECTURE = PACKAGE.parent / "ARCHITECTURE.md"


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def imports(name: str) -> set[str]:
    """The convlab modules ``name`` imports, at any depth of its code (lazy imports too)."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            for alias in node.names:  # `from convlab import views` imports a module
                sub = f"{base}.{alias.name}"
                found.add(sub if sub in MODULES else base)
    return {m for m in found if m in MODULES and m != name}


GRAPH = {name: imports(name) for name in MODULES}


def cycles() -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in GRAPH[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in GRAPH:
        if v not in index:
            visit(v)
    return out


def test_no_two_modules_import_each_other():
    assert cycles() == []


def test_the_cycle_check_can_fail():
    GRAPH["convlab.data"].add("convlab.train")
    try:
        assert cycles() != []
    finally:
        GRAPH["convlab.data"].discard("convlab.train")


# The layers, lowest first: a module may import its own layer and those below it.
LAYERS = [
    {
        "convlab",
        "convlab.errors",
        "convlab.fingerprint",
        "convlab.hardware",
        "convlab.views.plot",
        "convlab.views.numbers",
    },
    {"convlab.data", "convlab.settings"},
    {
        "convlab.preprocess",
        "convlab.tabular",
        "convlab.variants",
        "convlab.eda",
        "convlab.conv",
        "convlab.pool",
        "convlab.kernel_fit",
    },
    {"convlab.models"},
    {"convlab.train"},
    {"convlab.experiments"},
    {
        "convlab.inspect",
        "convlab.chapters",
        "convlab.channels_pooling",
        "convlab.check",
        "convlab.book",
        "convlab.deploy",
        "convlab.views",
    },
    {"convlab.cli", "convlab.__main__"},
]


def layer(name: str) -> int:
    best = None
    for i, names in enumerate(LAYERS):
        for prefix in names:
            inside = name == prefix or (prefix != "convlab" and name.startswith(prefix + "."))
            if inside and (best is None or len(prefix) > best[1]):
                best = (i, len(prefix))
    assert best is not None, f"{name} is in no layer: add it to LAYERS and ARCHITECTURE.md"
    return best[0]


@pytest.mark.parametrize("name", sorted(MODULES))
def test_data_flows_one_way(name):
    upward = sorted(m for m in GRAPH[name] if layer(m) > layer(name))
    assert upward == [], f"{name} imports a layer above it: {upward}"


def test_architecture_md_names_every_module():
    text = ARCHITECTURE.read_text()
    missing = [
        p.relative_to(PACKAGE.parent).as_posix()
        for p in MODULES.values()
        if p.name != "__init__.py"
        and p.name != "__main__.py"
        and p.relative_to(PACKAGE).as_posix() not in text
    ]
    assert missing == [], f"ARCHITECTURE.md does not mention {missing}"
