"""The roadmap: initiatives with value vs complexity, overdue flags, a weekly timeline, a task board."""

from __future__ import annotations

import datetime as dt

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.plan import build, expand
from smm_sheets.sheetref import column_letter
from tests.conftest import params, with_samples


@pytest.fixture(scope="module")
def roadmap():
    return loader.load("roadmap")


def column(plan, name):
    """An item's values in row order."""
    item = plan.items[name]
    cells = plan.sheets[item.sheet].cells
    return [cells[(row, col)].value for _, row, col in sorted(item.cells, key=lambda c: (c[1], c[2]))]


def test_value_vs_complexity_quadrants(roadmap):
    pairs = [(5, 1), (3, 2), (4, 5), (3, 3), (2, 1), (1, 2), (2, 5), (1, 3), (None, 3), (4, None)]
    blueprint = with_samples(
        roadmap, value=[p[0] for p in pairs], complexity=[p[1] for p in pairs], initiative=[f"i{i}" for i in range(10)]
    )
    quadrants = column(build(blueprint, params(sample=True)), "quadrant")[: len(pairs)]
    assert quadrants == ["Quick win"] * 2 + ["Major project"] * 2 + ["Fill-in"] * 2 + ["Thankless task"] * 2 + ["", ""]


def test_duration_counts_both_ends(roadmap):
    plan = build(roadmap, params(sample=True, year=2027))
    starts, ends, days = column(plan, "start")[:5], column(plan, "end")[:5], column(plan, "duration")[:5]
    assert starts[0] == dt.date(2027, 1, 1) and ends[0] == dt.date(2027, 1, 7)
    assert days == [float((e - s).days + 1) for s, e in zip(starts, ends)]
    assert column(plan, "duration")[5] == ""  # no dates, no duration


def test_overdue_flags_unfinished_initiatives_past_their_end(roadmap):
    past = build(roadmap, params(sample=True, year=2020))
    statuses = column(past, "status")[:5]
    flags = column(past, "overdue")[:5]
    assert flags == ["" if status == "Done" else "Overdue" for status in statuses]
    assert "Done" in statuses and flags.count("Overdue") == 4
    future = build(roadmap, params(sample=True, year=dt.date.today().year + 2))
    assert set(column(future, "overdue")) == {""}


def test_the_seeds_worked_example_is_the_sample(roadmap):
    plan = build(roadmap, params(sample=True, goals=["Double the German Instagram audience in six months"]))
    initiatives = [v for v in column(plan, "initiative") if v]
    assert len(initiatives) == 5 and "German" in initiatives[0]
    assert set(column(plan, "goal")[:5]) == {"Double the German Instagram audience in six months"}
    assert column(plan, "status")[:5] == ["Done", "In progress", "Next", "Backlog", "Waiting"]


def test_status_uses_the_seeds_workflow_and_dropdowns_agree(roadmap):
    plan = build(roadmap, params(team=["Aino", "Mikko"], goals=["Grow", "Sell"]))
    x = expand(roadmap, params(team=["Aino", "Mikko"], goals=["Grow", "Sell"]))
    assert x.lists["workflow"] == ["Backlog", "Next", "In progress", "Waiting", "Review", "Done"]
    assert x.lists["team"] == ["Aino", "Mikko"] and x.lists["goals"] == ["Grow", "Sell"]
    sources = {
        str(rule[4].get("source"))
        for sheet in plan.sheets
        for rule in sheet.validations
        if rule[4]["validate"] == "list"
    }
    assert {"=list_workflow", "=list_team", "=list_goals", "=smm_initiative"} <= sources


def test_a_blank_roadmap_leaves_room_for_goals_typed_later(roadmap):
    plan = build(roadmap, params())
    # Goals and team: a fixed range over the values and 30 spare rows, for what people type there.
    assert plan.names["list_goals"].endswith("$A$2:$A$31")
    assert plan.names["list_team"].endswith("$B$2:$B$32")  # the one default member and 30 spare
    lists = next(sheet for sheet in plan.sheets if sheet.name == "Lists")
    assert [cell.value for (row, col), cell in lists.cells.items() if col == 1 and row > 0] == ["Owner"]
    # The goal dropdown is empty until goals are typed: it warns rather than refuse a value.
    goal = next(v for v in plan.sheets[0].validations if v[4].get("source") == "=list_goals")
    assert goal[4]["error_type"] == "warning"
    team = [v for sheet in plan.sheets for v in sheet.validations if v[4].get("source") == "=list_team"]
    assert team and all("error_type" not in v[4] for v in team)  # "Owner" is in it: strict


def test_month_band_names_each_month_over_its_weeks(roadmap):
    plan = build(roadmap, params(year=2027, start_month=1, language="fi"))
    sheet = plan.sheets[0]
    band = sorted(
        (col, cell.value) for (row, col), cell in sheet.cells.placed.items() if cell.style.role == "header_band"
    )
    assert band[0][1] == "tammi 2027" and band[1][1] == "helmi 2027" and len(band) == 13
    merged = [span for spans in sheet.merges.values() for span in spans]
    assert [span[1] for span in merged] == [col for col, _ in band][: len(merged)]
    assert sheet.repeat_rows[1] - sheet.repeat_rows[0] == 1  # the band and the week headers repeat


def test_timeline_has_a_column_per_week_drawn_from_start_and_end(roadmap):
    plan = build(roadmap, params(year=2027, start_month=3))
    sheet = plan.sheets[0]
    weeks = sorted((col, cell.value) for (row, col), cell in sheet.cells.items() if cell.style.role == "header_week")
    assert len(weeks) == 53
    assert weeks[0][1] == dt.date(2027, 3, 1)  # the Monday on or before 1 March 2027
    assert all((b[1] - a[1]).days == 7 for a, b in zip(weeks, weeks[1:]))
    bars = [h for h in sheet.highlights if h[5] == "bar"]
    assert len(bars) == 1
    r1, c1, r2, c2, rule, _ = bars[0]
    start_col = column_letter(plan.items["start"].cells[0][2])
    end_col = column_letter(plan.items["end"].cells[0][2])
    week = f"{column_letter(c1)}${r1}"
    assert (c1, c2) == (weeks[0][0], weeks[-1][0]) and r2 - r1 == 39
    assert (
        rule
        == f'AND(${start_col}{r1 + 1}<>"",${start_col}{r1 + 1}<{week}+7,IF(${end_col}{r1 + 1}="",${start_col}{r1 + 1},${end_col}{r1 + 1})>={week})'
    )


def test_task_board_counts_per_status_and_owner(roadmap):
    plan = build(roadmap, params(sample=True, team=["Aino", "Mikko", "Sara"], year=dt.date.today().year + 2))
    statuses = [s for s in column(plan, "task_status") if s]
    owners = [o for o, s in zip(column(plan, "task_owner"), column(plan, "task_status")) if s]
    x = expand(roadmap, params(team=["Aino", "Mikko", "Sara"]))
    assert column(plan, "tasks_by_status") == [float(statuses.count(s)) for s in x.lists["workflow"]]
    assert column(plan, "tasks_by_status.total") == [float(len(statuses))]
    assert column(plan, "tasks_by_owner") == [float(owners.count(p)) for p in ["Aino", "Mikko", "Sara"]]
    open_tasks = [
        float(sum(1 for o, s in zip(owners, statuses) if o == p and s != "Done")) for p in ["Aino", "Mikko", "Sara"]
    ]
    assert column(plan, "open_by_owner") == open_tasks
    assert column(plan, "initiatives_by_status")[-1] == 1.0  # one initiative is Done


def test_people_whose_names_look_like_operators_are_counted(roadmap):
    team = ["=1+1", "<Ann", "Bo*", "Bob", "A~B", "?"]
    plan = build(roadmap, params(sample=True, team=team, year=dt.date.today().year + 2))
    owners = [o for o, s in zip(column(plan, "task_owner"), column(plan, "task_status")) if s]
    assert column(plan, "tasks_by_owner") == [float(owners.count(p)) for p in team]
    assert sum(column(plan, "tasks_by_owner")) == len(owners) > 0
