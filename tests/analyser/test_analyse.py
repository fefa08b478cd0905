"""The analyser on generated workbooks, edited in memory or with openpyxl (no LibreOffice here:
tests/test_analyse_libreoffice.py has the files LibreOffice filled in)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from smm_sheets import formula as fx
from smm_sheets.analyser import pipeline as A
from smm_sheets.analyser import reader
from smm_sheets.analyser.cellmap import parse_range
from smm_sheets.analyser.checks import canonical, parse_date, parse_number, same_value
from smm_sheets.analyser.findings import CODES
from smm_sheets.analyser.report import SCHEMA_VERSION
from smm_sheets.blueprint import loader
from smm_sheets.cli import main
from smm_sheets.generator.pipeline import generate, generate_all
from smm_sheets.plan import GRID_LABEL_COLUMNS, META_SHEET, WorkbookPlan, build
from smm_sheets.sheetref import a1, column_letter
from tests.conftest import params
from tests.helpers import ROOT

YEAR = 2031


@pytest.fixture(scope="module")
def sample_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("set")
    generate_all(params(sample=True, year=YEAR), folder)
    return folder


@pytest.fixture(scope="module")
def blank_set(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("blank")
    generate_all(params(year=YEAR), folder)
    return folder


def _plan(blueprint_id: str, **overrides) -> WorkbookPlan:
    return build(loader.load(blueprint_id), params(year=YEAR, **overrides), values=False)


def _cell(plan: WorkbookPlan, item: str, index: int = 0) -> tuple[str, int, int]:
    """Sheet name, row and column of an item's ``index``-th cell in the plan."""
    placement = plan.items[item]
    _, row, col = placement.cells[index]
    return plan.sheets[placement.sheet].name, row, col


def _codes(report) -> dict[tuple[str, str | None], str]:
    return {(f.code, f.cell): f.message for f in report.findings}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --------------------------------------------------------------------------- pieces


@pytest.mark.parametrize(
    "text, expected",
    [
        ("1 200,50", 1200.5),
        ("1\u00a0200,50", 1200.5),
        ("1,200.50", 1200.5),
        ("1.200,50", 1200.5),
        ("12,5", 12.5),
        ("1,234", 1234.0),
        ("€ 99", 99.0),
        ("99 EUR", 99.0),
        ("12 %", 0.12),
        ("-3", -3.0),
        ("abc", None),
        ("", None),
        ("1-2", None),
    ],
)
def test_numbers_typed_as_text_are_understood(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2031-03-12", dt.date(2031, 3, 12)),
        ("12.03.2031", dt.date(2031, 3, 12)),
        ("12/03/2031", dt.date(2031, 3, 12)),
        ("3/25/2031", dt.date(2031, 3, 25)),
        ("tomorrow", None),
    ],
)
def test_dates_typed_as_text_are_read_day_first(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "ours, theirs",
    [
        ('IF(F6="","",LEN(F6))', 'if( F6 = "" , "", len(F6) )'),
        ("SUM('Budget'!D6:D9)", "SUM(Budget!D6:D9)"),
        ('IFERROR(A1/B1,"")', '_xlfn.IFERROR(A1/B1,"")'),
        ("SUM(D6:D9)", 'IFERROR(__xludf.DUMMYFUNCTION("SUM(D6:D9)"),120)'),
        ('COUNTIF(A:A,"x y")', 'COUNTIF(A:A,"x y")'),
    ],
)
def test_formula_text_is_compared_without_case_spacing_quotes_or_export_wrappers(ours, theirs):
    assert canonical("=" + ours) == canonical(theirs)


def test_string_literals_keep_their_case_and_spaces():
    assert canonical('IF(A1="Done","",1)') != canonical('IF(A1="done","",1)')
    assert canonical('IF(A1="a b","",1)') != canonical('IF(A1="ab","",1)')


def test_ranges_parse_in_both_notations():
    assert parse_range("'Budget'!$D$6:$O$6") == ("Budget", (5, 3, 5, 14))
    assert parse_range("$'My ''x'''.$A$1:.$B$3") == ("My 'x'", (0, 0, 2, 1))
    assert parse_range("#REF!") is None


def test_every_code_has_a_severity_and_a_title():
    for code, (severity, title) in CODES.items():
        assert severity in ("error", "warning", "info") and title, code


# --------------------------------------------------------------------------- generated workbooks


def test_blank_workbooks_have_no_findings_but_the_strategys_open_questions(blank_set):
    report = A.analyse(blank_set)
    assert not report.failures and len(report.reports) == 5
    for file_report in report.reports:
        codes = {f.code for f in file_report.findings}
        if file_report.blueprint_id == "strategy":
            assert codes == {"missing-value"}
        else:
            assert codes == set(), (file_report.file, file_report.findings[:3])


def test_sample_totals_are_the_figures_the_workbook_shows(sample_set):
    budget = A.analyse_file(sample_set / "budget.xlsx")
    data = reader.read(sample_set / "budget.xlsx")
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    sheet, row, col = _cell(plan, "total_planned", 0)
    year_col = GRID_LABEL_COLUMNS + 12
    assert budget.totals["planned"] == pytest.approx(data.sheets[sheet].value(row, year_col))
    sheet, row, _ = _cell(plan, "total_actual", 0)
    assert budget.totals["actual"] == pytest.approx(data.sheets[sheet].value(row, year_col))
    by_month = budget.totals["by_month"]
    assert isinstance(by_month, pd.DataFrame) and len(by_month) == 12
    assert by_month["planned"].sum() == pytest.approx(budget.totals["planned"])
    assert budget.totals["by_category"]["actual"].sum() == pytest.approx(budget.totals["actual"])
    assert budget.totals["by_line"]["planned"].sum() == pytest.approx(budget.totals["planned"])
    calendar = A.analyse_file(sample_set / "calendar.xlsx")
    assert calendar.totals["posts_planned"] > calendar.totals["posts_published"] > 0
    assert calendar.totals["by_channel"]["posts"].sum() == pytest.approx(calendar.totals["posts_planned"])


def test_the_metadata_gives_blueprint_and_parameters(sample_set):
    report = A.analyse_file(sample_set / "roadmap.xlsx")
    assert (report.blueprint_id, report.recognised_by) == ("roadmap", "metadata")
    assert report.parameters["year"] == YEAR
    assert [name for _, name in report.parameters["channels"]] == ["Instagram", "Facebook"]


# --------------------------------------------------------------------------- edits, in memory


def _edited(path: Path, edit) -> reader.WorkbookData:
    data = reader.read(path)
    edit(data)
    return data


def _set(data: reader.WorkbookData, sheet: str, row: int, col: int, value, formula: str | None = "keep") -> None:
    rows = data.sheets[sheet].rows
    while len(rows) <= row:
        rows.append([])
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value
    if formula != "keep":
        formulas = data.sheets[sheet].formulas
        if formula is None:
            formulas.pop((row, col), None)
        else:
            formulas[(row, col)] = formula


def test_input_mistakes_are_findings_at_their_cells(sample_set):
    plan = _plan("budget", sample=True)
    text_cell = _cell(plan, "actual", 40)
    date_cell = _cell(plan, "approved_on")
    negative = _cell(plan, "planned", 3)

    def edit(data):
        _set(data, *text_cell, "1 200,50")
        _set(data, *date_cell, "12/03/2031")
        _set(data, *negative, -5.0)

    report = A.analyse_data(_edited(sample_set / "budget.xlsx", edit))
    codes = _codes(report)
    message = codes[("type-error", a1(*text_cell[1:]))]
    assert "1,200.5" in message and "text" in message
    assert "2031-03-12" in codes[("type-error", a1(*date_cell[1:]))]
    facts = {f.cell: f.facts for f in report.findings}
    assert facts[a1(*text_cell[1:])]["expected"] == 1200.5 and facts[a1(*text_cell[1:])]["found"] == "1 200,50"
    assert not report.valid


def test_lists_owners_channels_and_statuses(sample_set):
    plan = _plan("calendar", sample=True)
    channel = _cell(plan, "post_channel", 0)
    status = _cell(plan, "post_status", 1)
    owner = _cell(plan, "owner", 2)
    fmt = _cell(plan, "post_format", 3)

    def edit(data):
        _set(data, *channel, "Myspace")
        _set(data, *status, "Thinking about it")
        _set(data, *owner, "Somebody Else")
        _set(data, *fmt, "carousel")  # case does not matter: Carousel is in the list

    report = A.analyse_data(_edited(sample_set / "calendar.xlsx", edit))
    codes = _codes(report)
    assert ("channel-not-in-plan", a1(*channel[1:])) in codes
    assert ("status-not-in-workflow", a1(*status[1:])) in codes
    assert ("owner-not-on-team", a1(*owner[1:])) in codes
    assert not any(cell == a1(*fmt[1:]) for _, cell in codes)


def test_required_cells_count_only_in_rows_people_used(blank_set):
    plan = _plan("roadmap")
    start = _cell(plan, "start", 2)

    def edit(data):
        _set(data, *start, dt.date(YEAR, 2, 1))

    report = A.analyse_data(_edited(blank_set / "roadmap.xlsx", edit))
    missing = {cell for code, cell in _codes(report) if code == "missing-value"}
    row = start[1] + 1
    assert missing and all(cell.endswith(str(row)) for cell in missing)  # that row only
    assert a1(*_cell(plan, "initiative", 2)[1:]) in missing


def test_dates_outside_the_plan_and_end_before_start(blank_set):
    plan = _plan("roadmap")
    cells = {name: _cell(plan, name, 0) for name in ("initiative", "goal", "owner", "start", "end", "status")}

    def edit(data):
        _set(data, *cells["initiative"], "Launch")
        _set(data, *cells["owner"], "Owner")
        _set(data, *cells["start"], dt.date(YEAR, 5, 1))
        _set(data, *cells["end"], dt.date(YEAR - 1, 4, 1))
        _set(data, *cells["status"], "Done")

    report = A.analyse_data(_edited(blank_set / "roadmap.xlsx", edit))
    codes = _codes(report)
    end = a1(*cells["end"][1:])
    assert ("end-before-start", end) in codes and ("date-out-of-period", end) in codes
    assert f"{YEAR - 1}-04-01" in codes[("end-before-start", end)]


def test_formulas_overwritten_changed_or_wrapped(sample_set):
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    surplus = _cell(plan, "surplus", 1)
    total = _cell(plan, "total_planned", 0)
    variance = _cell(plan, "total_variance", 0)
    sheet = plan.sheets[plan.items["total_variance"].sheet]
    variance_text = sheet.cells[variance[1:]].formula

    def edit(data):
        _set(data, *surplus, 50.0, formula=None)
        _set(data, *total, 1.0, formula="SUM(D6:D7)")
        _set(
            data,
            *variance,
            data.sheets[variance[0]].value(*variance[1:]),
            formula='IFERROR(__xludf.DUMMYFUNCTION("{}"),0)'.format(variance_text.replace('"', '""')),
        )

    report = A.analyse_data(_edited(sample_set / "budget.xlsx", edit))
    codes = _codes(report)
    assert ("formula-overwritten", a1(*surplus[1:])) in codes
    assert ("carry-over-broken", a1(*surplus[1:])) in codes
    assert ("formula-changed", a1(*total[1:])) in codes
    # Google Sheets' export wrapper around the blueprint's formula is that formula.
    assert not any(code.startswith("formula") and cell == a1(*variance[1:]) for code, cell in codes)


def test_a_constant_that_replaced_a_formula_feeds_the_totals(sample_set):
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    category = _cell(plan, "category_planned", 0)  # software, first month

    def edit(data):
        _set(data, *category, 1000.0, formula=None)

    before = A.analyse_file(sample_set / "budget.xlsx")
    after = A.analyse_data(_edited(sample_set / "budget.xlsx", edit))
    assert ("formula-overwritten", a1(*category[1:])) in _codes(after)
    # The inputs' totals do not change; the year's planned total of the category does not
    # use the overwritten cell (it sums the lines), so planned stays, by_category stays.
    assert after.totals["planned"] == before.totals["planned"]


def test_a_stale_saved_value_is_found(sample_set):
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    total = _cell(plan, "total_actual", 0)

    def edit(data):
        _set(data, *total, 123456.0)

    codes = _codes(A.analyse_data(_edited(sample_set / "budget.xlsx", edit)))
    assert ("stale-value", a1(*total[1:])) in codes


def test_a_saved_error_value_is_compared_and_quoted_plainly(sample_set):
    # The reader gives error cells as the evaluator's ExcelError; messages quote them by their code.
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    total = _cell(plan, "total_actual", 0)
    category = _cell(plan, "category_planned", 0)

    def edit(data):
        _set(data, *total, fx.DIV0)
        _set(data, *category, fx.NA, formula=None)

    codes = _codes(A.analyse_data(_edited(sample_set / "budget.xlsx", edit)))
    assert "the saved value is #DIV/0!, but the inputs give " in codes[("stale-value", a1(*total[1:]))]
    assert "was replaced by #N/A." in codes[("formula-overwritten", a1(*category[1:]))]
    assert "CellError" not in str(codes)
    assert same_value(fx.ExcelError("#N/A"), fx.NA) and not same_value(fx.NA, fx.DIV0)
    assert not same_value("#N/A", fx.NA) and not same_value(fx.NA, "#N/A")  # text is not an error


def test_without_saved_values_figures_are_recomputed(sample_set, tmp_path):
    # openpyxl keeps formulas but writes no cached values, like many tools.
    source = tmp_path / "budget.xlsx"
    book = openpyxl.load_workbook(sample_set / "budget.xlsx")
    book.save(source)
    report = A.analyse_file(source)
    expected = A.analyse_file(sample_set / "budget.xlsx")
    assert "no-cached-values" in {f.code for f in report.findings}
    assert "stale-value" not in {f.code for f in report.findings}
    assert report.totals["planned"] == expected.totals["planned"]
    assert report.totals["actual"] == expected.totals["actual"]


def test_a_workbook_without_its_metadata_is_recognised_by_its_sheets(sample_set, tmp_path):
    source = tmp_path / "calendar.xlsx"
    book = openpyxl.load_workbook(sample_set / "calendar.xlsx")
    del book[META_SHEET]
    book.save(source)
    report = A.analyse_file(source)
    assert (report.blueprint_id, report.recognised_by) == ("calendar", "structure")
    assert "structure-only" in {f.code for f in report.findings}
    assert [name for _, name in report.parameters["channels"]] == ["Instagram", "Facebook"]
    assert report.parameters["year"] == YEAR
    assert report.totals["posts_planned"] == A.analyse_file(sample_set / "calendar.xlsx").totals["posts_planned"]


def test_a_spreadsheet_that_is_not_ours_is_one_line(tmp_path):
    path = tmp_path / "other.xlsx"
    book = openpyxl.Workbook()
    book.active["A1"] = "hello"
    book.save(path)
    report = A.analyse(path)
    assert not report.reports and report.exit_code() == 2
    message = report.failures[0].message
    assert "not a workbook made by smm-sheets" in message and "budget (" in message and "\n" not in message


def test_damaged_metadata_is_one_line(sample_set, tmp_path):
    path = tmp_path / "kpi-report.xlsx"
    book = openpyxl.load_workbook(sample_set / "kpi-report.xlsx")
    sheet = book[META_SHEET]
    for row in sheet.iter_rows():
        if row[0].value == "parameters":
            row[1].value = '{"company": '
    book.save(path)
    report = A.analyse(path)
    assert "damaged _smm sheet" in report.failures[0].message


def test_macros_and_links_to_other_workbooks_are_reported(sample_set, tmp_path):
    path = tmp_path / "budget.xlsx"
    with (
        zipfile.ZipFile(sample_set / "budget.xlsx") as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            target.writestr(item, source.read(item.filename))
        target.writestr("xl/vbaProject.bin", b"\0" * 64)
        target.writestr(
            "xl/externalLinks/_rels/externalLink1.xml.rels",
            (
                '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
                '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/externalLinkPath" '
                'Target="file:///C:/secret/prices.xlsx" TargetMode="External"/></Relationships>'
            ),
        )
    codes = {f.code: f.message for f in A.analyse_file(path).findings}
    assert "macros" in codes and "prices.xlsx" in codes["external-links"]


def test_a_clients_set_must_agree(tmp_path):
    folder = tmp_path / "client"
    folder.mkdir()
    generate_all(params(sample=True, year=YEAR), folder)
    report = A.analyse(folder)
    assert not any(f.code == "set-mismatch" for r in report.reports for f in r.findings)
    generate(loader.load("calendar"), params(sample=True, year=YEAR, channels="instagram,tiktok"), folder, force=True)
    report = A.analyse(folder)
    mismatches = [f for r in report.reports for f in r.findings if f.code == "set-mismatch"]
    assert mismatches and all("channels" in f.message for f in mismatches)


def test_inputs_are_never_modified(sample_set):
    before = {path: _digest(path) for path in sample_set.iterdir()}
    A.analyse(sample_set)
    assert {path: _digest(path) for path in sample_set.iterdir()} == before


# --------------------------------------------------------------------------- the command


def test_exit_codes_and_strict(sample_set, blank_set, tmp_path):
    runner = CliRunner()
    clean = runner.invoke(main, ["analyse", str(blank_set / "budget.xlsx")])
    assert clean.exit_code == 0, clean.output
    assert clean.output.splitlines()[-1] == "1 file, 0 errors, 0 warnings"
    warned = runner.invoke(main, ["analyse", str(sample_set / "budget.xlsx")])  # overspend warnings
    assert warned.exit_code == 0 and "overspend" in warned.output
    assert runner.invoke(main, ["analyse", "--strict", str(sample_set / "budget.xlsx")]).exit_code == 1
    assert runner.invoke(main, ["analyse", str(blank_set / "strategy.xlsx")]).exit_code == 1
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really")
    result = runner.invoke(main, ["analyse", str(broken), str(blank_set / "budget.xlsx")])
    assert result.exit_code == 2 and "cannot be analysed" in result.output
    assert runner.invoke(main, ["analyse", str(tmp_path / "missing.xlsx")]).exit_code == 2
    assert runner.invoke(main, ["analyse", "--format", "yaml", str(blank_set)]).exit_code == 2


def test_json_follows_the_schema(sample_set, tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(main, ["analyse", str(sample_set), "--format", "json", "--output", str(out)])
    assert result.exit_code == 0, result.output  # the sample set has warnings, no error
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["schema_version"] == SCHEMA_VERSION
    schema = json.loads((ROOT / "docs" / "report.schema.json").read_text(encoding="utf-8"))
    _conforms(document, schema, schema)
    budget = next(r for r in document["reports"] if r["blueprint"]["id"] == "budget")
    assert {"planned", "actual", "remaining", "by_month", "by_line", "by_category"} <= set(budget["totals"])
    assert len(budget["totals"]["by_month"]) == 12 and set(budget["totals"]["by_month"][0]) >= {
        "month",
        "planned",
        "actual",
    }
    for report in document["reports"]:
        for item in report["findings"]:
            assert set(item) == {"code", "severity", "sheet", "cell", "message", "facts"}


def _conforms(value, schema, root) -> None:
    """Enough of JSON Schema for our schema file: type, required, properties, items, enum, $ref."""
    if "$ref" in schema:
        schema = root["$defs"][schema["$ref"].rsplit("/", 1)[1]]
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        python = {
            "object": dict,
            "array": list,
            "string": str,
            "integer": int,
            "number": (int, float),
            "boolean": bool,
            "null": type(None),
        }
        assert any(
            isinstance(value, python[k]) and not (k in ("integer", "number") and isinstance(value, bool)) for k in kinds
        ), (value, kinds)
    if "enum" in schema:
        assert value in schema["enum"]
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, key
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                _conforms(value[key], sub, root)
    if isinstance(value, list) and "items" in schema:
        for item in value:
            _conforms(item, schema["items"], root)


def test_user_text_is_shown_as_text(tmp_path):
    hostile = '[bold]=HYPERLINK("x")[/bold] [/]'
    folder = tmp_path / "out"
    folder.mkdir()
    generate(loader.load("roadmap"), params(company=hostile, team=["[red]Ann[/]", "Bo*"], year=YEAR), folder)
    plan = _plan("roadmap", team=["[red]Ann[/]", "Bo*"])
    owner = _cell(plan, "owner", 0)

    def edit(data):
        _set(data, *owner, "[/]Eve")

    data = _edited(folder / "roadmap.xlsx", edit)
    report = A.Report(reports=[A.analyse_data(data)])
    from smm_sheets.analyser import report_text

    text = report_text.to_text(report)
    assert hostile in text and "“[/]Eve”" in text


def test_the_package_offers_analyse(sample_set):
    import smm_sheets
    from smm_sheets.analyser.report import Report

    report = smm_sheets.analyse(sample_set / "budget.xlsx")
    assert isinstance(report, Report) and report.reports[0].blueprint_id == "budget"
    assert report.flatten()[0] == ["file", "code", "severity", "sheet", "cell", "message"]


def test_a_workbook_made_with_another_blueprint_version_says_so(sample_set):
    def edit(data):
        data.properties["smm_blueprint_version"] = "0.9"

    codes = {f.code: f.message for f in A.analyse_data(_edited(sample_set / "kpi-report.xlsx", edit)).findings}
    assert "0.9" in codes["blueprint-version"]


# --------------------------------------------------------------------------- what the review found


def _save_edited(source: Path, target: Path, edit) -> Path:
    book = openpyxl.load_workbook(source)
    edit(book)
    book.save(target)
    return target


def test_a_deleted_line_is_reported_and_the_lines_below_stay_in_place(sample_set, tmp_path):
    plan = build(loader.load("budget"), params(sample=True, year=YEAR))
    sheet_name, row, _ = _cell(plan, "planned", 12 * 2)  # the third line's January
    path = _save_edited(
        sample_set / "budget.xlsx", tmp_path / "budget.xlsx", lambda book: book[sheet_name].delete_rows(row + 1)
    )
    # openpyxl moves no names and no formulas: move the names of the sheet as an app would
    # (those below the row up, those across it shorter).
    book = openpyxl.load_workbook(path)
    deleted = row + 1
    for name in book.defined_names.values():
        found = re.fullmatch(r"'(.+)'!\$([A-Z]+)\$(\d+)(?::\$([A-Z]+)\$(\d+))?", name.attr_text)
        if found is None or found[1] != sheet_name:
            continue
        c1, r1, c2, r2 = found[2], int(found[3]), found[4] or found[2], int(found[5] or found[3])
        r1, r2 = (r1 - 1 if r1 > deleted else r1), (r2 - 1 if r2 >= deleted else r2)
        name.attr_text = f"'{sheet_name}'!${c1}${r1}:${c2}${r2}"
    book.save(path)
    report = A.analyse_file(path)
    codes = {f.code for f in report.findings}
    assert "rows-deleted" in codes
    expected = A.analyse_file(sample_set / "budget.xlsx").totals["by_line"]
    lines = report.totals["by_line"]
    third = expected.index[2]
    assert lines.loc[third, "planned"] == 0  # gone
    for line in expected.index[3:]:  # the lines below keep their own figures
        assert lines.loc[line, "planned"] == expected.loc[line, "planned"], line


def test_a_missing_sheet_is_an_error(sample_set, tmp_path):
    def drop(book):
        del book["Summary"]

    path = _save_edited(sample_set / "budget.xlsx", tmp_path / "budget.xlsx", drop)
    report = A.analyse_file(path)
    assert ("sheet-missing", None) in _codes(report) and not report.valid


def test_posts_typed_below_the_table_are_reported(sample_set):
    plan = _plan("calendar", sample=True)
    store = plan.items["post_date"].column
    sheet = plan.sheets[plan.items["post_date"].sheet].name

    def edit(data):
        _set(data, sheet, store.last_row + 1, store.col, dt.date(YEAR, 3, 3))

    codes = _codes(A.analyse_data(_edited(sample_set / "calendar.xlsx", edit)))
    assert ("rows-below-table", a1(store.last_row + 1, store.col)) in codes


def test_hostile_values_in_totals_and_dates_do_not_break_the_report(sample_set):
    from smm_sheets.analyser import report_text

    plan = build(loader.load("roadmap"), params(sample=True, year=YEAR))
    start = _cell(plan, "start", 0)

    def edit(data):
        _set(data, *start, 1e9)

    report = A.analyse_data(_edited(sample_set / "roadmap.xlsx", edit))
    report.totals["markup"] = "[/oops] [link=http://x]y[/link]"
    text = report_text.to_text(A.Report(reports=[report]))
    assert "[/oops]" in text


@pytest.mark.parametrize("rows", ["[1]", '"abc"', '{"posts": "many"}'])
def test_damaged_row_counts_are_one_line(sample_set, tmp_path, rows):
    path = tmp_path / "calendar.xlsx"
    book = openpyxl.load_workbook(sample_set / "calendar.xlsx")
    for row in book[META_SHEET].iter_rows():
        if row[0].value == "parameters":
            values = json.loads(row[1].value)
            values["rows"] = json.loads(rows)
            row[1].value = json.dumps(values)
    book.save(path)
    report = A.analyse(path)
    assert "damaged _smm sheet" in report.failures[0].message


def test_a_huge_row_count_costs_only_the_rows_the_file_has(sample_set, tmp_path):
    path = tmp_path / "calendar.xlsx"
    book = openpyxl.load_workbook(sample_set / "calendar.xlsx")
    for row in book[META_SHEET].iter_rows():
        if row[0].value == "parameters":
            values = json.loads(row[1].value)
            values["rows"] = {"posts": 1_000_000}
            row[1].value = json.dumps(values)
    book.save(path)
    report = A.analyse_file(path)
    assert report.cells_checked < 50_000


def test_a_date_cell_holding_a_plain_number_says_which_date_it_means(blank_set):
    plan = _plan("roadmap")
    start = _cell(plan, "start", 0)
    initiative = _cell(plan, "initiative", 0)

    def edit(data):
        _set(data, *initiative, "Launch")
        _set(data, *start, 62000.0)  # 2069-09-29 as a serial number

    codes = _codes(A.analyse_data(_edited(blank_set / "roadmap.xlsx", edit)))
    assert "2069-09-29" in codes[("type-error", a1(*start[1:]))]


def test_a_column_inserted_among_the_months_is_followed_by_the_header_dates(sample_set):
    plan = _plan("budget", sample=True)
    sheet_name = plan.sheets[plan.items["planned"].sheet].name
    at = GRID_LABEL_COLUMNS + 2  # before March

    def insert_column(data):
        sheet = data.sheets[sheet_name]
        for row in sheet.rows:
            if len(row) > at:
                row.insert(at, 7777.0 if row[at - 1].__class__ is float else None)
        for book_sheet in data.sheets.values():  # values only, as from an .ods
            book_sheet.formulas = None
        for name, text in list(data.defined_names.items()):
            found = parse_range(text)
            if found is None or found[0] != sheet_name:
                continue
            r1, c1, r2, c2 = found[1]
            c1, c2 = c1 + (c1 >= at), c2 + (c2 >= at)
            data.defined_names[name] = f"'{sheet_name}'!${column_letter(c1)}${r1 + 1}:${column_letter(c2)}${r2 + 1}"

    before = A.analyse_file(sample_set / "budget.xlsx")
    after = A.analyse_data(_edited(sample_set / "budget.xlsx", insert_column))
    inserted = [f for f in after.findings if f.code == "columns-changed"]
    assert [(f.severity, f.cell) for f in inserted] == [("warning", f"{column_letter(at)}1")]
    for key in ("planned", "actual", "remaining"):
        assert after.totals[key] == before.totals[key], key
    pd.testing.assert_frame_equal(after.totals["by_month"], before.totals["by_month"])


@pytest.mark.parametrize("count", [300, 900])
def test_the_smm_sheets_row_counts_are_not_trusted(sample_set, tmp_path, count):
    # An app that re-exports the workbook (Google Sheets) keeps the _smm sheet as it was; the
    # table's defined names say how many rows it has.
    source = sample_set / "calendar.xlsx"
    target = tmp_path / "calendar.xlsx"
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as new:
        changed = 0
        for info in old.infolist():
            data = old.read(info.filename)
            if b'"rows":{"posts":500}' in data:
                data = data.replace(b'"rows":{"posts":500}', b'"rows":{"posts":%d}' % count)
                changed += 1
            new.writestr(info, data)
    assert changed == 1
    before, after = A.analyse_file(source), A.analyse_file(target)
    assert [(f.code, f.sheet, f.cell, f.message) for f in after.findings] == [
        (f.code, f.sheet, f.cell, f.message) for f in before.findings
    ]
    assert after.totals["posts_planned"] == before.totals["posts_planned"]
    assert after.totals["posts_target"] == before.totals["posts_target"]
