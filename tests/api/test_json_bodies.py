"""Every route that takes a JSON body refuses what JSON or storage do not allow, and parses the body once."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.routing import APIRoute

from promoforge.api.app import ROUTERS
from promoforge.api.body import MAX_JSON_DEPTH, JSONBodyRoute
from support import StoreClient, promotion_body

SOME_ID = "5f0c8a2e-6d1b-4c3a-9e7f-2b4d6a8c0e1f"  # fixed: every test worker must collect the same ids


def json_routes() -> list[tuple[str, str]]:
    """(method, path) of every route whose body is JSON, with ids filled in."""
    found = []
    for router in ROUTERS:
        for route in router.routes:
            if isinstance(route, APIRoute) and route.body_field is not None:
                assert isinstance(route, JSONBodyRoute), f"{route.path} takes a body without the JSON checks"
                path = route.path_format
                for parameter in (
                    "{promotionID}",
                    "{jobID}",
                    "{productID}",
                    "{cartitemID}",
                    "{integrationID}",
                ):
                    path = path.replace(parameter, SOME_ID)
                path = path.replace("{cartID}", "a-cart")
                found.extend((method, path) for method in sorted(route.methods))
    return found


JSON_ROUTES = json_routes()
HOSTILE_BODIES = {
    "NaN": (b'{"data": {"type": "x", "n": NaN}}', "NaN is not a JSON value"),
    "Infinity": (b'{"data": {"type": "x", "n": -Infinity}}', "-Infinity is not a JSON value"),
    "deep": (
        b'{"data": ' + b'{"a": ' * (MAX_JSON_DEPTH + 2) + b"1" + b"}" * (MAX_JSON_DEPTH + 2) + b"}",
        f"nested more than {MAX_JSON_DEPTH} levels deep",
    ),
    "NUL": (b'{"data": {"type": "a\\u0000b"}}', "must not contain NUL characters"),
    "surrogate": (b'{"data": {"type": "\\ud800"}}', "unpaired surrogate"),
    "not UTF-8": (b'{"data": "\xff"}', "not valid UTF-8"),
}


def test_the_json_routes_are_found() -> None:
    assert {method for method, _ in JSON_ROUTES} == {"POST", "PUT", "DELETE"}
    assert len(JSON_ROUTES) == 20


@pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
@pytest.mark.parametrize("kind", list(HOSTILE_BODIES))
def test_hostile_json_is_refused_naming_the_field(
    shop: StoreClient, method: str, path: str, kind: str
) -> None:
    content, detail = HOSTILE_BODIES[kind]
    response = shop.request(method, path, content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    error = response.json()["errors"][0]
    assert detail in error["detail"]
    assert error["source"].startswith("data")


def test_the_body_is_parsed_once(shop: StoreClient, monkeypatch: pytest.MonkeyPatch) -> None:
    content = json.dumps({"data": promotion_body(name="parsed once")})
    parsed: list[Any] = []
    real_loads = json.loads

    def counting_loads(text: Any, **options: Any) -> Any:
        if text in (content, content.encode()):
            parsed.append(text)
        return real_loads(text, **options)

    monkeypatch.setattr(json, "loads", counting_loads)
    response = shop.post("/v2/promotions", content=content, headers={"Content-Type": "application/json"})
    monkeypatch.undo()
    assert response.status_code == 201, response.text
    assert response.json()["data"]["name"] == "parsed once"
    assert len(parsed) == 1
