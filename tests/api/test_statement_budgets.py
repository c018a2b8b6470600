"""The SQL a shopper's request costs is a budget: a cart read, a line change, a code application, a checkout
and a page of carts each run at most a fixed number of statements (transaction control aside), whatever the
cart holds, so a change that reads the same thing twice fails here on any machine.

The store is the hot-path benchmark's in small: products in nodes, code promotions that each discount some
lines, automatic promotions that reach none of them, and a cart holding the products and the codes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event

from promoforge.bootstrap import Container
from support import StoreClient, put_product

PRODUCTS = 20
CODES = tuple(f"BUDGET-{number}" for number in range(5))
EXTRA_CODE = "BUDGET-EXTRA"
AUTOMATIC_PROMOTIONS = 6
CHECKOUT: dict[str, Any] = {
    "data": {
        "customer": {"name": "John", "email": "j@example.com"},
        "billing_address": {
            "first_name": "J",
            "last_name": "D",
            "line_1": "1",
            "postcode": "9",
            "country": "US",
            "region": "CA",
        },
    }
}
# The statements are the backends' own SQL: both are held to the budgets.
pytestmark = pytest.mark.both_backends
# Order items are written in batches of this many rows (one statement each).
ORDER_ITEM_BATCH = 1000


@contextmanager
def statements(container: Container) -> Iterator[list[str]]:
    """The statements the engine runs meanwhile, transaction control aside."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().split(None, 1)[0].upper() not in {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT"}:
            seen.append(statement)

    event.listen(container.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(container.db.engine, "before_cursor_execute", record)


def _promotion(shop: StoreClient, name: str, automatic: bool, kind: str, schema: dict[str, Any]) -> str:
    body = {
        "type": "promotion",
        "name": name,
        "description": name,
        "enabled": True,
        "automatic": automatic,
        "promotion_type": kind,
        "schema": schema,
        "start": "2024-01-01",
        "end": "2099-01-01",
    }
    response = shop.post("/v2/promotions", json={"data": body})
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def _code_promotion(shop: StoreClient, name: str, kind: str, schema: dict[str, Any], code: str) -> None:
    promotion = _promotion(shop, name, False, kind, schema)
    assert shop.add_codes(promotion, code).status_code == 201


def _fill(
    shop: StoreClient, cart: str, products: list[str], codes: tuple[str, ...] = CODES
) -> dict[str, Any]:
    entries: list[dict[str, Any]] = [{"type": "cart_item", "id": p, "quantity": 2} for p in products]
    entries += [{"type": "promotion_item", "code": code} for code in codes]
    body = {"data": entries, "options": {"add_all_or_nothing": True}}
    response = shop.post(f"/v2/carts/{cart}/items", json=body)
    assert response.status_code == 201, response.text
    discounts = response.json()["meta"]["display_price"]["discounts"]
    assert sorted(discounts) == sorted(codes), discounts
    return dict(response.json())


@pytest.fixture
def stocked(shop: StoreClient) -> list[str]:
    """The store's products, promotions and codes; returns the product ids."""
    products = [
        put_product(shop, f"SKU-{index}", 1000 + index, meta={"bread_crumb_nodes": [f"node-{index}"]})
        for index in range(PRODUCTS)
    ]
    for number in range(AUTOMATIC_PROMOTIONS):
        _promotion(shop, f"auto {number}", True, "item_percent_discount", {"percent": 5, "targets": ["NONE"]})
    for number, code in enumerate(CODES):
        nodes = [f"node-{index}" for index in range(4 * number, 4 * number + 4)]
        _code_promotion(
            shop, f"code {number}", "item_percent_discount", {"percent": 10, "target_nodes": nodes}, code
        )
    _code_promotion(
        shop, "extra", "fixed_discount", {"currencies": [{"currency": "USD", "amount": 500}]}, EXTRA_CODE
    )
    return products


def _fail_text(kind: str, seen: list[str]) -> str:
    return f"{kind} ran {len(seen)} statements:\n" + "\n".join(s.split("\n")[0][:160] for s in seen)


def test_a_cart_read_runs_at_most_three_statements(
    container: Container, shop: StoreClient, stocked: list[str]
) -> None:
    _fill(shop, "budget", stocked)
    assert shop.get("/v2/carts/budget?include=items").status_code == 200
    with statements(container) as seen:
        read = shop.get("/v2/carts/budget?include=items")

    assert read.status_code == 200
    assert sorted(read.json()["data"]["meta"]["display_price"]["discounts"]) == sorted(CODES)
    assert len(seen) <= 3, _fail_text("a cart read", seen)


def test_a_line_change_runs_at_most_six_statements(
    container: Container, shop: StoreClient, stocked: list[str]
) -> None:
    filled = _fill(shop, "budget", stocked)
    line = next(item["id"] for item in filled["data"] if item["type"] == "cart_item")
    assert shop.put(f"/v2/carts/budget/items/{line}", json={"data": {"quantity": 3}}).status_code == 200
    with statements(container) as seen:
        changed = shop.put(f"/v2/carts/budget/items/{line}", json={"data": {"quantity": 4}})

    assert changed.status_code == 200, changed.text
    assert next(item["quantity"] for item in changed.json()["data"] if item["id"] == line) == 4
    assert len(seen) <= 6, _fail_text("a line change", seen)


def test_applying_a_code_runs_at_most_eight_statements(
    container: Container, shop: StoreClient, stocked: list[str]
) -> None:
    _fill(shop, "budget", stocked)
    apply = {"data": {"type": "promotion_item", "code": EXTRA_CODE}}
    assert shop.post("/v2/carts/budget/items", json=apply).status_code == 201
    assert shop.delete(f"/v2/carts/budget/discounts/{EXTRA_CODE}").status_code == 204
    with statements(container) as seen:
        applied = shop.post("/v2/carts/budget/items", json=apply)

    assert applied.status_code == 201, applied.text
    assert EXTRA_CODE in applied.json()["meta"]["display_price"]["discounts"]
    assert len(seen) <= 8, _fail_text("a code application", seen)


def test_a_checkout_runs_at_most_twelve_statements_and_one_per_batch_of_order_items(
    container: Container, shop: StoreClient, stocked: list[str]
) -> None:
    _fill(shop, "warm", stocked)
    _fill(shop, "budget", stocked)
    assert shop.post("/v2/carts/warm/checkout", json=CHECKOUT).status_code == 201
    with statements(container) as seen:
        order = shop.post("/v2/carts/budget/checkout", json=CHECKOUT)

    assert order.status_code == 201, order.text
    assert order.json()["data"]["meta"]["display_price"]["discount"]["amount"] < 0
    assert len(seen) <= 12 + 1, _fail_text("a checkout", seen)


def test_a_page_of_twenty_carts_runs_at_most_five_statements(
    container: Container, shop: StoreClient, stocked: list[str]
) -> None:
    for number in range(20):
        _fill(shop, f"page-{number}", stocked[: 4 + number % 3], CODES[:1])
    assert shop.get("/v2/carts", params={"page[limit]": 20}).status_code == 200
    with statements(container) as seen:
        page = shop.get("/v2/carts", params={"page[limit]": 20})

    assert page.status_code == 200
    assert len(page.json()["data"]) == 20
    assert all(cart["meta"]["display_price"]["discount"]["amount"] < 0 for cart in page.json()["data"])
    assert len(seen) <= 5, _fail_text("a page of 20 carts", seen)


@contextmanager
def pricings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """How many times the engine prices a cart meanwhile."""
    from promoforge.services import cart_pricing

    counted: list[int] = []
    real = cart_pricing.price_cart

    def counting(**kwargs: Any) -> Any:
        counted.append(len(kwargs["lines"]))
        return real(**kwargs)

    monkeypatch.setattr(cart_pricing, "price_cart", counting)
    yield counted
    monkeypatch.setattr(cart_pricing, "price_cart", real)


def test_a_request_prices_its_cart_once_and_a_change_once_more_for_what_it_was(
    container: Container, shop: StoreClient, stocked: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A read prices once; a change prices the cart as it was (its messages compare the two) and as it
    becomes; a code's trial pricing is the answer; a checkout whose lock-free draft holds prices once."""
    filled = _fill(shop, "budget", stocked)
    _fill(shop, "order", stocked)
    line = next(item["id"] for item in filled["data"] if item["type"] == "cart_item")
    apply = {"data": {"type": "promotion_item", "code": EXTRA_CODE}}
    counts: dict[str, int] = {}
    with pricings(monkeypatch) as seen:
        assert shop.get("/v2/carts/budget?include=items").status_code == 200
        counts["read"] = len(seen)
    with pricings(monkeypatch) as seen:
        assert shop.put(f"/v2/carts/budget/items/{line}", json={"data": {"quantity": 3}}).status_code == 200
        counts["quantity"] = len(seen)
    with pricings(monkeypatch) as seen:
        assert shop.post("/v2/carts/budget/items", json=apply).status_code == 201
        counts["code"] = len(seen)
    with pricings(monkeypatch) as seen:
        assert shop.post("/v2/carts/order/checkout", json=CHECKOUT).status_code == 201
        counts["checkout"] = len(seen)

    assert counts == {"read": 1, "quantity": 2, "code": 2, "checkout": 1}
