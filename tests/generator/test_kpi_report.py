"""The KPI report workbook: metrics per channel and month, KPIs, targets, status, charts.

The KPIs are checked against a plain Python computation of their definitions, on the sample
and on hand-made figures with the awkward cases (zero divisors, gaps, a channel without a
metric); LibreOffice must recalculate every cached value to the same result.
"""

from __future__ import annotations

import dataclasses
import math
import re
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from smm_sheets import formula as fx
from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.blueprint import loader
from smm_sheets.generator import xlsx
from smm_sheets.plan import build
from smm_sheets.sheetref import a1, column_letter, column_number
from tests.conftest import params
from tests.libreoffice import (
    disagreements,
    edit_many,
    error_cells,
    formula_cells,
    recalculate_plans,
    soffice_uno,  # noqa: F401 - the fixture
)

SAMPLE_CHANNELS = "instagram,facebook,tiktok"
# The issue's input metrics, in the order of the Metrics sheet.
METRICS = [
    "followers",
    "reach",
    "impressions",
    "likes",
    "comments",
    "shares",
    "saves",
    "link_clicks",
    "ad_spend",
    "conversions",
    "revenue",
]
MONEY = {"ad_spend", "revenue"}
KPIS = ["er_impressions", "er_reach", "follower_growth", "ctr", "cpc", "cpm", "conversion_rate", "roas"]
COSTS = {"cpc", "cpm"}  # lower is better
# What the blueprint greys out: channel -> metrics the platform does not report.
NOT_REPORTED = {
    "facebook": {"saves"},
    "linkedin": {"saves"},
    "x": {"reach"},
    "mastodon": {"reach", "impressions", "saves", "ad_spend"},
}


@pytest.fixture(scope="module")
def blueprint():
    return loader.load("kpi-report")


@pytest.fixture(scope="module")
def sample_plan(blueprint):
    plan = build(blueprint, params(sample=True, channels=SAMPLE_CHANNELS))
    if value(plan, "followers", channel="instagram", month=0) is None:
        pytest.skip("the engine does not fill grid samples given per channel (sample: {channel_id: [...]}) yet")
    return plan


@pytest.fixture(scope="module")
def blank_plan(blueprint):
    return build(blueprint, params(channels=SAMPLE_CHANNELS))


# --------------------------------------------------------------------------- helpers


def cell(plan, name: str, **coords):
    """The plan cell of item ``name`` at these coordinates."""
    item = plan.items[name]
    for found, row, col in item.cells:
        if found == coords:
            return plan.sheets[item.sheet].cells[(row, col)]
    raise KeyError((name, coords))


def where(plan, name: str, **coords) -> tuple[int, int]:
    return next((row, col) for found, row, col in plan.items[name].cells if found == coords)


def value(plan, name: str, **coords) -> Any:
    return cell(plan, name, **coords).value


def row(plan, name: str, channel: str) -> list[Any]:
    return [value(plan, name, channel=channel, month=m) for m in range(12)]


def sheet_of(plan, name: str):
    return plan.sheets[plan.items[name].sheet]


def kpi_model(m: dict[str, Any], followers_before: Any) -> dict[str, Any]:
    """The KPI definitions in plain Python; blank ("") when the figures are missing or a divisor is 0.

    ``m`` is one channel's figures for one month (None = blank).
    """

    def blank(x):
        return x is None

    def ratio(top, bottom):
        return "" if blank(top) or blank(bottom) or bottom == 0 else top / bottom

    engagement = [m[k] for k in ("likes", "comments", "shares", "saves") if m[k] is not None]
    engagements = sum(engagement) if engagement else None
    cpm = ratio(m["ad_spend"], m["impressions"])
    growth = (
        ""
        if followers_before is None or blank(m["followers"]) or followers_before == 0
        else m["followers"] / followers_before - 1
    )
    return {
        "er_impressions": ratio(engagements, m["impressions"]),
        "er_reach": ratio(engagements, m["reach"]),
        "follower_growth": growth,
        "ctr": ratio(m["link_clicks"], m["impressions"]),
        "cpc": ratio(m["ad_spend"], m["link_clicks"]),
        "cpm": cpm if cpm == "" else cpm * 1000,
        "conversion_rate": ratio(m["conversions"], m["link_clicks"]),
        "roas": ratio(m["revenue"], m["ad_spend"]),
    }


def expected_kpis(plan, channel: str) -> list[dict[str, Any]]:
    """Each month's KPIs of one channel, computed in Python from the plan's input cells."""
    figures = [{k: value(plan, k, channel=channel, month=mo) for k in METRICS} for mo in range(12)]
    return [kpi_model(figures[mo], figures[mo - 1]["followers"] if mo else None) for mo in range(12)]


def same(expected: Any, actual: Any) -> bool:
    if expected in (None, "") or actual in (None, ""):
        return expected in (None, "") and actual in (None, "")
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-12)
    return expected == actual


def with_samples(blueprint, samples: dict[str, dict[str, list]]):
    """The blueprint with other sample figures: measure id -> {channel id: monthly values}."""

    def measure(m):
        return dataclasses.replace(m, sample=samples[m.id]) if m.id in samples else m

    sheets = []
    for sheet in blueprint.sheets:
        blocks = tuple(
            dataclasses.replace(b, measures=tuple(measure(m) for m in b.measures)) if hasattr(b, "measures") else b
            for b in sheet.blocks
        )
        sheets.append(dataclasses.replace(sheet, blocks=blocks))
    return dataclasses.replace(blueprint, sheets=tuple(sheets))


# Hand-made figures with the awkward cases. Instagram: month 0 normal; 1: impressions, reach,
# clicks and ad spend 0 (divisors of 0); 2: followers not reported (growth blank in 2 and 3);
# 3: impressions and ad spend only (no engagement, no clicks); 4: ad spend 0; 5: 0 followers
# (growth blank in 6); 7-11 not reported. X has no reach; Mastodon no impressions, saves or
# ad spend; Kylä-lehti (a channel of the user's own) has no figures at all.
EDGE = {
    "followers": {"instagram": [1000, 1010, None, 1050, 1060, 0, 25], "x": [500, 520, 530], "mastodon": [80, 84]},
    "reach": {"instagram": [4000, 0, 3000, 3100, 3200]},
    "impressions": {"instagram": [9000, 0, 7000, 7100, 7300], "x": [12000, 0, 9000], "mastodon": [None, 500]},
    "likes": {"instagram": [300, 0, 250, None, 260], "x": [90, 12, 70], "mastodon": [12, 20]},
    "comments": {"instagram": [20, 1, None, None, 15], "x": [14, 2, 9], "mastodon": [5, 3]},
    "shares": {"instagram": [10, 0, 8, None, 9], "x": [30, 1, 25], "mastodon": [7, 9]},
    "saves": {"instagram": [40, 0, 35, None, 44], "x": [6, 0, 4]},
    "link_clicks": {"instagram": [120, 0, 95, None, 110], "x": [60, 0, 45], "mastodon": [14, 22]},
    "ad_spend": {"instagram": [100, 0, 90, 80, 0], "x": [50, 50, 0]},
    "conversions": {"instagram": [4, 0, 3, None, 5], "x": [1, 0, 2], "mastodon": [0, 1]},
    "revenue": {"instagram": [320, 0, 250, None, 400], "x": [60, 0, 90], "mastodon": [0, 45]},
}
EDGE_CHANNELS = "instagram,x,mastodon,Kylä-lehti"


@pytest.fixture(scope="module")
def edge_plan(blueprint):
    plan = build(with_samples(blueprint, EDGE), params(sample=True, channels=EDGE_CHANNELS))
    if value(plan, "followers", channel="instagram", month=0) is None:
        pytest.skip("the engine does not fill grid samples given per channel (sample: {channel_id: [...]}) yet")
    return plan


# --------------------------------------------------------------------------- structure


def test_blueprint_id_is_its_file_name(blueprint):
    assert blueprint.id == Path(blueprint.source).stem == "kpi-report"
    assert [s.id for s in blueprint.sheets] == ["kpis", "metrics"]


def test_every_metric_of_the_issue_is_an_input_per_channel_and_month(blank_plan):
    plan = blank_plan
    metrics_sheet = sheet_of(plan, "followers")
    assert metrics_sheet.name == "Metrics"
    for name in METRICS:
        item = plan.items[name]
        assert item.role == "input" and item.sheet == plan.items["followers"].sheet
        assert item.field.type == ("money" if name in MONEY else "integer")
        assert item.field.min == 0, f"{name} must be non-negative"
        for channel in SAMPLE_CHANNELS.split(","):
            cells = [cell(plan, name, channel=channel, month=m) for m in range(12)]
            assert all(c.kind == "input" and c.value is None for c in cells)
            assert all(c.style.field_type == item.field.type for c in cells)
    # Typed, validated inputs: non-negative whole numbers, and money in the currency.
    rules = [(r1, c1, r2, c2, opts) for r1, c1, r2, c2, opts in metrics_sheet.validations]
    for name in METRICS:
        covered = {(r, c) for _, r, c in plan.items[name].cells}
        for r, c in covered:
            rule = next(opts for r1, c1, r2, c2, opts in rules if r1 <= r <= r2 and c1 <= c <= c2)
            assert rule["minimum"] == 0 and rule["validate"] == ("decimal" if name in MONEY else "integer")
    assert '"€"' in plan.number_formats["money"]  # money in the chosen currency (EUR)


def test_the_metric_rows_are_labelled_with_channel_and_metric(blank_plan):
    plan = blank_plan
    sheet = sheet_of(plan, "reach")
    r, _ = where(plan, "reach", channel="tiktok", month=0)
    assert (sheet.cells[(r, 1)].value, sheet.cells[(r, 2)].value) == ("TikTok", "Reach")
    r, _ = where(plan, "impressions", channel="instagram", month=0)
    assert "views" in sheet.cells[(r, 2)].value.lower()  # "impressions or views"


def test_kpis_are_protected_formulas_next_to_their_definitions(blank_plan):
    plan = blank_plan
    kpi_sheet = sheet_of(plan, "er_impressions")
    assert kpi_sheet.name == "KPIs" and kpi_sheet.protect
    labels = {}
    for name in KPIS:
        item = plan.items[name]
        assert item.role == "formula" and item.sheet == plan.items["er_impressions"].sheet
        assert all(kpi_sheet.cells[(r, c)].kind == "formula" for _, r, c in item.cells)
        r, _ = where(plan, name, channel="instagram", month=0)
        labels[name] = kpi_sheet.cells[(r, 2)].value
    # The definitions table: one row per KPI, named as in the grid, with its formula in words.
    names = [kpi_sheet.cells[(r, c)].value for _, r, c in plan.items["kpi_name"].cells]
    definitions = [kpi_sheet.cells[(r, c)].value for _, r, c in plan.items["kpi_definition"].cells]
    assert names == [labels[k] for k in KPIS]
    assert all(kpi_sheet.cells[(r, c)].style.role == "constant" for _, r, c in plan.items["kpi_definition"].cells)
    words = {
        "er_impressions": ("likes", "comments", "shares", "saves", "/ impressions"),
        "er_reach": ("likes", "saves", "/ reach"),
        "follower_growth": ("followers", "month earlier"),
        "ctr": ("link clicks / impressions",),
        "cpc": ("ad spend / link clicks", "EUR", "lower is better"),
        "cpm": ("ad spend / impressions", "1 000", "lower is better"),
        "conversion_rate": ("conversions / link clicks",),
        "roas": ("revenue / ad spend",),
    }
    for name, text in zip(KPIS, definitions):
        assert all(w in text for w in words[name]), (name, text)


def test_metrics_a_platform_does_not_report_are_greyed_not_dropped(blueprint):
    plan = build(blueprint, params(channels="instagram,facebook,tiktok,linkedin,x,mastodon,Kylä-lehti"))
    channels = [c.id for c in plan.params.channels]
    greyed_somewhere = set()
    for name in METRICS:
        for channel in channels:
            cells = [cell(plan, name, channel=channel, month=m) for m in range(12)]  # present for every channel
            assert all(c.kind == "input" for c in cells), "a greyed metric is still an input (typed, validated)"
            greyed = name in NOT_REPORTED.get(channel, set())
            assert all(c.style.role.startswith("na") == greyed for c in cells), (channel, name, cells[0].style)
            if greyed:
                greyed_somewhere.add(channel)
                assert all(c.style == ("na", plan.items[name].field.type) for c in cells)
    assert greyed_somewhere == set(NOT_REPORTED)
    # The seed's channels: Facebook has no saves; Instagram and TikTok report everything.
    assert all(cell(plan, "saves", channel="facebook", month=m).style.role.startswith("na") for m in range(12))
    # A KPI that cannot be computed on a channel is greyed too.
    assert all(cell(plan, "er_reach", channel="x", month=m).style == ("na_formula", "percent") for m in range(12))
    assert all(cell(plan, "cpm", channel="mastodon", month=m).style.role.startswith("na") for m in range(12))
    assert not any(cell(plan, k, channel="kyla_lehti", month=0).style.role.startswith("na") for k in KPIS + METRICS)


# --------------------------------------------------------------------------- the arithmetic


def test_sample_is_realistic_and_stops_after_april(sample_plan):
    plan = sample_plan
    for channel in SAMPLE_CHANNELS.split(","):
        for name in METRICS:
            values = row(plan, name, channel)
            if channel == "facebook" and name == "saves":
                assert values == [None] * 12
                continue
            assert all(v is not None and v >= 0 for v in values[:4]), (channel, name, values)
            assert values[4:] == [None] * 8, (channel, name)
        assert row(plan, "impressions", channel)[0] >= row(plan, "reach", channel)[0]
    # The ad spend is the budget sample's actual advertising per channel.
    assert row(plan, "ad_spend", "instagram")[:4] == [240, 330, 360, 395]


@pytest.mark.parametrize("channel", SAMPLE_CHANNELS.split(","))
def test_sample_kpis_match_a_plain_python_computation(sample_plan, channel):
    plan = sample_plan
    expected = expected_kpis(plan, channel)
    for month in range(12):
        for name in KPIS:
            got = value(plan, name, channel=channel, month=month)
            assert same(expected[month][name], got), (channel, month, name, expected[month][name], got)
    # The reported months have numbers (growth from February), the others are blank.
    assert all(isinstance(value(plan, k, channel=channel, month=m), float) for k in KPIS for m in range(1, 4))
    assert all(value(plan, k, channel=channel, month=m) == "" for k in KPIS for m in range(4, 12))


def test_one_sample_month_by_hand(sample_plan):
    """Instagram, January 2027, worked out on paper."""
    jan = {name: value(sample_plan, name, channel="instagram", month=0) for name in KPIS}
    assert jan["er_impressions"] == pytest.approx((830 + 62 + 35 + 118) / 24600)
    assert jan["er_reach"] == pytest.approx(1045 / 9800)
    assert jan["ctr"] == pytest.approx(312 / 24600)
    assert jan["cpc"] == pytest.approx(240 / 312)
    assert jan["cpm"] == pytest.approx(240 / 24600 * 1000)
    assert jan["conversion_rate"] == pytest.approx(9 / 312)
    assert jan["roas"] == pytest.approx(738 / 240)
    assert jan["follower_growth"] == ""
    assert value(sample_plan, "follower_growth", channel="instagram", month=1) == pytest.approx(2565 / 2480 - 1)


@pytest.mark.parametrize("channel", ["instagram", "x", "mastodon", "kyla_lehti"])
def test_awkward_figures_give_blanks_never_errors(edge_plan, channel):
    plan = edge_plan
    expected = expected_kpis(plan, channel)
    for month in range(12):
        for name in KPIS:
            got = value(plan, name, channel=channel, month=month)
            assert not isinstance(got, fx.ExcelError), (channel, month, name, got)
            assert same(expected[month][name], got), (channel, month, name, expected[month][name], got)


def test_awkward_figures_spelled_out(edge_plan):
    kpi = {name: row(edge_plan, name, "instagram") for name in KPIS}
    # Month 1: impressions, reach, clicks and ad spend are 0: rates and costs blank, not #DIV/0!.
    assert [kpi[k][1] for k in ("er_impressions", "er_reach", "ctr", "cpc", "cpm", "conversion_rate", "roas")] == [
        ""
    ] * 7
    # Month 2: followers not reported: growth blank in month 2 and in month 3 (nothing before).
    assert kpi["follower_growth"][2] == kpi["follower_growth"][3] == ""
    assert kpi["follower_growth"][4] == pytest.approx(1060 / 1050 - 1)
    # Month 3: impressions but no engagement or clicks reported: those KPIs blank, CPM known.
    assert kpi["er_impressions"][3] == kpi["ctr"][3] == "" and kpi["cpm"][3] == pytest.approx(80 / 7100 * 1000)
    # Month 4: ad spend 0 is a real figure: CPC and CPM 0, ROAS blank.
    assert kpi["cpc"][4] == 0 and kpi["cpm"][4] == 0 and kpi["roas"][4] == ""
    # Month 6 after 0 followers: growth blank. A whole blank channel: every KPI blank.
    assert kpi["follower_growth"][6] == ""
    assert {v for k in KPIS for v in row(edge_plan, k, "kyla_lehti")} == {""}
    # X reports no reach: engagement rate by reach stays blank while by impressions works.
    assert row(edge_plan, "er_reach", "x")[:3] == ["", "", ""] and row(edge_plan, "er_impressions", "x")[
        0
    ] == pytest.approx(140 / 12000)


def test_a_blank_workbook_shows_blank_kpis(blank_plan):
    for name in KPIS:
        values = [sheet_of(blank_plan, name).cells[(r, c)].value for _, r, c in blank_plan.items[name].cells]
        assert len(values) == 12 * 3 and set(values) == {""}, name
    formulas = [c for s in blank_plan.sheets for c in s.cells.values() if c.kind == "formula"]
    assert formulas and not any(isinstance(c.value, fx.ExcelError) for c in formulas)


def test_follower_growth_is_against_the_previous_month(blank_plan):
    plan = blank_plan
    metrics = sheet_of(plan, "followers")
    first = cell(plan, "follower_growth", channel="facebook", month=0)
    assert first.formula == '""' and first.value == ""
    for month in (1, 5, 11):
        now = a1(*where(plan, "followers", channel="facebook", month=month))
        before = a1(*where(plan, "followers", channel="facebook", month=month - 1))
        formula = cell(plan, "follower_growth", channel="facebook", month=month).formula
        quoted = f"'{metrics.name}'!"
        assert (
            formula
            == f'IF(OR({quoted}{now}="",{quoted}{before}="",{quoted}{before}=0),"",{quoted}{now}/{quoted}{before}-1)'
        )


def test_kpis_use_the_same_channel_and_month(blank_plan):
    plan = blank_plan
    formula = cell(plan, "ctr", channel="tiktok", month=7).formula
    clicks = a1(*where(plan, "link_clicks", channel="tiktok", month=7))
    impressions = a1(*where(plan, "impressions", channel="tiktok", month=7))
    assert (
        formula
        == f"IF(OR('Metrics'!{clicks}=\"\",'Metrics'!{impressions}=\"\",'Metrics'!{impressions}=0),\"\",'Metrics'!{clicks}/'Metrics'!{impressions})"
    )


# --------------------------------------------------------------------------- targets and status


def test_targets_per_kpi_and_channel_on_the_kpi_sheet(sample_plan):
    plan = sample_plan
    for name in KPIS:
        target = plan.items[f"target_{name}"]
        assert target.role == "input" and target.sheet == plan.items[name].sheet, (
            "status rules need targets on the KPI sheet"
        )
        assert target.field.min == 0
        for channel in SAMPLE_CHANNELS.split(","):
            # Typed once per channel and KPI (the Every month column); the months are optional.
            assert value(plan, f"target_{name}", channel=channel, month=12) > 0, (name, channel)
            assert row(plan, f"target_{name}", channel) == [None] * 12, (name, channel)
            every = cell(plan, f"target_{name}", channel=channel, month=12)
            assert every.kind == "input" and where(plan, f"target_{name}", channel=channel, month=12)[1] == 3 + 12
    head_row = where(plan, "target_er_impressions", channel="instagram", month=0)[0] - 2  # above the section title
    assert sheet_of(plan, "target_ctr").cells[(head_row, 15)].value == "Every month"


def target_in_force(plan, name: str, channel: str, month: int, own: dict | None = None) -> Any:
    """A month's own target if typed (``own``: month -> value, else the plan's), else the one for every month."""
    mine = (own or {}).get(month, value(plan, f"target_{name}", channel=channel, month=month))
    return value(plan, f"target_{name}", channel=channel, month=12) if mine is None else mine


def _rules(plan, name: str, channel: str) -> list[tuple[str, str]]:
    """The (formula, style) conditional formats over a KPI's row of one channel."""
    sheet = sheet_of(plan, name)
    r, c = where(plan, name, channel=channel, month=0)
    return [
        (formula, style) for r1, c1, r2, c2, formula, style in sheet.highlights if (r1, c1, r2, c2) == (r, c, r, c + 11)
    ]


@pytest.mark.parametrize("name", KPIS)
def test_status_against_target_is_conditional_formatting(sample_plan, name):
    plan = sample_plan
    for channel in SAMPLE_CHANNELS.split(","):
        rules = _rules(plan, name, channel)
        assert sorted(style for _, style in rules) == ["bad", "good"], (name, channel)
        kpi = a1(*where(plan, name, channel=channel, month=0))
        month = a1(*where(plan, f"target_{name}", channel=channel, month=0))
        every = a1(*where(plan, f"target_{name}", channel=channel, month=12), absolute=True)
        good = {s: f for f, s in rules}["good"]
        # Relative references to the first month's KPI and the same month's own target, and the
        # target for every month where the month has none: each month compares with its target
        # in force. Costs are met at or under the target.
        better = "<=" if name in COSTS else ">="
        target = f"IF(ISBLANK({month}),{every},{month})"
        assert good == f'AND({kpi}<>"",{target}<>"",{kpi}{better}{target})'
        assert good.count("$") == 4, "only the target for every month stays put"


# A month's own target, where it differs from the one for every month: March, and April of
# Instagram's CTR (met in every sample month at 1.2 %, missed in April at 1.3 %).
OWN_TARGETS = {("instagram", "ctr"): {2: 0.0125, 3: 0.013}, ("tiktok", "cpc"): {1: 2.5}}


@pytest.mark.parametrize("own", [{}, OWN_TARGETS], ids=["every month", "own months"])
def test_status_of_the_sample_months(sample_plan, blueprint, own):
    """The rules' templates, evaluated per month, agree with "met or not" in Python against the
    target in force (a month's own, else the one for every month); blank months get no colour."""
    plan = sample_plan
    grid = next(b for b in blueprint.sheets[0].blocks if getattr(b, "id", "") == "kpis")
    seen = set()
    for highlight in grid.highlights:
        (name,) = highlight.fields
        for channel in SAMPLE_CHANNELS.split(","):
            mine = own.get((channel, name), {})
            for month in range(12):

                def lookup(ref, modifier, channel=channel, month=month, mine=mine):
                    at = 12 if modifier == "every" else month
                    if ref.startswith("target_") and at < 12:
                        return mine.get(at, value(plan, ref, channel=channel, month=at))
                    return value(plan, ref, channel=channel, month=at)

                fires = fx.evaluate(highlight.when.cases[""], lookup) is True
                kpi = value(plan, name, channel=channel, month=month)
                target = target_in_force(plan, name, channel, month, mine)
                if kpi == "":
                    assert not fires
                    continue
                met = kpi <= target if name in COSTS else kpi >= target
                assert fires == (met == (highlight.style == "good")), (name, channel, month, kpi, target)
                if fires:
                    seen.add(highlight.style)
    assert seen == {"good", "bad"}, "the sample shows both colours"


# --------------------------------------------------------------------------- charts


@pytest.mark.parametrize("channels", ["instagram", SAMPLE_CHANNELS, "instagram,linkedin,Mastodon,Kylä-lehti"])
def test_one_trend_chart_per_channel(blueprint, channels):
    plan = build(blueprint, params(channels=channels))
    sheet = sheet_of(plan, "er_impressions")
    names = [c.name for c in plan.params.channels]
    assert [chart.title for chart in sheet.charts] == [f"KPI trend – {n}" for n in names]
    for chart, channel in zip(sheet.charts, plan.params.channels):
        assert [label for label, _ in chart.series] == ["ER (impr.)", "ER (reach)", "CTR", "Conversion rate"]
        r, c = where(plan, "ctr", channel=channel.id, month=0)
        ctr = dict(chart.series)["CTR"]
        assert ctr == f"'KPIs'!${column_letter(c)}${r + 1}:${column_letter(c + 11)}${r + 1}"
        assert re.fullmatch(r"'KPIs'!\$D\$\d+:\$O\$\d+", chart.categories)
    rows = [chart.row for chart in sheet.charts]
    assert rows == sorted(rows) and len(set(rows)) == len(rows), "charts do not overlap"


# --------------------------------------------------------------------------- the file, and LibreOffice


def test_written_workbook_protects_formulas_and_keeps_user_text_as_text(blueprint, tmp_path):
    company = '=HYPERLINK("http://x","y")'
    plan = build(blueprint, params(company=company, sample=True, channels=SAMPLE_CHANNELS))
    path = xlsx.write(plan, tmp_path / "kpi-report.xlsx")
    book = openpyxl.load_workbook(path)
    kpis, metrics = book["KPIs"], book["Metrics"]
    assert kpis.protection.sheet and metrics.protection.sheet
    assert kpis["A2"].data_type == "s" and kpis["A2"].value.startswith(company)
    formulas = [c.value for ws in book.worksheets for r in ws.iter_rows() for c in r if c.data_type == "f"]
    assert formulas and not any("HYPERLINK" in f for f in formulas)
    r, c = where(plan, "cpc", channel="instagram", month=0)
    assert kpis.cell(r + 1, c + 1).protection.locked is True
    r, c = where(plan, "target_cpc", channel="instagram", month=0)
    assert kpis.cell(r + 1, c + 1).protection.locked is False
    r, c = where(plan, "saves", channel="facebook", month=0)
    assert metrics.cell(r + 1, c + 1).protection.locked is False  # greyed, still an input


CASES = {
    "blank": lambda bp: build(bp, params(channels=SAMPLE_CHANNELS)),
    "sample": lambda bp: build(bp, params(sample=True, channels=SAMPLE_CHANNELS)),
    "awkward": lambda bp: build(with_samples(bp, EDGE), params(sample=True, channels=EDGE_CHANNELS)),
}


@pytest.fixture(scope="module")
def recalculated(soffice, blueprint, tmp_path_factory) -> dict[str, tuple[Any, Path, Path]]:
    """Case -> (plan, generated workbook, the same recalculated by LibreOffice); one soffice run."""
    return recalculate_plans({name: make(blueprint) for name, make in CASES.items()}, tmp_path_factory)


@pytest.mark.parametrize("name", CASES)
def test_libreoffice_agrees_with_every_cached_value(recalculated, name):
    plan, generated, computed_file = recalculated[name]
    cached, computed = formula_cells(generated), formula_cells(computed_file)
    assert len(cached) == sum(c.kind == "formula" for s in plan.sheets for c in s.cells.values()) >= 8 * 12 * 3
    assert set(cached) == set(computed), "formulas LibreOffice lost or added"
    wrong = disagreements(cached, computed, same)
    assert wrong == [], f"{len(wrong)} of {len(cached)} formula cells differ:\n" + "\n".join(wrong[:40])
    assert error_cells(generated) == {} and error_cells(computed_file) == {}


def test_libreoffice_computes_the_sample_kpis_of_the_definitions(recalculated):
    plan, _, computed_file = recalculated["sample"]
    book = openpyxl.load_workbook(computed_file, data_only=True)
    ws = book["KPIs"]
    for channel in SAMPLE_CHANNELS.split(","):
        expected = expected_kpis(plan, channel)
        for month in range(12):
            for name in KPIS:
                r, c = where(plan, name, channel=channel, month=month)
                assert same(expected[month][name], ws.cell(r + 1, c + 1).value), (channel, month, name)


# --------------------------------------------------------------------------- targets in force, in LibreOffice

_REF = re.compile(r"(?<![A-Za-z_$])([A-Z]{1,3})(\$?)(\d+)")


def _at_month(formula: str, month: int) -> str:
    """A rule's formula (written for the first month) as it stands in month ``month``: relative
    columns move, ``$P$6`` stays."""
    return _REF.sub(lambda m: column_letter(column_number(m.group(1)) + month) + m.group(2) + m.group(3), formula)


@pytest.mark.libreoffice
@pytest.mark.usefixtures("soffice_uno")
def test_libreoffice_colours_each_month_against_its_target_in_force(blueprint, tmp_path):
    """Own targets typed in some months with LibreOffice: its evaluation of every status rule, in
    every month, equals our evaluator's on the values it saved; and the analyser finds nothing."""
    plan = build(blueprint, params(sample=True, channels=SAMPLE_CHANNELS))
    source = xlsx.write(plan, tmp_path / "kpi-report.xlsx")
    kpis = sheet_of(plan, "ctr")
    typed = []
    for (channel, name), months in OWN_TARGETS.items():
        for month, own in months.items():
            r, c = where(plan, f"target_{name}", channel=channel, month=month)
            typed.append({"set": f"'{kpis.name}'!{a1(r, c)}", "value": own})
    probes, scratch = [], []
    for channel, name in OWN_TARGETS:
        for formula, look in _rules(plan, name, channel):
            for month in range(12):
                at = (len(probes) // 12, 40 + len(probes) % 12)  # right of everything, rows from the top
                probes.append((name, channel, month, look, formula, at))
                scratch.append({"set": f"'{kpis.name}'!{a1(*at)}", "formula": "=" + _at_month(formula, month)})
    jobs = [
        {"src": source, "out": tmp_path / "own.xlsx", "format": "xlsx", "actions": typed},
        {"src": source, "out": tmp_path / "own.ods", "format": "ods", "actions": typed},
        {
            "src": source,
            "out": tmp_path / "probed.xlsx",
            "format": "xlsx",
            "actions": [{"unprotect": kpis.name}, *typed, *scratch],
        },
    ]
    own_xlsx, own_ods, probed = edit_many(jobs)
    data = reader.read(probed).sheets[kpis.name]
    grid = next(b for b in blueprint.sheets[0].blocks if getattr(b, "id", "") == "kpis")
    templates = {(h.fields[0], h.style): h.when.cases[""] for h in grid.highlights}
    flips = 0
    for name, channel, month, look, formula, at in probes:

        def lookup(ref, modifier, channel=channel, month=month):
            r, c = where(plan, ref, channel=channel, month=12 if modifier == "every" else month)
            found = data.value(r, c)
            return None if found == "" else found

        ours = fx.evaluate(templates[(name, look)], lookup) is True
        theirs = data.value(*at)
        assert theirs is ours, (name, channel, month, look, _at_month(formula, month), theirs, ours)
        mine = OWN_TARGETS[(channel, name)].get(month)
        every = value(plan, f"target_{name}", channel=channel, month=12)
        kpi = value(plan, name, channel=channel, month=month)
        if mine is not None and kpi != "":
            better = (lambda k, t: k <= t) if name in COSTS else (lambda k, t: k >= t)
            # Where the own target changes the verdict, the rule follows the own target.
            flips += better(kpi, mine) != better(kpi, every) and ours == ((look == "good") == better(kpi, mine))
    assert flips == 4, "two months change colour (Instagram's April CTR, TikTok's February CPC), each rule follows"
    for path in (own_xlsx, own_ods):
        assert analyse_file(path).findings == [], path.suffix


def test_a_workbook_of_the_previous_version_is_still_read(tmp_path):
    """1.1 typed a target in every month (no Every month column): read against 1.1, no finding."""
    previous = loader.load(loader.BUILTIN_DIR / "previous" / "kpi-report-1.1.yaml")
    assert previous.version == "1.1" and loader.load("kpi-report").version == "1.2"
    plan = build(previous, params(sample=True, channels=SAMPLE_CHANNELS))
    assert row(plan, "target_ctr", "instagram") == [0.012] * 12
    report = analyse_file(xlsx.write(plan, tmp_path / "kpi-report.xlsx"))
    assert report.blueprint_version == "1.1"
    assert [f.code for f in report.findings] == []
