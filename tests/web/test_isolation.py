"""The analyses' worker processes: reused, replaced after their tasks, a timeout, a failure."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from smm_sheets.web import isolation
from tests.web.targets import pid


def test_a_worker_is_reused_then_replaced_after_its_tasks():
    runner = isolation.Runner(isolation.Limits(tasks=3), target=pid)
    pids = [runner.run([], "en") for _ in range(6)]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4] == pids[5]
    assert os.getpid() not in pids


def test_after_a_timeout_or_a_failure_the_next_analysis_gets_a_new_worker():
    runner = isolation.Runner(isolation.Limits(seconds=0.5), target=pid)
    first = runner.run([], "en")
    with pytest.raises(isolation.AnalysisFailed) as failed:
        runner.run(["sleep"], "en")
    assert failed.value.reason == "time"
    second = runner.run([], "en")
    assert second != first
    with pytest.raises(isolation.AnalysisFailed) as failed:
        runner.run(["fail"], "en")
    assert failed.value.reason == "crash" and "ValueError" in str(failed.value)
    assert runner.run([], "en") != second


def test_a_worker_killed_while_idle_is_replaced():
    runner = isolation.Runner(target=pid)
    first = runner.run([], "en")
    os.kill(first, 9)
    deadline = time.monotonic() + 10  # the worker is the forkserver's child: wait until it has exited
    while time.monotonic() < deadline and _running(first):
        time.sleep(0.05)
    second = runner.run([], "en")
    assert second != first and runner.run([], "en") == second


def _running(process_id: int) -> bool:
    try:
        state = Path(f"/proc/{process_id}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_the_limits_are_stated_as_the_shared_isolation_states_them():
    from smm_sheets.processes import IsolationLimits

    limits = isolation.Limits(seconds=12.0, memory=1 << 29)
    assert limits.isolation == IsolationLimits(memory=1 << 29, seconds=12.0, wall_seconds=12.0)


def test_a_worker_dies_with_its_forkserver():
    # die_with_parent (smm_sheets.processes): the worker's parent is the forkserver; when it is
    # killed (as when the server process is), the kernel kills the worker, even mid-analysis.
    runner = isolation.Runner(target=pid)
    worker = runner.run([], "en")
    forkserver = int(Path(f"/proc/{worker}/stat").read_text().rsplit(")", 1)[1].split()[1])
    assert forkserver != os.getpid()
    os.kill(forkserver, 9)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _running(worker):
        time.sleep(0.05)
    assert not _running(worker)
