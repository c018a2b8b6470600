"""Formatted amounts are exactly babel's `format_currency`, for every currency the service accepts."""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import format_currency, get_currency_precision
from hypothesis import given, settings
from hypothesis import strategies as st

from promoforge.api.documents.common import FORMAT_LOCALE, formatted, money_style
from promoforge.domain.money import CURRENCY_CODES

CURRENCIES = sorted(CURRENCY_CODES)


def babel_formatted(amount: int, currency: str) -> str:
    digits = get_currency_precision(currency)
    return str(format_currency(Decimal(amount).scaleb(-digits), currency, locale=FORMAT_LOCALE))


@settings(max_examples=400, deadline=None)
@given(
    amount=st.one_of(st.integers(-(10**16), 10**16), st.integers(-1100, 1100)),
    currency=st.sampled_from(CURRENCIES),
)
def test_formatted_equals_babel(amount: int, currency: str) -> None:
    assert formatted(amount, currency) == babel_formatted(amount, currency)


def test_every_currency_edge_amounts() -> None:
    amounts = (0, 1, -1, 9, 10, 99, 100, 999, 1000, 1001, -100_000, 123_456_789, 10**15)
    for currency in CURRENCIES:
        for amount in amounts:
            assert formatted(amount, currency) == babel_formatted(amount, currency), currency


def test_known_shapes() -> None:
    assert formatted(123450, "USD") == "$1,234.50"
    assert formatted(-1000, "USD") == "-$10.00"
    assert formatted(475000, "EUR") == "€4,750.00"
    assert formatted(1000, "JPY") == "¥1,000"
    assert formatted(0, "") == "0"
    assert money_style("USD") is not None
