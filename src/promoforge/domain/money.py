"""Money in integer minor units of an ISO 4217 currency, and exact decimals from JSON numbers."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

# ISO 4217 active codes (2024 list), plus the precious-metal and testing codes shops use for credits.
_ISO_4217 = """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD BTN BWP
    BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB
    EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY
    KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR
    MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB
    RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD
    TWD TZS UAH UGX USD USN UYI UYU UYW UZS VED VES VND VUV WST XAF XAG XAU XBA XBB XBC XBD XCD XCG
    XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWG ZWL
"""
CURRENCY_CODES = frozenset(_ISO_4217.split())

# The largest line value or total the service computes: a JSON-safe integer (JavaScript reads it exactly),
# and a cart of 100 lines at this bound still sums below 2**63, so every amount fits a signed 64-bit column.
MAX_AMOUNT = 2**53 - 1


def check_currency(code: str) -> str:
    """Return an ISO 4217 currency code unchanged, or raise ValueError."""
    if code not in CURRENCY_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (three capital letters)")
    return code


def check_minor_units(amount: object) -> int:
    """Return an amount of minor units; anything but an int (a float, a bool) raises TypeError."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"an amount is a whole number of minor units, not {type(amount).__name__}")
    return amount


@dataclass(frozen=True)
class Money:
    """An amount in minor units (cents for USD) of one currency."""

    currency: str
    amount: int

    def __post_init__(self) -> None:
        check_minor_units(self.amount)
        if not isinstance(self.currency, str):
            raise TypeError("a currency is a three-letter ISO 4217 code")

    def to_document(self) -> dict[str, object]:
        """The JSON form: `{"currency": ..., "amount": ...}`."""
        return {"currency": self.currency, "amount": self.amount}

    @classmethod
    def from_document(cls, document: dict[str, object]) -> Money:
        """Rebuild from the JSON form."""
        currency, amount = document["currency"], document["amount"]
        if not isinstance(currency, str):
            raise TypeError("a currency is a three-letter ISO 4217 code")
        return cls(currency=currency, amount=check_minor_units(amount))


def exact_decimal(value: object) -> Decimal:
    """The decimal a JSON number was written as: 12.5 -> Decimal("12.5"), never its binary float value.

    A float parsed from JSON is the double nearest the text; `repr` gives back the shortest text that parses
    to the same double, which is the text that was sent (up to trailing zeros and exponent notation).
    """
    if isinstance(value, bool):
        raise TypeError("a boolean is not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("a number must be finite")
        return Decimal(repr(value))
    raise TypeError(f"{type(value).__name__} is not a number")


def decimal_places(value: Decimal) -> int:
    """How many digits follow the decimal point (0 for whole numbers written without a point)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def json_number(value: Decimal) -> int | float:
    """The JSON number for a decimal: an int when written without a point or exponent, else its float."""
    if value.as_tuple().exponent == 0:
        return int(value)
    # Only the JSON encoder sees this float; its repr is the decimal's own text.
    return float(value)


def money_documents(values: tuple[Money, ...] | None) -> list[dict[str, object]] | None:
    """The JSON form of per-currency amounts (None stays None)."""
    return None if values is None else [value.to_document() for value in values]


def money_from_documents(documents: list[dict[str, object]] | None) -> tuple[Money, ...] | None:
    """Per-currency amounts from their JSON form (None stays None)."""
    return None if documents is None else tuple(Money.from_document(document) for document in documents)
