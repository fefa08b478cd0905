"""An independent oracle for the evaluator: the plain tree-walking interpreter.

The package has one evaluator, :func:`smm_sheets.formula.compiled`. This walk computes the
same values straight from the tree, calling the same operators and functions, so that a
test can check the compiled closures against it, and check that no input needs the guard
(the walk, unlike the compiled form, lets an exception out).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from smm_sheets.formula.functions import FUNCTIONS
from smm_sheets.formula.values import NUM, binary, negate, scalar


def walk(tree: tuple, lookup: Callable[[str, str | None], Any]) -> Any:
    """A template's value, without the guard of the compiled form (exceptions get out)."""
    kind = tree[0]
    if kind == "num" or kind == "str" or kind == "bool":
        return tree[1]
    if kind == "ref":
        return lookup(tree[1], tree[2])
    if kind == "bin":
        return binary(tree[1], scalar(walk(tree[2], lookup)), scalar(walk(tree[3], lookup)))
    if kind == "paren" or kind == "pos":
        return walk(tree[1], lookup)
    if kind == "neg":
        return negate(scalar(walk(tree[1], lookup)))
    function = FUNCTIONS[tree[1]][0]
    return function(*[walk(arg, lookup) for arg in tree[2]])


def guarded_walk(tree: tuple, lookup: Callable[[str, str | None], Any]) -> Any:
    """:func:`walk` with the guarantees of the compiled form: no exception, infinity, NaN or -0."""
    try:
        value = walk(tree, lookup)
    except (ArithmeticError, ValueError):
        return NUM
    if isinstance(value, float):
        if not math.isfinite(value):
            return NUM
        if value == 0.0:
            return 0.0
    return value
