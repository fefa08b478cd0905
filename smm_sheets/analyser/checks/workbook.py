"""What every check reads: the :class:`Workbook` (a file, its plan and the map between them),
the states of broken formula cells, and helpers the checks share.

A Workbook is built by the pipeline, which fills in the results of the steps before the checks
(broken formulas, inserted rows, used rows, the recomputed plan); the checks only read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser.cellmap import CellMap
from smm_sheets.analyser.findings import Finding
from smm_sheets.analyser.reader import WorkbookData
from smm_sheets.plan import Placement, WorkbookPlan
from smm_sheets.sheetref import a1

# States of a broken formula cell (values of Workbook.broken).
OVERWRITTEN, CHANGED, COUNTS_INSERTED, MISSING = "overwritten", "changed", "counts inserted rows", "missing"


@dataclass(frozen=True)
class InsertedRow:
    """A row people inserted among the plan's rows, with numbers typed in it."""

    row: int  # in the file, 0-based
    cols: tuple[int, ...]  # the columns of its numbers (not formulas)
    label: str  # its label cells' text ("Hired services · Influencer fees · Planned"), or ""


@dataclass
class Workbook:
    """Everything the checks read about one file."""

    data: WorkbookData
    plan: WorkbookPlan  # formula text, placement
    cells: CellMap
    computed: WorkbookPlan | None = None  # values recomputed from the file's inputs
    # Formula cells whose formula is gone, different or counts inserted rows, by planned (sheet, row, col):
    # one of the states below (:func:`~.formulas.compare_formulas`, :func:`~.formulas.counting_formulas`).
    broken: dict[tuple[int, int, int], str] = field(default_factory=dict)
    # Tables of blank rows: the row indexes people used (any input filled in).
    used_rows: dict[str, set[int]] = field(default_factory=dict)
    # Tables of blank rows that people added rows to (their rows were counted again).
    resized: set[str] = field(default_factory=set)
    # How the blueprint and parameters were recognised: "metadata" or "structure".
    recognised_by: str = "metadata"
    # What the formula comparison found (:func:`~.formulas.compare_formulas`), in plan order.
    formula_findings: list[Finding] = field(default_factory=list)
    # Rows people inserted among the plan's rows, by planned sheet (:func:`~.structure.inserted_rows`).
    inserted: dict[int, list[InsertedRow]] = field(default_factory=dict)
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

    def column(self, sheet: int, first_row: int, col: int, count: int) -> list[Any]:
        """The file's values at ``count`` planned cells down from (``first_row``, ``col``), as
        :meth:`value` gives them: a table's column (100,000 posts) in one go where the sheet did not move."""
        self.value(sheet, first_row, col)  # decides whether the sheet moved
        fast = self._unmoved[sheet]
        if fast is False and first_row >= 0 and col >= 0:
            # Moved: each row mapped as value() maps it, the column once.
            where = self.cells.sheets[sheet]
            found = self.data.sheets.get(where.name)
            if found is None:
                return [None] * count
            rows, deleted, file_col = where.rows, where.deleted_rows, where.cols(col)
            return [
                None if row in deleted else found.value(rows(row), file_col)
                for row in range(first_row, first_row + count)
            ]
        if fast is False or first_row < 0 or col < 0:
            return [self.value(sheet, row, col) for row in range(first_row, first_row + count)]
        if fast is None:
            return [None] * count
        rows = fast.rows[first_row : first_row + count]
        if rows and col < min(map(len, rows)):  # calamine's rows are all as wide: one C-speed pass
            values = list(map(itemgetter(col), rows))
        else:
            values = [cells[col] if col < len(cells) else None for cells in rows]
        values.extend([None] * (count - len(values)))
        return values

    def gone(self, sheet: int, row: int) -> bool:
        """Is a planned row deleted, or its sheet missing from the file?"""
        rows = self.gone_rows(sheet)
        return rows is None or row in rows

    def gone_rows(self, sheet: int) -> set[int] | None:
        """The planned rows of ``sheet`` that were deleted, or None when the sheet is missing from
        the file (every row gone): :meth:`gone` for a table's column of rows at once."""
        where = self.cells.sheets[sheet]
        return where.deleted_rows if where.name in self.data.sheets else None

    def formula(self, sheet: int, row: int, col: int) -> str | None:
        """The file's formula at a planned cell (None: none, or a format whose formulas are not read)."""
        if row in self.cells.sheets[sheet].deleted_rows:
            return None
        name, r, c = self.file_cell(sheet, row, col)
        found = self.data.sheets.get(name)
        if found is None or found.formulas is None:
            return None
        return found.formulas.get((r, c))

    def ref(self, sheet: int, row: int, col: int) -> tuple[str, str]:
        """A planned cell as a finding names it: (file sheet name, A1 reference)."""
        name, r, c = self.file_cell(sheet, row, col)
        return name, a1(r, c)


def placement_cells(placement: Placement) -> Iterator[tuple[dict, int, int]]:
    """(coordinates, row, col) of a placement's cells, without building lists for big tables."""
    store = placement.column
    if store is None:
        yield from placement._cells
        return
    for i in range(len(store.values)):
        yield {"row": (store.block_id, i)}, store.first_row + i, store.col


def saved_repr(value: Any) -> str:
    """A value read from the file as a finding quotes it: an error value as its code (``#N/A``),
    3 not 3.0, dates as dates."""
    if isinstance(value, fx.ExcelError):
        return value.code
    if isinstance(value, (dt.date, dt.time)):
        return value
    return shown(value)


def shown(value: Any) -> Any:
    """A value as a message shows it: 3 not 3.0, dates in ISO form, error codes."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, fx.ExcelError):
        return value.code
    return value


def used_rows(book: Workbook) -> dict[str, set[int]]:
    """Rows of tables of blank rows where people filled in at least one input.

    Args:
        book: the file and its plan.

    Returns:
        Table id -> the indexes of its rows with an input filled in.
    """
    used: dict[str, set[int]] = {}
    for placement in book.plan.items.values():
        store = placement.column
        if store is None or placement.role != "input":
            continue
        rows = used.setdefault(store.block_id, set())
        if len(rows) >= len(store.values) and rows.issuperset(range(len(store.values))):
            continue  # every row is used already (a calendar's posts all have a date)
        values = book.column(placement.sheet, store.first_row, store.col, len(store.values))
        rows.update([i for i, value in enumerate(values) if i not in rows and value not in (None, "")])
    return used
