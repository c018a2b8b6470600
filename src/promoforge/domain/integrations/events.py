"""Observable event keys: EP's whole table, the legacy catalog keys and PromoForge's own (integrations §7)."""

from __future__ import annotations

from collections.abc import Iterable

from promoforge.domain.errors import FieldProblem, IntegrationInvalid
from promoforge.domain.integrations.validation import problem

# Keys PromoForge records (§7.1, §7.2).
CART_UPDATED = "cart.updated"
CART_DELETED = "cart.deleted"
ORDER_CREATED = "order.created"
ORDER_UPDATED = "order.updated"
ORDER_CANCELLED = "order.cancelled"
ORDER_FULFILLED = "order.fulfilled"
ORDER_PAID = "order.paid"
INTEGRATION_CREATED = "integration.created"
INTEGRATION_UPDATED = "integration.updated"
INTEGRATION_DELETED = "integration.deleted"
PROMOTION_CREATED = "promotion.created"
PROMOTION_UPDATED = "promotion.updated"
PROMOTION_DELETED = "promotion.deleted"
PROMOTION_CODES_CREATED = "promotion-codes.created"
PROMOTION_CODES_DELETED = "promotion-codes.deleted"
PROMOTION_CODE_EXHAUSTED = "promotion-code.exhausted"
PROMOTION_USAGE_CREATED = "promotion-usage.created"
PROMOTION_JOB_COMPLETED = "promotion-job.completed"
PROMOTION_JOB_FAILED = "promotion-job.failed"
PROMOTION_JOB_CANCELLED = "promotion-job.cancelled"

_CRUD = ("created", "updated", "deleted")


def _keys(resource: str, actions: Iterable[str] = _CRUD) -> frozenset[str]:
    return frozenset(f"{resource}.{action}" for action in actions)


# EP's observable-events table (I1 2024, I2 2026) and the Subscriptions page it links to. The table's
# `customAPIEntryType.*` rows stand for Custom API slugs, which PromoForge does not have (D-I5).
EP_EVENTS: frozenset[str] = (
    _keys("address")
    | _keys("account")
    | _keys("account-member")
    | _keys("account-membership")
    | _keys("cart", ("updated", "deleted"))
    | _keys("currency")
    | _keys("customer")
    | _keys("file", ("created", "deleted"))
    | _keys("integration")
    | _keys("one-time-password-token-request", ("created",))
    | _keys("order", ("created", "updated", "paid", "fulfilled", "cancelled", "authorized", "refunded"))
    | _keys("payment-gateway", ("updated",))
    | _keys("catalog-release")
    | _keys("catalog-rule")
    | _keys("settings", ("created", "updated"))
    | _keys("stock-transaction", ("created",))
    | _keys("transaction", ("created", "updated"))
    | _keys("user-authentication-info")
    | _keys(
        "subscription",
        (
            "created",
            "create-failed",
            "paused",
            "canceled",
            "pending_cancel",
            "pending_pause",
            "resumed",
            "closed",
        ),
    )
    | _keys("subscription-subscriber")
    | _keys("subscription-product")
    | _keys("subscription-plan")
    | _keys("subscription-offering")
    | _keys("subscription-job")
    | _keys("subscription-invoice", ("created", "deleted"))
    | _keys("subscription-schedule")
)

# The Moltin-era catalog keys, still accepted by EP for configurations written before PXM.
LEGACY_EVENTS: frozenset[str] = _keys("brand") | _keys("category") | _keys("collection") | _keys("product")

PROMOFORGE_EVENTS: frozenset[str] = frozenset(
    {
        PROMOTION_CREATED,
        PROMOTION_UPDATED,
        PROMOTION_DELETED,
        PROMOTION_CODES_CREATED,
        PROMOTION_CODES_DELETED,
        PROMOTION_CODE_EXHAUSTED,
        PROMOTION_USAGE_CREATED,
        PROMOTION_JOB_COMPLETED,
        PROMOTION_JOB_FAILED,
        PROMOTION_JOB_CANCELLED,
    }
)

OBSERVABLE_EVENTS: frozenset[str] = EP_EVENTS | LEGACY_EVENTS | PROMOFORGE_EVENTS

EMITTED_EVENTS: frozenset[str] = frozenset(
    {
        CART_UPDATED,
        CART_DELETED,
        ORDER_CREATED,
        ORDER_UPDATED,
        ORDER_CANCELLED,
        ORDER_FULFILLED,
        ORDER_PAID,
        INTEGRATION_CREATED,
        INTEGRATION_UPDATED,
        INTEGRATION_DELETED,
    }
    | PROMOFORGE_EVENTS
)

# Events whose payload is only `{"type", "id"}` of the resource that went away (§7, §5.1).
DELETION_EVENTS: frozenset[str] = frozenset({CART_DELETED, INTEGRATION_DELETED, PROMOTION_DELETED})


def event_limit_detail(limit: int) -> str:
    """EP's text for an integration observing more events than its store allows (integrations §2.2)."""
    return f"You have reached the integration event limit of {limit}"


def parse_observes(value: object, *, limit: int, source: str = "data.observes") -> tuple[str, ...]:
    """The event keys of `observes`: 1..limit known keys, duplicates dropped in first order (integrations
    §2.2, D-I5); raises IntegrationInvalid with one problem per bad entry."""
    if not isinstance(value, list):
        raise IntegrationInvalid([problem(source, "observes must be an array of event keys")])
    if not value:
        raise IntegrationInvalid([problem(source, "observes must list at least one event")])
    problems: list[FieldProblem] = []
    keys: list[str] = []
    seen: set[str] = set()
    for index, key in enumerate(value):
        if not isinstance(key, str):
            problems.append(problem(f"{source}.{index}", "observes entries must be strings"))
            continue
        if key not in OBSERVABLE_EVENTS:
            problems.append(problem(f"{source}.{index}", f"{key} is not an observable event"))
        if key not in seen:
            seen.add(key)
            keys.append(key)
    if len(keys) > limit:
        problems.append(problem(source, event_limit_detail(limit)))
    if problems:
        raise IntegrationInvalid(problems)
    return tuple(keys)
