"""Promotion rules: time parsing, the validity window, re-enabling expired promotions, schema rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from promoforge.domain.errors import TooManyCodesToReenable
from promoforge.domain.money import Money
from promoforge.domain.promotions import (
    FixedDiscount,
    ItemPercentDiscount,
    ItemTargeting,
    XForY,
    check_codes_may_be_wiped,
    check_window,
    parse_promotion_time,
    reenables_expired,
    schema_rule_problems,
)

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2017-11-13", datetime(2017, 11, 13, tzinfo=UTC)),
        ("2017-11-13T10:20:30Z", datetime(2017, 11, 13, 10, 20, 30, tzinfo=UTC)),
        ("2017-11-13T10:20:30.999Z", datetime(2017, 11, 13, 10, 20, 30, tzinfo=UTC)),
        ("2017-11-13T10:20:30+02:00", datetime(2017, 11, 13, 8, 20, 30, tzinfo=UTC)),
        ("2017-11-13 10:20", datetime(2017, 11, 13, 10, 20, tzinfo=UTC)),
        ("2017-11-13T10:20:30.123456789Z", datetime(2017, 11, 13, 10, 20, 30, tzinfo=UTC)),
    ],
)
def test_times_are_normalised_to_utc_seconds(text: str, expected: datetime) -> None:
    assert parse_promotion_time(text) == expected


@pytest.mark.parametrize(
    "text", ["2017-13-01", "2017-02-30", "tomorrow", "2017-11-13T25:00:00Z", "0001-01-01T00:00:00+05:00", ""]
)
def test_bad_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_promotion_time(text)


def test_end_must_follow_start() -> None:
    assert check_window(NOW, NOW + timedelta(seconds=1)) == []
    problems = check_window(NOW, NOW)
    assert [p.source for p in problems] == ["data.end"]


def test_moving_an_expired_end_into_the_future_reenables() -> None:
    past, future = NOW - timedelta(days=1), NOW + timedelta(days=1)
    assert reenables_expired(old_end=past, new_end=future, now=NOW)
    assert reenables_expired(old_end=NOW, new_end=future, now=NOW)
    assert not reenables_expired(old_end=past, new_end=past - timedelta(days=1), now=NOW)
    assert not reenables_expired(old_end=future, new_end=future + timedelta(days=1), now=NOW)
    assert not reenables_expired(old_end=future, new_end=past, now=NOW)


def test_wiping_is_refused_above_1000_codes() -> None:
    check_codes_may_be_wiped(1000)
    with pytest.raises(TooManyCodesToReenable) as raised:
        check_codes_may_be_wiped(1001)
    assert raised.value.source == "request"


def test_targets_all_cannot_be_combined_with_nodes() -> None:
    targeting = ItemTargeting(targets="all", target_nodes=("n1",))
    problems = schema_rule_problems(ItemPercentDiscount(percent=Decimal(10), targeting=targeting))
    assert [p.source for p in problems] == ["data.schema.target_nodes"]


def test_x_for_y_needs_fewer_paid_than_taken() -> None:
    assert schema_rule_problems(XForY(x=3, y=2)) == []
    assert [p.source for p in schema_rule_problems(XForY(x=3, y=3))] == ["data.schema.y"]


def test_a_currency_may_appear_once() -> None:
    rules = FixedDiscount(currencies=(Money("USD", 1), Money("EUR", 1), Money("USD", 2)))
    problems = schema_rule_problems(rules)
    assert [p.source for p in problems] == ["data.schema.currencies.2.currency"]
