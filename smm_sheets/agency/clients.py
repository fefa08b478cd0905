"""The clients file of a batch: one client per row, read one row at a time.

:func:`open_clients` reads a CSV file (through the csv module) or a workbook (through
:func:`smm_sheets.analyser.reader.read_table`) into numbered :class:`ClientRow` rows;
:func:`check_columns` checks its header once; :func:`client_parameters` turns one row into
:class:`~smm_sheets.blueprint.params.Parameters`.
"""

from __future__ import annotations

import codecs
import csv
import inspect
import re
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_sheets.analyser.reader import read_table
from smm_sheets.blueprint.params import Parameters, make_parameters
from smm_sheets.errors import FileError, InputError, ParameterError
from smm_sheets.formula import ExcelError
from smm_sheets.processes import run_isolated

CLIENT_COLUMNS = ("company", "year", "start_month", "currency", "channels", "team", "goals", "language")
OPTION_PREFIX = "option."
MAX_CLIENTS_BYTES = 256 * 2**20  # about a million clients
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+(?:\.0*)?$")

# --------------------------------------------------------------------------- reading clients


@dataclass(frozen=True)
class ClientRow:
    """One row of the clients file: its row number as a spreadsheet shows it (the header is
    row 1), its cells by column name, and a problem that makes the row unusable, if any."""

    row: int
    cells: dict[str, Any]
    problem: str | None = None


@dataclass
class ClientsTable:
    """A clients file, opened: its column names (normalised, ``None`` for a column with no
    header), how many rows follow the header, and a way to read them one at a time."""

    path: Path
    columns: list[str | None]
    headers: list[str]
    count: int
    _rows: Callable[[], Iterator[list[Any]]]
    header_row: int = 1

    def rows(self) -> Iterator[ClientRow]:
        """The rows after the header, blank ones left out, one at a time."""
        for row, cells in enumerate(self._rows(), start=self.header_row + 1):
            if all(is_blank(value) for value in cells):
                continue
            problem = None
            if len(cells) > len(self.columns):
                extra = next(i for i in range(len(cells) - 1, -1, -1) if not is_blank(cells[i]))
                if extra >= len(self.columns):
                    problem = f"{len(cells)} values but only {len(self.columns)} columns"
            named = {}
            for i, name in enumerate(self.columns):
                value = cells[i] if i < len(cells) else None
                if isinstance(value, ExcelError) and problem is None:
                    problem = f"{self.headers[i] or f'column {i + 1}'} holds the error value {value}"
                if name is None:
                    if not is_blank(value) and problem is None:
                        problem = f"a value in column {i + 1}, which has no header"
                    continue
                named[name] = value
            yield ClientRow(row, named, problem)


def open_clients(path: str | Path) -> ClientsTable:
    """Open a clients file: a CSV (UTF-8, with or without BOM, or UTF-16 with BOM; comma,
    semicolon or tab separated) or an .xlsx or .ods workbook (its first sheet).
    The header is the first row that is not blank.

    The whole file is read once here, so that a file that cannot be read fails before any
    work starts; the rows are then read again one at a time by :meth:`ClientsTable.rows`.

    Raises:
        InputError: not a CSV or xlsx file, too large, not UTF-8, malformed, or no header.
        FileError: the file cannot be read.
    """
    path = Path(path)
    try:
        info = path.stat()
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None
    size = info.st_size
    if path.is_dir():
        raise FileError(f"{path} is a folder")
    if not stat.S_ISREG(info.st_mode):
        raise InputError(f"{path}: not a regular file (a FIFO, device or socket); not read")
    if size > MAX_CLIENTS_BYTES:
        raise InputError(f"{path}: larger than {MAX_CLIENTS_BYTES // 2**20} MB; split the clients into several files")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods"):
        return _open_workbook(path)
    if suffix in (".csv", ".tsv", ".txt"):
        return _open_csv(path)
    raise InputError(f"{path}: clients must be a .csv, .xlsx or .ods file")


def _open_csv(path: Path) -> ClientsTable:
    try:
        with open(path, "rb") as handle:
            start = handle.read(4)
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None
    if start.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"  # Excel's "Unicode text"
    else:
        encoding = "utf-8"

    def records(delimiter: str) -> Iterator[list[str]]:
        with open(path, encoding=encoding, newline="") as handle:
            reader = csv.reader(handle, delimiter=delimiter, strict=True)
            try:
                yield from reader
            except UnicodeDecodeError:
                raise _not_utf8(path, encoding) from None
            except csv.Error as error:
                raise InputError(f"{path}: line {reader.line_num}: {error}") from None

    try:
        with open(path, encoding=encoding, newline="") as handle:
            first_line = handle.readline()
    except UnicodeDecodeError:
        raise _not_utf8(path, encoding) from None
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None
    # Spreadsheets in many European locales save "CSV" with semicolons.
    delimiter = max((",", ";", "\t"), key=first_line.count)
    iterator = records(delimiter)
    header_row, header = next(
        ((i, cells) for i, cells in enumerate(iterator, start=1) if any(c.strip() for c in cells)), (0, None)
    )
    if header is None:
        raise InputError(f"{path}: no header row naming the columns (company, year, ...)")
    count = sum(1 for cells in iterator if any(c.strip() for c in cells))  # a bad line fails before any work

    def data_rows() -> Iterator[list[Any]]:
        rows = records(delimiter)
        for _ in range(header_row):
            next(rows)
        yield from rows

    return ClientsTable(path, _column_names(path, header), [h.strip() for h in header], count, data_rows, header_row)


def _not_utf8(path: Path, encoding: str) -> InputError:
    if encoding == "utf-16":
        return InputError(f"{path}: not UTF-16 text after its byte order mark")
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                break
    return InputError(f'{path}: line {number}: not UTF-8 text; save the file as "CSV UTF-8"')


def _open_workbook(path: Path) -> ClientsTable:
    # In a child process: a hostile workbook must not take the batch down (see smm_sheets.processes).
    table = run_isolated(read_table, path)
    header_row = next((i for i, cells in enumerate(table) if not all(is_blank(value) for value in cells)), None)
    if header_row is None:
        raise InputError(f"{path}: no header row naming the columns (company, year, ...) on the first sheet")
    header = ["" if is_blank(value) else cell_text(value).strip() for value in table[header_row]]
    rows = table[header_row + 1 :]
    count = sum(1 for cells in rows if not all(is_blank(value) for value in cells))
    return ClientsTable(path, _column_names(path, header), header, count, lambda: iter(rows), header_row + 1)


def _column_names(path: Path, header: list[str]) -> list[str | None]:
    names: list[str | None] = []
    for cell in header:
        text = str(cell).strip()
        if not text:
            names.append(None)
            continue
        lowered = text.lower()
        if lowered.startswith(OPTION_PREFIX):
            name = OPTION_PREFIX + lowered[len(OPTION_PREFIX) :].strip()
        else:
            name = re.sub(r"[\s-]+", "_", lowered)
        if name in names:
            raise InputError(f"{path}: column {text!r} appears twice")
        names.append(name)
    return names


def check_columns(table: ClientsTable, option_ids: Iterable[str]) -> None:
    """Check the header of a clients file: a company column, and no column we do not know.

    Args:
        table: from :func:`open_clients`.
        option_ids: the blueprint options an ``option.<id>`` column may set.

    Raises:
        InputError: naming the first unknown column.
    """
    options = sorted(set(option_ids))
    allowed = set(CLIENT_COLUMNS) | {OPTION_PREFIX + key for key in options}
    for name, header in zip(table.columns, table.headers):
        if name is not None and name not in allowed:
            listed = ", ".join([*CLIENT_COLUMNS, *(OPTION_PREFIX + key for key in options)])
            raise InputError(f"{table.path}: unknown column {header.strip()!r} (columns: {listed})")
    if "company" not in table.columns:
        raise InputError(f"{table.path}: no company column (columns: {', '.join(CLIENT_COLUMNS)})")


def is_blank(value: Any) -> bool:
    """Whether a cell is empty: nothing in it, or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


# --------------------------------------------------------------------------- one row -> parameters


def client_parameters(
    row: ClientRow, options: dict[str, tuple[str, ...]], channel_names: dict[str, str], sample: bool = False
) -> Parameters:
    """Check one client row and make its generation parameters.

    Args:
        row: from :meth:`ClientsTable.rows`.
        options: choices of each blueprint option an ``option.<id>`` column may set.
        channel_names: display names of well-known channels (:func:`loader.load_channel_names`).
        sample: fill the workbooks with example data.

    Raises:
        ParameterError: one line saying which value is wrong (without the row number).
    """
    if row.problem:
        raise ParameterError(row.problem)
    cells = row.cells
    values: dict[str, Any] = {"sample": sample, "channel_names": channel_names}
    company = cells.get("company")
    if is_blank(company):
        raise ParameterError("company must not be empty")
    values["company"] = cell_text(company)
    for name in ("year", "start_month"):
        if not is_blank(cells.get(name)):
            values[name] = _whole_number(cells[name])
    for name in ("currency", "channels", "team", "goals"):
        if not is_blank(cells.get(name)):
            values[name] = cell_text(cells[name])
    chosen: dict[str, str] = {}
    for name, value in cells.items():
        if name.startswith(OPTION_PREFIX) and not is_blank(value):
            key, text = name[len(OPTION_PREFIX) :], cell_text(value)
            if text not in options.get(key, ()):
                raise ParameterError(f"option {key} must be one of {', '.join(options.get(key, ()))}, not {text!r}")
            chosen[key] = text
    values["options"] = chosen
    language = None if is_blank(cells.get("language")) else cell_text(cells["language"])
    if "language" in inspect.signature(make_parameters).parameters:
        if language is not None:
            values["language"] = language
    elif language is not None and language.lower() != "en":
        raise ParameterError(f"language must be en (the only language of this version), not {language!r}")
    return make_parameters(**values)


def cell_text(value: Any) -> str:
    """A cell as text: numbers from a workbook as people see them (2027, not 2027.0)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else str(value)


def _whole_number(value: Any) -> Any:
    """An int when the cell holds a whole number (``2027``, ``"2027"``, ``2027.0``); otherwise
    the cell as it is, for :func:`make_parameters` to refuse in its own words."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()) and len(value.strip()) <= 18:
        return int(value.strip().split(".")[0])  # longer: no year or month, refused as text
    return value if not isinstance(value, str) else value.strip()
