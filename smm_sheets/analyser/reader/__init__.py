"""Reading spreadsheet files: the only module that opens them (and the only user of python-calamine).

python-calamine reads the cell values of every format (xlsx, xlsm, xlsb, xls, ods). What it does
not give, this module reads from the file itself: formulas and error cells of xlsx/xlsm, defined
names, document properties, the writing application, macros and external links.

The files are untrusted (clients fill them in and send them back), so nothing is expanded before
it is checked:

* the file's size on disk (``Limits.max_file_size``);
* for zip-based formats, the zip central directory: number of entries, declared uncompressed
  sizes (total), compression ratio per large entry, encrypted entries; then every entry is
  inflated here, in a stream, stopping as soon as it yields more than its declared size (so a
  lying directory cannot smuggle a bomb past the totals) and checking its CRC;
* every XML part's prolog: a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (the tool of entity
  bombs and external entities) refuses the file, for the parts python-calamine parses too;
* the XML parts parsed here go through defusedxml (DTDs forbidden); the worksheet scan for
  formulas uses expat directly, for speed, with the same handlers that refuse DTDs and entities;
* python-calamine runs only after all of that, and anything it raises (even a Rust panic or a
  MemoryError) becomes a :class:`FileError`.

Every failure is one line: ``<file>: <reason>``.
"""

from __future__ import annotations

import functools
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any
from xml.parsers import expat

import defusedxml.ElementTree as DefusedET
import python_calamine

from smm_sheets.errors import FileError
from smm_sheets.formula import ExcelError
from smm_sheets.sheetref import cell_position, column_letter, column_number

FORMATS = ("xlsx", "xlsm", "xlsb", "xls", "ods")

_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")
_CFB_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_RATIO_CHECKED_ABOVE = 1_000_000  # bytes uncompressed: small entries may compress as well as they like
_PROLOG_BYTES = 65_536  # a root element must start within this many bytes of an XML part
_OWN_PART_LIMIT = 50_000_000  # bytes: metadata parts parsed into a tree here (workbook.xml, custom.xml...)
_CHUNK = 1 << 20


@dataclass
class Limits:
    """What a file may hold before it is refused unread."""

    max_entries: int = 10_000  # zip entries
    max_uncompressed: int = 1_000_000_000  # bytes, sum of all zip entries as declared (and then enforced)
    max_ratio: float = 200.0  # uncompressed / compressed, per entry of more than 1 MB uncompressed
    max_file_size: int = 200_000_000  # bytes on disk


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


DEFAULT_LIMITS = Limits()


def read(path: str | Path, limits: Limits = DEFAULT_LIMITS) -> WorkbookData:
    """Read a spreadsheet file, refusing hostile ones before they expand.

    Args:
        path: an .xlsx, .xlsm, .xlsb, .xls or .ods file (the format is told by content, not name).
        limits: the size limits to enforce.

    Returns:
        The workbook's sheets (values; formulas for xlsx/xlsm), names, properties and flags.

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


class _Reader:
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
        with fh:
            magic = fh.read(8)
            if magic[:4] in _ZIP_MAGIC:
                book = _Package(self, fh, size)
                workbook = book.read_parts(with_formulas, formats)
            elif magic == _CFB_MAGIC:
                workbook = self.inspect_cfb(fh, size, formats)
            elif not magic:
                raise self.fail("empty file, not a spreadsheet")
            else:
                raise self.fail("not a spreadsheet (expected xlsx, xlsm, xlsb, xls or ods)")
        self.read_values(workbook)
        if workbook.format in ("xlsx", "xlsm"):
            book.merge_into(workbook)
        elif workbook.format == "ods" and book.ods_errors:
            book.merge_ods_errors(workbook)
        return workbook

    def inspect_cfb(self, fh, size: int, formats: tuple[str, ...]) -> WorkbookData:
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

    def read_values(self, workbook: WorkbookData) -> None:
        """Cell values from python-calamine; every failure it has becomes a FileError."""
        try:
            if self._suffix_matches(workbook.format):
                book = python_calamine.CalamineWorkbook.from_path(str(self.path))
            else:  # calamine picks its parser by extension; from bytes it sniffs the format
                with open(self.path, "rb") as fh:
                    book = python_calamine.CalamineWorkbook.from_filelike(fh)
            with book:
                for meta in book.sheets_metadata:
                    if meta.typ not in (
                        python_calamine.SheetTypeEnum.WorkSheet,
                        python_calamine.SheetTypeEnum.MacroSheet,
                        python_calamine.SheetTypeEnum.DialogSheet,
                    ):
                        continue  # chart sheets have no cells
                    rows = book.get_sheet_by_name(meta.name).to_python(skip_empty_area=False)
                    for cells in rows:
                        if "" in cells:  # calamine gives "" for empty cells (and for errors: see merge_into)
                            cells[:] = [None if v == "" else v for v in cells]
                    visible = meta.visible == python_calamine.SheetVisibleEnum.Visible
                    workbook.sheets[meta.name] = SheetData(meta.name, rows, None, visible)
        except python_calamine.PasswordError:
            raise self.fail("encrypted (password-protected); save it without a password and try again") from None
        except MemoryError:
            raise self.fail("too large to read into memory") from None
        except (KeyboardInterrupt, SystemExit, GeneratorExit):
            raise
        except BaseException as error:  # noqa: B036 - a Rust panic arrives as pyo3's PanicException(BaseException)
            raise self.fail(f"cannot read it ({_one_line(error)})") from None

    def _suffix_matches(self, fmt: str) -> bool:
        # calamine picks its parser by file extension; with another extension it must sniff from bytes
        suffix = self.path.suffix.lower()
        return suffix == "." + fmt or (fmt in ("xlsx", "xlsm") and suffix in (".xlsx", ".xlsm"))


def _one_line(error: BaseException) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


# --------------------------------------------------------------------------------------------
# Zip packages: xlsx, xlsm, xlsb, ods


class _Package:
    """A zip package checked entry by entry before anything else reads it."""

    def __init__(self, reader: _Reader, fh, size: int):
        self.reader, self.fh, self.size, self.limits = reader, fh, size, reader.limits
        self.fail = reader.fail
        self.scans: dict[str, _ScanResults] = {}  # sheet name -> its formula scan (xlsx/xlsm)
        self.ods_errors: dict[str, dict[tuple[int, int], ExcelError]] = {}
        self.check_directory()
        try:
            self.zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error) as error:
            raise self.fail(f"broken zip ({_one_line(error)})") from None
        # Some writers use backslashes in entry names; python-calamine accepts them, so do we.
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in self.zip.infolist():
            name = info.filename.replace("\\", "/")
            if name in self.infos:  # two readers could pick different ones: refuse the ambiguity
                raise self.fail(f"broken zip (two entries named {name})")
            self.infos[name] = info
        self.check_entries()

    # -- the central directory, before zipfile builds an object per entry

    def check_directory(self) -> None:
        fh, size = self.fh, self.size
        tail_size = min(size, 22 + 65_535)
        fh.seek(size - tail_size)
        tail = fh.read(tail_size)
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + 22 > len(tail):
            raise self.fail("broken zip (no end of central directory)")
        entries, cd_size = struct.unpack("<HI", tail[at + 10 : at + 16])
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if locator >= 0 and (entries == 0xFFFF or cd_size == 0xFFFFFFFF):
            eocd64_at = struct.unpack("<Q", tail[locator + 8 : locator + 16])[0]
            fh.seek(eocd64_at)
            record = fh.read(56)
            if record[:4] != b"PK\x06\x06" or len(record) < 56:
                raise self.fail("broken zip (bad zip64 end of central directory)")
            entries, cd_size = struct.unpack("<Q", record[32:40])[0], struct.unpack("<Q", record[40:48])[0]
        self.check_entry_count(entries)
        # zipfile walks the whole directory whatever the count says: bound its size too
        # (46 bytes per entry plus a generous name and extra field).
        if cd_size > self.limits.max_entries * 1_024:
            raise self.fail(
                f"zip directory of {cd_size:,} bytes is too large for {self.limits.max_entries:,} entries (a zip bomb?)"
            )

    def check_entry_count(self, entries: int) -> None:
        if entries > self.limits.max_entries:
            raise self.fail(
                f"zip of {entries:,} entries is over the limit of {self.limits.max_entries:,} (a zip bomb?)"
            )

    def check_entries(self) -> None:
        infos = list(self.infos.values())
        self.check_entry_count(len(self.zip.infolist()))
        total = 0
        for info in infos:
            if info.flag_bits & 0x1:
                raise self.fail("encrypted (password-protected); save it without a password and try again")
            total += info.file_size
            if info.file_size > _RATIO_CHECKED_ABOVE and info.file_size > self.limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise self.fail(
                    f"zip entry {info.filename} expands {ratio:,.0f} times ({info.file_size:,} bytes), over the limit of "
                    f"{self.limits.max_ratio:g} (a zip bomb?)"
                )
        if total > self.limits.max_uncompressed:
            raise self.fail(
                f"zip contents of {total:,} bytes are over the limit of {self.limits.max_uncompressed:,} bytes (a zip bomb?)"
            )

    # -- entries, inflated here

    def chunks(self, info: zipfile.ZipInfo) -> Iterator[bytes]:
        """The entry's bytes, never more than its declared size; CRC checked at the end."""
        fh, name = self.fh, info.filename
        fh.seek(info.header_offset)
        header = fh.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            raise self.fail(f"broken zip (bad local header of {name})")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        if info.compress_type == zipfile.ZIP_DEFLATED:
            inflater = zlib.decompressobj(-15)
        elif info.compress_type == zipfile.ZIP_STORED:
            inflater = None
        else:
            raise self.fail(f"zip entry {name} uses an unsupported compression method ({info.compress_type})")
        compressed_left, out_left, crc = info.compress_size, info.file_size, 0
        too_large = (
            f"zip entry {name} holds more than the {info.file_size:,} bytes its directory declares (a zip bomb?)"
        )
        while compressed_left > 0:
            raw = fh.read(min(_CHUNK, compressed_left))
            if not raw:
                raise self.fail(f"broken zip (entry {name} is truncated)")
            compressed_left -= len(raw)
            if inflater is None:
                if len(raw) > out_left:
                    raise self.fail(too_large)
                out_left -= len(raw)
                crc = zlib.crc32(raw, crc)
                yield raw
                continue
            try:
                data = inflater.decompress(raw, min(out_left + 1, 4 * _CHUNK))
                while True:
                    if len(data) > out_left:
                        raise self.fail(too_large)
                    out_left -= len(data)
                    crc = zlib.crc32(data, crc)
                    if data:
                        yield data
                    if not inflater.unconsumed_tail:
                        break
                    data = inflater.decompress(inflater.unconsumed_tail, min(out_left + 1, 4 * _CHUNK))
            except zlib.error as error:
                raise self.fail(f"broken zip (entry {name}: {error})") from None
        if inflater is not None:
            rest = inflater.flush()
            if len(rest) > out_left:
                raise self.fail(too_large)
            out_left -= len(rest)
            crc = zlib.crc32(rest, crc)
            if rest:
                yield rest
            if not inflater.eof:
                raise self.fail(f"broken zip (entry {name} is truncated)")
        if out_left:
            raise self.fail(f"broken zip (entry {name} is shorter than its declared size)")
        if crc != info.CRC:
            raise self.fail(f"broken zip (bad CRC of entry {name})")

    def stream(self, info: zipfile.ZipInfo, sink=None) -> bytes | None:
        """Inflate an entry, checking an XML part's prolog first; feed ``sink`` or return the bytes."""
        is_xml = info.filename.lower().endswith((".xml", ".rels", ".vml"))
        kept: list[bytes] | None = [] if sink is None else None
        head = b""
        checked = not is_xml
        for data in self.chunks(info):
            if not checked:
                head += data
                if len(head) < _PROLOG_BYTES:
                    continue
                self.check_prolog(info.filename, head)
                checked, data, head = True, head, b""
            if sink is not None:
                sink(data)
            elif len(data) and kept is not None:
                kept.append(data)
                if info.file_size > _OWN_PART_LIMIT:
                    raise self.fail(f"{info.filename} is over {_OWN_PART_LIMIT:,} bytes")
        if not checked:
            self.check_prolog(info.filename, head)
            if head:
                if sink is not None:
                    sink(head)
                elif kept is not None:
                    kept.append(head)
        return b"".join(kept) if kept is not None else None

    def check_prolog(self, name: str, head: bytes) -> None:
        """Refuse DOCTYPE and ENTITY declarations: only a DTD can declare the entities of a bomb."""
        head = head[:_PROLOG_BYTES]
        if head.startswith((b"\xff\xfe", b"\xfe\xff")):
            text = head.decode("utf-16", errors="replace")
        else:
            text = head.decode("utf-8", errors="replace").lstrip("\ufeff")
        pos, end = 0, len(text)
        while True:
            while pos < end and text[pos] in " \t\r\n":
                pos += 1
            if pos >= end:
                if len(head) >= _PROLOG_BYTES:
                    raise self.fail(f"{name}: XML prolog longer than {_PROLOG_BYTES:,} bytes")
                return  # an empty or text-only part: whoever parses it will say so
            if text.startswith("<?", pos):
                close, pos = text.find("?>", pos), text.find("?>", pos) + 2
            elif text.startswith("<!--", pos):
                close, pos = text.find("-->", pos + 4), text.find("-->", pos + 4) + 3
            elif text.startswith("<!", pos):
                word = text[pos + 2 : pos + 9].upper()
                what = "ENTITY" if word.startswith("ENTITY") else "DOCTYPE" if word.startswith("DOCTYPE") else "markup"
                raise self.fail(f"{name}: XML with a {what} declaration is refused (entity expansion bomb?)")
            else:
                return  # the root element (or not XML at all, which the parser reports)
            if close < 0:
                if len(head) >= _PROLOG_BYTES:
                    raise self.fail(f"{name}: XML prolog longer than {_PROLOG_BYTES:,} bytes")
                return

    def part(self, name: str) -> bytes | None:
        info = self.infos.get(name)
        if info is None:
            return None
        data = self.stream(info)
        self.done.add(name)
        return data

    def tree(self, name: str):
        data = self.part(name)
        if data is None:
            return None
        try:
            return DefusedET.fromstring(data, forbid_dtd=True)
        except Exception as error:  # defusedxml's own errors, ParseError, encoding errors
            raise self.fail(f"{name}: broken XML ({_one_line(error)})") from None

    # -- the package as a whole

    def read_parts(self, with_formulas: bool, formats: tuple[str, ...]) -> WorkbookData:
        self.done: set[str] = set()
        names = self.infos
        workbook_part = self.office_document()
        if workbook_part is not None and workbook_part in names:
            fmt = "xlsb" if workbook_part.lower().endswith(".bin") else "xlsx"
        elif "content.xml" in names:
            mimetype = self.part("mimetype") if "mimetype" in names else None
            if mimetype is not None and mimetype.strip() != _ODS_MIMETYPE:
                raise self.fail(
                    f"not a spreadsheet (an OpenDocument file of type {mimetype.strip().decode('ascii', 'replace')[:80]})"
                )
            fmt = "ods"
        else:
            raise self.fail("not a spreadsheet (a zip file without a workbook)")
        workbook = WorkbookData(path=self.reader.path, format=fmt, sheets={})
        if fmt == "ods":
            self.read_ods(workbook)
        else:
            self.read_ooxml(workbook, workbook_part, with_formulas and fmt == "xlsx")
        if workbook.format not in formats:
            raise self.fail(f"an .{workbook.format} workbook; expected {' or '.join('.' + f for f in formats)}")
        # Every other entry is inflated too (and thrown away): calamine must meet no unchecked byte.
        for name, info in names.items():
            if name not in self.done:
                self.stream(info, sink=_discard)
        return workbook

    def office_document(self) -> str | None:
        root = self.tree("_rels/.rels")
        if root is not None:
            for rel in root:
                if rel.get("Type", "").endswith("/officeDocument"):
                    return _resolve("", rel.get("Target", ""))
        for candidate in ("xl/workbook.xml", "xl/workbook.bin"):
            if candidate in self.infos:
                return candidate
        return None

    def read_ooxml(self, workbook: WorkbookData, workbook_part: str, with_formulas: bool) -> None:
        lower = {name.lower(): name for name in self.infos}
        workbook.has_macros = any(name.endswith("vbaproject.bin") for name in lower)
        types = self.tree("[Content_Types].xml")
        if types is not None and workbook.format == "xlsx":
            for override in types:
                if override.get("PartName", "").lstrip("/") == workbook_part and "macroEnabled" in override.get(
                    "ContentType", ""
                ):
                    workbook.format = "xlsm"
        if workbook.format == "xlsx" and workbook.has_macros:
            workbook.format = "xlsm"
        app = self.tree("docProps/app.xml")
        if app is not None:
            for child in app:
                if _local(child.tag) == "Application" and child.text:
                    workbook.application = child.text.strip()
        workbook.properties = self.custom_properties()
        for name in sorted(self.infos):
            if name.lower().startswith("xl/externallinks/_rels/") and name.lower().endswith(".rels"):
                root = self.tree(name)
                for rel in root if root is not None else ():
                    if rel.get("Target"):
                        workbook.external_links.append(rel.get("Target"))
        if workbook_part.endswith(".bin"):
            return  # xlsb: binary parts, values and names only through calamine
        base = str(PurePosixPath(workbook_part).parent)
        base = "" if base == "." else base
        rels_name = f"{base}/_rels/{PurePosixPath(workbook_part).name}.rels".lstrip("/")
        targets = {}
        rels = self.tree(rels_name)
        for rel in rels if rels is not None else ():
            if rel.get("TargetMode") != "External":
                targets[rel.get("Id")] = _resolve(base, rel.get("Target", ""))
        root = self.tree(workbook_part)
        if root is None:
            raise self.fail(f"broken workbook ({workbook_part} is missing)")
        self.sheet_parts: dict[str, str] = {}
        for element in root.iter():
            tag = _local(element.tag)
            if tag == "sheet":
                rid = next((v for k, v in element.attrib.items() if _local(k) == "id"), None)
                if element.get("name") is not None and targets.get(rid) in self.infos:
                    self.sheet_parts[element.get("name")] = targets[rid]
            elif tag == "definedName" and element.get("localSheetId") is None and element.get("name"):
                workbook.defined_names[element.get("name")] = (element.text or "").removeprefix("=")
        if with_formulas:
            for sheet, part in self.sheet_parts.items():
                if part in self.done:
                    continue
                scan = self.scan_sheet(part)
                self.scans[sheet] = scan
                self.done.add(part)

    def scan_sheet(self, part: str, fast: bool = True) -> _ScanResults:
        """Formulas and error cells of one worksheet part: by the fast scan, else by expat."""
        if fast:
            scan: _ScanResults = _FastSheetScan(self.fail, part)
            try:
                self.stream(self.infos[part], sink=scan.feed)
                scan.close()
                return scan
            except _NeedsFullParse:
                pass
        scan = _SheetScan(self.fail, part)
        self.stream(self.infos[part], sink=scan.feed)
        scan.close()
        return scan

    def custom_properties(self) -> dict[str, str]:
        root = self.tree("docProps/custom.xml")
        found = {}
        for prop in root if root is not None else ():
            if _local(prop.tag) == "property" and prop.get("name") is not None:
                value = next(iter(prop), None)
                found[prop.get("name")] = "" if value is None else (value.text or "")
        return found

    def read_ods(self, workbook: WorkbookData) -> None:
        manifest = self.part("META-INF/manifest.xml")
        if manifest is not None and b"encryption-data" in manifest:
            raise self.fail("encrypted (password-protected); save it without a password and try again")
        meta = self.tree("meta.xml")
        if meta is not None:
            for element in meta.iter():
                tag = _local(element.tag)
                if tag == "generator" and element.text:
                    workbook.application = element.text.strip()
                elif tag == "user-defined":
                    name = next((v for k, v in element.attrib.items() if _local(k) == "name"), None)
                    if name is not None:
                        workbook.properties[name] = element.text or ""
        workbook.has_macros = any(
            name.startswith("Basic/")
            and name.endswith(".xml")
            and not name.endswith(("script-lc.xml", "script-lb.xml"))
            for name in self.infos
        )
        info = self.infos["content.xml"]
        scan = _OdsScan(self.fail)
        self.stream(info, sink=scan.feed)
        scan.close()
        self.done.add("content.xml")
        workbook.defined_names.update(scan.named_ranges)
        self.ods_errors = scan.errors

    # -- merging what was read here into calamine's values

    def merge_into(self, workbook: WorkbookData) -> None:
        any_formula = any_cached = False
        for name, sheet in workbook.sheets.items():
            scan = self.scans.get(name)
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
            if sheet.formulas is None and name in self.sheet_parts:
                sheet.formulas = {}

    def merge_ods_errors(self, workbook: WorkbookData) -> None:
        for name, sheet in workbook.sheets.items():
            _put_errors(sheet, self.ods_errors.get(name, {}))


def _put_errors(sheet: SheetData, errors: dict[tuple[int, int], ExcelError]) -> None:
    for (row, col), error in errors.items():
        # calamine may give an error cell as blank or as the error's text: both are the error.
        if (
            row < len(sheet.rows)
            and col < len(sheet.rows[row])
            and sheet.rows[row][col] in (None, "", error.code, error)
        ):
            sheet.rows[row][col] = error


def _discard(data: bytes) -> None:
    pass


def _local(tag: str) -> str:
    return tag.rpartition("}")[2].rpartition(":")[2]


def _resolve(base: str, target: str) -> str:
    """A relationship target as a zip entry name ('/xl/x.xml' is absolute, 'x.xml' relative to base)."""
    if target.startswith("/"):
        path = target.lstrip("/")
    else:
        path = f"{base}/{target}" if base else target
    parts: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if parts:
                parts.pop()
        elif piece not in ("", "."):
            parts.append(piece)
    return "/".join(parts)


def _refuse_dtd(*_args) -> None:
    raise _Refused("DOCTYPE")


def _refuse_entity(*_args) -> None:
    raise _Refused("ENTITY")


class _Refused(Exception):
    """A DTD or entity declaration met by one of our expat scans (as defusedxml refuses them)."""


def _expat(fail, part: str):
    """An expat parser that refuses DTDs, entity declarations and external entities."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    return parser


# --------------------------------------------------------------------------------------------
# Worksheet XML: formulas, error cells, missing cached values


class _ScanResults:
    """What a worksheet scan collects, and how shared formulas are expanded."""

    def __init__(self, fail, part: str):
        self.fail, self.part = fail, part
        self.formulas: dict[tuple[int, int], str] = {}
        self.errors: dict[tuple[int, int], ExcelError] = {}
        self.uncached: list[tuple[int, int]] = []  # formula cells without a cached value
        self.cached = 0  # formula cells with one
        self.shared: dict[str, _SharedFormula] = {}
        self.pending_shared: list[tuple[str, int, int]] = []  # users of a shared formula seen before its master

    def formula(self, text: str, attrs: dict[str, str], position: tuple[int, int]) -> None:
        if attrs.get("t") == "shared" and attrs.get("si") is not None:
            si = attrs["si"]
            if text:  # the master cell holds the text; the others only point at it
                self.shared[si] = _SharedFormula(text, *position)
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
            return chr(int(name[2:], 16) if name[1] in "xX" else int(name[1:]))
        except (ValueError, OverflowError):
            raise _NeedsFullParse from None

    return _XML_ESCAPE.sub(one, text)


class _FastSheetScan(_ScanResults):
    """Formulas and error cells found by regular expressions over <sheetData>, block of rows by block.

    Worksheet XML is regular enough (no comments, CDATA or processing instructions inside
    sheetData, every <c> with its r attribute) that a few C-speed searches over the raw UTF-8
    bytes find the formula and error cells without a Python call per cell. Anything else (another
    encoding, an <f> the searches do not match exactly, an error cell count that disagrees) raises
    _NeedsFullParse, and expat reads the part instead (:class:`_SheetScan`).
    """

    def __init__(self, fail, part: str):
        super().__init__(fail, part)
        self.buffer = b""
        self.prefix: bytes | None = None
        self.started = False

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
        odd, f_start, cell, c_tag, e_attribute, error_tag, value, c_end = self.patterns
        if odd.search(region):
            raise _NeedsFullParse  # a comment, CDATA, declaration or processing instruction
        for hit in f_start.finditer(region):
            c_at = region.rfind(c_tag, 0, hit.start())
            match = cell.match(region, c_at) if c_at >= 0 else None
            if match is None or match.start(2) != hit.start():
                raise _NeedsFullParse  # an <f> not where a formula is, or attributes we do not follow
            position = _r_position(match.group(1))
            self.formula(_text(match.group(4)), _attributes(match.group(3)), position)
            # openpyxl and others write <v></v> for a value they never computed; an empty text
            # result is <v></v> too, but in a cell of type str.
            if match.group(5) and (
                not _EMPTY_VALUE.match(region, match.start(5)) or _STR_TYPE.search(match.group(1) or b"")
            ):
                self.cached += 1
            else:
                self.uncached.append(position)
        # Every writer we know spells it t="e"; with spaces around "=" an error cell would read as blank.
        for hit in e_attribute.finditer(region):
            c_at = region.rfind(c_tag, 0, hit.start())
            tag = error_tag.match(region, c_at) if c_at >= 0 else None
            close = region.find(c_end, hit.end())
            if tag is None or tag.end() < hit.end() or close < 0:
                raise _NeedsFullParse  # t="e" somewhere else than in a <c> tag
            cached = value.search(region, tag.end(), close)
            if cached is not None:
                self.errors[_r_position(tag.group(1))] = ExcelError(_text(cached.group(1)).strip())


def _r_position(attributes: bytes | None) -> tuple[int, int]:
    """(row, col) from a <c> tag's attributes; a cell without r is placed by counting: expat's job."""
    match = _R_ATTRIBUTE.search(attributes or b"")
    if match is None:
        raise _NeedsFullParse
    letters, digits = match.group(1), match.group(2)
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


def _attributes(raw: bytes | None) -> dict[str, str]:
    if not raw:
        return {}
    return {
        m.group(1).decode("ascii", "replace"): _text(m.group(2) if m.group(2) is not None else m.group(3))
        for m in _BYTES_ATTRIBUTE.finditer(raw)
    }


@functools.lru_cache(maxsize=8)
def _sheet_patterns(p: bytes) -> tuple:
    """The searches of :class:`_FastSheetScan` for elements of namespace prefix ``p``."""
    p_ = re.escape(p)
    odd = re.compile(rb"<[!?]")
    f_start = re.compile(rb"<" + p_ + rb"f(?=[\s/>])")
    e_attribute = re.compile(rb"t=[\"']e[\"']")
    # <c ...> <f ...>text</f> <v: groups 1 c attributes, 2 the <f> element, 3 its attributes, 4 its text, 5 <v
    cell = re.compile(
        rb"<"
        + p_
        + rb"c(\s[^>]*)?(?<!/)>\s*(<"
        + p_
        + rb"f(\s[^>]*?)?(?:/>|>([^<]*)</"
        + p_
        + rb"f>))\s*(<"
        + p_
        + rb"v[\s/>])?"
    )
    error_tag = re.compile(rb"<" + p_ + rb"c(\s[^>]*)(?<!/)>")
    value = re.compile(rb"<" + p_ + rb"v>([^<]*)</" + p_ + rb"v>")
    return b"</" + p + b"row>", (odd, f_start, cell, b"<" + p + b"c", e_attribute, error_tag, value, b"</" + p + b"c>")


_EMPTY_VALUE = re.compile(rb"<(?:[\w.-]+:)?v\s*(?:/>|>\s*</(?:[\w.-]+:)?v>)")
_STR_TYPE = re.compile(rb"\st\s*=\s*[\"']str[\"']")


def _feed(parser, fail, part: str, data: bytes, final: bool = False) -> None:
    """Parse a chunk with expat; a declaration we refuse or broken XML is one FileError line."""
    try:
        parser.Parse(data, final)
    except _Refused as refused:
        raise fail(f"{part}: XML with a {refused} declaration is refused (entity expansion bomb?)") from None
    except expat.ExpatError as error:
        raise fail(f"{part}: broken XML ({error})") from None


class _SheetScan(_ScanResults):
    """One pass of expat over a worksheet part, for the parts :class:`_FastSheetScan` declines."""

    def __init__(self, fail, part: str):
        super().__init__(fail, part)
        self.row, self.col = 0, -1
        self.inside = False  # within <sheetData>
        self.cell_type: str | None = None
        self.has_formula = self.has_value = False
        self.text: list[str] | None = None
        self.f_attrs: dict[str, str] = {}
        self.kinds: dict[str, str] = {}
        parser = _expat(fail, part)
        parser.StartElementHandler = self.start
        parser.EndElementHandler = self.end
        parser.CharacterDataHandler = self.data
        self.parser = parser

    def feed(self, data: bytes) -> None:
        _feed(self.parser, self.fail, self.part, data)

    def close(self) -> None:
        _feed(self.parser, self.fail, self.part, b"", final=True)
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
            position = cell_position(ref) if ref else None
            if position is None:
                self.col += 1
            else:
                self.row, self.col = position
            self.cell_type = attrs.get("t")
            self.has_formula = self.has_value = False
        elif kind == "f":
            self.has_formula = True
            self.f_attrs = attrs
            self.text = []
        elif kind == "v":
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
                self.errors[(self.row, self.col)] = ExcelError(text)
            self.text = None
        elif kind == "c" and self.has_formula:
            if self.has_value:
                self.cached += 1
            else:
                self.uncached.append((self.row, self.col))


# Tokens of an A1 formula that shifting must step over whole (strings, quoted sheet names,
# bracketed parts) or shift (cell refs, whole-column and whole-row ranges).
_FORMULA_TOKEN = re.compile(
    r"""(?P<skip>"(?:[^"]|"")*"|'(?:[^']|'')*'|\[[^\]]*\])"""
    r"""|(?<![A-Za-z0-9_.$])(?P<cols>\$?[A-Za-z]{1,3}:\$?[A-Za-z]{1,3})(?![A-Za-z0-9_(])"""
    r"""|(?<![A-Za-z0-9_.$:])(?P<rows>\$?[0-9]{1,7}:\$?[0-9]{1,7})(?![A-Za-z0-9_.(])"""
    r"""|(?<![A-Za-z0-9_.$])(?P<cell>\$?[A-Za-z]{1,3}\$?[0-9]{1,7})(?![A-Za-z0-9_(])"""
)
_MAX_ROW, _MAX_COL = 1_048_576, 16_384


class _SharedFormula:
    """A shared formula's master text, split once into fixed text and shiftable references."""

    def __init__(self, text: str, row: int, col: int):
        self.row, self.col = row, col
        self.pieces: list[Any] = []  # str, or (kind, parts) for a reference
        last = 0
        for match in _FORMULA_TOKEN.finditer(text):
            if match.lastgroup == "skip":
                continue
            self.pieces.append(text[last : match.start()])
            token = match.group()
            if match.lastgroup == "cell":
                m = re.fullmatch(r"(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)", token)
                self.pieces.append(("cell", m.group(1), column_number(m.group(2)), m.group(3), int(m.group(4))))
            elif match.lastgroup == "cols":
                a, b = token.split(":")
                self.pieces.append(
                    (
                        "cols",
                        a.startswith("$"),
                        column_number(a.lstrip("$")),
                        b.startswith("$"),
                        column_number(b.lstrip("$")),
                    )
                )
            else:
                a, b = token.split(":")
                self.pieces.append(
                    ("rows", a.startswith("$"), int(a.lstrip("$")), b.startswith("$"), int(b.lstrip("$")))
                )
            last = match.end()
        self.pieces.append(text[last:])
        self.plain = len(self.pieces) == 1

    def at(self, row: int, col: int) -> str:
        if self.plain:
            return self.pieces[0]
        dr, dc = row - self.row, col - self.col
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            kind = piece[0]
            if kind == "cell":
                _, col_abs, c, row_abs, r = piece
                c = c if col_abs else c + dc
                r = r if row_abs else r + dr
                out.append(
                    "#REF!"
                    if not (0 <= c < _MAX_COL and 1 <= r <= _MAX_ROW)
                    else f"{col_abs}{column_letter(c)}{row_abs}{r}"
                )
            elif kind == "cols":
                _, a_abs, a, b_abs, b = piece
                a, b = (a if a_abs else a + dc), (b if b_abs else b + dc)
                out.append(
                    "#REF!"
                    if not (0 <= a < _MAX_COL and 0 <= b < _MAX_COL)
                    else f"{'$' if a_abs else ''}{column_letter(a)}:{'$' if b_abs else ''}{column_letter(b)}"
                )
            else:
                _, a_abs, a, b_abs, b = piece
                a, b = (a if a_abs else a + dr), (b if b_abs else b + dr)
                out.append(
                    "#REF!"
                    if not (1 <= a <= _MAX_ROW and 1 <= b <= _MAX_ROW)
                    else f"{'$' if a_abs else ''}{a}:{'$' if b_abs else ''}{b}"
                )
        return "".join(out)


# --------------------------------------------------------------------------------------------
# OpenDocument content.xml: error cells and named ranges


class _OdsScan:
    """One expat pass over content.xml: where error cells are, and the named ranges."""

    def __init__(self, fail):
        self.fail = fail
        self.errors: dict[str, dict[tuple[int, int], ExcelError]] = {}
        self.named_ranges: dict[str, str] = {}
        self.sheet: str | None = None
        self.row = self.col = 0
        self.row_repeat = 1
        self.depth_in_error = 0
        self.error_text: list[str] | None = None
        self.error_at: tuple[int, int] | None = None
        self.parser = _expat(fail, "content.xml")
        self.parser.StartElementHandler = self.start
        self.parser.EndElementHandler = self.end
        self.parser.CharacterDataHandler = self.data

    def feed(self, data: bytes, final: bool = False) -> None:
        _feed(self.parser, self.fail, "content.xml", data, final)

    def close(self) -> None:
        self.feed(b"", True)

    def start(self, name: str, attrs: dict[str, str]) -> None:
        if name == "table:table-cell" or name == "table:covered-table-cell":
            if attrs.get("calcext:value-type") == "error" and self.sheet is not None:
                self.error_at = (self.row, self.col)
                self.error_text = []
            self.col += int(attrs.get("table:number-columns-repeated", "1") or 1)
        elif name == "table:table-row":
            self.col = 0
            self.row_repeat = int(attrs.get("table:number-rows-repeated", "1") or 1)
        elif name == "table:table":
            self.sheet = attrs.get("table:name")
            self.row = 0
        elif name in ("table:named-range", "table:named-expression"):
            target = attrs.get("table:cell-range-address") or attrs.get("table:expression")
            if attrs.get("table:name") and target:
                self.named_ranges[attrs["table:name"]] = target

    def data(self, text: str) -> None:
        if self.error_text is not None:
            self.error_text.append(text)

    def end(self, name: str) -> None:
        if name == "table:table-cell" and self.error_text is not None:
            self.errors.setdefault(self.sheet, {})[self.error_at] = ExcelError("".join(self.error_text).strip())
            self.error_text = None
        elif name == "table:table-row":
            self.row += self.row_repeat
        elif name == "table:table":
            self.sheet = None
