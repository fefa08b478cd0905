"""Each unit of blueprint loading alone: source (YAML with lines), reader (shape), validate (semantics), catalogs."""

from __future__ import annotations

import dataclasses

import pytest

from smm_sheets.blueprint import catalogs, loader, reader, validate
from smm_sheets.blueprint.model import Blueprint, Form
from smm_sheets.blueprint.source import SourceLines, Text, dotted, parse_yaml
from smm_sheets.errors import BlueprintError

# Two questions whose formulas name each other: a fine shape, a circular reference.
MINI = """\
id: mini
version: 1
title: t.title
labels:
  en:
    t.title: Mini
    t.sheet: Plan
    t.a: A
    t.b: B
sheets:
  - id: main
    title: t.sheet
    blocks:
      - form: answers
        questions:
          - {id: a, label: t.a, type: number, formula: "{b}+1"}
          - {id: b, label: t.b, type: number, formula: "{a}*2"}
"""


def read_mini(text: str = MINI) -> tuple[Blueprint, SourceLines]:
    data, lines = parse_yaml(text, "mini.yaml")
    where = SourceLines("mini.yaml", lines)
    return reader.read(data, where), where


def test_parse_yaml_knows_the_line_of_every_key_path():
    data, lines = parse_yaml(MINI, "mini.yaml")
    assert data["sheets"][0]["blocks"][0]["questions"][1]["id"] == "b"
    assert lines[("sheets", 0, "blocks", 0, "questions", 1, "formula")] == 17
    where = SourceLines("mini.yaml", lines)
    assert where.line(("sheets", 0, "no_such_key")) == lines[("sheets", 0)]  # the nearest parent's line
    assert dotted(("sheets", 0, "blocks", 0, "questions", 1, "formula")) == "sheets[0].blocks[0].questions[1].formula"


def test_parse_yaml_refuses_aliases():
    with pytest.raises(BlueprintError, match="YAML aliases are not allowed") as caught:
        parse_yaml("a: &x [1, 2]\nb: *x\n", "bomb.yaml")
    assert caught.value.path == "b" and caught.value.line == 1  # the line of the node written twice


def test_the_reader_alone_makes_the_model_without_checking_references():
    blueprint, _ = read_mini()  # the cycle is not the reader's business
    assert blueprint.id == "mini" and blueprint.source == "mini.yaml"
    (block,) = blueprint.sheets[0].blocks
    assert isinstance(block, Form) and [q.id for q in block.questions] == ["a", "b"]
    assert blueprint.label_keys == frozenset()  # validate says which keys are used
    title = blueprint.labels["en"]["t.title"]
    assert isinstance(title, Text) and (title.source, title.path, title.line) == ("mini.yaml", "labels.en.t.title", 6)


def test_the_reader_reports_a_wrong_shape_with_file_line_and_key_path():
    with pytest.raises(BlueprintError) as caught:
        read_mini(MINI.replace('type: number, formula: "{a}', 'type: numbr, formula: "{a}'))
    error = caught.value
    assert (error.source, error.path, error.line) == ("mini.yaml", "sheets[0].blocks[0].questions[1].type", 17)
    assert error.reason.startswith("must be one of text, number")


def test_validate_alone_reports_a_cycle_with_file_line_and_key_path():
    blueprint, where = read_mini()
    with pytest.raises(BlueprintError) as caught:
        validate.validate(blueprint, where)
    error = caught.value
    assert (error.source, error.path, error.line) == ("mini.yaml", "sheets[0].blocks[0].questions[0].formula", 16)
    assert error.reason == "circular reference: a -> b -> a"


def test_validate_alone_reports_an_unknown_reference():
    blueprint, where = read_mini(MINI.replace('"{a}*2"', '"{nope}*2"'))
    with pytest.raises(BlueprintError) as caught:
        validate.validate(blueprint, where)
    error = caught.value
    assert (error.path, error.line) == ("sheets[0].blocks[0].questions[1].formula", 17)
    assert error.reason == "{nope} names no field of this blueprint"


def test_validate_returns_the_label_keys_the_blueprint_uses():
    blueprint, where = read_mini(MINI.replace('"{a}*2"', '"{label:t.a}"'))
    used = validate.validate(blueprint, where)
    assert {"t.title", "t.sheet", "t.a", "t.b", "common.lists_sheet"} <= used
    assert used <= set(blueprint.labels["en"])
    assert validate.formula_labels(blueprint) == {"t.a"}


def test_validate_checks_a_model_made_by_hand():
    blueprint, where = read_mini(MINI.replace('"{a}*2"}', '"{a}*2"}\n          - {id: a, label: t.a}'))
    with pytest.raises(BlueprintError, match="duplicate field id 'a'") as caught:
        validate.check_fields(blueprint, where)
    assert caught.value.path == "sheets[0].blocks[0].questions[2].id"
    plain = dataclasses.replace(blueprint, labels={"en": {**blueprint.labels["en"], "t.sheet": "A/B"}})
    with pytest.raises(BlueprintError, match="a sheet name is at most 31") as caught:
        validate.check_texts(plain, "en", plain.labels["en"], set(), where)
    assert caught.value.path == "labels.en.t.sheet"  # plain text: the blueprint's own labels


def test_find_cycle():
    assert validate.find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) is None
    assert validate.find_cycle({"b": {"a"}, "a": {"b"}}) == ["a", "b", "a"]


def test_loader_is_source_then_reader_then_validate():
    blueprint = loader.loads(MINI.replace('"{a}*2"', '"2"'), "mini.yaml")
    assert all(type(text) is str for texts in blueprint.labels.values() for text in texts.values())
    assert "t.a" in blueprint.label_keys


def test_the_catalogs_names_are_the_loaders():
    assert loader.catalogs is catalogs.catalogs and loader.CATALOG_DIR == catalogs.CATALOG_DIR
    assert loader.BUILTIN_DIR == catalogs.BUILTIN_DIR and loader.Text is Text
    assert catalogs.text_problem("{nope}").startswith("unknown placeholder {nope}")
    assert catalogs.placeholders("{company} in {year}") == {"company", "year"}
    assert set(catalogs.default_texts("xx")) == {"company", "team"}  # an unknown language: English
