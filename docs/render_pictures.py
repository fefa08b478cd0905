"""Pictures of the sample workbooks for the README: docs/<workbook id>.png.

Usage: ``python docs/render_pictures.py [WORKBOOK_ID[:LANG] ...]`` (default: all five in English,
the budget in Finnish and ``start-here``), or ``make docs``. ``budget:fi`` writes
docs/budget-fi.png; ``start-here`` the budget's Start here sheet as docs/start-here.png.

Each workbook is generated with the sample parameters (samples/nordic-knitwear.yaml, sample
data on), printed to PDF by LibreOffice (isolated profile, formulas recalculated, see
tests/libreoffice.py) and the page after the Start here sheet - the workbook's first own
sheet - is turned into a PNG by pdftoppm. Needs LibreOffice (soffice) and pdftoppm (poppler-utils).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from libreoffice import LibreOfficeError, pdf, soffice_path  # noqa: E402 - tests/ is not a package

from smm_sheets.blueprint import loader  # noqa: E402
from smm_sheets.blueprint.params import make_parameters  # noqa: E402
from smm_sheets.generator.pipeline import generate  # noqa: E402

START_HERE = "start-here"  # the budget's Start here sheet: docs/start-here.png
DEFAULT_WORKBOOKS = ["budget", "strategy", "roadmap", "calendar", "kpi-report", "budget:fi", START_HERE]
SAMPLE_PARAMS = ROOT / "samples" / "nordic-knitwear.yaml"
DOCS = ROOT / "docs"
RESOLUTION = 110


def render_picture(
    workbook_id: str,
    work: Path,
    out_dir: Path = DOCS,
    resolution: int = RESOLUTION,
    language: str = "en",
    page: int = 2,
    name: str | None = None,
) -> Path:
    """Generate the sample ``workbook_id``, print it, and write ``page`` to ``out_dir/<id>.png``.

    Page 1 is the Start here sheet; page 2, the default, the workbook's first own sheet. In
    another language than English the picture is ``out_dir/<id>-<language>.png``.
    """
    values = yaml.safe_load(SAMPLE_PARAMS.read_text(encoding="utf-8"))
    params = make_parameters(sample=True, channel_names=loader.load_channel_names(), language=language, **values)
    name = name or (workbook_id if language == "en" else f"{workbook_id}-{language}")
    folder = work / name
    folder.mkdir(parents=True)
    workbook = generate(workbook_id, params, folder)
    printed = pdf(workbook, folder / "pdf")
    prefix = out_dir / name
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            str(resolution),
            "-f",
            str(page),
            "-l",
            str(page),
            "-singlefile",
            str(printed),
            str(prefix),
        ],
        check=True,
        timeout=120,
    )
    return prefix.with_suffix(".png")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "workbooks",
        nargs="*",
        default=DEFAULT_WORKBOOKS,
        metavar="WORKBOOK_ID[:LANG]",
        help="built-in blueprint ids, each with a language if not English (default: the five, and budget:fi)",
    )
    parser.add_argument(
        "-r", "--resolution", type=int, default=RESOLUTION, help=f"dots per inch (default {RESOLUTION})"
    )
    args = parser.parse_args(argv)
    missing = [
        tool
        for tool, found in (("LibreOffice (soffice)", soffice_path()), ("pdftoppm", shutil.which("pdftoppm")))
        if not found
    ]
    if missing:
        print(f"render_pictures: needs {' and '.join(missing)}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="smm-sheets-docs-") as work:
        for name in args.workbooks:
            workbook_id, _, language = name.partition(":")
            start = {"page": 1, "name": START_HERE} if workbook_id == START_HERE else {}
            workbook_id = "budget" if start else workbook_id
            try:
                picture = render_picture(
                    workbook_id, Path(work), resolution=args.resolution, language=language or "en", **start
                )
            except (LibreOfficeError, subprocess.SubprocessError) as error:
                print(f"render_pictures: {name}: {error}", file=sys.stderr)
                return 1
            print(f"wrote {picture.relative_to(ROOT)} ({picture.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
