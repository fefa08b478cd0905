"""Many items in isolated children: one child answers item after item; a crash ends only its item."""

from __future__ import annotations

import os
import shutil
import time

import pytest
from click.testing import CliRunner

from smm_sheets.analyser import pipeline
from smm_sheets.analyser.report import FileReport
from smm_sheets.cli import main
from smm_sheets.errors import FileError, InputError, ParameterError
from smm_sheets.processes import DEFAULT_ISOLATION, IsolationLimits, run_isolated_each


@pytest.fixture(scope="module")
def workbooks(tmp_path_factory):
    """The five sample workbooks, written once."""
    import smm_sheets

    out = tmp_path_factory.mktemp("set")
    smm_sheets.generate("all", out, sample=True)
    return out


def _pid_or_crash(item: str) -> int:
    if item == "abort":
        os.abort()
    if item == "hog":
        bytearray(4 << 30)
    if item == "sleep":
        time.sleep(30)
    if item == "bad":
        raise ParameterError("bad item")
    if item == "bug":
        raise KeyError("bug")
    return os.getpid()


def test_one_child_answers_items_until_one_crashes_then_a_new_one_goes_on():
    items = ["a", "b", "abort", "c", "d"]
    answers = list(run_isolated_each(_pid_or_crash, items))
    assert [item for item, _ in answers] == items
    pids = [answer for _, answer in answers]
    assert isinstance(pids[2], FileError) and "crashed" in str(pids[2])
    assert pids[0] == pids[1] != os.getpid()  # one child for the items before the crash
    assert pids[3] == pids[4] not in (pids[0], os.getpid())  # a new one for the items after it


def test_errors_raised_are_answers_and_the_child_goes_on():
    answers = dict(run_isolated_each(_pid_or_crash, ["bad", "bug", "a"]))
    assert isinstance(answers["bad"], InputError) and str(answers["bad"]) == "bad item"
    assert isinstance(answers["bug"], FileError) and "internal error: KeyError" in str(answers["bug"])
    assert isinstance(answers["a"], int)


def test_memory_and_wall_clock_limits_are_per_item():
    limits = IsolationLimits(memory=256 << 20, wall_seconds=2)
    answers = list(run_isolated_each(_pid_or_crash, ["a", "hog", "b", "sleep", "c"], limits=limits))
    by_item = dict(answers)
    assert "memory limit" in str(by_item["hog"]) and "took longer than 2 s" in str(by_item["sleep"])
    assert all(isinstance(by_item[item], int) for item in "abc")
    assert len(answers) == 5


def _spin(seconds: float) -> float:
    start = time.process_time()
    while time.process_time() - start < seconds:
        pass
    return seconds


@pytest.mark.slow
def test_the_processor_time_limit_is_per_item_not_per_child():
    # Three items of 0.6 s each under a limit of 1 s: each is within its own allowance.
    answers = [answer for _, answer in run_isolated_each(_spin, [0.6, 0.6, 0.6], limits=IsolationLimits(seconds=1))]
    assert answers == [0.6, 0.6, 0.6]
    crashed = dict(run_isolated_each(_spin, [0.1, 5.0, 0.1], limits=IsolationLimits(seconds=1)))
    assert "processor time" in str(crashed[5.0]) and crashed[0.1] == 0.1


@pytest.fixture
def crashing_reader(monkeypatch):
    """``analyse_file`` aborts the process (as a native reader would) on files named crash*."""
    real = pipeline.analyse_file

    def analyse_file(path, language=None):
        if os.path.basename(str(path)).startswith("crash"):
            os.abort()
        return real(path, language)

    monkeypatch.setattr(pipeline, "analyse_file", analyse_file)


def test_a_crash_among_many_files_is_one_failure_and_the_others_are_analysed(crashing_reader, workbooks, tmp_path):
    folder = tmp_path / "client"
    folder.mkdir()
    for name in ("budget", "calendar", "strategy"):
        shutil.copy(workbooks / f"{name}.xlsx", folder / f"{name}.xlsx")
    shutil.copy(workbooks / "roadmap.xlsx", folder / "crash-roadmap.xlsx")
    report = pipeline.analyse(folder, isolation=DEFAULT_ISOLATION)
    assert sorted(r.blueprint_id for r in report.reports) == ["budget", "calendar", "strategy"]
    assert all(isinstance(r, FileReport) for r in report.reports)
    [failure] = report.failures
    assert failure.file == str(folder / "crash-roadmap.xlsx") and "crashed" in failure.message


def test_one_file_that_crashes_the_reader_is_one_line(crashing_reader, workbooks, tmp_path):
    target = tmp_path / "crash.xlsx"
    shutil.copy(workbooks / "budget.xlsx", target)
    result = CliRunner().invoke(main, ["analyse", str(target)])
    assert result.exit_code == 2
    [line] = [line for line in result.output.splitlines() if "crash" in line]  # the report's one line for it
    assert line.startswith(f"cannot be analysed: {target}: the reader crashed")
    assert "Traceback" not in result.output


def test_the_parent_holds_what_every_child_would_load_for_itself():
    import babel.localedata

    from smm_sheets.analyser import isolated, messages, recognise
    from smm_sheets.locale_data import LANGUAGES

    isolated.warm()
    assert recognise._BUILTIN and messages.catalogs.cache_info().currsize == 1
    assert set(LANGUAGES) <= set(babel.localedata._cache)  # Babel's locale data, read once here


def test_reading_in_a_child_leaves_the_parents_frozen_objects_as_they_were():
    # In a process of its own: this test process's objects may be frozen by commands run before.
    import subprocess
    import sys

    script = """
import gc
from smm_sheets.processes import run_isolated_each
def run():
    return [outcome for _, outcome in run_isolated_each(abs, [-1, -2])]
assert gc.get_freeze_count() == 0
assert run() == [1, 2] and gc.get_freeze_count() == 0  # nothing frozen here: nothing left frozen
gc.freeze()  # as cli.loading does once a command's modules are imported
frozen = gc.get_freeze_count()
assert run() == [1, 2] and gc.get_freeze_count() == frozen  # not thawed by the fork
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.stdout.strip() == "ok", done.stderr
