"""PricingInputRepository: a cart with its store, the lines with their products' facts, and the applied
codes beside the running automatic promotions (one UNION ALL), as each backend reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from promoforge.domain.carts import AppliedCode
from promoforge.domain.pricing import LineKind, ProductFacts
from promoforge.domain.promotions import Promotion
from promoforge.services.carts import NewProductLine
from promoforge.services.codes import delete_code
from promoforge.services.promotions import delete_promotion
from promoforge.storage.repositories import Database
from promoforge.storage.schema import promotion_codes
from seeds import (
    NOW,
    add_codes,
    code_row,
    custom_line,
    fill_cart,
    generate_codes,
    new_cart,
    new_product,
    new_promotion,
    new_store,
)

HOUR = timedelta(hours=1)


def apply(db: Database, store_id: str, cart_id: str, promotion: Promotion, text: str, at: datetime) -> None:
    """Attach a code to a stored cart through the cart repository, as applied at `at`."""
    row = code_row(db, store_id, text)
    with db.write() as tx:
        tx.store(store_id).carts.apply_code(cart_id, AppliedCode(promotion.id, row.id, row.code, at))


# The cart and its store


def test_an_unstored_cart_reads_as_none_beside_its_store_and_its_settings(
    db: Database, store_id: str
) -> None:
    with db.write() as tx:
        tx.stores.update(store_id, default_currency="EUR", code_attempts_per_cart=4, cart_expiry_days=3)
    with db.read() as tx:
        cart, store = tx.store(store_id).pricing.cart("never-written")
        assert tx.store("7c9e6679-7425-40de-944b-e07fc1f90ae7").pricing.cart("c1") == (None, None)
    assert cart is None
    assert store is not None
    assert (store.id, store.default_currency, store.code_attempts_per_cart, store.cart_expiry_days) == (
        store_id,
        "EUR",
        4,
        3,
    )


def test_a_stored_cart_is_read_back_field_for_field_and_only_in_its_own_store(
    db: Database, store_id: str
) -> None:
    other = new_store(db, "other")
    written = new_cart(
        db,
        store_id,
        "c1",
        name="Gifts",
        currency="USD",
        customer_id="customer-1",
        account_id="account-1",
        snapshot_date=NOW + HOUR,
        custom_attributes={"pos": {"type": "string", "value": "till 4"}},
    )
    with db.read() as tx:
        cart, store = tx.store(store_id).pricing.cart("c1")
        elsewhere, other_store = tx.store(other).pricing.cart("c1")
    assert cart == written
    assert store is not None and store.id == store_id
    assert elsewhere is None
    assert other_store is not None and other_store.id == other


def test_a_locked_cart_is_none_until_stored_in_the_store(db: Database, store_id: str) -> None:
    other = new_store(db, "other")
    new_cart(db, other, "c1")
    with db.write() as tx:
        assert tx.store(store_id).pricing.locked_cart("c1") is None
    written = new_cart(db, store_id, "c1", currency="USD")
    with db.write() as tx:
        locked = tx.store(store_id).pricing.locked_cart("c1")
    assert locked is not None
    assert locked[0] == written
    assert locked[1].id == store_id


# Lines


def test_lines_come_each_carts_oldest_first_with_their_products_facts(db: Database, store_id: str) -> None:
    shoe = new_product(
        db,
        store_id,
        "SHOE",
        8999,
        catalog_id="catalog-1",
        node_ids=("node-1", "hierarchy-1"),
        attributes={"products(shoes)": {"size": 42}},
    )
    sock = new_product(db, store_id, "SOCK", 500)
    fill_cart(
        db,
        store_id,
        "c1",
        NewProductLine(quantity=2, product_id=shoe.id),
        custom_line("Engraving", 1500, sku="ENGRAVE"),
        NewProductLine(quantity=1, sku="SOCK"),
    )
    fill_cart(db, store_id, "c1", custom_line("Wrapping", 300, sku="WRAP"), now=NOW + timedelta(seconds=1))
    fill_cart(db, store_id, "c2", NewProductLine(quantity=3, product_id=sock.id))
    new_cart(db, store_id, "empty")

    with db.read() as tx:
        lines, facts = tx.store(store_id).pricing.lines(["c1", "c2", "empty", "missing"])

    assert [line.sku for line in lines["c1"]] == ["SHOE", "ENGRAVE", "SOCK", "WRAP"]
    assert [(line.sku, line.quantity) for line in lines["c2"]] == [("SOCK", 3)]
    assert set(lines) == {"c1", "c2"}
    first = lines["c1"][0]
    assert (first.kind, first.product_id, first.unit_price, first.quantity, first.catalog_id) == (
        LineKind.PRODUCT,
        shoe.id,
        8999,
        2,
        "catalog-1",
    )
    assert lines["c1"][1].kind is LineKind.CUSTOM and lines["c1"][1].product_id is None
    assert facts == {
        shoe.id: ProductFacts(
            shoe.id, "catalog-1", frozenset({"node-1", "hierarchy-1"}), {"products(shoes)": {"size": 42}}
        ),
        sock.id: ProductFacts(sock.id, None, frozenset(), {}),
    }


def test_a_line_whose_product_is_gone_stays_without_facts(db: Database, store_id: str) -> None:
    shoe = new_product(db, store_id, "SHOE", 8999)
    fill_cart(db, store_id, "c1", NewProductLine(quantity=1, product_id=shoe.id))
    with db.write() as tx:
        assert tx.store(store_id).products.delete(shoe.id)
    with db.read() as tx:
        lines, facts = tx.store(store_id).pricing.lines(["c1"])
        assert tx.store(store_id).pricing.lines([]) == ({}, {})
    assert [(line.sku, line.product_id) for line in lines["c1"]] == [("SHOE", shoe.id)]
    assert facts == {}


# Codes and automatic promotions


@dataclass(frozen=True)
class Offered:
    """A store's promotions of every kind pricing may or may not be offered."""

    coded: Promotion
    second: Promotion
    running: Promotion
    disabled: Promotion
    ended: Promotion
    upcoming: Promotion
    deleted: Promotion
    elsewhere: Promotion


@pytest.fixture
def offered(db: Database, store_id: str) -> Offered:
    """Code promotions (SAVE5 and ALT5, THREE) and automatic ones: running, disabled, ended half an hour ago,
    starting in an hour, deleted, and one of another store."""
    coded = new_promotion(db, store_id, name="coded")
    add_codes(db, store_id, coded.id, "SAVE5", "ALT5", max_uses=3)
    second = new_promotion(db, store_id, name="second", amount=300)
    add_codes(db, store_id, second.id, "THREE")
    deleted = new_promotion(db, store_id, automatic=True, name="deleted")
    delete_promotion(db, store_id=store_id, promotion_id=deleted.id, now=NOW)
    return Offered(
        coded=coded,
        second=second,
        running=new_promotion(db, store_id, automatic=True, name="running"),
        disabled=new_promotion(db, store_id, automatic=True, enabled=False, name="disabled"),
        ended=new_promotion(db, store_id, automatic=True, end=NOW - HOUR / 2, name="ended"),
        upcoming=new_promotion(db, store_id, automatic=True, start=NOW + HOUR, name="upcoming"),
        deleted=deleted,
        elsewhere=new_promotion(db, new_store(db, "other"), automatic=True, name="elsewhere"),
    )


def automatic_between(db: Database, store_id: str, earliest: datetime, latest: datetime) -> set[str]:
    """The names of the automatic promotions offered for pricing times from `earliest` to `latest`."""
    with db.read() as tx:
        offers = tx.store(store_id).pricing.offers([], (earliest, latest))
    return {promotion.attributes.name for promotion in offers.automatic}


def test_only_enabled_automatic_promotions_of_the_store_running_then_are_offered(
    db: Database, store_id: str, offered: Offered
) -> None:
    assert automatic_between(db, store_id, NOW, NOW) == {"running"}
    # Any moment of the span counts: the caller checks each pricing time against the window.
    assert automatic_between(db, store_id, NOW - HOUR, NOW + HOUR) == {"running", "ended", "upcoming"}
    # A window's start is inside it and its end is not.
    assert automatic_between(db, store_id, NOW + HOUR, NOW + HOUR) == {"running", "upcoming"}
    assert automatic_between(db, store_id, NOW - HOUR / 2, NOW - HOUR / 2) == {"running"}


def test_applied_codes_come_in_the_order_applied_with_their_rows_and_promotions(
    db: Database, store_id: str, offered: Offered
) -> None:
    new_cart(db, store_id, "c1")
    new_cart(db, store_id, "c2")
    # Written in the other order: the order is the application times', then the promotions' ids.
    apply(db, store_id, "c1", offered.second, "THREE", NOW)
    apply(db, store_id, "c1", offered.coded, "SAVE5", NOW - timedelta(minutes=1))
    apply(db, store_id, "c2", offered.second, "THREE", NOW)
    apply(db, store_id, "c2", offered.coded, "ALT5", NOW)

    with db.read() as tx:
        offers = tx.store(store_id).pricing.offers(["c1", "c2", "no-codes"], (NOW, NOW))

    assert [code.code for code in offers.applied["c1"]] == ["SAVE5", "THREE"]
    by_promotion = {offered.coded.id: "ALT5", offered.second.id: "THREE"}
    assert [code.code for code in offers.applied["c2"]] == [by_promotion[pid] for pid in sorted(by_promotion)]
    assert set(offers.applied) == {"c1", "c2"}
    assert offers.applied["c1"][0] == AppliedCode(
        offered.coded.id, code_row(db, store_id, "SAVE5").id, "SAVE5", NOW - timedelta(minutes=1)
    )
    assert offers.rows == {
        row.id: row for row in (code_row(db, store_id, text) for text in ("SAVE5", "ALT5", "THREE"))
    }
    assert offers.rows[code_row(db, store_id, "SAVE5").id].uses == 3
    assert {pid: p.attributes for pid, p in offers.promotions.items()} == {
        offered.coded.id: offered.coded.attributes,
        offered.second.id: offered.second.attributes,
    }
    assert [promotion.id for promotion in offers.automatic] == [offered.running.id]


def test_codes_alone_or_automatic_promotions_alone_are_read_when_asked(
    db: Database, store_id: str, offered: Offered
) -> None:
    new_cart(db, store_id, "c1")
    apply(db, store_id, "c1", offered.coded, "SAVE5", NOW)
    with db.read() as tx:
        pricing = tx.store(store_id).pricing
        codes_only = pricing.offers(["c1"], None)
        automatic_only = pricing.offers([], (NOW, NOW))
        nothing = pricing.offers([], None)

    assert [code.code for code in codes_only.applied["c1"]] == ["SAVE5"]
    assert set(codes_only.promotions) == {offered.coded.id}
    assert codes_only.automatic == []
    assert (automatic_only.applied, automatic_only.rows, automatic_only.promotions) == ({}, {}, {})
    assert [promotion.id for promotion in automatic_only.automatic] == [offered.running.id]
    assert (nothing.applied, nothing.rows, nothing.promotions, nothing.automatic) == ({}, {}, {}, [])


def test_a_deleted_code_or_a_code_of_a_deleted_promotion_stays_applied_without_its_row(
    db: Database, store_id: str, offered: Offered
) -> None:
    gone = new_promotion(db, store_id, name="gone")
    add_codes(db, store_id, gone.id, "GONE")
    new_cart(db, store_id, "c1")
    apply(db, store_id, "c1", offered.coded, "SAVE5", NOW)
    apply(db, store_id, "c1", offered.second, "THREE", NOW + timedelta(seconds=1))
    apply(db, store_id, "c1", gone, "GONE", NOW + timedelta(seconds=2))
    three = code_row(db, store_id, "THREE")
    delete_code(db, store_id=store_id, promotion_id=offered.coded.id, reference="save5", now=NOW)
    delete_promotion(db, store_id=store_id, promotion_id=gone.id, now=NOW)

    with db.read() as tx:
        offers = tx.store(store_id).pricing.offers(["c1"], None)

    assert [code.code for code in offers.applied["c1"]] == ["SAVE5", "THREE", "GONE"]
    assert offers.rows == {three.id: three}
    assert set(offers.promotions) == {offered.coded.id, offered.second.id}


def test_a_generated_code_reads_the_uses_it_leaves_to_its_job(db: Database, store_id: str) -> None:
    promotion = new_promotion(db, store_id)
    job_id, inserted = generate_codes(db, store_id, promotion.id, ["aaaa-aaaa", "bbbb-bbbb"], max_uses=5)
    assert inserted == 2
    with db.read() as tx:
        stored_uses = set(tx.connection.execute(select(promotion_codes.c.uses)).scalars())
    # PostgreSQL leaves a generated code's limits to its job's row (docs/adr/0015); SQLite stores them.
    assert stored_uses == ({None} if db.backend == "postgresql" else {5})
    row = code_row(db, store_id, "GEN-AAAA-AAAA")
    assert (row.code, row.max_uses, row.uses, row.job_id, row.created_at) == (
        "gen-aaaa-aaaa",
        5,
        5,
        job_id,
        NOW,
    )
    new_cart(db, store_id, "c1")
    apply(db, store_id, "c1", promotion, "gen-aaaa-aaaa", NOW)

    with db.read() as tx:
        pricing = tx.store(store_id).pricing
        offers = pricing.offers(["c1"], None)
        found = pricing.code("gen-aaaa-aaaa")

    assert offers.rows == {row.id: row}
    assert found is not None and found[0] == row


def test_a_code_is_found_by_its_exact_key_in_its_own_store_with_its_live_promotion(
    db: Database, store_id: str
) -> None:
    promotion = new_promotion(db, store_id, enabled=False, end=NOW - HOUR)
    add_codes(db, store_id, promotion.id, "Save5", max_uses=2)
    other = new_store(db, "other")
    elsewhere = new_promotion(db, other)
    add_codes(db, other, elsewhere.id, "SAVE5")
    gone = new_promotion(db, store_id)
    add_codes(db, store_id, gone.id, "GONE")
    delete_promotion(db, store_id=store_id, promotion_id=gone.id, now=NOW)

    with db.read() as tx:
        pricing = tx.store(store_id).pricing
        found = pricing.code("save5")
        # Keys are compared exactly: callers fold a code's case before asking.
        assert pricing.code("SAVE5") is None
        assert pricing.code("gone") is None
        assert pricing.code("unknown") is None
        theirs = tx.store(other).pricing.code("save5")

    assert found is not None
    row, owner = found
    assert row == code_row(db, store_id, "save5")
    assert (row.code, row.max_uses, row.uses, row.promotion_id) == ("Save5", 2, 2, promotion.id)
    # Disabled and ended, but not deleted: whether it applies is pricing's to say.
    assert owner is not None and owner.id == promotion.id and owner.attributes == promotion.attributes
    assert owner.code_count == 1
    assert theirs is not None and theirs[0].promotion_id == elsewhere.id
