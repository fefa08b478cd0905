"""Placement: where every blueprint item goes, as cells of the plan (no values computed here).

A :class:`Placer` walks the blueprint's sheets and blocks and fills a :class:`WorkbookPlan`:
text cells, input cells (blank, samples, or what a filled-in workbook holds via a
:class:`CellSource`), formula cells with their parsed template and coordinates, column stores
for tables of blank rows, lists, charts, conditional formats, validations and defined names.
:mod:`.compute` then computes the formulas.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import NUMERIC_TYPES, Field, Form, Formula, Grid, Table, block_placed
from smm_sheets.errors import InputError
from smm_sheets.locale_data import locale_tag, month_names
from smm_sheets.plan.cells import (
    GRID_LABEL_COLUMNS,
    LINE_LABEL,
    LINE_LABEL_COPY,
    LIST_PREFIX,
    NAME_PREFIX,
    TODO,
    Cell,
    ChartPlan,
    ColumnStore,
    Placement,
    SheetPlan,
    WorkbookPlan,
    style,
)
from smm_sheets.plan.expand import Expanded, block_rows
from smm_sheets.plan.resolve import Rect, Resolver, a1_range, rectangles
from smm_sheets.sheetref import column_letter


class CellSource:
    """What a filled-in workbook holds, by *planned* cell: the analyser's view for :func:`build`.

    ``input`` is the value in an input cell (None when blank). ``override`` is the constant
    that replaced a formula (or the value of a formula someone changed), else :data:`COMPUTE`.
    """

    def input(self, sheet: int, row: int, col: int) -> Any:  # pragma: no cover - an interface
        raise NotImplementedError

    def override(self, sheet: int, row: int, col: int) -> Any:  # pragma: no cover - an interface
        raise NotImplementedError

    def inputs(self, sheet: int, first_row: int, col: int, count: int) -> list[Any]:
        """``input`` of ``count`` cells down a column (a table's column: a source may read it faster)."""
        return [self.input(sheet, row, col) for row in range(first_row, first_row + count)]

    def overrides(self, sheet: int, first_row: int, col: int, count: int) -> dict[int, Any]:
        """``override`` of ``count`` cells down a column, by index, where it is not :data:`COMPUTE`
        (a table's formula column: a source may know its few replaced formulas without asking each row)."""
        found = {}
        for index in range(count):
            value = self.override(sheet, first_row + index, col)
            if value is not COMPUTE:
                found[index] = value
        return found


COMPUTE = object()  # CellSource.override: compute the blueprint's formula

# The label of a spare line: typed where the line first appears, copied (as text) into its other rows.
_LINE_LABEL_FIELD = Field(LINE_LABEL, "common.line", "text")
_LINE_LABEL_COPY_FIELD = Field(
    LINE_LABEL_COPY, "common.line", "text", formula=Formula({"": fx.parse("{" + LINE_LABEL + '}&""')})
)


class Placer:
    """Places a blueprint's items on the cells of ``plan`` (its sheets are appended in order)."""

    def __init__(self, plan: WorkbookPlan, expanded: Expanded, resolver: Resolver, source: CellSource | None = None):
        self.plan = plan
        self.x = expanded
        self.resolver = resolver
        self.source = source
        self._highlights: list[tuple] = []

    # -- sheets and blocks

    def place_sheet(self, sheet) -> None:
        """Append a sheet: title, subtitle, its blocks one below the other, then its charts."""
        plan = SheetPlan(
            self.x.text(sheet.title),
            landscape=sheet.landscape is not False,
            print_fixed=sheet.landscape is not None,
            allows=sheet.allows,
        )
        self.plan.sheets.append(plan)
        plan.put(0, 0, Cell("text", style("title"), self.x.text(self.x.blueprint.title)))
        plan.put(1, 0, Cell("text", style("subtitle"), self.x.text(sheet.subtitle) if sheet.subtitle else ""))
        plan.next_row = 3
        if any(isinstance(block, Grid) for block in sheet.blocks):
            self.grid_header(plan, sheet)
        for block in sheet.blocks:
            if not block_placed(block, self.x.options):
                continue
            if isinstance(block, Grid):
                self.place_grid(plan, block)
            elif isinstance(block, Table):
                self.place_table(plan, block)
            else:
                self.place_form(plan, block)
            plan.next_row += 1
        for chart in sheet.charts:
            self.place_chart(plan, chart)

    def grid_header(self, plan: SheetPlan, sheet) -> None:
        """The header row of a month grid: label columns, the months (as dates), the year."""
        row = plan.next_row
        heads = [self.x.text(k) for k in ("common.category", "common.line", "common.measure")]
        for col, text in enumerate(heads):
            plan.put(row, col, Cell("text", style("header"), text))
        # The year column holds a value for every month where a grid's inputs take one (targets).
        every = any(m.year == "every" for b in sheet.blocks if isinstance(b, Grid) for m in b.measures)
        year_head = self.x.text("common.every_month" if every else "common.year")
        plan.put(row, GRID_LABEL_COLUMNS + 12, Cell("text", style("header"), year_head))
        # Months are real dates (the 1st), shown as "Jan 2027", so formulas can count by date.
        starts = self.plan.items.setdefault(
            "month_start",
            Placement(
                "month_start", Field("month_start", "common.year", "date"), len(self.plan.sheets) - 1, role="label"
            ),
        )
        for month, (year, number) in enumerate(self.x.params.months()):
            plan.put(row, GRID_LABEL_COLUMNS + month, Cell("text", style("header_month"), dt.date(year, number, 1)))
            if starts.sheet == len(self.plan.sheets) - 1:
                starts._cells.append(({"month": month}, row, GRID_LABEL_COLUMNS + month))
        plan.widths.update({0: 24, 1: 26, 2: 14, GRID_LABEL_COLUMNS + 12: 14})
        plan.widths.update({GRID_LABEL_COLUMNS + i: 11 for i in range(12)})
        plan.freeze = (row + 1, GRID_LABEL_COLUMNS)
        plan.repeat_rows, plan.repeat_size = (row, row), 1 << 30  # the months head every printed page
        plan.next_row = row + 1

    def section_title(self, plan: SheetPlan, title: str | None) -> None:
        """A block's title row, if it has one."""
        if title:
            plan.put(plan.next_row, 0, Cell("text", style("section"), self.x.text(title)))
            plan.next_row += 1

    def note(self, plan: SheetPlan, note: str | None) -> None:
        """A block's line of help under its title (how to add a line), if it has one."""
        if note:
            plan.put(plan.next_row, 0, Cell("text", style("subtitle"), self.x.text(note)))
            plan.next_row += 1

    def line_label(self, plan: SheetPlan, row: int, coords: dict, col: int = 1) -> None:
        """The label cell of a spare line: an input where the line first appears, then a copy of it."""
        sheet = len(self.plan.sheets) - 1
        line = coords["line"]
        if LINE_LABEL not in self.plan.items:
            self.plan.items[LINE_LABEL] = Placement(LINE_LABEL, _LINE_LABEL_FIELD, sheet)
            self.plan.items[LINE_LABEL_COPY] = Placement(LINE_LABEL_COPY, _LINE_LABEL_COPY_FIELD, sheet, role="formula")
        if not any(found["line"] == line for found, _, _ in self.plan.items[LINE_LABEL]._cells):
            self.input_cell(plan, row, col, _LINE_LABEL_FIELD, None, dict(coords))
            return
        tree = _LINE_LABEL_COPY_FIELD.formula.tree({})
        self.formula_cell(plan, row, col, _LINE_LABEL_COPY_FIELD, tree, dict(coords), "formula")
        plan.cells[(row, col)].style = style("label")

    def place_grid(self, plan: SheetPlan, grid: Grid) -> None:
        """A month grid: one row per (row of the block, measure), twelve months and the year."""
        self.section_title(plan, grid.title)
        self.note(plan, grid.note)
        sheet = len(self.plan.sheets) - 1
        spare = {line.id for line in self.x.lines if line.spare}
        for measure in grid.measures:
            self.plan.items[measure.id] = Placement(
                measure.id, measure, sheet, role="formula" if measure.formula else "input"
            )
        total_row = grid.rows.source == "total"
        first_row = plan.next_row
        for coords, label, group, _, sample in block_rows(self.x, grid.rows, grid.id):
            for measure in grid.measures:
                row = plan.next_row
                plan.put(row, 0, Cell("text", style("group"), group or ""))
                if coords.get("line") in spare:
                    self.line_label(plan, row, coords)
                else:
                    plan.put(
                        row, 1, Cell("text", style("label"), label or (self.x.text(measure.label) if total_row else ""))
                    )
                plan.put(row, 2, Cell("text", style("label"), "" if total_row else self.x.text(measure.label)))
                values = sample.get(measure.id)
                if values is None and measure.sample is not None:
                    # A measure's own sample: the same for every row, or by row (channel id, list value...)
                    values = (
                        measure.sample.get(_row_key(coords)) if isinstance(measure.sample, dict) else measure.sample
                    )
                every = measure.year == "every"
                for month in range(12):
                    here = dict(coords, month=month)
                    col = GRID_LABEL_COLUMNS + month
                    if measure.formula is not None:
                        tree = measure.formula.tree(self.x.options, first_month=month == 0)
                        self.formula_cell(plan, row, col, measure, tree, here, "total" if total_row else "formula")
                    else:
                        # A value for every month: the sample's months are blank (a month's own value overrides).
                        sample_here = _sample_at(values, month) if not every or isinstance(values, list) else None
                        self.input_cell(plan, row, col, measure, sample_here, here)
                    if coords.get("channel") in measure.na_for:
                        cell = plan.cells[(row, col)]
                        cell.style = style("na_formula" if cell.kind == "formula" else "na", measure.shown_as)
                year = year_tree(measure)
                year_cell = Cell("text", style("year"), "")
                if every:
                    self.input_cell(
                        plan,
                        row,
                        GRID_LABEL_COLUMNS + 12,
                        measure,
                        None if isinstance(values, list) else values,
                        dict(coords, month=12),
                    )
                    year_cell = plan.cells[(row, GRID_LABEL_COLUMNS + 12)]
                    if coords.get("channel") in measure.na_for:
                        year_cell.style = style("na", measure.shown_as)
                elif year is not None:
                    year_cell = Cell("formula", style("year", measure.shown_as))
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

    def place_table(self, plan: SheetPlan, table: Table) -> None:
        """A table: header, one row per row of the block (or column stores), rules, timeline, total."""
        self.section_title(plan, table.title)
        self.note(plan, table.note)
        sheet = len(self.plan.sheets) - 1
        first = 0 if table.rows.source == "count" else 1
        header = plan.next_row
        if first:
            plan.put(header, 0, Cell("text", style("header"), self.x.text(table.row_header)))
            plan.widths[0] = max(plan.widths.get(0, 0), 26)
        plan.heights[header] = 30  # room for two lines of wrapped header text
        for i, column in enumerate(table.columns):
            plan.put(
                header,
                first + i,
                Cell("text", style("header"), self.x.text(column.label) + (" *" if column.required else "")),
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
            plan.freeze = (header + 1, first)
        # The printed pages repeat the header of the sheet's longest table (the one that runs on).
        size = table.rows.count if table.rows.source == "count" else len(self.x.lists.get(table.rows.list or "", ()))
        if plan.repeat_rows is None or size > plan.repeat_size:
            plan.repeat_rows, plan.repeat_size = (header - (table.timeline is not None), header), size
        plan.next_row = header + 1
        first_coords = None
        spare = {line.id for line in self.x.lines if line.spare} if table.rows.source == "lines" else set()
        if table.rows.source == "count":
            self.place_columns(plan, table, sheet)
            first_coords = {"row": (table.id, 0)}
        for coords, label, _, index, _ in () if first_coords else block_rows(self.x, table.rows, table.id):
            row = plan.next_row
            first_coords = coords if first_coords is None else first_coords
            if first and coords.get("line") in spare:
                self.line_label(plan, row, coords, col=0)  # a spare line's label: the one typed in its grid
            elif first:
                plan.put(row, 0, Cell("text", style("label"), label or ""))
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
                    plan.put(row, first + i, Cell("text", style("constant", column.type), value))
                    self.plan.items[column.id]._cells.append((coords, row, first + i))
                else:
                    self.input_cell(plan, row, first + i, column, _sample_at(column.sample, index), coords)
                if coords.get("channel") in column.na_for:
                    cell = plan.cells[(row, first + i)]
                    cell.style = style("na_formula" if cell.kind == "formula" else "na", column.type)
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
            plan.put(row, 0, Cell("text", style("total_label"), self.x.text(table.total)))
            for i, column in enumerate(table.columns):
                tree = (
                    column.total.cases[""]
                    if column.total
                    else (sum_tree(column.id) if column.type in NUMERIC_TYPES else None)
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
                    sheet, i, first_row, table.id, column, "formula", style("formula", column.shown_as), [TODO] * count
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
                    style("constant", column.type),
                    values + [None] * (count - len(values)),
                )
            else:
                samples = column.sample if isinstance(column.sample, list) else [column.sample] * count
                if self.source is not None:
                    values = [self.source.input(sheet, first_row + r, i) for r in range(count)]
                else:
                    values = self.row_inputs(column, samples, count)
                store = ColumnStore(
                    sheet, i, first_row, table.id, column, "input", style("input", column.shown_as), values
                )
            plan.stores.append(store)
            plan.last_col = max(plan.last_col, i)
            self.plan.items[column.id].column = store
        plan.next_row = first_row + count

    def place_form(self, plan: SheetPlan, form: Form) -> None:
        """A form: one row per question (label, answer, hint, example)."""
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
                row,
                0,
                Cell("text", style("question"), self.x.text(question.label) + (" *" if question.required else "")),
            )
            if question.formula is not None:
                self.formula_cell(plan, row, 1, question, question.formula.tree(self.x.options), {}, "formula")
            else:
                self.input_cell(plan, row, 1, question, _sample_at(question.sample, 0), {})
            hint = self.x.text(question.hint) if question.hint else ""
            example = self.x.text(question.example) if question.example else ""
            plan.put(row, 2, Cell("text", style("hint"), hint))
            if examples:
                plan.put(row, 3, Cell("text", style("example"), example))
            longest = max(len(hint), len(example))
            if longest > 60:
                plan.heights[row] = 13 * (1 + longest // 60)  # apps do not grow rows for wrapped text on load
            plan.next_row += 1

    def input_cell(self, plan: SheetPlan, row: int, col: int, item: Field, sample: Any, coords: dict) -> None:
        """An input cell: blank, its sample, or what the filled-in workbook holds."""
        if self.source is None:
            value = self.input_value(item, sample, coords)
        else:
            value = self.source.input(len(self.plan.sheets) - 1, row, col)
        plan.put(row, col, Cell("input", style("input", item.shown_as), value))
        self.plan.items[item.id]._cells.append((coords, row, col))

    def row_inputs(self, column: Field, samples: list, count: int) -> list:
        """The inputs of a column of ``count`` blank rows: :meth:`input_value` of each row's
        sample, made once per distinct sample (a calendar's 100,000 posts repeat a few dozen)."""
        rows = samples[:count] + [None] * (count - len(samples))
        keys = [(sample.__class__, sample) for sample in rows]  # True and 1 are equal keys, not equal samples
        try:
            made = dict.fromkeys(keys)
        except TypeError:  # a sample that cannot be a key: row by row
            return [self.input_value(column, sample, _ROW) for sample in rows]
        for key in made:
            made[key] = self.input_value(column, key[1], _ROW)
        return [made[key] for key in keys]

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
        """A formula cell: its template and coordinates, computed later (or the file's override)."""
        cell = plan.put(row, col, Cell("formula", style(role, item.shown_as)))
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
        rect: Rect,
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
        for plan, rect, tree, coords, look, anchor_columns in self._highlights:
            here = self.plan.sheets.index(plan)
            program = fx.compiled(tree)
            texts = []
            for name, modifier in program.refs:
                if modifier == "label":
                    texts.append('"' + self.x.text(name).replace('"', '""') + '"')
                    continue
                target, rects = self.resolver.resolve(name, modifier, coords, "highlight")
                if target != here:
                    raise InputError(
                        f"{self.x.blueprint.source}: a highlight can only use fields of its own sheet, not {{{name}}}"
                    )
                dims = self.plan.items[name].dims()
                moves = bool(dims & set(coords) - {"month"}) if anchor_columns else "month" in dims
                # The last month and the value for every month stay where they are across the months.
                moves = moves and modifier not in ("last", "every")
                texts.append(
                    ",".join(a1_range(None, *r, anchor_columns=anchor_columns, absolute=not moves) for r in rects)
                )
            plan.highlights.append((*rect, program.pattern.format(*texts), look))

    def place_timeline(
        self, plan: SheetPlan, table: Table, header: int, last_row: int, first_col: int, coords: dict
    ) -> None:
        """One column per week from the Monday on or before the plan's start, 53 weeks."""
        year, month = self.x.params.months()[0]
        start = dt.date(year, month, 1)
        start -= dt.timedelta(days=start.weekday())
        _, start_rects = self.resolver.resolve(table.timeline.start, None, coords, "timeline")
        _, end_rects = self.resolver.resolve(table.timeline.end, None, coords, "timeline")
        first = a1_range(None, *start_rects[0], anchor_columns=True)
        last = a1_range(None, *end_rects[0], anchor_columns=True)
        header_week, timeline, band = style("header_week"), style("timeline"), style("header_band")
        months = month_names(self.x.params.language)
        band_starts: list[int] = []
        for week in range(53):
            col = first_col + week
            monday = start + dt.timedelta(weeks=week)
            plan.put(header, col, Cell("text", header_week, monday))
            # The month band above: a month's name over the week its 1st falls in (the first week too).
            sunday = monday + dt.timedelta(days=6)
            first_of_month = sunday.replace(day=1) if week else max(monday, dt.date(year, month, 1))
            if week == 0 or monday <= first_of_month <= sunday:
                # Merged over the month's weeks: a page break between them cannot make it run over.
                name = f"{months[first_of_month.month - 1]} {first_of_month.year}"
                plan.put(header - 1, col, Cell("text", band, name))
                band_starts.append(col)
            plan.widths[col] = 3.2
            for row in range(header + 1, last_row + 1):
                plan.put(row, col, Cell("text", timeline, None))
        for start_col, end_col in zip(band_starts, band_starts[1:] + [first_col + 53]):
            if end_col - 1 > start_col:
                plan.merges.setdefault(header - 1, []).append((header - 1, start_col, header - 1, end_col - 1))
        title = plan.cells.placed.get((header - 1, 0))
        if title is not None and title.style == style("section"):
            title.style = style("section_wrap")  # the band stops it running on: it wraps instead
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
                r1, c1, r2, c2 = rectangles(cells)[0]
                series.append((self.x.text(placement.field.label), a1_range(sheet_name, r1, c1, r2, c2, absolute=True)))
                if categories is None:
                    header = self.plan.sheets[placement.sheet].repeat_rows[0]
                    categories = a1_range(sheet_name, header, c1, header, c2, absolute=True)
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
        """The lists sheet: one column per dropdown list, each with its defined name."""
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
                    "text",
                    style("header"),
                    self.x.text(f"list.{list_id}") if f"list.{list_id}" in self.x.labels else list_id,
                ),
            )
            plan.widths[col] = 24
            for row, value in enumerate(values, start=1):
                plan.put(row, col, Cell("text", style("text"), value))
            # Lists people extend (goals, the team): the name covers spare rows below the values, so
            # what they type there reaches every dropdown. A fixed range, not a formula: Google
            # Sheets keeps only plain ranges in names; the dropdowns ignore its blank cells.
            size = len(values) + EXTENDABLE_ROWS if sources[list_id] in EXTENDABLE_LISTS else max(len(values), 1)
            self.plan.names[LIST_PREFIX + list_id] = "=" + a1_range(plan.name, 1, col, size, col, absolute=True)
        plan.freeze = (1, 0)

    def place_start(self) -> None:
        """The Start here sheet: what the workbook is for, the sheets to fill in (those with inputs
        first, in order), the colours, how to add a row, the carry-over (budget) and how to get
        it checked. Appended last (the other sheets keep their indexes), written first."""
        x = self.x
        sheets = [(i, s) for i, s in enumerate(self.plan.sheets) if not s.hidden]
        with_inputs = {p.sheet for p in self.plan.items.values() if p.role == "input"}
        lists_name = x.text("common.lists_sheet") if x.lists else None
        plan = SheetPlan(x.text("start.sheet"), landscape=False, print_fixed=True, first=True)
        plan.put(0, 0, Cell("text", style("title"), x.text(x.blueprint.title)))
        plan.put(1, 0, Cell("text", style("subtitle"), x.text(x.blueprint.description)))
        plan.widths.update({0: 30, 1: 80})
        row = 3

        def section(key: str) -> None:
            nonlocal row
            plan.put(row, 0, Cell("text", style("section"), x.text(key)))
            row += 1

        def line(label: Any, text: str, look: str = "label") -> None:
            nonlocal row
            plan.put(row, 0, Cell("text", style(look), label))
            plan.put(row, 1, Cell("text", style("text"), text))
            row += 1

        section("start.order")
        ordered = sorted(self._input_order(sheets), key=lambda p: p[0] not in with_inputs and p[1].name != lists_name)
        for number, (index, sheet) in enumerate(ordered, start=1):
            if sheet.name == lists_name:
                what = x.text("start.lists")
            else:
                what = x.text("start.fill" if index in with_inputs else "start.read")
            line(f"{number}. {sheet.name}", what)
        row += 1
        section("start.colours")
        for look, key in (("input", "input"), ("formula", "formula"), ("total", "total"), ("na_formula", "na")):
            line("", x.text(f"start.colour.{key}"), look)
        line("", x.text("start.colour.status"))
        row += 1
        section("start.add")
        line("", x.text("start.add.text"))
        if "carry_over" in x.options:
            row += 1
            section("start.carry")
            line("", x.text("start.carry.text"))
            opening = self.plan.items.get("opening")  # placed only with opening_balance: yes
            if opening is not None:
                line(self.plan.sheets[opening.sheet].name, x.text("start.opening.text"))
        row += 1
        section("start.check")
        line("", x.text("start.check.text"))
        self.plan.sheets.append(plan)

    def _input_order(self, sheets: list[tuple[int, SheetPlan]]) -> list[tuple[int, SheetPlan]]:
        """The sheets in their order, but each after the sheets its formulas read (a KPI sheet after
        the month's figures it computes from)."""
        reads: dict[int, set[int]] = {index: set() for index, _ in sheets}
        for placement in self.plan.items.values():
            formula = placement.field.formula if placement.role == "formula" else None
            if formula is None or placement.sheet not in reads:
                continue
            for name, _ in fx.compiled(formula.tree(self.x.options)).refs:
                found = self.plan.items.get(name)
                if found is not None and found.sheet != placement.sheet and found.sheet in reads:
                    reads[placement.sheet].add(found.sheet)
        ordered: list[tuple[int, SheetPlan]] = []
        waiting = list(sheets)
        while waiting:  # the first sheet whose sources are all placed (a cycle: the first one left)
            ready = next((p for p in waiting if reads[p[0]] <= {i for i, _ in ordered}), waiting[0])
            ordered.append(ready)
            waiting.remove(ready)
        return ordered

    # -- validations, names, metadata

    def place_validations_and_names(self) -> None:
        """Every placed field's rectangles, defined names, and data validation of its inputs."""
        for name, placement in self.plan.items.items():
            store = placement.column
            if store is None and not placement._cells:
                continue
            plan = self.plan.sheets[placement.sheet]
            rects = placement.rects = (
                [(store.first_row, store.col, store.last_row, store.col)]
                if store is not None
                else rectangles([(r, c) for _, r, c in placement._cells])
            )
            base = NAME_PREFIX + name.replace(".", "_")
            for i, rect in enumerate(rects):
                suffix = "" if len(rects) == 1 else "_" + _rect_key(placement, rect, i)
                self.plan.names[base + suffix] = "=" + a1_range(plan.name, *rect, absolute=True)
            if placement.role == "input":
                options = self.validation(placement.field)
                for rect in rects:
                    plan.validations.append((*rect, options))

    def validation(self, item: Field) -> dict:
        """The data validation options (xlsxwriter's) of an input field."""
        x = self.x
        kind = item.type
        if kind in ("choice", "yesno"):
            field_list = next((l.field for l in x.blueprint.lists if l.id == item.list and l.field), None)
            source = f"={NAME_PREFIX}{field_list}" if field_list else f"={LIST_PREFIX}{item.list}"
            options: dict[str, Any] = {"validate": "list", "source": source}
            if not field_list and not x.lists.get(item.list):
                # Nothing in the list yet (a blank workbook's goals): warn, do not block the cell.
                options["error_type"] = "warning"
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


@lru_cache(maxsize=1024)
def sum_tree(name: str) -> tuple:
    """``SUM({name})``, one tree per name (across builds too) so that it compiles once."""
    return ("call", "SUM", (("ref", name, None),))


@lru_cache(maxsize=1024)
def _last_tree(name: str) -> tuple:
    return ("ref", name, "last")


def year_tree(measure: Field) -> tuple | None:
    """What a grid measure's year column computes: the sum or the last month."""
    if measure.year == "sum":
        return sum_tree(measure.id)
    if measure.year == "last":
        return _last_tree(measure.id)
    return None


_ROW = {"row": None}  # the coordinates of any row of a table of blank rows
# Lists (by source) that people extend on the Lists sheet, and the spare rows their names cover.
EXTENDABLE_LISTS = ("goals", "team")
EXTENDABLE_ROWS = 30

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


def _rect_key(placement: Placement, rect: Rect, index: int) -> str:
    for coords, row, col in placement.cells:
        if (row, col) == rect[:2]:
            # A line names its row well enough; its category would only repeat.
            skip = ("month", "category") if "line" in coords else ("month",)
            parts = [str(v) for k, v in sorted(coords.items()) if k not in skip]
            return "_".join(parts) if parts else str(index + 1)
    return str(index + 1)
