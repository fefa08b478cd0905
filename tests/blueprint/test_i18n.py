"""Workbooks in every language: complete catalogs, legal sheet names, the same cells in every
language, and LibreOffice's recalculation of every blueprint in every language, blank and sampled."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
import yaml

from smm_sheets.blueprint import catalogs as catalog_files
from smm_sheets.blueprint import loader
from smm_sheets.blueprint.params import make_parameters
from smm_sheets.errors import BlueprintError, InputError
from smm_sheets.generator import xlsx
from smm_sheets.generator.pipeline import with_sample_goals
from smm_sheets.locale_data import LANGUAGES
from smm_sheets.plan import build
from tests.libreoffice import disagreements, error_cells, formula_cells, pdf, recalculate_plans
from tests.pdf_layout import require_pdftotext

BLUEPRINTS = [path.stem for path in loader.builtin_blueprints()]
OTHERS = [language for language in LANGUAGES if language != "en"]

# Texts that are the same in English and in a translation, on purpose: names, acronyms, codes,
# time zone ids, URLs. Keys by pattern (every language), then (language, key) pairs.
SAME_EVERYWHERE = re.compile(
    r"^(calendar\.tz\.\w+|kpi-report\.kpi\.(ctr|cpc|cpm|roas)|kpi-report\.column\.kpi|strategy\.(sheet|done)\.swot"
    r"|calendar\.sample\.base_url|calendar\.common\.category|strategy\.example\.channel\.(instagram|facebook|twitter)"
    r"|strategy\.sample\.(company_name|company_founded|company_founder|comp_name\.\d+|role_tools\.[23]|dist_networks))$"
)
SAME_IN = {
    # The same word in the language ("Idea", "Video"), or a file name that is ("outlet-fb").
    "fi": {
        "calendar.status.idea",
        "calendar.format.video",
        "calendar.format.live",
        "calendar.sample.asset_link.5",
        "calendar.sample.asset_link.13",
    },  # outlet-fb, kuura-fb
    "lv": {"calendar.format.video"},
    "mk": set(),
    # Norwegian uses these words as they are.
    "nb": {
        "budget.line.designer",
        "budget.line.hosting",
        "calendar.list.team",
        "calendar.column.format",
        "calendar.column.status",
        "calendar.format.reel",
        "calendar.format.story",
        "calendar.format.video",
        "roadmap.list.team",
        "roadmap.column.start",
        "roadmap.column.status",
        "roadmap.common.status",
        "strategy.list.team",
        "strategy.common.person",
        "strategy.column.crisis_scenario",
        "strategy.sample.company_hq",
    },
}


def english_text(section: str, key: str) -> str:
    return loader.catalogs()["en"][section][key]


def raw_catalog(language: str) -> dict:
    return yaml.safe_load(loader.catalog_path(language).read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the catalogs


def test_every_language_has_a_catalog():
    assert {path.stem for path in loader.CATALOG_DIR.glob("*.yaml")} == set(LANGUAGES)
    assert set(loader.catalogs()) == set(LANGUAGES)


@pytest.mark.parametrize("language", OTHERS)
def test_every_key_is_translated(language):
    english, translated = raw_catalog("en"), raw_catalog(language)
    assert list(translated) == list(english), "the same sections, in the same order"
    missing, untranslated = [], []
    for section, texts in english.items():
        for key, text in texts.items():
            if key not in translated[section]:
                missing.append(f"{section}.{key}")
            elif (
                translated[section][key] == text
                and not SAME_EVERYWHERE.match(f"{section}.{key}")
                and f"{section}.{key}" not in SAME_IN[language]
            ):
                untranslated.append(f"{section}.{key}: {text!r}")
    extra = [f"{s}.{k}" for s, texts in translated.items() for k in texts if k not in english[s]]
    assert missing == [] and extra == []
    assert untranslated == [], f"{len(untranslated)} texts are still English"


@pytest.mark.parametrize("language", OTHERS)
def test_the_allowed_identical_texts_are_really_identical(language):
    """The exceptions above must not hide translations that exist (a stale allowance)."""
    english, translated = raw_catalog("en"), raw_catalog(language)
    for name in SAME_IN[language]:
        section, key = name.split(".", 1)
        assert translated[section][key] == english[section][key], name


def test_no_catalog_holds_a_key_that_no_blueprint_uses():
    used = {bp: loader.load(bp).label_keys for bp in BLUEPRINTS}
    english = loader.catalogs()["en"]
    assert set(english) == set(BLUEPRINTS) | {loader.COMMON_SECTION}
    for section, texts in english.items():
        wanted = set().union(*used.values()) if section == loader.COMMON_SECTION else used[section]
        assert sorted(set(texts) - wanted) == [], f"{section}: keys no blueprint uses"
    common = set(english[loader.COMMON_SECTION])
    assert sorted(loader.FURNITURE_LABELS - common) == [], "furniture the layout needs"


def test_every_list_on_the_lists_sheet_has_a_header_text():
    for bp in BLUEPRINTS:
        blueprint = loader.load(bp)
        for item in blueprint.lists:
            if item.field is None:
                assert f"list.{item.id}" in blueprint.labels["en"], (bp, item.id)


@pytest.fixture
def catalog_copy(tmp_path, monkeypatch):
    """A copy of the catalogs that a test may break; the loader reads it instead."""
    folder = tmp_path / "i18n"
    shutil.copytree(loader.CATALOG_DIR, folder)
    monkeypatch.setattr(catalog_files, "CATALOG_DIR", folder)
    loader.catalogs.cache_clear()
    yield folder
    loader.catalogs.cache_clear()


def _line(path: Path, needle: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if needle in line)


@pytest.mark.parametrize(
    "old, new, path, reason",
    [
        ("  sheet.summary: Yhteenveto\n", "", "budget.sheet.summary", "missing translation (en.yaml: 'Summary')"),
        (
            "  sheet.summary: Yhteenveto\n",
            "  sheet.summary: Yhteenveto\n  sheet.sumary: Yhteenveto\n",
            "budget.sheet.sumary",
            "a key that en.yaml does not have",
        ),
        (
            'summat: {currency}"',
            'summat: {valuutta}"',
            "budget.sheet.budget.subtitle",
            "unknown placeholder {valuutta}",
        ),
        (
            'summat: {currency}"',
            'summat: euroa"',
            "budget.sheet.budget.subtitle",
            "placeholders differ from the English text's ({company}, {currency}, {first_month}, {last_month})",
        ),
        ("  sheet.budget: Budjetti\n", '  sheet.budget: ""\n', "budget.sheet.budget", "must be non-empty text"),
        (
            "  sheet.budget: Budjetti\n",
            "  sheet.budget: Budjetti/kulut\n",
            "budget.sheet.budget",
            "a sheet name is at most 31 characters",
        ),
        (
            "  sheet.budget: Budjetti\n",
            "  sheet.budget: Sosiaalisen median budjetti vuodelle\n",
            "budget.sheet.budget",
            "a sheet name is at most 31 characters",
        ),
        (
            "  sheet.summary: Yhteenveto\n",
            "  sheet.summary: BUDJETTI\n",
            "budget.sheet.summary",
            "sheet name 'BUDJETTI' is taken",
        ),
        ("  status.done: Valmis\n", "  status.done: Valmis*\n", "roadmap.status.done", "cannot hold * ? ~"),
        (
            "  status.done: Valmis\n",
            "  status.done: Jonossa\n",
            "roadmap.status.done",
            "'Jonossa' is twice in the list workflow",
        ),
    ],
)
def test_a_broken_catalog_names_the_file_the_line_and_the_key(catalog_copy, old, new, path, reason):
    finnish = catalog_copy / "fi.yaml"
    text = finnish.read_text(encoding="utf-8")
    assert old in text
    finnish.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(BlueprintError) as caught:
        for bp in ("budget", "roadmap"):
            loader.load(bp)
    error = caught.value
    assert error.source == str(finnish) and error.path == path, str(error)
    assert reason in error.reason, str(error)
    assert "\n" not in str(error)
    if new.strip():
        assert error.line == _line(finnish, new.strip().splitlines()[-1])


def test_a_missing_catalog_means_the_language_is_not_offered(catalog_copy):
    (catalog_copy / "lv.yaml").unlink()
    blueprint = loader.load("budget")
    assert "lv" not in blueprint.labels and "fi" in blueprint.labels
    with pytest.raises(InputError, match=r"no texts in language 'lv' \(languages: en, fi, mk, nb\)"):
        build(blueprint, make_parameters(language="lv"))


def test_a_stray_catalog_is_refused(catalog_copy):
    shutil.copy(catalog_copy / "fi.yaml", catalog_copy / "sv.yaml")
    with pytest.raises(BlueprintError, match=r"sv.yaml: no such language 'sv'"):
        loader.load("budget")


def test_an_unused_key_in_a_built_in_section_is_refused(catalog_copy):
    english = catalog_copy / "en.yaml"
    text = english.read_text(encoding="utf-8").replace(
        "  line.hosting: Hosting\n", "  line.hosting: Hosting\n  line.printer: Printer\n", 1
    )
    english.write_text(text, encoding="utf-8")
    for other in catalog_copy.glob("*.yaml"):  # keep the catalogs in step, so that only the use is wrong
        if other == english:
            continue
        lines = other.read_text(encoding="utf-8").replace("\nbudget:\n", "\nbudget:\n  line.printer: x\n", 1)
        other.write_text(lines, encoding="utf-8")
    with pytest.raises(BlueprintError) as caught:
        loader.load("budget")
    assert caught.value.path == "budget.line.printer" and "not used by blueprint budget" in caught.value.reason


# --------------------------------------------------------------------------- sheet names, formats


@pytest.mark.parametrize("bp", BLUEPRINTS)
def test_sheet_names_are_legal_in_every_language(bp):
    blueprint = loader.load(bp)
    assert set(blueprint.labels) == set(LANGUAGES)
    for language in LANGUAGES:
        plan = build(blueprint, make_parameters(language=language, sample=True))
        names = [sheet.name for sheet in plan.sheets]
        for name in names:
            assert 1 <= len(name) <= 31 and not re.search(r"[\[\]:*?/\\']", name), (language, name)
        assert len({name.casefold() for name in names}) == len(names), (language, names)


def _names(bp: str, language: str) -> list[str]:
    return [sheet.name for sheet in build(loader.load(bp), make_parameters(language=language)).sheets]


def test_formulas_quote_sheet_names_with_spaces_and_cyrillic():
    plan = build(loader.load("roadmap"), make_parameters(language="mk", sample=True))
    board = plan.sheets[1]
    initiatives = plan.sheets[0].name
    assert re.search(r"[\u0400-\u04FF]", initiatives), initiatives
    formulas = [cell.formula for cell in board.cells.values() if cell.kind == "formula"]
    quoted = "'" + initiatives.replace("'", "''") + "'!"
    assert any(quoted in text for text in formulas), formulas[:5]
    assert not any(re.search(rf"(?<!'){re.escape(initiatives)}!", text) for text in formulas)
    assert all(re.match(r"^='(?:[^']|'')+'![$A-Z0-9:]+$", ref) for ref in plan.names.values()), (
        "defined names quote their sheet"
    )
    # A sheet name with a space, referred to from another sheet (Finnish: "Tehtävätaulu" <- "Aloitteet" is
    # one word; the strategy's "SMART-tavoitteet" and "Yrityksen yhteenveto" have formulas on the overview).
    strategy = build(loader.load("strategy"), make_parameters(language="fi", sample=True))
    spaced = [sheet.name for sheet in strategy.sheets if " " in sheet.name]
    overview = [cell.formula for cell in strategy.sheets[0].cells.values() if cell.kind == "formula"]
    assert spaced and any(f"'{name}'!" in text for name in spaced for text in overview)


def _positions(plan) -> dict:
    """Everything about where things are, and nothing about the texts."""
    return {
        "sheets": [(len(sheet.cells), sheet.freeze, sheet.repeat_rows, sheet.hidden) for sheet in plan.sheets],
        "cells": [
            sorted((key, cell.kind, cell.style.role) for key, cell in sheet.cells.items()) for sheet in plan.sheets
        ],
        "stores": [[(s.col, s.first_row, s.last_row, s.kind) for s in sheet.stores] for sheet in plan.sheets],
        "items": {name: (p.sheet, p.role, p.rects) for name, p in plan.items.items()},
        "validations": [[v[:4] for v in sheet.validations] for sheet in plan.sheets],
        "highlights": [[h[:4] for h in sheet.highlights] for sheet in plan.sheets],
        "names": sorted(plan.names),
        "charts": [[(c.row, c.col, len(c.series)) for c in sheet.charts] for sheet in plan.sheets],
    }


@pytest.mark.parametrize("bp", BLUEPRINTS)
@pytest.mark.parametrize("sample", [False, True], ids=["blank", "sample"])
def test_every_language_puts_everything_in_the_same_cells(bp, sample):
    """The analyser rebuilds a plan from the workbook's language: cells must not move with it."""
    blueprint = loader.load(bp)
    plans = {language: build(blueprint, make_parameters(language=language, sample=sample)) for language in LANGUAGES}
    english = _positions(plans["en"])
    for language in OTHERS:
        assert _positions(plans[language]) == english, language
    # The same numbers in every input in every language: only texts differ (formulas may count
    # characters of a caption, so their values may differ).
    numbers = {
        language: sorted(
            (i, key, cell.value)
            for i, sheet in enumerate(plan.sheets)
            for key, cell in sheet.cells.items()
            if cell.kind == "input" and isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool)
        )
        for language, plan in plans.items()
    }
    for language in OTHERS:
        assert numbers[language] == numbers["en"], language


def test_number_formats_follow_the_language():
    finnish = build(loader.load("budget"), make_parameters(language="fi", currency="EUR"))
    formats = finnish.number_formats
    assert formats["money"] == '[$-40B]#,##0.00 "€";[Red]-#,##0.00 "€"'
    assert formats["date"] == "[$-40B]d.m.yyyy" and formats["header_month"] == "[$-40B]mmm yyyy"
    assert formats["percent"].startswith("[$-40B]")
    norwegian = build(loader.load("budget"), make_parameters(language="nb", currency="NOK")).number_formats
    assert norwegian["money"] == '[$-414]#,##0.00 "kr";[Red]-#,##0.00 "kr"' and norwegian["date"] == "[$-414]dd.mm.yyyy"
    assert (
        build(loader.load("budget"), make_parameters(language="mk", currency="MKD"))
        .number_formats["money"]
        .endswith('"ден."')
    )
    english = build(loader.load("budget"), make_parameters(currency="USD")).number_formats
    assert english["money"] == '"$"#,##0.00;[Red]-"$"#,##0.00' and english["date"] == "yyyy-mm-dd"


@pytest.mark.parametrize(
    "language, first",
    [("en", "Jan 2027"), ("fi", "tammi 2027"), ("lv", "janv. 2027"), ("mk", "јан. 2027"), ("nb", "jan 2027")],
)
def test_month_names_in_texts_are_the_languages(language, first):
    plan = build(loader.load("budget"), make_parameters(language=language, year=2027, company="Acme"))
    assert plan.sheets[0].cells[(1, 0)].value.startswith(f"Acme · {first} – ")


@pytest.mark.parametrize("language", LANGUAGES)
def test_weeks_start_on_monday(language):
    plan = build(loader.load("roadmap"), make_parameters(language=language, year=2027, start_month=5))
    weeks = sorted((key, cell.value) for key, cell in plan.sheets[0].cells.items() if cell.style.role == "header_week")
    assert len(weeks) == 53 and all(day.weekday() == 0 for _, day in weeks)
    assert weeks[0][1].isoformat() == "2027-04-26"  # 1 May 2027 is a Saturday


def test_defaults_are_in_the_language():
    params = make_parameters(language="nb")
    assert params.company == raw_catalog("nb")["_common"]["default.company"] != "Your company"
    assert params.team == (raw_catalog("nb")["_common"]["default.team"],)
    assert make_parameters(language="fi", company="Acme", team="Aino").company == "Acme"


@pytest.mark.parametrize("language", ["xx", "EN-us", "", 3])
def test_an_unknown_language_is_one_line(language):
    with pytest.raises(InputError, match=r"unknown language .*: use one of en, fi, lv, mk, nb$"):
        make_parameters(language=language)


@pytest.mark.parametrize("language", LANGUAGES)
def test_sample_goals_are_the_strategys_in_the_language(language):
    params = with_sample_goals(make_parameters(language=language, sample=True), [loader.load("strategy")])
    assert params.goals[0] == raw_catalog(language)["strategy"]["sample.goal_name.1"]
    # The goals go into _smm as parameters: the analyser reads them back through the same checks.
    assert make_parameters(language=language, goals=list(params.goals)).goals == params.goals


@pytest.mark.parametrize("language", OTHERS)
def test_hostile_company_names_stay_text(language, tmp_path):
    hostile = '=HYPERLINK("http://x","y")'
    plan = build(loader.load("budget"), make_parameters(language=language, company=hostile))
    path = xlsx.write(plan, tmp_path / "b.xlsx")
    sheet = openpyxl.load_workbook(path)[plan.sheets[0].name]  # the first after Start here
    assert sheet["A2"].data_type == "s" and sheet["A2"].value.startswith(hostile)


def test_generate_takes_lang(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "smm_sheets", "generate", "budget", "-o", str(tmp_path), "--lang", "mk", "--sample"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    book = openpyxl.load_workbook(tmp_path / "budget.xlsx")
    # The Start here sheet first, in the language, then the blueprint's sheets.
    assert book.sheetnames[:3] == ["Почнете тука"] + _names("budget", "mk")[:2]
    meta = {row[0].value: row[1].value for row in book["_smm"].iter_rows(max_col=2) if row[0].value}
    assert meta["language"] == "mk"
    bad = subprocess.run(
        [sys.executable, "-m", "smm_sheets", "generate", "budget", "-o", str(tmp_path), "--lang", "de"],
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip() == "smm-sheets: error: unknown language 'de': use one of en, fi, lv, mk, nb"


# --------------------------------------------------------------------------- LibreOffice


@pytest.fixture(scope="module")
def recalculated(soffice, tmp_path_factory):
    """Every blueprint in every language, blank and sampled: one LibreOffice start."""
    plans = {}
    for bp in BLUEPRINTS:
        blueprint = loader.load(bp)
        for language in LANGUAGES:
            for sample in (False, True):
                params = make_parameters(
                    language=language,
                    sample=sample,
                    channel_names=loader.load_channel_names(),
                    channels="instagram,facebook,tiktok",
                    year=2027,
                )
                plans[f"{bp}-{language}-{'sample' if sample else 'blank'}"] = build(
                    blueprint, with_sample_goals(params, [blueprint])
                )
    return recalculate_plans(plans, tmp_path_factory)


CASES = [f"{bp}-{language}-{kind}" for bp in BLUEPRINTS for language in LANGUAGES for kind in ("blank", "sample")]


@pytest.mark.parametrize("case", CASES)
def test_libreoffice_agrees_in_every_language(recalculated, case):
    _, generated, result = recalculated[case]
    cached, computed = formula_cells(generated), formula_cells(result)
    assert cached and set(cached) == set(computed)
    wrong = disagreements(cached, computed)
    assert wrong == [], f"{len(wrong)} of {len(cached)} differ:\n" + "\n".join(wrong[:30])
    assert error_cells(generated) == {} and error_cells(result) == {}


def test_libreoffice_shows_the_languages_months_and_decimal_comma(soffice, tmp_path):
    require_pdftotext()
    plan = build(loader.load("budget"), make_parameters(language="fi", sample=True, year=2027, company="Acme"))
    shown = subprocess.run(
        ["pdftotext", "-layout", str(pdf(xlsx.write(plan, tmp_path / "b.xlsx"), tmp_path)), "-"],
        capture_output=True,
        text=True,
    ).stdout
    assert "tammi 2027" in shown and "helmi 2027" in shown  # month headers are dates, shown in Finnish
    assert "29,00 €" in shown and "4 900,00 €" in shown  # decimal comma, space between thousands
