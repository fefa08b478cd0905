"""Where the plan's cells are now: people insert, delete and move rows in the workbooks we send.

The generator names every input and formula range (``smm_<item>``); spreadsheet apps move those
names with the cells. Pairing each name's planned range with its range in the file gives, per
sheet, a map from planned rows (and columns) to the file's; rows the plan does not name follow
the nearest named row above them. Plain Python: the reader has already turned the file into
data.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import dataclass, field

from smm_sheets.analyser.reader import SheetData, WorkbookData
from smm_sheets.plan import SheetPlan, WorkbookPlan
from smm_sheets.sheetref import column_letter, column_number, quote_sheet

# 'Sheet'!$A$1:$B$2, Sheet!A1, ... (the sheet part is optional in formulas)
_RANGE = re.compile(
    r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!]+))!"
    r"\$?(?P<c1>[A-Z]{1,3})\$?(?P<r1>\d+)(?::\$?(?P<c2>[A-Z]{1,3})\$?(?P<r2>\d+))?$"
)
# A cell or a range in a formula, outside string literals; not a function name (LOG10).
_REF = re.compile(
    r"(?<![\w.$'!])(?P<sheet>'(?:[^']|'')+'!|[^\W\d][\w.]*!)?"
    r"(?P<a>\$?[A-Z]{1,3}\$?\d+)(?::(?P<b>\$?[A-Z]{1,3}\$?\d+))?(?![\w(!])"
)
_CELL = re.compile(r"^(\$?)([A-Z]{1,3})(\$?)(\d+)$")
# Ranges up to this many rows are followed row by row where rows were sorted (blocks of lines);
# longer ones (columns of a table of blank rows, whose rows are not paired by labels) by their ends.
_SORTED_SPAN = 10_000
_ROW_NUMBERS = re.compile(r"[A-Za-z]\$?(\d+)")  # every row number a formula could name (and more)
_EVERY = 1 << 62  # AxisMap.same_below where nothing moved
_MOVED_KEPT = 4_096  # references remembered per sheet by CellMap.translate


# The same in OpenDocument's notation: $'Budget'.$D$6:.$O$6
_ODF_RANGE = re.compile(
    r"^\$?(?:'((?:[^']|'')+)'|([^'.]+))\.(\$?[A-Z]{1,3}\$?\d+)(?::\$?(?:'(?:[^']|'')+'|[^'.:]+)?\.(\$?[A-Z]{1,3}\$?\d+))?$"
)


def parse_range(text: str) -> tuple[str, tuple[int, int, int, int]] | None:
    """``'Budget'!$D$6:$O$6`` (or ODF's ``$'Budget'.$D$6:.$O$6``) -> ("Budget", (5, 3, 5, 14)),
    0-based; None if it is not one range."""
    text = text.strip().lstrip("=")
    odf = _ODF_RANGE.match(text)
    if odf is not None:
        sheet = odf.group(1).replace("''", "'") if odf.group(1) is not None else odf.group(2)
        text = quote_sheet(sheet) + "!" + odf.group(3) + (":" + odf.group(4) if odf.group(4) else "")
    found = _RANGE.match(text)
    if found is None:
        return None
    sheet = found["quoted"].replace("''", "'") if found["quoted"] is not None else found["plain"]
    r1, c1 = int(found["r1"]) - 1, column_number(found["c1"])
    r2, c2 = (int(found["r2"]) - 1, column_number(found["c2"])) if found["c2"] else (r1, c1)
    return sheet, (r1, c1, r2, c2)


@dataclass
class AxisMap:
    """Planned row (or column) numbers to the file's, on one sheet."""

    known: dict[int, int] = field(default_factory=dict)
    _keys: list[int] = field(default_factory=list)
    # Do the rows keep their order (False: rows were sorted or moved past each other)?
    ordered: bool = True
    same_below: int = 0  # see freeze()
    paired: set[tuple[int, int, int]] = field(default_factory=set, repr=False, compare=False)  # see _pair()

    def add(self, planned: int, actual: int) -> None:
        self.known.setdefault(planned, actual)

    def freeze(self) -> None:
        self._keys = sorted(self.known)
        images = [self.known[k] for k in self._keys]
        self.ordered = all(a < b for a, b in zip(images, images[1:]))
        # Every number below this one maps to itself (numbers below the first known one move with it).
        moved = [k for k in self._keys if self.known[k] != k]
        self.same_below = _EVERY if not moved else 0 if moved[0] == self._keys[0] else moved[0]

    @property
    def identity(self) -> bool:
        return all(k == v for k, v in self.known.items())

    def __call__(self, planned: int) -> int:
        found = self.known.get(planned)
        if found is not None:
            return found
        # Not named: it moved with the nearest named row above it (or below, at the top).
        i = bisect.bisect_right(self._keys, planned) - 1
        if i < 0:
            if not self._keys:
                return planned
            i = 0
        anchor = self._keys[i]
        return planned + self.known[anchor] - anchor


@dataclass
class SheetMap:
    """One planned sheet: its name in the file and its row and column maps."""

    planned_name: str
    name: str
    rows: AxisMap = field(default_factory=AxisMap)
    cols: AxisMap = field(default_factory=AxisMap)
    # Planned ranges whose names the file lost (#REF!: their cells were deleted).
    lost: list[str] = field(default_factory=list)
    # Ranges that grew in the file (rows inserted inside them): planned -> file rectangle.
    grown: list[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]] = field(default_factory=list)
    # Planned rows whose labels are gone from a range that shrank: deleted.
    deleted_rows: set[int] = field(default_factory=set)
    # The labels of those rows ("Marketing software and tools · Video editing software · Planned").
    deleted_labels: dict[int, str] = field(default_factory=dict)
    # A named range is wider or narrower than planned: columns were inserted or deleted in it.
    columns_changed: bool = False
    # Columns inserted among the months of a grid (found again by their header dates).
    inserted_cols: list[int] = field(default_factory=list)

    @property
    def identity(self) -> bool:
        return self.name == self.planned_name and self.rows.identity and self.cols.identity and not self.deleted_rows

    def locate(self, row: int, col: int) -> tuple[int, int]:
        return self.rows(row), self.cols(col)


class CellMap:
    """Every planned sheet's place in the file.

    Args:
        plan: the plan (its sheets, defined names and label cells).
        data: the file as read.
    """

    def __init__(self, plan: WorkbookPlan, data: WorkbookData):
        self.sheets = [SheetMap(s.name, s.name) for s in plan.sheets]
        self._identity: bool | None = None
        self._in_place: dict[int, bool] = {}  # translate(): sheet -> are all the others in place?
        self._moved: dict[int, dict[str, str]] = {}  # translate(): sheet -> reference -> where it is now
        by_name = {s.name: i for i, s in enumerate(plan.sheets)}
        self.names_found = 0
        pairs = []
        for name, planned_text in plan.names.items():
            planned = parse_range(planned_text)
            actual_text = data.defined_names.get(name)
            if planned is None or planned[0] not in by_name or actual_text is None:
                continue
            index = by_name[planned[0]]
            actual = parse_range(actual_text)
            if actual is None:  # '#REF!': the cells were deleted
                self.sheets[index].lost.append(name)
                continue
            pairs.append((index, planned[1], actual))
        # Each planned sheet is the file's sheet most of its names point to (it may be renamed);
        # a name edited to point elsewhere is ignored.
        votes: dict[int, dict[str, int]] = {}
        for index, _, (file_sheet, _) in pairs:
            votes.setdefault(index, {}).setdefault(file_sheet, 0)
            votes[index][file_sheet] += 1
        for index, sheet in enumerate(self.sheets):
            candidates = {k: v for k, v in votes.get(index, {}).items() if k in data.sheets}
            if candidates:
                sheet.name = max(candidates, key=candidates.get)
        pairs = [p for p in pairs if p[2][0] == self.sheets[p[0]].name]
        self.names_found = len(pairs)
        # Ranges that kept their size first: they place their rows for sure.
        pairs.sort(key=lambda p: _size(p[1]) != _size(p[2][1]))
        for index, (r1, c1, r2, c2), (file_sheet, (R1, C1, R2, C2)) in pairs:
            sheet = self.sheets[index]
            same = (r2 - r1, c2 - c1) == (R2 - R1, C2 - C1)
            if not same:
                sheet.grown.append(((r1, c1, r2, c2), (R1, C1, R2, C2)))
                if c2 - c1 != C2 - C1:
                    sheet.columns_changed = True
            _pair(sheet.cols, c1, c2, C1, C2)
            found = data.sheets.get(file_sheet)
            # Rows are told apart by their labels, not by their count: a row deleted and another
            # inserted in the same block, or rows sorted or moved, keep the block's size.
            aligned = None
            if found is not None and r2 > r1:
                aligned = _align_rows(plan.sheets[index], (r1, c1, r2), found, (R1, C1, R2), same)
            if aligned is None:
                _pair(sheet.rows, r1, r2, R1, R2)
                continue
            for planned_row, file_row, label in aligned:
                if file_row is None:
                    sheet.deleted_rows.add(planned_row)
                    sheet.deleted_labels[planned_row] = label
                else:
                    sheet.rows.add(planned_row, file_row)
        for index, sheet in enumerate(self.sheets):
            sheet.rows.freeze()
            sheet.cols.freeze()
            if sheet.columns_changed:
                _align_months(plan, index, sheet, data.sheets.get(sheet.name))

    @property
    def identity(self) -> bool:
        """Is every planned cell where the plan put it (computed once: the maps are final)?"""
        if self._identity is None:
            self._identity = all(sheet.identity for sheet in self.sheets)
        return self._identity

    def _others_in_place(self, sheet: int) -> bool:
        """Is every sheet but this one where the plan put it (its name too)?"""
        found = self._in_place.get(sheet)
        if found is None:
            found = self._in_place[sheet] = all(s.identity for i, s in enumerate(self.sheets) if i != sheet)
        return found

    def translate(self, text: str, sheet: int) -> str:
        """A formula's text, written for the plan's cells, rewritten for where they are now."""
        if self.identity:
            return text
        here = self.sheets[sheet]
        if (
            here.cols.same_below == _EVERY
            and not here.deleted_rows
            and here.name == here.planned_name
            and ("!" not in text or self._others_in_place(sheet))
        ):
            # Where no column moved and every other sheet is in place, a formula whose rows are all
            # above the first row that moved stays as it is (a table above rows people inserted).
            # Every letter-and-digits counts, names and text included: a false one only means the long way.
            rows = _ROW_NUMBERS.findall(text)
            if not rows or max(map(int, rows)) <= here.rows.same_below:
                return text
        index = {s.planned_name: i for i, s in enumerate(self.sheets)}
        # The maps are final: a reference written on this sheet moves the same way in every
        # formula (a table's formulas name the same lists and totals row after row).
        moved = self._moved.setdefault(sheet, {})

        def cached(found: re.Match) -> str:
            text = found.group(0)
            result = moved.get(text)
            if result is None:
                if len(moved) > _MOVED_KEPT:  # memory: a row's own cells are never asked for again
                    moved.clear()
                result = moved[text] = move(found)
            return result

        def move(found: re.Match) -> str:
            prefix = found["sheet"]
            target = here
            if prefix:
                planned = prefix[:-1]
                planned = planned[1:-1].replace("''", "'") if planned.startswith("'") else planned
                target = self.sheets[index[planned]] if planned in index else here
                prefix = quote_sheet(target.name) + "!"
            if not found["b"]:
                return (prefix or "") + _move_cell(found["a"], target)
            # A range whose first or last rows were deleted now spans the rows left inside it;
            # one whose rows were sorted spans them wherever they are now.
            first, last = _row_of(found["a"]), _row_of(found["b"])
            while first < last and first in target.deleted_rows:
                first += 1
            while last > first and last in target.deleted_rows:
                last -= 1
            if not target.rows.ordered and first < last <= first + _SORTED_SPAN:
                rows = [target.rows(r) for r in range(first, last + 1) if r not in target.deleted_rows]
                a, b = _move_cell(found["a"], target, first), _move_cell(found["b"], target, last)
                return (prefix or "") + _with_row(a, min(rows)) + ":" + _with_row(b, max(rows))
            return (prefix or "") + _move_cell(found["a"], target, first) + ":" + _move_cell(found["b"], target, last)

        return _outside_strings(text, lambda part: _REF.sub(cached, part))


def _align_months(plan: WorkbookPlan, index: int, sheet: SheetMap, found: SheetData | None) -> None:
    """Columns inserted into or deleted from a month grid: each month is found again by the
    date in its header cell. A month that is gone stays ``columns_changed``."""
    header = plan.items.get("month_start")
    if header is None or found is None:
        return
    months = set()
    for _, row, col in header._cells:
        cell = plan.sheets[header.sheet].cells.placed.get((row, col))
        if cell is not None and isinstance(cell.value, dt.date):
            months.add(cell.value)
    # The sheet's own header of month dates (its topmost row of them; another sheet than the
    # named header's may show the months too).
    rows: dict[int, dict[int, dt.date]] = {}
    for (row, col), cell in plan.sheets[index].cells.placed.items():
        if isinstance(cell.value, dt.date) and cell.value in months:
            rows.setdefault(row, {})[col] = cell.value
    if not rows:
        return
    top = min(rows)
    dates = {col: (top, day) for col, day in rows[top].items()}
    row = sheet.rows(next(iter(dates.values()))[0])
    if row >= len(found.rows):
        return
    where = {}
    for col, value in enumerate(found.rows[row]):
        day = value.date() if isinstance(value, dt.datetime) else value
        if isinstance(day, dt.date):
            where.setdefault(day, col)
    if not all(day in where for _, day in dates.values()):
        return  # a month was deleted: reading the grid would take the wrong columns
    known = dict(sheet.cols.known)
    for col, (_, day) in dates.items():
        known[col] = where[day]
    months = {where[day] for _, day in dates.values()}
    sheet.inserted_cols = [c for c in range(min(months), max(months) + 1) if c not in months]
    sheet.cols = AxisMap(known)
    sheet.cols.freeze()
    sheet.columns_changed = False


def _size(rect: tuple[int, int, int, int]) -> tuple[int, int]:
    return rect[2] - rect[0], rect[3] - rect[1]


def _align_rows(
    plan: SheetPlan, planned: tuple[int, int, int], found: SheetData, actual: tuple[int, int, int], same: bool
) -> list[tuple[int, int | None, str]] | None:
    """Planned rows of a named range paired with the file's rows by their labels (the text cells
    left of the range, wherever columns were inserted): (planned row, file row or None for a row
    that was deleted, its label). None when the rows are where the plan put them, or have no
    labels to tell them apart (tables of blank rows)."""
    r1, c1, r2 = planned
    R1, C1, R2 = actual
    first = [plan.cells.placed.get((r1, c)) for c in range(c1)]
    if not any(cell is not None and cell.kind == "text" for cell in first):
        return None  # no labels (a table of blank rows): nothing to pair by

    def planned_key(row: int) -> tuple | None:
        cells = [plan.cells.placed.get((row, c)) for c in range(c1)]
        if any(cell is not None and cell.kind != "text" for cell in cells):
            return None  # a spare line, labelled by people: placed by its label cell's own name
        return tuple(
            _label(cell.value) for cell in cells if cell is not None and cell.kind == "text" and _label(cell.value)
        )

    def file_key(row: int) -> tuple:
        cells = found.rows[row][: max(C1, 0)] if 0 <= row < len(found.rows) else ()
        return tuple(label for label in map(_label, cells) if label)

    all_keys = [planned_key(row) for row in range(r1, r2 + 1)]
    last_row = min(R2, len(found.rows) - 1)  # a name pointing far: the rows beyond the file's cells are blank
    file_rows = list(range(R1, last_row + 1))
    file_keys = {row: file_key(row) for row in file_rows}
    if same and all(key is None or file_keys.get(R1 + i) == key for i, key in enumerate(all_keys)):
        return None  # every row where it was
    # Spare lines (labels typed by people) are left out: their own names place them.
    planned_rows = [row for row, key in zip(range(r1, r2 + 1), all_keys) if key is not None]
    keys = [key for key in all_keys if key is not None]
    if len(set(keys)) != len(keys) or not keys or not all(keys):
        return None
    where: dict[tuple, list[int]] = {}
    for row in file_rows:
        where.setdefault(file_keys[row], []).append(row)
    matched: list[int | None] = []
    used: set[int] = set()
    for key in keys:
        candidates = [row for row in where.get(key, ()) if row not in used]
        matched.append(candidates[0] if candidates else None)
        if candidates:
            used.add(candidates[0])
    # A run of rows whose labels are gone, between two rows found, facing as many file rows
    # that no label claimed: the labels were edited (renamed), the rows are those.
    i = 0
    while i < len(keys):
        if matched[i] is not None:
            i += 1
            continue
        j = i
        while j < len(keys) and matched[j] is None:
            j += 1
        low = matched[i - 1] if i > 0 else R1 - 1
        high = matched[j] if j < len(keys) else last_row + 1
        free = [row for row in range(low + 1, high) if row not in used] if low < high else []
        if len(free) == j - i:
            matched[i:j] = free
            used.update(free)
        i = j
    return [(row, file_row, " · ".join(str(k) for k in key)) for row, file_row, key in zip(planned_rows, matched, keys)]


def _label(value) -> str:
    """A label cell's text as rows are paired by it (numbers and dates are no labels)."""
    return value.strip() if isinstance(value, str) else ""


def _pair(axis: AxisMap, p1: int, p2: int, a1_: int, a2: int) -> None:
    if p2 - p1 == a2 - a1_:
        # Every column of a table names the same rows: a range is paired once (a second pairing
        # of it would add nothing, as the first pairing of a number wins).
        if (p1, p2, a1_) in axis.paired:
            return
        axis.paired.add((p1, p2, a1_))
        span, known = range(p1, p2 + 1), axis.known
        if known.keys().isdisjoint(span):
            known.update(zip(span, range(a1_, a2 + 1)))
        else:
            for i in range(p2 - p1 + 1):
                axis.add(p1 + i, a1_ + i)
    else:  # grown or shrunk: the ends are sure, the inside is not
        axis.add(p1, a1_)
        axis.add(p2, a2)


def _with_row(text: str, row: int) -> str:
    dollar_col, letters, dollar_row, _ = _CELL.match(text).groups()
    return f"{dollar_col}{letters}{dollar_row}{row + 1}"


def _row_of(text: str) -> int:
    return int(_CELL.match(text).group(4)) - 1


def _move_cell(text: str, sheet: SheetMap, planned_row: int | None = None) -> str:
    dollar_col, letters, dollar_row, digits = _CELL.match(text).groups()
    row, col = sheet.locate(int(digits) - 1 if planned_row is None else planned_row, column_number(letters))
    return f"{dollar_col}{column_letter(col)}{dollar_row}{row + 1}"


def _outside_strings(text: str, change) -> str:
    """Apply ``change`` to the parts of a formula that are not string literals."""
    if '"' not in text:
        return change(text)
    parts = re.split(r'("(?:[^"]|"")*")', text)
    return "".join(part if i % 2 else change(part) for i, part in enumerate(parts))


def formula_ranges(text: str) -> list[tuple[str | None, tuple[int, int, int, int]]]:
    """The cells and ranges a formula names: (sheet or None, 0-based rectangle)."""
    found: list[tuple[str | None, tuple[int, int, int, int]]] = []

    def collect(part: str) -> str:
        for match in _REF.finditer(part):
            prefix = match["sheet"]
            sheet = None
            if prefix:
                sheet = prefix[:-1]
                sheet = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
            a = _CELL.match(match["a"]).groups()
            r1, c1 = int(a[3]) - 1, column_number(a[1])
            r2, c2 = r1, c1
            if match["b"]:
                b = _CELL.match(match["b"]).groups()
                r2, c2 = int(b[3]) - 1, column_number(b[1])
            found.append((sheet, (min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))))
        return part

    _outside_strings(text, collect)
    return found
