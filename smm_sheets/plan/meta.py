"""What a workbook says about itself: the hidden ``_smm`` sheet (the parameters and every
field's ranges, for the analyser), the document properties, and the number formats by type.

Both directions of the ``_smm`` sheet are here: :func:`place_meta` writes it, and
:func:`read_meta_rows` with :func:`decode_parameters` read it back."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from smm_sheets import __version__
from smm_sheets.blueprint.model import Blueprint, Table
from smm_sheets.blueprint.params import Channel, Parameters, make_parameters
from smm_sheets.locale_data import date_format, locale_tag, money_format
from smm_sheets.plan.cells import META_SHEET, Cell, SheetPlan, WorkbookPlan, style
from smm_sheets.plan.expand import Expanded
from smm_sheets.plan.resolve import a1_range

_TEXT = style("text")
MAX_META_BYTES = 100_000  # the parameters value: a workbook's is a few kB
MAX_GOALS, MAX_GOAL_CHARS = 100, 200


def place_meta(plan: WorkbookPlan, x: Expanded) -> None:
    """Add the hidden metadata sheet: key/value rows, then one row per placed field.

    Args:
        plan: the plan, every field placed and its ``rects`` set.
        x: the expanded blueprint it was placed from.
    """
    sheet = SheetPlan(META_SHEET, hidden=True, landscape=False)
    plan.sheets.append(sheet)
    params = x.params
    rows = (
        [
            ("key", "value"),
            ("blueprint_id", x.blueprint.id),
            ("blueprint_version", x.blueprint.version),
            ("generator", "smm-sheets"),
            ("generator_version", __version__),
            ("company", params.company),
            ("year", str(params.year)),
            ("start_month", str(params.start_month)),
            ("currency", params.currency),
            ("language", params.language),
            ("channels", ",".join(c.name for c in params.channels)),
            ("team", ",".join(params.team)),
            ("sample", "yes" if params.sample else "no"),
        ]
        + [(f"option.{key}", value) for key, value in sorted(x.options.items())]
        + [
            # Everything the analyser needs to rebuild this plan, in one value.
            (
                "parameters",
                json.dumps(meta_parameters(params, x.blueprint), ensure_ascii=False, separators=(",", ":")),
            ),
        ]
    )
    for row, (key, value) in enumerate(rows):
        sheet.put(row, 0, Cell("text", _TEXT, key))
        sheet.put(row, 1, Cell("text", _TEXT, value))
    row = len(rows) + 1
    for col, head in enumerate(("item", "kind", "type", "required", "sheet", "ranges")):
        sheet.put(row, col, Cell("text", _TEXT, head))
    for name, placement in plan.items.items():
        row += 1
        item = placement.field
        kind = placement.role
        ranges = " ".join(a1_range(None, *rect, absolute=True) for rect in placement.rects)
        values = (
            name,
            kind,
            item.type,
            "yes" if item.required else "no",
            plan.sheets[placement.sheet].name,
            ranges,
        )
        for col, value in enumerate(values):
            sheet.put(row, col, Cell("text", _TEXT, value))


def meta_parameters(params: Parameters, blueprint: Blueprint) -> dict[str, Any]:
    """The parameters as plain data, with the row counts of tables of blank rows."""
    rows = {
        block.id: block.rows.count
        for sheet in blueprint.sheets
        for block in sheet.blocks
        if isinstance(block, Table) and block.rows.source == "count"
    }
    return {
        "company": params.company,
        "year": params.year,
        "start_month": params.start_month,
        "currency": params.currency,
        "language": params.language,
        "channels": [[c.id, c.name] for c in params.channels],
        "team": list(params.team),
        "goals": list(params.goals),
        "options": dict(params.options),
        "sample": params.sample,
        "rows": rows,
    }


def properties(blueprint: Blueprint) -> dict[str, str]:
    """The workbook's custom document properties: which blueprint and generator made it."""
    return {
        "smm_blueprint_id": blueprint.id,
        "smm_blueprint_version": blueprint.version,
        "smm_generator": "smm-sheets",
        "smm_generator_version": __version__,
    }


def number_formats(params: Parameters) -> dict[str, str]:
    """Number formats by field type (and for month and week headers), tagged with the language."""
    tag = locale_tag(params.language)
    return {
        "money": money_format(params.currency, params.language),
        "number": tag + "#,##0.00",
        "integer": tag + "#,##0",
        "percent": tag + "0.0%",
        "date": date_format(params.language),
        "time": tag + "hh:mm",
        "text": "@",
        "choice": "@",
        "yesno": "@",
        # Month and week headers are dates: the tag shows their names in the language.
        "header_month": tag + "mmm yyyy",
        "header_week": tag + "d",
    }


def read_meta_rows(rows: list[list[Any]]) -> dict[str, str]:
    """The key/value rows of a ``_smm`` sheet read back: first column the key, second the value.

    Args:
        rows: the sheet's cell values, row by row.

    Returns:
        Each key's first value, as text (blank as ``""``).
    """
    meta: dict[str, str] = {}
    for row in rows:
        if len(row) >= 2 and isinstance(row[0], str) and row[0] and row[0] not in meta:
            meta[row[0]] = "" if row[1] is None else str(row[1])
    return meta


def decode_parameters(text: str) -> tuple[Parameters, dict[str, int]]:
    """The ``parameters`` value of a ``_smm`` sheet (see :func:`meta_parameters`) as parameters again.

    Args:
        text: the JSON text.

    Returns:
        The parameters, and the row counts of the tables of blank rows by table id.

    Raises:
        ParameterError: a parameter is not valid.
        ValueError, KeyError, TypeError, AttributeError: the text is not what :func:`meta_parameters` writes.
    """
    if len(text) > MAX_META_BYTES:
        raise ValueError("too long")
    values = json.loads(text)
    if not isinstance(values, dict):
        raise ValueError("not a mapping")
    channels = [Channel(str(i), str(n)) for i, n in values["channels"]]
    params = make_parameters(
        company=values["company"],
        year=values["year"],
        start_month=values["start_month"],
        currency=values["currency"],
        channels=[c.name for c in channels],
        team=values["team"],
        options=values.get("options") or {},
        sample=bool(values.get("sample")),
        language=values.get("language", "en"),
    )
    # Goals are whatever the workbook's goal dropdown offers (a sample goal may be long).
    goals = tuple(values.get("goals") or ())
    rows = values.get("rows") or {}
    if not isinstance(rows, dict) or not all(isinstance(v, int) and not isinstance(v, bool) for v in rows.values()):
        raise ValueError("rows is not a mapping of table ids to row counts")
    if len(goals) > MAX_GOALS or not all(isinstance(goal, str) and len(goal) <= MAX_GOAL_CHARS for goal in goals):
        raise ValueError("goals")
    return dataclasses.replace(params, channels=tuple(channels), goals=goals), {str(k): v for k, v in rows.items()}
