"""The analyser's checks: each a small function that yields findings about one workbook.

They read a :class:`Workbook`: the file's data (from :mod:`smm_sheets.reader`), the plan
the blueprint gives for it (formula text, placement), the plan recomputed from the file's
inputs (values), and the map between planned cells and the file's.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser.cellmap import CellMap, formula_ranges
from smm_sheets.analyser.findings import Finding, finding
from smm_sheets.analyser.reader import CellError, WorkbookData
from smm_sheets.blueprint.model import NUMERIC_TYPES, Field
from smm_sheets.plan import META_SHEET, Placement, WorkbookPlan
from smm_sheets.sheetref import a1, date_of_serial, serial

OVERWRITTEN, CHANGED, COUNTS_INSERTED, MISSING = "overwritten", "changed", "counts inserted rows", "missing"
# Google Sheets exports formulas it has and Excel lacks as IFERROR(__xludf.DUMMYFUNCTION("..."), value).
_GOOGLE = re.compile(r'^IFERROR\(__xludf\.DUMMYFUNCTION\("((?:[^"]|"")*)"\),', re.IGNORECASE)
_PREFIXES = re.compile(r"_xlfn\.|_xlws\.|_xludf\.", re.IGNORECASE)
_QUOTED_SHEET = re.compile(r"'((?:[^']|'')+)'!")
_SPACE = re.compile(r"\s+")
_STRINGS = re.compile(r'("(?:[^"]|"")*")')


@dataclass
class Workbook:
    """Everything the checks read about one file."""

    data: WorkbookData
    plan: WorkbookPlan  # formula text, placement
    cells: CellMap
    computed: WorkbookPlan | None = None  # values recomputed from the file's inputs
    # Formula cells whose formula is gone or different, by planned (sheet, row, col).
    broken: dict[tuple[int, int, int], str] = field(default_factory=dict)
    # Tables of blank rows: the row indexes people used (any input filled in).
    used_rows: dict[str, set[int]] = field(default_factory=dict)
    # Tables of blank rows that people added rows to (their rows were counted again).
    resized: set[str] = field(default_factory=set)
    # Planned sheets whose cells did not move: their file sheet (None: missing), else False.
    _unmoved: dict[int, Any] = field(default_factory=dict)

    def file_cell(self, sheet: int, row: int, col: int) -> tuple[str, int, int]:
        """Where a planned cell is in the file: (sheet name, row, col)."""
        where = self.cells.sheets[sheet]
        r, c = where.locate(row, col)
        return where.name, r, c

    def value(self, sheet: int, row: int, col: int) -> Any:
        """The file's value at a planned cell."""
        fast = self._unmoved.get(sheet)
        if fast is None:
            where = self.cells.sheets[sheet]
            fast = self._unmoved[sheet] = self.data.sheets.get(where.name) if where.identity else False
        if fast is not False:
            return fast.value(row, col) if fast is not None else None
        if row in self.cells.sheets[sheet].deleted_rows:
            return None
        name, r, c = self.file_cell(sheet, row, col)
        found = self.data.sheets.get(name)
        return None if found is None else found.value(r, c)

    def gone(self, sheet: int, row: int) -> bool:
        """Is a planned row deleted, or its sheet missing from the file?"""
        where = self.cells.sheets[sheet]
        return row in where.deleted_rows or where.name not in self.data.sheets

    def formula(self, sheet: int, row: int, col: int) -> str | None:
        if row in self.cells.sheets[sheet].deleted_rows:
            return None
        name, r, c = self.file_cell(sheet, row, col)
        found = self.data.sheets.get(name)
        if found is None or found.formulas is None:
            return None
        return found.formulas.get((r, c))

    def ref(self, sheet: int, row: int, col: int) -> tuple[str, str]:
        name, r, c = self.file_cell(sheet, row, col)
        return name, a1(r, c)


# --------------------------------------------------------------------------- formulas


def canonical(text: str) -> str:
    """A formula's text as compared: no ``=``, no export wrappers or prefixes, case and spacing
    normalised outside string literals, sheet names unquoted."""
    text = text.strip().removeprefix("=")
    wrapped = _GOOGLE.match(text)
    if wrapped is not None:
        text = wrapped.group(1).replace('""', '"').strip().removeprefix("=")
    parts = _STRINGS.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            part = _PREFIXES.sub("", _SPACE.sub("", part)).upper()
            out.append(_QUOTED_SHEET.sub(lambda m: m.group(1).replace("''", "'") + "!", part))
    return "".join(out)


def planned_formulas(plan: WorkbookPlan) -> Iterator[tuple[int, int, int, str, str]]:
    """(sheet, row, col, owner, formula text) of every formula cell of a plan."""
    for s, sheet in enumerate(plan.sheets):
        for (row, col), cell in sheet.cells.placed.items():
            if cell.kind == "formula" and cell.formula is not None:
                yield s, row, col, cell.owner or "", cell.formula
        for store in sheet.stores:
            if store.kind == "formula" and store.texts is not None:  # None: freed after the comparison
                for i, text in enumerate(store.texts):
                    yield s, store.first_row + i, store.col, store.field.id, text


def check_formulas(book: Workbook) -> Iterator[Finding]:
    """``formula-overwritten`` and ``formula-changed``; records them in ``book.broken``."""
    if not any(s.formulas is not None for s in book.data.sheets.values()):
        return
    yield from _rows_without_formulas(book)
    for s, row, col, owner, text in planned_formulas(book.plan):
        if book.broken.get((s, row, col)) == MISSING or book.gone(s, row):
            continue
        sheet_name, r, c = book.file_cell(s, row, col)
        sheet = book.data.sheets.get(sheet_name)
        if sheet is None or sheet.formulas is None:
            continue
        actual = sheet.formulas.get((r, c))
        expected = "=" + book.cells.translate(text, s)
        where = a1(r, c)
        if actual is None:
            value = sheet.value(r, c)
            book.broken[(s, row, col)] = OVERWRITTEN
            now = "nothing" if value is None or value == "" else repr(shown(value))
            yield finding(
                "formula-overwritten", f"{owner}: the formula {expected} was replaced by {now}", sheet_name, where
            )
        elif actual != expected[1:] and canonical(actual) != canonical(expected):
            book.broken[(s, row, col)] = CHANGED
            yield finding(
                "formula-changed", f"{owner}: ={actual} differs from the blueprint's {expected}", sheet_name, where
            )


def _rows_without_formulas(book: Workbook) -> Iterator[Finding]:
    """Rows inserted into a table of blank rows get no formulas from the app: one warning per
    row, and their formula cells count as blank (as the app shows them), not as overwritten."""
    for sheet_plan in book.plan.sheets:
        stores = {}
        for store in sheet_plan.stores:
            if store.kind == "formula" and store.block_id in book.resized:
                stores.setdefault(store.block_id, []).append(store)
        for columns in stores.values():
            first = columns[0]
            s = first.sheet
            for i in range(len(first.values)):
                cells = [(s, store.first_row + i, store.col) for store in columns]
                if all(book.formula(*cell) is None and book.value(*cell) in (None, "") for cell in cells):
                    for cell in cells:
                        book.broken[cell] = MISSING
                    name, r, c = book.file_cell(*cells[0])
                    names = ", ".join(store.field.id for store in columns)
                    yield finding(
                        "formula-missing",
                        f"row {r + 1} was inserted without the table's formulas ({names}): copy them down from the row above",
                        name,
                        a1(r, c),
                    )


def check_stale_values(book: Workbook) -> Iterator[Finding]:
    """``stale-value``: a saved formula value that differs from what the inputs give."""
    computed = book.computed
    for s, sheet in enumerate(computed.sheets):
        if sheet.name == META_SHEET:
            continue
        for (row, col), cell in sheet.cells.placed.items():
            if cell.kind == "formula" and (s, row, col) not in book.broken and not book.gone(s, row):
                yield from _stale(book, s, row, col, cell.owner or "", cell.value)
        for store in sheet.stores:
            if store.kind == "formula":
                for i, value in enumerate(store.values):
                    if (s, store.first_row + i, store.col) not in book.broken and not book.gone(s, store.first_row + i):
                        yield from _stale(book, s, store.first_row + i, store.col, store.field.id, value)


def _stale(book: Workbook, s: int, row: int, col: int, owner: str, expected: Any) -> Iterator[Finding]:
    saved = book.value(s, row, col)
    if saved is None and not book.data.cached_values:
        return
    if not same_value(saved, expected):
        name, where = book.ref(s, row, col)
        yield finding(
            "stale-value", f"{owner}: saved value {shown(saved)!r}, the inputs give {shown(expected)!r}", name, where
        )


def same_value(saved: Any, expected: Any) -> bool:
    """Does a saved cell value equal a computed one (numbers to 1e-9, blanks as empty text)?"""
    if isinstance(expected, fx.ExcelError) or isinstance(saved, CellError):
        return isinstance(expected, fx.ExcelError) and isinstance(saved, CellError) and expected.code == str(saved)
    saved = serial(saved)
    if isinstance(expected, bool) or isinstance(saved, bool):
        return (
            bool(saved) == bool(expected)
            and type(serial(expected)) in (bool, int, float)
            and type(saved) in (bool, int, float)
        )
    if isinstance(expected, (int, float)):
        if saved in (None, "") and expected == 0:
            return True
        return isinstance(saved, (int, float)) and math.isclose(saved, expected, rel_tol=1e-9, abs_tol=1e-9)
    if expected in (None, ""):
        return saved in (None, "")
    return str(saved) == str(expected)


# --------------------------------------------------------------------------- inputs


def input_placements(plan: WorkbookPlan) -> Iterator[Placement]:
    for placement in plan.items.values():
        if placement.role == "input":
            yield placement


def placement_cells(placement: Placement) -> Iterator[tuple[dict, int, int]]:
    """(coordinates, row, col) of a placement's cells, without building lists for big tables."""
    store = placement.column
    if store is None:
        yield from placement._cells
        return
    for i in range(len(store.values)):
        yield {"row": (store.block_id, i)}, store.first_row + i, store.col


def check_inputs(
    book: Workbook, lists: dict[str, list[str]], list_codes: dict[str, str], period: tuple[dt.date, dt.date]
) -> Iterator[Finding]:
    """Types, required answers, dropdown lists, ranges and dates of every input cell."""
    fields_lists = {}
    for placement in input_placements(book.plan):
        item = placement.field
        store = placement.column
        used = book.used_rows.get(store.block_id) if store is not None else None
        allowed = None
        if item.type in ("choice", "yesno"):
            allowed = lists.get(item.list)
            if allowed is None and item.list not in fields_lists:
                fields_lists[item.list] = _field_values(book, item.list)
            allowed = allowed if allowed is not None else fields_lists.get(item.list)
            allowed = {str(v).casefold() for v in allowed} if allowed is not None else None
        for coords, row, col in placement_cells(placement):
            if used is not None and coords["row"][1] not in used or book.gone(placement.sheet, row):
                continue
            value = book.value(placement.sheet, row, col)
            if value is None or value == "":
                if item.required:
                    name, where = book.ref(placement.sheet, row, col)
                    yield finding("missing-value", f"{item.id}: a required answer is blank", name, where)
                continue
            problem = _check_value(item, value, allowed, list_codes.get(item.list or ""), period)
            if problem is not None:
                code, message = problem
                name, where = book.ref(placement.sheet, row, col)
                yield finding(code, f"{item.id}: {message}", name, where)


def _field_values(book: Workbook, field_id: str) -> list[str] | None:
    """A list made of a field's cells (e.g. the strategy's goals): what the file holds there."""
    placement = book.plan.items.get(field_id)
    if placement is None:
        return None
    values = (book.value(placement.sheet, row, col) for _, row, col in placement_cells(placement))
    return [str(v) for v in values if v not in (None, "")]


def _check_value(
    item: Field, value: Any, allowed: set[str] | None, list_code: str | None, period: tuple[dt.date, dt.date]
) -> tuple[str, str] | None:
    kind = item.type
    if isinstance(value, CellError):
        return ("type-error", f"holds the error {value}")
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                number = parse_number(value)
                hint = f"; did you mean {number:g}? Enter it as a number" if number is not None else "; enter a number"
                return ("type-error", f"{value!r} is text, not a number{hint}")
            return ("type-error", f"{shown(value)!r} is not a number")
        if kind == "integer" and not float(value).is_integer():
            return ("type-error", f"{value:g} is not a whole number")
        if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
            low = f"{item.min:g}" if item.min is not None else "…"
            high = f"{item.max:g}" if item.max is not None else "…"
            return ("out-of-range", f"{value:g} is outside {low} to {high}")
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            if isinstance(value, str):
                day = parse_date(value)
                hint = f"; did you mean {day.isoformat()}? Enter it as a date" if day else "; enter a date (YYYY-MM-DD)"
                return ("type-error", f"{value!r} is text, not a date{hint}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value and date_of_serial(value):
                day = date_of_serial(value)
                return (
                    "type-error",
                    f"the number {shown(value)} where a date is expected (the date format was lost?); as a date it is {day.isoformat()}",
                )
            return ("type-error", f"{shown(value)!r} is not a date")
        if not period[0] <= value <= period[1]:
            return (
                "date-out-of-period",
                f"{value.isoformat()} is outside the plan ({period[0].isoformat()} to {period[1].isoformat()})",
            )
        return None
    if kind == "time":
        if not isinstance(value, (dt.time, dt.timedelta, dt.datetime)) and not (
            isinstance(value, float) and 0 <= value < 1
        ):
            return ("type-error", f"{shown(value)!r} is not a time (HH:MM)")
        return None
    if allowed is not None and str(value).casefold() not in allowed:
        code = list_code or "not-in-list"
        return (code, f"{shown(value)!r} is not in the list {item.list}")
    return None


_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


def parse_number(text: str) -> float | None:
    """What a number typed as text meant: ``1 200,50`` -> 1200.5, ``1,200.50``, ``12 %``."""
    text = _NUMBER_SPACES.sub("", text.strip())
    percent = text.endswith("%")
    text = re.sub(r"^[^\d+-]+|[^\d]+$", "", text.rstrip("%"))  # currency signs and codes
    if not re.fullmatch(r"[+-]?[\d.,]+", text or "x"):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        decimal = (
            ","
            if len(text.rsplit(",", 1)[1]) != 3 or text.count(",") == 1 and len(text.split(",")[0].lstrip("+-")) > 3
            else ""
        )
    else:
        decimal = "." if text.count(".") == 1 and len(text.rsplit(".", 1)[1]) != 3 else ""
    thousands = {",", "."} - {decimal}
    for mark in thousands:
        text = text.replace(mark, "")
    text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number / 100 if percent else number


def parse_date(text: str) -> dt.date | None:
    """A date typed as text: ``2027-03-12``, ``12.03.2027``, ``12/03/2027`` (day first, as in Europe)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%d/%m/%y", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


# --------------------------------------------------------------------------- rows


def inserted_rows(book: Workbook) -> dict[int, list[tuple[int, int]]]:
    """Rows people inserted among the plan's rows that hold numbers: planned sheet ->
    [(file row, column of its first number)]."""
    found: dict[int, list[tuple[int, int]]] = {}
    for s, where in enumerate(book.cells.sheets):
        sheet = book.data.sheets.get(where.name)
        if sheet is None or not where.rows.known:
            continue
        images = set(where.rows.known.values())
        formulas = sheet.formulas or {}
        below = _table_end(book, s)
        for row in range(min(images), min(max(images) + 2, len(sheet.rows))):
            if row in images or (below is not None and row > below):
                continue
            numbers = [
                c
                for c, v in enumerate(sheet.rows[row])
                if isinstance(v, (int, float)) and not isinstance(v, bool) and (row, c) not in formulas
            ]
            if numbers:
                found.setdefault(s, []).append((row, numbers[0]))
    return found


def _table_end(book: Workbook, s: int) -> int | None:
    """The file row of the last row of the sheet's table of blank rows, if it has one."""
    ends = [store.last_row for store in book.plan.sheets[s].stores]
    if not ends:
        return None
    return book.file_cell(s, max(ends), 0)[1]


def check_rows_below_tables(book: Workbook) -> Iterator[Finding]:
    """``rows-below-table``: posts or tasks typed below their table count nowhere."""
    for s, plan_sheet in enumerate(book.plan.sheets):
        if not plan_sheet.stores or book.gone(s, plan_sheet.stores[0].first_row):
            continue
        name = book.cells.sheets[s].name
        sheet = book.data.sheets[name]
        # Below everything the plan put on the sheet (blocks may follow a table).
        end = max([_table_end(book, s)] + list(book.cells.sheets[s].rows.known.values()))
        columns = [book.file_cell(s, store.first_row, store.col)[2] for store in plan_sheet.stores]
        first_col, last_col = min(columns), max(columns)
        rows = [
            r
            for r in range(end + 1, len(sheet.rows))
            if any(v not in (None, "") for v in sheet.rows[r][first_col : last_col + 1])
        ]
        if rows:
            where = a1(rows[0], first_col)
            more = f" and {len(rows) - 1} more row{'s' if len(rows) > 2 else ''}" if len(rows) > 1 else ""
            yield finding(
                "rows-below-table",
                f"row {rows[0] + 1}{more} below the table hold data that nothing counts: insert rows inside the table instead",
                name,
                where,
            )


def mark_counting_formulas(book: Workbook, inserted: dict[int, list[tuple[int, int]]]) -> None:
    """Formulas whose ranges grew over inserted rows count them: their saved values stand
    (the blueprint's lines do not include those rows)."""
    if not inserted or not book.data.cached_values:
        return
    rows_by_sheet = {book.cells.sheets[s].name: [(r, c) for r, c in rows] for s, rows in inserted.items()}
    for s, row, col, _, _ in planned_formulas(book.plan):
        if (s, row, col) in book.broken:
            continue
        text = book.formula(s, row, col)
        if text is None:
            continue
        here = book.cells.sheets[s].name
        for ref_sheet, (r1, c1, r2, c2) in formula_ranges(text):
            if r1 != r2 and any(r1 <= r <= r2 and c1 <= c <= c2 for r, c in rows_by_sheet.get(ref_sheet or here, ())):
                book.broken[(s, row, col)] = COUNTS_INSERTED
                break


def check_inserted_rows(book: Workbook, inserted: dict[int, list[tuple[int, int]]]) -> Iterator[Finding]:
    """``total-misses-rows``: an inserted row with amounts that no formula of the sheet counts
    (an error), or that the workbook's totals count but the blueprint's lines do not (a warning)."""
    for s, rows in inserted.items():
        name = book.cells.sheets[s].name
        sheet = book.data.sheets[name]
        covered: list[tuple[int, int, int, int]] = []
        if sheet.formulas:
            covered = [
                rect
                for text in set(sheet.formulas.values())
                for ref_sheet, rect in formula_ranges(text)
                if ref_sheet in (None, name)
            ]
        for row, col in rows:
            if any(r1 <= row <= r2 and c1 <= col <= c2 and r1 != r2 for r1, c1, r2, c2 in covered):
                yield finding(
                    "total-misses-rows",
                    f"row {row + 1} was inserted: the workbook's totals count it, but it is no line of the plan (its figures are taken as saved)",
                    name,
                    a1(row, col),
                    severity="warning",
                )
            else:
                yield finding(
                    "total-misses-rows",
                    f"row {row + 1} holds amounts that no total counts (inserted next to a total's range)",
                    name,
                    a1(row, col),
                )


def shown(value: Any) -> Any:
    """A value as a message shows it: 3 not 3.0, dates in ISO form, error codes."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, fx.ExcelError):
        return value.code
    return value
