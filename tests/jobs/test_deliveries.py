"""Integration deliveries end to end in one process: recorded with a checkout, sent by the worker's runner to
a real local receiver, signed (checked with the standardwebhooks library), logged, retried on the
schedule, and stopped by a 410 (integrations §4-§6)."""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stomp
from sqlalchemy import select
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from checkout_support import checkout, custom_item, fill
from promoforge.bootstrap import Container, build
from promoforge.jobs.delivery.runner import DeliveryRunner
from promoforge.observability import metrics
from promoforge.storage.schema import integrations
from receivers import Receiver
from support import StoreClient, TestClient, app_over, make_store, settings_for, wait_for


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


def attempts_counted(outcome: str) -> float:
    """This process's count of webhook delivery attempts that ended with `outcome`."""
    labels = {"integration_type": "webhook", "outcome": outcome}
    return metrics.SERVICE.get_sample_value("promoforge_integration_attempts_total", labels) or 0.0


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
    before = {outcome: attempts_counted(outcome) for outcome in ("retrying", "failed")}
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
    assert {outcome: attempts_counted(outcome) - before[outcome] for outcome in before} == {
        "retrying": 1,
        "failed": 1,
    }


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


def rabbitmq_listens() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 61613), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.skipif(
    not rabbitmq_listens(), reason="nothing listens on 127.0.0.1:61613 (RabbitMQ's STOMP plugin)"
)
def test_a_stomp_integration_gets_a_cloudevent_confirmed_by_the_broker(
    allowing: Container, runner: DeliveryRunner
) -> None:
    # A /topic/ destination: the subscriber's queue is its own and goes away with it.
    destination = f"/topic/promoforge-test-{uuid.uuid4().hex}"
    frames: list[Any] = []

    class Listener(stomp.ConnectionListener):  # type: ignore[misc]
        def on_message(self, frame: Any) -> None:
            frames.append(frame)

    subscriber = stomp.Connection12([("127.0.0.1", 61613)], vhost="/", auto_decode=False)
    subscriber.set_listener("frames", Listener())
    subscriber.connect("guest", "guest", wait=True)
    subscriber.subscribe(destination, id="1")
    try:
        with TestClient(app_over(allowing)) as client:
            shop = make_store(allowing, client)
            settings = {"data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32"]}}
            assert shop.put("/v2/promoforge/settings/integrations", json=settings).status_code == 200
            body = {
                "data": {
                    "type": "integration",
                    "name": "queue",
                    "enabled": True,
                    "integration_type": "stomp",
                    "observes": ["order.created"],
                    "configuration": {
                        "addresses": ["stomp://127.0.0.1:61613"],
                        "destination": destination,
                        "username": "guest",
                        "password": "guest",
                        "virtual_host": "/",
                    },
                }
            }
            created = shop.post("/v2/integrations", json=body)
            assert created.status_code == 201, created.text
            integration = created.json()["data"]
            assert integration["configuration"]["password"] == "*****"
            fill(shop, "q1", custom_item("a", 1500))
            order = checkout(shop, "q1").json()["data"]
            assert runner.deliver_due() == 1
            log = shop.get(f"/v2/integrations/{integration['id']}/logs").json()["data"][0]
            assert (log["succeeded"], log["status_code"], log["error_detail"]) == (True, 0, "")
            wait_for(lambda: len(frames) == 1, timeout=10)
    finally:
        subscriber.disconnect()
    frame = frames[0]
    assert frame.headers["content-type"] == "application/cloudevents+json; charset=utf-8"
    assert frame.headers["x-moltin-integration-trigger"] == "order.created"
    event = json.loads(frame.body)
    assert event["specversion"] == "1.0" and event["type"] == "order.created"
    assert event["integrationid"] == integration["id"] and event["storeid"] == shop.store_id
    assert event["data"]["id"] == order["id"] and event["data"]["included"]["items"]


@pytest.fixture
def sqs_endpoint() -> Iterator[str]:
    """moto's SQS on loopback: the only SQS this project is tested against (never AWS itself)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.mark.parametrize("queue_name", ["promoforge-orders", "promoforge-orders.fifo"])
def test_an_sqs_integration_gets_a_cloudevent(
    database_url: str, tmp_path: Path, clock: Clock, sqs_endpoint: str, queue_name: str
) -> None:
    import boto3

    keys = {"aws_access_key_id": "AKIAPROMOFORGE000001", "aws_secret_access_key": "not-a-real-secret"}
    sqs = boto3.client("sqs", region_name="eu-west-1", endpoint_url=sqs_endpoint, **keys)
    attributes = {"FifoQueue": "true"} if queue_name.endswith(".fifo") else {}
    local_url = sqs.create_queue(QueueName=queue_name, Attributes=attributes)["QueueUrl"]
    settings = settings_for(database_url, tmp_path, sqs_endpoint_url=sqs_endpoint)
    container = build(settings, clock=clock)
    runner = DeliveryRunner(container.db, settings, container.secrets, clock=clock, stop=threading.Event())
    try:
        with TestClient(app_over(container)) as client:
            shop = make_store(container, client)
            body = {
                "data": {
                    "type": "integration",
                    "name": "queue",
                    "enabled": True,
                    "integration_type": "aws_sqs",
                    "observes": ["order.created"],
                    "configuration": {
                        "url": f"https://sqs.eu-west-1.amazonaws.com/123456789012/{queue_name}",
                        "region": "eu-west-1",
                        **keys,
                    },
                }
            }
            created = shop.post("/v2/integrations", json=body)
            assert created.status_code == 201, created.text
            shown = created.json()["data"]["configuration"]
            assert shown["aws_access_key_id"] == "****************0001"
            fill(shop, "s1", custom_item("a", 1500))
            order = checkout(shop, "s1").json()["data"]
            assert runner.deliver_due() == 1
            log = shop.get(f"/v2/integrations/{created.json()['data']['id']}/logs").json()["data"][0]
            assert (log["succeeded"], log["error_detail"]) == (True, ""), log
    finally:
        runner.stop()
        container.close()
    received = sqs.receive_message(QueueUrl=local_url, AttributeNames=["All"])["Messages"]
    event = json.loads(received[0]["Body"])
    assert event["type"] == "order.created" and event["data"]["id"] == order["id"]
    if queue_name.endswith(".fifo"):
        assert received[0]["Attributes"]["MessageGroupId"] == order["id"]
        assert received[0]["Attributes"]["MessageDeduplicationId"] == event["id"]


def test_after_a_rotation_both_secrets_verify_for_a_day_then_only_the_new_one(
    allowing: Container, runner: DeliveryRunner, receiver: Receiver, clock: Clock
) -> None:
    with TestClient(app_over(allowing)) as client:
        shop, integration = observing_shop(allowing, client, receiver, "cart.updated")
        old = integration["configuration"]["signing_secret"]
        rotated = shop.post(f"/v2/promoforge/integrations/{integration['id']}/signing-secret")
        new = rotated.json()["data"]["signing_secret"]
        fill(shop, "r1", custom_item("a", 1500))
        assert runner.deliver_due() == 1
        clock.now += timedelta(hours=25)
    first = receiver.received[0]
    assert len(first.headers["webhook-signature"].split(" ")) == 2
    for secret in (old, new):
        Webhook(secret).verify(first.body, first.headers)
    with allowing.db.write() as tx:  # the same event delivered again, a day after the rotation
        tx.store(integration_store(allowing, integration["id"])).integrations.requeue(
            integration["id"], statuses=["succeeded"], now=clock.now
        )
    assert runner.deliver_due() == 1
    later = receiver.received[1]
    assert len(later.headers["webhook-signature"].split(" ")) == 1
    Webhook(new).verify(later.body, later.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(later.body, later.headers)


def integration_store(container: Container, integration_id: str) -> str:
    with container.db.engine.connect() as connection:
        return str(
            connection.execute(
                select(integrations.c.store_id).where(integrations.c.id == integration_id)
            ).scalar_one()
        )
