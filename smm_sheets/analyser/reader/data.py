"""What the reader gives and obeys: the formats it reads, its size limits, and the data read from a file.

Error cells hold the formula evaluator's own error value, :class:`~smm_sheets.formula.ExcelError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FORMATS = ("xlsx", "xlsm", "xlsb", "xls", "ods")


@dataclass
class Limits:
    """What a file may hold before it is refused unread."""

    max_entries: int = 10_000  # zip entries
    max_uncompressed: int = 1_000_000_000  # bytes, sum of all zip entries as declared (and then enforced)
    max_ratio: float = 200.0  # uncompressed / compressed, per entry of more than 1 MB uncompressed
    max_file_size: int = 200_000_000  # bytes on disk
    max_sheet_cells: int = 5_000_000  # a sheet's used range (rows x columns from A1), without its far cells
    max_far_cells: int = 1_000  # cells dropped as far (or not finite) before the file is refused


@dataclass
class SheetData:
    """One worksheet: cached values, and formulas where the format's are read."""

    name: str
    rows: list[list[Any]]
    formulas: dict[tuple[int, int], str] | None
    visible: bool = True

    def value(self, row: int, col: int) -> Any:
        """The value at 0-based ``row``, ``col``; None outside the used area."""
        if 0 <= row < len(self.rows):
            cells = self.rows[row]
            if 0 <= col < len(cells):
                return cells[col]
        return None


@dataclass
class WorkbookData:
    """Everything read from one spreadsheet file."""

    path: Path
    format: str
    sheets: dict[str, SheetData]
    defined_names: dict[str, str] = field(default_factory=dict)
    properties: dict[str, str] = field(default_factory=dict)
    application: str | None = None
    has_macros: bool = False
    external_links: list[str] = field(default_factory=list)
    cached_values: bool = True
    dropped_cells: list = field(default_factory=list)  # reader.DroppedCell: far cells and non-finite numbers not read


DEFAULT_LIMITS = Limits()
