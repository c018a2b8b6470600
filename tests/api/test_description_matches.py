"""The published description says what the server does: declared path parameters, the cart id's pattern,
and authentication judged before anything else about a request."""

from __future__ import annotations

import re

import pytest

from promoforge.domain.carts import CART_ID_PATTERN
from support import StoreClient, TestClient


def test_every_path_parameter_is_declared_and_cart_ids_carry_their_pattern(app_client: TestClient) -> None:
    paths = app_client.get("/openapi.json").json()["paths"]
    undeclared = []
    for path, operations in paths.items():
        for method, operation in operations.items():
            declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "path"}
            for name in re.findall(r"{(\w+)}", path):
                if name not in declared:
                    undeclared.append(f"{method.upper()} {path}: {name}")
                if name == "cartID":
                    schema = declared[name]["schema"]
                    assert (schema["pattern"], schema["minLength"], schema["maxLength"]) == (
                        CART_ID_PATTERN.pattern,
                        1,
                        64,
                    ), f"{method} {path}"
    assert undeclared == []
    assert "/v2/carts/{cartID}/discounts/{promoCode}" in paths


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/v2/carts/bad!id?include=nothing", None),
        ("GET", "/v2/carts/c1?include=nothing", None),
        ("GET", "/v2/orders?filter=gt(with_tax,lots)&sort=colour", None),
        ("GET", "/v2/promotions?page[limit]=-1", None),
        ("POST", "/v2/carts/c1/items", b"{not json"),
        ("POST", "/v2/promotions", b'{"data": 5}'),
        ("PUT", "/v2/carts/c1", b"[]"),
        ("DELETE", "/v2/carts/bad!id/discounts/x", None),
        ("GET", "/v2/orders/not-a-uuid", None),
    ],
)
def test_a_request_without_a_token_is_401_whatever_else_is_wrong_with_it(
    app_client: TestClient, shop: StoreClient, method: str, path: str, body: bytes | None
) -> None:
    headers = {"Content-Type": "application/json"} if body is not None else {}
    response = app_client.request(method, path, content=body, headers=headers)

    assert response.status_code == 401, response.text
    assert response.json()["errors"][0]["status"] == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
