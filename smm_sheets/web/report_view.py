"""The report page's content, made from the report's JSON (as ``analyse --format json`` prints
it): totals and tables with their labels in the page's language, charts, findings by sheet."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from itertools import groupby
from typing import Any

from smm_sheets.blueprint import loader
from smm_sheets.web import charts
from smm_sheets.web.i18n import Texts

MONEY = {"planned", "actual", "variance", "remaining", "surplus", "ad_spend", "revenue"}
PERCENT = {"engagement_rate", "ctr", "completeness"}
RATIO = {"roas"}
ROW_LABELS = ("month", "line", "category", "channel")


@dataclass
class Table:
    name: str
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class ChartView:
    """A picture and its figures as a table (for people who do not see it, and to copy)."""

    svg: str
    title: str
    columns: list[str]
    rows: list[list[str]]


@dataclass
class FileView:
    name: str
    blueprint_id: str
    title: str
    valid: bool
    stats: dict[str, int]
    company: str
    currency: str
    totals: list[tuple[str, str]] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    charts: list[ChartView] = field(default_factory=list)
    findings: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)


@cache
def blueprint_titles() -> dict[str, dict[str, tuple[str, str]]]:
    """Built-in blueprint id -> language -> (title, one-line description)."""
    titles: dict[str, dict[str, tuple[str, str]]] = {}
    for path in loader.builtin_blueprints():
        blueprint = loader.load(path)
        titles[blueprint.id] = {
            language: (labels[blueprint.title], labels[blueprint.description])
            for language, labels in blueprint.labels.items()
        }
    return titles


def label(t: Texts, name: str) -> str:
    return t.get(f"total.{name}", name.replace("_", " "))


def value_text(name: str, value: Any, currency: str, language: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "–" if value is None else str(value)
    if name in PERCENT:
        return charts.percent(value, language)
    if name in RATIO:
        return charts.number(value, language, 2)
    if name in MONEY:
        return f"{charts.number(value, language, 2)} {currency}"
    return charts.number(value, language, 0 if float(value).is_integer() else 2)


def file_view(report: dict[str, Any], t: Texts) -> FileView:
    """One workbook's part of the page."""
    language = t.language
    blueprint_id = report["blueprint"]["id"]
    title = blueprint_titles().get(blueprint_id, {}).get(language, (blueprint_id, ""))[0]
    parameters = report.get("parameters") or {}
    currency = str(parameters.get("currency") or "")
    view = FileView(
        name=report["file"],
        blueprint_id=blueprint_id,
        title=title,
        valid=report["valid"],
        stats=report["stats"],
        company=str(parameters.get("company") or ""),
        currency=currency,
    )
    for name, value in report["totals"].items():
        if isinstance(value, list):
            columns = list(value[0]) if value else []
            view.tables.append(
                Table(
                    name=name,
                    title=label(t, name),
                    columns=[label(t, c) for c in columns],
                    rows=[[value_text(c, row.get(c), currency, language) for c in columns] for row in value],
                )
            )
        else:
            view.totals.append((label(t, name), value_text(name, value, currency, language)))
    view.charts = report_charts(blueprint_id, report["totals"], t, currency, ident=f"chart-{_slug(report['file'])}")
    for sheet, items in groupby(report["findings"], key=lambda f: f.get("sheet") or ""):
        view.findings.append((sheet, list(items)))
    return view


def _column(rows: list[dict[str, Any]], name: str) -> list[float | None]:
    return [row.get(name) if isinstance(row.get(name), (int, float)) else None for row in rows]


def _row_labels(rows: list[dict[str, Any]]) -> list[str]:
    key = next((k for k in ROW_LABELS if rows and k in rows[0]), None)
    return [str(row.get(key, "")) for row in rows] if key else [str(i + 1) for i in range(len(rows))]


def _ratio(top: list[float | None], bottom: list[float | None]) -> list[float | None]:
    return [a / b if a is not None and b else None for a, b in zip(top, bottom)]


STYLES = ("s1", "s2", "s3", "s4", "s5", "s6")


def _slug(text: str) -> str:
    return "".join(ch if ch.isascii() and ch.isalnum() else "-" for ch in text)[:40]


def _groups(rows: list[dict[str, Any]], key: str) -> list[tuple[str, list[dict[str, Any]]]]:
    """Rows grouped by ``key`` (a table over channels and months: by channel), in their order."""
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(str(row.get(key, "")), []).append(row)
    return list(found.items())


def report_charts(
    blueprint_id: str, totals: dict[str, Any], t: Texts, currency: str, ident: str = "chart"
) -> list[ChartView]:
    """The pictures of a workbook's figures: budget by month with the carry-over, posts per
    channel and month against the plan, each channel's KPI rates by month against its targets."""
    language = t.language

    def money(v: float) -> str:
        return charts.number(v, language)

    def pct(v: float) -> str:
        return charts.percent(v, language)

    def table(rows: list[dict[str, Any]], columns: list[str], formats: dict[str, Any]) -> list[list[str]]:
        return [
            [
                formats[c](row[c]) if c in formats and isinstance(row.get(c), (int, float)) else str(row.get(c) or "–")
                for c in columns
            ]
            for row in rows
        ]

    found: list[ChartView] = []
    if blueprint_id == "budget" and totals.get("by_month"):
        rows = totals["by_month"]
        title = t("chart.budget", currency=currency)
        svg = charts.chart(
            title,
            _row_labels(rows),
            [
                charts.Series(label(t, "planned"), _column(rows, "planned"), "s1"),
                charts.Series(label(t, "actual"), _column(rows, "actual"), "s2"),
            ],
            [charts.Series(label(t, "surplus"), _column(rows, "surplus"), "l1")],
            money,
            desc=t("chart.budget.desc"),
            ident=f"{ident}-budget",
        )
        columns = ["month", "planned", "actual", "surplus"]
        found.append(
            ChartView(
                svg, title, [label(t, c) for c in columns], table(rows, columns, dict.fromkeys(columns[1:], money))
            )
        )
    if blueprint_id == "calendar" and totals.get("by_channel_month"):
        rows = totals["by_channel_month"]
        channels = _groups(rows, "channel")
        months = [str(row["month"]) for row in channels[0][1]] if channels else []
        title = t("chart.posts")
        svg = charts.chart(
            title,
            months,
            [
                charts.Series(name, _column(items, "posts"), STYLES[i % len(STYLES)])
                for i, (name, items) in enumerate(channels)
            ],
            label_format=money,
            marks=[charts.Series(name, _column(items, "target"), "mark") for name, items in channels],
            mark_name=label(t, "target"),
            desc=t("chart.posts.desc"),
            ident=f"{ident}-posts",
        )
        columns = ["channel", "month", "posts", "published", "target"]
        found.append(
            ChartView(
                svg, title, [label(t, c) for c in columns], table(rows, columns, dict.fromkeys(columns[2:], money))
            )
        )
    elif blueprint_id == "calendar":  # a report without the table (an older calendar's blueprint)
        for name in ("by_month", "by_channel"):
            rows = totals.get(name) or []
            if rows:
                title = t(f"chart.posts.{name}")
                svg = charts.chart(
                    title,
                    _row_labels(rows),
                    [
                        charts.Series(label(t, "posts"), _column(rows, "posts"), "s1"),
                        charts.Series(label(t, "published"), _column(rows, "published"), "s2"),
                    ],
                    [charts.Series(label(t, "target"), _column(rows, "target"), "l1")],
                    money,
                    ident=f"{ident}-{name}",
                )
                key = "month" if name == "by_month" else "channel"
                columns = [key, "posts", "published", "target"]
                found.append(
                    ChartView(
                        svg,
                        title,
                        [label(t, c) for c in columns],
                        table(rows, columns, dict.fromkeys(columns[1:], money)),
                    )
                )
    if blueprint_id == "kpi-report" and totals.get("by_channel_month"):
        rates = ("engagement_rate", "target_engagement_rate", "ctr", "target_ctr")
        for number, (channel, rows) in enumerate(_groups(totals["by_channel_month"], "channel")):
            if all(row.get(c) is None for row in rows for c in rates):
                continue  # a channel without these KPIs (Mastodon, Bluesky) or not reported at all
            title = t("chart.kpi.channel", channel=channel)
            svg = charts.chart(
                title,
                [str(row["month"]) for row in rows],
                [],
                [
                    charts.Series(label(t, "engagement_rate"), _column(rows, "engagement_rate"), "l1"),
                    charts.Series(
                        label(t, "target_engagement_rate"), _column(rows, "target_engagement_rate"), "l1", True
                    ),
                    charts.Series(label(t, "ctr"), _column(rows, "ctr"), "l2"),
                    charts.Series(label(t, "target_ctr"), _column(rows, "target_ctr"), "l2", True),
                ],
                pct,
                desc=t("chart.kpi.desc"),
                ident=f"{ident}-kpi-{number}",
            )
            columns = ["month", *rates]
            found.append(
                ChartView(svg, title, [label(t, c) for c in columns], table(rows, columns, dict.fromkeys(rates, pct)))
            )
    elif blueprint_id == "kpi-report" and totals.get("by_month"):  # an older KPI report's blueprint: no targets
        rows = totals["by_month"]
        impressions = _column(rows, "impressions")
        title = t("chart.kpi")
        er = _ratio(_column(rows, "engagements"), impressions)
        ctr = _ratio(_column(rows, "link_clicks"), impressions)
        svg = charts.chart(
            title,
            _row_labels(rows),
            [],
            [charts.Series(label(t, "engagement_rate"), er, "l1"), charts.Series(label(t, "ctr"), ctr, "l2")],
            pct,
            ident=f"{ident}-kpi",
        )
        figures = [{"month": m, "engagement_rate": a, "ctr": b} for m, a, b in zip(_row_labels(rows), er, ctr)]
        columns = ["month", "engagement_rate", "ctr"]
        found.append(
            ChartView(
                svg, title, [label(t, c) for c in columns], table(figures, columns, dict.fromkeys(columns[1:], pct))
            )
        )
    return found
