"""Promotion rules: types, the validity window, expiry and re-enabling, and cross-field schema rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from promoforge.domain.codes import EXPIRED_REENABLE_CODE_LIMIT
from promoforge.domain.errors import FieldProblem, ProblemList, TooManyCodesToReenable


class PromotionType(StrEnum):
    """The eight Promotions Standard types."""

    FIXED_DISCOUNT = "fixed_discount"
    PERCENT_DISCOUNT = "percent_discount"
    ITEM_FIXED_DISCOUNT = "item_fixed_discount"
    ITEM_PERCENT_DISCOUNT = "item_percent_discount"
    X_FOR_Y = "x_for_y"
    X_FOR_AMOUNT = "x_for_amount"
    BUNDLE_FIXED_DISCOUNT = "bundle_fixed_discount"
    BUNDLE_GIFT = "bundle_gift"


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

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$")
_MAX_DECIMALS = 6


def check_currency(code: str) -> str:
    """Return an ISO 4217 currency code unchanged, or raise ValueError."""
    if code not in CURRENCY_CODES:
        raise ValueError(f"{code!r} is not an ISO 4217 currency code (three capital letters)")
    return code


def check_decimals(value: float) -> float:
    """Accept a number with at most six decimals."""
    if round(value, _MAX_DECIMALS) != value:
        raise ValueError("must have at most 6 decimal places")
    return value


def parse_promotion_time(text: str) -> datetime:
    """Parse a start or end value (date, RFC 3339, or 'YYYY-MM-DD HH:MM') into UTC, whole seconds."""
    value = text.strip()
    if _DATE_ONLY.match(value):
        try:
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        except ValueError:
            raise ValueError(f"{text!r} is not a valid date") from None
    if not _DATE_TIME.match(value):
        raise ValueError(
            f"{text!r} is not a date (YYYY-MM-DD) or date-time (RFC 3339, e.g. 2024-01-31T12:00:00Z)"
        )
    fraction = re.search(r"\.(\d+)", value)
    if fraction and len(fraction.group(1)) > 6:
        value = value.replace(fraction.group(0), "." + fraction.group(1)[:6])
    try:
        parsed = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        raise ValueError(f"{text!r} is not a valid date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        parsed = parsed.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"{text!r} is out of range") from None
    return parsed.replace(microsecond=0)


def check_window(start: datetime, end: datetime) -> list[FieldProblem]:
    """Return the problem with a validity window whose end is not after its start, if any."""
    if end <= start:
        return [FieldProblem("data.end", "end must be after start", "invalid")]
    return []


def is_expired(end: datetime, now: datetime) -> bool:
    """Tell whether a promotion with this end has expired at `now`."""
    return end <= now


def reenables_expired(*, old_end: datetime, new_end: datetime, now: datetime) -> bool:
    """Tell whether moving `old_end` to `new_end` brings an expired promotion back.

    Codes of an expired promotion must not come back to life with it (they could be duplicated across
    promotions meanwhile), so such a change deletes them; see `check_codes_may_be_wiped`.
    """
    return is_expired(old_end, now) and not is_expired(new_end, now)


def check_codes_may_be_wiped(code_count: int) -> None:
    """Refuse to re-enable an expired promotion with more than 1000 codes, as EP does."""
    if code_count > EXPIRED_REENABLE_CODE_LIMIT:
        raise TooManyCodesToReenable(
            f"The promotion expired and has {code_count} codes; moving its end into the future would "
            f"delete them, which is refused above {EXPIRED_REENABLE_CODE_LIMIT} codes. "
            "Duplicate the promotion instead.",
            source="request",
        )


def schema_rule_problems(promotion_type: PromotionType, schema: Mapping[str, Any]) -> list[FieldProblem]:
    """Return problems with rules that span several fields of a well-formed schema."""
    problems = ProblemList()
    base = "data.schema"
    if schema.get("targets") == "all" and schema.get("target_nodes"):
        problems.add(f"{base}.target_nodes", 'targets "all" cannot be combined with target_nodes')
    if promotion_type is PromotionType.X_FOR_Y:
        x, y = schema.get("x"), schema.get("y")
        if isinstance(x, int) and isinstance(y, int) and not y < x:
            problems.add(f"{base}.y", "y (units paid for) must be less than x (units taken)")
    currencies = schema.get("currencies")
    if isinstance(currencies, Sequence):
        _duplicate_currency_problems(currencies, f"{base}.currencies", problems)
    return problems.problems


def money_list_problems(values: Sequence[Mapping[str, Any]] | None, source: str) -> list[FieldProblem]:
    """Return problems with a list of per-currency amounts (one entry per currency)."""
    problems = ProblemList()
    if values:
        _duplicate_currency_problems(values, source, problems)
    return problems.problems


def _duplicate_currency_problems(
    entries: Sequence[Mapping[str, Any]], source: str, problems: ProblemList
) -> None:
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        currency = entry.get("currency")
        if isinstance(currency, str):
            if currency in seen:
                problems.add(f"{source}.{index}.currency", f"currency {currency} is listed twice")
            seen.add(currency)
