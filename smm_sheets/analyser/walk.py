"""The spreadsheets in the files and folders named: a walk that stays inside each folder.

Symbolic links are followed only to files and folders inside the folder given (never to ``/``,
never round a loop); FIFOs, devices and sockets are skipped unread (opening a FIFO blocks);
at most :data:`MAX_FILES` files and :data:`MAX_DEPTH` folders deep. Each thing skipped is a
note for the report.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from smm_sheets.errors import InputError

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xlsb", ".xls", ".ods")
MAX_FILES = 10_000  # spreadsheets taken from the folders of one run
MAX_DEPTH = 32  # folders below the one named


def spreadsheet_files(paths: Iterable[str | Path]) -> tuple[list[Path], list[str]]:
    """The files named, and the spreadsheets in the folders named (sorted, hidden ones skipped).

    Returns:
        The files, and a note for each thing skipped (a link out of the folder, a FIFO...).

    Raises:
        InputError: a path that does not exist, that is not a regular file or a folder, or a
            folder without spreadsheets.
    """
    found: list[Path] = []
    notes: list[str] = []
    for item in paths:
        path = Path(item)
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            raise InputError(f"{path}: no such file or folder") from None
        except OSError as error:
            raise InputError(f"{path}: cannot read it ({error.strerror or error})") from None
        if stat.S_ISDIR(mode):
            inside = _walk(path, notes)
            if not inside:
                raise InputError(f"{path}: no spreadsheets ({', '.join(SPREADSHEET_SUFFIXES)}) in this folder")
            found.extend(inside)
        elif stat.S_ISREG(mode):
            found.append(path)
        else:
            raise InputError(f"{path}: not a regular file ({_kind(mode)}); not read")
    return found, notes


def _walk(top: Path, notes: list[str]) -> list[Path]:
    root = top.resolve()
    found: list[Path] = []
    seen: set[tuple[int, int]] = set()
    stack: list[tuple[Path, int]] = [(top, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            real = folder.resolve()
            info = os.stat(real)
        except (OSError, RuntimeError) as error:
            notes.append(f"{folder}: skipped, cannot read it ({getattr(error, 'strerror', None) or error})")
            continue
        if (info.st_dev, info.st_ino) in seen:
            notes.append(f"{folder}: skipped, a link back to a folder already read")
            continue
        seen.add((info.st_dev, info.st_ino))
        try:
            entries = sorted(os.scandir(real), key=lambda e: e.name)
        except OSError as error:
            notes.append(f"{folder}: skipped, cannot list it ({error.strerror or error})")
            continue
        for entry in entries:
            if entry.name.startswith((".", "~$")):
                continue
            path = folder / entry.name
            try:
                target = Path(entry.path).resolve() if entry.is_symlink() else None
                mode = os.stat(entry.path).st_mode
            except (OSError, RuntimeError):
                notes.append(f"{path}: skipped, a broken link or one that loops")
                continue
            if target is not None and not target.is_relative_to(root):
                notes.append(f"{path}: skipped, a link out of {top}")
                continue
            if stat.S_ISDIR(mode):
                if depth + 1 > MAX_DEPTH:
                    notes.append(f"{path}: skipped, more than {MAX_DEPTH} folders deep")
                else:
                    stack.append((path, depth + 1))
            elif not stat.S_ISREG(mode):
                if path.suffix.lower() in SPREADSHEET_SUFFIXES or not stat.S_ISLNK(mode):
                    notes.append(f"{path}: skipped, not a regular file ({_kind(mode)})")
            elif path.suffix.lower() in SPREADSHEET_SUFFIXES:
                if len(found) >= MAX_FILES:
                    notes.append(f"{top}: more than {MAX_FILES:,} spreadsheets; the rest are skipped")
                    return sorted(found)
                found.append(path)
    return sorted(found)


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"
