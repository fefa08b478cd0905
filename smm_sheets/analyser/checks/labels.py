"""Where a cell is, in the words of the workbook: the facts a finding names a cell by.

A finding says "Actual, Photographer, Mar 2027", not ``actual`` at planned row 8: the field's
label (a question, a column header, a measure), the labels of its row (line, category, channel,
team member, list value) and month, or, in a table of posts or tasks, the row's date and channel.
"""

from __future__ import annotations

import datetime as dt
import weakref
from typing import Any

from smm_sheets.analyser.checks.workbook import Workbook
from smm_sheets.blueprint.model import Field
from smm_sheets.plan import Expanded, Placement, WorkbookPlan, expand
from smm_sheets.sheetref import date_of_serial

# What is worked out once per plan, dropped with the plan (a batch analyses thousands).
_EXPANDED: dict[int, Expanded] = {}
_INDEX: dict[int, tuple[dict, dict]] = {}


def _once(cache: dict, plan: WorkbookPlan, make: Any) -> Any:
    key = id(plan)
    if key not in cache:
        cache[key] = make()
        weakref.finalize(plan, cache.pop, key, None)
    return cache[key]


def expanded(plan: WorkbookPlan) -> Expanded:
    """The plan's blueprint expanded with its parameters (labels, months, lines), once per plan."""
    return _once(_EXPANDED, plan, lambda: expand(plan.blueprint, plan.params))


def field_label(plan: WorkbookPlan, item: Field) -> str:
    """A field's label in the workbook's language (its question, column header or measure)."""
    x = expanded(plan)
    if item.label and item.label in x.labels:
        return x.text(item.label)
    return item.id.replace("_", " ")


def cell_facts(book: Workbook, placement: Placement, coords: dict) -> dict[str, Any]:
    """The facts that name a planned cell: ``field`` and its row's and month's labels."""
    plan = book.plan
    x = expanded(plan)
    facts: dict[str, Any] = {"field": field_label(plan, placement.field)}
    if "line" in coords:
        facts["line"] = next((line.label for line in x.lines if line.id == coords["line"]), coords["line"])
    elif "category" in coords:
        facts["category"] = dict(x.categories).get(coords["category"], coords["category"])
    if "channel" in coords:
        facts["channel"] = next((c.name for c in plan.params.channels if c.id == coords["channel"]), coords["channel"])
    if "member" in coords and coords["member"] < len(plan.params.team):
        facts["member"] = plan.params.team[coords["member"]]
    if "value" in coords:
        list_id, index = coords["value"]
        values = x.lists.get(list_id) or []
        if index < len(values):
            facts["value"] = values[index]
    if "month" in coords and coords["month"] < len(x.months):
        facts["month"] = x.months[coords["month"]]
    if "row" in coords:
        facts.update(row_facts(book, placement.sheet, coords["row"][0], coords["row"][1]))
    return facts


def row_facts(book: Workbook, sheet: int, block_id: str, index: int) -> dict[str, Any]:
    """A row of a table of posts or tasks: ``post`` (its date and channel) or its ``row`` number."""
    date = channel = item = None
    first = None
    channel_lists = {item.id for item in book.plan.blueprint.lists if item.source == "channels"}
    for placement in book.plan.items.values():
        store = placement.column
        if store is None or store.block_id != block_id or placement.role != "input" or index >= len(store.values):
            continue
        row = store.first_row + index
        first = row if first is None else min(first, row)
        value = book.value(placement.sheet, row, store.col)
        if date is None and placement.field.type == "date":
            date = _as_date(value)
        elif channel is None and placement.field.list in channel_lists and value not in (None, ""):
            channel = str(value)
        elif item is None and placement.field.type == "text" and isinstance(value, str) and value.strip():
            item = value.strip()
    if (
        channel_lists
        and date is not None
        and any(
            p.column is not None and p.column.block_id == block_id and p.field.list in channel_lists
            for p in book.plan.items.values()
        )
    ):
        return {"post": {"date": date, "channel": channel}}
    if item is not None:
        return {"item": item}
    row = first if first is not None else 0
    return {"row": book.file_cell(sheet, row, 0)[1] + 1}


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return date_of_serial(value)
    return None


def row_label(book: Workbook, sheet: int, row: int) -> str | None:
    """The text label of a planned row (a budget line's name), if the plan puts one there."""
    cells = book.plan.sheets[sheet].cells
    texts = []
    for col in range(4):
        cell = cells.get((row, col))
        if cell is not None and cell.kind == "text" and isinstance(cell.value, str) and cell.value:
            texts.append(cell.value)
    # A grid row reads category, line, measure: the line names it; a table row has one label.
    return texts[1] if len(texts) > 1 else texts[0] if texts else None


def allowed_values(values: Any, limit: int = 12) -> list[str]:
    """The values of a dropdown, as a finding lists them (at most ``limit``, then "…")."""
    found = [str(v) for v in values or () if v not in (None, "")]
    return found if len(found) <= limit else found[:limit] + ["…"]


def planned_cell_facts(book: Workbook, sheet: int, row: int, col: int, owner: str) -> dict[str, Any]:
    """The facts that name a planned formula cell of field ``owner`` (see :func:`cell_facts`).

    A cell of no placement (a line's year total) takes the coordinates of its row, without a month.
    """
    plan = book.plan
    store = plan.sheets[sheet].store_at(row, col)
    item = plan.blueprint.fields().get(owner)
    if store is not None:
        return cell_facts(book, Placement(owner, store.field, sheet), {"row": (store.block_id, row - store.first_row)})
    cells, rows = _cell_index(plan)
    found = cells.get((sheet, row, col))
    if found is not None:
        placement, coords = found
        if item is None or placement.field is item:
            return cell_facts(book, placement, coords)
        return cell_facts(book, Placement(owner, item, sheet), coords)
    if item is None:
        return {"field": owner.replace("_", " ")}
    return cell_facts(book, Placement(owner, item, sheet), rows.get((sheet, row), {}))


def _cell_index(plan: WorkbookPlan) -> tuple[dict, dict]:
    """(sheet, row, col) -> (placement, coordinates) of the plan's placed cells, and (sheet, row)
    -> the coordinates its cells share without the month; once per plan."""

    def make() -> tuple[dict, dict]:
        cells: dict = {}
        rows: dict = {}
        for placement in plan.items.values():
            if placement.column is not None:
                continue
            for coords, r, c in placement._cells:
                cells.setdefault((placement.sheet, r, c), (placement, coords))
                rows.setdefault((placement.sheet, r), {k: v for k, v in coords.items() if k != "month"})
        return cells, rows

    return _once(_INDEX, plan, make)
