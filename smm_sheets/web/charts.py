"""Pictures of a report, drawn on the server as SVG: no script, no web font, every text escaped.

Each chart is a function of rows of the report's JSON (``totals.by_month`` ...) and the texts
to show; it returns SVG markup.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 36, 48


@dataclass(frozen=True)
class Series:
    """One series: its name in the legend, its values (None where there is none), its style class.

    A line series with ``dashed`` is a target drawn as a dashed line without dots.
    """

    name: str
    values: Sequence[float | None]
    style: str
    dashed: bool = False


def number(value: float | None, language: str = "en", digits: int = 0) -> str:
    """A number as people of the language write it: ``12,345.6`` or ``12 345,6``."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "–"
    text = f"{value:,.{digits}f}"
    if language == "en":
        return text
    return text.replace(",", "\u202f").replace(".", ",")


def percent(value: float | None, language: str = "en") -> str:
    return "–" if value is None else number(value * 100, language, 1) + " %"


def chart(
    title: str,
    labels: Sequence[str],
    bars: Sequence[Series],
    lines: Sequence[Series] = (),
    label_format: Callable[[float], str] = number,
    marks: Sequence[Series] = (),
    mark_name: str = "",
    desc: str = "",
    ident: str = "chart",
) -> str:
    """Grouped bars and lines over the same labels (months, channels), with axis and legend.

    Args:
        title: the chart's title, also its accessible name (``<title>``).
        labels: one per group along the x axis.
        bars: series drawn as bars side by side in each group.
        lines: series drawn as lines with dots over the groups (``dashed``: a target, no dots).
        label_format: how the y axis labels are written.
        marks: one per bar series: its target in each group, a short line across that bar.
        mark_name: the legend's name for the marks.
        desc: what the chart shows, in words (``<desc>``, read with the title).
        ident: a prefix for the ids the title and description need (unique in the page).
    """
    values = [v for s in (*bars, *lines, *marks) for v in s.values if v is not None and math.isfinite(v)]
    low = min(0.0, *values) if values else 0.0
    high = max(0.0, *values) if values else 1.0
    if high == low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    keys = [(s.style, s.name, s.dashed) for s in (*bars, *lines)] + ([("mark", mark_name, False)] if marks else [])
    legend, legend_rows = _legend(keys)
    top = TOP + 16 * (legend_rows - 1)
    height = HEIGHT + 16 * (legend_rows - 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - top - BOTTOM

    def y(value: float) -> float:
        return top + plot_h - (value - low) / (high - low) * plot_h

    group = plot_w / max(len(labels), 1)
    described = f' aria-describedby="{escape(ident)}-desc"' if desc else ""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-labelledby="{escape(ident)}-title"{described}><title id="{escape(ident)}-title">{escape(title)}</title>'
    ]
    if desc:
        parts.append(f'<desc id="{escape(ident)}-desc">{escape(desc)}</desc>')
    tick = low
    while tick <= high + step / 2:
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" y2="{y(tick):.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{escape(label_format(tick))}</text>'
        )
        tick += step
    width = group * 0.8 / max(len(bars), 1)
    for index, label in enumerate(labels):
        x0 = LEFT + index * group + group * 0.1
        for number_, series in enumerate(bars):
            value = _at(series, index)
            if value is None:
                continue
            top_, bottom = sorted((y(value), y(0)))
            parts.append(
                f'<rect class="{series.style}" x="{x0 + number_ * width:.1f}" y="{top_:.1f}" width="{width:.1f}" '
                f'height="{max(bottom - top_, 0.5):.1f}"><title>{escape(label)}: {escape(series.name)} '
                f"{escape(label_format(value))}</title></rect>"
            )
        for number_, series in enumerate(marks[: len(bars)]):
            value = _at(series, index)
            if value is None:
                continue
            x = x0 + number_ * width
            parts.append(
                f'<line class="mark" x1="{x - 1:.1f}" x2="{x + width + 1:.1f}" y1="{y(value):.1f}" y2="{y(value):.1f}">'
                f"<title>{escape(label)}: {escape(bars[number_].name)}, {escape(mark_name)} "
                f"{escape(label_format(value))}</title></line>"
            )
        # "tammi 2031": the month on one line, the year below it, so that twelve fit side by side.
        head, _, tail = label.rpartition(" ") if label[-4:].isdigit() and " " in label else (label, "", "")
        limit = max(4, int(group / 6.5))
        for line, text in enumerate(t for t in (head, tail) if t):
            parts.append(
                f'<text class="axis" x="{LEFT + (index + 0.5) * group:.1f}" y="{height - BOTTOM + 16 + 13 * line}" '
                f'text-anchor="middle">{escape(_short(text, limit))}</text>'
            )
    for series in lines:
        points = [(LEFT + (i + 0.5) * group, y(v), v) for i in range(len(labels)) if (v := _at(series, i)) is not None]
        style = f"{series.style} target" if series.dashed else series.style
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{py:.1f}" for x, py, _ in points)
            parts.append(f'<polyline class="{style}" points="{path}"/>')
        for x, py, value in points:
            if series.dashed:  # a short tick, so that a single month's target shows too
                parts.append(
                    f'<line class="{style}" x1="{x - 6:.1f}" x2="{x + 6:.1f}" y1="{py:.1f}" y2="{py:.1f}">'
                    f"<title>{escape(series.name)} {escape(label_format(value))}</title></line>"
                )
                continue
            parts.append(
                f'<circle class="{style}" cx="{x:.1f}" cy="{py:.1f}" r="3"><title>{escape(series.name)} '
                f"{escape(label_format(value))}</title></circle>"
            )
    parts.extend(legend)
    parts.append(f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/></svg>')
    return "".join(parts)


def _at(series: Series, index: int) -> float | None:
    value = series.values[index] if index < len(series.values) else None
    return value if value is not None and math.isfinite(value) else None


def _legend(keys: list[tuple[str, str, bool]]) -> tuple[list[str], int]:
    """The legend's keys, wrapped onto as many rows as they need: (markup, rows)."""
    parts, x, row = [], LEFT, 0
    for style, name, dashed in keys:
        wide = 24 + 8 * min(len(name), 28)
        if x > LEFT and x + wide > WIDTH - RIGHT:
            x, row = LEFT, row + 1
        y = 10 + 16 * row
        if style == "mark" or dashed:
            cls = "mark" if style == "mark" else f"{style} target"
            parts.append(f'<line class="{cls} key" x1="{x}" x2="{x + 12}" y1="{y + 6}" y2="{y + 6}"/>')
        else:
            parts.append(f'<rect class="{style} key" x="{x}" y="{y}" width="12" height="12"/>')
        parts.append(f'<text class="legend" x="{x + 16}" y="{y + 10}">{escape(_short(name, 28))}</text>')
        x += wide
    return parts, row + 1


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _short(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
