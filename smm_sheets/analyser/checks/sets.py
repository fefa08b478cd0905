"""A client's set: the workbooks of one folder checked against each other (company, year, start
month, channels, team; initiatives and owners named in one workbook known in another)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import repeat
from pathlib import Path
from typing import Any

from smm_sheets.analyser.checks.inputs import sheet_lists
from smm_sheets.analyser.checks.workbook import Workbook, placement_cells
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.analyser.report import FileReport


def report_facts(book: Workbook) -> tuple[dict[str, list[str]], dict[str, dict[str, tuple[str, str]]]]:
    """The values of the blueprint's ``report.facts`` fields, which :func:`check_set` compares,
    and the first cell of each value."""
    facts: dict[str, list[str]] = {}
    where: dict[str, dict[str, tuple[str, str]]] = {}
    for fact, field_id in book.plan.blueprint.report.facts.items():
        placement = book.plan.items.get(field_id)
        if placement is None:
            continue
        first: dict[str, tuple[str, str]] = {}
        store = placement.column
        if store is not None:  # a table's column (100,000 posts) read in one go
            cells = zip(
                book.column(placement.sheet, store.first_row, store.col, len(store.values)),
                range(store.first_row, store.first_row + len(store.values)),
                repeat(store.col),
            )
        else:
            cells = ((book.value(placement.sheet, row, col), row, col) for _, row, col in placement_cells(placement))
        for value, row, col in cells:
            if value not in (None, "") and str(value) not in first:
                first[str(value)] = book.ref(placement.sheet, row, col)
        facts[fact] = sorted(first)
        where[fact] = first
    # Team members added on the file's Lists sheet (not in its parameters): on the client's team too.
    known = {person.casefold() for person in book.plan.params.team}
    listed = sheet_lists(book)
    added = {v for item in book.plan.blueprint.lists if item.source == "team" for v in listed.get(item.id, ())}
    added = sorted(v for v in added if v.casefold() not in known)
    if added:
        facts["team_added"] = added
    return facts, where


def client_sets(reports: list[FileReport]) -> list[list[FileReport]]:
    """The reports of workbooks in one folder, one group per folder that holds more than one blueprint's."""
    groups: dict[str, list[FileReport]] = {}
    for report in reports:
        groups.setdefault(os.path.dirname(os.path.abspath(report.file)), []).append(report)
    return [group for group in groups.values() if len({r.blueprint_id for r in group}) > 1]


def check_set(group: list[FileReport]) -> Iterator[tuple[FileReport, Finding]]:
    """Across one client's workbooks: the same channels, team, year and start month; initiatives
    the calendar names exist in the roadmap.

    Args:
        group: the reports of one client's workbooks (see :func:`client_sets`).

    Returns:
        (the report of the workbook that disagrees, the finding), in order.
    """
    keys = ("company", "year", "start_month", "channels", "team")
    # What the file checks found already (not what this check adds): an owner is reported once.
    already = [{(f.code, f.sheet, f.cell) for f in report.findings} for report in group]
    reference = group[0]
    for report in group[1:]:
        for key in keys:
            mine, theirs = report.parameters.get(key), reference.parameters.get(key)
            if mine != theirs:
                facts = {"found": _describe(mine), "expected": _describe(theirs), "file": Path(reference.file).name}
                yield (report, say("set-mismatch", facts | {"parameter": key}, key=f"set-mismatch.{key}"))
    initiatives = {v.casefold() for r in group for v in r.parameters.get("facts", {}).get("initiatives", [])}
    team = {
        person.casefold()
        for r in group
        for person in [*r.parameters.get("team", []), *r.parameters.get("facts", {}).get("team_added", [])]
    }
    for report, reported in zip(group, already):
        used = report.parameters.get("facts", {})
        for name in used.get("initiatives_used", []) if initiatives else ():
            if name.casefold() not in initiatives:
                sheet, cell = report.fact_cells["initiatives_used"][name]
                yield (report, say("initiative-unknown", {"found": name}, sheet, cell))
        for name in used.get("owners_used", []):
            sheet, cell = report.fact_cells["owners_used"][name]
            if name.casefold() not in team and ("owner-not-on-team", sheet, cell) not in reported:
                facts = {"found": name, "allowed": sorted({p for r in group for p in r.parameters.get("team", [])})}
                yield (report, say("owner-not-on-team", facts, sheet, cell, key="owner-not-on-team.set"))


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v[1]) if isinstance(v, list) else str(v) for v in value) or "none"
    return str(value)
