"""What a workbook says about itself: the hidden ``_smm`` sheet (the parameters and every
field's ranges, for the analyser), the document properties, and the number formats by type."""

from __future__ import annotations

import json
from typing import Any

from smm_sheets import __version__
from smm_sheets.blueprint.model import Blueprint, Table
from smm_sheets.blueprint.params import Parameters
from smm_sheets.locale_data import date_format, locale_tag, money_format
from smm_sheets.plan.cells import META_SHEET, Cell, SheetPlan, Style, WorkbookPlan
from smm_sheets.plan.expand import Expanded
from smm_sheets.plan.resolve import a1_range

_TEXT = Style("text")


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
        "header_week": tag + "d mmm",
    }
