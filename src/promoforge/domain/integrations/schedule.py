"""When a failed delivery is tried again (integrations §4.4, §4.5, D-I13, D-I16)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# Delay after failed attempt n is RETRY_DELAYS_SECONDS[n - 1]: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 14 h,
# 20 h, 24 h (Standard Webhooks' example schedule).
RETRY_DELAYS_SECONDS = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
MAX_ATTEMPTS = 10
MIN_JITTER = 0.8
MAX_JITTER = 1.2
# Statuses whose Retry-After header is honoured, and the one that ends a job's retries (§4.4, D-I16).
RETRY_AFTER_STATUSES = frozenset({429, 503})
NO_RETRY_STATUS = 410
# A receiver's Retry-After may push the next attempt back by at most this much (§4.4).
MAX_RETRY_AFTER_SECONDS = 86400.0


def next_attempt_delay(
    failed_attempt: int,
    *,
    jitter: float,
    retry_after_seconds: float | None = None,
    scale: float = 1.0,
) -> float | None:
    """Seconds until the attempt after failed attempt `failed_attempt` (1-based), or None when it was the
    last; `jitter` is the caller's random factor in [0.8, 1.2], and a Retry-After only moves it later.
    `scale` multiplies every delay of the schedule (the operator's `delivery_retry_scale`, below 1 only for
    tests and benchmarks); it changes neither the number of attempts nor a receiver's Retry-After."""
    if failed_attempt < 1:
        raise ValueError("attempts are numbered from 1")
    if not MIN_JITTER <= jitter <= MAX_JITTER:
        raise ValueError(f"jitter must be from {MIN_JITTER} to {MAX_JITTER}")
    if scale <= 0:
        raise ValueError("the schedule's scale must be positive")
    if failed_attempt >= MAX_ATTEMPTS:
        return None
    delay = RETRY_DELAYS_SECONDS[failed_attempt - 1] * scale * jitter
    if retry_after_seconds is not None:
        delay = max(delay, min(retry_after_seconds, MAX_RETRY_AFTER_SECONDS))
    return delay


def parse_retry_after(value: str, now: datetime) -> float | None:
    """Seconds a `Retry-After` header asks to wait: delay-seconds or an HTTP date (0 for a date already
    past); None when the header is neither."""
    text = value.strip()
    if text.isdigit() and text.isascii():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (moment - now).total_seconds())
