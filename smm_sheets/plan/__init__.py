"""Place a blueprint on cells: the workbook plan, with every formula's value computed.

This is the one place that decides where blueprint items go. The generator renders the plan
(:mod:`smm_sheets.render`); the analyser will read filled-in workbooks back with the same
placement. Pipeline: :func:`expand` (blueprint + parameters -> the concrete rows, lists and
texts), :func:`build` (placement, formula text, cached values).

References in formula templates resolve by *context*: a cell sits at coordinates such as
``{line, category, month}``, and ``{planned}`` there means the cells of ``planned`` that
agree on the coordinates both share: in a line's February cell, that line's February
planned amount; in a category's February cell, the February column of that category's
lines; in a cell with no month, the whole row. The cells a reference picks must form one
rectangle, which becomes a plain A1 range.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any

from smm_sheets import __version__
from smm_sheets import formula as fx
from smm_sheets.blueprint.model import NUMERIC_TYPES, Blueprint, Field, Form, Grid, Rows, Table
from smm_sheets.blueprint.params import Parameters
from smm_sheets.errors import InputError
from smm_sheets.locale_data import date_format, locale_tag, money_format, month_names
from smm_sheets.sheetref import column_letter, quote_sheet, serial

META_SHEET = "_smm"
NAME_PREFIX = "smm_"
LIST_PREFIX = "list_"
# Grid sheets: group, row label and measure label, then the months, then the year.
GRID_LABEL_COLUMNS = 3

Coords = tuple  # sorted ((dimension, value), ...)


class Cell:
    """One cell of the plan: ``kind`` is text, input or formula; ``style`` tells the renderer how."""

    __slots__ = ("kind", "style", "value", "formula", "tree", "coords", "owner")

    def __init__(self, kind: str, style: str, value: Any = None):
        self.kind, self.style, self.value = kind, style, value
        self.formula: str | None = None
        self.tree: tuple | None = None
        self.coords: dict | None = None
        self.owner: str | None = None


@dataclass
class ChartPlan:
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
        self, sheet: int, col: int, first_row: int, block_id: str, item: Field, kind: str, style: str, values: list
    ):
        self.sheet, self.col, self.first_row, self.block_id = sheet, col, first_row, block_id
        self.field, self.kind, self.style, self.values = item, kind, style, values
        self.texts: list[str | None] | None = [None] * len(values) if kind == "formula" else None
        self.tree: tuple | None = None
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


class _CellMap(dict):
    """A sheet's cells by (row, col); the rows of column stores are looked up on demand."""

    stores: list[ColumnStore]

    def __missing__(self, key: tuple[int, int]) -> Cell:
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

    def items(self) -> Iterator[tuple[tuple[int, int], Cell]]:  # type: ignore[override]
        """Every cell, the rows of column stores included (as views)."""
        yield from dict.items(self)
        for store in self.stores:
            for index in range(len(store.values)):
                yield (store.first_row + index, store.col), store.view(index)

    def values(self) -> Iterator[Cell]:  # type: ignore[override]
        return (cell for _, cell in self.items())


@dataclass
class SheetPlan:
    name: str
    cells: dict[tuple[int, int], Cell] = field(default_factory=_CellMap)
    stores: list[ColumnStore] = field(default_factory=list)
    widths: dict[int, float] = field(default_factory=dict)
    heights: dict[int, float] = field(default_factory=dict)
    validations: list[tuple[int, int, int, int, dict]] = field(default_factory=list)
    # Conditional formats: (r1, c1, r2, c2, formula for the top-left cell, style)
    highlights: list[tuple[int, int, int, int, str, str]] = field(default_factory=list)
    charts: list[ChartPlan] = field(default_factory=list)
    freeze: tuple[int, int] | None = None
    repeat_rows: tuple[int, int] | None = None
    hidden: bool = False
    protect: bool = True
    landscape: bool = True
    next_row: int = 0
    last_col: int = 0
    print_rows: int = 0

    def __post_init__(self) -> None:
        self.cells.stores = self.stores

    def put(self, row: int, col: int, cell: Cell) -> Cell:
        self.cells[(row, col)] = cell
        self.last_col = max(self.last_col, col)
        return cell

    def store_at(self, row: int, col: int) -> ColumnStore | None:
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
    blueprint: Blueprint
    params: Parameters
    sheets: list[SheetPlan]
    items: dict[str, Placement]
    names: dict[str, str]
    properties: dict[str, str]
    number_formats: dict[str, str]
    # Evaluates further templates over this plan's values (the analyser's totals and checks).
    evaluator: Evaluator | None = None


@dataclass
class ExpandedLine:
    id: str
    label: str
    category: str
    sample: dict[str, Any]


@dataclass
class Expanded:
    """The blueprint filled with parameters: texts, months, lines, list values."""

    blueprint: Blueprint
    params: Parameters
    options: dict[str, str]
    labels: dict[str, str]
    placeholders: dict[str, str]
    months: list[str]
    lines: list[ExpandedLine]
    categories: list[tuple[str, str]]
    lists: dict[str, list[str]]
    # Lists of fields: the field's sample values, for samples that pick from them by index.
    field_samples: dict[str, list[str]] = field(default_factory=dict)

    def text(self, key: str) -> str:
        return self.labels[key].format_map(self.placeholders)


# --------------------------------------------------------------------------- stage 1: expand


def expand(blueprint: Blueprint, params: Parameters) -> Expanded:
    """Fill the blueprint with parameters: labels in the language, months, lines, lists.

    Raises:
        InputError: an option override that the blueprint does not define.
    """
    for key, value in params.options.items():
        option = next((o for o in blueprint.options if o.id == key), None)
        if option is None:
            known = ", ".join(o.id for o in blueprint.options) or "none"
            raise InputError(f"blueprint {blueprint.id} has no option {key!r} (options: {known})")
        if value not in option.choices:
            raise InputError(f"option {key} must be one of {', '.join(option.choices)}, not {value!r}")
    options = blueprint.option_values(params.options)
    labels = blueprint.labels.get(params.language)
    if labels is None:
        offered = ", ".join(blueprint.labels)
        raise InputError(
            f"blueprint {blueprint.id} has no texts in language {params.language!r} (languages: {offered})"
        )
    names = month_names(params.language)
    months = [f"{names[month - 1]} {year}" for year, month in params.months()]
    placeholders = {
        "company": params.company,
        "year": str(params.year),
        "currency": params.currency,
        "first_month": months[0],
        "last_month": months[-1],
        "carry_over": labels.get(f"option.carry_over.{options.get('carry_over')}", options.get("carry_over", "")),
    }
    lines: list[ExpandedLine] = []
    categories = []
    for category in blueprint.categories:
        categories.append((category.id, labels[category.label]))
        if category.lines_from == "channels":
            lines.extend(
                ExpandedLine(f"{category.id}_{channel.id}", channel.name, category.id, category.sample)
                for channel in params.channels
            )
        else:
            lines.extend(ExpandedLine(line.id, labels[line.label], category.id, line.sample) for line in category.lines)
    sources = {
        "channels": [c.name for c in params.channels],
        "team": list(params.team),
        "months": months,
        "categories": [text for _, text in categories],
        "goals": list(params.goals),
    }
    # Lists of fields live in those fields' cells, not on the lists sheet.
    lists = {
        item.id: sources[item.source] if item.source else [labels[v] for v in item.values]
        for item in blueprint.lists
        if item.field is None
    }
    fields = blueprint.fields()
    field_samples = {
        item.id: [labels.get(v, v) for v in fields[item.field].sample if isinstance(v, str)]
        for item in blueprint.lists
        if item.field is not None and isinstance(fields[item.field].sample, list)
    }
    return Expanded(blueprint, params, options, labels, placeholders, months, lines, categories, lists, field_samples)


# --------------------------------------------------------------------------- stage 2: place


class CellSource:
    """What a filled-in workbook holds, by *planned* cell: the analyser's view for :func:`build`.

    ``input`` is the value in an input cell (None when blank). ``override`` is the constant
    that replaced a formula (or the value of a formula someone changed), else :data:`COMPUTE`.
    """

    def input(self, sheet: int, row: int, col: int) -> Any:  # pragma: no cover - an interface
        raise NotImplementedError

    def override(self, sheet: int, row: int, col: int) -> Any:  # pragma: no cover - an interface
        raise NotImplementedError


COMPUTE = object()  # CellSource.override: compute the blueprint's formula


def build(
    blueprint: Blueprint, params: Parameters, source: CellSource | None = None, values: bool = True
) -> WorkbookPlan:
    """Place every item of the blueprint and compute every formula's value.

    Args:
        source: inputs (and replaced formulas) read from a filled-in workbook; without it the
            inputs are blank, or the samples with ``params.sample``.
        values: False makes the formulas' text only, not their values.

    Returns:
        The plan the renderer writes, and the placement the analyser reads by.

    Raises:
        InputError: the blueprint's formulas cannot be placed (a reference that is not a
            rectangle where it is used, a circular reference between cells).
    """
    planner = _Planner(expand(blueprint, params), source, values)
    for sheet in blueprint.sheets:
        planner.place_sheet(sheet)
    planner.place_lists()
    planner.finish_formulas()
    planner.finish_highlights()
    planner.place_validations_and_names()
    planner.place_meta()
    if values:
        planner.plan.evaluator = Evaluator(planner)
    return planner.plan


class Evaluator:
    """Formula templates evaluated in a built plan, as if they stood in a cell at ``coords``."""

    def __init__(self, planner: _Planner):
        self._planner = planner

    def value(self, tree: tuple, coords: dict, sheet: int = 0) -> Any:
        """The value of a parsed template (``formula.parse``) at ``coords`` (e.g. ``{"month": 2}``).

        A field with no cells at ``coords`` (the carry-over of a line that has none) is blank.
        """
        planner = self._planner
        planner.lenient = True
        try:
            row = coords.get("row")
            if row is not None and len(coords) == 1 and not planner.with_text:
                return planner.row_value(tree, sheet, row[0], row[1], "report")
            return planner.compute(sheet, tree, coords, "report")[1]
        finally:
            planner.lenient = False

    @property
    def lists(self) -> dict[str, list[str]]:
        """The dropdown lists' values, as the workbook shows them (list id -> values)."""
        return self._planner.x.lists

    def rows(self, source: str) -> list[tuple[dict, str]]:
        """(coordinates, label) of each row of ``source``: months, lines, categories or channels."""
        return [(coords, label) for coords, label, _, _, _ in self._planner.rows(Rows(source), "report")]


class _Planner:
    def __init__(self, expanded: Expanded, source: CellSource | None = None, values: bool = True):
        self.x = expanded
        self.source = source
        self.with_values = values
        # The analyser's recomputation needs values only: the text comes from its first plan.
        self.with_text = source is None
        self.lenient = False
        self._row_memo: dict[tuple[int, str], Any] = {}  # (id of the tree, block) -> memo or False
        params = expanded.params
        bp = expanded.blueprint
        self.plan = WorkbookPlan(
            blueprint=bp,
            params=params,
            sheets=[],
            items={},
            names={},
            properties={
                "smm_blueprint_id": bp.id,
                "smm_blueprint_version": bp.version,
                "smm_generator": "smm-sheets",
                "smm_generator_version": __version__,
            },
            number_formats=_number_formats(params),
        )
        self._index: dict[tuple, tuple] = {}
        self._trees: dict[tuple, tuple] = {}
        self._highlights: list[tuple] = []

    # -- sheets and blocks

    def place_sheet(self, sheet) -> None:
        plan = SheetPlan(self.x.text(sheet.title), landscape=sheet.landscape)
        self.plan.sheets.append(plan)
        plan.put(0, 0, Cell("text", "title", self.x.text(self.x.blueprint.title)))
        plan.put(1, 0, Cell("text", "subtitle", self.x.text(sheet.subtitle) if sheet.subtitle else ""))
        plan.next_row = 3
        if any(isinstance(block, Grid) for block in sheet.blocks):
            self.grid_header(plan)
        for block in sheet.blocks:
            if isinstance(block, Grid):
                self.place_grid(plan, block)
            elif isinstance(block, Table):
                self.place_table(plan, block)
            else:
                self.place_form(plan, block)
            plan.next_row += 1
        for chart in sheet.charts:
            self.place_chart(plan, chart)

    def grid_header(self, plan: SheetPlan) -> None:
        row = plan.next_row
        heads = [self.x.text(k) for k in ("common.category", "common.line", "common.measure")]
        for col, text in enumerate(heads):
            plan.put(row, col, Cell("text", "header", text))
        plan.put(row, GRID_LABEL_COLUMNS + 12, Cell("text", "header", self.x.text("common.year")))
        # Months are real dates (the 1st), shown as "Jan 2027", so formulas can count by date.
        starts = self.plan.items.setdefault(
            "month_start",
            Placement(
                "month_start", Field("month_start", "common.year", "date"), len(self.plan.sheets) - 1, role="label"
            ),
        )
        for month, (year, number) in enumerate(self.x.params.months()):
            plan.put(row, GRID_LABEL_COLUMNS + month, Cell("text", "header_month", dt.date(year, number, 1)))
            if starts.sheet == len(self.plan.sheets) - 1:
                starts._cells.append(({"month": month}, row, GRID_LABEL_COLUMNS + month))
        plan.widths.update({0: 24, 1: 26, 2: 14, GRID_LABEL_COLUMNS + 12: 14})
        plan.widths.update({GRID_LABEL_COLUMNS + i: 12 for i in range(12)})
        plan.freeze = (row + 1, GRID_LABEL_COLUMNS)
        plan.repeat_rows = (row, row)
        plan.next_row = row + 1

    def section_title(self, plan: SheetPlan, title: str | None) -> None:
        if title:
            plan.put(plan.next_row, 0, Cell("text", "section", self.x.text(title)))
            plan.next_row += 1

    def rows(self, rows: Rows, block_id: str) -> Iterator[tuple[dict, str | None, str | None, int, dict]]:
        """(coordinates, row label, group label, row index, sample values) of each row."""
        x = self.x
        if rows.source == "lines":
            groups = dict(x.categories)
            picked = [line for line in x.lines if not rows.categories or line.category in rows.categories]
            for i, line in enumerate(picked):
                yield {"line": line.id, "category": line.category}, line.label, groups[line.category], i, line.sample
        elif rows.source == "categories":
            for i, (category_id, text) in enumerate(x.categories):
                yield {"category": category_id}, text, None, i, {}
        elif rows.source == "months":
            for i, text in enumerate(x.months):
                yield {"month": i}, text, None, i, {}
        elif rows.source == "channels":
            for i, channel in enumerate(x.params.channels):
                yield {"channel": channel.id}, channel.name, None, i, {}
        elif rows.source == "team":
            for i, person in enumerate(x.params.team):
                yield {"member": i}, person, None, i, {}
        elif rows.source == "list":
            for i, text in enumerate(x.lists[rows.list]):
                yield {"value": (rows.list, i)}, text, None, i, {}
        elif rows.source == "total":
            yield {}, None, None, 0, {}
        else:
            for i in range(rows.count):
                yield {"row": (block_id, i)}, None, None, i, {}

    def place_grid(self, plan: SheetPlan, grid: Grid) -> None:
        self.section_title(plan, grid.title)
        sheet = len(self.plan.sheets) - 1
        for measure in grid.measures:
            self.plan.items[measure.id] = Placement(
                measure.id, measure, sheet, role="formula" if measure.formula else "input"
            )
        total_row = grid.rows.source == "total"
        first_row = plan.next_row
        for coords, label, group, _, sample in self.rows(grid.rows, grid.id):
            for measure in grid.measures:
                row = plan.next_row
                plan.put(row, 0, Cell("text", "group", group or ""))
                plan.put(row, 1, Cell("text", "label", label or (self.x.text(measure.label) if total_row else "")))
                plan.put(row, 2, Cell("text", "label", "" if total_row else self.x.text(measure.label)))
                values = sample.get(measure.id)
                if values is None and measure.sample is not None:
                    # A measure's own sample: the same for every row, or by row (channel id, list value...)
                    values = (
                        measure.sample.get(_row_key(coords)) if isinstance(measure.sample, dict) else measure.sample
                    )
                for month in range(12):
                    here = dict(coords, month=month)
                    col = GRID_LABEL_COLUMNS + month
                    if measure.formula is not None:
                        tree = measure.formula.tree(self.x.options, first_month=month == 0)
                        self.formula_cell(plan, row, col, measure, tree, here, "total" if total_row else "formula")
                    else:
                        self.input_cell(plan, row, col, measure, _sample_at(values, month), here)
                    if coords.get("channel") in measure.na_for:
                        cell = plan.cells[(row, col)]
                        cell.style = ("na_formula:" if cell.kind == "formula" else "na:") + measure.type
                year = self.year_tree(measure)
                year_cell = Cell("text", "year", "")
                if year is not None:
                    year_cell = Cell("formula", f"year:{measure.type}")
                    year_cell.tree, year_cell.coords, year_cell.owner = year, dict(coords), measure.id
                    self.take_override(year_cell, row, GRID_LABEL_COLUMNS + 12)
                plan.put(row, GRID_LABEL_COLUMNS + 12, year_cell)
                plan.next_row += 1
        for highlight in grid.highlights:
            tree = highlight.when.cases[""]
            for name in highlight.fields:
                # One rule per row of the field; the formula is written for its first month.
                for coords, row, col in self.plan.items[name].cells:
                    if col == GRID_LABEL_COLUMNS and row >= first_row:
                        self.highlight(
                            plan, (row, col, row, col + 11), tree, coords, highlight.style, anchor_columns=False
                        )

    def sum_tree(self, name: str) -> tuple:
        """``SUM({name})``, one tree per name so that it compiles once."""
        key = ("sum", name)
        if key not in self._trees:
            self._trees[key] = ("call", "SUM", (("ref", name, None),))
        return self._trees[key]

    def year_tree(self, measure: Field) -> tuple | None:
        """What a grid measure's year column computes: the sum or the last month."""
        if measure.year == "sum":
            return self.sum_tree(measure.id)
        if measure.year == "last":
            return self._trees.setdefault(("last", measure.id), ("ref", measure.id, "last"))
        return None

    def place_table(self, plan: SheetPlan, table: Table) -> None:
        self.section_title(plan, table.title)
        sheet = len(self.plan.sheets) - 1
        first = 0 if table.rows.source == "count" else 1
        header = plan.next_row
        if first:
            plan.put(header, 0, Cell("text", "header", self.x.text(table.row_header)))
            plan.widths[0] = max(plan.widths.get(0, 0), 26)
        plan.heights[header] = 30  # room for two lines of wrapped header text
        for i, column in enumerate(table.columns):
            plan.put(
                header, first + i, Cell("text", "header", self.x.text(column.label) + (" *" if column.required else ""))
            )
            # Blocks stacked on a sheet share its columns: each column is as wide as its widest use.
            width = max(column.width or _WIDTHS.get(column.type, 14), _word_width(self.x.text(column.label)))
            plan.widths[first + i] = max(plan.widths.get(first + i, 0), width)
            role = "formula" if column.formula else ("label" if column.values else "input")
            self.plan.items[column.id] = Placement(column.id, column, sheet, role=role)
        if table.row_field:
            self.plan.items[table.row_field] = Placement(
                table.row_field, Field(table.row_field, table.row_header), sheet, role="label"
            )
        if plan.freeze is None:
            plan.freeze, plan.repeat_rows = (header + 1, first), (header, header)
        plan.next_row = header + 1
        first_coords = None
        if table.rows.source == "count":
            self.place_columns(plan, table, sheet)
            first_coords = {"row": (table.id, 0)}
        for coords, label, _, index, _ in () if first_coords else self.rows(table.rows, table.id):
            row = plan.next_row
            first_coords = coords if first_coords is None else first_coords
            if first:
                plan.put(row, 0, Cell("text", "label", label or ""))
                if table.row_field:
                    self.plan.items[table.row_field]._cells.append((coords, row, 0))
            for i, column in enumerate(table.columns):
                if column.formula is not None:
                    self.formula_cell(
                        plan, row, first + i, column, column.formula.tree(self.x.options), coords, "formula"
                    )
                elif column.values:
                    value = column.values[index] if index < len(column.values) else None
                    value = self.x.text(value) if isinstance(value, str) else value
                    plan.put(row, first + i, Cell("text", f"constant:{column.type}", value))
                    self.plan.items[column.id]._cells.append((coords, row, first + i))
                else:
                    self.input_cell(plan, row, first + i, column, _sample_at(column.sample, index), coords)
                if coords.get("channel") in column.na_for:
                    cell = plan.cells[(row, first + i)]
                    cell.style = ("na_formula:" if cell.kind == "formula" else "na:") + column.type
            plan.next_row += 1
        last_row = plan.next_row - 1
        if first_coords is not None:
            columns = {column.id: first + i for i, column in enumerate(table.columns)}
            last_col = first + len(table.columns) - 1
            for highlight in table.highlights:
                picked = [columns[name] for name in highlight.fields] or [0]
                spans = [(c, c) for c in picked] if highlight.fields else [(0, last_col)]
                for c1, c2 in spans:
                    self.highlight(
                        plan,
                        (header + 1, c1, last_row, c2),
                        highlight.when.cases[""],
                        first_coords,
                        highlight.style,
                        anchor_columns=True,
                    )
            if table.timeline is not None:
                self.place_timeline(plan, table, header, last_row, last_col + 1, first_coords)
        if table.total is not None:
            row = plan.next_row
            plan.put(row, 0, Cell("text", "total_label", self.x.text(table.total)))
            for i, column in enumerate(table.columns):
                tree = (
                    column.total.cases[""]
                    if column.total
                    else (self.sum_tree(column.id) if column.type in NUMERIC_TYPES else None)
                )
                if tree is not None:
                    name = f"{column.id}.total"
                    self.plan.items[name] = Placement(name, column, sheet, role="formula")
                    self.formula_cell(plan, row, first + i, column, tree, {}, "total", name)
            plan.next_row += 1

    def place_columns(self, plan: SheetPlan, table: Table, sheet: int) -> None:
        """A table of blank rows, one store per column (see :class:`ColumnStore`)."""
        count, first_row = table.rows.count, plan.next_row
        for i, column in enumerate(table.columns):
            if column.formula is not None:
                store = ColumnStore(
                    sheet, i, first_row, table.id, column, "formula", f"formula:{column.type}", [_TODO] * count
                )
                store.tree = column.formula.tree(self.x.options)
                if self.source is not None:
                    override = self.source.override
                    for r in range(count):
                        found = override(sheet, first_row + r, i)
                        if found is not COMPUTE:
                            store.values[r] = found
            elif column.values:
                values = [self.x.text(v) if isinstance(v, str) else v for v in column.values[:count]]
                store = ColumnStore(
                    sheet,
                    i,
                    first_row,
                    table.id,
                    column,
                    "constant",
                    f"constant:{column.type}",
                    values + [None] * (count - len(values)),
                )
            else:
                samples = column.sample if isinstance(column.sample, list) else [column.sample] * count
                if self.source is not None:
                    values = [self.source.input(sheet, first_row + r, i) for r in range(count)]
                else:
                    values = [
                        self.input_value(column, samples[r] if r < len(samples) else None, _ROW) for r in range(count)
                    ]
                store = ColumnStore(sheet, i, first_row, table.id, column, "input", f"input:{column.type}", values)
            plan.stores.append(store)
            plan.last_col = max(plan.last_col, i)
            self.plan.items[column.id].column = store
        plan.next_row = first_row + count

    def place_form(self, plan: SheetPlan, form: Form) -> None:
        self.section_title(plan, form.title)
        sheet = len(self.plan.sheets) - 1
        examples = any(q.example for q in form.questions)
        for col, width in enumerate((40, 40, 50, 50 if examples else 0)):
            if width:
                plan.widths[col] = max(plan.widths.get(col, 0), width)
        for question in form.questions:
            row = plan.next_row
            self.plan.items[question.id] = Placement(
                question.id, question, sheet, role="formula" if question.formula else "input"
            )
            plan.put(
                row, 0, Cell("text", "question", self.x.text(question.label) + (" *" if question.required else ""))
            )
            if question.formula is not None:
                self.formula_cell(plan, row, 1, question, question.formula.tree(self.x.options), {}, "formula")
            else:
                self.input_cell(plan, row, 1, question, _sample_at(question.sample, 0), {})
            hint = self.x.text(question.hint) if question.hint else ""
            example = self.x.text(question.example) if question.example else ""
            plan.put(row, 2, Cell("text", "hint", hint))
            if examples:
                plan.put(row, 3, Cell("text", "example", example))
            longest = max(len(hint), len(example))
            if longest > 60:
                plan.heights[row] = 13 * (1 + longest // 60)  # apps do not grow rows for wrapped text on load
            plan.next_row += 1

    def input_cell(self, plan: SheetPlan, row: int, col: int, item: Field, sample: Any, coords: dict) -> None:
        if self.source is None:
            value = self.input_value(item, sample, coords)
        else:
            value = self.source.input(len(self.plan.sheets) - 1, row, col)
        plan.put(row, col, Cell("input", f"input:{item.type}", value))
        self.plan.items[item.id]._cells.append((coords, row, col))

    def input_value(self, item: Field, sample: Any, coords: dict) -> Any:
        """What an input cell holds: its sample (with --sample) or default, or nothing."""
        if isinstance(sample, str):
            # Text samples are label keys (the loader sees to it); text that code patched in stays.
            sample = self.x.labels.get(sample, sample)
        elif sample is None and item.example and item.type == "text" and "row" not in coords:
            sample = self.x.text(item.example)
        value = sample if self.x.params.sample else None
        if item.type == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
            # A sample date given as a number is days after the plan's first day, so it moves with it.
            year, month = self.x.params.months()[0]
            value = dt.date(year, month, 1) + dt.timedelta(days=int(value))
        if item.default_from and "channel" in coords:
            # Facts such as a channel's caption limit are filled in always; people may change them.
            known = self.x.blueprint.channel_data.get(coords["channel"], {}).get(item.default_from)
            value = known if known is not None else value
        if item.type in ("choice", "yesno") and isinstance(value, int) and not isinstance(value, bool):
            # A sample for a choice is the index of the value in its list.
            choices = self.x.lists.get(item.list) or self.x.field_samples.get(item.list) or [None]
            value = choices[value % len(choices)]
        elif isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        return value

    def formula_cell(
        self,
        plan: SheetPlan,
        row: int,
        col: int,
        item: Field,
        tree: tuple,
        coords: dict,
        role: str,
        name: str | None = None,
    ) -> None:
        cell = plan.put(row, col, Cell("formula", f"{role}:{item.type}"))
        cell.tree, cell.coords, cell.owner = tree, coords, item.id
        self.take_override(cell, row, col)
        self.plan.items[name or item.id]._cells.append((coords, row, col))

    def take_override(self, cell: Cell, row: int, col: int) -> None:
        """A formula the filled-in workbook replaced: its value is what the file holds."""
        if self.source is not None:
            found = self.source.override(len(self.plan.sheets) - 1, row, col)
            if found is not COMPUTE:
                cell.tree, cell.value = None, found

    def highlight(
        self,
        plan: SheetPlan,
        rect: tuple[int, int, int, int],
        tree: tuple,
        coords: dict,
        style: str,
        anchor_columns: bool,
    ) -> None:
        """Conditional formatting over ``rect``; written once every field is placed."""
        self._highlights.append((plan, rect, tree, coords, style, anchor_columns))

    def finish_highlights(self) -> None:
        """Write each highlight's formula for the top-left cell of its range.

        Table rules (``anchor_columns``) write same-row references as ``$L6``, so that the
        whole row follows one column; grid rules keep month references relative, so that each
        month compares with its own month. References that do not move with the range (a
        form's answer, a per-channel target) are absolute.
        """
        for plan, rect, tree, coords, style, anchor_columns in self._highlights:
            here = self.plan.sheets.index(plan)
            program = fx.compiled(tree)
            texts = []
            for name, modifier in program.refs:
                if modifier == "label":
                    texts.append('"' + self.x.text(name).replace('"', '""') + '"')
                    continue
                target, rects = self.resolve(name, modifier, coords, "highlight")
                if target != here:
                    raise InputError(
                        f"{self.x.blueprint.source}: a highlight can only use fields of its own sheet, not {{{name}}}"
                    )
                dims = self.plan.items[name].dims()
                moves = bool(dims & set(coords) - {"month"}) if anchor_columns else "month" in dims
                texts.append(
                    ",".join(_a1_range(None, *r, anchor_columns=anchor_columns, absolute=not moves) for r in rects)
                )
            plan.highlights.append((*rect, program.pattern.format(*texts), style))

    def place_timeline(
        self, plan: SheetPlan, table: Table, header: int, last_row: int, first_col: int, coords: dict
    ) -> None:
        """One column per week from the Monday on or before the plan's start, 53 weeks."""
        year, month = self.x.params.months()[0]
        start = dt.date(year, month, 1)
        start -= dt.timedelta(days=start.weekday())
        _, start_rects = self.resolve(table.timeline.start, None, coords, "timeline")
        _, end_rects = self.resolve(table.timeline.end, None, coords, "timeline")
        first = _a1_range(None, *start_rects[0], anchor_columns=True)
        last = _a1_range(None, *end_rects[0], anchor_columns=True)
        for week in range(53):
            col = first_col + week
            plan.put(header, col, Cell("text", "header_week", start + dt.timedelta(weeks=week)))
            plan.widths[col] = 3.2
            for row in range(header + 1, last_row + 1):
                plan.put(row, col, Cell("text", "timeline", None))
        week_start = f"{column_letter(first_col)}${header + 1}"
        # Filled from the start's week to the end's week (or only the start's, with no end yet).
        rule = f'AND({first}<>"",{first}<{week_start}+7,IF({last}="",{first},{last})>={week_start})'
        plan.highlights.append((header + 1, first_col, last_row, first_col + 52, rule, "bar"))
        today = f"AND(TODAY()>={week_start},TODAY()<{week_start}+7)"
        plan.highlights.append((header, first_col, header, first_col + 52, today, "warn"))

    def place_chart(self, plan: SheetPlan, chart) -> None:
        """A chart of grid measures over the months; with ``per: channels``, one per channel."""
        groups = [(None, "")] if chart.per is None else [(c.id, f" – {c.name}") for c in self.x.params.channels]
        for channel, suffix in groups:
            series = []
            categories = None
            for name in chart.series:
                placement = self.plan.items[name]
                cells = [
                    (r, c) for coords, r, c in placement.cells if channel is None or coords.get("channel") == channel
                ]
                sheet_name = self.plan.sheets[placement.sheet].name
                r1, c1, r2, c2 = _rectangles(cells)[0]
                series.append(
                    (self.x.text(placement.field.label), _a1_range(sheet_name, r1, c1, r2, c2, absolute=True))
                )
                if categories is None:
                    header = self.plan.sheets[placement.sheet].repeat_rows[0]
                    categories = _a1_range(sheet_name, header, c1, header, c2, absolute=True)
            kind = self.plan.items[chart.series[0]].field.type
            plan.charts.append(
                ChartPlan(
                    chart.type,
                    self.x.text(chart.title) + suffix,
                    categories or "",
                    series,
                    plan.next_row,
                    0,
                    self.x.text(chart.y_axis) if chart.y_axis else None,
                    locale_tag(self.x.params.language) + "0%"
                    if kind == "percent"
                    else self.plan.number_formats[kind].split(";")[0].replace(".00", ""),
                    self.plan.number_formats["header_month"],
                )
            )
            plan.next_row += 20
        plan.print_rows = plan.next_row

    def place_lists(self) -> None:
        if not self.x.lists:
            return
        plan = SheetPlan(self.x.text("common.lists_sheet"), protect=False, landscape=False)
        self.plan.sheets.append(plan)
        sources = {item.id: item.source for item in self.x.blueprint.lists}
        for col, (list_id, values) in enumerate(self.x.lists.items()):
            plan.put(
                0,
                col,
                Cell(
                    "text", "header", self.x.text(f"list.{list_id}") if f"list.{list_id}" in self.x.labels else list_id
                ),
            )
            plan.widths[col] = 24
            for row, value in enumerate(values, start=1):
                plan.put(row, col, Cell("text", "text", value))
            # Goals are typed in later when the strategy is not generated with them: leave room.
            size = max(len(values), 20 if sources[list_id] == "goals" else 1)
            self.plan.names[LIST_PREFIX + list_id] = "=" + _a1_range(plan.name, 1, col, size, col, absolute=True)
        plan.freeze = (1, 0)

    # -- formulas: A1 text and cached values

    def finish_formulas(self) -> None:
        for s, plan in enumerate(self.plan.sheets):
            for (row, col), cell in dict.items(plan.cells):
                if cell.tree is not None:
                    self.value(s, row, col, cell)
            for store in plan.stores:
                if store.kind == "formula":
                    for index in range(len(store.values)):
                        if store.values[index] is _TODO:
                            self.store_value(store, index)
        self._index.clear()

    def value(self, sheet: int, row: int, col: int, cell: Cell | None = None) -> Any:
        """A cell's value as formulas see it; computes (and caches) formula cells on demand."""
        if cell is None:
            cell = dict.get(self.plan.sheets[sheet].cells, (row, col))
            if cell is None:
                store = self.plan.sheets[sheet].store_at(row, col)
                return None if store is None else self.store_value(store, row - store.first_row)
        if cell.kind != "formula":
            value = cell.value
            return value if value.__class__ in _PLAIN else serial(value)
        if cell.tree is None:
            return cell.value
        if cell.coords is None:
            raise InputError(f"{self.x.blueprint.source}: circular reference through {cell.owner}")
        coords, cell.coords = cell.coords, None  # marks the cell as being computed
        cell.formula, cell.value = self.compute(sheet, cell.tree, coords, cell.owner)
        cell.tree = None
        return cell.value

    def store_value(self, store: ColumnStore, index: int) -> Any:
        """One row of a column store as formulas see it; computes formula rows on demand."""
        value = store.values[index]
        if store.kind != "formula":
            return value if value.__class__ in _PLAIN else serial(value)
        if value is _TODO:
            store.values[index] = _PENDING
            if self.with_text:
                store.texts[index], store.values[index] = self.compute(
                    store.sheet, store.tree, {"row": (store.block_id, index)}, store.field.id
                )
            else:
                store.values[index] = self.row_value(store.tree, store.sheet, store.block_id, index, store.field.id)
            return store.values[index]
        if value is _PENDING:
            raise InputError(f"{self.x.blueprint.source}: circular reference through {store.field.id}")
        return value

    def row_value(self, tree: tuple, sheet: int, block_id: str, index: int, owner: str) -> Any:
        """A formula row's value, remembered by the values of the row's own cells it reads.

        The analyser recomputes 100,000 posts: rows that read the same values (a channel's
        caption limit) give the same result. A formula whose other references are not the same
        for every row is computed row by row.
        """
        memo = self._row_memo.get((id(tree), block_id))
        if memo is None:
            memo = self._row_memo[(id(tree), block_id)] = self.row_references(tree, block_id)
        coords = {"row": (block_id, index)}
        if memo is False:
            return self.compute(sheet, tree, coords, owner)[1]
        locals_, results = memo
        # With the types: True and 1.0 are equal keys, but not the same to ISNUMBER.
        key = tuple((value.__class__, value) for value in (self.store_value(local, index) for local in locals_))
        try:
            return results[key]
        except KeyError:
            found = results[key] = self.compute(sheet, tree, coords, owner)[1]
            return found
        except TypeError:  # a value that cannot be a key
            return self.compute(sheet, tree, coords, owner)[1]

    def row_references(self, tree: tuple, block_id: str) -> tuple[list[ColumnStore], dict] | bool:
        """The columns of its own row a row formula reads, if all else it reads is the same for
        every row (False otherwise)."""
        locals_ = []
        for name, modifier in fx.compiled(tree).refs:
            if modifier == "label":
                continue
            placement = self.plan.items.get(name)
            if placement is None:
                return False
            column = placement.column
            if column is not None and column.block_id == block_id and modifier != "all":
                locals_.append(column)
            elif column is None and placement._cells and "row" in placement._cells[0][0]:
                return False
        return locals_, {}

    def column_range(self, store: ColumnStore) -> fx.Range:
        """A whole column as one Range, made once: formulas that scan it can keep what they learn."""
        if store._range is None:
            values = [self.store_value(store, i) for i in range(len(store.values))]
            store._range = fx.Range(values, keep=True)
        return store._range

    def compute(self, sheet: int, tree: tuple, coords: dict, owner: str) -> tuple[str, Any]:
        """The A1 text and the value of a template in a cell at ``coords``."""
        here = self.plan.sheets[sheet].name
        program = fx.compiled(tree)
        refs = {}
        texts = []
        for ref in program.refs:
            if ref[1] == "label":  # a label's text, as a string constant
                text = self.x.text(ref[0])
                refs[ref] = (None, text)
                texts.append('"' + text.replace('"', '""') + '"')
                continue
            try:
                target, rects = refs[ref] = self.resolve(ref[0], ref[1], coords, owner)
            except InputError:
                if not self.lenient:
                    raise
                refs[ref] = (None, fx.Range((None,)))  # the analyser's checks: no cells here is a blank
                texts.append('""')
                continue
            if len(rects) > 1 and ref not in program.multi_area:
                raise InputError(
                    f"{self.x.blueprint.source}: {owner}: the cells of {{{ref[0]}}} it uses do not form one "
                    "rectangle (several areas only go straight into SUM, MIN, MAX, AVERAGE, COUNT or COUNTA)"
                )
            r1, c1, r2, c2 = rects[0]
            if (len(rects) > 1 or r1 != r2 or c1 != c2) and ref not in _function_arguments(tree):
                cells = sum((b[2] - b[0] + 1) * (b[3] - b[1] + 1) for b in rects)
                raise InputError(
                    f"{self.x.blueprint.source}: {owner}: {{{ref[0]}}} means {cells} cells here, where one value "
                    "is expected (give it to a function such as SUM, or refer to one cell)"
                )
            if self.with_text:
                sheet_name = self.plan.sheets[target].name
                texts.append(",".join(_a1_range(None if sheet_name == here else sheet_name, *rect) for rect in rects))

        def lookup(name: str, modifier: str | None) -> Any:
            target, rects = refs[(name, modifier)]
            if target is None:
                return rects  # a label's text
            plan = self.plan.sheets[target]
            if len(rects) == 1:
                r1, c1, r2, c2 = rects[0]
                if r1 == r2 and c1 == c2:
                    # Still a range: COUNT(A1) of a blank cell is 0, SUM(A1) of text is 0.
                    return fx.Range((self.value(target, r1, c1),))
                store = plan.store_at(r1, c1) if c1 == c2 else None
                if store is not None and (r1, r2) == (store.first_row, store.last_row):
                    return self.column_range(store)
            cells = plan.cells
            values = []
            for r1, c1, r2, c2 in rects:
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        found = dict.get(cells, (r, c))
                        if found is None or found.kind == "formula" or found.value.__class__ not in _PLAIN:
                            values.append(self.value(target, r, c, found))
                        else:
                            values.append(found.value)
            return fx.Range(values)

        if not self.with_values:
            return program.pattern.format(*texts), None
        text = program.pattern.format(*texts) if self.with_text else None
        result = program.run(lookup)
        if isinstance(result, fx.Range):
            result = result.values[0] if len(result.values) == 1 else fx.VALUE
        if result is None:
            result = 0.0  # a formula pointing at a blank cell shows 0
        return text, result

    def resolve(
        self, name: str, modifier: str | None, coords: dict, owner: str
    ) -> tuple[int, list[tuple[int, int, int, int]]]:
        """The sheet and the rectangles that ``{name@modifier}`` means in a cell at ``coords``."""
        placement = self.plan.items[name]
        store = placement.column
        if store is not None:
            # A table of blank rows: the same row from within the table, else the whole column.
            row = coords.get("row")
            if modifier != "all" and row is not None and row[0] == store.block_id:
                r = store.first_row + row[1]
                return placement.sheet, [(r, store.col, r, store.col)]
            return placement.sheet, [(store.first_row, store.col, store.last_row, store.col)]
        if not placement._cells:
            raise InputError(f"{self.x.blueprint.source}: {owner}: {{{name}}} has no cells in this workbook")
        if modifier == "all":
            coords = {}
        elif modifier is not None:
            coords = dict(coords, month=coords["month"] - 1 if modifier == "prev" else 11)
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
        if rects is not None and not isinstance(rects, _Rects):
            # Cells become rectangles on first use: many groups are never asked for.
            rects = groups[wanted] = _Rects(_rectangles(rects))
        if not rects:
            raise InputError(f"{self.x.blueprint.source}: {owner}: {{{name}}} has no cells where {owner} uses it")
        return placement.sheet, rects

    # -- validations, names, metadata

    def place_validations_and_names(self) -> None:
        for name, placement in self.plan.items.items():
            store = placement.column
            if store is None and not placement._cells:
                continue
            plan = self.plan.sheets[placement.sheet]
            rects = placement.rects = (
                [(store.first_row, store.col, store.last_row, store.col)]
                if store is not None
                else _rectangles([(r, c) for _, r, c in placement._cells])
            )
            base = NAME_PREFIX + name.replace(".", "_")
            for i, rect in enumerate(rects):
                suffix = "" if len(rects) == 1 else "_" + _rect_key(placement, rect, i)
                self.plan.names[base + suffix] = "=" + _a1_range(plan.name, *rect, absolute=True)
            if placement.role == "input":
                options = self.validation(placement.field)
                for rect in rects:
                    plan.validations.append((*rect, options))

    def validation(self, item: Field) -> dict:
        x = self.x
        kind = item.type
        if kind in ("choice", "yesno"):
            field_list = next((l.field for l in x.blueprint.lists if l.id == item.list and l.field), None)
            source = f"={NAME_PREFIX}{field_list}" if field_list else f"={LIST_PREFIX}{item.list}"
            options: dict[str, Any] = {"validate": "list", "source": source}
        elif kind in ("number", "money", "percent", "integer"):
            low = item.min if item.min is not None else -1e15
            high = item.max if item.max is not None else 1e15
            options = {
                "validate": "integer" if kind == "integer" else "decimal",
                "criteria": "between",
                "minimum": low,
                "maximum": high,
            }
        elif kind == "date":
            options = {
                "validate": "date",
                "criteria": "between",
                "minimum": dt.date(2000, 1, 1),
                "maximum": dt.date(2100, 12, 31),
            }
        elif kind == "time":
            options = {
                "validate": "time",
                "criteria": "between",
                "minimum": dt.time(0, 0),
                "maximum": dt.time(23, 59, 59),
            }
        else:
            options = {"validate": "length", "criteria": "<=", "value": 32767}
        message = x.text(f"validation.{kind}")
        if item.min is not None or item.max is not None:
            low = _plain(item.min) if item.min is not None else "…"
            high = _plain(item.max) if item.max is not None else "…"
            message += " " + x.text("validation.range").replace("[min]", low).replace("[max]", high)
        options.update(
            {"error_title": x.text("validation.title")[:32], "error_message": message[:255], "ignore_blank": True}
        )
        if item.hint:
            options.update({"input_title": x.text(item.label)[:32], "input_message": x.text(item.hint)[:255]})
        return options

    def place_meta(self) -> None:
        x = self.x
        plan = SheetPlan(META_SHEET, hidden=True, landscape=False)
        self.plan.sheets.append(plan)
        params = x.params
        rows = (
            [
                ("key", "value"),
                ("blueprint_id", x.blueprint.id),
                ("blueprint_version", x.blueprint.version),
                ("generator", "smm-sheets"),
                ("generator_version", __version__),
                ("company", params.company),
                ("year", str(params.year)),
                ("start_month", str(params.start_month)),
                ("currency", params.currency),
                ("language", params.language),
                ("channels", ",".join(c.name for c in params.channels)),
                ("team", ",".join(params.team)),
                ("sample", "yes" if params.sample else "no"),
            ]
            + [(f"option.{key}", value) for key, value in sorted(x.options.items())]
            + [
                # Everything the analyser needs to rebuild this plan, in one value.
                (
                    "parameters",
                    json.dumps(meta_parameters(params, x.blueprint), ensure_ascii=False, separators=(",", ":")),
                ),
            ]
        )
        for row, (key, value) in enumerate(rows):
            plan.put(row, 0, Cell("text", "text", key))
            plan.put(row, 1, Cell("text", "text", value))
        row = len(rows) + 1
        for col, head in enumerate(("item", "kind", "type", "required", "sheet", "ranges")):
            plan.put(row, col, Cell("text", "text", head))
        for name, placement in self.plan.items.items():
            row += 1
            item = placement.field
            kind = placement.role
            ranges = " ".join(_a1_range(None, *rect, absolute=True) for rect in placement.rects)
            values = (
                name,
                kind,
                item.type,
                "yes" if item.required else "no",
                self.plan.sheets[placement.sheet].name,
                ranges,
            )
            for col, value in enumerate(values):
                plan.put(row, col, Cell("text", "text", value))


def meta_parameters(params: Parameters, blueprint: Blueprint) -> dict[str, Any]:
    """The parameters as plain data, with the row counts of tables of blank rows."""
    rows = {
        block.id: block.rows.count
        for sheet in blueprint.sheets
        for block in sheet.blocks
        if isinstance(block, Table) and block.rows.source == "count"
    }
    return {
        "company": params.company,
        "year": params.year,
        "start_month": params.start_month,
        "currency": params.currency,
        "language": params.language,
        "channels": [[c.id, c.name] for c in params.channels],
        "team": list(params.team),
        "goals": list(params.goals),
        "options": dict(params.options),
        "sample": params.sample,
        "rows": rows,
    }


def _number_formats(params: Parameters) -> dict[str, str]:
    """Number formats by field type (and for month and week headers), tagged with the language."""
    tag = locale_tag(params.language)
    return {
        "money": money_format(params.currency, params.language),
        "number": tag + "#,##0.00",
        "integer": tag + "#,##0",
        "percent": tag + "0.0%",
        "date": date_format(params.language),
        "time": tag + "hh:mm",
        "text": "@",
        "choice": "@",
        "yesno": "@",
        # Month and week headers are dates: the tag shows their names in the language.
        "header_month": tag + "mmm yyyy",
        "header_week": tag + "d mmm",
    }


_PLAIN = (float, str, bool, type(None))
_TODO = object()  # a formula row not computed yet
_PENDING = object()  # a formula row being computed (to catch circular references)
_ROW = {"row": None}  # the coordinates of any row of a table of blank rows


class _Rects(list):
    """A list of rectangles (as opposed to a list of cells still to be covered)."""


_WIDTHS = {
    "text": 30,
    "money": 14,
    "date": 12,
    "time": 9,
    "choice": 18,
    "yesno": 9,
    "percent": 10,
    "number": 12,
    "integer": 10,
}


_ARGUMENTS: dict[int, tuple[tuple, frozenset]] = {}


def _function_arguments(tree: tuple) -> frozenset:
    """References that stand directly as a function's argument, where a range may go."""
    found = _ARGUMENTS.get(id(tree))
    if found is None or found[0] is not tree:
        refs: set = set()

        def walk(node: tuple) -> None:
            if node[0] == "call":
                refs.update((arg[1], arg[2]) for arg in node[2] if arg[0] == "ref")
                for arg in node[2]:
                    walk(arg)
            elif node[0] == "bin":
                walk(node[2])
                walk(node[3])
            elif node[0] in ("neg", "pos", "paren"):
                walk(node[1])

        walk(tree)
        found = _ARGUMENTS[id(tree)] = (tree, frozenset(refs))
    return found[1]


def _word_width(text: str) -> float:
    """A column width that fits the longest word of a wrapped header (long in Finnish and Latvian)."""
    return max((len(word) for word in text.split()), default=0) * 1.1 + 2


def _row_key(coords: dict) -> Any:
    """What a row's samples are keyed by: its channel, line, category, or list value's index."""
    for dim in ("channel", "line", "category"):
        if dim in coords:
            return coords[dim]
    if "value" in coords:
        return coords["value"][1]
    return None


def _sample_at(values: Any, index: int) -> Any:
    if isinstance(values, list):
        return values[index] if index < len(values) else None
    return values


def _plain(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)


def _rectangles(cells: list[tuple[int, int]]) -> list[tuple[int, int, int, int]]:
    """Cover cells with rectangles: runs within a row, stacked while the column span holds."""
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


def _rect_key(placement: Placement, rect: tuple[int, int, int, int], index: int) -> str:
    for coords, row, col in placement.cells:
        if (row, col) == rect[:2]:
            # A line names its row well enough; its category would only repeat.
            skip = ("month", "category") if "line" in coords else ("month",)
            parts = [str(v) for k, v in sorted(coords.items()) if k not in skip]
            return "_".join(parts) if parts else str(index + 1)
    return str(index + 1)


@cache
def _a1(row: int, col: int, absolute: bool = False, anchor_columns: bool = False) -> str:
    mark = "$" if absolute else ""
    return f"{'$' if absolute or anchor_columns else ''}{column_letter(col)}{mark}{row + 1}"


def _a1_range(
    sheet: str | None, r1: int, c1: int, r2: int, c2: int, absolute: bool = False, anchor_columns: bool = False
) -> str:
    start = _a1(r1, c1, absolute, anchor_columns)
    text = start if (r1, c1) == (r2, c2) else f"{start}:{_a1(r2, c2, absolute, anchor_columns)}"
    if sheet is None:
        return text
    return quote_sheet(sheet) + "!" + text
