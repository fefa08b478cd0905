"""The edit matrix (``tests/analyser/edit_matrix.py``): every kind of edit in its list, made by
LibreOffice on the sample workbooks and saved as .xlsx and as .ods, analysed.

For each case and format: no false finding (one the edit does not call for), no missed finding
(one it calls for, or one of the untouched workbook that vanished unexplained), and the totals
equal the ones LibreOffice computed in the same file. One LibreOffice start makes every file.
"""

from __future__ import annotations

import pytest

from smm_sheets.analyser import reader
from smm_sheets.analyser.pipeline import analyse_file
from smm_sheets.errors import SmmSheetsError
from tests.analyser.edit_matrix import CASES, FORMATS, judge, make_edited_files, totals_disagreements
from tests.libreoffice import soffice_uno  # noqa: F401 - the fixture

pytestmark = [pytest.mark.usefixtures("soffice_uno"), pytest.mark.slow]

BY_NAME = {case.name: case for case in CASES}


@pytest.fixture(scope="module")
def matrix(tmp_path_factory):
    """Every edited file and baseline, and their analyses (a refused file: its error)."""
    files = make_edited_files(tmp_path_factory.mktemp("matrix"))
    reports = {}
    for key, path in [*files.baselines.items(), *files.edited.items()]:
        try:
            reports[key] = analyse_file(path)
        except SmmSheetsError as error:
            reports[key] = error
    return files, reports


def _report(reports, key):
    found = reports[key]
    if isinstance(found, SmmSheetsError):
        pytest.fail(f"{key}: the analyser refused LibreOffice's file: {found}")
    return found


def test_the_matrix_covers_thirty_kinds_of_edit_on_every_workbook():
    assert len(CASES) >= 30
    assert len(BY_NAME) == len(CASES)  # names are unique
    assert {case.blueprint for case in CASES} == {"budget", "calendar", "kpi-report", "roadmap", "strategy"}
    assert FORMATS == ("xlsx", "ods")


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("blueprint_id", ["budget", "calendar", "kpi-report", "roadmap", "strategy"])
def test_untouched_workbook_has_no_formula_finding_and_libreoffices_totals(matrix, blueprint_id, fmt):
    files, reports = matrix
    report = _report(reports, (blueprint_id, fmt))
    path = files.baselines[(blueprint_id, fmt)]
    assert not [f for f in report.findings if f.code.startswith(("formula-", "stale-", "total-", "rows-"))]
    assert not [f for f in report.findings if f.code == "formulas-not-read"], "formulas are read from .ods too"
    assert totals_disagreements(report, reader.read(path)) == []


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", list(BY_NAME))
def test_no_false_and_no_missed_finding(matrix, name, fmt):
    files, reports = matrix
    case = BY_NAME[name]
    verdict = judge(
        case, files.layouts[case.blueprint], _report(reports, (name, fmt)), _report(reports, (case.blueprint, fmt))
    )
    assert (verdict.false, verdict.missed) == ([], []), case.what


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("name", [case.name for case in CASES if case.totals])
def test_totals_equal_libreoffices(matrix, name, fmt):
    files, reports = matrix
    report = _report(reports, (name, fmt))
    assert totals_disagreements(report, reader.read(files.edited[(name, fmt)])) == [], BY_NAME[name].what
