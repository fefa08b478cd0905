"""The texts people read, per language, and the facts every blueprint shares.

The texts live in per-language catalogs, ``blueprints/i18n/<language>.yaml``: a section per
blueprint id (and ``_common`` for the furniture every workbook shares), each mapping label keys
to texts. Every catalog has exactly the keys of ``en.yaml``, with the same placeholders.
``blueprints/_common.yaml`` holds the display names and facts of well-known channels.

Owns where the shipped files are (:data:`BUILTIN_DIR`, :data:`CATALOG_DIR`), the checked
catalogs, and what makes a label key or a label's text legal (also for a blueprint's inline labels).
"""

from __future__ import annotations

import re
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

from smm_sheets.blueprint.source import Text, cached, kind_of, parse_yaml
from smm_sheets.errors import BlueprintError
from smm_sheets.locale_data import LANGUAGES

_PACKAGE = Path(__file__).parent.parent
# Installed, the blueprints are inside the package; in a checkout, beside it.
BUILTIN_DIR = next(
    (p for p in (_PACKAGE / "blueprints", _PACKAGE.parent / "blueprints") if p.is_dir()),
    _PACKAGE / "blueprints",
)
CATALOG_DIR = BUILTIN_DIR / "i18n"
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
        "common.every_month",
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
    # The Start here sheet (plan/place.py: Placer.place_start).
    | {
        f"start.{key}"
        for key in (
            "sheet purpose order fill read lists colours add add.text carry carry.text opening.text check check.text".split()
            + ["colour.input", "colour.formula", "colour.total", "colour.na", "colour.status"]
        )
    }
)
COMMON_SECTION = "_common"
LABEL_KEY = re.compile(r"^[a-z][a-z0-9_.]*$")


@lru_cache(maxsize=1)
def _common() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """Channel names and channel facts shared by all blueprints (``blueprints/_common.yaml``)."""
    path = BUILTIN_DIR / "_common.yaml"
    text = path.read_text(encoding="utf-8")

    def read() -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
        data, _ = parse_yaml(text, str(path))
        return {str(k): str(v) for k, v in data["channels"].items()}, data["channel_data"]

    return cached("common", f"{path}\0{text}".encode(), read)


_shipped: dict[tuple, bytes] = {}


def shipped_key() -> bytes:
    """The content the catalogs and the shared channel facts are made from (every file's name and
    bytes): part of the cache key of whatever is made with them. Read again when a file's size or
    time changes."""
    paths = [BUILTIN_DIR / "_common.yaml", *sorted(CATALOG_DIR.glob("*.yaml"))]
    stamps = []
    for path in paths:
        try:
            stat = path.stat()
            stamps.append((str(path), stat.st_size, stat.st_mtime_ns))
        except OSError:
            stamps.append((str(path), -1, -1))
    signature = tuple(stamps)
    if signature not in _shipped:
        parts = []
        for path in paths:
            try:
                parts.append(str(path).encode() + b"\0" + path.read_bytes())
            except OSError:
                parts.append(str(path).encode() + b"\0missing")
        _shipped.clear()
        _shipped[signature] = b"\0\0".join(parts)
    return _shipped[signature]


def load_channel_names() -> dict[str, str]:
    """Display names of well-known channels, by id: ``tiktok`` -> ``TikTok``."""
    return dict(_common()[0])


def channel_data() -> dict[str, dict[str, Any]]:
    """Facts about well-known channels, by channel id; one shared mapping, not to be changed."""
    return _common()[1]


def default_texts(language: str) -> dict[str, str]:
    """The company and team names a workbook gets when none are given.

    Args:
        language: a language code; one without a catalog gets English.

    Returns:
        ``{"company": ..., "team": ...}``.
    """
    texts = _default_texts()
    return dict(texts.get(language, texts["en"]))


_defaults: dict[bytes, dict[str, dict[str, str]]] = {}


def _default_texts() -> dict[str, dict[str, str]]:
    """Each language's default company and team names, kept in the cache folder apart from the
    catalogs: generating a workbook needs these few texts, not every catalog (600 KB to unpickle)."""

    def make() -> dict[str, dict[str, str]]:
        return {
            language: {"company": str(common["default.company"]), "team": str(common["default.team"])}
            for language, sections in catalogs().items()
            for common in (sections[COMMON_SECTION],)
        }

    key = shipped_key()
    if key not in _defaults:
        _defaults.clear()
        _defaults[key] = cached("default-texts", key, make)
    return _defaults[key]


def catalog_path(language: str) -> Path:
    """The catalog file of ``language``: ``blueprints/i18n/<language>.yaml``."""
    return CATALOG_DIR / f"{language}.yaml"


@lru_cache(maxsize=1)
def catalogs() -> dict[str, dict[str, dict[str, Text]]]:
    """Every language's catalog, checked: ``{language: {section: {key: text}}}``. Kept in the
    user's cache folder (:func:`~smm_sheets.blueprint.source.cached`) until a catalog changes.

    Raises:
        BlueprintError: a catalog is missing or unreadable, a key is missing, extra or
            malformed, a text is empty or its placeholders differ from the English text's.
    """
    return cached("catalogs", shipped_key(), _read_catalogs)


def _read_catalogs() -> dict[str, dict[str, dict[str, Text]]]:
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
        data, lines = parse_yaml(text, source)
        if not isinstance(data, dict):
            raise BlueprintError(source, "", f"must be a mapping of sections, not {kind_of(data)}", 1)
        sections: dict[str, dict[str, Text]] = {}
        for name, section in data.items():
            if not isinstance(section, dict):
                raise BlueprintError(
                    source,
                    name,
                    f"must be a mapping of label keys to texts, not {kind_of(section)}",
                    lines.get((name,)),
                )
            sections[name] = {}
            for key, value in section.items():
                where, line = f"{name}.{key}", lines.get((name, key))
                if not LABEL_KEY.match(key):
                    raise BlueprintError(source, where, "a label key is lower-case letters, digits, _ and .", line)
                problem = text_problem(value)
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
                if placeholders(have[key]) != placeholders(english_text):
                    shown = ", ".join("{" + p + "}" for p in sorted(placeholders(english_text))) or "none"
                    raise BlueprintError(
                        source, have[key].path, f"placeholders differ from the English text's ({shown})", have[key].line
                    )
            for key, text in have.items():
                if key not in wanted:
                    raise BlueprintError(source, text.path, "a key that en.yaml does not have", text.line)
    return tables


def text_problem(value: Any) -> str | None:
    """Why ``value`` cannot be a label's text.

    Args:
        value: a value read from YAML.

    Returns:
        The reason (empty, not text, a bad brace, an unknown placeholder), or None when it can.
    """
    if not isinstance(value, str) or not value.strip():
        return f"must be non-empty text, not {kind_of(value)}"
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(value)]
    except ValueError as error:
        return f"{error} (write a literal brace as {{{{ or }}}})"
    for name in names:
        if name is not None and name not in LABEL_PLACEHOLDERS:
            return f"unknown placeholder {{{name}}} (known: {', '.join(sorted(LABEL_PLACEHOLDERS))})"
    return None


def placeholders(text: str) -> set[str]:
    """The placeholder names in a label's text: ``{company}`` -> ``company``."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
