"""The pages' catalogs, checked like the workbooks': the same keys as English with the same
placeholders, no key unused, no text left in English, and the language negotiation."""

from __future__ import annotations

import re

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.export.pipeline import FORMATS
from smm_sheets.locale_data import LANGUAGES
from smm_sheets.web import i18n
from smm_sheets.web.pages import TEMPLATES

WEB = TEMPLATES.parent
# Texts that are the same as English on purpose: the product's name, and the format's name.
SAME = {"site.name", "export.ics"}
SAME_IN = {"nb": {"make.team", "total.target"}, "lv": set(), "fi": set(), "mk": set()}


def test_the_catalogs_are_complete_and_agree():
    assert set(i18n.catalogs()) == set(LANGUAGES)
    assert i18n.problems() == []


def used_keys() -> set[str]:
    """Keys named in the templates and the web modules, and the report's figures by name."""
    text = "".join(p.read_text(encoding="utf-8") for p in [*TEMPLATES.glob("*.html"), *WEB.glob("*.py")])
    keys = {k for k in re.findall(r"""\bt\(\s*["']([a-z_.]+)["']""", text) if not k.endswith(".")}
    keys |= set(re.findall(r"""Refused\(\s*\d+,\s*["']([a-z_.]+)["']""", text))
    keys |= set(re.findall(r"""["'](error\.(?!html)[a-z_]+)["']""", text))
    keys |= {f"error.analysis_{reason}" for reason in ("time", "memory", "crash")}
    keys |= {f"severity.{s}" for s in ("error", "warning", "info")}
    keys |= {f"chart.posts.{table}" for table in ("by_month", "by_channel")}
    keys |= {"privacy.text", "footer.version"}
    keys |= {f"export.{f}" for f in FORMATS}
    keys |= {"check.since", "check.until"}  # the date fields' names in error.export_date
    for path in loader.builtin_blueprints():
        keys |= {f"make.option.{option.id}" for option in loader.load(path).options}  # the Make page's options
        report = loader.load(path).report
        keys |= {f"total.{m.id}" for m in report.totals}
        for table in report.tables:
            keys.add(f"total.{table.id}")
            rows = "channel_months" if table.rows == "channel_months" else table.rows.removesuffix("s")
            for name in {"channel_months": ("channel", "month")}.get(rows, (rows.replace("categorie", "category"),)):
                keys.add(f"total.{name}")
            keys |= {f"total.{c.id}" for c in table.columns}
    return keys


def test_every_key_is_used_and_every_used_key_exists():
    english = set(i18n.catalogs()["en"])
    used = used_keys()
    assert sorted(used - english) == []
    assert sorted(english - used) == []


@pytest.mark.parametrize("language", [lang for lang in LANGUAGES if lang != "en"])
def test_no_text_is_left_in_english(language):
    english, catalog = i18n.catalogs()["en"], i18n.catalogs()[language]
    same = {key for key in english if catalog[key] == english[key]} - SAME - SAME_IN[language]
    assert sorted(same) == []


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("fi-FI,fi;q=0.9,en-US;q=0.8", "fi"),
        ("de-DE,de;q=0.9", "en"),
        ("de;q=1, lv;q=0.5", "lv"),
        ("en;q=0.2, mk;q=0.9", "mk"),
        ("nn-NO", "nb"),
        ("fi;q=0, nb", "nb"),
        ("", "en"),
        (None, "en"),
        ("x" * 5000, "en"),
        ("fi;q=abc, lv", "lv"),
    ],
)
def test_negotiation(header, expected):
    assert i18n.negotiate(header) == expected


def test_a_language_asked_for_wins_over_the_browsers():
    assert i18n.choose("nb", "fi") == "nb"
    assert i18n.choose("../../etc", "fi") == "fi"
