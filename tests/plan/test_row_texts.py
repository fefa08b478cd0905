"""A plan of formula text only (the analyser's) writes every formula as the generator's plan does."""

from __future__ import annotations

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.plan import build
from tests.conftest import params

WORKBOOKS = ("budget", "calendar", "kpi-report", "roadmap", "strategy")


def _texts(plan) -> dict:
    """Each sheet's formula cells' and formula rows' texts, by sheet name."""
    return {
        sheet.name: (
            sorted((key, cell.formula) for key, cell in sheet.cells.placed.items() if cell.kind == "formula"),
            [(store.field.id, store.texts) for store in sheet.stores if store.kind == "formula"],
        )
        for sheet in plan.sheets
    }


@pytest.mark.parametrize("workbook", WORKBOOKS)
@pytest.mark.parametrize("sample", (False, True))
def test_text_only_plans_write_the_formulas_a_whole_build_writes(workbook, sample):
    blueprint = loader.load(workbook)
    parameters = params(sample=sample, language="fi", company='O\'Brien "&" Co')
    text_only = _texts(build(blueprint, parameters, values=False))
    whole = _texts(build(blueprint, parameters))
    assert text_only == {name: whole[name] for name in text_only}  # the whole build adds a start sheet
    rows = [texts for _, stores in text_only.values() for _, texts in stores]
    assert all(None not in texts for texts in rows)
    assert rows or workbook in ("budget", "kpi-report", "strategy")
