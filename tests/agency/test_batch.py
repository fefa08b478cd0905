"""Batch generation: clients files, bad rows, manifest, resume, processes, Dask (folder names: test_slugs)."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner

from smm_sheets import __version__
from smm_sheets.agency import batch, portfolio
from smm_sheets.agency.state import State
from smm_sheets.cli import main
from smm_sheets.errors import FileError
from tests.helpers import ROOT
from tests.libreoffice import edit_many, recalculate_many, soffice_uno  # noqa: F401 - the fixture

SAMPLE = ROOT / "samples" / "clients.csv"
HOSTILE = '=HYPERLINK("http://example.com","Click me")'
HEADER = "company,year,start_month,currency,channels,team,option.carry_over\n"
ALL_BLUEPRINTS = ["budget", "calendar", "kpi-report", "roadmap", "strategy"]
# The sample batch writes the two quickest blueprints: what it shows holds for any selection
# (every built-in blueprint is written for the hostile name below).
SAMPLE_BLUEPRINTS = ["budget", "kpi-report"]
HOSTILE_FOLDER = "hyperlink-http-example-com-click-me"


def run(*args):
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


def write_clients(path: Path, rows: list[str], header: str = HEADER) -> Path:
    path.write_text(header + "".join(row + "\n" for row in rows), encoding="utf-8")
    return path


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def temporaries(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name.endswith(".tmp")]


def parts_but_timestamps(path: Path) -> dict[str, bytes]:
    """The parts of an .xlsx file apart from docProps/core.xml, which holds the creation time."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist() if name != "docProps/core.xml"}


def without_hashes(data: dict) -> dict:
    """A manifest without the things that differ between two generations of the same files:
    file hashes (the creation time inside each file) and where the clients file was."""
    data = json.loads(json.dumps(data))
    data.pop("clients_file")
    for client in data["clients"]:
        for entry in client.get("files", ()):
            entry.pop("sha256")
            entry.pop("bytes")
    return data


# --------------------------------------------------------------------------- the sample batch


@pytest.fixture(scope="module")
def sample_batch(tmp_path_factory):
    out = tmp_path_factory.mktemp("batch") / "out"
    code, stdout, stderr = run("batch", SAMPLE, "-o", out, "--jobs", "2", "--blueprints", ",".join(SAMPLE_BLUEPRINTS))
    return out, code, stdout, stderr


@pytest.fixture(scope="module")
def hostile_batch(tmp_path_factory):
    """The sample's client with a formula for a name, alone, in every built-in blueprint (the default)."""
    folder = tmp_path_factory.mktemp("hostile")
    with open(SAMPLE, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    clients = folder / "clients.csv"
    with open(clients, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([rows[0], next(row for row in rows if row[0] == HOSTILE)])
    out = folder / "out"
    code, _, stderr = run("batch", clients, "-o", out, "--jobs", "1")
    assert code == 0, stderr
    return out


def test_sample_batch_writes_every_client_and_a_manifest(sample_batch):
    out, code, stdout, stderr = sample_batch
    assert code == 0, stderr
    assert (
        stdout.strip() == f"20 clients: 20 generated, 0 unchanged, 0 failed; manifest {out.resolve() / 'manifest.json'}"
    )
    data = manifest(out)
    assert data["generator_version"] == __version__ and data["complete"] is True
    assert data["counts"] == {
        "clients": 20,
        "generated": 20,
        "unchanged": 0,
        "failed": 0,
        "kept_in_place": 0,
        "kept_copies": 0,
    }
    assert [b["id"] for b in data["blueprints"]] == SAMPLE_BLUEPRINTS
    assert all(b["version"] and len(b["sha256"]) == 64 for b in data["blueprints"])
    with open(SAMPLE, encoding="utf-8") as handle:
        companies = [row["company"] for row in csv.DictReader(handle)]
    assert [c["company"] for c in data["clients"]] == companies
    assert [c["row"] for c in data["clients"]] == list(range(2, 22))
    folders = sorted(p.name for p in out.iterdir() if p.is_dir())
    assert folders == sorted(c["folder"] for c in data["clients"])
    for client in data["clients"]:
        assert client["status"] == "generated"
        assert [f["blueprint"] for f in client["files"]] == SAMPLE_BLUEPRINTS
        for entry in client["files"]:
            path = out / entry["path"]
            assert path.parent.name == client["folder"] and path.name == f"{entry['blueprint']}.xlsx"
            assert sha256(path) == entry["sha256"] and path.stat().st_size == entry["bytes"]
    assert temporaries(out) == []


def test_sample_folders_are_readable_and_distinct(sample_batch):
    out = sample_batch[0]
    folders = {c["company"] + f"#{c['row']}": c["folder"] for c in manifest(out)["clients"]}
    assert folders["Ziemeļu Adījumi SIA#6"] == "ziemeļu-adījumi-sia"
    assert folders["Македонски Вез ДООЕЛ#9"] == "македонски-вез-дооел"
    assert folders["Lapin Revontuliretket Oy#4"] == "lapin-revontuliretket-oy"
    # The same company twice: the first keeps the plain name, in row order.
    assert folders["Kahvila Mustikka Oy#3"] == "kahvila-mustikka-oy"
    assert folders["Kahvila Mustikka Oy#21"] == "kahvila-mustikka-oy-2"
    assert folders[f"{HOSTILE}#19"] == HOSTILE_FOLDER
    assert len(set(folders.values())) == 20


def test_the_language_column_chooses_each_clients_language(sample_batch, tmp_path):
    out = sample_batch[0]
    for folder, language in (
        ("ziemeļu-adījumi-sia", "lv"),
        ("bergen-bakeri-as", "nb"),
        ("harbour-lane-books-ltd", "en"),
    ):
        meta = dict(
            row[:2]
            for row in openpyxl.load_workbook(out / folder / "budget.xlsx")["_smm"].iter_rows(
                max_row=20, values_only=True
            )
        )
        assert meta["language"] == language
    clients = write_clients(tmp_path / "clients.csv", ["Alpha Oy,fi", "Beta Oy,klingon"], header="company,language\n")
    code, _, stderr = run("batch", clients, "-o", tmp_path / "out", "--jobs", "1", "--blueprints", "budget")
    assert code == 1 and stderr.startswith("smm-sheets: row 3: unknown language 'klingon'")


def test_manifest_csv_lists_each_file_and_keeps_names_as_text(sample_batch):
    out = sample_batch[0]
    raw = (out / "manifest.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # spreadsheets read it as UTF-8
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == 20 * len(SAMPLE_BLUEPRINTS)
    by_path = {f["path"]: f for c in manifest(out)["clients"] for f in c["files"]}
    for row in rows:
        assert row["sha256"] == by_path[row["file"]]["sha256"] and row["generator_version"] == __version__
        assert row["blueprint_version"] == by_path[row["file"]]["version"]
        assert not row["company"].startswith(("=", "+", "-", "@"))
    assert {row["company"] for row in rows} >= {"'" + HOSTILE, "'+1 Agency", "Македонски Вез ДООЕЛ"}


def test_without_blueprints_a_batch_writes_every_builtin_blueprint(hostile_batch):
    data = manifest(hostile_batch)
    assert [b["id"] for b in data["blueprints"]] == ALL_BLUEPRINTS
    assert [f["blueprint"] for f in data["clients"][0]["files"]] == ALL_BLUEPRINTS
    assert sorted(p.stem for p in (hostile_batch / HOSTILE_FOLDER).glob("*.xlsx")) == ALL_BLUEPRINTS


def test_a_hostile_name_stays_text_in_every_cell(hostile_batch):
    folder = hostile_batch / HOSTILE_FOLDER
    for path in sorted(folder.glob("*.xlsx")):
        book = openpyxl.load_workbook(path)
        texts = []
        for sheet in book.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if cell.data_type == "f":
                        assert "HYPERLINK" not in str(cell.value), (path.name, cell.coordinate)
                    elif isinstance(cell.value, str) and "HYPERLINK" in cell.value:
                        texts.append(cell.value)
        assert any(HOSTILE in text for text in texts), path.name


def test_a_hostile_name_stays_text_after_libreoffice_recalculates(hostile_batch, soffice, tmp_path):
    sources = sorted((hostile_batch / HOSTILE_FOLDER).glob("*.xlsx"))
    recalculated = recalculate_many(sources, tmp_path)
    for source, again in zip(sources, recalculated):
        before = openpyxl.load_workbook(source)
        after = openpyxl.load_workbook(again)
        found = 0
        for sheet in before.worksheets:
            for row in sheet.iter_rows():
                for cell in row:
                    if isinstance(cell.value, str) and HOSTILE in cell.value and cell.data_type != "f":
                        assert after[sheet.title][cell.coordinate].value == cell.value
                        found += 1
        assert found, source.name


def test_second_run_skips_every_client_and_keeps_the_files(sample_batch, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(sample_batch[0], out)  # the second run, in a copy the other tests do not see
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*.xlsx")}
    assert len(stamps) == 20 * len(SAMPLE_BLUEPRINTS)
    code, stdout, err = run("batch", SAMPLE, "-o", out, "--jobs", "2", "--blueprints", ",".join(SAMPLE_BLUEPRINTS))
    assert code == 0, err
    assert stdout.startswith("20 clients: 0 generated, 20 unchanged, 0 failed")
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*.xlsx")} == stamps
    assert manifest(out)["counts"]["unchanged"] == 20


# --------------------------------------------------------------------------- bad input


def test_bad_rows_are_reported_skipped_and_exit_1(tmp_path):
    clients = write_clients(
        tmp_path / "clients.csv",
        [
            "Good One Oy,2027,1,EUR,instagram,Aino,",
            "Old Times Oy,1999,1,EUR,instagram,Aino,",
            "Thirteen Oy,2027,13,EUR,instagram,Aino,",
            "Money Oy,2027,1,EURO,instagram,Aino,",
            ",2027,1,EUR,instagram,Aino,",
            "",
            'Twice Oy,2027,1,EUR,"instagram,Instagram",Aino,',
            "Carry Oy,2027,1,EUR,instagram,Aino,sideways",
            "Extra Oy,2027,1,EUR,instagram,Aino,,surplus",
            "Good Two Oy,2028,,nok,,,positive",
        ],
    )
    out = tmp_path / "out"
    code, stdout, stderr = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget")
    assert code == 1
    assert stderr.splitlines() == [
        "smm-sheets: row 3: year must be between 2000 and 2100, not 1999",
        "smm-sheets: row 4: start month must be 1-12, not 13",
        "smm-sheets: row 5: unknown currency 'EURO': use an ISO 4217 code such as EUR, USD or NOK",
        "smm-sheets: row 6: company must not be empty",
        "smm-sheets: row 8: channels names 'Instagram' twice",
        "smm-sheets: row 9: option carry_over must be one of signed, positive, none, not 'sideways'",
        "smm-sheets: row 10: 8 values but only 7 columns",
    ]
    assert stdout.startswith("9 clients: 2 generated, 0 unchanged, 7 failed")
    data = manifest(out)
    assert [(c["row"], c["status"]) for c in data["clients"]] == [
        (2, "generated"),
        (3, "failed"),
        (4, "failed"),
        (5, "failed"),
        (6, "failed"),
        (8, "failed"),
        (9, "failed"),
        (10, "failed"),
        (11, "generated"),
    ]
    assert data["clients"][1]["error"] == "year must be between 2000 and 2100, not 1999"
    assert sorted(p.name for p in out.iterdir() if p.is_dir()) == ["good-one-oy", "good-two-oy"]
    budget = openpyxl.load_workbook(out / "good-two-oy" / "budget.xlsx")
    assert "NOK" in budget["Budget"]["D7"].number_format
    meta = dict(row[:2] for row in budget["_smm"].iter_rows(max_row=20, values_only=True))
    assert meta["option.carry_over"] == "positive" and meta["year"] == "2028"


@pytest.mark.parametrize(
    "content, message",
    [
        ("company,colour\nAcme,blue\n", "unknown column 'colour'"),
        ("year,currency\n2027,EUR\n", "no company column"),
        ("company,option.sparkle\nAcme,yes\n", "unknown column 'option.sparkle'"),
        ("company,Year,year\nAcme,2027,2027\n", "column 'year' appears twice"),
        ("\n\n", "no header row"),
    ],
)
def test_a_bad_header_stops_the_batch_with_exit_2(tmp_path, content, message):
    clients = tmp_path / "clients.csv"
    clients.write_text(content, encoding="utf-8")
    code, _, stderr = run("batch", clients, "-o", tmp_path / "out")
    assert code == 2 and message in stderr and len(stderr.splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_unreadable_clients_files_exit_2(tmp_path):
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("company\nKahvila Äijä\n".encode("latin-1"))
    code, _, stderr = run("batch", latin1, "-o", tmp_path / "out")
    assert code == 2 and "line 2: not UTF-8 text" in stderr
    code, _, stderr = run("batch", tmp_path / "missing.csv", "-o", tmp_path / "out")
    assert code == 2 and "missing.csv: cannot read" in stderr
    (tmp_path / "clients.json").write_text("[]")
    code, _, stderr = run("batch", tmp_path / "clients.json", "-o", tmp_path / "out")
    assert code == 2 and "must be a .csv, .xlsx or .ods file" in stderr
    code, _, stderr = run("batch", SAMPLE, "-o", tmp_path / "out", "--blueprints", "budget,nonsense")
    assert code == 2 and "nonsense" in stderr
    assert not (tmp_path / "out").exists()


def test_excel_style_csv_semicolons_bom_crlf_and_utf16(tmp_path):
    text = "Company;Start Month;Currency;Channels\r\nMākslas Studija SIA;4;eur;instagram,facebook\r\n"
    for name, data in (
        ("semicolons.csv", b"\xef\xbb\xbf" + text.encode("utf-8")),
        ("utf16.csv", text.encode("utf-16")),
    ):
        (tmp_path / name).write_bytes(data)
        out = tmp_path / name.replace(".csv", "")
        code, _, err = run("batch", tmp_path / name, "-o", out, "--jobs", "1", "--blueprints", "budget")
        assert code == 0, err
        meta = dict(
            row[:2]
            for row in openpyxl.load_workbook(out / "mākslas-studija-sia" / "budget.xlsx")["_smm"].iter_rows(
                max_row=20, values_only=True
            )
        )
        assert (
            meta["company"] == "Mākslas Studija SIA"
            and meta["start_month"] == "4"
            and meta["channels"] == "Instagram,Facebook"
        )


def test_clients_from_an_xlsx_file(tmp_path):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append([None])
    sheet.append(["Company", "Year", "Currency", "option.carry_over"])
    sheet.append(["Fjord Fiskeutstyr AS", 2027, "NOK", "none"])
    sheet.append(["+47 Media AS", 2027.0, "NOK", None])
    sheet["A4"].data_type = "s"  # openpyxl would otherwise not treat "+47..." as a formula anyway
    sheet.append(["Bad Year AS", "soon", "NOK", None])
    book.save(tmp_path / "clients.xlsx")
    out = tmp_path / "out"
    code, stdout, stderr = run("batch", tmp_path / "clients.xlsx", "-o", out, "--jobs", "1", "--blueprints", "budget")
    assert code == 1
    assert stderr.strip() == "smm-sheets: row 5: year must be a whole number such as 2027, not 'soon'"
    assert [(c["row"], c["folder"]) for c in manifest(out)["clients"]] == [
        (3, "fjord-fiskeutstyr-as"),
        (4, "47-media-as"),
        (5, None),
    ]


# --------------------------------------------------------------------------- resume


def test_changed_row_regenerates_only_that_client_and_force_all(tmp_path):
    rows = [
        "Alpha Oy,2027,1,EUR,instagram,Aino,",
        "Beta AS,2027,1,NOK,facebook,Ola,",
        "Gamma SIA,2027,1,EUR,tiktok,Ilze,",
    ]
    clients = write_clients(tmp_path / "clients.csv", rows)
    out = tmp_path / "out"
    assert run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget,roadmap")[0] == 0
    first = manifest(out)
    rows[1] = "Beta AS,2028,1,NOK,facebook,Ola,"
    write_clients(clients, rows)
    code, stdout, _ = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget,roadmap")
    assert code == 0 and stdout.startswith("3 clients: 1 generated, 2 unchanged, 0 failed")
    second = manifest(out)
    assert [c["status"] for c in second["clients"]] == ["unchanged", "generated", "unchanged"]
    assert second["clients"][0]["files"] == first["clients"][0]["files"]
    assert second["clients"][1]["fingerprint"] != first["clients"][1]["fingerprint"]
    # A missing file is written again.
    os.unlink(out / "gamma-sia" / "roadmap.xlsx")
    code, stdout, _ = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget,roadmap")
    assert stdout.startswith("3 clients: 1 generated, 2 unchanged")
    assert sha256(out / "gamma-sia" / "roadmap.xlsx") == manifest(out)["clients"][2]["files"][1]["sha256"]
    # A file whose bytes changed may be someone's work (or damaged: the batch cannot tell): kept.
    with open(out / "gamma-sia" / "roadmap.xlsx", "ab") as handle:
        handle.write(b"junk")
    changed = (out / "gamma-sia" / "roadmap.xlsx").read_bytes()
    code, stdout, _ = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget,roadmap")
    assert stdout.startswith("3 clients: 0 generated, 3 unchanged")
    assert (out / "gamma-sia" / "roadmap.xlsx").read_bytes() == changed
    assert manifest(out)["clients"][2]["files"][1]["kept"] == "in place"
    # Another selection of blueprints is another fingerprint; --force regenerates everything.
    code, stdout, _ = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget")
    assert stdout.startswith("3 clients: 3 generated, 0 unchanged")
    code, stdout, _ = run("batch", clients, "-o", out, "--jobs", "1", "--blueprints", "budget", "--force")
    assert stdout.startswith("3 clients: 3 generated, 0 unchanged")
    assert (out / "gamma-sia" / "roadmap.xlsx").read_bytes() == changed  # not in this selection


def test_resume_after_a_crash_left_temporary_files_and_a_half_manifest(tmp_path):
    rows = [f"Client {i} Oy,2027,1,EUR,instagram,Aino," for i in range(4)]
    out = tmp_path / "out"
    assert (
        run(
            "batch",
            write_clients(tmp_path / "clients.csv", rows[:2]),
            "-o",
            out,
            "--jobs",
            "1",
            "--blueprints",
            "budget",
        )[0]
        == 0
    )
    # What a kill in the middle of the next run leaves: a half-written workbook under its
    # temporary name, a half-written manifest under its temporary name.
    (out / "client-2-oy").mkdir()
    (out / "client-2-oy" / ".budget.xlsx.k1l2m3.tmp").write_bytes(b"PK\x03\x04half")
    (out / ".manifest.json.a1b2c3.tmp").write_text('{"generator": "smm-sheets", "clients": [{"row"')
    (out / "client-0-oy" / ".budget.xlsx.zzz.tmp").write_bytes(b"PK")
    code, stdout, err = run(
        "batch", write_clients(tmp_path / "clients.csv", rows), "-o", out, "--jobs", "2", "--blueprints", "budget"
    )
    assert code == 0, err
    assert stdout.startswith("4 clients: 2 generated, 2 unchanged, 0 failed")
    assert temporaries(out) == []
    data = manifest(out)
    assert data["complete"] is True and [c["folder"] for c in data["clients"]] == [f"client-{i}-oy" for i in range(4)]
    for client in data["clients"]:
        assert sha256(out / client["files"][0]["path"]) == client["files"][0]["sha256"]


def test_interrupt_writes_the_manifest_so_far_and_the_next_run_resumes(tmp_path):
    clients = write_clients(tmp_path / "clients.csv", [f"Client {i} Oy,2027,1,EUR,instagram,Aino," for i in range(5)])
    out = tmp_path / "out"
    seen = []

    def interrupt_after_two(result, total):
        seen.append(result.row)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        batch.run_batch(clients, out, "budget", jobs=1, on_result=interrupt_after_two)
    data = manifest(out)
    assert data["complete"] is False and [c["row"] for c in data["clients"]] == [2, 3]
    summary = batch.run_batch(clients, out, "budget", jobs=1)
    assert (summary.generated, summary.unchanged, summary.failed) == (3, 2, 0)
    assert manifest(out)["complete"] is True


# The command line, in a process that stops still once it has recorded STOP_AFTER clients (their
# results committed to the state), so that the test kills it after a known number of clients.
# Its workers go on with the clients handed to them meanwhile, as they would at any kill.
_STOPS_AFTER = """
import sys, time
from pathlib import Path
from smm_sheets.agency.state import State
from smm_sheets.cli import main

marker, stop_after = Path(sys.argv[1]), int(sys.argv[2])
record = State.record

def record_then_stop(self, result):
    record(self, result)
    if sum(self.counts().values()) == stop_after:
        marker.touch()
        time.sleep(600)  # until the test kills this process

State.record = record_then_stop
main(sys.argv[3:])
"""


@pytest.mark.slow  # three processes and a pool: a few seconds even now
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_killed_run_resumes_where_it_stopped(tmp_path, how):
    clients_count, stop_after = 8, 3
    rows = [f'Client {i:02d} AS,2027,1,NOK,"instagram,facebook",Kari,' for i in range(clients_count)]
    clients = write_clients(tmp_path / "clients.csv", rows)
    out, stopped_marker = tmp_path / "out", tmp_path / "stopped"
    batch_args = ["batch", str(clients), "-o", str(out), "--blueprints", "budget,kpi-report"]
    args = [sys.executable, "-c", _STOPS_AFTER, str(stopped_marker), str(stop_after), *batch_args, "--jobs", "2"]
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not stopped_marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        if how == signal.SIGKILL:
            os.killpg(process.pid, signal.SIGKILL)  # the parent and its workers, with no chance to tidy up
        else:
            process.send_signal(signal.SIGTERM)  # `kill`: the parent stops like Ctrl-C
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode != 0
    if how == signal.SIGTERM:
        assert b"run the same command again to resume" in stderr
        stopped = manifest(out)
        assert stopped["complete"] is False and len(stopped["clients"]) == stop_after
    code, _, err = run(*batch_args, "--jobs", "1")  # the number of processes is no part of what is resumed
    assert code == 0, err
    data = manifest(out)
    assert data["complete"] is True and data["counts"]["failed"] == 0
    # The clients recorded before the kill are kept; those finished by a worker but never
    # recorded, and those not started, are written again.
    assert data["counts"]["unchanged"] == stop_after
    assert data["counts"]["generated"] == clients_count - stop_after
    assert temporaries(out) == []
    for client in data["clients"]:
        for entry in client["files"]:
            assert sha256(out / entry["path"]) == entry["sha256"]


def test_one_batch_folder_one_run_at_a_time(tmp_path):
    state = State(tmp_path)
    try:
        with pytest.raises(FileError, match="in use by another batch run"):
            State(tmp_path)
    finally:
        state.close()


# --------------------------------------------------------------------------- client work is never lost


@pytest.mark.slow
@pytest.mark.usefixtures("soffice_uno")
def test_a_rerun_over_returned_edited_workbooks_keeps_every_one_byte_for_byte(tmp_path):
    """Workbooks filled in with LibreOffice and put back in their folders, as agencies do."""
    rows = [
        "Alpha Oy,2027,1,EUR,instagram,Aino,",
        "Beta AS,2027,1,NOK,facebook,Ola,",
        "Gamma SIA,2027,1,EUR,tiktok,Ilze,",
    ]
    clients = write_clients(tmp_path / "clients.csv", rows)
    out = tmp_path / "out"
    selection = ("--blueprints", "budget,roadmap", "--jobs", "1", "--quiet")
    assert run("batch", clients, "-o", out, *selection)[0] == 0
    returned = [out / "alpha-oy" / "budget.xlsx", out / "beta-as" / "budget.xlsx", out / "beta-as" / "roadmap.xlsx"]
    jobs = [
        {"src": path, "out": tmp_path / "edited" / path.parent.name / path.name, "actions": [action]}
        for path, action in zip(
            returned,
            [
                {"set": "Budget!D22", "value": 31},
                {"set": "Budget!E22", "value": 12.5},
                {"type": "Initiatives!A6", "text": "Launch the spring campaign"},
            ],
        )
    ]
    for job, path in zip(jobs, edit_many(jobs)):
        shutil.copyfile(path, job["src"])  # put back in the client's folder
    edited = {path: path.read_bytes() for path in returned}

    # The same clients file, then a changed row (Beta's year): the edited files stay as they are.
    code, stdout, stderr = run("batch", clients, "-o", out, *selection)
    assert code == 0 and "3 kept as they are, 0 copied" in stdout
    assert "alpha-oy/budget.xlsx: changed since the batch wrote it; kept as it is" in stderr
    rows[1] = "Beta AS,2028,1,NOK,facebook,Ola,"
    write_clients(clients, rows)
    code, stdout, _ = run("batch", clients, "-o", out, *selection)
    assert code == 0 and stdout.startswith("3 clients: 0 generated, 3 unchanged")
    assert {path: path.read_bytes() for path in returned} == edited
    entries = {f["path"]: f for c in manifest(out)["clients"] for f in c["files"]}
    for path in returned:
        entry = entries[path.relative_to(out).as_posix()]
        assert entry["kept"] == "in place" and entry["sha256"] == sha256(path)
    assert entries["alpha-oy/roadmap.xlsx"]["kept"] is None
    with open(out / "manifest.csv", encoding="utf-8-sig") as handle:
        kept_column = {row["file"]: row["kept"] for row in csv.DictReader(handle)}
    assert kept_column["beta-as/roadmap.xlsx"] == "in place" and kept_column["gamma-sia/budget.xlsx"] == ""

    # --force replaces them only after a copy of each, byte for byte, in _kept/<client>/.
    code, stdout, stderr = run("batch", clients, "-o", out, *selection, "--force")
    assert code == 0 and "0 kept as they are, 3 copied to _kept/ and replaced" in stdout
    data = manifest(out)
    assert data["counts"]["kept_copies"] == 3
    entries = {f["path"]: f for c in data["clients"] for f in c["files"]}
    for path, before in edited.items():
        entry = entries[path.relative_to(out).as_posix()]
        copy = out / entry["kept"]
        assert copy.parent == out / "_kept" / path.parent.name and copy.name.startswith(path.stem + ".kept-")
        assert copy.read_bytes() == before
        assert path.read_bytes() != before and sha256(path) == entry["sha256"]
        assert f"kept a copy: {entry['kept']}" in stderr
    # The fresh files are the batch's own now: a run after that keeps no more copies.
    code, stdout, _ = run("batch", clients, "-o", out, *selection, "--force")
    assert code == 0 and "kept" not in stdout
    assert len(list((out / "_kept").rglob("*.xlsx"))) == 3
    # The portfolio does not take the copies for a client.
    assert sorted(Path(f).name for f in portfolio.client_folders(out)) == ["alpha-oy", "beta-as", "gamma-sia"]


def test_a_workbook_there_before_the_batch_is_never_replaced(tmp_path):
    clients = write_clients(tmp_path / "clients.csv", ["Alpha Oy,2027,1,EUR,instagram,Aino,"])
    out = tmp_path / "out"
    (out / "alpha-oy").mkdir(parents=True)
    theirs = out / "alpha-oy" / "budget.xlsx"
    theirs.write_bytes(b"a budget someone made by hand")
    code, stdout, stderr = run("batch", clients, "-o", out, "--blueprints", "budget,roadmap", "--jobs", "1")
    assert code == 0 and "1 kept as they are" in stdout
    assert theirs.read_bytes() == b"a budget someone made by hand"
    assert (out / "alpha-oy" / "roadmap.xlsx").exists()
    # Even with a lost state, --force copies it before it replaces it.
    os.unlink(out / ".smm-batch.sqlite")
    code, stdout, _ = run("batch", clients, "-o", out, "--blueprints", "budget,roadmap", "--jobs", "1", "--force")
    assert code == 0 and "1 copied to _kept/" in stdout  # the roadmap is the batch's own: no copy
    (copy,) = (out / "_kept" / "alpha-oy").iterdir()
    assert copy.read_bytes() == b"a budget someone made by hand"
    assert theirs.read_bytes()[:2] == b"PK"


def test_generate_force_keeps_a_copy_of_an_edited_workbook(tmp_path):
    out = tmp_path / "out"
    assert run("generate", "all", "-o", out)[0] == 0
    # The same workbook again (only its creation time differs): replaced without a copy.
    code, stdout, _ = run("generate", "budget", "-o", out, "--force")
    assert code == 0 and "kept" not in stdout and sorted(p.name for p in out.iterdir())[0] == "budget.xlsx"
    book = openpyxl.load_workbook(out / "budget.xlsx")
    book["Budget"]["D22"] = 31
    book.save(out / "budget.xlsx")
    edited = (out / "budget.xlsx").read_bytes()
    code, stdout, _ = run("generate", "all", "-o", out, "--force")
    assert code == 0
    (copy,) = out.glob("budget.kept-*.xlsx")
    assert copy.read_bytes() == edited
    assert f"kept {copy}: a copy of budget.xlsx as it was" in stdout
    assert len(list(out.glob("*.kept-*"))) == 1  # the other four were this generator's own
    # Without --force nothing is touched at all.
    code, _, stderr = run("generate", "budget", "-o", out)
    assert code == 2 and "exists; use --force" in stderr


# --------------------------------------------------------------------------- processes and Dask


@pytest.fixture(scope="module")
def cluster():
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None, silence_logs=40
    ) as local:
        yield local


@pytest.mark.slow
def test_dask_gives_the_same_output_manifest_and_resume_as_local(tmp_path, cluster):
    rows = [
        "Alpha Oy,2027,1,EUR,instagram,Aino,",
        f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",2027,1,EUR,instagram,Aino,',
        "Скопска Пекара ДОО,2027,3,MKD,facebook,Ивана,positive",
        "Alpha Oy,2027,6,EUR,tiktok,Mikko,",
        "Broken Oy,2027,0,EUR,x,Y,",
    ]
    clients = write_clients(tmp_path / "clients.csv", rows)
    local, remote = tmp_path / "local", tmp_path / "remote"
    code_local, _, err_local = run("batch", clients, "-o", local, "--jobs", "2", "--blueprints", "budget,roadmap")
    code_remote, stdout, err_remote = run(
        "batch", clients, "-o", remote, "--scheduler", cluster.scheduler_address, "--blueprints", "budget,roadmap"
    )
    assert (code_local, code_remote) == (
        1,
        1,
    ) and err_local == err_remote == "smm-sheets: row 6: start month must be 1-12, not 0\n"
    assert stdout.startswith("5 clients: 4 generated, 0 unchanged, 1 failed")
    assert without_hashes(manifest(local)) == without_hashes(manifest(remote))
    for entry in (f for c in manifest(remote)["clients"] for f in c.get("files", ())):
        assert sha256(remote / entry["path"]) == entry["sha256"]
        assert parts_but_timestamps(remote / entry["path"]) == parts_but_timestamps(local / entry["path"])
    code, stdout, _ = run(
        "batch", clients, "-o", remote, "--scheduler", cluster.scheduler_address, "--blueprints", "budget,roadmap"
    )
    assert code == 1 and stdout.startswith("5 clients: 0 generated, 4 unchanged, 1 failed")


def test_an_unreachable_scheduler_is_one_line_and_exit_2(tmp_path):
    dask = pytest.importorskip("dask")
    clients = write_clients(tmp_path / "clients.csv", ["Alpha Oy,2027,1,EUR,instagram,Aino,"])
    with dask.config.set({"distributed.comm.timeouts.connect": "2s"}):
        code, _, stderr = run(
            "batch", clients, "-o", tmp_path / "out", "--scheduler", "tcp://127.0.0.1:9", "--blueprints", "budget"
        )
    assert (
        code == 2
        and stderr.startswith("smm-sheets: error: cannot reach the Dask scheduler at tcp://127.0.0.1:9")
        and len(stderr.splitlines()) == 1
    )


def test_help_lists_the_batch_options():
    code, stdout, _ = run("batch", "--help")
    assert code == 0 and all(
        option in stdout for option in ("--blueprints", "--jobs", "--scheduler", "--force", "--quiet", "--sample")
    )
