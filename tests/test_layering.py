"""The layering rule, kept by a small import-graph check over the source (every import statement, at
module level or inside a function — a function-level import is still a dependency):

    handlers/  →  domain packages (install, maps, visits, sync_1c, calcwork, desk, reports)  →  core (b24app/)

* the core imports no domain package and no handlers — except the composition root (b24app/app.py,
  b24app/cli.py, b24app/domains.py), which wires everything together;
* a domain package imports no handlers;
* the packages' import graph has no cycle (a domain may use another domain, never both ways), and
  neither has the modules' — so no import needs to hide inside a function to break one;
* nothing in the product imports the emulators (b24sandbox, sandbox/ in the repository) but the CLI.
"""
from __future__ import annotations

import ast
from pathlib import Path

from b24app.domains import DOMAINS

ROOT = Path(__file__).resolve().parents[1]
CORE = "b24app"
COMPOSITION_ROOT = {"b24app.app", "b24app.cli", "b24app.domains"}
HANDLERS = "handlers"
SANDBOXES = ("b24sandbox",)


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(root: Path, path: Path) -> set[str]:
    """Every module this file imports, absolute (relative imports resolved against its package)."""
    name = _module_name(root, path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)   # "from maps import stats" = maps.stats
    return out


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def graph(root: Path, packages: list[str]) -> dict[str, set[str]]:
    """module → the modules of ``packages`` (and of the emulators) it imports."""
    out = {}
    for pkg in packages:
        for path in sorted((root / pkg).rglob("*.py")):
            deps = {m for m in _imports(root, path) if any(_within(m, p) for p in (*packages, *SANDBOXES))}
            out[_module_name(root, path)] = deps
    return out


def top(module: str) -> str:
    return module.split(".")[0]


def violations(root: Path, domains: list[str]) -> list[str]:
    packages = [CORE, HANDLERS, *domains]
    g = graph(root, [p for p in packages if (root / p).is_dir()])
    found = []
    for mod, deps in sorted(g.items()):
        if any(_within(mod, s) for s in SANDBOXES):
            continue                                            # the emulators are test doubles, not layers
        for dep in sorted(deps):
            if dep.rpartition(".")[0] in deps:
                continue                                        # "from x import name": x is reported
            if any(_within(dep, s) for s in SANDBOXES) and mod != "b24app.cli":
                found.append(f"{mod} imports the emulator {dep}")
            if top(mod) == CORE and mod not in COMPOSITION_ROOT and top(dep) in (HANDLERS, *domains):
                found.append(f"core {mod} imports {dep}")
            if top(mod) in domains and top(dep) == HANDLERS:
                found.append(f"domain {mod} imports {dep}")
    edges: dict[str, set[str]] = {}
    for mod, deps in g.items():
        if mod in COMPOSITION_ROOT or any(_within(mod, s) for s in SANDBOXES):
            continue
        for dep in deps:
            if top(dep) != top(mod) and not any(_within(dep, s) for s in SANDBOXES):
                edges.setdefault(top(mod), set()).add(top(dep))
    found += [f"package cycle: {' → '.join(c)}" for c in _cycles(edges)]
    found += [f"module cycle: {' → '.join(c)}" for c in _cycles(_module_edges(g))]
    return found


def _module_edges(g: dict[str, set[str]]) -> dict[str, set[str]]:
    """module → modules it imports ("from maps import stats" names maps.stats; "from maps.geo import x"
    names maps.geo); a module's own package __init__ is not counted (Python imports it first anyway)."""
    edges: dict[str, set[str]] = {}
    for mod, deps in g.items():
        if mod in COMPOSITION_ROOT or any(_within(mod, s) for s in SANDBOXES):
            continue
        for dep in deps:
            while dep not in g and "." in dep:
                dep = dep.rpartition(".")[0]
            if dep in g and dep != mod and not _within(mod, dep) and not any(_within(dep, s) for s in SANDBOXES):
                edges.setdefault(mod, set()).add(dep)
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """One cycle per strongly connected component with more than one package (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp) + [sorted(comp)[0]])

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def _domains() -> list[str]:
    return sorted(set(DOMAINS.values()))


def test_the_repository_keeps_the_layering():
    assert violations(ROOT, _domains()) == []


def test_every_enabled_domain_is_a_package_with_a_plugin():
    for pkg in _domains():
        assert (ROOT / pkg / "plugin.py").is_file(), f"{pkg}/plugin.py with plugin(registry) is missing"


# --- the check itself, on a synthetic tree --------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        p = tmp_path / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    return tmp_path


BASE = {"b24app/__init__.py": "", "b24app/inbox.py": "from .errors import B24Error\n", "b24app/errors.py": "",
        "b24app/app.py": "from handlers import events\nimport maps.plugin\n",
        "maps/__init__.py": "", "maps/geo.py": "from b24app.inbox import x\n",
        "visits/__init__.py": "", "visits/route.py": "from maps import geo\n",
        "handlers/__init__.py": "", "handlers/events.py": "from maps.geo import y\nfrom b24app import inbox\n"}


def test_a_clean_tree_passes(tmp_path):
    assert violations(_tree(tmp_path, BASE), ["maps", "visits"]) == []


def test_core_importing_a_domain_fails(tmp_path):
    root = _tree(tmp_path, {**BASE, "b24app/inbox.py": "from maps import x\n"})
    found = violations(root, ["maps", "visits"])
    assert "core b24app.inbox imports maps" in found and any("package cycle" in f for f in found), found


def test_a_function_level_import_counts_too(tmp_path):
    root = _tree(tmp_path, {**BASE, "b24app/inbox.py": "def f():\n    from maps.geo import x\n"})
    assert "core b24app.inbox imports maps.geo" in violations(root, ["maps", "visits"])


def test_the_product_importing_the_emulator_fails(tmp_path):
    root = _tree(tmp_path, {**BASE, "visits/route.py": "from b24sandbox.robots import run_robot\n",
                            "b24app/cli.py": "from b24sandbox import cli\n"})
    assert violations(root, ["maps", "visits"]) == ["visits.route imports the emulator b24sandbox.robots"]


def test_a_domain_importing_handlers_fails(tmp_path):
    root = _tree(tmp_path, {**BASE, "maps/geo.py": "from handlers.events import bp\n"})
    assert "domain maps.geo imports handlers.events" in violations(root, ["maps", "visits"])


def test_a_cycle_between_modules_fails(tmp_path):
    root = _tree(tmp_path, {**BASE, "b24app/errors.py": "def f():\n    from .inbox import g\n"})
    assert "module cycle: b24app.errors → b24app.inbox → b24app.errors" in violations(root, ["maps", "visits"])


def test_a_cycle_between_domains_fails(tmp_path):
    root = _tree(tmp_path, {**BASE, "maps/geo.py": "from ..visits import route\n"})
    assert "package cycle: maps → visits → maps" in violations(root, ["maps", "visits"])
