"""LibreOffice fills in a generated budget as a person would (tests/lo_edit.py), and it shows.

Each job edits the same generated workbook: numbers, text, dates and formulas set; text typed
and parsed by LibreOffice; rows inserted inside and below a block; a formula overwritten by a
constant. The saved files are read back with openpyxl (formulas and LibreOffice's cached
values) and compared with the plan the workbook was generated from: the values LibreOffice
recalculated must follow the edits, and the formulas and defined names must have moved.

Needs LibreOffice and python3-uno: skipped without them, failed when
SMM_SHEETS_REQUIRE_LIBREOFFICE=1. The module's jobs run in one LibreOffice start.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import zipfile

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from smm_sheets.generator import xlsx
from smm_sheets.plan import build
from smm_sheets.sheetref import a1
from tests.conftest import params
from tests.libreoffice import LibreOfficeError, edit_many, soffice_uno  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("soffice_uno")

BUDGET = "Budget"
# A string literal, or an A1 reference (optionally Sheet! or 'Sheet'!, optionally a range).
_REF = re.compile(
    r"\"[^\"]*\"|(?<![\w.$])((?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?(\$?[A-Z]{1,3}\$?\d+)(?::(\$?[A-Z]{1,3}\$?\d+))?(?![\w(!])"
)


# --------------------------------------------------------------------------- the plan's cells


def column(col: int) -> str:
    """0-based column -> "D"."""
    return a1(0, col)[:-1]


def position(plan, name: str, **coords) -> tuple[str, int, int]:
    """(sheet name, row, col), 0-based, of the cell of item ``name`` with these coordinates."""
    item = plan.items[name]
    for found, row, col in item.cells:
        if found == coords:
            return plan.sheets[item.sheet].name, row, col
    raise KeyError(f"{name} {coords}")


def ref(plan, name: str, **coords) -> str:
    sheet, row, col = position(plan, name, **coords)
    return f"{sheet}!{a1(row, col)}"


def planned_value(plan, name: str, **coords):
    sheet, row, col = position(plan, name, **coords)
    return next(s for s in plan.sheets if s.name == sheet).cells[(row, col)].value


def cell(book, reference: str):
    sheet, _, coordinate = reference.partition("!")
    return book[sheet][coordinate]


LINE_IG = {"line": "advertising_instagram", "category": "advertising"}
LINE_SCHEDULING = {"line": "scheduling", "category": "software"}
LINE_PHOTOGRAPHER = {"line": "photographer", "category": "services"}
MARCH, APRIL = 2, 3


# --------------------------------------------------------------------------- moving references


def insert_rows(row: int, before: int, count: int) -> int:
    """Where a 1-based row ends up after ``count`` rows are inserted before row ``before``."""
    return row + count if row >= before else row


def shift_range(r1: int, r2: int, before: int, count: int) -> tuple[int, int]:
    """A range's 1-based rows after an insertion: it moves, grows (inserted inside) or stays."""
    if before <= r1:
        return r1 + count, r2 + count
    if before <= r2:
        return r1, r2 + count
    return r1, r2


def shift_formula(text: str, own_sheet: str, before: int, count: int) -> str:
    """The formula with its references to Budget moved as a row insertion moves them.

    The spelling is normalised the way LibreOffice writes .xlsx: no quotes around a sheet
    name that needs none.
    """

    def move(match: re.Match) -> str:
        prefix, first, last = match.groups()
        if first is None:  # a string literal
            return match.group(0)
        sheet = prefix[:-1].strip("'").replace("''", "'") if prefix else own_sheet
        if sheet != BUDGET:
            return match.group(0).replace(prefix or "", f"{sheet}!" if prefix else "")
        (c1, r1), (c2, r2) = _split(first), _split(last or first)
        r1, r2 = shift_range(r1, r2, before, count) if last else (insert_rows(r1, before, count),) * 2
        moved = f"{c1}{r1}" + (f":{c2}{r2}" if last else "")
        return (f"{sheet}!" if prefix else "") + moved

    return _REF.sub(move, text)


def _split(reference: str) -> tuple[str, int]:
    column, row = re.match(r"(\$?[A-Z]+)(\$?\d+)$", reference).groups()
    return column + ("$" if row.startswith("$") else ""), int(row.lstrip("$"))


def moved_name(reference: str, inserts: list[tuple[int, int]]) -> str:
    """A defined name's ``='Budget'!$D$6:$O$19`` after the insertions, as LibreOffice writes it."""
    sheet, _, cells = reference.lstrip("=").partition("!")
    sheet = sheet.strip("'")
    first, _, last = cells.partition(":")
    (c1, r1), (c2, r2) = _split(first), _split(last or first)
    if sheet == BUDGET:
        for before, count in inserts:
            r1, r2 = shift_range(r1, r2, before, count)
    return f"{sheet}!{c1}{r1}" + (f":{c2}{r2}" if last else "")


def test_shift_formula_moves_only_budget_references():
    # The helper the row tests rely on, on a formula of each kind the budget has.
    assert shift_formula("SUM(D6:D9)", BUDGET, 8, 1) == "SUM(D6:D10)"
    assert shift_formula('IF(D26="",0,D38-D26)', BUDGET, 8, 1) == 'IF(D27="",0,D39-D27)'
    assert shift_formula("SUM('Budget'!D6:O9)+B6", "Summary", 37, 1) == "SUM(Budget!D6:O9)+B6"
    assert shift_formula("SUM('Budget'!D22:O25)", "Summary", 8, 2) == "SUM(Budget!D24:O27)"
    assert shift_formula("SUM(D6:D7)", BUDGET, 6, 1) == "SUM(D7:D8)"


# --------------------------------------------------------------------------- the edits


@pytest.fixture(scope="module")
def plan(budget):
    return build(budget, params(sample=True))


@pytest.fixture(scope="module")
def source(plan, tmp_path_factory):
    return xlsx.write(plan, tmp_path_factory.mktemp("generated") / "budget.xlsx")


def typed_actions(plan) -> list[dict]:
    return [
        {"set": ref(plan, "planned", **LINE_IG, month=MARCH), "value": 1234.5},
        {"set": ref(plan, "actual", **LINE_SCHEDULING, month=0), "value": "1 200,50"},
        {"set": ref(plan, "actual", **LINE_IG, month=APRIL), "clear": True},
        {"set": ref(plan, "approved_on"), "date": "2027-03-12"},
        {"set": ref(plan, "notes"), "value": '=HYPERLINK("http://x","y")'},
        {
            "set": ref(plan, "planned", **LINE_PHOTOGRAPHER, month=0),
            "formula": f"=MAX({ref(plan, 'planned', **LINE_SCHEDULING, month=0)},150)+1",
        },
    ]


def typing_actions(plan) -> list[dict]:
    return [
        {"type": ref(plan, "approved_on"), "text": "3/12/2027"},
        {"type": ref(plan, "planned", **LINE_SCHEDULING, month=0), "text": "1,200.50"},
        {"type": ref(plan, "prepared_by"), "text": "12/03/2027"},
    ]


def row_edits(plan) -> dict:
    """Insert a row inside the planned block and one right below the actual block; overwrite a total."""
    _, first_planned, _ = position(plan, "planned", **LINE_SCHEDULING, month=0)
    last_actual = plan.items["actual"].rects[0][2]  # the block's last row (a spare line)
    inside = first_planned + 3  # 1-based: before the third software line
    below = last_actual + 2 + 1  # 1-based, after the first insertion: the row under the block
    total = ref(plan, "total_planned", month=0)
    new_row_feb = f"{BUDGET}!{a1(inside - 1, position(plan, 'planned', **LINE_SCHEDULING, month=1)[2])}"
    return {
        "inserts": [(inside, 1), (below, 1)],
        "total": total,
        "new_row_feb": new_row_feb,
        "actions": [
            {"unprotect": BUDGET},
            {"set": total, "value": 999},
            {"insert_rows": BUDGET, "before": inside, "count": 1},
            {"insert_rows": BUDGET, "before": below},
            {"set": new_row_feb, "value": 100},
            {"protect": BUDGET},
        ],
    }


@pytest.fixture(scope="module")
def edited(plan, source, tmp_path_factory):
    """Every job of the module in one LibreOffice start: name -> saved file."""
    out = tmp_path_factory.mktemp("edited")
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    jobs = {
        "untouched": {"actions": []},
        "typed": {"actions": typed_actions(plan)},
        "typing": {"actions": typing_actions(plan)},
        "rows": {"actions": row_edits(plan)["actions"]},
        "ods": {"actions": [{"set": ref(plan, "planned", **LINE_IG, month=MARCH), "value": 1234.5}], "format": "ods"},
    }
    paths = edit_many(
        [{"src": source, "out": out / f"{name}.{job.get('format', 'xlsx')}", **job} for name, job in jobs.items()]
    )
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before, "the source workbook was changed"
    return dict(zip(jobs, paths))


def books(path):
    return openpyxl.load_workbook(path, data_only=False), openpyxl.load_workbook(path, data_only=True)


# --------------------------------------------------------------------------- values


def test_untouched_workbook_keeps_the_generators_values(plan, edited):
    # The baseline for the other tests: LibreOffice, recalculating, agrees with the plan.
    _, values = books(edited["untouched"])
    for name, coords in [
        ("total_planned", {"month": MARCH}),
        ("available", dict(LINE_IG, month=MARCH)),
        ("year_planned.total", {}),
    ]:
        assert math.isclose(
            cell(values, ref(plan, name, **coords)).value, planned_value(plan, name, **coords), abs_tol=1e-9
        )


def test_a_typed_number_is_recalculated_into_every_total(plan, edited):
    formulas, values = books(edited["typed"])
    target = ref(plan, "planned", **LINE_IG, month=MARCH)
    assert cell(formulas, target).value == 1234.5
    delta = 1234.5 - planned_value(plan, "planned", **LINE_IG, month=MARCH)
    assert delta != 0
    dependents = [
        ("total_planned", {"month": MARCH}),
        ("category_planned", {"category": "advertising", "month": MARCH}),
        ("available", dict(LINE_IG, month=MARCH)),
        ("year_planned", {"category": "advertising"}),  # on the other sheet
    ]
    for name, coords in dependents:
        got = cell(values, ref(plan, name, **coords)).value
        assert math.isclose(got, planned_value(plan, name, **coords) + delta, abs_tol=1e-6), (name, coords, got)
    # The month before is untouched.
    assert math.isclose(
        cell(values, ref(plan, "total_planned", month=MARCH - 1)).value,
        planned_value(plan, "total_planned", month=MARCH - 1),
    )


def test_text_that_looks_like_a_number_stays_text_and_counts_as_nothing(plan, edited):
    formulas, values = books(edited["typed"])
    typed = cell(formulas, ref(plan, "actual", **LINE_SCHEDULING, month=0))
    assert typed.value == "1 200,50" and typed.data_type == "s"
    old = planned_value(plan, "actual", **LINE_SCHEDULING, month=0)
    assert old
    total = ref(plan, "category_actual", category="software", month=0)
    assert math.isclose(
        cell(values, total).value, planned_value(plan, "category_actual", category="software", month=0) - old
    )
    hyperlink = cell(formulas, ref(plan, "notes"))
    assert hyperlink.value == '=HYPERLINK("http://x","y")' and hyperlink.data_type == "s"


def test_a_cleared_actual_carries_nothing(plan, edited):
    _, values = books(edited["typed"])
    assert planned_value(plan, "surplus", **LINE_IG, month=APRIL) != 0
    assert cell(values, ref(plan, "actual", **LINE_IG, month=APRIL)).value is None
    assert cell(values, ref(plan, "surplus", **LINE_IG, month=APRIL)).value == 0


def test_a_date_is_a_date(plan, edited):
    formulas, _ = books(edited["typed"])
    approved = cell(formulas, ref(plan, "approved_on"))
    assert approved.value == dt.datetime(2027, 3, 12)
    assert approved.is_date and "yy" in approved.number_format.lower()


def test_a_formula_in_excel_syntax_is_computed(plan, edited):
    formulas, values = books(edited["typed"])
    target = ref(plan, "planned", **LINE_PHOTOGRAPHER, month=0)
    assert (
        cell(formulas, target).value.replace("$", "")
        == f"=MAX({ref(plan, 'planned', **LINE_SCHEDULING, month=0)},150)+1"
    )
    expected = max(planned_value(plan, "planned", **LINE_SCHEDULING, month=0), 150) + 1
    assert cell(values, target).value == expected
    delta = expected - planned_value(plan, "planned", **LINE_PHOTOGRAPHER, month=0)
    got = cell(values, ref(plan, "category_planned", category="services", month=0)).value
    assert math.isclose(got, planned_value(plan, "category_planned", category="services", month=0) + delta)


def test_typed_text_is_parsed_by_the_cell(plan, edited):
    formulas, _ = books(edited["typing"])
    assert cell(formulas, ref(plan, "approved_on")).value == dt.datetime(2027, 3, 12)  # en-US: month first
    assert cell(formulas, ref(plan, "planned", **LINE_SCHEDULING, month=0)).value == 1200.5
    prepared = cell(formulas, ref(plan, "prepared_by"))  # a text cell: no date made of it
    assert prepared.value == "12/03/2027" and prepared.data_type == "s"


# --------------------------------------------------------------------------- rows


def test_inserted_rows_move_every_formula_and_adjust_its_references(plan, edited):
    edits = row_edits(plan)
    formulas, _ = books(edited["rows"])
    overwritten = edits["total"]
    checked = 0
    for sheet in plan.sheets:
        for (row, col), planned in sheet.cells.items():
            if planned.kind != "formula" or f"{sheet.name}!{a1(row, col)}" == overwritten:
                continue
            new_row, text = row + 1, planned.formula
            for before, count in edits["inserts"]:
                if sheet.name == BUDGET:
                    new_row = insert_rows(new_row, before, count)
                text = shift_formula(text, sheet.name, before, count)
            got = formulas[sheet.name].cell(new_row, col + 1)
            assert got.data_type == "f", (sheet.name, a1(row, col), got.value)
            assert got.value.replace("'", "") == "=" + text.replace("'", ""), (sheet.name, a1(row, col))
            checked += 1
    assert checked > 100


def test_defined_names_move_with_the_rows(plan, edited):
    edits = row_edits(plan)
    formulas, _ = books(edited["rows"])
    names = {name: formulas.defined_names[name].attr_text.replace("'", "") for name in plan.names}
    expected = {name: moved_name(reference, edits["inserts"]) for name, reference in plan.names.items()}
    assert names == expected
    # Spelled out once: the planned block grew by the row inserted inside it; the actual block
    # only moved down by that row (the second went in right below it).
    r1, c1, r2, c2 = plan.items["planned"].rects[0]
    assert names["smm_planned"] == f"{BUDGET}!${column(c1)}${r1 + 1}:${column(c2)}${r2 + 1 + 1}"
    r1, c1, r2, c2 = plan.items["actual"].rects[0]
    assert names["smm_actual"] == f"{BUDGET}!${column(c1)}${r1 + 1 + 1}:${column(c2)}${r2 + 1 + 1}"


def test_a_value_in_an_inserted_row_counts_and_an_overwritten_formula_is_a_constant(plan, edited):
    edits = row_edits(plan)
    formulas, values = books(edited["rows"])
    assert cell(formulas, edits["new_row_feb"]).value == 100
    software_feb = planned_value(plan, "category_planned", category="software", month=1)
    _, row, col = position(plan, "category_planned", category="software", month=1)
    moved = sum(count for before, count in edits["inserts"] if before <= row + 1)
    assert values[BUDGET].cell(row + 1 + moved, col + 1).value == software_feb + 100
    # The overwritten total: a constant, in its moved place. The variance to date compares the
    # categories' plans (the inserted row's amount included) with the spend, not that constant.
    _, row, col = position(plan, "total_planned", month=0)
    total = formulas[BUDGET].cell(row + 1 + moved, col + 1)
    assert total.value == 999 and total.data_type == "n"
    at_moved = {
        name: values[BUDGET].cell(position(plan, name, month=0)[1] + 1 + moved, col + 1).value
        for name in ("total_variance", "total_actual", "total_planned_to_date")
    }
    assert math.isclose(at_moved["total_variance"], at_moved["total_planned_to_date"] - at_moved["total_actual"])
    categories = [
        values[BUDGET].cell(r + 1 + moved, col + 1).value
        for coords, r, c in plan.items["category_planned"].cells
        if coords["month"] == 0
    ]
    assert math.isclose(at_moved["total_planned_to_date"], sum(categories)) and sum(categories) != 999
    assert formulas[BUDGET].protection.sheet  # protected again, as the last action asked


# --------------------------------------------------------------------------- what survives a save


def test_xlsx_keeps_the_hidden_sheet_and_the_properties(edited):
    formulas, _ = books(edited["untouched"])
    assert formulas["_smm"].sheet_state == "hidden"
    with zipfile.ZipFile(edited["untouched"]) as archive:
        custom = archive.read("docProps/custom.xml").decode("utf-8")
    assert 'name="smm_blueprint_id"' in custom and ">budget<" in custom


def test_ods_output_opens_with_the_edit_and_the_names(plan, edited):
    path = edited["ods"]
    book = CalamineWorkbook.from_path(str(path))
    assert book.sheet_names == [s.name for s in sorted(plan.sheets, key=lambda s: not s.first)]  # Start here first
    hidden = {meta.name for meta in book.sheets_metadata if str(meta.visible).endswith("Hidden")}
    assert hidden == {"_smm"}
    sheet, row, col = position(plan, "planned", **LINE_IG, month=MARCH)
    rows = book.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
    assert rows[row][col] == 1234.5
    _, row, col = position(plan, "total_planned", month=MARCH)
    delta = 1234.5 - planned_value(plan, "planned", **LINE_IG, month=MARCH)
    assert math.isclose(rows[row][col], planned_value(plan, "total_planned", month=MARCH) + delta)
    with zipfile.ZipFile(path) as archive:
        content = archive.read("content.xml").decode("utf-8")
        meta = archive.read("meta.xml").decode("utf-8")
    assert 'table:name="smm_planned"' in content
    assert 'meta:name="smm_blueprint_id">budget<' in meta


# --------------------------------------------------------------------------- refusals


def test_a_locked_cell_is_refused_and_no_output_is_left(plan, source, tmp_path):
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.xlsx"
    with pytest.raises(LibreOfficeError, match=r"is locked and sheet 'Budget' is protected"):
        edit_many(
            [
                {
                    "src": source,
                    "out": good,
                    "actions": [{"set": ref(plan, "planned", **LINE_IG, month=0), "value": 1}],
                },
                {"src": source, "out": bad, "actions": [{"set": ref(plan, "total_planned", month=0), "value": 1}]},
            ]
        )
    assert good.is_file()  # the job before the failing one was saved
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.xlsx"]  # no temporary file, no bad.xlsx


@pytest.mark.parametrize(
    "action, message",
    [
        ({"frob": 1}, "unknown action"),
        ({"set": "D7", "value": 1}, "Sheet!A1"),
        ({"set": "Budget!D7", "value": True}, "number or a text"),
        ({"set": "Budget!D7", "formula": "SUM(1,2)"}, "starting with '='"),
        ({"set": "Budget!D7", "date": "12/03/2027"}, "YYYY-MM-DD"),
        ({"set": "Budget!D7:D9", "value": 1}, "one cell at a time"),
        ({"insert_rows": "Budget", "before": 0}, "row number"),
    ],
)
def test_malformed_actions_fail_before_libreoffice_starts(source, tmp_path, action, message):
    out = tmp_path / "out.xlsx"
    with pytest.raises(LibreOfficeError, match=re.escape(message)):
        edit_many([{"src": source, "out": out, "actions": [action]}])
    assert not out.exists()


def test_the_source_is_never_the_output(source):
    with pytest.raises(LibreOfficeError, match="must not be the source"):
        edit_many([{"src": source, "out": source, "actions": []}])
