"""Checkout (C3) through the API: orders, code consumption, usage records, retries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from checkout_support import (
    ADDRESS,
    GUEST,
    SECRET,
    checkout,
    code_promotion,
    count,
    custom_item,
    discount,
    fill,
    signed,
    storefront,
    usages,
    uses_left,
)
from promoforge.bootstrap import Container
from promoforge.domain.shoppers import Shopper
from promoforge.services import checkout as checkout_service
from promoforge.storage.schema import checkout_keys, order_items, orders, promotion_usages
from support import StoreClient, TestClient, make_store


@pytest.mark.both_backends
def test_a_guest_checkout_makes_an_order_with_the_cart_numbers(shop: StoreClient) -> None:
    code_promotion(shop, {"code": "5off", "uses": 3})
    fill(
        shop,
        "c1",
        custom_item("a", 1500, 2),
        custom_item("b", 999),
        {"type": "promotion_item", "code": "5off"},
    )
    cart = shop.get("/v2/carts/c1").json()["data"]["meta"]["display_price"]

    response = checkout(shop, "c1", {**GUEST, "order_number": "N-1", "external_ref": "ext"})

    assert response.status_code == 201, response.text
    order = response.json()
    data = order["data"]
    assert (data["type"], data["status"], data["payment"], data["shipping"]) == (
        "order",
        "incomplete",
        "unpaid",
        "unfulfilled",
    )
    assert data["customer"] == {"name": "John Doe", "email": "john@moltin.com"}
    assert data["billing_address"] == {
        **dict.fromkeys(("company_name", "line_2", "county"), ""),
        **ADDRESS,
    }
    assert data["shipping_address"]["line_1"] == ADDRESS["line_1"]  # shipping defaults to billing
    assert data["shipping_address"]["instructions"] == ""
    assert (data["order_number"], data["external_ref"]) == ("N-1", "ext")
    totals = data["meta"]["display_price"]
    for name in ("with_tax", "without_tax", "discount", "without_discount"):
        assert totals[name] == cart[name]
    assert totals["balance_owing"] == cart["with_tax"]
    assert totals["with_tax"]["amount"] == 1500 * 2 + 999 - 500
    items = order["included"]["items"]
    assert [item["id"] for item in items] == [entry["id"] for entry in data["relationships"]["items"]["data"]]
    assert [(item["sku"], item["quantity"]) for item in items] == [("a", 2), ("b", 1), ("5off", 1)]
    # The cart stays as it was and can be checked out again (§7.2).
    assert len(shop.get("/v2/carts/c1/items").json()["data"]) == 3


@pytest.mark.both_backends
def test_a_cart_level_promotion_becomes_an_order_item(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "5off"}, name="Five off")
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "5off"})

    items = checkout(shop, "c1").json()["included"]["items"]

    line = items[1]
    assert (line["type"], line["product_id"], line["name"], line["sku"]) == (
        "order_item",
        promotion["id"],
        "Five off",
        "5off",
    )
    assert line["unit_price"] == line["value"] == {"amount": -500, "currency": "USD", "includes_tax": False}
    display = line["meta"]["display_price"]
    assert display["with_tax"]["value"]["amount"] == -500
    assert display["without_discount"]["value"] == {"amount": 0, "currency": "USD", "formatted": "$0.00"}
    assert display["discount"]["value"]["amount"] == 0
    # The product line carries its share of the cart discount in its display, not in its price.
    assert items[0]["value"]["amount"] == 1500
    assert items[0]["meta"]["display_price"]["with_tax"]["value"]["amount"] == 1000
    assert items[0]["product_id"] == ""


@pytest.mark.both_backends
def test_a_per_cart_code_loses_one_use_per_checkout_and_then_gives_nothing(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "TWICE", "uses": 2})
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "twice"})

    first, second, third = (checkout(shop, "c1") for _ in range(3))

    assert [r.status_code for r in (first, second, third)] == [201, 201, 201]
    assert [discount(r.json()) for r in (first, second, third)] == [-500, -500, 0]
    assert uses_left(shop, promotion["id"]) == 0
    records = usages(shop, promotion["id"], sort="used_on")
    assert [(u["order_id"], u["times_used"], u["code"]) for u in records] == [
        (first.json()["data"]["id"], 1, "TWICE"),
        (second.json()["data"]["id"], 1, "TWICE"),
    ]
    assert records[0]["customer_email"] == "john@moltin.com"
    assert records[0]["anonymized"] is False
    assert records[0]["customer_id"] is None


@pytest.mark.both_backends
def test_a_per_item_code_loses_one_use_per_discounted_unit_capped_by_what_is_left(shop: StoreClient) -> None:
    promotion = code_promotion(
        shop,
        {"code": "UNITS", "uses": 5, "consume_unit": "per_item"},
        promotion_type="item_percent_discount",
        schema={"percent": 10, "targets": ["a"]},
    )
    fill(shop, "c1", custom_item("a", 1000, 3), {"type": "promotion_item", "code": "units"})

    first = checkout(shop, "c1").json()
    second = checkout(shop, "c1").json()
    third = checkout(shop, "c1").json()

    assert [discount(first), discount(second), discount(third)] == [-300, -200, 0]
    assert uses_left(shop, promotion["id"]) == 0
    assert sorted(u["times_used"] for u in usages(shop, promotion["id"])) == [2, 3]
    line = first["included"]["items"][0]
    assert line["discounts"] == [
        {
            "amount": {"amount": -300, "currency": "USD", "includes_tax": False},
            "code": "UNITS",
            "id": promotion["id"],
        }
    ]
    assert line["meta"]["display_price"]["discounts"]["UNITS"]["amount"] == -300


@pytest.mark.both_backends
def test_an_unlimited_code_writes_a_usage_but_no_counter(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "FOREVER"})
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "forever"})

    for _ in range(2):
        assert discount(checkout(shop, "c1").json()) == -500

    assert uses_left(shop, promotion["id"]) is None
    assert len(usages(shop, promotion["id"])) == 2


@pytest.mark.both_backends
def test_automatic_promotions_have_nothing_to_consume(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion(automatic=True)
    fill(shop, "c1", custom_item("a", 1500))

    order = checkout(shop, "c1").json()

    assert discount(order) == -500
    assert order["included"]["items"][1]["sku"] == f"auto_{promotion['id']}"
    assert count(container, promotion_usages) == 0


@pytest.mark.both_backends
@pytest.mark.parametrize("change", ["disable", "delete", "exhaust"])
def test_a_code_that_stopped_since_it_was_applied_gives_nothing_and_checkout_proceeds(
    container: Container, shop: StoreClient, change: str
) -> None:
    promotion = code_promotion(shop, {"code": "5off", "uses": 1})
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "5off"})
    if change == "disable":
        body = {"data": {"type": "promotion", "enabled": False}}
        assert shop.put(f"/v2/promotions/{promotion['id']}", json=body).status_code == 200
    elif change == "delete":
        assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    else:
        fill(shop, "c2", custom_item("b", 1500), {"type": "promotion_item", "code": "5off"})
        assert discount(checkout(shop, "c2").json()) == -500

    response = checkout(shop, "c1")

    assert response.status_code == 201
    assert discount(response.json()) == 0
    assert [item["sku"] for item in response.json()["included"]["items"]] == ["a"]
    assert count(container, promotion_usages) == (1 if change == "exhaust" else 0)


@pytest.mark.both_backends
def test_user_codes_count_the_customer_a_trusted_caller_names(shop: StoreClient) -> None:
    promotion = code_promotion(shop, {"code": "VIP", "user": "customer-1", "uses": 5})
    fill(shop, "c1", custom_item("a", 1500))
    header = {"X-Moltin-Customer-Token": signed({"sub": "customer-1"})}
    fill(shop, "c1", {"type": "promotion_item", "code": "vip"}, headers=header)

    stranger = checkout(shop, "c1", {"customer": {"id": "customer-2"}, "billing_address": ADDRESS})
    named = checkout(
        shop, "c1", {"customer": {"id": "customer-1", "name": "Ann"}, "billing_address": ADDRESS}
    )

    assert discount(stranger.json()) == 0
    assert discount(named.json()) == -500
    data = named.json()["data"]
    assert data["relationships"]["customer"] == {"data": {"type": "customer", "id": "customer-1"}}
    assert data["customer"] == {"name": "Ann", "email": "", "id": "customer-1"}
    assert [(u["customer_id"], u["customer_email"]) for u in usages(shop, promotion["id"])] == [
        ("customer-1", None)
    ]


@pytest.mark.both_backends
def test_a_storefront_checks_out_only_as_the_customer_its_token_proves(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=SECRET)
    front = storefront(app_client, shop)
    fill(front, "c1", custom_item("a", 1500))
    body = {"customer": {"id": "customer-1"}, "billing_address": ADDRESS}

    assert checkout(front, "c1", body).status_code == 403
    proven = checkout(front, "c1", body, headers={"X-Moltin-Customer-Token": signed({"sub": "customer-1"})})
    assert proven.status_code == 201
    assert proven.json()["data"]["relationships"]["customer"]["data"]["id"] == "customer-1"
    account = {
        "account": {"id": "acc-1", "member_id": "m-1"},
        "contact": GUEST["customer"],
        "billing_address": ADDRESS,
    }
    assert checkout(front, "c1", account).status_code == 403


@pytest.mark.both_backends
def test_account_checkouts_name_a_contact_and_link_the_account(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    fill(shop, "c1", custom_item("a", 1500))
    contact = {"name": "Jane", "email": "jane@example.com"}
    body = {"account": {"id": "acc-1", "member_id": "m-1"}, "contact": contact, "billing_address": ADDRESS}

    data = checkout(shop, "c1", body).json()["data"]

    assert data["contact"] == contact
    assert "customer" not in data
    assert data["relationships"]["account"] == {"data": {"type": "account", "id": "acc-1"}}
    assert data["relationships"]["account_member"] == {"data": {"type": "account_member", "id": "m-1"}}

    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=SECRET)
    front = storefront(app_client, shop)
    header = {"EP-Account-Management-Authentication-Token": signed({"account_id": "acc-2", "sub": "m-2"})}
    member = checkout(front, "c1", {"contact": contact, "billing_address": ADDRESS}, headers=header)
    assert member.status_code == 201, member.text
    relationships = member.json()["data"]["relationships"]
    assert relationships["account"]["data"]["id"] == "acc-2"
    assert relationships["account_member"]["data"]["id"] == "m-2"


@pytest.mark.parametrize(
    ("body", "source", "title"),
    [
        ({**GUEST, "billing_address": {**ADDRESS, "line_1": ""}}, "data.billing_address.line_1", "length"),
        (
            {**GUEST, "billing_address": {k: v for k, v in ADDRESS.items() if k != "postcode"}},
            "data.billing_address.postcode",
            "required",
        ),
        ({**GUEST, "billing_address": {**ADDRESS, "region": ""}}, "data.billing_address", "required"),
        ({**GUEST, "customer": {"name": "J", "email": "j..d@x.com"}}, "data.customer.email", "format"),
        ({**GUEST, "customer": {"name": "J", "email": ".j@x.com"}}, "data.customer.email", "format"),
        ({**GUEST, "customer": {"name": "J"}}, "data.customer", "required"),
        ({"billing_address": ADDRESS}, "data.customer", "required"),
        ({**GUEST, "external_ref": "x" * 65}, "data.external_ref", "length"),
        ({"customer": GUEST["customer"]}, "data.billing_address", "required"),
    ],
    ids=[
        "empty line_1",
        "no postcode",
        "no region or county",
        "double dot",
        "leading dot",
        "guest without email",
        "no customer",
        "long external_ref",
        "no billing address",
    ],
)
def test_bad_checkout_bodies_are_400_naming_the_field(
    container: Container, shop: StoreClient, body: dict[str, Any], source: str, title: str
) -> None:
    fill(shop, "c1", custom_item("a", 1500))

    response = checkout(shop, "c1", body)

    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert (error["source"], error["title"]) == (source, title)
    assert count(container, orders) == 0


def test_an_empty_an_unknown_and_a_preview_cart_cannot_be_checked_out(
    container: Container, shop: StoreClient
) -> None:
    fill(shop, "c1", custom_item("a", 1500))
    assert shop.delete("/v2/carts/c1/items").status_code == 204
    future = "2099-01-01T00:00:00Z"
    fill(shop, "c3", custom_item("a", 1500))
    assert shop.put("/v2/carts/c3", json={"data": {"snapshot_date": future}}).status_code == 200

    for cart_id, detail in (
        ("c1", "The cart is empty"),
        ("never", "The cart is empty"),
        ("c3", "Cannot checkout a cart with a snapshot_date"),
    ):
        response = checkout(shop, cart_id)
        assert response.status_code == 400
        assert response.json()["errors"][0]["detail"] == detail
    assert count(container, orders) == 0


@pytest.mark.both_backends
def test_a_repeated_idempotency_key_returns_the_first_order_and_consumes_nothing_more(
    container: Container, shop: StoreClient
) -> None:
    promotion = code_promotion(shop, {"code": "5off", "uses": 5})
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "5off"})
    fill(shop, "c2", custom_item("b", 1500))
    key = {"Idempotency-Key": "order-attempt-1"}

    first = checkout(shop, "c1", headers=key)
    again = checkout(shop, "c1", headers=key)
    other_cart = checkout(shop, "c2", headers=key)
    too_long = checkout(shop, "c1", headers={"Idempotency-Key": "k" * 256})

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert other_cart.status_code == 422
    assert other_cart.json()["errors"][0]["code"] == "idempotency_key_reused"
    assert too_long.status_code == 400
    assert uses_left(shop, promotion["id"]) == 4
    assert count(container, orders) == 1


@pytest.mark.both_backends
def test_an_idempotency_key_older_than_a_day_makes_a_new_order(
    container: Container, shop: StoreClient
) -> None:
    fill(shop, "c1", custom_item("a", 1500))
    key = {"Idempotency-Key": "daily"}
    first = checkout(shop, "c1", headers=key).json()["data"]["id"]

    past = container.clock() - timedelta(hours=24, seconds=1)
    with container.db.write() as tx:
        tx.connection.execute(update(checkout_keys).values(created_at=past))
    later = checkout(shop, "c1", headers=key).json()["data"]["id"]

    assert later != first
    assert count(container, orders) == 2


@pytest.mark.both_backends
def test_checkout_writes_items_and_usages_only_for_its_own_store(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    promotion = code_promotion(shop, {"code": "5off", "uses": 5})
    fill(shop, "c1", custom_item("a", 1500), {"type": "promotion_item", "code": "5off"})
    order = checkout(shop, "c1").json()["data"]
    other = make_store(container, app_client, name="other")

    assert other.get(f"/v2/orders/{order['id']}").status_code == 404
    assert other.get(f"/v2/orders/{order['id']}/items").status_code == 404
    assert other.get("/v2/orders").json()["data"] == []
    assert other.get(f"/v2/promotions/{promotion['id']}/usages").status_code == 404
    usage_id = usages(shop, promotion["id"])[0]["id"]
    assert (
        other.post("/v2/promotions/usages/anonymize", json={"data": {"usage_ids": [usage_id]}}).status_code
        == 404
    )
    assert checkout(other, "c1").status_code == 400  # another store's cart id is an empty cart there
    assert count(container, order_items) == 2


@pytest.mark.both_backends
@pytest.mark.parametrize("consume_unit", ["per_cart", "per_item"])
def test_a_draft_priced_before_another_checkout_used_the_code_is_priced_again(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch, consume_unit: str
) -> None:
    promotion = code_promotion(
        shop,
        {"code": "LAST", "uses": 2, "consume_unit": consume_unit},
        promotion_type="item_percent_discount",
        schema={"percent": 10, "targets": ["a"]},
    )
    fill(shop, "c1", custom_item("a", 1000, 2), {"type": "promotion_item", "code": "last"})
    fill(shop, "c2", custom_item("a", 1000, 1), {"type": "promotion_item", "code": "last"})
    stale = checkout_service._draft(container.db, shop.store_id, "c1", Shopper(), container.clock())
    assert stale is not None and stale.priced.totals.discount == 200
    assert discount(checkout(shop, "c2").json()) == -100  # takes one use: one left
    monkeypatch.setattr(checkout_service, "_draft", lambda *args: stale)

    order = checkout(shop, "c1").json()

    # per_cart: the last use discounts both units; per_item: one use left, so one unit.
    assert discount(order) == (-200 if consume_unit == "per_cart" else -100)
    assert uses_left(shop, promotion["id"]) == 0
    assert sorted(u["times_used"] for u in usages(shop, promotion["id"])) == [1, 1]
    assert count(container, orders) == 2


@pytest.mark.both_backends
def test_a_draft_of_a_cart_changed_since_is_priced_again(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    code_promotion(shop, {"code": "5off", "uses": 5})
    fill(shop, "c1", custom_item("a", 1000))
    stale = checkout_service._draft(container.db, shop.store_id, "c1", Shopper(), container.clock())
    fill(shop, "c1", custom_item("b", 500), {"type": "promotion_item", "code": "5off"})
    monkeypatch.setattr(checkout_service, "_draft", lambda *args: stale)

    order = checkout(shop, "c1").json()

    assert order["data"]["meta"]["display_price"]["with_tax"]["amount"] == 1000
    assert [item["sku"] for item in order["included"]["items"]] == ["a", "b", "5off"]
