"""The template language: parsing, A1 text and Excel-compatible evaluation."""

from __future__ import annotations

import math

import pytest

from smm_sheets import formula as fx


def run(text, **cells):
    """Evaluate a template by its compiled form, references bound to plain values or lists (ranges)."""

    def lookup(name, modifier):
        value = cells[name if modifier is None else f"{name}@{modifier}"]
        return fx.Range(value) if isinstance(value, list) else value

    return fx.compiled(fx.parse(text)).run(lookup)


def a1(text, **refs):
    return fx.to_a1(fx.parse(text), lambda name, modifier: refs[name if modifier is None else f"{name}@{modifier}"])


def test_a1_text_keeps_the_authors_structure():
    assert a1("MAX(0, {available} - {actual})", available="D5", actual="D9") == "MAX(0,D5-D9)"
    assert a1("{planned}+{surplus@prev}", planned="E4", **{"surplus@prev": "D6"}) == "E4+D6"
    assert a1('IFERROR({a}/{b},"")', a="A1", b="B1") == 'IFERROR(A1/B1,"")'
    assert a1('"say ""hi"""&{a}', a="A1") == '"say ""hi"""&A1'
    assert a1("-(1.5+{a})^2", a="A1") == "-(1.5+A1)^2"


def test_precedence_follows_excel():
    assert run("1+2*3") == 7
    assert run("(1+2)*3") == 9
    assert run("-2^2") == 4  # unary minus binds tighter than ^ in Excel
    assert run("2^3^2") == 64  # ^ is left-associative in Excel
    assert run("1+1=2") is True
    assert run("1&2+3") == "15"


def test_blanks_text_and_errors_behave_as_in_a_spreadsheet():
    assert run("{a}+1", a=None) == 1
    assert run("{a}/{b}", a=1, b=None) is fx.DIV0
    assert run('IFERROR({a}/{b},"")', a=1, b=0) == ""
    assert run("{a}+1", a="text") is fx.VALUE
    assert run("{a}+1", a="2") == 3
    assert run('{a}&"x"', a=2.0) == "2x"
    assert run('{a}=""', a=None) is True
    assert run("{a}=0", a=None) is True
    assert run('"abc"="ABC"') is True


def test_aggregates_skip_text_and_blanks_in_ranges():
    assert run("SUM({r})", r=[1, None, "x", 2.5, True]) == 3.5
    assert run("SUM({r}, 1)", r=[fx.DIV0]) is fx.DIV0
    assert run("MAX({r})", r=[None, None]) == 0
    assert run("AVERAGE({r})", r=[None]) is fx.DIV0
    assert run("COUNT({r})", r=[1, "x", None, 3]) == 2
    assert run("COUNTA({r})", r=[1, "x", None, ""]) == 3  # a formula's "" counts, as in LibreOffice
    assert run("COUNTBLANK({r})", r=[1, "", None]) == 2


def test_sum_is_exact_where_floats_are_not():
    assert run("SUM({r})", r=[0.1] * 10) == 1.0
    assert 1e16 + 1.0 - 1e16 != 1.0 and run("SUM({r})", r=[1e16, 1.0, -1e16]) == 1.0


def test_conditional_counting_and_summing():
    channel = ["Instagram", "Facebook", "instagram", None]
    status = ["Done", "Done", "Draft", "Done"]
    amount = [10, 20, 30, 40]
    assert run('COUNTIFS({c},"Instagram",{s},"Done")', c=channel, s=status) == 1
    assert run('COUNTIFS({c},"Instagram")', c=channel) == 2  # case-insensitive, like Excel
    assert run('SUMIFS({a},{s},"Done")', a=amount, s=status) == 70
    assert run('SUMIFS({a},{a},">=20")', a=amount) == 90
    assert run('COUNTIFS({c},"")', c=channel) == 1
    assert run('COUNTIFS({c},"<>")', c=channel) == 3
    assert run('SUMIFS({a},{s},"Done",{c},"Facebook")', a=amount, s=status, c=channel) == 20
    # Wildcards, as Excel and LibreOffice read criteria: * any text, ? one character, ~ escapes.
    assert run('COUNTIFS({c},"*gram")', c=channel) == 2
    assert run('COUNTIFS({c},"?acebook")', c=channel) == 1
    assert run('COUNTIFS({c},"<>*book")', c=channel) == 3
    assert run('COUNTIFS({c},"a~*")', c=["a*", "ab", None]) == 1
    # A name that starts like an operator is matched as text after "=".
    assert run('COUNTIFS({c},"="&"=1+1")', c=["=1+1", "2"]) == 1


def test_logic_and_rounding():
    assert run('IF({a}>0,"up","down")', a=-1) == "down"
    assert run("IF({a},1)", a=None) is False
    assert run("AND(1,{a})", a=0) is False
    assert run("OR(0,{a})", a=2) is True
    assert run("NOT({a})", a=None) is True
    assert run("ROUND(2.5,0)") == 3 and run("ROUND(-2.5,0)") == -3  # half away from zero
    assert run("ROUND(2.675,2)") == 2.68
    assert run("ABS(-3)") == 3
    assert run("LEN({a})", a="Hello") == 5
    assert math.isclose(run("{a}/3", a=1), 1 / 3)


def test_text_becomes_a_number_as_libreoffice_reads_it():
    assert run("{a}+0", a="1,000") == 1000
    assert run("{a}+0", a=" 5 ") == 5
    assert run("{a}+0", a="50%") == 0.5
    assert run("{a}+0", a="2027-01-15") == 46402
    assert run("{a}+0", a="10:30") == 0.4375
    assert run("{a}+0", a="true") == 1
    for text in ("nan", "inf", "Infinity", "1_000", "\u0661\u0662", "1,00", "", "1e2%"):
        assert run("{a}+0", a=text) is fx.VALUE, text


def test_numbers_become_text_with_15_digits():
    assert run('1/3&""') == "0.333333333333333"
    assert run('0.1+0.2&""') == "0.3"
    assert run('1E15&""') == "1000000000000000"
    assert run('1E16&""') == "1E+016"
    assert run('1E-5&""') == "0.00001"


def test_criteria_that_look_like_numbers_match_numbers_and_the_very_text():
    review = ["2024", 2024, "Infinity", "nan", None, "x", 5, "5"]
    assert run('COUNTIF({r},"2024")', r=review) == 2
    assert run('COUNTIF({r},"5")', r=review) == 2
    assert run('COUNTIF({r},"nan")', r=review) == 1
    assert run('COUNTIF({r},"<>5")', r=review) == 6
    assert run('MATCH("2024",{r},0)', r=review) == 1
    assert run('COUNTIF({r},"="&{p})', r=["Nan", "nan", "NAN", "Nan", "Bob"], p="Nan") == 4
    # "~" takes the next character literally: "A~B" is "AB".
    assert run('COUNTIF({r},"="&{p})', r=["A~B", "AB"], p="A~B") == 1
    assert run('COUNTIF({r},"=")', r=[None, "", "x"]) == 1
    assert run('COUNTIF({r},"")', r=[None, "", "x"]) == 2
    assert run('COUNTIF({r},"<>")', r=[None, "", "x"]) == 2
    assert run("COUNTIF({r},1/0)", r=[1]) is fx.DIV0


def test_overflow_and_bad_arguments_are_error_values():
    assert run("1E308*10") is fx.NUM
    assert run('IFERROR(1E308*10,"big")') == "big"
    assert run("SUM({r})", r=[1e308, 1e308]) is fx.NUM
    assert run("SUM({r})", r=[1e308, 1e308, -1e308]) == 1e308
    assert run("ROUND({a},2)", a=1e30) == 1e30
    assert run("DATE(10000,1,1)") is fx.VALUE
    assert run("LEFT({a},{a})", a="abc") is fx.VALUE
    assert run('LEFT("abc",-1)') is fx.VALUE and run('MID("abc",0,2)') is fx.VALUE
    assert run("(-8)^(1/3)") == -2 and run("(-2)^0.5") is fx.NUM
    with pytest.raises(fx.FormulaSyntaxError, match="too large"):
        fx.parse("1E400")


def test_search_index_and_weekday():
    assert run('SEARCH("b*","abc")') == 2
    assert run('SEARCH("","abc")') is fx.VALUE
    assert run("INDEX({r},1,3)", r=fx.Range([1.0, 2.0, 3.0], columns=1)) is fx.VALUE
    assert run("INDEX({r},1,3)", r=fx.Range([1.0, 2.0, 3.0], columns=3)) == 3
    assert run("INDEX({r},1,3)", r=[1.0, 2.0, 3.0]) == 3  # shape unknown: taken for a row
    assert run("INDEX({r},2)", r=[1.0, 2.0, 3.0]) == 2
    assert run("WEEKDAY(46402,11)") == 5  # a Friday; 11 counts from Monday
    assert run("AND({r},TRUE)", r=["abc"]) is True  # text in a range is left out
    assert run('AND("abc",TRUE)') is fx.VALUE


@pytest.mark.parametrize(
    "text, message",
    [
        ("XLOOKUP(1,{a},{b})", "function XLOOKUP is not supported"),
        ("SUM(1", "expected ')'"),
        ("1+", "unexpected end"),
        ("{a@next}", "unknown reference modifier @next"),
        ("{A}", "cannot read"),
        ("IF()", "IF takes 1..3 arguments"),
        ("1 2", "unexpected '2'"),
    ],
)
def test_bad_templates_are_refused_with_a_reason(text, message):
    with pytest.raises(fx.FormulaSyntaxError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fx.parse(text)


def test_references_are_listed_in_order():
    assert fx.references(fx.parse("MAX(0,{a}-{b@prev})+SUM({c@all})")) == [("a", None), ("b", "prev"), ("c", "all")]
