"""Locale data from Babel: currencies, their spreadsheet number formats, month names.

The only module that imports babel.
"""

from __future__ import annotations

import re
from functools import lru_cache

from babel import Locale
from babel.dates import get_month_names
from babel.numbers import get_currency_precision, get_currency_symbol, is_currency


# The languages workbooks are written in (a catalog blueprints/i18n/<code>.yaml each).
LANGUAGES = ("en", "fi", "lv", "mk", "nb")


def known_currency(code: str) -> bool:
    """True when ``code`` is an ISO 4217 currency code that Babel knows."""
    return is_currency(code)


@lru_cache(maxsize=None)
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
    return f"{positive};[Red]-{positive}"


@lru_cache(maxsize=None)
def month_names(language: str = "en") -> tuple[str, ...]:
    """Abbreviated month names, January first."""
    names = get_month_names("abbreviated", locale=language)
    return tuple(names[month] for month in range(1, 13))
