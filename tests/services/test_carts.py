"""Cart use cases without HTTP: reading, filling and pricing a cart, applying and removing codes, and
whose cart it is."""

from __future__ import annotations

import pytest

from promoforge.domain.errors import CodeNotApplicable, Forbidden
from promoforge.domain.queries import Page
from promoforge.domain.shoppers import Shopper
from promoforge.services.carts import get_cart, list_carts, remove_code, remove_line
from promoforge.services.code_attempts import attempt_window
from promoforge.storage.repositories import Database
from seeds import (
    GUEST,
    NOW,
    SHOP,
    add_codes,
    apply_code,
    custom_line,
    fill_cart,
    new_promotion,
    row_counts,
)

ANN = Shopper(customer_id="ann", client="198.51.100.7")
BOB = Shopper(customer_id="bob", client="198.51.100.7")


def failed_attempts(db: Database, store_id: str, cart_id: str) -> dict[str, int]:
    """The failed code attempts this minute of the cart, of GUEST's address and of the store."""
    with db.read() as tx:
        return tx.store(store_id).attempts.counts(
            [f"cart:{cart_id}", f"address:{GUEST.client}", "store"], attempt_window(NOW)
        )


def test_an_unknown_cart_reads_as_an_empty_priced_cart_and_writes_nothing(
    db: Database, store_id: str
) -> None:
    before = row_counts(db)

    view = get_cart(db, store_id=store_id, cart_id="never-written", shopper=GUEST, now=NOW)

    assert (view.cart.id, view.cart.store_id, view.cart.stored) == ("never-written", store_id, False)
    assert (view.items, view.codes, view.promotions) == ([], [], {})
    assert (view.priced.totals.without_discount, view.priced.totals.discount) == (0, 0)
    assert (view.priced.lines, view.priced.cart_promotions) == ((), ())
    assert row_counts(db) == before


def test_lines_and_a_code_are_priced_when_added_and_when_read_again(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id, amount=500)
    add_codes(db, store_id, promotion.id, "SAVE5")
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500, quantity=2, sku="SHIRT"), shopper=GUEST)

    added = apply_code(db, store_id, "c1", "save5", shopper=GUEST)
    read = get_cart(db, store_id=store_id, cart_id="c1", shopper=GUEST, now=NOW)

    for view in (added, read):
        assert (view.priced.totals.without_discount, view.priced.totals.discount) == (3000, 500)
        assert view.priced.totals.with_tax == 2500
        assert [(code.code, code.promotion_id) for code in view.codes] == [("SAVE5", promotion.id)]
        assert [(d.promotion_id, d.code, d.amount) for d in view.priced.cart_promotions] == [
            (promotion.id, "SAVE5", 500)
        ]
        assert view.cart.currency == "USD"
    assert [item.id for item in read.items] == [item.id for item in added.items]
    assert [message.title for message in added.messages] == ["Promotion Added"]
    # A code that applies gives its attempt back.
    assert set(failed_attempts(db, store_id, "c1").values()) == {0}


def test_a_code_that_gives_the_cart_nothing_is_refused_like_an_unknown_one_and_counts_as_a_failure(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id, min_cart_value=10_000)
    add_codes(db, store_id, promotion.id, "BIGSPEND")
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500), shopper=GUEST)
    before = row_counts(db)

    with pytest.raises(CodeNotApplicable) as refused:
        apply_code(db, store_id, "c1", "bigspend", shopper=GUEST)
    with pytest.raises(CodeNotApplicable) as unknown:
        apply_code(db, store_id, "c1", "no-such-code", shopper=GUEST)

    assert refused.value.code == unknown.value.code
    assert refused.value.detail == unknown.value.detail
    view = get_cart(db, store_id=store_id, cart_id="c1", shopper=GUEST, now=NOW)
    assert (view.codes, view.priced.totals.discount) == ([], 0)
    assert failed_attempts(db, store_id, "c1") == {"cart:c1": 2, f"address:{GUEST.client}": 2, "store": 2}
    # Nothing else was written: three new counters (cart, address, store) are the refusals' only trace.
    assert row_counts(db) == {**before, "attempt_counters": before["attempt_counters"] + 3}


def test_removing_the_code_or_its_promotion_line_takes_the_discount_off(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "SAVE5")
    fill_cart(db, store_id, "c1", custom_line("Shirt", 1500), shopper=GUEST)
    applied = apply_code(db, store_id, "c1", "SAVE5", shopper=GUEST)

    remove_code(db, store_id=store_id, cart_id="c1", code="save5", shopper=GUEST, now=NOW)
    removed = get_cart(db, store_id=store_id, cart_id="c1", shopper=GUEST, now=NOW)
    apply_code(db, store_id, "c1", "SAVE5", shopper=GUEST)
    by_line = remove_line(
        db,
        store_id=store_id,
        cart_id="c1",
        item_id=applied.promotion_line_id(promotion.id),
        shopper=GUEST,
        now=NOW,
    )

    for view in (removed, by_line):
        assert (view.codes, view.priced.totals.discount) == ([], 0)
        assert [item.name for item in view.items] == ["Shirt"]


def test_a_customers_cart_is_opened_only_by_them_or_the_shops_back_end(db: Database, store_id: str) -> None:
    fill_cart(db, store_id, "anns", custom_line("Shirt", 1500), shopper=ANN)
    fill_cart(db, store_id, "guests", custom_line("Shirt", 1500), shopper=GUEST)

    for stranger in (BOB, GUEST):
        with pytest.raises(Forbidden):
            get_cart(db, store_id=store_id, cart_id="anns", shopper=stranger, now=NOW)
        with pytest.raises(Forbidden):
            fill_cart(db, store_id, "anns", custom_line("Sock", 500), shopper=stranger)

    assert get_cart(db, store_id=store_id, cart_id="anns", shopper=SHOP, now=NOW).cart.customer_id == "ann"
    views, total = list_carts(
        db, store_id=store_id, page=Page(limit=10, offset=0), customer_id="ann", shopper=ANN, now=NOW
    )
    assert ([view.cart.id for view in views], total) == (["anns"], 1)
    assert [item.name for item in views[0].items] == ["Shirt"]
    assert views[0].priced.totals.without_discount == 1500
