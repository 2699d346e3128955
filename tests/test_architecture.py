"""Imports in api/mjolby only go down the layers docs/architecture.md draws.

Every module's imports are read with `ast` (nothing is imported), so a wrong
edge fails here before it can grow into a cycle:

    shared  <-  staff  <-  conversations  <-  handover      (domain core: models, schemas, services)
                        <-  deps, http_errors                 (HTTP glue: dependencies, error mapping)
                        <-  routers                           (one per domain; never import each other)
                        <-  console                           (the staff's HTML pages)
                        <-  main, retention, models, openapi  (what starts and wires everything)

A domain's router may use the core of its own domain and of the domains below
it, never of one above. Imports inside functions would hide an edge from this
check (and from a reader), so a module imports the application's modules at
its top only.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

API_DIR = Path(__file__).resolve().parents[1] / "api"
PACKAGE_DIR = API_DIR / "mjolby"

# Domain packages, lowest first: each may import only itself and those before it.
DOMAINS = ("staff", "knowledge_store", "conversations", "handover", "publishing", "feedback", "insight")
# Top-level modules that start and wire the application.
APP_MODULES = {"main", "models", "retention", "openapi", "__main__"}
WEB_MODULES = {"deps", "http_errors"}
SHARED, CORE, WEB, ROUTER, CONSOLE, APP = range(6)
LAYER_NAMES = ("shared", "domain core", "deps/http_errors", "router", "console", "app")


@dataclass(frozen=True)
class Place:
    layer: int
    package: str  # "shared", a domain, "health", "console" or "app"

    @property
    def domain_rank(self) -> int:
        """Where the package sits among the domains (shared and health below all)."""
        return DOMAINS.index(self.package) + 1 if self.package in DOMAINS else 0


def module_name(path: Path) -> str:
    parts = path.relative_to(API_DIR).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_router(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last.startswith("router") or last == "sse"


def place(name: str) -> Place:
    parts = name.split(".")[1:]  # without "mjolby"
    if not parts:
        return Place(SHARED, "shared")
    top = parts[0]
    if len(parts) == 1 and not (PACKAGE_DIR / top).is_dir():
        if top in APP_MODULES:
            return Place(APP, "app")
        if top in WEB_MODULES:
            return Place(WEB, "web")
        return Place(SHARED, "shared")
    if top == "console":
        return Place(CONSOLE, "console")
    if top == "health":
        return Place(ROUTER if is_router(name) else SHARED, "health")
    assert top in DOMAINS, f"{name}: a new package needs a place in DOMAINS (and docs/architecture.md)"
    return Place(ROUTER if is_router(name) else CORE, top)


def modules() -> list[Path]:
    return sorted(p for p in PACKAGE_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def imported_modules(node: ast.Import | ast.ImportFrom, importer: str) -> list[str]:
    """The mjolby modules an import statement loads (`from mjolby.x import y` is
    module mjolby.x.y when that is a module, else mjolby.x)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == "mjolby"]
    base = node.module or ""
    if node.level:
        package = importer.split(".")[: -node.level] if node.level else []
        base = ".".join(package + ([base] if base else []))
    if base.split(".")[0] != "mjolby":
        return []
    found = []
    for alias in node.names:
        candidate = f"{base}.{alias.name}"
        path = API_DIR / Path(*candidate.split("."))
        found.append(candidate if path.with_suffix(".py").is_file() or path.is_dir() else base)
    return found


def imports_of(path: Path) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """(top-level imports, imports inside a function or class) as (line, module)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    importer = module_name(path)
    top: list[tuple[int, str]] = []
    nested: list[tuple[int, str]] = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            top += [(node.lineno, m) for m in imported_modules(node, importer)]
        else:
            for inner in ast.walk(node):
                if isinstance(inner, (ast.Import, ast.ImportFrom)):
                    nested += [(inner.lineno, m) for m in imported_modules(inner, importer)]
    return top, nested


def violation(importer: str, imported: str) -> str | None:
    """Why `importer` must not import `imported`, or None when it may."""
    if imported == importer or imported == "mjolby":
        return None
    a, b = place(importer), place(imported)
    if b.layer > a.layer:
        return f"{LAYER_NAMES[a.layer]} imports {LAYER_NAMES[b.layer]} (upwards)"
    if b.package in DOMAINS and a.package in DOMAINS + ("health",) and b.domain_rank > a.domain_rank:
        return f"domain {a.package} imports domain {b.package}, which builds on it"
    if a.layer == b.layer == ROUTER and a.package != b.package:
        return "a router imports another domain's router"
    if a.layer == b.layer == CORE and a.package != b.package and b.domain_rank > a.domain_rank:
        return f"domain {a.package} imports domain {b.package}, which builds on it"
    if a.layer == b.layer == WEB and importer != imported:
        return "deps and http_errors stay independent of each other"
    return None


def all_edges() -> list[tuple[str, int, str]]:
    edges = []
    for path in modules():
        top, _ = imports_of(path)
        edges += [(module_name(path), line, imported) for line, imported in top]
    return edges


def test_every_import_goes_down_the_layers():
    wrong = [f"{importer}:{line} imports {imported}: {reason}"
             for importer, line, imported in all_edges()
             if (reason := violation(importer, imported))]
    assert not wrong, "\n".join(wrong)


def test_no_module_imports_the_application_inside_a_function():
    hidden = [f"{module_name(path)}:{line} imports {imported} inside a function or class"
              for path in modules() for line, imported in imports_of(path)[1]]
    assert not hidden, "\n".join(hidden)


def test_the_shared_identity_number_module_stands_alone():
    # The bot's action server loads api/mjolby_pii.py on its own (Python 3.10, no API packages).
    top, nested = imports_of(API_DIR / "mjolby_pii.py")
    assert not top + nested


@pytest.mark.parametrize(("importer", "imported"), [
    ("mjolby.conversations.dialogue", "mjolby.handover.service"),   # conversations -> handover
    ("mjolby.staff.auth", "mjolby.handover.errors"),                 # staff -> handover
    ("mjolby.staff.router", "mjolby.handover.service"),              # a router reaching up
    ("mjolby.conversations.router", "mjolby.handover.router_staff"),  # router -> another router
    ("mjolby.handover.service", "mjolby.deps"),                      # core -> HTTP glue
    ("mjolby.hours", "mjolby.staff.service"),                        # shared -> a domain
    ("mjolby.deps", "mjolby.http_errors"),
])
def test_the_check_catches_the_edges_it_forbids(importer, imported):
    assert violation(importer, imported) is not None


@pytest.mark.parametrize(("importer", "imported"), [
    ("mjolby.handover.staff_actions", "mjolby.conversations.service"),
    ("mjolby.handover.availability", "mjolby.staff.service"),
    ("mjolby.handover.router_staff", "mjolby.handover.sse"),
    ("mjolby.conversations.router", "mjolby.deps"),
    ("mjolby.console.cases", "mjolby.handover.service"),
    ("mjolby.main", "mjolby.console.install"),
])
def test_the_check_allows_the_edges_the_layers_draw(importer, imported):
    assert violation(importer, imported) is None
