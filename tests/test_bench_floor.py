"""Smoke test of the generation floor the benches compare with: bench.py records every xlsxwriter
call xlsx.render makes and replays them as a bare script, which must write the same file (no
timing asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import bench_process


def test_the_replayed_budget_is_the_file_render_writes(tmp_path):
    # write_replay raises if the replay's parts differ from the rendered workbook's.
    script, expected = tmp_path / "replay.py", tmp_path / "budget.xlsx"
    bench_process.write_replay(script, expected)
    assert expected.stat().st_size > 0 and script.with_suffix(".xlsx").exists()
    assert "__setattr__('in_memory'" in script.read_text(encoding="utf-8")
