"""Portfolio analysis of a batch: one row per client, totals, chart, JSON, processes and Dask."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from smm_sheets.analyser import pipeline as analysis
from smm_sheets.cli import main
from tests.libreoffice import recalculate

HOSTILE = '=HYPERLINK("http://example.com","Click me")'
CLIENTS = """company,year,start_month,currency,channels,team
Lapin Revontuliretket Oy,2027,9,EUR,"instagram,youtube",Pekka
"=HYPERLINK(""http://example.com"",""Click me"")",2027,1,EUR,instagram,Owner
Bergen Bakeri AS,2027,2,NOK,"instagram,facebook",Ingrid
Охридски Бисер ДООЕЛ,2027,5,MKD,"instagram,tiktok",Елена
Alpha Oy,2027,1,EUR,facebook,Aino
"""
FOLDERS = [
    "lapin-revontuliretket-oy",
    "hyperlink-http-example-com-click-me",
    "bergen-bakeri-as",
    "охридски-бисер-дооел",
    "alpha-oy",
]


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def batch_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("portfolio")
    (root / "clients.csv").write_text(CLIENTS, encoding="utf-8")
    out = root / "batch"
    code, _, err = run(
        "batch",
        root / "clients.csv",
        "-o",
        out,
        "--sample",
        "--jobs",
        "2",
        "--blueprints",
        "budget,calendar,kpi-report",
    )
    assert code == 0, err
    return out


@pytest.fixture(scope="module")
def summary(batch_dir):
    target = batch_dir.parent / "summary.xlsx"
    code, stdout, stderr = run("analyse", batch_dir, "--summary", target, "--jobs", "2")
    return target, code, stdout, stderr


def expected_rows(batch_dir: Path) -> list[dict]:
    """Each client's figures straight from the analyser, folder by folder."""
    rows = []
    for folder in FOLDERS:
        report = analysis.analyse(batch_dir / folder)
        by_id = {r.blueprint_id: r for r in report.reports}
        rows.append(
            {
                "folder": folder,
                "company": by_id["budget"].parameters["company"],
                "currency": by_id["budget"].parameters["currency"],
                "budget_planned": by_id["budget"].totals["planned"],
                "budget_actual": by_id["budget"].totals["actual"],
                "posts_published": by_id["calendar"].totals["posts_published"],
                "roas": by_id["kpi-report"].totals["roas"],
                "errors": report.stats["errors"],
                "warnings": report.stats["warnings"],
            }
        )
    return rows


def test_summary_json_has_one_row_per_client_in_the_clients_order(batch_dir, summary):
    target, code, stdout, stderr = summary
    data = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    expected = expected_rows(batch_dir)
    assert [row["folder"] for row in data["clients"]] == FOLDERS
    for row, want in zip(data["clients"], expected):
        assert {key: row[key] for key in want} == want
        assert row["workbooks"] == 3 and row["unreadable"] == 0 and row["problem"] is None
    assert data["counts"]["clients"] == 5
    assert data["totals"]["errors"] == sum(r["errors"] for r in expected)
    assert data["totals"]["posts_published"] == sum(r["posts_published"] for r in expected)
    eur = [r for r in expected if r["currency"] == "EUR"]
    assert data["totals_by_currency"]["EUR"]["budget_planned"] == pytest.approx(sum(r["budget_planned"] for r in eur))
    assert set(data["totals_by_currency"]) == {"EUR", "NOK", "MKD"}
    with_errors = sum(1 for r in expected if r["errors"])
    assert code == (1 if with_errors else 0)
    assert stdout.startswith(f"5 clients: {with_errors} with errors")


def test_summary_workbook_rows_totals_and_chart(summary):
    target = summary[0]
    sheet = openpyxl.load_workbook(target).worksheets[0]
    header = [cell.value for cell in sheet[3]]
    assert header[:4] == ["Company", "Folder", "Currency", "Workbooks"]
    data = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    for offset, row in enumerate(data["clients"]):
        cells = sheet[4 + offset]
        assert cells[0].value == row["company"] and cells[0].data_type == "s"  # the hostile name too
        assert cells[1].value == row["folder"]
        assert cells[header.index("Budget planned")].value == row["budget_planned"]
    assert sheet["A5"].value == HOSTILE
    total_row = 4 + len(data["clients"])
    assert sheet.cell(total_row, 1).value == "Total"
    errors = header.index("Errors") + 1
    assert sheet.cell(total_row, errors).value == f"=SUM($N$4:$N${total_row - 1})"
    labels = [sheet.cell(total_row + i, 1).value for i in range(1, 4)]
    assert labels == ["Total EUR", "Total MKD", "Total NOK"]
    planned = header.index("Budget planned") + 1
    assert sheet.cell(total_row + 1, planned).value == f'=SUMIF($C$4:$C${total_row - 1},"=EUR",$F$4:$F${total_row - 1})'
    assert len(sheet._charts) == 1


def test_summary_totals_agree_with_libreoffice(summary, soffice, tmp_path):
    target = summary[0]
    data = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    again = openpyxl.load_workbook(recalculate(target, tmp_path), data_only=True).worksheets[0]
    cached = openpyxl.load_workbook(target, data_only=True).worksheets[0]
    total_row = 4 + len(data["clients"])
    header = [cell.value for cell in cached[3]]
    for row in range(total_row, total_row + 4):
        for col in range(2, len(header) + 1):
            assert again.cell(row, col).value == pytest.approx(cached.cell(row, col).value), (row, header[col - 1])
    assert cached.cell(total_row + 1, header.index("Budget planned") + 1).value == pytest.approx(
        data["totals_by_currency"]["EUR"]["budget_planned"]
    )
    assert again["A5"].value == HOSTILE


@pytest.mark.slow
def test_dask_gives_the_same_summary(batch_dir, summary, tmp_path):
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
    ) as cluster:
        code, _, err = run(
            "analyse", batch_dir, "--summary", tmp_path / "remote.xlsx", "--scheduler", cluster.scheduler_address
        )
    assert code == summary[1], err
    local = json.loads(summary[0].with_suffix(".json").read_text(encoding="utf-8"))
    remote = json.loads((tmp_path / "remote.json").read_text(encoding="utf-8"))
    assert remote == local


def test_unreadable_files_and_empty_folders_exit_2(batch_dir, tmp_path):
    copy = tmp_path / "batch"
    shutil.copytree(batch_dir, copy)
    (copy / "alpha-oy" / "notes.xlsx").write_bytes(b"not a workbook")
    (copy / "empty-client").mkdir()
    code, stdout, stderr = run("analyse", copy, "--summary", tmp_path / "summary.xlsx", "--jobs", "1")
    assert code == 2
    assert "smm-sheets: empty-client: " in stderr and "no spreadsheets" in stderr
    data = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    rows = {row["folder"]: row for row in data["clients"]}
    assert rows["alpha-oy"]["unreadable"] == 1 and rows["alpha-oy"]["workbooks"] == 4
    assert rows["empty-client"]["problem"] and [r["folder"] for r in data["clients"]][-1] == "empty-client"
    assert data["counts"]["unreadable"] == 2


def test_bad_usage_exit_2(batch_dir, tmp_path):
    code, _, stderr = run("analyse", batch_dir, batch_dir, "--summary", tmp_path / "s.xlsx")
    assert code == 2 and "--summary takes one batch folder" in stderr
    code, _, stderr = run("analyse", tmp_path / "missing", "--summary", tmp_path / "s.xlsx")
    assert code == 2 and "not a folder" in stderr
    (tmp_path / "nothing").mkdir()
    code, _, stderr = run("analyse", tmp_path / "nothing", "--summary", tmp_path / "s.xlsx")
    assert code == 2 and "no client folders" in stderr
    assert not (tmp_path / "s.xlsx").exists()


def test_one_child_for_many_folders_gives_the_rows_of_one_folder_at_a_time(batch_dir):
    from smm_sheets.agency import portfolio

    folders = [str(batch_dir / folder) for folder in FOLDERS]
    assert list(portfolio.analyse_clients(folders)) == [(f, portfolio.analyse_client(f)) for f in folders]
    assert portfolio.analyse_chunk(tuple(folders[:2])) == [portfolio.analyse_client(f) for f in folders[:2]]


def test_a_file_that_crashes_the_child_is_its_own_line_and_the_other_clients_go_on(batch_dir, tmp_path, monkeypatch):
    import os

    from smm_sheets.agency import portfolio

    copy = tmp_path / "batch"
    shutil.copytree(batch_dir, copy)
    shutil.copy(copy / "alpha-oy" / "budget.xlsx", copy / "alpha-oy" / "crash.xlsx")
    real = analysis.analyse_file

    def analyse_file(path, language=None):
        if Path(path).name == "crash.xlsx":
            os.abort()  # in a child: as a native library's abort would
        return real(path, language)

    monkeypatch.setattr(analysis, "analyse_file", analyse_file)
    folders = [str(copy / folder) for folder in FOLDERS]
    rows = dict(portfolio.analyse_clients(folders))
    crashed = rows[str(copy / "alpha-oy")]
    assert (crashed.workbooks, crashed.unreadable, crashed.problem) == (4, 1, None)
    assert crashed.budget_planned is not None  # its other files were analysed
    for folder in FOLDERS[:-1]:
        assert rows[str(copy / folder)] == portfolio.analyse_client(str(batch_dir / folder))
    assert portfolio.run_portfolio(copy, tmp_path / "summary.xlsx", jobs=1).unreadable == 1


def test_a_bug_on_one_client_is_that_clients_row_and_the_others_go_on(batch_dir, tmp_path, monkeypatch):
    # Raised in the child, then again when the folder is analysed again in this process: the
    # folder's row says "internal error", as a worker's exception always did; nothing is lost.
    from smm_sheets.agency import portfolio

    real = portfolio._summary

    def summary(folder, report):
        if Path(folder).name == "bergen-bakeri-as":
            raise RuntimeError("a bug")
        return real(folder, report)

    monkeypatch.setattr(portfolio, "_summary", summary)
    target = tmp_path / "summary.xlsx"
    result = portfolio.run_portfolio(batch_dir, target, jobs=1)
    data = json.loads(target.with_suffix(".json").read_text(encoding="utf-8"))
    rows = {row["folder"]: row for row in data["clients"]}
    assert result.clients == len(FOLDERS) and len(rows) == len(FOLDERS)
    assert rows["bergen-bakeri-as"]["problem"] == "internal error: RuntimeError: a bug"
    assert all(row["problem"] is None for name, row in rows.items() if name != "bergen-bakeri-as")
