"""The blueprint model: plain data, no I/O.

A blueprint declares the sheets of one workbook as blocks (forms, tables, grids) of typed
fields. A field is either an input cell, typed and validated, or a computed cell written as a
formula template over other fields' names (see :mod:`smm_sheets.formula`). Labels (and text
samples) are keys into the blueprint's texts per language, so that the texts are translated
without touching the structure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FIELD_TYPES = ("text", "number", "integer", "money", "percent", "date", "time", "choice", "yesno")
NUMERIC_TYPES = ("number", "integer", "money", "percent")
# What a block's rows run over. "lines" and "categories" come from the blueprint's budget
# lines, "months" from the plan year, "channels" and "team" from the parameters, "total" is one
# row, "count" a number of blank rows to fill in.
ROW_SOURCES = ("lines", "categories", "months", "channels", "team", "total", "count", "list")
GRID_ROW_SOURCES = ("lines", "categories", "total", "channels", "list")
# "goals" are the strategy's goals, handed to the other workbooks when generated together.
LIST_SOURCES = ("channels", "team", "months", "categories", "goals")
HIGHLIGHT_STYLES = ("good", "bad", "warn", "muted", "info")
YEAR_TOTALS = ("sum", "last", "none", "every")
CHART_TYPES = ("column", "bar", "line")
SEVERITIES = ("error", "warning", "info")
# What a table of totals in a blueprint's report runs over.
TOTALS_ROWS = ("months", "lines", "categories", "channels", "channel_months")


@dataclass(frozen=True)
class Formula:
    """A computed cell's template, parsed; possibly chosen by a blueprint option.

    ``cases`` maps an option's value to a parsed template; a plain formula has the single
    case ``""``. ``first`` replaces the template in the first month (where ``@prev`` has no
    month to point at); ``first_cases`` does so by the value of option ``first_option``
    (a first month that takes in an opening balance, or not).
    """

    cases: dict[str, tuple]
    option: str | None = None
    first: tuple | None = None
    first_option: str | None = None
    first_cases: dict[str, tuple] = field(default_factory=dict)

    def tree(self, options: dict[str, str], first_month: bool = False) -> tuple:
        if first_month and self.first_option is not None:
            return self.first_cases[options[self.first_option]]
        if first_month and self.first is not None:
            return self.first
        return self.cases[options[self.option]] if self.option else self.cases[""]

    def first_trees(self) -> list[tuple]:
        """Every first-month template (of any option value)."""
        return list(self.first_cases.values()) if self.first_option is not None else [self.first] if self.first else []


@dataclass(frozen=True)
class Field:
    """A question, a table column or a grid measure: a typed input or a computed cell."""

    id: str
    label: str
    type: str = "text"
    required: bool = False
    min: float | None = None
    max: float | None = None
    list: str | None = None
    hint: str | None = None
    formula: Formula | None = None
    sample: Any = None
    width: float | None = None
    # A number shown without decimals (a count: 5,000 followers), though it takes any number.
    whole: bool = False
    # Grid measures: what the year column shows ("every": an input, the value for every month,
    # which a month's own value overrides; read as {x@every}). Table columns: a total row cell.
    year: str = "sum"
    total: Formula | None = None
    # A label key: an example answer, shown beside the question and used by --sample.
    example: str | None = None
    # Channels (ids) this field does not apply to: their cells are greyed out, not dropped.
    na_for: tuple[str, ...] = ()
    # Reference data: one constant per row (label keys or numbers), written as locked text.
    values: tuple = ()
    # In rows of channels: an input filled in advance from the channel's facts (channel_data).
    default_from: str | None = None

    @property
    def shown_as(self) -> str:
        """The type whose number format the field's cells take."""
        return "integer" if self.whole else self.type


@dataclass(frozen=True)
class Rows:
    """What a table's or grid's rows run over."""

    source: str
    count: int = 0
    categories: tuple[str, ...] = ()
    list: str | None = None


@dataclass(frozen=True)
class Highlight:
    """Conditional formatting: colour ``fields`` (all of a table row if empty) where ``when`` holds."""

    when: Formula
    style: str
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Timeline:
    """One column per week of the plan, filled by conditional formatting from start to end."""

    start: str
    end: str


@dataclass(frozen=True)
class Form:
    """Questions, one per row: a label and an input (or computed) cell beside it."""

    id: str
    title: str | None
    questions: tuple[Field, ...]
    # (option, value): the block is in the workbook only when the option has that value.
    only_with: tuple[str, str] | None = None


@dataclass(frozen=True)
class Table:
    """Columns of fields over rows (``rows``): one row per line, month, channel... or blank rows."""

    id: str
    title: str | None
    rows: Rows
    columns: tuple[Field, ...]
    row_header: str | None = None
    total: str | None = None
    # Names the row header cells, so that formulas can use the row's label.
    row_field: str | None = None
    highlights: tuple[Highlight, ...] = ()
    timeline: Timeline | None = None
    # A label key: a line of help under the title (how to add a row...).
    note: str | None = None
    only_with: tuple[str, str] | None = None


@dataclass(frozen=True)
class Grid:
    """Rows (lines, categories or a total) times the twelve months of the plan."""

    id: str
    title: str | None
    rows: Rows
    measures: tuple[Field, ...]
    highlights: tuple[Highlight, ...] = ()
    # A label key: a line of help under the title (how to add a line...).
    note: str | None = None
    only_with: tuple[str, str] | None = None


Block = Form | Table | Grid


@dataclass(frozen=True)
class Chart:
    """A chart of ``series`` (field ids) on a sheet."""

    id: str
    type: str
    title: str
    series: tuple[str, ...]
    y_axis: str | None = None
    # "channels": one chart per channel, each showing that channel's row of every series.
    per: str | None = None


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its blocks, one under the other, and its charts."""

    id: str
    title: str
    blocks: tuple[Block, ...]
    charts: tuple[Chart, ...] = ()
    subtitle: str | None = None
    # How it prints: True landscape, False portrait, None the generator's choice from its width.
    landscape: bool | None = None
    # What people may do on the protected sheet besides typing in input cells (PROTECTION_ALLOWS),
    # e.g. insert_rows where its tables are made to grow; formula cells stay locked.
    allows: tuple[str, ...] = ()


# Sheet protection options a blueprint may allow (XlsxWriter's names; Excel and LibreOffice know them).
PROTECTION_ALLOWS = ("insert_rows", "delete_rows", "sort", "autofilter", "format_cells")


@dataclass(frozen=True)
class Line:
    """A budget line. ``label`` is a label key, or literal text for lines made from channels."""

    id: str
    label: str
    sample: dict[str, Any] = field(default_factory=dict)
    literal: bool = False


@dataclass(frozen=True)
class Category:
    """A group of budget lines: its own ``lines``, or one per channel (``lines_from``)."""

    id: str
    label: str
    lines: tuple[Line, ...] = ()
    # "channels": one line per chosen channel, each with ``sample``.
    lines_from: str | None = None
    sample: dict[str, Any] = field(default_factory=dict)
    # Spare lines at the end of the category: blank, their label an input, inside its totals,
    # so that people add a line without unprotecting the sheet.
    spare: int = 0


@dataclass(frozen=True)
class ListDef:
    """A dropdown's values: label keys, or one of the parameter-driven LIST_SOURCES."""

    id: str
    values: tuple[str, ...] = ()
    source: str | None = None
    # The values people enter in this field's cells (a dropdown of, say, the goals above).
    field: str | None = None


@dataclass(frozen=True)
class Option:
    """A choice the blueprint offers: one of ``choices``, ``default`` unless one is given."""

    id: str
    choices: tuple[str, ...]
    default: str


@dataclass(frozen=True)
class Measure:
    """A figure the analyser computes: a formula template evaluated over the inputs."""

    id: str
    formula: tuple


@dataclass(frozen=True)
class TotalsTable:
    """Figures per row of ``rows`` (months, lines, categories, channels, or channel_months: a row
    per channel and month, channel by channel): one table of totals."""

    id: str
    rows: str
    columns: tuple[Measure, ...]


@dataclass(frozen=True)
class Check:
    """A finding wherever ``when`` holds in a cell of ``field``; ``message`` may name fields."""

    code: str
    severity: str
    field: str
    when: tuple
    message: str


@dataclass(frozen=True)
class Chain:
    """Formula fields that carry a figure month to month: one broken cell breaks the rest."""

    code: str
    fields: tuple[str, ...]
    message: str


@dataclass(frozen=True)
class ReportSpec:
    """What the analyser reports for a blueprint besides the generic checks."""

    totals: tuple[Measure, ...] = ()
    tables: tuple[TotalsTable, ...] = ()
    checks: tuple[Check, ...] = ()
    chains: tuple[Chain, ...] = ()
    # Values compared across one client's workbooks: fact name -> the field that holds them.
    facts: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Blueprint:
    """One kind of workbook: its sheets, texts, budget lines, options and what the analyser reports."""

    id: str
    version: str
    title: str
    description: str
    sheets: tuple[Sheet, ...]
    # Texts by language, then label key: only the languages with a text for every key.
    labels: dict[str, dict[str, str]]
    lists: tuple[ListDef, ...] = ()
    categories: tuple[Category, ...] = ()
    options: tuple[Option, ...] = ()
    source: str = "<memory>"
    # Facts about well-known channels, by channel id (blueprints/_common.yaml).
    channel_data: dict[str, dict[str, Any]] = field(default_factory=dict)
    report: ReportSpec = ReportSpec()
    # The label keys the blueprint uses (its own and the shared furniture's).
    label_keys: frozenset[str] = frozenset()

    def option_values(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        values = {option.id: option.default for option in self.options}
        values.update(overrides or {})
        return values

    def fields(self) -> dict[str, Field]:
        """Every named field of the blueprint, by id."""
        found: dict[str, Field] = {}
        for sheet in self.sheets:
            for block in sheet.blocks:
                for item in block_fields(block):
                    found[item.id] = item
        return found


def block_placed(block: Block, options: dict[str, str]) -> bool:
    """Is the block in a workbook of these option values (``only_with``)?"""
    return block.only_with is None or options.get(block.only_with[0]) == block.only_with[1]


def block_fields(block: Block) -> tuple[Field, ...]:
    """The fields a block defines, in order."""
    if isinstance(block, Form):
        return block.questions
    if isinstance(block, Table):
        return block.columns
    return block.measures
