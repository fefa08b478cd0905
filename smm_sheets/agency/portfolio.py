"""Portfolio analysis: every client folder of a batch analysed, one row per client.

:func:`analyse_client` analyses one folder and boils its report down to a
:class:`ClientSummary`; :func:`analyse_clients` does it for folder after folder in one child
process, in this process or a few folders per task of a worker (local or on a Dask cluster,
through :class:`smm_sheets.agency.runner.Runner`); :func:`run_portfolio` runs it over every
client folder and writes
``summary.xlsx`` (a table with total rows and a chart) and ``summary.json``. Rows are kept in a
temporary SQLite file, not in memory, and come out in the order of the batch's manifest.
"""

from __future__ import annotations

import csv
import dataclasses
import itertools
import json
import math
import os
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smm_sheets import __version__, atomic
from smm_sheets.agency.runner import Runner
from smm_sheets.agency.state import KEPT_DIR, MANIFEST_CSV
from smm_sheets.analyser.report import EXIT_FINDINGS, EXIT_OK, EXIT_UNREADABLE
from smm_sheets.errors import InputError, SmmSheetsError
from smm_sheets.generator import xlsx

# (field, header, kind) of the summary's columns, in order.
COLUMNS = (
    ("company", "Company", "text"),
    ("folder", "Folder", "text"),
    ("currency", "Currency", "text"),
    ("workbooks", "Workbooks", "integer"),
    ("unreadable", "Unreadable", "integer"),
    ("budget_planned", "Budget planned", "number"),
    ("budget_actual", "Budget actual", "number"),
    ("budget_remaining", "Budget remaining", "number"),
    ("posts_planned", "Posts planned", "integer"),
    ("posts_published", "Posts published", "integer"),
    ("engagement_rate", "Engagement rate", "percent"),
    ("ctr", "CTR", "percent"),
    ("roas", "ROAS", "number"),
    ("errors", "Errors", "integer"),
    ("warnings", "Warnings", "integer"),
)
# Money is added up per currency only; counts across all clients.
MONEY = ("budget_planned", "budget_actual", "budget_remaining")
COUNTS = ("workbooks", "unreadable", "posts_planned", "posts_published", "errors", "warnings")
# Where each figure comes from: (blueprint id, key of FileReport.totals).
FIGURES = {
    "budget_planned": ("budget", "planned"),
    "budget_actual": ("budget", "actual"),
    "budget_remaining": ("budget", "remaining"),
    "posts_planned": ("calendar", "posts_planned"),
    "posts_published": ("calendar", "posts_published"),
    "engagement_rate": ("kpi-report", "engagement_rate"),
    "ctr": ("kpi-report", "ctr"),
    "roas": ("kpi-report", "roas"),
}


@dataclass(frozen=True)
class ClientSummary:
    """One client's row: figures from its workbooks (``None`` where a workbook is missing or
    the figure is blank) and the count of findings; ``problem`` when the folder could not be
    analysed at all."""

    folder: str
    company: str | None = None
    currency: str | None = None
    workbooks: int = 0
    unreadable: int = 0
    budget_planned: float | None = None
    budget_actual: float | None = None
    budget_remaining: float | None = None
    posts_planned: float | None = None
    posts_published: float | None = None
    engagement_rate: float | None = None
    ctr: float | None = None
    roas: float | None = None
    errors: int = 0
    warnings: int = 0
    problem: str | None = None


@dataclass(frozen=True)
class PortfolioSummary:
    """How the portfolio analysis went, and where it was written."""

    clients: int
    with_errors: int
    with_warnings: int
    unreadable: int
    xlsx: Path
    json: Path
    exit_code: int


def analyse_client(folder: str) -> ClientSummary:
    """Analyse one client's folder and keep one row of it (in a worker process).

    The first workbook of each blueprint (by file name) gives the figures; every workbook
    counts in ``workbooks``, ``errors`` and ``warnings``.
    """
    from smm_sheets.analyser.pipeline import analyse
    from smm_sheets.processes import DEFAULT_ISOLATION

    try:
        report = analyse(folder, isolation=DEFAULT_ISOLATION)  # each file in a child: an abort is one line
    except SmmSheetsError as error:
        return ClientSummary(os.path.basename(folder), problem=str(error))
    return _summary(folder, report)


def analyse_clients(folders: Iterable[str]) -> Iterator[tuple[str, ClientSummary | Exception]]:
    """``(folder, row)`` of each folder, as :func:`analyse_client` gives it, in their order; the
    row is the exception where analysing the folder again raised one (a bug: that folder's row
    says so, and the other folders go on).

    One child process analyses folder after folder (a child per folder cost more than its
    fork, and started with cold caches); a folder that ends the child (a native abort, out of
    memory or time) or whose analysis raised is analysed again by :func:`analyse_client`, file
    by file in children, so that the file to blame is its own one line, as it always was.
    """
    from smm_sheets.analyser.isolated import warm
    from smm_sheets.processes import DEFAULT_ISOLATION, run_isolated_each

    folders = list(folders)
    if len(folders) > 1:
        warm()  # loaded once here, inherited by every child
    for folder, outcome in run_isolated_each(_analyse_in_child, folders, limits=DEFAULT_ISOLATION):
        yield folder, outcome if isinstance(outcome, ClientSummary) else _analyse_again(folder)


def _analyse_again(folder: str) -> ClientSummary | Exception:
    try:
        return analyse_client(folder)
    except Exception as error:  # as the runner hands back a worker's: the folder's own row
        return error


def analyse_chunk(folders: tuple[str, ...]) -> list[ClientSummary | Exception]:
    """The rows of a few folders (one task of a worker process: see :func:`analyse_clients`)."""
    return [row for _, row in analyse_clients(folders)]


CHUNK = 5  # client folders per task of a worker process: one child analyses them in turn


def _analyse_in_child(folder: str) -> ClientSummary:
    """One folder's row, its files analysed in this process (a child of :func:`analyse_clients`);
    any error is raised, and the folder analysed again file by file."""
    from smm_sheets.analyser.pipeline import analyse

    return _summary(folder, analyse(folder))


def _summary(folder: str, report: Any) -> ClientSummary:
    """The row of a folder's report."""
    name = os.path.basename(folder)
    first: dict[str, Any] = {}
    for item in report.reports:
        first.setdefault(item.blueprint_id, item)
    values: dict[str, Any] = {}
    for field, (blueprint_id, key) in FIGURES.items():
        if blueprint_id in first:
            values[field] = _finite(first[blueprint_id].totals.get(key))
    parameters = next((r.parameters for r in (first.get("budget"), *report.reports) if r is not None), {})
    stats = report.stats
    return ClientSummary(
        folder=name,
        company=parameters.get("company"),
        currency=parameters.get("currency"),
        workbooks=stats["files"],
        unreadable=stats["unreadable"],
        errors=stats["errors"],
        warnings=stats["warnings"],
        **values,
    )


def _finite(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def client_folders(batch_dir: Path) -> Iterator[str]:
    """The client folders of a batch: its sub-folders that are not hidden, as they are listed
    (not ``_kept``, where the batch keeps copies of workbooks it replaced)."""
    with os.scandir(batch_dir) as entries:
        for entry in entries:
            if entry.is_dir() and not entry.name.startswith((".", "~$")) and entry.name != KEPT_DIR:
                yield entry.path


def run_portfolio(
    batch_dir: str | Path,
    summary: str | Path,
    jobs: int | None = None,
    scheduler: str | None = None,
    strict: bool = False,
    on_result: Callable[[ClientSummary], None] = lambda result: None,
) -> PortfolioSummary:
    """Analyse every client folder of a batch and write the portfolio summary.

    Args:
        batch_dir: the folder of ``smm-sheets batch`` (one sub-folder per client).
        summary: where to write; ``.xlsx`` and ``.json`` files of that name are written.
        jobs: local worker processes (default: the number of cores; 1: this process).
        scheduler: a Dask scheduler address, to run on a cluster instead.
        strict: warnings make the exit code 1 too.
        on_result: called in this process with each client's row as it finishes.

    Returns:
        Counts, paths and the exit code (as ``smm-sheets analyse``: 0 no errors, 1 a finding
        of severity error, 2 a file or folder that could not be analysed).

    Raises:
        InputError: not a folder, or a folder without client folders.
        FileError: the summary cannot be written, or the Dask scheduler cannot be reached.
    """
    batch_dir = Path(batch_dir)
    if not batch_dir.is_dir():
        raise InputError(f"{batch_dir}: not a folder (give the folder of a batch)")
    stem = Path(summary)
    xlsx_path, json_path = stem.with_suffix(".xlsx"), stem.with_suffix(".json")
    if not xlsx_path.parent.is_dir():
        raise InputError(f"{xlsx_path.parent} is not a folder")
    atomic.refuse_overwriting_inputs(xlsx_path, [batch_dir])
    atomic.refuse_overwriting_inputs(json_path, [batch_dir])
    rows = sqlite3.connect("")  # a private temporary file: the rows stay out of memory
    try:
        rows.execute("CREATE TABLE client (folder TEXT PRIMARY KEY, data TEXT)")
        rows.execute("CREATE TABLE position (folder TEXT PRIMARY KEY, row INTEGER)")
        rows.executemany("INSERT OR IGNORE INTO position VALUES (?, ?)", _manifest_positions(batch_dir))
        count = 0
        for folder, outcome in _rows(client_folders(batch_dir), Runner(jobs, scheduler)):
            if isinstance(outcome, BaseException):
                outcome = ClientSummary(
                    os.path.basename(folder), problem=f"internal error: {type(outcome).__name__}: {outcome}"
                )
            rows.execute(
                "INSERT INTO client VALUES (?, ?)",
                (outcome.folder, json.dumps(dataclasses.asdict(outcome), ensure_ascii=False)),
            )
            count += 1
            on_result(outcome)
        if not count:
            raise InputError(f"{batch_dir}: no client folders in it")
        totals, by_currency, counts = _totals(rows)
        _write_xlsx(xlsx_path, batch_dir, rows, totals, by_currency)
        _write_json(json_path, batch_dir, rows, totals, by_currency, counts)
    finally:
        rows.close()
    if counts["unreadable"]:
        code = EXIT_UNREADABLE
    elif counts["with_errors"] or (strict and counts["with_warnings"]):
        code = EXIT_FINDINGS
    else:
        code = EXIT_OK
    return PortfolioSummary(
        count, counts["with_errors"], counts["with_warnings"], counts["unreadable"], xlsx_path, json_path, code
    )


def _rows(folders: Iterator[str], runner: Runner) -> Iterator[tuple[str, ClientSummary | BaseException]]:
    """``(folder, row or the exception of its task)``: in this process (one child analysing
    folder after folder), or a few folders per task of the runner's workers."""
    if runner.jobs == 1 and not runner.scheduler:
        yield from analyse_clients(folders)
        return
    for chunk, outcome in runner.map_unordered(analyse_chunk, _chunks(folders, CHUNK)):
        if isinstance(outcome, BaseException):
            yield from ((folder, outcome) for folder in chunk)
        else:
            yield from zip(chunk, outcome)


def _chunks(items: Iterator[str], size: int) -> Iterator[tuple[str, ...]]:
    """``items`` in tuples of ``size`` (the last may be shorter), read as they are needed."""
    while chunk := tuple(itertools.islice(items, size)):
        yield chunk


def _manifest_positions(batch_dir: Path) -> Iterator[tuple[str, int]]:
    """(folder, row of the clients file) from the batch's manifest.csv, read as a stream;
    nothing without one."""
    try:
        with open(batch_dir / MANIFEST_CSV, encoding="utf-8-sig", newline="") as handle:
            for entry in csv.DictReader(handle):
                if entry.get("folder") and (entry.get("row") or "").isdigit():
                    yield entry["folder"], int(entry["row"])
    except (OSError, UnicodeDecodeError, csv.Error):
        return


def _ordered(rows: sqlite3.Connection) -> Iterator[dict[str, Any]]:
    # The manifest's order (the clients file's rows), then folders it does not list, by name.
    query = "SELECT data FROM client LEFT JOIN position USING (folder) ORDER BY row IS NULL, row, folder"
    for (data,) in rows.execute(query):
        yield json.loads(data)


def _totals(rows: sqlite3.Connection) -> tuple[dict[str, float], dict[str, dict[str, float]], dict[str, int]]:
    totals: dict[str, float] = dict.fromkeys(COUNTS, 0.0)
    by_currency: dict[str, dict[str, float]] = {}
    counts = {"clients": 0, "with_errors": 0, "with_warnings": 0, "unreadable": 0}
    for row in _ordered(rows):
        counts["clients"] += 1
        counts["with_errors"] += bool(row["errors"])
        counts["with_warnings"] += bool(row["warnings"])
        counts["unreadable"] += bool(row["unreadable"] or row["problem"])
        for field in COUNTS:
            totals[field] += row[field] or 0
        if row["currency"]:
            money = by_currency.setdefault(row["currency"], dict.fromkeys(MONEY, 0.0))
            for field in MONEY:
                money[field] += row[field] or 0
    totals = {field: int(value) if float(value).is_integer() else value for field, value in totals.items()}
    return totals, dict(sorted(by_currency.items())), counts


def _write_xlsx(
    path: Path,
    batch_dir: Path,
    rows: sqlite3.Connection,
    totals: dict[str, float],
    by_currency: dict[str, dict[str, float]],
) -> None:
    fields = [field for field, _, _ in COLUMNS]
    index = {field: i for i, field in enumerate(fields)}
    total_rows = [("Total", {index[field]: ("sum", totals[field]) for field in COUNTS})]
    for currency, money in by_currency.items():
        total_rows.append(
            (
                f"Total {currency}",
                {index[field]: ("sumif", index["currency"], currency, money[field]) for field in MONEY},
            )
        )
    xlsx.write_table(
        path,
        f"Portfolio of {batch_dir.resolve().name}",
        [(header, kind) for _, header, kind in COLUMNS],
        (
            [row["company"] if row["company"] is not None else row["folder"], *(row[f] for f in fields[1:])]
            for row in _ordered(rows)
        ),
        total_rows,
        {
            "title": "Posts planned and published per client",
            "categories": index["company"],
            "values": [index["posts_planned"], index["posts_published"]],
        },
    )


def _write_json(
    path: Path,
    batch_dir: Path,
    rows: sqlite3.Connection,
    totals: dict[str, float],
    by_currency: dict[str, dict[str, float]],
    counts: dict[str, int],
) -> None:
    head = {
        "generator": "smm-sheets",
        "generator_version": __version__,
        "batch": str(batch_dir),
        "counts": counts,
        "totals": totals,
        "totals_by_currency": by_currency,
    }

    def write(stream: Any) -> None:
        opening = json.dumps(head, ensure_ascii=False, indent=2)
        stream.write(opening[:-2] + ',\n  "clients": [')
        for i, row in enumerate(_ordered(rows)):
            stream.write(("," if i else "") + "\n    " + json.dumps(row, ensure_ascii=False))
        stream.write("\n  ]\n}\n")

    atomic.write_text(path, write)
