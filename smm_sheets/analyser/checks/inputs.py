"""Input checks: types, required answers, dropdown lists, ranges and dates of every input cell."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from itertools import repeat
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser.cellmap import parse_range
from smm_sheets.analyser.checks.labels import allowed_values, cell_facts
from smm_sheets.analyser.checks.workbook import Workbook, placement_cells, shown
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.blueprint.model import NUMERIC_TYPES, Blueprint, Field
from smm_sheets.blueprint.params import Parameters
from smm_sheets.plan import EXTENDABLE_LISTS, LIST_PREFIX, Placement, WorkbookPlan
from smm_sheets.sheetref import date_of_serial


def input_placements(plan: WorkbookPlan) -> Iterator[Placement]:
    """The placements of a plan's input fields."""
    for placement in plan.items.values():
        if placement.role == "input":
            yield placement


def check_inputs(book: Workbook) -> Iterator[Finding]:
    """Types, required answers, dropdown lists, ranges and dates of every input cell."""
    lists = book.computed.evaluator.lists | sheet_lists(book)
    list_codes = _list_codes(book.plan.blueprint)
    period = _period(book.plan.params)
    language = book.plan.params.language
    fields_lists = {}
    for placement in input_placements(book.plan):
        item = placement.field
        store = placement.column
        used = book.used_rows.get(store.block_id) if store is not None else None
        allowed = shown_allowed = None
        if item.type in ("choice", "yesno"):
            allowed = lists.get(item.list)
            if allowed is None and item.list not in fields_lists:
                fields_lists[item.list] = _field_values(book, item.list)
            allowed = allowed if allowed is not None else fields_lists.get(item.list)
            shown_allowed = allowed_values(allowed) if allowed is not None else None
            allowed = {str(v).casefold() for v in allowed} if allowed is not None else None
        list_code = list_codes.get(item.list or "")
        fine: set[tuple[type, Any]] = set()  # values found right: a table's column repeats them
        for where, row, col, value in _input_cells(book, placement, used):
            if value is None or value == "":
                if item.required:
                    name, at = book.ref(placement.sheet, row, col)
                    yield say("missing-value", cell_facts(book, placement, _coords(placement, where)), name, at)
                continue
            try:
                known = (value.__class__, value)
                if known in fine:
                    continue
            except TypeError:  # unhashable: checked every time
                known = None
            problem = _check_value(item, value, allowed, list_code, period, language)
            if problem is None:
                if known is not None:
                    fine.add(known)
                continue
            code, key, facts = problem
            if code in _LIST_CODES:
                facts["allowed"] = shown_allowed
            name, at = book.ref(placement.sheet, row, col)
            yield say(code, cell_facts(book, placement, _coords(placement, where)) | facts, name, at, key=key)


def _input_cells(book: Workbook, placement: Placement, used: set[int] | None) -> Iterator[tuple[Any, int, int, Any]]:
    """(where, row, col, the file's value) of a placement's cells that are there and used; where
    is the cell's coordinates, or its row's index in a table (see :func:`_coords`).

    A table's column (a calendar of 100,000 posts) is read in one go, and a row's coordinates
    are made only for the rows a finding names."""
    store = placement.column
    if store is None:
        for coords, row, col in placement._cells:  # cells of a form or grid: no rows "used"
            if not book.gone(placement.sheet, row):
                yield coords, row, col, book.value(placement.sheet, row, col)
        return
    count, first, col = len(store.values), store.first_row, store.col
    deleted = book.gone_rows(placement.sheet)
    if deleted is None:
        return  # the sheet is missing: every row is gone
    column = book.column(store.sheet, first, col, count)
    if used is None:
        rows: Any = range(count)
    else:
        rows = sorted(used)
        if rows and (rows[0] < 0 or rows[-1] >= count):
            rows = [i for i in rows if 0 <= i < count]
    if deleted:
        rows = [i for i in rows if first + i not in deleted]
    yield from zip(rows, map(first.__add__, rows), repeat(col), map(column.__getitem__, rows))


def _coords(placement: Placement, where: Any) -> dict:
    """A cell's coordinates from what :func:`_input_cells` gives: a table's row index, or the coordinates."""
    return {"row": (placement.column.block_id, where)} if placement.column is not None else where


_LIST_CODES = {"not-in-list", "owner-not-on-team", "channel-not-in-plan", "status-not-in-workflow"}


def sheet_lists(book: Workbook) -> dict[str, list[str]]:
    """The lists people extend (the team, goals) as the file's Lists sheet holds them, blanks
    ignored: a name typed there reaches the dropdowns, so it is in the list. A list the file
    does not hold (its sheet or name deleted), or holds empty (the dropdown then blocks nothing),
    is left out: the plan's list (from the parameters) stands for it.
    """
    found = {}
    for item in book.plan.blueprint.lists:
        if item.source not in EXTENDABLE_LISTS or item.field is not None:
            continue
        values = _named_values(book, LIST_PREFIX + item.id)
        if values:
            found[item.id] = values
    return found


def _named_values(book: Workbook, name: str) -> list[str] | None:
    """The non-blank values of a list's range: the file's own defined name first (what its
    dropdowns offer, grown by rows inserted inside it), else the plan's cells for it."""
    actual = parse_range(book.data.defined_names.get(name) or "")
    if actual is not None and actual[0] in book.data.sheets:
        sheet = book.data.sheets[actual[0]]
        r1, c1, r2, c2 = actual[1]
        values = [sheet.value(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]
    else:
        planned = parse_range(book.plan.names.get(name, ""))
        index = next((i for i, s in enumerate(book.plan.sheets) if planned and s.name == planned[0]), None)
        if planned is None or index is None or book.cells.sheets[index].name not in book.data.sheets:
            return None
        r1, c1, r2, c2 = planned[1]
        values = [
            book.value(index, r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1) if not book.gone(index, r)
        ]
    return [str(v).strip() for v in values if v is not None and str(v).strip()]


def _field_values(book: Workbook, field_id: str) -> list[str] | None:
    """A list made of a field's cells (e.g. the strategy's goals): what the file holds there."""
    placement = book.plan.items.get(field_id)
    if placement is None:
        return None
    values = (book.value(placement.sheet, row, col) for _, row, col in placement_cells(placement))
    return [str(v) for v in values if v not in (None, "")]


def _check_value(
    item: Field,
    value: Any,
    allowed: set[str] | None,
    list_code: str | None,
    period: tuple[dt.date, dt.date],
    language: str = "en",
) -> tuple[str, str, dict[str, Any]] | None:
    """(code, message key, facts) of what is wrong with an input's value, or None."""
    kind = item.type
    if isinstance(value, fx.ExcelError):
        return ("type-error", "type-error.error", {"found": value.code})
    if kind in NUMERIC_TYPES:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            if isinstance(value, str):
                number = parse_number(value, language)
                if number is not None:
                    return ("type-error", "type-error.number-text", {"found": value, "expected": number})
                return ("type-error", "type-error.not-number", {"found": value, "example": 1234.5})
            return ("type-error", "type-error.not-number", {"found": shown(value), "example": 1234.5})
        if kind == "integer" and not float(value).is_integer():
            return ("type-error", "type-error.not-whole", {"found": value})
        if item.min is not None and value < item.min:
            key = "out-of-range" if item.max is not None else "out-of-range.min"
            return ("out-of-range", key, {"found": value, "min": item.min, "max": item.max})
        if item.max is not None and value > item.max:
            key = "out-of-range" if item.min is not None else "out-of-range.max"
            return ("out-of-range", key, {"found": value, "min": item.min, "max": item.max})
        return None
    if kind == "date":
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            example = period[0]
            if isinstance(value, str):
                day = parse_date(value, language)
                if day is not None:
                    return ("type-error", "type-error.date-text", {"found": value, "expected": day})
                return ("type-error", "type-error.not-date", {"found": value, "example": example})
            if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value and date_of_serial(value):
                return ("type-error", "type-error.date-number", {"found": value, "expected": date_of_serial(value)})
            return ("type-error", "type-error.not-date", {"found": shown(value), "example": example})
        if not period[0] <= value <= period[1]:
            return ("date-out-of-period", "date-out-of-period", {"found": value, "min": period[0], "max": period[1]})
        return None
    if kind == "time":
        if not isinstance(value, (dt.time, dt.timedelta, dt.datetime)) and not (
            isinstance(value, float) and 0 <= value < 1
        ):
            return ("type-error", "type-error.not-time", {"found": shown(value)})
        return None
    if allowed is not None and str(value).casefold() not in allowed:
        code = list_code or "not-in-list"
        return (code, code, {"found": shown(value)})
    return None


_NUMBER_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']")
# "2,6k" (thousands), "1,2M"/"1,2 milj." (millions), as people shorten figures.
_SCALES = {"k": 1e3, "t": 1e3, "tuh": 1e3, "tūkst": 1e3, "m": 1e6, "mn": 1e6, "milj": 1e6, "mill": 1e6, "milj.": 1e6}


def parse_number(text: str, language: str | None = None) -> float | None:
    """What a number typed as text meant: ``1 200,50`` -> 1200.5, ``1,200.50``, ``12 %``, ``2,6k``.

    Args:
        text: what the cell holds.
        language: the workbook's language; its decimal sign decides ``2,6`` and ``1,200``.

    Returns:
        The number, or None when the text is no number (see :func:`read_number` for whether
        the reading is certain).
    """
    return read_number(text, language)[0]


def read_number(text: str, language: str | None = None) -> tuple[float | None, bool]:
    """The number a text meant, and whether that reading is certain.

    Certain: digits with the language's decimal sign (once) and its group separators (spaces in
    Finnish, Latvian and Norwegian); uncertain: a separator the language does not use
    (``1.200`` in a Finnish workbook: twelve hundred, or one point two?), or no language.
    """
    from smm_sheets.locale_data import number_symbols

    text = _NUMBER_SPACES.sub("", text.strip())
    percent = text.endswith("%")
    text = text.rstrip("%")
    scale = 1.0
    suffix = re.search(r"(?<=\d)([a-zA-Zāū]+\.?)$", text)
    if suffix and suffix.group(1).lower() in _SCALES:
        scale = _SCALES[suffix.group(1).lower()]
        text = text[: suffix.start()]
    text = re.sub(r"^[^\d+-]+|[^\d]+$", "", text)  # currency signs and codes
    if not re.fullmatch(r"[+-]?[\d.,]+", text or "x"):
        return None, False
    certain = False
    if language is not None:
        decimal, group = number_symbols(language)
        group = "" if group.isspace() else group
        other = ({",", "."} - {decimal}).pop()
        groups_ok = other != group or re.fullmatch(
            r"[+-]?\d{1,3}(" + re.escape(group) + r"\d{3})*(" + re.escape(decimal) + r"\d*)?", text
        )
        if text.count(decimal) <= 1 and (other not in text or (other == group and groups_ok)):
            certain = True
            text = text.replace(group, "") if group else text
            text = text.replace(decimal, ".")
    if not certain:
        text = _guess_separators(text)
    try:
        number = float(text)
    except ValueError:
        return None, False
    number *= scale
    return (number / 100 if percent else number), certain


def _guess_separators(text: str) -> str:
    """Without the language: the last of ``,`` and ``.`` is the decimal sign unless three digits follow it."""
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
    for mark in {",", "."} - {decimal}:
        text = text.replace(mark, "")
    return text.replace(",", ".")


def parse_date(text: str, language: str | None = None) -> dt.date | None:
    """A date typed as text: ``2027-03-12``, ``12.03.2027``, ``12/03/2027`` (day first, as in Europe)."""
    return read_date(text, language)[0]


def read_date(text: str, language: str | None = None) -> tuple[dt.date | None, bool]:
    """The date a text meant, and whether that reading is certain (ISO; the language's own
    day-month-year order; or a day above 12, which can only be a day)."""
    from smm_sheets.locale_data import date_order

    text = text.strip()
    order = date_order(language) if language else None
    for pattern in ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%y", "%d/%m/%y", "%m/%d/%Y"):
        try:
            day = dt.datetime.strptime(text, pattern).date()
        except ValueError:
            continue
        certain = (
            pattern == "%Y-%m-%d"
            or (order == "dmy" and pattern.startswith("%d."))
            or day.day > 12
            and pattern != "%m/%d/%Y"
        )
        return day, bool(certain)
    return None, False


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
