"""Formulas stored without xlsxwriter's rewriting are stored as write_formula stores them."""

from __future__ import annotations

import re
import zipfile

import pytest
import xlsxwriter
from xlsxwriter.worksheet import re_dynamic_function

from smm_sheets.blueprint import loader
from smm_sheets.generator import xlsx
from smm_sheets.plan import build
from tests.conftest import params

FORMULAS = [
    "SUM(B2:B5)",
    'IF(A1="","",A1*2)',
    "'Budget plan'!C7+1",
    'COUNTIFS(Posts!$C$6:$C$505,"instagram",Posts!$E$6:$E$505,">="&B3)',
    "_xlfn.XLOOKUP(A1,B1:B3,C1:C3)",
    "XLOOKUP(A1,B1:B3,C1:C3)",
    "SORT(A1:A3)",
    "SUM(A1:A3)}",
    '"UNIQUE(" & A1',
]


def _stored(tmp_path, write) -> dict:
    workbook = xlsxwriter.Workbook(str(tmp_path / "x.xlsx"))
    ws = workbook.add_worksheet()
    for row, text in enumerate(FORMULAS):
        write(ws, row, text)
    table = {(row, col): tuple(cell) for row, cells in ws.table.items() for col, cell in cells.items()}
    workbook.close()
    return table, ws.has_dynamic_arrays


def test_the_shortcut_stores_what_write_formula_stores(tmp_path):
    direct = _stored(tmp_path, lambda ws, row, text: xlsx.formula_writer(ws)(row, 0, text, None, 1.5))
    through = _stored(tmp_path, lambda ws, row, text: ws.write_formula(row, 0, "=" + text, None, 1.5))
    assert direct == through and len(direct[0]) == len(FORMULAS)


def test_every_function_xlsxwriter_rewrites_goes_through_write_formula():
    names = re.findall(r"\\b(\w+)\\\(", re_dynamic_function.pattern)
    assert len(names) > 20
    for name in names:
        assert xlsx._REWRITTEN_BY_XLSXWRITER.search(f"1+{name}(A1)"), name


@pytest.mark.parametrize("blueprint_id", ("budget", "calendar", "kpi-report"))
def test_the_sample_workbooks_are_the_same_either_way(tmp_path, blueprint_id, monkeypatch):
    plan = build(loader.load(blueprint_id), params(sample=True))
    xlsx.render(plan, tmp_path / "direct.xlsx")
    monkeypatch.setattr(xlsx, "CellFormulaTuple", None)  # every formula through write_formula
    xlsx.render(plan, tmp_path / "through.xlsx")

    def parts(path):
        with zipfile.ZipFile(path) as archive:
            return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}

    assert parts(tmp_path / "direct.xlsx") == parts(tmp_path / "through.xlsx")
