"""Hostile and odd inputs: each ends in a report or one line, within bounded work, and no input
is ever changed.

Every case runs the command line in its own subprocess under ``prlimit`` (1 GiB of address
space, 10 s of processor time; resource limits where prlimit is missing) and checks: exit 0, 1 or
2; at most one line on stderr (exactly one when the exit code is 2); no traceback, Rust panic or
"Exception ignored" text; every input's sha256 unchanged; no temporary file left behind. Then
the same hostile workbooks inside one ``analyse DIR --summary`` run and one ``batch`` run: every
other client's result is still there.

The cases are built here (tests/hostile/build.py) from workbooks the generator writes.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from smm_sheets import atomic
from smm_sheets.agency.slugs import client_slug
from smm_sheets.analyser import reader, walk
from smm_sheets.blueprint.params import make_parameters, slug
from smm_sheets.blueprint.source import yaml_shape_problem
from smm_sheets.errors import FileError, InputError, ParameterError
from smm_sheets.formula import FormulaSyntaxError, parse
from smm_sheets.processes import IsolationLimits, run_isolated
from tests.helpers import ROOT
from tests.hostile import build

MEMORY = 1 << 30
CPU_SECONDS = 10
WALL_SECONDS = 90  # the machine may be busy: the processor-time limit is the real bound
BAD_TEXT = ("Traceback", "panicked", "stack backtrace", "Exception ignored", "internal error", "RUST_BACKTRACE")
PRLIMIT = shutil.which("prlimit")


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory) -> Path:
    """The five sample workbooks, written once."""
    import smm_sheets

    out = tmp_path_factory.mktemp("set")
    smm_sheets.generate("all", out, sample=True)
    return out


@pytest.fixture(scope="module")
def cases(workbooks: Path, tmp_path_factory) -> Path:
    """Hostile workbooks built from the sample set, one folder."""
    out = tmp_path_factory.mktemp("hostile")
    budget, calendar = workbooks / "budget.xlsx", workbooks / "calendar.xlsx"
    build.far_cell(budget, out / "far-xfd10000.xlsx", "Budget", "XFD10000")
    build.far_cell(budget, out / "far-xfd1048576-smm.xlsx", "_smm", "XFD1048576")
    build.far_cell(budget, out / "far-zz100000.xlsx", "Budget", "ZZ100000")
    build.far_cell(budget, out / "far-row-99999999999.xlsx", "Budget", "A99999999999")
    build.far_cell(budget, out / "date-minus-inf.xlsx", "Budget", "D100", value=b"<v>-inf</v>", attrs=b' s="4"')
    build.far_cell(budget, out / "date-infinity.xlsx", "Budget", "D100", value=b"<v>Infinity</v>", attrs=b' s="4"')
    build.far_cell(budget, out / "date-nan.xlsx", "Budget", "D100", value=b"<v>nan</v>", attrs=b' s="4"')
    build.far_cell(budget, out / "date-huge.xlsx", "Budget", "D100", value=b"<v>1e300</v>", attrs=b' s="4"')
    build.name_pointing(budget, out / "name-far.xlsx", "smm_planned", "'Budget'!$D$6:$O$999999999")
    build.name_pointing(calendar, out / "name-far-calendar.xlsx", "smm_caption", "'Calendar'!$G$6:$XFD$999999999")
    grown = build.smm_rows(calendar, out / "rows-grown.tmp.xlsx", "posts", 1_000_000)
    build.far_cell(grown, out / "smm-rows-and-far-cell.xlsx", "Calendar", "XFD1048576")
    grown.unlink()
    build.flip_digits(budget, out / "flipped-digits.xlsx", "xl/worksheets/sheet1.xml")
    build.formula_text(budget, out / "formula-surrogate.xlsx", "xl/worksheets/sheet1.xml", b"SUM(&#xD800;1)")
    build.formula_text(budget, out / "formula-deep.xlsx", "xl/worksheets/sheet1.xml", b"(" * 3000 + b"1" + b")" * 3000)
    build.ods(out / "far-cell.ods", build.ODS_FAR)
    build.ods(out / "repeated-everywhere.ods", build.ODS_REPEATED)
    return out


WORKBOOK_CASES = [
    "far-xfd10000.xlsx",
    "far-xfd1048576-smm.xlsx",
    "far-zz100000.xlsx",
    "far-row-99999999999.xlsx",
    "date-minus-inf.xlsx",
    "date-infinity.xlsx",
    "date-nan.xlsx",
    "date-huge.xlsx",
    "name-far.xlsx",
    "name-far-calendar.xlsx",
    "smm-rows-and-far-cell.xlsx",
    "flipped-digits.xlsx",
    "formula-surrogate.xlsx",
    "formula-deep.xlsx",
    "far-cell.ods",
    "repeated-everywhere.ods",
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _limits() -> None:  # in the child, where prlimit is missing
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_cli(
    *args: str | Path, inputs: tuple[Path, ...] = (), cwd: Path | None = None, row_lines: bool = False
) -> subprocess.CompletedProcess:
    """``smm-sheets ARGS`` in a subprocess under the limits; the promises that hold for every case checked."""
    hashes = {path: sha256(path) for path in inputs if path.is_file()}
    command = [sys.executable, "-m", "smm_sheets", *map(str, args)]
    if PRLIMIT:
        command = [PRLIMIT, f"--as={MEMORY}", f"--cpu={CPU_SECONDS}", *command]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("SMM_SHEETS_DEBUG", None)
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=WALL_SECONDS,
        env=env,
        cwd=cwd,
        preexec_fn=None if PRLIMIT else _limits,
    )
    lines = done.stderr.splitlines()
    assert done.returncode in (0, 1, 2), (done.returncode, done.stderr[-2000:])
    if row_lines:  # a batch says each bad row in a line of its own, and goes on
        assert all(line.startswith("smm-sheets: row ") for line in lines), done.stderr[-2000:]
    else:
        assert len(lines) <= 1, done.stderr[-2000:]
    if done.returncode == 2 and args[0] != "analyse":  # analyse puts an unreadable file in its report
        assert len(lines) == 1, done.stderr
    for bad in BAD_TEXT:
        assert bad not in done.stderr and bad not in done.stdout, done.stderr[-2000:]
    for path, digest in hashes.items():
        assert sha256(path) == digest, f"{path} was changed"
    return done


def no_temporaries(folder: Path) -> None:
    left = [p for p in folder.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".~")]
    assert not left, left


# --------------------------------------------------------------------------- in-process units (fast)


def test_a_far_cell_is_dropped_and_named_not_expanded(workbooks, tmp_path):
    path = build.far_cell(workbooks / "budget.xlsx", tmp_path / "far.xlsx", "Budget", "XFD1048576")
    book = reader.read(path)
    assert [(d.sheet, d.cell, d.reason) for d in book.dropped_cells] == [("Budget", "XFD1048576", "far")]
    assert max(len(r) for r in book.sheets["Budget"].rows) < 100 and len(book.sheets["Budget"].rows) < 100
    plain = reader.read(workbooks / "budget.xlsx")
    assert book.sheets["Budget"].rows == plain.sheets["Budget"].rows  # the rest read as before
    assert book.sheets["Budget"].formulas == plain.sheets["Budget"].formulas


def test_a_far_cell_within_the_limit_is_read_as_it_is(workbooks, tmp_path):
    path = build.far_cell(workbooks / "budget.xlsx", tmp_path / "near.xlsx", "Budget", "Z2000")
    book = reader.read(path)
    assert not book.dropped_cells
    assert book.sheets["Budget"].value(1999, 25) == 1


def test_a_sheet_too_large_even_without_stray_cells_is_refused(workbooks, tmp_path):
    path = build.far_cell(workbooks / "budget.xlsx", tmp_path / "far.xlsx", "Budget", "XFD10000")
    with pytest.raises(FileError, match="cells to read; the limit is 500"):
        reader.read(path, reader.Limits(max_sheet_cells=500))


def test_non_finite_numbers_are_dropped_before_calamine_panics(workbooks, tmp_path):
    for text in (b"-inf", b"Infinity", b"NaN"):
        path = build.far_cell(
            workbooks / "budget.xlsx",
            tmp_path / "inf.xlsx",
            "Budget",
            "D100",
            value=b"<v>" + text + b"</v>",
            attrs=b' s="4"',
        )
        book = reader.read(path)
        assert [(d.cell, d.reason, d.text) for d in book.dropped_cells] == [("D100", "bad-number", text.decode())]


def test_an_ods_whose_cells_reach_far_is_refused_in_one_line(tmp_path):
    small = reader.read_table(build.ods(tmp_path / "small.ods", build.ODS_SMALL))
    assert small == [[1.0, 1.0]] * 3
    for table in (build.ODS_FAR, build.ODS_REPEATED):
        with pytest.raises(FileError, match=r"cells spread over A1:XFD\d+"):
            reader.read_table(build.ods(tmp_path / "far.ods", table))


def test_the_analysis_names_the_far_cell(workbooks, tmp_path):
    from smm_sheets.analyser.pipeline import analyse_file

    path = build.far_cell(workbooks / "budget.xlsx", tmp_path / "far.xlsx", "_smm", "XFD1048576")
    report = analyse_file(path)
    far = [f for f in report.findings if f.code == "far-cell"]
    assert [(f.sheet, f.cell, f.severity) for f in far] == [("_smm", "XFD1048576", "warning")]
    assert report.totals["planned"] == analyse_file(workbooks / "budget.xlsx").totals["planned"]


def test_an_isolated_call_survives_an_abort_a_runaway_and_a_memory_hog():
    with pytest.raises(FileError, match="crashed"):
        run_isolated(os.abort)
    with pytest.raises(FileError, match="memory limit"):
        run_isolated(bytearray, 4 << 30, limits=IsolationLimits(memory=256 << 20))
    with pytest.raises(FileError, match="took longer than 1 s"):
        run_isolated(time.sleep, 30, limits=IsolationLimits(wall_seconds=1))
    with pytest.raises(FileError, match="processor time"):
        run_isolated(_spin, limits=IsolationLimits(seconds=1))
    with pytest.raises(InputError, match="bad"):
        run_isolated(_raise_input_error)
    assert run_isolated(sum, [1, 2, 3]) == 6


def _spin() -> None:
    while True:
        pass


def _raise_input_error() -> None:
    raise ParameterError("bad")


def test_analyse_isolated_gives_a_report_or_one_line(workbooks, tmp_path):
    from smm_sheets.analyser.isolated import analyse_isolated
    from smm_sheets.analyser.report import FileFailure, FileReport

    assert isinstance(analyse_isolated(workbooks / "budget.xlsx"), FileReport)
    failure = analyse_isolated(tmp_path / "missing.xlsx")
    assert isinstance(failure, FileFailure) and failure.message == f"{tmp_path / 'missing.xlsx'}: no such file"


def test_the_walk_stays_in_its_folder(workbooks, tmp_path):
    shutil.copy(workbooks / "budget.xlsx", tmp_path / "budget.xlsx")
    (tmp_path / "root").symlink_to("/")
    (tmp_path / "loop").symlink_to(tmp_path)
    os.mkfifo(tmp_path / "pipe.xlsx")
    (tmp_path / "inside.xlsx").symlink_to(tmp_path / "budget.xlsx")
    files, notes = walk.spreadsheet_files([tmp_path])
    assert files == [tmp_path / "budget.xlsx", tmp_path / "inside.xlsx"]
    assert any("root: skipped, a link out of" in n for n in notes)
    assert any("pipe.xlsx: skipped, not a regular file (a FIFO)" in n for n in notes)
    assert any("loop: skipped, a link back to a folder already read" in n for n in notes)
    with pytest.raises(InputError, match="not a regular file"):
        walk.spreadsheet_files([tmp_path / "pipe.xlsx"])


def test_an_output_onto_an_input_is_refused(tmp_path):
    source = tmp_path / "x.xlsx"
    source.write_bytes(b"x")
    with pytest.raises(ParameterError, match="is the input"):
        atomic.refuse_overwriting_inputs(source, [source])
    with pytest.raises(ParameterError, match="is the input"):
        atomic.refuse_overwriting_inputs(tmp_path / "." / "x.xlsx", [source])
    with pytest.raises(ParameterError, match="inside the folder being read"):
        atomic.refuse_overwriting_inputs(tmp_path / "sub" / "report.txt", [tmp_path])
    atomic.refuse_overwriting_inputs(tmp_path.parent / "report.txt", [tmp_path])  # beside it: fine


def test_writing_over_a_device_is_refused(tmp_path):
    with pytest.raises(FileError, match="not a regular file"):
        atomic.write_text("/dev/null", "x")


def test_yaml_shapes_are_checked_before_anything_recursive():
    assert yaml_shape_problem(build.deep_yaml(3000))[0].startswith(("nested more than", "not valid YAML"))
    assert yaml_shape_problem(build.ALIAS_BOMB) == ("YAML aliases are not allowed", 2)
    assert yaml_shape_problem("company: x\n") is None


def test_formulas_nested_too_deep_or_too_long_are_a_syntax_error():
    with pytest.raises(FormulaSyntaxError, match="nested more than 64 deep"):
        parse("(" * 3000 + "1" + ")" * 3000)
    with pytest.raises(FormulaSyntaxError, match="nested more than 64 deep"):
        parse("-" * 3000 + "1")
    with pytest.raises(FormulaSyntaxError, match="at most 8,192"):
        parse("+".join(["1"] * 100_000))
    assert parse("(" * 64 + "1" + ")" * 64)


def test_distinct_names_in_any_script_keep_distinct_channel_ids():
    names = [
        "微博",
        "小红书",
        "Мастодон",
        "ВКонтакте",
        "Ελληνικά",
        "Κάτι",
        "Kylä-lehti",
        "Kylö",
        "Østlandet",
        "Instagram",
    ]
    params = make_parameters(channels=names)
    assert len({c.id for c in params.channels}) == len(names)
    assert all(c.id.isascii() and c.id for c in params.channels)
    assert slug("Instagram") == "instagram" and slug("X (Twitter)") == "x_twitter"
    assert len({client_slug(n) for n in names}) == len(names)


def test_a_lone_surrogate_in_a_text_is_a_parameter_error():
    for field in ("company", "team", "goals"):
        with pytest.raises(ParameterError, match="lone surrogate"):
            make_parameters(**{field: "Acme \udcff"})


# --------------------------------------------------------------------------- one subprocess per case (slow)


@pytest.mark.slow
@pytest.mark.parametrize("name", WORKBOOK_CASES)
def test_a_hostile_workbook_is_a_report_or_one_line(cases, name, tmp_path):
    path = cases / name
    done = run_cli("analyse", path, "--format", "json", inputs=(path,))
    report = json.loads(done.stdout)
    assert len(report["reports"]) + len(report["failures"]) == 1
    if name.startswith("far-") and name.endswith(".xlsx"):
        codes = {f["code"] for f in report["reports"][0]["findings"]}
        assert "far-cell" in codes
    if name.startswith("date-") and name != "date-huge.xlsx":
        codes = {f["code"] for f in report["reports"][0]["findings"]}
        assert "bad-number" in codes


@pytest.mark.slow
def test_analyse_never_writes_over_its_input(workbooks, tmp_path):
    source = tmp_path / "x.xlsx"
    shutil.copy(workbooks / "budget.xlsx", source)
    done = run_cli("analyse", source, "--output", source, inputs=(source,))
    assert done.returncode == 2 and "is the input" in done.stderr
    done = run_cli("analyse", tmp_path, "--output", tmp_path / "report.txt", inputs=(source,))
    assert done.returncode == 2 and "inside the folder being read" in done.stderr
    assert not (tmp_path / "report.txt").exists()
    done = run_cli("analyse", source, "--output", "/dev/full", inputs=(source,))
    assert done.returncode == 2 and "not a regular file" in done.stderr


@pytest.mark.slow
def test_export_and_batch_never_write_over_their_input(workbooks, tmp_path):
    calendar = tmp_path / "calendar.xlsx"
    shutil.copy(workbooks / "calendar.xlsx", calendar)
    done = run_cli("export", calendar, "--format", "csv", "-o", calendar, "--force", inputs=(calendar,))
    assert done.returncode == 2 and "is the input" in done.stderr
    clients = tmp_path / "batch" / "acme-oy" / "clients.csv"
    clients.parent.mkdir(parents=True)
    shutil.copy(ROOT / "samples" / "clients.csv", clients)
    done = run_cli("batch", clients, "-o", tmp_path / "batch", inputs=(clients,))
    assert done.returncode == 2 and "where the batch writes" in done.stderr


@pytest.mark.slow
def test_a_folder_with_a_link_to_the_root_and_a_fifo_neither_hangs_nor_wanders(workbooks, tmp_path):
    shutil.copy(workbooks / "budget.xlsx", tmp_path / "budget.xlsx")
    (tmp_path / "root").symlink_to("/")
    os.mkfifo(tmp_path / "pipe.xlsx")
    done = run_cli("analyse", tmp_path, "--format", "json", inputs=(tmp_path / "budget.xlsx",))
    report = json.loads(done.stdout)
    assert len(report["reports"]) == 1 and len(report["skipped"]) == 2
    done = run_cli("analyse", tmp_path / "pipe.xlsx")
    assert done.returncode == 2 and "not a regular file (a FIFO)" in done.stderr


@pytest.fixture(scope="module")
def params_cases(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("params")
    files = {
        "alias-bomb": build.ALIAS_BOMB,
        "deep": build.deep_yaml(3000),
        "surrogate": 'company: "\\ud800"\n',
        "year-400-digits": "year: " + "9" * 400 + "\n",
        "month-400-digits": "start_month: " + "9" * 400 + "\n",
        "not-utf8": "company: \xff\n",
    }
    paths = {}
    for name, text in files.items():
        paths[name] = out / f"{name}.yaml"
        paths[name].write_bytes(text.encode("utf-8", "surrogateescape") if name != "not-utf8" else b"company: \xff\n")
    paths["goals-50mb"] = out / "goals.yaml"
    with open(paths["goals-50mb"], "w") as stream:
        stream.write("goals: [")
        stream.write('"a goal",' * 6_000_000)
        stream.write("]\n")
    paths["fifo"] = out / "fifo.yaml"
    os.mkfifo(paths["fifo"])
    paths["dev-zero"] = Path("/dev/zero")
    paths["dev-urandom"] = Path("/dev/urandom")
    return paths


PARAMS_CASES = [
    "alias-bomb",
    "deep",
    "surrogate",
    "year-400-digits",
    "month-400-digits",
    "not-utf8",
    "goals-50mb",
    "fifo",
    "dev-zero",
    "dev-urandom",
]


@pytest.mark.slow
@pytest.mark.parametrize("name", PARAMS_CASES)
def test_a_hostile_parameters_file_is_one_line(params_cases, name, tmp_path):
    path = params_cases[name]
    done = run_cli("generate", "budget", "-o", tmp_path, "--params", path, inputs=(path,))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    "flag",
    [
        ("--company", "Acme \udcff"),
        ("--team", "Aino,\udcff"),
        ("--goals", "\udcffgoal"),
        ("--year", "9" * 400),
        ("--start-month", "9" * 400),
    ],
)
def test_hostile_flags_are_one_line(flag, tmp_path):
    done = run_cli("generate", "budget", "-o", tmp_path, *flag)
    assert done.returncode == 2
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
@pytest.mark.parametrize(
    "formula, rows, expected",
    [
        ("(" * 3000 + "{n}" + ")" * 3000, 3, "nested more than 64 deep"),
        ("+".join(["{n}"] * 120_000), 3, "at most 8,192"),
        ("{n}*2", 1_048_000, "between 1 and 200,000"),
    ],
    ids=["nested-3000", "formula-500kb", "rows-1048000"],
)
def test_a_hostile_blueprint_is_one_line(formula, rows, expected, tmp_path):
    path = build.blueprint_with_formula(tmp_path / "hostile.yaml", formula, rows)
    out = tmp_path / "out"
    done = run_cli("generate", path, "-o", out, inputs=(path,))
    assert done.returncode == 2 and expected in done.stderr
    assert not out.exists() or not list(out.iterdir())


@pytest.mark.slow
def test_distinct_non_latin_channels_generate(tmp_path):
    done = run_cli("generate", "budget", "-o", tmp_path, "--channels", "微博,小红书,Мастодон,ВКонтакте,Ελληνικά,Κάτι")
    assert done.returncode == 0 and (tmp_path / "budget.xlsx").is_file()


def _mount_tmpfs(folder: Path, options: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    if not shutil.which("mount") or os.geteuid() != 0:
        return False
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)], capture_output=True)
    return done.returncode == 0


@pytest.fixture
def full_disk(tmp_path):
    folder = tmp_path / "full"
    if not _mount_tmpfs(folder, "size=64k"):
        pytest.skip("cannot mount a small tmpfs here (needs root and mount)")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.fixture
def read_only(tmp_path):
    folder = tmp_path / "ro"
    if not _mount_tmpfs(folder, "ro,size=64k"):
        pytest.skip("cannot mount a read-only tmpfs here (needs root and mount)")
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_and_no_partial_file(full_disk, workbooks, tmp_path):
    done = run_cli("generate", "all", "-o", full_disk, "--sample")
    assert done.returncode == 2 and "No space left on device" in done.stderr
    assert not [p for p in full_disk.rglob("*") if p.is_file()]  # all or nothing
    clients = tmp_path / "clients.csv"
    shutil.copy(ROOT / "samples" / "clients.csv", clients)
    done = run_cli("batch", clients, "-o", full_disk / "batch", "--jobs", "2", inputs=(clients,))
    assert done.returncode == 2 and "No space left on device" in done.stderr  # stops at once: one line
    no_temporaries(full_disk)
    shutil.rmtree(full_disk / "batch", ignore_errors=True)
    (full_disk / "filler").write_bytes(b"x" * (56 << 10))  # a few KB left: less than the report
    report = full_disk / "report.json"
    done = run_cli("analyse", workbooks, "--format", "json", "--output", report)
    assert done.returncode == 2 and "No space left on device" in done.stderr
    assert not report.exists()
    no_temporaries(full_disk)


@pytest.mark.slow
def test_a_read_only_folder_is_one_line(read_only, workbooks):
    for args in (
        ("generate", "budget", "-o", read_only),
        ("batch", ROOT / "samples" / "clients.csv", "-o", read_only / "batch"),
        ("analyse", workbooks / "budget.xlsx", "--output", read_only / "report.txt"),
    ):
        done = run_cli(*args)
        assert done.returncode == 2 and "Read-only file system" in done.stderr


def clients_workbook(path: Path) -> Path:
    """A clients .xlsx of two rows (written with xlsxwriter, as any tool would)."""
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Clients")
    for row, values in enumerate([("company", "year"), ("Alpha Oy", 2027), ("Beta Oy", 2028)]):
        sheet.write_row(row, 0, values)
    book.close()
    return path


def test_a_clients_workbook_with_a_far_cell_reads_without_it(tmp_path):
    plain = clients_workbook(tmp_path / "plain.xlsx")
    far = build.far_cell(plain, tmp_path / "far.xlsx", "Clients", "XFD1048576")
    assert (
        reader.read_table(far)
        == reader.read_table(plain)
        == [["company", "year"], ["Alpha Oy", 2027.0], ["Beta Oy", 2028.0]]
    )


@pytest.mark.slow
def test_hostile_client_lists_are_one_line_or_a_batch(tmp_path):
    plain = clients_workbook(tmp_path / "plain.xlsx")
    clients = build.far_cell(plain, tmp_path / "clients.xlsx", "Clients", "XFD1048576")
    done = run_cli("batch", clients, "-o", tmp_path / "out", "--blueprints", "budget", "--jobs", "1", inputs=(clients,))
    assert done.returncode == 0 and len(list((tmp_path / "out").glob("*/budget.xlsx"))) == 2
    fifo = tmp_path / "clients.csv"
    os.mkfifo(fifo)
    done = run_cli("batch", fifo, "-o", tmp_path / "out2")
    assert done.returncode == 2 and "not a regular file" in done.stderr
    done = run_cli("batch", "/dev/zero", "-o", tmp_path / "out3")
    assert done.returncode == 2
    done = run_cli("batch", clients, "-o", tmp_path / "out" / "alpha-oy" / "budget.xlsx", inputs=(clients,))
    assert done.returncode == 2


def _listener(mode: str) -> tuple[socket.socket, int]:
    """A loopback server that accepts and then says nothing, or garbage."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.5)
    stop = time.monotonic() + 60
    kept = []

    def serve() -> None:
        while time.monotonic() < stop:
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                continue
            if mode == "garbage":
                conn.sendall(b"\xff" * 64)
            kept.append(conn)

    threading.Thread(target=serve, daemon=True).start()
    return server, server.getsockname()[1]


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["refused", "malformed", "silent", "garbage"])
def test_an_unreachable_scheduler_is_one_line(mode, tmp_path, workbooks):
    pytest.importorskip("distributed")
    server = None
    if mode == "refused":
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
        probe.close()
    elif mode == "malformed":
        address = "tcp://[::1"
    else:
        server, port = _listener(mode)
        address = f"tcp://127.0.0.1:{port}"
    try:
        done = run_cli("batch", ROOT / "samples" / "clients.csv", "-o", tmp_path / "out", "--scheduler", address)
    finally:
        if server is not None:
            server.close()
    assert done.returncode == 2 and "cannot reach the Dask scheduler" in done.stderr
    assert "distributed" not in done.stderr.lower().replace("distributed package", "")


# --------------------------------------------------------------------------- the same cases in one run


@pytest.mark.slow
def test_one_portfolio_run_over_hostile_workbooks_keeps_every_other_client(workbooks, cases, tmp_path):
    batch_dir = tmp_path / "batch"
    for client in ("alpha", "beta", "gamma"):
        shutil.copytree(workbooks, batch_dir / client)
    hostile = batch_dir / "hostile"
    shutil.copytree(cases, hostile)
    os.mkfifo(hostile / "pipe.xlsx")
    (hostile / "root").symlink_to("/")
    inputs = tuple(p for p in batch_dir.rglob("*") if p.is_file() and not p.is_symlink())
    summary = tmp_path / "summary.xlsx"
    done = run_cli("analyse", batch_dir, "--summary", summary, "--jobs", "2", "--quiet", inputs=inputs)
    assert done.returncode == 2  # some files could not be read at all
    rows = {row["folder"]: row for row in json.loads(summary.with_suffix(".json").read_text())["clients"]}
    assert set(rows) == {"alpha", "beta", "gamma", "hostile"}
    for client in ("alpha", "beta", "gamma"):
        assert rows[client]["workbooks"] == 5 and rows[client]["unreadable"] == 0
        assert rows[client]["budget_planned"] == rows["alpha"]["budget_planned"] is not None
    assert rows["hostile"]["workbooks"] == len(WORKBOOK_CASES)
    done = run_cli("analyse", batch_dir, "--summary", batch_dir / "summary.xlsx", "--quiet")
    assert done.returncode == 2 and "inside the folder being read" in done.stderr


@pytest.mark.slow
def test_one_batch_run_over_hostile_rows_keeps_every_other_client(tmp_path):
    clients = tmp_path / "clients.csv"
    clients.write_text(
        "company,year,start_month,channels\n"
        "Alpha Oy,2027,1,instagram\n"
        f"Year Oy,{'9' * 400},1,instagram\n"
        "Month Oy,2027," + "9" * 400 + ",instagram\n"
        'Weibo Ltd,2027,1,"微博,小红书,Мастодон,ВКонтакте"\n'
        "Beta Oy,2027,2,facebook\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = run_cli(
        "batch",
        clients,
        "-o",
        out,
        "--jobs",
        "2",
        "--quiet",
        "--blueprints",
        "budget",
        inputs=(clients,),
        row_lines=True,
    )
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 2
    manifest = json.loads((out / "manifest.json").read_text())
    status = {c["company"]: c["status"] for c in manifest["clients"]}
    assert status == {
        "Alpha Oy": "generated",
        "Year Oy": "failed",
        "Month Oy": "failed",
        "Weibo Ltd": "generated",
        "Beta Oy": "generated",
    }
    no_temporaries(out)


@pytest.mark.slow
def test_workers_die_with_a_killed_batch_and_write_nothing_more(tmp_path):
    clients = tmp_path / "clients.csv"
    lines = (ROOT / "samples" / "clients.csv").read_text(encoding="utf-8").splitlines()
    header, rows = lines[0], lines[1:]
    company = header.split(",").index("company")
    with open(clients, "w", encoding="utf-8") as stream:
        stream.write(header + "\n")
        for i in range(200):
            row = next(iter(__import__("csv").reader([rows[i % len(rows)]])))
            row[company] = f"{row[company]} {i}"
            __import__("csv").writer(stream).writerow(row)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "smm_sheets", "batch", str(clients), "-o", str(out), "--jobs", "2", "--quiet"]
    main = subprocess.Popen(
        command, env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and len(list(out.glob("*/*.xlsx"))) < 5:
        time.sleep(0.2)
    workers = _descendants(main.pid)
    assert workers, "the batch started no worker"
    main.send_signal(signal.SIGKILL)
    main.wait()
    time.sleep(1.5)
    alive = [pid for pid in workers if _alive(pid)]
    for pid in alive:  # clean up before failing
        os.kill(pid, signal.SIGKILL)
    assert not alive, f"workers still running after their batch died: {alive}"
    written = sorted(out.glob("*/*.xlsx"))
    time.sleep(2)
    assert sorted(out.glob("*/*.xlsx")) == written
    no_temporaries(out)


def _descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        for child in Path("/proc").glob("[0-9]*"):
            try:
                if int((child / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent:
                    found.append(int(child.name))
                    todo.append(int(child.name))
            except (OSError, ValueError, IndexError):
                continue
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_fast_scan_and_expat_agree_on_where_the_cells_are(workbooks, tmp_path):
    from smm_sheets.analyser.reader import scan, zipguard

    far = build.far_cell(workbooks / "calendar.xlsx", tmp_path / "far.xlsx", "Calendar", "XFD1048576")
    for path in (workbooks / "budget.xlsx", workbooks / "calendar.xlsx", far):
        with open(path, "rb") as stream:
            package = zipguard.Package(FileError, stream, path.stat().st_size, reader.DEFAULT_LIMITS)
            for part in (p for p in package.infos if p.startswith("xl/worksheets/sheet")):
                fast, full = scan.scan_sheet(package, part), scan.scan_sheet(package, part, fast=False)
                assert isinstance(fast, scan.FastSheetScan)
                assert (fast.extent.cells, fast.extent.area()) == (full.extent.cells, full.extent.area()), part
                assert fast.extent.cells > 0


def test_references_past_the_sheet_size_are_far_cells_not_an_abort(workbooks, tmp_path):
    for ref in ("A99999999999", "ABCDE5"):
        path = build.far_cell(workbooks / "budget.xlsx", tmp_path / "far.xlsx", "Budget", ref)
        assert [(d.cell, d.reason) for d in reader.read(path).dropped_cells] == [(ref, "far")]
