"""Findings: what the analyser says about a workbook, as data (never as exceptions).

Every finding has a code from :data:`CODES` (its default severity and a short title, which the
README's table repeats), the sheet and cell it is about, and a message for people.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITY_ORDER = {ERROR: 0, WARNING: 1, INFO: 2}

# code: (default severity, title)
CODES: dict[str, tuple[str, str]] = {
    # Formulas
    "formula-overwritten": (ERROR, "A formula cell now holds a constant (or nothing)"),
    "formula-changed": (WARNING, "A formula differs from the blueprint's"),
    "formula-missing": (WARNING, "A row inserted into a table without the table's formulas"),
    "stale-value": (WARNING, "A formula's saved value differs from what the inputs give"),
    "no-cached-values": (INFO, "Saved by a tool that does not calculate; values recomputed"),
    "total-misses-rows": (ERROR, "Rows inserted below or above a total's range are not counted"),
    "rows-deleted": (ERROR, "Rows or cells of the plan were deleted"),
    "sheet-missing": (ERROR, "A sheet of the plan is gone"),
    "columns-changed": (ERROR, "Columns inserted into or deleted from the plan's ranges"),
    "rows-below-table": (WARNING, "Data typed below a table of blank rows, outside the table"),
    # Inputs
    "type-error": (ERROR, "A value of the wrong type (e.g. a number typed as text)"),
    "missing-value": (ERROR, "A required answer is blank"),
    "not-in-list": (ERROR, "A value outside its dropdown list"),
    "owner-not-on-team": (ERROR, "An owner who is not on the team"),
    "channel-not-in-plan": (ERROR, "A channel that is not in the plan"),
    "status-not-in-workflow": (ERROR, "A status outside the workflow"),
    "out-of-range": (ERROR, "A number outside its allowed range"),
    "date-out-of-period": (WARNING, "A date outside the plan's twelve months"),
    # The file
    "blueprint-version": (WARNING, "Made with another version of the blueprint"),
    "macros": (WARNING, "The file contains macros"),
    "external-links": (WARNING, "The file links to other workbooks"),
    "names-missing": (INFO, "Defined names were dropped; cells located by the blueprint's layout"),
    "structure-only": (INFO, "Metadata was dropped; recognised by its sheets"),
    "formulas-not-read": (INFO, "Formulas are not read in this format; values checked only"),
    "far-cell": (WARNING, "A stray cell far outside the sheet's others, not read"),
    "bad-number": (WARNING, "A number cell holding inf or nan, which no spreadsheet stores; read as blank"),
    # Across one client's workbooks
    "set-mismatch": (ERROR, "Workbooks of one client disagree (channels, team, year...)"),
    "initiative-unknown": (WARNING, "An initiative that the roadmap does not have"),
}


@dataclass(frozen=True)
class Finding:
    """One thing the analyser found.

    Attributes:
        code: a key of :data:`CODES` or of a blueprint's ``report.checks``.
        severity: ``error``, ``warning`` or ``info``.
        sheet: the sheet's name as the file has it, or None for the whole file.
        cell: an A1 reference in the file as it is now (after inserted rows), or None.
        message: one line for people, in the report's language.
        facts: what the message names, as data (``field``, ``line``, ``month``, ``expected``,
            ``found``, ``allowed``...), for tools that word it themselves.
        key: the message's key in the finding catalogs (None: a message of the blueprint's own).
    """

    code: str
    severity: str
    sheet: str | None
    cell: str | None
    message: str
    facts: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)
    key: str | None = field(default=None, compare=False, hash=False)

    def to_dict(self) -> dict[str, Any]:
        from smm_sheets.analyser.messages import json_fact

        return {
            "code": self.code,
            "severity": self.severity,
            "sheet": self.sheet,
            "cell": self.cell,
            "message": self.message,
            "facts": {name: json_fact(value) for name, value in self.facts.items()},
        }

    def in_language(self, language: str) -> Finding:
        """The same finding, its message worded in ``language`` (one without a key stays as it is)."""
        if self.key is None:
            return self
        from smm_sheets.analyser.messages import render

        return replace(self, message=render(self.key, self.facts, language))

    def sort_key(self) -> tuple:
        return (self.sheet or "", _cell_key(self.cell), SEVERITY_ORDER.get(self.severity, 3), self.code)


def finding(
    code: str, message: str, sheet: str | None = None, cell: str | None = None, severity: str | None = None
) -> Finding:
    """A finding with the code's default severity (unless given)."""
    return Finding(code, severity or CODES[code][0], sheet, cell, message)


def say(
    code: str,
    facts: dict[str, Any] | None = None,
    sheet: str | None = None,
    cell: str | None = None,
    severity: str | None = None,
    key: str | None = None,
) -> Finding:
    """A finding worded from the catalogs: ``key`` (default: the code) with its facts, in English
    until the report is put in the workbook's language (:meth:`Finding.in_language`)."""
    from smm_sheets.analyser.messages import render

    facts = {name: value for name, value in (facts or {}).items() if value is not None}
    key = key or code
    return Finding(code, severity or CODES[code][0], sheet, cell, render(key, facts), facts, key)


def _cell_key(cell: str | None) -> tuple[int, int]:
    """Row, then column, so that findings read top to bottom."""
    if not cell:
        return (-1, -1)
    letters = cell.rstrip("0123456789").lstrip("$").replace("$", "")
    digits = cell[len(cell.rstrip("0123456789")) :]
    col = 0
    for char in letters:
        col = col * 26 + ord(char.upper()) - 64
    return (int(digits) if digits else 0, col)
