"""Locale data from Babel: currencies, their spreadsheet number formats, month names, dates.

Number formats in a workbook are locale-neutral codes (``#,##0.00``: "." is the decimal
separator, "," groups thousands). A locale tag in front (``[$-40B]`` for Finnish) makes month
names show in the language, and LibreOffice then also shows the language's separators (a
decimal comma in Finnish); Excel takes separators from the computer's settings.

The only module that imports babel.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from babel import Locale
from babel.dates import get_date_format, get_month_names
from babel.numbers import NumberPattern, get_currency_precision, get_currency_symbol, is_currency, parse_pattern

# The languages workbooks are written in (a catalog blueprints/i18n/<code>.yaml each).
LANGUAGES = ("en", "fi", "lv", "mk", "nb")
# Windows locale ids of the languages (Finnish, Latvian, Macedonian, Norwegian Bokmål), for
# number format tags. English formats stay untagged: the app's own locale shows them.
_LCID = {"fi": 0x040B, "lv": 0x0426, "mk": 0x042F, "nb": 0x0414}


def locale_tag(language: str) -> str:
    """The number format prefix that shows values as ``language`` writes them: ``[$-40B]``."""
    return f"[$-{_LCID[language]:X}]" if language in _LCID else ""


@cache
def date_format(language: str = "en") -> str:
    """Excel number format for a date: ISO in English, else the language's short date, 4-digit year.

    Finnish ``d.m.yyyy``, Latvian ``dd.mm.yyyy``, Macedonian ``d.m.yyyy``, Norwegian ``dd.mm.yyyy``.
    """
    if language == "en":
        return "yyyy-mm-dd"
    pattern = get_date_format("short", locale=language).pattern
    code = re.sub(r"y+", "yyyy", pattern).replace("M", "m")
    return locale_tag(language) + code


def known_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 currency code that Babel knows."""
    return is_currency(code)


@cache
def money_format(currency: str, language: str = "en") -> str:
    """Excel number format for amounts in ``currency``, as the language writes them.

    Negative amounts show in red with a minus sign, e.g. ``"€"#,##0.00;[Red]-"€"#,##0.00``.
    """
    pattern = Locale.parse(language).currency_formats["standard"].pattern.split(";")[0]
    symbol = get_currency_symbol(currency, language).replace('"', "")
    decimals = get_currency_precision(currency)
    number = "#,##0" + ("." + "0" * decimals if decimals else "")
    body = re.sub(r"#,##0(\.0+)?", number, pattern, count=1)
    body = body.replace("\xa0", " ").replace("\u200f", "").replace("\u200e", "")
    if len(symbol) > 1 and symbol.isalpha():
        # A code such as NOK needs a space where a sign such as € does not.
        body = body.replace("¤#", "¤ #").replace("0¤", "0 ¤")
    positive = body.replace("¤", f'"{symbol}"')
    return f"{locale_tag(language)}{positive};[Red]-{positive}"


@cache
def month_names(language: str = "en") -> tuple[str, ...]:
    """Abbreviated month names as they stand alone (in a heading: "jan 2027"), January first."""
    names = get_month_names("abbreviated", context="stand-alone", locale=language)
    return tuple(names[month] for month in range(1, 13))


def load(language: str = "en") -> None:
    """Read Babel's data for ``language`` (and what all languages share) now: in a process about
    to fork children that use it, it is then read once."""
    Locale.parse(language).number_symbols  # noqa: B018 - read for its side effect


# --------------------------------------------------------------------------- messages


def format_number(value: float, language: str = "en", decimals: int = 2) -> str:
    """A number as the language writes it, at most ``decimals`` decimals: ``1 234,5`` in Finnish."""
    locale, pattern = _number_pattern(language, decimals)
    # What babel.numbers.format_decimal does, without parsing the locale and pattern again for
    # each of the hundreds of figures of a report (a fifth of the time).
    return pattern.apply(value, locale)


@cache
def _number_pattern(language: str, decimals: int) -> tuple[Locale, NumberPattern]:
    return Locale.parse(language), parse_pattern("#,##0." + "#" * decimals if decimals else "#,##0")


def format_date(value: dt.date, language: str = "en") -> str:
    """A date as the language writes it: ISO in English, else its short date with the full year."""
    if language == "en":
        return value.isoformat()
    from babel.dates import format_date as babel_date

    pattern = re.sub(r"y+", "y", get_date_format("short", locale=language).pattern)
    return babel_date(value, pattern, locale=language)


def number_symbols(language: str = "en") -> tuple[str, str]:
    """The decimal sign and the group sign of the language: ``(",", "\\xa0")`` in Finnish."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    return get_decimal_symbol(language), get_group_symbol(language)


def date_order(language: str = "en") -> str:
    """The order of day, month and year in the language's short date: ``dmy`` (Finnish), ``ymd``."""
    if language == "en":
        return "ymd"  # the workbooks write ISO dates in English
    pattern = get_date_format("short", locale=language).pattern
    order = [char for char in pattern if char in "dMy"]
    return "".join(dict.fromkeys(char.lower() for char in order))


def plural_category(count: float, language: str = "en") -> str:
    """CLDR's plural category of ``count`` in the language: ``one``, ``other``, ``zero``..."""
    return Locale.parse(language).plural_form(count)
