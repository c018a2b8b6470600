"""ProductRepository: SKUs compared and ordered byte for byte on both backends, products replaced in one
upsert that keeps their creation time, and looked up by many ids or SKUs at once."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from promoforge.domain.products import Product, ProductPrice, ProductStatus, StoredSku
from promoforge.domain.queries import Page
from promoforge.storage.repositories import Database
from seeds import NOW, new_product, new_store


def test_skus_are_listed_in_byte_order_and_compared_exactly(db: Database, store_id: str) -> None:
    for sku in ["b-shoe", "B-Shoe", "a-shoe", "Z-shoe", "_shoe", "é-shoe"]:
        new_product(db, store_id, sku, 100)
    new_product(db, new_store(db, "other"), "A-shoe", 100)

    with db.read() as tx:
        products = tx.store(store_id).products
        listed, total = products.list_page(Page(limit=10, offset=0))
        upper = products.by_sku("B-Shoe")
        assert products.by_sku("b-SHOE") is None
        assert products.by_sku("A-shoe") is None

    assert ([product.sku for product in listed], total) == (
        ["B-Shoe", "Z-shoe", "_shoe", "a-shoe", "b-shoe", "é-shoe"],
        6,
    )
    assert upper is not None and upper.sku == "B-Shoe"


def test_a_product_is_replaced_whole_and_keeps_its_creation_time(db: Database, store_id: str) -> None:
    first = new_product(db, store_id, "SHOE", 8999, catalog_id="catalog-1", node_ids=("n1",))
    later = NOW + timedelta(hours=1)
    changed = replace(
        first,
        sku="SHOE-2",
        status=ProductStatus.DRAFT,
        prices={"EUR": ProductPrice(amount=7999, includes_tax=True)},
        catalog_id=None,
        node_ids=(),
        attributes={"products(shoes)": {"size": 41}},
        created_at=later,
        updated_at=later,
    )

    with db.write() as tx:
        stored = tx.store(store_id).products.upsert(changed)
    with db.read() as tx:
        read_back = tx.store(store_id).products.get(first.id)

    assert stored == read_back == replace(changed, created_at=NOW)


def test_products_are_found_by_many_ids_or_skus_in_the_store(db: Database, store_id: str) -> None:
    shoe = new_product(db, store_id, "SHOE", 8999)
    sock = new_product(db, store_id, "SOCK", 500)
    other = new_store(db, "other")
    theirs = new_product(db, other, "HAT", 2000)

    with db.read() as tx:
        products = tx.store(store_id).products
        many = products.many([shoe.id, sock.id, theirs.id, "4f1c5c2e-0000-4000-8000-000000000000"])
        stored = products.stored_skus(ids=[shoe.id, theirs.id], skus=["SOCK", "sock", "HAT"])

    assert sorted(product.sku for product in many) == ["SHOE", "SOCK"]
    assert sorted(stored, key=lambda found: found.sku) == [
        StoredSku(shoe.id, "SHOE"),
        StoredSku(sock.id, "SOCK"),
    ]


def test_a_released_sku_is_free_for_another_product(db: Database, store_id: str) -> None:
    shoe = new_product(db, store_id, "SHOE", 8999)
    with db.write() as tx:
        products = tx.store(store_id).products
        products.release_skus([shoe.id])
        boot = products.upsert(
            Product(
                id="7d444840-9dc0-41cc-9d4b-5a9a7f6d2c10",
                store_id=store_id,
                sku="SHOE",
                name="Boot",
                description="",
                slug="",
                status=ProductStatus.LIVE,
                prices={"USD": ProductPrice(amount=12000)},
                created_at=NOW,
                updated_at=NOW,
            )
        )
    with db.read() as tx:
        assert tx.store(store_id).products.by_sku("SHOE") == boot
        released = tx.store(store_id).products.get(shoe.id)
    assert released is not None and released.sku != "SHOE"
