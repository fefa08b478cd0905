"""Reading formula templates: the tokenizer and parser, and the references a template makes.

:func:`parse` turns a template such as ``MAX(0, {available} - {actual})`` into a tree of nested
tuples, which the writer and the evaluator share:

- ``("num", value, text)``, ``("str", text)``, ``("bool", value)``: constants;
- ``("ref", name, modifier)``: a blueprint item (modifier ``None``, one of :data:`MODIFIERS`, or
  ``"label"`` for ``{label:key}``);
- ``("bin", op, left, right)``, ``("neg", inner)``, ``("pos", inner)``, ``("paren", inner)``;
- ``("call", name, args)``: a function of :data:`~smm_sheets.formula.functions.FUNCTIONS`.

Trees are hashable: equal templates give equal trees.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from typing import Any

from smm_sheets.formula.functions import FUNCTIONS
from smm_sheets.formula.values import COMPARISONS

MODIFIERS = ("prev", "last", "all", "every")


class FormulaSyntaxError(ValueError):
    """A template is not a valid expression, or uses an unsupported function."""


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


MAX_NESTING = 64  # parentheses, function calls and signs inside each other (as Excel's 64 levels of calls)
MAX_LENGTH = 8_192  # characters: Excel's limit for a formula


def parse(text: str) -> tuple:
    """Parse a formula template.

    Args:
        text: the template, without a leading ``=``.

    Returns:
        The expression tree (nested tuples).

    Raises:
        FormulaSyntaxError: the text is not an expression this module accepts.
    """
    if len(text) > MAX_LENGTH:
        raise FormulaSyntaxError(f"a formula of {len(text):,} characters; at most {MAX_LENGTH:,}")
    tokens = _tokenize(text)
    parser = _Parser(tokens, text)
    try:
        tree = parser.comparison()
    except RecursionError:  # called from deep inside something else: still one clear error
        raise FormulaSyntaxError(f"nested too deeply in {text[:80]!r}...") from None
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
        self.depth = 0  # how deep in parentheses, calls and signs: bounded, so recursion never runs out

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise FormulaSyntaxError(f"nested more than {MAX_NESTING} deep in {self.text[:80]!r}...")

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
        return self._binary(COMPARISONS, self.concat)

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
            self._deeper()
            inner = self.unary()
            self.depth -= 1
            return ("neg" if op == "-" else "pos", inner)
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
            self._deeper()
            args: list[tuple] = []
            if self._peek_op() != ")":
                args.append(self.comparison())
                while self._peek_op() == ",":
                    self.pos += 1
                    args.append(self.comparison())
            self._expect(")")
            self.depth -= 1
            low, high = FUNCTIONS[value][1]
            if not low <= len(args) <= high:
                raise FormulaSyntaxError(f"{value} takes {low}..{high} arguments in {self.text!r}")
            return ("call", value, tuple(args))
        if value == "(":
            self._deeper()
            inner = self.comparison()
            self._expect(")")
            self.depth -= 1
            return ("paren", inner)
        raise FormulaSyntaxError(f"unexpected {value!r} in {self.text!r}")

    def _expect(self, op: str) -> None:
        if self._peek_op() != op:
            raise FormulaSyntaxError(f"expected {op!r} in {self.text!r}")
        self.pos += 1


def references(tree: tuple) -> list[tuple[str, str | None]]:
    """Every reference a template makes.

    Args:
        tree: a tree from :func:`parse`.

    Returns:
        Its ``(name, modifier)`` pairs in order of appearance, repeats included.
    """
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
