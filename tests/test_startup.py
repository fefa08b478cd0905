"""Start-up: a command imports what it uses (pandas for DataFrames, rich for text on a terminal, xlsxwriter to write,
the OpenDocument reader for .ods files)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.helpers import ROOT

_RUN = """
import json, sys
from smm_sheets.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
modules = ("pandas", "rich", "xlsxwriter", "numpy", "smm_sheets.analyser.reader.ods")
print(json.dumps(sorted(m for m in modules if m in sys.modules)))
"""


def _imported(*args: str) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _RUN, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_each_command_loads_only_the_libraries_it_uses(tmp_path):
    assert _imported("--version") == []
    assert _imported("generate", "budget", "--sample", "-o", str(tmp_path)) == ["xlsxwriter"]
    workbook = str(tmp_path / "budget.xlsx")
    assert _imported("analyse", workbook, "--format", "json") == []
    assert _imported("analyse", workbook) == []  # the text report to a pipe is written without rich


def test_totals_are_dataframes_from_python(tmp_path):
    import pandas as pd

    from smm_sheets import analyse, generate

    (path,) = generate("budget", tmp_path, sample=True)
    totals = analyse(path).reports[0].totals
    by_month = totals["by_month"]
    assert isinstance(by_month, pd.DataFrame) and by_month.index.name == "month" and len(by_month) == 12
    assert dict(totals.items())["by_line"].equals(totals.get("by_line"))
    assert by_month["planned"].sum() == pytest.approx(totals["planned"])
    assert isinstance(dict(totals)["by_category"], pd.DataFrame) and isinstance({**totals}["by_line"], pd.DataFrame)
