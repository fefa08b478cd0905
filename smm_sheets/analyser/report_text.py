"""The analyser's report as text for people (rich tables) and as JSON for scripts.

Text written to a file or a pipe has no colours and a fixed
width, so that it diffs well.
"""

from __future__ import annotations

import io
import json
from typing import Any

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from smm_sheets.analyser.findings import ERROR, WARNING
from smm_sheets.analyser.report import FileReport, Report

_STYLES = {ERROR: "bold red", WARNING: "yellow"}
PLAIN_WIDTH = 120


def to_json(report: Report) -> str:
    """The report in its versioned JSON form (``docs/report.schema.json``)."""
    return json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n"


def to_text(report: Report, color: bool = False, width: int | None = None) -> str:
    """A summary per file (totals, findings sorted by sheet and cell), and a last line of counts."""
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
    for failure in report.failures:
        message = failure.message if failure.file in failure.message else f"{failure.file}: {failure.message}"
        console.print(f"[bold red]cannot be analysed:[/] {escape(message)}", markup=True)
        console.print()
    for note in report.skipped:
        console.print(f"skipped: {note}", markup=False)
    console.print(summary_line(report))
    return buffer.getvalue()


def summary_line(report: Report) -> str:
    stats = report.stats
    parts = [
        f"{stats['files']} file{'s' if stats['files'] != 1 else ''}",
        f"{stats['errors']} error{'s' if stats['errors'] != 1 else ''}",
        f"{stats['warnings']} warning{'s' if stats['warnings'] != 1 else ''}",
    ]
    if stats["unreadable"]:
        parts.append(f"{stats['unreadable']} not analysed")
    return ", ".join(parts)


def _file(console: Console, report: FileReport) -> None:
    state = "[green]valid[/]" if report.valid else "[bold red]not valid[/]"
    params = report.parameters
    console.print(
        f"[bold]{escape(report.file)}[/] — {report.blueprint_id} {escape(report.blueprint_version)} — {state}",
        markup=True,
    )
    console.print(
        f"{params.get('company', '')} · {params.get('year', '')} from month {params.get('start_month', '')} · {params.get('currency', '')}",
        markup=False,
    )
    from smm_sheets.analyser import totals  # here, not above: importing this module does not load pandas

    scalars = {k: v for k, v in report.totals.items() if not totals.is_table(v)}
    if scalars:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for key in scalars:
            table.add_column(Text(key), justify="right")
        table.add_row(*(_number(v) for v in scalars.values()))
        console.print(table)
    for key, figures in report.totals.items():
        if totals.is_table(figures):
            rows_name, columns, rows = totals.table_rows(figures)
            table = Table(title=Text(key), title_justify="left", box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
            table.add_column(rows_name, overflow="fold")
            for column in columns:
                table.add_column(column, justify="right")
            for label, values in rows:
                table.add_row(Text(str(label)), *(_number(v) for v in values))
            console.print(table)
    findings = report.sorted_findings()
    if findings:
        table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
        for head in ("sheet", "cell", "severity", "code", "message"):
            table.add_column(head, overflow="fold")
        for item in findings:
            style = _STYLES.get(item.severity)
            table.add_row(
                Text(item.sheet or ""), item.cell or "", item.severity, Text(item.code), Text(item.message), style=style
            )
        console.print(table)
    stats = report.stats
    console.print(
        f"{stats['errors']} errors, {stats['warnings']} warnings, {stats['infos']} notes in {stats['cells']} cells"
    )
    console.print()


def _number(value: Any) -> Text:
    """A figure as a cell of a table (a Text: a total may be text someone typed, not markup)."""
    if value is None or (isinstance(value, float) and value != value):
        return Text("")
    if isinstance(value, float):
        if abs(value) < 10 and not value.is_integer():
            return Text(f"{value:.4g}")
        return Text(f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}")
    return Text(str(value))
