"""``smm-sheets fix`` over workbooks LibreOffice itself edited and saved (xlsx and ods): text
typed where numbers and dates belong, a formula overwritten, hostile text, a post added in an
inserted row. The fixed workbook has no formula finding, every input equals the edited file's
(cell by cell through the plan), hostile text stays text, and LibreOffice recalculates it to the
values it holds. Needs LibreOffice and python3-uno (skipped without, failed when
SMM_SHEETS_REQUIRE_LIBREOFFICE=1)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse_book
from smm_sheets.blueprint import loader
from smm_sheets.fixer import fix_paths
from smm_sheets.generator.pipeline import generate
from smm_sheets.plan import build
from tests.conftest import params
from tests.fixer.helpers import FORMULA_CODES, HOSTILE, YEAR, inputs, plain, ref
from tests.libreoffice import disagreements, edit_many, error_cells, formula_cells, recalculate_many, soffice_uno  # noqa: F401

pytestmark = pytest.mark.usefixtures("soffice_uno")


@pytest.fixture(scope="module")
def edited(tmp_path_factory) -> dict[str, Path]:
    """A Finnish budget saved as xlsx and an English calendar saved as ods, both edited by LibreOffice."""
    folder = tmp_path_factory.mktemp("generated")
    out = tmp_path_factory.mktemp("edited")
    budget_params = params(sample=True, year=YEAR, language="fi")
    budget = generate(loader.load("budget"), budget_params, folder)
    calendar = generate(loader.load("calendar"), params(sample=True, year=YEAR), folder)
    bplan = build(loader.load("budget"), budget_params, values=False)
    cplan = build(loader.load("calendar"), params(sample=True, year=YEAR), values=False)
    budget_sheet = bplan.sheets[bplan.items["actual"].sheet].name
    calendar_sheet = cplan.sheets[cplan.items["caption"].sheet].name
    _, post_row, _ = cplan.items["caption"].cells[2]
    jobs = [
        {
            "src": budget,
            "out": out / "budget.xlsx",
            "actions": [
                {"set": ref(bplan, "actual", 40), "value": "1 200,50"},
                {"set": ref(bplan, "actual", 41), "value": "2,6k"},
                {"set": ref(bplan, "prepared_by"), "value": HOSTILE},
                {"unprotect": budget_sheet},
                {"set": ref(bplan, "category_planned", 0), "value": 5},
                {"set": ref(bplan, "available", 1), "clear": True},
            ],
        },
        {
            "src": calendar,
            "out": out / "calendar.ods",
            "actions": [
                {"set": ref(cplan, "caption", 0), "value": HOSTILE},
                {"set": ref(cplan, "post_date", 1), "value": "2031-03-12"},
                {"unprotect": calendar_sheet},
                {"insert_rows": calendar_sheet, "before": post_row + 1, "count": 1},
                {"set": ref(cplan, "post_date", 2), "date": "2031-02-14"},
                {"set": ref(cplan, "post_channel", 2), "value": "Instagram"},
                {"set": ref(cplan, "caption", 2), "value": "A post added in a row of its own"},
            ],
        },
    ]
    budget_out, calendar_out = edit_many(jobs)
    return {"budget": budget_out, "calendar": calendar_out}


@pytest.fixture(scope="module")
def fixed(edited, tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("fixed")
    return {result.blueprint_id: result for result in fix_paths(list(edited.values()), out)}


def test_the_fixed_workbooks_have_no_formula_findings(edited, fixed):
    for name, source in edited.items():
        _, before = analyse_book(reader.read(source))
        assert FORMULA_CODES & {f.code for f in before.findings}, f"{name}: the edits broke no formula"
        _, after = analyse_book(reader.read(fixed[name].target))
        assert not FORMULA_CODES & {f.code for f in after.findings}, name
        assert not {f.code for f in after.findings} - {f.code for f in before.findings}, name


def test_every_input_is_carried_over(edited, fixed):
    for name, source in edited.items():
        old, new = inputs(source), inputs(fixed[name].target)
        repaired = {(r["sheet"], r["cell"]): r["now"] for r in fixed[name].repaired}
        changed = {key: (old[key], new[key]) for key in old if plain(old[key]) != plain(new.get(key))}
        assert len(changed) == len(repaired), (name, changed, repaired)
        assert sorted(map(repr, (after for _, after in changed.values()))) == sorted(map(repr, repaired.values()))
    assert {r["now"] for r in fixed["budget"].repaired} == {1200.5, 2600.0}  # "2,6k" in a Finnish workbook
    assert dt.date(2031, 3, 12) in {r["now"] for r in fixed["calendar"].repaired}
    added = [value for (field, _), value in inputs(fixed["calendar"].target).items() if field == "caption"]
    assert "A post added in a row of its own" in added


def test_hostile_text_stays_text(fixed):
    for result in fixed.values():
        book = openpyxl.load_workbook(result.target)
        found = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == HOSTILE]
        assert found and all(c.data_type == "s" for c in found), result.target


def test_libreoffice_recalculates_the_fixed_workbooks_to_their_values(fixed, tmp_path):
    targets = [result.target for result in fixed.values()]
    recalculated = recalculate_many(targets, tmp_path)
    for target, again in zip(targets, recalculated):
        assert disagreements(formula_cells(target), formula_cells(again)) == [], target.name
        assert not error_cells(again), target.name


def test_libreoffice_recalculates_next_years_budget_with_its_opening_balance(tmp_path):
    """A sample budget whose Instagram underspends April (70 carried out) and Facebook overspends it
    (25 short): fixed into the next year, LibreOffice recalculates its January with them."""
    made = params(sample=True, year=YEAR, language="nb")
    (tmp_path / "in").mkdir()
    path = generate(loader.load("budget"), made, tmp_path / "in")
    plan = build(loader.load("budget"), made, values=False)
    april = ref(plan, "actual", 75)
    assert plan.items["actual"].cells[75][0] == {"line": "advertising_instagram", "category": "advertising", "month": 3}
    [edited] = edit_many([{"src": path, "out": tmp_path / "edited.xlsx", "actions": [{"set": april, "value": 300}]}])
    [result] = fix_paths(edited, tmp_path / "next", next_year=True)
    assert sorted(result.opening.values()) == [-25.0, 70.0]
    [again] = recalculate_many([result.target], tmp_path / "recalculated")
    assert disagreements(formula_cells(result.target), formula_cells(again)) == []
    assert not error_cells(again)
    new = build(
        loader.load("budget"),
        dataclasses.replace(made, year=YEAR + 1, sample=False, options={"opening_balance": "yes"}),
        values=False,
    )
    book = openpyxl.load_workbook(again, data_only=True)
    for line, carried in (("instagram", 70.0), ("facebook", -25.0)):
        coords = {"line": f"advertising_{line}", "category": "advertising"}
        values = {}
        for name, month in (("opening", None), ("planned", 0), ("available", 0)):
            placement = new.items[name]
            row, col = next(
                (r, c)
                for found, r, c in placement.cells
                if found == (coords if month is None else dict(coords, month=month))
            )
            values[name] = book[new.sheets[placement.sheet].name].cell(row + 1, col + 1).value
        assert values["opening"] == carried and values["available"] == values["planned"] + carried, (line, values)
