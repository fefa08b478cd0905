"""The analyser pipeline: read a filled-in workbook back against its blueprint.

Stages, each a function you can call alone: :func:`smm_sheets.reader.read` (the file as data),
:func:`recognise` (which blueprint and parameters made it), :func:`analyse_data` (placement,
checks, recomputation, totals) and :func:`analyse` (files and folders, and the checks across
one client's set of workbooks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from smm_sheets import formula as fx
from smm_sheets import plan as layout
from smm_sheets.analyser import reader
from smm_sheets.analyser.cellmap import CellMap
from smm_sheets.analyser.checks import (
    CHANGED,
    COUNTS_INSERTED,
    Workbook,
    check_formulas,
    check_inputs,
    check_inserted_rows,
    check_rows_below_tables,
    check_stale_values,
    inserted_rows,
    mark_counting_formulas,
    placement_cells,
    shown,
)
from smm_sheets.analyser.findings import Finding, finding
from smm_sheets.analyser.report import FileFailure, FileReport, Report
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint, Table
from smm_sheets.blueprint.params import Channel, Parameters, make_parameters
from smm_sheets.errors import InputError, ParameterError, SmmSheetsError
from smm_sheets.sheetref import column_letter, date_of_serial, serial

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
MAX_META_BYTES = 100_000
_BUILTIN: dict[str, Blueprint] = {}


def analyse(paths: str | Path | Iterable[str | Path]) -> Report:
    """Analyse workbooks: files, or folders searched for spreadsheets (sub-folders too).

    Workbooks found in one folder are taken as one client's set and also checked against each
    other (channels, team, year, initiatives).

    Returns:
        A :class:`~smm_sheets.report.Report`; a file that cannot be analysed at all is one of
        its ``failures``, not an exception.

    Raises:
        InputError: a path that does not exist, or a folder without spreadsheets.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    report = Report()
    for path in spreadsheet_files(paths):
        try:
            report.reports.append(analyse_file(path))
        except SmmSheetsError as error:
            report.failures.append(FileFailure(str(path), str(error)))
    for group in _client_sets(report.reports):
        check_set(group)
    return report


def spreadsheet_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the spreadsheets in the folders named (sorted, hidden ones skipped)."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            inside = sorted(
                p
                for p in path.rglob("*")
                if p.suffix.lower() in SPREADSHEET_SUFFIXES
                and p.is_file()
                and not any(part.startswith((".", "~$")) for part in p.relative_to(path).parts)
            )
            if not inside:
                raise InputError(f"{path}: no spreadsheets ({', '.join(SPREADSHEET_SUFFIXES)}) in this folder")
            found.extend(inside)
        elif path.exists():
            found.append(path)
        else:
            raise InputError(f"{path}: no such file or folder")
    return found


def analyse_file(path: str | Path) -> FileReport:
    """Read one workbook and analyse it.

    Raises:
        FileError: the file cannot be read (not a spreadsheet, encrypted, a zip or XML bomb).
        InputError: it is not a workbook smm-sheets made, or its metadata is damaged.
    """
    return analyse_data(reader.read(path))


def analyse_data(data: reader.WorkbookData) -> FileReport:
    """Analyse a workbook already read (see :func:`smm_sheets.reader.read`)."""
    blueprint, params, how = recognise(data)
    plan, cells, resized = _place(blueprint, params, data)
    blueprint = plan.blueprint
    book = Workbook(data, plan, cells, resized=resized)
    findings: list[Finding] = list(_file_findings(data, cells, how))
    # The properties, else the _smm sheet (some apps drop custom properties).
    made_with = data.properties.get("smm_blueprint_version") or (_meta_sheet(data) or {}).get("blueprint_version")
    if made_with and made_with != blueprint.version:
        findings.append(
            finding(
                "blueprint-version",
                f"made with {blueprint.id} {made_with}, analysed against {blueprint.version}: cells may have moved",
            )
        )
    findings.extend(check_formulas(book))
    inserted = inserted_rows(book)
    mark_counting_formulas(book, inserted)
    for sheet in plan.sheets:  # the formula text is compared: free it before the recomputation
        for store in sheet.stores:
            store.texts = None
    book.used_rows = _used_rows(book)
    book.computed = layout.build(blueprint, params, _FileSource(book))
    findings.extend(check_stale_values(book))
    lists = book.computed.evaluator.lists
    findings.extend(check_inputs(book, lists, _list_codes(blueprint), _period(params)))
    findings.extend(check_inserted_rows(book, inserted))
    findings.extend(check_rows_below_tables(book))
    findings.extend(_blueprint_checks(book))
    findings.extend(_chains(book))
    facts, fact_cells = _facts(book)
    return FileReport(
        file=str(data.path),
        blueprint_id=blueprint.id,
        blueprint_version=blueprint.version,
        findings=findings,
        totals=compute_totals(blueprint, book.computed),
        parameters=layout.meta_parameters(params, blueprint) | {"facts": facts},
        fact_cells=fact_cells,
        recognised_by=how,
        application=data.application,
        cells_checked=sum(len(p.column.values) if p.column is not None else len(p._cells) for p in plan.items.values()),
    )


# --------------------------------------------------------------------------- recognise


def recognise(data: reader.WorkbookData) -> tuple[Blueprint, Parameters, str]:
    """Which blueprint and parameters made this workbook, and how we know ("metadata" or "structure").

    Raises:
        InputError: one line naming what was expected.
    """
    meta = _meta_sheet(data)
    if meta is not None and "blueprint_id" in meta:
        blueprint = _builtin(meta["blueprint_id"], data)
        params, rows = _params_from_meta(meta, data)
        try:
            layout.expand(blueprint, params)  # its options and language, checked here with the file named
        except InputError as error:
            raise InputError(f"{data.path}: damaged {layout.META_SHEET} sheet: {error}") from None
        return _sized_blueprint(blueprint, rows), params, "metadata"
    blueprint_id = data.properties.get("smm_blueprint_id")
    candidates = [_builtin(blueprint_id, data)] if blueprint_id else _all_builtin()
    for blueprint in candidates:
        params = _params_from_structure(blueprint, data)
        if params is not None:
            return blueprint, params, "structure"
    expected = "; ".join(f"{bp.id} ({', '.join(bp.labels['en'][s.title] for s in bp.sheets)})" for bp in _all_builtin())
    raise InputError(
        f"{data.path}: not a workbook made by smm-sheets: expected a hidden {layout.META_SHEET} sheet or the sheets of {expected}"
    )


def _builtin(blueprint_id: str, data: reader.WorkbookData) -> Blueprint:
    found = next((bp for bp in _all_builtin() if bp.id == blueprint_id), None)
    if found is None:
        known = ", ".join(bp.id for bp in _all_builtin())
        raise InputError(
            f"{data.path}: made from blueprint {blueprint_id!r}, which is not built in (built in: {known})"
        )
    return found


def _all_builtin() -> list[Blueprint]:
    """The built-in blueprints, loaded once per process (a portfolio reads thousands of files)."""
    if not _BUILTIN:
        for path in loader.builtin_blueprints():
            blueprint = loader.load(path)
            _BUILTIN[blueprint.id] = blueprint
    return list(_BUILTIN.values())


def _meta_sheet(data: reader.WorkbookData) -> dict[str, str] | None:
    sheet = data.sheets.get(layout.META_SHEET)
    if sheet is None:
        return None
    meta: dict[str, str] = {}
    for row in sheet.rows:
        if len(row) >= 2 and isinstance(row[0], str) and row[0] and row[0] not in meta:
            meta[row[0]] = "" if row[1] is None else str(row[1])
    return meta


def _params_from_meta(meta: dict[str, str], data: reader.WorkbookData) -> tuple[Parameters, dict[str, int]]:
    text = meta.get("parameters", "")
    try:
        if len(text) > MAX_META_BYTES:
            raise ValueError("too long")
        values = json.loads(text)
        if not isinstance(values, dict):
            raise ValueError("not a mapping")
        channels = [Channel(str(i), str(n)) for i, n in values["channels"]]
        params = make_parameters(
            company=values["company"],
            year=values["year"],
            start_month=values["start_month"],
            currency=values["currency"],
            channels=[c.name for c in channels],
            team=values["team"],
            options=values.get("options") or {},
            sample=bool(values.get("sample")),
            language=values.get("language", "en"),
        )
        # Goals are whatever the workbook's goal dropdown offers (a sample goal may be long).
        goals = tuple(values.get("goals") or ())
        rows = values.get("rows") or {}
        if not isinstance(rows, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in rows.values()):
            raise ValueError("rows is not a mapping of table ids to row counts")
        if len(goals) > 100 or not all(isinstance(goal, str) and len(goal) <= 200 for goal in goals):
            raise ValueError("goals")
        # A table is at most as long as the sheets are: the count cannot make work the file has not.
        longest = max((len(sheet.rows) for sheet in data.sheets.values()), default=0)
        rows = {str(k): min(v, longest) for k, v in rows.items()}
    except ParameterError as error:
        raise InputError(f"{data.path}: damaged {layout.META_SHEET} sheet: {error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"{data.path}: damaged {layout.META_SHEET} sheet: parameters unreadable ({error})") from None
    return dataclasses.replace(params, channels=tuple(channels), goals=goals), rows


def _params_from_structure(blueprint: Blueprint, data: reader.WorkbookData) -> Parameters | None:
    """Parameters read off the sheets themselves, when an app dropped the metadata."""
    for language, labels in blueprint.labels.items():
        names = [labels.get(sheet.title) for sheet in blueprint.sheets]
        if all(name in data.sheets for name in names):
            break
    else:
        return None
    labels = blueprint.labels[language]
    lists_sheet = data.sheets.get(labels.get("common.lists_sheet", "Lists"))
    # The Lists sheet heads each list with its label (or its id): channels, team, goals.
    heads = {labels.get(f"list.{item.id}", item.id): item.source for item in blueprint.lists if item.source}
    columns: dict[str, list[str]] = {}
    if lists_sheet is not None and lists_sheet.rows:
        for col, head in enumerate(lists_sheet.rows[0]):
            if head in heads:
                columns[heads[head]] = [
                    str(r[col]) for r in lists_sheet.rows[1:] if col < len(r) and r[col] not in (None, "")
                ]
    year, month = _first_month(data)
    try:
        params = make_parameters(
            company=_company(data, names[0]) or "Your company",
            year=year,
            start_month=month,
            channels=columns.get("channels") or None,
            team=columns.get("team") or None,
            goals=columns.get("goals") or None,
            channel_names=loader.load_channel_names(),
        )
    except ParameterError:
        return None
    return dataclasses.replace(params, language=language)


def _first_month(data: reader.WorkbookData) -> tuple[int, int]:
    """The first month header (a date in a grid's header row), else January of this year."""
    for sheet in data.sheets.values():
        for row in sheet.rows[:12]:
            for value in row[:6]:
                if isinstance(value, dt.date):
                    return value.year, value.month
    return dt.date.today().year, 1


def _company(data: reader.WorkbookData, first_sheet: str) -> str | None:
    subtitle = data.sheets[first_sheet].value(1, 0)
    if isinstance(subtitle, str) and " · " in subtitle:
        return subtitle.split(" · ")[0].strip() or None
    return None


def _sized_blueprint(blueprint: Blueprint, rows: dict[str, int]) -> Blueprint:
    """The blueprint with its tables of blank rows resized (a calendar of 100,000 posts)."""
    if not rows:
        return blueprint
    sheets = []
    for sheet in blueprint.sheets:
        blocks = []
        for block in sheet.blocks:
            if (
                isinstance(block, Table)
                and block.rows.source == "count"
                and block.id in rows
                and rows[block.id] != block.rows.count
            ):
                count = rows[block.id]
                if not 1 <= count <= 1_000_000:
                    raise InputError(f"table {block.id}: {count} rows is outside 1 to 1,000,000")
                block = dataclasses.replace(block, rows=dataclasses.replace(block.rows, count=count))
            blocks.append(block)
        sheets.append(dataclasses.replace(sheet, blocks=tuple(blocks)))
    return dataclasses.replace(blueprint, sheets=tuple(sheets))


# --------------------------------------------------------------------------- place


def _place(
    blueprint: Blueprint, params: Parameters, data: reader.WorkbookData
) -> tuple[layout.WorkbookPlan, CellMap, set[str]]:
    """The plan's formula text and placement, where its cells are in the file, and the tables
    of blank rows that were resized to the rows the file has."""
    plan = layout.build(blueprint, params, values=False)
    cells = CellMap(plan, data)
    longest = max((len(sheet.rows) for sheet in data.sheets.values()), default=0)
    grown = {block: min(count, max(longest, 1)) for block, count in _table_sizes(plan, cells).items()}
    if grown:  # people added (or removed) rows of a table of blank rows: they are its rows
        plan = layout.build(_sized_blueprint(blueprint, grown), params, values=False)
        cells = CellMap(plan, data)
    return plan, cells, set(grown)


def _table_sizes(plan: layout.WorkbookPlan, cells: CellMap) -> dict[str, int]:
    """Tables of blank rows whose named columns now span more or fewer rows."""
    sizes: dict[str, int] = {}
    for placement in plan.items.values():
        store = placement.column
        if store is None:
            continue
        planned = (store.first_row, store.col, store.last_row, store.col)
        for before, after in cells.sheets[placement.sheet].grown:
            if before == planned:
                sizes[store.block_id] = after[2] - after[0] + 1
    return sizes


class _FileSource(layout.CellSource):
    """The file's inputs and replaced formulas, by planned cell, for the recomputation."""

    def __init__(self, book: Workbook):
        self.book = book

    def input(self, sheet: int, row: int, col: int) -> Any:
        return _formula_value(self.book.value(sheet, row, col))

    def override(self, sheet: int, row: int, col: int) -> Any:
        state = self.book.broken.get((sheet, row, col))
        if state is None:
            return layout.COMPUTE
        value = self.book.value(sheet, row, col)
        if state in (CHANGED, COUNTS_INSERTED) and value is None and not self.book.data.cached_values:
            return layout.COMPUTE  # nothing saved to go by: the blueprint's formula stands in
        return _formula_value(value)


def _formula_value(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return serial(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value


def _used_rows(book: Workbook) -> dict[str, set[int]]:
    """Rows of tables of blank rows where people filled in at least one input."""
    used: dict[str, set[int]] = {}
    for placement in book.plan.items.values():
        store = placement.column
        if store is None or placement.role != "input":
            continue
        rows = used.setdefault(store.block_id, set())
        for i in range(len(store.values)):
            if i not in rows and book.value(placement.sheet, store.first_row + i, store.col) not in (None, ""):
                rows.add(i)
    return used


# --------------------------------------------------------------------------- findings


def _file_findings(data: reader.WorkbookData, cells: CellMap, how: str) -> Iterator[Finding]:
    if data.has_macros:
        yield finding("macros", "the file contains macros (vbaProject.bin); smm-sheets workbooks have none")
    for target in data.external_links:
        yield finding("external-links", f"the file links to another workbook: {target}")
    if how == "structure":
        yield finding("structure-only", "the hidden _smm sheet is gone: blueprint and parameters read off the sheets")
    if all(s.formulas is None for s in data.sheets.values()):
        yield finding(
            "formulas-not-read",
            f"formulas are not read from .{data.format} files: values are checked, formulas are not",
        )
    elif not data.cached_values:
        yield finding(
            "no-cached-values", "saved by a tool that does not calculate: figures are recomputed from the inputs"
        )
    if cells.names_found == 0:
        yield finding(
            "names-missing",
            "the file has none of the workbook's defined names: cells are taken where the blueprint put them",
        )
    for sheet in cells.sheets:
        if sheet.name not in data.sheets:
            yield finding(
                "sheet-missing",
                f"the sheet {sheet.planned_name!r} is gone: its inputs count as blank",
                sheet.planned_name,
            )
            continue
        for name in sheet.lost:
            yield finding("rows-deleted", f"the cells named {name} were deleted", sheet.name)
        for row in sorted(sheet.deleted_rows):
            yield finding(
                "rows-deleted",
                f"planned row {row + 1} (its label is gone) was deleted: its figures count as blank",
                sheet.name,
            )
        if sheet.columns_changed:
            yield finding(
                "columns-changed",
                "columns were inserted into or deleted from a named range: months and measures may be read from the wrong columns",
                sheet.name,
            )
        for col in sheet.inserted_cols:
            yield finding(
                "columns-changed",
                f"column {column_letter(col)} was inserted among the months: its figures belong to no month (the sheet's own year totals may count them)",
                sheet.name,
                f"{column_letter(col)}1",
                severity="warning",
            )


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


def _blueprint_checks(book: Workbook) -> Iterator[Finding]:
    """The blueprint's own checks (``report.checks``): a finding wherever ``when`` holds."""
    evaluator = book.computed.evaluator
    fields = book.plan.blueprint.fields()
    for check in book.plan.blueprint.report.checks:
        placement = book.plan.items.get(check.field)
        if placement is None:
            continue
        store = placement.column
        used = book.used_rows.get(store.block_id) if store is not None else None
        for coords, row, col in placement_cells(placement):
            if used is not None and coords["row"][1] not in used or book.gone(placement.sheet, row):
                continue
            result = evaluator.value(check.when, coords, placement.sheet)
            if result is True or (isinstance(result, float) and result != 0 and not isinstance(result, bool)):
                name, where = book.ref(placement.sheet, row, col)
                yield Finding(
                    check.code,
                    check.severity,
                    name,
                    where,
                    _message(check.message, evaluator, coords, placement.sheet, fields),
                )


_PLACEHOLDER = re.compile(r"\{(\w+)\}")


@functools.cache
def _reference(name: str) -> tuple:
    """``{name}`` parsed once: compiled formulas are kept by tree."""
    return fx.parse("{" + name + "}")


def _message(template: str, evaluator: layout.Evaluator, coords: dict, sheet: int, fields: dict) -> str:
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


def _chains(book: Workbook) -> Iterator[Finding]:
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
        for line, (month, sheet, row, col) in first_break.items():
            name, where = book.ref(sheet, row, col)
            message = chain.message.replace("{line}", str(line_names.get(line, line))).replace("{month}", months[month])
            yield Finding(chain.code, "error", name, where, message)


# --------------------------------------------------------------------------- totals


_ROW_NAMES = {"months": "month", "lines": "line", "categories": "category", "channels": "channel"}


def compute_totals(blueprint: Blueprint, plan: layout.WorkbookPlan) -> dict[str, Any]:
    """The blueprint's figures (``report.totals`` and ``report.tables``), from the recomputed plan."""
    evaluator = plan.evaluator
    totals: dict[str, Any] = {}
    for measure in blueprint.report.totals:
        totals[measure.id] = _number(evaluator.value(measure.formula, {}))
    for table in blueprint.report.tables:
        rows = evaluator.rows(table.rows)
        frame = pd.DataFrame(
            [{m.id: _number(evaluator.value(m.formula, coords)) for m in table.columns} for coords, _ in rows],
            index=pd.Index([label for _, label in rows], name=_ROW_NAMES[table.rows]),
            columns=[m.id for m in table.columns],
        )
        totals[table.id] = frame
    return totals


def _number(value: Any) -> Any:
    if isinstance(value, fx.ExcelError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if value not in ("",) else None
    return float(value)


# --------------------------------------------------------------------------- one client's set


def _facts(book: Workbook) -> tuple[dict[str, list[str]], dict[str, dict[str, tuple[str, str]]]]:
    """The values of the blueprint's ``report.facts`` fields, which :func:`check_set` compares,
    and the first cell of each value."""
    facts: dict[str, list[str]] = {}
    where: dict[str, dict[str, tuple[str, str]]] = {}
    for fact, field_id in book.plan.blueprint.report.facts.items():
        placement = book.plan.items.get(field_id)
        if placement is None:
            continue
        first: dict[str, tuple[str, str]] = {}
        for _, row, col in placement_cells(placement):
            value = book.value(placement.sheet, row, col)
            if value not in (None, "") and str(value) not in first:
                first[str(value)] = book.ref(placement.sheet, row, col)
        facts[fact] = sorted(first)
        where[fact] = first
    return facts, where


def _client_sets(reports: list[FileReport]) -> list[list[FileReport]]:
    groups: dict[str, list[FileReport]] = {}
    for report in reports:
        groups.setdefault(os.path.dirname(os.path.abspath(report.file)), []).append(report)
    return [group for group in groups.values() if len({r.blueprint_id for r in group}) > 1]


def check_set(group: list[FileReport]) -> None:
    """Across one client's workbooks: the same channels, team, year and start month; initiatives
    the calendar names exist in the roadmap. Findings go to the workbook that disagrees."""
    keys = ("company", "year", "start_month", "channels", "team")
    reference = group[0]
    for report in group[1:]:
        for key in keys:
            mine, theirs = report.parameters.get(key), reference.parameters.get(key)
            if mine != theirs:
                report.findings.append(
                    finding(
                        "set-mismatch",
                        f"{key} is {_describe(mine)} here but {_describe(theirs)} in {Path(reference.file).name}",
                    )
                )
    initiatives = {v.casefold() for r in group for v in r.parameters.get("facts", {}).get("initiatives", [])}
    team = {person.casefold() for r in group for person in r.parameters.get("team", [])}
    for report in group:
        facts = report.parameters.get("facts", {})
        already = {(f.code, f.sheet, f.cell) for f in report.findings}
        for name in facts.get("initiatives_used", []) if initiatives else ():
            if name.casefold() not in initiatives:
                sheet, cell = report.fact_cells["initiatives_used"][name]
                report.findings.append(
                    finding(
                        "initiative-unknown", f"initiative {name!r} is not in the roadmap or the strategy", sheet, cell
                    )
                )
        for name in facts.get("owners_used", []):
            sheet, cell = report.fact_cells["owners_used"][name]
            if name.casefold() not in team and ("owner-not-on-team", sheet, cell) not in already:
                report.findings.append(
                    finding("owner-not-on-team", f"owner {name!r} is on no workbook's team", sheet, cell)
                )


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v[1]) if isinstance(v, list) else str(v) for v in value) or "none"
    return str(value)
