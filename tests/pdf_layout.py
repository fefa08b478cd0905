"""How generated workbooks print: page counts, overprinted words and the smallest text.

Not a test module: the print test (tests/generator/test_print.py) and the figures in the
README and the notes use it. Each workbook is printed to PDF by LibreOffice (see
tests/libreoffice.py) and ``pdftotext -bbox`` (poppler-utils) gives every word's box.

- The printed size of a word is its box height divided by :data:`BOX_PER_POINT`: poppler's box
  of a Liberation Sans word (LibreOffice's Arial) is 1.30 times the font size, measured on a
  sheet printed at 100 %. The generated sheets have no rotated text (earlier versions rotated
  the roadmap's week headers: their digits measure small).
- Two words overprint when their boxes overlap by more than a hair across and by more than half
  the smaller height (the boxes of two lines of one wrapped cell overlap a little).

Usage as a script: ``python tests/pdf_layout.py [OUT_DIR]`` prints the figures of the 50
workbooks (5 blueprints x 5 languages x blank and sample) as a table.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

BOX_PER_POINT = 1.30
LANGUAGES = ("en", "fi", "lv", "mk", "nb")
KINDS = ("blank", "sample")
_NS = "{http://www.w3.org/1999/xhtml}"


class Word(NamedTuple):
    page: int
    x0: float
    y0: float
    x1: float
    y1: float
    text: str

    @property
    def points(self) -> float:
        """The printed font size in points (of horizontal text: rotated text's box is turned)."""
        return (self.y1 - self.y0) / BOX_PER_POINT


@dataclass
class Printout:
    """What one printed workbook looks like."""

    name: str
    pages: int
    words: list[Word] = field(repr=False)
    overlaps: list[tuple[Word, Word]] = field(repr=False)

    @property
    def smallest(self) -> float:
        """The smallest printed font size (points), 0 with no words."""
        return min((w.points for w in self.words), default=0.0)

    def small_words(self, limit: float = 6.0) -> list[Word]:
        return [w for w in self.words if w.points < limit]


def pdftotext_path() -> str | None:
    return shutil.which("pdftotext")


def require_pdftotext() -> str:
    """The pdftotext path; else skip the calling test, or fail it where LibreOffice is required
    (the print checks are LibreOffice checks: CI installs poppler-utils beside it)."""
    import pytest

    from tests.libreoffice import REQUIRE_ENV

    found = pdftotext_path()
    if found is None:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"pdftotext (poppler-utils) is required ({REQUIRE_ENV}=1) but not on PATH")
        pytest.skip(f"pdftotext (poppler-utils) is not installed; set {REQUIRE_ENV}=1 to make this a failure")
    return found


def read_words(pdf: Path) -> tuple[int, list[Word]]:
    """The page count and every word of ``pdf`` with its box (``pdftotext -bbox``)."""
    done = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, check=True, timeout=120, text=True
    )
    root = ET.fromstring(done.stdout)
    words: list[Word] = []
    pages = 0
    for page in root.iter(_NS + "page"):
        for word in page.iter(_NS + "word"):
            a = word.attrib
            words.append(
                Word(pages, float(a["xMin"]), float(a["yMin"]), float(a["xMax"]), float(a["yMax"]), word.text or "")
            )
        pages += 1
    return pages, words


def overlapping(words: list[Word]) -> list[tuple[Word, Word]]:
    """The pairs of words that print over each other (see the module's docstring)."""
    pairs = []
    by_page: dict[int, list[Word]] = {}
    for word in words:
        by_page.setdefault(word.page, []).append(word)
    for page_words in by_page.values():
        page_words.sort(key=lambda w: w.x0)
        for i, a in enumerate(page_words):
            for b in page_words[i + 1 :]:
                if b.x0 >= a.x1 - 0.5:
                    break
                across = min(a.x1, b.x1) - max(a.x0, b.x0)
                down = min(a.y1, b.y1) - max(a.y0, b.y0)
                if across > 0.5 and down > 0.5 * min(a.y1 - a.y0, b.y1 - b.y0):
                    pairs.append((a, b))
    return pairs


def measure(pdf: Path, name: str | None = None) -> Printout:
    pages, words = read_words(pdf)
    return Printout(name or pdf.stem, pages, words, overlapping(words))


def generate_set(out_dir: Path, languages=LANGUAGES, kinds=KINDS) -> list[Path]:
    """The workbooks of every blueprint, language and kind, named ``<kind>-<lang>-<id>.xlsx``.

    Blank ones are made for Acme, 2027; sample ones from samples/nordic-knitwear.yaml.
    """
    import yaml

    from smm_sheets.blueprint import loader
    from smm_sheets.blueprint.params import make_parameters
    from smm_sheets.generator.pipeline import generate_all

    root = Path(__file__).resolve().parent.parent
    sample = yaml.safe_load((root / "samples" / "nordic-knitwear.yaml").read_text(encoding="utf-8"))
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for kind in kinds:
        for language in languages:
            values = dict(sample, sample=True) if kind == "sample" else {"company": "Acme", "year": 2027}
            params = make_parameters(channel_names=loader.load_channel_names(), language=language, **values)
            folder = out_dir / f"{kind}-{language}"
            folder.mkdir(exist_ok=True)
            for path in generate_all(params, folder, force=True):
                flat = out_dir / f"{kind}-{language}-{path.name}"
                path.replace(flat)
                paths.append(flat)
            folder.rmdir()
    return paths


def print_set(out_dir: Path, languages=LANGUAGES, kinds=KINDS, timeout: float = 900) -> list[Printout]:
    """Generate the set (:func:`generate_set`), print it in one LibreOffice start, measure each PDF."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from libreoffice import pdf_many  # tests/ is not a package when run as a script

    sources = generate_set(out_dir, languages, kinds)
    pdfs = pdf_many(sources, out_dir / "pdf", timeout=timeout)
    return [measure(pdf) for pdf in pdfs]


def blueprint_of(name: str) -> str:
    """``sample-fi-kpi-report`` -> ``kpi-report``."""
    return name.split("-", 2)[2]


def main(argv: list[str] | None = None) -> int:
    import argparse
    import tempfile

    parser = argparse.ArgumentParser(description="Print the 50 workbooks with LibreOffice and measure them.")
    parser.add_argument("out_dir", nargs="?", help="folder for the workbooks and PDFs (default: a temporary one)")
    parser.add_argument("--show", type=int, default=0, help="list up to N overlapping pairs and small words per file")
    parser.add_argument("--lang", action="append", choices=LANGUAGES, help="only these languages")
    parser.add_argument("--kind", action="append", choices=KINDS, help="only blank or only sample workbooks")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        printouts = print_set(Path(args.out_dir or scratch), tuple(args.lang or LANGUAGES), tuple(args.kind or KINDS))
        print(f"{'workbook':32} {'pages':>5} {'overlaps':>8} {'smallest pt':>11}")
        for p in printouts:
            print(f"{p.name:32} {p.pages:5} {len(p.overlaps):8} {p.smallest:11.1f}")
            for a, b in p.overlaps[: args.show]:
                print(f"    overlap p{a.page + 1}: {a.text!r} / {b.text!r}")
            for w in sorted(p.small_words(), key=lambda w: w.points)[: args.show]:
                print(f"    small p{w.page + 1}: {w.text!r} {w.points:.1f} pt")
        by_blueprint: dict[str, list[int]] = {}
        for p in printouts:
            by_blueprint.setdefault(blueprint_of(p.name), []).append(p.pages)
        print()
        print("most pages per blueprint: " + ", ".join(f"{k} {max(v)}" for k, v in sorted(by_blueprint.items())))
        print(
            f"total: {sum(p.pages for p in printouts)} pages, {sum(len(p.overlaps) for p in printouts)} overlapping pairs, "
            f"smallest {min(p.smallest for p in printouts):.1f} pt, "
            f"{sum(len(p.small_words()) for p in printouts)} words under 6 pt"
        )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
