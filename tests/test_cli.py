"""The command line: exit codes, one-line errors, no overwriting, atomic writes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from smm_sheets import __version__
from smm_sheets.blueprint import loader
from smm_sheets.cli import main
from smm_sheets.generator import xlsx
from tests.helpers import ROOT


def run(*args):
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_version_and_help():
    code, out, _ = run("--version")
    assert code == 0 and __version__ in out
    for command in ([], ["generate"], ["blueprints"]):
        code, out, _ = run(*command, "--help")
        assert code == 0 and "Usage:" in out


def test_blueprints_lists_one_line_each():
    code, out, _ = run("blueprints")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) >= 1 and lines[0].split()[:2] == ["budget", "1.1"]


def test_generate_writes_the_budget_named_by_its_id(tmp_path):
    code, out, err = run(
        "generate",
        "budget",
        "-o",
        str(tmp_path / "new"),
        "--company",
        "Acme",
        "--year",
        "2027",
        "--start-month",
        "4",
        "--currency",
        "nok",
        "--channels",
        "instagram,tiktok",
        "--sample",
    )
    assert code == 0, err
    path = tmp_path / "new" / "budget.xlsx"
    assert out.strip() == f"wrote {path}"
    book = openpyxl.load_workbook(path)
    assert book["Budget"]["D4"].value == datetime(2027, 4, 1) and book["Budget"]["D4"].number_format == "mmm yyyy"
    assert "NOK" in book["Budget"]["D7"].number_format
    assert sorted(os.listdir(tmp_path / "new")) == ["budget.xlsx"]


def test_params_file_and_flags(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_text("company: From File\nyear: 2030\nchannels: [linkedin]\noptions: {carry_over: positive}\n")
    code, _, err = run("generate", "budget", "-o", str(tmp_path), "--params", str(params), "--company", "From Flag")
    assert code == 0, err
    meta = dict(
        row[:2]
        for row in openpyxl.load_workbook(tmp_path / "budget.xlsx")["_smm"].iter_rows(max_row=16, values_only=True)
    )
    assert meta["company"] == "From Flag" and meta["year"] == "2030" and meta["channels"] == "LinkedIn"
    assert meta["option.carry_over"] == "positive"


def test_refuses_to_overwrite_without_force(tmp_path):
    assert run("generate", "budget", "-o", str(tmp_path))[0] == 0
    target = tmp_path / "budget.xlsx"
    target.write_bytes(b"precious")
    code, _, err = run("generate", "budget", "-o", str(tmp_path))
    assert code == 2 and err == f"smm-sheets: error: {target} exists; use --force to replace it\n"
    assert target.read_bytes() == b"precious"
    code, _, err = run("generate", "budget", "-o", str(tmp_path), "--force")
    assert code == 0 and target.read_bytes()[:2] == b"PK"


@pytest.mark.parametrize(
    "args, message",
    [
        (["generate", "nope"], "nope: no such blueprint or file (built-in: budget"),
        (["generate", "budget", "--start-month", "13"], "start month must be 1-12, not 13"),
        (["generate", "budget", "--start-month", "x"], "Invalid value for '--start-month'"),
        (["generate", "budget", "--currency", "XYZ"], "unknown currency 'XYZ'"),
        (["generate", "budget", "--year", "1999"], "year must be between 2000 and 2100"),
        (["generate", "budget", "--channels", "=cmd|x"], "channel '=cmd|x' must start with a letter or digit"),
        (["generate", "budget", "--channels", "instagram,Instagram"], "channels names 'Instagram' twice"),
        (["generate", "budget", "--company", " "], "company must not be empty"),
        (
            ["generate", "budget", "--option", "carry_over=sometimes"],
            "option carry_over must be one of signed, positive, none",
        ),
        (["generate", "budget", "--option", "nonsense"], "--option wants KEY=VALUE"),
        (["generate", "budget", "--bogus"], "No such option '--bogus'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    code, out, err = run(*args, "-o", str(tmp_path))
    assert code == 2
    assert err.startswith("smm-sheets: error: ") and err.count("\n") == 1 and message in err
    assert os.listdir(tmp_path) == []


def test_a_broken_blueprint_file_is_one_line(tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text("id: own\nversion: 1\ntitle: t\nlabels: {en: {t: T}}\nsheets: []\n")
    code, _, err = run("generate", str(own), "-o", str(tmp_path / "out"))
    assert code == 2 and err == f"smm-sheets: error: {own}:5: sheets: must not be empty\n"


def test_unwritable_folder_is_one_line(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    if os.access(locked, os.W_OK):  # root writes anywhere, but not into /proc
        locked = Path("/proc/self")
    try:
        code, _, err = run("generate", "budget", "-o", str(locked))
        assert code == 2 and err.startswith(f"smm-sheets: error: cannot write to {locked}: ") and err.count("\n") == 1
    finally:
        (tmp_path / "locked").chmod(0o700)


def test_output_that_is_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    code, _, err = run("generate", "budget", "-o", str(blocker / "sub"))
    assert code == 2 and "cannot create" in err


def test_a_failed_write_leaves_neither_a_partial_file_nor_the_old_one_damaged(tmp_path, monkeypatch):
    target = tmp_path / "budget.xlsx"
    target.write_bytes(b"old")

    def crash(plan, path, notes=None):
        Path(path).write_bytes(b"half a workbook")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(xlsx, "render", crash)
    code, _, err = run("generate", "budget", "-o", str(tmp_path), "--force")
    assert code == 2 and "No space left on device" in err
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["budget.xlsx"]


def test_module_entry_point_and_console_script_agree(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "smm_sheets", "generate", "budget", "-o", str(tmp_path), "--start-month", "0"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 2 and result.stderr == "smm-sheets: error: start month must be 1-12, not 0\n"
    assert "Traceback" not in result.stderr


def test_generate_all_writes_every_built_in_workbook_with_the_same_lists(tmp_path):
    code, out, err = run(
        "generate", "all", "-o", str(tmp_path), "--team", "Aino,Mikko", "--channels", "instagram,tiktok", "--sample"
    )
    assert code == 0, err
    ids = sorted(p.stem for p in loader.builtin_blueprints())
    assert sorted(p.stem for p in tmp_path.glob("*.xlsx")) == ids
    assert out.splitlines() == [f"wrote {tmp_path / (i + '.xlsx')}" for i in ids]
    metas = {}
    for path in tmp_path.glob("*.xlsx"):
        meta = dict(row[:2] for row in openpyxl.load_workbook(path)["_smm"].iter_rows(max_row=14, values_only=True))
        metas[path.stem] = (meta["team"], meta["channels"], meta["year"], meta["company"])
    assert len(set(metas.values())) == 1 and metas["budget"][:2] == ("Aino,Mikko", "Instagram,TikTok")


def test_generate_all_writes_nothing_when_a_target_exists(tmp_path):
    (tmp_path / "roadmap.xlsx").write_bytes(b"mine")
    code, _, err = run("generate", "all", "-o", str(tmp_path))
    assert code == 2 and "roadmap.xlsx exists; use --force" in err
    assert os.listdir(tmp_path) == ["roadmap.xlsx"] and (tmp_path / "roadmap.xlsx").read_bytes() == b"mine"


def test_a_new_workbook_gets_ordinary_permissions_and_a_replaced_one_keeps_its_own(tmp_path):
    umask = os.umask(0o022)
    try:
        assert run("generate", "budget", "-o", str(tmp_path))[0] == 0
        target = tmp_path / "budget.xlsx"
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)
        assert run("generate", "budget", "-o", str(tmp_path), "--force")[0] == 0
        assert target.stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(umask)


@pytest.mark.parametrize(
    "content, message",
    [
        ("channels: 5\n", "channels must be a list of names or a comma-separated text, not 5"),
        ("team: [null, 1]\n", "team must be text, not None"),
        ("company: null\n", "company must be text, not None"),
        ("company: [a, b]\n", "company must be text, not ['a', 'b']"),
        ("year: '2027'\n", "year must be a whole number such as 2027, not '2027'"),
        ("start_month: true\n", "start month must be 1-12, not True"),
        ("currency: 978\n", "currency must be a code such as EUR, not 978"),
        ("options: {carry_over: 1}\n", "options must map option names to values"),
        ("options: [1]\n", "options must be a mapping"),
        ("- a\n- b\n", "must be a mapping of company"),
        ("colour: red\n", "unknown key 'colour'"),
        ("year: [2027\n", "not valid YAML"),
    ],
)
def test_a_bad_params_file_is_one_line(tmp_path, content, message):
    params = tmp_path / "p.yaml"
    params.write_text(content)
    code, _, err = run("generate", "budget", "-o", str(tmp_path / "out"), "--params", str(params))
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (tmp_path / "out" / "budget.xlsx").exists()


def test_a_params_file_that_is_not_utf8_or_missing_is_one_line(tmp_path):
    params = tmp_path / "p.yaml"
    params.write_bytes(b"company: \xff\xfe\n")
    code, _, err = run("generate", "budget", "-o", str(tmp_path), "--params", str(params))
    assert code == 2 and "not valid YAML" in err and err.count("\n") == 1
    code, _, err = run("generate", "budget", "-o", str(tmp_path), "--params", str(tmp_path / "missing.yaml"))
    assert code == 2 and "cannot read" in err


def test_generate_all_gives_an_option_to_the_workbooks_that_have_it(tmp_path):
    code, _, err = run("generate", "all", "-o", str(tmp_path), "--option", "carry_over=positive")
    assert code == 0, err
    meta = dict(
        row[:2]
        for row in openpyxl.load_workbook(tmp_path / "budget.xlsx")["_smm"].iter_rows(values_only=True)
        if row[0]
    )
    assert meta["option.carry_over"] == "positive"
    code, _, err = run("generate", "all", "-o", str(tmp_path / "x"), "--option", "colour=red")
    assert code == 2 and "no built-in blueprint has an option 'colour'" in err
    assert not (tmp_path / "x").exists() or os.listdir(tmp_path / "x") == []


def test_generate_all_touches_nothing_when_one_target_cannot_be_written(tmp_path):
    (tmp_path / "budget.xlsx").write_bytes(b"old budget")
    (tmp_path / "roadmap.xlsx").mkdir()  # a folder where a workbook should go
    code, _, err = run("generate", "all", "-o", str(tmp_path), "--force")
    assert code == 2 and "roadmap.xlsx is a folder" in err
    assert sorted(os.listdir(tmp_path)) == ["budget.xlsx", "roadmap.xlsx"]
    assert (tmp_path / "budget.xlsx").read_bytes() == b"old budget"
