"""The top-level Python API, both directions: ``smm_sheets.generate(...)`` and ``smm_sheets.analyse(...)``."""

from __future__ import annotations

import subprocess
import sys

import pytest

import smm_sheets
from smm_sheets.errors import FileError, ParameterError


def test_generate_then_analyse_the_set(tmp_path):
    paths = smm_sheets.generate("all", tmp_path, company="Acme Oy", year=2027, channels="instagram,tiktok", sample=True)
    assert sorted(p.name for p in paths) == sorted(
        f"{name}.xlsx" for name in ("budget", "calendar", "kpi-report", "roadmap", "strategy")
    )
    report = smm_sheets.analyse(tmp_path)
    assert report.stats["files"] == 5
    assert not report.failures
    budget = next(r for r in report.reports if r.blueprint_id == "budget")
    assert budget.totals["planned"] > 0
    assert report.exit_code() == 0  # the sample set has warnings (overspending), no error


def test_generate_one_workbook_in_a_language(tmp_path):
    (path,) = smm_sheets.generate("budget", tmp_path / "new", language="fi", year=2027)
    assert path == tmp_path / "new" / "budget.xlsx"
    report = smm_sheets.analyse(path)
    assert report.reports[0].parameters["language"] == "fi"
    assert report.valid


def test_generate_refuses_bad_parameters_and_existing_files(tmp_path):
    with pytest.raises(ParameterError, match="start month"):
        smm_sheets.generate("budget", tmp_path, start_month=13)
    smm_sheets.generate("budget", tmp_path)
    with pytest.raises(FileError, match="exists"):
        smm_sheets.generate("budget", tmp_path)
    assert smm_sheets.generate("budget", tmp_path, force=True)


def test_importing_the_package_loads_neither_direction():
    code = "import sys, smm_sheets; print(sorted(m for m in ('pandas', 'xlsxwriter', 'python_calamine') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
