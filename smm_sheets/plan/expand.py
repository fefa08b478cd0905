"""Stage 1 of the plan: the blueprint filled with parameters (texts in the language, months,
lines, list values), and the rows a block is made of."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from smm_sheets.blueprint.model import Blueprint, Rows
from smm_sheets.blueprint.params import Parameters
from smm_sheets.errors import InputError
from smm_sheets.locale_data import month_names


@dataclass
class ExpandedLine:
    """A line of a budget grid: a blueprint line, or one per channel."""

    id: str
    label: str
    category: str
    sample: dict[str, Any]
    # A spare line: blank, its label typed by people (the label here is empty).
    spare: bool = False


@dataclass
class Expanded:
    """The blueprint filled with parameters: texts, months, lines, list values."""

    blueprint: Blueprint
    params: Parameters
    options: dict[str, str]
    labels: dict[str, str]
    placeholders: dict[str, str]
    months: list[str]
    lines: list[ExpandedLine]
    categories: list[tuple[str, str]]
    lists: dict[str, list[str]]
    # Lists of fields: the field's sample values, for samples that pick from them by index.
    field_samples: dict[str, list[str]] = field(default_factory=dict)

    def text(self, key: str) -> str:
        """The label ``key`` in the plan's language, placeholders ({company}, {year}...) filled in."""
        return self.labels[key].format_map(self.placeholders)


def expand(blueprint: Blueprint, params: Parameters) -> Expanded:
    """Fill the blueprint with parameters: labels in the language, months, lines, lists.

    Raises:
        InputError: an option override that the blueprint does not define.
    """
    for key, value in params.options.items():
        option = next((o for o in blueprint.options if o.id == key), None)
        if option is None:
            known = ", ".join(o.id for o in blueprint.options) or "none"
            raise InputError(f"blueprint {blueprint.id} has no option {key!r} (options: {known})")
        if value not in option.choices:
            raise InputError(f"option {key} must be one of {', '.join(option.choices)}, not {value!r}")
    options = blueprint.option_values(params.options)
    labels = blueprint.labels.get(params.language)
    if labels is None:
        offered = ", ".join(blueprint.labels)
        raise InputError(
            f"blueprint {blueprint.id} has no texts in language {params.language!r} (languages: {offered})"
        )
    names = month_names(params.language)
    months = [f"{names[month - 1]} {year}" for year, month in params.months()]
    placeholders = {
        "company": params.company,
        "year": str(params.year),
        "currency": params.currency,
        "first_month": months[0],
        "last_month": months[-1],
        "carry_over": labels.get(f"option.carry_over.{options.get('carry_over')}", options.get("carry_over", "")),
    }
    lines: list[ExpandedLine] = []
    categories = []
    for category in blueprint.categories:
        categories.append((category.id, labels[category.label]))
        if category.lines_from == "channels":
            lines.extend(
                ExpandedLine(f"{category.id}_{channel.id}", channel.name, category.id, category.sample)
                for channel in params.channels
            )
        else:
            lines.extend(ExpandedLine(line.id, labels[line.label], category.id, line.sample) for line in category.lines)
        lines.extend(
            ExpandedLine(spare_line_id(category.id, n), "", category.id, {}, spare=True)
            for n in range(1, category.spare + 1)
        )
    sources = {
        "channels": [c.name for c in params.channels],
        "team": list(params.team),
        "months": months,
        "categories": [text for _, text in categories],
        "goals": list(params.goals),
    }
    # Lists of fields live in those fields' cells, not on the lists sheet.
    lists = {
        item.id: sources[item.source] if item.source else [labels[v] for v in item.values]
        for item in blueprint.lists
        if item.field is None
    }
    fields = blueprint.fields()
    field_samples = {
        item.id: [labels.get(v, v) for v in fields[item.field].sample if isinstance(v, str)]
        for item in blueprint.lists
        if item.field is not None and isinstance(fields[item.field].sample, list)
    }
    return Expanded(blueprint, params, options, labels, placeholders, months, lines, categories, lists, field_samples)


def spare_line_id(category: str, number: int) -> str:
    """The id of a category's spare line ``number`` (from 1): ``services_spare_1``."""
    return f"{category}_spare_{number}"


def block_rows(x: Expanded, rows: Rows, block_id: str) -> Iterator[tuple[dict, str | None, str | None, int, dict]]:
    """The rows of a block (a grid's or a table's ``rows``).

    Args:
        x: the expanded blueprint.
        rows: where the rows come from (lines, categories, months, channels, team, a list, a count).
        block_id: the block's id, the coordinate of a table of blank rows.

    Returns:
        (coordinates, row label, group label, row index, sample values) of each row.
    """
    if rows.source == "lines":
        groups = dict(x.categories)
        picked = [line for line in x.lines if not rows.categories or line.category in rows.categories]
        for i, line in enumerate(picked):
            yield {"line": line.id, "category": line.category}, line.label, groups[line.category], i, line.sample
    elif rows.source == "categories":
        for i, (category_id, text) in enumerate(x.categories):
            yield {"category": category_id}, text, None, i, {}
    elif rows.source == "months":
        for i, text in enumerate(x.months):
            yield {"month": i}, text, None, i, {}
    elif rows.source == "channels":
        for i, channel in enumerate(x.params.channels):
            yield {"channel": channel.id}, channel.name, None, i, {}
    elif rows.source == "team":
        for i, person in enumerate(x.params.team):
            yield {"member": i}, person, None, i, {}
    elif rows.source == "list":
        for i, text in enumerate(x.lists[rows.list]):
            yield {"value": (rows.list, i)}, text, None, i, {}
    elif rows.source == "total":
        yield {}, None, None, 0, {}
    else:
        for i in range(rows.count):
            yield {"row": (block_id, i)}, None, None, i, {}
