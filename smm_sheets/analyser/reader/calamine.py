"""Cell values through python-calamine: the only module that imports it.

It runs only after the guards (:mod:`~smm_sheets.analyser.reader.zipguard`) have checked the
whole file, and anything it raises becomes a :class:`~smm_sheets.errors.FileError`.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import python_calamine

from smm_sheets.analyser.reader.data import SheetData, WorkbookData
from smm_sheets.analyser.reader.zipguard import one_line
from smm_sheets.errors import FileError


def read_values(
    path: Path, workbook: WorkbookData, fail: Callable[[str], FileError], source: BinaryIO | None = None
) -> None:
    """Cell values of every worksheet from python-calamine, into ``workbook.sheets``.

    Rust prints a panic's message and backtrace on the process's stderr before pyo3 raises it;
    that text is kept off stderr (file descriptor 2 points elsewhere while calamine runs), and the
    one line says what was wrong.

    Args:
        path: the file, already checked by the guards.
        workbook: its format told; sheets added here (formulas None).
        fail: makes the one-line error naming the file from a reason.
        source: an in-memory copy of the package to read instead of the file (far cells dropped).

    Raises:
        FileError: whatever python-calamine raises (even a Rust panic or a MemoryError), as one line.
    """
    with quiet_stderr():
        _read_values(path, workbook, fail, source)


def _read_values(path: Path, workbook: WorkbookData, fail: Callable[[str], FileError], source: BinaryIO | None) -> None:
    try:
        if source is not None:
            book = python_calamine.CalamineWorkbook.from_filelike(source)
        elif _suffix_matches(path, workbook.format):
            book = python_calamine.CalamineWorkbook.from_path(str(path))
        else:  # calamine picks its parser by extension; from bytes it sniffs the format
            with open(path, "rb") as fh:
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
                    if "" in cells:  # calamine gives "" for empty cells (and for errors: the reader puts them back)
                        cells[:] = [None if v == "" else v for v in cells]
                visible = meta.visible == python_calamine.SheetVisibleEnum.Visible
                workbook.sheets[meta.name] = SheetData(meta.name, rows, None, visible)
    except python_calamine.PasswordError:
        raise fail("encrypted (password-protected); save it without a password and try again") from None
    except MemoryError:
        raise fail("too large to read into memory") from None
    except (KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as error:  # noqa: B036 - a Rust panic arrives as pyo3's PanicException(BaseException)
        raise fail(f"cannot read it ({one_line(error)})") from None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """File descriptor 2 to /dev/null meanwhile (Python's ``sys.stderr`` is left alone)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no stderr at all: nothing to keep quiet
        yield
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 2)
        os.close(null)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _suffix_matches(path: Path, fmt: str) -> bool:
    # calamine picks its parser by file extension; with another extension it must sniff from bytes
    suffix = path.suffix.lower()
    return suffix == "." + fmt or (fmt in ("xlsx", "xlsm") and suffix in (".xlsx", ".xlsm"))
