"""What the ``fix`` tests share: hostile text, the formula findings a fixed workbook must not
have, and a workbook's inputs read through its plan."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

from smm_sheets.analyser import reader
from smm_sheets.analyser.checks.workbook import Workbook
from smm_sheets.analyser.pipeline import analyse_book
from smm_sheets.sheetref import a1

YEAR = 2031
HOSTILE = '=HYPERLINK("http://evil.invalid","click")'
FORMULA_CODES = {"formula-overwritten", "formula-changed", "formula-missing", "stale-value", "carry-over-broken"}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def planned_cell(plan, item: str, index: int = 0) -> tuple[str, int, int]:
    """The sheet name, row and column (0-based) of an item's ``index``-th cell."""
    placement = plan.items[item]
    _, row, col = placement.cells[index]
    return plan.sheets[placement.sheet].name, row, col


def ref(plan, item: str, index: int = 0, shift: int = 0) -> str:
    """The same as LibreOffice's edit actions name it: ``'Sheet'!D7`` (``shift`` rows down)."""
    name, row, col = planned_cell(plan, item, index)
    return "'" + name.replace("'", "''") + "'!" + a1(row + shift, col)


def book_inputs(book: Workbook) -> dict[tuple[str, int], tuple[Any, str, str]]:
    """Every input of an analysed workbook, through its plan: (field, index) -> (the value the
    file holds, blank as None; its file sheet; its A1 cell)."""
    found = {}
    for name, placement in book.plan.items.items():
        if placement.role != "input":
            continue
        for i, (_, row, col) in enumerate(placement.cells):
            value = book.value(placement.sheet, row, col)
            found[(name, i)] = (None if value == "" else value, *book.ref(placement.sheet, row, col))
    return found


def inputs(path: Path) -> dict[tuple[str, int], Any]:
    """Every input of a workbook, read through its plan: (field, index) -> the value (a date for a datetime)."""
    book, _ = analyse_book(reader.read(path))
    return {
        key: value.date() if isinstance(value, dt.datetime) else value
        for key, (value, _, _) in book_inputs(book).items()
    }


def plain(value: Any) -> Any:
    """A value as two formats compare: a date for a datetime, a time for a timedelta, a float for an int."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.timedelta):
        seconds = int(round(value.total_seconds()))
        return dt.time(seconds // 3600 % 24, seconds // 60 % 60, seconds % 60)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
