"""How far a sheet's cells really reach, and the cells python-calamine must not be given.

python-calamine expands a sheet into the dense rectangle from A1 to its farthest cell: one stray
cell at ``XFD1048576`` asks for 17 billion cells and the process aborts (a failed allocation in
Rust cannot be caught). So the worksheet scan (:mod:`.scan`) notes where the cells that exist
are (not what the ``dimension`` element claims), and before calamine reads the file:

* a sheet whose used range fits in ``Limits.max_sheet_cells`` is read as it is;
* otherwise the sheet's core is the block of rows and columns up to the first wide gap, and the
  cells beyond it are *far cells*: dropped from the copy calamine reads, and reported
  (finding ``far-cell``) with their address; a core still over the limit refuses the file;
* a number cell holding ``inf`` or ``nan`` (which no spreadsheet stores, and which makes calamine
  panic when the cell is formatted as a date) is dropped the same way (finding ``bad-number``).

The copy is made in memory; the file on disk is never touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from operator import itemgetter

from smm_sheets.sheetref import a1, column_number

ROW_GAP = 1_000  # empty rows that end a sheet's core
COLUMN_GAP = 100  # empty columns that end it


@dataclass
class SheetExtent:
    """Where one worksheet's cells are: the rows and columns that hold any (0-based), their count."""

    rows: set[int] = field(default_factory=set)
    cols: set[int] = field(default_factory=set)
    cells: int = 0
    bad: dict[tuple[int, int], str] = field(default_factory=dict)  # non-finite numbers: position -> text

    def add_refs(self, cells: list[tuple[bytes, ...]], letters_at: int = 0) -> None:
        """Note cells from tuples holding their ``r`` attribute's column letters at ``letters_at``
        and row digits just after."""
        self.cells += len(cells)
        for letters in set(map(itemgetter(letters_at), cells)):
            self.cols.add(column_number(letters.decode("ascii").upper()))
        self.rows.update(int(digits) - 1 for digits in set(map(itemgetter(letters_at + 1), cells)))

    def add(self, row: int, col: int) -> None:
        self.cells += 1
        self.rows.add(row)
        self.cols.add(col)

    def area(self) -> int:
        """Cells of the dense rectangle from A1 that calamine would make."""
        if not self.cells:
            return 0
        return (max(self.rows) + 1) * (max(self.cols) + 1)


def core(extent: SheetExtent, max_cells: int) -> tuple[int, int] | None:
    """The last row and column (0-based) of the sheet's core where its used range is over
    ``max_cells``; None where it fits.

    The core ends at the first gap of more than :data:`ROW_GAP` empty rows (or :data:`COLUMN_GAP`
    columns): a far stray cell is cut off, a long table of posts is not.
    """
    if extent.area() <= max_cells:
        return None
    return _before_gap(extent.rows, ROW_GAP), _before_gap(extent.cols, COLUMN_GAP)


def _before_gap(numbers: set[int], gap: int) -> int:
    last = -1
    for number in sorted(numbers):
        if number - last > gap and last >= 0:
            break
        last = number
    return last


def too_large(sheet: str, extent: SheetExtent, last: tuple[int, int], max_cells: int) -> str:
    """The reason a sheet whose core is over the limit is refused."""
    return (
        f"sheet {sheet!r} holds {extent.cells:,} cells spread over A1:{a1(*last)} "
        f"({(last[0] + 1) * (last[1] + 1):,} cells to read; the limit is {max_cells:,})"
    )


@dataclass
class DroppedCell:
    """A cell left out of what calamine reads: ``far-cell`` or ``bad-number``."""

    sheet: str
    cell: str
    reason: str  # "far" or "bad-number"
    text: str = ""  # the bad number's text


_CELL = re.compile(
    rb"<(?P<p>[A-Za-z_][\w.-]*:)?c(?=[\s/>])(?P<attrs>[^>]*?)(?:/>|(?<!/)>.*?</(?P=p)?c>)",
    re.DOTALL,
)
_CONTENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:v|is)[\s>]")
_R = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]+)\$?([0-9]+)["']""")


def drop_cells(xml: bytes, keep_last: tuple[int, int] | None, bad: dict[tuple[int, int], str]) -> tuple[bytes, list]:
    """A worksheet part without the cells beyond ``keep_last`` (row, col) and the ``bad`` ones.

    Returns:
        The new XML, and the dropped cells that held something as ``(row, col)``; None instead
        of the XML where a cell has no ``r`` attribute (it cannot be told where it is without
        counting).
    """
    dropped: list[tuple[int, int]] = []
    unplaced = False

    def one(match: re.Match) -> bytes:
        nonlocal unplaced
        ref = _R.search(match.group("attrs"))
        if ref is None:
            unplaced = True
            return match.group(0)
        position = int(ref.group(2)) - 1, column_number(ref.group(1).decode("ascii").upper())
        far = keep_last is not None and (position[0] > keep_last[0] or position[1] > keep_last[1])
        if far or position in bad:
            if _CONTENT.search(match.group(0)):  # an empty cell (a style reaching far) goes unreported
                dropped.append(position)
            return b""
        return match.group(0)

    start = xml.find(b"sheetData")
    head, body = xml[:start], xml[start:]
    body = _CELL.sub(one, body)
    return (None if unplaced else head + body), dropped
