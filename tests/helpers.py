"""Helpers shared by the test modules (A1 text comes from smm_sheets.sheetref)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Real-world spreadsheets that are not ours, beside the repository; tests that need them skip without.
CORPUS = ROOT.parent / "shared" / "corpus" / "calamine"
