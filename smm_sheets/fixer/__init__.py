"""``smm-sheets fix``: a filled-in workbook written again from the current blueprint, with what
people typed carried over, formulas restored, types repaired where the meaning is certain, and
every remaining finding a comment on its cell (:mod:`.fix`).

It stands above the analyser (which reads the file against its plan) and the generator (which
writes the new one).
"""

from smm_sheets.fixer.fix import FixResult, fix_file, fix_paths

__all__ = ["FixResult", "fix_file", "fix_paths"]
