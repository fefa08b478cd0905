"""Stale values: a saved formula value that differs from what the file's inputs give."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser.checks.labels import planned_cell_facts
from smm_sheets.analyser.checks.workbook import Workbook, saved_repr
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.plan import META_SHEET
from smm_sheets.sheetref import serial


def check_stale_values(book: Workbook) -> Iterator[Finding]:
    """``stale-value``: a saved formula value that differs from what the inputs give."""
    computed = book.computed
    for s, sheet in enumerate(computed.sheets):
        if sheet.name == META_SHEET:
            continue
        for (row, col), cell in sheet.cells.placed.items():
            if cell.kind == "formula" and (s, row, col) not in book.broken and not book.gone(s, row):
                found = _stale(book, s, row, col, cell.owner or "", book.value(s, row, col), cell.value)
                if found is not None:
                    yield found
        deleted = book.gone_rows(s)
        if deleted is None:
            continue  # the sheet is missing: every row is gone
        for store in sheet.stores:
            if store.kind != "formula":
                continue
            # A table's column (100,000 posts) read in one go; most saved values equal the
            # computed ones exactly.
            first, col = store.first_row, store.col
            saved_values = book.column(s, first, col, len(store.values))
            for i, (saved, expected) in enumerate(zip(saved_values, store.values)):
                if saved.__class__ is expected.__class__ and saved.__class__ in _PLAIN and saved == expected:
                    continue  # same_value() would say so
                row = first + i
                if (s, row, col) not in book.broken and row not in deleted:
                    found = _stale(book, s, row, col, store.field.id, saved, expected)
                    if found is not None:
                        yield found


_PLAIN = (str, int, float)


def _stale(book: Workbook, s: int, row: int, col: int, owner: str, saved: Any, expected: Any) -> Finding | None:
    if saved is None and not book.data.cached_values:
        return None
    if isinstance(expected, fx.ExcelError) and expected.code == "#VALUE!" and not isinstance(saved, fx.ExcelError):
        # Text where a number or date belongs ("12/03/2027"): apps convert it where the evaluator
        # does not, and the input's type-error already names the cause.
        return None
    if same_value(saved, expected):
        return None
    name, where = book.ref(s, row, col)
    facts = planned_cell_facts(book, s, row, col, owner) | {"found": _fact(saved), "expected": _fact(expected)}
    return say("stale-value", facts, name, where)


def same_value(saved: Any, expected: Any) -> bool:
    """Does a saved cell value equal a computed one (numbers to 1e-9, blanks as empty text)?"""
    if isinstance(expected, fx.ExcelError) or isinstance(saved, fx.ExcelError):
        return isinstance(expected, fx.ExcelError) and isinstance(saved, fx.ExcelError) and expected.code == saved.code
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


def _fact(value: Any) -> Any:
    """A value as a finding's facts hold it: blank as "", error values by their code, 3 not 3.0."""
    if value is None:
        return ""
    return saved_repr(value)
