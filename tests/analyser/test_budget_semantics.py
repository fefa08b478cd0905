"""The budget as a bookkeeper reads it: a blank actual is not reported, a negative carry-over is
a deficit; the sheet's formulas (recalculated by LibreOffice) and the analyser's totals agree.
A workbook made with the previous version of the budget blueprint is read against that version."""

from __future__ import annotations

import math

import openpyxl
import pytest

from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.analyser.recognise import PREVIOUS_DIR
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from smm_sheets.generator import xlsx
from smm_sheets.plan import build
from smm_sheets.sheetref import a1
from tests.libreoffice import edit_many, soffice_uno  # noqa: F401 - the fixture

PARAMS = {"company": "Acme", "year": 2027, "channels": "instagram,facebook", "sample": True}
LINE_IG = {"line": "advertising_instagram", "category": "advertising"}
ASSETS = [{"line": line, "category": "assets"} for line in ("domain", "website", "hosting")]
MARCH, APRIL = 2, 3


def position(plan, name: str, **coords) -> tuple[str, str]:
    item = plan.items[name]
    row, col = next((r, c) for found, r, c in item.cells if found == coords)
    return plan.sheets[item.sheet].name, a1(row, col)


def ref(plan, name: str, **coords) -> str:
    return "!".join(position(plan, name, **coords))


def lo_value(book, plan, name: str, **coords):
    sheet, cell = position(plan, name, **coords)
    value = book[sheet][cell].value
    return None if value in (None, "") else value


@pytest.fixture(scope="module")
def plan():
    return build(loader.load("budget"), make_parameters(**PARAMS))


SPARE = {"line": "services_spare_1", "category": "services"}
SPARE_AD = {"line": "advertising_spare_1", "category": "advertising"}


def spare_actions(plan) -> list[dict]:
    """What the note on the sheet says to do, on the protected sheet: a name in a spare line,
    then its amounts (an influencer, 200 a month for four months, 150 spent in January), and an
    advertising spare line with amounts but no name."""
    label = position(plan, "line_label", **SPARE)
    return [
        {"type": "!".join(label), "text": "Influencer fees"},
        *({"set": ref(plan, "planned", **SPARE, month=m), "value": 200} for m in range(4)),
        {"set": ref(plan, "actual", **SPARE, month=0), "value": 150},
        {"set": ref(plan, "planned", **SPARE_AD, month=0), "value": 75},
    ]


@pytest.fixture(scope="module")
def edited(plan, tmp_path_factory):
    """The sample budget, edited in LibreOffice. ``semantics``: the digital assets' March actuals
    deleted (not reported), Instagram's March actual raised into a deficit. ``spare``: spare lines used."""
    folder = tmp_path_factory.mktemp("semantics")
    source = xlsx.write(plan, folder / "budget.xlsx")
    first, last = (ref(plan, "actual", **line, month=MARCH) for line in (ASSETS[0], ASSETS[-1]))
    actions = [
        {"set": first + ":" + last.split("!")[1], "clear": True},
        {"set": ref(plan, "actual", **LINE_IG, month=MARCH), "value": 900},
    ]
    jobs = {"semantics": actions, "spare": spare_actions(plan)}
    paths = edit_many([{"src": source, "out": folder / f"{name}.xlsx", "actions": job} for name, job in jobs.items()])
    return dict(zip(jobs, paths))


@pytest.mark.slow
def test_libreoffice_and_the_analyser_agree_on_spent_variance_and_deficit(plan, edited):
    book = openpyxl.load_workbook(edited["semantics"], data_only=True)
    report = analyse_file(edited["semantics"])
    totals = report.totals
    # Months with no actual at all: no spend and no variance, in the sheet and in the report.
    for month in range(APRIL + 1, 12):
        assert lo_value(book, plan, "total_actual", month=month) is None
        assert lo_value(book, plan, "total_variance", month=month) is None
    by_month = totals["by_month"]
    assert by_month["actual"].iloc[APRIL + 1 :].isna().all() and by_month["variance"].iloc[APRIL + 1 :].isna().all()
    # The category not reported in March counts neither in spent nor in the plan compared with it.
    assets_plan = sum(plan.sheets[0].cells[_rc(plan, "planned", **line, month=MARCH)].value for line in ASSETS)
    total_plan = lo_value(book, plan, "total_planned", month=MARCH)
    assert assets_plan > 0
    assert math.isclose(lo_value(book, plan, "total_planned_to_date", month=MARCH), total_plan - assets_plan)
    assert lo_value(book, plan, "category_variance", category="assets", month=MARCH) is None
    for month in range(12):
        for name, column in (("total_actual", "actual"), ("total_variance", "variance")):
            lo = lo_value(book, plan, name, month=month)
            ours = by_month[column].iloc[month]
            assert (lo is None and (ours is None or math.isnan(ours))) or math.isclose(lo, ours), (name, month)
        carried = lo_value(book, plan, "carried", month=month) or 0
        assert math.isclose(by_month["surplus"].iloc[month], max(carried, 0))
        assert math.isclose(by_month["deficit"].iloc[month], max(-carried, 0))
    # Year figures: the report's equal the sheet's year column.
    for name, key in (
        ("total_planned", "planned"),
        ("total_planned_to_date", "planned_to_date"),
        ("total_actual", "actual"),
        ("total_variance", "variance"),
    ):
        sheet, row, _ = _rc3(plan, name, month=0)
        assert math.isclose(book[sheet].cell(row + 1, 16).value, totals[key]), name
    # March overspends Instagram's carry-over: a deficit, shown under a label that says so.
    surplus = lo_value(book, plan, "surplus", **LINE_IG, month=MARCH)
    assert surplus < 0
    sheet, row, _ = _rc3(plan, "surplus", **LINE_IG, month=MARCH)
    assert "deficit" in book[sheet].cell(row + 1, 3).value
    assert by_month["deficit"].iloc[MARCH] > 0
    # No false finding about the cleared cell or the totals.
    assert not [f for f in report.findings if f.code in ("stale-value", "formula-changed", "formula-overwritten")]


@pytest.mark.slow
def test_a_spare_line_filled_in_is_a_line_of_the_plan(plan, edited):
    book = openpyxl.load_workbook(edited["spare"], data_only=True)
    report = analyse_file(edited["spare"])
    by_line = report.totals["by_line"]
    assert by_line.loc["Influencer fees", "planned"] == 800 and by_line.loc["Influencer fees", "actual"] == 150
    assert by_line.loc["unnamed line 1 of Advertising", "planned"] == 75
    # Unused spare lines are no rows of the report.
    assert not [label for label in by_line.index if label.startswith("unnamed") and "Advertising" not in label]
    assert len(by_line) == 14 + 2
    # The name typed once shows in the line's other rows (LibreOffice's own copy formulas).
    sheet, row, _ = _rc3(plan, "actual", **SPARE, month=0)
    assert book[sheet].cell(row + 1, 2).value == "Influencer fees"
    # The sheet's totals (LibreOffice's) took the new line in, and the report's equal them.
    for name, key in (("total_planned", "planned"), ("total_actual", "actual"), ("total_variance", "variance")):
        sheet, row, _ = _rc3(plan, name, month=0)
        assert math.isclose(book[sheet].cell(row + 1, 16).value, report.totals[key]), name
    sample = analyse_file(edited["spare"].parent / "budget.xlsx").totals
    assert math.isclose(report.totals["planned"], sample["planned"] + 800 + 75)
    services = report.totals["by_category"].loc["Hired services"]
    assert math.isclose(services["planned"], sample["by_category"].loc["Hired services", "planned"] + 800)
    # A used spare line is no finding (nor is the advertising one's carry-over).
    assert [f.code for f in report.findings if f.code != "overspend"] == []


def _rc(plan, name, **coords):
    return next((r, c) for found, r, c in plan.items[name].cells if found == coords)


def _rc3(plan, name, **coords):
    item = plan.items[name]
    row, col = _rc(plan, name, **coords)
    return plan.sheets[item.sheet].name, row, col


def test_a_workbook_of_the_previous_budget_version_is_read_against_it(tmp_path):
    previous = loader.load(PREVIOUS_DIR / "budget-1.0.yaml")
    assert previous.version == "1.0" and loader.load("budget").version != "1.0"
    path = xlsx.write(build(previous, make_parameters(**PARAMS)), tmp_path / "budget.xlsx")
    report = analyse_file(path)
    assert report.blueprint_version == "1.0"
    assert [f.code for f in report.findings if f.severity == "error"] == []
    assert not [f for f in report.findings if f.code in ("blueprint-version", "formula-changed", "total-misses-rows")]
    # Its own figures: version 1.0 counted the whole year's plan in its variance.
    assert math.isclose(report.totals["variance"], report.totals["planned"] - report.totals["actual"])
