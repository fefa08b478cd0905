"""Snapshot what the package writes and reports, to show that a refactoring changed nothing.

    python bench/snapshot.py OUT [--edited DIR ...]

writes into OUT, for every language, blank and with ``--sample``, the parts of every workbook
that ``generate all`` writes (each zip entry as a file, the creation and modification times
of ``docProps/core.xml`` blanked) and the JSON analysis of each of them; with ``--edited``,
also the JSON analysis of every spreadsheet below DIR (for example the files that the
LibreOffice tests edited, kept with ``pytest --basetemp``). Compare two snapshots with
``diff -r``. Every command runs in a fresh process of the Python running this script.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LANGUAGES = ("en", "fi", "lv", "mk", "nb")
SUFFIXES = (".xlsx", ".xlsm", ".ods")
_CORE_TIMES = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def smm_sheets(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "smm_sheets", *args], capture_output=True, cwd=ROOT, check=False)


def unpack(workbook: Path, into: Path) -> None:
    with zipfile.ZipFile(workbook) as archive:
        for name in archive.namelist():
            data = archive.read(name)
            if name == "docProps/core.xml":
                data = _CORE_TIMES.sub(rb"\1\2", data)
            target = into / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)


def analysis(path: Path, relative_to: Path) -> str:
    done = smm_sheets("analyse", str(path), "--format", "json")
    text = done.stdout.decode() or done.stderr.decode()
    # The report names the file it read: keep only its place below the folder.
    text = text.replace(str(path), str(path.relative_to(relative_to)))
    try:
        return (
            json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + f"\nexit {done.returncode}\n"
        )
    except ValueError:
        return text + f"\nexit {done.returncode}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--edited", type=Path, action="append", default=[])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for language in LANGUAGES:
            for kind in ("blank", "sample"):
                folder = Path(scratch) / f"{language}-{kind}"
                extra = ["--sample", "--params", "samples/nordic-knitwear.yaml"] if kind == "sample" else []
                done = smm_sheets("generate", "all", "-o", str(folder), "--lang", language, "--year", "2027", *extra)
                if done.returncode:
                    sys.exit(f"generate {language} {kind}: {done.stderr.decode()}")
                for workbook in sorted(folder.glob("*.xlsx")):
                    unpack(workbook, args.out / "generated" / folder.name / workbook.stem)
                    report = args.out / "analysis" / folder.name / f"{workbook.stem}.json"
                    report.parent.mkdir(parents=True, exist_ok=True)
                    report.write_text(analysis(workbook, Path(scratch)))
    for edited in args.edited:
        for path in sorted(p for p in edited.rglob("*") if p.suffix in SUFFIXES):
            report = args.out / "edited" / path.relative_to(edited).with_suffix(path.suffix + ".json")
            report.parent.mkdir(parents=True, exist_ok=True)
            report.write_text(analysis(path, edited))


if __name__ == "__main__":
    main()
