"""Template names to cells: which rectangles ``{name@modifier}`` means in a cell at given
coordinates, and their A1 text.

References resolve by *context*: a cell sits at coordinates such as ``{line, category, month}``,
and ``{planned}`` there means the cells of ``planned`` that agree on the coordinates both share.
The cells a reference picks must form rectangles, which become plain A1 ranges.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

from smm_sheets.errors import InputError
from smm_sheets.plan.cells import Placement, WorkbookPlan
from smm_sheets.plan.expand import Expanded
from smm_sheets.sheetref import column_letter, quote_sheet

Rect = tuple[int, int, int, int]  # r1, c1, r2, c2 (0-based, inclusive)


class Rects(list):
    """A list of rectangles (as opposed to a list of cells still to be covered); ``texts`` keeps
    its A1 text as formulas on its own sheet (True) and on another (False) write it: a grid's
    group of cells is referred to by many formulas."""

    __slots__ = ("texts",)

    def __init__(self, rects: list[Rect]):
        super().__init__(rects)
        self.texts: dict[bool, str] = {}


class Resolver:
    """Resolves references among a plan's placements; remembers each field's cells grouped by
    the coordinates asked for, so that the many cells of one formula column look up quickly."""

    def __init__(self, plan: WorkbookPlan, expanded: Expanded, groups: dict[tuple, tuple] | None = None):
        """``groups``: the ``groups`` of a Resolver of the same placement (see :func:`~smm_sheets.plan.evaluate`)."""
        self.plan = plan
        self.x = expanded
        # A copy: the groups of a kept plan (plan.cache) are shared, and read only.
        self._index: dict[tuple, tuple] = dict(groups) if groups is not None else {}
        self._resolved: dict[tuple, tuple[int, list[Rect]]] = {}  # (name, modifier, coords) -> resolve()
        # Remember what resolve() gave cells of a grid (the evaluator's templates, once the
        # plan's own formulas are computed: those ask once for each).
        self.remember = False

    def clear(self) -> None:
        """Forget what :meth:`resolve` gave so far (memory); from now on, remember what it
        gives a grid's cells. (The cells grouped by coordinates stay: a table's rows are never
        grouped, so they are as many as the cells placed one by one, at most a few times over.)"""
        self._resolved.clear()
        self.remember = True

    @property
    def groups(self) -> dict[tuple, tuple]:
        """The cells of each field grouped by the coordinates asked for, so far."""
        return self._index

    def resolve(self, name: str, modifier: str | None, coords: dict, owner: str) -> tuple[int, list[Rect]]:
        """The sheet and the rectangles that ``{name@modifier}`` means in a cell at ``coords``.

        Args:
            name: a field (or ``field.total``) of the plan.
            modifier: None, ``all`` (every cell), ``prev`` (the month before), ``last`` (the last month) or ``every`` (a
                grid measure's value for every month, in its year column).
            coords: the coordinates of the cell the reference stands in.
            owner: the field the reference belongs to, for messages.

        Returns:
            (sheet index, rectangles).

        Raises:
            InputError: the field has no cells there.
        """
        placement = self.plan.items[name]
        store = placement.column
        if store is None and self.remember and "row" not in coords:
            # A grid's cells (not a table's rows, which resolve quickly and may be 100,000):
            # the analyser's checks and totals ask for the same references cell after cell.
            key = (name, modifier, tuple(coords.items()))
            found = self._resolved.get(key)
            if found is None:
                found = self._resolved[key] = self._resolve_cells(placement, name, modifier, coords, owner)
            return found
        if store is not None:
            # A table of blank rows: the same row from within the table, else the whole column.
            row = coords.get("row")
            if modifier != "all" and row is not None and row[0] == store.block_id:
                r = store.first_row + row[1]
                return placement.sheet, [(r, store.col, r, store.col)]
            return placement.sheet, [(store.first_row, store.col, store.last_row, store.col)]
        return self._resolve_cells(placement, name, modifier, coords, owner)

    def _resolve_cells(
        self, placement: Placement, name: str, modifier: str | None, coords: dict, owner: str
    ) -> tuple[int, list[Rect]]:
        """:meth:`resolve` of a field placed cell by cell."""
        if not placement._cells:
            raise InputError(f"{self.x.blueprint.source}: {owner}: {{{name}}} has no cells in this workbook")
        if modifier == "all":
            coords = {}
        elif modifier is not None:
            month = coords["month"] - 1 if modifier == "prev" else 12 if modifier == "every" else 11
            coords = dict(coords, month=month)
        key = (name, tuple(coords))
        found = self._index.get(key)
        if found is None:
            dims = [d for d in coords if d in placement._cells[0][0]]
            pick = itemgetter(*dims) if dims else (lambda _: ())
            groups: dict[Any, list] = {}
            for cell_coords, row, col in placement._cells:
                groups.setdefault(pick(cell_coords), []).append((row, col))
            found = self._index[key] = (pick, groups)
        pick, groups = found
        wanted = pick(coords)
        rects = groups.get(wanted)
        if rects is not None and not isinstance(rects, Rects):
            # Cells become rectangles on first use: many groups are never asked for.
            rects = groups[wanted] = Rects(rectangles(rects))
        if not rects:
            raise InputError(f"{self.x.blueprint.source}: {owner}: {{{name}}} has no cells where {owner} uses it")
        return placement.sheet, rects


def rectangles(cells: list[tuple[int, int]]) -> list[Rect]:
    """Cover cells with rectangles: runs within a row, stacked while the column span holds.

    Args:
        cells: distinct (row, col) pairs.

    Returns:
        Rectangles (r1, c1, r2, c2) that cover exactly those cells.
    """
    if len(cells) == 1:
        row, col = cells[0]
        return [(row, col, row, col)]
    rows = [row for row, _ in cells]
    cols = [col for _, col in cells]
    r1, r2, c1, c2 = min(rows), max(rows), min(cols), max(cols)
    if (r2 - r1 + 1) * (c2 - c1 + 1) == len(cells):  # cells are distinct, so they fill the box
        return [(r1, c1, r2, c2)]
    by_row: dict[int, list[int]] = {}
    for row, col in cells:
        by_row.setdefault(row, []).append(col)
    runs: list[tuple[int, int, int]] = []
    for row in sorted(by_row):
        cols = sorted(by_row[row])
        start = prev = cols[0]
        for col in cols[1:]:
            if col != prev + 1:
                runs.append((row, start, prev))
                start = col
            prev = col
        runs.append((row, start, prev))
    rects: list[list[int]] = []
    for row, c1, c2 in runs:
        last = rects[-1] if rects else None
        if last and last[2] == row - 1 and last[1] == c1 and last[3] == c2:
            last[2] = row
        else:
            rects.append([row, c1, row, c2])
    return [tuple(rect) for rect in rects]


def _a1(row: int, col: int, absolute: bool = False, anchor_columns: bool = False) -> str:
    mark = "$" if absolute else ""
    return f"{'$' if absolute or anchor_columns else ''}{column_letter(col)}{mark}{row + 1}"


def a1_range(
    sheet: str | None, r1: int, c1: int, r2: int, c2: int, absolute: bool = False, anchor_columns: bool = False
) -> str:
    """The A1 text of a rectangle.

    Args:
        sheet: the sheet name to prefix (quoted as needed), or None for the formula's own sheet.
        absolute: ``$A$1`` references.
        anchor_columns: ``$A1`` references (columns fixed, rows relative).

    Returns:
        ``A1``, ``A1:B2`` or ``'Sheet name'!A1:B2``.
    """
    start = _a1(r1, c1, absolute, anchor_columns)
    text = start if (r1, c1) == (r2, c2) else f"{start}:{_a1(r2, c2, absolute, anchor_columns)}"
    if sheet is None:
        return text
    return quote_sheet(sheet) + "!" + text
