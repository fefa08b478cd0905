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
    """One series: its name in the legend, its values (None where there is none), its style class."""

    name: str
    values: Sequence[float | None]
    style: str


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
) -> str:
    """Grouped bars and lines over the same labels (months, channels), with axis and legend.

    Args:
        title: the chart's title, also its accessible name.
        labels: one per group along the x axis.
        bars: series drawn as bars side by side in each group.
        lines: series drawn as lines with dots over the groups.
        label_format: how the y axis labels are written.
    """
    values = [v for s in (*bars, *lines) for v in s.values if v is not None and math.isfinite(v)]
    low = min(0.0, *values) if values else 0.0
    high = max(0.0, *values) if values else 1.0
    if high == low:
        high = low + 1
    step = _nice_step((high - low) / 4)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def y(value: float) -> float:
        return TOP + plot_h - (value - low) / (high - low) * plot_h

    group = plot_w / max(len(labels), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}"><title>{escape(title)}</title>'
    ]
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
            value = series.values[index] if index < len(series.values) else None
            if value is None or not math.isfinite(value):
                continue
            top, bottom = sorted((y(value), y(0)))
            parts.append(
                f'<rect class="{series.style}" x="{x0 + number_ * width:.1f}" y="{top:.1f}" width="{width:.1f}" '
                f'height="{max(bottom - top, 0.5):.1f}"><title>{escape(label)}: {escape(series.name)} '
                f"{escape(label_format(value))}</title></rect>"
            )
        # "tammi 2031": the month on one line, the year below it, so that twelve fit side by side.
        head, _, tail = label.rpartition(" ") if label[-4:].isdigit() and " " in label else (label, "", "")
        limit = max(4, int(group / 6.5))
        for line, text in enumerate(t for t in (head, tail) if t):
            parts.append(
                f'<text class="axis" x="{LEFT + (index + 0.5) * group:.1f}" y="{HEIGHT - BOTTOM + 16 + 13 * line}" '
                f'text-anchor="middle">{escape(_short(text, limit))}</text>'
            )
    for series in lines:
        points = [
            (LEFT + (i + 0.5) * group, y(v))
            for i, v in enumerate(series.values)
            if v is not None and math.isfinite(v) and i < len(labels)
        ]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{py:.1f}" for x, py in points)
            parts.append(f'<polyline class="{series.style}" points="{path}"/>')
        for (x, py), value in zip(points, [v for v in series.values if v is not None and math.isfinite(v)]):
            parts.append(
                f'<circle class="{series.style}" cx="{x:.1f}" cy="{py:.1f}" r="3"><title>{escape(series.name)} '
                f"{escape(label_format(value))}</title></circle>"
            )
    x = LEFT
    for series in (*bars, *lines):
        parts.append(
            f'<rect class="{series.style} key" x="{x}" y="10" width="12" height="12"/>'
            f'<text class="legend" x="{x + 16}" y="20">{escape(_short(series.name, 28))}</text>'
        )
        x += 24 + 8 * min(len(series.name), 28)
    parts.append(f'<line class="zero" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(0):.1f}" y2="{y(0):.1f}"/></svg>')
    return "".join(parts)


def _nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _short(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
