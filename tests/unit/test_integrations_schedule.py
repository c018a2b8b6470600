"""The retry schedule (integrations §4.5): ten attempts, jitter from the caller, Retry-After only later."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from promoforge.domain.integrations.schedule import (
    MAX_ATTEMPTS,
    RETRY_DELAYS_SECONDS,
    next_attempt_delay,
    parse_retry_after,
)

NOW = datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC)


def test_the_schedule_is_the_specs_table() -> None:
    assert MAX_ATTEMPTS == 10
    delays = [next_attempt_delay(attempt, jitter=1.0) for attempt in range(1, 10)]
    assert delays == [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
    assert delays == list(RETRY_DELAYS_SECONDS)
    elapsed = 0.0
    for delay in delays[:8]:
        assert delay is not None
        elapsed += delay
    assert timedelta(seconds=elapsed) == timedelta(hours=51, minutes=35, seconds=5)


def test_no_attempt_after_the_tenth() -> None:
    assert next_attempt_delay(10, jitter=1.0) is None
    assert next_attempt_delay(11, jitter=1.0, retry_after_seconds=5) is None


@pytest.mark.parametrize(("jitter", "expected"), [(0.8, 240.0), (1.2, 360.0), (1.0, 300.0)])
def test_jitter_scales_the_delay(jitter: float, expected: float) -> None:
    assert next_attempt_delay(2, jitter=jitter) == pytest.approx(expected)


@pytest.mark.parametrize("jitter", [0.79, 1.21, 0.0])
def test_jitter_outside_twenty_percent_is_a_programming_error(jitter: float) -> None:
    with pytest.raises(ValueError, match="jitter"):
        next_attempt_delay(1, jitter=jitter)
    with pytest.raises(ValueError, match="from 1"):
        next_attempt_delay(0, jitter=1.0)


def test_a_scale_multiplies_every_delay_but_not_the_attempts_or_retry_after() -> None:
    scaled = [next_attempt_delay(attempt, jitter=1.0, scale=0.01) for attempt in range(1, 10)]
    assert scaled == pytest.approx([delay * 0.01 for delay in RETRY_DELAYS_SECONDS])
    assert next_attempt_delay(2, jitter=1.2, scale=0.5) == pytest.approx(180.0)
    assert next_attempt_delay(10, jitter=1.0, scale=0.01) is None
    # A receiver's Retry-After is its own request, not the schedule's: it is not scaled.
    assert next_attempt_delay(1, jitter=1.0, retry_after_seconds=120, scale=0.01) == 120
    with pytest.raises(ValueError, match="scale"):
        next_attempt_delay(1, jitter=1.0, scale=0.0)


def test_retry_after_moves_the_attempt_later_only_and_at_most_24_hours() -> None:
    assert next_attempt_delay(1, jitter=1.0, retry_after_seconds=120) == 120
    assert next_attempt_delay(3, jitter=1.0, retry_after_seconds=120) == 1800
    assert next_attempt_delay(1, jitter=1.0, retry_after_seconds=10 * 86400) == 86400
    # The schedule's own last delay with jitter may exceed 24 h; Retry-After never shortens it.
    assert next_attempt_delay(9, jitter=1.2, retry_after_seconds=10 * 86400) == pytest.approx(103680)
    assert next_attempt_delay(1, jitter=1.0, retry_after_seconds=-50) == 5


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 23 Nov 2026 10:05:00 GMT", 300.0),
        ("Mon, 23 Nov 2026 09:00:00 GMT", 0.0),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        ("١٢", None),
    ],
)
def test_retry_after_is_seconds_or_an_http_date(value: str, seconds: float | None) -> None:
    assert parse_retry_after(value, NOW) == seconds


def test_a_naive_now_is_utc() -> None:
    assert parse_retry_after("Mon, 23 Nov 2026 10:00:30 GMT", NOW.replace(tzinfo=None)) == 30.0
