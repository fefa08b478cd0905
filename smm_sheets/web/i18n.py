"""The pages' texts in every language: catalogs ``smm_sheets/web/i18n/<language>.yaml``, flat
mappings of keys to texts, checked like the workbooks' catalogs (same keys as English, same
placeholders), and the choice of a language from a request.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

import yaml

from smm_sheets.locale_data import LANGUAGES

CATALOG_DIR = Path(__file__).parent / "i18n"
DEFAULT = "en"
# The languages' names in themselves, for the switch.
NAMES = {"en": "English", "fi": "Suomi", "lv": "Latviešu", "mk": "Македонски", "nb": "Norsk bokmål"}
_RANGE = re.compile(r"^\s*([A-Za-z]{1,8})(?:[-_][A-Za-z0-9]{1,8})*\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$")
# Languages people may ask for that we answer in one of ours: Norwegian in general and nynorsk.
_ALIASES = {"no": "nb", "nn": "nb"}


def catalog_path(language: str) -> Path:
    return CATALOG_DIR / f"{language}.yaml"


@cache
def catalogs() -> dict[str, dict[str, str]]:
    """Every language's catalog, as read (see :func:`problems` for the checks)."""
    found = {}
    for language in LANGUAGES:
        data = yaml.safe_load(catalog_path(language).read_text(encoding="utf-8"))
        found[language] = {str(k): str(v) for k, v in (data or {}).items()}
    return found


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def problems() -> list[str]:
    """What is wrong with the catalogs: keys missing or extra against English, placeholders that differ."""
    found = []
    texts = catalogs()
    english = texts[DEFAULT]
    for language in LANGUAGES:
        catalog = texts[language]
        for key in sorted(set(english) - set(catalog)):
            found.append(f"{language}.yaml: {key}: missing translation (en.yaml: {english[key]!r})")
        for key in sorted(set(catalog) - set(english)):
            found.append(f"{language}.yaml: {key}: not in en.yaml")
        for key in sorted(set(catalog) & set(english)):
            if placeholders(catalog[key]) != placeholders(english[key]):
                found.append(f"{language}.yaml: {key}: placeholders differ from en.yaml")
    return found


def negotiate(accept_language: str | None) -> str:
    """The best of our languages for an ``Accept-Language`` header; English if none fits."""
    ranked = []
    for position, item in enumerate((accept_language or "")[:1000].split(",")[:40]):
        match = _RANGE.match(item)
        if not match:
            continue
        code = match.group(1).lower()
        code = _ALIASES.get(code, code)
        try:
            quality = float(match.group(2)) if match.group(2) else 1.0
        except ValueError:
            continue
        if code in LANGUAGES and quality > 0:
            ranked.append((-quality, position, code))
    return min(ranked)[2] if ranked else DEFAULT


def choose(requested: str | None, accept_language: str | None) -> str:
    """The language asked for (``?lang=fi``), else the browser's (``Accept-Language``)."""
    if requested and requested.strip().lower() in LANGUAGES:
        return requested.strip().lower()
    return negotiate(accept_language)


class Texts:
    """A language's texts: ``t("make.title")``, ``t("check.files", count=3)``."""

    def __init__(self, language: str):
        self.language = language
        self.catalog = catalogs()[language]

    def __call__(self, key: str, **values: object) -> str:
        text = self.catalog[key]
        return text.format(**values) if values else text

    def get(self, key: str, default: str) -> str:
        return self.catalog.get(key, default)
