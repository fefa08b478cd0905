"""The package's shape, checked: imports flow one way, and each third-party library has its adapter.

Read from the source with ``ast`` (every import, at module level or inside a function), so that a
new import that breaks the layering fails here rather than in a review.
"""

from __future__ import annotations

import ast

import pytest

from tests.helpers import ROOT

PACKAGE = ROOT / "smm_sheets"

# The stages, lowest first. A module may import its own stage's package and any lower stage.
# generator and analyser are the two directions: neither imports the other.
LAYERS = {
    "errors": 0,
    "sheetref": 0,
    "atomic": 1,
    "processes": 1,
    "locale_data": 1,
    "formula": 2,
    "blueprint": 3,
    "plan": 4,
    "generator": 5,
    "analyser": 5,
    "agency": 6,
    "export": 6,  # reads calendars through the analyser
    "fixer": 6,  # smm-sheets fix: the analyser reads, the generator writes
    "web": 7,  # the pages and API: a front end like the command line, which starts it (serve)
    "cli": 8,
}
# The package's front door imports the two directions lazily, inside generate(), analyse(), export() and fix().
TOP = {"__init__", "__main__"}

# Third-party library -> the only modules (relative to smm_sheets/, without .py) that may import it.
ADAPTERS = {
    "pandas": {"analyser/totals"},
    "xlsxwriter": {"generator/xlsx"},
    "python_calamine": {"analyser/reader/calamine"},
    "babel": {"locale_data"},
    "click": {"cli"},
    "rich": {"cli", "analyser/report_text"},
    "distributed": {"agency/runner"},
    "dask": {"agency/runner"},
    "openpyxl": set(),
    # zipguard reads people's files; the generator reads only the zip directory (names, sizes,
    # CRC-32s) of a workbook it is about to replace, to tell its own output from edited work;
    # web only zips the generated set for download.
    "zipfile": {"analyser/reader/zipguard", "generator/xlsx", "web/uploads"},
    "fastapi": {"web/app"},
    "starlette": {"web/app"},
    "pydantic": {"web/app"},
    "anyio": {"web/app"},
    "jinja2": {"web/pages"},
    "markupsafe": {"web/pages"},
    "uvicorn": {"web/server"},
    "multipart": set(),
    "icalendar": {"export/ics"},
}


def modules() -> dict[str, ast.Module]:
    return {
        path.relative_to(PACKAGE).with_suffix("").as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def imports(tree: ast.Module) -> set[str]:
    """Every module this one imports, as dotted names (``from smm_sheets import plan`` -> ``smm_sheets.plan``)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module == "smm_sheets":  # a stage, or a name such as __version__
                found.update(f"smm_sheets.{a.name}" for a in node.names if stage(a.name) in LAYERS)
    return found


def stage(name: str) -> str:
    """``blueprint/loader`` -> ``blueprint``; ``smm_sheets.plan.place`` -> ``plan``."""
    return name.removeprefix("smm_sheets.").replace(".", "/").split("/")[0]


MODULES = modules()


def test_every_module_belongs_to_a_stage():
    assert {stage(name) for name in MODULES} - TOP <= set(LAYERS)


@pytest.mark.parametrize("name", sorted(n for n in MODULES if stage(n) not in TOP))
def test_imports_flow_one_way(name):
    own = stage(name)
    for imported in imports(MODULES[name]):
        if imported == "smm_sheets" or not imported.startswith("smm_sheets."):
            continue
        other = stage(imported)
        assert other in LAYERS, (name, imported)
        if other != own:
            assert LAYERS[other] < LAYERS[own], f"{name} imports {imported}: a later or a parallel stage"


@pytest.mark.parametrize("library", sorted(ADAPTERS))
def test_each_library_has_one_adapter(library):
    users = {name for name, tree in MODULES.items() if any(i.split(".")[0] == library for i in imports(tree))}
    assert users <= ADAPTERS[library], f"{library} is imported by {sorted(users - ADAPTERS[library])}"


def test_no_import_cycles_at_module_level():
    """Module-level imports between the package's modules form no cycle (imports inside functions may)."""
    graph: dict[str, set[str]] = {}
    for name, tree in MODULES.items():
        dotted = "smm_sheets." + name.replace("/", ".").removesuffix(".__init__")
        targets = set()
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets |= {t for t in imports(ast.Module(body=[node], type_ignores=[])) if t.startswith("smm_sheets.")}
        graph[dotted] = targets
    known = set(graph)

    def parents(module: str) -> set[str]:
        # Importing a.b.c runs a/__init__ and a/b/__init__ first.
        parts = module.split(".")
        return {".".join(parts[:i]) for i in range(2, len(parts))} & known

    done: set[str] = set()

    def visit(module: str, path: list[str]) -> None:
        if module in path:
            raise AssertionError(" -> ".join([*path[path.index(module) :], module]))
        if module in done:
            return
        for target in graph.get(module, set()):
            for step in sorted(parents(target) | ({target} & known)):
                if step != module and step not in module:
                    visit(step, [*path, module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
