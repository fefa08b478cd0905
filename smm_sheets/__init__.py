"""smm-sheets: social media marketing workbooks from declarative blueprints.

Two directions share one core, and ``smm_sheets.fix(...)`` goes both ways. ``smm_sheets.generate(...)`` writes workbooks (blueprint →
plan → xlsx); ``smm_sheets.analyse(...)`` reads filled-in ones back against the same plan
(file → plan → checks → report); ``smm_sheets.export(...)`` sends a filled-in calendar's posts
on, to iCalendar or a scheduler. Each is imported on first use, so that generating does not
load the analyser's pandas and analysing does not load xlsxwriter.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from smm_sheets.analyser.report import Report
    from smm_sheets.export.pipeline import ExportResult
    from smm_sheets.fixer import FixResult


def generate(
    blueprint: str | Path = "all",
    out_dir: str | Path = ".",
    *,
    sample: bool = False,
    force: bool = False,
    **parameters: Any,
) -> list[Path]:
    """Write one workbook, or the set of five, into a folder.

    Args:
        blueprint: a built-in id ("budget", "calendar", ...), a blueprint YAML file, or "all".
        out_dir: the folder to write ``<blueprint id>.xlsx`` into (created if missing).
        sample: fill in realistic example data.
        force: replace a file that exists.
        **parameters: company, year, start_month, currency, channels, team, goals, language
            and options, as the command line takes them.

    Returns:
        The paths written.
    """
    from smm_sheets.generator.pipeline import generate_files

    return generate_files(blueprint, out_dir, sample=sample, force=force, **parameters)


def analyse(paths: Any, language: str | None = None) -> Report:
    """Analyse workbooks: files, or folders searched for spreadsheets.

    Args:
        paths: a path or an iterable of paths.
        language: the findings' language (en, fi, lv, mk, nb); default: each workbook's own.

    Returns:
        A :class:`~smm_sheets.analyser.report.Report` (``valid``, ``stats``, ``flatten()``, ``to_dict()``).
    """
    from smm_sheets.analyser.pipeline import analyse as run

    return run(paths, language)


def export(calendar: str | Path, output: str | Path, *, format: str = "ics", **options: Any) -> ExportResult:
    """Export a filled-in calendar's posts: iCalendar, a scheduler's bulk file, or CSV.

    Args:
        calendar: the calendar workbook (.xlsx, .xlsm, .ods).
        output: the file to write.
        format: ``ics``, ``hootsuite``, ``sprout``, ``publer`` or ``csv``.
        **options: statuses, since, until, timezone, date_order, force, now (see
            :func:`smm_sheets.export.pipeline.export`).

    Returns:
        An :class:`~smm_sheets.export.pipeline.ExportResult` (``paths``, ``exported``, ``findings``).
    """
    from smm_sheets.export.pipeline import export as run

    return run(calendar, output, format=format, **options)


def fix(
    paths: Any,
    out_dir: str | Path,
    *,
    year: int | None = None,
    next_year: bool = False,
    language: str | None = None,
    force: bool = False,
) -> list[FixResult]:
    """Write each workbook again from the current blueprint, with everything people typed carried
    over, formulas restored, types repaired where certain and what is still wrong noted on its cells.

    Args:
        paths: a workbook, a folder, or an iterable of them.
        out_dir: the folder to write ``<name>.xlsx`` into; never the inputs' own files.
        year: the plan for that year instead (actuals and dated posts cleared).
        next_year: the plan for the year after each workbook's.
        language: the findings' language; default each workbook's own.
        force: replace existing files in ``out_dir``.

    Returns:
        One :class:`~smm_sheets.fixer.FixResult` per workbook: ``target`` (what it wrote),
        ``not_carried`` (what it could not carry), ``repaired`` and ``findings`` (what remains),
        and with another year ``opening`` (the budget's carry-over taken in as its opening balance).
    """
    from smm_sheets.fixer import fix_paths

    return fix_paths(paths, out_dir, year=year, next_year=next_year, language=language, force=force)
