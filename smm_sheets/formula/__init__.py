"""Formula templates: one parser, two back ends (the A1 writer and the evaluator).

A template is an Excel expression whose references are blueprint item names in braces::

    MAX(0, {available} - {actual})

:func:`parse` turns it into a small tree once. :func:`to_a1` writes the Excel formula of
one cell, given how each reference resolves there, and :func:`evaluate` computes the value
the generator caches in the file, so that a workbook reads correctly before any
spreadsheet app has recalculated it.

Only plain A1 references and functions that Excel, LibreOffice and Google Sheets all know
are accepted (see ``FUNCTIONS``). The evaluator computes what LibreOffice (en-US) computes,
which the test suite checks cell by cell (``tests/formula/test_formula_libreoffice.py``); where
LibreOffice and Excel differ it follows LibreOffice, except for logical values: TRUE and FALSE
stay logical values as in Excel, where LibreOffice treats them as the numbers 1 and 0.
Highlights of those rules:

- Text becomes a number the way LibreOffice reads typed input: ``"1,000"``, ``" 5 "``,
  ``"50%"``, ``"1e3"``, ISO dates and times (``"2027-01-15"``, ``"10:30"``), ``"TRUE"``;
  never ``"nan"``, ``"Infinity"``, ``"1_000"`` or other digits than 0-9 (#VALUE!).
- A number becomes text with up to 15 significant digits (``1/3&""`` is
  ``"0.333333333333333"``, ``1E+016`` beyond).
- Numbers compare equal when they agree to about 15 digits (``0.1+0.2=0.3``).
- Criteria (COUNTIF, SUMIFS...): ``"5"`` matches the number 5 and the text "5"; ``"<>5"``
  everything else (blanks and text included); ``*``, ``?`` and ``~`` are wildcards, where
  ``~`` takes the next character literally (``"A~B"`` matches "AB"); ``"="`` matches empty
  cells, ``""`` empty cells and empty text.
- Overflow is #NUM!; no result is ever infinite or NaN, and no input raises an exception.

Reference modifiers: ``{x@prev}`` is the previous month, ``{x@last}`` the last month of the
plan, ``{x@every}`` a grid input's value for every month (its year column) and ``{x@all}``
the whole item regardless of where the formula stands. ``{label:key}``
is the text of a blueprint label, written into the formula as a string (a reference with the
modifier ``label``).

The package is split by what each unit owns: :mod:`.parser` (tokens, :func:`parse`,
:func:`references`), :mod:`.writer` (:func:`to_a1`), :mod:`.values` (error values, ranges,
coercion, operators, criteria), :mod:`.functions` (the spreadsheet functions) and
:mod:`.evaluator` (:func:`compiled`, the one evaluator). This module re-exports their public names.
"""

from smm_sheets.formula.evaluator import Compiled, compiled, evaluate
from smm_sheets.formula.functions import FUNCTIONS, MULTI_AREA_FUNCTIONS
from smm_sheets.formula.parser import MODIFIERS, FormulaSyntaxError, parse, references
from smm_sheets.formula.values import DIV0, ERROR_CODES, NA, NUM, REF, VALUE, ExcelError, Range
from smm_sheets.formula.writer import to_a1

__all__ = [
    "DIV0",
    "ERROR_CODES",
    "FUNCTIONS",
    "MODIFIERS",
    "MULTI_AREA_FUNCTIONS",
    "NA",
    "NUM",
    "REF",
    "VALUE",
    "Compiled",
    "ExcelError",
    "FormulaSyntaxError",
    "Range",
    "compiled",
    "evaluate",
    "parse",
    "references",
    "to_a1",
]
