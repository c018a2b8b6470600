"""A promotion's validity window: start and end times, expiry, and re-enabling an expired promotion."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time

from promoforge.domain.codes import EXPIRED_REENABLE_CODE_LIMIT
from promoforge.domain.errors import FieldProblem, TooManyCodesToReenable

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$")


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
