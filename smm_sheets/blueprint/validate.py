"""The semantics of a blueprint, checked on the model :mod:`smm_sheets.blueprint.reader` made.

Owns what holds across the parts of a blueprint: field ids are unique, formulas, highlights and
report checks name fields and labels that exist, nothing depends on itself, samples fit their
lists and bounds, charts show grid measures, and in every language the sheet names are legal and
distinct, dropdown values distinct and texts that formulas hold safe as criteria. Also which label
keys a blueprint uses (:func:`label_keys`): a built-in blueprint's catalog section holds no others.

Every function takes the blueprint and the file's :class:`~smm_sheets.blueprint.source.SourceLines`
and raises one :class:`~smm_sheets.errors.BlueprintError` with file, line and key path, or returns.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from smm_sheets import formula as fx
from smm_sheets.blueprint.catalogs import BUILTIN_DIR, FURNITURE_LABELS, catalogs
from smm_sheets.blueprint.model import NUMERIC_TYPES, Blueprint, Field, Form, Grid, Table, block_fields
from smm_sheets.blueprint.source import KeyPath, SourceLines, Text, kind_of
from smm_sheets.errors import BlueprintError

# Excel's rules for a sheet name: 1 to 31 characters, none of these (braces: no placeholders).
MAX_SHEET_NAME = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\'{}]")
_FIELDS_KEY = {Form: "questions", Table: "columns", Grid: "measures"}  # where a block's fields are written


def validate(blueprint: Blueprint, where: SourceLines) -> frozenset[str]:
    """Check everything about a blueprint that its shape does not show.

    A built-in blueprint (its file in :data:`~smm_sheets.blueprint.catalogs.BUILTIN_DIR`) must
    also use every text of its catalog section.

    Args:
        blueprint: as :func:`smm_sheets.blueprint.reader.read` made it (texts may be
            :class:`~smm_sheets.blueprint.source.Text`, which name their catalog in errors).
        where: the blueprint file's name and lines.

    Returns:
        The label keys the blueprint uses that have an English text (its ``label_keys``).

    Raises:
        BlueprintError: the first mistake found, with file, line and key path.
    """
    check_fields(blueprint, where)
    in_formulas = formula_labels(blueprint)
    for language, labels in blueprint.labels.items():
        check_texts(blueprint, language, labels, in_formulas, where)
    used = label_keys(blueprint)
    if Path(blueprint.source).resolve().parent == BUILTIN_DIR.resolve():
        check_catalog_section(blueprint.id, used)
    return frozenset(used & set(blueprint.labels["en"]))


def check_fields(blueprint: Blueprint, where: SourceLines) -> None:
    """Ids are unique, formulas name fields that exist, options match, nothing depends on itself.

    Also runs :func:`check_highlights_and_lists` and :func:`check_report`, which need the names
    formulas may use.

    Raises:
        BlueprintError: the first mistake, at its key path.
    """
    labels = blueprint.labels["en"]
    paths: dict[str, KeyPath] = {}
    grid_fields: set[str] = set()
    ids: list[tuple[str, KeyPath]] = []
    for s, sheet in enumerate(blueprint.sheets):
        for b, block in enumerate(sheet.blocks):
            key = _FIELDS_KEY[type(block)]
            for f, item in enumerate(block_fields(block)):
                path = ("sheets", s, "blocks", b, key, f)
                ids.append((item.id, path + ("id",)))
                paths[item.id] = path
                if isinstance(block, Grid):
                    grid_fields.add(item.id)
                    if item.year == "every" and item.formula is not None:
                        where.fail(path + ("year",), "year: every is for inputs (a value for every month)")
                if isinstance(block, Table) and block.total is not None:
                    paths[f"{item.id}.total"] = path + ("total",)
            if isinstance(block, Table) and block.row_field:
                ids.append((block.row_field, ("sheets", s, "blocks", b, "row_field")))
    seen: set[str] = set()
    for item_id, path in ids:
        if item_id in seen:
            where.fail(path, f"duplicate field id {item_id!r}")
        seen.add(item_id)
    # Names formulas may use besides fields: row labels, and the first day of each month.
    known = set(paths) | {item_id for item_id, _ in ids}
    if grid_fields:
        known.add("month_start")
    check_highlights_and_lists(blueprint, known, where)
    check_report(blueprint, known, where)
    options = {o.id: o for o in blueprint.options}
    for s, sheet in enumerate(blueprint.sheets):
        for b, block in enumerate(sheet.blocks):
            if block.only_with is not None:
                option, value = block.only_with
                if option not in options:
                    where.fail(("sheets", s, "blocks", b, "only_with"), f"no option {option!r}")
                if value not in options[option].choices:
                    where.fail(
                        ("sheets", s, "blocks", b, "only_with", option),
                        f"option {option} is one of {', '.join(options[option].choices)}, not {value!r}",
                    )
    fields = blueprint.fields()
    graph: dict[str, set[str]] = {}
    for name, path in paths.items():
        item = fields[name.removesuffix(".total")]
        formula = item.total if name.endswith(".total") else item.formula
        if name.endswith(".total") and formula is None and item.type in NUMERIC_TYPES:
            graph[name] = {item.id}  # the default total sums the column
        if formula is None:
            continue
        if formula.option is not None:
            if formula.option not in options:
                where.fail(path + ("formula_by",), f"no option {formula.option!r}")
            wanted = set(options[formula.option].choices)
            if set(formula.cases) != wanted:
                where.fail(path + ("formula",), f"give one formula for each of {', '.join(sorted(wanted))}")
        if formula.first_option is not None:
            if formula.first_option not in options:
                where.fail(path + ("first_by",), f"no option {formula.first_option!r}")
            wanted = set(options[formula.first_option].choices)
            if set(formula.first_cases) != wanted:
                where.fail(path + ("first",), f"give one first-month formula for each of {', '.join(sorted(wanted))}")
        trees = list(formula.cases.values()) + formula.first_trees()
        graph[name] = set()
        for tree in trees:
            for ref, modifier in fx.references(tree):
                if modifier == "label":
                    if ref not in labels:
                        where.fail(path + ("formula",), f"{{label:{ref}}}: no label {ref!r} in labels")
                    continue
                if ref not in known:
                    where.fail(path + ("formula",), f"{{{ref}}} names no field of this blueprint")
                if modifier in ("prev", "last", "every") and ref not in grid_fields:
                    where.fail(path + ("formula",), f"{{{ref}@{modifier}}}: only grid measures have months")
                if modifier == "prev" and name not in grid_fields:
                    where.fail(path + ("formula",), "@prev is for grid measures, month to month")
                if modifier == "prev" and not formula.first_trees():
                    where.fail(path, "a formula with @prev needs first: the formula of the first month")
                if modifier != "prev":
                    graph[name].add(ref)
    cycle = find_cycle(graph)
    if cycle:
        where.fail(paths[cycle[0]] + ("formula",), "circular reference: " + " -> ".join(cycle))
    for s, sheet in enumerate(blueprint.sheets):
        for c, chart in enumerate(sheet.charts):
            for i, series in enumerate(chart.series):
                if series not in grid_fields:
                    where.fail(("sheets", s, "charts", c, "series", i), f"{series!r} is not a grid measure")


def check_highlights_and_lists(blueprint: Blueprint, known: set[str], where: SourceLines) -> None:
    """Highlights, list fields, samples and charts name what exists and fit their bounds.

    Args:
        blueprint: the blueprint.
        known: the names formulas may use (fields, row labels, ``month_start``).
        where: the file's name and lines.

    Raises:
        BlueprintError: the first mistake, at its key path.
    """
    labels = blueprint.labels["en"]
    for s, sheet in enumerate(blueprint.sheets):
        for b, block in enumerate(sheet.blocks):
            own = {f.id for f in block_fields(block)}
            for h, highlight in enumerate(getattr(block, "highlights", ())):
                path = ("sheets", s, "blocks", b, "highlights", h)
                _check_refs(highlight.when.cases[""], known, labels, path + ("when",), where)
                for f, name in enumerate(highlight.fields):
                    if name not in own:
                        where.fail(path + ("fields", f), f"{name!r} is not a field of this block")
                if isinstance(block, Grid) and not highlight.fields:
                    where.fail(path, "a grid's highlight names the fields it colours")
    fields = blueprint.fields()
    for i, item in enumerate(blueprint.lists):
        if item.field is not None and item.field not in fields:
            where.fail(("lists", i, "field"), f"no field {item.field!r}")
    # A sample that names a value of a fixed list (by its label key) must name one that is there.
    fixed = {l.id: list(l.values) for l in blueprint.lists if l.values}
    for s, sheet in enumerate(blueprint.sheets):
        for b, block in enumerate(sheet.blocks):
            key = _FIELDS_KEY[type(block)]
            for f, item in enumerate(block_fields(block)):
                values = fixed.get(item.list) if item.type in ("choice", "yesno") else None
                path = ("sheets", s, "blocks", b, key, f, "sample")
                for sample_path, sample in _samples(item.sample, path):
                    if values is not None and isinstance(sample, str) and sample not in values:
                        where.fail(
                            sample_path, f"{sample!r} is not a value of the list {item.list} ({', '.join(values)})"
                        )
                    if item.type == "text" and isinstance(sample, str):
                        # A text sample is a label key: it is translated.
                        if not sample.strip():
                            where.fail(sample_path, f"must be non-empty text, not {kind_of(sample)}")
                        if sample not in labels:
                            where.fail(sample_path, f"no label {sample!r} in labels")
                    if values is not None and isinstance(sample, int) and not 0 <= sample < len(values):
                        where.fail(
                            sample_path, f"index {sample} is outside the list {item.list} (0 to {len(values) - 1})"
                        )
                    number = (
                        isinstance(sample, (int, float)) and not isinstance(sample, bool) and item.type in NUMERIC_TYPES
                    )
                    if number and (
                        (item.min is not None and sample < item.min) or (item.max is not None and sample > item.max)
                    ):
                        where.fail(sample_path, f"{sample} is outside {_bounds(item)}")
    # Budget lines carry samples by measure id: they must name a measure and respect its bounds.
    for c, category in enumerate(blueprint.categories):
        owners = [(("categories", c, "sample"), category.sample)] + [
            (("categories", c, "lines", l, "sample"), line.sample) for l, line in enumerate(category.lines)
        ]
        for path, samples in owners:
            for name, sample in samples.items():
                item = fields.get(name)
                if item is None:
                    where.fail(path + (name,), f"{name!r} is not a field of this blueprint")
                for sample_path, value in _samples(sample, path + (name,)):
                    if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
                        where.fail(sample_path, f"{value:g} is outside {_bounds(item)}")
    # Chart texts are written as chart titles and names: blueprint text only, never the company.
    grids = {
        m.id: block
        for sheet in blueprint.sheets
        for block in sheet.blocks
        if isinstance(block, Grid)
        for m in block.measures
    }
    for s, sheet in enumerate(blueprint.sheets):
        for c, chart in enumerate(sheet.charts):
            path = ("sheets", s, "charts", c)
            texts = [chart.title, chart.y_axis] + [fields[name].label for name in chart.series if name in fields]
            if any("{company}" in labels[key] for key in texts if key):
                where.fail(path, "chart titles and series names cannot use {company}")
            for i, name in enumerate(chart.series):
                if chart.per == "channels" and name in grids and grids[name].rows.source != "channels":
                    where.fail(
                        path + ("series", i),
                        f"per: channels needs measures of a grid over channels; {name!r} is not",
                    )


def check_report(blueprint: Blueprint, known: set[str], where: SourceLines) -> None:
    """The report's totals, checks, facts and chains name fields (and labels) that exist.

    Args:
        blueprint: the blueprint.
        known: the names formulas may use (fields, row labels, ``month_start``).
        where: the file's name and lines.

    Raises:
        BlueprintError: the first mistake, at its key path.
    """
    labels = blueprint.labels["en"]
    report = blueprint.report
    fields = blueprint.fields()
    for measure in report.totals:
        _check_refs(measure.formula, known, labels, ("report", "totals", measure.id), where)
    for table in report.tables:
        for measure in table.columns:
            _check_refs(measure.formula, known, labels, ("report", "tables", table.id, "columns", measure.id), where)
    for i, check in enumerate(report.checks):
        path = ("report", "checks", i)
        if check.field not in fields:
            where.fail(path + ("field",), f"{check.field!r} names no field of this blueprint")
        _check_refs(check.when, known, labels, path + ("when",), where)
        for name in re.findall(r"\{(\w+)\}", check.message):
            if name not in known:
                where.fail(path + ("message",), f"{{{name}}} names no field of this blueprint")
    for fact, name in report.facts.items():
        if name not in fields:
            where.fail(("report", "facts", fact), f"{name!r} names no field of this blueprint")
    for i, chain in enumerate(report.chains):
        for j, name in enumerate(chain.fields):
            if name not in fields or fields[name].formula is None:
                where.fail(("report", "chains", i, "fields", j), f"{name!r} is not a formula field of this blueprint")


def check_texts(
    blueprint: Blueprint, language: str, labels: Mapping[str, str], in_formulas: set[str], where: SourceLines
) -> None:
    """What must hold in every language: legal, distinct sheet names and dropdown values.

    Args:
        blueprint: the blueprint.
        language: the language of ``labels``.
        labels: that language's texts, by label key; a :class:`~smm_sheets.blueprint.source.Text`
            names its own file and line in the error.
        in_formulas: the label keys formulas hold as text (:func:`formula_labels`).
        where: the blueprint file's name and lines, for texts that are not :class:`Text`.

    Raises:
        BlueprintError: the first text that breaks a rule.
    """

    def fail(key: str, message: str) -> None:
        text = labels[key]
        if isinstance(text, Text):
            raise BlueprintError(text.source, text.path, message, text.line)
        where.fail(("labels", language, key), message)

    # Sheet names are the titles' texts: legal, unique (as spreadsheet apps compare them)
    # and not the names smm-sheets uses itself.
    lists_sheet = labels["common.lists_sheet"]
    for key in ["common.lists_sheet"] + [sheet.title for sheet in blueprint.sheets]:
        name = labels[key]
        if len(name) > MAX_SHEET_NAME or _SHEET_NAME_BAD.search(name) or name != name.strip():
            fail(
                key,
                f"a sheet name is at most {MAX_SHEET_NAME} characters without []:*?/\\'{{}} or spaces at its ends, not {name!r}",
            )
    seen: set[str] = {"_smm", lists_sheet.casefold()}
    for sheet in blueprint.sheets:
        name = labels[sheet.title]
        if name.casefold() in seen:
            fail(sheet.title, f"sheet name {name!r} is taken")
        seen.add(name.casefold())
    # Dropdown values are distinct; texts that formulas hold ({label:...}) may be COUNTIF
    # criteria, which would read them as patterns.
    for item in blueprint.lists:
        shown: set[str] = set()
        for key in item.values:
            if labels[key].casefold() in shown:
                fail(key, f"{labels[key]!r} is twice in the list {item.id}")
            shown.add(labels[key].casefold())
    for key in sorted(in_formulas):
        value = labels[key]
        if re.search(r"[*?~]", value) or value[:1] in "=<>":
            fail(
                key,
                f"a text that formulas use cannot hold * ? ~ or start with = < > (criteria read them as patterns): {value!r}",
            )


def check_catalog_section(bp_id: str, used: set[str]) -> None:
    """A built-in blueprint's catalog section holds only what it uses (a user's copy may leave out some of it).

    Args:
        bp_id: the blueprint's id, its catalog section.
        used: the label keys it uses (:func:`label_keys`).

    Raises:
        BlueprintError: an unused key, at its line in ``en.yaml``.
    """
    for key, text in catalogs()["en"].get(bp_id, {}).items():
        if key not in used:
            raise BlueprintError(text.source, text.path, f"label {key!r} is not used by blueprint {bp_id}", text.line)


def label_keys(blueprint: Blueprint) -> set[str]:
    """Every label key the blueprint uses: its texts, the furniture's, options, lists, samples, formulas.

    Args:
        blueprint: the blueprint.

    Returns:
        The label keys, whether or not they have a text.
    """
    keys = set(FURNITURE_LABELS)
    keys.update((blueprint.title, blueprint.description))
    for option in blueprint.options:
        keys.update(f"option.{option.id}.{choice}" for choice in option.choices)
    for item in blueprint.lists:
        keys.update(item.values)
        if item.field is None:
            keys.add(f"list.{item.id}")  # heads the list's column on the lists sheet
    for category in blueprint.categories:
        keys.add(category.label)
        keys.update(line.label for line in category.lines)
    for sheet in blueprint.sheets:
        keys.update((sheet.title, sheet.subtitle))
        for chart in sheet.charts:
            keys.update((chart.title, chart.y_axis))
        for block in sheet.blocks:
            keys.update((block.title, getattr(block, "note", None)))
            if isinstance(block, Table):
                keys.update((block.row_header, block.total))
            for item in block_fields(block):
                keys.update((item.label, item.hint, item.example))
                if item.type == "text":
                    keys.update(item.values)  # a text column's values are label keys
                    keys.update(sample for _, sample in _samples(item.sample, ()) if isinstance(sample, str))
    keys.update(formula_labels(blueprint))
    keys.discard(None)
    return keys


def formula_labels(blueprint: Blueprint) -> set[str]:
    """The label keys that formulas hold as text (``{label:status.done}``).

    Args:
        blueprint: the blueprint.

    Returns:
        The label keys named in fields' formulas and totals, highlights and the report's figures and checks.
    """
    return {ref for tree in _label_trees(blueprint) for ref, modifier in fx.references(tree) if modifier == "label"}


def _label_trees(blueprint: Blueprint) -> Iterator[tuple]:
    """The formulas whose labels the checks read: those :func:`check_fields` and :func:`check_report` check."""
    for sheet in blueprint.sheets:
        for block in sheet.blocks:
            for item in block_fields(block):
                formulas = [item.formula]
                if isinstance(block, Table) and block.total is not None:
                    formulas.append(item.total)  # a column's total is only written under a total row
                for formula in formulas:
                    if formula is not None:
                        yield from formula.cases.values()
                        yield from formula.first_trees()
            for highlight in getattr(block, "highlights", ()):
                yield highlight.when.cases[""]
    report = blueprint.report
    yield from (measure.formula for measure in report.totals)
    yield from (measure.formula for table in report.tables for measure in table.columns)
    yield from (check.when for check in report.checks)


def _check_refs(tree: tuple, known: set[str], labels: Mapping[str, str], path: KeyPath, where: SourceLines) -> None:
    """A formula names only known names and labels that have a text."""
    for ref, modifier in fx.references(tree):
        if modifier == "label":
            if ref not in labels:
                where.fail(path, f"{{label:{ref}}}: no label {ref!r} in labels")
        elif ref not in known:
            where.fail(path, f"{{{ref}}} names no field of this blueprint")


def _samples(sample: Any, path: KeyPath) -> list[tuple[KeyPath, Any]]:
    """Every single sample value of a field with its key path."""
    if isinstance(sample, dict):
        return [found for key, value in sample.items() for found in _samples(value, path + (key,))]
    if isinstance(sample, list):
        return [(path + (i,), value) for i, value in enumerate(sample) if value is not None]
    return [] if sample is None else [(path, sample)]


def _bounds(item: Field) -> str:
    low = "…" if item.min is None else f"{item.min:g}"
    high = "…" if item.max is None else f"{item.max:g}"
    return f"{low} to {high}"


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle in a dependency graph, found in name order.

    Args:
        graph: each name's set of names it depends on.

    Returns:
        The names around the first cycle, the first repeated at the end, or None.
    """
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None
