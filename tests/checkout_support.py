"""Shared by the checkout, order and usage tests: bodies, carts with lines, checkout and reading usages."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import jwt
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from support import StoreClient, TestClient

ADDRESS = {
    "first_name": "John",
    "last_name": "Doe",
    "line_1": "1234 Disney Drive",
    "city": "Anaheim",
    "region": "CA",
    "postcode": "92802",
    "country": "US",
}
GUEST = {"customer": {"name": "John Doe", "email": "john@moltin.com"}, "billing_address": ADDRESS}
SECRET = "a-shared-secret-of-at-least-32-bytes!"


def custom_item(sku: str, amount: int, quantity: int = 1) -> dict[str, Any]:
    return {
        "type": "custom_item",
        "name": sku.upper(),
        "sku": sku,
        "quantity": quantity,
        "price": {"amount": amount},
    }


def fill(
    shop: StoreClient, cart_id: str, *entries: dict[str, Any], headers: dict[str, str] | None = None
) -> None:
    response = shop.post(f"/v2/carts/{cart_id}/items", json={"data": list(entries)}, headers=headers or {})
    assert response.status_code == 201, response.text


def checkout(shop: StoreClient, cart_id: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    return shop.post(f"/v2/carts/{cart_id}/checkout", json={"data": body or GUEST}, **kwargs)


def code_promotion(shop: StoreClient, code: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    promotion = shop.create_promotion(**overrides)
    assert shop.add_codes(promotion["id"], code).status_code == 201
    return promotion


def uses_left(shop: StoreClient, promotion_id: str) -> Any:
    return shop.list_codes(promotion_id)[0].get("uses")  # left out for an unlimited code


def usages(shop: StoreClient, promotion_id: str, **params: Any) -> list[dict[str, Any]]:
    response = shop.get(f"/v2/promotions/{promotion_id}/usages", params=params)
    assert response.status_code == 200, response.text
    data: list[dict[str, Any]] = response.json()["data"]
    return data


def discount(order: dict[str, Any]) -> int:
    amount: int = order["data"]["meta"]["display_price"]["discount"]["amount"]
    return amount


def count(container: Container, table: Any) -> int:
    with container.db.read() as tx:
        return int(tx.connection.execute(select(func.count()).select_from(table)).scalar_one())


def storefront(app_client: TestClient, shop: StoreClient) -> StoreClient:
    token = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    return replace(shop, headers={"Authorization": f"Bearer {token.json()['access_token']}"})


def signed(claims: dict[str, Any]) -> str:
    return jwt.encode({**claims, "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
