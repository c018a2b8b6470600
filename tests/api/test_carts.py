"""Carts, custom items and codes in carts through the API (carts.md §3-§5)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.storage.schema import cart_codes, carts
from support import StoreClient, TestClient, make_store, put_product

NOT_FOUND_CODE = {
    "status": 404,
    "title": "Not Found",
    "code": "promotion_code_not_found",
    "detail": "No promotion could be found with the given code.",
}
EMPTY_MONEY = {"amount": 0, "currency": "", "formatted": "0"}


def custom_item(name: str, amount: int, quantity: int = 1, sku: str = "") -> dict[str, Any]:
    """A custom item entry as the SDK's AddCustomItem sends it."""
    item: dict[str, Any] = {
        "type": "custom_item",
        "name": name,
        "quantity": quantity,
        "price": {"amount": amount},
    }
    if sku:
        item["sku"] = sku
    return item


def add(shop: StoreClient, cart_id: str, *entries: dict[str, Any], **kwargs: Any) -> Any:
    """POST one entry, or several as a bulk array."""
    data: Any = entries[0] if len(entries) == 1 else list(entries)
    return shop.post(f"/v2/carts/{cart_id}/items", json={"data": data, **kwargs.pop("body", {})}, **kwargs)


def apply(shop: StoreClient, cart_id: str, code: str, **kwargs: Any) -> Any:
    """Apply a code (C1)."""
    return add(shop, cart_id, {"type": "promotion_item", "code": code}, **kwargs)


def promotion_with_code(shop: StoreClient, code: str, **overrides: Any) -> dict[str, Any]:
    """A promotion (default: $5 off the cart) with one code."""
    promotion = shop.create_promotion(**overrides)
    assert shop.add_codes(promotion["id"], code).status_code == 201
    return promotion


def stored_carts(container: Container) -> int:
    with container.db.read() as tx:
        return int(tx.connection.execute(select(func.count()).select_from(carts)).scalar_one())


def test_an_unknown_cart_reads_as_an_empty_cart_and_writes_nothing(
    container: Container, shop: StoreClient
) -> None:
    response = shop.get("/v2/carts/never-written", params={"include": "items"})

    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert (data["id"], data["type"], data["name"], data["description"]) == (
        "never-written",
        "cart",
        "Cart",
        "",
    )
    assert data["relationships"]["items"] == {"data": None}
    assert data["meta"]["display_price"]["with_tax"] == EMPTY_MONEY
    assert data["meta"]["display_price"]["discount"] == EMPTY_MONEY
    assert response.json()["included"] == {"items": []}
    assert shop.get("/v2/carts/never-written/items").json()["data"] == []
    assert stored_carts(container) == 0


@pytest.mark.both_backends
def test_create_a_cart_with_its_own_id_once(shop: StoreClient) -> None:
    body = {"data": {"id": "holiday-cart", "name": "Bob's cart", "description": "For Holidays"}}
    created = shop.post("/v2/carts", json=body)
    assert created.status_code == 201, created.text
    assert created.json()["data"]["name"] == "Bob's cart"
    assert created.json()["data"]["links"]["self"].endswith("/v2/carts/holiday-cart")

    again = shop.post("/v2/carts", json=body)
    assert again.status_code == 409
    assert again.json()["errors"][0]["meta"] == {"cart_id": "holiday-cart"}


@pytest.mark.parametrize(
    ("data", "source"),
    [
        ({"id": "has space"}, "data.id"),
        ({"id": "x" * 65}, "data.id"),
        ({"name": "   "}, "data"),
        ({"name": "x" * 256}, "data.name"),
        (
            {"discount_settings": {"custom_discounts_enabled": "yes"}},
            "data.discount_settings.custom_discounts_enabled",
        ),
        ({"custom_attributes": {"a": {"type": "integer", "value": "1"}}}, "data.custom_attributes.a"),
    ],
)
def test_bad_cart_fields_are_400_naming_the_field(
    shop: StoreClient, data: dict[str, Any], source: str
) -> None:
    response = shop.post("/v2/carts", json={"data": data})
    assert response.status_code == 400, response.text
    assert any(error.get("source", "").startswith(source) for error in response.json()["errors"]), (
        response.text
    )


def test_a_cart_id_with_unsafe_characters_is_400(shop: StoreClient) -> None:
    response = shop.get("/v2/carts/bad.id")
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == "cartID"


@pytest.mark.both_backends
def test_custom_items_fix_the_currency_and_merge_by_sku(shop: StoreClient) -> None:
    first = add(shop, "c1", custom_item("Gift wrap", 500, sku="wrap"), headers={"X-MOLTIN-CURRENCY": "eur"})
    assert first.status_code == 201, first.text
    again = add(
        shop, "c1", custom_item("Other name", 900, 2, sku="wrap"), headers={"X-MOLTIN-CURRENCY": "USD"}
    )
    assert again.status_code == 201

    lines = again.json()["data"]
    assert len(lines) == 1
    line = lines[0]
    # The first line's name and price are kept; the later header does not change the currency (B36).
    assert (line["name"], line["quantity"], line["sku"]) == ("Gift wrap", 3, "wrap")
    assert line["unit_price"] == {"amount": 500, "currency": "EUR", "includes_tax": True}
    assert line["value"] == {"amount": 1500, "currency": "EUR", "includes_tax": True}
    assert again.json()["meta"]["display_price"]["with_tax"] == {
        "amount": 1500,
        "currency": "EUR",
        "formatted": "€15.00",
    }


def test_custom_items_without_sku_are_separate_lines(shop: StoreClient) -> None:
    add(shop, "c1", custom_item("A", 100))
    response = add(shop, "c1", custom_item("A", 100))
    assert len(response.json()["data"]) == 2


def test_the_store_default_currency_applies_without_a_header(shop: StoreClient) -> None:
    response = add(shop, "c1", custom_item("A", 1234))
    assert response.json()["meta"]["display_price"]["with_tax"]["formatted"] == "$12.34"


@pytest.mark.both_backends
def test_applying_a_cart_code_adds_a_promotion_line(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "5off", name="Five off")
    add(shop, "c1", custom_item("Thing", 1500, sku="thing"))

    response = apply(shop, "c1", "5OFF")  # codes are case-insensitive

    assert response.status_code == 201, response.text
    document = response.json()
    thing, promotion_line = document["data"]
    assert promotion_line["type"] == "promotion_item"
    assert promotion_line["promotion_id"] == promotion["id"]
    assert (promotion_line["name"], promotion_line["description"], promotion_line["sku"]) == (
        "Five off",
        "Promotion",
        "5off",
    )
    assert promotion_line["unit_price"] == {"amount": -500, "currency": "USD", "includes_tax": False}
    assert promotion_line["meta"]["display_price"]["without_discount"]["value"] == EMPTY_MONEY
    assert thing["meta"]["display_price"]["with_tax"]["value"]["amount"] == 1000
    assert "discounts" not in thing  # a cart-level share is not an item discount (§4.5)
    totals = document["meta"]["display_price"]
    assert (totals["with_tax"]["amount"], totals["discount"]["amount"]) == (1000, -500)
    assert totals["discounts"]["5off"]["constituents"] == {
        promotion["id"]: {"amount": -500, "currency": "USD", "formatted": "-$5.00"}
    }
    assert document["meta"]["messages"] == [
        {
            "source": {"type": "promotion_item", "id": promotion_line["id"]},
            "title": "Promotion Added",
            "description": "Promotion has been added to cart.",
        }
    ]
    # Applying it again changes nothing (B15), and plain reads carry no messages (B31).
    again = apply(shop, "c1", "5off")
    assert again.status_code == 201
    assert [line["id"] for line in again.json()["data"]] == [thing["id"], promotion_line["id"]]
    assert "messages" not in shop.get("/v2/carts/c1/items").json()["meta"]


def test_applying_an_item_code_discounts_the_line(shop: StoreClient) -> None:
    promotion = promotion_with_code(
        shop,
        "RUN15",
        promotion_type="item_percent_discount",
        schema={"percent": 15, "targets": ["shoe"]},
    )
    add(shop, "c1", custom_item("Shoe", 8999, 2, sku="shoe"), custom_item("Sock", 1299, 3, sku="sock"))

    response = apply(shop, "c1", "run15")

    assert response.status_code == 201, response.text
    shoe, sock = response.json()["data"]
    assert shoe["discounts"] == [
        {
            "amount": {"amount": -2700, "currency": "USD", "includes_tax": False},
            "code": "RUN15",
            "id": promotion["id"],
        }
    ]
    assert shoe["meta"]["display_price"]["discount"] == {
        "unit": {"amount": -1350, "currency": "USD", "formatted": "-$13.50"},
        "value": {"amount": -2700, "currency": "USD", "formatted": "-$27.00"},
    }
    assert "discounts" not in sock
    assert response.json()["meta"]["messages"] == [
        {
            "source": {"type": "custom_item", "id": shoe["id"]},
            "title": "Discount Added",
            "description": "Item discount has been added.",
        }
    ]


@pytest.mark.parametrize(
    "overrides",
    [
        {"enabled": False},
        {"start": "2090-01-01"},
        {"start": "2020-01-01", "end": "2021-01-01"},
        {"min_cart_value": [{"currency": "USD", "amount": 100_000}]},
        {"promotion_type": "item_percent_discount", "schema": {"percent": 10, "targets": ["elsewhere"]}},
    ],
    ids=["disabled", "not started", "ended", "min cart value", "no eligible line"],
)
def test_codes_that_give_nothing_answer_like_unknown_codes(
    shop: StoreClient, overrides: dict[str, Any]
) -> None:
    promotion_with_code(shop, "NOPE", **overrides)
    add(shop, "c1", custom_item("Thing", 1500))

    response = apply(shop, "c1", "nope")

    assert response.status_code == 404
    assert response.json() == {"errors": [{**NOT_FOUND_CODE, "meta": {"code": "nope"}}]}
    assert apply(shop, "c1", "never-created").json()["errors"][0] == {
        **NOT_FOUND_CODE,
        "meta": {"code": "never-created"},
    }


def test_an_exhausted_or_user_restricted_code_is_not_found(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], {"code": "USEDUP", "uses": 0}, {"code": "MINE", "user": "customer-1"})
    add(shop, "c1", custom_item("Thing", 1500))
    assert apply(shop, "c1", "usedup").status_code == 404
    assert apply(shop, "c1", "mine").status_code == 404


def test_a_code_without_the_cart_currency_is_not_attached_and_says_why(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "EURO", schema={"currencies": [{"currency": "EUR", "amount": 500}]})
    add(shop, "c1", custom_item("Thing", 1500))

    response = apply(shop, "c1", "euro")

    assert response.status_code == 201
    assert [line["type"] for line in response.json()["data"]] == ["custom_item"]
    assert response.json()["meta"]["messages"] == [
        {
            "source": {"type": "promotion", "id": promotion["id"], "code": "EURO"},
            "title": "currency mismatch",
            "description": "discount unavailable in currency USD",
        }
    ]


def test_custom_discounts_switch_promotions_off(shop: StoreClient) -> None:
    promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("Thing", 1500))
    apply(shop, "c1", "5off")

    updated = shop.put(
        "/v2/carts/c1", json={"data": {"discount_settings": {"custom_discounts_enabled": True}}}
    )
    assert updated.status_code == 200
    assert updated.json()["data"]["meta"]["display_price"]["discount"]["amount"] == 0

    response = apply(shop, "c1", "5off")
    assert response.status_code == 422
    assert response.json()["errors"][0] == {
        "status": 422,
        "title": "Could not apply EP promotion with the given code",
        "code": "custom_discounts_enabled",
        "detail": "The cart is configured to use custom discounts",
        "meta": {"code": "5off"},
    }


@pytest.mark.both_backends
@pytest.mark.parametrize("code", ["SAVE10%", "a b", "x/y"])
def test_removing_a_code_accepts_it_raw_or_encoded(
    shop: StoreClient, container: Container, code: str
) -> None:
    promotion_with_code(shop, code)
    add(shop, "c1", custom_item("Thing", 1500))
    assert apply(shop, "c1", code).status_code == 201

    raw = shop.client.request("DELETE", f"/v2/carts/c1/discounts/{code}", headers=shop.headers)
    assert raw.status_code == 204
    assert shop.get("/v2/carts/c1/items").json()["meta"]["display_price"]["discount"]["amount"] == 0
    with container.db.read() as tx:
        assert tx.connection.execute(select(func.count()).select_from(cart_codes)).scalar_one() == 0


def test_removing_a_code_not_on_the_cart_is_204(shop: StoreClient) -> None:
    assert shop.delete("/v2/carts/c1/discounts/ANY").status_code == 204


def test_removing_the_promotion_line_removes_its_code(shop: StoreClient) -> None:
    promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("Thing", 1500))
    line = apply(shop, "c1", "5off").json()["data"][1]

    response = shop.delete(f"/v2/carts/c1/items/{line['id']}")

    assert response.status_code == 200
    assert [item["type"] for item in response.json()["data"]] == ["custom_item"]
    assert response.json()["meta"]["messages"][0]["title"] == "Deleted Promotion"


def test_quantities_change_and_zero_removes_the_line(shop: StoreClient) -> None:
    lines = add(shop, "c1", custom_item("A", 100, sku="a"), custom_item("B", 200, sku="b")).json()["data"]
    a, b = lines[0]["id"], lines[1]["id"]

    one = shop.put(f"/v2/carts/c1/items/{a}", json={"data": {"type": "cart_item", "id": a, "quantity": 4}})
    assert one.status_code == 200
    assert one.json()["data"][0]["quantity"] == 4

    both = shop.put("/v2/carts/c1/items", json={"data": [{"id": a, "quantity": 0}, {"id": b, "quantity": 2}]})
    assert both.status_code == 200
    assert [(line["sku"], line["quantity"]) for line in both.json()["data"]] == [("b", 2)]

    missing = shop.put(f"/v2/carts/c1/items/{a}", json={"data": {"quantity": 1}})
    assert missing.status_code == 404
    assert missing.json()["errors"][0]["detail"] == "The Item doesn't exist in the cart"
    assert shop.put(f"/v2/carts/c1/items/{b}", json={"data": {"quantity": -1}}).status_code == 400
    assert shop.put(f"/v2/carts/c1/items/{b}", json={"data": {"quantity": "2"}}).status_code == 400


def test_removing_the_last_line_drops_the_currency_and_the_codes(shop: StoreClient) -> None:
    promotion_with_code(shop, "5off")
    line = add(shop, "c1", custom_item("A", 1500)).json()["data"][0]
    apply(shop, "c1", "5off")

    emptied = shop.delete(f"/v2/carts/c1/items/{line['id']}")

    assert emptied.json()["data"] == []
    assert emptied.json()["meta"]["display_price"]["with_tax"] == EMPTY_MONEY
    readded = add(shop, "c1", custom_item("A", 1500), headers={"X-MOLTIN-CURRENCY": "GBP"})
    assert readded.json()["meta"]["display_price"]["with_tax"]["formatted"] == "£15.00"
    assert readded.json()["meta"]["display_price"]["discount"]["amount"] == 0


def test_bulk_add_keeps_what_works_and_lists_what_failed(shop: StoreClient) -> None:
    promotion_with_code(shop, "5off")
    response = add(
        shop,
        "c1",
        custom_item("A", 1500),
        {"type": "promotion_item", "code": "invalid-code"},
        {"type": "promotion_item", "code": "5off"},
    )

    assert response.status_code == 201, response.text
    assert [line["type"] for line in response.json()["data"]] == ["custom_item", "promotion_item"]
    assert response.json()["errors"] == [{**NOT_FOUND_CODE, "meta": {"code": "invalid-code"}}]


@pytest.mark.both_backends
def test_bulk_add_all_or_nothing_adds_nothing_on_a_failure(container: Container, shop: StoreClient) -> None:
    response = add(
        shop,
        "c1",
        custom_item("A", 1500),
        {"type": "promotion_item", "code": "invalid-code"},
        body={"options": {"add_all_or_nothing": True}},
    )

    assert response.status_code == 404
    assert response.json()["errors"] == [{**NOT_FOUND_CODE, "meta": {"code": "invalid-code"}}]
    assert shop.get("/v2/carts/c1/items").json()["data"] == []
    assert stored_carts(container) == 0


def test_the_sdk_double_wrapped_bulk_body_is_accepted(shop: StoreClient) -> None:
    body = {"data": {"data": [custom_item("A", 100), custom_item("B", 200)]}}
    response = shop.post("/v2/carts/c1/items", json=body)
    assert response.status_code == 201, response.text
    assert len(response.json()["data"]) == 2


@pytest.mark.parametrize(
    ("entry", "source"),
    [
        (
            {"type": "custom_item", "name": "A", "quantity": None, "price": {"amount": 1}},
            "data.custom_item.quantity",
        ),
        (
            {"type": "custom_item", "name": "A", "quantity": 1, "price": {"amount": -100000}},
            "data.custom_item.price.amount",
        ),
        (
            {"type": "custom_item", "name": "A", "quantity": 1, "price": {"amount": 1.5}},
            "data.custom_item.price.amount",
        ),
        ({"type": "custom_item", "quantity": 1, "price": {"amount": 1}}, "data.custom_item.name"),
        ({"type": "cart_item", "quantity": 1}, "data.cart_item"),
        ({"type": "promotion_item"}, "data.promotion_item.code"),
        ({"type": "subscription_item"}, "data"),
    ],
)
def test_bad_lines_are_400_naming_the_field(shop: StoreClient, entry: dict[str, Any], source: str) -> None:
    response = shop.post("/v2/carts/c1/items", json={"data": entry})
    assert response.status_code == 400, response.text
    assert any(error.get("source", "").startswith(source) for error in response.json()["errors"]), (
        response.text
    )


@pytest.mark.both_backends
def test_a_cart_holds_at_most_100_unique_lines(shop: StoreClient) -> None:
    entries = [custom_item(f"L{i}", 100, sku=f"s{i}") for i in range(100)]
    assert add(shop, "c1", *entries).status_code == 201

    full = add(shop, "c1", custom_item("one more", 100, sku="extra"))

    assert full.status_code == 400
    assert full.json()["errors"][0]["detail"] == "A cart can contain a maximum of 100 unique items"
    assert add(shop, "c1", custom_item("L0", 100, sku="s0")).status_code == 201  # merging is fine


def test_automatic_promotions_come_and_go_with_eligibility(shop: StoreClient) -> None:
    promotion = shop.create_promotion(
        automatic=True, min_cart_value=[{"currency": "USD", "amount": 2000}], name="Big basket"
    )
    small = add(shop, "c1", custom_item("A", 1500, sku="a"))
    assert [line["type"] for line in small.json()["data"]] == ["custom_item"]

    line_id = small.json()["data"][0]["id"]
    big = shop.put(f"/v2/carts/c1/items/{line_id}", json={"data": {"quantity": 2}})
    promotion_line = big.json()["data"][1]
    assert promotion_line["sku"] == f"auto_{promotion['id']}"
    assert big.json()["meta"]["display_price"]["discounts"][f"auto_{promotion['id']}"]["amount"] == -500

    smaller = shop.put(f"/v2/carts/c1/items/{line_id}", json={"data": {"quantity": 1}})
    assert [line["type"] for line in smaller.json()["data"]] == ["custom_item"]
    assert smaller.json()["meta"]["messages"][0]["title"] == "Deleted Promotion"
    # C2 does nothing for an automatic promotion (B22).
    assert shop.delete(f"/v2/carts/c1/discounts/auto_{promotion['id']}").status_code == 204


def test_a_promotion_disabled_after_it_was_applied_stops_at_once(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("A", 1500))
    apply(shop, "c1", "5off")

    shop.put(f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "enabled": False}})

    assert shop.get("/v2/carts/c1/items").json()["meta"]["display_price"]["discount"]["amount"] == 0
    assert shop.get("/v2/carts/c1", params={"include": "promotions"}).json()["data"]["relationships"][
        "promotions"
    ] == {"data": []}


def test_a_promotion_edited_after_it_was_applied_prices_with_its_new_rules(shop: StoreClient) -> None:
    coded = promotion_with_code(shop, "5off")
    automatic = shop.create_promotion(
        automatic=True, name="Auto", schema={"currencies": [{"currency": "USD", "amount": 100}]}
    )
    add(shop, "c1", custom_item("A", 1500))
    apply(shop, "c1", "5off")

    def discounts() -> dict[str, int]:
        meta = shop.get("/v2/carts/c1/items").json()["meta"]["display_price"]["discounts"]
        return {code: entry["amount"] for code, entry in meta.items()}

    assert discounts() == {"5off": -500, f"auto_{automatic['id']}": -100}
    for promotion, amount in ((coded, 700), (automatic, 200)):
        schema = {"currencies": [{"currency": "USD", "amount": amount}]}
        body = {"data": {"type": "promotion", "schema": schema}}
        assert shop.put(f"/v2/promotions/{promotion['id']}", json=body).status_code == 200
    assert discounts() == {"5off": -700, f"auto_{automatic['id']}": -200}
    shop.put(f"/v2/promotions/{automatic['id']}", json={"data": {"type": "promotion", "automatic": False}})
    assert discounts() == {"5off": -700}


def test_include_promotions_lists_condensed_promotions(shop: StoreClient) -> None:
    promotion = promotion_with_code(shop, "5off", name="Five off", description="$5 off any order")
    add(shop, "c1", custom_item("A", 1500))
    apply(shop, "c1", "5off")

    document = shop.get("/v2/carts/c1", params={"include": "items,promotions"}).json()

    assert document["data"]["relationships"]["promotions"] == {
        "data": [{"type": "promotion", "id": promotion["id"]}]
    }
    assert document["included"]["promotions"] == [
        {
            "type": "promotion",
            "id": promotion["id"],
            "name": "Five off",
            "description": "$5 off any order",
            "automatic": False,
            "promotion_type": "fixed_discount",
            "start": "2024-01-01T00:00:00Z",
            "end": "2099-12-31T00:00:00Z",
        }
    ]
    assert [line["type"] for line in document["included"]["items"]] == ["custom_item", "promotion_item"]


@pytest.mark.both_backends
def test_another_stores_cart_reads_as_a_fresh_cart(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    add(shop, "shared-id", custom_item("A", 1500))
    other = make_store(container, app_client, name="other")

    seen = other.get("/v2/carts/shared-id/items")

    assert seen.status_code == 200
    assert seen.json()["data"] == []
    add(other, "shared-id", custom_item("B", 700))
    assert [line["name"] for line in shop.get("/v2/carts/shared-id/items").json()["data"]] == ["A"]


def test_storefront_tokens_use_carts(container: Container, app_client: TestClient) -> None:
    storefront = make_store(container, app_client, name="front", grant="implicit")
    response = add(storefront, "c1", custom_item("A", 1500))
    assert response.status_code == 201
    assert storefront.get("/v2/carts").status_code == 400  # an implicit token lists only a customer's carts


@pytest.mark.both_backends
def test_deleting_a_cart_and_emptying_it(container: Container, shop: StoreClient) -> None:
    add(shop, "c1", custom_item("A", 1500))
    assert shop.delete("/v2/carts/c1/items").status_code == 204
    assert shop.get("/v2/carts/c1/items").json()["data"] == []
    assert stored_carts(container) == 1
    assert shop.delete("/v2/carts/c1").status_code == 204
    assert stored_carts(container) == 0
    assert shop.delete("/v2/carts/c1").status_code == 204


@pytest.mark.both_backends
def test_admins_list_every_cart_newest_first(shop: StoreClient) -> None:
    add(shop, "first", custom_item("A", 100))
    add(shop, "second", custom_item("A", 100))
    response = shop.get("/v2/carts")
    assert response.status_code == 200
    assert {cart["id"] for cart in response.json()["data"]} == {"first", "second"}
    assert response.json()["meta"]["results"]["total"] == 2


@pytest.mark.both_backends
def test_failed_codes_are_limited_per_cart_then_per_address(container: Container, shop: StoreClient) -> None:
    from datetime import timedelta

    moment = container.clock().replace(second=15, microsecond=0)
    container.clock = lambda: moment
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, code_attempts_per_cart=2, code_attempts_per_address=3)
    promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("A", 1500))
    add(shop, "c2", custom_item("A", 1500))

    assert apply(shop, "c1", "guess1").status_code == 404
    assert apply(shop, "c1", "guess2").status_code == 404
    limited = apply(shop, "c1", "5off")  # a real code: the limit answers before any look-up
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "45"
    assert limited.json()["errors"][0]["code"] == "too_many_attempts"
    # Another cart from the same address has one failure left before the address limit.
    assert apply(shop, "c2", "guess3").status_code == 404
    assert apply(shop, "c2", "5off").status_code == 429
    # Products and custom items are never limited, and a new minute starts afresh.
    assert add(shop, "c1", custom_item("B", 100)).status_code == 201
    moment += timedelta(minutes=1)
    assert apply(shop, "c1", "5off").status_code == 201


@pytest.mark.both_backends
def test_failed_codes_in_a_rolled_back_bulk_request_still_count(
    container: Container, shop: StoreClient
) -> None:
    moment = container.clock().replace(second=0, microsecond=0)
    container.clock = lambda: moment
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, code_attempts_per_cart=2)
    failing = [{"type": "promotion_item", "code": f"guess{i}"} for i in range(2)]
    response = add(
        shop, "c1", custom_item("A", 1500), *failing, body={"options": {"add_all_or_nothing": True}}
    )
    assert response.status_code == 404
    assert apply(shop, "c1", "anything").status_code == 429


CUSTOMER_SECRET = "a-shared-secret-of-at-least-32-bytes!"


def customer_token(subject: str, *, secret: str = CUSTOMER_SECRET, expires_in: int = 3600) -> str:
    """A customer token as EP issues them: an HS256 JWT whose `sub` is the customer id."""
    import time

    import jwt

    return jwt.encode({"sub": subject, "exp": int(time.time()) + expires_in}, secret, algorithm="HS256")


def test_user_codes_apply_only_for_the_verified_customer(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=CUSTOMER_SECRET)
    token = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    storefront = replace(shop, headers={"Authorization": f"Bearer {token.json()['access_token']}"})
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], {"code": "VIP", "user": "customer-1"})
    add(storefront, "c1", custom_item("A", 1500))

    assert apply(storefront, "c1", "vip").status_code == 404
    other = {"X-Moltin-Customer-Token": customer_token("customer-2")}
    assert apply(storefront, "c1", "vip", headers=other).status_code == 404
    mine = {"X-Moltin-Customer-Token": customer_token("customer-1")}
    assert apply(storefront, "c1", "vip", headers=mine).status_code == 201
    # Re-checked at every calculation: without the token the code gives nothing.
    assert storefront.get("/v2/carts/c1/items").json()["meta"]["display_price"]["discount"]["amount"] == 0
    assert (
        storefront.get("/v2/carts/c1/items", headers=mine).json()["meta"]["display_price"]["discount"][
            "amount"
        ]
        == -500
    )


@pytest.mark.parametrize(
    "token",
    [
        customer_token("customer-1", secret="another-secret-of-at-least-32-bytes"),
        customer_token("customer-1", expires_in=-3600),
        "not-a-jwt",
    ],
    ids=["wrong key", "expired", "garbage"],
)
def test_an_unverifiable_customer_token_is_401(
    container: Container, app_client: TestClient, shop: StoreClient, token: str
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=CUSTOMER_SECRET)
    response = shop.get("/v2/carts/c1", headers={"X-Moltin-Customer-Token": token})
    assert response.status_code == 401
    assert response.json()["errors"][0]["source"] == "X-Moltin-Customer-Token"


def test_storefront_customer_tokens_need_a_store_key(app_client: TestClient, shop: StoreClient) -> None:
    token = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    headers = {
        "Authorization": f"Bearer {token.json()['access_token']}",
        "X-Moltin-Customer-Token": customer_token("customer-1"),
    }
    assert app_client.get("/v2/carts/c1", headers=headers).status_code == 401


@pytest.mark.both_backends
def test_a_customer_lists_their_own_carts(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=CUSTOMER_SECRET)
    token = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    implicit = {"Authorization": f"Bearer {token.json()['access_token']}"}
    mine = {**implicit, "X-Moltin-Customer-Token": customer_token("customer-1")}
    theirs = {**implicit, "X-Moltin-Customer-Token": customer_token("customer-2")}
    created = app_client.post("/v2/carts", json={"data": {"name": "Mine"}}, headers=mine)
    assert created.json()["data"]["relationships"]["customers"] == {
        "data": [{"type": "customer", "id": "customer-1"}]
    }
    app_client.post("/v2/carts", json={"data": {"name": "Theirs"}}, headers=theirs)

    listed = app_client.get("/v2/carts", headers=mine).json()
    assert [cart["name"] for cart in listed["data"]] == ["Mine"]


@pytest.mark.both_backends
def test_a_change_cut_between_its_statements_leaves_the_cart_as_it_was(
    container: Container, shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.domain.shoppers import Shopper
    from promoforge.services import carts as cart_service
    from promoforge.services.carts import CodeToApply, NewCustomLine
    from promoforge.storage.repositories.carts import CartRepository

    promotion_with_code(shop, "5off")
    add(shop, "c1", custom_item("A", 1500, sku="a"))
    before = shop.get("/v2/carts/c1/items").json()

    def cut(*_args: Any, **_kwargs: Any) -> None:
        raise RuntimeError("the process died here")

    monkeypatch.setattr(CartRepository, "apply_code", cut)  # after the line was written, before the code
    with pytest.raises(RuntimeError):
        cart_service.add_lines(
            container.db,
            store_id=shop.store_id,
            cart_id="c1",
            entries=[NewCustomLine(name="B", quantity=1, unit_price=700, sku="b"), CodeToApply("5off")],
            bulk=True,
            all_or_nothing=False,
            shopper=Shopper(),
            currency=None,
            now=container.clock(),
        )
    monkeypatch.undo()

    after = shop.get("/v2/carts/c1/items").json()
    assert after["data"] == before["data"]
    assert after["meta"]["display_price"] == before["meta"]["display_price"]


@pytest.mark.both_backends
def test_preview_carts_keep_a_future_snapshot_date(shop: StoreClient) -> None:
    past = shop.post("/v2/carts", json={"data": {"id": "p1", "snapshot_date": "2020-01-01T00:00:00Z"}})
    assert past.status_code == 400
    assert past.json()["errors"][0]["source"] == "data.snapshot_date"

    created = shop.post("/v2/carts", json={"data": {"id": "p1", "snapshot_date": "2090-09-10T00:12:00Z"}})
    assert created.status_code == 201
    assert created.json()["data"]["snapshot_date"] == "2090-09-10T00:12:00Z"
    removed = shop.put("/v2/carts/p1", json={"data": {"snapshot_date": None}})
    assert removed.status_code == 400
    assert (
        shop.put("/v2/carts/p1", json={"data": {"name": "Still a preview"}}).json()["data"]["snapshot_date"]
        == "2090-09-10T00:12:00Z"
    )


def test_a_preview_cart_prices_promotions_as_of_its_date(shop: StoreClient) -> None:
    promotion_with_code(shop, "LATER", start="2089-01-01", end="2091-01-01")
    shop.post("/v2/carts", json={"data": {"id": "p1", "snapshot_date": "2090-09-10T00:12:00Z"}})
    add(shop, "p1", custom_item("A", 1500))
    assert apply(shop, "p1", "later").status_code == 201
    add(shop, "now", custom_item("A", 1500))
    assert apply(shop, "now", "later").status_code == 404


def test_both_discount_settings_at_once_are_refused(shop: StoreClient) -> None:
    settings = {"custom_discounts_enabled": True, "use_rule_promotions": True}
    response = shop.put("/v2/carts/c1", json={"data": {"discount_settings": settings}})
    assert response.status_code == 422
    assert response.json()["errors"][0]["title"] == "Cannot use both discounts together"


@pytest.mark.both_backends
def test_products_by_id_or_sku_merge_by_custom_inputs(shop: StoreClient) -> None:
    shoe = put_product(shop, "shoe", 8999, slug="shoe", meta={"catalog_id": "cat-1"})
    add(shop, "c1", {"type": "cart_item", "id": shoe, "quantity": 1})
    add(shop, "c1", {"type": "cart_item", "sku": "shoe", "quantity": 2, "image_url": "ignored junk"})
    engraved = add(
        shop, "c1", {"type": "cart_item", "id": shoe, "quantity": 1, "custom_inputs": {"text": "Hi"}}
    )

    lines = engraved.json()["data"]
    assert [(line["quantity"], line.get("custom_inputs")) for line in lines] == [
        (3, None),
        (1, {"text": "Hi"}),
    ]
    first = lines[0]
    assert first["product_id"] == shoe
    assert first["unit_price"] == {"amount": 8999, "currency": "USD", "includes_tax": False}
    assert (first["catalog_id"], first["catalog_source"], first["slug"]) == ("cat-1", "pim", "shoe")
    assert first["links"] == {"product": f"http://testserver/v2/products/{shoe}"}


@pytest.mark.both_backends
def test_unknown_draft_and_unpriced_products_are_refused(shop: StoreClient) -> None:
    draft = put_product(shop, "draft", 100, status="draft")
    euro_only = put_product(shop, "euro", 100, price={"EUR": {"amount": 100, "includes_tax": True}})
    import uuid

    unknown = str(uuid.uuid4())
    missing = add(shop, "c1", {"type": "cart_item", "id": unknown, "quantity": 1})
    assert missing.status_code == 404
    assert missing.json()["errors"][0] == {
        "status": 404,
        "title": "Product not found",
        "code": "product_not_found",
        "detail": "The requested product could not be found",
        "meta": {"id": unknown},
    }
    assert add(shop, "c1", {"type": "cart_item", "sku": "nope", "quantity": 1}).json()["errors"][0][
        "meta"
    ] == {"sku": "nope"}
    assert add(shop, "c1", {"type": "cart_item", "id": draft, "quantity": 1}).status_code == 404
    unpriced = add(shop, "c1", {"type": "cart_item", "id": euro_only, "quantity": 1})
    assert unpriced.status_code == 400
    assert unpriced.json()["errors"][0] == {
        "status": 400,
        "title": "Cart Currency Mismatch",
        "code": "cart_currency_mismatch",
        "detail": "Product euro has no price in USD",
        "meta": {"id": euro_only, "sku": "euro"},
    }


@pytest.mark.both_backends
def test_node_and_attribute_targeting_read_the_product_registry(shop: StoreClient) -> None:
    adidas = put_product(
        shop,
        "trainer",
        10000,
        extensions={"products(shoes)": {"brand": "adidas"}},
        meta={"bread_crumb_nodes": ["node-shoes"]},
    )
    put_product(shop, "hat", 10000)
    by_node = promotion_with_code(
        shop,
        "NODE",
        promotion_type="item_percent_discount",
        schema={"percent": 10, "target_nodes": ["node-shoes"]},
    )
    by_brand = promotion_with_code(
        shop,
        "BRAND",
        promotion_type="item_fixed_discount",
        schema={
            "currencies": [{"currency": "USD", "amount": 500}],
            "target_attributes": [
                {"template": "products(shoes)", "field": "brand", "type": "string", "value": "adidas"}
            ],
        },
    )
    add(
        shop,
        "c1",
        {"type": "cart_item", "id": adidas, "quantity": 2},
        {"type": "cart_item", "sku": "hat", "quantity": 1},
    )
    apply(shop, "c1", "node")
    # Each unit carries one item-level promotion: the older (node) one takes both shoes.
    response = apply(shop, "c1", "brand")
    assert response.status_code == 404
    lines = shop.get("/v2/carts/c1/items").json()["data"]
    assert [d["id"] for d in lines[0]["discounts"]] == [by_node["id"]]
    assert "discounts" not in lines[1]
    assert by_brand["id"] not in str(lines)


def test_automatic_gifts_are_added_and_taken_back(shop: StoreClient) -> None:
    racket = put_product(shop, "racket", 9000)
    put_product(shop, "balls", 500)
    gift = shop.create_promotion(
        automatic=True,
        promotion_type="bundle_gift",
        schema={
            "requirements": [{"targets": ["racket"], "quantity": 1}],
            "gifts": ["balls"],
            "auto_add_free_gift": True,
        },
    )

    added = add(shop, "c1", {"type": "cart_item", "id": racket, "quantity": 2})

    assert added.status_code == 201, added.text
    racket_line, balls = added.json()["data"]
    assert (balls["sku"], balls["quantity"], balls["auto_add_quantity"]) == ("balls", 2, 2)
    assert balls["discounts"] == [
        {
            "amount": {"amount": -1000, "currency": "USD", "includes_tax": False},
            "code": f"auto_{gift['id']}",
            "id": gift["id"],
        }
    ]
    assert added.json()["meta"]["display_price"]["with_tax"]["amount"] == 18000
    assert "promotion_suggestions" not in added.json()["meta"]

    fewer = shop.put(f"/v2/carts/c1/items/{racket_line['id']}", json={"data": {"quantity": 1}})
    assert [(line["sku"], line["quantity"]) for line in fewer.json()["data"]] == [("racket", 1), ("balls", 1)]
    gone = shop.delete(f"/v2/carts/c1/items/{racket_line['id']}")
    assert gone.json()["data"] == []


def test_gifts_that_are_not_added_are_suggested(shop: StoreClient) -> None:
    racket = put_product(shop, "racket", 9000)
    put_product(shop, "balls", 500)
    gift = shop.create_promotion(
        automatic=True,
        description="A can of balls with every racket",
        promotion_type="bundle_gift",
        schema={"requirements": [{"targets": ["racket"], "quantity": 1}], "gifts": ["balls"]},
    )

    response = add(shop, "c1", {"type": "cart_item", "id": racket, "quantity": 1})

    assert [line["sku"] for line in response.json()["data"]] == ["racket"]
    assert response.json()["meta"]["promotion_suggestions"] == [
        {
            "promotion_id": gift["id"],
            "code": f"auto_{gift['id']}",
            "info": "A can of balls with every racket",
            "bundle": [{"targets": ["balls"], "quantity": 1, "auto_add_free_gift": False}],
            "message": "Gift",
        }
    ]
