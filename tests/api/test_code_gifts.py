"""Free gifts of code promotions (carts.md §5.4, revised): applied once the gift goes in at its price,
applied again it becomes free; without auto-adding, the gift is suggested."""

from __future__ import annotations

from typing import Any

from support import StoreClient, put_product


def gift_promotion(shop: StoreClient, code: str, *, auto_add: bool | None) -> dict[str, Any]:
    schema: dict[str, Any] = {"requirements": [{"targets": ["racket"], "quantity": 1}], "gifts": ["balls"]}
    if auto_add is not None:
        schema["auto_add_free_gift"] = auto_add
    promotion = shop.create_promotion(
        promotion_type="bundle_gift", description="Balls with a racket", schema=schema
    )
    assert shop.add_codes(promotion["id"], code).status_code == 201
    return promotion


def apply(shop: StoreClient, cart_id: str, code: str) -> Any:
    return shop.post(f"/v2/carts/{cart_id}/items", json={"data": {"type": "promotion_item", "code": code}})


def lines(response: Any) -> list[tuple[str, int, int]]:
    """(sku, quantity, discount) of each product line."""
    return [
        (line["sku"], line["quantity"], line["meta"]["display_price"]["discount"]["value"]["amount"])
        for line in response.json()["data"]
        if line["type"] == "cart_item"
    ]


def test_the_first_application_adds_the_gift_at_its_price_and_the_second_makes_it_free(
    shop: StoreClient,
) -> None:
    racket = put_product(shop, "racket", 9000)
    put_product(shop, "balls", 500)
    promotion = gift_promotion(shop, "BALLS", auto_add=True)
    shop.post("/v2/carts/c1/items", json={"data": {"type": "cart_item", "id": racket, "quantity": 2}})

    first = apply(shop, "c1", "balls")

    assert first.status_code == 201, first.text
    assert lines(first) == [("racket", 2, 0), ("balls", 2, 0)]
    assert first.json()["meta"]["display_price"]["with_tax"]["amount"] == 2 * 9000 + 2 * 500
    assert first.json()["meta"]["messages"] == [
        {
            "source": {"type": "promotion", "id": promotion["id"], "code": "BALLS"},
            "title": "Gift Added",
            "description": "The free gift was added to the cart; apply the code again to make it free.",
        }
    ]
    stored = shop.get("/v2/carts/c1/items")
    assert lines(stored) == [("racket", 2, 0), ("balls", 2, 0)]

    second = apply(shop, "c1", "BALLS")

    assert second.status_code == 201, second.text
    assert lines(second) == [("racket", 2, 0), ("balls", 2, -1000)]
    assert second.json()["meta"]["display_price"]["with_tax"]["amount"] == 2 * 9000
    assert lines(shop.get("/v2/carts/c1/items")) == [("racket", 2, 0), ("balls", 2, -1000)]


def test_a_cart_that_holds_the_gift_gets_it_free_on_the_first_application(shop: StoreClient) -> None:
    racket = put_product(shop, "racket", 9000)
    balls = put_product(shop, "balls", 500)
    gift_promotion(shop, "BALLS", auto_add=True)
    shop.post(
        "/v2/carts/c1/items",
        json={"data": [{"type": "cart_item", "id": racket}, {"type": "cart_item", "id": balls}]},
    )

    response = apply(shop, "c1", "balls")

    assert response.status_code == 201, response.text
    assert lines(response) == [("racket", 1, 0), ("balls", 1, -500)]


def test_without_auto_add_the_code_stays_and_suggests_the_gift_until_it_is_added(shop: StoreClient) -> None:
    racket = put_product(shop, "racket", 9000)
    balls = put_product(shop, "balls", 500)
    promotion = gift_promotion(shop, "BALLS", auto_add=None)
    shop.post("/v2/carts/c1/items", json={"data": {"type": "cart_item", "id": racket}})

    applied = apply(shop, "c1", "balls")

    assert applied.status_code == 201, applied.text
    assert lines(applied) == [("racket", 1, 0)]
    assert applied.json()["meta"]["promotion_suggestions"] == [
        {
            "promotion_id": promotion["id"],
            "code": "BALLS",
            "info": "Balls with a racket",
            "bundle": [{"targets": ["balls"], "quantity": 1, "auto_add_free_gift": False}],
            "message": "Gift",
        }
    ]
    assert "promotion_suggestions" in shop.get("/v2/carts/c1/items").json()["meta"]

    with_gift = shop.post("/v2/carts/c1/items", json={"data": {"type": "cart_item", "id": balls}})

    assert lines(with_gift) == [("racket", 1, 0), ("balls", 1, -500)]


def test_a_gift_code_on_a_cart_without_its_requirements_is_refused(shop: StoreClient) -> None:
    put_product(shop, "racket", 9000)
    put_product(shop, "balls", 500)
    gift_promotion(shop, "BALLS", auto_add=True)
    shop.post(
        "/v2/carts/c1/items",
        json={"data": {"type": "custom_item", "name": "x", "quantity": 1, "price": {"amount": 100}}},
    )

    response = apply(shop, "c1", "balls")

    assert response.status_code == 404, response.text
    assert [line["name"] for line in shop.get("/v2/carts/c1/items").json()["data"]] == ["x"]
