"""The report's figures: the blueprint's totals and tables computed from the recomputed plan.

The only unit of the analyser that uses pandas: a table of totals is a DataFrame indexed by its
rows' labels. The report and its text form reach the tables through the functions here. pandas is
imported when a table is first asked for as a DataFrame (it takes longer to import than a whole
analysis takes): the command line's text and JSON reports read the computed rows directly.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, NamedTuple

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.plan import WorkbookPlan

if TYPE_CHECKING:
    import pandas as pd

_ROW_NAMES: dict[str, str | tuple[str, ...]] = {
    "months": "month",
    "lines": "line",
    "categories": "category",
    "channels": "channel",
    "channel_months": ("channel", "month"),  # a row per channel and month: two labels
}


class Table(NamedTuple):
    """A table of totals as computed: the name of its rows, their labels, the columns, a list of figures per row.

    A table over channels and months has two names, ``("channel", "month")``, and a pair of labels a row.
    """

    rows_name: str | tuple[str, ...]
    labels: list[Any]
    columns: list[str]
    rows: list[list[Any]]

    def frame(self) -> pd.DataFrame:
        """The table as a DataFrame indexed by the rows' labels."""
        import pandas as pd

        if isinstance(self.rows_name, tuple):
            index = pd.MultiIndex.from_tuples(self.labels, names=list(self.rows_name))
        else:
            index = pd.Index(self.labels, name=self.rows_name)
        return pd.DataFrame([dict(zip(self.columns, row)) for row in self.rows], index=index, columns=self.columns)


class Totals(dict):
    """Figures by name: a table is a DataFrame when it is read through the mapping (made then, once)."""

    def __getitem__(self, key: str) -> Any:
        value = dict.__getitem__(self, key)
        if isinstance(value, Table):
            value = value.frame()
            dict.__setitem__(self, key, value)
        return value

    def __iter__(self) -> Any:
        # Defined here so that dict(totals) and {**totals} read through __getitem__ too.
        return dict.__iter__(self)

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key in self else default

    def values(self) -> list[Any]:  # type: ignore[override]
        return [self[key] for key in self]

    def items(self) -> list[tuple[str, Any]]:  # type: ignore[override]
        return [(key, self[key]) for key in self]

    def __reduce__(self) -> tuple:
        return (Totals, (dict(dict.items(self)),))


def figures(totals: dict[str, Any]) -> list[tuple[str, Any]]:
    """(name, figure) of a report's totals, tables as computed (a :class:`Table`) or as DataFrames
    if already made: for :func:`is_table`, :func:`table_records` and :func:`table_rows`."""
    return list(dict.items(totals))


def compute_totals(blueprint: Blueprint, plan: WorkbookPlan) -> Totals:
    """The blueprint's figures (``report.totals`` and ``report.tables``), from the recomputed plan.

    Args:
        blueprint: the blueprint the workbook was made from.
        plan: the plan recomputed from the file's inputs (it has an evaluator).

    Returns:
        Measure id -> number (None for an error), and table id -> DataFrame indexed by the rows' labels.
    """
    evaluator = plan.evaluator
    totals = Totals()
    for measure in blueprint.report.totals:
        totals[measure.id] = _number(evaluator.value(measure.formula, {}))
    for table in blueprint.report.tables:
        rows = _rows(evaluator, table.rows)
        totals[table.id] = Table(
            _ROW_NAMES[table.rows],
            [label for _, label in rows],
            [m.id for m in table.columns],
            [[_number(evaluator.value(m.formula, coords)) for m in table.columns] for coords, _ in rows],
        )
    return totals


def _rows(evaluator: Any, source: str) -> list[tuple[dict, Any]]:
    """(coordinates, label) of each row of a table; channel_months: every channel's months, a pair of labels each."""
    if source != "channel_months":
        return evaluator.rows(source)
    months = evaluator.rows("months")
    return [
        ({**channel, **month}, (channel_label, month_label))
        for channel, channel_label in evaluator.rows("channels")
        for month, month_label in months
    ]


def _number(value: Any) -> Any:
    """A figure as the report gives it: floats, text as typed, None for errors and blanks."""
    if isinstance(value, fx.ExcelError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if value not in ("",) else None
    return float(value)


def is_table(value: Any) -> bool:
    """Is this figure of a report's totals a table (else a number, text or None)?"""
    if isinstance(value, Table):
        return True
    pandas = sys.modules.get("pandas")  # a DataFrame exists only if pandas was imported
    return pandas is not None and isinstance(value, pandas.DataFrame)


def table_records(table: Table | pd.DataFrame) -> list[dict[Any, Any]]:
    """A table's rows as mappings, its row label first (under the index's name).

    Args:
        table: a table of :func:`compute_totals`.

    Returns:
        One dict per row: index name -> label, then column -> figure.
    """
    if isinstance(table, Table):
        names = table.rows_name if isinstance(table.rows_name, tuple) else (table.rows_name,)
        return [
            {**dict(zip(names, label if len(names) > 1 else (label,))), **dict(zip(table.columns, row))}
            for label, row in zip(table.labels, table.rows)
        ]
    return table.reset_index().to_dict(orient="records")


def table_rows(table: Table | pd.DataFrame) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    """A table as a text table shows it.

    Args:
        table: a table of :func:`compute_totals`.

    Returns:
        The name of its rows (month, line...), its column names, and (row label, figures) per row.
        A table over channels and months: rows named ``channel, month``, labels ``Instagram · Jan 2031``.
    """
    if isinstance(table, Table):
        name = ", ".join(table.rows_name) if isinstance(table.rows_name, tuple) else table.rows_name
        labels = [" · ".join(map(str, label)) if isinstance(label, tuple) else label for label in table.labels]
        return (name, list(table.columns), [(label, list(row)) for label, row in zip(labels, table.rows)])
    names = [n for n in table.index.names if n]
    return (
        ", ".join(names),
        [str(column) for column in table.columns],
        [
            (" · ".join(map(str, label)) if isinstance(label, tuple) else label, row.tolist())
            for label, row in table.iterrows()
        ],
    )
