"""CartRepository: the list of a store's carts (latest change first, a page at a time, by customer or
account), carts added once, one code per promotion, and the purge of carts nobody changed."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from promoforge.domain.carts import AppliedCode
from promoforge.domain.queries import Page
from promoforge.storage.repositories import Database
from seeds import NOW, add_codes, code_row, custom_line, fill_cart, new_cart, new_promotion, new_store

MINUTE = timedelta(minutes=1)
DAY = timedelta(days=1)


def listed(
    db: Database,
    store_id: str,
    page: Page,
    *,
    customer_id: str | None = None,
    account_id: str | None = None,
) -> tuple[list[str], int]:
    """The ids of a page of the store's carts, and how many match in all."""
    with db.read() as tx:
        found, total = tx.store(store_id).carts.list_page(
            page, customer_id=customer_id, account_id=account_id
        )
    return [cart.id for cart in found], total


def test_carts_are_listed_latest_change_first_then_by_id_a_page_at_a_time(
    db: Database, store_id: str
) -> None:
    new_cart(db, store_id, "a", updated_at=NOW - 3 * MINUTE)
    new_cart(db, store_id, "d", updated_at=NOW)
    new_cart(db, store_id, "c", updated_at=NOW - MINUTE)
    new_cart(db, store_id, "b", updated_at=NOW)
    new_cart(db, new_store(db, "other"), "newest", updated_at=NOW + DAY)

    assert listed(db, store_id, Page(limit=2, offset=0)) == (["b", "d"], 4)
    assert listed(db, store_id, Page(limit=2, offset=2)) == (["c", "a"], 4)
    assert listed(db, store_id, Page(limit=2, offset=4)) == ([], 4)


def test_carts_are_listed_for_one_customer_or_one_account(db: Database, store_id: str) -> None:
    new_cart(db, store_id, "anonymous", updated_at=NOW)
    new_cart(db, store_id, "ann-old", customer_id="ann", updated_at=NOW - MINUTE)
    new_cart(db, store_id, "ann-new", customer_id="ann", updated_at=NOW)
    new_cart(db, store_id, "bob", customer_id="bob", updated_at=NOW)
    new_cart(db, store_id, "acme", account_id="acme", updated_at=NOW)
    new_cart(db, new_store(db, "other"), "ann-elsewhere", customer_id="ann", updated_at=NOW)

    assert listed(db, store_id, Page(limit=10, offset=0), customer_id="ann") == (["ann-new", "ann-old"], 2)
    assert listed(db, store_id, Page(limit=1, offset=1), customer_id="ann") == (["ann-old"], 2)
    assert listed(db, store_id, Page(limit=10, offset=0), account_id="acme") == (["acme"], 1)
    assert listed(db, store_id, Page(limit=10, offset=0), customer_id="nobody") == ([], 0)


def test_a_cart_id_is_added_once_per_store_and_the_first_cart_stays(db: Database, store_id: str) -> None:
    first = new_cart(db, store_id, "c1", name="First")
    other = new_store(db, "other")
    with db.write() as tx:
        assert not tx.store(store_id).carts.add(replace(first, name="Second"))
        assert tx.store(other).carts.add(replace(first, store_id=other))
    with db.read() as tx:
        assert tx.store(store_id).carts.get("c1") == first


def test_a_code_of_a_promotion_with_a_code_on_the_cart_takes_its_place(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "SAVE5", "ALT5")
    save5, alt5 = code_row(db, store_id, "save5"), code_row(db, store_id, "alt5")
    new_cart(db, store_id, "c1")
    with db.write() as tx:
        tx.store(store_id).carts.apply_code("c1", AppliedCode(promotion.id, save5.id, save5.code, NOW))
    with db.write() as tx:
        tx.store(store_id).carts.apply_code("c1", AppliedCode(promotion.id, alt5.id, alt5.code, NOW + MINUTE))

    with db.read() as tx:
        repos = tx.store(store_id)
        applied = repos.carts.codes("c1")
        offers = repos.pricing.offers(["c1"], None)

    assert applied == [AppliedCode(promotion.id, alt5.id, "ALT5", NOW + MINUTE)]
    # The row the cart reads the code with is the new code's too.
    assert offers.rows == {alt5.id: alt5}


def test_expired_carts_go_oldest_first_a_batch_at_a_time_with_their_lines_and_codes(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id)
    add_codes(db, store_id, promotion.id, "SAVE5")
    fill_cart(db, store_id, "oldest", custom_line("A", 1500), now=NOW - 3 * DAY)
    fill_cart(db, store_id, "old", custom_line("A", 1500), now=NOW - 2 * DAY)
    fill_cart(db, store_id, "fresh", custom_line("A", 1500), now=NOW)
    other = new_store(db, "other")
    new_cart(db, other, "theirs", updated_at=NOW - 3 * DAY)
    save5 = code_row(db, store_id, "save5")
    with db.write() as tx:
        tx.store(store_id).carts.apply_code(
            "oldest", AppliedCode(promotion.id, save5.id, "SAVE5", NOW - 3 * DAY)
        )

    with db.write() as tx:
        assert tx.store(store_id).carts.delete_expired(NOW - DAY, batch=1) == ["oldest"]
    assert listed(db, store_id, Page(limit=10, offset=0))[0] == ["fresh", "old"]
    with db.write() as tx:
        assert tx.store(store_id).carts.delete_expired(NOW - DAY, batch=10) == ["old"]
        assert tx.store(store_id).carts.delete_expired(NOW - DAY, batch=10) == []

    assert listed(db, store_id, Page(limit=10, offset=0))[0] == ["fresh"]
    with db.read() as tx:
        repos = tx.store(store_id)
        assert repos.pricing.lines(["oldest", "old", "fresh"])[0].keys() == {"fresh"}
        assert repos.carts.codes_of(["oldest"]) == {}
        assert tx.store(other).carts.get("theirs") is not None
