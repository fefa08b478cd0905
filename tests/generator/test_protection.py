"""Protection that lets people add what the workbooks are made to hold: rows may be inserted inside
the tables of posts, initiatives and tasks while the sheets stay protected; the budget's lines are
added in its spare lines instead (tests/analyser/test_budget_semantics.py fills them through
LibreOffice). LibreOffice honours the option from its menu (checked by hand with the
.uno:InsertRowsBefore command: headless LibreOffice crashes soon after a dispatched UI command,
so no test drives it; its UNO API inserts rows on no protected sheet at all)."""

from __future__ import annotations

import zipfile

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.generator import xlsx
from smm_sheets.plan import build
from tests.conftest import params


def cells_of(plan, name: str) -> list[tuple[str, int, int]]:
    item = plan.items[name]
    return [(plan.sheets[item.sheet].name, row, col) for _, row, col in item.cells]


def protection(path, sheet_index: int) -> str:
    with zipfile.ZipFile(path) as archive:
        xml = archive.read(f"xl/worksheets/sheet{sheet_index}.xml").decode()
    return xml[xml.index("<sheetProtection") :].split(">")[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("protection")
    found = {}
    for blueprint_id in ("calendar", "roadmap", "budget"):
        plan = build(loader.load(blueprint_id), params(year=2027, channels="instagram,facebook"))
        found[blueprint_id] = plan, xlsx.write(plan, folder / f"{blueprint_id}.xlsx")
    return found


def test_tables_made_to_grow_allow_inserting_rows_and_nothing_else(files):
    # sheetN.xml counts from 1, and sheet 1 is the Start here sheet.
    for blueprint_id, sheets in (("calendar", [2]), ("roadmap", [2, 3])):
        for index in sheets:
            found = protection(files[blueprint_id][1], index)
            assert 'sheet="1"' in found and 'insertRows="0"' in found, (blueprint_id, found)
            assert "deleteRows" not in found and "insertColumns" not in found
    assert "insertRows" not in protection(files["budget"][1], 2)
