"""Values of the formula language: error values, ranges, and how values convert and compare.

This module owns what a value *is* while a formula computes: :class:`ExcelError` (the one
error-value type of the package: the evaluator computes it and the analyser's reader reads it
from files), :class:`Range`, the coercions between numbers, text and logical values the way
LibreOffice (en-US) makes them, the operators (``+ - * / ^ & = <> < > <= >=``), text collation,
and the COUNTIFS/SUMIFS/MATCH criteria that :class:`Range` keeps as bit masks.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from smm_sheets.sheetref import EPOCH_DATE, FIRST_DATE

COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")
_COMPARE = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
_ARITHMETIC = frozenset({"+", "-", "*", "/", "^"})


@dataclass(frozen=True)
class ExcelError:
    """An error value such as ``#DIV/0!``; errors are values that flow through formulas."""

    code: str

    def __str__(self) -> str:
        return self.code


DIV0 = ExcelError("#DIV/0!")
VALUE = ExcelError("#VALUE!")
NA = ExcelError("#N/A")
NUM = ExcelError("#NUM!")
REF = ExcelError("#REF!")
ERROR_CODES = {"#DIV/0!", "#VALUE!", "#N/A", "#NUM!", "#REF!", "#NAME?", "#NULL!"}


class Range:
    """The values of a referenced rectangle, row by row.

    ``columns`` is the rectangle's width when known; without it INDEX takes the range for a
    single column or a single row, whichever its arguments make sense for.

    A range made with ``keep=True`` is reused by many formulas (a whole column of posts):
    it remembers which rows meet each COUNTIFS/SUMIFS criterion, as a bit mask.
    """

    __slots__ = ("values", "masks", "columns", "_rows_of")

    def __init__(self, values: Sequence[Any], keep: bool = False, columns: int | None = None):
        self.values = values
        self.masks: dict[Any, int] | None = {} if keep else None
        self.columns = columns
        self._rows_of: dict[tuple, list[int]] | None = None  # a kept range's rows by value, on first use

    def mask(self, criterion: Any) -> int:
        """Bit i is set when row i meets the criterion."""
        key = (type(criterion), criterion)
        found = self.masks.get(key) if self.masks is not None else None
        if found is None:
            test = criterion_test(criterion)
            bits = bytearray(b"0" * len(self.values))
            last = len(self.values) - 1
            rows_of = self._value_rows() if self.masks is not None else None
            if rows_of is not None:
                # A kept range (a column of posts) is tested once per distinct value, not per row.
                for (_, value), rows in rows_of.items():
                    if test(value):
                        for i in rows:
                            bits[last - i] = 49  # "1"
            else:
                for i, value in enumerate(self.values):
                    if test(value):
                        bits[last - i] = 49  # "1"
            found = int(bits, 2) if bits else 0
            if self.masks is not None:
                self.masks[key] = found
        return found

    def _value_rows(self) -> dict[tuple, list[int]] | None:
        """The rows of each distinct value, by (class, value): True and 1.0 are not the same to a
        criterion. None when a value cannot be a key."""
        if self._rows_of is None:
            rows_of: dict[tuple, list[int]] = {}
            try:
                for i, value in enumerate(self.values):
                    key = (value.__class__, value)
                    found = rows_of.get(key)
                    if found is None:
                        rows_of[key] = [i]
                    else:
                        found.append(i)
            except TypeError:
                return None
            self._rows_of = rows_of
        return self._rows_of


def scalar(value: Any) -> Any:
    """A value where one is expected: a one-cell range gives its value, a larger one #VALUE!."""
    if isinstance(value, Range):
        return value.values[0] if len(value.values) == 1 else VALUE
    return value


def is_number(value: Any) -> bool:
    """True for a number (float or int), False for logical values and everything else."""
    return value.__class__ is float or (isinstance(value, (int, float)) and not isinstance(value, bool))


# ----------------------------------------------------------------- text to number and back

MAX_FLOAT = sys.float_info.max
_MIN_NORMAL = sys.float_info.min
INT_LIMIT = 2**31  # LEFT, MID, SEARCH... refuse counts and positions from here on
_NUMERAL = re.compile(r" *([+-]?)(?:([0-9]+(?:,[0-9]{3})*)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+)| *(%))? *")
_TIME = r"([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}(?:\.[0-9]*)?))?"
_ISO_DATE = re.compile(r" *([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:T| +)" + _TIME + ")? *")
_TIME_ONLY = re.compile(" *" + _TIME + " *")


@functools.lru_cache(maxsize=4096)
def parse_number(text: str) -> float | None:
    """The number a text stands for, as LibreOffice (en-US) reads typed input; else None.

    Accepted: an optional sign, digits 0-9 with "," between groups of three and an optional
    decimal part and exponent, or a trailing "%"; ISO dates and date-times
    (``2027-01-15``, ``2027-01-15 10:30``), times (``10:30``, ``10:30:15``); TRUE and FALSE.
    """
    match = _NUMERAL.fullmatch(text)
    if match:
        sign, whole, fraction, bare_fraction, exponent, percent = match.groups()
        digits = (whole or "0").replace(",", "") + "." + (fraction or bare_fraction or "0")
        number = float(sign + digits + ("e" + exponent if exponent else ""))
        if number in (math.inf, -math.inf):
            number = math.copysign(MAX_FLOAT, number)  # LibreOffice reads "1e999" as the largest number
        return number / 100 if percent else number
    upper = text.upper()
    if upper in ("TRUE", "FALSE"):
        return 1.0 if upper == "TRUE" else 0.0
    match = _ISO_DATE.fullmatch(text)
    if match:
        try:
            day = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            return None
        if day < FIRST_DATE:
            return None
        time = _time_of_day(match.group(4), match.group(5), match.group(6)) if match.group(4) else 0.0
        return None if time is None else (day - EPOCH_DATE).days + time
    match = _TIME_ONLY.fullmatch(text)
    if match:
        return _time_of_day(*match.groups())
    return None


def _time_of_day(hours: str, minutes: str, seconds: str | None) -> float | None:
    h, m, s = int(hours), int(minutes), float(seconds) if seconds else 0.0
    if m >= 60 or s >= 60:
        return None
    return (h * 3600 + m * 60 + s) / 86400


def as_number(value: Any) -> Any:
    """A value as a number: blank 0, TRUE 1, text by :func:`parse_number`, else #VALUE!."""
    cls = value.__class__
    if cls is float:
        return value
    if value is None:
        return 0.0
    if cls is bool:
        return 1.0 if value else 0.0
    if cls is str:
        number = parse_number(value)
        return VALUE if number is None else number
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return VALUE


def as_integer(value: Any) -> Any:
    """A count or position argument: a number cut to a whole one (toward zero), or an error."""
    number = as_number(scalar(value))
    if isinstance(number, ExcelError):
        return number
    return int(number)


def as_text(value: Any) -> Any:
    """A value as text (blank "", TRUE "TRUE", numbers by :func:`number_text`); an error stays itself."""
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return number_text(value)
    if isinstance(value, int):
        return str(value)
    return value


def number_text(number: float) -> str:
    """A number as LibreOffice writes it into text: whole numbers below 2^53 in full, others
    to 15 significant digits (at most 20 decimals), ``1E+016`` style beyond 1e15 and below 1e-14."""
    if number == 0:
        return "0"
    if number.is_integer() and abs(number) < 2**53:
        return str(int(number))
    if not math.isfinite(number):
        return "#NUM!"
    exponent = int(f"{number:.16e}".rpartition("e")[2])  # of the value to 17 digits, as LibreOffice takes it
    if exponent >= 15 or exponent <= -15:
        mantissa, power = f"{number:.14e}".split("e")
        if "." in mantissa:
            mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{int(power):+04d}"
    text = f"{number:.{min(20, 14 - exponent)}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def as_truth(value: Any) -> Any:
    """A value as a logical value: numbers are TRUE unless 0, text by :func:`parse_number`, else #VALUE!."""
    value = scalar(value)
    if value.__class__ is bool:
        return value
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, str):
        number = parse_number(value)  # "TRUE", "false", "1", "50%"...
        return VALUE if number is None else number != 0
    return as_number(value) != 0


# --------------------------------------------------------------------------- operators

_E48 = 2.0**-48


def approx_equal(a: float, b: float) -> bool:
    """Equal to about 15 significant digits (LibreOffice's rtl::math::approxEqual)."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0 or (a < 0.0) != (b < 0.0):
        return False
    d = abs(a - b)
    return d < abs(a) * _E48 and d < abs(b) * _E48


def negate(value: Any) -> Any:
    """Unary minus: the negated number, or the error converting it gave."""
    number = as_number(value)
    return number if isinstance(number, ExcelError) else -number


def binary(op: str, left: Any, right: Any) -> Any:
    """Apply an operator (``+ - * / ^ &`` or a comparison) to two scalar values.

    Returns:
        The result, or the first error of the operands; overflow is #NUM!, division by 0 #DIV/0!.
    """
    if left.__class__ is float and right.__class__ is float and op in _ARITHMETIC:
        a, b = left, right  # two numbers: nothing to convert (most operations of a workbook)
    else:
        if isinstance(left, ExcelError):
            return left
        if isinstance(right, ExcelError):
            return right
        if op == "&":
            return as_text(left) + as_text(right)
        if op in COMPARISONS:
            return compare(op, left, right)
        a, b = as_number(left), as_number(right)
        if isinstance(a, ExcelError):
            return a
        if isinstance(b, ExcelError):
            return b
    if op == "+":
        # Sums that cancel to about 15 digits are 0, as in LibreOffice: 0.1+0.2-0.3 is 0.
        result = 0.0 if ((a < 0.0 < b) or (b < 0.0 < a)) and approx_equal(a, -b) else a + b
    elif op == "-":
        result = 0.0 if ((a < 0.0 and b < 0.0) or (a > 0.0 and b > 0.0)) and approx_equal(a, b) else a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        if b == 0:
            return DIV0
        result = a / b
    else:
        return _power(a, b)
    return result if -MAX_FLOAT <= result <= MAX_FLOAT else NUM


def _power(a: float, b: float) -> Any:
    try:
        if a < 0.0 and b != 0.0:
            # LibreOffice takes odd roots of negative numbers: (-8)^(1/3) is -2.
            f = 1.0 / b + (-0.5 if b < 0.0 else 0.5)
            if abs(f) >= 2.0**63:
                return NUM
            odd = int(f)
            if odd % 2 and approx_equal(1.0 / odd, b):
                result = -((-a) ** b)
            else:
                result = a**b
        else:
            result = a**b
    except (ZeroDivisionError, OverflowError):
        return NUM
    if isinstance(result, complex) or not -MAX_FLOAT <= result <= MAX_FLOAT:
        return NUM
    if a != 0.0 and abs(result) < _MIN_NORMAL:
        return NUM  # underflow is an error in LibreOffice: 10^-400, 2^-1074
    return float(result)


def _rank(value: Any) -> int:
    # Numbers < text < logical values.
    if isinstance(value, bool):
        return 2
    return 1 if isinstance(value, str) else 0


def compare(op: str, left: Any, right: Any) -> bool:
    """A comparison of two non-error values: numbers < text < logical values, text ignoring case."""
    if left.__class__ is float and right.__class__ is float:  # two numbers (most comparisons)
        a, b = left, right
        if approx_equal(a, b):
            a = b
        return _COMPARE[op](a, b)
    # A blank compares as 0 against a number, as "" against text, as FALSE against a logical.
    if left is None:
        left = "" if isinstance(right, str) else (False if isinstance(right, bool) else 0.0)
    if right is None:
        right = "" if isinstance(left, str) else (False if isinstance(left, bool) else 0.0)
    rank_left, rank_right = _rank(left), _rank(right)
    if rank_left != rank_right:
        a, b = rank_left, rank_right
    elif rank_left == 1:
        # Text: equal ignoring case; ordered the way LibreOffice's collator orders it.
        if left.lower() == right.lower():
            a = b = 0
        elif op in ("=", "<>"):
            return op == "<>"
        else:
            a, b = _collation_key(left), _collation_key(right)
    else:
        a, b = float(left), float(right)
        if approx_equal(a, b):
            a = b
    if op == "=":
        return a == b
    if op == "<>":
        return a != b
    if op == "<":
        return a < b
    if op == ">":
        return a > b
    if op == "<=":
        return a <= b
    return a >= b


# ICU's root order of the ASCII characters that are neither letters nor digits ("$" is a currency).
_PUNCTUATION = "\t\n\v\f\r _-,;:!?.'\"()[]{}@*/\\&#%`^+<=>|~"
_PUNCTUATION_RANK = {char: i for i, char in enumerate(_PUNCTUATION)}
_LETTER_BASE = {"ø": "o", "đ": "d", "ł": "l", "ħ": "h", "æ": "ae", "œ": "oe", "ı": "i"}


@functools.lru_cache(maxsize=8192)
def _collation_key(text: str) -> tuple:
    """An approximation of LibreOffice's text order (ICU root, case ignored): spaces and
    punctuation, then currency signs, digits, letters; accents only break ties."""
    primary: list[int] = []
    accents: list[int] = []
    for char in unicodedata.normalize("NFKD", text.casefold()):
        if unicodedata.combining(char):
            if accents:
                accents[-1] = accents[-1] * 4096 + ord(char)
            continue
        for base in _LETTER_BASE.get(char, char):
            rank = _PUNCTUATION_RANK.get(base)
            if rank is not None:
                weight = rank
            elif base.isdecimal():
                weight = 3_000_000 + unicodedata.decimal(base)
            elif base.isalpha():
                weight = 4_000_000 + ord(base)
            elif unicodedata.category(base) == "Sc":
                weight = 2_000_000 + ord(base)
            else:
                weight = 1_000_000 + ord(base)
            primary.append(weight)
            accents.append(0 if base == char else 1)
    return tuple(primary), tuple(accents)


# --------------------------------------------------------------------------- criteria

_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")


@functools.lru_cache(maxsize=1024)
def wildcard_pattern(text: str, anchored: bool = True) -> re.Pattern:
    """A criterion's or SEARCH's pattern: ``*`` any text, ``?`` one character, and ``~``
    takes the next character literally (so ``~~`` is "~" and ``A~B`` is "AB"); a last ``~``
    is itself."""
    parts, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "~" and i + 1 < len(text):
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def shown_text(value: Any) -> str:
    """What a wildcard pattern is matched against: text as is, numbers and logical values as text."""
    return value if value.__class__ is str else as_text(value)


_ORDER = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def _number_order_test(order: Callable[[float, float], bool], number: float) -> Callable[[Any], bool]:
    """``is_number(v) and compare(op, float(v), number)``, without compare's sorting out of types
    (a criterion such as ">=46023" tests every post of a calendar)."""

    def test(v: Any) -> bool:
        if v.__class__ is not float:
            if not is_number(v):
                return False
            v = float(v)
        return order(number if approx_equal(v, number) else v, number)

    return test


def criterion_test(criterion: Any) -> Callable[[Any], bool]:
    """A COUNTIFS/SUMIFS criterion as a predicate: 5, "Done", ">=3", "<>", "", "=", "A*"."""
    criterion = scalar(criterion)
    if isinstance(criterion, str):
        for op in _OPERATORS:
            if criterion.startswith(op):
                operand: str = criterion[len(op) :]
                break
        else:
            op, operand = "=", criterion
        if operand == "":
            if op == "=":  # "" matches empty cells and empty text; "=" empty cells only
                return (lambda v: v is None or v == "") if criterion == "" else (lambda v: v is None)
            if op == "<>":
                return lambda v: v is not None
            return lambda v: v.__class__ is str and compare(op, v, "")
        number = parse_number(operand)
        if number is not None:
            if op not in ("=", "<>"):
                return _number_order_test(_ORDER[op], number)
            # The number, or the very text ("2024" matches 2024 and "2024", not "2024.0").
            wanted = operand.lower()
            logical = {"true": True, "false": False}.get(wanted)

            def equal(v: Any) -> bool:
                if v.__class__ is str:
                    return v.lower() == wanted
                if v.__class__ is bool:
                    return v is logical
                return is_number(v) and approx_equal(float(v), number)

            return equal if op == "=" else (lambda v: not equal(v))
        if op in ("=", "<>"):
            if any(char in operand for char in "*?~"):
                pattern = wildcard_pattern(operand)

                def equal(v: Any) -> bool:
                    return (
                        v is not None and not isinstance(v, ExcelError) and pattern.fullmatch(shown_text(v)) is not None
                    )
            else:
                wanted = operand.lower()
                code = operand.upper()

                def equal(v: Any) -> bool:
                    if v.__class__ is str:
                        return v.lower() == wanted
                    return isinstance(v, ExcelError) and v.code == code  # "#N/A" finds #N/A

            return equal if op == "=" else (lambda v: not equal(v))
        return lambda v: v.__class__ is str and compare(op, v, operand)
    if criterion is None:
        criterion = 0.0
    if isinstance(criterion, bool):
        return lambda v: v is criterion
    number = float(criterion)
    return lambda v: is_number(v) and approx_equal(float(v), number)
