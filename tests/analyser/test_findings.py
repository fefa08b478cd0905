"""Findings people understand, in their language: the finding catalogs are complete and strict,
every code is worded in all five languages, cells are named by their labels, and no internal id
(a field id, a word joined by ``_``) or pasted formula leaks into a message."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from smm_sheets import formula as fx
from smm_sheets.analyser import messages, reader
from smm_sheets.analyser import pipeline as A
from smm_sheets.analyser.checks.blueprint import chain_key, check_keys
from smm_sheets.analyser.checks.inputs import read_date, read_number
from smm_sheets.analyser.findings import CODES
from smm_sheets.blueprint import loader
from smm_sheets.cli import main
from smm_sheets.errors import BlueprintError
from smm_sheets.generator.pipeline import generate
from smm_sheets.locale_data import LANGUAGES
from smm_sheets.plan import build
from tests.conftest import params
from tests.helpers import ROOT

YEAR = 2031
SOURCE = ROOT / "smm_sheets"
# Keys whose English text is also right in the language (a label and its row, in brackets).
SAME_AS_ENGLISH = {("fi", "place.cell_at"), ("nb", "place.cell_at")}
# Keys the code builds from parts (f"report.{head}", f"severity.{severity}", f"set-mismatch.{key}").
COMPOSED = (
    {f"report.{head}" for head in ("sheet", "cell", "severity", "code", "message")}
    | {f"report.summary.{name}" for name in ("files", "errors", "warnings")}
    | {f"severity.{name}" for name in ("error", "warning", "info")}
    | {f"set-mismatch.{key}" for key in ("company", "year", "start_month", "channels", "team")}
)
# What no message may show: a word joined by "_" (a field or list id), the analyser's own names.
INTERNAL = re.compile(r"\b\w+_\w+\b|\bsmm_|planned:|CellError|\{|\}")
BLUEPRINT_FIELD_IDS = {
    name for path in loader.builtin_blueprints() for name in loader.load(path).fields() if "_" in name
}


def _blueprint_keys() -> set[str]:
    keys = set()
    for path in loader.builtin_blueprints():
        blueprint = loader.load(path)
        keys.update(check_keys(blueprint))
        keys.update(chain_key(blueprint, chain.code) for chain in blueprint.report.chains)
        # The text report's headings: every total, table and column, and the tables' rows.
        keys.update(f"total.{total.id}" for total in blueprint.report.totals)
        for table in blueprint.report.tables:
            keys.add(f"total.{table.id}")
            keys.update(f"total.{column.id}" for column in table.columns)
            names = {
                "months": ("month",),
                "lines": ("line",),
                "categories": ("category",),
                "channels": ("channel",),
                "channel_months": ("channel", "month"),
            }[table.rows]
            keys.update(f"rows.{name}" for name in names)
    return keys


# --------------------------------------------------------------------------- the catalogs


def test_every_language_has_a_finding_catalog_with_englishs_keys():
    tables = messages.catalogs()
    assert set(tables) == set(LANGUAGES)
    for language, table in tables.items():
        assert set(table) == set(tables["en"]), language


def test_every_key_is_used_and_every_code_has_a_text():
    source = "\n".join(path.read_text(encoding="utf-8") for path in SOURCE.rglob("*.py"))
    english = set(messages.catalogs()["en"])
    used = {key for key in english if f'"{key}"' in source or f"'{key}'" in source}
    unused = english - used - COMPOSED - _blueprint_keys()
    assert not unused, f"keys no code uses: {sorted(unused)}"
    assert _blueprint_keys() <= english, "every built-in blueprint check and total has its text"
    for code in CODES:
        assert code in english or any(key.startswith(code + ".") for key in english), code


def test_no_text_is_left_in_english():
    tables = messages.catalogs()
    for language in LANGUAGES[1:]:
        for key, text in tables[language].items():
            if (language, key) not in SAME_AS_ENGLISH:
                assert text != tables["en"][key], f"{language}.yaml: {key} is not translated"


def _broken_catalogs(tmp_path, monkeypatch, change) -> None:
    folder = tmp_path / "i18n"
    shutil.copytree(messages.CATALOG_DIR, folder)
    path = folder / "fi.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    monkeypatch.setattr(messages, "CATALOG_DIR", folder)
    messages.catalogs.cache_clear()


@pytest.mark.parametrize(
    "change, complaint",
    [
        (lambda data: data.pop("missing-value"), "missing translation"),
        (lambda data: data.update({"no-such-key": "x"}), "not a key of en.yaml"),
        (lambda data: data.update({"missing-value": "{place}: {found} puuttuu"}), "placeholders"),
        (lambda data: data.update({"missing-value": ""}), "non-empty"),
        (lambda data: data.update({"report.summary.files": {"one": "{count} tiedosto"}}), "'other'"),
    ],
)
def test_a_broken_catalog_is_refused(tmp_path, monkeypatch, change, complaint):
    _broken_catalogs(tmp_path, monkeypatch, change)
    try:
        with pytest.raises(BlueprintError, match=re.escape(complaint)):
            messages.catalogs()
    finally:
        monkeypatch.undo()
        messages.catalogs.cache_clear()


# --------------------------------------------------------------------------- every key, every language

LABEL = "Kuvaajan palkkio"  # a label with no "_", so that it is easy to find
FACTS = {
    "field": LABEL,
    "line": "Valokuvaaja",
    "month": "maalis 2031",
    "found": "1 200,50",
    "expected": 1200.5,
    "example": 1234.5,
    "allowed": ["Idea", "Luonnos", "Julkaistu"],
    "min": 0,
    "max": 5,
    "row": 12,
    "count": 3,
    "target": "kassa.xlsx",
    "format": ".ods",
    "sheet": "Budjetti",
    "column": "F",
    "file": "roadmap.xlsx",
    "fields": ["Tekstin pituus", "Raja"],
    "actual": 395.0,
    "planned": 370.0,
    "available": 370.0,
    "caption_length": 2300,
    "post_channel": "Instagram",
    "caption_limit_post": 2200,
    "posts": 3,
    "impressions": 1000,
    "link_clicks": 1200,
    "reach": 1500,
    "end": dt.date(2031, 3, 2),
    "start": dt.date(2031, 3, 9),
    "due": dt.date(2031, 3, 2),
    "cell": "XFD10000",
    "text": "-inf",
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_worded_in_every_language(language):
    english = messages.catalogs()["en"]
    for key in english:
        if key.startswith(("place.", "report.", "severity.")):
            continue
        text = messages.render(key, FACTS, language)
        assert text and "…" not in text, (key, text)
        assert not INTERNAL.search(text.replace("smm-sheets", "")), (key, text)
        if "{place}" in str(english[key]) or "{field}" in str(english[key]):
            assert LABEL in text, (key, text)
        if "{line}" in str(english[key]):
            assert "Valokuvaaja" in text
        if "{allowed}" in str(english[key]):
            assert "Idea, Luonnos, Julkaistu" in text


def test_numbers_and_dates_are_written_as_the_language_writes_them():
    facts = {"field": LABEL, "found": "1200,50 €", "expected": 1200.5}
    assert "1 200,5" in messages.render("type-error.number-text", facts, "fi").replace("\xa0", " ")
    assert "1,200.5" in messages.render("type-error.number-text", facts, "en")
    assert "1.200,5" in messages.render("type-error.number-text", facts, "mk")
    day = {"field": LABEL, "found": "3/9/2031", "expected": dt.date(2031, 3, 9)}
    assert "9.3.2031" in messages.render("type-error.date-text", day, "fi")
    assert "09.03.2031" in messages.render("type-error.date-text", day, "nb")
    assert "2031-03-09" in messages.render("type-error.date-text", day, "en")
    assert messages.render("set-mismatch.year", {"found": "2031", "expected": "2030", "file": "a"}, "en").startswith(
        "The year is 2031 here but 2030"
    )


@pytest.mark.parametrize(
    "text, language, number, certain",
    [
        ("2,6k", "fi", 2600.0, True),
        ("1 200,50", "fi", 1200.5, True),
        ("1,5", "fi", 1.5, True),
        ("1,200", "en", 1200.0, True),
        ("1.200", "mk", 1200.0, True),  # Macedonian groups thousands with "."
        ("1.200", "fi", 1200.0, False),  # a Finn would not write it: twelve hundred, or 1.2?
        ("1,200.50", "fi", 1200.5, False),
        ("12 %", "nb", 0.12, True),
        ("abc", "fi", None, False),
    ],
)
def test_numbers_typed_as_text_are_read_in_the_workbooks_language(text, language, number, certain):
    assert read_number(text, language) == (number, certain)


def test_dates_typed_as_text_are_read_in_the_workbooks_language():
    assert read_date("03.04.2031", "fi") == (dt.date(2031, 4, 3), True)
    assert read_date("03/04/2031", "en") == (dt.date(2031, 4, 3), False)  # day first, but not certain
    assert read_date("2031-04-03", None) == (dt.date(2031, 4, 3), True)


# --------------------------------------------------------------------------- real findings


@pytest.fixture(scope="module")
def finnish_budget(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("fi")
    return generate(loader.load("budget"), params(sample=True, year=YEAR, language="fi"), folder)


def _cell(plan, item: str, index: int = 0) -> tuple[str, int, int]:
    placement = plan.items[item]
    _, row, col = placement.cells[index]
    return plan.sheets[placement.sheet].name, row, col


def _set(data, sheet: str, row: int, col: int, value, formula: str | None = "keep") -> None:
    rows = data.sheets[sheet].rows
    while len(rows[row]) <= col:
        rows[row].append(None)
    rows[row][col] = value
    if formula is None:
        data.sheets[sheet].formulas.pop((row, col), None)


def _edited_budget(path: Path):
    plan = build(loader.load("budget"), params(sample=True, year=YEAR, language="fi"), values=False)
    data = reader.read(path)
    text_cell = _cell(plan, "actual", 40)
    approved = _cell(plan, "approved_on")
    overspend = _cell(plan, "actual", 2)
    formula = _cell(plan, "category_planned", 0)
    _set(data, *text_cell, "1 200,50")
    _set(data, *approved, "12.03.2031")
    _set(data, *overspend, 99999.0)
    _set(data, *formula, fx.NA, formula=None)
    return data


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_finnish_budgets_findings_name_lines_and_months_in_every_language(finnish_budget, language):
    report = A.analyse_data(_edited_budget(finnish_budget), language)
    assert report.language == language
    by_code = {}
    for item in report.findings:
        by_code.setdefault(item.code, []).append(item)
        text = item.message.replace("smm-sheets", "")
        assert not INTERNAL.search(text), item.message
        assert not any(name in item.message for name in BLUEPRINT_FIELD_IDS), item.message
        assert "=" not in item.message, f"a pasted formula: {item.message}"
    typed = by_code["type-error"][0]
    assert typed.facts["expected"] == 1200.5 and typed.facts["line"] and typed.facts["month"]
    assert typed.facts["line"] in typed.message and typed.facts["month"] in typed.message
    assert typed.facts["field"] in typed.message  # "Toteutunut": the workbook's label
    spent = by_code["overspend"][0]
    assert spent.facts["line"] in spent.message and spent.facts["month"] in spent.message
    assert spent.facts["actual"] == 99999
    assert "#N/A" in by_code["formula-overwritten"][0].message


def test_the_workbooks_language_is_the_default_and_lang_overrides_it(finnish_budget, tmp_path):
    data = _edited_budget(finnish_budget)
    finnish = A.analyse_data(data)
    assert finnish.language == "fi"
    typed = next(f for f in finnish.findings if f.code == "type-error" and "1 200,50" in f.message)
    assert "on tekstiä eikä luku" in typed.message and "1 200,5" in typed.message.replace("\xa0", " ")
    target = tmp_path / "budget.xlsx"
    shutil.copy(finnish_budget, target)
    runner = CliRunner()
    text = runner.invoke(main, ["analyse", str(target)]).output
    assert "taulukko" in text and "vakavuus" in text and "tiedosto" in text  # headings in Finnish
    text = runner.invoke(main, ["analyse", str(target), "--lang", "nb"]).output
    assert "alvorlighet" in text and "fil" in text
    assert runner.invoke(main, ["analyse", str(target), "--lang", "xx"]).exit_code == 2


def test_list_findings_give_the_allowed_values(tmp_path):
    path = generate(loader.load("calendar"), params(sample=True, year=YEAR, language="nb"), tmp_path)
    plan = build(loader.load("calendar"), params(sample=True, year=YEAR, language="nb"), values=False)
    data = reader.read(path)
    _set(data, *_cell(plan, "post_channel", 0), "Myspace")
    _set(data, *_cell(plan, "post_status", 1), "Tenker på det")
    report = A.analyse_data(data)
    channel = next(f for f in report.findings if f.code == "channel-not-in-plan")
    assert channel.facts["allowed"] == ["Instagram", "Facebook"]
    assert "Instagram, Facebook" in channel.message and "«Myspace»" in channel.message
    assert channel.facts["post"]["date"]  # the post is named by its date
    status = next(f for f in report.findings if f.code == "status-not-in-workflow")
    assert len(status.facts["allowed"]) >= 4 and all(value in status.message for value in status.facts["allowed"])
    assert "post_status" not in status.message and "post status" not in status.message
