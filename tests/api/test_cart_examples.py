"""The spec's complete cart example (carts.md §4.7), compared as a whole JSON document, on both backends."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from promoforge.bootstrap import Container
from support import TestClient, make_store

EXAMPLE = Path(__file__).parent / "fixtures" / "carts_4_7_items.json"
EP_HOST = "https://useast.api.elasticpath.com"
CATALOG = "4c1e7b2a-9d3f-4e8a-b6c5-0a1d2e3f4b5c"
SHOE = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SOCKS = "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f"


def product(product_id: str, sku: str, name: str, description: str, slug: str, amount: int) -> dict[str, Any]:
    """A live product in the example's catalog, priced in USD without tax."""
    return {
        "data": {
            "type": "product",
            "id": product_id,
            "attributes": {
                "sku": sku,
                "name": name,
                "description": description,
                "slug": slug,
                "status": "live",
                "price": {"USD": {"amount": amount, "includes_tax": False}},
            },
            "meta": {"catalog_id": CATALOG},
        }
    }


@pytest.mark.both_backends
def test_section_4_7_complete_example(container: Container, app_client: TestClient) -> None:
    now = [datetime(2025, 3, 14, 10, 0, 0, tzinfo=UTC)]
    container.clock = lambda: now[0]

    def at(hour: int, minute: int, second: int) -> None:
        now[0] = datetime(2025, 3, 14, hour, minute, second, tzinfo=UTC)

    shop = make_store(container, app_client)
    put = shop.put(
        f"/v2/promoforge/products/{SHOE}",
        json=product(
            SHOE,
            "SHOE-TR-01",
            "Trail Runner Shoe",
            "Lightweight trail running shoe",
            "trail-runner-shoe",
            8999,
        ),
    )
    assert put.status_code in (200, 201), put.text
    shop.put(
        f"/v2/promoforge/products/{SOCKS}",
        json=product(SOCKS, "SOCK-MER-01", "Merino Socks", "Merino wool running socks", "merino-socks", 1299),
    )
    run15 = shop.create_promotion(
        name="15% off trail shoes",
        description="15% off trail shoes",
        promotion_type="item_percent_discount",
        schema={"percent": 15, "targets": ["SHOE-TR-01"]},
    )
    shop.add_codes(run15["id"], "RUN15")
    at(10, 0, 1)
    save10 = shop.create_promotion(
        name="$10 off your order",
        description="$10 off any order",
        schema={"currencies": [{"currency": "USD", "amount": 1000}]},
    )

    shop.add_codes(save10["id"], "SAVE10")

    at(10, 2, 11)
    shoes = shop.post("/v2/carts/c/items", json={"data": {"type": "cart_item", "id": SHOE, "quantity": 2}})
    assert shoes.status_code == 201, shoes.text
    at(10, 3, 5)
    shop.post("/v2/carts/c/items", json={"data": {"type": "cart_item", "sku": "SOCK-MER-01", "quantity": 3}})
    at(10, 5, 0)
    shop.post("/v2/carts/c/items", json={"data": {"type": "promotion_item", "code": "RUN15"}})
    at(10, 6, 40)
    applied = shop.post("/v2/carts/c/items", json={"data": {"type": "promotion_item", "code": "SAVE10"}})
    assert applied.status_code == 201, applied.text

    actual = shop.get("/v2/carts/c/items").json()

    ids = {line["sku"]: line["id"] for line in actual["data"]}
    replacements = {
        EP_HOST: "http://testserver",
        "5b1c9d0e-7f2a-4c3b-9e8d-1a2b3c4d5e6f": ids["SHOE-TR-01"],
        "c2d3e4f5-a6b7-4c8d-9e0f-1a2b3c4d5e60": ids["SOCK-MER-01"],
        "a4b5c6d7-e8f9-4a0b-9c1d-2e3f4a5b6c7d": ids["SAVE10"],
        "6d1f4c2a-8b3e-4f5d-9a7c-2e1b0c9d8f7a": run15["id"],
        "e7a9b3c1-2d4f-4e6a-8b0c-9d1e2f3a4b5c": save10["id"],
    }
    text = EXAMPLE.read_text()
    for old, new in replacements.items():
        text = text.replace(old, new)
    assert actual == json.loads(text)


def _money(amount: int) -> dict[str, Any]:
    sign = "-" if amount < 0 else ""
    return {"amount": amount, "currency": "USD", "formatted": f"{sign}${abs(amount) / 100:,.2f}"}


SECTION_6_10 = [
    # (lines as (sku, unit price, quantity), item promotion schema or None, cart fixed amount, expected lines)
    pytest.param(
        [("sku1", 10000, 1)],
        {"promotion_type": "item_percent_discount", "schema": {"percent": 1.123456, "targets": ["sku1"]}},
        100,
        [{"discount": (-212, -212), "with_tax": (9788, 9788)}],
        id="R3 2023: item 1.123456 % and cart 100",
    ),
    pytest.param(
        [("nested-bundle", 9999, 1)],
        {
            "promotion_type": "item_fixed_discount",
            "schema": {"currencies": [{"currency": "USD", "amount": 1000}], "targets": ["nested-bundle"]},
        },
        1000,
        [{"discount": (-2000, -2000), "with_tax": (7999, 7999)}],
        id="R3 2022: item 1000 and cart 1000",
    ),
    pytest.param(
        [("x", 1500, 1)],
        None,
        500,
        [{"discount": (-500, -500), "with_tax": (1000, 1000)}],
        id="R3 2021: cart 500",
    ),
    pytest.param(
        [("a", 999, 3), ("b", 3, 1)],
        None,
        1000,
        [{"discount": (-333, -999), "with_tax": (666, 1998)}, {"discount": (-1, -1), "with_tax": (2, 2)}],
        id="R4 calculate-totals: 29.97 + 0.03, cart 10.00",
    ),
]


@pytest.mark.parametrize(("lines", "item_promotion", "cart_amount", "expected"), SECTION_6_10)
def test_section_6_10_worked_checks(
    container: Container,
    app_client: TestClient,
    lines: list[tuple[str, int, int]],
    item_promotion: dict[str, Any] | None,
    cart_amount: int,
    expected: list[dict[str, tuple[int, int]]],
) -> None:
    shop = make_store(container, app_client)
    codes = []
    if item_promotion is not None:
        item = shop.create_promotion(**item_promotion)
        shop.add_codes(item["id"], "ITEM")
        codes.append("ITEM")
    cart_level = shop.create_promotion(schema={"currencies": [{"currency": "USD", "amount": cart_amount}]})
    shop.add_codes(cart_level["id"], "CART")
    codes.append("CART")
    entries = [
        {"type": "custom_item", "name": sku, "sku": sku, "quantity": quantity, "price": {"amount": price}}
        for sku, price, quantity in lines
    ]
    entries += [{"type": "promotion_item", "code": code} for code in codes]
    response = shop.post("/v2/carts/c/items", json={"data": entries})
    assert response.status_code == 201, response.text
    assert "errors" not in response.json(), response.text

    priced = [line for line in response.json()["data"] if line["type"] == "custom_item"]
    for line, wanted in zip(priced, expected, strict=True):
        blocks = line["meta"]["display_price"]
        for block, (unit, value) in wanted.items():
            assert blocks[block] == {"unit": _money(unit), "value": _money(value)}, (line["sku"], block)
    promotion_line = response.json()["data"][-1]
    assert promotion_line["value"] == {"amount": -cart_amount, "currency": "USD", "includes_tax": False}


def test_section_6_6_ten_percent_screenshot_through_a_cart_and_its_order(
    container: Container, app_client: TestClient
) -> None:
    """EP's 10 % screenshot: Coffee Maker 159.95 → 143.95 and Grinder 99.99 → 90.00, 233.95 in all (B12)."""
    shop = make_store(container, app_client)
    maker, grinder = "5f0c9a1e-2b3d-4c5e-8f70-1a2b3c4d5e6f", "6a1d0b2f-3c4e-4d6f-9a81-2b3c4d5e6f70"
    for product_id, sku, name, amount in (
        (maker, "COFFEE-MAKER", "Coffee Maker", 15995),
        (grinder, "GRINDER", "Grinder", 9999),
    ):
        put = shop.put(
            f"/v2/promoforge/products/{product_id}",
            json=product(product_id, sku, name, name, sku.lower(), amount),
        )
        assert put.status_code in (200, 201), put.text
    ten = shop.create_promotion(
        name="10% off",
        promotion_type="percent_discount",
        schema={"currencies": [{"currency": "USD", "percentage": 10}]},
    )
    shop.add_codes(ten["id"], "TEN")

    for product_id in (maker, grinder):
        added = shop.post(
            "/v2/carts/c/items", json={"data": {"type": "cart_item", "id": product_id, "quantity": 1}}
        )
        assert added.status_code == 201, added.text
    applied = shop.post("/v2/carts/c/items", json={"data": {"type": "promotion_item", "code": "TEN"}})
    assert applied.status_code == 201, applied.text

    items = shop.get("/v2/carts/c/items").json()
    with_tax = {line["sku"]: line["meta"]["display_price"]["with_tax"]["value"] for line in items["data"]}
    assert with_tax == {"COFFEE-MAKER": _money(14395), "GRINDER": _money(9000), "TEN": _money(-2599)}
    assert items["meta"]["display_price"]["with_tax"] == _money(23395)
    assert items["meta"]["display_price"]["discount"] == _money(-2599)

    billing = {
        "first_name": "Ann",
        "last_name": "Lee",
        "line_1": "1 Main St",
        "region": "CA",
        "postcode": "92802",
        "country": "US",
    }
    customer = {"name": "Ann Lee", "email": "ann@example.com"}
    checkout = shop.post(
        "/v2/carts/c/checkout", json={"data": {"customer": customer, "billing_address": billing}}
    )
    assert checkout.status_code == 201, checkout.text
    ordered = {
        line["sku"]: line["meta"]["display_price"]["with_tax"]["value"]["amount"]
        for line in checkout.json()["included"]["items"]
    }
    assert ordered == {"COFFEE-MAKER": 14395, "GRINDER": 9000, "TEN": -2599}
    assert checkout.json()["data"]["meta"]["display_price"]["with_tax"]["amount"] == 23395
