"""Which blueprint and parameters made a workbook: from its hidden ``_smm`` sheet, or, where an
app dropped that sheet, from its sheet names (in any language) and its Lists sheet."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

from smm_sheets.analyser import reader
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Blueprint, Table
from smm_sheets.blueprint.params import Parameters, make_parameters
from smm_sheets.errors import InputError, ParameterError
from smm_sheets.plan import META_SHEET, expand
from smm_sheets.plan.meta import decode_parameters, read_meta_rows

_BUILTIN: dict[str, Blueprint] = {}
_ALL: list[Blueprint] = []  # every built-in blueprint, by file name (once asked for)
# Earlier versions of built-in blueprints whose layout changed: blueprints/previous/<id>-<version>.yaml,
# so that a workbook made with one is read against the blueprint that made it.
PREVIOUS_DIR = loader.BUILTIN_DIR / "previous"
_PREVIOUS: dict[tuple[str, str], Blueprint] = {}


def recognise(data: reader.WorkbookData) -> tuple[Blueprint, Parameters, str]:
    """Which blueprint and parameters made this workbook, and how we know ("metadata" or "structure").

    Raises:
        InputError: one line naming what was expected.
    """
    meta = meta_sheet(data)
    made_with = data.properties.get("smm_blueprint_version") or (meta or {}).get("blueprint_version")
    if meta is not None and "blueprint_id" in meta:
        blueprint = _builtin(meta["blueprint_id"], data, made_with)
        params, rows = _params_from_meta(meta, data)
        try:
            expand(blueprint, params)  # its options and language, checked here with the file named
        except InputError as error:
            raise InputError(f"{data.path}: damaged {META_SHEET} sheet: {error}") from None
        return sized_blueprint(blueprint, rows), params, "metadata"
    blueprint_id = data.properties.get("smm_blueprint_id")
    candidates = [_builtin(blueprint_id, data, made_with)] if blueprint_id else _all_builtin()
    for blueprint in candidates:
        params = _params_from_structure(blueprint, data)
        if params is not None:
            return blueprint, params, "structure"
    expected = "; ".join(f"{bp.id} ({', '.join(bp.labels['en'][s.title] for s in bp.sheets)})" for bp in _all_builtin())
    raise InputError(
        f"{data.path}: not a workbook made by smm-sheets: expected a hidden {META_SHEET} sheet or the sheets of {expected}"
    )


def _builtin(blueprint_id: str, data: reader.WorkbookData, version: str | None = None) -> Blueprint:
    """The built-in blueprint ``blueprint_id``: the version that made the file where it is kept."""
    found = _one_builtin(blueprint_id)
    if found is None:
        known = ", ".join(bp.id for bp in _all_builtin())
        raise InputError(
            f"{data.path}: made from blueprint {blueprint_id!r}, which is not built in (built in: {known})"
        )
    if version and version != found.version:
        key = (blueprint_id, version)
        if key not in _PREVIOUS:
            path = PREVIOUS_DIR / f"{blueprint_id}-{version}.yaml"
            # Not kept (an unknown version): the current one, and a blueprint-version finding.
            _PREVIOUS[key] = loader.load(path) if re.fullmatch(r"[\w.-]+", version) and path.is_file() else found
        return _PREVIOUS[key]
    return found


def _one_builtin(blueprint_id: str) -> Blueprint | None:
    """The built-in blueprint ``blueprint_id``, or None; only its own file is loaded (a file
    names one blueprint: loading all five cost a one-file ``analyse`` about 10 ms)."""
    if blueprint_id not in _BUILTIN:
        path = loader.BUILTIN_DIR / f"{blueprint_id}.yaml"
        if isinstance(blueprint_id, str) and re.fullmatch(r"[a-z][a-z0-9_-]*", blueprint_id) and path.is_file():
            blueprint = loader.load(path)
            if blueprint.id == blueprint_id:
                _BUILTIN[blueprint_id] = blueprint
                return blueprint
        # Not the file of that name: look through them all (an unknown id ends in an error).
        return next((bp for bp in _all_builtin() if bp.id == blueprint_id), None)
    return _BUILTIN[blueprint_id]


def _all_builtin() -> list[Blueprint]:
    """The built-in blueprints, loaded once per process (a portfolio reads thousands of files)."""
    if not _ALL:
        for path in loader.builtin_blueprints():
            blueprint = _BUILTIN.get(path.stem) or loader.load(path)
            _BUILTIN.setdefault(blueprint.id, blueprint)
            _ALL.append(blueprint)
    return list(_ALL)


def meta_sheet(data: reader.WorkbookData) -> dict[str, str] | None:
    """The key/value rows of the hidden ``_smm`` sheet, or None where the file has none."""
    sheet = data.sheets.get(META_SHEET)
    return None if sheet is None else read_meta_rows(sheet.rows)


def _params_from_meta(meta: dict[str, str], data: reader.WorkbookData) -> tuple[Parameters, dict[str, int]]:
    try:
        params, rows = decode_parameters(meta.get("parameters", ""))
    except ParameterError as error:
        raise InputError(f"{data.path}: damaged {META_SHEET} sheet: {error}") from None
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise InputError(f"{data.path}: damaged {META_SHEET} sheet: parameters unreadable ({error})") from None
    # A table is at most as long as the sheets are: the count cannot make work the file has not.
    longest = max((len(sheet.rows) for sheet in data.sheets.values()), default=0)
    return params, {table: min(count, longest) for table, count in rows.items()}


def _params_from_structure(blueprint: Blueprint, data: reader.WorkbookData) -> Parameters | None:
    """Parameters read off the sheets themselves, when an app dropped the metadata."""
    for language, labels in blueprint.labels.items():
        names = [labels.get(sheet.title) for sheet in blueprint.sheets]
        if all(name in data.sheets for name in names):
            break
    else:
        return None
    labels = blueprint.labels[language]
    lists_sheet = data.sheets.get(labels.get("common.lists_sheet", "Lists"))
    # The Lists sheet heads each list with its label (or its id): channels, team, goals.
    heads = {labels.get(f"list.{item.id}", item.id): item.source for item in blueprint.lists if item.source}
    columns: dict[str, list[str]] = {}
    if lists_sheet is not None and lists_sheet.rows:
        for col, head in enumerate(lists_sheet.rows[0]):
            if head in heads:
                columns[heads[head]] = [
                    str(r[col]) for r in lists_sheet.rows[1:] if col < len(r) and r[col] not in (None, "")
                ]
    year, month = _first_month(data)
    try:
        params = make_parameters(
            company=_company(data, names[0]) or "Your company",
            year=year,
            start_month=month,
            channels=columns.get("channels") or None,
            team=columns.get("team") or None,
            goals=columns.get("goals") or None,
            channel_names=loader.load_channel_names(),
        )
    except ParameterError:
        return None
    return dataclasses.replace(params, language=language)


def _first_month(data: reader.WorkbookData) -> tuple[int, int]:
    """The first month header (a date in a grid's header row), else January of this year."""
    for sheet in data.sheets.values():
        for row in sheet.rows[:12]:
            for value in row[:6]:
                if isinstance(value, dt.date):
                    return value.year, value.month
    return dt.date.today().year, 1


def _company(data: reader.WorkbookData, first_sheet: str) -> str | None:
    subtitle = data.sheets[first_sheet].value(1, 0)
    if isinstance(subtitle, str) and " · " in subtitle:
        return subtitle.split(" · ")[0].strip() or None
    return None


def sized_blueprint(blueprint: Blueprint, rows: dict[str, int]) -> Blueprint:
    """The blueprint with its tables of blank rows resized (a calendar of 100,000 posts)."""
    if not rows:
        return blueprint
    sheets = []
    for sheet in blueprint.sheets:
        blocks = []
        for block in sheet.blocks:
            if (
                isinstance(block, Table)
                and block.rows.source == "count"
                and block.id in rows
                and rows[block.id] != block.rows.count
            ):
                count = rows[block.id]
                if not 1 <= count <= 1_000_000:
                    raise InputError(f"table {block.id}: {count} rows is outside 1 to 1,000,000")
                block = dataclasses.replace(block, rows=dataclasses.replace(block.rows, count=count))
            blocks.append(block)
        sheets.append(dataclasses.replace(sheet, blocks=tuple(blocks)))
    return dataclasses.replace(blueprint, sheets=tuple(sheets))
