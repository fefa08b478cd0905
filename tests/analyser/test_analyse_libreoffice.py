"""The analyser against workbooks that LibreOffice itself filled in and saved.

Each scenario generates a workbook (sample data, plan year 2031 so that no date check depends
on today), has LibreOffice edit it as a person would (values typed, text where a number belongs,
rows inserted, a formula overwritten; tests/libreoffice.py ``edit_many``), and analyses what
LibreOffice saved. Findings are expected at cells computed from the plan (``build``),
moved by the rows the scenario inserted; the totals must equal the values LibreOffice itself
recalculated and saved (read back with openpyxl, ``data_only=True``).

Every job of the module runs in one LibreOffice start. Needs LibreOffice and python3-uno:
skipped without them, failed when SMM_SHEETS_REQUIRE_LIBREOFFICE=1.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from smm_sheets.analyser.pipeline import analyse, analyse_file
from smm_sheets.blueprint import loader
from smm_sheets.errors import SmmSheetsError
from smm_sheets.generator.pipeline import generate, with_sample_goals
from smm_sheets.plan import build
from smm_sheets.sheetref import a1
from tests.conftest import params
from tests.libreoffice import edit_many, soffice_uno  # noqa: F401 - the fixture

pytestmark = pytest.mark.usefixtures("soffice_uno")

YEAR = 2031
TOLERANCE = 1e-9
BLUEPRINTS = ("budget", "calendar", "kpi-report", "roadmap", "strategy")
NOT_ON_TEAM, NOT_A_STATUS, NOT_A_CHANNEL = "Zed Nobody", "Someday", "TikTok"


def make_params(**values):
    return params(year=YEAR, sample=True, **values)


# --------------------------------------------------------------------------- the plan's cells


@dataclass
class Where:
    """A planned cell: its sheet (index and name) and 0-based row and column."""

    sheet: int
    name: str
    row: int
    col: int
    in_file: bool = False  # already where it is in the file (a row that was inserted)

    @property
    def ref(self) -> str:
        """For lo_edit: ``'Sheet name'!D7``."""
        return "'" + self.name.replace("'", "''") + "'!" + a1(self.row, self.col)

    def moved(self, inserts: list[tuple[int, int, int]]) -> Where:
        """Where it is after rows were inserted: (sheet index, 0-based row before which, count)."""
        if self.in_file:
            return self
        row = self.row
        for sheet, before, count in inserts:
            if sheet == self.sheet and row >= before:
                row += count
        return Where(self.sheet, self.name, row, self.col)

    @property
    def cell(self) -> str:
        return a1(self.row, self.col)


def at(plan, name: str, **coords) -> Where:
    """The cell of item ``name`` with these coordinates (``row=3`` for a row of a table)."""
    item = plan.items[name]
    if item.column is not None:
        store = item.column
        index = coords["row"]
        assert 0 <= index < len(store.values), (name, index)
        return Where(item.sheet, plan.sheets[item.sheet].name, store.first_row + index, store.col)
    for found, row, col in item.cells:
        if found == coords:
            return Where(item.sheet, plan.sheets[item.sheet].name, row, col)
    raise KeyError(f"{name} {coords}")


def planned_value(plan, name: str, **coords) -> Any:
    item = plan.items[name]
    if item.column is not None:
        return item.column.values[coords["row"]]
    where = at(plan, name, **coords)
    return plan.sheets[where.sheet].cells[(where.row, where.col)].value


def cells_of(plan, name: str) -> list[tuple[dict, Where]]:
    item = plan.items[name]
    return [(coords, Where(item.sheet, plan.sheets[item.sheet].name, row, col)) for coords, row, col in item.cells]


def build_plan(blueprint_id: str, parameters):
    blueprint = loader.load(blueprint_id)
    return build(blueprint, with_sample_goals(parameters, [blueprint]))


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """One LibreOffice job and what the analyser must say about its output."""

    name: str
    blueprint: str
    language: str = "en"
    fmt: str = "xlsx"
    actions: list[dict] = field(default_factory=list)
    # Rows inserted: (sheet index, 0-based planned row before which, count).
    inserts: list[tuple[int, int, int]] = field(default_factory=list)
    # (code, planned Where, text the message must contain); cells moved by the inserts.
    expected: list[tuple[str, Where, str]] = field(default_factory=list)
    allowed_errors: frozenset = frozenset()
    plan: Any = None


def budget_typed(plan) -> Scenario:
    """Actuals typed; a money typed as text; an overspend; a formula changed (same value)."""
    line = {"line": "scheduling", "category": "software"}
    photographer = {"line": "photographer", "category": "services"}
    hosting = {"line": "hosting", "category": "assets"}
    typed = at(plan, "actual", **line, month=6)
    text = at(plan, "actual", **photographer, month=7)
    over = at(plan, "actual", **hosting, month=8)
    changed = at(plan, "total_planned", month=2)
    first = at(plan, "planned", line="scheduling", category="software", month=2)
    last = at(plan, "planned", line="hosting", category="assets", month=2)
    middle = first.row + 6
    column = a1(0, first.col)[:-1]
    split = f"=SUM({column}{first.row + 1}:{column}{middle})+SUM({column}{middle + 1}:{column}{last.row + 1})"
    planned_hosting = planned_value(plan, "planned", **hosting, month=8)
    return Scenario(
        "budget_typed",
        "budget",
        actions=[
            {"set": typed.ref, "value": 123.45},
            {"set": text.ref, "value": "1 200,50"},
            {"set": over.ref, "value": planned_hosting + 1000},
            {"unprotect": plan.sheets[changed.sheet].name},
            {"set": changed.ref, "formula": split},
            {"protect": plan.sheets[changed.sheet].name},
        ],
        expected=[
            ("type-error", text, "Type it as the number 1,200.5."),
            ("overspend", over, "more than the"),
            ("formula-changed", changed, "is not the workbook's own"),
        ],
        allowed_errors=frozenset({"type-error"}),
    )


def budget_carry(plan) -> Scenario:
    """The carry-over's available amount overwritten by a constant in April."""
    line = {"line": "advertising_instagram", "category": "advertising"}
    target = at(plan, "available", **line, month=3)
    sheet = plan.sheets[target.sheet].name
    return Scenario(
        "budget_carry",
        "budget",
        actions=[{"unprotect": sheet}, {"set": target.ref, "value": 500}, {"protect": sheet}],
        expected=[
            ("formula-overwritten", target, "was replaced by 500"),
            ("carry-over-broken", target, "broken from"),
        ],
        allowed_errors=frozenset({"formula-overwritten", "carry-over-broken"}),
    )


def budget_row_inside(plan) -> Scenario:
    """A row inserted inside the actual block (among the software lines), with an amount."""
    before = at(plan, "actual", line="stock_photos", category="software", month=0)
    sheet = plan.sheets[before.sheet].name
    new = Where(before.sheet, sheet, before.row, before.col)  # the inserted row takes its place
    return Scenario(
        "budget_row_inside",
        "budget",
        actions=[
            {"unprotect": sheet},
            {"insert_rows": sheet, "before": before.row + 1, "count": 1},
            {"set": new.ref, "value": 77},
            {"protect": sheet},
        ],
        inserts=[(before.sheet, before.row, 1)],
        expected=[
            (
                "total-misses-rows",
                Where(new.sheet, sheet, new.row, new.col, in_file=True),
                "the totals count it",
            )
        ],
    )


def budget_row_below(plan) -> Scenario:
    """A row inserted right below the actual block (below every total's range), with an amount."""
    last = max((w for coords, w in cells_of(plan, "actual") if coords["month"] == 0), key=lambda w: w.row)
    sheet = plan.sheets[last.sheet].name
    new = Where(last.sheet, sheet, last.row + 1, last.col)
    return Scenario(
        "budget_row_below",
        "budget",
        actions=[
            {"unprotect": sheet},
            {"insert_rows": sheet, "before": last.row + 2, "count": 1},
            {"set": new.ref, "value": 88},
            {"protect": sheet},
        ],
        inserts=[(last.sheet, last.row + 1, 1)],
        expected=[("total-misses-rows", Where(new.sheet, sheet, new.row, new.col, in_file=True), "no total counts")],
        allowed_errors=frozenset({"total-misses-rows"}),
    )


def roadmap_edits(plan) -> Scenario:
    owner = at(plan, "owner", row=0)
    start1, end1 = at(plan, "start", row=1), at(plan, "end", row=1)
    status = at(plan, "status", row=2)
    start3 = at(plan, "start", row=3)
    end4 = at(plan, "end", row=4)
    new = at(plan, "initiative", row=5)
    return Scenario(
        "roadmap",
        "roadmap",
        actions=[
            {"set": owner.ref, "value": NOT_ON_TEAM},
            {"set": start1.ref, "date": f"{YEAR}-01-20"},
            {"set": end1.ref, "date": f"{YEAR}-01-02"},
            {"set": status.ref, "value": NOT_A_STATUS},
            {"set": start3.ref, "value": f"12/03/{YEAR}"},
            {"set": end4.ref, "date": f"{YEAR + 1}-06-01"},
            {"set": new.ref, "value": "Podcast"},
        ],
        expected=[
            ("owner-not-on-team", owner, NOT_ON_TEAM),
            ("end-before-start", end1, f"ends on {YEAR}-01-02, before it starts on {YEAR}-01-20"),
            ("status-not-in-workflow", status, NOT_A_STATUS),
            ("type-error", start3, f"Type it as the date {YEAR}-03-12."),
            ("date-out-of-period", end4, f"{YEAR + 1}-06-01"),
            *[("missing-value", at(plan, name, row=5), "required") for name in ("goal", "owner", "start", "status")],
        ],
        allowed_errors=frozenset(
            {"owner-not-on-team", "end-before-start", "status-not-in-workflow", "type-error", "missing-value"}
        ),
    )


CAPTION_OVER = 300  # characters over the channel's limit


def calendar_edits(plan) -> Scenario:
    sheet = plan.sheets[plan.items["post_date"].sheet].name
    channel = at(plan, "post_channel", row=0)
    caption_channel = at(plan, "post_channel", row=1)
    caption = at(plan, "caption", row=1)
    limit = planned_value(plan, "caption_limit", channel="instagram")
    status = at(plan, "post_status", row=20)  # below the inserted rows: it moves
    before = at(plan, "post_date", row=10)
    inserts = [(before.sheet, before.row, 2)]
    new_rows = []
    for i in range(2):
        row = before.row + i
        new_rows += [
            {
                "set": Where(before.sheet, sheet, row, at(plan, "post_date", row=0).col).ref,
                "date": f"{YEAR}-05-0{5 + i}",
            },
            {"set": Where(before.sheet, sheet, row, channel.col).ref, "value": "Instagram"},
            {"set": Where(before.sheet, sheet, row, status.col).ref, "value": "Published"},
        ]
    return Scenario(
        "calendar",
        "calendar",
        actions=[
            {"set": channel.ref, "value": NOT_A_CHANNEL},
            {"set": caption_channel.ref, "value": "Instagram"},
            {"set": caption.ref, "value": "x" * int(limit + CAPTION_OVER)},
            {"set": status.ref, "value": NOT_A_STATUS},
            {"unprotect": sheet},
            {"insert_rows": sheet, "before": before.row + 1, "count": 2},
            *new_rows,
            {"protect": sheet},
        ],
        inserts=inserts,
        expected=[
            ("channel-not-in-plan", channel, NOT_A_CHANNEL),
            ("caption-too-long", caption, f"{int(limit + CAPTION_OVER):,} characters"),
            ("status-not-in-workflow", status, NOT_A_STATUS),
        ],
        allowed_errors=frozenset({"channel-not-in-plan", "status-not-in-workflow"}),
    )


OWN_CTR_TARGET = 0.02


def kpi_edits(plan) -> Scenario:
    ig = {"channel": "instagram"}
    impressions = at(plan, "impressions", **ig, month=1)
    likes = at(plan, "likes", **ig, month=1)
    clicks = at(plan, "link_clicks", **ig, month=2)
    engaged = sum(planned_value(plan, n, **ig, month=2) or 0 for n in ("likes", "comments", "shares", "saves"))
    negative = at(plan, "comments", channel="facebook", month=3)
    assert engaged < planned_value(plan, "impressions", **ig, month=2), "sample data changed: pick another month"
    return Scenario(
        "kpi",
        "kpi-report",
        actions=[
            {"set": likes.ref, "value": planned_value(plan, "impressions", **ig, month=1) + 1},
            {"set": clicks.ref, "value": planned_value(plan, "impressions", **ig, month=2) + 5},
            {"set": negative.ref, "value": -5},
            # Months' own targets (the others keep the one for every month): the report's
            # target in force must follow them.
            {"set": at(plan, "target_ctr", **ig, month=2).ref, "value": OWN_CTR_TARGET},
            {"set": at(plan, "target_er_impressions", channel="facebook", month=3).ref, "value": 0.03},
        ],
        expected=[
            ("impossible-count", impressions, "add up to more than"),
            ("impossible-count", clicks, "link clicks from"),
            ("out-of-range", negative, "-5 is too small"),
        ],
        allowed_errors=frozenset({"impossible-count", "out-of-range"}),
    )


def strategy_cleared(plan) -> Scenario:
    first = next(
        p for p in plan.items.values() if p.role == "input" and p.field.required and p.column is None and p.sheet > 0
    )
    cleared = at(plan, first.name, **first.cells[0][0])
    assert planned_value(plan, first.name, **first.cells[0][0]) not in (None, "")
    return Scenario(
        "strategy",
        "strategy",
        actions=[{"set": cleared.ref, "clear": True}],
        expected=[("missing-value", cleared, "required answer is blank")],
        allowed_errors=frozenset({"missing-value"}),
    )


def budget_ods(plan) -> Scenario:
    # The same edits saved as .ods: formulas are read from content.xml, so the same findings.
    typed = budget_typed(plan)
    return Scenario(
        "budget_ods",
        "budget",
        fmt="ods",
        actions=typed.actions,
        expected=typed.expected,
        allowed_errors=typed.allowed_errors,
    )


def other_language() -> str:
    """Macedonian, which the issue names, or (until its catalog is in) another language not English."""
    offered = [language for language in loader.load("budget").labels if language != "en"]
    assert offered, "no language but English: the other-language scenario needs one"
    return "mk" if "mk" in offered else offered[0]


def english_goals() -> tuple[str, ...]:
    return with_sample_goals(make_params(), [loader.load("strategy")]).goals


def budget_mk(plan) -> Scenario:
    typed = budget_typed(plan)
    return Scenario(
        "budget_mk",
        "budget",
        language=plan.params.language,
        actions=typed.actions,
        expected=typed.expected,
        allowed_errors=typed.allowed_errors,
    )


SCENARIOS: dict[str, tuple[str, dict, Callable]] = {
    "budget_typed": ("budget", {}, budget_typed),
    "budget_carry": ("budget", {}, budget_carry),
    "budget_row_inside": ("budget", {}, budget_row_inside),
    "budget_row_below": ("budget", {}, budget_row_below),
    "budget_ods": ("budget", {}, budget_ods),
    "budget_mk": ("budget", {"language": None}, budget_mk),  # mk, or another language there are texts for
    "roadmap": ("roadmap", {}, roadmap_edits),
    "calendar": ("calendar", {}, calendar_edits),
    "kpi": ("kpi-report", {}, kpi_edits),
    "strategy": ("strategy", {}, strategy_cleared),
}
OTHER_CHANNELS = "instagram,tiktok"


@dataclass
class Edited:
    scenario: Scenario
    source: Path
    out: Path


@pytest.fixture(scope="module")
def lo(tmp_path_factory) -> dict[str, Any]:
    """Every LibreOffice job of the module in one start.

    Returns:
        ``scenarios``: name -> Edited; ``set_a`` / ``set_b``: folders of one client's five
        workbooks saved by LibreOffice untouched (in set_b the calendar has other channels);
        ``sources``: every generated file -> its sha256 before LibreOffice ran.
    """
    generated = tmp_path_factory.mktemp("generated")
    out = tmp_path_factory.mktemp("edited")
    sources: dict[tuple, Path] = {}

    def source(blueprint_id: str, **values) -> Path:
        key = (blueprint_id, tuple(sorted(values.items())))
        if key not in sources:
            folder = generated / f"g{len(sources)}"
            folder.mkdir()
            sources[key] = generate(blueprint_id, make_params(**values), folder)
        return sources[key]

    jobs, scenarios = [], {}
    for name, (blueprint_id, values, make) in SCENARIOS.items():
        if "language" in values:
            # The English workbook's goals: the catalogs' sample goals are other texts
            # (test_sample_workbook_in_every_language_can_be_analysed covers those).
            values = {**values, "language": other_language(), "goals": english_goals()}
        plan = build_plan(blueprint_id, make_params(**values))
        scenario = make(plan)
        scenario.plan = plan
        src = source(blueprint_id, **values)
        target = out / f"{name}.{scenario.fmt}"
        jobs.append({"src": src, "out": target, "format": scenario.fmt, "actions": scenario.actions})
        scenarios[name] = Edited(scenario, src, target)
    set_a, set_b = out / "set_a", out / "set_b"
    for blueprint_id in BLUEPRINTS:
        jobs.append({"src": source(blueprint_id), "out": set_a / f"{blueprint_id}.xlsx", "actions": []})
    jobs.append({"src": source("calendar", channels=OTHER_CHANNELS), "out": set_b / "calendar.xlsx", "actions": []})
    hashes = {path: sha256(path) for path in sources.values()}
    edit_many(jobs, timeout=600)
    assert {path: sha256(path) for path in sources.values()} == hashes, "LibreOffice changed a source"
    for blueprint_id in BLUEPRINTS:
        if blueprint_id != "calendar":
            shutil.copy(set_a / f"{blueprint_id}.xlsx", set_b / f"{blueprint_id}.xlsx")
    return {"scenarios": scenarios, "set_a": set_a, "set_b": set_b, "sources": sources}


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


_HASHES: dict[Path, tuple[str, str]] = {}


class Reports(dict):
    """Scenario name -> FileReport; a file the analyser refused fails only the tests that read it."""

    def __getitem__(self, name: str):
        found = super().__getitem__(name)
        if isinstance(found, SmmSheetsError):
            pytest.fail(f"{name}: the analyser refused LibreOffice's file: {found}")
        return found


@pytest.fixture(scope="module")
def reports(lo) -> Reports:
    """Scenario name -> FileReport of LibreOffice's output (sha256 taken before and after)."""
    found = Reports()
    for name, edited in lo["scenarios"].items():
        before = sha256(edited.out)
        try:
            found[name] = analyse_file(
                edited.out, "en"
            )  # the expected texts are English, whatever the workbook's language
        except SmmSheetsError as error:
            found[name] = error
        _HASHES[edited.out] = (before, sha256(edited.out))
    return found


def values_book(path: Path):
    return openpyxl.load_workbook(path, data_only=True)


def saved(book, where: Where) -> Any:
    """LibreOffice's saved value at a (moved) planned cell, from an openpyxl workbook."""
    return book[where.name].cell(where.row + 1, where.col + 1).value


def close(a: Any, b: Any) -> bool:
    # Blank (not reported: None, "", or NaN in a report's table) counts as 0 here.
    a = 0.0 if a in (None, "") or (isinstance(a, float) and math.isnan(a)) else a
    b = 0.0 if b in (None, "") or (isinstance(b, float) and math.isnan(b)) else b
    return math.isclose(float(a), float(b), rel_tol=TOLERANCE, abs_tol=TOLERANCE)


def assert_findings(
    report, scenario: Scenario, codes: set | None = None, ignore: Callable = lambda finding: False
) -> None:
    """The expected findings (of ``codes``, or all) at their (moved) cells, and no error
    outside the allowed codes (but those ``ignore`` says another test covers)."""
    expect_findings(report, scenario, codes)
    unexpected = [
        f for f in report.findings if f.severity == "error" and f.code not in scenario.allowed_errors and not ignore(f)
    ]
    assert not unexpected, unexpected


def expect_findings(report, scenario: Scenario, codes: set | None = None) -> None:
    got = [(f.code, f.sheet, f.cell, f.message, f.severity) for f in report.findings]
    for code, where, text in scenario.expected:
        if codes is not None and code not in codes:
            continue
        moved = where.moved(scenario.inserts)
        hits = [g for g in got if g[0] == code and g[1] == moved.name and g[2] == moved.cell]
        assert hits, f"{code} expected at {moved.name}!{moved.cell}; findings: {got}"
        assert any(text in g[3] for g in hits), (text, hits)


# --------------------------------------------------------------------------- budget


def budget_totals_match(report, edited: Edited, book=None) -> None:
    """by_month, by_category and the year totals equal LibreOffice's total rows and Summary."""
    plan, inserts = edited.scenario.plan, edited.scenario.inserts
    book = book if book is not None else values_book(edited.out)
    by_month = report.totals["by_month"]
    assert len(by_month) == 12
    for month in range(12):
        for column, name in (
            ("planned", "total_planned"),
            ("actual", "total_actual"),
            ("variance", "total_variance"),
        ):
            where = at(plan, name, month=month).moved(inserts)
            assert close(by_month[column].iloc[month], saved(book, where)), (
                column,
                month,
                by_month[column].iloc[month],
                saved(book, where),
            )
        # The carry-over: a surplus when positive, a deficit when negative.
        carried = saved(book, at(plan, "carried", month=month).moved(inserts)) or 0
        assert close(by_month["surplus"].iloc[month], max(float(carried), 0.0)), ("surplus", month)
        assert close(by_month["deficit"].iloc[month], max(-float(carried), 0.0)), ("deficit", month)
    by_category = report.totals["by_category"]
    for i, (coords, where) in enumerate(cells_of(plan, "year_planned")):
        for column, name in (("planned", "year_planned"), ("actual", "year_actual"), ("variance", "year_variance")):
            cell = at(plan, name, **coords).moved(inserts)
            assert close(by_category[column].iloc[i], saved(book, cell)), (column, coords)
    for total, name in (
        ("planned", "year_planned.total"),
        ("actual", "year_actual.total"),
        ("variance", "year_variance.total"),
    ):
        assert close(report.totals[total], saved(book, at(plan, name).moved(inserts))), total
    last = [
        at(plan, "surplus", **coords).moved(inserts) for coords, _ in cells_of(plan, "surplus") if coords["month"] == 11
    ]
    assert close(report.totals["remaining"], sum(saved(book, w) or 0 for w in last))


def test_budget_typed_values_text_overspend_and_a_changed_formula(lo, reports):
    edited = lo["scenarios"]["budget_typed"]
    assert_findings(reports["budget_typed"], edited.scenario)
    budget_totals_match(reports["budget_typed"], edited)
    # The typed actual is in the totals; the text is not (LibreOffice's SUM skips it too).
    book = values_book(edited.out)
    assert saved(book, at(edited.scenario.plan, "actual", line="scheduling", category="software", month=6)) == 123.45


def test_budget_overwritten_carry_over(lo, reports):
    edited = lo["scenarios"]["budget_carry"]
    assert_findings(reports["budget_carry"], edited.scenario)
    budget_totals_match(reports["budget_carry"], edited)


def test_budget_row_inserted_inside_the_actual_block(lo, reports):
    edited = lo["scenarios"]["budget_row_inside"]
    report = reports["budget_row_inside"]
    assert_findings(report, edited.scenario)
    warning = [f for f in report.findings if f.code == "total-misses-rows"]
    assert [f.severity for f in warning] == ["warning"]


def test_budget_row_inserted_inside_the_actual_block_totals(lo, reports):
    # The formulas that count the inserted row keep LibreOffice's saved values.
    budget_totals_match(reports["budget_row_inside"], lo["scenarios"]["budget_row_inside"])


def test_budget_row_inserted_below_the_actual_block(lo, reports):
    edited = lo["scenarios"]["budget_row_below"]
    report = reports["budget_row_below"]
    assert_findings(report, edited.scenario)
    assert [f.severity for f in report.findings if f.code == "total-misses-rows"] == ["error"]
    budget_totals_match(report, edited)


# --------------------------------------------------------------------------- roadmap


def _roadmap_status_cell(edited) -> tuple[str, str]:
    where = next(w for code, w, _ in edited.scenario.expected if code == "status-not-in-workflow")
    return where.name, where.cell


def test_roadmap_owner_dates_and_missing_answers(lo, reports):
    edited = lo["scenarios"]["roadmap"]
    status = _roadmap_status_cell(edited)  # test_roadmap_status_outside_the_workflow
    codes = {code for code, _, _ in edited.scenario.expected} - {"status-not-in-workflow"}
    assert_findings(reports["roadmap"], edited.scenario, codes, ignore=lambda f: (f.sheet, f.cell) == status)


def test_roadmap_status_outside_the_workflow(lo, reports):
    edited = lo["scenarios"]["roadmap"]
    status = _roadmap_status_cell(edited)
    expect_findings(reports["roadmap"], edited.scenario, {"status-not-in-workflow"})
    assert [f.code for f in reports["roadmap"].findings if (f.sheet, f.cell) == status] == ["status-not-in-workflow"]


def test_roadmap_totals_equal_libreoffices(lo, reports):
    edited = lo["scenarios"]["roadmap"]
    report = reports["roadmap"]
    plan = edited.scenario.plan
    book = values_book(edited.out)
    initiatives = [saved(book, w) for _, w in cells_of(plan, "initiative")]
    assert report.totals["initiatives"] == sum(v not in (None, "") for v in initiatives) == 6
    tasks = [saved(book, w) for _, w in cells_of(plan, "task")]
    assert close(report.totals["tasks"], sum(v not in (None, "") for v in tasks))
    assert close(report.totals["tasks"], saved(book, at(plan, "tasks_by_status.total")))
    overdue = [saved(book, w) for _, w in cells_of(plan, "overdue")]
    assert close(report.totals["initiatives_overdue"], sum(v not in (None, "") for v in overdue))
    done = [(coords, w) for coords, w in cells_of(plan, "status_name") if saved(book, w) == "Done"]
    assert len(done) == 1
    assert close(report.totals["initiatives_done"], saved(book, at(plan, "initiatives_by_status", **done[0][0])))
    assert close(report.totals["tasks_done"], saved(book, at(plan, "tasks_by_status", **done[0][0])))


# --------------------------------------------------------------------------- calendar


def _in_inserted_rows(edited) -> Callable:
    """Is a finding in the rows the scenario inserted?"""
    rows = {
        (edited.scenario.plan.sheets[s].name, r + 1 + i)
        for s, r, count in edited.scenario.inserts
        for i in range(count)
    }
    return lambda f: f.cell is not None and (f.sheet, int(f.cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))) in rows


def test_calendar_channel_caption_status_and_inserted_posts(lo, reports):
    edited = lo["scenarios"]["calendar"]
    # Errors in the inserted rows: test_calendar_inserted_rows_have_no_errors.
    assert_findings(reports["calendar"], edited.scenario, ignore=_in_inserted_rows(edited))
    assert not [f for f in reports["calendar"].findings if f.code == "total-misses-rows"]


def test_calendar_inserted_rows_have_no_errors(lo, reports):
    edited = lo["scenarios"]["calendar"]
    inside = _in_inserted_rows(edited)
    assert not [f for f in reports["calendar"].findings if inside(f) and f.severity == "error"]
    # LibreOffice copies no formulas into inserted rows: one warning per row says so.
    missing = [f for f in reports["calendar"].findings if f.code == "formula-missing"]
    assert len(missing) == 2 and all(inside(f) for f in missing)


def test_calendar_totals_equal_libreoffices(lo, reports):
    edited = lo["scenarios"]["calendar"]
    report, plan, inserts = reports["calendar"], edited.scenario.plan, edited.scenario.inserts
    book = values_book(edited.out)
    sheet = book[plan.sheets[plan.items["post_date"].sheet].name]
    first = plan.items["post_date"].column.first_row
    date_col, status_col = plan.items["post_date"].column.col, plan.items["post_status"].column.col
    rows = list(sheet.iter_rows(min_row=first + 1, values_only=True))
    dated = [r for r in rows if isinstance(r[date_col], dt.datetime)]
    assert report.totals["posts_planned"] == len(dated) == 26 + 2
    assert report.totals["posts_published"] == sum(r[status_col] == "Published" for r in rows)
    for table, key in (("by_month", "month"), ("by_channel", "channel")):
        frame = report.totals[table]
        for column, name in (("posts", "posts"), ("published", "count_published"), ("target", "planned")):
            for i in range(len(frame)):
                cells = [
                    w.moved(inserts)
                    for coords, w in cells_of(plan, name)
                    if list(_order(plan, name, key)).index(coords[key]) == i
                ]
                assert close(frame[column].iloc[i], sum(saved(book, w) or 0 for w in cells)), (table, column, i)
    # Each channel's month: LibreOffice's own cells of the Summary sheet.
    by_channel_month = report.totals["by_channel_month"]
    channels = _order(plan, "posts", "channel")
    assert len(by_channel_month) == len(channels) * 12
    for column, name in (("posts", "posts"), ("published", "count_published"), ("target", "planned")):
        for coords, where in cells_of(plan, name):
            i = channels.index(coords["channel"]) * 12 + coords["month"]
            assert close(by_channel_month[column].iloc[i], saved(book, where.moved(inserts))), (column, coords)
    assert list(dict.fromkeys(by_channel_month.index.get_level_values("channel"))) == list(
        report.totals["by_channel"].index
    )
    for month in range(12):
        assert close(report.totals["by_month"]["posts"].iloc[month], saved(book, at(plan, "total_posts", month=month)))
        assert close(
            report.totals["by_month"]["published"].iloc[month], saved(book, at(plan, "total_published", month=month))
        )


def _order(plan, name: str, key: str) -> list:
    seen = []
    for coords, _ in cells_of(plan, name):
        if coords[key] not in seen:
            seen.append(coords[key])
    return seen


# --------------------------------------------------------------------------- KPI report


KPI_INPUTS = ("impressions", "link_clicks", "ad_spend", "conversions", "revenue")


def test_kpi_impossible_counts_and_a_negative_one(lo, reports):
    assert_findings(reports["kpi"], lo["scenarios"]["kpi"].scenario)


def test_kpi_totals_equal_libreoffices(lo, reports):
    edited = lo["scenarios"]["kpi"]
    report, plan = reports["kpi"], edited.scenario.plan
    book = values_book(edited.out)

    def total(name, **only):
        return sum(saved(book, w) or 0 for c, w in cells_of(plan, name) if all(c[k] == v for k, v in only.items()))

    for name in KPI_INPUTS:
        assert close(report.totals[name], total(name)), name
    engagements = sum(total(n) for n in ("likes", "comments", "shares", "saves"))
    assert close(report.totals["engagements"], engagements)
    assert close(report.totals["engagement_rate"], engagements / total("impressions"))
    for i, channel in enumerate(_order(plan, "impressions", "channel")):
        assert close(report.totals["by_channel"]["impressions"].iloc[i], total("impressions", channel=channel))
    # LibreOffice's own click-through rates, per channel and month, follow the saved counts.
    for coords, where in cells_of(plan, "ctr"):
        value = saved(book, where)
        if isinstance(value, (int, float)):
            clicks = saved(book, at(plan, "link_clicks", **coords))
            impressions = saved(book, at(plan, "impressions", **coords))
            assert close(value, clicks / impressions)
    # Each channel's month: the KPIs are LibreOffice's KPI cells, the target the one in force
    # (the month's own, else every month's), as the sheet's status rules read it.
    table = report.totals["by_channel_month"]
    channels, months = _order(plan, "ctr", "channel"), 12
    assert len(table) == len(channels) * months
    # Channel by channel in by_channel's order (which the test above ties to the plan's).
    assert list(dict.fromkeys(table.index.get_level_values("channel"))) == list(report.totals["by_channel"].index)
    for kpi, column, target in (
        ("ctr", "ctr", "target_ctr"),
        ("er_impressions", "engagement_rate", "target_engagement_rate"),
    ):
        for coords, where in cells_of(plan, kpi):
            i = channels.index(coords["channel"]) * months + coords["month"]
            assert close(table[column].iloc[i], saved(book, where)), (kpi, coords)
            own = saved(book, at(plan, f"target_{kpi}", **coords))
            every = saved(book, at(plan, f"target_{kpi}", channel=coords["channel"], month=months))
            assert close(table[target].iloc[i], every if own in (None, "") else own), (target, coords)
    instagram = channels.index("instagram") * months
    assert close(table["target_ctr"].iloc[instagram + 2], OWN_CTR_TARGET)
    assert not close(table["target_ctr"].iloc[instagram + 1], OWN_CTR_TARGET)


# --------------------------------------------------------------------------- strategy


def test_strategy_cleared_answer_and_completeness(lo, reports):
    edited = lo["scenarios"]["strategy"]
    report, plan = reports["strategy"], edited.scenario.plan
    assert_findings(report, edited.scenario)
    book = values_book(edited.out)
    completeness = saved(book, at(plan, "done_all"))
    assert close(report.totals["completeness"], completeness)
    assert completeness < planned_value(plan, "done_all")  # the cleared answer shows
    assert close(report.totals["readiness"], saved(book, at(plan, "ready_score")))
    assert close(report.totals["goals"], saved(book, at(plan, "glance_goals")))
    assert close(report.totals["initiatives"], saved(book, at(plan, "glance_initiatives")))


# --------------------------------------------------------------------------- .ods, other languages


def test_ods_saved_by_libreoffice_findings(lo, reports):
    edited = lo["scenarios"]["budget_ods"]
    report = reports["budget_ods"]
    assert not [f for f in report.findings if f.code == "formulas-not-read"]
    expect_findings(report, edited.scenario)
    xlsx = reports["budget_typed"]
    assert sorted((f.code, f.sheet, f.cell) for f in report.findings) == sorted(
        (f.code, f.sheet, f.cell) for f in xlsx.findings
    )


def test_ods_saved_by_libreoffice_has_no_unexpected_error(lo, reports):
    assert_findings(reports["budget_ods"], lo["scenarios"]["budget_ods"].scenario)


def test_ods_saved_by_libreoffice_totals(lo, reports):
    edited = lo["scenarios"]["budget_ods"]
    report = reports["budget_ods"]
    budget_totals_match(report, edited, OdsValues(edited.out, [sheet.name for sheet in edited.scenario.plan.sheets]))


class OdsValues:
    """LibreOffice's saved values of an .ods file, looked up as ``book[sheet].cell(row, col).value`` (1-based)."""

    def __init__(self, path: Path, sheets: list[str]):
        book = CalamineWorkbook.from_path(str(path))
        self.rows = {name: book.get_sheet_by_name(name).to_python(skip_empty_area=False) for name in sheets}

    def __getitem__(self, name: str) -> OdsValues._Sheet:
        return OdsValues._Sheet(self.rows[name])

    class _Sheet:
        def __init__(self, rows: list[list]):
            self.rows = rows

        def cell(self, row: int, col: int) -> SimpleNamespace:
            line = self.rows[row - 1] if row - 1 < len(self.rows) else []
            value = line[col - 1] if col - 1 < len(line) else None
            return SimpleNamespace(value=None if value == "" else value)


def _frames_equal(one, other) -> None:
    assert list(one.columns) == list(other.columns)
    assert one.shape == other.shape
    for a, b in zip(one.to_numpy().ravel(), other.to_numpy().ravel()):
        assert close(a, b)


def test_macedonian_workbook_gives_the_same_findings_and_totals(lo, reports):
    english, macedonian = reports["budget_typed"], reports["budget_mk"]
    plan_en, plan_mk = lo["scenarios"]["budget_typed"].scenario.plan, lo["scenarios"]["budget_mk"].scenario.plan
    assert [s.name for s in plan_mk.sheets] != [s.name for s in plan_en.sheets]  # it is another language
    index_en = {s.name: i for i, s in enumerate(plan_en.sheets)}
    index_mk = {s.name: i for i, s in enumerate(plan_mk.sheets)}
    found_en = sorted((f.code, index_en.get(f.sheet), f.cell, f.severity) for f in english.findings)
    found_mk = sorted((f.code, index_mk.get(f.sheet), f.cell, f.severity) for f in macedonian.findings)
    assert found_mk == found_en
    assert english.totals.keys() == macedonian.totals.keys()
    for key, value in english.totals.items():
        if hasattr(value, "to_numpy"):
            _frames_equal(value, macedonian.totals[key])
        else:
            assert close(value, macedonian.totals[key]), key
    budget_totals_match(macedonian, lo["scenarios"]["budget_mk"])


@pytest.mark.parametrize("language", ["en", "fi", "lv", "mk", "nb"])
def test_sample_workbook_in_every_language_can_be_analysed(language, tmp_path):
    # No LibreOffice needed: what the generator writes with --sample, the analyser reads.
    if language not in loader.load("strategy").labels:
        pytest.skip(f"no {language} catalog yet")
    for blueprint_id in BLUEPRINTS:
        path = generate(blueprint_id, make_params(language=language), tmp_path)
        report = analyse_file(path)
        assert report.blueprint_id == blueprint_id


# --------------------------------------------------------------------------- untouched, and one client's set


def test_libreoffice_round_trip_changes_no_finding_and_no_total(lo):
    # Saved by LibreOffice untouched: the same findings and totals as the generated file.
    for blueprint_id in BLUEPRINTS:
        generated = lo["sources"][(blueprint_id, ())]
        mine, theirs = analyse_file(generated), analyse_file(lo["set_a"] / f"{blueprint_id}.xlsx")
        assert sorted((f.code, f.sheet, f.cell) for f in theirs.findings) == sorted(
            (f.code, f.sheet, f.cell) for f in mine.findings
        ), blueprint_id
        assert theirs.application and "libreoffice" in theirs.application.lower().replace(" ", ""), theirs.application
        for key, value in mine.totals.items():
            if hasattr(value, "to_numpy"):
                _frames_equal(value, theirs.totals[key])
            else:
                assert close(value, theirs.totals[key]), (blueprint_id, key)


def test_one_clients_set_agrees(lo):
    report = analyse(lo["set_a"])
    assert not report.failures
    assert sorted(r.blueprint_id for r in report.reports) == sorted(BLUEPRINTS)
    assert not [f for r in report.reports for f in r.findings if f.code == "set-mismatch"]


def test_one_clients_sample_set_names_known_initiatives(lo):
    report = analyse(lo["set_a"])
    assert not [(r.file, f.message) for r in report.reports for f in r.findings if f.code == "initiative-unknown"]


def test_a_calendar_with_other_channels_is_a_set_mismatch(lo):
    report = analyse(lo["set_b"])
    assert not report.failures
    mismatches = {Path(r.file).name: [f for f in r.findings if f.code == "set-mismatch"] for r in report.reports}
    assert [name for name, found in mismatches.items() if found] == ["calendar.xlsx"]
    found = mismatches["calendar.xlsx"]
    assert [f.severity for f in found] == ["error"]
    assert "channels" in found[0].message and "TikTok" in found[0].message
    assert report.exit_code() == 1


# --------------------------------------------------------------------------- the CLI


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "smm_sheets", "analyse", *map(str, args)], capture_output=True, text=True, timeout=120
    )


def test_cli_exit_codes_on_libreoffice_files(lo):
    with_errors = lo["scenarios"]["roadmap"].out
    warnings_only = lo["scenarios"]["budget_row_inside"].out
    assert run_cli(with_errors).returncode == 1
    plain = run_cli(warnings_only)
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert run_cli(warnings_only, "--strict").returncode == 1
    assert run_cli(lo["set_a"] / "kpi-report.xlsx", "--strict").returncode == 0


def test_cli_json_and_output_file(lo, tmp_path):
    edited = lo["scenarios"]["roadmap"]
    result = run_cli(edited.out, "--format", "json")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    data = json.loads(result.stdout)
    assert data["schema_version"]
    report = data["reports"][0]
    assert report["blueprint"]["id"] == "roadmap"
    codes = set()
    for item in report["findings"]:
        assert set(item) >= {"code", "severity", "sheet", "cell", "message"}
        codes.add(item["code"])
    library = analyse_file(edited.out)
    assert sorted(codes) == sorted({f.code for f in library.findings})
    assert {"owner-not-on-team", "end-before-start", "type-error", "missing-value", "date-out-of-period"} <= codes
    assert report["totals"]["initiatives"] == 6
    target = tmp_path / "report.json"
    written = run_cli(edited.out, "--format", "json", "--output", target)
    assert written.returncode == 1 and written.stdout.strip() == ""
    assert json.loads(target.read_text(encoding="utf-8")) == data


# --------------------------------------------------------------------------- last: nothing was changed


def test_analysis_changes_no_input_file(lo, reports):
    assert len(_HASHES) == len(SCENARIOS)
    for path, (before, after) in _HASHES.items():
        assert before == after, path
    for path in [*lo["set_a"].iterdir(), *lo["set_b"].iterdir()]:
        before = sha256(path)
        analyse_file(path)
        assert sha256(path) == before, path
