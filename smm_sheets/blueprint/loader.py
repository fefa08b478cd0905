"""Load blueprint files (YAML) and their texts into the model, strictly.

Every mistake is one :class:`~smm_sheets.errors.BlueprintError` naming the file, the line and
the key path: an unknown key, a wrong type, a duplicate id, a label or list that does not
exist, a formula that names an item that does not exist or that depends on itself.

The texts people read live in per-language catalogs, ``blueprints/i18n/<language>.yaml``: a
section per blueprint id (and ``_common`` for the furniture every workbook shares), each
mapping label keys to texts. Every catalog has exactly the keys of ``en.yaml``, with the same
placeholders. A blueprint of your own may also carry its texts inline (``labels: {en: ...}``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from smm_sheets import formula as fx
from smm_sheets.blueprint.model import (
    CHART_TYPES,
    FIELD_TYPES,
    GRID_ROW_SOURCES,
    HIGHLIGHT_STYLES,
    LIST_SOURCES,
    NUMERIC_TYPES,
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
    block_fields,
)
from smm_sheets.errors import BlueprintError
from smm_sheets.locale_data import LANGUAGES

_PACKAGE = Path(__file__).parent.parent
# Installed, the blueprints are inside the package; in a checkout, beside it.
BUILTIN_DIR = next(
    (p for p in (_PACKAGE / "blueprints", _PACKAGE.parent / "blueprints") if p.is_dir()),
    _PACKAGE / "blueprints",
)
CATALOG_DIR = BUILTIN_DIR / "i18n"
MAX_BLUEPRINT_BYTES = 1_000_000
MAX_TIMELINE_ROWS = 2_000
# Placeholders a label may use; they are filled from the parameters.
LABEL_PLACEHOLDERS = {"company", "year", "currency", "first_month", "last_month", "carry_over"}
# Labels the workbook furniture uses whatever the blueprint (grid headers, the lists sheet,
# validation messages); a blueprint uses the rest of _common by naming them.
FURNITURE_LABELS = frozenset(
    {
        "common.category",
        "common.line",
        "common.measure",
        "common.year",
        "common.lists_sheet",
        "validation.title",
        "validation.money",
        "validation.number",
        "validation.integer",
        "validation.percent",
        "validation.date",
        "validation.time",
        "validation.choice",
        "validation.yesno",
        "validation.text",
        "validation.range",
        "default.company",
        "default.team",
    }
)
COMMON_SECTION = "_common"
# Excel's rules for a sheet name: 1 to 31 characters, none of these (braces: no placeholders).
MAX_SHEET_NAME = 31
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\'{}]")
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_LABEL_KEY = re.compile(r"^[a-z][a-z0-9_.]*$")

_STR_TAG = "tag:yaml.org,2002:str"
Path_ = tuple  # a key path: ("sheets", 0, "blocks", 2, "measures", 1, "formula")


def builtin_blueprints() -> list[Path]:
    """The blueprint files shipped with smm-sheets, by file name."""
    return sorted(p for p in BUILTIN_DIR.glob("*.yaml") if not p.name.startswith("_"))


def resolve(name_or_path: str) -> Path:
    """The file of a built-in blueprint id, or the path a user gave.

    Raises:
        BlueprintError: neither a built-in id nor an existing file.
    """
    builtin = BUILTIN_DIR / f"{name_or_path}.yaml"
    if re.fullmatch(r"[a-z][a-z0-9_-]*", name_or_path) and builtin.is_file():
        return builtin
    path = Path(name_or_path)
    if path.is_file():
        return path
    known = ", ".join(p.stem for p in builtin_blueprints())
    raise BlueprintError(name_or_path, "", f"no such blueprint or file (built-in: {known})")


def load(name_or_path: str | Path) -> Blueprint:
    """Load and check one blueprint.

    Args:
        name_or_path: a built-in blueprint id such as ``budget`` or a path to a YAML file.

    Returns:
        The blueprint.

    Raises:
        BlueprintError: the first mistake found, with file, line and key path.
    """
    path = resolve(str(name_or_path)) if not isinstance(name_or_path, Path) else name_or_path
    source = str(path)
    try:
        if path.stat().st_size > MAX_BLUEPRINT_BYTES:
            raise BlueprintError(source, "", f"file is larger than {MAX_BLUEPRINT_BYTES} bytes")
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BlueprintError(source, "", f"cannot read: {getattr(error, 'strerror', None) or error}") from None
    return loads(text, source)


def loads(text: str, source: str = "<string>") -> Blueprint:
    """Load a blueprint from YAML text; ``source`` names it in error messages."""
    data, lines = _parse_yaml(text, source)
    return _BlueprintReader(source, lines).blueprint(data)


@lru_cache(maxsize=1)
def _common() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Channel names and channel facts shared by all blueprints (``blueprints/_common.yaml``)."""
    path = BUILTIN_DIR / "_common.yaml"
    data, _ = _parse_yaml(path.read_text(encoding="utf-8"), str(path))
    return {str(k): str(v) for k, v in data["channels"].items()}, data["channel_data"]


class Text(str):
    """A label's text that remembers where it was written: file, key path and line."""

    source: str
    path: str
    line: int | None

    def __new__(cls, text: str, source: str, path: str, line: int | None) -> Text:
        made = super().__new__(cls, text)
        made.source, made.path, made.line = source, path, line
        return made


def default_texts(language: str) -> dict[str, str]:
    """The company and team names a workbook gets when none are given, in ``language``."""
    common = catalogs().get(language, catalogs()["en"])[COMMON_SECTION]
    return {"company": str(common["default.company"]), "team": str(common["default.team"])}


def catalog_path(language: str) -> Path:
    """The catalog file of ``language``: ``blueprints/i18n/<language>.yaml``."""
    return CATALOG_DIR / f"{language}.yaml"


@lru_cache(maxsize=1)
def catalogs() -> dict[str, dict[str, dict[str, Text]]]:
    """Every language's catalog, checked: ``{language: {section: {key: text}}}``.

    Raises:
        BlueprintError: a catalog is missing or unreadable, a key is missing, extra or
            malformed, a text is empty or its placeholders differ from the English text's.
    """
    found = {p.stem for p in CATALOG_DIR.glob("*.yaml")}
    for stray in sorted(found - set(LANGUAGES)):
        raise BlueprintError(
            str(catalog_path(stray)), "", f"no such language {stray!r} (languages: {', '.join(LANGUAGES)})"
        )
    tables: dict[str, dict[str, dict[str, Text]]] = {}
    section_lines: dict[str, dict[str, int | None]] = {}  # where a missing key belongs
    for language in LANGUAGES:
        path = catalog_path(language)
        source = str(path)
        if language != "en" and not path.exists():
            continue  # the language is not offered (the test suite requires every catalog)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise BlueprintError(
                source, "", f"cannot read the {language} catalog: {getattr(error, 'strerror', None) or error}"
            ) from None
        data, lines = _parse_yaml(text, source)
        if not isinstance(data, dict):
            raise BlueprintError(source, "", f"must be a mapping of sections, not {_kind(data)}", 1)
        sections: dict[str, dict[str, Text]] = {}
        for name, section in data.items():
            if not isinstance(section, dict):
                raise BlueprintError(
                    source, name, f"must be a mapping of label keys to texts, not {_kind(section)}", lines.get((name,))
                )
            sections[name] = {}
            for key, value in section.items():
                where, line = f"{name}.{key}", lines.get((name, key))
                if not _LABEL_KEY.match(key):
                    raise BlueprintError(source, where, "a label key is lower-case letters, digits, _ and .", line)
                problem = _text_problem(value)
                if problem:
                    raise BlueprintError(source, where, problem, line)
                sections[name][key] = Text(value, source, where, line)
        tables[language] = sections
        section_lines[language] = {name: lines.get((name,)) for name in data}
    english = tables["en"]
    if COMMON_SECTION not in english:
        raise BlueprintError(
            str(catalog_path("en")), COMMON_SECTION, "missing section (the furniture every workbook shares)"
        )
    for language, sections in tables.items():
        source = str(catalog_path(language))
        for name in sections:
            if name not in english:
                raise BlueprintError(
                    source,
                    name,
                    "a section that en.yaml does not have",
                    sections[name] and next(iter(sections[name].values())).line,
                )
        for name, wanted in english.items():
            if name not in sections:
                raise BlueprintError(source, name, "missing section (en.yaml has it)")
            have = sections[name]
            for key, english_text in wanted.items():
                if key not in have:
                    raise BlueprintError(
                        source,
                        f"{name}.{key}",
                        f"missing translation (en.yaml: {english_text!r})",
                        section_lines[language].get(name),
                    )
                if _placeholders(have[key]) != _placeholders(english_text):
                    shown = ", ".join("{" + p + "}" for p in sorted(_placeholders(english_text))) or "none"
                    raise BlueprintError(
                        source, have[key].path, f"placeholders differ from the English text's ({shown})", have[key].line
                    )
            for key, text in have.items():
                if key not in wanted:
                    raise BlueprintError(source, text.path, "a key that en.yaml does not have", text.line)
    return tables


def _text_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a label's text, or None."""
    if not isinstance(value, str) or not value.strip():
        return f"must be non-empty text, not {_kind(value)}"
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value)]
    except ValueError as error:
        return f"{error} (write a literal brace as {{{{ or }}}})"
    for name in names:
        if name is not None and name not in LABEL_PLACEHOLDERS:
            return f"unknown placeholder {{{name}}} (known: {', '.join(sorted(LABEL_PLACEHOLDERS))})"
    return None


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def load_channel_names() -> dict[str, str]:
    """Display names of well-known channels, by id: ``tiktok`` -> ``TikTok``."""
    return dict(_common()[0])


# --------------------------------------------------------------------------- YAML with lines


def _parse_yaml(text: str, source: str) -> tuple[Any, dict[Path_, int]]:
    """YAML to plain data, plus the line of every key path. Aliases are refused (YAML bombs)."""
    loader_class = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        root = yaml.compose(text, Loader=loader_class)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise BlueprintError(source, "", f"not valid YAML: {problem}", mark.line + 1 if mark else None) from None
    if root is None:
        raise BlueprintError(source, "", "the file is empty")
    constructor = yaml.constructor.SafeConstructor()
    lines: dict[Path_, int] = {}
    seen: set[int] = set()

    def convert(node: yaml.Node, path: Path_) -> Any:
        lines.setdefault(path, node.start_mark.line + 1)
        if id(node) in seen:
            raise BlueprintError(source, _dotted(path), "YAML aliases are not allowed", node.start_mark.line + 1)
        seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            result: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = constructor.construct_object(key_node)
                if not isinstance(key, (str, int)) or isinstance(key, bool):
                    raise BlueprintError(
                        source, _dotted(path), f"key {key!r} must be text", key_node.start_mark.line + 1
                    )
                key = str(key)
                if key in result:
                    raise BlueprintError(source, _dotted(path + (key,)), "duplicate key", key_node.start_mark.line + 1)
                lines[path + (key,)] = key_node.start_mark.line + 1
                result[key] = convert(value_node, path + (key,))
            return result
        if isinstance(node, yaml.SequenceNode):
            return [convert(item, path + (index,)) for index, item in enumerate(node.value)]
        if node.tag == _STR_TAG:
            return node.value  # most scalars: skip the (slow, pure-Python) constructor
        return constructor.construct_object(node)

    return convert(root, ()), lines


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


# --------------------------------------------------------------------------- checking


class _BlueprintReader:
    def __init__(self, source: str, lines: dict[Path_, int]):
        self.source, self.lines = source, lines
        self.labels: dict[str, str] = {}  # the English texts, which the checks read
        self.used: set[str] = set(FURNITURE_LABELS)
        self.in_formulas: set[str] = set()  # labels that formulas hold as text: {label:status.done}

    def fail(self, path: Path_, message: str) -> None:
        line = None
        for cut in range(len(path), -1, -1):
            if path[:cut] in self.lines:
                line = self.lines[path[:cut]]
                break
        raise BlueprintError(self.source, _dotted(path), message, line)

    # -- shapes

    def mapping(self, data: Any, path: Path_, required: tuple[str, ...], optional: tuple[str, ...] = ()) -> dict:
        if not isinstance(data, dict):
            self.fail(path, f"must be a mapping, not {_kind(data)}")
        for key in data:
            if key not in required and key not in optional:
                allowed = ", ".join(required + optional)
                self.fail(path + (key,), f"unknown key (allowed: {allowed})")
        for key in required:
            if key not in data:
                self.fail(path, f"missing key {key!r}")
        return data

    def sequence(self, data: Any, path: Path_, allow_empty: bool = False) -> list:
        if not isinstance(data, list):
            self.fail(path, f"must be a list, not {_kind(data)}")
        if not data and not allow_empty:
            self.fail(path, "must not be empty")
        return data

    def text(self, data: Any, path: Path_) -> str:
        if not isinstance(data, str) or not data.strip():
            self.fail(path, f"must be non-empty text, not {_kind(data)}")
        return data

    def ident(self, data: Any, path: Path_) -> str:
        if not isinstance(data, str) or not _ID.match(data):
            self.fail(path, f"must be an id of lower-case letters, digits and _ starting with a letter, not {data!r}")
        return data

    def number(self, data: Any, path: Path_) -> float:
        if isinstance(data, bool) or not isinstance(data, (int, float)):
            self.fail(path, f"must be a number, not {_kind(data)}")
        return float(data)

    def boolean(self, data: Any, path: Path_) -> bool:
        if not isinstance(data, bool):
            self.fail(path, f"must be true or false, not {_kind(data)}")
        return data

    def choice(self, data: Any, path: Path_, choices: tuple[str, ...]) -> str:
        if data not in choices:
            self.fail(path, f"must be one of {', '.join(choices)}, not {data!r}")
        return data

    def label(self, data: Any, path: Path_) -> str:
        key = self.text(data, path)
        if key not in self.labels:
            self.fail(path, f"no label {key!r} in labels")
        self.used.add(key)
        return key

    def unique(self, ids: list[tuple[str, Path_]], what: str) -> None:
        seen: set[str] = set()
        for item_id, path in ids:
            if item_id in seen:
                self.fail(path, f"duplicate {what} id {item_id!r}")
            seen.add(item_id)

    # -- the blueprint

    def blueprint(self, data: Any) -> Blueprint:
        top = self.mapping(
            data,
            (),
            ("id", "version", "title", "sheets"),
            ("description", "options", "lists", "categories", "labels", "report"),
        )
        bp_id = self.text(top["id"], ("id",))
        if not re.fullmatch(r"[a-z][a-z0-9-]*", bp_id):
            self.fail(("id",), f"must be lower-case letters, digits and -, not {bp_id!r}")
        version = top["version"]
        if isinstance(version, bool) or not isinstance(version, (str, int, float)):
            self.fail(("version",), f'must be a version such as "1.0", not {_kind(version)}')
        languages = self.read_labels(top.get("labels"), bp_id)
        options = self.read_options(top.get("options", {}))
        lists = self.read_lists(top.get("lists", []))
        categories = self.read_categories(top.get("categories", []))
        sheets_data = self.sequence(top["sheets"], ("sheets",))
        sheets = tuple(self.read_sheet(sheet, ("sheets", i), lists, categories) for i, sheet in enumerate(sheets_data))
        self.unique([(s.id, ("sheets", i, "id")) for i, s in enumerate(sheets)], "sheet")
        blueprint = Blueprint(
            id=bp_id,
            version=str(version),
            title=self.label(top["title"], ("title",)),
            description=self.label(top["description"], ("description",)) if "description" in top else top["title"],
            sheets=sheets,
            labels=languages,
            lists=lists,
            categories=categories,
            options=options,
            source=self.source,
            channel_data=_common()[1],
            report=self.read_report(top.get("report", {})),
        )
        for option in options:
            self.used.update(f"option.{option.id}.{choice}" for choice in option.choices)
        # A list's column on the lists sheet is headed by its text, list.<id>, where there is one.
        self.used.update(f"list.{item.id}" for item in lists if item.field is None)
        self.check_fields(blueprint)
        for language, labels in languages.items():
            self.check_texts(blueprint, language, labels)
        # The model holds plain text: cells compare values by type.
        languages = {
            language: {key: str(text) for key, text in labels.items()} for language, labels in languages.items()
        }
        own = catalogs()["en"].get(bp_id, {})
        if Path(self.source).resolve().parent == BUILTIN_DIR.resolve():
            # A built-in blueprint's catalog section holds only what it uses (a user's copy may
            # leave out some of it).
            for key, text in own.items():
                if key not in self.used:
                    raise BlueprintError(
                        text.source, text.path, f"label {key!r} is not used by blueprint {bp_id}", text.line
                    )
        return dataclasses.replace(blueprint, labels=languages, label_keys=frozenset(self.used & set(self.labels)))

    def read_labels(self, data: Any, bp_id: str) -> dict[str, dict[str, str]]:
        """The texts per language: the catalogs' _common and ``bp_id`` sections, then inline labels.

        A language is offered when it has a text for every key English has.
        """
        inline: dict[str, dict[str, str]] = {}
        if data is not None:
            table = self.mapping(data, ("labels",), (), LANGUAGES)
            for language, texts in table.items():
                texts = self.mapping(texts, ("labels", language), (), tuple(texts) if isinstance(texts, dict) else ())
                inline[language] = {}
                for key, text in texts.items():
                    path = ("labels", language, key)
                    if not _LABEL_KEY.match(key):
                        self.fail(path, "a label key is lower-case letters, digits, _ and .")
                    problem = _text_problem(text)
                    if problem:
                        self.fail(path, problem)
                    inline[language][key] = Text(text, self.source, _dotted(path), self.lines.get(path))
        tables = catalogs()
        if "en" not in inline and bp_id not in tables["en"]:
            self.fail(
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
                if key in english and _placeholders(text) != _placeholders(english[key]):
                    shown = ", ".join("{" + p + "}" for p in sorted(_placeholders(english[key]))) or "none"
                    self.fail(("labels", language, key), f"placeholders differ from the English text's ({shown})")
        self.labels = english
        return {language: texts for language, texts in languages.items() if english.keys() <= texts.keys()}

    def check_texts(self, blueprint: Blueprint, language: str, labels: dict[str, str]) -> None:
        """What must hold in every language: legal, distinct sheet names and dropdown values."""

        def fail(key: str, message: str) -> None:
            text = labels[key]
            if isinstance(text, Text):
                raise BlueprintError(text.source, text.path, message, text.line)
            self.fail(("labels", language, key), message)

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
        for key in sorted(self.in_formulas):
            value = labels[key]
            if re.search(r"[*?~]", value) or value[:1] in "=<>":
                fail(
                    key,
                    f"a text that formulas use cannot hold * ? ~ or start with = < > (criteria read them as patterns): {value!r}",
                )

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
        line_ids: list[tuple[str, Path_]] = []
        for i, spec in enumerate(self.sequence(data, ("categories",), allow_empty=True)):
            path = ("categories", i)
            spec = self.mapping(spec, path, ("id", "label"), ("lines", "lines_from", "sample"))
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
                )
            )
        self.unique([(c.id, ("categories", i, "id")) for i, c in enumerate(categories)], "category")
        self.unique(line_ids, "line")
        return tuple(categories)

    def samples(self, data: Any, path: Path_) -> dict[str, Any]:
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

    def read_sheet(self, data: Any, path: Path_, lists: tuple[ListDef, ...], categories: tuple[Category, ...]) -> Sheet:
        spec = self.mapping(data, path, ("id", "title", "blocks"), ("subtitle", "charts", "landscape"))
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
            landscape=self.boolean(spec.get("landscape", True), path + ("landscape",)),
        )

    def read_block(
        self, data: Any, path: Path_, lists: tuple[ListDef, ...], categories: tuple[Category, ...]
    ) -> Form | Table | Grid:
        kinds = ("form", "table", "grid")
        if not isinstance(data, dict) or len([k for k in kinds if k in data]) != 1:
            self.fail(path, "a block is a mapping with exactly one of form, table, grid (its id)")
        kind = next(k for k in kinds if k in data)
        common = ("title", "highlights")
        list_ids = self.list_ids = {l.id for l in lists}
        if kind == "form":
            spec = self.mapping(data, path, ("form", "questions"), ("title",))
            fields = self.read_fields(spec["questions"], path + ("questions",), list_ids, "form")
            return Form(self.ident(spec["form"], path + ("form",)), self.optional_label(spec, path), fields)
        if kind == "table":
            spec = self.mapping(
                data, path, ("table", "rows", "columns"), common + ("row_header", "total", "row_field", "timeline")
            )
            rows = self.read_rows(spec["rows"], path + ("rows",), categories)
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
            )
        spec = self.mapping(data, path, ("grid", "rows", "measures"), common)
        rows = self.read_rows(spec["rows"], path + ("rows",), categories)
        if rows.source not in GRID_ROW_SOURCES:
            self.fail(path + ("rows",), f"a grid's rows are {', '.join(GRID_ROW_SOURCES)}")
        fields = self.read_fields(spec["measures"], path + ("measures",), list_ids, "grid")
        return Grid(
            self.ident(spec["grid"], path + ("grid",)),
            self.optional_label(spec, path),
            rows,
            fields,
            self.read_highlights(spec.get("highlights", []), path + ("highlights",)),
        )

    def read_row_field(self, spec: dict, rows: Rows, path: Path_) -> str | None:
        if "row_field" not in spec:
            return None
        if rows.source == "count":
            self.fail(path + ("row_field",), "a table of blank rows has no row labels to name")
        return self.ident(spec["row_field"], path + ("row_field",))

    def read_highlights(self, data: Any, path: Path_) -> tuple[Highlight, ...]:
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

    def read_timeline(self, data: Any, path: Path_, fields: tuple[Field, ...]) -> Timeline:
        spec = self.mapping(data, path, ("start", "end"))
        dates = {f.id for f in fields if f.type == "date"}
        for key in ("start", "end"):
            if spec[key] not in dates:
                self.fail(path + (key,), f"must name a date column of this table, not {spec[key]!r}")
        return Timeline(spec["start"], spec["end"])

    def optional_label(self, spec: dict, path: Path_) -> str | None:
        return self.label(spec["title"], path + ("title",)) if "title" in spec else None

    def read_rows(self, data: Any, path: Path_, categories: tuple[Category, ...]) -> Rows:
        if isinstance(data, str):
            data = {"source": data}
        spec = self.mapping(data, path, ("source",), ("count", "categories", "list"))
        source = self.choice(spec["source"], path + ("source",), ROW_SOURCES)
        if (source == "list") != ("list" in spec):
            self.fail(path, "rows of source list name a list: list: ID (and only they do)")
        if "list" in spec and spec["list"] not in self.list_ids:
            self.fail(path + ("list",), f"no list {spec['list']!r}")
        count = 0
        if source == "count":
            if "count" not in spec:
                self.fail(path, "rows: count needs count: N")
            count = self.number(spec["count"], path + ("count",))
            if not count.is_integer():
                self.fail(path + ("count",), f"must be a whole number, not {spec['count']!r}")
            count = int(count)
            if not 1 <= count <= 1_048_000:
                self.fail(path + ("count",), "must be between 1 and 1048000")
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

    def read_fields(self, data: Any, path: Path_, list_ids: set[str], kind: str) -> tuple[Field, ...]:
        fields = []
        extra = {"form": (), "table": ("total",), "grid": ("year", "first", "formula_by")}[kind]
        if kind == "table":
            extra += ("first", "formula_by", "values", "default_from")
        for i, spec in enumerate(self.sequence(data, path)):
            field_path = path + (i,)
            spec = self.mapping(
                spec,
                field_path,
                ("id", "label"),
                ("type", "required", "min", "max", "list", "hint", "formula", "sample", "width", "example", "na_for")
                + extra,
            )
            field_type = self.choice(spec.get("type", "text"), field_path + ("type",), FIELD_TYPES)
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
                "min" in spec
                and "max" in spec
                and self.number(spec["min"], field_path + ("min",)) > self.number(spec["max"], field_path + ("max",))
            ):
                self.fail(field_path + ("max",), "max is below min")
            formula = self.read_formula(spec, field_path) if "formula" in spec else None
            for key in ("first", "formula_by"):
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
                    min=self.number(spec["min"], field_path + ("min",))
                    if "min" in spec
                    else (0.0 if field_type == "money" else None),
                    max=self.number(spec["max"], field_path + ("max",)) if "max" in spec else None,
                    list=spec.get("list") if field_type == "choice" else ("yesno" if field_type == "yesno" else None),
                    hint=self.label(spec["hint"], field_path + ("hint",)) if "hint" in spec else None,
                    formula=formula,
                    sample=self.read_sample(spec.get("sample"), field_type, field_path + ("sample",), kind),
                    width=self.number(spec["width"], field_path + ("width",)) if "width" in spec else None,
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

    def read_sample(self, data: Any, field_type: str, path: Path_, kind: str) -> Any:
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
                self.fail(where, f"a text sample is text, not {_kind(value)}")
            elif field_type in NUMERIC_TYPES + ("time",) and (
                isinstance(value, bool) or not isinstance(value, (int, float))
            ):
                self.fail(
                    where,
                    f"{'an' if field_type[0] in 'aeiou' else 'a'} {field_type} sample is a number, not {_kind(value)}",
                )
            elif field_type == "date" and (isinstance(value, bool) or not isinstance(value, (int, float, dt.date))):
                self.fail(where, "a date sample is a date or a number of days after the plan's first day")
            elif field_type in ("choice", "yesno") and (isinstance(value, bool) or not isinstance(value, (int, str))):
                self.fail(where, "a choice sample is the label key of a value or its index in the list")
        return data

    def template(self, text: Any, path: Path_) -> tuple:
        if isinstance(text, (int, float)) and not isinstance(text, bool):
            text = str(text)
        try:
            return fx.parse(self.text(text, path))
        except fx.FormulaSyntaxError as error:
            self.fail(path, str(error))
            raise  # unreachable: fail() raises

    def read_formula(self, spec: dict, path: Path_) -> Formula:
        first = self.template(spec["first"], path + ("first",)) if "first" in spec else None
        if "formula_by" not in spec:
            return Formula({"": self.template(spec["formula"], path + ("formula",))}, first=first)
        option = self.ident(spec["formula_by"], path + ("formula_by",))
        cases = self.mapping(
            spec["formula"],
            path + ("formula",),
            (),
            tuple(spec["formula"]) if isinstance(spec["formula"], dict) else (),
        )
        return Formula(
            {key: self.template(text, path + ("formula", key)) for key, text in cases.items()}, option, first
        )

    def read_total(self, spec: dict, path: Path_) -> Formula:
        return Formula({"": self.template(spec["total"], path + ("total",))})

    def read_report(self, data: Any) -> ReportSpec:
        """The analyser's part: totals, tables of totals, checks and carry-over chains."""
        top = self.mapping(data, ("report",), (), ("totals", "tables", "checks", "chains", "facts"))

        def measures(spec: Any, path: Path_) -> tuple[Measure, ...]:
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

    def code(self, data: Any, path: Path_) -> str:
        code = self.text(data, path)
        if not re.fullmatch(r"[a-z][a-z0-9-]*", code):
            self.fail(path, f"a finding code is lower-case words joined by -, not {code!r}")
        return code

    def check_report(self, blueprint: Blueprint, known: set[str]) -> None:
        report = blueprint.report
        fields = blueprint.fields()
        for measure in report.totals:
            _check_refs(self, measure.formula, known, ("report", "totals", measure.id))
        for table in report.tables:
            for measure in table.columns:
                _check_refs(self, measure.formula, known, ("report", "tables", table.id, "columns", measure.id))
        for i, check in enumerate(report.checks):
            path = ("report", "checks", i)
            if check.field not in fields:
                self.fail(path + ("field",), f"{check.field!r} names no field of this blueprint")
            _check_refs(self, check.when, known, path + ("when",))
            for name in re.findall(r"\{(\w+)\}", check.message):
                if name not in known:
                    self.fail(path + ("message",), f"{{{name}}} names no field of this blueprint")
        for fact, name in report.facts.items():
            if name not in fields:
                self.fail(("report", "facts", fact), f"{name!r} names no field of this blueprint")
        for i, chain in enumerate(report.chains):
            for j, name in enumerate(chain.fields):
                if name not in fields or fields[name].formula is None:
                    self.fail(
                        ("report", "chains", i, "fields", j), f"{name!r} is not a formula field of this blueprint"
                    )

    def read_chart(self, data: Any, path: Path_) -> Chart:
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

    # -- cross-references

    def check_highlights_and_lists(self, blueprint: Blueprint, known: set[str]) -> None:
        for s, sheet in enumerate(blueprint.sheets):
            for b, block in enumerate(sheet.blocks):
                own = {f.id for f in block_fields(block)}
                for h, highlight in enumerate(getattr(block, "highlights", ())):
                    path = ("sheets", s, "blocks", b, "highlights", h)
                    _check_refs(self, highlight.when.cases[""], known, path + ("when",))
                    for f, name in enumerate(highlight.fields):
                        if name not in own:
                            self.fail(path + ("fields", f), f"{name!r} is not a field of this block")
                    if isinstance(block, Grid) and not highlight.fields:
                        self.fail(path, "a grid's highlight names the fields it colours")
        fields = blueprint.fields()
        for i, item in enumerate(blueprint.lists):
            if item.field is not None and item.field not in fields:
                self.fail(("lists", i, "field"), f"no field {item.field!r}")
        # A sample that names a value of a fixed list (by its label key) must name one that is there.
        fixed = {l.id: list(l.values) for l in blueprint.lists if l.values}
        for s, sheet in enumerate(blueprint.sheets):
            for b, block in enumerate(sheet.blocks):
                key = {Form: "questions", Table: "columns", Grid: "measures"}[type(block)]
                for f, item in enumerate(block_fields(block)):
                    values = fixed.get(item.list) if item.type in ("choice", "yesno") else None
                    path = ("sheets", s, "blocks", b, key, f, "sample")
                    for where, sample in _samples(item.sample, path):
                        if values is not None and isinstance(sample, str) and sample not in values:
                            self.fail(where, f"{sample!r} is not a value of the list {item.list} ({', '.join(values)})")
                        if item.type == "text" and isinstance(sample, str):
                            self.label(sample, where)  # a text sample is a label key: it is translated
                        if values is not None and isinstance(sample, int) and not 0 <= sample < len(values):
                            self.fail(where, f"index {sample} is outside the list {item.list} (0 to {len(values) - 1})")
                        number = (
                            isinstance(sample, (int, float))
                            and not isinstance(sample, bool)
                            and item.type in NUMERIC_TYPES
                        )
                        if number and (
                            (item.min is not None and sample < item.min) or (item.max is not None and sample > item.max)
                        ):
                            self.fail(where, f"{sample} is outside {_bounds(item)}")
        # Budget lines carry samples by measure id: they must name a measure and respect its bounds.
        for c, category in enumerate(blueprint.categories):
            owners = [(("categories", c, "sample"), category.sample)] + [
                (("categories", c, "lines", l, "sample"), line.sample) for l, line in enumerate(category.lines)
            ]
            for path, samples in owners:
                for name, sample in samples.items():
                    item = fields.get(name)
                    if item is None:
                        self.fail(path + (name,), f"{name!r} is not a field of this blueprint")
                    for where, value in _samples(sample, path + (name,)):
                        if (item.min is not None and value < item.min) or (item.max is not None and value > item.max):
                            self.fail(where, f"{value:g} is outside {_bounds(item)}")
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
                if any("{company}" in self.labels[key] for key in texts if key):
                    self.fail(path, "chart titles and series names cannot use {company}")
                for i, name in enumerate(chart.series):
                    if chart.per == "channels" and name in grids and grids[name].rows.source != "channels":
                        self.fail(
                            path + ("series", i),
                            f"per: channels needs measures of a grid over channels; {name!r} is not",
                        )

    def check_fields(self, blueprint: Blueprint) -> None:
        """Ids are unique, formulas name fields that exist, options match, nothing depends on itself."""
        paths: dict[str, Path_] = {}
        grid_fields: set[str] = set()
        ids: list[tuple[str, Path_]] = []
        for s, sheet in enumerate(blueprint.sheets):
            for b, block in enumerate(sheet.blocks):
                key = {Form: "questions", Table: "columns", Grid: "measures"}[type(block)]
                for f, item in enumerate(block_fields(block)):
                    path = ("sheets", s, "blocks", b, key, f)
                    ids.append((item.id, path + ("id",)))
                    paths[item.id] = path
                    if isinstance(block, Grid):
                        grid_fields.add(item.id)
                    if isinstance(block, Table) and block.total is not None:
                        paths[f"{item.id}.total"] = path + ("total",)
                if isinstance(block, Table) and block.row_field:
                    ids.append((block.row_field, ("sheets", s, "blocks", b, "row_field")))
        self.unique(ids, "field")
        # Names formulas may use besides fields: row labels, and the first day of each month.
        known = set(paths) | {item_id for item_id, _ in ids}
        if grid_fields:
            known.add("month_start")
        self.check_highlights_and_lists(blueprint, known)
        self.check_report(blueprint, known)
        options = {o.id: o for o in blueprint.options}
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
                    self.fail(path + ("formula_by",), f"no option {formula.option!r}")
                wanted = set(options[formula.option].choices)
                if set(formula.cases) != wanted:
                    self.fail(path + ("formula",), f"give one formula for each of {', '.join(sorted(wanted))}")
            trees = list(formula.cases.values()) + ([formula.first] if formula.first else [])
            graph[name] = set()
            for tree in trees:
                for ref, modifier in fx.references(tree):
                    if modifier == "label":
                        if ref not in self.labels:
                            self.fail(path + ("formula",), f"{{label:{ref}}}: no label {ref!r} in labels")
                        self.used.add(ref)
                        self.in_formulas.add(ref)
                        continue
                    if ref not in known:
                        self.fail(path + ("formula",), f"{{{ref}}} names no field of this blueprint")
                    if modifier in ("prev", "last") and ref not in grid_fields:
                        self.fail(path + ("formula",), f"{{{ref}@{modifier}}}: only grid measures have months")
                    if modifier == "prev" and name not in grid_fields:
                        self.fail(path + ("formula",), "@prev is for grid measures, month to month")
                    if modifier == "prev" and formula.first is None:
                        self.fail(path, "a formula with @prev needs first: the formula of the first month")
                    if modifier != "prev":
                        graph[name].add(ref)
        cycle = _find_cycle(graph)
        if cycle:
            self.fail(paths[cycle[0]] + ("formula",), "circular reference: " + " -> ".join(cycle))
        for s, sheet in enumerate(blueprint.sheets):
            for c, chart in enumerate(sheet.charts):
                for i, series in enumerate(chart.series):
                    if series not in grid_fields:
                        self.fail(("sheets", s, "charts", c, "series", i), f"{series!r} is not a grid measure")


def _check_refs(reader: _BlueprintReader, tree: tuple, known: set[str], path: Path_) -> None:
    for ref, modifier in fx.references(tree):
        if modifier == "label":
            if ref not in reader.labels:
                reader.fail(path, f"{{label:{ref}}}: no label {ref!r} in labels")
            reader.used.add(ref)
            reader.in_formulas.add(ref)
        elif ref not in known:
            reader.fail(path, f"{{{ref}}} names no field of this blueprint")


def _samples(sample: Any, path: Path_) -> list[tuple[Path_, Any]]:
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


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
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


def _kind(data: Any) -> str:
    if data is None:
        return "nothing"
    return {dict: "a mapping", list: "a list", str: "text", bool: "true/false", int: "a number", float: "a number"}.get(
        type(data), type(data).__name__
    )
