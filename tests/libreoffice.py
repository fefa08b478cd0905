"""LibreOffice as a real spreadsheet client for the tests (and for the docs pictures).

Not a test module: a helper that test modules import. It runs ``soffice`` headless with an
*isolated, throw-away profile* whose settings force a full recalculation when a workbook is
loaded (``OOXMLRecalcMode`` = ``ODFRecalcMode`` = 0, "always"). Without that setting
LibreOffice trusts the cached values the generator wrote and would prove nothing;
``tests/test_libreoffice.py`` keeps a test that shows the setting takes effect.

Tests that need LibreOffice use the ``soffice`` fixture (import it into the test module): it
skips them, with the reason shown by ``-ra``, when LibreOffice is not installed, or fails
them when ``SMM_SHEETS_REQUIRE_LIBREOFFICE=1`` says it must be (e.g. on CI).
"""

from __future__ import annotations

import glob
import json
import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import openpyxl
import pytest

REQUIRE_ENV = "SMM_SHEETS_REQUIRE_LIBREOFFICE"
DEFAULT_TIMEOUT = 180.0
# Every error value a spreadsheet can show: Excel's, and LibreOffice's own "Err:5xx".
ERROR_VALUES = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"}
)
_LO_ERROR = re.compile(r"^Err:\d{3}$")

# Load settings of Calc: 0 = always recalculate, 1 = never, 2 = ask.
_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


# The Python that has LibreOffice's ``uno`` module (Debian's python3-uno); the venv has not.
SYSTEM_PYTHON = "/usr/bin/python3"
LO_EDIT = Path(__file__).with_name("lo_edit.py")
EDIT_FORMATS = ("xlsx", "ods")


class LibreOfficeError(RuntimeError):
    """LibreOffice did not produce the file it was asked for."""


def soffice_path() -> str | None:
    """The LibreOffice executable on PATH, or None."""
    return shutil.which("soffice") or shutil.which("libreoffice")


def recalculate(src: Path, out_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Open ``src`` in LibreOffice, recalculate every formula, save it as .xlsx in ``out_dir``.

    Returns:
        ``out_dir / src.name``.

    Raises:
        LibreOfficeError: LibreOffice is missing, failed, timed out or wrote no file.
    """
    return recalculate_many([src], out_dir, timeout)[0]


def recalculate_many(sources: Iterable[Path], out_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """:func:`recalculate` for several workbooks in one LibreOffice start (a few seconds saved each).

    The sources must have distinct file names; ``out_dir`` must not be a folder they are in.
    """
    return _convert(list(sources), out_dir, "xlsx", "xlsx", timeout)


def pdf(src: Path, out_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Print ``src`` to ``out_dir/<stem>.pdf`` with LibreOffice (formulas recalculated first)."""
    return _convert([src], out_dir, "pdf", "pdf", timeout)[0]


def pdf_many(sources: Iterable[Path], out_dir: Path, timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """:func:`pdf` for several workbooks (distinct file names) in one LibreOffice start."""
    return _convert(list(sources), out_dir, "pdf", "pdf", timeout)


def convert(src: Path, out_dir: Path, fmt: str, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Open ``src`` in LibreOffice (recalculating) and save it as ``out_dir/<stem>.<fmt>`` (ods, xls, xlsx...)."""
    return _convert([src], out_dir, fmt, fmt, timeout)[0]


def _convert(sources: list[Path], out_dir: Path, convert_to: str, suffix: str, timeout: float) -> list[Path]:
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeError("LibreOffice (soffice) is not installed or not on PATH")
    if not sources:
        return []
    sources = [Path(s).resolve() for s in sources]
    out_dir = Path(out_dir).resolve()
    for src in sources:
        if not src.is_file():
            raise LibreOfficeError(f"{src}: no such file")
        if suffix == src.suffix.lstrip(".").lower() and src.parent == out_dir:
            raise LibreOfficeError(f"{src}: converting into its own folder would overwrite it")
    targets = [out_dir / f"{src.stem}.{suffix}" for src in sources]
    if len(set(targets)) != len(targets):
        raise LibreOfficeError("the sources must have distinct file names: " + ", ".join(s.name for s in sources))
    out_dir.mkdir(parents=True, exist_ok=True)
    for target in targets:  # so that a file left over from an earlier run cannot pass for output
        target.unlink(missing_ok=True)

    with tempfile.TemporaryDirectory(prefix="smm-sheets-lo-") as scratch:
        profile = Path(scratch) / "profile"
        (profile / "user").mkdir(parents=True)
        (profile / "user" / "registrymodifications.xcu").write_text(_RECALC_XCU, encoding="utf-8")
        command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--nologo",
            "--nodefault",
            "--nolockcheck",
            "--convert-to",
            convert_to,
            "--outdir",
            str(out_dir),
            *map(str, sources),
        ]
        stdout, stderr, code = _run(command, timeout, cwd=scratch)

    missing = [t for t in targets if not t.is_file() or t.stat().st_size == 0]
    if missing:
        raise LibreOfficeError(
            f"LibreOffice (exit code {code}) did not write {', '.join(str(m) for m in missing)}\n"
            f"command: {' '.join(command)}\nstderr: {stderr.strip() or '(empty)'}\nstdout: {stdout.strip() or '(empty)'}"
        )
    return targets


def _run(command: list[str], timeout: float, cwd: str) -> tuple[str, str, int]:
    """Run ``command``; on timeout kill its whole process group (soffice starts soffice.bin)."""
    process = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        stdout, stderr = process.communicate()
        raise LibreOfficeError(
            f"LibreOffice timed out after {timeout:.0f} s\ncommand: {' '.join(command)}\nstderr: {stderr.strip() or '(empty)'}"
        ) from None
    return stdout, stderr, process.returncode


def uno_available() -> bool:
    """LibreOffice is installed and the system Python can drive it (``import uno`` works)."""
    return soffice_path() is not None and _system_python_has_uno()


@lru_cache(maxsize=1)
def _system_python_has_uno() -> bool:
    if not Path(SYSTEM_PYTHON).is_file():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], env=_system_env(), capture_output=True, timeout=60)
    return probe.returncode == 0


def _system_env() -> dict[str, str]:
    """This environment without the venv's Python settings, for the system Python."""
    return {
        k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSAFEPATH")
    }


def edit(
    src: Path,
    out: Path,
    actions: list[dict],
    fmt: str = "xlsx",
    timeout: float = DEFAULT_TIMEOUT,
    locale: str = "en-US",
) -> Path:
    """Fill in ``src`` with LibreOffice as a person would and save the result as ``out``.

    One job of :func:`edit_many`; see there for the actions.
    """
    return edit_many([{"src": src, "out": out, "format": fmt, "actions": actions}], timeout, locale)[0]


def edit_many(jobs: list[dict], timeout: float = DEFAULT_TIMEOUT, locale: str = "en-US") -> list[Path]:
    """Edit and save several workbooks in one LibreOffice start, through python3-uno.

    Each job is ``{"src": path, "out": path, "format": "xlsx" | "ods", "actions": [...]}``
    (format defaults to out's suffix). LibreOffice loads ``src`` (recalculating it, as
    :func:`recalculate` does), applies the actions in order, recalculates everything and
    saves to ``out`` (a temporary file renamed into place; ``src`` is never changed). Cells
    are ``"Sheet!D7"`` (``"'Sheet name'!D7"``); rows and columns count from 1. Actions:

    - ``{"set": "Budget!D7", "value": 1200.5}``: a number; ``"value": "1 200,50"`` a text,
      stored as text whatever it looks like (even ``"=1+1"``).
    - ``{"set": ..., "date": "2027-03-12"}``: a date (its serial number; the cell keeps its
      date format, a cell without one gets the locale's).
    - ``{"set": ..., "formula": "=SUM(Budget!D6:D8,1)"}``: a formula in Excel's English
      syntax (``,`` between arguments, ``Sheet!A1`` references, defined names work).
    - ``{"set": "Budget!D7:O7", "clear": true}``: what the Delete key does (a cell or range).
    - ``{"type": "Summary!B15", "text": "12/03/2027"}``: the text as if typed into the cell,
      parsed by LibreOffice with ``locale`` and the cell's format (a date, number or formula).
    - ``{"insert_rows": "Budget", "before": 12, "count": 1}``, ``{"delete_rows": "Budget",
      "at": 12, "count": 1}``, ``{"insert_columns": ..., "before": "E" or 5}``,
      ``{"delete_columns": ..., "at": ...}``: as in the menu; LibreOffice adjusts formulas
      and defined names. The sheet must not be protected.
    - ``{"move_rows": "Budget", "at": 9, "count": 1, "before": 14}``: whole rows cut and
      inserted before another row; formulas that refer to them follow.
    - ``{"sort": "Budget!A6:P9", "by": 4, "descending": true}``: Data > Sort on a range by its
      4th column (no header row).
    - ``{"rename_sheet": "Budget", "to": "Budget 2031"}``, ``{"move_sheet": "Summary", "to": 0}``
      (0-based position), ``{"delete_sheet": "Summary"}``.
    - ``{"unprotect": "Budget"}`` / ``{"protect": "Budget"}`` (optional ``"password"``).

    Like a person, the script cannot change a locked cell of a protected sheet: ``set`` and
    ``type`` on one fail until an ``unprotect`` action (the generated sheets are protected
    without a password; their input cells are unlocked).

    Args:
        jobs: the jobs, run in order.
        timeout: seconds for all of it, LibreOffice's start included.
        locale: LibreOffice's locale setting (how ``type`` reads dates and numbers).

    Returns:
        The ``out`` paths.

    Raises:
        LibreOfficeError: LibreOffice or python3-uno is missing, a job is malformed or cannot
            be done (the message names it), LibreOffice failed or timed out. The jobs before a
            failing one have been written.
    """
    soffice = soffice_path()
    if soffice is None:
        raise LibreOfficeError("LibreOffice (soffice) is not installed or not on PATH")
    if not _system_python_has_uno():
        raise LibreOfficeError(f"{SYSTEM_PYTHON} cannot import uno: install python3-uno")
    from tests import lo_edit  # its checks need no LibreOffice: bad jobs fail before it starts

    jobs = [_edit_job(job) for job in jobs]
    if not jobs:
        return []
    try:
        lo_edit.check_jobs(jobs)
    except lo_edit.JobError as error:
        raise LibreOfficeError(f"lo_edit: {error}") from None
    for job in jobs:  # so that a file left over from an earlier run cannot pass for output
        Path(job["out"]).unlink(missing_ok=True)

    deadline = time.monotonic() + timeout
    with tempfile.TemporaryDirectory(prefix="smm-sheets-lo-edit-") as scratch:
        profile = Path(scratch) / "profile"
        (profile / "user").mkdir(parents=True)
        settings = _RECALC_XCU.replace(
            "</oor:items>",
            f'<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse"><value>{locale}</value></prop></item>\n</oor:items>',
        )
        (profile / "user" / "registrymodifications.xcu").write_text(settings, encoding="utf-8")
        jobs_file = Path(scratch) / "jobs.json"
        jobs_file.write_text(json.dumps(jobs), encoding="utf-8")
        pipe = f"smm-sheets-{uuid.uuid4().hex}"
        office_command = [
            soffice,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--nologo",
            "--norestore",
            "--nodefault",
            "--nolockcheck",
            f"--accept=pipe,name={pipe};urp;",
        ]
        script_command = [
            SYSTEM_PYTHON,
            str(LO_EDIT),
            "--pipe",
            pipe,
            "--jobs",
            str(jobs_file),
            "--connect-timeout",
            str(timeout),
        ]
        office_log = Path(scratch) / "soffice.log"
        with office_log.open("w+", encoding="utf-8", errors="replace") as log:
            office = subprocess.Popen(
                office_command,
                cwd=scratch,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
            try:
                # Files, not pipes: nobody reads a pipe while we wait, and a long batch would fill it.
                out = (Path(scratch) / "stdout").open("w+", encoding="utf-8")
                err = (Path(scratch) / "stderr").open("w+", encoding="utf-8")
                with out, err:
                    script = subprocess.Popen(
                        script_command,
                        cwd=scratch,
                        env=_system_env(),
                        stdin=subprocess.DEVNULL,
                        stdout=out,
                        stderr=err,
                        start_new_session=True,
                    )
                    problem = _wait_for_script(script, office, deadline, timeout)
                    script.wait()
                    out.seek(0)
                    err.seek(0)
                    stdout, stderr = out.read(), err.read()
            finally:
                _stop(office)
                for job in jobs:  # a store cut short by a kill leaves its temporary file
                    out_path = Path(job["out"])
                    for temp in out_path.parent.glob(f".{glob.escape(out_path.name)}.*.tmp"):
                        temp.unlink(missing_ok=True)
            log.seek(0)
            office_output = log.read().strip()
    if problem is None and script.returncode != 0:
        problem = stderr.strip() or f"lo_edit.py ended with exit code {script.returncode}"
    if problem is not None:
        raise LibreOfficeError(
            f"{problem}\nLibreOffice's output: {office_output or '(empty)'}\nlo_edit.py stdout: {stdout.strip() or '(empty)'}"
        )
    outs = [Path(job["out"]) for job in jobs]
    missing = [out for out in outs if not out.is_file() or out.stat().st_size == 0]
    if missing:
        raise LibreOfficeError(
            f"LibreOffice did not write {', '.join(map(str, missing))}\nlo_edit.py stdout: {stdout.strip()}"
        )
    return outs


def _edit_job(job: dict) -> dict:
    """The job with absolute paths and a format; the script checks the actions."""
    if not isinstance(job, dict) or "src" not in job or "out" not in job:
        raise LibreOfficeError(f"a job needs src and out: {job!r}")
    src, out = Path(job["src"]).resolve(), Path(job["out"]).resolve()
    fmt = job.get("format") or out.suffix.lstrip(".").lower()
    if fmt not in EDIT_FORMATS:
        raise LibreOfficeError(f"{out}: format must be one of {', '.join(EDIT_FORMATS)}, not {fmt!r}")
    if not src.is_file():
        raise LibreOfficeError(f"{src}: no such file")
    if src == out:
        raise LibreOfficeError(f"{src}: out must not be the source file")
    out.parent.mkdir(parents=True, exist_ok=True)
    return {**job, "src": str(src), "out": str(out), "format": fmt, "actions": list(job.get("actions", []))}


def _wait_for_script(script: subprocess.Popen, office: subprocess.Popen, deadline: float, timeout: float) -> str | None:
    """Wait for the script; a reason to give up (a timeout, LibreOffice gone), or None."""
    while script.poll() is None:
        if time.monotonic() > deadline:
            _kill_group(script)
            return f"LibreOffice editing timed out after {timeout:.0f} s"
        if office.poll() is not None:
            # Give the script a moment to report what it saw, then stop it.
            try:
                script.wait(timeout=5)
            except subprocess.TimeoutExpired:
                _kill_group(script)
            return f"LibreOffice ended (exit code {office.returncode}) before the edits were done"
        time.sleep(0.1)
    return None


def _stop(office: subprocess.Popen) -> None:
    """Let LibreOffice end (the script asked it to); kill its process group if it does not."""
    try:
        office.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    _kill_group(office)  # soffice.bin may outlive the soffice wrapper
    office.wait()


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def formula_cells(path: Path) -> dict[tuple[str, str], Any]:
    """Every formula cell of the workbook: ``(sheet, "B7")`` -> its cached (last computed) value."""
    formulas = openpyxl.load_workbook(path, data_only=False)
    values = openpyxl.load_workbook(path, data_only=True)
    found = {}
    for ws in formulas.worksheets:
        cached = values[ws.title]
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    found[(ws.title, cell.coordinate)] = cached[cell.coordinate].value
    return found


def error_cells(path: Path) -> dict[tuple[str, str], Any]:
    """Every cell whose value (cached, for formulas) is a spreadsheet error such as ``#DIV/0!``."""
    values = openpyxl.load_workbook(path, data_only=True)
    found = {}
    for ws in values.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                value = cell.value
                if cell.data_type == "e" or (
                    isinstance(value, str) and (value.strip() in ERROR_VALUES or _LO_ERROR.match(value.strip()))
                ):
                    found[(ws.title, cell.coordinate)] = value
    return found


def require_soffice() -> str:
    """The soffice path; else skip the calling test, or fail it if LibreOffice is required."""
    path = soffice_path()
    if path is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"LibreOffice is required ({REQUIRE_ENV}=1) but soffice/libreoffice is not on PATH")
        pytest.skip(f"LibreOffice (soffice) not installed; set {REQUIRE_ENV}=1 to make this a failure")
    return path


@pytest.fixture(scope="session")
def soffice() -> str:
    """Path of LibreOffice's soffice; skips (or fails, see :data:`REQUIRE_ENV`) without it."""
    return require_soffice()


requires_libreoffice = pytest.mark.usefixtures("soffice")


@pytest.fixture(scope="session")
def soffice_uno() -> str:
    """Like ``soffice``, and python3-uno too (for :func:`edit_many`): skips, or fails when required."""
    path = require_soffice()
    if not _system_python_has_uno():
        message = f"{SYSTEM_PYTHON} cannot import uno (Debian: apt-get install python3-uno)"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"LibreOffice is required ({REQUIRE_ENV}=1) but {message}")
        pytest.skip(f"{message}; set {REQUIRE_ENV}=1 to make this a failure")
    return path


def same_value(expected: Any, actual: Any) -> bool:
    """A cached value and LibreOffice's agree: numbers to 1e-9, blank and "" alike, else equal."""
    if expected in (None, "") and actual in (None, ""):
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return type(expected) is type(actual) and expected == actual


def disagreements(cached: dict, computed: dict, same: Callable[[Any, Any], bool] = same_value) -> list[str]:
    """Formula cells (of :func:`formula_cells`) whose cached value LibreOffice computed otherwise."""
    return [
        f"{sheet}!{cell}: cached {cached[sheet, cell]!r}, LibreOffice {computed[sheet, cell]!r}"
        for sheet, cell in sorted(cached)
        if (sheet, cell) in computed and not same(cached[sheet, cell], computed[sheet, cell])
    ]


def recalculate_plans(plans: dict, tmp_path_factory) -> dict:
    """Write each plan and recalculate them all in one LibreOffice start.

    Returns:
        Case name -> (plan, generated workbook, the same recalculated by LibreOffice).
    """
    from smm_sheets.generator import xlsx

    folder = tmp_path_factory.mktemp("generated")
    generated = {name: xlsx.write(plan, folder / f"{name}.xlsx") for name, plan in plans.items()}
    out = recalculate_many(generated.values(), tmp_path_factory.mktemp("recalculated"))
    return {name: (plans[name], generated[name], path) for name, path in zip(generated, out)}
