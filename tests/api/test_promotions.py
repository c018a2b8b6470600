"""Promotions: create, list, get, partial update, delete, history, expiry rules."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any

import pytest

from promoforge.bootstrap import Container
from support import StoreClient, promotion_body

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
SCHEMAS: dict[str, dict[str, Any]] = {
    "fixed_discount": {"currencies": [{"currency": "USD", "amount": 500}]},
    "percent_discount": {"currencies": [{"currency": "USD", "percentage": 10}]},
    "item_fixed_discount": {"currencies": [{"currency": "USD", "amount": 100}], "targets": ["SKU1"]},
    "item_percent_discount": {"percent": 50, "targets": ["SKU1"], "exclude": {"targets": None}},
    "x_for_y": {"x": 3, "y": 2, "targets": ["SKU1"]},
    "x_for_amount": {"x": 3, "currencies": [{"currency": "USD", "amount": 2000}], "targets": ["SKU1"]},
    "bundle_fixed_discount": {
        "requirements": [{"targets": ["SKU1"], "quantity": 1}, {"targets": ["SKU2"], "quantity": 2}],
        "currencies": [{"currency": "GBP", "amount": 5000}],
    },
    "bundle_gift": {"requirements": [{"targets": ["SKU1"], "quantity": 2}], "gifts": ["GIFT1"]},
}


@pytest.mark.both_backends
@pytest.mark.parametrize("promotion_type", sorted(SCHEMAS))
def test_create_each_type(shop: StoreClient, promotion_type: str) -> None:
    created = shop.create_promotion(promotion_type=promotion_type, schema=SCHEMAS[promotion_type])
    assert created["type"] == "promotion"
    assert uuid.UUID(created["id"]).version == 4
    assert created["promotion_type"] == promotion_type
    assert created["schema"] == SCHEMAS[promotion_type]
    assert created["start"] == "2024-01-01T00:00:00Z"
    assert created["end"] == "2099-12-31T00:00:00Z"
    assert TIMESTAMP.match(created["meta"]["timestamps"]["created_at"])
    fetched = shop.get(f"/v2/promotions/{created['id']}")
    assert fetched.status_code == 200
    assert fetched.json()["data"] == created


def test_create_normalises_dates_and_ignores_client_id(shop: StoreClient) -> None:
    client_id = str(uuid.uuid4())
    created = shop.create_promotion(id=client_id, start="2024-03-01 08:30", end="2024-03-31T23:00:00-02:00")
    assert created["id"] != client_id
    assert created["start"] == "2024-03-01T08:30:00Z"
    assert created["end"] == "2024-04-01T01:00:00Z"


@pytest.mark.parametrize(
    ("overrides", "status", "source"),
    [
        ({"enabled": None}, 400, "data.enabled"),
        ({"type": "promotions"}, 400, "data.type"),
        (
            {"schema": {"currencies": [{"currency": "usd", "amount": 1}]}},
            400,
            "data.schema.currencies.0.currency",
        ),
        (
            {"schema": {"currencies": [{"currency": "USD", "amount": 1.5}]}},
            400,
            "data.schema.currencies.0.amount",
        ),
        ({"promotion_type": "mystery"}, 422, "data.promotion_type"),
        ({"start": "2025-01-01", "end": "2025-01-01"}, 422, "data.end"),
        ({"start": "31/12/2025"}, 400, "data.start"),
    ],
)
def test_create_validation_names_the_field(
    shop: StoreClient, overrides: dict[str, Any], status: int, source: str
) -> None:
    response = shop.post("/v2/promotions", json={"data": promotion_body(**overrides)})
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert source in [e["source"] for e in errors]
    assert all(e["status"] == status for e in errors)
    assert shop.get("/v2/promotions").json()["meta"]["results"]["total"] == 0


def test_missing_required_field_reads_like_ep(shop: StoreClient) -> None:
    body = promotion_body()
    del body["enabled"]
    response = shop.post("/v2/promotions", json={"data": body})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "status": 400,
            "title": "required",
            "code": "invalid_input",
            "detail": "data.enabled is required",
            "source": "data.enabled",
        }
    ]


@pytest.mark.both_backends
def test_list_pages_with_links(shop: StoreClient) -> None:
    ids = [shop.create_promotion(name=f"P{i}")["id"] for i in range(5)]
    first = shop.get("/v2/promotions", params={"page[limit]": 2}).json()
    assert [p["id"] for p in first["data"]] == ids[:2]
    assert first["meta"] == {
        "page": {"limit": 2, "offset": 0, "current": 1, "total": 3},
        "results": {"total": 5},
    }
    links = first["links"]
    assert links["prev"] is None
    assert links["next"].endswith("/v2/promotions?page[offset]=2&page[limit]=2")
    assert links["last"].endswith("page[offset]=4&page[limit]=2")
    last = shop.get("/v2/promotions", params={"page[limit]": 2, "page[offset]": 4}).json()
    assert [p["id"] for p in last["data"]] == ids[4:]
    assert last["links"]["next"] is None
    assert last["links"]["prev"].endswith("page[offset]=2&page[limit]=2")
    assert last["meta"]["page"]["current"] == 3
    one_page = shop.get("/v2/promotions").json()
    assert one_page["links"]["last"] is None and one_page["links"]["next"] is None
    assert one_page["meta"]["page"]["limit"] == 25


def test_empty_list_still_has_meta(shop: StoreClient) -> None:
    body = shop.get("/v2/promotions").json()
    assert body["data"] == []
    assert body["meta"] == {
        "page": {"limit": 25, "offset": 0, "current": 1, "total": 1},
        "results": {"total": 0},
    }


@pytest.mark.both_backends
def test_filter_by_code_finds_the_owner(shop: StoreClient) -> None:
    owner = shop.create_promotion(name="owner")
    shop.create_promotion(name="other")
    assert shop.add_codes(owner["id"], "Summer10").status_code == 201
    found = shop.get("/v2/promotions", params={"filter": "eq(code, SUMMER10)"}).json()
    assert [p["id"] for p in found["data"]] == [owner["id"]]
    none = shop.get("/v2/promotions", params={"filter": "eq(code,nothing)"}).json()
    assert none["data"] == [] and none["meta"]["results"]["total"] == 0


@pytest.mark.both_backends
@pytest.mark.parametrize(
    "promotion_id", ["9b1d2f3a-4c5e-4f60-8a7b-1c2d3e4f5a6b", "not-a-uuid", "1' OR '1'='1"]
)
def test_unknown_promotion_is_404(shop: StoreClient, promotion_id: str) -> None:
    for method in ("GET", "PUT", "DELETE"):
        kwargs = {"json": {"data": {"type": "promotion", "name": "x"}}} if method == "PUT" else {}
        response = shop.request(method, f"/v2/promotions/{promotion_id}", **kwargs)
        assert response.status_code == 404, (method, response.text)
        assert response.json()["errors"][0]["detail"] == "promotion not found"


@pytest.mark.both_backends
def test_put_is_partial_and_records_history(shop: StoreClient) -> None:
    created = shop.create_promotion()
    response = shop.put(
        f"/v2/promotions/{created['id']}",
        json={"data": {"type": "promotion", "id": created["id"], "enabled": False}},
    )
    assert response.status_code == 200
    updated = response.json()["data"]
    assert updated["enabled"] is False
    assert updated["name"] == created["name"]
    assert updated["schema"] == created["schema"]
    assert updated["meta"]["timestamps"]["created_at"] == created["meta"]["timestamps"]["created_at"]
    shop.put(f"/v2/promotions/{created['id']}", json={"data": {"type": "promotion", "name": "Renamed"}})
    history = shop.get(f"/v2/promotions/{created['id']}/history").json()
    assert [(v["name"], v["enabled"], v["current"]) for v in history["data"]] == [
        ("Renamed", False, True),
        ("Summer sale", False, False),
        ("Summer sale", True, False),
    ]
    assert all(v["id"] == created["id"] and v["parent_id"] == created["id"] for v in history["data"])
    assert history["meta"]["results"]["total"] == 3
    paged = shop.get(
        f"/v2/promotions/{created['id']}/history", params={"page[limit]": 1, "page[offset]": 2}
    ).json()
    assert [v["enabled"] for v in paged["data"]] == [True]


@pytest.mark.both_backends
def test_put_can_clear_optional_fields_and_change_schema(shop: StoreClient) -> None:
    created = shop.create_promotion(min_cart_value=[{"currency": "USD", "amount": 1000}])
    assert created["min_cart_value"] == [{"currency": "USD", "amount": 1000}]
    new_schema = {"currencies": [{"currency": "EUR", "amount": 700}]}
    updated = shop.put(
        f"/v2/promotions/{created['id']}",
        json={"data": {"type": "promotion", "min_cart_value": None, "schema": new_schema}},
    ).json()["data"]
    assert "min_cart_value" not in updated
    assert updated["schema"] == new_schema


@pytest.mark.parametrize(
    ("changes", "status", "source"),
    [
        ({"promotion_type": "percent_discount"}, 422, "data.promotion_type"),
        ({"end": "2000-01-01"}, 422, "data.end"),
        ({"name": None}, 400, "data.name"),
        ({"schema": {"currencies": "lots"}}, 400, "data.schema.currencies"),
        ({"id": str(uuid.uuid4())}, 400, "data.id"),
    ],
)
def test_put_validation_keeps_the_promotion(
    shop: StoreClient, changes: dict[str, Any], status: int, source: str
) -> None:
    created = shop.create_promotion()
    response = shop.put(f"/v2/promotions/{created['id']}", json={"data": {"type": "promotion", **changes}})
    assert response.status_code == status, response.text
    assert source in [e["source"] for e in response.json()["errors"]]
    assert shop.get(f"/v2/promotions/{created['id']}").json()["data"] == created
    assert shop.get(f"/v2/promotions/{created['id']}/history").json()["meta"]["results"]["total"] == 1


@pytest.mark.both_backends
def test_delete_takes_codes_and_jobs_with_it(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "GONE1", "GONE2")
    shop.create_job(promotion["id"], number_of_codes=5)
    run_jobs()
    response = shop.delete(f"/v2/promotions/{promotion['id']}")
    assert response.status_code == 204
    assert response.content == b""
    assert shop.get(f"/v2/promotions/{promotion['id']}").status_code == 404
    assert shop.get(f"/v2/promotions/{promotion['id']}/codes").status_code == 404
    assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 404
    # The codes are free again for another promotion of the store.
    other = shop.create_promotion()
    assert shop.add_codes(other["id"], "gone1", "GONE2").status_code == 201


def _expire(container: Container, shop: StoreClient, promotion_id: str) -> None:
    """Move a promotion's end into the past directly (the API refuses end before start)."""
    from sqlalchemy import update

    from promoforge.storage.schema import promotions

    past = container.clock() - timedelta(days=1)
    with container.db.write() as repos:
        repos.connection.execute(
            update(promotions)
            .where(promotions.c.id == promotion_id)
            .values(starts_at=past - timedelta(days=30), ends_at=past)
        )


@pytest.mark.both_backends
def test_reenabling_an_expired_promotion_deletes_its_codes(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "OLD1", "OLD2")
    _expire(container, shop, promotion["id"])
    unrelated = shop.put(
        f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "name": "n"}}
    )
    assert unrelated.status_code == 200
    assert len(shop.list_codes(promotion["id"])) == 2
    response = shop.put(
        f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "end": "2099-01-01"}}
    )
    assert response.status_code == 200
    assert shop.list_codes(promotion["id"]) == []
    assert shop.add_codes(promotion["id"], *[f"NEW{i}" for i in range(1000)]).status_code == 201


@pytest.mark.both_backends
def test_reenabling_is_refused_above_1000_codes(container: Container, shop: StoreClient) -> None:
    from promoforge.services.auth import update_store

    update_store(container.db, reference=shop.store_id, max_codes_per_promotion=5000, now=container.clock())
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], *[f"C{i}" for i in range(1001)]).status_code == 201
    _expire(container, shop, promotion["id"])
    response = shop.put(
        f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "end": "2099-01-01"}}
    )
    assert response.status_code == 422
    error = response.json()["errors"][0]
    assert error["source"] == "request"
    assert error["title"] == "Unprocessable Entity"
    listed = shop.get(f"/v2/promotions/{promotion['id']}/codes").json()
    assert listed["meta"]["results"]["total"] == 1001
