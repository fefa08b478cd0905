"""Sizes a person would give the sheets: columns that fit the longest words, rows as tall as
their wrapped text, and a print scale at which the text stays readable.

Neither Excel nor LibreOffice grows a row for wrapped text when it opens a file, and neither
narrows a page's text to fit: the generator has to size them from the text, the column widths
and the font. Widths of text are estimated from Arial's character widths (LibreOffice prints
it as Liberation Sans, which has the same metrics), on the generous side.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from smm_sheets.plan.cells import SheetPlan, Style

# Arial's advance widths in 1/1000 em, by character class.
_NARROW = set("ijlI|!.,:;'`")
_THIN = set('frt()[]{}/\\- "')
_WIDE = set("mwMWшщжюмШЩЖЮМæœŒÆ@%")
_EM = 1000.0
DEFAULT_WIDTH = 8.43  # a column's width in characters when the sheet does not set it
DEFAULT_HEIGHT = 15.0  # a row's height in points where the sheet does not set it (xlsxwriter's default)
MAX_WIDTH = 60.0  # a column widened for a long word stops here (the word then breaks)
# A4 in points, and the margins the generator sets (0.4 in left and right, 0.5 in top and bottom).
PAGE_SHORT, PAGE_LONG = 595.0, 842.0
MARGIN_SIDE, MARGIN_TOP = 0.4 * 72, 0.5 * 72
FOOTER_ROOM = 24.0  # points the footer takes from the page's height
MIN_PRINTED_POINTS = 6.1  # no text prints smaller (a little over the 6 pt the tests require)


@dataclass(frozen=True)
class Font:
    """What sizing needs of a cell's format."""

    size: float = 10.0
    bold: bool = False
    wrap: bool = False


@lru_cache(maxsize=4096)  # a few hundred characters; every workbook of a batch measures the same ones
def char_width(ch: str) -> float:
    """One character's width in 1/1000 em (Arial)."""
    if ch in _NARROW:
        return 278
    if ch in _THIN:
        return 333
    if ch in _WIDE:
        return 900
    if ch.isdigit():
        return 556
    base = unicodedata.normalize("NFD", ch)[0]
    if base != ch:
        return char_width(base)
    if ch.isupper():
        return 722
    return 580 if ch.isalpha() and ord(ch) < 0x250 else 620


@lru_cache(maxsize=1 << 16)  # labels and words repeat in every workbook and every client of a batch
def text_points(text: str, font: Font) -> float:
    """The printed width of ``text`` in points at 100 %, a little over Arial's."""
    width = sum(char_width(ch) for ch in text) * font.size / _EM
    return width * (1.1 if font.bold else 1.03)


@lru_cache(maxsize=1 << 16)  # a text's words are measured once, however many workbooks show it
def longest_word_points(text: str, font: Font) -> float:
    """The printed width of the longest word of ``text`` in points (0 for no word)."""
    return max((text_points(word, font) for word in text.split()), default=0)


def column_points(width: float) -> float:
    """A column of ``width`` characters in points (Excel's pixels: 7 per character and 5; LibreOffice
    prints Arial's characters some 6 % wider)."""
    return (int(width * 7 + 0.5) + 5) * 0.75 * 1.06 if width > 0 else 0.0


def width_for_points(points: float) -> float:
    """The column width in characters that gives ``points`` of room for text."""
    return (points / 0.75 / 1.06 - 5) / 7


_PADDING = 6.0  # points a cell keeps free left and right of its text


@lru_cache(maxsize=1 << 16)  # the same texts in the same columns, workbook after workbook
def lines_needed(text: str, width: float, font: Font) -> int:
    """How many lines ``text`` wraps to in a column ``width`` characters wide."""
    room = max(column_points(width) - _PADDING, 1.0)
    space = text_points(" ", font)
    lines = 0
    for paragraph in str(text).split("\n"):
        lines += 1
        used = 0.0
        for word in paragraph.split():
            size = text_points(word, font)
            if size > room:  # a word longer than the line is broken (where the app sees fit: one more)
                lines += (used > 0) + math.ceil(size / room)
                used = size % room
                continue
            if used and used + space + size > room:
                lines += 1
                used = size
            else:
                used += (space if used else 0) + size
    return max(lines, 1)


def row_points(lines: int, font: Font) -> float:
    return lines * font.size * 1.22 + 4


SQUEEZE_FLOOR = 18.0  # a column of wrapped text is not narrowed under this many characters
SQUEEZE_CAP = 30.0  # nor under its longest word, up to this many characters


def fit_sheet(sheet: SheetPlan, font_of: Callable[[Style], Font], last_col: int, smallest_font: float) -> None:
    """Widen columns to the longest word of their wrapped text; where the columns would not fit
    a landscape page at a readable scale, narrow the wide columns of wrapped text (not under
    their longest word); then grow rows to their text.

    Changes ``sheet.widths`` and ``sheet.heights`` in place; the title, subtitle and section
    rows are left alone (their text runs on over the empty cells to the right).
    """
    texts = list(_wrapped_texts(sheet, font_of))
    floors: dict[int, float] = {}
    for _, col, text, font in texts:
        longest = longest_word_points(text, font)
        needed = min(width_for_points(longest + _PADDING), MAX_WIDTH)
        # A word longer than the floor (a link) breaks rather than keep the sheet off the page.
        floors[col] = max(floors.get(col, SQUEEZE_FLOOR), min(needed, SQUEEZE_CAP))
        if needed > sheet.widths.get(col, DEFAULT_WIDTH):
            sheet.widths[col] = round(needed, 1)
    _squeeze(sheet, floors, last_col, smallest_font)
    for row, col, text, font in texts:
        lines = lines_needed(text, sheet.widths.get(col, DEFAULT_WIDTH), font)
        if lines > 1 or font.size > 10:
            height = round(row_points(lines, font), 1)
            if height > sheet.heights.get(row, DEFAULT_HEIGHT):
                sheet.heights[row] = height


def _squeeze(sheet: SheetPlan, floors: dict[int, float], last_col: int, smallest_font: float) -> None:
    """Narrow the columns of wrapped text, each as far as its floor, until the sheet fits."""
    widths = [sheet.widths.get(col, DEFAULT_WIDTH) for col in range(last_col + 1)]
    room = (PAGE_LONG - 2 * MARGIN_SIDE) * 100 / math.ceil(100 * MIN_PRINTED_POINTS / smallest_font)
    excess = sum(column_points(w) for w in widths) - room
    give = {col: sheet.widths[col] - floor for col, floor in floors.items() if sheet.widths.get(col, 0) > floor}
    spare = sum(column_points(floors[col] + g) - column_points(floors[col]) for col, g in give.items())
    if excess <= 0 or spare < excess:  # fits already, or cannot be made to: the columns go on over pages
        return
    share = excess / spare
    for col, g in give.items():
        sheet.widths[col] = round(sheet.widths[col] - g * share - 0.2, 1)


def _wrapped_texts(sheet: SheetPlan, font_of: Callable[[Style], Font]) -> Iterable[tuple[int, int, str, Font]]:
    for (row, col), cell in sheet.cells.placed.items():
        if isinstance(cell.value, str) and cell.value:
            font = font_of(cell.style)
            if font.wrap:
                yield row, col, cell.value, font
    for store in sheet.stores:
        font = font_of(store.style)
        if not font.wrap:
            continue
        for index, value in enumerate(store.values):
            if isinstance(value, str) and value:
                yield store.first_row + index, store.col, value, font


@dataclass(frozen=True)
class PageSetup:
    """How a sheet prints: orientation, scale in %, and whether it takes more than a page across."""

    landscape: bool
    scale: int
    across: bool


def page_setup(widths: list[float], smallest_font: float, landscape: bool | None = None) -> PageSetup:
    """The orientation and scale of a sheet whose printed columns have ``widths``.

    Portrait when the columns fit a portrait page at a readable scale, else landscape (or as
    ``landscape`` says); the scale fits the width to the page, but never makes the smallest
    text print under :data:`MIN_PRINTED_POINTS`: then the columns go on over several pages.
    """
    total = sum(column_points(w) for w in widths) or 1.0
    lowest = math.ceil(100 * MIN_PRINTED_POINTS / smallest_font)
    options = [False, True] if landscape is None else [landscape]
    for wide in options:
        room = (PAGE_LONG if wide else PAGE_SHORT) - 2 * MARGIN_SIDE
        scale = math.floor(min(100.0, 100 * room / total))
        if scale >= lowest or wide is options[-1]:
            return PageSetup(wide, max(scale, lowest), scale < lowest)
    raise AssertionError("unreachable")  # pragma: no cover


def page_rows(setup: PageSetup) -> float:
    """The points of sheet (at 100 %) that one page holds down."""
    room = (PAGE_SHORT if setup.landscape else PAGE_LONG) - 2 * MARGIN_TOP - FOOTER_ROOM
    return room * 100 / setup.scale


def footer(title: str, company: str, scale: int) -> str:
    """A footer: the workbook's title left, the company centred, "page / pages" right, in a
    size that prints at :data:`MIN_PRINTED_POINTS` or more (LibreOffice scales it with the page)."""

    def escape(text: Any) -> str:
        return str(text).replace("&", "&&")

    size = max(8, math.ceil(MIN_PRINTED_POINTS * 100 / scale))
    return f"&L&{size}{escape(title)}&C&{size}{escape(company)}&R&{size}&P / &N"
