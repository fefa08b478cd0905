"""``smm-sheets fix`` over the edit matrix (``tests/analyser/edit_matrix.py``): every kind of
edit LibreOffice made to the five sample workbooks, saved as .xlsx and as .ods, fixed.

For each edited file: the fixed workbook has no formula finding; every input equals the edited
file's, compared cell by cell through the plan (a difference is a repair ``fix`` reports, or a
value it reports it could not carry); what the person typed where the new workbook has no input
(amounts in inserted rows, constants over formulas, rows below a table...) is reported in
``not_carried``, never dropped silently; LibreOffice recalculates the fixed workbook to the values
it holds. Three more cases type hostile text (``=HYPERLINK(...)``) as a company name, a line
label and a caption: it stays a text cell.

One LibreOffice start makes every edited file (about three minutes on a loaded machine), one
more recalculates every fixed workbook. Needs LibreOffice and python3-uno.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse_book
from smm_sheets.errors import SmmSheetsError
from smm_sheets.fixer import FixResult, fix_file
from smm_sheets.sheetref import cell_position
from tests.analyser.edit_matrix import CASES, FORMATS, EditCase, Layout, make_edited_files
from tests.fixer.helpers import FORMULA_CODES, HOSTILE, book_inputs, plain
from tests.libreoffice import disagreements, error_cells, formula_cells, recalculate_many, soffice_uno  # noqa: F401

pytestmark = [pytest.mark.usefixtures("soffice_uno"), pytest.mark.slow]


def _hostile_strategy(layout: Layout) -> list[dict]:
    return [{"set": layout.cell("company_name").ref, "value": HOSTILE}]


def _hostile_calendar(layout: Layout) -> list[dict]:
    return [{"set": layout.cell("caption", row=0).ref, "value": HOSTILE}]


def _hostile_budget(layout: Layout) -> list[dict]:
    label = layout.line("planned", "copywriter").at_col(layout.label_col())
    return [
        {"set": layout.cell("prepared_by").ref, "value": HOSTILE},
        {"unprotect": label.sheet},
        {"set": label.ref, "value": HOSTILE},
        {"protect": label.sheet},
    ]


def _error_typed(layout: Layout) -> list[dict]:
    """An error value in an input: a formula that fails typed over an amount (LibreOffice saves #DIV/0!)."""
    return [{"set": layout.line("actual", "copywriter", 2).ref, "formula": "=1/0"}]


HOSTILE_CASES = (
    EditCase("hostile-company", "strategy", "=HYPERLINK typed as the company's name", _hostile_strategy),
    EditCase("hostile-caption", "calendar", "=HYPERLINK typed as a post's caption", _hostile_calendar),
    EditCase("hostile-label", "budget", "=HYPERLINK typed as a line's label and who prepared it", _hostile_budget),
)
ERROR_CASES = (EditCase("error-in-input", "budget", "=1/0 typed into an actual amount", _error_typed),)
ALL_CASES = CASES + HOSTILE_CASES + ERROR_CASES
BY_NAME = {case.name: case for case in ALL_CASES}
KEYS = [(case.name, fmt) for case in ALL_CASES for fmt in FORMATS]


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """The edited files, and each one fixed (or the error ``fix`` raised)."""
    files = make_edited_files(tmp_path_factory.mktemp("matrix"), ALL_CASES)
    out = tmp_path_factory.mktemp("fixed")
    return files, fix_all({**files.edited, **files.baselines}, out)


def fix_all(edited: dict[tuple[str, str], Path], out: Path) -> dict[tuple[str, str], FixResult | SmmSheetsError]:
    results: dict[tuple[str, str], FixResult | SmmSheetsError] = {}
    for (name, fmt), path in edited.items():
        try:
            results[(name, fmt)] = fix_file(path, out / f"{name}-{fmt}.xlsx")
        except SmmSheetsError as error:
            results[(name, fmt)] = error
    return results


def _result(results, key) -> FixResult:
    found = results[key]
    if isinstance(found, SmmSheetsError):
        pytest.fail(f"{key}: fix refused LibreOffice's file: {found}")
    return found


# --------------------------------------------------------------------------- the checks


@functools.cache
def analysed(path: Path) -> tuple[dict[tuple[str, int], tuple[Any, str, str]], list[str]]:
    """One analysis of a workbook: its inputs through its plan ((field, index) -> (value, file
    sheet, A1 cell)) and its formula findings."""
    book, report = analyse_book(reader.read(path))
    return book_inputs(book), [f"{f.code} {f.sheet}!{f.cell}" for f in report.findings if f.code in FORMULA_CODES]


def planned_inputs(path: Path) -> dict[tuple[str, int], tuple[Any, str, str]]:
    return analysed(path)[0]


def formula_findings(path: Path) -> list[str]:
    return analysed(path)[1]


def input_differences(edited: Path, result: FixResult) -> list[str]:
    """Inputs of the fixed workbook that differ from the edited file's and that ``fix`` neither
    repaired (to that value) nor reported as not carried."""
    old, new = planned_inputs(edited), planned_inputs(result.target)
    repaired = {(r["sheet"], r["cell"]): r["now"] for r in result.repaired}
    wrong = []
    for key, (before, sheet, cell) in old.items():
        after = new.get(key, (None,))[0]  # the edited file's table may have grown by inserted rows
        if plain(before) == plain(after):
            continue
        if (sheet, cell) in repaired and plain(repaired[sheet, cell]) == plain(after):
            continue
        if after is None and reported(result, sheet, cell):
            continue
        wrong.append(f"{key[0]}[{key[1]}] at {sheet}!{cell}: {before!r} became {after!r}")
    return wrong


def typed_but_lost(case: EditCase, layout: Layout, edited: Path, result: FixResult) -> list[str]:
    """What the edit typed (values, dates, formulas) outside the file's planned inputs that
    ``not_carried`` does not report: a value the new workbook has no cell for must be named."""
    inputs = {(sheet, cell) for _, sheet, cell in planned_inputs(edited).values()}
    lost = []
    for action in case.actions(layout):
        ref = action.get("set") or action.get("type")
        if ref is None or "clear" in action:
            continue
        sheet, cell = _split(ref)
        if (sheet, cell) in inputs or reported(result, sheet, cell):
            continue
        typed = action.get("value", action.get("date", action.get("formula", action.get("text"))))
        lost.append(f"{sheet}!{cell} = {typed!r}")
    return lost


def reported(result: FixResult, sheet: str, cell: str) -> bool:
    """Whether ``not_carried`` names the cell, or its row (a row of amounts added or typed below a table)."""
    row = cell_position(cell)[0] + 1
    pattern = re.compile(rf"{re.escape(sheet)}!(?:{re.escape(cell)}\b|[A-Z]+{row}\b)")
    return any(pattern.search(line) for line in result.not_carried)


def _split(ref: str) -> tuple[str, str]:
    sheet, cell = ref.rsplit("!", 1)
    if sheet.startswith("'"):
        sheet = sheet[1:-1].replace("''", "'")
    return sheet, cell.replace("$", "")


# --------------------------------------------------------------------------- the tests


def test_the_matrix_has_every_case_in_both_formats(matrix):
    files, results = matrix
    assert len(CASES) >= 30 and len(results) == (len(ALL_CASES) + len(files.baselines) // 2) * len(FORMATS)
    assert set(KEYS) | set(files.baselines) == set(results)


@pytest.mark.parametrize("fmt", FORMATS)
def test_untouched_workbooks_carry_everything(matrix, fmt):
    """Nothing reported as not carried, nothing repaired, no formula finding: the reports above
    are about the edits."""
    files, results = matrix
    for blueprint_id in ("budget", "calendar", "kpi-report", "roadmap", "strategy"):
        result = _result(results, (blueprint_id, fmt))
        assert (result.not_carried, result.repaired) == ([], []), blueprint_id
        assert formula_findings(result.target) == [], blueprint_id
        assert input_differences(files.baselines[(blueprint_id, fmt)], result) == [], blueprint_id


@pytest.mark.parametrize("key", KEYS, ids=["-".join(key) for key in KEYS])
def test_fixed_workbook_has_no_formula_finding(matrix, key):
    _, results = matrix
    assert formula_findings(_result(results, key).target) == [], BY_NAME[key[0]].what


@pytest.mark.parametrize("key", KEYS, ids=["-".join(key) for key in KEYS])
def test_every_input_is_carried_or_reported(matrix, key):
    files, results = matrix
    result = _result(results, key)
    case = BY_NAME[key[0]]
    edited = files.edited[key]
    assert input_differences(edited, result) == [], case.what
    assert typed_but_lost(case, files.layouts[case.blueprint], edited, result) == [], case.what


def test_an_error_value_typed_into_an_input_is_reported(matrix):
    files, results = matrix
    layout = files.layouts["budget"]
    sheet, cell = _split(layout.line("actual", "copywriter", 2).ref)
    for fmt in FORMATS:
        result = _result(results, ("error-in-input", fmt))
        assert f"{sheet}!{cell}: #DIV/0!" in result.not_carried
        assert planned_inputs(result.target)[("actual", _index(layout, sheet, cell))][0] is None


def _index(layout: Layout, sheet: str, cell: str) -> int:
    return next(i for i, (_, where) in enumerate(layout.cells("actual")) if (where.sheet, where.a1) == (sheet, cell))


def test_libreoffice_recalculates_every_fixed_workbook_to_its_values(matrix, tmp_path):
    """One workbook per distinct plan: a fixed workbook's cells follow from its blueprint and
    inputs, so the .xlsx and .ods of a case that fixed to the same inputs are recalculated once."""
    _, results = matrix
    distinct = {}
    for key in KEYS:
        result = _result(results, key)
        inputs = tuple(sorted((k, repr(plain(v[0]))) for k, v in planned_inputs(result.target).items()))
        distinct.setdefault((result.blueprint_id, inputs), result)
    fixed = list(distinct.values())
    assert {result.blueprint_id for result in fixed} == {case.blueprint for case in ALL_CASES}
    again = recalculate_many([result.target for result in fixed], tmp_path, timeout=900)
    wrong = {}
    for result, recalculated in zip(fixed, again):
        found = [
            line
            for line in disagreements(formula_cells(result.target), formula_cells(recalculated))
            if not _after_ambiguous_text(line, result)
        ]
        found += sorted(f"{sheet}!{cell}: {value!r}" for (sheet, cell), value in error_cells(recalculated).items())
        if found:
            wrong[result.target.name] = found[:5]
    assert wrong == {}


def _after_ambiguous_text(line: str, result: FixResult) -> bool:
    """A formula whose row holds text ``fix`` kept as typed and marked as perhaps a date: the app
    reads the text in its own locale (LibreOffice en-US takes "12/03/2031" for 3 December), the
    cached value is the plan's #VALUE!. Known limit, listed in the notes of issue 13b."""
    where, rest = line.split(": cached ", 1)
    sheet, cell = where.rsplit("!", 1)
    row = cell_position(cell)[0]
    marked = [
        f for f in result.findings if f.code == "type-error" and f.sheet == sheet and cell_position(f.cell)[0] == row
    ]
    return rest.startswith("'#VALUE!'") and bool(marked)


@pytest.mark.parametrize("fmt", FORMATS)
def test_hostile_text_stays_text(matrix, fmt):
    _, results = matrix
    for case in HOSTILE_CASES:
        target = _result(results, (case.name, fmt)).target
        book = openpyxl.load_workbook(target)
        cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]
        hostile = [c for c in cells if c.value == HOSTILE]
        assert hostile, f"{case.name}: the hostile text was not carried"
        assert all(c.data_type == "s" for c in hostile), case.name
        assert not [c for c in cells if c.data_type == "f" and "HYPERLINK" in str(c.value).upper()], case.name
