"""The written .xlsx: cached values, protection, validation, names, metadata, user text as text."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

from smm_sheets import __version__
from smm_sheets.generator import xlsx
from smm_sheets.plan import META_SHEET, build
from tests.conftest import params


@pytest.fixture(scope="module")
def sample_file(budget, tmp_path_factory):
    path = tmp_path_factory.mktemp("wb") / "budget.xlsx"
    plan = build(budget, params(sample=True, channels="instagram,facebook,tiktok"))
    xlsx.write(plan, path)
    return plan, path


def test_cached_values_are_the_computed_ones(sample_file):
    plan, path = sample_file
    book = openpyxl.load_workbook(path, data_only=True)
    checked = 0
    for sheet in plan.sheets:
        ws = book[sheet.name]
        for (row, col), cell in sheet.cells.items():
            if cell.kind == "formula":
                got = ws.cell(row + 1, col + 1).value
                assert got == (cell.value if cell.value != "" else None) or got == pytest.approx(cell.value), (
                    sheet.name,
                    row,
                    col,
                )
                checked += 1
    assert checked > 300
    # Not zeros: the year's planned total is real money, the sum of every planned amount.
    _, row, col = plan.items["year_planned.total"].cells[0]
    planned = [plan.sheets[0].cells[(r, c)].value for _, r, c in plan.items["planned"].cells]
    total = sum(v or 0 for v in planned)
    assert total > 10000 and book["Summary"].cell(row + 1, col + 1).value == pytest.approx(total)


def test_formula_cells_are_protected_and_inputs_are_not(sample_file):
    plan, path = sample_file
    book = openpyxl.load_workbook(path)
    for name in ("Budget", "Summary"):
        ws = book[name]
        assert ws.protection.sheet and not ws.protection.password
    ws = book["Budget"]
    _, row, col = plan.items["planned"].cells[0]
    assert ws.cell(row + 1, col + 1).protection.locked is False
    _, row, col = plan.items["surplus"].cells[0]
    assert ws.cell(row + 1, col + 1).protection.locked is True
    assert ws.freeze_panes == "D5"
    # A fixed scale at which 10 pt text prints at 6.1 pt or more, not "fit to page" at any size.
    assert ws.page_setup.orientation == "landscape" and 61 <= int(ws.page_setup.scale) <= 100
    assert ws.print_title_rows == "$4:$4"
    assert "&P / &N" in ws.oddFooter.right.text and ws.oddFooter.center.text == plan.params.company


def test_inputs_are_validated_as_non_negative_money(sample_file):
    plan, path = sample_file
    ws = openpyxl.load_workbook(path)["Budget"]
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    planned = plan.names["smm_planned"].split("!")[1].replace("$", "")
    rule = rules[planned]
    assert rule.type == "decimal" and rule.operator in (None, "between") and float(rule.formula1) == 0
    assert rule.showErrorMessage and "amount" in rule.error
    money = ws[planned.split(":")[0]].number_format
    assert "€" in money and "#,##0.00" in money


def test_blueprint_and_generator_are_recorded(sample_file):
    _, path = sample_file
    book = openpyxl.load_workbook(path)
    props = {p.name: p.value for p in book.custom_doc_props}
    assert props["smm_blueprint_id"] == "budget"
    assert props["smm_blueprint_version"] == "1.1"
    assert props["smm_generator_version"] == __version__
    meta = book[META_SHEET]
    assert meta.sheet_state == "hidden"
    pairs = {row[0]: row[1] for row in meta.iter_rows(min_row=2, max_row=14, values_only=True)}
    assert pairs["blueprint_id"] == "budget" and pairs["generator_version"] == __version__
    assert pairs["channels"] == "Instagram,Facebook,TikTok" and pairs["option.carry_over"] == "signed"


def test_defined_names_cover_inputs_and_formulas(sample_file):
    plan, path = sample_file
    book = openpyxl.load_workbook(path)
    names = set(book.defined_names.keys())
    assert {"smm_planned", "smm_actual", "smm_total_planned", "smm_year_planned_total"} <= names
    assert {f"smm_available_advertising_{c}" for c in ("instagram", "facebook", "tiktok")} <= names
    destinations = list(book.defined_names["smm_planned"].destinations)
    # 15 lines (4 + 3 channels + 5 + 3) and 7 spare ones (2 + 1 + 2 + 2), below the title and the note
    assert destinations == [("Budget", "$D$7:$O$28")]


def test_summary_has_a_chart_of_planned_vs_actual(sample_file):
    _, path = sample_file
    with zipfile.ZipFile(path) as archive:
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and chart.count("<c:ser>") == 2
    assert "Budget'!$D$4:$O$4" in chart


HOSTILE = ['=HYPERLINK("http://x","y")', "+1 Agency", "-2+3", "@SUM(1)", "=1+1"]


@pytest.mark.parametrize("company", HOSTILE)
def test_user_text_stays_text(budget, tmp_path, company):
    path = tmp_path / "budget.xlsx"
    xlsx.write(build(budget, params(company=company, team=[company, "Bo"])), path)
    with zipfile.ZipFile(path) as archive:
        sheets = [archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        # Strings are inline (constant_memory mode) or shared.
        shared = archive.read("xl/sharedStrings.xml").decode() if "xl/sharedStrings.xml" in archive.namelist() else ""
        strings = shared + "".join(re.findall(r"<is><t[^>]*>(.*?)</t></is>", "".join(sheets)))
    formulas = [f for xml in sheets for f in re.findall(r"<f>(.*?)</f>", xml)]
    assert formulas and not any("HYPERLINK" in f or "Agency" in f or f in ("1+1", "-2+3") for f in formulas)
    escaped = company.replace("&", "&amp;").replace('"', "&quot;")
    assert escaped in strings or company in strings
    book = openpyxl.load_workbook(path)
    meta = book[META_SHEET]
    company_row = next(row for row in meta.iter_rows(values_only=True) if row[0] == "company")
    assert company_row[1] == company


def test_user_text_stays_text_in_every_workbook(tmp_path):
    from smm_sheets.generator.pipeline import generate_all

    hostile = params(
        company='=HYPERLINK("http://x","y")', team=["=1+1", "+Bo", "@me"], channels="instagram,Mastodon", sample=True
    )
    paths = generate_all(hostile, tmp_path)
    assert len(paths) >= 2
    for path in paths:
        with zipfile.ZipFile(path) as archive:
            xml = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/sheet"))
        formulas = re.findall(r"<f>(.*?)</f>", xml)
        assert not any("HYPERLINK" in f or f in ("1+1", "+Bo", "@me") for f in formulas), path.name
        team = [row for row in openpyxl.load_workbook(path)["_smm"].iter_rows(values_only=True) if row[0] == "team"]
        assert team[0][1] == "=1+1,+Bo,@me"
