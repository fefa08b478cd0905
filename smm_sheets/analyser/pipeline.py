"""The analyser pipeline: read a filled-in workbook back against its blueprint.

Stages, each a function you can call alone: :func:`smm_sheets.analyser.reader.read` (the file as
data), :func:`recognise` (which blueprint and parameters made it), :func:`analyse_data` (placement;
the steps whose results the checks share: broken formulas, inserted rows, the recomputation; the
checks of :data:`CHECKS`, in order; totals) and :func:`analyse` (files and folders, and the checks
across one client's set of workbooks).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from smm_sheets import plan as layout
from smm_sheets.analyser import reader
from smm_sheets.analyser.cellmap import CellMap
from smm_sheets.analyser.checks.blueprint import check_chains, check_report_rules
from smm_sheets.analyser.checks.file import check_file
from smm_sheets.analyser.checks.formulas import check_formulas, compare_formulas, counting_formulas
from smm_sheets.analyser.checks.inputs import check_inputs
from smm_sheets.analyser.checks.sets import check_set, client_sets, report_facts
from smm_sheets.analyser.checks.structure import (
    check_inserted_rows,
    check_rows_below_tables,
    check_sheets,
    inserted_rows,
)
from smm_sheets.analyser.checks.values import check_stale_values
from smm_sheets.analyser.checks.workbook import CHANGED, COUNTS_INSERTED, Workbook, used_rows
from smm_sheets.analyser.findings import Finding, finding
from smm_sheets.analyser.report import FileFailure, FileReport, Report
from smm_sheets.analyser.totals import compute_totals
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint, Table
from smm_sheets.blueprint.params import Channel, Parameters, make_parameters
from smm_sheets.errors import InputError, ParameterError, SmmSheetsError
from smm_sheets.sheetref import serial

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
    for group in client_sets(report.reports):
        for file_report, found in check_set(group):
            file_report.findings.append(found)
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
    """Analyse a workbook already read (see :func:`smm_sheets.analyser.reader.read`)."""
    blueprint, params, how = recognise(data)
    plan, cells, resized = _place(blueprint, params, data)
    blueprint = plan.blueprint
    book = Workbook(data, plan, cells, resized=resized, recognised_by=how)
    # The steps whose results the checks share, each computed once before they run: the broken
    # formulas (the recomputation takes their saved values), the inserted rows, the used rows.
    formulas = compare_formulas(book)
    book.formula_findings = formulas.findings
    book.inserted = inserted_rows(book)
    book.broken = formulas.broken | counting_formulas(book, book.inserted, formulas.broken)
    book.used_rows = used_rows(book)
    book.computed = layout.build(blueprint, params, _FileSource(book))
    findings: list[Finding] = [found for check in CHECKS for found in check(book)]
    facts, fact_cells = report_facts(book)
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


def _check_blueprint_version(book: Workbook) -> Iterator[Finding]:
    """``blueprint-version``: the workbook was made with another version of its blueprint."""
    # The properties, else the _smm sheet (some apps drop custom properties).
    data, blueprint = book.data, book.plan.blueprint
    made_with = data.properties.get("smm_blueprint_version") or (_meta_sheet(data) or {}).get("blueprint_version")
    if made_with and made_with != blueprint.version:
        yield finding(
            "blueprint-version",
            f"made with {blueprint.id} {made_with}, analysed against {blueprint.version}: cells may have moved",
        )


# The checks of one workbook, in the order of its findings (the reports are compared byte for byte).
CHECKS: tuple[Callable[[Workbook], Iterable[Finding]], ...] = (
    check_file,
    check_sheets,
    _check_blueprint_version,
    check_formulas,
    check_stale_values,
    check_inputs,
    check_inserted_rows,
    check_rows_below_tables,
    check_report_rules,
    check_chains,
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
