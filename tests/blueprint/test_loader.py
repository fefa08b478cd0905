"""Strict blueprint loading: every mistake is one line naming the file, line and key path."""

from __future__ import annotations

from pathlib import Path

import pytest

from smm_sheets.blueprint import loader
from smm_sheets.blueprint.model import Grid, Table
from smm_sheets.errors import BlueprintError

BUDGET = (loader.BUILTIN_DIR / "budget.yaml").read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), start=1) if needle in line)


def broken(old: str, new: str) -> tuple[str, int]:
    """The budget with one change, and the line of the change."""
    assert old in BUDGET, old
    text = BUDGET.replace(old, new, 1)
    return text, line_of(text, new) if new.strip() else None


def with_labels(text: str, **texts: str) -> str:
    """A blueprint with its own (inline) English labels, which win over the catalog's."""
    lines = "".join(f"    {key.replace('__', '.')}: {value}\n" for key, value in texts.items())
    return text + "labels:\n  en:\n" + lines


def error_of(text: str) -> BlueprintError:
    with pytest.raises(BlueprintError) as caught:
        loader.loads(text, "mine.yaml")
    assert "\n" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize(
    "old, new, path, message",
    [
        ("    landscape: true", "    landscap: true", "sheets[1].landscap", "unknown key"),
        ('version: "1.1"', "version: [1]", "version", "must be a version"),
        (
            'formula: "SUM({planned})"}',
            'formula: "SUM({planed})"}',
            "sheets[0].blocks[4].measures[0].formula",
            "{planed} names no field",
        ),
        ("id: design_tool,", "id: scheduling,", "categories[0].lines[1].id", "duplicate line id 'scheduling'"),
        (
            "id: total_actual,",
            "id: total_planned,",
            "sheets[0].blocks[5].measures[2].id",
            "duplicate field id 'total_planned'",
        ),
        ("label: line.hosting", "label: line.hostin", "categories[3].lines[2].label", "no label 'line.hostin'"),
        ("type: percent", "type: procent", "sheets[1].blocks[0].columns[3].type", "must be one of"),
        ("type: percent", "type: percent, whole: true", "sheets[1].blocks[0].columns[3].whole", "only a number field"),
        (
            "{category_planned}-{category_actual})",
            "{category_variance}-{category_actual})",
            "sheets[0].blocks[4].measures[2].formula",
            "circular reference",
        ),
        (
            '              positive: "IF({actual}=\\"\\",0,MAX(0,{available}-{actual}))"\n',
            "",
            "sheets[0].blocks[3].measures[1].formula",
            "give one formula for each of none, positive, signed",
        ),
        (
            '"SUM({surplus})"',
            '"XLOOKUP({surplus})"',
            "sheets[0].blocks[5].measures[4].formula",
            "XLOOKUP is not supported",
        ),
        (
            "rows: categories\n        measures",
            "rows: months\n        measures",
            "sheets[0].blocks[4].rows",
            "a grid's rows are lines, categories, total, channels, list",
        ),
        (
            "series: [total_planned, total_actual]",
            "series: [total_planned, year_actual]",
            "sheets[1].charts[0].series[1]",
            "not a grid measure",
        ),
        (
            "{id: prepared_by, label: question.prepared_by}",
            "{id: prepared_by, label: question.prepared_by, min: 1}",
            "sheets[1].blocks[1].questions[0].min",
            "only number, integer, money and percent",
        ),
        (
            "year: last, formula",
            "year: last, sample: 3, formula",
            "sheets[0].blocks[5].measures[4]",
            "a computed field has neither required nor sample",
        ),
    ],
)
def test_each_mistake_names_file_line_and_key_path(old, new, path, message):
    text = BUDGET.replace(old, new, 1)
    assert text != BUDGET
    error = error_of(text)
    assert error.source == "mine.yaml"
    assert error.path == path, str(error)
    assert message in error.reason, str(error)
    assert str(error).startswith(f"mine.yaml:{error.line}: {path}: ")


def test_line_numbers_point_at_the_mistake():
    text, line = broken("    landscape: true", "    landscap: true")
    assert error_of(text).line == line
    text, line = broken("id: design_tool, label: line.design_tool", "id: scheduling, label: line.design_tool")
    assert error_of(text).line == line


def test_prev_needs_a_first_month_formula():
    text = BUDGET.replace("            first_by: opening_balance\n", "", 1).replace(
        '            first:\n              "no": "{planned}"\n              "yes": "{planned}+{opening}"\n', "", 1
    )
    error = error_of(text)
    assert error.path == "sheets[0].blocks[3].measures[0]" and "needs first" in error.reason


def test_yaml_syntax_errors_give_the_line():
    error = error_of("id: budget\nversion: [1\n")
    assert error.line is not None and "not valid YAML" in error.reason


def test_yaml_aliases_are_refused():
    text = "a: &x [1, 2]\nb: *x\n" + BUDGET
    assert "aliases are not allowed" in error_of(text).reason


@pytest.mark.parametrize(
    "text, reason", [("", "empty"), ("- 1\n- 2\n", "must be a mapping"), ("id: x\n", "missing key")]
)
def test_files_that_are_not_blueprints(text, reason):
    assert reason in error_of(text).reason


def test_duplicate_yaml_keys_are_refused():
    error = error_of(BUDGET.replace("title: title\n", "title: title\ntitle: title\n", 1))
    assert error.path == "title" and error.reason == "duplicate key"


def test_a_users_own_blueprint_file_loads(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text(BUDGET.replace("landscape: true", "landscape: false", 1), encoding="utf-8")
    blueprint = loader.load(str(own))
    assert blueprint.id == "budget" and blueprint.source == str(own)
    # A sheet's orientation is the blueprint's where it says one, the generator's choice where not.
    assert [sheet.landscape for sheet in blueprint.sheets] == [None, False]
    assert set(blueprint.labels) == set(loader.catalogs())  # the catalogs' texts, by blueprint id


def test_a_blueprint_the_catalogs_do_not_know_brings_its_texts(tmp_path):
    own = tmp_path / "mine.yaml"
    own.write_text(BUDGET.replace("id: budget", "id: my-budget", 1), encoding="utf-8")
    with pytest.raises(BlueprintError, match="no English texts: give labels: {en: ...}"):
        loader.load(str(own))
    texts = {key: '"' + text.replace('"', '\\"') + '"' for key, text in loader.catalogs()["en"]["budget"].items()}
    own.write_text(
        with_labels(own.read_text(encoding="utf-8"), **{k.replace(".", "__"): v for k, v in texts.items()}),
        encoding="utf-8",
    )
    blueprint = loader.load(str(own))
    assert blueprint.id == "my-budget" and list(blueprint.labels) == ["en"]  # English only: no translations


def test_unknown_blueprint_lists_the_built_in_ones():
    with pytest.raises(BlueprintError, match="no such blueprint or file .built-in: budget"):
        loader.load("nope")


def test_unreadable_file_is_one_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(BlueprintError, match="cannot read"):
        loader.load(bad)


def test_the_budget_blueprint_has_the_seeds_structure(budget):
    assert [c.id for c in budget.categories] == ["software", "advertising", "services", "assets"]
    services = {line.id for line in budget.categories[2].lines}
    assert services == {"photographer", "copywriter", "ads_manager", "web_developer", "designer"}
    assert {line.id for line in budget.categories[3].lines} == {"domain", "website", "hosting"}
    assert budget.categories[1].lines_from == "channels"
    assert [o.choices for o in budget.options] == [("signed", "positive", "none"), ("no", "yes")]
    kinds = [type(block) for sheet in budget.sheets for block in sheet.blocks]
    assert Grid in kinds and Table in kinds


def test_every_built_in_blueprint_loads():
    paths = loader.builtin_blueprints()
    assert paths and all(not p.name.startswith("_") for p in paths)
    for path in paths:
        assert loader.load(path).id == Path(path).stem


ROADMAP = (loader.BUILTIN_DIR / "roadmap.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "old, new, path, message",
    [
        (
            "sample: [5, 2, 1, 0, 3]}",
            "sample: [status.done, Finished]}",
            "sheets[0].blocks[0].columns[6].sample[1]",
            "'Finished' is not a value of the list workflow",
        ),
        (
            "sample: [4, 4, 5, 4, 5]}",
            "sample: [4, high]}",
            "sheets[0].blocks[0].columns[7].sample[1]",
            "an integer sample is a number",
        ),
        (
            "sample: [0, 7, 14, 14, 21]}",
            "sample: [0, soon]}",
            "sheets[0].blocks[0].columns[3].sample[1]",
            "a date sample is a date or a number",
        ),
        (
            "sample: [0, 0, 0, 0, 0]}",
            "sample: {instagram: [0]}}",
            "sheets[0].blocks[0].columns[1].sample",
            "only a grid measure's sample may be a mapping",
        ),
    ],
)
def test_samples_are_checked_against_their_field(old, new, path, message):
    assert old in ROADMAP
    with pytest.raises(BlueprintError) as caught:
        loader.loads(ROADMAP.replace(old, new, 1), "roadmap.yaml")
    assert caught.value.path == path and message in caught.value.reason, str(caught.value)


@pytest.mark.parametrize(
    "texts, path, message",
    [
        ({"sheet__summary": "BUDGET"}, "labels.en.sheet.summary", "sheet name 'BUDGET' is taken"),
        ({"sheet__summary": "Lists"}, "labels.en.sheet.summary", "sheet name 'Lists' is taken"),
        ({"sheet__summary": "'{company}'"}, "labels.en.sheet.summary", "without []:*?/\\'{}"),
        ({"sheet__summary": "The summary of the year in figures"}, "labels.en.sheet.summary", "at most 31 characters"),
        ({"title": "Social {media budget"}, "labels.en.title", "write a literal brace"),
        (
            {"sheet__summary__subtitle": '"{compny}"'},
            "labels.en.sheet.summary.subtitle",
            "unknown placeholder {compny}",
        ),
        ({"chart__monthly": '"{company}: planned vs actual"'}, "sheets[1].charts[0]", "cannot use {company}"),
        ({"status__x": "y"}, "labels.fr", "unknown key"),
    ],
)
def test_label_mistakes_are_one_line(texts, path, message):
    text = with_labels(BUDGET, **texts)
    if path == "labels.fr":
        text = text.replace("  en:\n", "  fr:\n")
    error = error_of(text)
    assert error.path == path and message in error.reason, str(error)
    assert error.line is not None


def test_a_catalog_text_that_is_not_a_legal_sheet_name_names_the_catalog(monkeypatch):
    english = loader.catalogs()["en"]["budget"]
    bad = loader.Text("Budget/Summary", english["sheet.summary"].source, "budget.sheet.summary", 7)
    monkeypatch.setitem(english, "sheet.summary", bad)
    monkeypatch.setenv("SMM_SHEETS_CACHE", "off")  # the cache is keyed by the shipped files, not this patch
    error = error_of(BUDGET)
    assert error.source.endswith("en.yaml") and error.path == "budget.sheet.summary" and error.line == 7
    assert "at most 31 characters" in error.reason


@pytest.mark.parametrize(
    "old, new, path, message",
    [
        (
            "{id: hosting, label: line.hosting, sample: {planned: 10,",
            "{id: hosting, label: line.hosting, sample: {planned: -10,",
            None,
            None,
        ),
        (
            "type: column\n",
            "type: column\n        per: channels\n",
            "sheets[1].charts[0].series[0]",
            "per: channels needs measures of a grid over channels",
        ),
    ],
)
def test_more_mistakes_are_one_line(old, new, path, message):
    text = BUDGET.replace(old, new, 1)
    assert text != BUDGET
    if path is None:  # a negative planned amount: money's minimum is 0
        with pytest.raises(
            BlueprintError, match=r"categories\[3\]\.lines\[2\]\.sample\.planned: -10 is outside 0 to …"
        ):
            loader.loads(text, "b.yaml")
        return
    error = error_of(text)
    assert error.path == path and message in error.reason, str(error)


def test_counts_bounds_and_choice_indexes(tmp_path):
    text = ROADMAP.replace("count: 40", "count: 1.5", 1)
    assert "must be a whole number" in error_of(text).reason
    text = ROADMAP.replace(
        "type: integer, min: 1, max: 5, hint: hint.value", "type: integer, min: 6, max: 5, hint: hint.value", 1
    )
    assert error_of(text).reason == "max is below min"
    text = ROADMAP.replace("sample: [5, 2, 1, 0, 3]}", "sample: [5, 2, 1, 0, 6]}", 1)
    error = error_of(text)
    assert error.path.endswith("sample[4]") and "index 6 is outside the list workflow (0 to 5)" in error.reason


def test_a_timeline_table_is_kept_to_a_size_that_fits_in_memory():
    error = error_of(ROADMAP.replace("count: 40", "count: 5000", 1))
    assert error.path == "sheets[0].blocks[0].rows" and "at most 2000 rows" in error.reason
