"""Numbers as each language writes them: ``locale_data.format_number`` is Babel's ``format_decimal``."""

from __future__ import annotations

import random
from decimal import Decimal

from babel.numbers import format_decimal

from smm_sheets.locale_data import LANGUAGES, format_number


def test_format_number_writes_what_babel_format_decimal_writes():
    chance = random.Random(15)
    values = [0, 0.0, -0.0, 1, -1, 0.5, 0.125, 2.675, 1234.5, -1234.565, 1e15, 123456789.987654321, Decimal("1.005")]
    values += [chance.uniform(-1e7, 1e7) for _ in range(300)] + [chance.randint(-(10**12), 10**12) for _ in range(100)]
    for language in LANGUAGES:
        for decimals in (0, 2, 6):
            pattern = "#,##0." + "#" * decimals if decimals else "#,##0"
            for value in values:
                assert format_number(value, language, decimals) == format_decimal(
                    value, format=pattern, locale=language
                )
