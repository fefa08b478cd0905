"""How the workbooks print: every blueprint in every language, blank and with sample data, is
printed to PDF by LibreOffice and measured (tests/pdf_layout.py): no two words overprint, no
word prints under 6 pt, and no workbook takes more pages than the README says.

Needs LibreOffice and pdftotext; all 50 workbooks print in one LibreOffice start.
"""

from __future__ import annotations

import re

import pytest

from tests import pdf_layout
from tests.helpers import ROOT

pytestmark = pytest.mark.slow


def readme_page_limits() -> dict[str, int]:
    """The "most pages" column of the README's table of printed pages, by workbook id."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("<!-- print-pages -->")[1]
    rows = re.findall(r"^\| `([a-z-]+)` \| (\d+) \|", section, flags=re.M)
    return {workbook: int(pages) for workbook, pages in rows}


@pytest.fixture(scope="module")
def printouts(soffice, tmp_path_factory) -> list[pdf_layout.Printout]:
    pdf_layout.require_pdftotext()
    return pdf_layout.print_set(tmp_path_factory.mktemp("print"))


def test_all_fifty_workbooks_print(printouts):
    assert len(printouts) == 50
    assert all(p.pages >= 1 and p.words for p in printouts)


def test_no_word_overprints_another(printouts):
    found = {p.name: [(a.text, b.text, a.page + 1) for a, b in p.overlaps[:5]] for p in printouts if p.overlaps}
    assert found == {}


def test_no_word_prints_under_6_points(printouts):
    found = {
        p.name: [(w.text, round(w.points, 1), w.page + 1) for w in p.small_words(6.0)[:5]]
        for p in printouts
        if p.small_words(6.0)
    }
    assert found == {}


def test_page_counts_are_at_most_the_readmes(printouts):
    limits = readme_page_limits()
    assert set(limits) == {pdf_layout.blueprint_of(p.name) for p in printouts}
    over = {p.name: (p.pages, limits[pdf_layout.blueprint_of(p.name)]) for p in printouts}
    over = {name: pages for name, pages in over.items() if pages[0] > pages[1]}
    assert over == {}


def test_the_budget_with_an_opening_balance_prints_as_well(soffice, tmp_path):
    """The option adds a table and a Start here line: still no overprint, no small word, and the
    README's page limit, in every language."""
    pdf_layout.require_pdftotext()
    import smm_sheets
    from tests.libreoffice import pdf_many

    sources = []
    for language in ("en", "fi", "lv", "mk", "nb"):
        (path,) = smm_sheets.generate(
            "budget", tmp_path / language, language=language, year=2027, sample=True, options={"opening_balance": True}
        )
        sources.append(path.replace(tmp_path / f"opening-{language}-budget.xlsx"))
    printouts = [pdf_layout.measure(pdf) for pdf in pdf_many(sources, tmp_path / "pdf")]
    limit = readme_page_limits()["budget"]
    assert [(p.name, p.overlaps[:3], p.small_words(6.0)[:3]) for p in printouts] == [
        (p.name, [], []) for p in printouts
    ]
    assert [p.pages for p in printouts if p.pages > limit] == []


def test_overlap_and_size_measures_catch_a_bad_printout():
    """The measures themselves: two boxes on one line overlapping, and a word's size from its box."""
    a = pdf_layout.Word(0, 10, 10, 50, 23, "Engagement")
    b = pdf_layout.Word(0, 45, 11, 70, 24, "higher")
    c = pdf_layout.Word(0, 51, 10, 70, 23, "apart")
    below = pdf_layout.Word(0, 10, 21.5, 50, 34.5, "next line")  # a wrapped cell's next line
    assert pdf_layout.overlapping([a, b]) == [(a, b)]
    assert pdf_layout.overlapping([a, c, below]) == []
    assert a.points == pytest.approx(10.0, abs=0.1)
