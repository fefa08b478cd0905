"""Smoke test of bench_batch.py's parts: the clients it writes, the code before issue 15 it takes
from git, and the processor time it counts of processes its commands leave behind (no timing
asserted)."""

from __future__ import annotations

import csv
import subprocess
import sys
import threading
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_batch


def test_clients_are_the_samples_in_turn_each_with_its_own_name(tmp_path):
    bench_batch.write_clients(tmp_path / "clients.csv", 23)
    with open(tmp_path / "clients.csv", encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 23 and len({row["company"] for row in rows}) == 23
    assert rows[20]["channels"] == rows[0]["channels"]


def test_the_code_before_is_taken_from_git_and_runs(tmp_path):
    if not bench_batch.extract_before(tmp_path):
        pytest.skip(f"commit {bench_batch.BEFORE_COMMIT} is not in this checkout")
    before = bench_batch.Code("before", tmp_path, tmp_path)
    # A child of this process's own that lives on (as a test run's multiprocessing forkserver
    # does) is not waited for: only a process that adopts orphans waits for them.
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        measured: list[dict] = []
        thread = threading.Thread(target=lambda: measured.append(before.measure("--help")), daemon=True)
        thread.start()
        thread.join(timeout=60)
        assert measured, "measuring waited for a child that was not the command's"
    finally:
        sleeper.kill()
        sleeper.wait()
    assert measured[0]["code"] == 0 and "batch" in measured[0]["output"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl is Linux's")
def test_orphans_are_adopted_and_waited_for():
    # In a process of its own: a subreaper adopts every orphan below it, not only the bench's.
    # A child leaves a grandchild that spins behind it (as a batch leaves its forkserver): waiting
    # for it adds its processor time to the children's.
    script = f"""
import os, resource, subprocess, sys
sys.path.insert(0, {str(Path(bench_batch.__file__).parent)!r})
import bench_batch
assert bench_batch.become_subreaper()
leave = "import os, time\\nif os.fork() == 0:\\n    end = time.process_time() + 0.2\\n    while time.process_time() < end: pass\\n    os._exit(0)\\n"
subprocess.run([sys.executable, "-c", leave], check=True)
bench_batch.reap_orphans()
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(used.ru_utime + used.ru_stime)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert float(done.stdout) >= 0.2
