"""The fast worksheet scan (regular expressions) finds what expat finds, or declines the part.

Each sheet below is scanned by :class:`FastSheetScan` and by :class:`SheetScan` (expat); where
the fast scan does not decline, everything it found must be what expat found: formulas, error
cells, formulas with and without a cached value, and where the cells holding something are.
"""

from __future__ import annotations

import pytest

from smm_sheets.analyser.reader import scan
from smm_sheets.errors import FileError

HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><dimension ref="A1:Z9"/><sheetData>'
)
PREFIXED_HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData>'
)

SHEETS = {
    "plain": '<row r="1"><c r="A1" s="1"/><c r="B1"><v>2</v></c><c r="C1"><f>B1*2</f><v>4</v></c></row>',
    "attributes before r": '<row r="1"><c s="3" t="str" r="D1"><f>"a"&amp;"b"</f><v>ab</v></c></row>',
    "empty value of a str cell": '<row r="1"><c t="str" r="A1"><f>""</f><v></v></c><c r="B1" t="str"><f>""</f><v/></c></row>',
    "empty value of a number": '<row r="1"><c r="A1"><f>1+1</f><v></v></c><c r="B1"><f>2</f><v/></c><c r="C1"><f>3</f></c></row>',
    "self-closing formula": '<row r="1"><c r="A1"><f/><v>1</v></c><c r="B1"><f t="shared" si="0" ref="B1:B2">A1</f><v>1</v></c></row>'
    '<row r="2"><c r="B2"><f t="shared" si="0"/><v>1</v></c></row>',
    "blank cells only": '<row r="1"><c r="A1" s="1"/><c r="B1" s="1"></c><c r="C1" s="2">  </c></row>',
    "far cell": '<row r="1"><c r="A1"><v>1</v></c></row><row r="900000"><c r="ZZ900000"><v>1</v></c></row>',
    "error cells": '<row r="1"><c r="A1" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="B1" t="e"><v>#N/A</v></c></row>',
    "line ends and references": '<row r="1"><c r="A1"><f>SUM(\r\n$A$2:$A$9)</f><v>0</v></c><c r="B1"><f>&#65;1</f><v>0</v></c></row>',
    "inline string": '<row r="1"><c r="A1" t="inlineStr"><is><t>x</t></is></c><c r="B1"><f>A1</f><v>0</v></c></row>',
    "spaces between elements": '<row r="1">\n  <c r="A1">\n    <f>1+2</f>\n    <v>3</v>\n  </c>\n</row>',
    "formula after the value": '<row r="1"><c r="A1"><v>3</v><f>1+2</f></c></row>',
    "two formulas in a cell": '<row r="1"><c r="A1"><f>1</f><f>2</f><v>3</v></c></row>',
    "a cell without r": '<row r="1"><c r="A1"><v>1</v></c><c><f>A1*3</f><v>3</v></c></row>',
    "a comment": '<row r="1"><!-- c --><c r="A1"><f>1</f><v>1</v></c></row>',
    "not finite": '<row r="1"><c r="A1"><v>inf</v></c><c r="B1"><f>1</f><v>1</v></c></row>',
    "reference past the sheet": '<row r="1"><c r="ABCD1"><f>1</f><v>1</v></c></row>',
    "formula outside cells": '<row r="1"><c r="A1"><v>1</v></c></row></sheetData><dataValidations><f>A1</f>'
    "</dataValidations><sheetData>",
}


def _scan(kind, xml: bytes):
    fail = lambda reason: FileError(reason)  # noqa: E731
    found = kind(fail, "xl/worksheets/sheet1.xml")
    for start in range(0, len(xml), 7):  # small pieces: blocks of rows end anywhere
        found.feed(xml[start : start + 7])
    found.close()
    return found


def _what(found) -> tuple:
    return found.formulas, found.errors, found.cached, sorted(found.uncached), found.extent.bad


@pytest.mark.parametrize("prefixed", [False, True], ids=["default namespace", "prefixed"])
@pytest.mark.parametrize("name", list(SHEETS))
def test_fast_scan_finds_what_expat_finds_or_declines(name, prefixed):
    body = SHEETS[name]
    if prefixed:
        body = body.replace("<", "<x:").replace("<x:/", "</x:").replace("<x:!", "<!")
        xml = (PREFIXED_HEAD + body + "</x:sheetData></x:worksheet>").encode()
    else:
        xml = (HEAD + body + "</sheetData></worksheet>").encode()
    full = _scan(scan.SheetScan, xml)
    try:
        fast = _scan(scan.FastSheetScan, xml)
    except scan._NeedsFullParse:
        return  # declined: expat reads it
    assert _what(fast) == _what(full)
    # The extent may be larger (a formula cell without a value counts), never smaller: it bounds
    # what calamine is given.
    assert full.extent.rows <= fast.extent.rows and full.extent.cols <= fast.extent.cols
    assert full.extent.cells <= fast.extent.cells


@pytest.mark.parametrize(
    "name",
    ["formula after the value", "two formulas in a cell", "a cell without r", "a comment", "not finite"],
)
def test_fast_scan_declines_what_it_does_not_follow(name):
    xml = (HEAD + SHEETS[name] + "</sheetData></worksheet>").encode()
    with pytest.raises(scan._NeedsFullParse):
        _scan(scan.FastSheetScan, xml)
