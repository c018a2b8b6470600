"""Merging a cart into another (`cart_items`) and re-ordering (`order_items`) through C9."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from api.test_carts import CUSTOMER_SECRET, add, apply, custom_item, customer_token, put_product
from checkout_support import GUEST, checkout
from promoforge.bootstrap import Container
from support import StoreClient, TestClient


def merge(
    shop: StoreClient, into: str, source: str, *, options: dict[str, Any] | None = None, **kwargs: Any
) -> Any:
    """The SDK's `Cart(into).Merge(source, token, options)`: one object under `data`, and `options`."""
    body = {"data": {"type": "cart_items", "cart_id": source}, "options": options or {}}
    return shop.post(f"/v2/carts/{into}/items", json=body, **kwargs)


def reorder(
    shop: StoreClient, into: str, order_id: str, *, all_or_nothing: bool = False, **kwargs: Any
) -> Any:
    """A re-order as EP's example sends it: one `order_items` object under `data`, and `options`."""
    body = {
        "data": {"type": "order_items", "order_id": order_id},
        "options": {"add_all_or_nothing": all_or_nothing},
    }
    return shop.post(f"/v2/carts/{into}/items", json=body, **kwargs)


def lines(response: Any) -> list[tuple[str, str, int]]:
    """(type, sku, quantity) of every line of a collection answer."""
    return [(line["type"], line["sku"], line["quantity"]) for line in response.json()["data"]]


def storefront(app_client: TestClient, shop: StoreClient, container: Container) -> StoreClient:
    """An implicit-token client of the store, whose customer tokens verify with CUSTOMER_SECRET."""
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=CUSTOMER_SECRET)
    token = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    return replace(shop, headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def as_customer(customer_id: str) -> dict[str, str]:
    return {"X-Moltin-Customer-Token": customer_token(customer_id)}


# Merging carts


@pytest.mark.both_backends
def test_a_merge_adds_the_other_carts_lines_and_codes_and_leaves_it_as_it_was(shop: StoreClient) -> None:
    shoe = put_product(shop, "shoe", 8999)
    put_product(shop, "socks", 1299)
    save5 = shop.create_promotion(name="Five off")
    shop.add_codes(save5["id"], "SAVE5")
    add(
        shop,
        "guest",
        {"type": "cart_item", "id": shoe, "quantity": 1},
        custom_item("Gift wrap", 500, sku="wrap"),
        {"type": "cart_item", "id": shoe, "quantity": 1, "custom_inputs": {"engraving": "Ann"}},
    )
    assert apply(shop, "guest", "save5").status_code == 201
    add(shop, "mine", {"type": "cart_item", "id": shoe, "quantity": 2}, {"type": "cart_item", "sku": "socks"})
    guest_before = shop.get("/v2/carts/guest/items").json()

    merged = merge(shop, "mine", "guest")

    assert merged.status_code == 201, merged.text
    assert "errors" not in merged.json()
    assert lines(merged) == [
        ("cart_item", "shoe", 3),
        ("cart_item", "socks", 1),
        ("custom_item", "wrap", 1),
        ("cart_item", "shoe", 1),
        ("promotion_item", "SAVE5", 1),
    ]
    assert merged.json()["data"][3]["custom_inputs"] == {"engraving": "Ann"}
    totals = merged.json()["meta"]["display_price"]
    assert (totals["without_discount"]["amount"], totals["discount"]["amount"]) == (
        4 * 8999 + 1299 + 500,
        -500,
    )
    assert [m["title"] for m in merged.json()["meta"]["messages"]] == ["Promotion Added"]
    guest_after = shop.get("/v2/carts/guest/items").json()
    assert guest_after["data"] == guest_before["data"]


def test_a_merge_takes_only_the_codes_that_still_discount_and_keeps_the_carts_own(shop: StoreClient) -> None:
    five = shop.create_promotion(name="Five off")
    shop.add_codes(five["id"], "FIVE-A", "FIVE-B")
    gone = shop.create_promotion(name="Gone")
    shop.add_codes(gone["id"], "GONE")
    add(shop, "guest", custom_item("Mug", 1500, sku="mug"))
    assert apply(shop, "guest", "five-b").status_code == 201
    assert apply(shop, "guest", "gone").status_code == 201
    add(shop, "mine", custom_item("Cup", 1000, sku="cup"))
    assert apply(shop, "mine", "five-a").status_code == 201
    # Disabled since it was applied: the guest cart still holds the code, but it gives nothing now.
    assert (
        shop.put(
            f"/v2/promotions/{gone['id']}", json={"data": {"type": "promotion", "enabled": False}}
        ).status_code
        == 200
    )

    merged = merge(shop, "mine", "guest", options={"add_all_or_nothing": True})

    assert merged.status_code == 201, merged.text
    assert [line["sku"] for line in merged.json()["data"] if line["type"] == "promotion_item"] == ["FIVE-A"]
    assert merged.json()["meta"]["display_price"]["with_tax"]["amount"] == 1000 + 1500 - 500
    assert "messages" not in merged.json()["meta"]  # nothing was added, so nothing had to be taken back


@pytest.mark.both_backends
def test_lines_that_cannot_be_merged_are_listed_unless_all_or_nothing(
    container: Container, shop: StoreClient
) -> None:
    shoe = put_product(shop, "shoe", 8999)
    hat = put_product(shop, "hat", 1999)
    add(shop, "guest", {"type": "cart_item", "id": shoe, "quantity": 1}, {"type": "cart_item", "id": hat})
    add(shop, "mine", custom_item("Cup", 1000, sku="cup"))
    assert shop.delete(f"/v2/promoforge/products/{hat}").status_code == 204
    before = shop.get("/v2/carts/mine/items").json()

    refused = merge(shop, "mine", "guest", options={"add_all_or_nothing": True})
    refused_new = merge(shop, "new-cart", "guest", options={"add_all_or_nothing": True})

    for response in (refused, refused_new):
        assert response.status_code == 404, response.text
        assert response.json()["errors"] == [
            {
                "status": 404,
                "title": "Product not found",
                "code": "product_not_found",
                "detail": "The requested product could not be found",
                "meta": {"id": hat},
            }
        ]
    assert shop.get("/v2/carts/mine/items").json() == before
    assert shop.get("/v2/carts?page[limit]=100").json()["meta"]["results"]["total"] == 2  # no "new-cart"

    partial = merge(shop, "mine", "guest")

    assert partial.status_code == 201, partial.text
    assert lines(partial) == [("custom_item", "cup", 1), ("cart_item", "shoe", 1)]
    assert [(e["status"], e["meta"]) for e in partial.json()["errors"]] == [(404, {"id": hat})]


def test_a_merge_in_a_bulk_array_lists_its_failures_with_the_others(shop: StoreClient) -> None:
    shoe = put_product(shop, "shoe", 8999)
    hat = put_product(shop, "hat", 1999)
    add(shop, "guest", {"type": "cart_item", "id": hat}, {"type": "cart_item", "id": shoe})
    assert shop.delete(f"/v2/promoforge/products/{hat}").status_code == 204
    entries = [
        {"type": "cart_items", "cart_id": "guest"},
        {"type": "cart_item", "sku": "no-such-sku"},
        custom_item("Cup", 1000, sku="cup"),
    ]

    partial = shop.post(
        "/v2/carts/mine/items", json={"data": entries, "options": {"add_all_or_nothing": False}}
    )
    atomic = shop.post(
        "/v2/carts/other/items", json={"data": entries, "options": {"add_all_or_nothing": True}}
    )

    assert partial.status_code == 201, partial.text
    assert lines(partial) == [("cart_item", "shoe", 1), ("custom_item", "cup", 1)]
    assert sorted(str(e["meta"]) for e in partial.json()["errors"]) == sorted(
        [str({"id": hat}), str({"sku": "no-such-sku"})]
    )
    assert atomic.status_code == 404
    assert len(atomic.json()["errors"]) == 2
    assert shop.get("/v2/carts/other/items").json()["data"] == []


@pytest.mark.both_backends
def test_a_merge_prices_products_anew_in_the_carts_currency(shop: StoreClient) -> None:
    both = {"USD": {"amount": 1000, "includes_tax": False}, "EUR": {"amount": 900, "includes_tax": False}}
    mug = put_product(shop, "mug", 1000, price=both)
    euro = {"X-MOLTIN-CURRENCY": "EUR"}
    add(
        shop,
        "euro-guest",
        {"type": "cart_item", "id": mug},
        custom_item("Wrap", 300, sku="wrap"),
        headers=euro,
    )
    add(shop, "dollars", custom_item("Cup", 1000, sku="cup"))

    into_empty = merge(shop, "empty", "euro-guest")
    into_dollars = merge(shop, "dollars", "euro-guest")

    # An empty cart takes the other cart's currency (no header asked for another one).
    assert into_empty.status_code == 201, into_empty.text
    assert into_empty.json()["meta"]["display_price"]["with_tax"] == {
        "amount": 1200,
        "currency": "EUR",
        "formatted": "€12.00",
    }
    # A dollar cart takes the mug at its dollar price; the euro-priced custom item cannot come along.
    assert into_dollars.status_code == 201, into_dollars.text
    assert lines(into_dollars) == [("custom_item", "cup", 1), ("cart_item", "mug", 1)]
    assert into_dollars.json()["data"][1]["unit_price"]["amount"] == 1000
    (error,) = into_dollars.json()["errors"]
    assert (error["status"], error["title"], error["meta"]) == (
        400,
        "Cart Currency Mismatch",
        {"sku": "wrap"},
    )


def test_merging_nothing_itself_or_a_bad_id(shop: StoreClient) -> None:
    add(shop, "mine", custom_item("Cup", 1000, sku="cup"))

    unknown = merge(shop, "mine", "never-written")
    itself = merge(shop, "mine", "mine")
    bad = merge(shop, "mine", "not a cart id!")
    missing = shop.post("/v2/carts/mine/items", json={"data": {"type": "cart_items"}})

    assert unknown.status_code == 201, unknown.text
    assert lines(unknown) == [("custom_item", "cup", 1)]
    assert itself.status_code == 400
    assert itself.json()["errors"][0]["source"] == "data.cart_id"
    for response in (bad, missing):
        assert response.status_code == 400, response.text
        assert "cart_id" in response.json()["errors"][0]["source"]
    assert lines(shop.get("/v2/carts/mine/items")) == [("custom_item", "cup", 1)]


@pytest.mark.both_backends
def test_a_customers_or_accounts_cart_is_merged_only_with_their_token_or_by_an_admin(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    front = storefront(app_client, shop, container)
    created = front.post(
        "/v2/carts", json={"data": {"id": "anns", "name": "Ann's"}}, headers=as_customer("ann")
    )
    assert created.status_code == 201, created.text
    add(front, "anns", custom_item("Mug", 1500, sku="mug"), headers=as_customer("ann"))

    anonymous = merge(front, "mine", "anns")
    other = merge(front, "mine", "anns", headers=as_customer("bob"))
    in_bulk = front.post(
        "/v2/carts/mine/items",
        json={"data": [{"type": "cart_items", "cart_id": "anns"}, custom_item("Cup", 1000, sku="cup")]},
    )

    for response in (anonymous, other):
        assert response.status_code == 403, response.text
        assert response.json()["errors"][0]["source"] == "data.cart_id"
    assert in_bulk.status_code == 201  # the bulk array's other entry goes in, the merge is listed
    assert [e["status"] for e in in_bulk.json()["errors"]] == [403]
    assert lines(in_bulk) == [("custom_item", "cup", 1)]
    assert lines(merge(front, "anns-new", "anns", headers=as_customer("ann"))) == [("custom_item", "mug", 1)]
    assert lines(merge(shop, "admins", "anns")) == [("custom_item", "mug", 1)]

    account = {"EP-Account-Management-Authentication-Token": _account_token("acct-1", "member-1")}
    team = front.post("/v2/carts", json={"data": {"id": "team"}}, headers=account)
    assert team.status_code == 201, team.text
    add(front, "team", custom_item("Pen", 200, sku="pen"), headers=account)
    other_account = {"EP-Account-Management-Authentication-Token": _account_token("acct-2", "member-2")}
    assert merge(front, "mine", "team", headers=other_account).status_code == 403
    assert lines(merge(front, "team-copy", "team", headers=account)) == [("custom_item", "pen", 1)]


def _account_token(account_id: str, member_id: str) -> str:
    import time

    import jwt

    claims = {"sub": member_id, "account_id": account_id, "exp": int(time.time()) + 3600}
    return jwt.encode(claims, CUSTOMER_SECRET, algorithm="HS256")


def test_units_added_as_free_gifts_are_not_merged(shop: StoreClient) -> None:
    racket = put_product(shop, "racket", 9000)
    put_product(shop, "balls", 500)
    shop.create_promotion(
        automatic=True,
        promotion_type="bundle_gift",
        schema={
            "requirements": [{"targets": ["racket"], "quantity": 1}],
            "gifts": ["balls"],
            "auto_add_free_gift": True,
        },
    )
    add(
        shop,
        "guest",
        {"type": "cart_item", "id": racket, "quantity": 1},
        {"type": "cart_item", "sku": "balls"},
    )
    assert lines(shop.get("/v2/carts/guest/items")) == [("cart_item", "racket", 1), ("cart_item", "balls", 1)]
    add(shop, "gifted", {"type": "cart_item", "id": racket, "quantity": 1})
    assert lines(shop.get("/v2/carts/gifted/items")) == [
        ("cart_item", "racket", 1),
        ("cart_item", "balls", 1),
    ]

    # The can bought in "guest" comes along; the free can of "gifted" does not: its racket earns one anew.
    assert merge(shop, "mine", "guest").status_code == 201
    merged = merge(shop, "mine", "gifted")

    assert lines(merged) == [("cart_item", "racket", 2), ("cart_item", "balls", 2)]
    assert merged.json()["data"][1]["auto_add_quantity"] == 1
    assert merged.json()["meta"]["display_price"]["with_tax"]["amount"] == 2 * 9000


# Re-ordering


def place_order(
    shop: StoreClient, cart_id: str, *entries: dict[str, Any], body: dict[str, Any] | None = None
) -> str:
    """Fill a cart, check it out, return the order id."""
    assert add(shop, cart_id, *entries).status_code == 201
    response = checkout(shop, cart_id, body)
    assert response.status_code == 201, response.text
    order_id: str = response.json()["data"]["id"]
    return order_id


@pytest.mark.both_backends
def test_a_reorder_adds_the_orders_products_at_todays_prices(shop: StoreClient) -> None:
    shoe = put_product(shop, "shoe", 8999)
    socks = put_product(shop, "socks", 1299)
    five = shop.create_promotion(name="Five off")
    shop.add_codes(five["id"], "FIVE")
    order_id = place_order(
        shop,
        "c1",
        {"type": "cart_item", "id": shoe, "quantity": 2, "custom_inputs": {"size": "42"}},
        {"type": "cart_item", "id": socks, "quantity": 3},
        custom_item("Gift wrap", 500, sku="wrap"),
        {"type": "promotion_item", "code": "FIVE"},
    )
    repriced = shop.put(
        f"/v2/promoforge/products/{shoe}",
        json={
            "data": {
                "type": "product",
                "id": shoe,
                "attributes": {
                    "sku": "shoe",
                    "name": "Shoe",
                    "status": "live",
                    "price": {"USD": {"amount": 7999, "includes_tax": False}},
                },
            }
        },
    )
    assert repriced.status_code == 200, repriced.text
    add(shop, "again", {"type": "cart_item", "id": socks, "quantity": 1})

    again = reorder(shop, "again", order_id)

    assert again.status_code == 201, again.text
    assert "errors" not in again.json()
    # No custom item (EP: not a catalog product), no promotion line, no code: products only.
    assert lines(again) == [("cart_item", "socks", 4), ("cart_item", "shoe", 2)]
    shoe_line = again.json()["data"][1]
    assert (shoe_line["unit_price"]["amount"], shoe_line["custom_inputs"]) == (7999, {"size": "42"})
    assert again.json()["meta"]["display_price"]["with_tax"]["amount"] == 2 * 7999 + 4 * 1299


@pytest.mark.both_backends
def test_a_reorder_reads_only_an_order_the_caller_may_read(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    front = storefront(app_client, shop, container)
    shoe = put_product(shop, "shoe", 8999)
    anns = place_order(
        shop, "c2", {"type": "cart_item", "id": shoe}, body={**GUEST, "customer": {"id": "ann"}}
    )
    unknown = "6f1b5a3e-7d2c-4e8f-9a1b-2c3d4e5f6a7b"

    for response in (
        reorder(front, "mine", anns),
        reorder(front, "mine", anns, headers=as_customer("bob")),
        reorder(front, "mine", unknown, headers=as_customer("ann")),
        reorder(shop, "mine", unknown, all_or_nothing=True),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["errors"][0]["detail"] == "Order not found"
    assert shop.get("/v2/carts").json()["meta"]["results"]["total"] == 1  # c2 only: refusals write nothing
    # In a bulk array the refused entry is listed beside the others, as any bulk entry's failure is (§4.8).
    in_bulk = front.post(
        "/v2/carts/mine/items",
        json={"data": [{"type": "order_items", "order_id": anns}, custom_item("Cup", 1000, sku="cup")]},
    )
    assert in_bulk.status_code == 201, in_bulk.text
    assert [(e["status"], e["detail"]) for e in in_bulk.json()["errors"]] == [(404, "Order not found")]
    assert lines(in_bulk) == [("custom_item", "cup", 1)]
    assert lines(reorder(front, "anns", anns, headers=as_customer("ann"))) == [("cart_item", "shoe", 1)]
    assert lines(reorder(shop, "admins", anns)) == [("cart_item", "shoe", 1)]
    bad = reorder(shop, "mine", "not-a-uuid")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["source"].endswith("order_id")


@pytest.mark.both_backends
def test_a_reorder_of_a_product_gone_since_is_listed_unless_all_or_nothing(shop: StoreClient) -> None:
    shoe = put_product(shop, "shoe", 8999)
    hat = put_product(shop, "hat", 1999)
    order_id = place_order(shop, "c1", {"type": "cart_item", "id": shoe}, {"type": "cart_item", "id": hat})
    drafted = shop.put(
        f"/v2/promoforge/products/{hat}",
        json={
            "data": {
                "type": "product",
                "id": hat,
                "attributes": {
                    "sku": "hat",
                    "name": "Hat",
                    "status": "draft",
                    "price": {"USD": {"amount": 1999, "includes_tax": False}},
                },
            }
        },
    )
    assert drafted.status_code == 200, drafted.text

    atomic = reorder(shop, "again", order_id, all_or_nothing=True)
    partial = reorder(shop, "again", order_id)
    in_array = shop.post(
        "/v2/carts/array/items", json={"data": [{"type": "order_items", "order_id": order_id}]}
    )

    assert atomic.status_code == 404
    assert atomic.json()["errors"][0]["meta"] == {"id": hat}
    for response in (partial, in_array):
        assert response.status_code == 201, response.text
        assert lines(response) == [("cart_item", "shoe", 1)]
        assert [(e["status"], e["meta"]) for e in response.json()["errors"]] == [(404, {"id": hat})]


@pytest.mark.parametrize("wrapped", [False, True], ids=["with options", "double data (B24)"])
def test_a_reorder_with_a_code_in_one_bulk_request(shop: StoreClient, wrapped: bool) -> None:
    shoe = put_product(shop, "shoe", 8999)
    order_id = place_order(shop, "c1", {"type": "cart_item", "id": shoe, "quantity": 2})
    five = shop.create_promotion(name="Five off")
    shop.add_codes(five["id"], "FIVE")
    entries = [{"type": "order_items", "order_id": order_id}, {"type": "promotion_item", "code": "five"}]
    body: dict[str, Any] = {"data": {"data": entries}} if wrapped else {"data": entries, "options": {}}

    response = shop.post("/v2/carts/again/items", json=body)

    assert response.status_code == 201, response.text
    assert lines(response) == [("cart_item", "shoe", 2), ("promotion_item", "FIVE", 1)]
    assert response.json()["meta"]["display_price"]["with_tax"]["amount"] == 2 * 8999 - 500
