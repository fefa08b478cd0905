"""The workbook plan as plain data: cells, column stores, sheets, placements, charts.

Nothing here computes: :mod:`.place` fills these objects, :mod:`.compute` fills in the formulas'
text and values, and the generator and the analyser read them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import Blueprint, Field
from smm_sheets.blueprint.params import Parameters

if TYPE_CHECKING:
    from smm_sheets.plan.compute import Evaluator

META_SHEET = "_smm"
NAME_PREFIX = "smm_"
LIST_PREFIX = "list_"
# Grid sheets: group, row label and measure label, then the months, then the year.
GRID_LABEL_COLUMNS = 3
# The items of a spare line's label: typed where the line first appears, copied into its other rows.
LINE_LABEL, LINE_LABEL_COPY = "line_label", "line_label_copy"

TODO = object()  # a formula row of a column store not computed yet


class Style(NamedTuple):
    """How the renderer formats a cell: its ``role`` (title, input, formula, na...) and the field
    type whose number format it takes (``""`` for none: headers, labels)."""

    role: str
    field_type: str = ""


@functools.cache
def style(role: str, field_type: str = "") -> Style:
    """The one :class:`Style` of a role and field type, shared by every cell that has it: a plan has
    a few dozen styles over up to millions of cells, and a tuple per cell would be memory and work
    for the garbage collector."""
    return Style(role, field_type)


class Cell:
    """One cell of the plan: ``kind`` is text, input or formula; ``style`` tells the renderer how."""

    __slots__ = ("kind", "style", "value", "formula", "tree", "coords", "owner", "refs")

    def __init__(self, kind: str, style: Style, value: Any = None):
        self.kind, self.style, self.value = kind, style, value
        self.formula: str | None = None
        self.tree: tuple | None = None
        self.coords: dict | None = None
        self.owner: str | None = None
        # A formula's references resolved to cells by the text pass (Mode.TEXT), for the values pass.
        self.refs: dict | None = None


@dataclass
class ChartPlan:
    """A chart: its series and categories as absolute A1 ranges, anchored at (row, col)."""

    type: str
    title: str
    categories: str
    series: list[tuple[str, str]]
    row: int
    col: int
    y_axis: str | None = None
    # Number format of the values axis (the first series' type).
    y_format: str | None = None
    # Number format of the months on the category axis.
    x_format: str = "mmm yyyy"


class ColumnStore:
    """A column of a table of blank rows (posts, tasks...), kept as lists, not one Cell per row.

    A calendar can have 100,000 posts: one object per cell would not fit in memory.
    ``values`` holds the inputs (or, for a formula column, the computed values) and
    ``texts`` the formulas' A1 text, row by row.
    """

    __slots__ = ("sheet", "col", "first_row", "block_id", "field", "kind", "style", "values", "texts", "tree", "_range")

    def __init__(
        self, sheet: int, col: int, first_row: int, block_id: str, item: Field, kind: str, style: Style, values: list
    ):
        self.sheet, self.col, self.first_row, self.block_id = sheet, col, first_row, block_id
        self.field, self.kind, self.style, self.values = item, kind, style, values
        self.texts: list[str | None] | None = [None] * len(values) if kind == "formula" else None
        self.tree: tuple | None = None
        # The whole column as one Range, made once by the computation (see Computation.column_range).
        self._range: fx.Range | None = None

    @property
    def last_row(self) -> int:
        return self.first_row + len(self.values) - 1

    def view(self, index: int) -> Cell:
        """A read-only Cell of one row (for tests and tools; the renderer reads the lists)."""
        cell = Cell(self.kind if self.kind != "constant" else "text", self.style, self.values[index])
        cell.formula = self.texts[index] if self.texts is not None else None
        cell.owner = self.field.id
        return cell


class SheetCells:
    """A sheet's cells by (row, col): the cells placed one by one, and the rows of column stores.

    ``placed`` is the plain dict of cells placed one by one (what the renderer and the analyser
    walk; the stores' rows are read from their lists). Indexing, ``get``, ``items`` and
    ``values`` see every cell, a store's rows as read-only views (:meth:`ColumnStore.view`).
    """

    __slots__ = ("placed", "stores")

    def __init__(self, stores: list[ColumnStore]):
        self.placed: dict[tuple[int, int], Cell] = {}
        self.stores = stores

    def __setitem__(self, key: tuple[int, int], cell: Cell) -> None:
        self.placed[key] = cell

    def __getitem__(self, key: tuple[int, int]) -> Cell:
        found = self.placed.get(key)
        if found is not None:
            return found
        row, col = key
        for store in self.stores:
            if store.col == col and store.first_row <= row <= store.last_row:
                return store.view(row - store.first_row)
        raise KeyError(key)

    def get(self, key: tuple[int, int], default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default

    def __contains__(self, key: object) -> bool:
        return self.get(key) is not None

    def __len__(self) -> int:
        return len(self.placed) + sum(len(store.values) for store in self.stores)

    def __iter__(self) -> Iterator[tuple[int, int]]:
        """Every cell's (row, col), the rows of column stores included."""
        yield from self.placed
        for store in self.stores:
            for row in range(store.first_row, store.last_row + 1):
                yield row, store.col

    def items(self) -> Iterator[tuple[tuple[int, int], Cell]]:
        """Every cell, the rows of column stores included (as views)."""
        yield from self.placed.items()
        for store in self.stores:
            for index in range(len(store.values)):
                yield (store.first_row + index, store.col), store.view(index)

    def values(self) -> Iterator[Cell]:
        """Every cell, the rows of column stores included (as views)."""
        return (cell for _, cell in self.items())


@dataclass
class SheetPlan:
    """One sheet: its cells and column stores, layout (widths, freeze, print) and rules."""

    name: str
    stores: list[ColumnStore] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    validations: list[tuple[int, int, int, int, dict]] = field(default_factory=list)
    # Conditional formats: (r1, c1, r2, c2, formula for the top-left cell, style)
    highlights: list[tuple[int, int, int, int, str, str]] = field(default_factory=list)
    charts: list[ChartPlan] = field(default_factory=list)
    freeze: tuple[int, int] | None = None
    repeat_rows: tuple[int, int] | None = None
    repeat_size: int = 0  # rows of the table whose header repeat_rows is
    hidden: bool = False
    protect: bool = True
    # Protection options people keep (insert_rows, sort...): the blueprint sheet's allows.
    allows: tuple[str, ...] = ()
    landscape: bool = True
    # The blueprint fixes the orientation (``landscape:`` on the sheet); else the generator picks it.
    print_fixed: bool = False
    # The sheet the workbook opens on and prints first, wherever it stands in the plan (Start here).
    first: bool = False
    # Merged cells by first row: (r1, c1, r2, c2), the value and style those of the cell at (r1, c1).
    merges: dict[int, list[tuple[int, int, int, int]]] = field(default_factory=dict)
    next_row: int = 0
    last_col: int = 0
    print_rows: int = 0
    cells: SheetCells = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.cells = SheetCells(self.stores)

    def put(self, row: int, col: int, cell: Cell) -> Cell:
        """Place ``cell`` at (row, col) and return it."""
        self.cells.placed[(row, col)] = cell
        if col > self.last_col:
            self.last_col = col
        return cell

    def store_at(self, row: int, col: int) -> ColumnStore | None:
        """The column store holding (row, col), if any."""
        for store in self.stores:
            if store.col == col and store.first_row <= row <= store.last_row:
                return store
        return None


@dataclass
class Placement:
    """Where one blueprint field landed: its cells with their coordinates."""

    name: str
    field: Field
    sheet: int
    # input, formula, or label (row labels and month headers that formulas may refer to)
    role: str = "input"
    rects: list[tuple[int, int, int, int]] = field(default_factory=list)
    # A column of a table of blank rows: its cells are the store's rows.
    column: ColumnStore | None = None
    _cells: list[tuple[dict, int, int]] = field(default_factory=list)

    @property
    def cells(self) -> list[tuple[dict, int, int]]:
        """(coordinates, row, col) of every cell (made on demand for a column store)."""
        store = self.column
        if store is None:
            return self._cells
        return [({"row": (store.block_id, i)}, store.first_row + i, store.col) for i in range(len(store.values))]

    def dims(self) -> set[str]:
        """The coordinates its cells have (month, line, channel, row...)."""
        return {"row"} if self.column is not None else set(self._cells[0][0]) if self._cells else set()


@dataclass
class WorkbookPlan:
    """The whole plan: sheets, where each field landed, defined names, document properties."""

    blueprint: Blueprint
    params: Parameters
    sheets: list[SheetPlan]
    items: dict[str, Placement]
    names: dict[str, str]
    properties: dict[str, str]
    number_formats: dict[str, str]
    # The plan's values, for templates that stand in no cell (the analyser's totals and checks):
    # a separate object, made by build() when it computes values; the plan itself holds no planner.
    evaluator: Evaluator | None = None
    # The blueprint filled with the parameters, kept by a plan of formula text only
    # (``build(values=False)``): :func:`~smm_sheets.plan.evaluate` computes its values from it.
    expanded: Any = field(default=None, repr=False)
    # With it, the cells of each field grouped by coordinates (:class:`~smm_sheets.plan.resolve.Resolver`),
    # which the evaluation of the same placement finds again rather than groups again.
    cell_groups: dict | None = field(default=None, repr=False)
    # With it, each sheet's input and formula cells ((row, col), cell): the cells evaluate() replaces.
    live_cells: list[list[tuple[tuple[int, int], Cell]]] | None = field(default=None, repr=False)
