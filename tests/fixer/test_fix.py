"""``smm-sheets fix``: a corrected workbook back, with everything typed carried over, formulas
restored, types repaired where certain, and what remains noted on its cells; and next year's
workbook from this year's. Edits here are made with openpyxl (fast); test_fix_libreoffice.py
has workbooks LibreOffice itself edited."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

import smm_sheets
from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse, analyse_book
from smm_sheets.analyser.recognise import PREVIOUS_DIR
from smm_sheets.blueprint import loader
from smm_sheets.cli import main
from smm_sheets.errors import FileError, InputError
from smm_sheets.fixer import fix_paths
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import generate, generate_all
from smm_sheets.plan import build
from smm_sheets.sheetref import a1
from tests.conftest import params
from tests.fixer.helpers import FORMULA_CODES, HOSTILE, YEAR, digest, inputs, planned_cell

INSTAGRAM = {"line": "advertising_instagram", "category": "advertising"}


@pytest.fixture(scope="module")
def finnish_budget(tmp_path_factory) -> tuple[Path, dict]:
    """A Finnish budget edited as people do: text for numbers, a date as text, an overwritten
    formula, hostile text in a note."""
    folder = tmp_path_factory.mktemp("fi")
    path = generate(loader.load("budget"), params(sample=True, year=YEAR, language="fi"), folder)
    plan = build(loader.load("budget"), params(sample=True, year=YEAR, language="fi"), values=False)
    cells = {
        "certain": planned_cell(plan, "actual", 40),
        "ambiguous": planned_cell(plan, "actual", 41),
        "date": planned_cell(plan, "approved_on"),
        "note": planned_cell(plan, "prepared_by"),
        "formula": planned_cell(plan, "category_planned", 0),
    }
    book = openpyxl.load_workbook(path)

    def put(key: str, value: Any) -> None:
        sheet, row, col = cells[key]
        cell = book[sheet].cell(row + 1, col + 1)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"  # openpyxl would take "=..." for a formula

    put("certain", "1 200,50")
    put("ambiguous", "1.200")
    put("date", "12.03.2031")
    put("note", HOSTILE)
    put("formula", 5)
    edited = folder / "edited" / "budget.xlsx"
    edited.parent.mkdir()
    book.save(edited)
    return edited, cells


def test_fix_carries_inputs_restores_formulas_and_marks_what_remains(finnish_budget, tmp_path):
    source, cells = finnish_budget
    before = digest(source)
    [result] = fix_paths(source, tmp_path / "out")
    assert digest(source) == before, "the original is never touched"
    assert result.target == tmp_path / "out" / "budget.xlsx"

    # Formulas are back, and nothing about them is left.
    _, report = analyse_book(reader.read(result.target))
    assert not FORMULA_CODES & {f.code for f in report.findings}
    assert not FORMULA_CODES & {f.code for f in result.findings}

    # Every input is the original's, cell by cell through the plan; the repaired ones are typed now.
    old, new = inputs(source), inputs(result.target)
    assert old.keys() == new.keys()
    repaired = {(r["sheet"], r["cell"]): r["now"] for r in result.repaired}
    certain = (cells["certain"][0], a1(*cells["certain"][1:]))
    date = (cells["date"][0], a1(*cells["date"][1:]))
    assert repaired == {certain: 1200.5, date: dt.date(2031, 3, 12)}
    changed = {key: (old[key], new[key]) for key in old if old[key] != new[key]}
    assert changed == {("actual", 40): ("1 200,50", 1200.5), ("approved_on", 0): ("12.03.2031", dt.date(2031, 3, 12))}

    # Text is text: the hostile note, and "1.200" (a Finn does not write that: kept, and marked).
    fixed = openpyxl.load_workbook(result.target)
    note = fixed[cells["note"][0]].cell(cells["note"][1] + 1, cells["note"][2] + 1)
    assert note.value == HOSTILE and note.data_type == "s"
    sheet, row, col = cells["ambiguous"]
    ambiguous = fixed[sheet].cell(row + 1, col + 1)
    assert ambiguous.value == "1.200" and ambiguous.data_type == "s"
    assert (
        ambiguous.comment is not None
        and "1.200" in ambiguous.comment.text
        and "1 200" in ambiguous.comment.text.replace("\xa0", " ")
    )

    # The Findings sheet lists every remaining finding, each linked to its cell.
    listing = fixed["Havainnot"]
    rows = list(listing.iter_rows(min_row=2))
    assert len(rows) == len(result.findings) > 0
    linked = {row[1].value: row[1].hyperlink.location for row in rows if row[1].hyperlink is not None}
    assert linked[a1(row, col)] == f"'{sheet}'!{a1(row, col)}"
    assert all(r[4].value == f.message for r, f in zip(rows, result.findings))


def test_fixing_a_fixed_workbook_changes_nothing(finnish_budget, tmp_path):
    source, _ = finnish_budget
    [first] = fix_paths(source, tmp_path / "one")
    [second] = fix_paths(first.target, tmp_path / "two")
    assert second.repaired == [] and second.not_carried == []
    one, two = reader.read(first.target), reader.read(second.target)
    assert one.sheets.keys() == two.sheets.keys()
    for name in one.sheets:
        assert one.sheets[name].rows == two.sheets[name].rows, name
        assert one.sheets[name].formulas == two.sheets[name].formulas, name
    assert [(f.code, f.sheet, f.cell, f.message) for f in first.findings] == [
        (f.code, f.sheet, f.cell, f.message) for f in second.findings
    ]
    comments = [
        {(ws.title, c.coordinate): c.comment.text for row in ws.iter_rows() for c in row if c.comment}
        for ws in (openpyxl.load_workbook(p)[n] for p in (first.target, second.target) for n in ["Budjetti"])
    ]
    assert comments[0] == comments[1] and comments[0]


def test_the_output_never_replaces_an_input(finnish_budget, tmp_path):
    source, _ = finnish_budget
    before = digest(source)
    with pytest.raises(InputError, match="would replace an input"):
        fix_paths(source, source.parent)
    [result] = fix_paths(source, tmp_path)
    with pytest.raises(FileError, match="exists"):
        fix_paths(source, tmp_path)
    fix_paths(source, tmp_path, force=True)
    assert digest(source) == before and result.target.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")], "no temporary file is left"


def test_force_keeps_a_copy_of_a_replaced_file_someone_worked_on(finnish_budget, tmp_path):
    source, _ = finnish_budget
    [first] = fix_paths(source, tmp_path)
    [again] = fix_paths(source, tmp_path, force=True)
    assert first.kept is None and again.kept is None, "the same workbook again: nothing to keep"
    first.target.write_bytes(source.read_bytes())  # someone's own workbook saved under that name
    before = digest(first.target)
    [replaced] = fix_paths(source, tmp_path, force=True)
    assert replaced.kept is not None and replaced.kept.parent == tmp_path
    assert ".kept-" in replaced.kept.name and digest(replaced.kept) == before
    assert digest(replaced.target) != before


def test_what_could_not_be_carried_is_said(tmp_path):
    """A row typed next to the lines (no line of the plan) and a sheet of one's own are not carried."""
    (tmp_path / "in").mkdir()
    path = generate(loader.load("budget"), params(sample=True, year=YEAR), tmp_path / "in")
    book = openpyxl.load_workbook(path)
    book.create_sheet("My notes")["A1"] = "ideas"
    book.save(path)
    [result] = fix_paths(path, tmp_path / "out")
    assert any(line.startswith("My notes:") and "not carried" in line for line in result.not_carried)
    assert "My notes" not in openpyxl.load_workbook(result.target).sheetnames


def test_a_workbook_of_an_older_blueprint_version_is_upgraded(tmp_path):
    (tmp_path / "in").mkdir()
    path = generate(loader.load("roadmap"), params(sample=True, year=YEAR), tmp_path / "in")
    book = openpyxl.load_workbook(path)
    meta = book["_smm"]
    for row in meta.iter_rows():
        if row[0].value == "blueprint_version":
            row[1].value = "0.9"
    for prop in book.custom_doc_props.props:
        if prop.name == "smm_blueprint_version":
            prop.value = "0.9"
    book.save(path)
    assert any(f.code == "blueprint-version" for f in analyse(path).reports[0].findings)
    [result] = fix_paths(path, tmp_path / "out")
    fixed = analyse(result.target).reports[0]
    assert fixed.blueprint_version == loader.load("roadmap").version
    assert not any(f.code == "blueprint-version" for f in fixed.findings)
    assert inputs(path) == inputs(result.target)


# The sample's advertising lines (budget.yaml): planned 300, 300, 350, 350 and spent 240, 330,
# 360, 395 from January to April, so the carry-over runs 60, 30, 20 and -25: April, the last
# reported month, carries a deficit of 25 out of the year.
SAMPLE_CARRY = -25.0


@pytest.mark.slow
def test_next_year_over_the_sample_set(tmp_path):
    source = tmp_path / "2031"
    source.mkdir()
    generate_all(params(sample=True, year=YEAR, channels="instagram,facebook,tiktok"), source)
    results = smm_sheets.fix(source, tmp_path / "2032", next_year=True)
    assert [r.year for r in results] == [YEAR + 1] * 5
    before, after = analyse(source), analyse(tmp_path / "2032")
    assert before.exit_code() == 0  # the sample set itself has no error
    old = {r.blueprint_id: r for r in before.reports}
    for report in after.reports:
        assert report.parameters["year"] == YEAR + 1
        assert [f for f in report.findings if f.severity == "error"] == [], report.blueprint_id
    assert after.exit_code() == 0
    new = {r.blueprint_id: r for r in after.reports}
    budget = new["budget"].totals
    assert list(budget["by_month"].index)[0].endswith(str(YEAR + 1))  # the months moved on
    assert budget["actual"] == 0 and budget["planned"] == old["budget"].totals["planned"]  # plans kept, actuals cleared
    fixed = {r.blueprint_id: r.target for r in results}
    assert all(value is None for (name, _), value in inputs(fixed["budget"]).items() if name == "actual")
    by_id = {r.blueprint_id: r for r in results}
    assert by_id["budget"].opening == {"Instagram": SAMPLE_CARRY, "Facebook": SAMPLE_CARRY, "TikTok": SAMPLE_CARRY}
    assert by_id["roadmap"].opening == {}
    assert new["budget"].parameters["options"] == {"opening_balance": "yes"}
    assert new["kpi-report"].totals["impressions"] == 0
    assert new["calendar"].totals["posts_planned"] == 0  # dated posts cleared
    assert new["roadmap"].totals["initiatives"] == old["roadmap"].totals["initiatives"]  # kept, dates moved on
    assert new["strategy"].totals["goals"] == old["strategy"].totals["goals"]
    for item in ("team", "channels", "company", "currency"):
        assert new["budget"].parameters[item] == old["budget"].parameters[item]


def test_next_year_carries_each_lines_surplus_into_the_opening_balance(tmp_path):
    """Instagram underspends April (a surplus of 70 carried out), Facebook overspends it (a deficit
    of 25): next year's budget opens with them, and its January has them available."""
    (tmp_path / "in").mkdir()
    made = params(sample=True, year=YEAR)
    path = generate(loader.load("budget"), made, tmp_path / "in")
    plan = build(loader.load("budget"), made, values=False)
    book = openpyxl.load_workbook(path)
    april = next((r, c) for coords, r, c in plan.items["actual"].cells if coords == dict(INSTAGRAM, month=3))
    book[plan.sheets[plan.items["actual"].sheet].name].cell(april[0] + 1, april[1] + 1).value = 300
    book.save(path)
    runner = CliRunner()
    outcome = runner.invoke(main, ["fix", str(path), "-o", str(tmp_path / "cli"), "--next-year"])
    assert outcome.exit_code == 0, outcome.output
    assert f"opening balance carried into {YEAR + 1}: Instagram 70.00, Facebook -25.00 (total 45.00)" in outcome.output
    [result] = smm_sheets.fix(path, tmp_path / "api", next_year=True)
    assert result.opening == {"Instagram": 70.0, "Facebook": -25.0}
    new_book, report = analyse_book(reader.read(result.target))
    assert new_book.plan.params.options == {"opening_balance": "yes"}
    opening = {
        coords["line"]: new_book.value(new_book.plan.items["opening"].sheet, r, c)
        for coords, r, c in new_book.plan.items["opening"].cells
    }
    assert opening == {"advertising_instagram": 70.0, "advertising_facebook": -25.0, "advertising_spare_1": None}
    available = openpyxl.load_workbook(result.target, data_only=True)
    for line, carried in (("instagram", 70.0), ("facebook", -25.0)):
        coords = {"line": f"advertising_{line}", "category": "advertising", "month": 0}
        cell = next((r, c) for found, r, c in new_book.plan.items["available"].cells if found == coords)
        planned = next((r, c) for found, r, c in new_book.plan.items["planned"].cells if found == coords)
        sheet = available[new_book.plan.sheets[new_book.plan.items["available"].sheet].name]
        assert sheet.cell(cell[0] + 1, cell[1] + 1).value == sheet.cell(planned[0] + 1, planned[1] + 1).value + carried
    # The year after that: nothing reported in it, so nothing carried (not the old opening balance again).
    [again] = smm_sheets.fix(result.target, tmp_path / "later", next_year=True)
    assert again.opening == {} and again.year == YEAR + 2
    later, _ = analyse_book(reader.read(again.target))
    assert all(
        later.value(later.plan.items["opening"].sheet, r, c) is None for _, r, c in later.plan.items["opening"].cells
    )
    # Without another year, fix keeps the workbook's opening balance as typed.
    [same] = smm_sheets.fix(result.target, tmp_path / "same")
    assert inputs(same.target) == inputs(result.target) and same.opening == {}


def test_the_command_line_and_the_api(finnish_budget, tmp_path):
    source, _ = finnish_budget
    runner = CliRunner()
    outcome = runner.invoke(main, ["fix", str(source), "-o", str(tmp_path / "cli")])
    assert outcome.exit_code in (0, 1), outcome.output
    assert "budget.xlsx: 2 repaired" in outcome.output
    outcome = runner.invoke(main, ["fix", str(source), "-o", str(tmp_path / "x"), "--year", "2032", "--next-year"])
    assert outcome.exit_code == 2
    outcome = runner.invoke(main, ["fix", str(source), "-o", str(source.parent)])
    assert outcome.exit_code == 2 and "would replace an input" in outcome.output
    [result] = smm_sheets.fix(source, tmp_path / "api", year=2033, language="en")
    assert (
        result.year == 2033
        and result.findings
        and all(f.message.isascii() or "“" in f.message for f in result.findings)
    )


def test_a_deleted_line_is_named_and_comes_back(tmp_path):
    (tmp_path / "in").mkdir()
    path = generate(loader.load("budget"), params(sample=True, year=YEAR), tmp_path / "in")
    plan = build(loader.load("budget"), params(sample=True, year=YEAR), values=False)
    placement = plan.items["planned"]
    _, row, _ = placement.cells[12 * 2]  # the third line's January
    sheet = plan.sheets[placement.sheet].name
    book = openpyxl.load_workbook(path)
    book[sheet].delete_rows(row + 1)
    name = book.defined_names["smm_planned"]  # openpyxl moves no names: shrink it as an app would
    first, last = name.attr_text.split("!")[1].replace("$", "").split(":")
    name.attr_text = f"'{sheet}'!$D${first[1:]}:$O${int(last[1:]) - 1}"
    book.save(path)
    deleted = [f for f in analyse(path).reports[0].findings if f.code == "rows-deleted"]
    assert deleted and "“Stock photo subscription”" in deleted[0].message
    [result] = fix_paths(path, tmp_path / "out")
    fixed = analyse(result.target).reports[0]
    assert not [f for f in fixed.findings if f.code in {"rows-deleted"} | FORMULA_CODES]
    assert "Stock photo subscription" in fixed.totals["by_line"].index
    # openpyxl moved no formula: every one below the row "changed", counted in one line per sheet
    assert any(
        line.startswith(f"{sheet}: ") and "changed formulas were replaced" in line for line in result.not_carried
    )
    assert len(result.not_carried) < 10


def test_a_budget_of_the_previous_version_is_written_by_the_current_one(tmp_path):
    """A 1.0 budget (read against blueprints/previous/) comes back as the current version, every
    input in place; into the next year, with its carry-over as the opening balance."""
    previous = loader.load(PREVIOUS_DIR / "budget-1.0.yaml")
    made = params(sample=True, year=YEAR)
    path = xlsx.write(build(previous, made), tmp_path / "budget.xlsx")
    assert analyse(path).reports[0].blueprint_version == "1.0"
    [same] = smm_sheets.fix(path, tmp_path / "same")
    fixed = analyse(same.target).reports[0]
    assert fixed.blueprint_version == loader.load("budget").version and fixed.stats["errors"] == 0
    assert same.not_carried == [] and same.opening == {}

    def by_coords(target: Path) -> dict:
        book, _ = analyse_book(reader.read(target))
        return {
            (name, tuple(sorted(coords.items()))): book.value(placement.sheet, row, col)
            for name, placement in book.plan.items.items()
            if placement.role == "input"
            for coords, row, col in placement.cells
        }

    old, new = by_coords(path), by_coords(same.target)
    assert {key: value for key, value in old.items() if value not in (None, "")} == {
        key: value for key, value in new.items() if value not in (None, "")
    }
    [following] = smm_sheets.fix(path, tmp_path / "next", next_year=True)
    assert following.opening == {"Instagram": SAMPLE_CARRY, "Facebook": SAMPLE_CARRY}
    assert analyse(following.target).reports[0].parameters["options"] == {"opening_balance": "yes"}


def test_a_kpi_report_of_the_previous_version_keeps_its_rows_and_inputs(tmp_path):
    """The KPI report 1.1 (kept in blueprints/previous/, with a table of blank rows) comes back as
    the current version, with every input by field and coordinates."""
    previous = loader.load(PREVIOUS_DIR / "kpi-report-1.1.yaml")
    path = xlsx.write(build(previous, params(sample=True, year=YEAR)), tmp_path / "kpi-report.xlsx")
    [result] = smm_sheets.fix(path, tmp_path / "out")
    fixed = analyse(result.target).reports[0]
    assert fixed.blueprint_version == loader.load("kpi-report").version != previous.version
    assert fixed.stats["errors"] == 0 and result.not_carried == []

    def typed(target: Path) -> dict:
        book, _ = analyse_book(reader.read(target))
        return {
            (name, tuple(sorted(coords.items()))): value
            for name, placement in book.plan.items.items()
            if placement.role == "input"
            for coords, row, col in placement.cells
            if (value := book.value(placement.sheet, row, col)) not in (None, "")
        }

    assert typed(path) and typed(path) == typed(result.target)
