"""Observable event keys: EP's whole table, legacy and PromoForge keys; `observes` parsing and its 422s."""

from __future__ import annotations

import pytest

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations import events
from promoforge.domain.integrations.events import (
    EMITTED_EVENTS,
    EP_EVENTS,
    LEGACY_EVENTS,
    OBSERVABLE_EVENTS,
    PROMOFORGE_EVENTS,
    parse_observes,
)


def _problems(value: object, limit: int = 5) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        parse_observes(value, limit=limit)
    assert {problem.title for problem in raised.value.problems} == {"Validation Error"}
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def test_ep_table_keys_are_observable_including_never_emitted_ones() -> None:
    for key in (
        "order.authorized",
        "order.refunded",
        "settings.created",
        "settings.updated",
        "address.deleted",
        "account-membership.updated",
        "one-time-password-token-request.created",
        "payment-gateway.updated",
        "catalog-release.deleted",
        "catalog-rule.created",
        "stock-transaction.created",
        "transaction.updated",
        "user-authentication-info.deleted",
        "subscription.create-failed",
        "subscription.pending_cancel",
        "subscription.canceled",
        "subscription-invoice.deleted",
        "subscription-schedule.updated",
        "file.created",
    ):
        assert key in EP_EVENTS
        assert key not in EMITTED_EVENTS


def test_legacy_catalog_keys_are_observable() -> None:
    for family in ("brand", "category", "collection", "product"):
        for action in ("created", "updated", "deleted"):
            assert f"{family}.{action}" in LEGACY_EVENTS <= OBSERVABLE_EVENTS


def test_keys_ep_never_had_are_not_observable() -> None:
    for key in (
        "cart.created",
        "file.updated",
        "settings.deleted",
        "integrations.created",
        "subscription-invoice.updated",
        "customAPIEntryType.created",
        "wishlist.created",
        "promotion.archived",
        "Order.created",
        "order.created ",
    ):
        assert key not in OBSERVABLE_EVENTS


def test_every_emitted_key_is_observable_and_has_a_constant() -> None:
    assert EMITTED_EVENTS <= OBSERVABLE_EVENTS
    constants = {value for name, value in vars(events).items() if name.isupper() and isinstance(value, str)}
    assert constants == EMITTED_EVENTS
    assert events.PROMOTION_CODE_EXHAUSTED == "promotion-code.exhausted"
    assert events.PROMOTION_CODES_CREATED == "promotion-codes.created"
    assert events.PROMOTION_JOB_COMPLETED == "promotion-job.completed"
    assert events.ORDER_CANCELLED == "order.cancelled"
    assert PROMOFORGE_EVENTS.isdisjoint(EP_EVENTS)
    assert len(PROMOFORGE_EVENTS) == 10


def test_the_ep_table_has_its_exact_size() -> None:
    # 48 keys in EP's main table, 28 on its Subscriptions page; a dropped or invented family shows here.
    assert len(EP_EVENTS) == 48 + 28
    assert len(LEGACY_EVENTS) == 12


def test_observes_keeps_the_first_order_and_drops_duplicates() -> None:
    value = ["order.created", "cart.updated", "order.created", "promotion-code.exhausted", "cart.updated"]
    assert parse_observes(value, limit=3) == ("order.created", "cart.updated", "promotion-code.exhausted")


def test_each_unknown_key_is_a_problem_at_its_index() -> None:
    assert _problems(["order.created", "promotion.archived", "Cart.updated", 7]) == [
        ("data.observes.1", "promotion.archived is not an observable event"),
        ("data.observes.2", "Cart.updated is not an observable event"),
        ("data.observes.3", "observes entries must be strings"),
    ]


def test_more_distinct_keys_than_the_limit_is_eps_text() -> None:
    keys = ["order.created", "order.updated", "order.paid", "cart.updated", "cart.deleted", "order.cancelled"]
    assert _problems(keys) == [("data.observes", "You have reached the integration event limit of 5")]
    assert _problems(keys[:3], limit=2) == [
        ("data.observes", "You have reached the integration event limit of 2")
    ]
    assert parse_observes(keys[:5] + keys[:5], limit=5) == tuple(keys[:5])


def test_unknown_keys_and_the_limit_are_reported_together() -> None:
    assert _problems(["order.created", "nope.created", "order.paid"], limit=2) == [
        ("data.observes.1", "nope.created is not an observable event"),
        ("data.observes", "You have reached the integration event limit of 2"),
    ]


@pytest.mark.parametrize(
    ("value", "detail"),
    [
        ([], "observes must list at least one event"),
        ("order.created", "observes must be an array of event keys"),
        (None, "observes must be an array of event keys"),
        ({"0": "order.created"}, "observes must be an array of event keys"),
    ],
)
def test_observes_must_be_a_non_empty_array(value: object, detail: str) -> None:
    assert _problems(value) == [("data.observes", detail)]


def test_the_source_prefix_is_the_callers() -> None:
    with pytest.raises(IntegrationInvalid) as raised:
        parse_observes(["x"], limit=5, source="observes")
    assert raised.value.problems[0].source == "observes.0"
