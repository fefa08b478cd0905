"""The edit matrix: what people do to the workbooks we send, made by LibreOffice, and what the
analyser must say about each edit.

Not a test module: ``tests/analyser/test_edit_matrix.py`` runs it, and other tests may reuse it
(a command that repairs workbooks can take the same edited files and expected findings).

* :data:`CASES` lists the edits, one :class:`EditCase` each: the LibreOffice actions
  (``tests/lo_edit.py``) computed from the plan of the sample workbook, and the findings the
  edit must add (:class:`Expect`: code, sheet, cell, a piece of the message) or take away (the
  findings of the untouched workbook that concern what was deleted).
* :func:`make_edited_files` generates every workbook with sample data, has one LibreOffice start
  apply every case and save it as .xlsx and as .ods (and save each workbook untouched, the
  baseline), and returns the files.
* :func:`judge` compares an analysis with a case: the false findings (new ones nobody expected)
  and the missed ones (expected and absent, or baseline findings that vanished unexplained).
* :func:`libreoffice_totals` reads the totals LibreOffice computed in an edited file, through
  the file's own defined names (which LibreOffice moved with the cells), and
  :func:`totals_disagreements` compares them with the analyser's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_sheets.analyser import reader
from smm_sheets.analyser.cellmap import parse_range
from smm_sheets.blueprint import loader
from smm_sheets.generator.pipeline import generate, with_sample_goals
from smm_sheets.plan import WorkbookPlan, build
from smm_sheets.sheetref import a1, column_letter
from tests.conftest import params
from tests.libreoffice import edit_many

YEAR = 2031  # no date check depends on today
BLUEPRINTS = ("budget", "calendar", "kpi-report", "roadmap", "strategy")
FORMATS = ("xlsx", "ods")


def make_params(**values):
    return params(year=YEAR, sample=True, **values)


# --------------------------------------------------------------------------- where things are


@dataclass(frozen=True)
class Cell:
    """A cell of the sample workbook as generated: sheet name, 0-based row and column."""

    sheet: str
    row: int
    col: int

    @property
    def ref(self) -> str:
        """For lo_edit: ``'Sheet name'!D7``."""
        return "'" + self.sheet.replace("'", "''") + "'!" + a1(self.row, self.col)

    @property
    def a1(self) -> str:
        return a1(self.row, self.col)

    @property
    def number(self) -> int:
        """Its row as a spreadsheet shows it (1-based)."""
        return self.row + 1

    @property
    def letter(self) -> str:
        return column_letter(self.col)

    def down(self, rows: int) -> Cell:
        return Cell(self.sheet, self.row + rows, self.col)

    def right(self, cols: int) -> Cell:
        return Cell(self.sheet, self.row, self.col + cols)

    def at_col(self, col: int) -> Cell:
        return Cell(self.sheet, self.row, col)

    def up_to_header(self, layout: Layout) -> Cell:
        """The header cell above a table's first row."""
        return Cell(self.sheet, self.row - 1, self.col)


class Layout:
    """The plan of a sample workbook: where its items are, and what they hold."""

    def __init__(self, plan: WorkbookPlan):
        self.plan = plan

    def sheet(self, item: str) -> str:
        return self.plan.sheets[self.plan.items[item].sheet].name

    def cell(self, item: str, **coords) -> Cell:
        """The cell of ``item`` with these coordinates (``row=3`` for a table of blank rows)."""
        placement = self.plan.items[item]
        name = self.plan.sheets[placement.sheet].name
        if placement.column is not None:
            store = placement.column
            return Cell(name, store.first_row + coords.get("row", 0), store.col)
        for found, row, col in placement.cells:
            if found == coords:
                return Cell(name, row, col)
        raise KeyError(f"{item} {coords}")

    def cells(self, item: str) -> list[tuple[dict, Cell]]:
        placement = self.plan.items[item]
        name = self.plan.sheets[placement.sheet].name
        return [(coords, Cell(name, row, col)) for coords, row, col in placement.cells]

    def value(self, item: str, **coords) -> Any:
        placement = self.plan.items[item]
        if placement.column is not None:
            return placement.column.values[coords.get("row", 0)]
        where = self.cell(item, **coords)
        return self.plan.sheets[placement.sheet].cells[(where.row, where.col)].value

    def line(self, item: str, line: str, month: int = 0) -> Cell:
        """A budget line's cell (``planned`` or ``actual``) in a month."""
        category = next(c["category"] for c, _ in self.cells(item) if c["line"] == line)
        return self.cell(item, line=line, category=category, month=month)

    def label_col(self) -> int:
        """The column of a budget line's label."""
        return 1


def build_layout(blueprint_id: str) -> Layout:
    blueprint = loader.load(blueprint_id)
    return Layout(build(blueprint, with_sample_goals(make_params(), [blueprint])))


# --------------------------------------------------------------------------- cases


@dataclass(frozen=True)
class Expect:
    """A finding an edit must add: its code, where (sheet name; cell as A1 text, a 1-based row
    number for any cell of that row, or None for the sheet or workbook) and a piece of its message."""

    code: str
    sheet: str | None = None
    cell: str | int | None = None
    text: str = ""
    severity: str | None = None

    def matches(self, found) -> bool:
        if found.code != self.code or (self.severity and found.severity != self.severity):
            return False
        if self.sheet is not None and found.sheet != self.sheet:
            return False
        if isinstance(self.cell, str) and found.cell != self.cell:
            return False
        if isinstance(self.cell, int) and (found.cell is None or _row_number(found.cell) != self.cell):
            return False
        return self.text in found.message


def _row_number(cell: str) -> int:
    return int(cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))


def at(code: str, cell: Cell, text: str = "", severity: str | None = None) -> Expect:
    return Expect(code, cell.sheet, cell.a1, text, severity)


@dataclass(frozen=True)
class EditCase:
    """One kind of edit on one workbook, and what the analyser must say about it.

    ``actions`` and ``expect`` take the sample workbook's :class:`Layout`; ``gone`` gives pieces
    of the messages of untouched-workbook findings the edit rightly removes (a deleted line's
    overspend). ``totals``: compare the analyser's totals with LibreOffice's.
    """

    name: str
    blueprint: str
    what: str
    actions: Callable[[Layout], list[dict]]
    expect: Callable[[Layout], list[Expect]] = lambda layout: []
    gone: Callable[[Layout], list[str]] = lambda layout: []
    totals: bool = True


def _unprotected(sheet: str, *actions: dict) -> list[dict]:
    return [{"unprotect": sheet}, *actions, {"protect": sheet}]


def _new_line(row: Cell, category: str, label: str, measure: str, amounts: list[float]) -> list[dict]:
    """The label cells and amounts of a budget line typed into an inserted row."""
    first = row.at_col(0)
    return [
        {"set": first.ref, "value": category},
        {"set": first.right(1).ref, "value": label},
        {"set": first.right(2).ref, "value": measure},
        *[{"set": row.at_col(row.col + i).ref, "value": amount} for i, amount in enumerate(amounts)],
    ]


# budget ------------------------------------------------------------------------------------


def _budget_insert(anchor_line: str, item: str = "planned", below: bool = True, label: str = "Influencer fees"):
    """A line typed into a row inserted below (or above) ``anchor_line`` of the planned block."""

    def new_row(layout: Layout) -> Cell:
        anchor = layout.line(item, anchor_line)
        return anchor.down(1) if below else anchor

    def actions(layout: Layout) -> list[dict]:
        row = new_row(layout)
        category = "Hired services"
        measure = "Planned" if item == "planned" else "Actual"
        return _unprotected(
            row.sheet,
            {"insert_rows": row.sheet, "before": row.number, "count": 1},
            *_new_line(row, category, label, measure, [200, 200, 200, 200]),
        )

    return new_row, actions


def _budget_line_inserted_middle() -> EditCase:
    new_row, actions = _budget_insert("copywriter")
    return EditCase(
        "budget-line-inserted-middle",
        "budget",
        "a line inserted below Copywriter (Influencer fees, 200 a month for four months)",
        actions,
        lambda layout: [at("total-misses-rows", new_row(layout), "Influencer fees", "info")],
    )


def _budget_line_inserted_top() -> EditCase:
    new_row, actions = _budget_insert("scheduling", below=False, label="Planning app")
    return EditCase(
        "budget-line-inserted-top",
        "budget",
        "a line inserted above the first planned line: outside every total's range",
        actions,
        lambda layout: [at("total-misses-rows", new_row(layout), "no total counts", "error")],
    )


def _budget_line_inserted_category_end() -> EditCase:
    new_row, actions = _budget_insert("designer", label="Video producer")
    return EditCase(
        "budget-line-inserted-category-end",
        "budget",
        "a line inserted below the last line of a category (the year's total counts it, the category's does not)",
        actions,
        lambda layout: [at("total-misses-rows", new_row(layout), "Video producer", "info")],
    )


def _budget_line_inserted_block_end() -> EditCase:
    # Below the block's last line: the last category's last spare line.
    new_row, actions = _budget_insert("assets_spare_2", label="Newsletter tool")
    return EditCase(
        "budget-line-inserted-block-end",
        "budget",
        "a line inserted below the last planned line: outside every total's range",
        actions,
        lambda layout: [at("total-misses-rows", new_row(layout), "no total counts", "error")],
    )


def _budget_lines_inserted_both_blocks(layout_count: int = 2) -> EditCase:
    def rows(layout: Layout) -> list[Cell]:
        planned = layout.line("planned", "photographer").down(1)
        actual = layout.line("actual", "photographer").down(1 + layout_count)  # below the planned insert
        return [planned, planned.down(1), actual, actual.down(1)]

    def actions(layout: Layout) -> list[dict]:
        p1, p2, a1_, a2 = rows(layout)
        return _unprotected(
            p1.sheet,
            {"insert_rows": p1.sheet, "before": p1.number, "count": 2},
            {"insert_rows": a1_.sheet, "before": a1_.number, "count": 2},
            *_new_line(p1, "Hired services", "Influencer fees", "Planned", [200, 200, 200]),
            *_new_line(p2, "Hired services", "Translator", "Planned", [90, 90]),
            *_new_line(a1_, "Hired services", "Influencer fees", "Actual", [180, 220]),
            *_new_line(a2, "Hired services", "Translator", "Actual", [90]),
        )

    return EditCase(
        "budget-lines-inserted-several",
        "budget",
        "two lines inserted at once, in the planned and in the actual block",
        actions,
        lambda layout: [at("total-misses-rows", row, "was added", "info") for row in rows(layout)],
    )


def _budget_line_deleted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        planned, actual = layout.line("planned", "designer"), layout.line("actual", "designer")
        return _unprotected(
            planned.sheet,
            {"delete_rows": actual.sheet, "at": actual.number, "count": 1},
            {"delete_rows": planned.sheet, "at": planned.number, "count": 1},
        )

    return EditCase(
        "budget-line-deleted",
        "budget",
        "a line deleted from both blocks (Designer)",
        actions,
        lambda layout: [
            Expect("rows-deleted", layout.sheet("planned"), None, "“Designer”"),
            Expect("rows-deleted", layout.sheet("planned"), None, "“Designer”"),
        ],
        # The designer's overspend goes with the line.
        lambda layout: [_overspend_text(layout, "designer", m) for m in _overspent_months(layout, "designer")],
    )


def _budget_lines_deleted_several() -> EditCase:
    lines = ("ads_manager", "web_developer")

    def actions(layout: Layout) -> list[dict]:
        planned, actual = layout.line("planned", lines[0]), layout.line("actual", lines[0])
        return _unprotected(
            planned.sheet,
            {"delete_rows": actual.sheet, "at": actual.number, "count": 2},
            {"delete_rows": planned.sheet, "at": planned.number, "count": 2},
        )

    return EditCase(
        "budget-lines-deleted-several",
        "budget",
        "two neighbouring lines deleted at once, from both blocks",
        actions,
        lambda layout: [
            Expect("rows-deleted", layout.sheet("planned"), None, f"“{label}”")
            for label in ("Ads manager", "Web developer")
            for measure in ("Planned", "Actual")
        ],
        lambda layout: [_overspend_text(layout, line, m) for line in lines for m in _overspent_months(layout, line)],
    )


def _budget_line_renamed() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        label = layout.line("planned", "copywriter").at_col(layout.label_col())
        return _unprotected(label.sheet, {"set": label.ref, "value": "Copywriter (freelance)"})

    return EditCase("budget-line-renamed", "budget", "a line's label edited in place (Copywriter (freelance))", actions)


def _overspent_months(layout: Layout, line: str) -> list[int]:
    months = []
    for month in range(12):
        actual, planned = (
            layout.value("actual", **_line(layout, line, month)),
            layout.value("planned", **_line(layout, line, month)),
        )
        if isinstance(actual, (int, float)) and actual > (planned or 0):
            months.append(month)
    return months


def _overspend_text(layout: Layout, line: str, month: int) -> str:
    actual = layout.value("actual", **_line(layout, line, month))
    planned = layout.value("planned", **_line(layout, line, month))
    return f"spent {_shown(actual)}, more than the {_shown(planned or 0)} planned"


def _shown(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _line(layout: Layout, line: str, month: int) -> dict:
    category = next(c["category"] for c, _ in layout.cells("planned") if c["line"] == line)
    return {"line": line, "category": category, "month": month}


def _budget_delete_and_insert() -> EditCase:
    def cells(layout: Layout) -> tuple[Cell, Cell]:
        deleted = layout.line("planned", "video_editing")
        new_row = layout.line("planned", "copywriter")  # after the deletion, the row below Copywriter
        return deleted, new_row

    def actions(layout: Layout) -> list[dict]:
        deleted, new_row = cells(layout)
        return _unprotected(
            deleted.sheet,
            {"delete_rows": deleted.sheet, "at": deleted.number, "count": 1},
            {"insert_rows": new_row.sheet, "before": new_row.number, "count": 1},
            *_new_line(new_row, "Hired services", "Influencer fees", "Planned", [200, 200, 200, 200]),
        )

    def expect(layout: Layout) -> list[Expect]:
        deleted, new_row = cells(layout)
        found = [
            Expect("rows-deleted", deleted.sheet, None, "“Video editing software”"),
            at("total-misses-rows", new_row, "Influencer fees", "info"),
        ]
        # Its actuals stay: spent against a plan that is gone.
        for month in range(12):
            actual = layout.value("actual", **_line(layout, "video_editing", month))
            if isinstance(actual, (int, float)) and actual > 0:
                # One planned row deleted and one inserted above the actual block: it is back in place.
                found.append(at("overspend", layout.line("actual", "video_editing", month), "more than the 0"))
        return found

    return EditCase(
        "budget-delete-and-insert",
        "budget",
        "one line deleted (Video editing software) and another inserted (below Copywriter) in the planned block",
        actions,
        expect,
    )


def _budget_line_moved() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        # Design tool, second of the software lines, moved to be the third of four.
        moved, before = layout.line("planned", "design_tool"), layout.line("planned", "video_editing")
        return _unprotected(
            moved.sheet, {"move_rows": moved.sheet, "at": moved.number, "count": 1, "before": before.number}
        )

    return EditCase(
        "budget-line-moved", "budget", "a planned line moved (cut and inserted) within its category", actions
    )


def _budget_line_moved_out_of_category() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        # Design tool moved below the category's last line (its last spare line): out of the
        # category's sum (LibreOffice's SUM(D6:D11) becomes SUM(D6:D10)).
        moved, last = layout.line("planned", "design_tool"), layout.line("planned", "software_spare_2")
        return _unprotected(
            moved.sheet, {"move_rows": moved.sheet, "at": moved.number, "count": 1, "before": last.number + 1}
        )

    def expect(layout: Layout) -> list[Expect]:
        return [
            at("formula-changed", cell, "not the workbook's own")
            for coords, cell in layout.cells("category_planned")
            if coords.get("category") == "software"
        ] + [at("formula-changed", layout.cell("year_planned", category="software"), "not the workbook's own")]

    return EditCase(
        "budget-line-moved-out-of-category",
        "budget",
        "a planned line moved below its category's last line: the category's sums no longer count it",
        actions,
        expect,
    )


def _budget_lines_sorted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        first, last = layout.line("planned", "scheduling"), layout.line("planned", "video_editing")
        year = layout.cell("planned", **_line(layout, "scheduling", 11)).col + 1
        sort_range = f"'{first.sheet}'!A{first.number}:{column_letter(year)}{last.number}"
        return _unprotected(first.sheet, {"sort": sort_range, "by": 2, "descending": True})

    return EditCase(
        "budget-lines-sorted", "budget", "a category's planned lines sorted by name, Z to A (Data > Sort)", actions
    )


def _budget_actual_lines_sorted_by_amount() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        first, last = layout.line("actual", "photographer"), layout.line("actual", "designer")
        year = layout.cell("actual", **_line(layout, "photographer", 11)).col + 1
        sort_range = f"'{first.sheet}'!A{first.number}:{column_letter(year)}{last.number}"
        return _unprotected(first.sheet, {"sort": sort_range, "by": first.col + 1, "descending": True})

    return EditCase(
        "budget-actual-lines-sorted",
        "budget",
        "a category's actual lines sorted by January's amount, largest first",
        actions,
    )


def _budget_column_inserted_among_months() -> EditCase:
    def new_col(layout: Layout) -> Cell:
        return layout.cell("planned", **_line(layout, "scheduling", 1))

    def actions(layout: Layout) -> list[dict]:
        col = new_col(layout)
        return _unprotected(col.sheet, {"insert_columns": col.sheet, "before": col.col + 1, "count": 1})

    return EditCase(
        "budget-column-inserted-among-months",
        "budget",
        "a column inserted between January and February",
        actions,
        lambda layout: [Expect("columns-changed", new_col(layout).sheet, f"{new_col(layout).letter}1", "inserted")],
    )


def _budget_column_inserted_left() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        sheet = layout.sheet("planned")
        return _unprotected(sheet, {"insert_columns": sheet, "before": "A", "count": 1})

    return EditCase("budget-column-inserted-left", "budget", "a column inserted left of the labels", actions)


def _budget_sheet_renamed() -> EditCase:
    return EditCase(
        "budget-sheet-renamed",
        "budget",
        "the Budget sheet renamed",
        lambda layout: [{"rename_sheet": layout.sheet("planned"), "to": "Budget 2031"}],
    )


def _budget_sheets_reordered() -> EditCase:
    return EditCase(
        "budget-sheets-reordered",
        "budget",
        "the Summary sheet moved to the front",
        lambda layout: [{"move_sheet": layout.sheet("year_planned"), "to": 0}],
    )


def _budget_sheet_deleted() -> EditCase:
    return EditCase(
        "budget-sheet-deleted",
        "budget",
        "the Summary sheet deleted",
        lambda layout: [{"delete_sheet": layout.sheet("year_planned")}],
        lambda layout: [Expect("sheet-missing", layout.sheet("year_planned"), None)],
    )


def _budget_typed(name: str, text: str, what: str, hint: str) -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.line("actual", "design_tool", 7)  # August: no sample actual

    return EditCase(
        name,
        "budget",
        what,
        lambda layout: [{"type": target(layout).ref, "text": text}],
        lambda layout: [at("type-error", target(layout), hint)],
    )


def _budget_text(name: str, text: str, what: str) -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.line("actual", "design_tool", 7)

    return EditCase(
        name,
        "budget",
        what,
        lambda layout: [{"set": target(layout).ref, "value": text}],
        lambda layout: [at("type-error", target(layout), "is text, not a number")],
    )


def _budget_number_typed() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.line("actual", "design_tool", 7)

    return EditCase(
        "budget-number-typed",
        "budget",
        "an actual amount typed, above its plan",
        lambda layout: [{"type": target(layout).ref, "text": "123.45"}],
        lambda layout: [at("overspend", target(layout), "spent 123.45")],
    )


def _budget_negative_amount() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.line("planned", "design_tool", 7)

    return EditCase(
        "budget-negative-amount",
        "budget",
        "a negative planned amount",
        lambda layout: [{"set": target(layout).ref, "value": -50}],
        lambda layout: [at("out-of-range", target(layout), "-50")],
    )


def _budget_value_cleared() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.line("actual", "domain", 0)

    return EditCase(
        "budget-value-cleared",
        "budget",
        "an actual amount deleted (not reported)",
        lambda layout: [{"set": target(layout).ref, "clear": True}],
    )


def _budget_formula_overwritten() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("total_planned", month=2)

    return EditCase(
        "budget-formula-overwritten",
        "budget",
        "a month's total planned overwritten by a number",
        lambda layout: _unprotected(target(layout).sheet, {"set": target(layout).ref, "value": 999}),
        lambda layout: [at("formula-overwritten", target(layout), "replaced by 999")],
    )


def _budget_total_overwritten() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("year_planned.total")

    return EditCase(
        "budget-total-overwritten",
        "budget",
        "the Summary's year total overwritten by a number",
        lambda layout: _unprotected(target(layout).sheet, {"set": target(layout).ref, "value": 20000}),
        lambda layout: [at("formula-overwritten", target(layout), "replaced by 20,000")],
    )


def _budget_carry_over_overwritten() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("available", line="advertising_instagram", category="advertising", month=3)

    def actions(layout: Layout) -> list[dict]:
        value = layout.value("available", line="advertising_instagram", category="advertising", month=3)
        return _unprotected(target(layout).sheet, {"set": target(layout).ref, "value": value})

    return EditCase(
        "budget-carry-over-overwritten",
        "budget",
        "April's available advertising overwritten by its own value",
        actions,
        lambda layout: [
            at("formula-overwritten", target(layout), "was replaced by"),
            at("carry-over-broken", target(layout), "broken from"),
        ],
    )


def _budget_formula_changed() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("total_planned", month=1)

    def actions(layout: Layout) -> list[dict]:
        first, last = layout.line("planned", "scheduling", 1), layout.line("planned", "hosting", 1)
        middle = first.row + 6
        col = first.letter
        split = f"=SUM({col}{first.number}:{col}{middle})+SUM({col}{middle + 1}:{col}{last.number})"
        return _unprotected(target(layout).sheet, {"set": target(layout).ref, "formula": split})

    return EditCase(
        "budget-formula-changed",
        "budget",
        "a month's total planned rewritten as two sums (the same value)",
        actions,
        lambda layout: [at("formula-changed", target(layout), "not the workbook's own")],
    )


def _budget_date_as_text() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("approved_on")

    return EditCase(
        "budget-date-as-text",
        "budget",
        "text typed into the approval date",
        lambda layout: [{"set": target(layout).ref, "value": "next Monday"}],
        lambda layout: [at("type-error", target(layout), "not a date")],
    )


# roadmap -----------------------------------------------------------------------------------

NOT_ON_TEAM, NOT_A_STATUS = "Zed Nobody", "Someday"


def _roadmap_owner_not_on_team() -> EditCase:
    return EditCase(
        "roadmap-owner-not-on-team",
        "roadmap",
        "an owner who is not on the team",
        lambda layout: [{"set": layout.cell("owner", row=0).ref, "value": NOT_ON_TEAM}],
        lambda layout: [at("owner-not-on-team", layout.cell("owner", row=0), NOT_ON_TEAM)],
    )


def _list_spare_cell(layout: Layout, list_id: str) -> Cell:
    """The first blank row of a list people extend, on the Lists sheet (inside its named range)."""
    sheet, (r1, c1, _, _) = parse_range(layout.plan.names["list_" + list_id])
    filled = sum(
        1 for (row, col) in layout.plan.sheets[_sheet_index(layout, sheet)].cells.placed if col == c1 and row >= r1
    )
    return Cell(sheet, r1 + filled, c1)


def _sheet_index(layout: Layout, name: str) -> int:
    return next(i for i, s in enumerate(layout.plan.sheets) if s.name == name)


ADDED_MEMBER, ADDED_GOAL = "Ann Added", "Open a shop in Riga"


def _roadmap_team_member_added() -> EditCase:
    return EditCase(
        "roadmap-team-member-added",
        "roadmap",
        "a team member added on the Lists sheet and used as an owner",
        lambda layout: [
            {"set": _list_spare_cell(layout, "team").ref, "value": ADDED_MEMBER},
            {"set": layout.cell("owner", row=0).ref, "value": ADDED_MEMBER},
            {"set": layout.cell("task_owner", row=1).ref, "value": ADDED_MEMBER},
        ],
    )


def _roadmap_goal_added() -> EditCase:
    return EditCase(
        "roadmap-goal-added",
        "roadmap",
        "a goal added on the Lists sheet and used by an initiative",
        lambda layout: [
            {"set": _list_spare_cell(layout, "goals").ref, "value": ADDED_GOAL},
            {"set": layout.cell("goal", row=1).ref, "value": ADDED_GOAL},
        ],
    )


def _calendar_team_member_added() -> EditCase:
    return EditCase(
        "calendar-team-member-added",
        "calendar",
        "a team member added on the Lists sheet and used as a post's owner",
        lambda layout: [
            {"set": _list_spare_cell(layout, "team").ref, "value": ADDED_MEMBER},
            {"set": layout.cell("owner", row=0).ref, "value": ADDED_MEMBER},
        ],
    )


def _roadmap_status_outside_list() -> EditCase:
    return EditCase(
        "roadmap-status-outside-list",
        "roadmap",
        "a status outside the workflow",
        lambda layout: [{"set": layout.cell("status", row=2).ref, "value": NOT_A_STATUS}],
        lambda layout: [at("status-not-in-workflow", layout.cell("status", row=2), NOT_A_STATUS)],
    )


def _roadmap_date_as_text() -> EditCase:
    return EditCase(
        "roadmap-date-as-text",
        "roadmap",
        "a start date typed as text (12/03/2031 stored as text)",
        lambda layout: [{"set": layout.cell("start", row=3).ref, "value": f"12/03/{YEAR}"}],
        lambda layout: [at("type-error", layout.cell("start", row=3), f"the date {YEAR}-03-12")],
    )


def _roadmap_end_before_start() -> EditCase:
    return EditCase(
        "roadmap-end-before-start",
        "roadmap",
        "an initiative that ends before it starts",
        lambda layout: [{"set": layout.cell("end", row=1).ref, "date": f"{YEAR}-01-02"}],
        lambda layout: [at("end-before-start", layout.cell("end", row=1), "before it starts")],
    )


def _roadmap_initiatives_sorted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        first = layout.cell("initiative", row=0)
        last_col = layout.cell("overdue", row=0).col
        used = sum(1 for v in layout.plan.items["initiative"].column.values if v not in (None, ""))
        sort_range = f"'{first.sheet}'!A{first.number}:{column_letter(last_col)}{first.number + used - 1}"
        return _unprotected(first.sheet, {"sort": sort_range, "by": 4, "descending": True})

    return EditCase(
        "roadmap-initiatives-sorted", "roadmap", "the initiatives sorted by start date, latest first", actions
    )


def _roadmap_task_inserted() -> EditCase:
    def new_row(layout: Layout) -> Cell:
        return layout.cell("task", row=2)

    def actions(layout: Layout) -> list[dict]:
        row = new_row(layout)
        return _unprotected(
            row.sheet,
            {"insert_rows": row.sheet, "before": row.number, "count": 1},
            {"set": row.ref, "value": "Order business cards"},
            {"set": layout.cell("task_initiative", row=2).ref, "value": layout.value("initiative", row=0)},
            {"set": layout.cell("task_owner", row=2).ref, "value": layout.value("task_owner", row=0)},
            {"set": layout.cell("task_status", row=2).ref, "value": "Done"},
        )

    return EditCase("roadmap-task-inserted", "roadmap", "a task typed into a row inserted into the task board", actions)


def _roadmap_initiatives_deleted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        row = layout.cell("initiative", row=3)
        return _unprotected(row.sheet, {"delete_rows": row.sheet, "at": row.number, "count": 2})

    return EditCase("roadmap-initiatives-deleted", "roadmap", "two initiatives' rows deleted at once", actions)


def _roadmap_column_inserted() -> EditCase:
    def new_col(layout: Layout) -> Cell:
        return layout.cell("start", row=0)

    def actions(layout: Layout) -> list[dict]:
        col = new_col(layout)
        return _unprotected(
            col.sheet,
            {"insert_columns": col.sheet, "before": col.col + 1, "count": 1},
            {"set": col.up_to_header(layout).ref, "value": "Notes"},
            {"set": col.ref, "value": "Ask Sara first"},
        )

    return EditCase(
        "roadmap-column-inserted",
        "roadmap",
        "a Notes column inserted into the initiatives table, between owner and start",
        actions,
    )


# calendar ----------------------------------------------------------------------------------


def _calendar_channel_not_in_plan() -> EditCase:
    return EditCase(
        "calendar-channel-not-in-plan",
        "calendar",
        "a post on a channel that is not in the plan",
        lambda layout: [{"set": layout.cell("post_channel", row=0).ref, "value": "TikTok"}],
        lambda layout: [at("channel-not-in-plan", layout.cell("post_channel", row=0), "TikTok")],
    )


def _calendar_caption_too_long() -> EditCase:
    def limit(layout: Layout) -> int:
        return int(layout.value("caption_limit", channel="instagram"))

    return EditCase(
        "calendar-caption-too-long",
        "calendar",
        "an Instagram caption over the channel's limit",
        lambda layout: [{"set": layout.cell("caption", row=0).ref, "value": "x" * (limit(layout) + 10)}],
        lambda layout: [at("caption-too-long", layout.cell("caption", row=0), f"{limit(layout) + 10:,} characters")],
    )


def _calendar_posts_inserted() -> EditCase:
    def rows(layout: Layout) -> list[Cell]:
        first = layout.cell("post_date", row=10)
        return [first, first.down(1)]

    def actions(layout: Layout) -> list[dict]:
        first = rows(layout)[0]
        typed = []
        for i, row in enumerate(rows(layout)):
            typed += [
                {"set": row.ref, "date": f"{YEAR}-05-0{5 + i}"},
                {"set": row.at_col(layout.cell("post_channel").col).ref, "value": "Instagram"},
                {"set": row.at_col(layout.cell("post_status").col).ref, "value": "Published"},
            ]
        return _unprotected(first.sheet, {"insert_rows": first.sheet, "before": first.number, "count": 2}, *typed)

    return EditCase(
        "calendar-posts-inserted",
        "calendar",
        "two posts typed into rows inserted in the middle of the calendar",
        actions,
        lambda layout: [
            *[Expect("formula-missing", row.sheet, row.number, "Copy them down") for row in rows(layout)],
            # Two posts in a month that had none: fewer than the channel plan asks for.
            Expect("below-posting-plan", layout.sheet("total_posts"), None, "2 posts where"),
        ],
    )


def _calendar_post_deleted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        row = layout.cell("post_date", row=2)
        return _unprotected(row.sheet, {"delete_rows": row.sheet, "at": row.number, "count": 1})

    return EditCase("calendar-post-deleted", "calendar", "a post's row deleted from the calendar", actions)


def _calendar_settings_column_inserted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        sheet = layout.sheet("total_posts")
        return _unprotected(sheet, {"insert_columns": sheet, "before": "A", "count": 2})

    return EditCase(
        "calendar-summary-columns-inserted",
        "calendar",
        "two columns inserted left of the Summary's tables",
        actions,
    )


def _calendar_posts_sorted() -> EditCase:
    def actions(layout: Layout) -> list[dict]:
        first = layout.cell("post_date", row=0)
        last_col = layout.cell("utm_link", row=0).col
        used = sum(1 for v in layout.plan.items["post_date"].column.values if v not in (None, ""))
        sort_range = f"'{first.sheet}'!A{first.number}:{column_letter(last_col)}{first.number + used - 1}"
        return _unprotected(first.sheet, {"sort": sort_range, "by": 1, "descending": True})

    return EditCase("calendar-posts-sorted", "calendar", "the posts sorted by date, latest first", actions)


def _calendar_rows_below_table() -> EditCase:
    def row(layout: Layout) -> Cell:
        store = layout.plan.items["post_date"].column
        return Cell(layout.sheet("post_date"), store.first_row + len(store.values) + 1, store.col)

    return EditCase(
        "calendar-post-below-table",
        "calendar",
        "a post typed two rows below the calendar's last row",
        # Below the table the cells are locked: people unprotect the sheet to type there.
        lambda layout: _unprotected(row(layout).sheet, {"set": row(layout).ref, "date": f"{YEAR}-06-01"}),
        lambda layout: [at("rows-below-table", row(layout), "below the table")],
    )


# kpi-report --------------------------------------------------------------------------------


def _kpi_impossible_count() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("link_clicks", channel="instagram", month=2)

    return EditCase(
        "kpi-impossible-count",
        "kpi-report",
        "more link clicks than impressions",
        lambda layout: [
            {
                "set": target(layout).ref,
                "value": layout.value("impressions", channel="instagram", month=2) + 5,
            }
        ],
        lambda layout: [at("impossible-count", target(layout), "link clicks")],
    )


def _kpi_negative_count() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("comments", channel="facebook", month=3)

    return EditCase(
        "kpi-negative-count",
        "kpi-report",
        "a negative count",
        lambda layout: [{"set": target(layout).ref, "value": -5}],
        lambda layout: [at("out-of-range", target(layout), "-5 is too small")],
    )


def _kpi_thousands_typed() -> EditCase:
    def target(layout: Layout) -> Cell:
        return layout.cell("impressions", channel="facebook", month=8)

    return EditCase(
        "kpi-thousands-as-text",
        "kpi-report",
        '"2,6k" typed as impressions',
        lambda layout: [{"set": target(layout).ref, "value": "2,6k"}],
        lambda layout: [at("type-error", target(layout), "2,6k")],
    )


def _kpi_column_inserted_among_months() -> EditCase:
    def new_col(layout: Layout) -> Cell:
        return layout.cell("impressions", channel="instagram", month=4)

    def actions(layout: Layout) -> list[dict]:
        col = new_col(layout)
        return _unprotected(col.sheet, {"insert_columns": col.sheet, "before": col.col + 1, "count": 1})

    return EditCase(
        "kpi-column-inserted-among-months",
        "kpi-report",
        "a column inserted between April and May on the Metrics sheet",
        actions,
        lambda layout: [Expect("columns-changed", new_col(layout).sheet, f"{new_col(layout).letter}1", "inserted")],
    )


def _kpi_sheets_reordered() -> EditCase:
    return EditCase(
        "kpi-sheets-reordered",
        "kpi-report",
        "the Metrics sheet moved to the front and renamed",
        lambda layout: [
            {"move_sheet": layout.sheet("impressions"), "to": 0},
            {"rename_sheet": layout.sheet("impressions"), "to": "Monthly metrics"},
        ],
    )


# strategy ----------------------------------------------------------------------------------


def _strategy_answer_cleared() -> EditCase:
    def target(layout: Layout) -> Cell:
        placement = next(
            p
            for p in layout.plan.items.values()
            if p.role == "input" and p.field.required and p.column is None and p.sheet > 0
        )
        return layout.cell(placement.name, **placement.cells[0][0])

    return EditCase(
        "strategy-answer-cleared",
        "strategy",
        "a required answer deleted",
        lambda layout: [{"set": target(layout).ref, "clear": True}],
        lambda layout: [at("missing-value", target(layout), "required answer is blank")],
    )


def _strategy_sheet_renamed() -> EditCase:
    return EditCase(
        "strategy-sheet-renamed",
        "strategy",
        "the SWOT sheet renamed and moved to the end",
        lambda layout: [
            {"rename_sheet": "SWOT", "to": "SWOT analysis"},
            {"move_sheet": "SWOT analysis", "to": len(layout.plan.sheets) - 1},
        ],
    )


CASES: tuple[EditCase, ...] = (
    _budget_line_inserted_middle(),
    _budget_line_inserted_top(),
    _budget_line_inserted_category_end(),
    _budget_line_inserted_block_end(),
    _budget_lines_inserted_both_blocks(),
    _budget_line_deleted(),
    _budget_lines_deleted_several(),
    _budget_line_renamed(),
    _budget_delete_and_insert(),
    _budget_line_moved(),
    _budget_line_moved_out_of_category(),
    _budget_lines_sorted(),
    _budget_actual_lines_sorted_by_amount(),
    _budget_column_inserted_among_months(),
    _budget_column_inserted_left(),
    _budget_sheet_renamed(),
    _budget_sheets_reordered(),
    _budget_sheet_deleted(),
    _budget_typed(
        "budget-text-with-space-and-comma", "1 200,50", '"1 200,50" typed as an amount', "the number 1,200.5"
    ),
    _budget_text("budget-euro-sign", "€300", '"€300" stored as text (pasted, or typed where € is not the currency)'),
    _budget_typed("budget-thousands-k", "2,6k", '"2,6k" typed as an amount', "is text, not a number"),
    _budget_number_typed(),
    _budget_negative_amount(),
    _budget_value_cleared(),
    _budget_formula_overwritten(),
    _budget_total_overwritten(),
    _budget_carry_over_overwritten(),
    _budget_formula_changed(),
    _budget_date_as_text(),
    _roadmap_owner_not_on_team(),
    _roadmap_team_member_added(),
    _roadmap_goal_added(),
    _roadmap_status_outside_list(),
    _roadmap_date_as_text(),
    _roadmap_end_before_start(),
    _roadmap_initiatives_sorted(),
    _roadmap_task_inserted(),
    _roadmap_column_inserted(),
    _roadmap_initiatives_deleted(),
    _calendar_channel_not_in_plan(),
    _calendar_team_member_added(),
    _calendar_caption_too_long(),
    _calendar_posts_inserted(),
    _calendar_posts_sorted(),
    _calendar_post_deleted(),
    _calendar_settings_column_inserted(),
    _calendar_rows_below_table(),
    _kpi_impossible_count(),
    _kpi_negative_count(),
    _kpi_thousands_typed(),
    _kpi_column_inserted_among_months(),
    _kpi_sheets_reordered(),
    _strategy_answer_cleared(),
    _strategy_sheet_renamed(),
)


# --------------------------------------------------------------------------- the files


@dataclass
class EditedFiles:
    """What :func:`make_edited_files` made: the layouts, the generated sources, the untouched
    workbooks saved by LibreOffice (baselines) and the edited ones, by (name, format)."""

    layouts: dict[str, Layout] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)
    baselines: dict[tuple[str, str], Path] = field(default_factory=dict)
    edited: dict[tuple[str, str], Path] = field(default_factory=dict)


def make_edited_files(
    folder: Path, cases: tuple[EditCase, ...] = CASES, formats: tuple[str, ...] = FORMATS, timeout: float = 900
) -> EditedFiles:
    """Generate the sample workbooks, and have one LibreOffice start apply every case and save
    each result (and each workbook untouched) in every format.

    Args:
        folder: an empty folder; ``generated/``, ``baseline/`` and ``edited/`` are made in it.
        cases: the cases to apply.
        formats: ``xlsx``, ``ods`` or both.
        timeout: seconds for all of LibreOffice's work.

    Returns:
        The files, by case name (or blueprint id for the baselines) and format.
    """
    files = EditedFiles()
    jobs = []
    for blueprint_id in sorted({case.blueprint for case in cases}):
        blueprint = loader.load(blueprint_id)
        parameters = with_sample_goals(make_params(), [blueprint])
        out = folder / "generated"
        out.mkdir(parents=True, exist_ok=True)
        files.sources[blueprint_id] = generate(blueprint, parameters, out, force=True)
        files.layouts[blueprint_id] = Layout(build(blueprint, parameters))
        for fmt in formats:
            target = folder / "baseline" / f"{blueprint_id}.{fmt}"
            files.baselines[(blueprint_id, fmt)] = target
            jobs.append({"src": files.sources[blueprint_id], "out": target, "format": fmt, "actions": []})
    for case in cases:
        actions = case.actions(files.layouts[case.blueprint])
        for fmt in formats:
            target = folder / "edited" / f"{case.name}.{fmt}"
            files.edited[(case.name, fmt)] = target
            jobs.append({"src": files.sources[case.blueprint], "out": target, "format": fmt, "actions": actions})
    edit_many(jobs, timeout=timeout)
    return files


# --------------------------------------------------------------------------- judging


@dataclass
class Verdict:
    """What an analysis got wrong about one edited file."""

    false: list[str] = field(default_factory=list)  # findings nobody expected
    missed: list[str] = field(default_factory=list)  # expected findings that are absent


def _key(found) -> tuple:
    return found.code, found.severity, found.message


def judge(case: EditCase, layout: Layout, report, baseline) -> Verdict:
    """The false and missed findings of ``report`` (the edited file's analysis), given the
    untouched file's analysis ``baseline``.

    A finding is false when the untouched file lacks it (by code, severity and message: rows that
    moved do not make findings new) and no expected finding matches it. A finding is missed when
    it is expected and absent, or when the untouched file had it and the edit neither removes it
    by design (``gone``) nor keeps it.
    """
    verdict = Verdict()
    expected = case.expect(layout)
    old = Counter(_key(f) for f in baseline.findings)
    now = Counter(_key(f) for f in report.findings)
    new = old.copy()
    for found in report.findings:
        key = _key(found)
        if new[key] > 0:
            new[key] -= 1
            continue
        if not any(e.matches(found) for e in expected):
            verdict.false.append(f"{found.code} {found.severity} {found.sheet}!{found.cell}: {found.message}")
    for item in expected:
        if not any(item.matches(found) for found in report.findings):
            verdict.missed.append(f"{item.code} at {item.sheet}!{item.cell} ({item.text!r})")
    gone = case.gone(layout)
    for key, count in (old - now).items():
        code, severity, message = key
        if not any(text in message for text in gone):
            verdict.missed.extend([f"{code} {severity} (in the untouched file): {message}"] * count)
    return verdict


# --------------------------------------------------------------------------- LibreOffice's totals


def _named_values(data: reader.WorkbookData, name: str) -> list[list[Any]] | None:
    """The values of a defined name's range in the file, row by row; None when it is gone."""
    text = data.defined_names.get(name)
    found = parse_range(text) if text else None
    if found is None or found[0] not in data.sheets:
        return None
    sheet = data.sheets[found[0]]
    r1, c1, r2, c2 = found[1]
    return [[sheet.value(r, c) for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)]


def _flat(values: list[list[Any]] | None) -> list[Any] | None:
    return None if values is None else [v for row in values for v in row]


def _sum(*lists: list[Any] | None) -> float | None:
    if any(values is None for values in lists):
        return None
    return float(sum(v for values in lists for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)))


def _month(value: Any) -> float:
    """A month's figure in the sheet: NaN where the cell is blank (a month not reported yet)."""
    return math.nan if value in (None, "") else _sum([value])


def _names(data: reader.WorkbookData, prefix: str) -> list[str]:
    return sorted(n for n in data.defined_names if n.startswith(prefix))


def libreoffice_totals(blueprint_id: str, data: reader.WorkbookData) -> dict[str, float | None]:
    """The report's totals as LibreOffice computed them in the file (None: the cells are gone).

    Read through the file's defined names, which LibreOffice moved with the cells: the total rows
    of the budget and the calendar, the inputs of the other workbooks counted as their formulas do.
    """
    flat = lambda name: _flat(_named_values(data, name))  # noqa: E731
    totals: dict[str, float | None] = {}
    if blueprint_id == "budget":
        totals["planned"] = _sum(flat("smm_total_planned"))
        totals["actual"] = _sum(flat("smm_total_actual"))
        surplus = [flat(n) for n in _names(data, "smm_surplus_")]
        totals["remaining"] = None if any(s is None for s in surplus) else _sum([s[-1] for s in surplus])
        months = [flat("smm_total_planned"), flat("smm_total_actual"), flat("smm_carried")]
        if all(m is not None and len(m) == 12 for m in months):
            for i in range(12):
                totals[f"by_month.planned.{i}"] = _month(months[0][i])
                totals[f"by_month.actual.{i}"] = _month(months[1][i])
                totals[f"by_month.surplus.{i}"] = _month(months[2][i])
    elif blueprint_id == "calendar":
        totals["posts_target"] = _sum(flat("smm_total_planned"))
        status = flat("smm_post_status")
        totals["posts_published"] = None if status is None else float(sum(v == "Published" for v in status))
        for i, (posts, published) in enumerate(zip(flat("smm_total_posts") or [], flat("smm_total_published") or [])):
            totals[f"by_month.posts.{i}"] = _sum([posts])
            totals[f"by_month.published.{i}"] = _sum([published])
    elif blueprint_id == "roadmap":
        initiatives, status = flat("smm_initiative"), flat("smm_status")
        tasks, task_status = flat("smm_task"), flat("smm_task_status")
        totals["initiatives"] = None if initiatives is None else float(sum(v not in (None, "") for v in initiatives))
        totals["tasks"] = None if tasks is None else float(sum(v not in (None, "") for v in tasks))
        totals["initiatives_done"] = None if status is None else float(sum(v == "Done" for v in status))
        totals["tasks_done"] = None if task_status is None else float(sum(v == "Done" for v in task_status))
    elif blueprint_id == "kpi-report":
        for measure in ("impressions", "link_clicks", "ad_spend", "conversions", "revenue"):
            totals[measure] = _sum(*[flat(n) for n in _names(data, f"smm_{measure}_")])
        parts = [flat(n) for part in ("likes", "comments", "shares", "saves") for n in _names(data, f"smm_{part}_")]
        totals["engagements"] = _sum(*parts)
    elif blueprint_id == "strategy":
        totals["completeness"] = _sum(flat("smm_done_all"))
        if "smm_ready_score" in data.defined_names:
            totals["readiness"] = _sum(flat("smm_ready_score"))
        goals, actions = flat("smm_goal_name"), flat("smm_init_action")
        totals["goals"] = None if goals is None else float(sum(v not in (None, "") for v in goals))
        totals["initiatives"] = None if actions is None else float(sum(v not in (None, "") for v in actions))
    return totals


def analyser_total(report, key: str) -> Any:
    """A figure of the analyser's report by the keys of :func:`libreoffice_totals`."""
    if "." not in key:
        return report.totals.get(key)
    table, column, row = key.split(".")
    frame = report.totals[table]
    if table == "by_month" and column == "surplus" and "deficit" in frame:
        # The sheet's carry-over row is signed; the analyser shows a deficit in its own column.
        return frame["surplus"].iloc[int(row)] - frame["deficit"].iloc[int(row)]
    return frame[column].iloc[int(row)]


def totals_disagreements(report, data: reader.WorkbookData) -> list[str]:
    """Where the analyser's totals differ from LibreOffice's in the same file (to 1e-9)."""
    wrong = []
    for key, expected in libreoffice_totals(report.blueprint_id, data).items():
        if expected is None:
            continue
        got = analyser_total(report, key)
        got = 0.0 if got in (None, "") else float(got)
        if math.isnan(got) or math.isnan(expected):  # a blank month: blank on both sides
            if not (math.isnan(got) and math.isnan(expected)):
                wrong.append(f"{key}: analyser {got:g}, LibreOffice {expected:g} (one of them blank)")
            continue
        if not math.isclose(got, expected, rel_tol=1e-9, abs_tol=1e-9):
            wrong.append(f"{key}: analyser {got:g}, LibreOffice {expected:g}")
    return wrong
