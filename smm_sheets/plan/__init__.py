"""Place a blueprint on cells: the workbook plan, with every formula's value computed.

This is the one place that decides where blueprint items go. The generator renders the plan
(:mod:`smm_sheets.generator.xlsx`); the analyser reads filled-in workbooks back with the same
placement. Pipeline: :func:`expand` (blueprint + parameters -> the concrete rows, lists and
texts, :mod:`.expand`), placement (:mod:`.place`, references resolved by :mod:`.resolve`),
formula text and values (:mod:`.compute`), the metadata sheet (:mod:`.meta`); :func:`build`
runs them all. The plan itself is plain data (:mod:`.cells`).

References in formula templates resolve by *context*: a cell sits at coordinates such as
``{line, category, month}``, and ``{planned}`` there means the cells of ``planned`` that
agree on the coordinates both share: in a line's February cell, that line's February
planned amount; in a category's February cell, the February column of that category's
lines; in a cell with no month, the whole row. The cells a reference picks must form one
rectangle, which becomes a plain A1 range.
"""

from __future__ import annotations

from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters
from smm_sheets.plan import meta
from smm_sheets.plan.cells import (
    GRID_LABEL_COLUMNS,
    LIST_PREFIX,
    META_SHEET,
    NAME_PREFIX,
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
from smm_sheets.plan.place import COMPUTE, CellSource, Placer
from smm_sheets.plan.resolve import Resolver

__all__ = [
    "COMPUTE",
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
    "expand",
    "meta_parameters",
]


def build(
    blueprint: Blueprint, params: Parameters, source: CellSource | None = None, values: bool = True, text: bool = False
) -> WorkbookPlan:
    """Place every item of the blueprint and compute every formula's value.

    Args:
        source: inputs (and replaced formulas) read from a filled-in workbook; without it the
            inputs are blank, or the samples with ``params.sample``. With it, formulas get their
            values only (:attr:`Mode.VALUES`): their text comes from the analyser's first plan.
        values: False makes the formulas' text only, not their values (:attr:`Mode.TEXT`).
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
    if mode.values:
        plan.evaluator = Evaluator(computation)
    return plan
