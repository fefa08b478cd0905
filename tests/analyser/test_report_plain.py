"""The plain text report (to a file or a pipe) is written without rich, and is exactly what rich
writes there: the sample workbooks in every language, and reports made up at random (long and
short messages, long words, names, figures, widths)."""

from __future__ import annotations

import dataclasses
import random

import pytest

from smm_sheets import generate
from smm_sheets.analyser import report_text
from smm_sheets.analyser.findings import Finding
from smm_sheets.analyser.pipeline import analyse
from smm_sheets.analyser.report import Report
from smm_sheets.analyser.totals import Table
from smm_sheets.locale_data import LANGUAGES


def _same(report: Report, width: int = report_text.PLAIN_WIDTH) -> bool:
    """The plain text equals rich's where it is written; True when it was written (not left to rich)."""
    plain = report_text._plain_text(report, width)
    if plain is not None:
        assert plain == report_text._rich_text(report, False, width)
    return plain is not None


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """A report of every built-in workbook: sample ones made in each language, blank ones in
    English; each read in its own language, and the English ones in every language."""
    folder = tmp_path_factory.mktemp("plain")
    made = generate("all", folder / "en-blank", language="en")
    made += [
        path for language in LANGUAGES for path in generate("all", folder / language, sample=True, language=language)
    ]
    english = [path for path in made if path.parent.name == "en"]
    return [analyse(path) for path in made] + [analyse(english, language) for language in LANGUAGES[1:]]


def test_every_sample_and_blank_workbook_in_every_language_is_written_as_rich_writes_it(reports):
    assert all(_same(report) for report in reports)  # and none of them needs rich
    for report in reports[::7]:
        for width in (40, 60, 80):  # narrower: tables wrap (lines longer than the width are left to rich)
            _same(report, width)


_WORDS = [
    "a",
    "planned",
    "Instagram",
    "1 234,50",
    "—",
    "…",
    "Käyttöönotto",
    "Социјални",
    "mediji",
    "x" * 37,
    "https://example.com/a/very/long/address/that/does/not/break/anywhere/at/all",
    "(planned",
    "plus",
    "carry-over).",
    "€",
    "«quoted»",
    "  ",
    "ŋ",
]


def _text(chance: random.Random, most: int) -> str:
    return " ".join(chance.choice(_WORDS) for _ in range(chance.randint(0, most))).strip(" ") or chance.choice(
        ["", "x"]
    )


def _made_up(report: Report, chance: random.Random) -> Report:
    """The report with made-up file names, findings and tables of totals."""
    file_reports = []
    for file_report in report.reports:
        findings = [
            Finding(
                chance.choice(["overspend", "formula-changed", "x" * chance.randint(1, 30)]),
                chance.choice(["error", "warning", "info"]),
                chance.choice([None, "Budget", _text(chance, 3)]),
                chance.choice([None, "G36", "AB1048576"]),
                _text(chance, 60),
            )
            for _ in range(chance.randint(0, 6))
        ]
        totals = dict(file_report.totals)
        totals["made_up"] = Table(
            chance.choice(["line", ("channel", "month")]),
            [_text(chance, 8) for _ in range(chance.randint(0, 5))],
            ["planned", "actual", _text(chance, 4) or "x"],
            [],
        )
        rows = len(totals["made_up"].labels)
        values = [None, 0.0, 1234567.891, -0.5, 3.14159, float("nan"), 12, "typed text", 1e15]
        totals["made_up"].rows.extend([chance.choice(values) for _ in range(3)] for _ in range(rows))
        totals["scalar"] = chance.choice(values)
        file_reports.append(
            dataclasses.replace(
                file_report,
                file=chance.choice([file_report.file, "/tmp/x.xlsx", "/" + "long folder/" * 12 + "b.xlsx"]),
                findings=findings,
                totals=totals,
                parameters={**file_report.parameters, "company": _text(chance, 6)},
            )
        )
    return dataclasses.replace(report, reports=file_reports)


def test_made_up_reports_are_written_as_rich_writes_them(reports):
    chance = random.Random(15)
    written = 0
    for _ in range(300):
        report = _made_up(chance.choice(reports), chance)
        written += _same(report, chance.choice([report_text.PLAIN_WIDTH, 20, 50, 79, 200]))
    assert written > 100  # many are written plainly (narrow widths wrap the lines: left to rich)


def test_a_report_with_what_only_rich_draws_is_drawn_by_rich(reports):
    report = reports[0]
    for name in ("Ｗide", "e\u0301", ":smile:", "[bold]x[/]", "tab\there"):
        odd = dataclasses.replace(report, reports=[dataclasses.replace(report.reports[0], file=name)])
        assert report_text._plain_text(odd, 120) is None
        assert report_text.to_text(odd) == report_text._rich_text(odd, False, None)


def test_every_character_taken_as_one_cell_is_one_cell_to_rich():
    from rich.cells import cell_len

    characters = [chr(c) for c in range(0x30000) if report_text._SINGLE_CELL.fullmatch(chr(c))]
    assert len(characters) > 1000
    assert all(cell_len(c) == 1 for c in characters)
    assert cell_len("".join(characters)) == len(characters)
