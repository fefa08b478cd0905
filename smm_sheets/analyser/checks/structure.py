"""Structure checks: sheets and rows that are gone, columns inserted or deleted, rows inserted
among the plan's rows, and rows typed below a table."""

from __future__ import annotations

from collections.abc import Iterator

from smm_sheets.analyser.cellmap import formula_ranges
from smm_sheets.analyser.checks.labels import field_label, row_label
from smm_sheets.analyser.checks.workbook import InsertedRow, Workbook
from smm_sheets.analyser.findings import Finding, say
from smm_sheets.sheetref import a1, column_letter


def check_sheets(book: Workbook) -> Iterator[Finding]:
    """``sheet-missing``, ``rows-deleted`` and ``columns-changed``, sheet by sheet."""
    data = book.data
    for sheet in book.cells.sheets:
        if sheet.name not in data.sheets:
            yield say("sheet-missing", {"sheet": sheet.planned_name}, sheet.planned_name)
            continue
        for name in sheet.lost:
            yield say("rows-deleted", _named_facts(book, name), sheet.name, key="rows-deleted.cells")
        for row in sorted(sheet.deleted_rows):
            s = book.cells.sheets.index(sheet)
            label = row_label(book, s, row)
            yield say(
                "rows-deleted",
                {"line": label} if label else {"row": row + 1},
                sheet.name,
                key="rows-deleted" if label else "rows-deleted.row",
            )
        if sheet.columns_changed:
            yield say("columns-changed", {}, sheet.name)
        for col in sheet.inserted_cols:
            yield say(
                "columns-changed",
                {"column": column_letter(col)},
                sheet.name,
                f"{column_letter(col)}1",
                severity="warning",
                key="columns-changed.inserted",
            )


def inserted_rows(book: Workbook) -> dict[int, list[InsertedRow]]:
    """Rows people inserted among the plan's rows that hold numbers (a step before the checks).

    Args:
        book: the file, its plan and the cell map.

    Returns:
        Planned sheet -> the inserted rows: file row, the columns of its numbers, its label.
    """
    found: dict[int, list[InsertedRow]] = {}
    for s, where in enumerate(book.cells.sheets):
        sheet = book.data.sheets.get(where.name)
        if sheet is None or not where.rows.known:
            continue
        images = set(where.rows.known.values())
        formulas = sheet.formulas or {}
        below = _table_end(book, s)
        for row in range(min(images), min(max(images) + 2, len(sheet.rows))):
            if row in images or (below is not None and row > below):
                continue
            numbers = tuple(
                c
                for c, v in enumerate(sheet.rows[row])
                if isinstance(v, (int, float)) and not isinstance(v, bool) and (row, c) not in formulas
            )
            if numbers:
                # Its label cells: the text left of its first number (a spare line's label
                # column is one the plan names, so the plan's columns cannot tell them).
                label = " · ".join(v.strip() for v in sheet.rows[row][: numbers[0]] if isinstance(v, str) and v.strip())
                found.setdefault(s, []).append(InsertedRow(row, numbers, label))
    return found


def _table_end(book: Workbook, s: int) -> int | None:
    """The file row of the last row of the sheet's table of blank rows, if it has one."""
    ends = [store.last_row for store in book.plan.sheets[s].stores]
    if not ends:
        return None
    return book.file_cell(s, max(ends), 0)[1]


def check_rows_below_tables(book: Workbook) -> Iterator[Finding]:
    """``rows-below-table``: posts or tasks typed below their table count nowhere."""
    for s, plan_sheet in enumerate(book.plan.sheets):
        if not plan_sheet.stores or book.gone(s, plan_sheet.stores[0].first_row):
            continue
        name = book.cells.sheets[s].name
        sheet = book.data.sheets[name]
        # Below everything the plan put on the sheet (blocks may follow a table).
        end = max([_table_end(book, s)] + list(book.cells.sheets[s].rows.known.values()))
        columns = [book.file_cell(s, store.first_row, store.col)[2] for store in plan_sheet.stores]
        first_col, last_col = min(columns), max(columns)
        rows = [
            r
            for r in range(end + 1, len(sheet.rows))
            if any(v not in (None, "") for v in sheet.rows[r][first_col : last_col + 1])
        ]
        if rows:
            where = a1(rows[0], first_col)
            yield say("rows-below-table", {"row": rows[0] + 1, "count": len(rows)}, name, where)


def check_inserted_rows(book: Workbook) -> Iterator[Finding]:
    """``total-misses-rows``: an inserted row with amounts that no formula of the sheet counts
    (an error), or that the workbook's totals count but the blueprint's lines do not (a warning;
    an info for a labelled line: the totals take it as the sheet does)."""
    for s, rows in book.inserted.items():
        name = book.cells.sheets[s].name
        sheet = book.data.sheets[name]
        covered: list[tuple[int, int, int, int]] = []
        if sheet.formulas:
            covered = [
                rect
                for text in set(sheet.formulas.values())
                for ref_sheet, rect in formula_ranges(text)
                if ref_sheet in (None, name)
            ]
        for inserted in rows:
            row, col = inserted.row, inserted.cols[0]
            counted = [
                c
                for c in inserted.cols
                if any(r1 <= row <= r2 and c1 <= c <= c2 and r1 != r2 for r1, c1, r2, c2 in covered)
            ]
            if counted and inserted.label:
                # A line added with its labels: the totals count it as the workbook's sums do.
                yield say(
                    "total-misses-rows",
                    {"row": row + 1, "line": inserted.label},
                    name,
                    a1(row, col),
                    severity="info",
                    key="total-misses-rows.added",
                )
            elif counted:
                yield say(
                    "total-misses-rows",
                    {"row": row + 1},
                    name,
                    a1(row, col),
                    severity="warning",
                    key="total-misses-rows.counted",
                )
            else:
                yield say("total-misses-rows", {"row": row + 1}, name, a1(row, col))


def _named_facts(book: Workbook, name: str) -> dict[str, str]:
    """A defined name that lost its cells, as the field it marks (``name`` stays among the facts)."""
    for placement in sorted(book.plan.items.values(), key=lambda p: -len(p.name)):
        if name in (placement.name, f"smm_{placement.name}") or name.startswith(f"smm_{placement.name}_"):
            return {"field": field_label(book.plan, placement.field), "name": name}
    return {"field": name.removeprefix("smm_").replace("_", " "), "name": name}
