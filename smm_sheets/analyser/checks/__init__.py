"""The analyser's checks: each a small function that yields findings about one workbook.

They read a :class:`Workbook` (:mod:`.workbook`): the file's data (from
:mod:`smm_sheets.analyser.reader`), the plan the blueprint gives for it (formula text,
placement), the plan recomputed from the file's inputs (values), and the map between planned
cells and the file's. The pipeline computes what the checks need from one another before they
run (the broken formulas, the inserted rows) and runs them in one ordered list.

Units: :mod:`.file` (the file as a whole), :mod:`.structure` (sheets, rows and columns),
:mod:`.formulas`, :mod:`.values` (stale values), :mod:`.inputs`, :mod:`.blueprint` (the
blueprint's report rules and chains) and :mod:`.sets` (a client's set of workbooks).
"""

from smm_sheets.analyser.checks.formulas import canonical, check_formulas, compare_formulas, counting_formulas
from smm_sheets.analyser.checks.inputs import check_inputs, parse_date, parse_number
from smm_sheets.analyser.checks.structure import check_inserted_rows, check_rows_below_tables, inserted_rows
from smm_sheets.analyser.checks.values import check_stale_values, same_value
from smm_sheets.analyser.checks.workbook import (
    CHANGED,
    COUNTS_INSERTED,
    MISSING,
    OVERWRITTEN,
    Workbook,
    placement_cells,
    shown,
)

__all__ = [
    "CHANGED",
    "COUNTS_INSERTED",
    "MISSING",
    "OVERWRITTEN",
    "Workbook",
    "canonical",
    "check_formulas",
    "check_inputs",
    "check_inserted_rows",
    "check_rows_below_tables",
    "check_stale_values",
    "compare_formulas",
    "counting_formulas",
    "inserted_rows",
    "parse_date",
    "parse_number",
    "placement_cells",
    "same_value",
    "shown",
]
