"""File checks: what the file is besides its cells (macros, links to other workbooks, formulas
and cached values it lacks, the defined names it lost, how it was recognised)."""

from __future__ import annotations

from collections.abc import Iterator

from smm_sheets.analyser.checks.workbook import Workbook
from smm_sheets.analyser.findings import Finding, finding


def check_file(book: Workbook) -> Iterator[Finding]:
    """``macros``, ``external-links``, ``structure-only``, ``formulas-not-read``, ``no-cached-values``,
    ``names-missing``, ``far-cell``, ``bad-number``."""
    data = book.data
    for dropped in data.dropped_cells:
        if dropped.reason == "far":
            yield finding(
                "far-cell",
                f"a cell at {dropped.cell}, far outside the sheet's other cells, is not read",
                dropped.sheet,
                dropped.cell,
            )
        else:
            yield finding(
                "bad-number",
                f"{dropped.text!r} is not a number a spreadsheet stores; read as blank",
                dropped.sheet,
                dropped.cell,
            )
    if data.has_macros:
        yield finding("macros", "the file contains macros (vbaProject.bin); smm-sheets workbooks have none")
    for target in data.external_links:
        yield finding("external-links", f"the file links to another workbook: {target}")
    if book.recognised_by == "structure":
        yield finding("structure-only", "the hidden _smm sheet is gone: blueprint and parameters read off the sheets")
    if all(s.formulas is None for s in data.sheets.values()):
        yield finding(
            "formulas-not-read",
            f"formulas are not read from .{data.format} files: values are checked, formulas are not",
        )
    elif not data.cached_values:
        yield finding(
            "no-cached-values", "saved by a tool that does not calculate: figures are recomputed from the inputs"
        )
    if book.cells.names_found == 0:
        yield finding(
            "names-missing",
            "the file has none of the workbook's defined names: cells are taken where the blueprint put them",
        )
