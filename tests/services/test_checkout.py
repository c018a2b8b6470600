"""Checkout and order use cases without HTTP: an order with the cart's numbers, code uses taken exactly once,
idempotent retries, and what a failed checkout leaves behind."""

from __future__ import annotations

from dataclasses import replace

import pytest

from promoforge.domain.codes import ConsumeUnit
from promoforge.domain.errors import CartEmpty, IdempotencyKeyReused
from promoforge.domain.orders import (
    CheckoutDetails,
    OrderChanges,
    OrderItemKind,
    OrderStatus,
    Party,
    PartyKind,
)
from promoforge.domain.queries import Page, SortKey
from promoforge.domain.shoppers import Shopper
from promoforge.services.checkout import OrderView, checkout
from promoforge.services.orders import update_order
from promoforge.services.usages import list_usages
from promoforge.storage.repositories import Database
from seeds import (
    GUEST,
    NOW,
    SHOP,
    add_codes,
    apply_code,
    code_row,
    custom_line,
    fill_cart,
    new_cart,
    new_promotion,
    row_counts,
)

ANN = CheckoutDetails(
    party=Party(PartyKind.CUSTOMER, "Ann Lee", "ann@example.com"),
    billing_address={"first_name": "Ann", "last_name": "Lee", "line_1": "1 Main St", "country": "US"},
    shipping_address={"first_name": "Ann", "last_name": "Lee", "line_1": "1 Main St", "country": "US"},
)


def check_out(
    db: Database,
    store_id: str,
    cart_id: str,
    *,
    key: str | None = None,
    details: CheckoutDetails = ANN,
    shopper: Shopper = GUEST,
) -> OrderView:
    """Check a cart out as a guest (by default), with an idempotency key if given."""
    return checkout(
        db,
        store_id=store_id,
        cart_id=cart_id,
        details=details,
        shopper=shopper,
        idempotency_key=key,
        now=NOW,
    )


def test_an_order_carries_the_carts_numbers_and_each_discounting_code_loses_its_uses_once(
    db: Database, store_id: str
) -> None:
    cart_wide = new_promotion(db, store_id, amount=500, name="Five off")
    add_codes(db, store_id, cart_wide.id, "SAVE5", max_uses=2)
    per_unit = new_promotion(
        db,
        store_id,
        promotion_type="item_fixed_discount",
        schema={"currencies": [{"currency": "USD", "amount": 100}], "targets": ["SHIRT"]},
        name="Shirts",
    )
    add_codes(db, store_id, per_unit.id, "SHIRTS", max_uses=10, consume_unit=ConsumeUnit.PER_ITEM)
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500, quantity=3, sku="SHIRT"), shopper=GUEST)
    apply_code(db, store_id, "c1", "save5", shopper=GUEST)
    priced = apply_code(db, store_id, "c1", "shirts", shopper=GUEST).priced

    view = check_out(db, store_id, "c1")

    order = view.order
    assert (order.without_discount, order.discount, order.with_tax) == (4500, 800, 3700)
    assert (order.without_discount, order.discount) == (
        priced.totals.without_discount,
        priced.totals.discount,
    )
    assert (order.status, order.currency, order.party) == (OrderStatus.INCOMPLETE, "USD", ANN.party)
    assert [(item.kind, item.sku, item.quantity, item.value, item.discount) for item in view.items] == [
        (OrderItemKind.CUSTOM, "SHIRT", 3, 4500, 800),
        (OrderItemKind.PROMOTION, "SAVE5", 1, -500, 0),
    ]
    assert {(usage.code, usage.times_used) for usage in view.usages} == {("SAVE5", 1), ("SHIRTS", 3)}
    assert code_row(db, store_id, "save5").uses == 1
    assert code_row(db, store_id, "shirts").uses == 7
    usages, total = list_usages(
        db,
        store_id=store_id,
        promotion_id=cart_wide.id,
        page=Page(limit=10, offset=0),
        comparisons=[],
        sort=SortKey("used_on"),
    )
    assert total == 1
    assert (usages[0].order_id, usages[0].customer_email, usages[0].times_used) == (
        order.id,
        "ann@example.com",
        1,
    )


def test_a_repeated_checkout_with_the_same_key_answers_the_same_order_and_takes_nothing_more(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "SAVE5", max_uses=5)
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500), shopper=GUEST)
    apply_code(db, store_id, "c1", "SAVE5", shopper=GUEST)

    first = check_out(db, store_id, "c1", key="attempt-1")
    written = row_counts(db)
    again = check_out(db, store_id, "c1", key="attempt-1")

    assert (first.repeated, again.repeated) == (False, True)
    assert (again.order, again.items) == (first.order, first.items)
    assert row_counts(db) == written
    assert code_row(db, store_id, "save5").uses == 4
    # The key is its first request's: another body or another caller may not have its order.
    with pytest.raises(IdempotencyKeyReused):
        check_out(db, store_id, "c1", key="attempt-1", details=replace(ANN, order_number="42"))
    with pytest.raises(IdempotencyKeyReused):
        check_out(db, store_id, "c1", key="attempt-1", shopper=SHOP)
    assert row_counts(db) == written


def test_a_cart_with_nothing_to_check_out_leaves_no_order_and_no_claimed_key(
    db: Database, store_id: str
) -> None:
    new_cart(db, store_id, "empty")
    before = row_counts(db)

    for cart_id in ("empty", "never-written"):
        with pytest.raises(CartEmpty):
            check_out(db, store_id, cart_id, key="attempt-1")

    assert row_counts(db) == before
    fill_cart(db, store_id, "empty", custom_line("Shirt", 1500), shopper=GUEST)
    assert not check_out(db, store_id, "empty", key="attempt-1").repeated


def test_a_cancelled_order_gives_no_uses_back(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "SAVE5", max_uses=1)
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500), shopper=GUEST)
    apply_code(db, store_id, "c1", "SAVE5", shopper=GUEST)
    order = check_out(db, store_id, "c1").order

    cancelled = update_order(
        db, store_id=store_id, order_id=order.id, changes=OrderChanges(status=OrderStatus.CANCELLED), now=NOW
    )

    assert cancelled.order.status is OrderStatus.CANCELLED
    assert code_row(db, store_id, "save5").uses == 0
    # Used up: the cart keeps the code, which now gives nothing and is taken from no more.
    again = check_out(db, store_id, "c1")
    assert (again.order.discount, again.usages) == (0, ())
    assert code_row(db, store_id, "save5").uses == 0
