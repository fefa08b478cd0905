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

import math
import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Iterable

import openpyxl
import pytest

REQUIRE_ENV = "SMM_SHEETS_REQUIRE_LIBREOFFICE"
DEFAULT_TIMEOUT = 180.0
# Every error value a spreadsheet can show: Excel's, and LibreOffice's own "Err:5xx".
ERROR_VALUES = frozenset({"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA", "#SPILL!", "#CALC!"})
_LO_ERROR = re.compile(r"^Err:\d{3}$")

# Load settings of Calc: 0 = always recalculate, 1 = never, 2 = ask.
_RECALC_XCU = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


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
        command, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
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
                if cell.data_type == "e" or (isinstance(value, str) and (value.strip() in ERROR_VALUES or _LO_ERROR.match(value.strip()))):
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


def same_value(expected: Any, actual: Any) -> bool:
    """A cached value and LibreOffice's agree: numbers to 1e-9, blank and "" alike, else equal."""
    if expected in (None, "") and actual in (None, ""):
        return True
    if isinstance(expected, bool) or isinstance(actual, bool):
        return type(expected) is type(actual) and expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)):
        return math.isclose(expected, actual, rel_tol=1e-9, abs_tol=1e-9)
    return type(expected) is type(actual) and expected == actual


def recalculate_plans(plans: dict, tmp_path_factory) -> dict:
    """Write each plan and recalculate them all in one LibreOffice start.

    Returns:
        Case name -> (plan, generated workbook, the same recalculated by LibreOffice).
    """
    from smm_sheets import render

    folder = tmp_path_factory.mktemp("generated")
    generated = {name: render.write(plan, folder / f"{name}.xlsx") for name, plan in plans.items()}
    out = recalculate_many(generated.values(), tmp_path_factory.mktemp("recalculated"))
    return {name: (plans[name], generated[name], path) for name, path in zip(generated, out)}
