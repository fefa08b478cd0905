"""The report's figures: the blueprint's totals and tables computed from the recomputed plan.

The only unit of the analyser that uses pandas: a table of totals is a DataFrame indexed by its
rows' labels. The report and its text form reach the tables through the functions here.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import Blueprint
from smm_sheets.plan import WorkbookPlan

_ROW_NAMES = {"months": "month", "lines": "line", "categories": "category", "channels": "channel"}


def compute_totals(blueprint: Blueprint, plan: WorkbookPlan) -> dict[str, Any]:
    """The blueprint's figures (``report.totals`` and ``report.tables``), from the recomputed plan.

    Args:
        blueprint: the blueprint the workbook was made from.
        plan: the plan recomputed from the file's inputs (it has an evaluator).

    Returns:
        Measure id -> number (None for an error), and table id -> DataFrame indexed by the rows' labels.
    """
    evaluator = plan.evaluator
    totals: dict[str, Any] = {}
    for measure in blueprint.report.totals:
        totals[measure.id] = _number(evaluator.value(measure.formula, {}))
    for table in blueprint.report.tables:
        rows = evaluator.rows(table.rows)
        frame = pd.DataFrame(
            [{m.id: _number(evaluator.value(m.formula, coords)) for m in table.columns} for coords, _ in rows],
            index=pd.Index([label for _, label in rows], name=_ROW_NAMES[table.rows]),
            columns=[m.id for m in table.columns],
        )
        totals[table.id] = frame
    return totals


def _number(value: Any) -> Any:
    """A figure as the report gives it: floats, text as typed, None for errors and blanks."""
    if isinstance(value, fx.ExcelError):
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value if value not in ("",) else None
    return float(value)


def is_table(value: Any) -> bool:
    """Is this figure of a report's totals a table (else a number, text or None)?"""
    return isinstance(value, pd.DataFrame)


def table_records(table: pd.DataFrame) -> list[dict[Any, Any]]:
    """A table's rows as mappings, its row label first (under the index's name).

    Args:
        table: a table of :func:`compute_totals`.

    Returns:
        One dict per row: index name -> label, then column -> figure.
    """
    return table.reset_index().to_dict(orient="records")


def table_rows(table: pd.DataFrame) -> tuple[str, list[str], list[tuple[Any, list[Any]]]]:
    """A table as a text table shows it.

    Args:
        table: a table of :func:`compute_totals`.

    Returns:
        The name of its rows (month, line...), its column names, and (row label, figures) per row.
    """
    return (
        table.index.name or "",
        [str(column) for column in table.columns],
        [(label, row.tolist()) for label, row in table.iterrows()],
    )
