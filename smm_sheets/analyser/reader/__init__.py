"""Reading spreadsheet files: the only package that opens them.

python-calamine reads the cell values of every format (xlsx, xlsm, xlsb, xls, ods). What it does
not give, this package reads from the file itself: formulas and error cells of xlsx/xlsm and ods, defined
names, document properties, the writing application, macros and external links.

The files are untrusted (clients fill them in and send them back), so nothing is expanded before
it is checked:

* the file's size on disk (``Limits.max_file_size``);
* for zip-based formats, the zip central directory and every entry, inflated in a stream and
  bounded by its declared size (:mod:`.zipguard`);
* every XML part's prolog: a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (the tool of entity
  bombs and external entities) refuses the file, for the parts python-calamine parses too;
* the XML parts parsed here go through defusedxml (DTDs forbidden); the worksheet scan for
  formulas (:mod:`.scan`) uses expat directly, for speed, with the same handlers that refuse DTDs
  and entities;
* python-calamine (:mod:`.calamine`) runs only after all of that, and anything it raises (even a
  Rust panic or a MemoryError) becomes a :class:`FileError`.

The units: :mod:`.data` (what is read, the limits), :mod:`.zipguard`, :mod:`.ooxml` (workbook.xml,
relationships, names, properties, shared formulas), :mod:`.scan` (worksheet XML), :mod:`.ods`,
:mod:`.calamine`; this module tells the format, runs them in order and puts error cells back
into the values.

Every failure is one line: ``<file>: <reason>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from smm_sheets.analyser.reader.calamine import read_values
from smm_sheets.analyser.reader.data import DEFAULT_LIMITS, FORMATS, Limits, SheetData, WorkbookData
from smm_sheets.analyser.reader.extent import DroppedCell, core, drop_cells, too_large
from smm_sheets.analyser.reader.ooxml import office_document, read_ooxml
from smm_sheets.analyser.reader.scan import ScanResults, scan_sheets
from smm_sheets.analyser.reader.zipguard import Package, discard, rewritten_package
from smm_sheets.errors import FileError
from smm_sheets.formula import ExcelError
from smm_sheets.sheetref import a1

if TYPE_CHECKING:
    from smm_sheets.analyser.reader.ods import OdsCells

__all__ = [
    "DEFAULT_LIMITS",
    "DroppedCell",
    "FORMATS",
    "Limits",
    "SheetData",
    "WorkbookData",
    "read",
    "read_table",
]

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"


def read(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> WorkbookData:
    """Read a spreadsheet file, refusing hostile ones before they expand.

    Args:
        path: an .xlsx, .xlsm, .xlsb, .xls or .ods file (the format is told by content, not name).
        limits: the size limits to enforce.

    Returns:
        The workbook's sheets (values; formulas for xlsx, xlsm and ods), names, properties and flags.

    Raises:
        FileError: one line naming the file and the reason.
    """
    return _Reader(Path(path), limits).read(with_formulas=True)


def read_table(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> list[list[Any]]:
    """The first sheet's values of an .xlsx or .ods file (a client list, say), with the same guards.

    Args:
        path: an .xlsx or .ods file.
        limits: the size limits to enforce.

    Returns:
        Rows of values, as :attr:`SheetData.rows`; empty when the workbook has no worksheet.

    Raises:
        FileError: one line naming the file and the reason (also for other formats).
    """
    workbook = _Reader(Path(path), limits).read(with_formulas=False, formats=("xlsx", "ods"))
    first = next(iter(workbook.sheets.values()), None)
    return first.rows if first else []


# --------------------------------------------------------------------------------------------
# The reader


@dataclass
class PackageContents:
    """What was read from a zip package besides calamine's values, to be merged into them."""

    workbook: WorkbookData
    sheet_parts: dict[str, str] = field(default_factory=dict)  # xlsx/xlsm: sheet name -> worksheet part
    scans: dict[str, ScanResults] = field(default_factory=dict)  # sheet name -> its formula scan (xlsx/xlsm)
    ods: OdsCells | None = None  # ods: error cells and formulas
    values_source: Any = None  # what calamine reads when far or bad cells were dropped (an in-memory copy)


class _Reader:
    """The reading of one file: the guards, its parts, calamine's values, and what the parts add to them."""

    def __init__(self, path: Path, limits: Limits):
        self.path, self.limits = path, limits

    def fail(self, reason: str) -> FileError:
        return FileError(f"{self.path}: {reason}")

    def read(self, with_formulas: bool, formats: tuple[str, ...] = FORMATS) -> WorkbookData:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise self.fail("no such file") from None
        except OSError as error:
            raise self.fail(f"cannot read it ({error.strerror or error})") from None
        if self.path.is_dir():
            raise self.fail("is a folder, not a spreadsheet file")
        if size > self.limits.max_file_size:
            raise self.fail(f"file of {size:,} bytes is over the limit of {self.limits.max_file_size:,} bytes")
        try:
            fh = open(self.path, "rb")
        except OSError as error:
            raise self.fail(f"cannot read it ({error.strerror or error})") from None
        contents = None
        with fh:
            magic = fh.read(8)
            if magic[:4] in _ZIP_MAGIC:
                package = Package(self.fail, fh, size, self.limits)
                contents = self.read_package(package, with_formulas, formats)
                workbook = contents.workbook
                if workbook.format in ("xlsx", "xlsm"):
                    contents.values_source = self.drop_far_cells(package, contents)
            elif magic == _CFB_MAGIC:
                workbook = self.inspect_cfb(fh, size, formats)
            elif not magic:
                raise self.fail("empty file, not a spreadsheet")
            else:
                raise self.fail("not a spreadsheet (expected xlsx, xlsm, xlsb, xls or ods)")
        read_values(self.path, workbook, self.fail, contents.values_source if contents else None)
        if workbook.format in ("xlsx", "xlsm"):
            _merge_scans(workbook, contents)
            if not with_formulas:
                for sheet in workbook.sheets.values():
                    sheet.formulas = None
        elif workbook.format == "ods" and contents.ods is not None:
            _merge_ods(workbook, contents.ods, with_formulas)
        return workbook

    def inspect_cfb(self, fh: BinaryIO, size: int, formats: tuple[str, ...]) -> WorkbookData:
        """An OLE compound file: an .xls, or an encrypted (password-protected) OOXML package."""
        fh.seek(0)
        data = fh.read(size)
        # Directory entry names are UTF-16LE; an encrypted xlsx/xlsb keeps its package in these streams.
        if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
            raise self.fail("encrypted (password-protected); save it without a password and try again")
        if "xls" not in formats:
            raise self.fail(f"an .xls workbook; expected {' or '.join('.' + f for f in formats)}")
        has_macros = "_VBA_PROJECT_CUR".encode("utf-16-le") in data
        return WorkbookData(path=self.path, format="xls", sheets={}, has_macros=has_macros)

    def read_package(self, package: Package, with_formulas: bool, formats: tuple[str, ...]) -> PackageContents:
        """A zip package: its format told, its parts read, every other entry inflated and checked."""
        names = package.infos
        workbook_part = office_document(package)
        if workbook_part is not None and workbook_part in names:
            fmt = "xlsb" if workbook_part.lower().endswith(".bin") else "xlsx"
        elif "content.xml" in names:
            mimetype = package.part("mimetype") if "mimetype" in names else None
            if mimetype is not None and mimetype.strip() != _ODS_MIMETYPE:
                raise self.fail(
                    f"not a spreadsheet (an OpenDocument file of type {mimetype.strip().decode('ascii', 'replace')[:80]})"
                )
            fmt = "ods"
        else:
            raise self.fail("not a spreadsheet (a zip file without a workbook)")
        contents = PackageContents(WorkbookData(path=self.path, format=fmt, sheets={}))
        workbook = contents.workbook
        if fmt == "ods":
            from smm_sheets.analyser.reader.ods import read_ods  # imported for .ods files only

            contents.ods = read_ods(package, workbook)
        else:
            contents.sheet_parts = read_ooxml(package, workbook, workbook_part)
            if fmt == "xlsx":  # xlsm too: told apart only by read_ooxml; the scan also bounds the sheets
                contents.scans = scan_sheets(package, contents.sheet_parts)
        if workbook.format not in formats:
            raise self.fail(f"an .{workbook.format} workbook; expected {' or '.join('.' + f for f in formats)}")
        # Every other entry is inflated too (and thrown away): calamine must meet no unchecked byte.
        for name, info in names.items():
            if name not in package.done:
                package.stream(info, sink=discard)
        return contents

    def drop_far_cells(self, package: Package, contents: PackageContents) -> Any:
        """Far cells and non-finite numbers left out of what calamine reads (see :mod:`.extent`).

        Returns:
            None where every sheet is read as it is; else an in-memory copy of the package
            without those cells (they are listed in ``workbook.dropped_cells``).

        Raises:
            FileError: a sheet over the limit even without its far cells, too many far cells,
                or a far cell that has no address.
        """
        limit = self.limits.max_sheet_cells
        parts: dict[str, bytes] = {}
        dropped: list[DroppedCell] = []
        for sheet, scan in contents.scans.items():
            extent = scan.extent
            last = core(extent, limit)
            if last is None and not extent.bad:
                continue
            if last is not None and (last[0] + 1) * (last[1] + 1) > limit:
                raise self.fail(too_large(sheet, extent, last, limit))
            part = contents.sheet_parts[sheet]
            xml, positions = drop_cells(package.stream(package.infos[part]), last, extent.bad)
            if xml is None:
                raise self.fail(f"sheet {sheet!r} has a cell far outside its other cells and without an address")
            parts[part] = xml
            for row, col in sorted(positions):
                reason = "bad-number" if (row, col) in extent.bad else "far"
                dropped.append(DroppedCell(sheet, a1(row, col), reason, extent.bad.get((row, col), "")))
            if len(dropped) > self.limits.max_far_cells:
                raise self.fail(
                    f"sheet {sheet!r} has more than {self.limits.max_far_cells:,} cells far outside the others"
                )
        if not parts:
            return None
        contents.workbook.dropped_cells = dropped
        return rewritten_package(package, parts)


def _merge_scans(workbook: WorkbookData, contents: PackageContents) -> None:
    """Formulas, error cells and missing cached values from the worksheet scans, into calamine's values."""
    any_formula = any_cached = False
    for name, sheet in workbook.sheets.items():
        scan = contents.scans.get(name)
        if scan is None:
            continue
        sheet.formulas = scan.formulas
        any_formula = any_formula or bool(scan.formulas)
        any_cached = any_cached or scan.cached > 0
        _put_errors(sheet, scan.errors)
        for row, col in scan.uncached:
            if row < len(sheet.rows) and col < len(sheet.rows[row]):
                sheet.rows[row][col] = None  # no cached value: nothing to show, whatever calamine made of it
    workbook.cached_values = any_cached or not any_formula
    for name, sheet in workbook.sheets.items():
        if sheet.formulas is None and name in contents.sheet_parts:
            sheet.formulas = {}


def _merge_ods(workbook: WorkbookData, cells: OdsCells, with_formulas: bool) -> None:
    """Error cells, and (when asked) formulas and missing cached values, into calamine's values."""
    for name, sheet in workbook.sheets.items():
        _put_errors(sheet, cells.errors.get(name, {}))
        if not with_formulas:
            continue
        sheet.formulas = cells.formulas.get(name, {})
        for row, col in cells.uncached.get(name, ()):
            if row < len(sheet.rows) and col < len(sheet.rows[row]):
                sheet.rows[row][col] = None  # no saved value: nothing to show, whatever calamine made of it
    workbook.cached_values = cells.cached > 0 or not any(cells.formulas.values())


def _put_errors(sheet: SheetData, errors: dict[tuple[int, int], str]) -> None:
    """Error cells as the formula evaluator's :class:`~smm_sheets.formula.ExcelError` values, where
    calamine left the cell blank (or gave the text)."""
    for (row, col), text in errors.items():
        if row < len(sheet.rows) and col < len(sheet.rows[row]) and sheet.rows[row][col] in (None, "", text):
            sheet.rows[row][col] = ExcelError(text)
