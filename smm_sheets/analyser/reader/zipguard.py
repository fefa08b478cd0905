"""The guards of the reader: zip and XML bombs, DTDs and entities, refused before anything expands.

* the zip central directory: number of entries, declared uncompressed sizes (total), compression
  ratio per large entry, encrypted entries; then every entry is inflated here, in a stream,
  stopping as soon as it yields more than its declared size (so a lying directory cannot smuggle
  a bomb past the totals) and checking its CRC (:class:`Package`);
* every XML part's prolog: a ``<!DOCTYPE`` or ``<!ENTITY`` declaration (the tool of entity
  bombs and external entities) refuses the file, for the parts python-calamine parses too;
* the XML parts parsed into trees go through defusedxml (DTDs forbidden); the expat parsers of
  the sheet and ODS scans come from :func:`expat_parser`, which refuses DTDs and entities.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from typing import BinaryIO
from xml.parsers import expat

import defusedxml.ElementTree as DefusedET

from smm_sheets.analyser.reader.data import Limits
from smm_sheets.errors import FileError

_RATIO_CHECKED_ABOVE = 1_000_000  # bytes uncompressed: small entries may compress as well as they like
_PROLOG_BYTES = 65_536  # a root element must start within this many bytes of an XML part
_OWN_PART_LIMIT = 50_000_000  # bytes: metadata parts parsed into a tree here (workbook.xml, custom.xml...)
_CHUNK = 1 << 20


def one_line(error: BaseException) -> str:
    """An exception's message on one line of at most 300 characters (its type's name if it has none)."""
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= 300 else text[:297] + "..."


class Package:
    """A zip package checked entry by entry before anything else reads it."""

    def __init__(self, fail: Callable[[str], FileError], fh: BinaryIO, size: int, limits: Limits):
        """Check the zip directory and every entry's declared sizes.

        Args:
            fail: makes the one-line error naming the file from a reason.
            fh: the open file, positioned anywhere.
            size: its size in bytes.
            limits: the limits to enforce.

        Raises:
            FileError: a broken zip, or one over the limits.
        """
        self.fh, self.size, self.limits, self.fail = fh, size, limits, fail
        self.done: set[str] = set()  # entries already inflated (and checked) by a reader of the package
        self.check_directory()
        try:
            self.zip = zipfile.ZipFile(fh)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError, struct.error) as error:
            raise self.fail(f"broken zip ({one_line(error)})") from None
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
        name, out_left, crc = info.filename, info.file_size, 0
        too_large = (
            f"zip entry {name} holds more than the {info.file_size:,} bytes its directory declares (a zip bomb?)"
        )
        for data in self._inflated(info, lambda: out_left):  # noqa: B023 - the room left now, on each call
            if len(data) > out_left:
                raise self.fail(too_large)
            out_left -= len(data)
            crc = zlib.crc32(data, crc)
            if data:
                yield data
        if out_left:
            raise self.fail(f"broken zip (entry {name} is shorter than its declared size)")
        if crc != info.CRC:
            raise self.fail(f"broken zip (bad CRC of entry {name})")

    def _inflated(self, info: zipfile.ZipInfo, room: Callable[[], int]) -> Iterator[bytes]:
        """The entry's bytes as stored or inflated, each piece at most ``room() + 1`` bytes when
        inflated, so that a bomb stops one byte past its declared size (:meth:`chunks` counts)."""
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
        compressed_left = info.compress_size
        while compressed_left > 0:
            raw = fh.read(min(_CHUNK, compressed_left))
            if not raw:
                raise self.fail(f"broken zip (entry {name} is truncated)")
            compressed_left -= len(raw)
            if inflater is None:
                yield raw
                continue
            try:
                data = inflater.decompress(raw, min(room() + 1, 4 * _CHUNK))
                while True:
                    yield data
                    if not inflater.unconsumed_tail:
                        break
                    data = inflater.decompress(inflater.unconsumed_tail, min(room() + 1, 4 * _CHUNK))
            except zlib.error as error:
                raise self.fail(f"broken zip (entry {name}: {error})") from None
        if inflater is not None:
            yield inflater.flush()
            if not inflater.eof:
                raise self.fail(f"broken zip (entry {name} is truncated)")

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
        """An entry's bytes (checked and bounded), None if there is no such entry; marks it done."""
        info = self.infos.get(name)
        if info is None:
            return None
        data = self.stream(info)
        self.done.add(name)
        return data

    def tree(self, name: str):
        """An XML entry parsed by defusedxml (DTDs forbidden); None if there is no such entry."""
        data = self.part(name)
        if data is None:
            return None
        try:
            return DefusedET.fromstring(data, forbid_dtd=True)
        except Exception as error:  # defusedxml's own errors, ParseError, encoding errors
            raise self.fail(f"{name}: broken XML ({one_line(error)})") from None


def rewritten_package(package: Package, parts: dict[str, bytes]) -> io.BytesIO:
    """The package with the entries of ``parts`` replaced, as an in-memory zip (for calamine,
    when far cells are left out: see :mod:`.extent`)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target:
        for name, info in package.infos.items():
            target.writestr(info.filename, parts[name] if name in parts else package.zip.read(info))
    out.seek(0)
    return out


def discard(data: bytes) -> None:
    """A sink for :meth:`Package.stream` that keeps nothing (the entry is only checked)."""
    pass


def local_name(tag: str) -> str:
    """An XML tag or attribute name without its namespace ("{ns}sheet", "r:id" -> "sheet", "id")."""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _refuse_dtd(*_args) -> None:
    raise _Refused("DOCTYPE")


def _refuse_entity(*_args) -> None:
    raise _Refused("ENTITY")


class _Refused(Exception):
    """A DTD or entity declaration met by one of our expat scans (as defusedxml refuses them)."""


def expat_parser(fail, part: str):
    """An expat parser that refuses DTDs, entity declarations and external entities."""
    parser = expat.ParserCreate()
    parser.buffer_text = True
    parser.StartDoctypeDeclHandler = _refuse_dtd
    parser.EntityDeclHandler = _refuse_entity
    parser.UnparsedEntityDeclHandler = _refuse_entity
    parser.ExternalEntityRefHandler = _refuse_entity
    return parser


def feed_parser(parser, fail, part: str, data: bytes, final: bool = False) -> None:
    """Parse a chunk with expat; a declaration we refuse or broken XML is one FileError line."""
    try:
        parser.Parse(data, final)
    except _Refused as refused:
        raise fail(f"{part}: XML with a {refused} declaration is refused (entity expansion bomb?)") from None
    except expat.ExpatError as error:
        raise fail(f"{part}: broken XML ({error})") from None
    except (LookupError, ValueError, UnicodeError) as error:  # an encoding Python has no codec for
        raise fail(f"{part}: broken XML ({one_line(error)})") from None
