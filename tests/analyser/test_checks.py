"""The steps before the checks (broken formulas, inserted rows) as values, the checks as one
ordered list of functions that only read the workbook, a client's set, and pandas kept in totals."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from smm_sheets.analyser import pipeline as A
from smm_sheets.analyser import reader, totals
from smm_sheets.analyser.checks import CHANGED, OVERWRITTEN, Workbook, compare_formulas, counting_formulas
from smm_sheets.analyser.checks.sets import check_set
from smm_sheets.analyser.checks.structure import inserted_rows
from smm_sheets.analyser.checks.workbook import used_rows
from smm_sheets.analyser.findings import finding
from smm_sheets.analyser.report import FileReport
from smm_sheets.generator.pipeline import generate
from smm_sheets.plan import build
from tests.conftest import params
from tests.helpers import ROOT


@pytest.fixture(scope="module")
def budget(tmp_path_factory) -> Path:
    return generate("budget", params(sample=True, year=2031), tmp_path_factory.mktemp("budget"))


def _broken_budget(path: Path) -> tuple[reader.WorkbookData, tuple[int, int, int], tuple[int, int, int]]:
    """The budget with one formula replaced by a number and one changed; their planned cells."""
    data = reader.read(path)
    plan = build(*A.recognise(data)[:2], values=False)
    cells = []
    for item, index in (("surplus", 0), ("total_planned", 0)):
        placement = plan.items[item]
        _, row, col = placement.cells[index]
        cells.append((placement.sheet, row, col))
    (s1, r1, c1), (s2, r2, c2) = cells
    sheet1, sheet2 = data.sheets[plan.sheets[s1].name], data.sheets[plan.sheets[s2].name]
    sheet1.rows[r1][c1] = 50.0
    sheet1.formulas.pop((r1, c1))
    sheet2.formulas[(r2, c2)] = "SUM(D6:D7)"
    return data, cells[0], cells[1]


def _book(data: reader.WorkbookData) -> tuple[Workbook, object]:
    blueprint, parameters, how = A.recognise(data)
    plan, cells, resized = A._place(blueprint, parameters, data)
    return Workbook(data, plan, cells, resized=resized, recognised_by=how), parameters


def test_the_formula_comparison_is_a_value_and_leaves_the_book_alone(budget):
    data, overwritten, changed = _broken_budget(budget)
    book, _ = _book(data)
    first = compare_formulas(book)
    assert first.broken == {overwritten: OVERWRITTEN, changed: CHANGED}
    assert [f.code for f in first.findings] == ["formula-overwritten", "formula-changed"]
    assert book.broken == {} and book.formula_findings == []
    assert compare_formulas(book) == first  # the plan's formula text is still there to compare


def test_counting_formulas_skip_the_broken_ones(budget):
    data, overwritten, _ = _broken_budget(budget)
    book, _ = _book(data)
    assert counting_formulas(book, {}, {}) == {}  # nothing inserted: nothing counts inserted rows
    broken = compare_formulas(book).broken
    assert overwritten not in counting_formulas(book, inserted_rows(book), broken)


def test_the_checks_only_read_the_book_and_their_order_is_the_reports(budget):
    data, _, _ = _broken_budget(budget)
    book, parameters = _book(data)
    formulas = compare_formulas(book)
    book.formula_findings = formulas.findings
    book.inserted = inserted_rows(book)
    book.broken = formulas.broken | counting_formulas(book, book.inserted, formulas.broken)
    book.used_rows = used_rows(book)
    book.computed = build(book.plan.blueprint, parameters, A._FileSource(book))
    broken = dict(book.broken)
    forward = {check: list(check(book)) for check in A.CHECKS}
    backward = {check: list(check(book)) for check in reversed(A.CHECKS)}
    assert forward == backward and book.broken == broken
    report = A.analyse_data(_broken_budget(budget)[0])
    assert report.findings == [found for check in A.CHECKS for found in forward[check]]
    assert {"formula-overwritten", "formula-changed", "carry-over-broken"} <= {f.code for f in report.findings}


def _report(name: str, **parameters) -> FileReport:
    return FileReport(file=f"/client/{name}.xlsx", blueprint_id=name, blueprint_version="1", parameters=parameters)


def test_a_clients_set_gives_findings_without_touching_the_reports():
    strategy = _report("strategy", year=2031, team=["Aino"], facts={"initiatives": ["Launch"]})
    calendar = _report(
        "calendar", year=2032, team=["Aino"], facts={"initiatives_used": ["Launch", "Other"], "owners_used": ["Mikko"]}
    )
    calendar.fact_cells = {"initiatives_used": {"Other": ("Posts", "C7")}, "owners_used": {"Mikko": ("Posts", "D7")}}
    # The owner was reported by the file's own checks already: not again.
    calendar.findings.append(finding("owner-not-on-team", "owner 'Mikko' is not on the team", "Posts", "D7"))
    found = list(check_set([strategy, calendar]))
    assert [(report.blueprint_id, f.code, f.cell) for report, f in found] == [
        ("calendar", "set-mismatch", None),
        ("calendar", "initiative-unknown", "C7"),
    ]
    assert "2032 here but 2031 in strategy.xlsx" in found[0][1].message
    assert strategy.findings == [] and len(calendar.findings) == 1


def test_a_team_member_added_on_one_workbooks_lists_sheet_is_on_the_clients_team():
    strategy = _report("strategy", team=["Aino"], facts={"team_added": ["Mikko"]})
    calendar = _report("calendar", team=["Aino"], facts={"owners_used": ["Mikko", "Zed"]})
    calendar.fact_cells = {"owners_used": {"Mikko": ("Posts", "D7"), "Zed": ("Posts", "D8")}}
    found = list(check_set([strategy, calendar]))
    assert [(f.code, f.cell) for _, f in found] == [("owner-not-on-team", "D8")]


def test_tables_of_totals_are_reached_through_totals():
    table = pd.DataFrame([{"planned": 1.0, "actual": None}], index=pd.Index(["Jan 2031"], name="month"))
    assert totals.is_table(table) and not totals.is_table(3.0)
    assert totals.table_records(table) == [{"month": "Jan 2031", "planned": 1.0, "actual": None}]
    assert totals.table_rows(table) == ("month", ["planned", "actual"], [("Jan 2031", [1.0, None])])


def test_the_report_modules_do_not_load_pandas():
    code = "import sys, smm_sheets.analyser.report, smm_sheets.analyser.report_text; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "False"
