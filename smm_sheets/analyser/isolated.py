"""One workbook read and analysed in a child process, so that a file that makes a native library
abort or run away is one line, not the end of the process (see :mod:`smm_sheets.processes`).

For servers and runs over many files: :func:`analyse_isolated` is what the web server, the
portfolio and ``analyse DIR`` call for each file.
"""

from __future__ import annotations

from pathlib import Path

from smm_sheets.analyser.report import FileFailure, FileReport
from smm_sheets.errors import SmmSheetsError
from smm_sheets.processes import DEFAULT_ISOLATION, IsolationLimits, run_isolated


def analyse_file_isolated(
    path: str | Path, limits: IsolationLimits = DEFAULT_ISOLATION, language: str | None = None
) -> FileReport:
    """:func:`~smm_sheets.analyser.pipeline.analyse_file` in a child process under ``limits``.

    Raises:
        FileError / InputError: one line naming the file: the analysis's own error, or how the
            child ended (out of memory, out of time, crashed).
    """
    from smm_sheets.analyser.pipeline import analyse_file

    _warm()
    try:
        return run_isolated(analyse_file, str(path), language, limits=limits)
    except SmmSheetsError as error:
        message = str(error)
        if not message.startswith(f"{path}:"):
            error.args = (f"{path}: {message}",)
        raise


def analyse_isolated(
    path: str | Path, limits: IsolationLimits = DEFAULT_ISOLATION, language: str | None = None
) -> FileReport | FileFailure:
    """One workbook's report, or its one-line failure, never an exception for a bad file.

    Args:
        path: the workbook.
        limits: memory (bytes the child may add) and seconds.
        language: the findings' language (default: the workbook's own).

    Returns:
        The :class:`FileReport`, or a :class:`FileFailure` whose ``message`` is the one line.
    """
    try:
        return analyse_file_isolated(path, limits, language)
    except SmmSheetsError as error:
        return FileFailure(str(path), str(error))


def _warm() -> None:
    """What every child would load again for itself, loaded once in the parent it is forked from:
    pandas (for the totals) and the built-in blueprints."""
    global _WARM
    if not _WARM:
        from smm_sheets.analyser import recognise, totals  # noqa: F401 - imported to be inherited

        recognise._all_builtin()
        _WARM = True


_WARM = False
