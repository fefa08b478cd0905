"""Spreadsheet coordinates and serial dates, in one place: both directions use these.

Rows and columns are 0-based everywhere in the package; only the A1 text is 1-based.
Serial numbers count days from the spreadsheet epoch 1899-12-30, as Excel (1900 system),
LibreOffice and Google Sheets all do for dates after 1900-03-01.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from typing import Any

EPOCH = dt.datetime(1899, 12, 30)
EPOCH_DATE = EPOCH.date()
FIRST_DATE = dt.date(1582, 10, 15)  # LibreOffice's dates are Gregorian from here on
LAST_DATE = dt.date(9999, 12, 31)  # the last date spreadsheets know
FIRST_SERIAL = (FIRST_DATE - EPOCH_DATE).days
LAST_SERIAL = (LAST_DATE - EPOCH_DATE).days
MAX_ROWS, MAX_COLUMNS = 1_048_576, 16_384  # a sheet's size in Excel and LibreOffice

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")


@functools.lru_cache(maxsize=MAX_COLUMNS)  # called for every reference written: a column's letters once
def column_letter(col: int) -> str:
    """``0`` -> ``A``, ``27`` -> ``AB``."""
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_number(letters: str) -> int:
    """``A`` -> 0, ``ab`` -> 27."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number - 1


def a1(row: int, col: int, absolute: bool = False) -> str:
    """``(5, 3)`` -> ``D6`` (``$D$6`` when absolute)."""
    mark = "$" if absolute else ""
    return f"{mark}{column_letter(col)}{mark}{row + 1}"


def cell_position(ref: str) -> tuple[int, int] | None:
    """``D6`` or ``$D$6`` -> ``(5, 3)``; None if it is not one cell."""
    match = _CELL.fullmatch(ref)
    if match is None:
        return None
    return int(match.group(2)) - 1, column_number(match.group(1))


def quote_sheet(name: str) -> str:
    """A sheet name as a formula writes it before ``!``: always quoted, quotes doubled."""
    return "'" + name.replace("'", "''") + "'"


def serial(value: Any) -> Any:
    """A value as a formula sees it: dates, times and durations are serial numbers; others unchanged."""
    if isinstance(value, dt.datetime):
        return (value - EPOCH).total_seconds() / 86400
    if isinstance(value, dt.date):
        return float((value - EPOCH_DATE).days)
    if isinstance(value, dt.time):
        return (value.hour * 3600 + value.minute * 60 + value.second) / 86400
    if isinstance(value, dt.timedelta):
        return value.total_seconds() / 86400
    return value


def date_of_serial(number: float) -> dt.date | None:
    """The day a serial number falls on (its fraction is the time of day); None outside the dates spreadsheets know."""
    day = int(number)  # toward zero, as LibreOffice does
    if not FIRST_SERIAL <= day <= LAST_SERIAL:
        return None
    return EPOCH_DATE + dt.timedelta(days=day)
