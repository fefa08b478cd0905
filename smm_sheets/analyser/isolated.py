"""One workbook read and analysed in a child process, so that a file that makes a native library
abort or run away is one line, not the end of the process (see :mod:`smm_sheets.processes`).

For servers and runs over many files: :func:`analyse_isolated` is what the web server calls for
each file; :func:`analyse_each_isolated` is what ``analyse`` of several files and the portfolio
call: one child reads file after file, and a file that ends it is its own one line while a new
child goes on with the files after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from smm_sheets.analyser.report import FileFailure, FileReport
from smm_sheets.errors import SmmSheetsError
from smm_sheets.processes import DEFAULT_ISOLATION, IsolationLimits, run_isolated, run_isolated_each


def analyse_file_isolated(
    path: str | Path, limits: IsolationLimits = DEFAULT_ISOLATION, language: str | None = None
) -> FileReport:
    """:func:`~smm_sheets.analyser.pipeline.analyse_file` in a child process under ``limits``.

    Raises:
        FileError / InputError: one line naming the file: the analysis's own error, or how the
            child ended (out of memory, out of time, crashed).
    """
    from smm_sheets.analyser.pipeline import analyse_file

    warm()
    try:
        return run_isolated(analyse_file, str(path), language, limits=limits)
    except SmmSheetsError as error:
        message = str(error)
        if not message.startswith(f"{path}:"):
            error.args = (f"{path}: {message}",)
        raise


def analyse_each_isolated(
    paths: Iterable[str | Path], limits: IsolationLimits = DEFAULT_ISOLATION, language: str | None = None
) -> Iterator[tuple[str | Path, FileReport | SmmSheetsError]]:
    """:func:`~smm_sheets.analyser.pipeline.analyse_file` of each path, in child processes under
    ``limits`` per file (see :func:`smm_sheets.processes.run_isolated_each`).

    Yields:
        ``(path, report)``, or ``(path, error)`` whose one line names the file: the analysis's
        own error, or how the child ended on it (out of memory, out of time, crashed).
    """
    from smm_sheets.analyser.pipeline import analyse_file

    paths = list(paths)
    if len(paths) > 1:
        warm()
    for path, outcome in run_isolated_each(analyse_file, paths, language, limits=limits):
        if isinstance(outcome, SmmSheetsError):
            message = str(outcome)
            if not message.startswith(f"{path}:"):
                outcome.args = (f"{path}: {message}",)
        yield path, outcome


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


def warm() -> None:
    """What every child would load again for itself, loaded once in the parent it is forked from:
    the built-in blueprints, the finding catalogs and each language's locale data (Babel reads
    a language's file on its first use: about 20 ms)."""
    global _WARM
    if not _WARM:
        import datetime as dt

        from smm_sheets import locale_data
        from smm_sheets.analyser import messages, recognise, totals  # noqa: F401 - imported to be inherited

        recognise._all_builtin()
        messages.catalogs()
        for language in locale_data.LANGUAGES:
            locale_data.format_number(1234.5, language)
            locale_data.format_date(dt.date(2000, 1, 1), language)
            locale_data.plural_category(1, language)
            locale_data.number_symbols(language)
            locale_data.date_order(language)
        _WARM = True


_WARM = False
