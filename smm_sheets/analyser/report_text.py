"""The analyser's report as text for people (rich tables) and as JSON for scripts.

Text written to a file or a pipe has no colours and a fixed
width, so that it diffs well. Its words are each workbook's language (or the one asked for):
the headings come from the finding catalogs (:mod:`smm_sheets.analyser.messages`).
"""

from __future__ import annotations

import io
import json
import math
from typing import TYPE_CHECKING, Any

from smm_sheets.analyser.findings import ERROR, WARNING
from smm_sheets.analyser.messages import has
from smm_sheets.analyser.messages import text as words
from smm_sheets.analyser.report import FileReport, Report
from smm_sheets.locale_data import format_number

if TYPE_CHECKING:
    from rich.console import Console
    from rich.text import Text

# rich is imported by the functions that draw text, not here: JSON output does not load it.
_STYLES = {ERROR: "bold red", WARNING: "yellow"}
PLAIN_WIDTH = 120


def to_json(report: Report) -> str:
    """The report in its versioned JSON form (``docs/report.schema.json``)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_text(report: Report, color: bool = False, width: int | None = None) -> str:
    """A summary per file (totals, findings sorted by sheet and cell), and a last line of counts."""
    from rich.console import Console
    from rich.markup import escape

    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width or PLAIN_WIDTH,
        highlight=False,
        soft_wrap=False,
    )
    for file_report in report.reports:
        _file(console, file_report)
    language = report.text_language
    for failure in report.failures:
        message = failure.message if failure.file in failure.message else f"{failure.file}: {failure.message}"
        console.print(f"[bold red]{escape(words('report.not_analysed', language))}[/] {escape(message)}", markup=True)
        console.print()
    for note in report.skipped:
        console.print(f"skipped: {note}", markup=False)
    console.print(summary_line(report))
    return buffer.getvalue()


def summary_line(report: Report) -> str:
    stats = report.stats
    language = report.text_language
    parts = [words(f"report.summary.{name}", language, count=stats[name]) for name in ("files", "errors", "warnings")]
    if stats["unreadable"]:
        parts.append(words("report.summary.unreadable", language, count=stats["unreadable"]))
    return ", ".join(parts)


def _file(console: Console, report: FileReport) -> None:
    from rich import box
    from rich.markup import escape
    from rich.table import Table
    from rich.text import Text

    language = report.language
    state = (
        f"[green]{escape(words('report.valid', language))}[/]"
        if report.valid
        else f"[bold red]{escape(words('report.not_valid', language))}[/]"
    )
    params = report.parameters
    console.print(
        f"[bold]{escape(report.file)}[/] — {report.blueprint_id} {escape(report.blueprint_version)} — {state}",
        markup=True,
    )
    made_for = {key: params.get(key, "") for key in ("company", "year", "start_month", "currency")}
    console.print(words("report.made_for", language, **made_for), markup=False)
    from smm_sheets.analyser import totals  # here, not above: importing this module does not load pandas

    figures_by_name = totals.figures(report.totals)  # tables as they were computed (no DataFrame needed)
    scalars = {k: v for k, v in figures_by_name if not totals.is_table(v)}
    if scalars:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for key in scalars:
            table.add_column(Text(_heading("total", key, language)), justify="right")
        table.add_row(*(_number(v, language) for v in scalars.values()))
        console.print(table)
    for key, figures in figures_by_name:
        if totals.is_table(figures):
            rows_name, columns, rows = totals.table_rows(figures)
            title = Text(_heading("total", key, language))
            table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
            heading = ", ".join(_heading("rows", name, language) for name in rows_name.split(", "))
            table.add_column(Text(heading), overflow="fold")
            for column in columns:
                table.add_column(Text(_heading("total", column, language)), justify="right")
            for label, values in rows:
                table.add_row(Text(str(label)), *(_number(v, language) for v in values))
            console.print(table)
    findings = report.sorted_findings()
    if findings:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for head in ("sheet", "cell", "severity", "code", "message"):
            table.add_column(Text(words(f"report.{head}", language)), overflow="fold")
        for item in findings:
            style = _STYLES.get(item.severity)
            table.add_row(
                Text(item.sheet or ""),
                item.cell or "",
                Text(words(f"severity.{item.severity}", language)),
                Text(item.code),
                Text(item.message),
                style=style,
            )
        console.print(table)
    stats = report.stats
    console.print(words("report.counts", language, **stats))
    console.print()


def _heading(kind: str, name: str, language: str) -> str:
    """A total's or a table's name in the language (a blueprint of one's own keeps its ids)."""
    key = f"{kind}.{name}"
    return words(key, language) if has(key) else name


def _number(value: Any, language: str = "en") -> Text:
    """A figure as a cell of a table, as the language writes it (a Text: a total may be text
    someone typed, not markup)."""
    from rich.text import Text

    if value is None or (isinstance(value, float) and value != value):
        return Text("")
    if isinstance(value, float) and math.isfinite(value):
        if abs(value) < 10 and not value.is_integer():
            return Text(format_number(float(f"{value:.4g}"), language, decimals=6))
        return Text(format_number(value, language))
    return Text(str(value))
