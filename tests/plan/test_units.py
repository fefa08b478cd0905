"""The plan's units on their own: its data (cells, styles), rectangles, the computation mode,
leniency per call, and a built plan that keeps no planner alive."""

from __future__ import annotations

import gc

import pytest

from smm_sheets import formula as fx
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Field
from smm_sheets.errors import InputError
from smm_sheets.plan import build
from smm_sheets.plan.cells import Cell, ColumnStore, SheetPlan, Style
from smm_sheets.plan.compute import Mode
from smm_sheets.plan.place import Placer
from smm_sheets.plan.resolve import a1_range, rectangles
from tests.conftest import params


def test_style_is_a_role_and_a_field_type():
    role, field_type = Style("na_formula", "percent")
    assert (role, field_type) == ("na_formula", "percent")
    assert Style("header_week") == ("header_week", "")
    assert len({Style("input", "money"), Style("input", "money"), Style("input", "date")}) == 2


def test_sheet_cells_placed_and_store_rows():
    sheet = SheetPlan("S")
    sheet.put(0, 0, Cell("text", Style("title"), "T"))
    store = ColumnStore(0, 1, 3, "posts", Field("n", "l"), "input", Style("input", "text"), ["a", None, "c"])
    sheet.stores.append(store)
    assert list(sheet.cells.placed) == [(0, 0)]  # what the renderer walks cell by cell
    assert sheet.cells[(4, 1)].value is None and sheet.cells[(5, 1)].value == "c"
    assert sheet.cells.get((6, 1)) is None and sheet.cells.placed.get((3, 1)) is None
    with pytest.raises(KeyError):
        sheet.cells[(9, 9)]
    assert [key for key, _ in sheet.cells.items()] == [(0, 0), (3, 1), (4, 1), (5, 1)]
    assert list(sheet.cells) == [(0, 0), (3, 1), (4, 1), (5, 1)]
    assert len(sheet.cells) == 4 and (5, 1) in sheet.cells and (6, 1) not in sheet.cells
    assert [cell.owner for cell in sheet.cells.values()] == [None, "n", "n", "n"]


def test_rectangles_cover_exactly():
    assert rectangles([(1, 1)]) == [(1, 1, 1, 1)]
    assert rectangles([(1, 1), (1, 2), (2, 1), (2, 2)]) == [(1, 1, 2, 2)]
    # An L shape: one run on the first row, then two stacked rows of one column.
    assert rectangles([(1, 1), (1, 2), (2, 1), (3, 1)]) == [(1, 1, 1, 2), (2, 1, 3, 1)]
    assert a1_range("Q1 plan", 1, 1, 2, 2, absolute=True) == "'Q1 plan'!$B$2:$C$3"
    assert a1_range(None, 5, 0, 5, 0, anchor_columns=True) == "$A6"


def test_mode_says_what_is_made():
    assert (Mode.TEXT_AND_VALUES.text, Mode.TEXT_AND_VALUES.values) == (True, True)
    assert (Mode.TEXT.text, Mode.TEXT.values) == (True, False)
    assert (Mode.VALUES.text, Mode.VALUES.values) == (False, True)


def test_a_templates_function_arguments_are_known_once_compiled():
    program = fx.compiled(fx.parse("SUM({a})+{b}*MAX(1,{c@prev})"))
    assert program.arguments == {("a", None), ("c", "prev")}
    assert fx.compiled(fx.parse("SUM({a})+{b}*MAX(1,{c@prev})")) is program


def test_text_mode_makes_no_values_and_no_evaluator():
    plan = build(loader.load("budget"), params(sample=True), values=False)
    assert plan.evaluator is None
    formulas = [cell for sheet in plan.sheets for cell in sheet.cells.placed.values() if cell.kind == "formula"]
    assert formulas and all(cell.formula and cell.value is None for cell in formulas)


def test_leniency_belongs_to_the_call():
    plan = build(loader.load("budget"), params(sample=True))
    missing = fx.parse("{planned}")
    # The evaluator's templates: a field with no cells here is a blank.
    assert plan.evaluator.value(missing, {"line": "no_such_line", "month": 0}) == 0.0
    # Formulas of cells are strict, also after the evaluator ran.
    computation = plan.evaluator._computation
    with pytest.raises(InputError, match="has no cells where"):
        computation.compute(0, missing, {"line": "no_such_line", "month": 0}, "test")


def test_a_built_plan_keeps_no_placer():
    plan = build(loader.load("budget"), params(sample=True))
    gc.collect()
    assert plan.evaluator is not None
    assert not [found for found in gc.get_objects() if isinstance(found, Placer)]
