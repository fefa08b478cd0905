"""OpenDocument spreadsheets (.ods): metadata, macros, named ranges and error cells from content.xml.

Error cells are given as their text; the reader makes them :class:`~smm_sheets.formula.ExcelError` values.
"""

from __future__ import annotations

from smm_sheets.analyser.reader.data import WorkbookData
from smm_sheets.analyser.reader.extent import SheetExtent, too_large
from smm_sheets.analyser.reader.zipguard import Package, expat_parser, feed_parser, local_name


def read_ods(package: Package, workbook: WorkbookData) -> dict[str, dict[tuple[int, int], str]]:
    """The application, user-defined properties, macros and named ranges of an .ods file.

    Args:
        package: the checked zip package.
        workbook: filled in here.

    Returns:
        Sheet name -> (row, col) -> the text of an error cell ("#DIV/0!").
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
    return scan.errors


def _check_extents(package: Package, extents: dict[str, SheetExtent]) -> None:
    """Refuse a sheet whose cells (repeated rows and columns counted out) reach farther than
    ``Limits.max_sheet_cells`` allows: calamine would expand it densely."""
    limit = package.limits.max_sheet_cells
    for sheet, extent in extents.items():
        if extent.area() > limit:
            last = max(extent.rows), max(extent.cols)
            raise package.fail(too_large(sheet, extent, last, limit))


class OdsScan:
    """One expat pass over content.xml: where error cells are, and the named ranges."""

    def __init__(self, fail):
        self.fail = fail
        self.errors: dict[str, dict[tuple[int, int], str]] = {}
        self.named_ranges: dict[str, str] = {}
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
            self.row += self.row_repeat
        elif name == "table:table":
            self.sheet = None
