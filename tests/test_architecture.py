"""The house rules, checked on the source: domain parts never import MCP, no module-level import
runs in a circle, imports only run down (surface and CLI above the parts, never the reverse), and
the package root stays an entry hall."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "sophia_mcp"
DOMAIN = ("airbyte", "pipeline", "postgres", "gong", "search")
# What each room may import from the project (besides the root modules settings, errors, retry).
ALLOWED = {
    # Metrics and log setup, fed by the parts below and served by the transports: imports no room.
    "observability": set(),
    "airbyte": {"observability"},
    "postgres": {"observability"},
    "gong": {"postgres"},
    "search": {"gong", "postgres", "observability"},
    "pipeline": {"airbyte"},
    "surface": {"airbyte", "pipeline", "postgres", "gong", "search", "observability"},
    "transports": {"surface", "observability"},
    "sample": {"gong", "airbyte", "postgres"},
    "cli": {"airbyte", "pipeline", "postgres", "gong", "search", "surface", "transports", "sample", "observability"},
}
ROOT_MODULES = {"settings", "errors", "retry"}


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def runtime_imports(path: Path) -> set[str]:
    """Modules imported when `path` is imported: module level, outside `if TYPE_CHECKING:`."""
    tree = ast.parse(path.read_text(), str(path))
    found: set[str] = set()

    def visit(nodes: list[ast.stmt]) -> None:
        for node in nodes:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module)
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
            elif isinstance(node, (ast.If, ast.Try, ast.With)):
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)

    visit(tree.body)
    return found


def all_imports(path: Path) -> set[str]:
    """Every module named in an import anywhere in the file, deferred ones included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


SOURCES = {module_name(p): p for p in PACKAGE.rglob("*.py")}


def room(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


@pytest.mark.parametrize("part", DOMAIN)
def test_domain_parts_never_import_mcp(part: str):
    offenders = {
        name: sorted(i for i in all_imports(path) if i == "mcp" or i.startswith(("mcp.", "mcp_types")))
        for name, path in SOURCES.items()
        if room(name) == part
    }
    assert not {k: v for k, v in offenders.items() if v}


def test_imports_only_run_down_between_rooms():
    wrong = []
    for name, path in SOURCES.items():
        here = room(name)
        if here not in ALLOWED:
            continue
        for imported in all_imports(path):
            if not imported.startswith("sophia_mcp."):
                continue
            there = room(imported)
            if there not in (here, *ROOT_MODULES, *ALLOWED[here]):
                wrong.append(f"{name} imports {imported}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_module_level_import_circle():
    graph: dict[str, set[str]] = {}
    for name, path in SOURCES.items():
        graph[name] = {i for i in runtime_imports(path) if i in SOURCES and i != name}
    done: set[str] = set()
    stack: list[str] = []

    def walk(node: str) -> None:
        if node in stack:
            raise AssertionError("import circle: " + " -> ".join(stack[stack.index(node) :] + [node]))
        if node in done:
            return
        stack.append(node)
        for nxt in sorted(graph[node]):
            # A package's own __init__ importing its children is not a circle back up.
            if not node.startswith(nxt + "."):
                walk(nxt)
        stack.pop()
        done.add(node)

    for node in sorted(graph):
        walk(node)


def test_the_package_root_is_an_entry_hall():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "__main__"}
    assert modules <= ROOT_MODULES, f"modules at the root beyond {sorted(ROOT_MODULES)}: {sorted(modules - ROOT_MODULES)}"
