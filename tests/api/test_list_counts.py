"""Listing one promotion's codes costs the same however many codes other promotions of the store hold."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from promoforge.bootstrap import Container
from promoforge.domain.codes import generate_random_parts
from promoforge.domain.identifiers import new_ids
from support import StoreClient


@contextmanager
def sqlite_steps(container: Container) -> Iterator[list[int]]:
    """Count the SQLite virtual machine's steps (in hundreds) that statements run meanwhile take."""
    steps = [0]

    def count() -> int:
        steps[0] += 1
        return 0

    def on_checkout(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_progress_handler(count, 100)

    def on_checkin(dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.set_progress_handler(None, 100)

    event.listen(container.db.engine, "checkout", on_checkout)
    event.listen(container.db.engine, "checkin", on_checkin)
    try:
        yield steps
    finally:
        event.remove(container.db.engine, "checkout", on_checkout)
        event.remove(container.db.engine, "checkin", on_checkin)


def add_random_codes(container: Container, store_id: str, promotion_id: str, count: int) -> None:
    with container.db.write() as tx:
        numbers = tx.store(store_id).promotions.take_code_numbers(promotion_id, count)
        assert numbers is not None
        tx.store(store_id).codes.add_random(
            promotion_ref=numbers[0],
            first_number=numbers[1],
            job_id=new_ids(1)[0],
            prefix="",
            key_prefix="",
            bodies=generate_random_parts(count, 12).codes(),
            max_uses=None,
            consume_unit="per_cart",
            created_at=container.clock(),
        )


def listing_steps(container: Container, shop: StoreClient, promotion_id: str) -> int:
    with sqlite_steps(container) as steps:
        for params in ({}, {"filter": "eq(code,SMALL1)"}, {"page[offset]": "1", "page[limit]": "1"}):
            response = shop.get(f"/v2/promotions/{promotion_id}/codes", params=params)
            assert response.status_code == 200
            assert response.json()["meta"]["results"]["total"] in (1, 2)
        assert shop.get(f"/v2/promotions/{promotion_id}/jobs").status_code == 200
        assert shop.get("/v2/promotions").status_code == 200
    return steps[0]


def test_listing_a_small_promotion_does_not_walk_other_promotions_codes(
    container: Container, shop: StoreClient, database_url: str
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("counts SQLite's virtual machine steps")
    small = shop.create_promotion()
    assert shop.add_codes(small["id"], "SMALL1", "SMALL2").status_code == 201
    big = shop.create_promotion()
    before = listing_steps(container, shop, small["id"])
    add_random_codes(container, shop.store_id, big["id"], 50_000)
    after = listing_steps(container, shop, small["id"])
    # Scanning the store's 50,000 other codes would take several hundred thousand steps.
    assert after <= before * 1.5 + 20, (before, after)


def first_page_and_filter_steps(container: Container, shop: StoreClient, promotion_id: str, code: str) -> int:
    with sqlite_steps(container) as steps:
        for params in ({"page[limit]": "10"}, {"filter": f"eq(code,{code})"}):
            response = shop.get(f"/v2/promotions/{promotion_id}/codes", params=params)
            assert response.status_code == 200
            assert response.json()["data"]
    return steps[0]


def test_a_large_promotion_lists_its_first_page_and_filters_without_walking_its_codes(
    container: Container, shop: StoreClient, database_url: str
) -> None:
    """The total comes from the promotion's counter and a filter from the store's code index."""
    if not database_url.startswith("sqlite"):
        pytest.skip("counts SQLite's virtual machine steps")
    small = shop.create_promotion()
    assert shop.add_codes(small["id"], "SMALL1", "SMALL2").status_code == 201
    big = shop.create_promotion()
    assert shop.add_codes(big["id"], "BIG1").status_code == 201
    add_random_codes(container, shop.store_id, big["id"], 50_000)
    before = first_page_and_filter_steps(container, shop, small["id"], "SMALL1")
    after = first_page_and_filter_steps(container, shop, big["id"], "BIG1")
    # Counting or scanning 50,001 codes would take several hundred thousand steps.
    assert after <= before * 1.5 + 20, (before, after)
