"""The analyser pipeline: read a filled-in workbook back against its blueprint.

Stages, each a function you can call alone: :func:`smm_sheets.analyser.reader.read` (the file as
data), :func:`~smm_sheets.analyser.recognise.recognise` (which blueprint and parameters made it), :func:`analyse_data` (placement;
the steps whose results the checks share: broken formulas, inserted rows, the recomputation; the
checks of :data:`CHECKS`, in order; totals) and :func:`analyse` (files and folders, and the checks
across one client's set of workbooks).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from smm_sheets.analyser import reader, walk
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
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.analyser.isolated import analyse_each_isolated
from smm_sheets.analyser.recognise import meta_sheet, recognise, sized_blueprint
from smm_sheets.analyser.report import FileFailure, FileReport, Report
from smm_sheets.analyser.totals import compute_totals
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters
from smm_sheets.errors import SmmSheetsError
from smm_sheets.plan import COMPUTE, CellSource, WorkbookPlan, evaluate, meta_parameters, placed
from smm_sheets.processes import IsolationLimits
from smm_sheets.sheetref import serial

SPREADSHEET_SUFFIXES = walk.SPREADSHEET_SUFFIXES


def analyse(
    paths: str | Path | Iterable[str | Path], language: str | None = None, isolation: IsolationLimits | None = None
) -> Report:
    """Analyse workbooks: files, or folders searched for spreadsheets (sub-folders too).

    Workbooks found in one folder are taken as one client's set and also checked against each
    other (channels, team, year, initiatives).

    Args:
        paths: files and folders.
        language: the findings' language (en, fi, lv, mk, nb); default: each workbook's own.
        isolation: read and analyse each file in a child process under these limits (see
            :mod:`smm_sheets.analyser.isolated`); None: in this process.

    Returns:
        A :class:`~smm_sheets.report.Report`; a file that cannot be analysed at all is one of
        its ``failures``, not an exception.

    Raises:
        InputError: a path that does not exist, or a folder without spreadsheets.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    report = Report(language=language)
    files, report.skipped = walk.spreadsheet_files(paths)
    if isolation is not None:  # one child reads file after file; one that crashes it is its failure
        for path, outcome in analyse_each_isolated(files, isolation, language):
            if isinstance(outcome, SmmSheetsError):
                report.failures.append(FileFailure(str(path), str(outcome)))
            else:
                report.reports.append(outcome)
    else:
        for path in files:
            try:
                report.reports.append(analyse_file(path, language))
            except SmmSheetsError as error:
                report.failures.append(FileFailure(str(path), str(error)))
    for group in client_sets(report.reports):
        for file_report, found in check_set(group):
            file_report.findings.append(found.in_language(file_report.language))
    return report


def spreadsheet_files(paths: Iterable[str | Path]) -> list[Path]:
    """The files named, and the spreadsheets in the folders named (see :mod:`.walk`)."""
    return walk.spreadsheet_files(paths)[0]


def analyse_file(path: str | Path, language: str | None = None) -> FileReport:
    """Read one workbook and analyse it (findings in ``language``, default the workbook's).

    Raises:
        FileError: the file cannot be read (not a spreadsheet, encrypted, a zip or XML bomb).
        InputError: it is not a workbook smm-sheets made, or its metadata is damaged.
    """
    return analyse_data(reader.read(path), language)


def analyse_data(data: reader.WorkbookData, language: str | None = None) -> FileReport:
    """Analyse a workbook already read (see :func:`smm_sheets.analyser.reader.read`)."""
    return analyse_book(data, language)[1]


def analyse_book(data: reader.WorkbookData, language: str | None = None) -> tuple[Workbook, FileReport]:
    """Analyse a workbook already read, and keep what the checks read (``smm-sheets fix`` works from it).

    Args:
        data: the file as data.
        language: the findings' language; default: the workbook's.
    """
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
    book.computed = evaluate(plan, _FileSource(book))  # the same placement, the file's inputs
    findings: list[Finding] = [found for check in CHECKS for found in check(book)]
    facts, fact_cells = report_facts(book)
    language = language or params.language
    if language != "en":  # say() words them in English
        findings = [found.in_language(language) for found in findings]
    return book, FileReport(
        file=str(data.path),
        blueprint_id=blueprint.id,
        blueprint_version=blueprint.version,
        findings=findings,
        totals=compute_totals(blueprint, book.computed),
        parameters=meta_parameters(params, blueprint) | {"facts": facts},
        fact_cells=fact_cells,
        recognised_by=how,
        application=data.application,
        language=language,
        cells_checked=sum(len(p.column.values) if p.column is not None else len(p._cells) for p in plan.items.values()),
    )


def _check_blueprint_version(book: Workbook) -> Iterator[Finding]:
    """``blueprint-version``: the workbook was made with another version of its blueprint."""
    # The properties, else the _smm sheet (some apps drop custom properties).
    data, blueprint = book.data, book.plan.blueprint
    made_with = data.properties.get("smm_blueprint_version") or (meta_sheet(data) or {}).get("blueprint_version")
    if made_with and made_with != blueprint.version:
        yield say("blueprint-version", {"found": made_with, "expected": blueprint.version})


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


# --------------------------------------------------------------------------- place


def _place(
    blueprint: Blueprint, params: Parameters, data: reader.WorkbookData
) -> tuple[WorkbookPlan, CellMap, set[str]]:
    """The plan's formula text and placement, where its cells are in the file, and the tables
    of blank rows that were resized to the rows the file has."""
    plan = placed(blueprint, params)
    cells = CellMap(plan, data)
    longest = max((len(sheet.rows) for sheet in data.sheets.values()), default=0)
    grown = {block: min(count, max(longest, 1)) for block, count in _table_sizes(plan, cells).items()}
    # Already placed at that size (recognise() bounds the metadata's counts by the rows the file
    # has, as here): placing it again would make the same plan and the same map.
    if grown and grown != {block: count for block, count in _row_counts(plan).items() if block in grown}:
        # people added (or removed) rows of a table of blank rows: they are its rows
        plan = placed(sized_blueprint(blueprint, grown), params)
        cells = CellMap(plan, data)
    return plan, cells, set(grown)


def _row_counts(plan: WorkbookPlan) -> dict[str, int]:
    """The rows of each table of blank rows as placed."""
    return {p.column.block_id: len(p.column.values) for p in plan.items.values() if p.column is not None}


def _table_sizes(plan: WorkbookPlan, cells: CellMap) -> dict[str, int]:
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


class _FileSource(CellSource):
    """The file's inputs and replaced formulas, by planned cell, for the recomputation."""

    def __init__(self, book: Workbook):
        self.book = book

    def input(self, sheet: int, row: int, col: int) -> Any:
        return _formula_value(self.book.value(sheet, row, col))

    def inputs(self, sheet: int, first_row: int, col: int, count: int) -> list[Any]:
        # Most values are as formulas see them (a table's column may be 100,000 rows).
        return [
            value if value.__class__ in _AS_THEY_ARE else _formula_value(value)
            for value in self.book.column(sheet, first_row, col, count)
        ]

    def overrides(self, sheet: int, first_row: int, col: int, count: int) -> dict[int, Any]:
        # Only the broken formula cells have an override: those of this column, not every row.
        last_row = first_row + count - 1
        found = {}
        for s, row, c in self.book.broken:
            if s == sheet and c == col and first_row <= row <= last_row:
                value = self.override(s, row, c)
                if value is not COMPUTE:
                    found[row - first_row] = value
        return found

    def override(self, sheet: int, row: int, col: int) -> Any:
        state = self.book.broken.get((sheet, row, col))
        if state is None:
            return COMPUTE
        value = self.book.value(sheet, row, col)
        if state in (CHANGED, COUNTS_INSERTED) and value is None and not self.book.data.cached_values:
            return COMPUTE  # nothing saved to go by: the blueprint's formula stands in
        return _formula_value(value)


_AS_THEY_ARE = frozenset({float, str, bool, type(None)})  # the classes _formula_value leaves alone


def _formula_value(value: Any) -> Any:
    if isinstance(value, dt.timedelta):
        return serial(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    return value
