"""File checks: what the file is besides its cells (macros, links to other workbooks, formulas
and cached values it lacks, the defined names it lost, how it was recognised)."""

from __future__ import annotations

from collections.abc import Iterator

from smm_sheets.analyser.checks.workbook import Workbook
from smm_sheets.analyser.findings import Finding, say


def check_file(book: Workbook) -> Iterator[Finding]:
    """``macros``, ``external-links``, ``structure-only``, ``formulas-not-read``, ``no-cached-values``,
    ``names-missing``, ``far-cell``, ``bad-number``."""
    data = book.data
    for dropped in data.dropped_cells:
        if dropped.reason == "far":
            yield say("far-cell", {"cell": dropped.cell}, dropped.sheet, dropped.cell)
        else:
            yield say("bad-number", {"text": dropped.text}, dropped.sheet, dropped.cell)
    if data.has_macros:
        yield say("macros")
    for target in data.external_links:
        yield say("external-links", {"target": target})
    if book.recognised_by == "structure":
        yield say("structure-only")
    if all(s.formulas is None for s in data.sheets.values()):
        yield say("formulas-not-read", {"format": f".{data.format}"})
    elif not data.cached_values:
        yield say("no-cached-values")
    if book.cells.names_found == 0:
        yield say("names-missing")
