"""The analyser's report as text for people (rich tables) and as JSON for scripts.

Text written to a file or a pipe has no colours and a fixed
width, so that it diffs well. Its words are each workbook's language (or the one asked for):
the headings come from the finding catalogs (:mod:`smm_sheets.analyser.messages`).
"""

from __future__ import annotations

import io
import json
import math
import re
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
    """A summary per file (totals, findings sorted by sheet and cell), and a last line of counts.

    Without colour, most reports are written by :func:`_plain_text`, the very text rich writes
    (``tests/analyser/test_report_plain.py`` compares them) without importing rich (about 40 ms
    of an ``analyse``); rich draws what that does not take (see :func:`_plain_text`).
    """
    if not color:
        plain = _plain_text(report, width or PLAIN_WIDTH)
        if plain is not None:
            return plain
    return _rich_text(report, color, width)


def _rich_text(report: Report, color: bool, width: int | None) -> str:
    """The text report drawn by rich (in colour for a terminal)."""
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

    return Text(_figure(value, language))


def _figure(value: Any, language: str) -> str:
    """A figure as the language writes it: small fractions to 4 significant digits."""
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and math.isfinite(value):
        if abs(value) < 10 and not value.is_integer():
            return format_number(float(f"{value:.4g}"), language, decimals=6)
        return format_number(value, language)
    return str(value)


# --------------------------------------------------------------------------- plain text
#
# What rich writes without colour, for the report's few shapes: lines, and tables of box
# SIMPLE_HEAD without edges, padded (0, 1), left-justified text and right-justified figures,
# overflow "fold" or "ellipsis". The steps follow rich's (Table._calculate_column_widths,
# Text.wrap, divide_line, ratio_reduce); they are taken only for text whose every character is
# one cell wide (rich's own fast path, ``rich.cells._SINGLE_CELL_UNICODE_RANGES``), so that a
# character is a cell. Anything else (wide or combining characters, control characters, a line
# that rich would wrap, what might be markup or an emoji code) is drawn by rich.

# Characters that are one cell to rich: its own fast path's (``rich.cells._SINGLE_CELL_UNICODE_RANGES``)
# and more letters (Cyrillic, Latin Extended Additional) and punctuation (— … € ™), none of them
# combining, joining or zero width (``tests/analyser/test_report_plain.py`` checks each with rich).
_ONE_CELL_RANGES = (
    "\u0020-\u007e\u00a0-\u00ac\u00ae-\u02ff\u0370-\u0482\u048a-\u052f\u1e00-\u1eff"
    "\u2010-\u2027\u202f\u2030-\u205e\u20a0-\u20c0\u2100-\u214f\u2500-\u25fc\u2800-\u28ff"
)
_SINGLE_CELL = re.compile(f"[{_ONE_CELL_RANGES}]*")
_MAYBE_EMOJI = re.compile(r":\S*:")  # what rich might take for an emoji code (:smile:)
_WORD = re.compile(r"\s*\S+\s*")
_TRAILING_SPACE = re.compile(r"\s+$")
_RULE = "\u2500"  # box SIMPLE_HEAD's line under the header


class _NotPlain(Exception):
    """The report has something only rich draws right."""


class _Column:
    """A column of a table: its header, how it is justified and how a long word is cut."""

    __slots__ = ("header", "justify", "overflow")

    def __init__(self, header: str, justify: str = "left", overflow: str = "ellipsis") -> None:
        self.header, self.justify, self.overflow = header, justify, overflow  # or "right"; or "fold"


def _plain_text(report: Report, width: int) -> str | None:
    """The report as rich writes it to a file or a pipe, or None where rich must draw it."""
    out: list[str] = []
    try:
        for file_report in report.reports:
            _plain_file(out, file_report, width)
        if report.failures:
            raise _NotPlain  # rare: left to rich
        for note in report.skipped:
            _plain_line(out, f"skipped: {note}", width)
        _plain_line(out, summary_line(report), width)
    except _NotPlain:
        return None
    return "".join(out)


def _plain_line(out: list[str], line: str, width: int) -> None:
    """``console.print(line)``: unchanged when it fits the width (else rich wraps it)."""
    if _MAYBE_EMOJI.search(line) or "[" in line or len(line) > width or not _SINGLE_CELL.fullmatch(line):
        raise _NotPlain  # an emoji code or markup to rich, a wrapped line, a character of its own width
    out.append(line + "\n")


def _plain_file(out: list[str], report: FileReport, width: int) -> None:
    language = report.language
    state = words("report.valid" if report.valid else "report.not_valid", language)
    _plain_line(out, f"{report.file} — {report.blueprint_id} {report.blueprint_version} — {state}", width)
    params = report.parameters
    made_for = {key: params.get(key, "") for key in ("company", "year", "start_month", "currency")}
    _plain_line(out, words("report.made_for", language, **made_for), width)
    from smm_sheets.analyser import totals

    figures_by_name = totals.figures(report.totals)
    scalars = {k: v for k, v in figures_by_name if not totals.is_table(v)}
    if scalars:
        columns = [_Column(_heading("total", key, language), "right") for key in scalars]
        _plain_table(out, width, None, columns, [[_figure(v, language) for v in scalars.values()]])
    for key, figures in figures_by_name:
        if totals.is_table(figures):
            rows_name, names, rows = totals.table_rows(figures)
            heading = ", ".join(_heading("rows", name, language) for name in rows_name.split(", "))
            columns = [_Column(heading, overflow="fold")]
            columns += [_Column(_heading("total", name, language), "right") for name in names]
            cells = [[str(label), *(_figure(v, language) for v in values)] for label, values in rows]
            _plain_table(out, width, _heading("total", key, language), columns, cells)
    findings = report.sorted_findings()
    if findings:
        heads = ("sheet", "cell", "severity", "code", "message")
        columns = [_Column(words(f"report.{head}", language), overflow="fold") for head in heads]
        rows = []
        for item in findings:
            cell = item.cell or ""
            if _MAYBE_EMOJI.search(cell) or "[" in cell:  # a str cell is markup to rich
                raise _NotPlain
            severity = words(f"severity.{item.severity}", language)
            rows.append([item.sheet or "", cell, severity, item.code, item.message])
        _plain_table(out, width, None, columns, rows)
    _plain_line(out, words("report.counts", language, **report.stats), width)
    out.append("\n")


def _plain_table(out: list[str], width: int, title: str | None, columns: list[_Column], rows: list[list[str]]) -> None:
    """``console.print(Table(title=..., title_justify="left", box=SIMPLE_HEAD, show_edge=False, pad_edge=False))``."""
    for text in (title or "", *(c.header for c in columns), *(cell for row in rows for cell in row)):
        if not _SINGLE_CELL.fullmatch(text):
            raise _NotPlain
    last = len(columns) - 1
    pads = [(0 if i == 0 else 1, 0 if i == last else 1) for i in range(len(columns))]
    extra = len(columns) - 1  # the dividers between columns
    available = width - extra
    cells_of = [[column.header, *(row[i] for row in rows)] for i, column in enumerate(columns)]
    # Table._calculate_column_widths: each column's widest line, padded
    measured = [_measure(cells, sum(pad), available) for cells, pad in zip(cells_of, pads)]
    widths = [maximum or 1 for _, maximum in measured]
    if sum(widths) > available:
        widths = _collapse(widths, available)
        if sum(widths) > available:
            widths = _ratio_reduce(sum(widths) - available, [1] * len(widths), widths, widths)
        widths = [_measure(cells, sum(pad), w)[1] or 0 for cells, pad, w in zip(cells_of, pads, widths)]
    if any(w - sum(pad) < 1 for w, pad in zip(widths, pads)):
        raise _NotPlain
    table_width = sum(widths) + extra
    if title:
        out.extend(line + "\n" for line in _wrap(title, table_width, "left", "fold"))
    for index, row in enumerate(zip(*cells_of)):
        lines = [
            _wrap(text, w - left - right, column.justify, column.overflow)
            for text, w, (left, right), column in zip(row, widths, pads, columns)
        ]
        height = max(len(cell) for cell in lines)
        shaped = []
        for cell, w, (left, right) in zip(lines, widths, pads):
            inner = [" " * left + line + " " * right for line in cell]
            blank = [" " * w] * (height - len(inner))
            shaped.append(blank + inner if index == 0 else inner + blank)  # headers sit at the bottom
        out.extend(" ".join(cell[n] for cell in shaped) + "\n" for n in range(height))
        if index == 0:
            out.append(_RULE.join(_RULE * w for w in widths) + "\n")


def _measure(cells: list[str], padding: int, width: int) -> tuple[int, int]:
    """rich's Measurement of a column of padded Text cells within ``width``: (minimum, maximum)."""
    if width < 1:
        return 0, 0
    lows, highs = [], []
    for text in cells:
        if width - padding < 1:
            low = high = width
        else:
            words = text.split()
            high = max((len(line) for line in text.splitlines()), default=0)
            low = max((len(word) for word in words), default=high)
            low, high = min(low, width), min(high, width)
            low = min(max(0, low), high)
            if high < 1:
                low = high = 0
            low, high = min(low + padding, width), min(high + padding, width)
            low = min(max(0, low), high)
            if high < 1:
                low = high = 0
        lows.append(low)
        highs.append(high)
    low, high = max(lows, default=1), max(highs, default=width)
    return min(low, width), min(high, width)


def _collapse(widths: list[int], available: int) -> list[int]:
    """Table._collapse_widths: narrow the widest columns (all may wrap) until the table fits."""
    excess = sum(widths) - available
    while sum(widths) and excess > 0:
        widest = max(widths)
        second = max((w for w in widths if w != widest), default=0)
        ratios = [1 if w == widest else 0 for w in widths]
        difference = widest - second
        if not difference:
            break
        widths = _ratio_reduce(excess, ratios, [min(excess, difference)] * len(widths), widths)
        excess = sum(widths) - available
    return widths


def _ratio_reduce(total: int, ratios: list[int], maximums: list[int], values: list[int]) -> list[int]:
    """rich._ratio.ratio_reduce: take ``total`` off ``values`` in proportion to ``ratios``."""
    ratios = [ratio if most else 0 for ratio, most in zip(ratios, maximums)]
    total_ratio = sum(ratios)
    if not total_ratio:
        return values[:]
    remaining = total
    result = []
    for ratio, most, value in zip(ratios, maximums, values):
        if ratio and total_ratio > 0:
            taken = min(most, round(ratio * remaining / total_ratio))
            result.append(value - taken)
            remaining -= taken
            total_ratio -= ratio
        else:
            result.append(value)
    return result


def _wrap(text: str, width: int, justify: str, overflow: str) -> list[str]:
    """Text.wrap of one line of one-cell characters, justified and cut as rich does, each line
    ``width`` long (render_lines pads them)."""
    offsets = _divide(text, width, fold=overflow == "fold")
    bounds = [0, *offsets, len(text)]
    lines = [text[start:end] for start, end in zip(bounds, bounds[1:])] if text else [""]
    result = []
    for line in lines:
        if len(line) > width:  # rstrip_end: spaces past the width go
            space = _TRAILING_SPACE.search(line)
            if space is not None:
                line = line[: len(line) - min(len(space.group(0)), len(line) - width)]
        if justify == "right":
            line = _truncate(line.rstrip(), width, overflow)
            line = " " * (width - len(line)) + line
        else:
            line = _truncate(line, width, overflow)
        result.append(line.ljust(width))
    return result


def _truncate(line: str, width: int, overflow: str) -> str:
    if len(line) <= width:
        return line
    return line[: width - 1] + "…" if overflow == "ellipsis" else line[:width]


def _divide(text: str, width: int, fold: bool) -> list[int]:
    """rich._wrap.divide_line for one-cell characters: where the lines break."""
    breaks: list[int] = []
    offset = 0
    match = _WORD.match(text, 0)
    while match is not None:
        start, end = match.span()
        word = match.group(0)
        length = len(word.rstrip())
        if width - offset >= length:
            offset += len(word)
        elif length > width:
            if fold:
                chunks = [word[i : i + width] for i in range(0, len(word), width)]
                for number, chunk in enumerate(chunks):
                    if start:
                        breaks.append(start)
                    if number == len(chunks) - 1:
                        offset = len(chunk)
                    else:
                        start += len(chunk)
            else:
                if start:
                    breaks.append(start)
                offset = len(word)
        elif offset and start:
            breaks.append(start)
            offset = len(word)
        match = _WORD.match(text, end)
    return breaks
