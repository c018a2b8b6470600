"""Amounts stay within MAX_AMOUNT: lines that would cross it are refused, and nothing can make a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from checkout_support import GUEST, checkout, custom_item, fill
from promoforge.bootstrap import Container
from promoforge.domain.carts import CartItem
from promoforge.domain.identifiers import new_id
from promoforge.domain.money import MAX_AMOUNT
from promoforge.domain.pricing import LineKind
from support import StoreClient

LARGEST_INT64 = 2**63 - 1


def add(shop: StoreClient, cart_id: str, *entries: dict[str, object]) -> object:
    data = list(entries) if len(entries) > 1 else entries[0]
    return shop.post(f"/v2/carts/{cart_id}/items", json={"data": data})


def lines(shop: StoreClient, cart_id: str) -> list[tuple[str, int]]:
    data = shop.get(f"/v2/carts/{cart_id}/items").json()["data"]
    return [(line["sku"], line["quantity"]) for line in data]


def assert_amount_refused(response: object) -> None:
    assert response.status_code == 400, response.text  # type: ignore[attr-defined]
    error = response.json()["errors"][0]  # type: ignore[attr-defined]
    assert error["source"] == "data.quantity"
    assert str(MAX_AMOUNT) in error["detail"]


def test_a_line_worth_more_than_the_bound_is_refused_and_nothing_is_written(shop: StoreClient) -> None:
    response = add(shop, "c1", custom_item("big", MAX_AMOUNT, 1025))

    assert_amount_refused(response)
    assert lines(shop, "c1") == []


def test_a_line_that_would_push_the_cart_total_past_the_bound_is_refused(shop: StoreClient) -> None:
    assert add(shop, "c1", custom_item("a", MAX_AMOUNT - 10)).status_code == 201  # type: ignore[attr-defined]

    assert_amount_refused(add(shop, "c1", custom_item("b", 11)))
    assert_amount_refused(add(shop, "c1", custom_item("a", MAX_AMOUNT - 10)))  # merged: quantity 2
    assert add(shop, "c1", custom_item("c", 10)).status_code == 201  # type: ignore[attr-defined]
    assert lines(shop, "c1") == [("a", 1), ("c", 1)]
    totals = shop.get("/v2/carts/c1").json()["data"]["meta"]["display_price"]
    assert totals["with_tax"]["amount"] == MAX_AMOUNT


def test_raising_a_quantity_past_the_bound_is_refused(shop: StoreClient) -> None:
    fill(shop, "c1", custom_item("a", 2**52))
    line = shop.get("/v2/carts/c1/items").json()["data"][0]

    one = shop.put(f"/v2/carts/c1/items/{line['id']}", json={"data": {"quantity": 2}})
    bulk = shop.put("/v2/carts/c1/items", json={"data": [{"id": line["id"], "quantity": 3}]})

    assert_amount_refused(one)
    assert_amount_refused(bulk)
    assert lines(shop, "c1") == [("a", 1)]


def test_a_bulk_add_refuses_only_the_line_that_crosses_the_bound(shop: StoreClient) -> None:
    response = add(shop, "c1", custom_item("small", 100), custom_item("big", MAX_AMOUNT, 2))

    assert response.status_code == 201, response.text  # type: ignore[attr-defined]
    assert [e["source"] for e in response.json()["errors"]] == ["data.quantity"]  # type: ignore[attr-defined]
    assert lines(shop, "c1") == [("small", 1)]


def test_a_product_line_is_bounded_like_a_custom_one(shop: StoreClient) -> None:
    product = {
        "data": {
            "type": "product",
            "attributes": {
                "sku": "GOLD",
                "name": "Gold bar",
                "status": "live",
                "price": {"USD": {"amount": MAX_AMOUNT, "includes_tax": False}},
            },
        }
    }
    response = shop.put(f"/v2/promoforge/products/{new_id()}", json=product)
    assert response.status_code in (200, 201), response.text

    assert_amount_refused(add(shop, "c1", {"type": "cart_item", "sku": "GOLD", "quantity": 2}))
    assert add(shop, "c1", {"type": "cart_item", "sku": "GOLD"}).status_code == 201  # type: ignore[attr-defined]
    assert_amount_refused(add(shop, "c1", {"type": "cart_item", "sku": "GOLD"}))


@pytest.mark.both_backends
def test_checking_out_a_cart_stored_past_the_bound_is_refused_not_a_500(
    container: Container, shop: StoreClient
) -> None:
    fill(shop, "c1", custom_item("a", 100))
    now = datetime.now(UTC)
    # A cart written before lines were bounded: 1025 units at 2**53 - 1 overflow a 64-bit total.
    with container.db.write() as tx:
        tx.store(shop.store_id).carts.add_item(
            "c1",
            CartItem(
                id=new_id(),
                kind=LineKind.CUSTOM,
                sku="legacy",
                name="Legacy",
                description="",
                unit_price=MAX_AMOUNT,
                includes_tax=True,
                quantity=1025,
                created_at=now,
                updated_at=now,
            ),
        )

    response = checkout(shop, "c1", GUEST)

    assert response.status_code == 400, response.text
    assert "largest amount" in response.json()["errors"][0]["detail"]
    assert shop.get("/v2/orders").json()["data"] == []


@pytest.mark.parametrize(
    "value",
    [str(LARGEST_INT64 + 1), f"-{LARGEST_INT64 + 1}", "1" * 40, "1_000", "\u0661\u0660\u0660", "+5", "1e3"],
)
def test_amount_filters_out_of_range_or_not_plain_digits_are_400(shop: StoreClient, value: str) -> None:
    response = shop.get("/v2/orders", params={"filter": f"gt(with_tax,{value})"})

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == "filter"


@pytest.mark.both_backends
def test_amount_filters_at_the_ends_of_the_range_answer(shop: StoreClient) -> None:
    fill(shop, "c1", custom_item("a", 100))
    assert checkout(shop, "c1", GUEST).status_code == 201

    def found(filter_: str) -> int:
        response = shop.get("/v2/orders", params={"filter": filter_})
        assert response.status_code == 200, response.text
        return len(response.json()["data"])

    assert found(f"gt(with_tax,{LARGEST_INT64})") == 0
    assert found(f"gt(with_tax,-{LARGEST_INT64})") == 1
    assert found(f"lt(without_tax,{LARGEST_INT64})") == 1
