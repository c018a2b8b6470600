"""Events recorded with the changes that cause them (integrations §4.2, §7): in the change's transaction,
one job per observing integration, the payload a snapshot of the API's own document; nothing for a change
that rolls back or that no enabled integration observes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from checkout_support import GUEST, checkout, code_promotion, custom_item, fill
from promoforge.bootstrap import Container
from promoforge.services.cart_purge import purge_expired_carts
from promoforge.storage.schema import integration_events, integration_jobs
from support import StoreClient

pytestmark = pytest.mark.both_backends


def observe(shop: StoreClient, *keys: str, enabled: bool = True) -> str:
    """An integration of the shop observing `keys`; its id."""
    body = {
        "data": {
            "type": "integration",
            "name": "observer",
            "enabled": enabled,
            "observes": list(keys),
            "configuration": {"url": "https://hooks.example.com/in"},
        }
    }
    response = shop.post("/v2/integrations", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["id"])


def recorded(container: Container) -> list[tuple[str, dict[str, Any], int]]:
    """Every event, oldest first: its key, its payload, and how many jobs deliver it."""
    with container.db.engine.connect() as connection:
        rows = connection.execute(
            select(
                integration_events.c.id, integration_events.c.event_key, integration_events.c.payload
            ).order_by(integration_events.c.created_at, integration_events.c.id)
        ).all()
        jobs = connection.execute(select(integration_jobs.c.event_id)).scalars().all()
    return [(row.event_key, json.loads(row.payload), jobs.count(row.id)) for row in rows]


def keys_of(container: Container) -> list[str]:
    return [key for key, _, _ in recorded(container)]


def test_a_store_that_observes_nothing_records_nothing(shop: StoreClient, container: Container) -> None:
    observe(shop, "order.created", enabled=False)
    fill(shop, "quiet", custom_item("a", 1000))
    assert checkout(shop, "quiet").status_code == 201
    assert keys_of(container) == []


def test_cart_writes_record_cart_updated_with_the_cart_document(
    shop: StoreClient, container: Container
) -> None:
    observe(shop, "cart.updated", "cart.deleted")
    fill(shop, "c1", custom_item("a", 1000, 2))
    assert shop.get("/v2/carts/c1").status_code == 200  # reads record nothing
    assert shop.delete("/v2/carts/c1").status_code == 204
    events = recorded(container)
    assert [key for key, _, _ in events] == ["cart.updated", "cart.deleted"]
    cart = events[0][1]["data"]
    assert cart["type"] == "cart" and cart["id"] == "c1"
    assert cart["meta"]["display_price"]["with_tax"]["amount"] == 2000
    assert events[1][1] == {"type": "cart", "id": "c1"}
    assert all(jobs == 1 for _, _, jobs in events)


def test_checkout_records_the_order_its_usages_and_the_code_it_used_up(
    shop: StoreClient, container: Container
) -> None:
    first = observe(shop, "order.created", "promotion-usage.created", "promotion-code.exhausted")
    second = observe(shop, "order.created")
    promotion = code_promotion(shop, {"code": "LAST1", "uses": 1})
    fill(shop, "c2", custom_item("a", 1000), {"type": "promotion_item", "code": "LAST1"})
    before = keys_of(container)
    order = checkout(shop, "c2")
    assert order.status_code == 201, order.text
    # Events of one transaction share their time: take them by key.
    events = {key: (payload, jobs) for key, payload, jobs in recorded(container)[len(before) :]}
    assert sorted(events) == ["order.created", "promotion-code.exhausted", "promotion-usage.created"]
    created, usage, exhausted = (
        events[key][0] for key in ("order.created", "promotion-usage.created", "promotion-code.exhausted")
    )
    assert events["order.created"][1] == 2  # both integrations observe order.created
    assert created["data"]["id"] == order.json()["data"]["id"]
    assert created["data"] == order.json()["data"]
    assert created["included"] == order.json()["included"]  # the C3 response body itself
    assert usage["data"]["relationships"]["promotion"]["data"]["id"] == promotion["id"]
    assert usage["data"]["relationships"]["order"]["data"]["id"] == created["data"]["id"]
    assert exhausted["data"]["code"] == "LAST1" and exhausted["data"]["uses"] == 0
    assert first != second


def test_a_change_that_fails_records_nothing(shop: StoreClient, container: Container) -> None:
    observe(shop, "order.created", "cart.updated")
    assert checkout(shop, "empty").status_code == 400
    body = {
        "data": [custom_item("a", 1000), {"type": "promotion_item", "code": "NO-SUCH-CODE"}],
        "options": {"add_all_or_nothing": True},
    }
    assert shop.post("/v2/carts/c3/items", json=body).status_code in (400, 404)
    assert keys_of(container) == []


def test_order_changes_record_updated_and_the_specific_event(shop: StoreClient, container: Container) -> None:
    observe(shop, "order.updated", "order.cancelled")
    fill(shop, "c4", custom_item("a", 1000))
    order_id = checkout(shop, "c4", GUEST).json()["data"]["id"]
    changed = shop.put(f"/v2/orders/{order_id}", json={"data": {"type": "order", "status": "cancelled"}})
    assert changed.status_code == 200, changed.text
    events = recorded(container)
    assert sorted(key for key, _, _ in events) == ["order.cancelled", "order.updated"]
    assert all(payload["data"]["status"] == "cancelled" for _, payload, _ in events)


def test_promotion_changes_record_their_events(shop: StoreClient, container: Container) -> None:
    observe(shop, "promotion.created", "promotion.updated", "promotion.deleted")
    promotion = shop.create_promotion()
    assert (
        shop.put(
            f"/v2/promotions/{promotion['id']}", json={"data": {"type": "promotion", "name": "New"}}
        ).status_code
        == 200
    )
    assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    events = recorded(container)
    assert [key for key, _, _ in events] == ["promotion.created", "promotion.updated", "promotion.deleted"]
    assert events[1][1]["data"]["name"] == "New"
    assert events[2][1] == {"type": "promotion", "id": promotion["id"]}


def test_a_code_job_that_ends_records_its_event(
    shop: StoreClient, container: Container, run_jobs: Any
) -> None:
    observe(shop, "promotion-job.completed", "promotion-job.cancelled")
    promotion = shop.create_promotion()
    generated = shop.create_job(promotion["id"], "code_generate", number_of_codes=5).json()["data"]
    assert run_jobs() == 1
    cancelled = shop.create_job(promotion["id"], "code_generate", number_of_codes=5).json()["data"]
    assert shop.post(f"/v2/promotions/{promotion['id']}/jobs/{cancelled['id']}/cancel").status_code == 200
    events = {payload["data"]["id"]: (key, payload["data"]) for key, payload, _ in recorded(container)}
    assert events[generated["id"]][0] == "promotion-job.completed"
    assert events[generated["id"]][1]["status"] == "completed"
    assert events[generated["id"]][1]["result"]["generated"] == 5
    assert events[cancelled["id"]][0] == "promotion-job.cancelled"


def test_code_additions_and_deletions_record_one_event_a_request(
    shop: StoreClient, container: Container
) -> None:
    observe(shop, "promotion-codes.created", "promotion-codes.deleted")
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "ONE", {"code": "TWO", "uses": 3}).status_code == 201
    removed = shop.delete(
        f"/v2/promotions/{promotion['id']}/codes",
        json={"data": {"type": "promotion_codes", "codes": [{"code": "one"}]}},
    )
    assert removed.status_code == 204, removed.text
    assert shop.delete(f"/v2/promotions/{promotion['id']}/codes/NOPE").status_code == 404  # removes nothing
    events = {key: payload["data"] for key, payload, _ in recorded(container)}
    assert sorted(events) == ["promotion-codes.created", "promotion-codes.deleted"]
    created = events["promotion-codes.created"]
    assert (created["type"], created["promotion_id"], created["total"], created["truncated"]) == (
        "promotion_codes",
        promotion["id"],
        2,
        False,
    )
    assert [code["code"] for code in created["codes"]] == ["ONE", "TWO"]
    assert created["codes"][1]["max_uses"] == 3
    listed = {code["code"]: code["id"] for code in shop.list_codes(promotion["id"])}
    assert created["codes"][1]["id"] == listed["TWO"]
    deleted = events["promotion-codes.deleted"]
    assert deleted["total"] == 1 and deleted["codes"] == [{"id": created["codes"][0]["id"], "code": "ONE"}]


def test_an_expired_cart_purged_by_the_worker_records_cart_deleted(
    shop: StoreClient, container: Container
) -> None:
    observe(shop, "cart.deleted")
    fill(shop, "stale", custom_item("a", 1000))
    later = container.clock() + timedelta(days=30)
    assert purge_expired_carts(container.db, now=later, batch=100) == 1
    assert [(key, payload) for key, payload, _ in recorded(container)] == [
        ("cart.deleted", {"type": "cart", "id": "stale"})
    ]
