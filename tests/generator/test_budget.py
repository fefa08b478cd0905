"""The budget workbook: its layout, the carry-over arithmetic and the totals."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smm_sheets import formula as fx
from smm_sheets.plan import GRID_LABEL_COLUMNS, build
from smm_sheets.sheetref import a1
from tests.conftest import params


def values(plan, name):
    """The values of a placed item, by the coordinates of each cell."""
    item = plan.items[name]
    sheet = plan.sheets[item.sheet]
    return {tuple(sorted(coords.items())): sheet.cells[(row, col)].value for coords, row, col in item.cells}


def row_values(plan, name, **coords):
    """An item's twelve monthly values on the row with these coordinates."""
    found = values(plan, name)
    return [found[tuple(sorted(dict(coords, month=m).items()))] for m in range(12)]


def carry_model(planned, actual, rule):
    """The carry-over rule in plain Python: available(m) = planned(m) + surplus(m-1).

    A month without an actual amount is not reported yet and carries nothing.
    """
    available, surplus, previous = [], [], 0.0
    for month in range(12):
        money = planned[month] + (previous if rule != "none" else 0.0)
        left = 0.0 if actual[month] is None else money - actual[month]
        if rule == "positive":
            left = max(0.0, left)
        available.append(money)
        surplus.append(left)
        previous = left
    return available, surplus


def with_ad_sample(budget, planned, actual):
    categories = tuple(
        dataclasses.replace(c, sample={"planned": planned, "actual": actual}) if c.id == "advertising" else c
        for c in budget.categories
    )
    return dataclasses.replace(budget, categories=categories)


money = st.one_of(st.none(), st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda x: round(x, 2)))


@settings(max_examples=60, deadline=None)
@given(
    planned=st.lists(st.floats(min_value=0, max_value=1e6).map(lambda x: round(x, 2)), min_size=12, max_size=12),
    actual=st.lists(money, min_size=12, max_size=12),
    rule=st.sampled_from(["signed", "positive", "none"]),
)
def test_carry_over_matches_a_plain_python_model(budget, planned, actual, rule):
    plan = build(
        with_ad_sample(budget, planned, actual), params(channels="instagram", sample=True, options={"carry_over": rule})
    )
    expected_available, expected_surplus = carry_model(planned, actual, rule)
    line = {"line": "advertising_instagram", "category": "advertising"}
    for got, want in zip(
        row_values(plan, "available", **line) + row_values(plan, "surplus", **line),
        expected_available + expected_surplus,
    ):
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-6)


def cell_formula(plan, name, **coords):
    item = plan.items[name]
    for found, row, col in item.cells:
        if found == coords:
            return plan.sheets[item.sheet].cells[(row, col)].formula, (row, col)
    raise KeyError(coords)


@pytest.mark.parametrize(
    "rule, surplus",
    [("signed", 'IF({b}="",0,{a}-{b})'), ("positive", 'IF({b}="",0,MAX(0,{a}-{b}))'), ("none", 'IF({b}="",0,{a}-{b})')],
)
def test_februarys_cell_shows_the_breakdown(budget, rule, surplus):
    plan = build(budget, params(options={"carry_over": rule}))
    line = {"line": "advertising_instagram", "category": "advertising"}
    planned_feb = a1(*_cell(plan, "planned", month=1, **line))
    surplus_jan = a1(*_cell(plan, "surplus", month=0, **line))
    available, _ = cell_formula(plan, "available", month=1, **line)
    assert available == (planned_feb if rule == "none" else f"{planned_feb}+{surplus_jan}")
    formula, _ = cell_formula(plan, "surplus", month=1, **line)
    assert formula == surplus.format(
        a=a1(*_cell(plan, "available", month=1, **line)), b=a1(*_cell(plan, "actual", month=1, **line))
    )
    january, _ = cell_formula(plan, "available", month=0, **line)
    assert january == a1(*_cell(plan, "planned", month=0, **line))


def _cell(plan, name, **coords):
    return next((row, col) for found, row, col in plan.items[name].cells if found == coords)


def test_twelve_months_from_the_start_month(budget):
    plan = build(budget, params(year=2027, start_month=11))
    header = [plan.sheets[0].cells[(plan.sheets[0].repeat_rows[0], GRID_LABEL_COLUMNS + m)].value for m in range(12)]
    # Real dates (the 1st of each month), shown as "Nov 2027".
    assert header[0] == dt.date(2027, 11, 1) and header[2] == dt.date(2028, 1, 1) and header[-1] == dt.date(2028, 10, 1)


def test_one_advertising_line_per_channel(budget):
    plan = build(budget, params(channels="tiktok,LinkedIn,Mastodon"))
    lines = {dict(coords)["line"] for coords in values(plan, "available")}
    assert lines == {"advertising_tiktok", "advertising_linkedin", "advertising_mastodon", "advertising_spare_1"}
    labels = {cell.value for cell in plan.sheets[0].cells.values() if cell.kind == "text"}
    assert {"TikTok", "LinkedIn", "Mastodon"} <= labels


def test_sample_totals_add_up(budget):
    plan = build(budget, params(sample=True, channels="instagram,facebook,tiktok"))
    planned = values(plan, "planned")
    actual = values(plan, "actual")
    for category in ("software", "advertising", "services", "assets"):
        for month in range(12):
            want = sum(v or 0 for k, v in planned.items() if ("category", category) in k and ("month", month) in k)
            got = values(plan, "category_planned")[(("category", category), ("month", month))]
            assert math.isclose(got, want)
    total_planned = sum(v or 0 for v in planned.values())
    total_actual = sum(v or 0 for v in actual.values())
    assert math.isclose(values(plan, "year_planned.total")[()], total_planned)
    assert math.isclose(values(plan, "year_actual.total")[()], total_actual)
    # Variance to date: the plan of the reported line-months (actual filled in) minus what they spent.
    planned_to_date = sum(v or 0 for k, v in planned.items() if actual.get(k) is not None)
    assert 0 < planned_to_date < total_planned
    assert math.isclose(values(plan, "year_variance.total")[()], planned_to_date - total_actual)
    shares = values(plan, "share_planned")
    assert math.isclose(sum(shares.values()), 1.0)
    assert math.isclose(
        values(plan, "total_planned")[(("month", 0),)], sum(v or 0 for k, v in planned.items() if ("month", 0) in k)
    )


def test_the_sample_leaves_januarys_ad_budget_partly_unspent(budget):
    plan = build(budget, params(sample=True))
    line = {"line": "advertising_instagram", "category": "advertising"}
    planned = row_values(plan, "planned", **line)
    actual = row_values(plan, "actual", **line)
    surplus = row_values(plan, "surplus", **line)
    assert 0 < actual[0] < planned[0] and surplus[0] == planned[0] - actual[0]
    assert row_values(plan, "available", **line)[1] == planned[1] + surplus[0]


def test_a_blank_workbook_has_no_input_values_and_blank_shares(budget):
    plan = build(budget, params())
    assert all(v is None for v in values(plan, "planned").values())
    assert all(v == 0 for v in values(plan, "total_planned").values())
    # No data yet: shares are blank, never #DIV/0!.
    assert set(values(plan, "share_planned").values()) == {""}


def test_a_blank_actual_is_not_reported_and_a_negative_carry_over_is_a_deficit(budget):
    plan = build(budget, params(sample=True, channels="instagram"))
    actual = values(plan, "actual")
    # The sample reports January to April: later months show no spend and no variance, not the plan.
    reported = sorted({dict(k)["month"] for k, v in actual.items() if v is not None})
    assert reported == [0, 1, 2, 3]
    total_actual, total_variance = values(plan, "total_actual"), values(plan, "total_variance")
    for month in range(4, 12):
        assert total_actual[(("month", month),)] == "" and total_variance[(("month", month),)] == ""
        assert values(plan, "total_planned_to_date")[(("month", month),)] == ""
    for month in reported:
        key = (("month", month),)
        assert math.isclose(total_variance[key], values(plan, "total_planned_to_date")[key] - total_actual[key])
    # April overspends the carry-over: a deficit, in a row whose label names it.
    surplus = row_values(plan, "surplus", line="advertising_instagram", category="advertising")
    assert surplus[3] < 0
    labels = {cell.value for cell in plan.sheets[0].cells.values() if cell.kind == "text"}
    assert "Surplus (+) / deficit (−)" in labels and "Ad carry-over: surplus (+) / deficit (−)" in labels
    assert "Variance to date (planned − spent, reported months)" in labels


def test_every_formula_has_a_cached_value_and_no_errors(budget):
    for sample in (False, True):
        plan = build(budget, params(sample=sample))
        formulas = [cell for sheet in plan.sheets for cell in sheet.cells.values() if cell.kind == "formula"]
        assert len(formulas) > 300
        assert all(cell.formula and cell.value is not None for cell in formulas)
        assert not any(isinstance(cell.value, type(fx.DIV0)) for cell in formulas)


def test_unknown_option_is_an_input_error(budget):
    from smm_sheets.errors import InputError

    with pytest.raises(InputError, match="no option 'carry'"):
        build(budget, params(options={"carry": "signed"}))


def test_a_reference_to_many_cells_where_one_is_expected_is_an_input_error(budget):
    from smm_sheets.blueprint import loader
    from smm_sheets.errors import InputError

    text = (loader.BUILTIN_DIR / "budget.yaml").read_text(encoding="utf-8")
    # {planned} in a table over categories means all of a category's lines and months.
    broken = loader.loads(text.replace('formula: "SUM({category_variance})"', 'formula: "{planned}-{year_actual}"', 1))
    with pytest.raises(
        InputError, match=r"year_variance: \{planned\} means 72 cells here, where one value is expected"
    ):
        build(broken, params())
