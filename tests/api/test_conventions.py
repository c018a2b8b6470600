"""Wire conventions: error documents for malformed requests, paging bounds, envelopes."""

from __future__ import annotations

import pytest

from promoforge.bootstrap import Container
from support import StoreClient, promotion_body


def assert_errors(response: object, status: int, source: str | None = None) -> dict[str, object]:
    """The response is `status` with an EP errors array (naming `source` when given)."""
    assert response.status_code == status, response.text  # type: ignore[attr-defined]
    errors = response.json()["errors"]  # type: ignore[attr-defined]
    assert isinstance(errors, list) and errors
    assert all(e["status"] == status and isinstance(e["title"], str) for e in errors)
    if source is not None:
        assert source in [e.get("source") for e in errors], errors
    first: dict[str, object] = errors[0]
    return first


@pytest.mark.parametrize(
    ("content", "content_type", "source"),
    [
        (b'{"data": ', "application/json", "data"),
        (b"\xff\xfe{}", "application/json", "data"),
        (b'{"data": {}}', "text/plain", "Content-Type"),
        (b"data=1", "application/x-www-form-urlencoded", "Content-Type"),
        (b'{"data": {"type": "promotion", "name": "a\\u0000b"}}', "application/json", "data.name"),
        (b'{"data": {"type": "promotion", "name": "\\ud800"}}', "application/json", "data.name"),
        (b"[" * 100 + b"]" * 100, "application/json", None),
        (b"[]", "application/json", "data"),
        (b"", "application/json", "data"),
    ],
)
def test_malformed_bodies_are_400(
    shop: StoreClient, content: bytes, content_type: str, source: str | None
) -> None:
    response = shop.post("/v2/promotions", content=content, headers={"Content-Type": content_type})
    assert_errors(response, 400, source)
    assert shop.get("/v2/promotions").json()["meta"]["results"]["total"] == 0


@pytest.mark.parametrize(
    ("params", "source"),
    [
        ({"page[limit]": "0"}, "page[limit]"),
        ({"page[limit]": "101"}, "page[limit]"),
        ({"page[limit]": "ten"}, "page[limit]"),
        ({"page[offset]": "-1"}, "page[offset]"),
        ({"page[offset]": "10001"}, "page[offset]"),
        ({"page[offset]": "99999999999999999999999"}, "page[offset]"),
        ({"filter": "eq(name,x)"}, "filter"),
        ({"filter": "eq(code"}, "filter"),
    ],
)
def test_bad_paging_and_filters_are_400(shop: StoreClient, params: dict[str, str], source: str) -> None:
    assert_errors(shop.get("/v2/promotions", params=params), 400, source)


def test_unknown_route_and_method_are_errors(shop: StoreClient) -> None:
    assert_errors(shop.get("/v2/nothing-here"), 404)
    assert_errors(shop.request("PATCH", "/v2/promotions"), 405)


def test_too_large_body_is_413(container: Container, shop: StoreClient) -> None:
    limit = container.settings.max_body_bytes
    response = shop.post(
        "/v2/promotions", content=b"{" + b" " * limit + b"}", headers={"Content-Type": "application/json"}
    )
    assert_errors(response, 413)


def test_json_api_media_type_is_accepted(shop: StoreClient) -> None:
    import json

    response = shop.post(
        "/v2/promotions",
        content=json.dumps({"data": promotion_body()}).encode(),
        headers={"Content-Type": "application/vnd.api+json"},
    )
    assert response.status_code == 201


def test_delete_without_body_is_fine_with_json_header(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    response = shop.delete(f"/v2/promotions/{promotion['id']}", headers={"Content-Type": "application/json"})
    assert response.status_code == 204


@pytest.mark.both_backends
def test_code_count_matches_codes_after_mixed_operations(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], *[f"K{i}" for i in range(10)])
    shop.add_codes(promotion["id"], "K1", "NEW")  # refused: clash
    shop.delete(f"/v2/promotions/{promotion['id']}/codes/K2")
    shop.delete(
        f"/v2/promotions/{promotion['id']}/codes",
        json={
            "data": {"type": "promotion_codes", "codes": [{"code": "K3"}, {"code": "K4"}, {"code": "none"}]}
        },
    )
    with container.db.read() as repos:
        stored = repos.store(shop.store_id).promotions.get(promotion["id"])
        actual = repos.store(shop.store_id).codes.count(promotion["id"])
    assert stored is not None
    assert actual == 7
    assert stored.code_count == actual


def test_nul_in_query_or_path_is_400(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    assert_errors(shop.get("/v2/promotions?filter=eq(code,a%00b)"), 400, "filter")
    assert_errors(shop.delete(f"/v2/promotions/{promotion['id']}/codes/a%00b"), 400, "path")
    assert shop.get(f"/v2/promotions/{promotion['id']}").status_code == 200


def test_nan_and_infinity_are_not_json(shop: StoreClient) -> None:
    body = b'{"data": {"type": "promotion", "name": "x", "max_applications_per_cart": NaN}}'
    assert_errors(
        shop.post("/v2/promotions", content=body, headers={"Content-Type": "application/json"}), 400
    )
    body = b'{"data": {"type": "promotion", "name": "x", "max_applications_per_cart": -Infinity}}'
    assert_errors(
        shop.post("/v2/promotions", content=body, headers={"Content-Type": "application/json"}), 400
    )


@pytest.mark.both_backends
def test_years_before_1000_keep_four_digits_and_can_be_updated(shop: StoreClient) -> None:
    created = shop.create_promotion(start="0999-01-01")
    assert created["start"] == "0999-01-01T00:00:00Z"
    response = shop.put(
        f"/v2/promotions/{created['id']}", json={"data": {"type": "promotion", "name": "renamed"}}
    )
    assert response.status_code == 200, response.text
    assert response.json()["data"]["start"] == "0999-01-01T00:00:00Z"
