"""Place a blueprint on cells: the workbook plan, with every formula's value computed.

This is the one place that decides where blueprint items go. The generator renders the plan
(:mod:`smm_sheets.generator.xlsx`); the analyser reads filled-in workbooks back with the same
placement. Pipeline: :func:`expand` (blueprint + parameters -> the concrete rows, lists and
texts, :mod:`.expand`), placement (:mod:`.place`, references resolved by :mod:`.resolve`),
formula text and values (:mod:`.compute`), the metadata sheet (:mod:`.meta`); :func:`build`
runs them all. The plan itself is plain data (:mod:`.cells`). The analyser places a blueprint
once, formula text only, and :func:`evaluate` computes the values of that placement from a
filled-in workbook's inputs.

References in formula templates resolve by *context*: a cell sits at coordinates such as
``{line, category, month}``, and ``{planned}`` there means the cells of ``planned`` that
agree on the coordinates both share: in a line's February cell, that line's February
planned amount; in a category's February cell, the February column of that category's
lines; in a cell with no month, the whole row. The cells a reference picks must form one
rectangle, which becomes a plain A1 range.
"""

from __future__ import annotations

import dataclasses

from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters
from smm_sheets.plan import cache, meta
from smm_sheets.plan.cells import (
    GRID_LABEL_COLUMNS,
    LIST_PREFIX,
    META_SHEET,
    NAME_PREFIX,
    TODO,
    Cell,
    ChartPlan,
    ColumnStore,
    Placement,
    SheetCells,
    SheetPlan,
    Style,
    WorkbookPlan,
)
from smm_sheets.plan.compute import Computation, Evaluator, Mode
from smm_sheets.plan.expand import Expanded, ExpandedLine, expand
from smm_sheets.plan.meta import meta_parameters
from smm_sheets.plan.place import COMPUTE, EXTENDABLE_LISTS, CellSource, Placer
from smm_sheets.plan.resolve import Resolver

__all__ = [
    "COMPUTE",
    "EXTENDABLE_LISTS",
    "GRID_LABEL_COLUMNS",
    "LIST_PREFIX",
    "META_SHEET",
    "NAME_PREFIX",
    "Cell",
    "CellSource",
    "ChartPlan",
    "ColumnStore",
    "Evaluator",
    "Expanded",
    "ExpandedLine",
    "Mode",
    "Placement",
    "SheetCells",
    "SheetPlan",
    "Style",
    "WorkbookPlan",
    "build",
    "evaluate",
    "expand",
    "meta_parameters",
    "placed",
]


def build(
    blueprint: Blueprint, params: Parameters, source: CellSource | None = None, values: bool = True, text: bool = False
) -> WorkbookPlan:
    """Place every item of the blueprint and compute every formula's value.

    Args:
        source: inputs (and replaced formulas) read from a filled-in workbook; without it the
            inputs are blank, or the samples with ``params.sample``. With it, formulas get their
            values only (:attr:`Mode.VALUES`). (The analyser places once, ``values=False``, and
            calls :func:`evaluate` on that plan instead.)
        values: False makes the formulas' text only, not their values (:attr:`Mode.TEXT`); the
            plan keeps what :func:`evaluate` needs.
        text: with a source, make the formulas' text too (a workbook written from a file's
            inputs: ``smm-sheets fix``).

    Returns:
        The plan the renderer writes, and the placement the analyser reads by; with values, its
        ``evaluator`` evaluates further templates over them.

    Raises:
        InputError: the blueprint's formulas cannot be placed (a reference that is not a
            rectangle where it is used, a circular reference between cells).
    """
    if not values:
        mode = Mode.TEXT
    else:
        mode = Mode.TEXT_AND_VALUES if source is None or text else Mode.VALUES
    x = expand(blueprint, params)
    plan = WorkbookPlan(
        blueprint=blueprint,
        params=params,
        sheets=[],
        items={},
        names={},
        properties=meta.properties(blueprint),
        number_formats=meta.number_formats(params),
    )
    resolver = Resolver(plan, x)
    placer = Placer(plan, x, resolver, source)
    for sheet in blueprint.sheets:
        placer.place_sheet(sheet)
    placer.place_lists()
    computation = Computation(plan, x, resolver, mode)
    computation.finish()
    placer.finish_highlights()
    placer.place_validations_and_names()
    meta.place_meta(plan, x)
    if values and (source is None or text):  # a workbook to write (the analyser's plans have no use for it)
        placer.place_start()
    if mode.values:
        plan.evaluator = Evaluator(computation)
    else:
        plan.expanded, plan.cell_groups = x, resolver.groups
        plan.live_cells = [
            [(key, cell) for key, cell in sheet.cells.placed.items() if cell.kind in ("input", "formula")]
            for sheet in plan.sheets
        ]
    return plan


def placed(blueprint: Blueprint, params: Parameters) -> WorkbookPlan:
    """``build(blueprint, params, values=False)``, kept in memory for the next file of the same
    blueprint and parameters (see :mod:`.cache`): the returned plan may be shared, and must not
    be changed (:func:`evaluate` does not change it)."""
    return cache.placed(blueprint, params, build)


def evaluate(placed: WorkbookPlan, source: CellSource) -> WorkbookPlan:
    """The values of a plan of formula text (``build(..., values=False)``) from a filled-in
    workbook's inputs, without placing the blueprint again: what ``build(blueprint, params,
    source)`` gives, made from the same placement.

    Args:
        placed: a plan built with ``values=False``; it is not changed.
        source: the inputs (and replaced formulas) of the filled-in workbook, by planned cell.

    Returns:
        A plan with the same cells, the inputs the file's, every formula's value computed
        (:attr:`Mode.VALUES`: no formula text) and an ``evaluator``.

    Raises:
        InputError: as :func:`build` (a circular reference through a replaced formula's cells).
    """
    x = placed.expanded
    if x is None:
        raise ValueError("evaluate() needs a plan built with values=False")
    stores: dict[int, ColumnStore] = {}
    sheets = []
    to_compute: list[list[tuple[tuple[int, int], Cell]]] = []  # each sheet's formula cells, in order
    for s, sheet in enumerate(placed.sheets):
        copies = [_store_values(store, source) for store in sheet.stores]
        stores.update((id(store), copy) for store, copy in zip(sheet.stores, copies))
        values = dataclasses.replace(sheet, stores=copies)
        # Text cells are shared (nothing changes them): copied in one go, then the inputs and
        # formulas replaced by cells of their own.
        cells = values.cells.placed = dict(sheet.cells.placed)
        formulas: list[tuple[tuple[int, int], Cell]] = []
        for key, cell in placed.live_cells[s]:
            kind = cell.kind
            if kind == "input":
                cells[key] = Cell("input", cell.style, source.input(s, *key))
            elif kind == "formula":
                found = source.override(s, *key)
                made = cells[key] = Cell("formula", cell.style, found if found is not COMPUTE else None)
                if found is COMPUTE and cell.tree is not None:
                    made.tree, made.coords, made.refs = cell.tree, cell.coords, cell.refs
                    formulas.append((key, made))
                made.owner = cell.owner
        sheets.append(values)
        to_compute.append(formulas)
    items = {
        name: dataclasses.replace(item, column=stores[id(item.column)]) if item.column is not None else item
        for name, item in placed.items.items()
    }
    plan = dataclasses.replace(
        placed, sheets=sheets, items=items, evaluator=None, expanded=None, cell_groups=None, live_cells=None
    )
    # The same placement: its cells grouped by coordinates are found again (a table's column
    # store is another object here, but stores are never grouped).
    computation = Computation(plan, x, Resolver(plan, x, placed.cell_groups), Mode.VALUES)
    computation.finish(to_compute)
    plan.evaluator = Evaluator(computation)
    return plan


def _store_values(store: ColumnStore, source: CellSource) -> ColumnStore:
    """A column store of a plan of formula text, with the file's inputs (or formulas still to compute)."""
    count, sheet, first, col = len(store.values), store.sheet, store.first_row, store.col
    if store.kind == "input":
        values = source.inputs(sheet, first, col, count)
    elif store.kind == "formula":
        values = [TODO] * count
        for index, found in source.overrides(sheet, first, col, count).items():
            values[index] = found
    else:
        values = list(store.values)
    copy = ColumnStore(sheet, col, first, store.block_id, store.field, store.kind, store.style, values)
    copy.tree = store.tree
    if store.kind == "formula":
        copy.texts = None
    return copy
