"""A corrected workbook from a filled-in one: read it against its plan (the analyser), carry every
input over to a workbook built from the current blueprint (the generator), and note on its cells
what is still wrong.

Stages: :class:`Carry` (the file's inputs as a :class:`~smm_sheets.plan.CellSource`, types
repaired where the meaning is certain, next year's clearing), :func:`~smm_sheets.plan.build`
(formulas restored, their values computed), one analysis of the result for the findings that
remain, and :func:`~smm_sheets.generator.xlsx.write_annotated` (comments, highlights and a
listing sheet, written atomically).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.analyser import reader
from smm_sheets.analyser.checks.inputs import read_date, read_number
from smm_sheets.analyser.checks.labels import cell_facts
from smm_sheets.analyser.checks.workbook import Workbook
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.analyser.messages import text as words
from smm_sheets.analyser.pipeline import analyse_book, spreadsheet_files
from smm_sheets.analyser.recognise import sized_blueprint
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.catalogs import COMMON_SECTION, catalogs
from smm_sheets.blueprint.model import NUMERIC_TYPES, Blueprint, Field, Table
from smm_sheets.errors import BlueprintError, FileError, InputError
from smm_sheets.generator import xlsx
from smm_sheets.locale_data import LANGUAGES
from smm_sheets.plan import COMPUTE, META_SHEET, CellSource, Placement, WorkbookPlan, build
from smm_sheets.sheetref import a1, cell_position, date_of_serial

# Findings about what the new workbook does not take over from the old one.
NOT_CARRIED = {"total-misses-rows", "rows-below-table", "columns-changed", "formula-changed", "formula-overwritten"}
# The budget's carry into another year: with the blueprint option OPENING_OPTION on, each line's
# OPENING_FIELD takes the CARRIED_FIELD of its last month whose REPORTED_FIELD is filled in.
OPENING_OPTION, OPENING_FIELD, CARRIED_FIELD, REPORTED_FIELD = "opening_balance", "opening", "surplus", "actual"


@dataclass
class FixResult:
    """What ``fix`` wrote for one workbook.

    Attributes:
        source: the workbook read (never changed).
        target: the workbook written.
        repaired: the inputs whose type was repaired: sheet, cell, what was typed, what it is now.
        not_carried: what the new workbook could not take over, one line each (in the report's language).
        findings: what is still wrong in the new workbook (each a comment on its cell).
        opening: with another year, what the new workbook's opening balance holds (the budget's
            option ``opening_balance``): each advertising line's surplus carried out of its last
            reported month, a deficit negative, by the line's name; empty for other workbooks.
        kept: where a replaced ``target`` that was not this same workbook (someone may have
            worked on it) was copied first, ``<name>.kept-YYYYMMDD-HHMMSS.xlsx``; else None.
    """

    source: Path
    target: Path
    blueprint_id: str
    year: int
    repaired: list[dict[str, Any]] = field(default_factory=list)
    not_carried: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    opening: dict[str, float] = field(default_factory=dict)
    kept: Path | None = None


def fix_paths(
    paths: str | Path | Iterable[str | Path],
    out_dir: str | Path,
    *,
    year: int | None = None,
    next_year: bool = False,
    language: str | None = None,
    force: bool = False,
) -> list[FixResult]:
    """Fix workbooks (files, or folders searched for spreadsheets) into ``out_dir``.

    Args:
        paths: workbooks or folders.
        out_dir: the folder to write ``<name>.xlsx`` into (created if missing); never one of the inputs.
        year: write the plan for this year instead (lines, team, goals and targets kept; actuals
            and dated posts cleared).
        next_year: the year after each workbook's.
        language: the findings' language; default the workbook's.
        force: replace files in ``out_dir``.

    Returns:
        One result per workbook, in order.

    Raises:
        InputError: a path that does not exist, a workbook that is not one of ours, an output onto an input.
        FileError: a file cannot be read or written.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    sources = spreadsheet_files(paths)
    out = Path(out_dir)
    targets = [out / f"{source.stem}.xlsx" for source in sources]
    inputs = {_same(source) for source in sources}
    for source, target in zip(sources, targets):
        if _same(target) in inputs:
            raise InputError(f"{target}: the output would replace an input; choose another folder with -o")
        if target.exists() and not force:
            raise FileError(f"{target} exists; use --force to replace it")
    if len(set(targets)) < len(targets):
        raise InputError("two workbooks have the same name: fix them into different folders")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(f"cannot create {out}: {error.strerror}") from None
    return [
        fix_file(source, target, year=year, next_year=next_year, language=language)
        for source, target in zip(sources, targets)
    ]


def fix_file(
    source: str | Path,
    target: str | Path,
    *,
    year: int | None = None,
    next_year: bool = False,
    language: str | None = None,
) -> FixResult:
    """Fix one workbook into ``target`` (see :func:`fix_paths`)."""
    source, target = Path(source), Path(target)
    if _same(source) == _same(target):
        raise InputError(f"{target}: the output would replace the input")
    book, report = analyse_book(reader.read(source), language)
    language = report.language
    params = book.plan.params
    new_year = params.year + 1 if next_year else (year or params.year)
    if not 2000 <= new_year <= 2100:
        raise InputError(f"year must be between 2000 and 2100, not {new_year}")
    carried = Carry(book, language, new_year - params.year)
    blueprint, options = _current(book.plan.blueprint), params.options
    opening: dict[str, float] | None = None
    if new_year != params.year and any(option.id == OPENING_OPTION for option in blueprint.options):
        opening = carried_out(book)
        options = {**options, OPENING_OPTION: "yes"}
    new_params = dataclasses.replace(params, year=new_year, sample=False, options=options)
    source_cells: CellSource = carried
    if opening is not None or blueprint is not book.plan.blueprint:
        source_cells = Moved(carried, book.plan, build(blueprint, new_params, values=False), opening)
    plan = build(blueprint, new_params, source_cells, text=True)
    result = FixResult(source, target, blueprint.id, new_year, carried.repaired)
    labels = {coords["line"]: label for coords, label in book.computed.evaluator.rows("lines")}
    result.opening = {labels.get(line, line): amount for line, amount in (opening or {}).items()}
    result.not_carried = _not_carried_lines(report.findings, language)
    result.not_carried += carried.dropped
    extra = sorted(set(book.data.sheets) - {sheet.name for sheet in book.cells.sheets} - {META_SHEET})
    listings = {_sheet_name(other) for other in LANGUAGES}  # the Findings sheet of an earlier fix
    listings |= {str(texts[COMMON_SECTION]["start.sheet"]) for texts in catalogs().values()}  # the generator's guide
    result.not_carried += [f"{name}: {words('fix.extra_sheet', language)}" for name in extra if name not in listings]
    result.not_carried += _typed_elsewhere(book, report.findings, language)
    marked = {(f.sheet, f.cell) for f in carried.ambiguous}
    remaining = [
        f for f in _remaining(plan, target, language) if not (f.code == "type-error" and (f.sheet, f.cell) in marked)
    ]
    result.findings = sorted(remaining + carried.ambiguous, key=Finding.sort_key)
    kept: dict[Path, Path] = {}
    xlsx.write_annotated(plan, target, _notes(result.findings, language), kept)
    result.kept = kept.get(target)
    return result


def _current(blueprint: Blueprint) -> Blueprint:
    """The current version of the built-in blueprint a workbook was read by: a workbook of an
    earlier version (read against blueprints/previous/) is written anew by the current one, its
    tables of blank rows as long as the workbook's."""
    try:
        current = loader.load(blueprint.id)
    except BlueprintError:
        return blueprint
    if current.version == blueprint.version:
        return blueprint
    rows = {
        block.id: block.rows.count
        for sheet in blueprint.sheets
        for block in sheet.blocks
        if isinstance(block, Table) and block.rows.source == "count"
    }
    return sized_blueprint(current, rows)


def _same(path: Path) -> Path:
    try:
        return path.resolve()
    except OSError:
        return path.absolute()


def _where(found: Finding) -> str:
    return f"{found.sheet}!{found.cell}: " if found.sheet and found.cell else f"{found.sheet}: " if found.sheet else ""


def _not_carried_lines(findings: list[Finding], language: str) -> list[str]:
    """What the new workbook does not take over, one line each; changed formulas counted per sheet
    (a row moved by a tool that does not move formulas changes hundreds)."""
    changed: dict[str, list[Finding]] = {}
    lines = []
    for found in findings:
        if found.code == "formula-changed":
            changed.setdefault(found.sheet or "", []).append(found)
        elif found.code in NOT_CARRIED:
            line = _not_carried(found, language)
            if line:
                lines.append(line)
    for sheet, group in changed.items():
        if len(group) == 1:
            lines.append(_not_carried(group[0], language) or "")
        else:
            lines.append(f"{sheet}: " + words("fix.formulas_replaced", language, count=len(group)))
    return lines


def _not_carried(found: Finding, language: str) -> str | None:
    """What the new workbook does not take over, as the finding about it says (a formula deleted
    and restored loses nothing)."""
    if found.code == "formula-overwritten":
        if "found" not in found.facts:
            return None
        return _where(found) + say(found.code, found.facts, key="fix.formula_restored").in_language(language).message
    if found.code == "formula-changed":
        return _where(found) + say(found.code, found.facts, key="fix.formula_replaced").in_language(language).message
    return _where(found) + found.message


def _typed_elsewhere(book: Workbook, findings: list[Finding], language: str) -> list[str]:
    """What was typed where the new workbook takes nothing from: over a label or heading (the
    blueprint's text comes back), and in cells outside every planned cell (a column or rows of
    one's own). Rows a finding above already names are left to it, and so is text the blueprint
    itself writes on that sheet (a label met at another row: rows moved without their formulas)."""
    named = {(f.sheet, cell_position(f.cell)[0]) for f in findings if f.code in NOT_CARRIED and f.cell}
    lines = []
    for index, planned in enumerate(book.plan.sheets):
        where = book.cells.sheets[index]
        data = book.data.sheets.get(where.name)
        if data is None or planned.name == META_SHEET:
            continue
        deleted = where.deleted_rows
        own = {cell.value for cell in planned.cells.placed.values() if cell.kind == "text"}
        mapped = set()
        for (row, col), cell in planned.cells.placed.items():
            if row in deleted:
                continue
            r, c = where.locate(row, col)
            mapped.add((r, c))
            typed = data.value(r, c)
            if cell.kind == "text" and isinstance(cell.value, str) and typed not in (None, "") and typed not in own:
                lines.append(
                    f"{where.name}!{a1(r, c)}: "
                    + words("fix.label_restored", language, found=_shown(typed), expected=cell.value)
                )
        for store in planned.stores:
            for row in range(store.first_row, store.last_row + 1):
                if row not in deleted:
                    mapped.add(where.locate(row, store.col))
        for r, values in enumerate(data.rows):
            if (where.name, r) in named:
                continue
            for c, typed in enumerate(values):
                if typed not in (None, "") and (r, c) not in mapped and typed not in own:
                    lines.append(f"{where.name}!{a1(r, c)}: " + words("fix.outside", language, found=_shown(typed)))
    return lines


def _shown(value: Any) -> str:
    return value.isoformat() if isinstance(value, (dt.date, dt.time)) else str(value)


def _sheet_name(language: str) -> str:
    return words("fix.sheet", language)


# --------------------------------------------------------------------------- carrying inputs over


class Carry(CellSource):
    """The file's inputs by planned cell, for :func:`~smm_sheets.plan.build`: typed values as
    they were, text repaired to numbers and dates where its meaning is certain; every formula
    computed again (never the file's).

    With ``years`` (``--next-year``): actuals (monthly inputs other than plans and targets) and
    dated posts are left blank, and other dates move on by that many years.
    """

    def __init__(self, book: Workbook, language: str, years: int = 0):
        self.book, self.language, self.years = book, language, years
        self.repaired: list[dict[str, Any]] = []
        self.dropped: list[str] = []
        self.ambiguous: list[Finding] = []
        self._fields: dict[tuple[int, int, int], tuple[Field, dict]] = {}
        for placement in book.plan.items.values():
            if placement.role == "input" and placement.column is None:
                for coords, row, col in placement._cells:
                    self._fields[(placement.sheet, row, col)] = (placement.field, coords)
        self._cleared_rows = self._dated_posts() if years else set()

    def override(self, sheet: int, row: int, col: int) -> Any:
        return COMPUTE

    def input(self, sheet: int, row: int, col: int) -> Any:
        found = self._fields.get((sheet, row, col))
        store = None
        if found is None:
            store = self.book.plan.sheets[sheet].store_at(row, col)
            if store is None:
                return None
            item, coords = store.field, {"row": (store.block_id, row - store.first_row)}
        else:
            item, coords = found
        if self.years and self._cleared(item, coords):
            return None
        value = self.book.value(sheet, row, col)
        if value is None or value == "":
            return None
        return self._typed(sheet, row, col, item, coords, value)

    def _cleared(self, item: Field, coords: dict) -> bool:
        """Next year: this year's actuals and dated posts are not carried."""
        if "month" in coords:
            return not item.id.startswith(("planned", "target"))
        row = coords.get("row")
        return row is not None and row in self._cleared_rows

    def _dated_posts(self) -> set[tuple[str, int]]:
        """Rows of tables of posts (a table with a channel column) that have a date."""
        plan = self.book.plan
        channel_lists = {item.id for item in plan.blueprint.lists if item.source == "channels"}
        posts = {
            p.column.block_id for p in plan.items.values() if p.column is not None and p.field.list in channel_lists
        }
        rows = set()
        for placement in plan.items.values():
            store = placement.column
            if store is None or store.block_id not in posts or placement.field.type != "date":
                continue
            for i in range(len(store.values)):
                if self.book.value(placement.sheet, store.first_row + i, store.col) not in (None, ""):
                    rows.add((store.block_id, i))
        return rows

    def _typed(self, sheet: int, row: int, col: int, item: Field, coords: dict, value: Any) -> Any:
        """The value as the new workbook holds it: text repaired where certain, dates moved on."""
        kind = item.type
        if isinstance(value, fx.ExcelError):
            self._drop(sheet, row, col, value.code)
            return None
        if isinstance(value, bool):
            return value
        if kind in NUMERIC_TYPES and isinstance(value, str):
            number, certain = read_number(value, self.language)
            if number is not None and certain:
                return self._repair(sheet, row, col, value, number)
            if number is not None:
                self._ambiguous(sheet, row, col, item, coords, value, number)
            return value
        if kind == "date":
            day = None
            if isinstance(value, str):
                day, certain = read_date(value, self.language)
                if day is not None and not certain:
                    self._ambiguous(sheet, row, col, item, coords, value, day)
                    return value
                if day is None:
                    return value
                self._repair(sheet, row, col, value, day)
            elif isinstance(value, dt.datetime):
                day = value.date()
            elif isinstance(value, dt.date):
                day = value
            elif isinstance(value, (int, float)) and value > 0 and date_of_serial(value):
                day = self._repair(sheet, row, col, value, date_of_serial(value))
            if day is None:
                return value
            return _move(day, self.years)
        if kind == "time":
            if isinstance(value, dt.timedelta):
                seconds = int(round(value.total_seconds())) % 86400
                return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
            if isinstance(value, dt.datetime):
                return value.time()
            if isinstance(value, float) and 0 <= value < 1:
                seconds = int(round(value * 86400)) % 86400
                return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
            return value
        if isinstance(value, int):
            return float(value)
        if isinstance(value, dt.datetime) and value.time() == dt.time(0):
            return value.date()
        return value

    def _repair(self, sheet: int, row: int, col: int, typed: Any, now: Any) -> Any:
        name, where = self.book.ref(sheet, row, col)
        self.repaired.append({"sheet": name, "cell": where, "found": typed, "now": now})
        return now

    def _drop(self, sheet: int, row: int, col: int, code: str) -> None:
        name, where = self.book.ref(sheet, row, col)
        self.dropped.append(f"{name}!{where}: {code}")

    def _ambiguous(self, sheet: int, row: int, col: int, item: Field, coords: dict, typed: str, meant: Any) -> None:
        """Text that may mean a number or a date, but not for certain: kept as typed, and marked."""
        name = self.book.plan.sheets[sheet].name
        facts = cell_facts(self.book, Placement(item.id, item, sheet), coords) | {"found": typed, "expected": meant}
        self.ambiguous.append(
            say("type-error", facts, name, a1(row, col), key="fix.ambiguous").in_language(self.language)
        )


class Moved(CellSource):
    """Inputs carried into another layout of the blueprint (an option that adds cells, such as
    the budget's opening balance; the current version of an earlier version's workbook): each
    cell of the new plan reads the old plan's cell of the same field and coordinates; the opening
    balance cells take ``opening`` (by line; blank for a line that carries nothing), never the
    old workbook's own opening balance.

    Args:
        carried: the old workbook's inputs, by the old plan's cells.
        old: the plan the workbook was read by.
        new: the new plan's placement (``build(..., values=False)``).
        opening: the opening balance of each line, by line id (None: the cells carried as typed).
    """

    def __init__(self, carried: CellSource, old: WorkbookPlan, new: WorkbookPlan, opening: dict[str, float] | None):
        self.carried = carried
        self._cells: dict[tuple[int, int, int], tuple[int, int, int] | None] = {}
        self._given: dict[tuple[int, int, int], float | None] = {}
        found = {
            (name, _key(coords)): (placement.sheet, row, col)
            for name, placement in old.items.items()
            if placement.role == "input" and placement.column is None
            for coords, row, col in placement._cells
        }
        for name, placement in new.items.items():
            if placement.role != "input" or placement.column is not None:
                continue
            for coords, row, col in placement._cells:
                self._cells[(placement.sheet, row, col)] = found.get((name, _key(coords)))
                if name == OPENING_FIELD and opening is not None:
                    self._given[(placement.sheet, row, col)] = opening.get(coords.get("line"))
        self._old_stores = {(s.block_id, s.field.id): s for sheet in old.sheets for s in sheet.stores}
        self._new = new

    def override(self, sheet: int, row: int, col: int) -> Any:
        return COMPUTE

    def input(self, sheet: int, row: int, col: int) -> Any:
        if (sheet, row, col) in self._given:
            return self._given[(sheet, row, col)]
        if (sheet, row, col) in self._cells:
            old = self._cells[(sheet, row, col)]
            return None if old is None else self.carried.input(*old)
        store = self._new.sheets[sheet].store_at(row, col)
        old_store = self._old_stores.get((store.block_id, store.field.id)) if store is not None else None
        index = row - store.first_row if store is not None else 0
        if old_store is None or index >= len(old_store.values):
            return None
        return self.carried.input(old_store.sheet, old_store.first_row + index, old_store.col)


def _key(coords: dict) -> tuple:
    return tuple(sorted(coords.items()))


def carried_out(book: Workbook) -> dict[str, float]:
    """Each line's carry-over out of its last reported month (its ``surplus`` there; a deficit is
    negative), by line id: the opening balance of the year after. Lines never reported carry nothing."""
    computed = book.computed
    carried, reported = computed.items.get(CARRIED_FIELD), computed.items.get(REPORTED_FIELD)
    if carried is None or reported is None:
        return {}
    evaluator = computed.evaluator
    surplus = fx.parse("{" + CARRIED_FIELD + "}")
    # A month is reported once its actual is filled in (the sheet's rule: blank carries nothing).
    spent = {
        (coords.get("line"), coords.get("month")): book.value(reported.sheet, row, col)
        for coords, row, col in reported.cells
    }
    last: dict[str, tuple[int, float]] = {}
    for coords, _, _ in carried.cells:
        line, month = coords.get("line"), coords.get("month")
        if line is None or month is None or month > 11 or spent.get((line, month)) in (None, ""):
            continue
        value = evaluator.value(surplus, coords, carried.sheet)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and month >= last.get(line, (-1, 0))[0]:
            last[line] = (month, float(value))
    return {line: amount for line, (_, amount) in last.items()}


def _move(day: dt.date, years: int) -> dt.date:
    """A date ``years`` later (29 February becomes the 28th)."""
    if not years:
        return day
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


# --------------------------------------------------------------------------- what remains


def _remaining(plan: WorkbookPlan, target: Path, language: str) -> list[Finding]:
    """The findings of the new workbook: it is written to a temporary file beside the target and analysed."""
    handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".check.xlsx", dir=target.parent)
    os.close(handle)
    try:
        xlsx.render(plan, temporary)
        _, report = analyse_book(reader.read(temporary), language)
    except OSError as error:
        raise FileError(f"cannot write to {target.parent}: {error.strerror or error}") from None
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return report.sorted_findings()


def _notes(findings: list[Finding], language: str) -> xlsx.Notes:
    """A comment and a highlight per cell with findings, and the listing sheet."""
    notes = xlsx.Notes(
        sheet=_sheet_name(language),
        headers=tuple(words(f"report.{head}", language) for head in ("sheet", "cell", "severity", "code", "message")),
    )
    by_cell: dict[tuple[str, int, int], list[Finding]] = {}
    for found in findings:
        position = cell_position(found.cell) if found.cell else None
        if found.sheet and position is not None:
            by_cell.setdefault((found.sheet, *position), []).append(found)
        notes.rows.append(
            (found.sheet, found.cell, words(f"severity.{found.severity}", language), found.code, found.message)
        )
    for (sheet, row, col), found in by_cell.items():
        worst = "error" if any(f.severity == "error" for f in found) else found[0].severity
        notes.cells.append((sheet, row, col, "\n".join(f.message for f in found), worst))
    return notes
