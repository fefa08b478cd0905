"""The spreadsheet functions of the formula language, and :data:`FUNCTIONS`, their table.

Each function takes its arguments as values (ranges as :class:`~smm_sheets.formula.values.Range`)
and returns a value; none raises on any input. ``FUNCTIONS`` maps a name to the function and the
number of arguments it takes; only functions that Excel, LibreOffice and Google Sheets all know
are in it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from smm_sheets.formula.values import (
    DIV0,
    INT_LIMIT,
    MAX_FLOAT,
    NA,
    NUM,
    VALUE,
    ExcelError,
    Range,
    approx_equal,
    as_integer,
    as_number,
    as_text,
    as_truth,
    is_number,
    scalar,
    shown_text,
    wildcard_pattern,
)
from smm_sheets.sheetref import EPOCH_DATE, FIRST_SERIAL, LAST_SERIAL, date_of_serial

# --------------------------------------------------------------------------- aggregates


def _numbers(args: Sequence[Any]) -> Any:
    """Numbers as SUM, MIN, MAX and AVERAGE see them: ranges give their numbers only (no text,
    blanks or logical values); a value given directly counts, except text (#VALUE!)."""
    numbers = []
    for arg in args:
        if isinstance(arg, Range):
            for value in arg.values:
                if value.__class__ is float:
                    numbers.append(value)
                elif isinstance(value, ExcelError):
                    return value
                elif is_number(value):
                    numbers.append(float(value))
        elif arg is None:
            continue
        elif isinstance(arg, (str, ExcelError)):
            return VALUE if isinstance(arg, str) else arg
        else:
            numbers.append(as_number(arg))
    return numbers


def _fsum(numbers: Sequence[float]) -> Any:
    try:
        total = math.fsum(numbers)
    except OverflowError:  # a partial sum overflows: add scaled down by a power of two (exact)
        scale = 2.0 ** len(numbers).bit_length()
        total = math.fsum(x / scale for x in numbers) * scale
    return total if -MAX_FLOAT <= total <= MAX_FLOAT else NUM


def _sum(*args: Any) -> Any:
    numbers = _numbers(args)
    return numbers if isinstance(numbers, ExcelError) else _fsum(numbers)


def _min(*args: Any) -> Any:
    numbers = _numbers(args)
    return numbers if isinstance(numbers, ExcelError) else (min(numbers) if numbers else 0.0)


def _max(*args: Any) -> Any:
    numbers = _numbers(args)
    return numbers if isinstance(numbers, ExcelError) else (max(numbers) if numbers else 0.0)


def _average(*args: Any) -> Any:
    numbers = _numbers(args)
    if isinstance(numbers, ExcelError):
        return numbers
    if not numbers:
        return DIV0
    total = _fsum(numbers)
    return total if isinstance(total, ExcelError) else total / len(numbers)


def _count(*args: Any) -> float:
    counted = 0
    for arg in args:
        if isinstance(arg, Range):
            counted += sum(1 for v in arg.values if is_number(v))
        elif arg is not None and not isinstance(as_number(arg), ExcelError):
            counted += 1  # a number, a logical value or text that reads as a number
    return float(counted)


def _counta(*args: Any) -> float:
    # Empty text (a formula's "") counts: only empty cells do not.
    counted = 0
    for arg in args:
        if isinstance(arg, Range):
            counted += sum(1 for v in arg.values if v is not None)
        elif arg is not None:
            counted += 1
    return float(counted)


def _countblank(cells: Any) -> float:
    values = cells.values if isinstance(cells, Range) else [cells]
    return float(sum(1 for v in values if v is None or v == ""))


# --------------------------------------------------------------------------- logic


def _if(condition: Any, then: Any = True, otherwise: Any = False) -> Any:
    truth = as_truth(condition)
    if isinstance(truth, ExcelError):
        return truth
    return scalar(then if truth else otherwise)


def _iferror(value: Any, fallback: Any) -> Any:
    value = scalar(value)
    return scalar(fallback) if isinstance(value, ExcelError) else value


def _logicals(args: Sequence[Any]) -> Any:
    """The truth values AND and OR combine: in ranges, text and blanks are left out; text
    given directly is #VALUE!, and so is having no value at all."""
    found = []
    for arg in args:
        if isinstance(arg, Range):
            for value in arg.values:
                if value is None or value.__class__ is str:
                    continue
                if isinstance(value, ExcelError):
                    return value
                found.append(bool(value))
        elif arg is None:
            continue
        elif isinstance(arg, (str, ExcelError)):
            return VALUE if isinstance(arg, str) else arg
        else:
            found.append(bool(arg))
    return found if found else VALUE


def _and(*args: Any) -> Any:
    values = _logicals(args)
    return values if isinstance(values, ExcelError) else all(values)


def _or(*args: Any) -> Any:
    values = _logicals(args)
    return values if isinstance(values, ExcelError) else any(values)


def _not(value: Any) -> Any:
    truth = as_truth(value)
    return truth if isinstance(truth, ExcelError) else not truth


# --------------------------------------------------------------------------- numbers


def _abs(value: Any) -> Any:
    number = as_number(scalar(value))
    return number if isinstance(number, ExcelError) else abs(number)


_ROUNDING = Context(prec=1000, rounding=ROUND_HALF_UP)


def _round(value: Any, digits: Any = 0.0) -> Any:
    number, places = as_number(scalar(value)), as_integer(digits)
    if isinstance(number, ExcelError):
        return number
    if isinstance(places, ExcelError):
        return places
    if places > 330:
        return number
    if places < -330:
        return 0.0
    # Halves go away from zero on the decimal value shown (2.675 -> 2.68); round() does not.
    exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-places), context=_ROUNDING)
    result = float(exact)
    return result if -MAX_FLOAT <= result <= MAX_FLOAT else NUM


# --------------------------------------------------------------------------- conditional counting


def _matched(pairs: Sequence[Any]) -> Any:
    """A bit mask of the rows meeting every (range, criterion) pair."""
    ranges = [pairs[i] for i in range(0, len(pairs), 2)]
    if not all(isinstance(r, Range) for r in ranges) or len({len(r.values) for r in ranges}) != 1:
        return VALUE
    criteria = [scalar(pairs[i]) for i in range(1, len(pairs), 2)]
    for criterion in criteria:
        if isinstance(criterion, ExcelError):
            return criterion
    found = -1
    for cells, criterion in zip(ranges, criteria):
        found &= cells.mask(criterion)
    return found & ((1 << len(ranges[0].values)) - 1)


def _matches(pairs: Sequence[Any]) -> Any:
    """Indexes of rows meeting every (range, criterion) pair."""
    mask = _matched(pairs)
    if isinstance(mask, ExcelError):
        return mask
    return [i for i, bit in enumerate(reversed(bin(mask)[2:])) if bit == "1"]


def _countifs(*pairs: Any) -> Any:
    if len(pairs) % 2:
        return VALUE
    mask = _matched(pairs)
    return mask if isinstance(mask, ExcelError) else float(bin(mask).count("1"))


def _sumifs(total: Any, *pairs: Any) -> Any:
    if len(pairs) % 2 or not isinstance(total, Range) or not isinstance(pairs[0], Range):
        return VALUE
    if len(total.values) != len(pairs[0].values):
        return VALUE
    rows = _matches(pairs)
    if isinstance(rows, ExcelError):
        return rows
    return _sum(Range([total.values[i] for i in rows]))


def _countif(cells: Any, criterion: Any) -> Any:
    return _countifs(cells, criterion)


def _sumif(cells: Any, criterion: Any, total: Any = None) -> Any:
    return _sumifs(cells if total is None else total, cells, criterion)


# --------------------------------------------------------------------------- text


def _text_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a function of text arguments: errors pass through, values become text."""

    def wrapped(*args: Any) -> Any:
        values = [scalar(a) for a in args]
        for value in values:
            if isinstance(value, ExcelError):
                return value
        return function(*values)

    return wrapped


def _count_arg(value: Any) -> Any:
    count = as_integer(value)
    if isinstance(count, ExcelError):
        return count
    return VALUE if count < 0 or count >= INT_LIMIT else count


def _left(value: Any, count: Any = 1.0) -> Any:
    count = _count_arg(count)
    return count if isinstance(count, ExcelError) else as_text(value)[:count]


def _right(value: Any, count: Any = 1.0) -> Any:
    count = _count_arg(count)
    if isinstance(count, ExcelError):
        return count
    text = as_text(value)
    return text[max(0, len(text) - count) :] if count else ""


def _mid(value: Any, start: Any, count: Any) -> Any:
    start, count = as_integer(start), _count_arg(count)
    if isinstance(start, ExcelError):
        return start
    if isinstance(count, ExcelError):
        return count
    if start < 1 or start >= INT_LIMIT:
        return VALUE
    return as_text(value)[start - 1 : start - 1 + count]


def _len(value: Any) -> Any:
    value = scalar(value)
    return value if isinstance(value, ExcelError) else float(len(as_text(value)))


def _search(needle: Any, haystack: Any, start: Any = 1.0) -> Any:
    needle, haystack = as_text(needle), as_text(haystack)
    begin = as_integer(start)
    if isinstance(begin, ExcelError):
        return begin
    if needle == "" or begin < 1 or begin > len(haystack):
        return VALUE  # LibreOffice finds no empty text
    found = wildcard_pattern(needle).search(haystack, begin - 1)
    return VALUE if found is None else float(found.start() + 1)


def _substitute(value: Any, old: Any, new: Any) -> str:
    text, old = as_text(value), as_text(old)
    return text.replace(old, as_text(new)) if old else text


# --------------------------------------------------------------------------- dates


def _number_args(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        values = [as_number(scalar(a)) for a in args]
        for value in values:
            if isinstance(value, ExcelError):
                return value
        return function(*values)

    return wrapped


def _days_from_civil(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a Gregorian date, for any year (H. Hinnant's algorithm)."""
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


_EPOCH_DAYS = _days_from_civil(1899, 12, 30)


def _date(year: float, month: float, day: float) -> Any:
    # LibreOffice reads years 0-29 as 2000-2029 and 30-99 as 1930-1999; months and days
    # beyond their ranges carry over. Dates outside 1582-10-15 .. 9999-12-31 are #VALUE!.
    y, m, d = int(year), int(month), int(day)
    if y < 0:
        return VALUE
    if y < 100:
        y += 2000 if y < 30 else 1900
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    if y > 99999:
        return VALUE
    serial = _days_from_civil(y, m, 1) - _EPOCH_DAYS + d - 1
    return float(serial) if FIRST_SERIAL <= serial <= LAST_SERIAL else VALUE


def _day_of(serial: float) -> Any:
    day = date_of_serial(serial)
    return VALUE if day is None else day


def _date_part(part: str) -> Callable[[float], Any]:
    def get(serial: float) -> Any:
        day = _day_of(serial)
        return day if isinstance(day, ExcelError) else float(getattr(day, part))

    return get


def _weekday(serial: float, kind: float = 1.0) -> Any:
    day = _day_of(serial)
    if isinstance(day, ExcelError):
        return day
    iso = day.isoweekday()  # Monday 1 .. Sunday 7
    kind = int(kind)
    if kind == 1 or kind == 17:
        return float(iso % 7 + 1)  # Sunday 1 .. Saturday 7
    if kind == 2 or kind == 11:
        return float(iso)
    if kind == 3:
        return float(iso - 1)  # Monday 0 .. Sunday 6
    if 12 <= kind <= 16:
        return float((iso - (kind - 10)) % 7 + 1)  # 12: Tuesday 1 ... 16: Saturday 1
    return VALUE


# --------------------------------------------------------------------------- lookup


def _index(cells: Any, row: Any, col: Any = None) -> Any:
    if not isinstance(cells, Range):
        return VALUE
    at_row = as_integer(row)
    if isinstance(at_row, ExcelError):
        return at_row
    at_col = None if col is None else as_integer(col)
    if isinstance(at_col, ExcelError):
        return at_col
    values = cells.values
    size = len(values)
    if at_row < 0 or (at_col is not None and at_col < 0) or size == 0:
        return VALUE
    width = cells.columns
    if width is None:
        # A single column, unless the arguments only make sense for a single row.
        width = size if at_col is not None and at_col > 1 and at_row <= 1 else 1
    height = size // width
    if at_col is None:
        if height == 1 or width == 1:  # one row or column: the number counts along it
            if at_row == 0:
                return values[0] if size == 1 else VALUE
            return values[at_row - 1] if at_row <= size else VALUE
        at_col = 0
    if at_row > height or at_col > width:
        return VALUE
    if at_row == 0 and height > 1 or at_col == 0 and width > 1:
        return VALUE  # a whole row or column where one value is expected
    return values[(max(at_row, 1) - 1) * width + max(at_col, 1) - 1]


def _match(value: Any, cells: Any, kind: Any = 1.0) -> Any:
    value = scalar(value)
    if isinstance(value, ExcelError):
        return value
    kind = as_integer(kind)
    if isinstance(kind, ExcelError):
        return kind
    if not isinstance(cells, Range) or kind != 0:
        return NA  # only exact matching (0) is supported, which the blueprints use
    if value is None:
        value = ""  # LibreOffice looks for empty text
    if isinstance(value, str):
        # Text is matched, with wildcards, against what each cell shows: "5" finds 5.
        pattern = wildcard_pattern(value)
        test = lambda v: (
            v is not None and not isinstance(v, ExcelError) and pattern.fullmatch(shown_text(v)) is not None
        )
    elif isinstance(value, bool):
        test = lambda v: v is value
    else:
        number = float(value)
        test = lambda v: is_number(v) and approx_equal(float(v), number)
    for position, candidate in enumerate(cells.values, start=1):
        if test(candidate):
            return float(position)
    return NA


FUNCTIONS: dict[str, tuple[Callable[..., Any], tuple[int, int]]] = {
    "SUM": (_sum, (1, 255)),
    "MIN": (_min, (1, 255)),
    "MAX": (_max, (1, 255)),
    "AVERAGE": (_average, (1, 255)),
    "COUNT": (_count, (1, 255)),
    "COUNTA": (_counta, (1, 255)),
    "COUNTBLANK": (_countblank, (1, 1)),
    "COUNTIFS": (_countifs, (2, 254)),
    "SUMIFS": (_sumifs, (3, 255)),
    "IF": (_if, (1, 3)),
    "IFERROR": (_iferror, (2, 2)),
    "AND": (_and, (1, 255)),
    "OR": (_or, (1, 255)),
    "NOT": (_not, (1, 1)),
    "ABS": (_abs, (1, 1)),
    "ROUND": (_round, (1, 2)),
    "LEN": (_len, (1, 1)),
    "COUNTIF": (_countif, (2, 2)),
    "SUMIF": (_sumif, (2, 3)),
    "INDEX": (_index, (2, 3)),
    "MATCH": (_match, (3, 3)),
    "ISBLANK": (lambda v: scalar(v) is None, (1, 1)),
    "ISNUMBER": (lambda v: is_number(scalar(v)), (1, 1)),
    "ISTEXT": (lambda v: isinstance(scalar(v), str), (1, 1)),
    "LOWER": (_text_function(lambda v: as_text(v).lower()), (1, 1)),
    "UPPER": (_text_function(lambda v: as_text(v).upper()), (1, 1)),
    "TRIM": (_text_function(lambda v: re.sub(" +", " ", as_text(v).strip(" "))), (1, 1)),
    "LEFT": (_text_function(_left), (1, 2)),
    "RIGHT": (_text_function(_right), (1, 2)),
    "MID": (_text_function(_mid), (3, 3)),
    "SUBSTITUTE": (_text_function(_substitute), (3, 3)),
    "SEARCH": (_text_function(_search), (2, 3)),
    "CONCATENATE": (_text_function(lambda *v: "".join(as_text(x) for x in v)), (1, 255)),
    "DATE": (_number_args(_date), (3, 3)),
    "YEAR": (_number_args(_date_part("year")), (1, 1)),
    "MONTH": (_number_args(_date_part("month")), (1, 1)),
    "DAY": (_number_args(_date_part("day")), (1, 1)),
    "WEEKDAY": (_number_args(_weekday), (1, 2)),
    "TODAY": (lambda: float((dt.date.today() - EPOCH_DATE).days), (0, 0)),
}

MULTI_AREA_FUNCTIONS = frozenset({"SUM", "MIN", "MAX", "AVERAGE", "COUNT", "COUNTA"})
"""The functions whose reference arguments may span several areas (``SUM(A1:A3,C1:C3)``)."""
