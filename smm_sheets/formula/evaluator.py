"""The evaluator: a parsed template compiled once into a Python function, run for many cells.

:func:`compiled` turns a tree into a :class:`Compiled`: a closure that computes the template's
value given how each reference resolves, and the formula's A1 text as a pattern to fill in. This
is the one evaluator of the package: the generator caches its results in the files it writes,
and the analyser recomputes saved values with it. :func:`evaluate` runs it once.

The compiled forms are kept in a bounded cache keyed by the tree's content (trees are nested
tuples), so equal templates parsed separately share one entry and repeated builds do not grow it.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from smm_sheets.formula.functions import FUNCTIONS, MULTI_AREA_FUNCTIONS
from smm_sheets.formula.values import NUM, Range, binary, negate, scalar
from smm_sheets.formula.writer import to_a1

Lookup = Callable[[str, str | None], Any]
"""Maps a reference ``(name, modifier)`` to a cell value or a :class:`~smm_sheets.formula.values.Range`."""

COMPILED_CACHE_SIZE = 4096
"""Distinct templates kept compiled; a build uses a few dozen."""


@dataclass(frozen=True)
class Compiled:
    """A tree prepared for many cells: a function that evaluates it, and its A1 text pattern.

    ``pattern.format(*texts)`` writes the formula, given the A1 text of each entry of
    ``refs`` (in order); ``arguments`` are the references that stand directly as a function's
    argument (where a range may go), and ``multi_area`` those of them that may span several areas.
    """

    tree: tuple
    run: Callable[[Lookup], Any]
    pattern: str
    refs: tuple[tuple[str, str | None], ...]
    multi_area: frozenset
    arguments: frozenset


@functools.lru_cache(maxsize=COMPILED_CACHE_SIZE)
def compiled(tree: tuple) -> Compiled:
    """The compiled form of a parsed tree, made once per distinct tree and kept.

    Args:
        tree: a tree from :func:`~smm_sheets.formula.parser.parse`.

    Returns:
        The :class:`Compiled` form; ``compiled.cache_info()`` tells how many are kept.
    """
    refs: dict[tuple[str, str | None], int] = {}
    pattern = to_a1(tree, lambda name, modifier: "\0" + str(refs.setdefault((name, modifier), len(refs))) + "\0")
    pattern = pattern.replace("{", "{{").replace("}", "}}")
    pattern = re.sub("\0(\\d+)\0", r"{\1}", pattern)
    run = _guarded(_compile(tree))
    return Compiled(
        tree, run, pattern, tuple(refs), frozenset(_arguments(tree, MULTI_AREA_FUNCTIONS)), frozenset(_arguments(tree))
    )


def evaluate(tree: tuple, lookup: Lookup) -> Any:
    """Compute a template's value the way a spreadsheet would (by its compiled form).

    Args:
        tree: a tree from :func:`~smm_sheets.formula.parser.parse`.
        lookup: maps ``(name, modifier)`` to a cell value or a :class:`~smm_sheets.formula.values.Range`.

    Returns:
        A float, str, bool, None (blank), :class:`~smm_sheets.formula.values.ExcelError` or (for a
        bare reference) a Range; never an infinite or NaN float, never an exception from the values.
    """
    return compiled(tree).run(lookup)


def _arguments(tree: tuple, functions: frozenset | None = None) -> set[tuple[str, str | None]]:
    """References that stand directly as an argument of a function (of ``functions``, if given)."""
    found: set[tuple[str, str | None]] = set()
    kind = tree[0]
    if kind == "call":
        if functions is None or tree[1] in functions:
            found.update((arg[1], arg[2]) for arg in tree[2] if arg[0] == "ref")
        for arg in tree[2]:
            found |= _arguments(arg, functions)
    elif kind == "bin":
        found = _arguments(tree[2], functions) | _arguments(tree[3], functions)
    elif kind in ("neg", "pos", "paren"):
        found = _arguments(tree[1], functions)
    return found


def _compile(tree: tuple) -> Callable[[Lookup], Any]:
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

        def run_binary(lookup: Lookup) -> Any:
            a = left(lookup)
            if a.__class__ is Range:
                a = scalar(a)
            b = right(lookup)
            if b.__class__ is Range:
                b = scalar(b)
            return binary(op, a, b)

        return run_binary
    if kind == "neg":
        inner = _compile(tree[1])
        return lambda lookup: negate(scalar(inner(lookup)))
    function, args = FUNCTIONS[tree[1]][0], [_compile(arg) for arg in tree[2]]
    # Most calls have one to three arguments: called directly, without a list per call.
    if len(args) == 1:
        (first,) = args
        return lambda lookup: function(first(lookup))
    if len(args) == 2:
        first, second = args
        return lambda lookup: function(first(lookup), second(lookup))
    if len(args) == 3:
        first, second, third = args
        return lambda lookup: function(first(lookup), second(lookup), third(lookup))
    return lambda lookup: function(*[arg(lookup) for arg in args])


def _guarded(run: Callable[[Lookup], Any]) -> Callable[[Lookup], Any]:
    """The last line of defence: a result is never an exception, infinite, NaN or -0."""

    def guarded(lookup: Lookup) -> Any:
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
