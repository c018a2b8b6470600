"""Integration deliveries end to end in one process: recorded with a checkout, sent by the worker's runner to
a real local receiver, signed (checked with the standardwebhooks library), logged, retried on the
schedule, and stopped by a 410 (integrations §4-§6)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook

from checkout_support import checkout, custom_item, fill
from promoforge.bootstrap import Container, build
from promoforge.jobs.delivery.runner import DeliveryRunner
from support import StoreClient, TestClient, app_over, make_store, settings_for


@dataclass
class Received:
    """One request a receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """An HTTP server on loopback answering each POST with the next status of `statuses` (then 200)."""

    statuses: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.received.append(Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            status = state.statuses.pop(0) if state.statuses else 200
            answer = f"answer {status}".encode()
            self.send_response(status)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *_: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def allowing(database_url: str, tmp_path: Path, clock: Clock) -> Iterator[Container]:
    """A container whose operator allows private targets, on the test's clock."""
    built = build(settings_for(database_url, tmp_path, integrations_private_targets="allow"), clock=clock)
    yield built
    built.close()


@pytest.fixture
def runner(allowing: Container) -> Iterator[DeliveryRunner]:
    made = DeliveryRunner(
        allowing.db, allowing.settings, allowing.secrets, clock=allowing.clock, stop=threading.Event()
    )
    yield made
    made.stop()


def observing_shop(
    container: Container, client: TestClient, receiver: Receiver, *keys: str
) -> tuple[StoreClient, dict[str, Any]]:
    shop = make_store(container, client)
    settings = {"data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32"]}}
    assert shop.put("/v2/promoforge/settings/integrations", json=settings).status_code == 200
    body = {
        "data": {
            "type": "integration",
            "name": "ERP",
            "description": "orders",
            "enabled": True,
            "observes": list(keys),
            "configuration": {"url": receiver.url, "secret_key": "shared-token"},
        }
    }
    created = shop.post("/v2/integrations", json=body)
    assert created.status_code == 201, created.text
    return shop, created.json()["data"]


def test_an_order_reaches_the_receiver_signed_and_logged(
    allowing: Container, runner: DeliveryRunner, receiver: Receiver
) -> None:
    with TestClient(app_over(allowing)) as client:
        shop, integration = observing_shop(allowing, client, receiver, "order.created")
        fill(shop, "c1", custom_item("a", 1500))
        order = checkout(shop, "c1").json()["data"]
        assert runner.deliver_due() == 1
        assert len(receiver.received) == 1
        got = receiver.received[0]
        verified = Webhook(integration["configuration"]["signing_secret"]).verify(got.body, got.headers)
        body = json.loads(got.body)
        assert verified == body
        assert got.headers["x-moltin-secret-key"] == "shared-token"
        assert got.headers["x-moltin-integration-trigger"] == "order.created"
        assert got.headers["webhook-id"] == body["id"]
        assert body["triggered_by"] == "order.created" and body["attempt"] == 1
        assert body["store_id"] == shop.store_id
        assert body["integration"] == {
            "id": integration["id"],
            "integration_type": "webhook",
            "name": "ERP",
            "description": "orders",
        }
        assert body["payload"]["data"]["id"] == order["id"]
        assert json.loads(body["resources"]) == body["payload"]
        assert body["configuration"] == {"url": receiver.url}
        jobs = shop.get(f"/v2/integrations/{integration['id']}/jobs").json()["data"]
        assert [(job["id"], job["status"], job["attempts"]) for job in jobs] == [(body["id"], "succeeded", 1)]
        logs = shop.get(f"/v2/integrations/{integration['id']}/logs").json()["data"]
        assert [(log["succeeded"], log["status_code"], log["attempt"], log["body"]) for log in logs] == [
            (True, 200, 1, "answer 200")
        ]
        assert runner.deliver_due() == 0  # delivered once


def test_failures_retry_on_the_schedule_and_a_410_stops_them(
    allowing: Container, runner: DeliveryRunner, receiver: Receiver, clock: Clock
) -> None:
    receiver.statuses = [500, 410]
    with TestClient(app_over(allowing)) as client:
        shop, integration = observing_shop(allowing, client, receiver, "cart.updated")
        fill(shop, "c2", custom_item("a", 1500))
        assert runner.deliver_due() == 1
        job = shop.get(f"/v2/integrations/{integration['id']}/jobs").json()["data"][0]
        assert job["status"] == "pending" and job["attempts"] == 1
        due = datetime.fromisoformat(job["next_attempt_at"].replace("Z", "+00:00"))
        assert timedelta(seconds=4) <= due - clock.now <= timedelta(seconds=6)  # 5 s, ±20 %
        assert runner.deliver_due() == 0  # not due yet
        clock.now += timedelta(seconds=7)
        assert runner.deliver_due() == 1
        listed = shop.get(f"/v2/integrations/{integration['id']}/jobs")
        assert listed.status_code == 200, listed.text
        job = listed.json()["data"][0]
        assert (job["status"], job["attempts"], job["next_attempt_at"]) == ("failed", 2, None)
        logs = shop.get(f"/v2/integrations/{integration['id']}/jobs/{job['id']}/logs").json()["data"]
        assert [(log["attempt"], log["status_code"]) for log in logs] == [(2, 410), (1, 500)]
        assert (
            logs[1]["error_detail"]
            == "Received a status code outside of 2xx range - treating webhook as a fail"
        )
        assert logs[0]["error_detail"] == "Receiver answered 410 Gone - no more retries for this job"
        bodies = [json.loads(r.body) for r in receiver.received]
        assert [b["attempt"] for b in bodies] == [1, 2] and bodies[0]["id"] == bodies[1]["id"] == job["id"]
        summary = shop.get(f"/v2/integrations/{integration['id']}").json()["data"]["meta"]["delivery"]
        assert summary["consecutive_failures"] == 2 and summary["pending_jobs"] == 0
        clock.now += timedelta(days=1)
        assert runner.deliver_due() == 0  # a 410 is never retried


def test_the_operators_retry_scale_shortens_the_schedule(
    database_url: str, tmp_path: Path, receiver: Receiver, clock: Clock
) -> None:
    receiver.statuses = [500, 500]
    settings = settings_for(
        database_url, tmp_path, integrations_private_targets="allow", delivery_retry_scale=0.01
    )
    scaled = build(settings, clock=clock)
    made = DeliveryRunner(scaled.db, scaled.settings, scaled.secrets, clock=clock, stop=threading.Event())
    try:
        with TestClient(app_over(scaled)) as client:
            shop, integration = observing_shop(scaled, client, receiver, "cart.updated")
            fill(shop, "c3", custom_item("a", 1500))
            jobs = f"/v2/integrations/{integration['id']}/jobs"
            waits = []
            for _ in range(2):
                assert made.deliver_due() == 1
                job = shop.get(jobs).json()["data"][0]
                due = datetime.fromisoformat(job["next_attempt_at"].replace("Z", "+00:00"))
                waits.append(due - clock.now)
                clock.now = due + timedelta(milliseconds=1)  # the API shows milliseconds
            # 5 s and 5 min, each times 0.01 and ±20 %.
            assert timedelta(seconds=0.04) <= waits[0] <= timedelta(seconds=0.06)
            assert timedelta(seconds=2.4) <= waits[1] <= timedelta(seconds=3.6)
            assert made.deliver_due() == 1
            job = shop.get(jobs).json()["data"][0]
            assert (job["status"], job["attempts"]) == ("succeeded", 3)
    finally:
        made.stop()
        scaled.close()


def test_a_receiver_not_allow_listed_gets_nothing(
    allowing: Container, runner: DeliveryRunner, receiver: Receiver
) -> None:
    with TestClient(app_over(allowing)) as client:
        shop, integration = observing_shop(allowing, client, receiver, "cart.updated")
        cleared = {"data": {"type": "integration_settings", "allowed_private_targets": []}}
        assert shop.put("/v2/promoforge/settings/integrations", json=cleared).status_code == 200
        fill(shop, "c3", custom_item("a", 1500))
        assert runner.deliver_due() == 1
        assert receiver.received == []
        log = shop.get(f"/v2/integrations/{integration['id']}/logs").json()["data"][0]
        assert log["status_code"] == 0 and log["error_detail"].startswith("Destination refused: 127.0.0.1")
