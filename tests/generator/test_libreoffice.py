"""The real-client test: LibreOffice recalculates generated workbooks and must agree with us.

Every formula cell is written with a value the generator computed. Here LibreOffice opens
each workbook with "always recalculate", computes every formula itself and saves the
result; each recalculated value must equal the generator's cached value, no cell may hold
an error, and text that looks like a formula must still be text.

Needs LibreOffice: skipped without it, failed without it when SMM_SHEETS_REQUIRE_LIBREOFFICE=1.
All the workbooks are converted in one LibreOffice start (module-scoped fixture).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import xlsxwriter
import yaml

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import with_sample_goals
from smm_sheets.plan import build
from tests.helpers import ROOT
from tests.libreoffice import error_cells, formula_cells, recalculate, recalculate_many, same_value

SAMPLE_PARAMS = yaml.safe_load((ROOT / "samples" / "nordic-knitwear.yaml").read_text(encoding="utf-8"))
HYPERLINK_COMPANY = '=HYPERLINK("http://x","y")'

# Case name -> make_parameters() arguments. Each becomes <name>.xlsx of the budget blueprint.
CASES: dict[str, dict[str, Any]] = {
    "blank": {"company": "Acme", "year": 2027, "channels": "instagram,facebook"},
    "sample": dict(SAMPLE_PARAMS, sample=True),
    "carry_signed": {
        "company": "Acme",
        "year": 2027,
        "channels": "instagram,facebook",
        "sample": True,
        "options": {"carry_over": "signed"},
    },
    "carry_positive": {
        "company": "Acme",
        "year": 2027,
        "channels": "instagram,facebook",
        "sample": True,
        "options": {"carry_over": "positive"},
    },
    "carry_none": {
        "company": "Acme",
        "year": 2027,
        "channels": "instagram,facebook",
        "sample": True,
        "options": {"carry_over": "none"},
    },
    "july_nok_4_channels": {
        "company": "Strikk AS",
        "year": 2026,
        "start_month": 7,
        "currency": "NOK",
        "channels": ["instagram", "linkedin", "Mastodon", "Kylä-lehti & Co."],
        "sample": True,
    },
    "hyperlink_company": {"company": HYPERLINK_COMPANY, "year": 2027, "channels": "instagram,facebook", "sample": True},
}
# Every other built-in workbook: blank, with the sample, and with text that looks like formulas.
BLUEPRINTS = {"budget": "budget"}
for _path in loader.builtin_blueprints():
    if _path.stem != "budget":
        for _case, _values in {
            "blank": {"company": "Acme", "year": 2027, "channels": "instagram,facebook"},
            "sample": dict(SAMPLE_PARAMS, sample=True),
            # Names that look like formulas, operators, numbers or wildcards.
            "hostile": {
                "company": HYPERLINK_COMPANY,
                "year": 2027,
                "start_month": 9,
                "channels": "tiktok,Mastodon,2024",
                "team": ["=1+1", "+Bo", "Bo*", "Bob", "A~B", "Nan", "2024"],
                "sample": True,
            },
        }.items():
            CASES[f"{_path.stem}-{_case}"] = _values
            BLUEPRINTS[f"{_path.stem}-{_case}"] = _path.stem
ERROR_TEXT = ("#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "Err:5")


def _generate(name: str, folder: Path) -> Path:
    params = make_parameters(channel_names=loader.load_channel_names(), **CASES[name])
    blueprint = loader.load(BLUEPRINTS.get(name, "budget"))
    plan = build(blueprint, with_sample_goals(params, [blueprint]))
    return xlsx.write(plan, folder / f"{name}.xlsx", force=True)


@pytest.fixture(scope="module")
def workbooks(soffice, tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """Case name -> (generated workbook, the same recalculated by LibreOffice); one soffice run."""
    generated_dir = tmp_path_factory.mktemp("generated")
    generated = {name: _generate(name, generated_dir) for name in CASES}
    recalculated = recalculate_many(generated.values(), tmp_path_factory.mktemp("recalculated"))
    return {name: (generated[name], out) for name, out in zip(generated, recalculated)}


def test_libreoffice_really_recalculates(soffice, tmp_path):
    """Guards the isolated profile: a deliberately wrong cached value must be replaced."""
    source = tmp_path / "wrong_cache.xlsx"
    workbook = xlsxwriter.Workbook(str(source))
    sheet = workbook.add_worksheet("S")
    sheet.write_formula("A1", "=1+1", None, 5)
    sheet.write_formula("A2", '="a"&"b"', None, "wrong")
    workbook.close()
    assert formula_cells(source) == {("S", "A1"): 5, ("S", "A2"): "wrong"}

    result = recalculate(source, tmp_path / "out")

    assert result == (tmp_path / "out" / "wrong_cache.xlsx").resolve()
    assert formula_cells(result) == {("S", "A1"): 2, ("S", "A2"): "ab"}


@pytest.mark.parametrize("name", CASES)
def test_libreoffice_keeps_every_formula(workbooks, name):
    generated, recalculated = workbooks[name]
    before, after = formula_cells(generated), formula_cells(recalculated)
    assert before, "the workbook has no formulas at all"
    assert sorted(set(before) - set(after)) == [], "formulas LibreOffice lost"
    assert sorted(set(after) - set(before)) == [], "formulas LibreOffice added"


@pytest.mark.parametrize("name", CASES)
def test_libreoffice_agrees_with_every_cached_value(workbooks, name):
    generated, recalculated = workbooks[name]
    cached, computed = formula_cells(generated), formula_cells(recalculated)
    text = openpyxl.load_workbook(generated)
    wrong = [
        f"{sheet}!{cell} {text[sheet][cell].value}: cached {cached[sheet, cell]!r}, LibreOffice {computed[sheet, cell]!r}"
        for sheet, cell in sorted(cached)
        if (sheet, cell) in computed and not same_value(cached[sheet, cell], computed[sheet, cell])
    ]
    assert wrong == [], f"{len(wrong)} of {len(cached)} formula cells differ:\n" + "\n".join(wrong[:40])


@pytest.mark.parametrize("name", CASES)
def test_no_error_values(workbooks, name):
    generated, recalculated = workbooks[name]
    assert error_cells(generated) == {}, "the generator cached an error value"
    assert error_cells(recalculated) == {}, "LibreOffice computed an error value"
    # Belt and braces: no text anywhere that reads like an error either.
    book = openpyxl.load_workbook(recalculated, data_only=True)
    shown = [
        f"{ws.title}!{cell.coordinate}={cell.value!r}"
        for ws in book.worksheets
        for row in ws.iter_rows()
        for cell in row
        if isinstance(cell.value, str) and cell.value.strip().startswith(ERROR_TEXT)
    ]
    assert shown == []


def test_formula_like_company_stays_text(workbooks):
    _, recalculated = workbooks["hyperlink_company"]
    book = openpyxl.load_workbook(recalculated)
    meta = book["_smm"]
    company = next(row[1] for row in meta.iter_rows(min_col=1, max_col=2) if row[0].value == "company")
    assert company.data_type == "s"
    assert company.value == HYPERLINK_COMPANY
    for title in ("Budget", "Summary"):
        subtitle = book[title]["A2"]
        assert subtitle.data_type == "s"
        assert subtitle.value.startswith(HYPERLINK_COMPANY + " · ")
    formulas = [c.value for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"]
    assert not any("HYPERLINK" in str(f).upper() for f in formulas)
    assert book.properties.title == "Social media budget"


def _cells(book, name: str) -> list:
    """The cells of a one-row defined name, left to right."""
    ((sheet, reference),) = list(book.defined_names[name].destinations)
    cells = book[sheet][reference.replace("$", "")]
    (row,) = cells if isinstance(cells[0], tuple) else (cells,)
    return list(row)


@pytest.mark.parametrize(
    ("name", "rule"),
    [("sample", "signed"), ("carry_signed", "signed"), ("carry_positive", "positive"), ("carry_none", "none")],
)
def test_february_available_is_planned_plus_january_surplus(workbooks, name, rule):
    """Read back from LibreOffice's file: the carry-over really carries (or, with "none", does not)."""
    _, recalculated = workbooks[name]
    book = openpyxl.load_workbook(recalculated, data_only=True)
    available = _cells(book, "smm_available_advertising_instagram")
    surplus = _cells(book, "smm_surplus_advertising_instagram")
    ((planned_sheet, planned_ref),) = list(book.defined_names["smm_planned"].destinations)
    sheet = book[planned_sheet]
    assert available[0].parent.title == planned_sheet
    # The planned row of the same line: same category and line labels (columns A and B).
    line = (sheet.cell(available[0].row, 1).value, sheet.cell(available[0].row, 2).value)
    assert line == ("Advertising", "Instagram")
    planned_rows = [
        row
        for row in sheet[planned_ref.replace("$", "")]
        if (sheet.cell(row[0].row, 1).value, sheet.cell(row[0].row, 2).value) == line
    ]
    assert len(planned_rows) == 1, f"no single planned row for {line}"
    planned = list(planned_rows[0])
    assert [c.column for c in planned] == [c.column for c in available] == [c.column for c in surplus]
    feb = 1
    assert sheet.cell(4, available[feb].column).value.month == 2  # the month header is a date
    planned_feb, surplus_jan, available_feb = planned[feb].value, surplus[feb - 1].value, available[feb].value
    assert surplus_jan == 60  # the sample's January: 300 planned, 240 spent
    expected = planned_feb if rule == "none" else planned_feb + surplus_jan
    assert math.isclose(available_feb, expected, rel_tol=1e-9, abs_tol=1e-9), (planned_feb, surplus_jan, available_feb)
