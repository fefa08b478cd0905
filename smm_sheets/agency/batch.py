"""Batch generation: the workbook set of every client in a CSV or xlsx file.

The stages are functions you can call alone:

1. :func:`open_clients` reads the clients file (CSV through the csv module; xlsx through
   :func:`smm_sheets.reader.read_table`) into numbered rows; :func:`check_columns` checks its
   header once.
2. :func:`client_parameters` turns one row into :class:`~smm_sheets.params.Parameters`.
3. :func:`client_slug` names a client's folder; :class:`State` gives each client of a run a slug
   no other client of that run has (``acme``, ``acme-2``... in row order).
4. :func:`plan_jobs` makes one :class:`Job` per good row, with a fingerprint of everything its
   files depend on; :func:`generate_client` runs one job in a worker process.
5. :class:`Runner` runs jobs in local processes or on a Dask cluster, a bounded number at a
   time, and hands results back as they finish, so the parent's memory stays flat.
6. :class:`State` (``DIR/.smm-batch.sqlite``) records every finished client at once, so an
   interrupted run resumes; :func:`write_manifest` exports ``manifest.json`` and
   ``manifest.csv`` from it, each written to a temporary file and renamed into place.

:func:`run_batch` joins them.
"""

from __future__ import annotations

import codecs
import concurrent.futures as futures
import csv
import dataclasses
import functools
import hashlib
import inspect
import io
import json
import multiprocessing
import os
import re
import sqlite3
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_sheets import __version__, atomic
from smm_sheets import plan as layout
from smm_sheets.analyser.reader import read_table
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.blueprint.params import Parameters, make_parameters
from smm_sheets.errors import FileError, InputError, ParameterError, SmmSheetsError
from smm_sheets.formula import ExcelError
from smm_sheets.generator import xlsx as render
from smm_sheets.generator.pipeline import with_sample_goals

CLIENT_COLUMNS = ("company", "year", "start_month", "currency", "channels", "team", "goals", "language")
OPTION_PREFIX = "option."
MAX_CLIENTS_BYTES = 256 * 2**20  # about a million clients
STATE_FILE = ".smm-batch.sqlite"
MANIFEST_JSON = "manifest.json"
MANIFEST_CSV = "manifest.csv"
SLUG_MAX = 60
# Names Windows refuses for a file or folder, whatever the extension.
RESERVED_NAMES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)
# What a spreadsheet reads as the start of a formula when it opens a CSV file.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+(?:\.0*)?$")
_TEMPORARY = re.compile(r"^\..+\.tmp$")  # render.write_all's and write_manifest's temporary files


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
            if all(_blank(value) for value in cells):
                continue
            problem = None
            if len(cells) > len(self.columns):
                extra = next(i for i in range(len(cells) - 1, -1, -1) if not _blank(cells[i]))
                if extra >= len(self.columns):
                    problem = f"{len(cells)} values but only {len(self.columns)} columns"
            named = {}
            for i, name in enumerate(self.columns):
                value = cells[i] if i < len(cells) else None
                if isinstance(value, ExcelError) and problem is None:
                    problem = f"{self.headers[i] or f'column {i + 1}'} holds the error value {value}"
                if name is None:
                    if not _blank(value) and problem is None:
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
        size = path.stat().st_size
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None
    if path.is_dir():
        raise FileError(f"{path} is a folder")
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
    table = read_table(path)
    header_row = next((i for i, cells in enumerate(table) if not all(_blank(value) for value in cells)), None)
    if header_row is None:
        raise InputError(f"{path}: no header row naming the columns (company, year, ...) on the first sheet")
    header = ["" if _blank(value) else _text(value).strip() for value in table[header_row]]
    rows = table[header_row + 1 :]
    count = sum(1 for cells in rows if not all(_blank(value) for value in cells))
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


def _blank(value: Any) -> bool:
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
    if _blank(company):
        raise ParameterError("company must not be empty")
    values["company"] = _text(company)
    for name in ("year", "start_month"):
        if not _blank(cells.get(name)):
            values[name] = _whole_number(cells[name])
    for name in ("currency", "channels", "team", "goals"):
        if not _blank(cells.get(name)):
            values[name] = _text(cells[name])
    chosen: dict[str, str] = {}
    for name, value in cells.items():
        if name.startswith(OPTION_PREFIX) and not _blank(value):
            key, text = name[len(OPTION_PREFIX) :], _text(value)
            if text not in options.get(key, ()):
                raise ParameterError(f"option {key} must be one of {', '.join(options.get(key, ()))}, not {text!r}")
            chosen[key] = text
    values["options"] = chosen
    language = None if _blank(cells.get("language")) else _text(cells["language"])
    if "language" in inspect.signature(make_parameters).parameters:
        if language is not None:
            values["language"] = language
    elif language is not None and language.lower() != "en":
        raise ParameterError(f"language must be en (the only language of this version), not {language!r}")
    return make_parameters(**values)


def _text(value: Any) -> str:
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
    if isinstance(value, str) and _WHOLE_NUMBER.match(value.strip()):
        return int(float(value.strip()))
    return value if not isinstance(value, str) else value.strip()


# --------------------------------------------------------------------------- folder names


def client_slug(name: str) -> str:
    """A folder name made of a client's name, safe on every file system and still readable.

    Letters and digits of any script are kept (NFKC-normalised and case-folded: ``Ziemeļu
    Adījumi SIA`` -> ``ziemeļu-adījumi-sia``, ``Вез ДООЕЛ`` -> ``вез-дооел``); anything else
    becomes ``-``. No dots, separators or control characters survive; at most 60 characters;
    Windows' reserved names (``con``, ``lpt1``...) get ``-client`` added; an empty result is
    ``client``. Two names may give one slug: :meth:`State.claim` tells them apart.
    """
    text = unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", name).casefold())
    kept: list[str] = []
    for char in text:
        kind = unicodedata.category(char)[0]
        if kind in "LN" or (kind == "M" and kept and kept[-1] != "-"):
            kept.append(char)
        elif kept and kept[-1] != "-":
            kept.append("-")
    return _finish_slug("".join(kept))


def _finish_slug(text: str, limit: int = SLUG_MAX) -> str:
    text = text[:limit].strip("-")
    while text and unicodedata.category(text[0])[0] == "M":  # a mark with its letter cut off
        text = text[1:].lstrip("-")
    if not text:
        return "client"
    if text in RESERVED_NAMES:
        return f"{text}-client"
    return text


def _numbered_slug(base: str, number: int) -> str:
    suffix = f"-{number}"
    return _finish_slug(base, SLUG_MAX - len(suffix)) + suffix


# --------------------------------------------------------------------------- the blueprints of a batch


@dataclass(frozen=True)
class BlueprintSet:
    """The blueprints a batch writes, loaded once in the parent, with the digests workers
    check their own copies against."""

    names: tuple[str, ...]  # built-in ids, or absolute file paths
    blueprints: tuple[Blueprint, ...]
    digests: tuple[str, ...]  # sha256 of each blueprint file
    support: str  # sha256 of every built-in YAML file (labels, channel facts, translations)

    @classmethod
    def select(cls, selection: str = "all") -> BlueprintSet:
        """``all``, or comma-separated built-in ids or blueprint files.

        Raises:
            BlueprintError: an unknown id or a bad file.
            InputError: an empty selection or one id twice.
        """
        if selection.strip() == "all":
            names = [path.stem for path in loader.builtin_blueprints()]
        else:
            names = [item.strip() for item in selection.split(",") if item.strip()]
        if not names:
            raise InputError("--blueprints names no blueprint")
        resolved = []
        for name in names:
            path = loader.resolve(name)
            builtin = path.parent == loader.BUILTIN_DIR and path.stem == name
            resolved.append((name if builtin else str(path.resolve()), path))
        blueprints = tuple(loader.load(path) for _, path in resolved)
        ids = [blueprint.id for blueprint in blueprints]
        twice = next((i for i in ids if ids.count(i) > 1), None)
        if twice:
            raise InputError(f"--blueprints names blueprint {twice!r} twice")
        digests = tuple(_file_digest(path) for _, path in resolved)
        return cls(tuple(name for name, _ in resolved), blueprints, digests, _support_digest())

    def options(self) -> dict[str, tuple[str, ...]]:
        """The choices of every option of these blueprints, by option id."""
        found: dict[str, tuple[str, ...]] = {}
        for blueprint in self.blueprints:
            for option in blueprint.options:
                found[option.id] = tuple(c for c in option.choices if c in found.get(option.id, option.choices))
        return found


def _file_digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as error:
        raise FileError(f"{path}: cannot read: {error.strerror}") from None


def _support_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(loader.BUILTIN_DIR.rglob("*.yaml")):
        digest.update(path.relative_to(loader.BUILTIN_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def fingerprint(params: Parameters, blueprints: BlueprintSet) -> str:
    """What a client's files depend on, hashed: its parameters, the blueprint files, the
    built-in support files and the generator version. Equal fingerprints, equal workbooks."""
    content = {
        "generator": __version__,
        "params": dataclasses.asdict(params),
        "blueprints": list(zip(blueprints.names, blueprints.digests)),
        "support": blueprints.support,
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


# --------------------------------------------------------------------------- jobs and the worker side


@dataclass(frozen=True)
class FileEntry:
    """One workbook of a client, as the manifest lists it; ``path`` is relative to the batch folder."""

    blueprint: str
    version: str
    path: str
    sha256: str
    bytes: int


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to write one client's workbooks, small enough to send."""

    row: int
    company: str
    slug: str
    params: Parameters
    fingerprint: str
    out_dir: str
    blueprints: tuple[str, ...]
    digests: tuple[str, ...]
    support: str
    # The files of the last run, when their fingerprint is this one's (and not --force).
    previous: tuple[FileEntry, ...] | None = None
    generator: str = __version__


@dataclass(frozen=True)
class Result:
    """What became of one client: ``generated``, ``unchanged`` (its files were already there,
    sha256 checked) or ``failed`` (with the reason)."""

    row: int
    company: str
    slug: str | None
    status: str
    fingerprint: str | None = None
    files: tuple[FileEntry, ...] = ()
    error: str | None = None


class WorkerMismatch(Exception):
    """A worker runs another smm-sheets version or has other blueprints than the parent.
    Not an SmmSheetsError: it stops the whole batch, not one client."""


def generate_client(job: Job) -> Result:
    """Write one client's workbooks into ``OUT_DIR/<slug>/`` (in a worker process).

    Skips the work when the job carries the last run's files and they are all there with
    their sha256; otherwise writes every workbook to a temporary file, then renames them all
    into place (:func:`smm_sheets.render.write_all`). Leftover temporary files of a killed run
    are removed first.

    Returns:
        The result; a client whose parameters a blueprint refuses, or whose folder cannot be
        written, is a ``failed`` result, not an exception.

    Raises:
        WorkerMismatch: this worker's smm-sheets is not the parent's.
    """
    folder = Path(job.out_dir) / job.slug
    if job.generator != __version__:
        raise WorkerMismatch(
            f"a worker runs smm-sheets {__version__}, this machine {job.generator}: install the same version on every worker"
        )
    try:
        _remove_temporaries(folder)
        if job.previous is not None and all(_matches(Path(job.out_dir), entry) for entry in job.previous):
            return Result(job.row, job.company, job.slug, "unchanged", job.fingerprint, job.previous)
        blueprints = _worker_blueprints(job.blueprints, job.digests, job.support)
        params = with_sample_goals(job.params, list(blueprints))
        plans = []
        for blueprint in blueprints:
            own = {option.id for option in blueprint.options}
            mine = dataclasses.replace(params, options={k: v for k, v in params.options.items() if k in own})
            plans.append((layout.build(blueprint, mine), folder / f"{blueprint.id}.xlsx"))
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise FileError(f"cannot create {folder}: {error.strerror}") from None
        render.write_all(plans, force=True)
        files = tuple(
            FileEntry(
                blueprint.id, blueprint.version, f"{job.slug}/{target.name}", _sha256(target), target.stat().st_size
            )
            for blueprint, (_, target) in zip(blueprints, plans)
        )
        return Result(job.row, job.company, job.slug, "generated", job.fingerprint, files)
    except SmmSheetsError as error:
        return Result(job.row, job.company, job.slug, "failed", job.fingerprint, error=str(error))


@functools.lru_cache(maxsize=4)
def _worker_blueprints(names: tuple[str, ...], digests: tuple[str, ...], support: str) -> tuple[Blueprint, ...]:
    """The batch's blueprints, loaded once per worker process (and per set of digests, so a
    long-lived Dask worker notices edited blueprints)."""
    if _support_digest() != support:
        raise WorkerMismatch(
            "a worker's built-in blueprint files differ from this machine's: install the same smm-sheets version on every worker"
        )
    loaded = []
    for name, digest in zip(names, digests):
        path = loader.resolve(name)
        data = path.read_bytes()
        if hashlib.sha256(data).hexdigest() != digest:
            raise WorkerMismatch(
                f"a worker's {path} differs from this machine's: blueprints changed during the run, or workers run another version"
            )
        loaded.append(loader.loads(data.decode("utf-8"), str(path)))
    return tuple(loaded)


def _matches(out_dir: Path, entry: FileEntry) -> bool:
    path = out_dir / entry.path
    try:
        return path.stat().st_size == entry.bytes and _sha256(path) == entry.sha256
    except OSError:
        return False


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _remove_temporaries(folder: Path) -> None:
    """Remove the temporary files a killed run left (render writes ``.<name>.<random>.tmp``)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        if _TEMPORARY.match(name):
            try:
                os.unlink(folder / name)
            except OSError:
                pass


# --------------------------------------------------------------------------- running jobs


class Runner:
    """Runs a function over many items in worker processes: local ones (``jobs``; 1 means in
    this process) or a Dask cluster's (``scheduler``). At most a few items per worker are in
    flight, so the parent holds no more than that whatever the number of items.

    Args:
        jobs: local worker processes (default: :func:`available_cores`).
        scheduler: address of a Dask scheduler (``tcp://host:8786``); then ``jobs`` is ignored.
    """

    def __init__(self, jobs: int | None = None, scheduler: str | None = None):
        self.jobs = max(1, jobs or available_cores())
        self.scheduler = scheduler

    def map_unordered(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        """Yield ``(item, result)`` as each finishes; ``result`` is the exception if it raised.

        Raises:
            FileError: the Dask scheduler cannot be reached or distributed is not installed.
        """
        if self.scheduler:
            yield from self._dask(function, items)
        elif self.jobs == 1:
            for item in items:
                yield item, _call(function, item)
        else:
            yield from self._local(function, items)

    def _local(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        # forkserver (spawn where there is none): the parent may run threads (a progress bar).
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("forkserver" if "forkserver" in methods else "spawn")
        pool = futures.ProcessPoolExecutor(self.jobs, mp_context=context)
        pending: dict[futures.Future, Any] = {}
        try:
            source = iter(items)
            more = True
            while True:
                while more and len(pending) < 4 * self.jobs:
                    item = next(source, _END)
                    if item is _END:
                        more = False
                    else:
                        pending[pool.submit(function, item)] = item
                if not pending:
                    break
                finished, _ = futures.wait(pending, return_when=futures.FIRST_COMPLETED)
                for future in finished:
                    item = pending.pop(future)
                    error = future.exception()
                    yield item, error if error is not None else future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def _dask(self, function: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[tuple[Any, Any]]:
        try:
            import distributed
        except ImportError:
            raise FileError("--scheduler needs the distributed package: pip install 'smm-sheets[cluster]'") from None
        try:
            client = distributed.Client(
                self.scheduler, set_as_default=False
            )  # timeout: distributed.comm.timeouts.connect
        except (OSError, TimeoutError, ValueError) as error:
            raise FileError(f"cannot reach the Dask scheduler at {self.scheduler}: {error}") from None
        pending: dict[Any, tuple[Any, Any]] = {}  # key -> (future, item)
        try:
            window = max(8, 3 * sum(client.nthreads().values()))
            finished = distributed.as_completed(loop=client.loop)
            source = iter(items)
            more = True
            while True:
                while more and len(pending) < window:
                    item = next(source, _END)
                    if item is _END:
                        more = False
                    else:
                        future = client.submit(function, item, pure=False)
                        pending[future.key] = (future, item)
                        finished.add(future)
                if not pending:
                    break
                future = next(finished)
                _, item = pending.pop(future.key)
                try:
                    outcome = future.result()
                except Exception as error:  # the task's own exception, or a worker that died
                    outcome = error
                future.release()
                yield item, outcome
        finally:
            if pending:
                client.cancel([future for future, _ in pending.values()], force=True)
            client.close()


_END = object()


def available_cores() -> int:
    """The cores this process may run on (fewer than the machine's in a container or under taskset)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def _call(function: Callable[[Any], Any], item: Any) -> Any:
    try:
        return function(item)
    except Exception as error:  # as a worker process would hand it back
        return error


# --------------------------------------------------------------------------- state and manifest


class State:
    """What a batch folder holds, in ``DIR/.smm-batch.sqlite``: the clients finished by any
    run (slug, fingerprint, files), and the clients of this run as they finish.

    SQLite commits are atomic, so a run killed at any moment leaves the last commit intact;
    the folder is locked while a run has it open, so two runs never write into one folder.
    """

    def __init__(self, out_dir: Path):
        self.out_dir = out_dir
        path = out_dir / STATE_FILE
        try:
            self.db = self._connect(path)
        except sqlite3.DatabaseError as error:
            if "locked" in str(error):
                raise FileError(f"{out_dir} is in use by another batch run; wait for it to finish") from None
            for stale in (path, path.with_name(path.name + "-wal")):  # damaged: start again, regenerating all
                if stale.exists():
                    os.unlink(stale)
            self.db = self._connect(path)

    @staticmethod
    def _connect(path: Path) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(path, timeout=0.5)
        except sqlite3.Error as error:
            raise FileError(f"cannot open {path}: {error}") from None
        try:
            # The lock, once taken, is kept until the connection closes. WAL with NORMAL sync:
            # a commit survives the process being killed at any moment, at no fsync per client.
            db.execute("PRAGMA locking_mode=EXCLUSIVE")
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute("BEGIN EXCLUSIVE")
            db.executescript(
                """
                CREATE TABLE IF NOT EXISTS done (slug TEXT PRIMARY KEY, fingerprint TEXT NOT NULL, files TEXT NOT NULL);
                CREATE TABLE IF NOT EXISTS run (row INTEGER PRIMARY KEY, company TEXT, slug TEXT, status TEXT NOT NULL,
                                                fingerprint TEXT, files TEXT, error TEXT);
                DELETE FROM run;
                CREATE TEMP TABLE claims (slug TEXT PRIMARY KEY);
                CREATE TEMP TABLE bases (base TEXT PRIMARY KEY, next INTEGER NOT NULL);
                """
            )
            db.commit()
        except BaseException:
            db.close()
            raise
        return db

    def close(self) -> None:
        """Commit and release the folder."""
        self.db.commit()
        self.db.close()

    def claim(self, base: str) -> str:
        """A slug no other client of this run has: ``base``, else ``base-2``, ``base-3``..."""
        found = self.db.execute("SELECT next FROM bases WHERE base = ?", (base,)).fetchone()
        number = found[0] if found else 1
        while True:
            slug = base if number == 1 else _numbered_slug(base, number)
            try:
                self.db.execute("INSERT INTO claims VALUES (?)", (slug,))
                break
            except sqlite3.IntegrityError:
                number += 1
        self.db.execute("INSERT OR REPLACE INTO bases VALUES (?, ?)", (base, number + 1))
        return slug

    def previous(self, slug: str, fingerprint: str) -> tuple[FileEntry, ...] | None:
        """The files of ``slug`` from an earlier run with this fingerprint, if any."""
        found = self.db.execute(
            "SELECT files FROM done WHERE slug = ? AND fingerprint = ?", (slug, fingerprint)
        ).fetchone()
        return tuple(FileEntry(**entry) for entry in json.loads(found[0])) if found else None

    def record(self, result: Result) -> None:
        """Note one client's result, committed at once (a run killed later resumes after it)."""
        files = json.dumps([dataclasses.asdict(entry) for entry in result.files], ensure_ascii=False)
        self.db.execute(
            "INSERT OR REPLACE INTO run VALUES (?, ?, ?, ?, ?, ?, ?)",
            (result.row, result.company, result.slug, result.status, result.fingerprint, files, result.error),
        )
        if result.slug is not None:
            if result.status == "failed":
                self.db.execute("DELETE FROM done WHERE slug = ?", (result.slug,))
            else:
                self.db.execute(
                    "INSERT OR REPLACE INTO done VALUES (?, ?, ?)", (result.slug, result.fingerprint, files)
                )
        self.db.commit()

    def counts(self) -> dict[str, int]:
        """Clients of this run by status."""
        return dict(self.db.execute("SELECT status, COUNT(*) FROM run GROUP BY status").fetchall())

    def clients(self) -> Iterator[dict[str, Any]]:
        """This run's clients in row order, as the manifest lists them."""
        for row, company, slug, status, fingerprint, files, error in self.db.execute("SELECT * FROM run ORDER BY row"):
            entry: dict[str, Any] = {"row": row, "company": company, "folder": slug, "status": status}
            if status == "failed":
                entry["error"] = error
            else:
                entry["fingerprint"] = fingerprint
                entry["files"] = json.loads(files)
            yield entry


def write_manifest(out_dir: Path, state: State, header: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``manifest.json`` and ``manifest.csv`` from the state, each to a temporary file
    renamed into place, streaming the clients (no list of them in memory).

    Returns:
        The two paths.
    """
    _remove_temporaries(out_dir)
    counts = state.counts()
    head = {
        **header,
        "counts": {
            "clients": sum(counts.values()),
            **{k: counts.get(k, 0) for k in ("generated", "unchanged", "failed")},
        },
    }
    json_path, csv_path = out_dir / MANIFEST_JSON, out_dir / MANIFEST_CSV

    def write_json(handle: io.TextIOBase) -> None:
        opening = json.dumps(head, ensure_ascii=False, indent=2)
        handle.write(opening[:-2] + ',\n  "clients": [')
        for i, entry in enumerate(state.clients()):
            handle.write(("," if i else "") + "\n    " + json.dumps(entry, ensure_ascii=False))
        handle.write("\n  ]\n}\n")

    def write_csv(handle: io.TextIOBase) -> None:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "row",
                "company",
                "folder",
                "status",
                "blueprint",
                "blueprint_version",
                "file",
                "sha256",
                "bytes",
                "generator_version",
                "error",
            ]
        )
        for entry in state.clients():
            base = [entry["row"], _csv_text(entry["company"]), entry["folder"] or "", entry["status"]]
            if entry["status"] == "failed":
                writer.writerow([*base, "", "", "", "", "", __version__, _csv_text(entry["error"])])
            for item in entry.get("files", ()):
                writer.writerow(
                    [
                        *base,
                        item["blueprint"],
                        item["version"],
                        item["path"],
                        item["sha256"],
                        item["bytes"],
                        __version__,
                        "",
                    ]
                )

    atomic.write_text(json_path, write_json)
    atomic.write_text(csv_path, write_csv, "utf-8-sig")  # with a BOM, so spreadsheets read it as UTF-8
    return json_path, csv_path


def _csv_text(value: Any) -> str:
    """Text for a CSV cell that a spreadsheet shows as text: a leading apostrophe where it
    would otherwise read a formula (``=HYPERLINK(...)``, ``+1 Agency``)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


# --------------------------------------------------------------------------- the pipeline


@dataclass(frozen=True)
class Summary:
    """How a batch went: clients by status, and the manifest files."""

    clients: int
    generated: int
    unchanged: int
    failed: int
    manifest_json: Path
    manifest_csv: Path


def plan_jobs(
    table: ClientsTable,
    blueprints: BlueprintSet,
    state: State,
    out_dir: Path,
    sample: bool = False,
    force: bool = False,
    on_failed: Callable[[Result], None] = lambda result: None,
) -> Iterator[Job]:
    """One job per good row of the clients file, read one row at a time.

    A bad row becomes a ``failed`` result passed to ``on_failed`` (and not a job).
    """
    options = blueprints.options()
    channel_names = loader.load_channel_names()
    for row in table.rows():
        company = row.cells.get("company")
        company = None if _blank(company) else _text(company)
        try:
            params = client_parameters(row, options, channel_names, sample)
        except ParameterError as error:
            on_failed(Result(row.row, company, None, "failed", error=str(error)))
            continue
        slug = state.claim(client_slug(params.company))
        digest = fingerprint(params, blueprints)
        yield Job(
            row.row,
            params.company,
            slug,
            params,
            digest,
            str(out_dir),
            blueprints.names,
            blueprints.digests,
            blueprints.support,
            None if force else state.previous(slug, digest),
        )


def run_batch(
    clients: str | Path,
    out_dir: str | Path,
    blueprints: str = "all",
    sample: bool = False,
    jobs: int | None = None,
    scheduler: str | None = None,
    force: bool = False,
    on_result: Callable[[Result, int], None] = lambda result, total: None,
) -> Summary:
    """Write every client's workbooks into ``OUT_DIR/<client slug>/<blueprint id>.xlsx``.

    Args:
        clients: a CSV or xlsx file, one client per row (see :data:`CLIENT_COLUMNS`).
        out_dir: the batch folder (created if missing).
        blueprints: ``all`` or comma-separated blueprint ids or files.
        sample: fill the workbooks with example data.
        jobs: local worker processes (default: the number of cores; 1: this process).
        scheduler: a Dask scheduler address, to run on a cluster instead.
        force: regenerate clients whose files are up to date.
        on_result: called in this process with each client's result (bad rows included) and
            the number of rows, as they finish.

    Returns:
        The counts and the manifest paths. A bad row is a ``failed`` client, not an error.

    Raises:
        InputError: the clients file or the blueprints are wrong (nothing is written).
        FileError: a file cannot be read or written, or a Dask worker does not match.
        KeyboardInterrupt: after writing the manifest of the clients finished so far.
    """
    selected = BlueprintSet.select(blueprints)
    table = open_clients(clients)
    check_columns(
        table,
        {option.id for path in loader.builtin_blueprints() for option in loader.load(path).options}
        | set(selected.options()),
    )
    out_dir = Path(out_dir).resolve()
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise FileError(f"cannot create {out_dir}: {error.strerror}") from None
    header = {
        "generator": "smm-sheets",
        "generator_version": __version__,
        "clients_file": str(Path(clients)),
        "sample": sample,
        "blueprints": [
            {"id": b.id, "version": b.version, "source": name, "sha256": digest}
            for b, name, digest in zip(selected.blueprints, selected.names, selected.digests)
        ],
    }
    state = State(out_dir)
    try:

        def note(result: Result) -> None:
            state.record(result)
            on_result(result, table.count)

        planned = plan_jobs(table, selected, state, out_dir, sample, force, on_failed=note)
        complete = False
        try:
            for job, outcome in Runner(jobs, scheduler).map_unordered(generate_client, planned):
                if isinstance(outcome, WorkerMismatch):
                    raise FileError(str(outcome))
                if isinstance(outcome, BaseException):
                    outcome = Result(
                        job.row,
                        job.company,
                        job.slug,
                        "failed",
                        job.fingerprint,
                        error=f"internal error: {type(outcome).__name__}: {outcome}",
                    )
                note(outcome)
            complete = True
        finally:
            state.db.commit()
            json_path, csv_path = write_manifest(out_dir, state, {**header, "complete": complete})
        counts = state.counts()
    finally:
        state.close()
    return Summary(
        sum(counts.values()),
        counts.get("generated", 0),
        counts.get("unchanged", 0),
        counts.get("failed", 0),
        json_path,
        csv_path,
    )
