"""Input checks: types, required answers, dropdown lists, ranges and dates of every input cell."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser.checks.workbook import Workbook, placement_cells, shown
from smm_sheets.analyser.findings import Finding, finding
from smm_sheets.blueprint.model import NUMERIC_TYPES, Blueprint, Field
from smm_sheets.blueprint.params import Parameters
from smm_sheets.plan import Placement, WorkbookPlan
from smm_sheets.sheetref import date_of_serial


def input_placements(plan: WorkbookPlan) -> Iterator[Placement]:
    """The placements of a plan's input fields."""
    for placement in plan.items.values():
        if placement.role == "input":
            yield placement


def check_inputs(book: Workbook) -> Iterator[Finding]:
    """Types, required answers, dropdown lists, ranges and dates of every input cell."""
    lists = book.computed.evaluator.lists
    list_codes = _list_codes(book.plan.blueprint)
    period = _period(book.plan.params)
    fields_lists = {}
    for placement in input_placements(book.plan):
        item = placement.field
        store = placement.column
        used = book.used_rows.get(store.block_id) if store is not None else None
        allowed = None
        if item.type in ("choice", "yesno"):
            allowed = lists.get(item.list)
            if allowed is None and item.list not in fields_lists:
                fields_lists[item.list] = _field_values(book, item.list)
            allowed = allowed if allowed is not None else fields_lists.get(item.list)
            allowed = {str(v).casefold() for v in allowed} if allowed is not None else None
        for coords, row, col in placement_cells(placement):
            if used is not None and coords["row"][1] not in used or book.gone(placement.sheet, row):
                continue
            value = book.value(placement.sheet, row, col)
            if value is None or value == "":
                if item.required:
                    name, where = book.ref(placement.sheet, row, col)
                    yield finding("missing-value", f"{item.id}: a required answer is blank", name, where)
                continue
            problem = _check_value(item, value, allowed, list_codes.get(item.list or ""), period)
            if problem is not None:
                code, message = problem
                name, where = book.ref(placement.sheet, row, col)
                yield finding(code, f"{item.id}: {message}", name, where)


def _field_values(book: Workbook, field_id: str) -> list[str] | None:
    """A list made of a field's cells (e.g. the strategy's goals): what the file holds there."""
    placement = book.plan.items.get(field_id)
    if placement is None:
        return None
    values = (book.value(placement.sheet, row, col) for _, row, col in placement_cells(placement))
    return [str(v) for v in values if v not in (None, "")]


def _check_value(
    item: Field, value: Any, allowed: set[str] | None, list_code: str | None, period: tuple[dt.date, dt.date]
) -> tuple[str, str] | None:
    kind = item.type
    if isinstance(value, fx.ExcelError):
        return ("type-error", f"holds the error {value}")
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                number = parse_number(value)
                hint = f"; did you mean {number:g}? Enter it as a number" if number is not None else "; enter a number"
                return ("type-error", f"{value!r} is text, not a number{hint}")
            return ("type-error", f"{shown(value)!r} is not a number")
        if kind == "integer" and not float(value).is_integer():
            return ("type-error", f"{value:g} is not a whole number")
        if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
            low = f"{item.min:g}" if item.min is not None else "…"
            high = f"{item.max:g}" if item.max is not None else "…"
            return ("out-of-range", f"{value:g} is outside {low} to {high}")
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            if isinstance(value, str):
                day = parse_date(value)
                hint = f"; did you mean {day.isoformat()}? Enter it as a date" if day else "; enter a date (YYYY-MM-DD)"
                return ("type-error", f"{value!r} is text, not a date{hint}")
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value and date_of_serial(value):
                day = date_of_serial(value)
                return (
                    "type-error",
                    f"the number {shown(value)} where a date is expected (the date format was lost?); as a date it is {day.isoformat()}",
                )
            return ("type-error", f"{shown(value)!r} is not a date")
        if not period[0] <= value <= period[1]:
            return (
                "date-out-of-period",
                f"{value.isoformat()} is outside the plan ({period[0].isoformat()} to {period[1].isoformat()})",
            )
        return None
    if kind == "time":
        if not isinstance(value, (dt.time, dt.timedelta, dt.datetime)) and not (
            isinstance(value, float) and 0 <= value < 1
        ):
            return ("type-error", f"{shown(value)!r} is not a time (HH:MM)")
        return None
    if allowed is not None and str(value).casefold() not in allowed:
        code = list_code or "not-in-list"
        return (code, f"{shown(value)!r} is not in the list {item.list}")
    return None


_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")


def parse_number(text: str) -> float | None:
    """What a number typed as text meant: ``1 200,50`` -> 1200.5, ``1,200.50``, ``12 %``."""
    text = _NUMBER_SPACES.sub("", text.strip())
    percent = text.endswith("%")
    text = re.sub(r"^[^\d+-]+|[^\d]+$", "", text.rstrip("%"))  # currency signs and codes
    if not re.fullmatch(r"[+-]?[\d.,]+", text or "x"):
        return None
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
    elif "," in text:
        decimal = (
            ","
            if len(text.rsplit(",", 1)[1]) != 3 or text.count(",") == 1 and len(text.split(",")[0].lstrip("+-")) > 3
            else ""
        )
    else:
        decimal = "." if text.count(".") == 1 and len(text.rsplit(".", 1)[1]) != 3 else ""
    thousands = {",", "."} - {decimal}
    for mark in thousands:
        text = text.replace(mark, "")
    text = text.replace(",", ".")
    try:
        number = float(text)
    except ValueError:
        return None
    return number / 100 if percent else number


def parse_date(text: str) -> dt.date | None:
    """A date typed as text: ``2027-03-12``, ``12.03.2027``, ``12/03/2027`` (day first, as in Europe)."""
    text = text.strip()
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%d/%m/%y", "%m/%d/%Y"):
        try:
            return dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def _list_codes(blueprint: Blueprint) -> dict[str, str]:
    """Findings for values outside lists that say more than "not in the list"."""
    codes = {}
    for item in blueprint.lists:
        if item.source == "team":
            codes[item.id] = "owner-not-on-team"
        elif item.source == "channels":
            codes[item.id] = "channel-not-in-plan"
        elif item.id == "workflow" or item.id.endswith("status"):
            codes[item.id] = "status-not-in-workflow"
    return codes


def _period(params: Parameters) -> tuple[dt.date, dt.date]:
    months = params.months()
    first = dt.date(*months[0], 1)
    year, month = months[-1]
    last = dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return first, last
