"""The house rules of the package, checked by reading its source.

- Layers depend only downward (module-level and function-level imports alike):
  errors/text/verdicts → core → extend → rules/ops → autodiff → graph → check/diagram →
  the Trace facade → calculus → script → descent/testing/embed/sphinx/markdown → cli.
- No import cycles between modules.
- No private name (``_x``) imported from another module.
- ``import tracegraph`` loads none of the optional or CLI-only packages.
- No module is longer than a reader can hold.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tracegraph"

LAYERS: list[tuple[str, ...]] = [
    ("errors", "numbers", "formula", "verdicts", "bulk"),
    ("core",),
    ("extend",),
    ("rules", "ops", "scipy"),
    ("autodiff",),
    ("paths",),
    ("graph",),
    ("check", "diagram", "table"),
    ("trace",),
    ("calculus",),
    ("script",),
    ("descent", "testing", "embed", "sphinx", "markdown"),
    ("cli", "__main__"),
    ("__init__",),
]
MAX_LINES = 800


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    if module == "tracegraph":
        return len(LAYERS) - 1
    top = module.split(".")[1]
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS in {__file__}")


def _resolve(importer: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = importer if MODULES[importer].name == "__init__.py" else importer.rsplit(".", 1)[0]
    base = package.split(".")
    if node.level > 1:
        base = base[: -(node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(module: str) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import in ``module``."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    found = []
    for node in _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, None, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, node)
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                if submodule in MODULES:
                    found.append((submodule, None, node.lineno))
                else:
                    found.append((target, alias.name, node.lineno))
    return [(target, name, line) for target, name, line in found
            if target == "tracegraph" or target.startswith("tracegraph.")]


def _runtime_nodes(tree: ast.AST):
    """Every node except those under ``if TYPE_CHECKING:`` (annotations only, never run)."""
    pending = [tree]
    while pending:
        node = pending.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                pending.extend(child.orelse)
                continue
            pending.append(child)


def _inside(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_point_only_downward(module):
    own = _layer(module)
    for target, _, line in _imports(module):
        if _inside(module, target) or target == "tracegraph" and module == "tracegraph":
            continue
        assert _layer(target) <= own, (
            f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports {target}, "
            f"which is in a higher layer ({LAYERS[_layer(target)]} above {LAYERS[own]})")


def test_there_are_no_import_cycles():
    graph = nx.DiGraph()
    for module in MODULES:
        for target, _, _ in _imports(module):
            # A package's __init__ importing its own submodules is how packages work.
            if target in MODULES and not (target.startswith(module + ".")
                                          and MODULES[module].name == "__init__.py"):
                graph.add_edge(module, target)
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"import cycles: {cycles[:5]}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_private_name_is_imported_from_another_module(module):
    for target, name, line in _imports(module):
        if name is not None and name.startswith("_") and not name.startswith("__"):
            raise AssertionError(
                f"{MODULES[module].relative_to(PACKAGE.parent)}:{line} imports the private "
                f"name {name} from {target}; make it public or keep it in its module")


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_is_over_the_size_a_reader_can_hold(module):
    lines = len(MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{module} has {lines} lines; split it by responsibility"


def test_import_tracegraph_loads_no_optional_or_cli_package():
    optional = ["typer", "rich", "graphviz", "matplotlib", "PIL", "scipy", "sphinx", "docutils",
                "markdown", "pymdownx", "torch", "autograd"]
    code = ("import sys, tracegraph; "
            f"print(','.join(m for m in {optional!r} if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "", f"import tracegraph loaded: {done.stdout.strip()}"
