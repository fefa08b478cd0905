"""Formula templates: one parser, two back ends.

A template is an Excel expression whose references are blueprint item names in braces::

    MAX(0, {available} - {actual})

:func:`parse` turns it into a small tree once. :func:`to_a1` writes the Excel formula of
one cell, given how each reference resolves there, and :func:`evaluate` computes the value
the generator caches in the file, so that a workbook reads correctly before any
spreadsheet app has recalculated it.

Only plain A1 references and functions that Excel, LibreOffice and Google Sheets all know
are accepted (see ``FUNCTIONS``); the evaluator follows Excel's rules for blanks, text and
errors closely enough that LibreOffice recalculates every generated cell to the same value.

Reference modifiers: ``{x@prev}`` is the previous month, ``{x@last}`` the last month of the
plan and ``{x@all}`` the whole item regardless of where the formula stands. ``{label:key}``
is the text of a blueprint label, written into the formula as a string (a reference with the
modifier ``label``).
"""

from __future__ import annotations

import datetime as dt
import math
import re
from decimal import ROUND_HALF_UP, Decimal
from dataclasses import dataclass
from typing import Any, Callable, Sequence

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
_EPOCH = dt.date(1899, 12, 30)
ERROR_CODES = {"#DIV/0!", "#VALUE!", "#N/A", "#NUM!", "#REF!", "#NAME?", "#NULL!"}


class Range:
    """The values of a referenced rectangle, row by row.

    A range made with ``keep=True`` is reused by many formulas (a whole column of posts):
    it remembers which rows meet each COUNTIFS/SUMIFS criterion, as a bit mask.
    """

    __slots__ = ("values", "masks")

    def __init__(self, values: Sequence[Any], keep: bool = False):
        self.values = values
        self.masks: dict[Any, int] | None = {} if keep else None

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
        found = _COMPILED[id(tree)] = Compiled(tree, _compile(tree), pattern, tuple(refs), frozenset(_multi_area(tree)))
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
    if kind == "paren":
        return _compile(tree[1])
    if kind == "bin":
        op, left, right = tree[1], _compile(tree[2]), _compile(tree[3])
        return lambda lookup: _binary(op, _scalar(left(lookup)), _scalar(right(lookup)))
    if kind in ("neg", "pos"):
        inner, negate = _compile(tree[1]), kind == "neg"

        def sign(lookup: Callable) -> Any:
            value = _number(_scalar(inner(lookup)))
            return -value if negate and not isinstance(value, ExcelError) else value

        return sign
    function, args = FUNCTIONS[tree[1]][0], [_compile(arg) for arg in tree[2]]
    return lambda lookup: function(*[arg(lookup) for arg in args])


# --------------------------------------------------------------------------- evaluation


def evaluate(tree: tuple, lookup: Callable[[str, str | None], Any]) -> Any:
    """Compute a template's value the way a spreadsheet would.

    Args:
        tree: a tree from :func:`parse`.
        lookup: maps ``(name, modifier)`` to a cell value or a :class:`Range`.

    Returns:
        A float, str, bool, None (blank) or :class:`ExcelError`.
    """
    kind = tree[0]
    if kind == "num" or kind == "str" or kind == "bool":
        return tree[1]
    if kind == "ref":
        return lookup(tree[1], tree[2])
    if kind == "bin":
        return _binary(tree[1], _scalar(evaluate(tree[2], lookup)), _scalar(evaluate(tree[3], lookup)))
    if kind == "paren":
        return evaluate(tree[1], lookup)
    if kind in ("neg", "pos"):
        value = _number(_scalar(evaluate(tree[1], lookup)))
        if isinstance(value, ExcelError) or kind == "pos":
            return value
        return -value
    function = FUNCTIONS[tree[1]][0]
    return function(*[evaluate(arg, lookup) for arg in tree[2]])


def _scalar(value: Any) -> Any:
    # A range where one value is expected: only a single cell makes sense here.
    if isinstance(value, Range):
        return value.values[0] if len(value.values) == 1 else VALUE
    return value


def _number(value: Any) -> Any:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, ExcelError):
        return value
    try:
        return float(value)
    except ValueError:
        return VALUE


def _text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else format(value, ".15g")
    if isinstance(value, int):
        return str(value)
    return value


def _truth(value: Any) -> Any:
    value = _scalar(value)
    if isinstance(value, ExcelError):
        return value
    if isinstance(value, str):
        upper = value.upper()
        return VALUE if upper not in ("TRUE", "FALSE") else upper == "TRUE"
    return bool(_number(value))


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
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        return DIV0 if b == 0 else a / b
    try:
        result = a**b
    except (ZeroDivisionError, OverflowError):
        return DIV0 if a == 0 else NUM
    return NUM if isinstance(result, complex) else float(result)


def _rank(value: Any) -> int:
    # Excel orders numbers < text < logical values.
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
        a, b = left.lower(), right.lower()
    else:
        a, b = float(left), float(right)
    return {
        "=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b,
    }[op]


def _flatten(args: Sequence[Any]) -> tuple[list[Any], list[Any]]:
    """Split arguments into values that came from ranges and values given directly."""
    from_ranges, direct = [], []
    for arg in args:
        if isinstance(arg, Range):
            from_ranges.extend(arg.values)
        else:
            direct.append(arg)
    return from_ranges, direct


def _numbers(args: Sequence[Any]) -> Any:
    """Numbers as SUM, MIN, MAX and AVERAGE see them: ranges skip text and blanks."""
    from_ranges, direct = _flatten(args)
    numbers = []
    for value in from_ranges:
        if isinstance(value, ExcelError):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            numbers.append(float(value))
    for value in direct:
        value = _number(value)
        if isinstance(value, ExcelError):
            return value
        numbers.append(value)
    return numbers


def _sum(*args: Any) -> Any:
    numbers = _numbers(args)
    return numbers if isinstance(numbers, ExcelError) else math.fsum(numbers)


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
    return math.fsum(numbers) / len(numbers) if numbers else DIV0


def _count(*args: Any) -> float:
    from_ranges, direct = _flatten(args)
    counted = [v for v in from_ranges if isinstance(v, (int, float)) and not isinstance(v, bool)]
    return float(len(counted) + sum(1 for v in direct if not isinstance(_number(v), ExcelError)))


def _counta(*args: Any) -> float:
    from_ranges, direct = _flatten(args)
    return float(sum(1 for v in from_ranges if v is not None and v != "") + len(direct))


def _countblank(cells: Any) -> float:
    values = cells.values if isinstance(cells, Range) else [cells]
    return float(sum(1 for v in values if v is None or v == ""))


def _if(condition: Any, then: Any = True, otherwise: Any = False) -> Any:
    truth = _truth(condition)
    if isinstance(truth, ExcelError):
        return truth
    return _scalar(then if truth else otherwise)


def _iferror(value: Any, fallback: Any) -> Any:
    value = _scalar(value)
    return _scalar(fallback) if isinstance(value, ExcelError) else value


def _and(*args: Any) -> Any:
    values = [_truth(v) for v in _flatten(args)[0] + _flatten(args)[1] if v is not None]
    errors = [v for v in values if isinstance(v, ExcelError)]
    return errors[0] if errors else all(values)


def _or(*args: Any) -> Any:
    values = [_truth(v) for v in _flatten(args)[0] + _flatten(args)[1] if v is not None]
    errors = [v for v in values if isinstance(v, ExcelError)]
    return errors[0] if errors else any(values)


def _not(value: Any) -> Any:
    truth = _truth(value)
    return truth if isinstance(truth, ExcelError) else not truth


def _abs(value: Any) -> Any:
    number = _number(_scalar(value))
    return number if isinstance(number, ExcelError) else abs(number)


def _round(value: Any, digits: Any = 0.0) -> Any:
    number, places = _number(_scalar(value)), _number(_scalar(digits))
    for checked in (number, places):
        if isinstance(checked, ExcelError):
            return checked
    # Excel rounds halves away from zero on the decimal value shown; Python's round() does not.
    exact = Decimal(repr(number)).quantize(Decimal(1).scaleb(-int(places)), rounding=ROUND_HALF_UP)
    return float(exact)


def _len(value: Any) -> Any:
    value = _scalar(value)
    return value if isinstance(value, ExcelError) else float(len(_text(value)))


def _wildcards(text: str) -> re.Pattern:
    parts, i = [], 0
    while i < len(text):
        char = text[i]
        if char == "~" and i + 1 < len(text) and text[i + 1] in "*?~":
            parts.append(re.escape(text[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _criterion(criterion: Any) -> Callable[[Any], bool]:
    """A COUNTIFS/SUMIFS criterion as a predicate: 5, "Done", ">=3", "<>", ""."""
    criterion = _scalar(criterion)
    if isinstance(criterion, str):
        for op in ("<=", ">=", "<>", "<", ">", "="):
            if criterion.startswith(op):
                operand: Any = criterion[len(op):]
                break
        else:
            op, operand = "=", criterion
        if operand == "":
            if op == "=":
                return lambda v: v is None or v == ""
            if op == "<>":
                return lambda v: v is not None and v != ""
        number = _number(operand)
        if not isinstance(number, ExcelError):
            return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and _compare(op, float(v), number)
        if op in ("=", "<>"):
            if any(ch in operand for ch in "*?~"):
                # Wildcards, as Excel and LibreOffice read them in xlsx files: * any text, ? one character.
                pattern = _wildcards(operand)
                return lambda v: (isinstance(v, str) and pattern.fullmatch(v) is not None) == (op == "=")
            wanted = operand.lower()
            return lambda v: (isinstance(v, str) and v.lower() == wanted) == (op == "=")
        return lambda v: isinstance(v, str) and _compare(op, v, operand)
    if criterion is None:
        criterion = 0.0
    if isinstance(criterion, bool):
        return lambda v: v is criterion
    return lambda v: isinstance(v, (int, float)) and not isinstance(v, bool) and float(v) == criterion


def _matched(pairs: Sequence[Any]) -> Any:
    """A bit mask of the rows meeting every (range, criterion) pair."""
    ranges = [pairs[i] for i in range(0, len(pairs), 2)]
    if not all(isinstance(r, Range) for r in ranges) or len({len(r.values) for r in ranges}) != 1:
        return VALUE
    found = -1
    for i in range(0, len(pairs), 2):
        found &= pairs[i].mask(_scalar(pairs[i + 1]))
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
    if len(pairs) % 2 or not isinstance(total, Range):
        return VALUE
    rows = _matches(pairs)
    if isinstance(rows, ExcelError):
        return rows
    if len(total.values) != len(pairs[0].values):
        return VALUE
    picked = [total.values[i] for i in rows]
    return _sum(Range(picked))


def _countif(cells: Any, criterion: Any) -> Any:
    return _countifs(cells, criterion)


def _sumif(cells: Any, criterion: Any, total: Any = None) -> Any:
    return _sumifs(cells if total is None else total, cells, criterion)


def _text_function(function: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap a function of text arguments: errors pass through, values become text."""
    def wrapped(*args: Any) -> Any:
        values = [_scalar(a) for a in args]
        for value in values:
            if isinstance(value, ExcelError):
                return value
        return function(*values)
    return wrapped


def _number_args(function: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*args: Any) -> Any:
        values = [_number(_scalar(a)) for a in args]
        for value in values:
            if isinstance(value, ExcelError):
                return value
        return function(*values)
    return wrapped


def _search(needle: Any, haystack: Any, start: Any = 1.0, case: bool = False) -> Any:
    needle, haystack = _text(needle), _text(haystack)
    begin = int(_number(start)) - 1
    if begin < 0 or begin > len(haystack):
        return VALUE
    found = (haystack if case else haystack.lower()).find(needle if case else needle.lower(), begin)
    return VALUE if found < 0 else float(found + 1)


def _date(year: float, month: float, day: float) -> Any:
    year, month = int(year), int(month)
    if year < 1900:  # Excel and LibreOffice add 1900 to years 0-1899
        year += 1900
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    serial = (dt.date(year, month, 1) - _EPOCH).days + int(day) - 1
    return NUM if serial < 1 else float(serial)


def _from_serial(serial: float) -> dt.date:
    return _EPOCH + dt.timedelta(days=int(serial))


def _weekday(serial: float, kind: float = 1.0) -> Any:
    day = _from_serial(serial).isoweekday()  # Monday 1 .. Sunday 7
    if int(kind) == 1:
        return float(day % 7 + 1)  # Sunday 1 .. Saturday 7
    if int(kind) == 2:
        return float(day)
    if int(kind) == 3:
        return float(day - 1)
    return NUM


def _index(cells: Any, row: Any, col: Any = 1.0) -> Any:
    if not isinstance(cells, Range):
        return VALUE
    at = _number(_scalar(row))
    if isinstance(at, ExcelError):
        return at
    # Only single rows or columns are used here; the position counts along them.
    position = int(at) if int(at) != 1 or len(cells.values) != 1 else int(_number(_scalar(col)))
    return cells.values[position - 1] if 1 <= position <= len(cells.values) else REF


def _match(value: Any, cells: Any, kind: Any = 1.0) -> Any:
    value = _scalar(value)
    if not isinstance(cells, Range) or int(_number(_scalar(kind))) != 0:
        return NA  # only exact matching (0) is supported, which the blueprints use
    test = _criterion(value if not isinstance(value, str) else "=" + value)
    for position, candidate in enumerate(cells.values, start=1):
        if candidate is not None and test(candidate):
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
    "ISNUMBER": (lambda v: isinstance(_scalar(v), float) and not isinstance(_scalar(v), bool), (1, 1)),
    "ISTEXT": (lambda v: isinstance(_scalar(v), str), (1, 1)),
    "LOWER": (_text_function(lambda v: _text(v).lower()), (1, 1)),
    "UPPER": (_text_function(lambda v: _text(v).upper()), (1, 1)),
    "TRIM": (_text_function(lambda v: re.sub(" +", " ", _text(v).strip(" "))), (1, 1)),
    "LEFT": (_text_function(lambda v, n=1.0: _text(v)[: int(_number(n))]), (1, 2)),
    "RIGHT": (_text_function(lambda v, n=1.0: _text(v)[len(_text(v)) - int(_number(n)):] if int(_number(n)) else ""), (1, 2)),
    "MID": (_text_function(lambda v, start, n: _text(v)[int(_number(start)) - 1: int(_number(start)) - 1 + int(_number(n))]), (3, 3)),
    "SUBSTITUTE": (_text_function(lambda v, old, new: _text(v).replace(_text(old), _text(new)) if _text(old) else _text(v)), (3, 3)),
    "SEARCH": (_text_function(_search), (2, 3)),
    "CONCATENATE": (_text_function(lambda *v: "".join(_text(x) for x in v)), (1, 255)),
    "DATE": (_number_args(_date), (3, 3)),
    "YEAR": (_number_args(lambda v: float(_from_serial(v).year)), (1, 1)),
    "MONTH": (_number_args(lambda v: float(_from_serial(v).month)), (1, 1)),
    "DAY": (_number_args(lambda v: float(_from_serial(v).day)), (1, 1)),
    "WEEKDAY": (_number_args(_weekday), (1, 2)),
    "TODAY": (lambda: float((dt.date.today() - _EPOCH).days), (0, 0)),
}
