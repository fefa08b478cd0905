"""A table's formula column evaluated from a file's inputs (the analyser's values pass, with its
memo of rows that read the same values) gives what building with those inputs gives, and a
column's sample inputs are made as each row's would be."""

from __future__ import annotations

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.plan import COMPUTE, CellSource, build, evaluate
from smm_sheets.plan.place import _ROW
from tests.conftest import params

TABLES = ("calendar", "roadmap")


class _Rows(CellSource):
    """The sample plan's inputs, with every third row of each table changed and one formula row
    of each formula column replaced by a constant."""

    def __init__(self, sample):
        self.sample = sample
        self.stores = {(s, store.col): store for s, sheet in enumerate(sample.sheets) for store in sheet.stores}

    def input(self, sheet, row, col):
        store = self.stores.get((sheet, col))
        if store is not None and store.first_row <= row <= store.last_row:
            value = store.values[row - store.first_row]
            return None if (row - store.first_row) % 3 == 2 else value
        return self.sample.sheets[sheet].cells.get((row, col)).value

    def override(self, sheet, row, col):
        store = self.stores.get((sheet, col))
        if store is not None and store.kind == "formula" and row == store.first_row + 1:
            return 42.0
        return COMPUTE


@pytest.mark.parametrize("workbook", TABLES)
def test_a_formula_column_in_one_loop_gives_the_values_row_by_row(workbook):
    blueprint = loader.load(workbook)
    sample = build(blueprint, params(sample=True))
    source = _Rows(sample)
    # evaluate() computes formula columns in one loop (values only); a build that writes the
    # text too computes each row on its own.
    looped = evaluate(build(blueprint, params(), values=False), source)
    by_row = build(blueprint, params(), source, text=True)
    formula_columns = 0
    theirs_by_name = {sheet.name: sheet for sheet in by_row.sheets}  # the text build adds a start sheet
    for mine in looped.sheets:
        theirs = theirs_by_name[mine.name]
        for store, other in zip(mine.stores, theirs.stores, strict=True):
            assert (store.field.id, store.values) == (other.field.id, other.values)
            formula_columns += store.kind == "formula"
    assert formula_columns > 0


def test_a_columns_sample_inputs_are_each_rows_input_value():
    blueprint = loader.load("calendar")
    plan = build(blueprint, params(sample=True), values=False)
    from smm_sheets.plan import expand
    from smm_sheets.plan.place import Placer
    from smm_sheets.plan.resolve import Resolver

    x = expand(blueprint, params(sample=True))
    placer = Placer(plan, x, Resolver(plan, x), None)
    columns = [store.field for sheet in plan.sheets for store in sheet.stores if store.kind == "input"]
    assert columns
    samples = [True, 1, 1.0, 0, False, "", None, [1], 2.5, True]  # True and 1 are not the same sample
    for column in columns:
        expected = [placer.input_value(column, sample, _ROW) for sample in samples]
        assert placer.row_inputs(column, samples, len(samples)) == expected
        assert placer.row_inputs(column, samples[:3], 5) == expected[:3] + [placer.input_value(column, None, _ROW)] * 2
