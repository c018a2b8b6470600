"""Real server processes deliver events soon after the change commits (integrations §4.10): a checkout on
`promoforge serve` reaches a local receiver within 2 seconds, on PostgreSQL woken by NOTIFY, on SQLite by
polling."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from checkout_support import GUEST, custom_item
from promoforge.bootstrap import Container
from receivers import Receiver
from support import ServeApi, server_store, wait_for

pytestmark = pytest.mark.slow
LATENCY_SECONDS = 2.0
CHECKOUTS = 5


def test_checkouts_reach_the_receiver_within_two_seconds_of_their_commit(
    container: Container, serve_api: ServeApi, receiver: Receiver
) -> None:
    base = serve_api(INTEGRATIONS_PRIVATE_TARGETS="allow")
    headers = server_store(base, container, name="deliveries")
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        settings = {"data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32"]}}
        assert client.put("/v2/promoforge/settings/integrations", json=settings).status_code == 200
        integration = {
            "data": {
                "type": "integration",
                "name": "orders",
                "enabled": True,
                "observes": ["order.created"],
                "configuration": {"url": receiver.url},
            }
        }
        assert client.post("/v2/integrations", json=integration).status_code == 201
        committed: dict[str, float] = {}
        for number in range(CHECKOUTS):
            cart = f"live-{number}"
            added = client.post(f"/v2/carts/{cart}/items", json={"data": custom_item("a", 1000)})
            assert added.status_code == 201, added.text
            order = client.post(f"/v2/carts/{cart}/checkout", json={"data": GUEST})
            assert order.status_code == 201, order.text
            committed[order.json()["data"]["id"]] = time.monotonic()
            time.sleep(0.3)  # spaced out, so each delivery starts from an idle worker
        wait_for(lambda: len(receiver.received) >= CHECKOUTS, timeout=30)
    arrived = {json.loads(got.body)["payload"]["data"]["id"]: got.at for got in receiver.received}
    assert set(arrived) == set(committed)
    latencies = sorted(arrived[order] - committed[order] for order in committed)
    assert latencies[-1] <= LATENCY_SECONDS, latencies
