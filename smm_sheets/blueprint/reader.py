"""The shape of a blueprint: YAML data into the model's dataclasses, strictly.

Owns what a blueprint file may say where: the allowed keys, the types of their values, ids,
choices, formulas that parse, and label keys that name a text (the texts are read first: the
catalogs' sections, then the file's own ``labels:``). Every mistake is one
:class:`~smm_sheets.errors.BlueprintError` with the file, the line and the key path.

What needs the whole model (references between fields, cycles, report checks, the texts in
every language) is :mod:`smm_sheets.blueprint.validate`'s, run on what :func:`read` returns.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any, NoReturn

from smm_sheets import formula as fx
from smm_sheets.blueprint.catalogs import COMMON_SECTION, LABEL_KEY, catalogs, channel_data, placeholders, text_problem
from smm_sheets.blueprint.model import (
    CHART_TYPES,
    FIELD_TYPES,
    GRID_ROW_SOURCES,
    HIGHLIGHT_STYLES,
    LIST_SOURCES,
    NUMERIC_TYPES,
    PROTECTION_ALLOWS,
    ROW_SOURCES,
    SEVERITIES,
    TOTALS_ROWS,
    YEAR_TOTALS,
    Blueprint,
    Category,
    Chain,
    Chart,
    Check,
    Field,
    Form,
    Formula,
    Grid,
    Highlight,
    Line,
    ListDef,
    Measure,
    Option,
    ReportSpec,
    Rows,
    Sheet,
    Table,
    Timeline,
    TotalsTable,
)
from smm_sheets.blueprint.source import KeyPath, SourceLines, Text, dotted, kind_of
from smm_sheets.locale_data import LANGUAGES

MAX_TIMELINE_ROWS = 2_000
MAX_SPARE_LINES = 20
MAX_COUNT_ROWS = 200_000  # blank rows of a table: a 100,000-post calendar takes a minute to write
_ID = re.compile(r"^[a-z][a-z0-9_]*$")


def read(data: Any, where: SourceLines) -> Blueprint:
    """Read a blueprint's YAML data into the model, checking its shape only.

    Args:
        data: the parsed YAML (:func:`smm_sheets.blueprint.source.parse_yaml`).
        where: the file's name and lines, for error messages.

    Returns:
        The blueprint, not yet validated: its ``labels`` hold :class:`~smm_sheets.blueprint.source.Text`
        (texts that know their file and line) and its ``label_keys`` are empty.

    Raises:
        BlueprintError: the first mistake of shape, with file, line and key path.
    """
    shapes = _Shapes(where)
    top = shapes.mapping(
        data,
        (),
        ("id", "version", "title", "sheets"),
        ("description", "options", "lists", "categories", "labels", "report"),
    )
    bp_id = shapes.text(top["id"], ("id",))
    if not re.fullmatch(r"[a-z][a-z0-9-]*", bp_id):
        where.fail(("id",), f"must be lower-case letters, digits and -, not {bp_id!r}")
    version = top["version"]
    if isinstance(version, bool) or not isinstance(version, (str, int, float)):
        where.fail(("version",), f'must be a version such as "1.0", not {kind_of(version)}')
    languages = _read_labels(shapes, top.get("labels"), bp_id)
    reader = _Reader(where, languages["en"])
    options = reader.read_options(top.get("options", {}))
    lists = reader.read_lists(top.get("lists", []))
    categories = reader.read_categories(top.get("categories", []))
    sheets_data = reader.sequence(top["sheets"], ("sheets",))
    sheets = tuple(reader.read_sheet(sheet, ("sheets", i), lists, categories) for i, sheet in enumerate(sheets_data))
    reader.unique([(s.id, ("sheets", i, "id")) for i, s in enumerate(sheets)], "sheet")
    return Blueprint(
        id=bp_id,
        version=str(version),
        title=reader.label(top["title"], ("title",)),
        description=reader.label(top["description"], ("description",)) if "description" in top else top["title"],
        sheets=sheets,
        labels=languages,
        lists=lists,
        categories=categories,
        options=options,
        source=where.source,
        channel_data=channel_data(),
        report=reader.read_report(top.get("report", {})),
    )


def _read_labels(shapes: _Shapes, data: Any, bp_id: str) -> dict[str, dict[str, str]]:
    """The texts of every language: the catalogs' _common and ``bp_id`` sections, then inline labels.

    Args:
        shapes: the reader of shapes, for mistakes in the inline labels.
        data: the blueprint's ``labels:`` (None when it has none).
        bp_id: the blueprint's id, its section in the catalogs.

    Returns:
        ``{language: {label key: text}}`` for the languages offered: those with a text for
        every key English has.

    Raises:
        BlueprintError: a malformed inline label, no English texts, placeholders unlike English's.
    """
    where = shapes.where
    inline: dict[str, dict[str, str]] = {}
    if data is not None:
        table = shapes.mapping(data, ("labels",), (), LANGUAGES)
        for language, texts in table.items():
            texts = shapes.mapping(texts, ("labels", language), (), tuple(texts) if isinstance(texts, dict) else ())
            inline[language] = {}
            for key, text in texts.items():
                path = ("labels", language, key)
                if not LABEL_KEY.match(key):
                    where.fail(path, "a label key is lower-case letters, digits, _ and .")
                problem = text_problem(text)
                if problem:
                    where.fail(path, problem)
                inline[language][key] = Text(text, where.source, dotted(path), where.lines.get(path))
    tables = catalogs()
    if "en" not in inline and bp_id not in tables["en"]:
        where.fail(
            ("labels",) if data is not None else (),
            f"no English texts: give labels: {{en: ...}} (the catalogs have no section {bp_id!r})",
        )
    languages = {
        language: {
            **(tables[language][COMMON_SECTION] if language in tables else {}),
            **tables.get(language, {}).get(bp_id, {}),
            **inline.get(language, {}),
        }
        for language in LANGUAGES
    }
    english = languages["en"]
    for language, texts in inline.items():
        for key, text in texts.items():
            if key in english and placeholders(text) != placeholders(english[key]):
                shown = ", ".join("{" + p + "}" for p in sorted(placeholders(english[key]))) or "none"
                where.fail(("labels", language, key), f"placeholders differ from the English text's ({shown})")
    return {language: texts for language, texts in languages.items() if english.keys() <= texts.keys()}


class _Shapes:
    """Checks of one value's shape at a key path: raise with file, line and path, or return it."""

    def __init__(self, where: SourceLines):
        self.where = where

    def fail(self, path: KeyPath, message: str) -> NoReturn:
        self.where.fail(path, message)

    def mapping(self, data: Any, path: KeyPath, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(data, dict):
            self.fail(path, f"must be a mapping, not {kind_of(data)}")
        for key in data:
            if key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                self.fail(path + (key,), f"unknown key (allowed: {allowed})")
        for key in required:
            if key not in data:
                self.fail(path, f"missing key {key!r}")
        return data

    def sequence(self, data: Any, path: KeyPath, allow_empty: bool = False) -> list:
        if not isinstance(data, list):
            self.fail(path, f"must be a list, not {kind_of(data)}")
        if not data and not allow_empty:
            self.fail(path, "must not be empty")
        return data

    def text(self, data: Any, path: KeyPath) -> str:
        if not isinstance(data, str) or not data.strip():
            self.fail(path, f"must be non-empty text, not {kind_of(data)}")
        return data

    def ident(self, data: Any, path: KeyPath) -> str:
        if not isinstance(data, str) or not _ID.match(data):
            self.fail(path, f"must be an id of lower-case letters, digits and _ starting with a letter, not {data!r}")
        return data

    def number(self, data: Any, path: KeyPath) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail(path, f"must be a number, not {kind_of(data)}")
        return float(data)

    def boolean(self, data: Any, path: KeyPath) -> bool:
        if not isinstance(data, bool):
            self.fail(path, f"must be true or false, not {kind_of(data)}")
        return data

    def choice(self, data: Any, path: KeyPath, choices: tuple[str, ...]) -> str:
        if data not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}, not {data!r}")
        return data

    def unique(self, ids: list[tuple[str, KeyPath]], what: str) -> None:
        seen: set[str] = set()
        for item_id, path in ids:
            if item_id in seen:
                self.fail(path, f"duplicate {what} id {item_id!r}")
            seen.add(item_id)


class _Reader(_Shapes):
    """Reads the parts of one blueprint; label keys must name one of ``labels`` (the English texts)."""

    def __init__(self, where: SourceLines, labels: Mapping[str, str]):
        super().__init__(where)
        self.labels = labels

    def label(self, data: Any, path: KeyPath) -> str:
        key = self.text(data, path)
        if key not in self.labels:
            self.fail(path, f"no label {key!r} in labels")
        return key

    def read_options(self, data: Any) -> tuple[Option, ...]:
        options = []
        for key, spec in self.mapping(data, ("options",), (), tuple(data) if isinstance(data, dict) else ()).items():
            path = ("options", key)
            self.ident(key, path)
            spec = self.mapping(spec, path, ("choices", "default"))
            choices = tuple(
                self.ident(c, path + ("choices", i))
                for i, c in enumerate(self.sequence(spec["choices"], path + ("choices",)))
            )
            options.append(Option(key, choices, self.choice(spec["default"], path + ("default",), choices)))
        return tuple(options)

    def read_lists(self, data: Any) -> tuple[ListDef, ...]:
        lists = []
        for i, spec in enumerate(self.sequence(data, ("lists",), allow_empty=True)):
            path = ("lists", i)
            spec = self.mapping(spec, path, ("id",), ("values", "from", "field"))
            list_id = self.ident(spec["id"], path + ("id",))
            if sum(key in spec for key in ("values", "from", "field")) != 1:
                self.fail(path, "give one of values, from or field")
            if "field" in spec:
                lists.append(ListDef(list_id, field=self.ident(spec["field"], path + ("field",))))
            elif "from" in spec:
                lists.append(ListDef(list_id, source=self.choice(spec["from"], path + ("from",), LIST_SOURCES)))
            else:
                values = self.sequence(spec["values"], path + ("values",))
                lists.append(ListDef(list_id, tuple(self.label(v, path + ("values", j)) for j, v in enumerate(values))))
        self.unique([(l.id, ("lists", i, "id")) for i, l in enumerate(lists)], "list")
        return tuple(lists)

    def read_categories(self, data: Any) -> tuple[Category, ...]:
        categories = []
        line_ids: list[tuple[str, KeyPath]] = []
        for i, spec in enumerate(self.sequence(data, ("categories",), allow_empty=True)):
            path = ("categories", i)
            spec = self.mapping(spec, path, ("id", "label"), ("lines", "lines_from", "sample", "spare"))
            spare = self.number(spec.get("spare", 0), path + ("spare",))
            if not spare.is_integer() or not 0 <= spare <= MAX_SPARE_LINES:
                self.fail(path + ("spare",), f"must be a whole number from 0 to {MAX_SPARE_LINES}")
            if ("lines" in spec) == ("lines_from" in spec):
                self.fail(path, "give either lines or lines_from")
            lines = []
            for j, line in enumerate(
                self.sequence(spec.get("lines", []), path + ("lines",), allow_empty="lines_from" in spec)
            ):
                line_path = path + ("lines", j)
                line = self.mapping(line, line_path, ("id", "label"), ("sample",))
                line_ids.append((self.ident(line["id"], line_path + ("id",)), line_path + ("id",)))
                lines.append(
                    Line(
                        line["id"],
                        self.label(line["label"], line_path + ("label",)),
                        self.samples(line.get("sample", {}), line_path + ("sample",)),
                    )
                )
            categories.append(
                Category(
                    id=self.ident(spec["id"], path + ("id",)),
                    label=self.label(spec["label"], path + ("label",)),
                    lines=tuple(lines),
                    lines_from=self.choice(spec["lines_from"], path + ("lines_from",), ("channels",))
                    if "lines_from" in spec
                    else None,
                    sample=self.samples(spec.get("sample", {}), path + ("sample",)),
                    spare=int(spare),
                )
            )
        self.unique([(c.id, ("categories", i, "id")) for i, c in enumerate(categories)], "category")
        self.unique(line_ids, "line")
        return tuple(categories)

    def samples(self, data: Any, path: KeyPath) -> dict[str, Any]:
        samples = self.mapping(data, path, (), tuple(data) if isinstance(data, dict) else ())
        for key, value in samples.items():
            self.ident(key, path + (key,))
            values = value if isinstance(value, list) else [value]
            if len(values) > 12:
                self.fail(path + (key,), "a sample has at most one value per month (12)")
            for j, item in enumerate(values):
                if item is not None:
                    self.number(item, path + (key,) + ((j,) if isinstance(value, list) else ()))
        return samples

    def read_sheet(
        self, data: Any, path: KeyPath, lists: tuple[ListDef, ...], categories: tuple[Category, ...]
    ) -> Sheet:
        spec = self.mapping(data, path, ("id", "title", "blocks"), ("subtitle", "charts", "landscape", "allows"))
        allows = tuple(
            self.choice(item, path + ("allows", i), PROTECTION_ALLOWS)
            for i, item in enumerate(self.sequence(spec.get("allows", []), path + ("allows",), allow_empty=True))
        )
        blocks = tuple(
            self.read_block(block, path + ("blocks", i), lists, categories)
            for i, block in enumerate(self.sequence(spec["blocks"], path + ("blocks",)))
        )
        charts = tuple(
            self.read_chart(chart, path + ("charts", i))
            for i, chart in enumerate(self.sequence(spec.get("charts", []), path + ("charts",), allow_empty=True))
        )
        title = self.label(spec["title"], path + ("title",))  # a legal name in every language: check_texts
        return Sheet(
            id=self.ident(spec["id"], path + ("id",)),
            title=title,
            blocks=blocks,
            charts=charts,
            subtitle=self.label(spec["subtitle"], path + ("subtitle",)) if "subtitle" in spec else None,
            landscape=self.boolean(spec["landscape"], path + ("landscape",)) if "landscape" in spec else None,
            allows=allows,
        )

    def read_block(
        self, data: Any, path: KeyPath, lists: tuple[ListDef, ...], categories: tuple[Category, ...]
    ) -> Form | Table | Grid:
        kinds = ("form", "table", "grid")
        if not isinstance(data, dict) or len([k for k in kinds if k in data]) != 1:
            self.fail(path, "a block is a mapping with exactly one of form, table, grid (its id)")
        kind = next(k for k in kinds if k in data)
        common = ("title", "highlights", "note", "only_with")
        list_ids = {l.id for l in lists}
        only_with = self.read_only_with(data.get("only_with"), path + ("only_with",))
        if kind == "form":
            spec = self.mapping(data, path, ("form", "questions"), ("title", "only_with"))
            fields = self.read_fields(spec["questions"], path + ("questions",), list_ids, "form")
            return Form(self.ident(spec["form"], path + ("form",)), self.optional_label(spec, path), fields, only_with)
        if kind == "table":
            spec = self.mapping(
                data, path, ("table", "rows", "columns"), common + ("row_header", "total", "row_field", "timeline")
            )
            rows = self.read_rows(spec["rows"], path + ("rows",), categories, list_ids)
            if rows.source != "count" and "row_header" not in spec:
                self.fail(path, f"a table whose rows are {rows.source} needs a row_header label")
            fields = self.read_fields(spec["columns"], path + ("columns",), list_ids, "table")
            if "timeline" in spec and rows.count > MAX_TIMELINE_ROWS:
                self.fail(
                    path + ("rows",),
                    f"a table with a timeline has at most {MAX_TIMELINE_ROWS} rows (53 week cells each)",
                )
            return Table(
                self.ident(spec["table"], path + ("table",)),
                self.optional_label(spec, path),
                rows,
                fields,
                row_header=self.label(spec["row_header"], path + ("row_header",)) if "row_header" in spec else None,
                total=self.label(spec["total"], path + ("total",)) if "total" in spec else None,
                row_field=self.read_row_field(spec, rows, path),
                highlights=self.read_highlights(spec.get("highlights", []), path + ("highlights",)),
                timeline=self.read_timeline(spec["timeline"], path + ("timeline",), fields)
                if "timeline" in spec
                else None,
                note=self.label(spec["note"], path + ("note",)) if "note" in spec else None,
                only_with=only_with,
            )
        spec = self.mapping(data, path, ("grid", "rows", "measures"), common)
        rows = self.read_rows(spec["rows"], path + ("rows",), categories, list_ids)
        if rows.source not in GRID_ROW_SOURCES:
            self.fail(path + ("rows",), f"a grid's rows are {', '.join(GRID_ROW_SOURCES)}")
        fields = self.read_fields(spec["measures"], path + ("measures",), list_ids, "grid")
        return Grid(
            self.ident(spec["grid"], path + ("grid",)),
            self.optional_label(spec, path),
            rows,
            fields,
            self.read_highlights(spec.get("highlights", []), path + ("highlights",)),
            note=self.label(spec["note"], path + ("note",)) if "note" in spec else None,
            only_with=only_with,
        )

    def read_only_with(self, data: Any, path: KeyPath) -> tuple[str, str] | None:
        """``only_with: {option: value}``: the block is placed only with that option value."""
        if data is None:
            return None
        if not isinstance(data, dict) or len(data) != 1:
            self.fail(path, 'only_with names one option and its value, e.g. only_with: {opening_balance: "yes"}')
        ((key, value),) = data.items()
        return self.ident(key, path), self.ident(value, path + (key,))

    def read_row_field(self, spec: dict, rows: Rows, path: KeyPath) -> str | None:
        if "row_field" not in spec:
            return None
        if rows.source == "count":
            self.fail(path + ("row_field",), "a table of blank rows has no row labels to name")
        return self.ident(spec["row_field"], path + ("row_field",))

    def read_highlights(self, data: Any, path: KeyPath) -> tuple[Highlight, ...]:
        highlights = []
        for i, spec in enumerate(self.sequence(data, path, allow_empty=True)):
            spec = self.mapping(spec, path + (i,), ("when", "style"), ("fields",))
            fields = tuple(
                self.ident(f, path + (i, "fields", j))
                for j, f in enumerate(self.sequence(spec.get("fields", []), path + (i, "fields"), allow_empty=True))
            )
            highlights.append(
                Highlight(
                    Formula({"": self.template(spec["when"], path + (i, "when"))}),
                    self.choice(spec["style"], path + (i, "style"), HIGHLIGHT_STYLES),
                    fields,
                )
            )
        return tuple(highlights)

    def read_timeline(self, data: Any, path: KeyPath, fields: tuple[Field, ...]) -> Timeline:
        spec = self.mapping(data, path, ("start", "end"))
        dates = {f.id for f in fields if f.type == "date"}
        for key in ("start", "end"):
            if spec[key] not in dates:
                self.fail(path + (key,), f"must name a date column of this table, not {spec[key]!r}")
        return Timeline(spec["start"], spec["end"])

    def optional_label(self, spec: dict, path: KeyPath) -> str | None:
        return self.label(spec["title"], path + ("title",)) if "title" in spec else None

    def read_rows(self, data: Any, path: KeyPath, categories: tuple[Category, ...], list_ids: set[str]) -> Rows:
        if isinstance(data, str):
            data = {"source": data}
        spec = self.mapping(data, path, ("source",), ("count", "categories", "list"))
        source = self.choice(spec["source"], path + ("source",), ROW_SOURCES)
        if (source == "list") != ("list" in spec):
            self.fail(path, "rows of source list name a list: list: ID (and only they do)")
        if "list" in spec and spec["list"] not in list_ids:
            self.fail(path + ("list",), f"no list {spec['list']!r}")
        count = 0
        if source == "count":
            if "count" not in spec:
                self.fail(path, "rows: count needs count: N")
            count = self.number(spec["count"], path + ("count",))
            if not count.is_integer():
                self.fail(path + ("count",), f"must be a whole number, not {spec['count']!r}")
            count = int(count)
            if not 1 <= count <= MAX_COUNT_ROWS:
                self.fail(path + ("count",), f"must be between 1 and {MAX_COUNT_ROWS:,}")
        elif "count" in spec:
            self.fail(path + ("count",), "only rows of source count have a count")
        picked = ()
        if "categories" in spec:
            if source != "lines":
                self.fail(path + ("categories",), "only rows of lines can be limited to categories")
            known = {c.id for c in categories}
            values = self.sequence(spec["categories"], path + ("categories",))
            for i, value in enumerate(values):
                if value not in known:
                    self.fail(path + ("categories", i), f"no category {value!r}")
            picked = tuple(values)
        if source in ("lines", "categories") and not categories:
            self.fail(path + ("source",), f"rows of {source} need categories in the blueprint")
        return Rows(source, count, picked, spec.get("list"))

    def read_fields(self, data: Any, path: KeyPath, list_ids: set[str], kind: str) -> tuple[Field, ...]:
        fields = []
        extra = {"form": (), "table": ("total",), "grid": ("year", "first", "first_by", "formula_by")}[kind]
        if kind == "table":
            extra += ("first", "formula_by", "values", "default_from")
        for i, spec in enumerate(self.sequence(data, path)):
            field_path = path + (i,)
            spec = self.mapping(
                spec,
                field_path,
                ("id", "label"),
                ("type", "required", "min", "max", "list", "hint", "formula", "sample", "width", "example", "na_for")
                + ("whole",)
                + extra,
            )
            field_type = self.choice(spec.get("type", "text"), field_path + ("type",), FIELD_TYPES)
            whole = self.boolean(spec.get("whole", False), field_path + ("whole",))
            if whole and field_type != "number":
                self.fail(field_path + ("whole",), "only a number field is shown whole")
            if field_type == "choice":
                if "list" not in spec:
                    self.fail(field_path, "a choice needs a list")
                if spec["list"] not in list_ids:
                    self.fail(field_path + ("list",), f"no list {spec['list']!r}")
            elif "list" in spec:
                self.fail(field_path + ("list",), "only a choice has a list")
            if field_type == "yesno" and "yesno" not in list_ids:
                self.fail(field_path + ("type",), "a yesno field needs a list with id yesno")
            for bound in ("min", "max"):
                if bound in spec and field_type not in NUMERIC_TYPES:
                    self.fail(field_path + (bound,), f"only number, integer, money and percent fields have a {bound}")
            if (
                spec.get("min") is not None
                and "max" in spec
                and self.number(spec["min"], field_path + ("min",)) > self.number(spec["max"], field_path + ("max",))
            ):
                self.fail(field_path + ("max",), "max is below min")
            formula = self.read_formula(spec, field_path) if "formula" in spec else None
            for key in ("first", "first_by", "formula_by"):
                if key in spec and formula is None:
                    self.fail(field_path + (key,), f"{key} only goes with a formula")
            if formula is not None and ("required" in spec or "sample" in spec):
                self.fail(field_path, "a computed field has neither required nor sample")
            values = ()
            if "values" in spec:
                if formula is not None or "sample" in spec or "required" in spec:
                    self.fail(field_path + ("values",), "a column of values has no formula, sample or required")
                values = tuple(
                    self.label(v, field_path + ("values", j))
                    if field_type == "text"
                    else self.number(v, field_path + ("values", j))
                    for j, v in enumerate(self.sequence(spec["values"], field_path + ("values",)))
                )
            fields.append(
                Field(
                    id=self.ident(spec["id"], field_path + ("id",)),
                    label=self.label(spec["label"], field_path + ("label",)),
                    type=field_type,
                    required=self.boolean(spec.get("required", False), field_path + ("required",)),
                    # A money field takes no negative amount, unless min: null (an opening balance may be a deficit).
                    min=self.number(spec["min"], field_path + ("min",))
                    if spec.get("min") is not None
                    else (0.0 if field_type == "money" and "min" not in spec else None),
                    max=self.number(spec["max"], field_path + ("max",)) if "max" in spec else None,
                    list=spec.get("list") if field_type == "choice" else ("yesno" if field_type == "yesno" else None),
                    hint=self.label(spec["hint"], field_path + ("hint",)) if "hint" in spec else None,
                    formula=formula,
                    sample=self.read_sample(spec.get("sample"), field_type, field_path + ("sample",), kind),
                    width=self.number(spec["width"], field_path + ("width",)) if "width" in spec else None,
                    whole=whole,
                    year=self.choice(
                        spec.get("year", "sum" if field_type in NUMERIC_TYPES else "none"),
                        field_path + ("year",),
                        YEAR_TOTALS,
                    ),
                    total=self.read_total(spec, field_path) if "total" in spec else None,
                    example=self.label(spec["example"], field_path + ("example",)) if "example" in spec else None,
                    values=values,
                    default_from=self.ident(spec["default_from"], field_path + ("default_from",))
                    if "default_from" in spec
                    else None,
                    na_for=tuple(
                        self.ident(c, field_path + ("na_for", j))
                        for j, c in enumerate(
                            self.sequence(spec.get("na_for", []), field_path + ("na_for",), allow_empty=True)
                        )
                    ),
                )
            )
        return tuple(fields)

    def read_sample(self, data: Any, field_type: str, path: KeyPath, kind: str) -> Any:
        """A field's sample: one value, a list (one per row or month), or (grids) a mapping by row."""
        if data is None:
            return None
        if isinstance(data, dict):
            if kind != "grid":
                self.fail(path, "only a grid measure's sample may be a mapping (by channel, line or list value)")
            for key, value in data.items():
                self.read_sample(value, field_type, path + (key,), "table")
            return data
        for i, value in enumerate(data if isinstance(data, list) else [data]):
            where = path + (i,) if isinstance(data, list) else path
            if value is None:
                continue
            if field_type in ("text",) and not isinstance(value, str):
                self.fail(where, f"a text sample is text, not {kind_of(value)}")
            elif field_type in NUMERIC_TYPES + ("time",) and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                self.fail(
                    where,
                    f"{'an' if field_type[0] in 'aeiou' else 'a'} {field_type} sample is a number, not {kind_of(value)}",
                )
            elif field_type == "date" and (isinstance(value, bool) or not isinstance(value, (int, float, dt.date))):
                self.fail(where, "a date sample is a date or a number of days after the plan's first day")
            elif field_type in ("choice", "yesno") and (isinstance(value, bool) or not isinstance(value, (int, str))):
                self.fail(where, "a choice sample is the label key of a value or its index in the list")
        return data

    def template(self, text: Any, path: KeyPath) -> tuple:
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        try:
            return fx.parse(self.text(text, path))
        except fx.FormulaSyntaxError as error:
            self.fail(path, str(error))
            raise  # unreachable: fail() raises

    def read_formula(self, spec: dict, path: KeyPath) -> Formula:
        first, first_option, first_cases = None, None, {}
        if "first_by" in spec:
            # The first month's formula chosen by an option: first: {value: template, ...}.
            first_option = self.ident(spec["first_by"], path + ("first_by",))
            if "first" not in spec:
                self.fail(path + ("first_by",), "first_by goes with first: one formula per value of the option")
            cases = self.mapping(
                spec["first"], path + ("first",), (), tuple(spec["first"]) if isinstance(spec["first"], dict) else ()
            )
            first_cases = {key: self.template(text, path + ("first", key)) for key, text in cases.items()}
        elif "first" in spec:
            first = self.template(spec["first"], path + ("first",))
        if "formula_by" not in spec:
            return Formula(
                {"": self.template(spec["formula"], path + ("formula",))},
                first=first,
                first_option=first_option,
                first_cases=first_cases,
            )
        option = self.ident(spec["formula_by"], path + ("formula_by",))
        cases = self.mapping(
            spec["formula"],
            path + ("formula",),
            (),
            tuple(spec["formula"]) if isinstance(spec["formula"], dict) else (),
        )
        return Formula(
            {key: self.template(text, path + ("formula", key)) for key, text in cases.items()},
            option,
            first,
            first_option,
            first_cases,
        )

    def read_total(self, spec: dict, path: KeyPath) -> Formula:
        return Formula({"": self.template(spec["total"], path + ("total",))})

    def read_report(self, data: Any) -> ReportSpec:
        """The analyser's part: totals, tables of totals, checks and carry-over chains."""
        top = self.mapping(data, ("report",), (), ("totals", "tables", "checks", "chains", "facts"))

        def measures(spec: Any, path: KeyPath) -> tuple[Measure, ...]:
            spec = self.mapping(spec, path, (), tuple(spec) if isinstance(spec, dict) else ())
            return tuple(
                Measure(self.ident(key, path + (key,)), self.template(text, path + (key,)))
                for key, text in spec.items()
            )

        totals = measures(top.get("totals", {}), ("report", "totals"))
        tables_spec = self.mapping(
            top.get("tables", {}),
            ("report", "tables"),
            (),
            tuple(top.get("tables") or ()) if isinstance(top.get("tables"), dict) else (),
        )
        tables = []
        for key, spec in tables_spec.items():
            path = ("report", "tables", key)
            spec = self.mapping(spec, path, ("rows", "columns"))
            rows = self.choice(spec["rows"], path + ("rows",), TOTALS_ROWS)
            tables.append(TotalsTable(self.ident(key, path), rows, measures(spec["columns"], path + ("columns",))))
        checks = []
        for i, spec in enumerate(self.sequence(top.get("checks", []), ("report", "checks"), allow_empty=True)):
            path = ("report", "checks", i)
            spec = self.mapping(spec, path, ("code", "field", "when", "message"), ("severity",))
            checks.append(
                Check(
                    code=self.code(spec["code"], path + ("code",)),
                    severity=self.choice(spec.get("severity", "warning"), path + ("severity",), SEVERITIES),
                    field=self.ident(spec["field"], path + ("field",)),
                    when=self.template(spec["when"], path + ("when",)),
                    message=self.text(spec["message"], path + ("message",)),
                )
            )
        chains = []
        for i, spec in enumerate(self.sequence(top.get("chains", []), ("report", "chains"), allow_empty=True)):
            path = ("report", "chains", i)
            spec = self.mapping(spec, path, ("code", "fields", "message"))
            chains.append(
                Chain(
                    code=self.code(spec["code"], path + ("code",)),
                    fields=tuple(
                        self.ident(f, path + ("fields", j))
                        for j, f in enumerate(self.sequence(spec["fields"], path + ("fields",)))
                    ),
                    message=self.text(spec["message"], path + ("message",)),
                )
            )
        facts_spec = top.get("facts", {})
        facts_spec = self.mapping(
            facts_spec, ("report", "facts"), (), tuple(facts_spec) if isinstance(facts_spec, dict) else ()
        )
        facts = {
            self.ident(k, ("report", "facts", k)): self.ident(v, ("report", "facts", k)) for k, v in facts_spec.items()
        }
        return ReportSpec(totals, tuple(tables), tuple(checks), tuple(chains), facts)

    def code(self, data: Any, path: KeyPath) -> str:
        code = self.text(data, path)
        if not re.fullmatch(r"[a-z][a-z0-9-]*", code):
            self.fail(path, f"a finding code is lower-case words joined by -, not {code!r}")
        return code

    def read_chart(self, data: Any, path: KeyPath) -> Chart:
        spec = self.mapping(data, path, ("id", "type", "title", "series"), ("y_axis", "per"))
        return Chart(
            id=self.ident(spec["id"], path + ("id",)),
            type=self.choice(spec["type"], path + ("type",), CHART_TYPES),
            title=self.label(spec["title"], path + ("title",)),
            series=tuple(
                self.ident(s, path + ("series", i))
                for i, s in enumerate(self.sequence(spec["series"], path + ("series",)))
            ),
            y_axis=self.label(spec["y_axis"], path + ("y_axis",)) if "y_axis" in spec else None,
            per=self.choice(spec["per"], path + ("per",), ("channels",)) if "per" in spec else None,
        )
