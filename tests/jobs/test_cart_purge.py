"""Carts not updated for their store's `cart_expiry_days` are purged by idle workers, in batches."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from checkout_support import ADDRESS
from promoforge.bootstrap import Container
from promoforge.jobs.cart_purge import CartPurge
from promoforge.jobs.worker import Worker
from promoforge.services.cart_purge import purge_expired_carts
from promoforge.storage.schema import attempt_counters, cart_items, carts, checkout_keys
from support import StoreClient, TestClient, make_store, run_idle_hook_once


def custom_line(name: str) -> dict[str, object]:
    return {"data": {"type": "custom_item", "name": name, "quantity": 1, "price": {"amount": 100}}}


def count(container: Container, table: object) -> int:
    with container.db.read() as tx:
        return int(tx.connection.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]


def test_expired_carts_go_by_their_stores_setting(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    other = make_store(container, app_client, name="patient")
    with container.db.write() as tx:
        tx.stores.update(other.store_id, cart_expiry_days=30)
    for cart in ("old-1", "old-2", "old-3"):
        shop.post(f"/v2/carts/{cart}/items", json=custom_line("A"))
    other.post("/v2/carts/kept/items", json=custom_line("A"))
    real = container.clock
    container.clock = lambda: real() + timedelta(minutes=30)
    fresh = shop.post("/v2/carts/fresh/items", json=custom_line("A"))  # updated later: not expired yet
    assert fresh.status_code == 201, fresh.text
    container.clock = real

    eight_days_on = real() + timedelta(days=7, minutes=15)
    assert purge_expired_carts(container.db, now=eight_days_on, batch=2) == 2  # bounded batches
    assert purge_expired_carts(container.db, now=eight_days_on, batch=2) == 1
    assert purge_expired_carts(container.db, now=eight_days_on, batch=2) == 0

    with container.db.read() as tx:
        left = set(tx.connection.execute(select(carts.c.id)).scalars())
    assert left == {"fresh", "kept"}
    assert count(container, cart_items) == 2
    assert shop.get("/v2/carts/old-1/items").json()["data"] == []


def test_idle_workers_purge_carts_and_old_attempt_counters(container: Container, shop: StoreClient) -> None:
    shop.post("/v2/carts/old/items", json=custom_line("A"))
    shop.post("/v2/carts/old/items", json={"data": {"type": "promotion_item", "code": "guess"}})
    assert count(container, attempt_counters) == 3  # the cart's, the client's and the store's
    body = {"data": {"customer": {"name": "J", "email": "j@x.com"}, "billing_address": ADDRESS}}
    assert shop.post("/v2/carts/old/checkout", json=body, headers={"Idempotency-Key": "k"}).status_code == 201
    assert count(container, checkout_keys) == 1
    later = container.clock() + timedelta(days=8)
    worker = Worker(container.db, container.settings, clock=lambda: later)
    run_idle_hook_once(worker, CartPurge)
    assert count(container, carts) == 0
    assert count(container, attempt_counters) == 0
    assert count(container, checkout_keys) == 0
