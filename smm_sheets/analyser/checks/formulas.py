"""Formula checks: the plan's formulas compared with the file's.

The comparison is a step of its own (:func:`compare_formulas`, then :func:`counting_formulas`),
run before the checks: the recomputation and later checks need to know which formula cells are
broken. :func:`check_formulas` reports what the comparison found.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from smm_sheets.analyser.cellmap import formula_ranges
from smm_sheets.analyser.checks.labels import field_label, planned_cell_facts
from smm_sheets.analyser.checks.workbook import (
    CHANGED,
    COUNTS_INSERTED,
    MISSING,
    OVERWRITTEN,
    InsertedRow,
    Workbook,
    saved_repr,
)
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.plan import WorkbookPlan
from smm_sheets.sheetref import a1

# Google Sheets exports formulas it has and Excel lacks as IFERROR(__xludf.DUMMYFUNCTION("..."), value).
_GOOGLE = re.compile(r'^IFERROR\(__xludf\.DUMMYFUNCTION\("((?:[^"]|"")*)"\),', re.IGNORECASE)
_PREFIXES = re.compile(r"_xlfn\.|_xlws\.|_xludf\.", re.IGNORECASE)
_QUOTED_SHEET = re.compile(r"'((?:[^']|'')+)'!")
_SPACE = re.compile(r"\s+")
_STRINGS = re.compile(r'("(?:[^"]|"")*")')
_PLAIN_NAME = re.compile(r"[A-Za-z0-9_]+")
_SIMPLE_QUOTED_SHEET = re.compile(r"(?<!')'([A-Za-z0-9_]+)'!")


def canonical(text: str) -> str:
    """A formula's text as compared: no ``=``, no export wrappers or prefixes, case and spacing
    normalised outside string literals, sheet names unquoted."""
    text = text.strip().removeprefix("=")
    wrapped = _GOOGLE.match(text)
    if wrapped is not None:
        text = wrapped.group(1).replace('""', '"').strip().removeprefix("=")
    parts = _STRINGS.split(text)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(part)
        else:
            part = _PREFIXES.sub("", _SPACE.sub("", part)).upper()
            out.append(_QUOTED_SHEET.sub(lambda m: m.group(1).replace("''", "'") + "!", part))
    return "".join(out)


def _same_unquoted(actual: str, expected: str, plain_names: tuple[str, ...]) -> bool:
    """Is ``actual`` ``expected`` with its plain sheet names unquoted, as LibreOffice saves them?

    A shortcut for :func:`canonical` (slower, per part) in that common case. Only names of
    letters, digits and ``_`` lose their quotes, outside string literals (``(?<!')``: never a
    quote inside a quoted name), which changes nothing canonical() looks at: equal here means
    equal there. Not equal here decides nothing. ``plain_names`` (the workbook's plain sheet
    names) are unquoted with str.replace when no quote can be inside a name or a string.
    """
    text = expected[1:]
    parts = _STRINGS.split(text) if '"' in text else [text]
    if "''" not in text and not any("'" in literal for literal in parts[1::2]):
        for name in plain_names:
            text = text.replace(f"'{name}'!", f"{name}!")
        return text == actual
    parts[::2] = [_SIMPLE_QUOTED_SHEET.sub(r"\1!", part) for part in parts[::2]]
    return "".join(parts) == actual


def planned_formulas(plan: WorkbookPlan) -> Iterator[tuple[int, int, int, str, str]]:
    """(sheet, row, col, owner, formula text) of every formula cell of a plan."""
    for s, sheet in enumerate(plan.sheets):
        for (row, col), cell in sheet.cells.placed.items():
            if cell.kind == "formula" and cell.formula is not None:
                yield s, row, col, cell.owner or "", cell.formula
        for store in sheet.stores:
            if store.kind == "formula" and store.texts is not None:  # None: a plan built without text
                for i, text in enumerate(store.texts):
                    yield s, store.first_row + i, store.col, store.field.id, text


@dataclass
class FormulaComparison:
    """The plan's formulas compared with the file's."""

    # Formula cells whose formula is gone or different, by planned (sheet, row, col): MISSING, OVERWRITTEN or CHANGED.
    broken: dict[tuple[int, int, int], str]
    # formula-missing, formula-overwritten and formula-changed, in the order of the plan.
    findings: list[Finding]


def compare_formulas(book: Workbook) -> FormulaComparison:
    """Which planned formulas the file lost (rows inserted without them, overwritten) or changed.

    Args:
        book: the file, its plan (with the formulas' text) and the cell map.

    Returns:
        The broken cells and the findings about them (none when the format's formulas are not read).
    """
    broken: dict[tuple[int, int, int], str] = {}
    findings: list[Finding] = []
    if not any(s.formulas is not None for s in book.data.sheets.values()):
        return FormulaComparison(broken, findings)
    findings.extend(_rows_without_formulas(book, broken))
    plain_names = tuple(sheet.name for sheet in book.cells.sheets if _PLAIN_NAME.fullmatch(sheet.name))
    unmoved = book.cells.identity  # every formula's text stands as planned
    current = None
    for s, row, col, owner, text in planned_formulas(book.plan):
        if s != current:  # the formulas come sheet by sheet: each sheet is looked up once
            current, where = s, book.cells.sheets[s]
            sheet_name, deleted, in_place = where.name, where.deleted_rows, where.identity
            sheet = book.data.sheets.get(sheet_name)
            formulas = sheet.formulas if sheet is not None else None
        if formulas is None or row in deleted or broken.get((s, row, col)) == MISSING:
            continue
        r, c = (row, col) if in_place else where.locate(row, col)
        actual = formulas.get((r, c))
        planned = text if unmoved else book.cells.translate(text, s)
        if actual == planned:
            continue
        expected = "=" + planned
        where_a1 = a1(r, c)
        if actual is None:
            value = sheet.value(r, c)
            broken[(s, row, col)] = OVERWRITTEN
            facts = planned_cell_facts(book, s, row, col, owner) | {"expected": expected}
            blank = value is None or value == ""
            if not blank:
                facts["found"] = saved_repr(value)
            key = "formula-overwritten.blank" if blank else "formula-overwritten"
            findings.append(say("formula-overwritten", facts, sheet_name, where_a1, key=key))
        elif not _same_unquoted(actual, expected, plain_names) and canonical(actual) != canonical(expected):
            broken[(s, row, col)] = CHANGED
            facts = planned_cell_facts(book, s, row, col, owner) | {"expected": expected, "found": "=" + actual}
            findings.append(say("formula-changed", facts, sheet_name, where_a1))
    return FormulaComparison(broken, findings)


def _rows_without_formulas(book: Workbook, broken: dict[tuple[int, int, int], str]) -> Iterator[Finding]:
    """Rows inserted into a table of blank rows get no formulas from the app: one warning per
    row, and their formula cells count as blank (as the app shows them), not as overwritten
    (marked MISSING in ``broken``)."""
    for sheet_plan in book.plan.sheets:
        stores = {}
        for store in sheet_plan.stores:
            if store.kind == "formula" and store.block_id in book.resized:
                stores.setdefault(store.block_id, []).append(store)
        for columns in stores.values():
            first = columns[0]
            s = first.sheet
            for i in range(len(first.values)):
                cells = [(s, store.first_row + i, store.col) for store in columns]
                if all(book.formula(*cell) is None and book.value(*cell) in (None, "") for cell in cells):
                    for cell in cells:
                        broken[cell] = MISSING
                    name, r, c = book.file_cell(*cells[0])
                    names = [field_label(book.plan, store.field) for store in columns]
                    yield say("formula-missing", {"row": r + 1, "fields": names}, name, a1(r, c))


def counting_formulas(
    book: Workbook, inserted: dict[int, list[InsertedRow]], broken: dict[tuple[int, int, int], str]
) -> dict[tuple[int, int, int], str]:
    """Formulas whose ranges grew over inserted rows count them: their saved values stand
    (the blueprint's lines do not include those rows).

    Args:
        book: the file and its plan.
        inserted: rows inserted among the plan's rows (:func:`~.structure.inserted_rows`).
        broken: the cells :func:`compare_formulas` found broken (they are not looked at again).

    Returns:
        Those formula cells, by planned (sheet, row, col), each COUNTS_INSERTED.
    """
    counting: dict[tuple[int, int, int], str] = {}
    if not inserted or not book.data.cached_values:
        return counting
    rows_by_sheet = {
        book.cells.sheets[s].name: [(row.row, c) for row in rows for c in row.cols] for s, rows in inserted.items()
    }
    for s, row, col, _, _ in planned_formulas(book.plan):
        if (s, row, col) in broken:
            continue
        text = book.formula(s, row, col)
        if text is None:
            continue
        here = book.cells.sheets[s].name
        for ref_sheet, (r1, c1, r2, c2) in formula_ranges(text):
            if r1 != r2 and any(r1 <= r <= r2 and c1 <= c <= c2 for r, c in rows_by_sheet.get(ref_sheet or here, ())):
                counting[(s, row, col)] = COUNTS_INSERTED
                break

    return counting


def check_formulas(book: Workbook) -> Iterator[Finding]:
    """``formula-missing``, ``formula-overwritten`` and ``formula-changed``: what :func:`compare_formulas` found."""
    yield from book.formula_findings
