"""Formula templates: one parser, two back ends.

A template is an Excel expression whose references are blueprint item names in braces::

    MAX(0, {available} - {actual})

:func:`parse` turns it into a small tree once. :func:`to_a1` writes the Excel formula of
one cell, given how each reference resolves there, and :func:`evaluate` computes the value
the generator caches in the file, so that a workbook reads correctly before any
spreadsheet app has recalculated it.

Only plain A1 references and functions that Excel, LibreOffice and Google Sheets all know
are accepted (see ``FUNCTIONS``). The evaluator computes what LibreOffice (en-US) computes,
which the test suite checks cell by cell (``tests/test_formula_libreoffice.py``); where
LibreOffice and Excel differ it follows LibreOffice, except for logical values: TRUE and FALSE
stay logical values as in Excel, where LibreOffice treats them as the numbers 1 and 0.
Highlights of those rules:

- Text becomes a number the way LibreOffice reads typed input: ``"1,000"``, ``" 5 "``,
  ``"50%"``, ``"1e3"``, ISO dates and times (``"2027-01-15"``, ``"10:30"``), ``"TRUE"``;
  never ``"nan"``, ``"Infinity"``, ``"1_000"`` or other digits than 0-9 (#VALUE!).
- A number becomes text with up to 15 significant digits (``1/3&""`` is
  ``"0.333333333333333"``, ``1E+016`` beyond).
- Numbers compare equal when they agree to about 15 digits (``0.1+0.2=0.3``).
- Criteria (COUNTIF, SUMIFS...): ``"5"`` matches the number 5 and the text "5"; ``"<>5"``
  everything else (blanks and text included); ``*``, ``?`` and ``~`` are wildcards, where
  ``~`` takes the next character literally (``"A~B"`` matches "AB"); ``"="`` matches empty
  cells, ``""`` empty cells and empty text.
- Overflow is #NUM!; no result is ever infinite or NaN, and no input raises an exception.

Reference modifiers: ``{x@prev}`` is the previous month, ``{x@last}`` the last month of the
plan and ``{x@all}`` the whole item regardless of where the formula stands. ``{label:key}``
is the text of a blueprint label, written into the formula as a string (a reference with the
modifier ``label``).
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import re
import sys
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import Any

from smm_sheets.sheetref import EPOCH_DATE, FIRST_DATE, FIRST_SERIAL, LAST_SERIAL, date_of_serial

MODIFIERS = ("prev", "last", "all")


class FormulaSyntaxError(ValueError):
    """A template is not a valid expression, or uses an unsupported function."""


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

    __slots__ = ("values", "masks", "columns")

    def __init__(self, values: Sequence[Any], keep: bool = False, columns: int | None = None):
        self.values = values
        self.masks: dict[Any, int] | None = {} if keep else None
        self.columns = columns

    def mask(self, criterion: Any) -> int:
        """Bit i is set when row i meets the criterion."""
        key = (type(criterion), criterion)
        found = self.masks.get(key) if self.masks is not None else None
        if found is None:
            test = _criterion(criterion)
            bits = bytearray(b"0" * len(self.values))
            last = len(self.values) - 1
            for i, value in enumerate(self.values):
                if test(value):
                    bits[last - i] = 49  # "1"
            found = int(bits, 2) if bits else 0
            if self.masks is not None:
                self.masks[key] = found
        return found


# --------------------------------------------------------------------------- parsing

_TOKEN = re.compile(
    r"""\s*(?:
      (?P<num>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)
    | (?P<str>"(?:[^"]|"")*")
    | \{label:(?P<label>[a-z][a-z0-9_.]*)\}
    | \{(?P<ref>[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*)(?:@(?P<mod>[a-z]+))?\}
    | (?P<func>[A-Z][A-Z0-9.]*)\s*\(
    | (?P<bool>TRUE|FALSE)\b
    | (?P<op><>|<=|>=|[-+*/^&=<>(),])
    )""",
    re.VERBOSE,
)

_COMPARISONS = ("=", "<>", "<", ">", "<=", ">=")


def parse(text: str) -> tuple:
    """Parse a formula template.

    Args:
        text: the template, without a leading ``=``.

    Returns:
        The expression tree (nested tuples).

    Raises:
        FormulaSyntaxError: the text is not an expression this module accepts.
    """
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    tree = parser.comparison()
    if parser.pos != len(tokens):
        raise FormulaSyntaxError(f"unexpected {tokens[parser.pos][1]!r} in {text!r}")
    return tree


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens, pos = [], 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match:
            raise FormulaSyntaxError(f"cannot read {text[pos:].strip()[:20]!r} in {text!r}")
        kind = match.lastgroup if match.lastgroup != "mod" else "ref"
        if kind == "label":
            # {label:key} is the text of a label: a constant in the formula, translated with it.
            tokens.append(("ref", (match.group("label"), "label")))
            pos = match.end()
            continue
        if kind == "num":
            if not math.isfinite(float(match.group("num"))):
                raise FormulaSyntaxError(f"number {match.group('num')} is too large in {text!r}")
            tokens.append(("num", match.group("num")))
        elif kind == "str":
            tokens.append(("str", match.group("str")[1:-1].replace('""', '"')))
        elif kind == "ref":
            mod = match.group("mod")
            if mod is not None and mod not in MODIFIERS:
                raise FormulaSyntaxError(f"unknown reference modifier @{mod} in {text!r}")
            tokens.append(("ref", (match.group("ref"), mod)))
        elif kind == "func":
            name = match.group("func")
            if name not in FUNCTIONS:
                raise FormulaSyntaxError(f"function {name} is not supported in {text!r}")
            tokens.append(("func", name))
        elif kind == "bool":
            tokens.append(("bool", match.group("bool") == "TRUE"))
        else:
            tokens.append(("op", match.group("op")))
        pos = match.end()
    return tokens


class _Parser:
    def __init__(self, tokens: list, text: str):
        self.tokens, self.text, self.pos = tokens, text, 0

    def _peek_op(self) -> str | None:
        if self.pos < len(self.tokens) and self.tokens[self.pos][0] == "op":
            return self.tokens[self.pos][1]
        return None

    def _binary(self, ops: tuple[str, ...], operand: Callable[[], tuple]) -> tuple:
        left = operand()
        while self._peek_op() in ops:
            op = self.tokens[self.pos][1]
            self.pos += 1
            left = ("bin", op, left, operand())
        return left

    def comparison(self) -> tuple:
        return self._binary(_COMPARISONS, self.concat)

    def concat(self) -> tuple:
        return self._binary(("&",), self.additive)

    def additive(self) -> tuple:
        return self._binary(("+", "-"), self.term)

    def term(self) -> tuple:
        return self._binary(("*", "/"), self.power)

    def power(self) -> tuple:
        # Excel binds unary minus tighter than ^ : -2^2 is 4.
        return self._binary(("^",), self.unary)

    def unary(self) -> tuple:
        op = self._peek_op()
        if op in ("-", "+"):
            self.pos += 1
            return ("neg" if op == "-" else "pos", self.unary())
        return self.primary()

    def primary(self) -> tuple:
        if self.pos >= len(self.tokens):
            raise FormulaSyntaxError(f"unexpected end of {self.text!r}")
        kind, value = self.tokens[self.pos]
        self.pos += 1
        if kind == "num":
            return ("num", float(value), value)
        if kind in ("str", "bool"):
            return (kind, value)
        if kind == "ref":
            return ("ref", value[0], value[1])
        if kind == "func":
            args: list[tuple] = []
            if self._peek_op() != ")":
                args.append(self.comparison())
                while self._peek_op() == ",":
                    self.pos += 1
                    args.append(self.comparison())
            self._expect(")")
            low, high = FUNCTIONS[value][1]
            if not low <= len(args) <= high:
                raise FormulaSyntaxError(f"{value} takes {low}..{high} arguments in {self.text!r}")
            return ("call", value, tuple(args))
        if value == "(":
            inner = self.comparison()
            self._expect(")")
            return ("paren", inner)
        raise FormulaSyntaxError(f"unexpected {value!r} in {self.text!r}")

    def _expect(self, op: str) -> None:
        if self._peek_op() != op:
            raise FormulaSyntaxError(f"expected {op!r} in {self.text!r}")
        self.pos += 1


def references(tree: tuple) -> list[tuple[str, str | None]]:
    """Every ``(name, modifier)`` a template refers to, in order of appearance."""
    kind = tree[0]
    if kind == "ref":
        return [(tree[1], tree[2])]
    if kind == "bin":
        return references(tree[2]) + references(tree[3])
    if kind in ("neg", "pos", "paren"):
        return references(tree[1])
    if kind == "call":
        return [ref for arg in tree[2] for ref in references(arg)]
    return []


# --------------------------------------------------------------------------- A1 text


def to_a1(tree: tuple, resolve: Callable[[str, str | None], str]) -> str:
    """Write the Excel formula text (without ``=``) of a parsed template.

    Args:
        tree: a tree from :func:`parse`.
        resolve: maps ``(name, modifier)`` to the A1 text of the cell or range it means here.
    """
    kind = tree[0]
    if kind == "num":
        return tree[2]
    if kind == "str":
        return '"' + tree[1].replace('"', '""') + '"'
    if kind == "bool":
        return "TRUE" if tree[1] else "FALSE"
    if kind == "ref":
        return resolve(tree[1], tree[2])
    if kind == "bin":
        return to_a1(tree[2], resolve) + tree[1] + to_a1(tree[3], resolve)
    if kind == "neg":
        return "-" + to_a1(tree[1], resolve)
    if kind == "pos":
        return "+" + to_a1(tree[1], resolve)
    if kind == "paren":
        return "(" + to_a1(tree[1], resolve) + ")"
    return tree[1] + "(" + ",".join(to_a1(arg, resolve) for arg in tree[2]) + ")"


# --------------------------------------------------------------------------- compiled form


@dataclass(frozen=True)
class Compiled:
    """A tree prepared for many cells: a function that evaluates it, and its A1 text pattern.

    ``pattern.format(*texts)`` writes the formula, given the A1 text of each entry of
    ``refs`` (in order); ``multi_area`` are the references that may span several areas.
    """

    tree: tuple
    run: Callable[[Callable[[str, str | None], Any]], Any]
    pattern: str
    refs: tuple[tuple[str, str | None], ...]
    multi_area: frozenset


_COMPILED: dict[int, Compiled] = {}
MULTI_AREA_FUNCTIONS = frozenset({"SUM", "MIN", "MAX", "AVERAGE", "COUNT", "COUNTA"})


def compiled(tree: tuple) -> Compiled:
    """The compiled form of a parsed tree (made once per tree and kept)."""
    found = _COMPILED.get(id(tree))
    if found is None or found.tree is not tree:
        refs: dict[tuple[str, str | None], int] = {}
        pattern = to_a1(tree, lambda name, modifier: "\0" + str(refs.setdefault((name, modifier), len(refs))) + "\0")
        pattern = pattern.replace("{", "{{").replace("}", "}}")
        pattern = re.sub("\0(\\d+)\0", r"{\1}", pattern)
        run = _guarded(_compile(tree))
        found = _COMPILED[id(tree)] = Compiled(tree, run, pattern, tuple(refs), frozenset(_multi_area(tree)))
    return found


def _multi_area(tree: tuple) -> set[tuple[str, str | None]]:
    found: set[tuple[str, str | None]] = set()
    kind = tree[0]
    if kind == "call":
        for arg in tree[2]:
            if tree[1] in MULTI_AREA_FUNCTIONS and arg[0] == "ref":
                found.add((arg[1], arg[2]))
            found |= _multi_area(arg)
    elif kind == "bin":
        found = _multi_area(tree[2]) | _multi_area(tree[3])
    elif kind in ("neg", "pos", "paren"):
        found = _multi_area(tree[1])
    return found


def _compile(tree: tuple) -> Callable[[Callable[[str, str | None], Any]], Any]:
    kind = tree[0]
    if kind in ("num", "str", "bool"):
        constant = tree[1]
        return lambda lookup: constant
    if kind == "ref":
        name, modifier = tree[1], tree[2]
        return lambda lookup: lookup(name, modifier)
    if kind in ("paren", "pos"):  # a unary plus changes nothing, as in Excel and LibreOffice
        return _compile(tree[1])
    if kind == "bin":
        op, left, right = tree[1], _compile(tree[2]), _compile(tree[3])
        return lambda lookup: _binary(op, _scalar(left(lookup)), _scalar(right(lookup)))
    if kind == "neg":
        inner = _compile(tree[1])
        return lambda lookup: _negate(_scalar(inner(lookup)))
    function, args = FUNCTIONS[tree[1]][0], [_compile(arg) for arg in tree[2]]
    return lambda lookup: function(*[arg(lookup) for arg in args])


def _guarded(
    run: Callable[[Callable[[str, str | None], Any]], Any],
) -> Callable[[Callable[[str, str | None], Any]], Any]:
    """The last line of defence: a result is never an exception, infinite, NaN or -0."""

    def guarded(lookup: Callable[[str, str | None], Any]) -> Any:
        try:
            return _final(run(lookup))
        except (ArithmeticError, ValueError):
            return NUM

    return guarded


def _final(value: Any) -> Any:
    if value.__class__ is float:
        if value != value or value in (math.inf, -math.inf):
            return NUM
        if value == 0.0:
            return 0.0  # never -0.0
    return value


# --------------------------------------------------------------------------- evaluation


def evaluate(tree: tuple, lookup: Callable[[str, str | None], Any]) -> Any:
    """Compute a template's value the way a spreadsheet would.

    Args:
        tree: a tree from :func:`parse`.
        lookup: maps ``(name, modifier)`` to a cell value or a :class:`Range`.

    Returns:
        A float, str, bool, None (blank), :class:`ExcelError` or (for a bare reference)
        :class:`Range`; never an infinite or NaN float, never an exception from the values.
    """
    try:
        return _final(_evaluate(tree, lookup))
    except (ArithmeticError, ValueError):
        return NUM


def _evaluate(tree: tuple, lookup: Callable[[str, str | None], Any]) -> Any:
    """:func:`evaluate` without its guard (the tests check that it is never needed)."""
    kind = tree[0]
    if kind == "num" or kind == "str" or kind == "bool":
        return tree[1]
    if kind == "ref":
        return lookup(tree[1], tree[2])
    if kind == "bin":
        return _binary(tree[1], _scalar(_evaluate(tree[2], lookup)), _scalar(_evaluate(tree[3], lookup)))
    if kind == "paren" or kind == "pos":
        return _evaluate(tree[1], lookup)
    if kind == "neg":
        return _negate(_scalar(_evaluate(tree[1], lookup)))
    function = FUNCTIONS[tree[1]][0]
    return function(*[_evaluate(arg, lookup) for arg in tree[2]])


def _scalar(value: Any) -> Any:
    # A range where one value is expected: only a single cell makes sense here.
    if isinstance(value, Range):
        return value.values[0] if len(value.values) == 1 else VALUE
    return value


def _is_number(value: Any) -> bool:
    return value.__class__ is float or (isinstance(value, (int, float)) and not isinstance(value, bool))


# ----------------------------------------------------------------- text to number and back

_MAX_FLOAT = sys.float_info.max
_MIN_NORMAL = sys.float_info.min
_INT_LIMIT = 2**31  # LEFT, MID, SEARCH... refuse counts and positions from here on
_NUMERAL = re.compile(r" *([+-]?)(?:([0-9]+(?:,[0-9]{3})*)(?:\.([0-9]*))?|\.([0-9]+))(?:[eE]([+-]?[0-9]+)| *(%))? *")
_TIME = r"([0-9]{1,2}):([0-9]{1,2})(?::([0-9]{1,2}(?:\.[0-9]*)?))?"
_ISO_DATE = re.compile(r" *([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:(?:T| +)" + _TIME + ")? *")
_TIME_ONLY = re.compile(" *" + _TIME + " *")


@functools.lru_cache(maxsize=4096)
def _parse_number(text: str) -> float | None:
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
            number = math.copysign(_MAX_FLOAT, number)  # LibreOffice reads "1e999" as the largest number
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


def _number(value: Any) -> Any:
    """A value as a number: blank 0, TRUE 1, text by :func:`_parse_number`, else #VALUE!."""
    cls = value.__class__
    if cls is float:
        return value
    if value is None:
        return 0.0
    if cls is bool:
        return 1.0 if value else 0.0
    if cls is str:
        number = _parse_number(value)
        return VALUE if number is None else number
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, (int, float)):
        return float(value)
    return VALUE


def _integer(value: Any) -> Any:
    """A count or position argument: a number cut to a whole one (toward zero), or an error."""
    number = _number(_scalar(value))
    if isinstance(number, ExcelError):
        return number
    return int(number)


def _text(value: Any) -> Any:
    if value.__class__ is str:
        return value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, int):
        return str(value)
    return value


def _number_text(number: float) -> str:
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


def _truth(value: Any) -> Any:
    value = _scalar(value)
    if value.__class__ is bool:
        return value
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, str):
        number = _parse_number(value)  # "TRUE", "false", "1", "50%"...
        return VALUE if number is None else number != 0
    return _number(value) != 0


# --------------------------------------------------------------------------- operators

_E48 = 2.0**-48


def _approx_equal(a: float, b: float) -> bool:
    """Equal to about 15 significant digits (LibreOffice's rtl::math::approxEqual)."""
    if a == b:
        return True
    if a == 0.0 or b == 0.0 or (a < 0.0) != (b < 0.0):
        return False
    d = abs(a - b)
    return d < abs(a) * _E48 and d < abs(b) * _E48


def _negate(value: Any) -> Any:
    number = _number(value)
    return number if isinstance(number, ExcelError) else -number


def _binary(op: str, left: Any, right: Any) -> Any:
    if isinstance(left, ExcelError):
        return left
    if isinstance(right, ExcelError):
        return right
    if op == "&":
        return _text(left) + _text(right)
    if op in _COMPARISONS:
        return _compare(op, left, right)
    a, b = _number(left), _number(right)
    if isinstance(a, ExcelError):
        return a
    if isinstance(b, ExcelError):
        return b
    if op == "+":
        # Sums that cancel to about 15 digits are 0, as in LibreOffice: 0.1+0.2-0.3 is 0.
        result = 0.0 if ((a < 0.0 < b) or (b < 0.0 < a)) and _approx_equal(a, -b) else a + b
    elif op == "-":
        result = 0.0 if ((a < 0.0 and b < 0.0) or (a > 0.0 and b > 0.0)) and _approx_equal(a, b) else a - b
    elif op == "*":
        result = a * b
    elif op == "/":
        if b == 0:
            return DIV0
        result = a / b
    else:
        return _power(a, b)
    return result if -_MAX_FLOAT <= result <= _MAX_FLOAT else NUM


def _power(a: float, b: float) -> Any:
    try:
        if a < 0.0 and b != 0.0:
            # LibreOffice takes odd roots of negative numbers: (-8)^(1/3) is -2.
            f = 1.0 / b + (-0.5 if b < 0.0 else 0.5)
            if abs(f) >= 2.0**63:
                return NUM
            odd = int(f)
            if odd % 2 and _approx_equal(1.0 / odd, b):
                result = -((-a) ** b)
            else:
                result = a**b
        else:
            result = a**b
    except (ZeroDivisionError, OverflowError):
        return NUM
    if isinstance(result, complex) or not -_MAX_FLOAT <= result <= _MAX_FLOAT:
        return NUM
    if a != 0.0 and abs(result) < _MIN_NORMAL:
        return NUM  # underflow is an error in LibreOffice: 10^-400, 2^-1074
    return float(result)


def _rank(value: Any) -> int:
    # Numbers < text < logical values.
    if isinstance(value, bool):
        return 2
    return 1 if isinstance(value, str) else 0


def _compare(op: str, left: Any, right: Any) -> bool:
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
        if _approx_equal(a, b):
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
                elif _is_number(value):
                    numbers.append(float(value))
        elif arg is None:
            continue
        elif isinstance(arg, (str, ExcelError)):
            return VALUE if isinstance(arg, str) else arg
        else:
            numbers.append(_number(arg))
    return numbers


def _fsum(numbers: Sequence[float]) -> Any:
    try:
        total = math.fsum(numbers)
    except OverflowError:  # a partial sum overflows: add scaled down by a power of two (exact)
        scale = 2.0 ** len(numbers).bit_length()
        total = math.fsum(x / scale for x in numbers) * scale
    return total if -_MAX_FLOAT <= total <= _MAX_FLOAT else NUM


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
            counted += sum(1 for v in arg.values if _is_number(v))
        elif arg is not None and not isinstance(_number(arg), ExcelError):
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
    truth = _truth(condition)
    if isinstance(truth, ExcelError):
        return truth
    return _scalar(then if truth else otherwise)


def _iferror(value: Any, fallback: Any) -> Any:
    value = _scalar(value)
    return _scalar(fallback) if isinstance(value, ExcelError) else value


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
    truth = _truth(value)
    return truth if isinstance(truth, ExcelError) else not truth


# --------------------------------------------------------------------------- numbers


def _abs(value: Any) -> Any:
    number = _number(_scalar(value))
    return number if isinstance(number, ExcelError) else abs(number)


_ROUNDING = Context(prec=1000, rounding=ROUND_HALF_UP)


def _round(value: Any, digits: Any = 0.0) -> Any:
    number, places = _number(_scalar(value)), _integer(digits)
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
    return result if -_MAX_FLOAT <= result <= _MAX_FLOAT else NUM


# --------------------------------------------------------------------------- criteria

_OPERATORS = ("<=", ">=", "<>", "<", ">", "=")


@functools.lru_cache(maxsize=1024)
def _wildcards(text: str, anchored: bool = True) -> re.Pattern:
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


def _shown(value: Any) -> str:
    # What a wildcard pattern is matched against: text as is, numbers and logical values as text.
    return value if value.__class__ is str else _text(value)


def _criterion(criterion: Any) -> Callable[[Any], bool]:
    """A COUNTIFS/SUMIFS criterion as a predicate: 5, "Done", ">=3", "<>", "", "=", "A*"."""
    criterion = _scalar(criterion)
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
            return lambda v: v.__class__ is str and _compare(op, v, "")
        number = _parse_number(operand)
        if number is not None:
            if op not in ("=", "<>"):
                return lambda v: _is_number(v) and _compare(op, float(v), number)
            # The number, or the very text ("2024" matches 2024 and "2024", not "2024.0").
            wanted = operand.lower()
            logical = {"true": True, "false": False}.get(wanted)

            def equal(v: Any) -> bool:
                if v.__class__ is str:
                    return v.lower() == wanted
                if v.__class__ is bool:
                    return v is logical
                return _is_number(v) and _approx_equal(float(v), number)

            return equal if op == "=" else (lambda v: not equal(v))
        if op in ("=", "<>"):
            if any(char in operand for char in "*?~"):
                pattern = _wildcards(operand)

                def equal(v: Any) -> bool:
                    return v is not None and not isinstance(v, ExcelError) and pattern.fullmatch(_shown(v)) is not None
            else:
                wanted = operand.lower()
                code = operand.upper()

                def equal(v: Any) -> bool:
                    if v.__class__ is str:
                        return v.lower() == wanted
                    return isinstance(v, ExcelError) and v.code == code  # "#N/A" finds #N/A

            return equal if op == "=" else (lambda v: not equal(v))
        return lambda v: v.__class__ is str and _compare(op, v, operand)
    if criterion is None:
        criterion = 0.0
    if isinstance(criterion, bool):
        return lambda v: v is criterion
    number = float(criterion)
    return lambda v: _is_number(v) and _approx_equal(float(v), number)


def _matched(pairs: Sequence[Any]) -> Any:
    """A bit mask of the rows meeting every (range, criterion) pair."""
    ranges = [pairs[i] for i in range(0, len(pairs), 2)]
    if not all(isinstance(r, Range) for r in ranges) or len({len(r.values) for r in ranges}) != 1:
        return VALUE
    criteria = [_scalar(pairs[i]) for i in range(1, len(pairs), 2)]
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
        values = [_scalar(a) for a in args]
        for value in values:
            if isinstance(value, ExcelError):
                return value
        return function(*values)

    return wrapped


def _count_arg(value: Any) -> Any:
    count = _integer(value)
    if isinstance(count, ExcelError):
        return count
    return VALUE if count < 0 or count >= _INT_LIMIT else count


def _left(value: Any, count: Any = 1.0) -> Any:
    count = _count_arg(count)
    return count if isinstance(count, ExcelError) else _text(value)[:count]


def _right(value: Any, count: Any = 1.0) -> Any:
    count = _count_arg(count)
    if isinstance(count, ExcelError):
        return count
    text = _text(value)
    return text[max(0, len(text) - count) :] if count else ""


def _mid(value: Any, start: Any, count: Any) -> Any:
    start, count = _integer(start), _count_arg(count)
    if isinstance(start, ExcelError):
        return start
    if isinstance(count, ExcelError):
        return count
    if start < 1 or start >= _INT_LIMIT:
        return VALUE
    return _text(value)[start - 1 : start - 1 + count]


def _len(value: Any) -> Any:
    value = _scalar(value)
    return value if isinstance(value, ExcelError) else float(len(_text(value)))


def _search(needle: Any, haystack: Any, start: Any = 1.0) -> Any:
    needle, haystack = _text(needle), _text(haystack)
    begin = _integer(start)
    if isinstance(begin, ExcelError):
        return begin
    if needle == "" or begin < 1 or begin > len(haystack):
        return VALUE  # LibreOffice finds no empty text
    found = _wildcards(needle).search(haystack, begin - 1)
    return VALUE if found is None else float(found.start() + 1)


def _substitute(value: Any, old: Any, new: Any) -> str:
    text, old = _text(value), _text(old)
    return text.replace(old, _text(new)) if old else text


# --------------------------------------------------------------------------- dates


def _number_args(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        values = [_number(_scalar(a)) for a in args]
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
    at_row = _integer(row)
    if isinstance(at_row, ExcelError):
        return at_row
    at_col = None if col is None else _integer(col)
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
    value = _scalar(value)
    if isinstance(value, ExcelError):
        return value
    kind = _integer(kind)
    if isinstance(kind, ExcelError):
        return kind
    if not isinstance(cells, Range) or kind != 0:
        return NA  # only exact matching (0) is supported, which the blueprints use
    if value is None:
        value = ""  # LibreOffice looks for empty text
    if isinstance(value, str):
        # Text is matched, with wildcards, against what each cell shows: "5" finds 5.
        pattern = _wildcards(value)
        test = lambda v: v is not None and not isinstance(v, ExcelError) and pattern.fullmatch(_shown(v)) is not None
    elif isinstance(value, bool):
        test = lambda v: v is value
    else:
        number = float(value)
        test = lambda v: _is_number(v) and _approx_equal(float(v), number)
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
    "ISBLANK": (lambda v: _scalar(v) is None, (1, 1)),
    "ISNUMBER": (lambda v: _is_number(_scalar(v)), (1, 1)),
    "ISTEXT": (lambda v: isinstance(_scalar(v), str), (1, 1)),
    "LOWER": (_text_function(lambda v: _text(v).lower()), (1, 1)),
    "UPPER": (_text_function(lambda v: _text(v).upper()), (1, 1)),
    "TRIM": (_text_function(lambda v: re.sub(" +", " ", _text(v).strip(" "))), (1, 1)),
    "LEFT": (_text_function(_left), (1, 2)),
    "RIGHT": (_text_function(_right), (1, 2)),
    "MID": (_text_function(_mid), (3, 3)),
    "SUBSTITUTE": (_text_function(_substitute), (3, 3)),
    "SEARCH": (_text_function(_search), (2, 3)),
    "CONCATENATE": (_text_function(lambda *v: "".join(_text(x) for x in v)), (1, 255)),
    "DATE": (_number_args(_date), (3, 3)),
    "YEAR": (_number_args(_date_part("year")), (1, 1)),
    "MONTH": (_number_args(_date_part("month")), (1, 1)),
    "DAY": (_number_args(_date_part("day")), (1, 1)),
    "WEEKDAY": (_number_args(_weekday), (1, 2)),
    "TODAY": (lambda: float((dt.date.today() - EPOCH_DATE).days), (0, 0)),
}
