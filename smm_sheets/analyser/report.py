"""The analyser's report: value objects, their JSON form, and the exit code scripts rely on.

A :class:`Report` holds one :class:`FileReport` per workbook analysed and one
:class:`FileFailure` per file that could not be analysed at all. The JSON form is versioned
(:data:`SCHEMA_VERSION`; ``docs/report.schema.json`` describes it).
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from typing import Any

from smm_sheets.analyser.findings import ERROR, INFO, WARNING, Finding

SCHEMA_VERSION = "1.2"
EXIT_OK, EXIT_FINDINGS, EXIT_UNREADABLE = 0, 1, 2


@dataclass
class FileReport:
    """What the analyser found in one workbook, and the figures it computed.

    Attributes:
        totals: figures by name: numbers (``planned``), and tables as pandas DataFrames
            (``by_month``), each indexed by the row's label.
        parameters: what the workbook was made for (company, year, channels, team...).
    """

    file: str
    blueprint_id: str
    blueprint_version: str
    findings: list[Finding] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    recognised_by: str = "metadata"
    application: str | None = None
    # The language of the findings' messages (the workbook's, unless asked for another).
    language: str = "en"
    cells_checked: int = 0
    # Where each value of parameters["facts"] first appears: fact -> value -> (sheet, cell).
    fact_cells: dict[str, dict[str, tuple[str, str]]] = field(default_factory=dict, repr=False)

    @property
    def valid(self) -> bool:
        """No finding of severity error."""
        return not any(f.severity == ERROR for f in self.findings)

    @property
    def stats(self) -> dict[str, int]:
        counts = {ERROR: 0, WARNING: 0, INFO: 0}
        for item in self.findings:
            counts[item.severity] = counts.get(item.severity, 0) + 1
        return {
            "errors": counts[ERROR],
            "warnings": counts[WARNING],
            "infos": counts[INFO],
            "cells": self.cells_checked,
        }

    def sorted_findings(self) -> list[Finding]:
        """By sheet, then cell (top to bottom, left to right), then severity."""
        return sorted(self.findings, key=Finding.sort_key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "blueprint": {"id": self.blueprint_id, "version": self.blueprint_version},
            "recognised_by": self.recognised_by,
            "application": self.application,
            "language": self.language,
            "valid": self.valid,
            "stats": self.stats,
            "parameters": self.parameters,
            "findings": [f.to_dict() for f in self.sorted_findings()],
            "totals": {key: _plain(value) for key, value in _figures(self.totals)},
        }

    def flatten(self) -> list[list[Any]]:
        """One row per finding: file, code, severity, sheet, cell, message."""
        return [[self.file, f.code, f.severity, f.sheet, f.cell, f.message] for f in self.sorted_findings()]


@dataclass
class FileFailure:
    """A file that could not be analysed at all (not a spreadsheet, not one of ours, a bomb)."""

    file: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"file": self.file, "error": self.message}


@dataclass
class Report:
    """The analysis of one or more workbooks."""

    reports: list[FileReport] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # things a folder held that were not read (links out, FIFOs)
    # The language asked for (None: each workbook's own).
    language: str | None = None

    @property
    def text_language(self) -> str:
        """The language of the report's own words: the one asked for, else the workbooks' if they share one."""
        if self.language:
            return self.language
        languages = {r.language for r in self.reports}
        return languages.pop() if len(languages) == 1 else "en"

    @property
    def valid(self) -> bool:
        return not self.failures and all(r.valid for r in self.reports)

    @property
    def stats(self) -> dict[str, int]:
        totals = {
            "files": len(self.reports) + len(self.failures),
            "unreadable": len(self.failures),
            "errors": 0,
            "warnings": 0,
            "infos": 0,
        }
        for report in self.reports:
            for key, value in report.stats.items():
                if key in totals:
                    totals[key] += value
        return totals

    def exit_code(self, strict: bool = False) -> int:
        """0 no errors; 1 a finding of severity error (with ``strict``: or warning); 2 a file unreadable."""
        if self.failures:
            return EXIT_UNREADABLE
        stats = self.stats
        if stats["errors"] or (strict and stats["warnings"]):
            return EXIT_FINDINGS
        return EXIT_OK

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "valid": self.valid,
            "stats": self.stats,
            "reports": [r.to_dict() for r in self.reports],
            "failures": [f.to_dict() for f in self.failures],
            "skipped": list(self.skipped),
        }

    def flatten(self) -> list[list[Any]]:
        """A header row, then one row per finding of every file."""
        rows: list[list[Any]] = [["file", "code", "severity", "sheet", "cell", "message"]]
        for report in self.reports:
            rows.extend(report.flatten())
        return rows


def _figures(totals: dict[str, Any]) -> list[tuple[str, Any]]:
    from smm_sheets.analyser.totals import figures  # tables as computed: no DataFrame made for JSON

    return figures(totals)


def _plain(value: Any) -> Any:
    """JSON-ready: a table of totals becomes a list of row objects; NaN and infinities become null."""
    from smm_sheets.analyser import totals

    if totals.is_table(value):
        return [{str(k): _plain(v) for k, v in row.items()} for row in totals.table_records(value)]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value
