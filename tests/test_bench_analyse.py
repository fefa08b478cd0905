"""Smoke test of bench/bench_analyse.py's measuring functions on one small workbook (no timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.blueprint import loader
from smm_sheets.generator.pipeline import generate

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_analyse


def test_measures_one_workbook_and_prints_its_table(tmp_path, capsys):
    budget = generate(loader.load("budget"), bench_analyse.sample_parameters(), tmp_path)

    figures = bench_analyse.time_analysis(budget, runs=1)
    assert (figures.name, len(figures.analyse), len(figures.floor)) == ("budget", 1, 1)
    assert figures.findings == len(analyse_file(budget).findings)
    assert figures.size == budget.stat().st_size
    assert bench_analyse.read_with_calamine(budget) > 10  # rows of every worksheet

    fresh = bench_analyse.measure_fresh("analyse", budget)
    assert fresh["findings"] == figures.findings and fresh["cells"] > 0
    assert fresh["peak_mb"] >= fresh["imports_mb"] > 0

    figures.formulas, figures.formulas_note = None, "over 120 s"
    figures.libreoffice, figures.libreoffice_note = 2.0, ""
    verdicts = bench_analyse.report_set("smoke", [figures], 1, peers=True)
    table = capsys.readouterr().out
    assert len(verdicts) == 2  # the floor ratio, and LibreOffice's; the skipped peer has none
    assert "budget" in table and "the set" in table and "skipped" in table and "(over 120 s)" in table
