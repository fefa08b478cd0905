"""A kept range (a whole column, reused by many COUNTIFS) tests each distinct value once: its
masks are those of a range that tests every row."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from smm_sheets import formula as fx
from smm_sheets.formula.values import NA, VALUE

_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.sampled_from([0.0, -0.0, 1.0, 2.5, 46023.0, 1e-16, NA, VALUE]),
    st.integers(-3, 3),
    st.sampled_from(["", "Done", "done", "Instagram", "2024", "a*b", "TRUE", "#N/A", " "]),
)
_CRITERIA = st.one_of(
    _VALUES.filter(lambda value: value not in (NA, VALUE)),  # an error criterion is COUNTIFS' error, not a test
    st.sampled_from(["", "=", "<>", "Done", "<>done", "insta*", "?one", ">=1", "<2.5", "=0", "2024", "#N/A", "true"]),
)


@given(st.lists(_VALUES, max_size=40), st.lists(_CRITERIA, min_size=1, max_size=5))
def test_a_kept_range_masks_as_a_plain_range_does(values, criteria):
    kept, plain = fx.Range(values, keep=True), fx.Range(values)
    for criterion in criteria:
        assert kept.mask(criterion) == plain.mask(criterion)
        assert kept.mask(criterion) == plain.mask(criterion)  # and again, from what it kept


def test_values_that_cannot_be_keys_are_tested_row_by_row():
    values = [1.0, [1.0], "x"]  # no column holds a list; a range must cope all the same
    assert fx.Range(values, keep=True).mask("x") == fx.Range(values).mask("x") == 0b100
