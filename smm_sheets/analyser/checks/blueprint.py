"""The blueprint's own report rules: its checks (``report.checks``) and its month-to-month chains
(``report.chains``), over the plan recomputed from the file's inputs."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser import messages
from smm_sheets.analyser.checks.labels import cell_facts
from smm_sheets.analyser.checks.workbook import Workbook, placement_cells, shown
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.plan import Evaluator
from smm_sheets.sheetref import date_of_serial


def check_report_rules(book: Workbook) -> Iterator[Finding]:
    """The blueprint's own checks (``report.checks``): a finding wherever ``when`` holds."""
    evaluator = book.computed.evaluator
    blueprint = book.plan.blueprint
    fields = blueprint.fields()
    false_at: dict[tuple, dict[tuple[int, int, int], bool]] = {}  # see _first_of_and
    for check, key in zip(blueprint.report.checks, check_keys(blueprint)):
        placement = book.plan.items.get(check.field)
        if placement is None:
            continue
        store = placement.column
        used = book.used_rows.get(store.block_id) if store is not None else None
        named = _PLACEHOLDER.findall(check.message)
        if messages.has(key):
            named += sorted(messages.placeholders(messages.catalogs()["en"][key]))
        named = [name for name in dict.fromkeys(named) if name in fields]
        first = _first_of_and(check.when)
        # Checks of one field mostly share that first argument (ISNUMBER({actual})): asked once per cell.
        first_false = false_at.setdefault(first, {}) if first is not None else None
        for coords, row, col in placement_cells(placement):
            if used is not None and coords["row"][1] not in used or book.gone(placement.sheet, row):
                continue
            if first_false is not None:
                cell_key = (placement.sheet, row, col)
                is_false = first_false.get(cell_key)
                if is_false is None:
                    is_false = first_false[cell_key] = evaluator.value(first, coords, placement.sheet) is False
                if is_false:
                    continue  # AND(FALSE, ...) is FALSE or an error: never a finding
            result = evaluator.value(check.when, coords, placement.sheet)
            if result is True or (isinstance(result, float) and result != 0 and not isinstance(result, bool)):
                name, where = book.ref(placement.sheet, row, col)
                facts = cell_facts(book, placement, coords)
                facts |= {field: _fact(evaluator, coords, placement.sheet, fields[field]) for field in named}
                if messages.has(key):
                    yield say(check.code, facts, name, where, severity=check.severity, key=key)
                else:
                    message = _message(check.message, evaluator, coords, placement.sheet, fields)
                    yield Finding(check.code, check.severity, name, where, message, facts)


@functools.cache
def _first_of_and(when: tuple) -> tuple | None:
    """The first argument of a ``when`` that is ``AND(...)`` of several (most are: ``AND(ISNUMBER(
    {actual}), ...)``), to rule out the many cells where it is FALSE without the rest; else None."""
    if when[0] == "call" and when[1] == "AND" and len(when[2]) > 1:
        return when[2][0]
    return None


def check_keys(blueprint: Blueprint) -> list[str]:
    """The catalog key of each of a blueprint's checks: ``check.<blueprint>.<code>``, and
    ``.<n>`` after it when several checks share the code (the n-th of them, from 0)."""
    codes = [check.code for check in blueprint.report.checks]
    keys = []
    for i, code in enumerate(codes):
        key = f"check.{blueprint.id}.{code}"
        keys.append(key if codes.count(code) == 1 else f"{key}.{codes[:i].count(code)}")
    return keys


def chain_key(blueprint: Blueprint, code: str) -> str:
    """The catalog key of a blueprint's chain: ``check.<blueprint>.<code>``."""
    return f"check.{blueprint.id}.{code}"


def _fact(evaluator: Evaluator, coords: dict, sheet: int, item: Any) -> Any:
    """A field's value in the finding's row, as a fact: dates as dates."""
    value = evaluator.value(_reference(item.id), coords, sheet)
    if isinstance(value, fx.ExcelError):
        return value.code
    if item.type == "date" and isinstance(value, (int, float)) and 0 <= value and date_of_serial(value):
        return date_of_serial(value)
    return shown(value) if value not in (None, "") else None


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def _reference(name: str) -> tuple:
    """``{name}`` parsed once: compiled formulas are kept by tree."""
    return fx.parse("{" + name + "}")


def _message(template: str, evaluator: Evaluator, coords: dict, sheet: int, fields: dict) -> str:
    """A check's message with ``{field}`` filled in from the cell's row (dates as dates)."""

    def fill(found: re.Match) -> str:
        value = shown(evaluator.value(_reference(found.group(1)), coords, sheet))
        item = fields.get(found.group(1))
        if (
            item is not None
            and item.type == "date"
            and isinstance(value, (int, float))
            and 0 <= value
            and date_of_serial(value)
        ):
            return date_of_serial(value).isoformat()
        if isinstance(value, float):
            return f"{value:,.2f}"
        return str(value)

    return _PLACEHOLDER.sub(fill, template)


def check_chains(book: Workbook) -> Iterator[Finding]:
    """One finding per line whose month-to-month chain (carry-over) is broken, at the first break."""
    evaluator = book.computed.evaluator
    line_names = (
        {coords.get("line"): label for coords, label in evaluator.rows("lines")}
        if book.plan.blueprint.categories
        else {}
    )
    months = [label for _, label in evaluator.rows("months")]
    for chain in book.plan.blueprint.report.chains:
        first_break: dict[Any, tuple[int, int, int, int]] = {}
        for name in chain.fields:
            placement = book.plan.items.get(name)
            if placement is None:
                continue
            for coords, row, col in placement_cells(placement):
                if (placement.sheet, row, col) in book.broken:
                    line = coords.get("line")
                    month = coords.get("month", 0)
                    if line not in first_break or month < first_break[line][0]:
                        first_break[line] = (month, placement.sheet, row, col)
        key = chain_key(book.plan.blueprint, chain.code)
        for line, (month, sheet, row, col) in first_break.items():
            name, where = book.ref(sheet, row, col)
            facts = {"line": str(line_names.get(line, line)), "month": months[month]}
            if messages.has(key):
                yield say(chain.code, facts, name, where, severity="error", key=key)
                continue
            message = chain.message.replace("{line}", facts["line"]).replace("{month}", facts["month"])
            yield Finding(chain.code, "error", name, where, message, facts)
