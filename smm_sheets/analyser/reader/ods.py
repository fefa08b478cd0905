"""OpenDocument spreadsheets (.ods): metadata, macros, named ranges, formulas and error cells from content.xml.

Formulas are OpenFormula (``of:=SUM([.D6:.D9];['My sheet'.B2])``), translated to the A1 text
Excel writes (``SUM(D6:D9,'My sheet'!B2)``) so that one comparison serves both formats. Error
cells are given as their text; the reader makes them :class:`~smm_sheets.formula.ExcelError` values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from smm_sheets.analyser.reader.data import WorkbookData
from smm_sheets.analyser.reader.extent import SheetExtent, too_large
from smm_sheets.analyser.reader.zipguard import Package, expat_parser, feed_parser, local_name
from smm_sheets.sheetref import quote_sheet

# A bound on formula cells, against repeated rows and columns that expand to billions of them
# (a 100,000-post calendar has about 600,000).
MAX_FORMULA_CELLS = 5_000_000


@dataclass
class OdsCells:
    """What content.xml says about cells besides their values."""

    errors: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # sheet -> cell -> "#DIV/0!"
    formulas: dict[str, dict[tuple[int, int], str]] = field(default_factory=dict)  # sheet -> cell -> A1 text
    cached: int = 0  # formula cells with a saved value
    uncached: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # formula cells without one


def read_ods(package: Package, workbook: WorkbookData) -> OdsCells:
    """The application, user-defined properties, macros, named ranges and formulas of an .ods file.

    Args:
        package: the checked zip package.
        workbook: filled in here.

    Returns:
        Error cells and formulas, per sheet.
    """
    manifest = package.part("META-INF/manifest.xml")
    if manifest is not None and b"encryption-data" in manifest:
        raise package.fail("encrypted (password-protected); save it without a password and try again")
    meta = package.tree("meta.xml")
    if meta is not None:
        for element in meta.iter():
            tag = local_name(element.tag)
            if tag == "generator" and element.text:
                workbook.application = element.text.strip()
            elif tag == "user-defined":
                name = next((v for k, v in element.attrib.items() if local_name(k) == "name"), None)
                if name is not None:
                    workbook.properties[name] = element.text or ""
    workbook.has_macros = any(
        name.startswith("Basic/") and name.endswith(".xml") and not name.endswith(("script-lc.xml", "script-lb.xml"))
        for name in package.infos
    )
    info = package.infos["content.xml"]
    scan = OdsScan(package.fail)
    package.stream(info, sink=scan.feed)
    scan.close()
    package.done.add("content.xml")
    workbook.defined_names.update(scan.named_ranges)
    _check_extents(package, scan.extents)
    return scan.cells


def _check_extents(package: Package, extents: dict[str, SheetExtent]) -> None:
    """Refuse a sheet whose cells (repeated rows and columns counted out) reach farther than
    ``Limits.max_sheet_cells`` allows: calamine would expand it densely."""
    limit = package.limits.max_sheet_cells
    for sheet, extent in extents.items():
        if extent.area() > limit:
            last = max(extent.rows), max(extent.cols)
            raise package.fail(too_large(sheet, extent, last, limit))


class OdsScan:
    """One expat pass over content.xml: where error cells and formulas are, and the named ranges."""

    def __init__(self, fail):
        self.fail = fail
        self.cells = OdsCells()
        self.errors = self.cells.errors
        self.row_formulas: list[tuple[int, str, bool]] = []  # the current row's: (col, A1 text, cached)
        self.named_ranges: dict[str, str] = {}
        self.formula_cells = 0
        self.sheet: str | None = None
        self.row = self.col = 0
        self.row_repeat = 1
        self.depth_in_error = 0
        self.error_text: list[str] | None = None
        self.error_at: tuple[int, int] | None = None
        self.extents: dict[str, SheetExtent] = {}  # sheet -> where its cells with content are
        self.cell: tuple[int, int, int, bool] | None = None  # the open cell: row, col, columns repeated, has content
        self.parser = expat_parser(fail, "content.xml")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.data

    def feed(self, data: bytes, final: bool = False) -> None:
        feed_parser(self.parser, self.fail, "content.xml", data, final)

    def close(self) -> None:
        self.feed(b"", True)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "table:table-cell" or name == "table:covered-table-cell":
            if attrs.get("calcext:value-type") == "error" and self.sheet is not None:
                self.error_at = (self.row, self.col)
                self.error_text = []
            repeat = int(attrs.get("table:number-columns-repeated", "1") or 1)
            self.cell = (self.row, self.col, repeat, "office:value-type" in attrs or "table:formula" in attrs)
            formula = attrs.get("table:formula")
            if formula is not None and self.sheet is not None:
                text = a1_formula(formula)
                if text is not None:
                    cached = "office:value-type" in attrs or "calcext:value-type" in attrs
                    if repeat > MAX_FORMULA_CELLS:
                        raise self.fail(f"more than {MAX_FORMULA_CELLS:,} formula cells (repeated rows or columns)")
                    for col in range(self.col, self.col + repeat):
                        self.row_formulas.append((col, text, cached))
            self.col += repeat
        elif name == "table:table-row":
            self.col = 0
            self.row_repeat = int(attrs.get("table:number-rows-repeated", "1") or 1)
        elif name == "table:table":
            self.sheet = attrs.get("table:name")
            self.row = 0
        elif name == "text:p" and self.cell is not None:
            self.cell = self.cell[:3] + (True,)
        elif name in ("table:named-range", "table:named-expression"):
            target = attrs.get("table:cell-range-address") or attrs.get("table:expression")
            if attrs.get("table:name") and target:
                self.named_ranges[attrs["table:name"]] = target

    def data(self, text: str) -> None:
        if self.error_text is not None:
            self.error_text.append(text)

    def note_cell(self) -> None:
        """A cell with content, its repeats counted out, into its sheet's extent."""
        row, col, repeat, content = self.cell
        self.cell = None
        if content and self.sheet is not None:
            extent = self.extents.setdefault(self.sheet, SheetExtent())
            extent.cells += repeat * self.row_repeat
            extent.rows.add(row + self.row_repeat - 1)
            extent.cols.add(col + repeat - 1)

    def end(self, name: str) -> None:
        if name in ("table:table-cell", "table:covered-table-cell") and self.cell is not None:
            self.note_cell()
        if name == "table:table-cell" and self.error_text is not None:
            self.errors.setdefault(self.sheet, {})[self.error_at] = "".join(self.error_text).strip()
            self.error_text = None
        elif name == "table:table-row":
            if self.row_formulas:
                formulas = self.cells.formulas.setdefault(self.sheet, {})
                self.formula_cells += len(self.row_formulas) * self.row_repeat
                if self.formula_cells > MAX_FORMULA_CELLS:
                    raise self.fail(f"more than {MAX_FORMULA_CELLS:,} formula cells (repeated rows or columns)")
                for row in range(self.row, self.row + self.row_repeat):
                    for col, text, cached in self.row_formulas:
                        formulas[(row, col)] = text
                        if cached:
                            self.cells.cached += 1
                        else:
                            self.cells.uncached.setdefault(self.sheet, []).append((row, col))
                self.row_formulas = []
            self.row += self.row_repeat
        elif name == "table:table":
            self.sheet = None


# OpenFormula's references: [.D6], [.D6:.O6], [$'My sheet'.$D$6:.$O$6], [Budget.D6]; errors [.#REF!].
_ODF_REF = re.compile(
    r"\[\$?(?:(?P<sheet>'(?:[^']|'')+'|[^'.\[\]:]+))?\.(?P<a>\$?[A-Za-z]{1,3}\$?\d+|#REF!)"
    r"(?::\$?(?:'(?:[^']|'')+'|[^'.\[\]:]+)?\.(?P<b>\$?[A-Za-z]{1,3}\$?\d+|#REF!))?\]"
)
_ODF_STRINGS = re.compile(r'("(?:[^"]|"")*")')
_ODF_PREFIX = re.compile(r"^(?:of|oooc|msoxl):", re.IGNORECASE)
_ODF_BOOLEAN = re.compile(r"\b(TRUE|FALSE)\(\)", re.IGNORECASE)


def a1_formula(text: str) -> str | None:
    """An .ods cell's formula as Excel writes it, without the ``=``: ``of:=SUM([.D6:.D9];[.B2])``
    -> ``SUM(D6:D9,B2)``. None for a formula in a syntax it does not know."""
    found = _ODF_PREFIX.match(text)
    if found is None:
        if ":" in text.split("=", 1)[0]:
            return None  # another namespace's syntax
        body = text
    else:
        body = text[found.end() :]
        if found.group(0).lower() == "msoxl:":  # Excel's own syntax, kept by LibreOffice
            return body.strip().removeprefix("=")
    body = body.strip().removeprefix("=")
    parts = _ODF_STRINGS.split(body)
    for i in range(0, len(parts), 2):
        part = _ODF_REF.sub(_a1_reference, parts[i])
        parts[i] = _ODF_BOOLEAN.sub(lambda m: m.group(1).upper(), part).replace(";", ",")
    return "".join(parts)


def _a1_reference(found: re.Match) -> str:
    if found["a"] == "#REF!" or found["b"] == "#REF!":
        return "#REF!"
    sheet = found["sheet"]
    prefix = ""
    if sheet:
        name = sheet[1:-1].replace("''", "'") if sheet.startswith("'") else sheet
        prefix = quote_sheet(name) + "!"
    out = prefix + found["a"].upper()
    if found["b"]:
        out += ":" + found["b"].upper()
    return out
