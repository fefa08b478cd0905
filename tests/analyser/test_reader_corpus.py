"""Every file of the shared real-world corpus ends in a WorkbookData or one clear FileError line.

Each file is read in its own subprocess, under a 1 GiB address-space limit and a 10 s timeout, so
that a hang, a crash or a runaway allocation in python-calamine fails this test instead of taking
the test run down. Input files must come out unchanged (sha256 before and after). The corpus
lives beside the repository (``../shared/corpus/calamine``); without it these tests skip, visibly.

The fast scan of worksheet XML and the expat scan must agree on every xlsx/xlsm of the corpus.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from smm_sheets.analyser import reader
from smm_sheets.analyser.reader import scan, zipguard
from tests.helpers import CORPUS, ROOT

FILES = (
    sorted(p for p in CORPUS.iterdir() if p.is_file() and not p.name.lower().startswith("readme"))
    if CORPUS.is_dir()
    else []
)
TIMEOUT = 10.0
MEMORY = 1 << 30

# Files python-calamine itself cannot read, and why (checked against the message we give).
REFUSED = {
    "pass_protected.xlsx": "encrypted (password-protected)",
    "pass_protected.xlsb": "encrypted (password-protected)",
    "pass_protected.ods": "encrypted (password-protected)",
    "issue_385.xls": "encrypted (password-protected)",
    "issue252.xlsx": "holds more than",  # a zip entry larger than its directory says
    "issue_594_dos.ods": "cells to read; the limit is",  # repeated cells: our limit, before calamine's own
    "OOM_alloc3.xls": "Cfb error",
    "too_small.xls": "not a spreadsheet",
}

WORKER = rf"""
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({MEMORY}, {MEMORY}))
from smm_sheets.analyser import reader
from smm_sheets.errors import FileError
try:
    book = reader.read(sys.argv[1])
except FileError as error:
    print(json.dumps({{"error": str(error)}}))
else:
    print(json.dumps({{"format": book.format, "sheets": {{n: [len(s.rows), None if s.formulas is None else len(s.formulas)]
                       for n, s in book.sheets.items()}}}}))
"""

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not FILES, reason=f"corpus not found at {CORPUS}")]


def read_in_subprocess(path: Path) -> dict:
    try:
        done = subprocess.run(
            [sys.executable, "-c", WORKER, str(path)],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            cwd=ROOT,
        )
    except subprocess.TimeoutExpired:
        return {"path": path, "failure": f"no answer within {TIMEOUT:.0f} s"}
    if done.returncode != 0 or done.stderr.strip() or len(done.stdout.splitlines()) != 1:
        return {
            "path": path,
            "failure": f"exit code {done.returncode}\nstdout: {done.stdout[-2000:]}\nstderr: {done.stderr[-2000:]}",
        }
    return {"path": path, **json.loads(done.stdout)}


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FILES}
    with ThreadPoolExecutor(max_workers=2) as pool:
        found = {r["path"].name: r for r in pool.map(read_in_subprocess, FILES)}
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in FILES}
    assert after == before, "an input file was modified"
    return found


def test_every_file_is_read_or_refused_in_one_line(results):
    failures = {name: r["failure"] for name, r in results.items() if "failure" in r}
    assert not failures, failures
    for name, result in results.items():
        if "error" in result:
            message = result["error"]
            assert "\n" not in message and message.startswith(str(CORPUS / name) + ": "), message


def test_refused_files_are_the_known_ones_with_their_reasons(results):
    refused = {name: r["error"] for name, r in results.items() if "error" in r}
    assert set(refused) == set(REFUSED) & set(results), refused
    for name, message in refused.items():
        assert REFUSED[name] in message, message


def test_read_files_have_sheets_and_formulas_where_the_format_has_them(results):
    read = {name: r for name, r in results.items() if "sheets" in r}
    assert len(read) >= len(results) - len(REFUSED)
    for name, result in read.items():
        assert result["format"] == Path(name).suffix.lstrip(".") or (result["format"], Path(name).suffix) == (
            "xlsx",
            ".xlsm",
        ), name
        for rows, formulas in result["sheets"].values():
            assert (formulas is None) == (result["format"] in ("xls", "xlsb")), name
    assert sum(f or 0 for r in read.values() for _, f in r["sheets"].values()) > 100  # formulas are found at all


XLSX = [p for p in FILES if p.suffix in (".xlsx", ".xlsm") and p.name not in REFUSED]


@pytest.mark.parametrize("path", XLSX, ids=[p.name for p in XLSX])
def test_fast_scan_agrees_with_expat(path):
    outer = reader._Reader(path, reader.Limits())
    with open(path, "rb") as fh:
        package = zipguard.Package(outer.fail, fh, path.stat().st_size, outer.limits)
        sheet_parts = outer.read_package(package, with_formulas=False, formats=reader.FORMATS).sheet_parts
        for part in sorted(set(sheet_parts.values())):
            fast, full = scan.scan_sheet(package, part, fast=True), scan.scan_sheet(package, part, fast=False)
            assert (fast.formulas, fast.errors, fast.cached, sorted(fast.uncached)) == (
                full.formulas,
                full.errors,
                full.cached,
                sorted(full.uncached),
            ), part
