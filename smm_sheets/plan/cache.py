"""Placed plans of formula text, kept in memory for the next file of the same blueprint and parameters.

The analyser places a blueprint with its formulas' text (``build(..., values=False)``) for every
file it reads; a portfolio, the web page or the same file analysed again place the same blueprint
with the same parameters over and over. :func:`placed` keeps the last few such plans. A kept plan
is shared: nothing may change it (:func:`~smm_sheets.plan.evaluate` makes new cells and stores
and leaves it as it is).
"""

from __future__ import annotations

import dataclasses
import threading
from collections import OrderedDict
from typing import Any

from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters
from smm_sheets.plan.cells import WorkbookPlan
from smm_sheets.plan.resolve import Rects, rectangles

PLANS_KEPT = 8
"""Plans kept: the five built-in workbooks of one client, and a few more."""

MOST_CELLS_KEPT = 50_000
"""A bigger plan (a calendar of thousands of posts) is not kept: its memory, and placing it is a
small part of analysing that many rows."""

_plans: OrderedDict[tuple, WorkbookPlan] = OrderedDict()
_lock = threading.Lock()


def placed(blueprint: Blueprint, params: Parameters, build: Any) -> WorkbookPlan:
    """``build(blueprint, params, values=False)``, or the same plan kept from an earlier call.

    Args:
        build: :func:`smm_sheets.plan.build` (passed in: this module is imported by it).

    Returns:
        A plan of formula text; the same object for the same blueprint and parameters while it
        is kept, so it must not be changed.
    """
    key = (blueprint_key(blueprint), parameters_key(params))
    with _lock:
        found = _plans.get(key)
        if found is not None:
            _plans.move_to_end(key)
            return found
    plan = build(blueprint, params, values=False)
    if cell_count(plan) <= MOST_CELLS_KEPT:
        _freeze_groups(plan)
        with _lock:
            _plans[key] = plan
            while len(_plans) > PLANS_KEPT:
                _plans.popitem(last=False)
    return plan


def clear() -> None:
    """Forget every kept plan."""
    with _lock:
        _plans.clear()


def cell_count(plan: WorkbookPlan) -> int:
    """The cells of a plan, the rows of its column stores included."""
    return sum(len(sheet.cells) for sheet in plan.sheets)


def blueprint_key(blueprint: Blueprint) -> tuple:
    """A key equal for the same blueprint, and for the same blueprint resized again the same way.

    A file's blueprint is the loaded one, or a copy with its tables of blank rows resized
    (``dataclasses.replace`` down to the table's rows, see ``recognise.sized_blueprint``): every
    other part is the loaded blueprint's very object. So the key is the identity of each part, and
    the rows of each block by value. A kept plan holds its blueprint, so no part of it can be
    collected and its id reused while the key is in use.
    """
    return _parts(blueprint, "sheets", lambda sheet: _parts(sheet, "blocks", _block_key))


def _block_key(block: Any) -> tuple:
    return tuple(
        getattr(block, f.name) if f.name == "rows" else id(getattr(block, f.name)) for f in dataclasses.fields(block)
    )


def _parts(item: Any, inner: str, inner_key: Any) -> tuple:
    """The ids of ``item``'s fields, ``inner`` (a tuple) by ``inner_key`` of each of its members."""
    return (type(item),) + tuple(
        tuple(inner_key(member) for member in getattr(item, f.name)) if f.name == inner else id(getattr(item, f.name))
        for f in dataclasses.fields(item)
    )


def parameters_key(params: Parameters) -> tuple:
    """Every parameter, by value (the options' dict as sorted pairs)."""
    return tuple(
        tuple(sorted(value.items())) if isinstance(value, dict) else value
        for value in (getattr(params, f.name) for f in dataclasses.fields(params))
    )


def _freeze_groups(plan: WorkbookPlan) -> None:
    """Turn every group of cells the resolver made into rectangles now, so that evaluating the
    shared plan only reads them (the resolver otherwise does it on first use)."""
    for _, groups in (plan.cell_groups or {}).values():
        for wanted, cells in groups.items():
            if not isinstance(cells, Rects):
                groups[wanted] = Rects(rectangles(cells))
