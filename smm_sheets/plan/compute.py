"""Evaluation of a placed plan: every formula's A1 text and value, computed on demand and kept.

:class:`Computation` is the evaluation state of one plan (values being computed, the memo of
row formulas); :class:`Evaluator` is its public face for templates that stand in no cell (the
analyser's totals and checks). What is made is chosen by a :class:`Mode`.
"""

from __future__ import annotations

import enum
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import Rows
from smm_sheets.errors import InputError
from smm_sheets.plan.cells import LINE_LABEL, TODO, Cell, ColumnStore, WorkbookPlan
from smm_sheets.plan.expand import Expanded, block_rows
from smm_sheets.plan.resolve import Rects, Resolver, a1_range
from smm_sheets.sheetref import column_letter, quote_sheet, serial

_PLAIN = (float, str, bool, type(None))
_PENDING = object()  # a formula row being computed (to catch circular references)
_RANGE_KEPT_CELLS, _RANGES_KEPT = 256, 20_000  # Computation._ranges: bounded, for memory
_TEXT = ("", "text")  # where Computation._resolve leaves the A1 text among the references (no field is "")


class Mode(enum.Enum):
    """What a computation makes of each formula."""

    # The generator's workbook: the A1 text and the cached value.
    TEXT_AND_VALUES = "text and values"
    # The analyser's plan to compare a file against: the A1 text only.
    TEXT = "text"
    # The analyser's recomputation from a file's inputs: values only (the text comes from its first plan).
    VALUES = "values"

    @property
    def text(self) -> bool:
        """Are formulas' A1 texts made?"""
        return self is not Mode.VALUES

    @property
    def values(self) -> bool:
        """Are formulas' values computed?"""
        return self is not Mode.TEXT


class Computation:
    """The formulas of one placed plan: their A1 text and values, computed once and kept in the
    plan's cells and column stores."""

    def __init__(self, plan: WorkbookPlan, expanded: Expanded, resolver: Resolver, mode: Mode):
        self.plan = plan
        self.x = expanded
        self.resolver = resolver
        self.mode = mode
        self.with_text, self.with_values = mode.text, mode.values  # asked for every formula cell
        self._last: tuple[tuple, fx.Compiled] | None = None
        # A formula column, or (template, block) for the evaluator's templates -> (the row's own
        # columns it reads, results by their values), or False. By content or by the plan's own
        # store, never by id(): this lives as long as the plan.
        self._row_memo: dict[ColumnStore | tuple[tuple, str], Any] = {}
        # The values of small rectangles read so far, by (sheet, *rectangles): every cell in one
        # is computed before it is made, and stays as it is (grid totals and the report's
        # figures read the same months and lines again and again).
        self._ranges: dict[tuple, fx.Range] = {}
        # A formula column -> its text pattern and references (see _row_text), in Mode.TEXT.
        self._row_texts: dict[ColumnStore, tuple[str, list]] = {}

    def program(self, tree: tuple) -> fx.Compiled:
        """The compiled form of a template. The cells of a row or a column mostly share one
        template, asked for in a row: the last one is kept, so that the bounded cache of
        :func:`~smm_sheets.formula.compiled` (which hashes the whole tree) is asked once per run."""
        last = self._last
        if last is None or last[0] is not tree:
            last = self._last = (tree, fx.compiled(tree))
        return last[1]

    def finish(self, formula_cells: list[list[tuple[tuple[int, int], Cell]]] | None = None) -> None:
        """Compute every formula cell and every formula row of the plan.

        Args:
            formula_cells: each sheet's formula cells still to compute, in the plan's order, when
                the caller knows them (:func:`~smm_sheets.plan.evaluate`): the other cells are not walked.
        """
        for s, plan in enumerate(self.plan.sheets):
            cells = plan.cells.placed.items() if formula_cells is None else formula_cells[s]
            for (row, col), cell in cells:
                if cell.tree is not None:
                    self.value(s, row, col, cell)
            for store in plan.stores:
                if store.kind == "formula":
                    values = store.values
                    for index in range(len(values)):
                        if values[index] is TODO:
                            self.store_value(store, index)
        self.resolver.clear()

    def value(self, sheet: int, row: int, col: int, cell: Cell | None = None) -> Any:
        """A cell's value as formulas see it; computes (and caches) formula cells on demand."""
        if cell is None:
            cell = self.plan.sheets[sheet].cells.placed.get((row, col))
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
        if not self.with_values:
            # The text only: the template, coordinates and resolved references stay, for
            # :func:`smm_sheets.plan.evaluate` (which then resolves nothing again).
            if cell.formula is None:
                cell.refs = {}
                cell.formula = self.compute(sheet, cell.tree, cell.coords, cell.owner, keep=cell.refs)[0]
            return None
        coords, cell.coords = cell.coords, None  # marks the cell as being computed
        cell.formula, cell.value = self.compute(sheet, cell.tree, coords, cell.owner, resolved=cell.refs)
        cell.tree = cell.refs = None
        return cell.value

    def store_value(self, store: ColumnStore, index: int) -> Any:
        """One row of a column store as formulas see it; computes formula rows on demand."""
        value = store.values[index]
        if store.kind != "formula":
            return value if value.__class__ in _PLAIN else serial(value)
        if value is TODO:
            store.values[index] = _PENDING
            if not self.with_values:
                store.texts[index] = self._row_text(store, index)
                store.values[index] = None
            elif self.with_text:
                store.texts[index], store.values[index] = self.compute(
                    store.sheet, store.tree, {"row": (store.block_id, index)}, store.field.id
                )
            else:
                store.values[index] = self.row_value(
                    store.tree, store.sheet, store.block_id, index, store.field.id, column=store
                )
            return store.values[index]
        if value is _PENDING:
            raise InputError(f"{self.x.blueprint.source}: circular reference through {store.field.id}")
        return value

    def _row_text(self, store: ColumnStore, index: int) -> str:
        """A formula row's A1 text (:attr:`Mode.TEXT`), from the text its column's references
        make in every row: a reference to a column of the same table is that row's cell, any
        other the same cells in every row (see :meth:`Resolver.resolve`)."""
        parts = self._row_texts.get(store)
        if parts is None:
            # The first row asked for is resolved in full: what it raises, every row would.
            text = self.compute(store.sheet, store.tree, {"row": (store.block_id, index)}, store.field.id)[0]
            self._row_texts[store] = self._row_parts(store, index)
            return text
        pattern, pieces = parts
        return pattern.format(
            *[piece if piece.__class__ is str else piece[0] + str(piece[1] + index) for piece in pieces]
        )

    def _row_parts(self, store: ColumnStore, index: int) -> tuple[str, list]:
        """A formula column's text pattern, and for each reference its text (the same in every
        row) or (A1 text before the row number, first row of the column referred to)."""
        program = self.program(store.tree)
        here = self.plan.sheets[store.sheet].name
        coords = {"row": (store.block_id, index)}
        pieces: list[Any] = []
        for name, modifier in program.refs:
            if modifier == "label":
                text = self.x.text(name)
                pieces.append('"' + text.replace('"', '""') + '"')
                continue
            placement = self.plan.items[name]
            column = placement.column
            target = self.plan.sheets[placement.sheet].name
            prefix = "" if target == here else quote_sheet(target) + "!"
            if column is not None and column.block_id == store.block_id and modifier != "all":
                pieces.append((prefix + column_letter(column.col), column.first_row + 1))
            else:
                target_index, rects = self.resolver.resolve(name, modifier, coords, store.field.id)
                target = self.plan.sheets[target_index].name
                pieces.append(",".join(a1_range(None if target == here else target, *rect) for rect in rects))
        return program.pattern, pieces

    def row_value(
        self,
        tree: tuple,
        sheet: int,
        block_id: str,
        index: int,
        owner: str,
        lenient: bool = False,
        column: ColumnStore | None = None,
    ) -> Any:
        """A formula row's value, remembered by the values of the row's own cells it reads.

        The analyser recomputes 100,000 posts: rows that read the same values (a channel's
        caption limit) give the same result. A formula whose other references are not the same
        for every row is computed row by row.

        Args:
            lenient: see :meth:`compute`.
            column: the formula column the row belongs to (its memo is found without hashing
                the template for every row).
        """
        memo_key = column if column is not None else (tree, block_id)
        memo = self._row_memo.get(memo_key)
        if memo is None:
            memo = self._row_memo[memo_key] = self.row_references(tree, block_id)
        coords = {"row": (block_id, index)}
        if memo is False:
            return self.compute(sheet, tree, coords, owner, lenient)[1]
        locals_, results = memo
        # With the types: True and 1.0 are equal keys, but not the same to ISNUMBER.
        typed = []
        for local in locals_:
            value = local.values[index]
            if value.__class__ not in _PLAIN:  # a date, a formula row not computed yet, an error
                value = self.store_value(local, index)
            typed.append((value.__class__, value))
        key = tuple(typed)
        try:
            return results[key]
        except KeyError:
            found = results[key] = self.compute(sheet, tree, coords, owner, lenient)[1]
            return found
        except TypeError:  # a value that cannot be a key
            return self.compute(sheet, tree, coords, owner, lenient)[1]

    def row_references(self, tree: tuple, block_id: str) -> tuple[list[ColumnStore], dict] | bool:
        """The columns of its own row a row formula reads, if all else it reads is the same for
        every row (False otherwise)."""
        locals_ = []
        for name, modifier in self.program(tree).refs:
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
            if store.kind != "formula":  # inputs and constants: as store_value() gives them, in one go
                values = [value if value.__class__ in _PLAIN else serial(value) for value in store.values]
            else:
                values = [self.store_value(store, i) for i in range(len(store.values))]
            store._range = fx.Range(values, keep=True)
        return store._range

    def compute(
        self,
        sheet: int,
        tree: tuple,
        coords: dict,
        owner: str,
        lenient: bool = False,
        keep: dict | None = None,
        resolved: dict | None = None,
    ) -> tuple[str, Any]:
        """The A1 text and the value of a template in a cell at ``coords``.

        Args:
            sheet: the sheet the template stands on (references to it are written without its name).
            tree: the parsed template.
            coords: the coordinates of the cell it stands in.
            owner: the field it belongs to, for messages.
            lenient: a reference with no cells here is a blank (the analyser's checks), not an error.
            keep: a dict to fill with the references resolved (reference -> (sheet, rectangles)).
            resolved: the references as a ``keep`` of an earlier computation of the same template
                at the same coordinates made them: nothing is resolved again.

        Returns:
            (A1 text or None in :attr:`Mode.VALUES`, value or None in :attr:`Mode.TEXT`).

        Raises:
            InputError: a reference that is not one rectangle where one is needed, or (unless
                ``lenient``) has no cells here; a circular reference.
        """
        program = self.program(tree)
        if resolved is not None and not self.with_text:
            refs = resolved
        else:
            refs = self._resolve(sheet, program, coords, owner, lenient, keep)
            if not self.with_values:
                return refs.pop(_TEXT), None
        return refs.pop(_TEXT, None), self._run(program, refs)

    def _resolve(
        self, sheet: int, program: fx.Compiled, coords: dict, owner: str, lenient: bool, keep: dict | None
    ) -> dict:
        """The references of a template resolved to (sheet, rectangles), and its A1 text under
        :data:`_TEXT` when the mode makes text."""
        here = self.plan.sheets[sheet].name
        with_text = self.with_text
        refs = keep if keep is not None else {}
        texts = []
        for ref in program.refs:
            if ref[1] == "label":  # a label's text, as a string constant
                text = self.x.text(ref[0])
                refs[ref] = (None, text)
                texts.append('"' + text.replace('"', '""') + '"')
                continue
            try:
                target, rects = refs[ref] = self.resolver.resolve(ref[0], ref[1], coords, owner)
            except InputError:
                if not lenient:
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
            if (len(rects) > 1 or r1 != r2 or c1 != c2) and ref not in program.arguments:
                cells = sum((b[2] - b[0] + 1) * (b[3] - b[1] + 1) for b in rects)
                raise InputError(
                    f"{self.x.blueprint.source}: {owner}: {{{ref[0]}}} means {cells} cells here, where one value "
                    "is expected (give it to a function such as SUM, or refer to one cell)"
                )
            if with_text:
                sheet_name = self.plan.sheets[target].name
                same_sheet = sheet_name == here
                if rects.__class__ is Rects:  # a grid's group: its text is made once
                    text = rects.texts.get(same_sheet)
                    if text is None:
                        text = rects.texts[same_sheet] = _a1_text(None if same_sheet else sheet_name, rects)
                else:
                    text = _a1_text(None if same_sheet else sheet_name, rects)
                texts.append(text)
        if with_text:
            refs[_TEXT] = program.pattern.format(*texts)
        return refs

    def _run(self, program: fx.Compiled, refs: dict) -> Any:
        """A template's value, its references resolved (see :meth:`_resolve`)."""
        ranges, sheets = self._ranges, self.plan.sheets

        def lookup(name: str, modifier: str | None) -> Any:
            target, rects = refs[(name, modifier)]
            if target is None:
                return rects  # a label's text
            plan = sheets[target]
            if len(rects) == 1:
                r1, c1, r2, c2 = rects[0]
                if r1 == r2 and c1 == c2:
                    # Still a range: COUNT(A1) of a blank cell is 0, SUM(A1) of text is 0.
                    found = plan.cells.placed.get((r1, c1))
                    # An input, a text or a formula computed already: its value as value() gives it.
                    if found is not None and found.tree is None and found.value.__class__ in _PLAIN:
                        return fx.Range((found.value,))
                    return fx.Range((self.value(target, r1, c1, found),))
            key = (target, *rects)
            found = ranges.get(key)
            if found is not None:
                return found
            if len(rects) == 1 and c1 == c2:
                store = plan.store_at(r1, c1)
                if store is not None and (r1, r2) == (store.first_row, store.last_row):
                    # Kept on the store already: found again here without looking for the store.
                    found = self.column_range(store)
                    if len(ranges) < _RANGES_KEPT:
                        ranges[key] = found
                    return found
            get = plan.cells.placed.get
            values: list = []
            append = values.append
            for r1, c1, r2, c2 in rects:
                for r in range(r1, r2 + 1):
                    for c in range(c1, c2 + 1):
                        found = get((r, c))
                        # An input, a text or a formula computed already: its value as value() gives it.
                        if found is not None and found.tree is None and found.value.__class__ in _PLAIN:
                            append(found.value)
                        else:
                            append(self.value(target, r, c, found))
            found = fx.Range(values)
            if len(values) <= _RANGE_KEPT_CELLS and len(ranges) < _RANGES_KEPT:
                ranges[key] = found
            return found

        result = program.run(lookup)
        if isinstance(result, fx.Range):
            result = result.values[0] if len(result.values) == 1 else fx.VALUE
        if result is None:
            result = 0.0  # a formula pointing at a blank cell shows 0
        return result


def _a1_text(sheet_name: str | None, rects: list) -> str:
    """The A1 text of a reference's rectangles (a list, as several areas go into SUM)."""
    if len(rects) == 1:
        return a1_range(sheet_name, *rects[0])
    return ",".join(a1_range(sheet_name, *rect) for rect in rects)


class Evaluator:
    """Formula templates evaluated in a built plan, as if they stood in a cell at ``coords``."""

    def __init__(self, computation: Computation):
        self._computation = computation

    def value(self, tree: tuple, coords: dict, sheet: int = 0) -> Any:
        """The value of a parsed template (``formula.parse``) at ``coords`` (e.g. ``{"month": 2}``).

        A field with no cells at ``coords`` (the carry-over of a line that has none) is blank.
        """
        computation = self._computation
        row = coords.get("row")
        if row is not None and len(coords) == 1 and not computation.mode.text:
            return computation.row_value(tree, sheet, row[0], row[1], "report", lenient=True)
        return computation.compute(sheet, tree, coords, "report", lenient=True)[1]

    @property
    def lists(self) -> dict[str, list[str]]:
        """The dropdown lists' values, as the workbook shows them (list id -> values)."""
        return self._computation.x.lists

    def rows(self, source: str) -> list[tuple[dict, str]]:
        """(coordinates, label) of each row of ``source``: months, lines, categories or channels.

        A spare line is a line of the plan once people use it: named by the label they typed (or
        "unnamed line N of <category>" when they typed amounts only); unused, it is no row.
        """
        x = self._computation.x
        found = [(coords, label) for coords, label, _, _, _ in block_rows(x, Rows(source), "report")]
        spare = {line.id for line in x.lines if line.spare}
        if source != "lines" or not spare:
            return found
        typed, used = self._spare_lines(spare)
        categories = dict(x.categories)
        rows = []
        for coords, label in found:
            line = coords["line"]
            if line not in spare:
                rows.append((coords, label))
            elif line in used:
                number = line.rsplit("_", 1)[1]
                rows.append((coords, typed.get(line) or f"unnamed line {number} of {categories[coords['category']]}"))
        return rows

    def _spare_lines(self, spare: set[str]) -> tuple[dict[str, str], set[str]]:
        """The labels typed for spare lines, and the spare lines with a label or any input."""
        plan = self._computation.plan
        typed: dict[str, str] = {}
        used: set[str] = set()
        for name, placement in plan.items.items():
            if placement.role != "input" or placement.column is not None:
                continue
            cells = plan.sheets[placement.sheet].cells.placed
            for coords, row, col in placement.cells:
                line = coords.get("line")
                if line not in spare:
                    continue
                cell = cells.get((row, col))
                value = cell.value if cell is not None else None
                if value is None or (isinstance(value, str) and not value.strip()):
                    continue
                used.add(line)
                if name == LINE_LABEL:
                    typed[line] = str(value).strip()
        return typed, used
