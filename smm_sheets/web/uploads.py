"""Files in and out of the web layer: uploads saved under names of our own, a client's zipped
set unpacked through the reader's zip guards, and the generated set zipped for download.

An upload's own name is only ever shown (as text); on disk every file is ``NN.<suffix>`` in the
request's temporary folder, the suffix one of a fixed few.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from smm_sheets.analyser.reader.data import Limits
from smm_sheets.analyser.reader.zipguard import Package
from smm_sheets.errors import FileError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
MB = 1_000_000
_CHUNK = 1 << 20


class TooLarge(Exception):
    """A file over the size limit, or more files than a request may carry."""


class BadUpload(Exception):
    """An upload we cannot take (an unreadable zip, a zip without workbooks)."""


@dataclass(frozen=True)
class Saved:
    """A file ready to analyse: where it is, and the name people gave it (shown, never used as a path)."""

    path: Path
    name: str


def display_name(name: str | None, fallback: str) -> str:
    """The last part of an upload's name, at most 200 characters, for showing only."""
    text = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    text = "".join(ch for ch in text if ch.isprintable()) or fallback
    return text if len(text) <= 200 else text[:199] + "…"


def suffix_of(name: str) -> str:
    """The file's suffix if it is one we read, else ``.bin`` (the reader then says what it is)."""
    suffix = PurePosixPath(name.lower()).suffix
    return suffix if suffix in (*SPREADSHEET_SUFFIXES, ".zip") else ".bin"


def save(stream: BinaryIO, name: str | None, folder: Path, number: int, max_bytes: int) -> Path:
    """Copy an upload into ``folder/NN.suffix``, refusing it past ``max_bytes``.

    Raises:
        TooLarge: the upload holds more than ``max_bytes``.
    """
    target = folder / f"{number:02d}{suffix_of(name or '')}"
    written = 0
    with open(target, "xb") as out:
        while chunk := stream.read(_CHUNK):
            written += len(chunk)
            if written > max_bytes:
                raise TooLarge(f"{display_name(name, 'file')}: over the limit of {max_bytes // MB} MB a file")
            out.write(chunk)
    return target


def unpack_set(archive: Path, name: str, folder: Path, first: int, max_files: int, max_bytes: int) -> list[Saved]:
    """The workbooks of a zipped client's set, written to ``folder`` as ``NN.suffix`` from ``first`` on.

    Every entry goes through the reader's zip guards (entry count, declared and real sizes,
    ratio, CRC, encryption); folders, hidden files and other files in the zip are skipped.

    Raises:
        TooLarge: more than ``max_files`` workbooks, or one over ``max_bytes``.
        BadUpload: a broken zip, a bomb, or no workbooks in it.
    """

    def fail(reason: str) -> FileError:
        return FileError(f"{name}: {reason}")

    saved: list[Saved] = []
    try:
        with open(archive, "rb") as fh:
            package = Package(fail, fh, archive.stat().st_size, Limits(max_uncompressed=max_files * max_bytes))
            for entry, info in package.infos.items():
                parts = PurePosixPath(entry).parts
                if entry.endswith("/") or not parts or any(p.startswith((".", "~$", "__MACOSX")) for p in parts):
                    continue
                if suffix_of(parts[-1]) not in SPREADSHEET_SUFFIXES:
                    continue
                if len(saved) == max_files:
                    raise TooLarge(f"{name}: more than {max_files} workbooks in the zip")
                if info.file_size > max_bytes:
                    raise TooLarge(
                        f"{name}: {display_name(parts[-1], 'entry')} is over the limit of {max_bytes // MB} MB"
                    )
                target = folder / f"{first + len(saved):02d}{suffix_of(parts[-1])}"
                with open(target, "xb") as out:
                    for chunk in package.chunks(info):
                        out.write(chunk)
                saved.append(Saved(target, display_name(parts[-1], "workbook")))
    except FileError as error:
        raise BadUpload(str(error)) from None
    if not saved:
        raise BadUpload(f"{name}: no workbooks ({', '.join(SPREADSHEET_SUFFIXES)}) in this zip")
    return saved


def download_name(name: str, suffix: str) -> str:
    """The name a download of ``name`` (an upload's shown name) gets: its stem and ``suffix``."""
    stem = name.rsplit(".", 1)[0].strip() if "." in name.strip(".") else name.strip()
    return (stem or "workbook")[:150] + suffix


def unique_names(names: Iterable[str]) -> list[str]:
    """The names, a number added to a repeated one (two uploads called budget.xlsx), for a zip."""
    seen: set[str] = set()
    out = []
    for name in names:
        stem, dot, suffix = name.rpartition(".") if "." in name else (name, "", "")
        candidate, number = name, 1
        while candidate.lower() in seen:
            number += 1
            candidate = f"{stem}-{number}{dot}{suffix}"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def zip_named(files: Iterable[tuple[Path, str]]) -> bytes:
    """The files, zipped under the names given (the names people gave their uploads, made unique)."""
    files = list(files)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for (path, _), name in zip(files, unique_names(n for _, n in files)):
            archive.write(path, arcname=name.replace("/", "_").replace("\\", "_"))
    return buffer.getvalue()


def zip_files(paths: Iterable[Path]) -> bytes:
    """The files, zipped under their own names (the generated set)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in paths:
            archive.write(path, arcname=path.name)
    return buffer.getvalue()
