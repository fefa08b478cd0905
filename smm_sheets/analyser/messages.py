"""What the analyser says, in the workbook's language: the finding catalogs and their rendering.

The texts live in ``smm_sheets/analyser/i18n/<language>.yaml``, one flat mapping of message
keys to texts per language (en, fi, lv, mk, nb). A text may be a mapping of CLDR plural
categories (``one``, ``other``...) for a count. They are checked as strictly as the workbook
catalogs: every language has exactly English's keys, with the same placeholders, none empty.

A finding carries a message key and its *facts* (labels, numbers, dates, lists of allowed
values); :func:`render` words them in a language, numbers and dates as that locale writes them.
``{place}`` in a text is where the finding is, made from the facts ``field``, ``line``,
``category``, ``channel``, ``month``, ``member``, ``post`` and ``row``.
"""

from __future__ import annotations

import datetime as dt
import string
from functools import cache
from pathlib import Path
from typing import Any

from smm_sheets.blueprint.source import cached, parse_yaml
from smm_sheets.errors import BlueprintError
from smm_sheets.locale_data import LANGUAGES, format_date, format_number, plural_category

CATALOG_DIR = Path(__file__).parent / "i18n"
# Facts that say where a finding is, in the order {place} names them.
PLACE_FACTS = ("line", "category", "channel", "member", "value", "month", "item")
# Facts that are numbers but not amounts: written as they are (2027, not 2,027).
PLAIN_FACTS = {"row", "year", "start_month", "count", "cells", "errors", "warnings", "infos", "files"}


def catalog_path(language: str) -> Path:
    """``smm_sheets/analyser/i18n/<language>.yaml``."""
    return CATALOG_DIR / f"{language}.yaml"


def placeholders(text: str | dict) -> set[str]:
    """The ``{names}`` a text (or each plural form of it) uses."""
    forms = text.values() if isinstance(text, dict) else [text]
    return {name for form in forms for _, name, _, _ in string.Formatter().parse(str(form)) if name}


@cache
def catalogs() -> dict[str, dict[str, str | dict[str, str]]]:
    """Every language's finding catalog, checked. Kept in the user's cache folder
    (:func:`~smm_sheets.blueprint.source.cached`) until a catalog or this module changes.

    Raises:
        BlueprintError: a catalog is missing or malformed, a key is missing or extra, a text is
            empty, or its placeholders differ from English's.
    """
    texts: dict[str, str] = {}
    for language in LANGUAGES:
        path = catalog_path(language)
        try:
            texts[language] = path.read_text(encoding="utf-8")
        except OSError as error:
            raise BlueprintError(
                str(path), "", f"cannot read the {language} finding catalog: {error.strerror}"
            ) from None
    key = "\0\0".join(f"{catalog_path(language)}\0{text}" for language, text in texts.items()).encode()
    return cached("findings", key, lambda: _read_catalogs(texts), code=("analyser/messages.py",))


def _read_catalogs(texts: dict[str, str]) -> dict[str, dict[str, str | dict[str, str]]]:
    tables: dict[str, dict[str, Any]] = {}
    for language, source_text in texts.items():
        path = catalog_path(language)
        data, lines = parse_yaml(source_text, str(path))
        if not isinstance(data, dict):
            raise BlueprintError(str(path), "", "must be a mapping of message keys to texts", 1)
        for key, text in data.items():
            forms = text.values() if isinstance(text, dict) else [text]
            if not all(isinstance(form, str) and form.strip() for form in forms):
                raise BlueprintError(
                    str(path), key, "must be a non-empty text, or a mapping of plural forms to texts", lines.get((key,))
                )
            if isinstance(text, dict) and "other" not in text:
                raise BlueprintError(str(path), key, "plural forms need an 'other' form", lines.get((key,)))
        tables[language] = {str(k): v for k, v in data.items()}
    english = tables["en"]
    for language, table in tables.items():
        source = str(catalog_path(language))
        for key in english.keys() - table.keys():
            raise BlueprintError(source, key, f"missing translation (en.yaml: {english[key]!r})")
        for key in table.keys() - english.keys():
            raise BlueprintError(source, key, "not a key of en.yaml")
        for key, text in table.items():
            if placeholders(text) != placeholders(english[key]):
                raise BlueprintError(
                    source,
                    key,
                    f"placeholders {sorted(placeholders(text))} differ from en.yaml's {sorted(placeholders(english[key]))}",
                )
    return tables


def has(key: str) -> bool:
    """Is ``key`` a message of the catalogs?"""
    return key in catalogs()["en"]


def text(key: str, language: str = "en", count: float | None = None, **values: Any) -> str:
    """A catalog text in ``language`` with ``values`` filled in (the plural form of ``count``)."""
    table = catalogs().get(language) or catalogs()["en"]
    template = table[key]
    if count is not None:
        values.setdefault("count", count)
    if isinstance(template, dict):
        category = plural_category(count if count is not None else 0, language)
        template = template.get(category, template["other"])
    return template.format_map(_Values(values, language))


def render(key: str, facts: dict[str, Any], language: str = "en") -> str:
    """A finding's message: the text of ``key`` with its facts, worded and formatted in ``language``."""
    values = dict(facts)
    values["place"] = place(facts, language)
    count = values.pop("count", None)
    return text(key, language, count=count, **values)


def place(facts: dict[str, Any], language: str = "en") -> str:
    """Where a finding is, in words: the field's label and the labels of its row and month."""
    field = facts.get("field")
    if "post" in facts:
        post = facts["post"]
        if post.get("date") is not None and post.get("channel"):
            return text("place.post", language, field=field, date=post["date"], channel=post["channel"])
        if post.get("date") is not None:
            return text("place.post_date", language, field=field, date=post["date"])
    if "item" in facts and field:
        return text("place.item", language, field=field, item=facts["item"])
    if "row" in facts and field:
        return text("place.row", language, field=field, row=facts["row"])
    where = [facts[name] for name in PLACE_FACTS if facts.get(name) not in (None, "")]
    if where and field:
        return text("place.cell_at", language, field=field, where=", ".join(_word(v, language) for v in where))
    if field:
        return text("place.cell", language, field=field)
    return ", ".join(_word(v, language) for v in where)


def _word(value: Any, language: str) -> str:
    """A fact as the message shows it: numbers and dates as the language writes them."""
    if isinstance(value, bool):
        return str(value).upper()
    if isinstance(value, (int, float)):
        return format_number(value, language)
    if isinstance(value, dt.datetime):
        return format_date(value.date(), language)
    if isinstance(value, dt.date):
        return format_date(value, language)
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, (list, tuple)):
        return ", ".join(_word(v, language) for v in value)
    if value is None:
        return ""
    return str(value)


class _Values(dict):
    """The values of a template, each worded as the language writes it."""

    def __init__(self, values: dict[str, Any], language: str):
        super().__init__(values)
        self.language = language

    def __getitem__(self, key: str) -> str:
        value = super().__getitem__(key)
        if key in PLAIN_FACTS and isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(int(value)) if float(value).is_integer() else str(value)
        return _word(value, self.language)

    def __missing__(self, key: str) -> str:
        return "…"


def json_fact(value: Any) -> Any:
    """A fact as JSON holds it: dates in ISO form, the rest as it is."""
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return [json_fact(v) for v in value]
    if isinstance(value, dict):
        return {k: json_fact(v) for k, v in value.items()}
    return value
