"""Write a workbook plan to an .xlsx file. The only module that uses xlsxwriter.

Every formula is written with the value the planner computed, so readers that do not
recalculate (openpyxl, pandas, calamine, LibreOffice with default settings) see real
numbers. Text is always written as text: a company called ``=HYPERLINK(...)`` stays text.
The file appears atomically: it is written next to its target and renamed into place.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.exceptions
from xlsxwriter.worksheet import Worksheet

try:
    from xlsxwriter.worksheet import CellFormulaTuple
except ImportError:  # another xlsxwriter: every formula goes through write_formula
    CellFormulaTuple = None

from smm_sheets import atomic
from smm_sheets import formula as fx
from smm_sheets.errors import FileError
from smm_sheets.generator import fit
from smm_sheets.plan import Cell, SheetPlan, Style, WorkbookPlan

# write_formula runs some 30 regular expressions on every formula, for the dynamic-array functions
# it must spell "_xlfn.NAME(". A formula naming none of them (nor "_xlfn.", nor ending in "}") is
# stored as write_formula would store it, without them; any other still goes through write_formula.
_REWRITTEN_BY_XLSXWRITER = re.compile(
    "|".join(
        re.escape(name + "(")
        for name in (
            "ANCHORARRAY BYCOL BYROW CHOOSECOLS CHOOSEROWS DROP EXPAND FILTER HSTACK LAMBDA MAKEARRAY MAP "
            "RANDARRAY REDUCE SCAN SINGLE SEQUENCE SORT SORTBY SWITCH TAKE TEXTSPLIT TOCOL TOROW UNIQUE VSTACK "
            "WRAPCOLS WRAPROWS XLOOKUP"
        ).split()
    )
    + r"|_xlfn\.|\}$"
)

_BASE = {"font_name": "Arial", "font_size": 10, "valign": "vcenter"}
_ROLES: dict[str, dict[str, Any]] = {
    "title": {"bold": True, "font_size": 14},
    "subtitle": {"italic": True, "font_color": "#555555"},
    "section": {"bold": True, "font_size": 11, "font_color": "#1F4E79"},
    "section_wrap": {"bold": True, "font_size": 11, "font_color": "#1F4E79", "text_wrap": True},
    "header": {
        "bold": True,
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
        "border": 1,
        "text_wrap": True,
        "align": "center",
    },
    "group": {"font_color": "#555555", "text_wrap": True},
    "label": {"text_wrap": True},
    "question": {"text_wrap": True, "bold": True},
    "hint": {"italic": True, "font_color": "#666666", "text_wrap": True},
    "total_label": {"bold": True, "top": 1},
    "text": {"text_wrap": True},
    "constant": {"text_wrap": True, "font_color": "#333333", "border": 1, "border_color": "#D9D9D9"},
    # Text answers wrap: a paragraph shows whole (the rows are sized for it, see generator/fit.py).
    "input": {"bg_color": "#FFF9E6", "border": 1, "border_color": "#D9D9D9", "locked": False, "text_wrap": True},
    "formula": {"bg_color": "#F2F2F2", "border": 1, "border_color": "#D9D9D9", "text_wrap": True},
    "total": {"bg_color": "#E7EEF7", "bold": True, "border": 1, "border_color": "#BFBFBF"},
    "year": {"bg_color": "#E7EEF7", "bold": True, "border": 1, "border_color": "#BFBFBF"},
    "header_month": {
        "bold": True,
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
        "border": 1,
        "align": "center",
        "num_format": "mmm yyyy",
    },
    "header_week": {
        "bold": True,
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
        "border": 1,
        "align": "center",
        "font_size": 8,
        "num_format": "d",
    },
    # The month band over the week headers: each month's name over its first week, running on.
    "header_band": {
        "bold": True,
        "bg_color": "#1F4E79",
        "font_color": "#FFFFFF",
        "font_size": 9,
        "align": "left",
    },
    "timeline": {"border": 1, "border_color": "#E0E0E0"},
    "example": {"italic": True, "font_color": "#2E7D32", "text_wrap": True},
    "na": {"bg_color": "#D9D9D9", "font_color": "#808080", "border": 1, "border_color": "#BFBFBF", "locked": False},
    "na_formula": {"bg_color": "#D9D9D9", "font_color": "#808080", "border": 1, "border_color": "#BFBFBF"},
}
# Conditional formats of highlights and timelines.
_HIGHLIGHTS: dict[str, dict[str, Any]] = {
    "good": {"bg_color": "#C6EFCE", "font_color": "#006100"},
    "bad": {"bg_color": "#FFC7CE", "font_color": "#9C0006"},
    "warn": {"bg_color": "#FFEB9C", "font_color": "#9C5700"},
    "muted": {"font_color": "#808080"},
    "info": {"bg_color": "#DDEBF7"},
    "bar": {"bg_color": "#5B9BD5"},
}


def write(plan: WorkbookPlan, target: Path, force: bool = False) -> Path:
    """Write the plan to ``target`` atomically.

    Args:
        plan: from :func:`smm_sheets.layout.build`.
        target: the .xlsx path to create.
        force: replace an existing file.

    Returns:
        The path written.

    Raises:
        FileError: the target exists (without ``force``) or cannot be written.
    """
    return write_all([(plan, Path(target))], force)[0]


def write_all(
    jobs: list[tuple[WorkbookPlan, Path]],
    force: bool = False,
    kept: dict[Path, Path] | None = None,
    kept_dir: Path | None = None,
    ours: frozenset[Path] = frozenset(),
    left: set[Path] | None = None,
    changed: frozenset[Path] = frozenset(),
    notes: Notes | None = None,
) -> list[Path]:
    """Write several plans, all or none: each to a temporary file, then all renamed into place.

    With ``force``, an existing target that is not the workbook being written (apart from its
    creation time) and not in ``ours`` may hold someone's work: it is copied first
    (:func:`smm_sheets.atomic.keep_copy`), and only then replaced.

    Args:
        jobs: (plan, target) pairs.
        force: replace existing targets.
        kept: filled with target -> its kept copy.
        kept_dir: where kept copies go (default: beside their target).
        ours: targets known to be this tool's own, unchanged output: replaced without a copy.
        left: given, such a target is not replaced at all but added here (nor copied).
        changed: targets known to differ from what this tool wrote there: someone's, even when
            they hold the same workbook.
        notes: comments and highlights for every plan (see :func:`write_annotated`).

    Returns:
        The targets written.

    Raises:
        FileError: a target exists (without ``force``), is a folder, or cannot be written, or
            a kept copy cannot be written; then no target has been touched.
    """
    for _, target in jobs:
        if target.is_dir():
            raise FileError(f"{target} is a folder")
        if target.exists() and not force:
            raise FileError(f"{target} exists; use --force to replace it")
        if not target.parent.is_dir():
            raise FileError(f"{target.parent} is not a folder")
    temporaries: list[str] = []
    try:
        for plan, target in jobs:
            try:
                handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
                os.close(handle)
            except OSError as error:
                raise FileError(f"cannot write to {target.parent}: {error.strerror}") from None
            temporaries.append(temporary)
            atomic.track(temporary)
            try:
                render(plan, temporary, notes)
                os.chmod(temporary, atomic.file_mode(target))
            except (OSError, xlsxwriter.exceptions.XlsxFileError) as error:  # FileCreateError: a full disk
                cause = error.args[0] if error.args and isinstance(error.args[0], OSError) else error
                raise FileError(
                    f"cannot write {target}: {getattr(cause, 'strerror', None) or cause}", getattr(cause, "errno", None)
                ) from None
        atomic.check_still_wanted(jobs[0][1].parent)  # a worker whose run died writes nothing more
        for temporary, (_, target) in zip(temporaries, jobs):
            if (
                target.exists()
                and target not in ours
                and (target in changed or not same_workbook(target, Path(temporary)))
            ):
                if left is not None:
                    left.add(target)
                    continue
                copy = atomic.keep_copy(target, kept_dir)
                if kept is not None:
                    kept[target] = copy
        for temporary, (_, target) in zip(temporaries, jobs):
            if left and target in left:
                continue
            try:
                os.replace(temporary, target)
            except OSError as error:
                raise FileError(f"cannot write {target}: {error.strerror or error}") from None
    finally:
        for temporary in temporaries:
            atomic.untrack(temporary)
            if os.path.exists(temporary):
                os.unlink(temporary)
    return [target for _, target in jobs if not left or target not in left]


def same_workbook(a: Path, b: Path) -> bool:
    """Do two .xlsx files hold the same parts, apart from the creation time (docProps/core.xml)?

    Compares the zip directories (names, sizes and CRC-32s): nothing is decompressed.
    """
    try:
        with zipfile.ZipFile(a) as first, zipfile.ZipFile(b) as second:
            parts = [
                {(i.filename, i.file_size, i.CRC) for i in archive.infolist() if i.filename != "docProps/core.xml"}
                for archive in (first, second)
            ]
    except (OSError, zipfile.BadZipFile):
        return False
    return parts[0] == parts[1]


IN_MEMORY_CELLS = 50_000  # cells of a workbook whose parts are zipped from memory


def _cells(plan: WorkbookPlan) -> int:
    """About how many cells a plan writes: its placed cells and its stores' rows."""
    return sum(len(sheet.cells.placed) + sum(len(store.values) for store in sheet.stores) for sheet in plan.sheets)


def render(plan: WorkbookPlan, path: str | Path, notes: Notes | None = None) -> None:
    """Write the plan to ``path`` (not atomically; see :func:`write`), with ``notes`` on its cells."""
    # constant_memory: rows go to disk as they are written, so 100,000 posts fit in memory; not
    # with notes, whose comments go on rows written before them.
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "constant_memory": notes is None,
            # Column widths count characters of the default font: Arial as in every cell, so that an
            # app without Calibri (LibreOffice without Carlito) does not make the columns a third wider.
            "default_format_properties": {"font_name": _BASE["font_name"], "font_size": _BASE["font_size"]},
        },
    )
    # The parts (a dozen XML files) are zipped from memory rather than from temporary files,
    # whose creation is most of a small workbook's system time; a large one's (100,000 posts)
    # would not fit in memory, and go through files as before.
    workbook.in_memory = _cells(plan) <= IN_MEMORY_CELLS
    formats = _Formats(workbook, plan.number_formats)
    workbook.set_properties({"title": plan.sheets[0].cells[(0, 0)].value, "company": plan.params.company})
    for name, value in plan.properties.items():
        workbook.set_custom_property(name, value)
    sheets = {}
    for sheet in sorted(plan.sheets, key=lambda sheet: not sheet.first):  # Start here first
        if not sheet.hidden:
            fit.fit_sheet(sheet, formats.font, _print_last_col(sheet), _smallest_font(sheet, formats))
        sheets[sheet.name] = _write_sheet(workbook, sheet, formats)
        if not sheet.hidden:
            _print_setup(sheets[sheet.name], sheet, formats, plan)
    for name, reference in plan.names.items():
        workbook.define_name(name, reference)
    for sheet in plan.sheets:
        for chart in sheet.charts:
            _write_chart(workbook, sheets[sheet.name], chart)
    if notes is not None:
        annotate(workbook, sheets, notes)
    workbook.close()


@cache
def _role_font(role: str) -> fit.Font:
    """The font of a role's cells (asked for each of a sheet's cells)."""
    props = dict(_BASE, **_ROLES[role])
    return fit.Font(props["font_size"], bool(props.get("bold")), bool(props.get("text_wrap")))


class _Formats:
    def __init__(self, workbook: xlsxwriter.Workbook, number_formats: dict[str, str]):
        self.workbook, self.number_formats, self.cache = workbook, number_formats, {}

    def get(self, style: Style):
        found = self.cache.get(style)
        if found is None:
            role, kind = style
            props = dict(_BASE, **_ROLES[role])
            if kind:
                props["num_format"] = self.number_formats[kind]
            elif role in self.number_formats:  # month and week headers, in the workbook's language
                props["num_format"] = self.number_formats[role]

            found = self.cache[style] = self.workbook.add_format(props)
        return found

    def font(self, style: Style) -> fit.Font:
        """The font of a style, for sizing rows and columns."""
        return _role_font(style[0])

    def highlight(self, style: str):
        key = "highlight:" + style
        if key not in self.cache:
            self.cache[key] = self.workbook.add_format(_HIGHLIGHTS[style])
        return self.cache[key]


def _write_sheet(workbook: xlsxwriter.Workbook, sheet: SheetPlan, formats: _Formats):
    ws = workbook.add_worksheet(sheet.name)
    for col, width in sheet.widths.items():
        ws.set_column(col, col, width)
    _write_rows(ws, sheet, formats)
    for r1, c1, r2, c2, options in sheet.validations:
        ws.data_validation(r1, c1, r2, c2, options)
    for r1, c1, r2, c2, formula, style in sheet.highlights:
        ws.conditional_format(
            r1, c1, r2, c2, {"type": "formula", "criteria": "=" + formula, "format": formats.highlight(style)}
        )
    if sheet.freeze:
        ws.freeze_panes(*sheet.freeze)
    if sheet.protect:
        options = {
            "format_columns": True,
            "format_rows": True,
            "select_locked_cells": True,
            "select_unlocked_cells": True,
        }
        ws.protect("", {**options, **dict.fromkeys(sheet.allows, True)})
    if sheet.hidden:
        ws.hide()
    if sheet.first:
        ws.activate()
    return ws


# --------------------------------------------------------------------------- printing

BLANK_PRINT_ROWS = 30  # rows of an empty table of blank rows that print: a page to fill in by hand
CHART_POINTS = 340 * 0.75  # a chart's height (set in _write_chart) in points


def _print_setup(ws, sheet: SheetPlan, formats: _Formats, plan: WorkbookPlan) -> None:
    """A4, the orientation and scale of :func:`fit.page_setup`, the header rows (and, where the
    columns run over several pages, the label columns) on every page, page breaks that keep
    charts whole, a print area without the empty rows of tables, and a footer."""
    last_col = _print_last_col(sheet)
    last_row = _print_last_row(sheet)
    widths = [sheet.widths.get(col, fit.DEFAULT_WIDTH) for col in range(last_col + 1)]
    setup = fit.page_setup(widths, _smallest_font(sheet, formats), sheet.landscape if sheet.print_fixed else None)
    ws.set_paper(9)  # A4
    if setup.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    ws.set_print_scale(setup.scale)
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
    if sheet.repeat_rows:
        ws.repeat_rows(*sheet.repeat_rows)
    if setup.across:
        label_columns = max(sheet.freeze[1] if sheet.freeze else 0, 1)
        ws.repeat_columns(0, label_columns - 1)
        ws.print_across()  # a timeline's pages follow each other from left to right
        ws.set_v_pagebreaks(_column_breaks(sheet, setup, label_columns, last_col))
    ws.print_area(0, 0, last_row, last_col)
    breaks = _chart_breaks(sheet, setup)
    if breaks:
        ws.set_h_pagebreaks(breaks)
    title = plan.sheets[0].cells.placed[(0, 0)].value
    ws.set_footer(fit.footer(str(title)[:80], str(plan.params.company)[:80], setup.scale), {"margin": 0.2})


def _print_last_col(sheet: SheetPlan) -> int:
    return max(sheet.last_col, 11 if sheet.charts else 0)


def _smallest_font(sheet: SheetPlan, formats: _Formats) -> float:
    """The smallest font size of the sheet's cells that show something."""
    return min(
        [formats.font(cell.style).size for cell in sheet.cells.placed.values() if cell.value not in (None, "")]
        + [formats.font(store.style).size for store in sheet.stores],
        default=10.0,
    )


def _print_last_row(sheet: SheetPlan) -> int:
    """The last row to print: the last cell, but a table of blank rows only to its last filled
    row, and at least :data:`BLANK_PRINT_ROWS` of it (when nothing is placed below it)."""
    lowest = max((row for row, _ in sheet.cells.placed), default=None)  # the last placed cell's row
    last = max(lowest if lowest is not None else 0, sheet.print_rows - 1)
    if not sheet.stores:
        return last
    if lowest is not None and any(lowest > store.last_row for store in sheet.stores):
        return max(last, *(store.last_row for store in sheet.stores))
    filled = -1
    for store in sheet.stores:
        if store.kind == "input":
            filled = max(filled, max((i for i, v in enumerate(store.values) if v not in (None, "")), default=-1))
    for store in sheet.stores:
        rows = min(len(store.values), max(filled + 1, BLANK_PRINT_ROWS))
        last = max(last, store.first_row + rows - 1)
    return last


def _column_breaks(sheet: SheetPlan, setup: fit.PageSetup, label_columns: int, last_col: int) -> list[int]:
    """Columns to start a page at, across: as many columns as fit, a merged cell (a month of
    the roadmap's band) never split between pages."""
    room = (fit.PAGE_LONG if setup.landscape else fit.PAGE_SHORT) - 2 * fit.MARGIN_SIDE
    room = room * 100 / setup.scale * 0.97
    width = {col: fit.column_points(sheet.widths.get(col, fit.DEFAULT_WIDTH)) for col in range(last_col + 1)}
    room -= sum(width[col] for col in range(label_columns))
    merged = {c1: c2 for spans in sheet.merges.values() for _, c1, _, c2 in spans}
    inside = {col for c1, c2 in merged.items() for col in range(c1 + 1, c2 + 1)}
    breaks, used, col = [], 0.0, label_columns
    while col <= last_col:
        end = merged.get(col, col)
        span = sum(width[c] for c in range(col, end + 1))
        if used and used + span > room and col not in inside:
            breaks.append(col)
            used = 0.0
        used += span
        col = end + 1
    return breaks


def _chart_breaks(sheet: SheetPlan, setup: fit.PageSetup) -> list[int]:
    """Rows to start a page at so that no chart is cut: walks the rows as the pages fill."""
    if not sheet.charts:
        return []
    starts = {chart.row for chart in sheet.charts}
    room = fit.page_rows(setup)
    repeat = 0.0
    if sheet.repeat_rows:
        repeat = sum(
            sheet.heights.get(r, fit.DEFAULT_HEIGHT) for r in range(sheet.repeat_rows[0], sheet.repeat_rows[1] + 1)
        )
    # The charts start a page (LibreOffice's page body is a little shorter than the estimate).
    room *= 0.9
    breaks, used = [], 0.0
    for row in range(max(starts) + 1):
        height = sheet.heights.get(row, fit.DEFAULT_HEIGHT)
        if row in starts and (row == min(starts) or used + CHART_POINTS + 6 > room):
            # A page starting on the chart's own row prints a sliver of it on the page before.
            breaks.append(row - 1)
            used = repeat
        elif used + height > room:
            used = repeat
        used += height
    return breaks


def _write_rows(ws, sheet: SheetPlan, formats: _Formats) -> None:
    """Every cell, row by row (constant_memory mode drops a row once the next one starts)."""
    by_row: dict[int, list[tuple[int, Cell]]] = {}
    for (row, col), cell in sheet.cells.placed.items():  # the stores' rows are written below
        by_row.setdefault(row, []).append((col, cell))
    rows = set(by_row) | set(sheet.heights)
    stores = sorted(sheet.stores, key=lambda store: store.col)
    for store in stores:
        rows.update(range(store.first_row, store.last_row + 1))
    # (first row, values, texts, col, format) of each store, the loop's constants bound once
    columns = [(s.first_row, s.values, s.texts, s.col, formats.get(s.style)) for s in stores]
    write_formula = formula_writer(ws)
    write_value = value_writer(ws)
    heights = sheet.heights
    for row in sorted(rows):
        if row in heights:
            ws.set_row(row, heights[row])
        placed = by_row.get(row)
        if placed:
            for col, cell in sorted(placed):
                _write_cell(row, col, cell, formats.get(cell.style), write_formula, write_value)
        if row in sheet.merges:
            _write_merges(ws, sheet, row, formats)
        for first_row, values, texts, col, fmt in columns:
            index = row - first_row
            if 0 <= index < len(values):
                value = values[index]
                if texts is not None:
                    write_formula(
                        row, col, texts[index], fmt, value.code if isinstance(value, fx.ExcelError) else value
                    )
                else:
                    write_value(row, col, value, fmt)


def formula_writer(ws) -> Callable[[int, int, str, Any, Any], None]:
    """``write(row, col, text, format, value)``: a formula (its text without "=") and its value.

    On xlsxwriter's own worksheet, a formula that write_formula would not rewrite is stored
    directly, as write_formula stores it (what makes most of the time of writing 100,000 posts);
    anything else (a wrapped worksheet, another xlsxwriter) calls write_formula.
    """
    if type(ws) is not Worksheet or CellFormulaTuple is None:
        return lambda row, col, text, fmt, value: ws.write_formula(row, col, "=" + text, fmt, value)
    needs_xlsxwriter = _REWRITTEN_BY_XLSXWRITER.search
    check = ws._check_dimensions

    def write(row: int, col: int, text: str, fmt: Any, value: Any) -> None:
        if not text or needs_xlsxwriter(text):
            ws.write_formula(row, col, "=" + text, fmt, value)
        elif not check(row, col):
            if ws.constant_memory and row > ws.previous_row:
                ws._write_single_row(row)
            ws.table[row][col] = CellFormulaTuple(text, fmt, value)

    return write


def _write_merges(ws, sheet: SheetPlan, row: int, formats: _Formats) -> None:
    """The merged ranges starting on ``row`` (written with their row: constant_memory mode)."""
    for r1, c1, r2, c2 in sheet.merges.get(row, ()):
        cell = sheet.cells.placed[(r1, c1)]
        ws.merge_range(r1, c1, r2, c2, cell.value, formats.get(cell.style))


def value_writer(ws) -> Callable[[int, int, Any, Any], None]:
    """``write(row, col, value, format)``: a blank, boolean, number, date or text cell.

    On xlsxwriter's own worksheet, its undecorated methods (the public ones first check for "A1"
    notation, on each of a workbook's tens of thousands of cells); the same cells either way.
    """
    plain = type(ws) is Worksheet
    write_blank = ws._write_blank if plain else ws.write_blank
    write_number = ws._write_number if plain else ws.write_number
    write_string = ws._write_string if plain else ws.write_string
    write_boolean, write_datetime = ws.write_boolean, ws.write_datetime

    def write(row: int, col: int, value: Any, fmt: Any) -> None:
        if value is None or value == "":
            write_blank(row, col, None, fmt)
        elif isinstance(value, bool):
            write_boolean(row, col, value, fmt)
        elif isinstance(value, (int, float)):
            write_number(row, col, value, fmt)
        elif isinstance(value, (dt.date, dt.time)):
            write_datetime(row, col, value, fmt)
        else:
            write_string(row, col, str(value), fmt)

    return write


def _write_cell(row: int, col: int, cell: Cell, fmt, write_formula, write_value) -> None:
    value = cell.value
    if cell.kind == "formula":
        if isinstance(value, fx.ExcelError):
            value = value.code
        write_formula(row, col, cell.formula, fmt, value)
    else:
        write_value(row, col, value, fmt)


def _write_chart(workbook: xlsxwriter.Workbook, ws, chart) -> None:
    figure = workbook.add_chart({"type": chart.type})
    for name, values in chart.series:
        figure.add_series({"name": name, "categories": "=" + chart.categories, "values": "=" + values})
    figure.set_title({"name": chart.title})
    figure.set_legend({"position": "bottom"})
    # Month headers are dates: LibreOffice shows their serial numbers unless told the format.
    figure.set_x_axis({"num_format": chart.x_format, "num_format_linked": False})
    y_axis = {"num_format": chart.y_format, "num_format_linked": False} if chart.y_format else {}
    if chart.y_axis:
        y_axis["name"] = chart.y_axis
    if y_axis:
        figure.set_y_axis(y_axis)
    figure.set_size({"width": 760, "height": 340})
    ws.insert_chart(chart.row, chart.col, figure)


# --------------------------------------------------------------------------- notes on cells


@dataclass
class Notes:
    """What ``smm-sheets fix`` says on a workbook: a comment on each cell a finding is about (the
    cell highlighted), and a sheet listing every finding with a link to its cell.

    Attributes:
        cells: (sheet name, row, col, text, severity) per cell; severity ``error`` or another.
        sheet: the name of the listing sheet.
        headers: its column headers (sheet, cell, severity, code, message).
        rows: (sheet name or None, A1 cell or None, severity, code, message) per finding.
    """

    cells: list[tuple[str, int, int, str, str]] = field(default_factory=list)
    sheet: str = "Findings"
    headers: tuple[str, ...] = ("sheet", "cell", "severity", "code", "message")
    rows: list[tuple[str | None, str | None, str, str, str]] = field(default_factory=list)


def annotate(workbook: xlsxwriter.Workbook, sheets: dict[str, Any], notes: Notes) -> None:
    """Comments and highlights on the cells of ``notes``, and its listing sheet (its texts always text)."""
    marks = {
        "error": workbook.add_format(_HIGHLIGHTS["bad"]),
        "other": workbook.add_format(_HIGHLIGHTS["warn"]),
    }
    for name, row, col, text, severity in notes.cells:
        ws = sheets.get(name)
        if ws is None:
            continue
        ws.write_comment(row, col, text, {"x_scale": 3, "y_scale": 2})
        mark = marks["error"] if severity == "error" else marks["other"]
        ws.conditional_format(row, col, row, col, {"type": "formula", "criteria": "=TRUE", "format": mark})
    ws = workbook.add_worksheet(notes.sheet)
    bold = workbook.add_format(dict(_BASE, **_ROLES["header"]))
    plain = workbook.add_format(dict(_BASE, text_wrap=True, valign="top"))
    link = workbook.add_format(dict(_BASE, font_color="#0563C1", underline=1, valign="top"))
    for col, (header, width) in enumerate(zip(notes.headers, (24, 8, 10, 22, 100))):
        ws.set_column(col, col, width)
        ws.write_string(0, col, header, bold)
    for r, (name, cell, severity, code, message) in enumerate(notes.rows, start=1):
        ws.write_string(r, 0, name or "", plain)
        if name and cell and name in sheets:
            quoted = "'" + name.replace("'", "''") + "'"
            ws.write_url(r, 1, f"internal:{quoted}!{cell}", link, string=cell)
        else:
            ws.write_string(r, 1, cell or "", plain)
        ws.write_string(r, 2, severity, plain)
        ws.write_string(r, 3, code, plain)
        ws.write_string(r, 4, message, plain)
    ws.freeze_panes(1, 0)


def write_annotated(
    plan: WorkbookPlan, target: Path, notes: Notes | None, kept: dict[Path, Path] | None = None
) -> Path:
    """Write the plan with ``notes`` to ``target`` atomically, replacing it if it exists; a
    target that is not this same workbook may hold someone's work and is kept as a copy first.

    Args:
        plan: the plan to write.
        target: the .xlsx path.
        notes: comments and highlights.
        kept: filled with target -> its kept copy.

    Raises:
        FileError: the target or a kept copy cannot be written.
    """
    return write_all([(plan, target)], force=True, kept=kept, notes=notes)[0]


# --------------------------------------------------------------------------- a plain table workbook

# Number formats of write_table's column kinds.
_TABLE_FORMATS = {"text": None, "integer": "#,##0", "number": "#,##0.00", "percent": "0.0%"}


def write_table(
    target: Path,
    title: str,
    columns: list[tuple[str, str]],
    rows: Any,
    totals: list[tuple[str, dict[int, tuple]]] = (),
    chart: dict[str, Any] | None = None,
) -> Path:
    """Write a one-sheet table workbook atomically: a title, a header, one row per item (text
    always as text), total rows by formula with their values, and a column chart.

    Args:
        target: the .xlsx path (replaced if it exists).
        title: the sheet's title line; the sheet is named after it (cut to 31 characters).
        columns: (header, kind) pairs; kind is text, integer, number or percent.
        rows: an iterable of rows (lists of values, one per column), written as they come.
        totals: rows below the table: (label, {column index: spec}); a spec is
            ``("sum", value)`` or ``("sumif", criteria column index, text, value)``, the value
            being what the formula gives, stored with it.
        chart: ``{"title": str, "categories": column index, "values": [column indexes]}``.

    Returns:
        The path written.

    Raises:
        FileError: the folder cannot be written to.
    """
    return atomic.write_file(target, lambda path: _render_table(path, title, columns, rows, totals, chart))


def _render_table(
    path: str, title: str, columns: list[tuple[str, str]], rows: Any, totals: Any, chart: dict[str, Any] | None
) -> None:
    import re

    from xlsxwriter.utility import xl_range_abs

    workbook = xlsxwriter.Workbook(
        path,
        {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False, "constant_memory": True},
    )
    base = dict(_BASE)
    title_format = workbook.add_format({**base, **_ROLES["title"]})
    header_format = workbook.add_format({**base, **_ROLES["header"]})
    body = [
        workbook.add_format({**base, **({"num_format": _TABLE_FORMATS[kind]} if _TABLE_FORMATS[kind] else {})})
        for _, kind in columns
    ]
    total = [
        workbook.add_format(
            {**base, **_ROLES["total"], **({"num_format": _TABLE_FORMATS[kind]} if _TABLE_FORMATS[kind] else {})}
        )
        for _, kind in columns
    ]
    name = "".join(c for c in title if c not in "[]:*?/\\")[:31].strip("' ") or "Table"
    ws = workbook.add_worksheet(name)
    for col, (header, kind) in enumerate(columns):
        ws.set_column(col, col, max(10, min(40, len(header) + 2)) if kind != "text" else 28)
    ws.write_string(0, 0, title, title_format)
    first = 2
    ws.set_row(first, 30)
    for col, (header, _) in enumerate(columns):
        ws.write_string(first, col, header, header_format)
    ws.freeze_panes(first + 1, 1)
    last = first
    write_value = value_writer(ws)
    for values in rows:
        last += 1
        for col, value in enumerate(values):
            write_value(last, col, value, body[col])
    if last > first:
        ws.autofilter(first, 0, last, len(columns) - 1)
    row = last
    for label, specs in totals:
        row += 1
        ws.write_string(row, 0, label, total[0])
        for col in range(1, len(columns)):
            spec = specs.get(col)
            if spec is None:
                ws.write_blank(row, col, None, total[col])
            elif last == first:  # no rows: no range to sum
                ws.write_number(row, col, spec[-1], total[col])
            elif spec[0] == "sum":
                ws.write_formula(row, col, f"=SUM({xl_range_abs(first + 1, col, last, col)})", total[col], spec[-1])
            else:
                _, criteria_col, text, value = spec
                criterion = '"=' + re.sub(r"([~*?])", r"~\1", text).replace('"', '""') + '"'
                where = xl_range_abs(first + 1, criteria_col, last, criteria_col)
                ws.write_formula(
                    row,
                    col,
                    f"=SUMIF({where},{criterion},{xl_range_abs(first + 1, col, last, col)})",
                    total[col],
                    value,
                )
    if chart and last > first:
        figure = workbook.add_chart({"type": "column"})
        categories = [name, first + 1, chart["categories"], last, chart["categories"]]
        for col in chart["values"]:
            figure.add_series(
                {"name": [name, first, col], "categories": categories, "values": [name, first + 1, col, last, col]}
            )
        figure.set_title({"name": chart["title"]})
        figure.set_legend({"position": "bottom"})
        figure.set_size({"width": 900, "height": 380})
        ws.insert_chart(row + 2, 0, figure)
    workbook.close()
