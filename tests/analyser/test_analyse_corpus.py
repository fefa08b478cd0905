"""``smm-sheets analyse`` on real-world spreadsheets that are not ours (shared/corpus/calamine).

The corpus (calamine's test files: Excel, LibreOffice and Google Sheets output, truncated and
encrypted files, files that once made readers allocate without bound) is untrusted input. Every
file must end in a report or in one clear line saying why it cannot be analysed: no traceback,
no hang (10 s a file), no more than 1 GiB of address space, and the file unchanged.

The CLI runs in a subprocess for a few files at a time, so that a hang or a crash names its
files; a group that times out is run again file by file to name the one that hangs.
"""

from __future__ import annotations

import hashlib
import json
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import CORPUS

pytestmark = pytest.mark.slow

GROUP = 4
SECONDS_PER_FILE = 10
MEMORY_LIMIT = 1 << 30  # bytes of address space for the analyser's process


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.iterdir() if p.is_file()) if CORPUS.is_dir() else []


def groups() -> list[list[Path]]:
    files = corpus_files()
    return [files[i : i + GROUP] for i in range(0, len(files), GROUP)]


def _limit_memory() -> None:  # runs in the child, before the analyser starts
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run_analyse(files: list[Path]) -> subprocess.CompletedProcess:
    """``smm-sheets analyse FILES --format json`` with the memory limit; TimeoutExpired on a hang."""
    return subprocess.run(
        [sys.executable, "-m", "smm_sheets", "analyse", *map(str, files), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=SECONDS_PER_FILE * len(files) + 5,
        preexec_fn=_limit_memory,
        stdin=subprocess.DEVNULL,
    )


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def corpus_hashes() -> dict[Path, str]:
    if not CORPUS.is_dir():
        pytest.skip(f"no corpus at {CORPUS} (shared/corpus/calamine beside the repository)")
    return {path: sha256(path) for path in corpus_files()}


@pytest.mark.parametrize(
    "files",
    groups() or [pytest.param([], marks=pytest.mark.skip(reason=f"no corpus at {CORPUS}"))],
    ids=lambda files: files[0].name if files else "none",
)
def test_every_file_is_a_report_or_one_clear_line(files, corpus_hashes):
    try:
        result = run_analyse(files)
    except subprocess.TimeoutExpired:
        hanging = []
        for path in files:
            try:
                run_analyse([path])
            except subprocess.TimeoutExpired:
                hanging.append(path.name)
        pytest.fail(
            f"smm-sheets analyse hung (over {SECONDS_PER_FILE} s a file) on {', '.join(hanging) or [p.name for p in files]}"
        )
    names = ", ".join(p.name for p in files)
    assert "Traceback" not in result.stderr, f"{names}:\n{result.stderr}"
    assert result.returncode in (0, 1, 2), f"{names}: exit code {result.returncode} (killed?)\n{result.stderr[-2000:]}"
    report = json.loads(result.stdout)  # a valid JSON report, whatever the files
    assert report["schema_version"]
    outcomes: dict[str, str] = {}
    for failure in report["failures"]:
        message = failure["error"]
        assert message.strip() and "\n" not in message.strip(), f"{failure['file']}: not one line: {message!r}"
        outcomes[str(Path(failure["file"]).resolve())] = "failure"
    for found in report["reports"]:
        assert found["blueprint"]["id"], found["file"]
        outcomes[str(Path(found["file"]).resolve())] = "report"
    assert sorted(outcomes) == sorted(str(p.resolve()) for p in files), "every file: a report or a failure"
    # None of them is an smm-sheets workbook: each is a failure, and the exit code says so.
    assert set(outcomes.values()) == {"failure"}, outcomes
    assert result.returncode == 2
    for path in files:
        assert sha256(path) == corpus_hashes[path], f"{path.name} was changed"


def test_the_corpus_is_unchanged(corpus_hashes):
    # Last, after every group: no file of the corpus was changed, added or removed.
    assert {path: sha256(path) for path in corpus_files()} == corpus_hashes
