"""The lists people extend (team, goals) are read from the file's Lists sheet (issue 12)."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_sheets.analyser import pipeline as A
from smm_sheets.analyser import reader
from smm_sheets.analyser.cellmap import parse_range
from smm_sheets.generator.pipeline import generate
from smm_sheets.plan import build
from tests.conftest import params

ADDED, STRANGER = "Ann Added", "Zed Nobody"


@pytest.fixture(scope="module")
def roadmap(tmp_path_factory) -> Path:
    return generate("roadmap", params(sample=True, year=2031), tmp_path_factory.mktemp("roadmap"))


def _put(data: reader.WorkbookData, sheet: str, row: int, col: int, value) -> None:
    rows = data.sheets[sheet].rows
    while len(rows) <= row:
        rows.append([])
    rows[row].extend([None] * (col + 1 - len(rows[row])))
    rows[row][col] = value


def _edited(path: Path, team_value: str | None, owner: str, keep_name: bool = True) -> list:
    """The owner-not-on-team findings after typing ``team_value`` in the team's first spare row
    (None: every team cell cleared) and ``owner`` as the first initiative's owner."""
    data = reader.read(path)
    plan = build(*A.recognise(data)[:2], values=False)
    sheet, (r1, col, r2, _) = parse_range(plan.names["list_team"])
    filled = [r for r in range(r1, r2 + 1) if data.sheets[sheet].value(r, col) not in (None, "")]
    if team_value is None:
        for row in filled:
            _put(data, sheet, row, col, None)
    else:
        _put(data, sheet, filled[-1] + 1, col, team_value)
    if not keep_name:
        data.defined_names.pop("list_team")
    owner_at = plan.items["owner"]
    _, row, owner_col = (
        next(iter(owner_at.cells))
        if owner_at.column is None
        else (None, owner_at.column.first_row, owner_at.column.col)
    )
    _put(data, plan.sheets[owner_at.sheet].name, row, owner_col, owner)
    return [f for f in A.analyse_data(data).findings if f.code == "owner-not-on-team"]


def test_a_name_added_on_the_lists_sheet_is_on_the_team(roadmap):
    assert _edited(roadmap, ADDED, ADDED) == []


def test_the_report_names_the_team_members_added_on_the_lists_sheet(roadmap):
    data = reader.read(roadmap)
    plan = build(*A.recognise(data)[:2], values=False)
    sheet, (r1, col, r2, _) = parse_range(plan.names["list_team"])
    spare = next(r for r in range(r1, r2 + 1) if data.sheets[sheet].value(r, col) in (None, ""))
    _put(data, sheet, spare, col, ADDED)
    facts = A.analyse_data(data).parameters["facts"]
    assert facts["team_added"] == [ADDED]
    assert "team_added" not in A.analyse_data(reader.read(roadmap)).parameters["facts"]


def test_without_the_files_name_the_plans_cells_are_read(roadmap):
    assert _edited(roadmap, ADDED, ADDED, keep_name=False) == []


def test_an_owner_on_neither_list_is_still_found(roadmap):
    found = _edited(roadmap, ADDED, STRANGER)
    assert len(found) == 1 and STRANGER in found[0].message and ADDED in found[0].message


def test_a_team_list_emptied_in_the_file_leaves_the_plans_team(roadmap):
    found = _edited(roadmap, None, STRANGER)
    assert len(found) == 1 and STRANGER in found[0].message
    assert _edited(roadmap, None, "Owner") == []  # the sample's team, from the parameters
