"""Carts under attack and at the edges of the contract (carts.md §3-§5, §11, §12)."""

from __future__ import annotations

from typing import Any

import pytest

from api.test_carts import CUSTOMER_SECRET, add, apply, custom_item, promotion_with_code
from promoforge.bootstrap import Container
from support import StoreClient


def raw_post(shop: StoreClient, path: str, body: str) -> Any:
    """POST a body exactly as written (for JSON Python would not produce)."""
    return shop.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.both_backends
def test_a_bulk_request_cannot_try_more_codes_than_the_limit(container: Container, shop: StoreClient) -> None:
    moment = container.clock().replace(second=0, microsecond=0)
    container.clock = lambda: moment
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, code_attempts_per_cart=2, code_attempts_per_address=3)
    promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("A", 1500))
    guesses = [{"type": "promotion_item", "code": f"guess{i}"} for i in range(50)]

    response = add(shop, "c1", *guesses, {"type": "promotion_item", "code": "5off"})

    # Past the second failure no code may be looked up: the real code at the end must not be found.
    assert response.status_code in (201, 429), response.text
    if response.status_code == 201:
        assert response.json()["meta"]["display_price"]["discount"]["amount"] == 0
        statuses = [error["status"] for error in response.json()["errors"]]
        assert statuses.count(404) <= 3
        assert 429 in statuses


def test_replacing_the_code_of_an_applied_promotion_says_so(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "FIRST")
    shop.add_codes(promotion["id"], "SECOND")
    add(shop, "c1", custom_item("A", 1500))
    assert apply(shop, "c1", "FIRST").status_code == 201

    replaced = apply(shop, "c1", "SECOND")

    assert replaced.status_code == 201
    promotion_line = replaced.json()["data"][-1]
    assert promotion_line["sku"] == "SECOND"
    titles = [message["title"] for message in replaced.json()["meta"].get("messages", [])]
    assert titles == ["Deleted Promotion", "Promotion Added"]


def test_a_code_dropped_at_a_change_because_its_promotion_stopped_is_announced(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("A", 1500))
    line_id = apply(shop, "c1", "5off").json()["data"][-1]["id"]
    shop.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "enabled": False}})

    changed = add(shop, "c1", custom_item("B", 100))

    assert changed.status_code == 201
    assert {
        "source": {"type": "promotion_item", "id": line_id},
        "title": "Deleted Promotion",
        "description": "Promotion has been removed from cart.",
    } in changed.json()["meta"].get("messages", [])


@pytest.mark.both_backends
@pytest.mark.parametrize(
    ("path", "body", "read"),
    [
        (
            "/v2/carts",
            '{"data":{"id":"c1","custom_attributes":{"a":{"type":"float","value":1e999}}}}',
            "/v2/carts/c1",
        ),
        (
            "/v2/carts/c1/items",
            '{"data":{"type":"custom_item","name":"x","quantity":1,"price":{"amount":1},'
            '"custom_inputs":{"k":1e999}}}',
            "/v2/carts/c1/items",
        ),
    ],
    ids=["custom_attributes", "custom_inputs"],
)
def test_an_out_of_range_number_is_400_and_leaves_the_cart_readable(
    request: pytest.FixtureRequest, database_url: str, shop: StoreClient, path: str, body: str, read: str
) -> None:
    response = raw_post(shop, path, body)
    assert response.status_code == 400, response.text
    assert shop.get(read).status_code == 200


def test_a_snapshot_date_past_year_9999_in_utc_is_400(shop: StoreClient) -> None:
    response = shop.post(
        "/v2/carts", json={"data": {"id": "p1", "snapshot_date": "9999-12-31T23:59:59-12:00"}}
    )
    assert response.status_code == 400, response.text


def test_merging_cannot_grow_a_line_past_the_quantity_limit(shop: StoreClient) -> None:
    entry = custom_item("Gift wrap", 500, quantity=1_000_000, sku="gift-wrap")
    assert add(shop, "c1", entry).status_code == 201

    again = add(shop, "c1", entry)

    assert again.status_code == 400, again.text
    assert shop.get("/v2/carts/c1/items").json()["data"][0]["quantity"] == 1_000_000


def account_token(account_id: str, member_id: str) -> str:
    """An account management token: an HS256 JWT naming the account and the member."""
    import time

    import jwt

    claims = {"sub": member_id, "account_id": account_id, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, CUSTOMER_SECRET, algorithm="HS256")


def test_a_cart_created_with_an_account_token_belongs_to_the_account(
    container: Container, shop: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=CUSTOMER_SECRET)
    headers = {"EP-Account-Management-Authentication-Token": account_token("account-1", "member-1")}

    created = shop.post("/v2/carts", json={"data": {"name": "Team cart"}}, headers=headers)

    assert created.status_code == 201, created.text
    assert created.json()["data"]["relationships"]["accounts"] == {
        "data": [{"type": "account", "id": "account-1"}]
    }
