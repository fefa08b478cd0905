"""The shortcut of the formula comparison for sheet names saved unquoted (LibreOffice)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smm_sheets.analyser.checks.formulas import _same_unquoted, canonical

# Pieces formulas are made of, including the awkward ones: quotes inside names and strings,
# names with spaces, prefixes, spacing and case.
_PIECES = st.sampled_from(
    [
        "'Settings'!",
        "Settings!",
        "'My Sheet'!",
        "'O''Brien'!",
        "'_xlfn'!",
        "'A'",
        "'",
        "''",
        '"x"',
        "\"'Settings'!A1\"",
        '""',
        "A1",
        "a1",
        "SUM(",
        ")",
        ",",
        "&",
        " ",
        "_xlfn.",
        "!",
        "B",
    ]
)
_FORMULAS = st.lists(_PIECES, max_size=10).map("".join)
# Plain names given for str.replace (any set is allowed: each is only a name that may lose its quotes).
_NAMES = ("Settings", "_xlfn", "A", "O", "Brien", "B_2")


@settings(max_examples=500)
@given(_FORMULAS, _FORMULAS, st.sampled_from([_NAMES, ()]))
def test_shortcut_equal_means_canonical_equal(expected, actual, names):
    if _same_unquoted(actual, "=" + expected, names):
        assert canonical(actual) == canonical("=" + expected)


def test_libreoffice_spellings():
    names = _NAMES
    ours = "=IF(COUNTIFS('Settings'!A9:A10,D6,'Settings'!B9:B10,\">0\"),TRIM('Settings'!B5)&\"'Settings'!\",\"\")"
    theirs = 'IF(COUNTIFS(Settings!A9:A10,D6,Settings!B9:B10,">0"),TRIM(Settings!B5)&"\'Settings\'!","")'
    assert _same_unquoted(theirs, ours, names)
    # Inside a string literal the quotes stay: a file that dropped them there changed the text.
    assert not _same_unquoted(theirs.replace("\"'Settings'!\"", '"Settings!"'), ours, names)
    assert not _same_unquoted("'O'Brien!A1", "='O''Brien'!A1", names)
    assert not _same_unquoted("Settings!A2", "='Settings'!A1", names)
    assert _same_unquoted("'My Sheet'!A1+B_2!C3", "='My Sheet'!A1+'B_2'!C3", names)
