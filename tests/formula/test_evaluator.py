"""The one evaluator: its cache of compiled forms, and agreement with a tree-walking oracle."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from smm_sheets import formula as fx
from smm_sheets.blueprint import loader
from smm_sheets.formula.evaluator import COMPILED_CACHE_SIZE
from smm_sheets.plan import build
from tests.conftest import params
from tests.formula.tree_walk import guarded_walk, walk

CELLS = {
    "blank": None,
    "empty": "",
    "text": "abc",
    "numeral": " 1,000 ",
    "percent": "50%",
    "zero": 0.0,
    "big": 1e308,
    "small": -2.5,
    "yes": True,
    "div0": fx.DIV0,
    "mixed": fx.Range(["2024", 2024.0, None, "x", 5.0, True, fx.NA]),
    "numbers": fx.Range([1e308, 1e308, -1e308]),
    "one": fx.Range([3.0]),
    "grid": fx.Range([10.0, "twenty", None, 4.0, 5.0, 6.0], columns=3),
}


def lookup(name, modifier):
    return CELLS[name]


def test_equal_trees_parsed_separately_share_one_compiled_entry():
    text = 'SUM({a@all}) / MAX(1, {b}) & "x"'
    first, second = fx.parse(text), fx.parse(text)
    assert first == second and first is not second
    before = fx.compiled.cache_info()
    assert fx.compiled(first) is fx.compiled(second)
    after = fx.compiled.cache_info()
    assert after.currsize - before.currsize <= 1  # one entry for both (none if an earlier test made it)
    assert after.hits - before.hits >= 1


def test_the_compiled_cache_is_bounded():
    assert fx.compiled.cache_info().maxsize == COMPILED_CACHE_SIZE
    for i in range(COMPILED_CACHE_SIZE + 10):
        fx.compiled(fx.parse(f"{i}+1"))
    assert fx.compiled.cache_info().currsize == COMPILED_CACHE_SIZE


def test_building_a_plan_again_adds_no_compiled_forms():
    # Keyed by id(tree), the cache grew with every build (each build parses its templates anew).
    blueprint = loader.load("budget")
    fx.compiled.cache_clear()
    build(blueprint, params(sample=True))
    size = fx.compiled.cache_info().currsize
    for _ in range(3):
        build(blueprint, params(sample=True))
    assert 0 < size == fx.compiled.cache_info().currsize


def test_evaluate_runs_the_compiled_form():
    tree = fx.parse('IF({yes}, {small} * 2, "no") & ""')
    assert fx.evaluate(tree, lookup) == fx.compiled(tree).run(lookup) == "-5"
    assert fx.evaluate(fx.parse("{one}"), lookup) is CELLS["one"]  # a bare reference is its range


# Random trees over the whole language, checked against the tree-walking oracle.
_NUMBERS = st.sampled_from([0.0, 1.0, 2.0, 0.5, 1e300, 3.0]).map(lambda x: ("num", x, repr(x)))
_TEXTS = st.sampled_from(["", "5", "abc", "TRUE", "a*", ">=2", "<>", "=", "#N/A"]).map(lambda t: ("str", t))
_LEAVES = st.one_of(
    _NUMBERS,
    _TEXTS,
    st.booleans().map(lambda b: ("bool", b)),
    st.sampled_from(sorted(CELLS)).map(lambda name: ("ref", name, None)),
)
_OPERATORS = ["+", "-", "*", "/", "^", "&", "=", "<>", "<", ">", "<=", ">="]


def _calls(children):
    def call(name, args):
        low, high = fx.FUNCTIONS[name][1]
        return ("call", name, tuple(args[: max(low, min(high, len(args)))]))

    names = st.sampled_from(sorted(name for name in fx.FUNCTIONS if name != "TODAY"))
    return st.builds(call, names, st.lists(children, min_size=3, max_size=4))


_TREES = st.recursive(
    _LEAVES,
    lambda children: st.one_of(
        st.builds(lambda op, a, b: ("bin", op, a, b), st.sampled_from(_OPERATORS), children, children),
        children.map(lambda a: ("neg", a)),
        children.map(lambda a: ("paren", a)),
        _calls(children),
    ),
    max_leaves=12,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TREES)
def test_the_compiled_form_agrees_with_the_tree_walk(tree):
    ours = fx.compiled(tree).run(lookup)
    assert ours == guarded_walk(tree, lookup), tree
    walk(tree, lookup)  # the guard is never needed: no input makes the walk raise


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(["<", ">", "<=", ">="]),
    st.one_of(st.floats(allow_nan=False, allow_infinity=False), st.integers(-(10**6), 10**6)),
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(10**6), 10**6),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=4),
    ),
)
def test_a_number_order_criterion_tests_as_compare_does(op, number, value):
    """The fast test of ">=46023" (every post of a calendar) is compare() on numbers, False on the rest."""
    from smm_sheets.formula import values as fv

    test = fv.criterion_test(f"{op}{number!r}" if isinstance(number, int) else op + repr(number))
    wanted = fv.parse_number(repr(number))
    expected = fv.is_number(value) and fv.compare(op, float(value), wanted)
    assert test(value) is expected
    # Near-equal numbers (about 15 digits) are equal, as compare() has them.
    if isinstance(number, float) and number:
        near = number * (1 + 1e-16)
        assert test(near) is fv.compare(op, near, wanted)
