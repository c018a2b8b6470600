"""What a storefront token can make the service store: bounded lines, bounded carts, carts an hour, and a cart
list that costs about a page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from checkout_support import SECRET, custom_item, signed, storefront
from promoforge.bootstrap import Container
from promoforge.domain.carts import (
    MAX_CART_TEXT,
    MAX_CUSTOM_INPUTS_BYTES,
    MAX_CUSTOM_INPUTS_DEPTH,
    MAX_LINE_DESCRIPTION,
)
from support import StoreClient, TestClient


def add(client: StoreClient, cart_id: str, data: Any) -> Any:
    return client.post(f"/v2/carts/{cart_id}/items", json={"data": data})


def line_count(client: StoreClient, cart_id: str) -> int:
    return len(client.get(f"/v2/carts/{cart_id}/items").json()["data"])


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth - 1):
        value = {"next": value}
    return value


@pytest.mark.parametrize(
    ("changes", "source"),
    [
        ({"custom_inputs": {"note": "x" * MAX_CUSTOM_INPUTS_BYTES}}, "data.custom_item.custom_inputs"),
        ({"custom_inputs": nested(MAX_CUSTOM_INPUTS_DEPTH + 1)}, "data.custom_item.custom_inputs"),
        ({"custom_inputs": {"list": [[[[["deep"]]]]]}}, "data.custom_item.custom_inputs"),
        ({"description": "d" * (MAX_LINE_DESCRIPTION + 1)}, "data.custom_item.description"),
    ],
    ids=["custom_inputs too large", "objects too deep", "arrays too deep", "description too long"],
)
def test_a_line_past_its_bounds_is_400_naming_the_field(
    shop: StoreClient, changes: dict[str, Any], source: str
) -> None:
    response = add(shop, "c1", {**custom_item("a", 100), **changes})

    assert response.status_code == 400, response.text
    assert response.json()["errors"][0]["source"] == source
    assert line_count(shop, "c1") == 0


def test_lines_at_their_bounds_are_accepted(shop: StoreClient) -> None:
    inputs = {"note": "x" * (MAX_CUSTOM_INPUTS_BYTES - 200), "deep": nested(MAX_CUSTOM_INPUTS_DEPTH - 1)}
    response = add(shop, "c1", {**custom_item("a", 100), "custom_inputs": inputs, "description": "d" * 1000})

    assert response.status_code == 201, response.text


def test_custom_attributes_are_bounded(shop: StoreClient) -> None:
    long_value = {"data": {"custom_attributes": {"k": {"type": "string", "value": "v" * 1001}}}}
    long_name = {"data": {"custom_attributes": {"k" * 129: {"type": "string", "value": "v"}}}}

    assert shop.put("/v2/carts/c1", json=long_value).status_code == 400
    assert shop.put("/v2/carts/c1", json=long_name).status_code == 400


@pytest.mark.both_backends
def test_a_cart_stores_a_bounded_amount_of_text_however_it_is_filled(
    container: Container, shop: StoreClient, tmp_path: Path
) -> None:
    big = {"note": "x" * (MAX_CUSTOM_INPUTS_BYTES - 20)}
    sqlite_file = Path(container.settings.resolved_database_url().removeprefix("sqlite:///"))
    size_before = sqlite_file.stat().st_size if sqlite_file.exists() else 0

    answers = [
        add(
            shop,
            "c1",
            [
                {**custom_item(f"l{bulk}-{i}", 100), "description": "d" * 1000, "custom_inputs": big}
                for i in range(100)
            ],
        )
        for bulk in range(3)
    ]

    assert all(answer.status_code == 201 for answer in answers)
    refused = [error for answer in answers for error in answer.json().get("errors", [])]
    assert refused and {error["code"] for error in refused} <= {"cart_too_large", "cart_full"}
    assert "cart_too_large" in {error["code"] for error in refused}
    lines = shop.get("/v2/carts/c1/items").json()["data"]
    stored = sum(
        len(line["name"]) + len(line["description"]) + len(line["sku"]) + MAX_CUSTOM_INPUTS_BYTES - 10
        for line in lines
    )
    assert stored <= MAX_CART_TEXT
    if sqlite_file.exists():
        # Before the bounds, these three requests grew the file by 57.5 MB.
        assert sqlite_file.stat().st_size - size_before < 4 * MAX_CART_TEXT


@pytest.fixture
def limited(container: Container, app_client: TestClient, shop: StoreClient) -> StoreClient:
    with container.db.write() as tx:
        tx.stores.update(
            shop.store_id,
            customer_token_key=SECRET,
            carts_per_customer_per_hour=2,
            carts_per_address_per_hour=4,
        )
    return storefront(app_client, shop)


@pytest.mark.both_backends
def test_a_client_address_may_create_only_so_many_carts_an_hour(
    limited: StoreClient, shop: StoreClient
) -> None:
    made = [
        limited.post("/v2/carts", json={"data": {"name": "one"}}),
        add(limited, "first-write", custom_item("a", 100)),
        limited.put("/v2/carts/renamed", json={"data": {"name": "two"}}),
        add(limited, "fourth", custom_item("a", 100)),
    ]
    refused = [
        limited.post("/v2/carts", json={"data": {"name": "five"}}),
        add(limited, "fifth", custom_item("a", 100)),
        limited.put("/v2/carts/sixth", json={"data": {"name": "six"}}),
    ]

    assert [r.status_code for r in made] == [201, 201, 200, 201]
    for answer in refused:
        assert answer.status_code == 429, answer.text
        assert answer.json()["errors"][0]["code"] == "too_many_carts"
        assert 1 <= int(answer.headers["Retry-After"]) <= 3600
    assert limited.get("/v2/carts/fifth").json()["data"]["meta"]["timestamps"].get("updated_at") is not None
    assert line_count(limited, "fifth") == 0
    # Existing carts still take changes, and the shop's back end is not limited.
    assert add(limited, "fourth", custom_item("b", 100)).status_code == 201
    assert shop.post("/v2/carts", json={"data": {"name": "back end"}}).status_code == 201
    assert shop.get("/v2/carts").json()["meta"]["results"]["total"] == 5


@pytest.mark.both_backends
def test_a_customer_may_create_only_so_many_carts_an_hour(limited: StoreClient) -> None:
    customer = replace(
        limited, headers={**limited.headers, "X-Moltin-Customer-Token": signed({"sub": "c-1"})}
    )

    statuses = [customer.post("/v2/carts", json={"data": {"name": f"c{i}"}}).status_code for i in range(3)]

    assert statuses == [201, 201, 429]
    assert limited.post("/v2/carts", json={"data": {"name": "anonymous"}}).status_code == 201


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(*args: Any) -> None:
        seen.append(args[2])

    event.listen(container.db.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(container.db.engine, "before_cursor_execute", count)


@pytest.mark.both_backends
def test_listing_carts_costs_the_same_few_statements_for_a_page_of_any_size(
    container: Container, shop: StoreClient
) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "FIVE").status_code == 201
    shop.create_promotion(
        automatic=True,
        name="auto",
        promotion_type="item_percent_discount",
        schema={"percent": 10, "targets": ["elsewhere"]},
    )
    customer = {"X-Moltin-Customer-Token": signed({"sub": "c-1"})}
    for i in range(12):
        lines = [custom_item(f"s{j}", 1000 + j) for j in range(5)]
        assert shop.post(f"/v2/carts/c{i}/items", json={"data": lines}, headers=customer).status_code == 201
        applied = add(shop, f"c{i}", {"type": "promotion_item", "code": "five"})
        assert applied.status_code == 201, applied.text

    with statements(container) as two:
        small = shop.get("/v2/carts", params={"page[limit]": 2})
    with statements(container) as twelve:
        large = shop.get("/v2/carts", params={"page[limit]": 12})

    assert len(small.json()["data"]) == 2 and len(large.json()["data"]) == 12
    assert all(cart["meta"]["display_price"]["discount"]["amount"] == -500 for cart in large.json()["data"])
    assert len(twelve) == len(two) <= 10, twelve


@pytest.mark.both_backends
def test_a_cart_creation_that_fails_after_counting_leaves_neither_cart_nor_count(
    container: Container, limited: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.domain.shoppers import Shopper
    from promoforge.services import cart_pricing
    from promoforge.services import carts as cart_service

    real = cart_pricing.PricingInputs.price

    def dies(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the process died here")

    def create(cart_id: str) -> Any:
        return cart_service.add_lines(
            container.db,
            store_id=limited.store_id,
            cart_id=cart_id,
            entries=[cart_service.NewCustomLine(name="A", quantity=1, unit_price=100)],
            bulk=False,
            all_or_nothing=False,
            shopper=Shopper(client="198.51.100.7"),
            currency=None,
            now=container.clock(),
        )

    # Pricing runs after the cart row and its count are written.
    monkeypatch.setattr(cart_pricing.PricingInputs, "price", dies)
    for cart_id in ("lost-1", "lost-2", "lost-3"):
        with pytest.raises(RuntimeError):
            create(cart_id)
    monkeypatch.setattr(cart_pricing.PricingInputs, "price", real)

    assert limited.get("/v2/carts/lost-1").json()["data"]["relationships"]["items"] == {"data": None}
    # The address's whole allowance is left: the failed creations took none of it.
    assert [create(f"kept-{i}").cart.id for i in range(4)] == ["kept-0", "kept-1", "kept-2", "kept-3"]
