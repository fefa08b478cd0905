"""Worksheet XML of xlsx/xlsm: formulas (shared ones expanded), error cells, formulas without a cached value.

Two scans find the same things: :class:`FastSheetScan`, regular expressions over the raw bytes,
and :class:`SheetScan`, one expat pass, for the parts the fast scan declines. Error cells are
given as their text; the reader makes them :class:`~smm_sheets.formula.ExcelError` values.
"""

from __future__ import annotations

import functools
import re

from smm_sheets.analyser.reader.extent import SheetExtent
from smm_sheets.analyser.reader.ooxml import SharedFormula
from smm_sheets.analyser.reader.zipguard import Package, expat_parser, feed_parser
from smm_sheets.sheetref import cell_position, column_number


def scan_sheets(package: Package, sheet_parts: dict[str, str]) -> dict[str, ScanResults]:
    """Formulas and error cells of every worksheet part (a part two sheets point at is read once).

    Args:
        package: the checked zip package.
        sheet_parts: sheet name -> its worksheet part (see :func:`~smm_sheets.analyser.reader.ooxml.read_ooxml`).

    Returns:
        Sheet name -> what its scan found.
    """
    scans: dict[str, ScanResults] = {}
    for sheet, part in sheet_parts.items():
        if part in package.done:
            continue
        scans[sheet] = scan_sheet(package, part)
        package.done.add(part)
    return scans


def scan_sheet(package: Package, part: str, fast: bool = True) -> ScanResults:
    """Formulas and error cells of one worksheet part: by the fast scan, else by expat.

    Args:
        package: the checked zip package.
        part: the worksheet part's entry name.
        fast: try :class:`FastSheetScan` first (False: expat only).

    Returns:
        What the scan found.
    """
    if fast:
        scan: ScanResults = FastSheetScan(package.fail, part)
        try:
            package.stream(package.infos[part], sink=scan.feed)
            scan.close()
            return scan
        except _NeedsFullParse:
            pass
    scan = SheetScan(package.fail, part)
    package.stream(package.infos[part], sink=scan.feed)
    scan.close()
    return scan


class ScanResults:
    """What a worksheet scan collects, and how shared formulas are expanded."""

    def __init__(self, fail, part: str):
        self.fail, self.part = fail, part
        self.formulas: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], str] = {}  # error cells' text ("#DIV/0!")
        self.uncached: list[tuple[int, int]] = []  # formula cells without a cached value
        self.cached = 0  # formula cells with one
        self.shared: dict[str, SharedFormula] = {}
        self.pending_shared: list[tuple[str, int, int]] = []  # users of a shared formula seen before its master
        self.extent = SheetExtent()  # where the cells are, for the far-cell guard (:mod:`.extent`)

    def formula(self, text: str, attrs: dict[str, str], position: tuple[int, int]) -> None:
        if attrs.get("t") == "shared" and attrs.get("si") is not None:
            si = attrs["si"]
            if text:  # the master cell holds the text; the others only point at it
                self.shared[si] = SharedFormula(text, *position)
                self.formulas[position] = text
            elif si in self.shared:
                self.formulas[position] = self.shared[si].at(*position)
            else:
                self.pending_shared.append((si, *position))
        elif text:
            self.formulas[position] = text

    def finish(self) -> None:
        for si, row, col in self.pending_shared:
            master = self.shared.get(si)
            if master is not None:
                self.formulas[(row, col)] = master.at(row, col)
        self.pending_shared = []


class _NeedsFullParse(Exception):
    """The fast scan met something it does not handle exactly; expat must read the part."""


_XML_ESCAPE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|amp|lt|gt|quot|apos);")
_XML_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


def _xml_unescape(text: str) -> str:
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")  # as an XML parser normalises line ends
    if "&" not in text:
        return text
    if "&#" not in text:
        return (
            text.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", '"')
            .replace("&apos;", "'")
            .replace("&amp;", "&")
        )

    def one(match: re.Match) -> str:
        name = match.group(1)
        if name[0] != "#":
            return _XML_NAMED[name]
        try:
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        except ValueError:
            raise _NeedsFullParse from None
        if not _xml_char(code):
            raise _NeedsFullParse  # a surrogate or a control character: expat refuses the part
        return chr(code)

    return _XML_ESCAPE.sub(one, text)


def _xml_char(code: int) -> bool:
    """Is ``code`` a character XML allows (no lone surrogates, no control characters but tab and line ends)?"""
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


class FastSheetScan(ScanResults):
    """Formulas and error cells found by regular expressions over <sheetData>, block of rows by block.

    Worksheet XML is regular enough (no comments, CDATA or processing instructions inside
    sheetData, every <c> with its r attribute) that a few C-speed searches over the raw UTF-8
    bytes find the formula and error cells without a Python call per cell. Anything else (another
    encoding, an <f> the searches do not match exactly, an error cell count that disagrees) raises
    _NeedsFullParse, and expat reads the part instead (:class:`SheetScan`).
    """

    def __init__(self, fail, part: str):
        super().__init__(fail, part)
        self.buffer = b""
        self.prefix: bytes | None = None
        self.started = False
        self.f_attributes: dict[bytes, dict[str, str]] = {}  # an <f>'s attributes as written -> parsed (read only)

    def feed(self, data: bytes) -> None:
        self.buffer += data
        if not self.started:
            self.started = True
            declaration = _XML_DECLARATION.match(self.buffer)
            if self.buffer.startswith((b"\xff\xfe", b"\xfe\xff")) or (
                declaration and declaration.group(1).lower() not in (b"utf-8", b"utf8")
            ):
                raise _NeedsFullParse  # not UTF-8
        if self.prefix is None:
            match = _SHEET_DATA.search(self.buffer)
            if match is None:
                return
            self.prefix = match.group(1) or b""
            self.row_end, self.patterns = _sheet_patterns(self.prefix)
            self.buffer = self.buffer[match.start() :]
        row_end = self.row_end
        end = self.buffer.rfind(row_end)
        if end >= 0:
            end += len(row_end)
            self.scan(self.buffer[:end])
            self.buffer = self.buffer[end:]

    def close(self) -> None:
        if self.prefix is not None:
            stop = self.buffer.find(b"</" + self.prefix + b"sheetData>")
            self.scan(self.buffer if stop < 0 else self.buffer[:stop])
        self.buffer = b""
        self.finish()

    def scan(self, region: bytes) -> None:
        declines, f_start, content_cell, c_tag, e_attribute, error_tag, value, c_end = self.patterns
        if declines.search(region):
            raise _NeedsFullParse
        # One search finds every cell that holds something (for the extent) and, in the same
        # match, all that is needed of a formula; each <f> must be in one of them (directly in a
        # <c>, with attributes we follow), else expat reads the part.
        cells = content_cell.findall(region)
        if not cells:
            if f_start.search(region):
                raise _NeedsFullParse
            return
        self.extent.add_refs(cells, letters_at=1)
        formula_cells = [cell for cell in cells if cell[4]]
        if len(formula_cells) != len(f_start.findall(region)):
            raise _NeedsFullParse  # an <f> not where a formula is
        formulas, uncached, f_attributes_seen = self.formulas, self.uncached, self.f_attributes
        cached = 0
        texts = _texts([cell[6] for cell in formula_cells])
        for (r_attribute, letters, digits, c_attributes, _, f_attributes, _, empty_value, some_value), text in zip(
            formula_cells, texts
        ):
            position = _position(letters, digits)
            if f_attributes:  # LibreOffice writes aca="false" on every one: parsed once
                attributes = f_attributes_seen.get(f_attributes)
                if attributes is None:
                    attributes = f_attributes_seen[f_attributes] = _attributes(f_attributes)
                self.formula(text, attributes, position)
            elif text:
                formulas[position] = text
            # openpyxl and others write <v></v> for a value they never computed; an empty text
            # result is <v></v> too, but in a cell of type str.
            if some_value or (empty_value and (_STR_TYPE.search(r_attribute) or _STR_TYPE.search(c_attributes))):
                cached += 1
            else:
                uncached.append(position)
        self.cached += cached
        # Every writer we know spells it t="e"; with spaces around "=" an error cell would read as blank.
        for hit in e_attribute.finditer(region):
            c_at = region.rfind(c_tag, 0, hit.start())
            tag = error_tag.match(region, c_at) if c_at >= 0 else None
            close = region.find(c_end, hit.end())
            if tag is None or tag.end() < hit.end() or close < 0:
                raise _NeedsFullParse  # t="e" somewhere else than in a <c> tag
            cached = value.search(region, tag.end(), close)
            if cached is not None:
                self.errors[_r_position(tag.group(1))] = _text(cached.group(1)).strip()


def _r_position(attributes: bytes | None) -> tuple[int, int]:
    """(row, col) from a <c> tag's attributes; a cell without r is placed by counting: expat's job."""
    match = _R_ATTRIBUTE.search(attributes or b"")
    if match is None:
        raise _NeedsFullParse
    return _position(match.group(1), match.group(2))


def _position(letters: bytes, digits: bytes) -> tuple[int, int]:
    """(row, col) of a reference's column letters and row digits; past the sheet's size: expat's job."""
    if len(letters) > 3 or len(digits) > 7:
        raise _NeedsFullParse
    col = _COLUMNS.get(letters)
    if col is None:
        col = _COLUMNS[letters] = column_number(letters.decode("ascii"))
    return int(digits) - 1, col


_COLUMNS: dict[bytes, int] = {}
_XML_DECLARATION = re.compile(rb"""\s*<\?xml[^>]*?encoding\s*=\s*["']([^"']*)["']""")
_SHEET_DATA = re.compile(rb"<([A-Za-z_][\w.-]*:)?sheetData[\s/>]")
_R_ATTRIBUTE = re.compile(rb"""\sr\s*=\s*["']\$?([A-Za-z]{1,3})\$?([0-9]{1,7})["']""")
_BYTES_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _text(raw: bytes | None) -> str:
    """Element text from raw UTF-8 bytes, as an XML parser would give it."""
    if not raw:
        return ""
    try:
        return _xml_unescape(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise _NeedsFullParse from None


def _texts(raws: list[bytes]) -> list[str]:
    """What :func:`_text` gives for each, decoded and unescaped in one go (a NUL, which XML text
    never holds, keeps them apart)."""
    joined = b"\0".join(raws)
    if not raws or joined.count(b"\0") != len(raws) - 1:
        return [_text(raw) for raw in raws]
    return _text(joined).split("\0")


def _attributes(raw: bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    return {
        m.group(1).decode("ascii", "replace"): _text(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _BYTES_ATTRIBUTE.finditer(raw)
    }


@functools.lru_cache(maxsize=8)
def _sheet_patterns(p: bytes) -> tuple:
    """The searches of :class:`FastSheetScan` for elements of namespace prefix ``p``."""
    p_ = re.escape(p)
    f_start = re.compile(rb"<" + p_ + rb"f(?=[\s/>])")
    # A cell that holds something (not self-closing nor <c ...></c>: calamine keeps no empty cell,
    # however far its style reaches), and what a formula cell has: groups 1 its attributes up to
    # and with r, 2-3 r's column letters and row digits, 4 the attributes after r, 5 "<f" where
    # the cell starts with a formula, 6 the <f> attributes, 7 its text, 8 an empty <v> (<v/>,
    # <v></v>), 9 another <v>. Lazy, atomic and possessive where backtracking could not change
    # the answer: most <c> tags are self-closing (styled blank cells), and a tag's end decides
    # alone whether it holds something.
    content_cell = re.compile(
        rb"<"
        + p_
        + rb"c(\s(?>[^>]*?(?<=\s)r\s*=\s*[\"']\$?([A-Za-z]+)\$?([0-9]+)[\"']))([^>]*+)(?<!/)>(?!\s*</"
        + p_
        + rb"c>)(?:\s*+(<"
        + p_
        + rb"f)(\s[^>]*?)?(?:/>|>([^<]*)</"
        + p_
        + rb"f>)\s*(?:(<"
        + p_
        + rb"v\s*(?:/>|>\s*</(?:[\w.-]+:)?v>))|(<"
        + p_
        + rb"v[\s/>]))?)?"
    )
    # What the fast scan leaves to expat: a comment, CDATA, declaration or processing instruction;
    # a <c> tag without r (placed by counting); a <v> that is not a finite number.
    declines = re.compile(rb"<(?:[!?]|" + p_ + rb"c(?=[\s/>])(?![^>]*?\sr\s*=)|" + p_ + rb"v>\s*[+-]?(?i:inf|nan))")
    e_attribute = re.compile(rb"t=[\"']e[\"']")
    error_tag = re.compile(rb"<" + p_ + rb"c(\s[^>]*)(?<!/)>")
    value = re.compile(rb"<" + p_ + rb"v>([^<]*)</" + p_ + rb"v>")
    return b"</" + p + b"row>", (
        declines,
        f_start,
        content_cell,
        b"<" + p + b"c",
        e_attribute,
        error_tag,
        value,
        b"</" + p + b"c>",
    )


_STR_TYPE = re.compile(rb"\st\s*=\s*[\"']str[\"']")


class SheetScan(ScanResults):
    """One pass of expat over a worksheet part, for the parts :class:`FastSheetScan` declines."""

    def __init__(self, fail, part: str):
        super().__init__(fail, part)
        self.row, self.col = 0, -1
        self.inside = False  # within <sheetData>
        self.cell_type: str | None = None
        self.has_formula = self.has_value = self.has_content = False
        self.text: list[str] | None = None
        self.f_attrs: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        parser = expat_parser(fail, part)
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        self.parser = parser

    def feed(self, data: bytes) -> None:
        feed_parser(self.parser, self.fail, self.part, data)

    def close(self) -> None:
        feed_parser(self.parser, self.fail, self.part, b"", final=True)
        self.finish()

    def kind(self, name: str) -> str:
        kind = self.kinds.get(name)
        if kind is None:
            kind = self.kinds[name] = name.rpartition(":")[2]
        return kind

    def start(self, name: str, attrs: dict[str, str]) -> None:
        kind = self.kinds.get(name) or self.kind(name)
        if kind == "sheetData":
            self.inside = True
        elif not self.inside:
            return  # formulas elsewhere (<xm:f> of data validations in extLst) are not cells'
        elif kind == "c":
            ref = attrs.get("r")
            position = (cell_position(ref) or _any_position(ref)) if ref else None
            if position is None:
                self.col += 1
            else:
                self.row, self.col = position
            self.cell_type = attrs.get("t")
            self.has_formula = self.has_value = self.has_content = False
        elif kind == "f":
            self.has_formula = True
            self.f_attrs = attrs
            self.text = []
        elif kind == "v" or kind == "is":
            self.has_content = True  # for the extent: calamine keeps this cell
            if kind == "is":
                return
            self.has_value = self.cell_type == "str"  # until it has text: <v></v> is no value
            self.text = []
        elif kind == "row":
            ref = attrs.get("r")
            self.row = int(ref) - 1 if ref and ref.isdigit() else self.row + 1
            self.col = -1

    def data(self, text: str) -> None:
        if self.text is not None:
            self.text.append(text)

    def end(self, name: str) -> None:
        kind = self.kinds.get(name) or self.kind(name)
        if kind == "sheetData":
            self.inside = False
        elif not self.inside:
            return
        elif kind == "f":
            self.formula("".join(self.text or ()), self.f_attrs, (self.row, self.col))
            self.text = None
        elif kind == "v" and self.text is not None:
            text = "".join(self.text).strip()
            self.has_value = self.has_value or bool(text)
            if self.cell_type == "e":
                self.errors[(self.row, self.col)] = text
            elif self.cell_type in (None, "n") and _not_finite(text):
                self.extent.bad[(self.row, self.col)] = text
            self.text = None
        elif kind == "c" and self.has_content:
            self.extent.add(self.row, self.col)
        if kind == "c" and self.inside and self.has_formula:
            if self.has_value:
                self.cached += 1
            else:
                self.uncached.append((self.row, self.col))


def _any_position(ref: str) -> tuple[int, int] | None:
    """(row, col) of a reference past the sheet's size (``A99999999999``, ``ABCD1``), as calamine reads it."""
    match = _ANY_REF.fullmatch(ref.strip())
    if match is None:
        return None
    return int(match.group(2)) - 1, column_number(match.group(1))


_ANY_REF = re.compile(r"\$?([A-Za-z]+)\$?([0-9]+)")


def _not_finite(text: str) -> bool:
    """``inf``, ``-Infinity``, ``nan``: what Rust reads as a number that is not finite."""
    return text.lstrip("+-")[:3].lower() in ("inf", "nan")
