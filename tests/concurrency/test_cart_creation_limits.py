"""Carts a storefront may create an hour, counted exactly under concurrent requests to a real server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from promoforge.bootstrap import Container
from support import ServeApi, server_store

LIMIT = 6
REQUESTS = 24


def test_concurrent_cart_creations_from_one_address_stop_exactly_at_the_limit(
    container: Container, serve_api: ServeApi
) -> None:
    base = serve_api(workers=2)
    admin = server_store(base, container, carts_per_address_per_hour=LIMIT)
    with container.db.read() as tx:
        (store,) = [s for s in tx.stores.all() if s.carts_per_address_per_hour == LIMIT]
    token = httpx.post(
        f"{base}/oauth/access_token", data={"grant_type": "implicit", "client_id": store.client_id}
    ).json()["access_token"]
    front = {"Authorization": f"Bearer {token}"}

    def create(i: int) -> int:
        with httpx.Client(base_url=base, headers=front, timeout=60) as client:
            if i % 2:
                return client.post("/v2/carts", json={"data": {"name": f"cart {i}"}}).status_code
            line = {"type": "custom_item", "name": "x", "quantity": 1, "price": {"amount": 100}}
            return client.post(f"/v2/carts/first-write-{i}/items", json={"data": line}).status_code

    with ThreadPoolExecutor(12) as pool:
        statuses = list(pool.map(create, range(REQUESTS)))

    assert sorted(statuses) == sorted([201] * LIMIT + [429] * (REQUESTS - LIMIT)), statuses
    listed = httpx.get(f"{base}/v2/carts", headers=admin, params={"page[limit]": 100}).json()
    assert listed["meta"]["results"]["total"] == LIMIT
