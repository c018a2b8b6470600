"""What a delivery sends (integrations §5, §6.1) and what its log records (§4.8): exact bytes, headers,
the CloudEvent and its 256 KiB rule, and the error texts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from promoforge.domain.integrations import messages
from promoforge.domain.integrations.messages import (
    IntegrationSummary,
    cloud_event,
    is_deletion_payload,
    processing_time,
    resource_id,
    response_excerpt,
    sqs_fifo_fields,
    stomp_send_headers,
    timestamp,
    webhook_body,
    webhook_headers,
    webhook_status_failure,
)
from promoforge.domain.integrations.signing import SigningSecret, signature

JOB = "c138854a-5311-4543-a368-01e099f5519b"
STORE = "b33e328f-31a8-4d57-b0a3-ebf1039b3756"
INTEGRATION = "8cb9e689-ede7-4f6d-b61a-6aa970d572dd"
CREATED = datetime(2026, 11, 23, 10, 9, 2, 418_765, tzinfo=UTC)
PROMO_SYNC = IntegrationSummary(INTEGRATION, "webhook", "Promo sync", "")
ORDER: dict[str, Any] = {
    "data": {
        "type": "order",
        "id": "8d0c5b8e-2f7a-4d61-9c3e-5b7a1f0e2d4c",
        "status": "incomplete",
        "note": "£10 off",
    },
    "included": {
        "items": [{"type": "order_item", "id": "395763ee-1878-4aa0-a7a2-8d4877310d6b", "quantity": 1}]
    },
}
SECRET = SigningSecret.parse("whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")


def test_a_deletion_body_is_the_specs_example_byte_for_byte() -> None:
    body = webhook_body(
        job_id=JOB,
        event_key="promotion.deleted",
        attempt=1,
        integration=PROMO_SYNC,
        store_id=STORE,
        payload={"type": "promotion", "id": "451c7bd1-93c1-49eb-a98f-182f95144b8f"},
        url="https://sync.example.com/promos",
        created_at=CREATED,
    )
    assert body == (
        b'{"id":"c138854a-5311-4543-a368-01e099f5519b","triggered_by":"promotion.deleted","attempt":1,'
        b'"integration":{"id":"8cb9e689-ede7-4f6d-b61a-6aa970d572dd","integration_type":"webhook",'
        b'"name":"Promo sync","description":""},"store_id":"b33e328f-31a8-4d57-b0a3-ebf1039b3756",'
        b'"resources":{"id":"451c7bd1-93c1-49eb-a98f-182f95144b8f","type":"promotion"},'
        b'"payload":{"type":"promotion","id":"451c7bd1-93c1-49eb-a98f-182f95144b8f"},'
        b'"configuration":{"url":"https://sync.example.com/promos"},'
        b'"meta":{"timestamps":{"created_at":"2026-11-23T10:09:02.418Z"}}}'
    )


def test_a_document_body_carries_the_payload_twice_once_as_a_json_string() -> None:
    body = webhook_body(
        job_id=JOB,
        event_key="order.created",
        attempt=3,
        integration=IntegrationSummary(INTEGRATION, "webhook", "Orders to ERP", "Push new orders"),
        store_id=STORE,
        payload=ORDER,
        url="https://erp.example.com/hooks/ep",
        created_at=CREATED,
    )
    assert "£10 off".encode() in body  # UTF-8, not \\u escapes
    assert b": " not in body and b", " not in body
    document = json.loads(body)
    assert list(document) == [
        "id",
        "triggered_by",
        "attempt",
        "integration",
        "store_id",
        "resources",
        "payload",
        "configuration",
        "meta",
    ]
    assert document["payload"] == ORDER
    assert isinstance(document["resources"], str)
    assert json.loads(document["resources"]) == ORDER
    assert document["resources"] == json.dumps(ORDER, ensure_ascii=False, separators=(",", ":"))
    assert (document["attempt"], document["triggered_by"]) == (3, "order.created")
    assert document["configuration"] == {"url": "https://erp.example.com/hooks/ep"}


def test_timestamps_are_utc_with_milliseconds() -> None:
    assert timestamp(CREATED) == "2026-11-23T10:09:02.418Z"
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5)) == "2026-01-02T03:04:05.000Z"
    assert timestamp(datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=timezone(timedelta(hours=2)))) == (
        "2026-01-02T01:04:05.999Z"
    )


def test_webhook_headers_in_order_with_the_signature_over_the_exact_body() -> None:
    body = b'{"id":"5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11","triggered_by":"promotion.deleted","attempt":1}'
    headers = webhook_headers(
        job_id="5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11",
        event_key="promotion.deleted",
        attempt_time=1795428542,
        body=body,
        secret_key="s3cr3t-shared-token",
        signing_secrets=[SECRET],
        version="1.2.3",
    )
    assert headers == [
        ("Content-Type", "application/json"),
        ("User-Agent", "PromoForge-Integrations/1.2.3"),
        ("X-MOLTIN-SECRET-KEY", "s3cr3t-shared-token"),
        ("X-MOLTIN-INTEGRATION-TRIGGER", "promotion.deleted"),
        ("webhook-id", "5c0f6f5e-3d0b-4a7e-9a51-0c1f2b9d7e11"),
        ("webhook-timestamp", "1795428542"),
        ("webhook-signature", "v1,w+RxeQZDAt6q8r9Vrndl2HLE1fQdNaH5f2FGf6T9g98="),
    ]
    rotated = SigningSecret.generate()
    without_key = dict(
        webhook_headers(
            job_id=JOB,
            event_key="order.created",
            attempt_time=1,
            body=b"{}",
            secret_key=None,
            signing_secrets=[rotated, SECRET],
            version="0",
        )
    )
    assert "X-MOLTIN-SECRET-KEY" not in without_key
    assert without_key["webhook-signature"] == (
        f"{signature(rotated, JOB, 1, b'{}')} {signature(SECRET, JOB, 1, b'{}')}"
    )


def test_a_cloud_event_carries_the_primary_resource_with_its_included() -> None:
    message = cloud_event(
        job_id=JOB,
        event_key="order.created",
        source="https://promoforge.example.com",
        store_id=STORE,
        integration_id=INTEGRATION,
        payload=ORDER,
        created_at=CREATED,
    )
    assert message is not None
    assert b": " not in message
    event = json.loads(message)
    assert list(event) == [
        "specversion",
        "id",
        "source",
        "type",
        "datacontenttype",
        "time",
        "integrationid",
        "storeid",
        "data",
    ]
    assert event["specversion"] == "1.0"
    assert (event["id"], event["type"], event["time"]) == (JOB, "order.created", "2026-11-23T10:09:02.418Z")
    assert (event["integrationid"], event["storeid"]) == (INTEGRATION, STORE)
    assert event["datacontenttype"] == "application/json"
    assert event["data"] == {**ORDER["data"], "included": ORDER["included"]}
    assert "attempt" not in event


def test_a_deletion_cloud_event_and_a_document_without_included() -> None:
    deletion = cloud_event(
        job_id=JOB,
        event_key="cart.deleted",
        source="urn:promoforge",
        store_id=STORE,
        integration_id=INTEGRATION,
        payload={"type": "cart", "id": "a-cart-id"},
        created_at=CREATED,
    )
    assert deletion is not None
    assert json.loads(deletion)["data"] == {"id": "a-cart-id", "type": "cart"}
    cart = cloud_event(
        job_id=JOB,
        event_key="cart.updated",
        source="urn:promoforge",
        store_id=STORE,
        integration_id=INTEGRATION,
        payload={"data": {"type": "cart", "id": "c"}},
        created_at=CREATED,
    )
    assert cart is not None
    assert json.loads(cart)["data"] == {"type": "cart", "id": "c"}


def _order_event(primary_filler: int, included_filler: int) -> bytes | None:
    payload = {
        "data": {"type": "order", "id": "o", "note": "x" * primary_filler},
        "included": {"items": [{"type": "order_item", "note": "y" * included_filler}]},
    }
    return cloud_event(
        job_id=JOB,
        event_key="order.created",
        source="urn:promoforge",
        store_id=STORE,
        integration_id=INTEGRATION,
        payload=payload,
        created_at=CREATED,
    )


def test_the_262144_byte_rule_elides_included_then_gives_up() -> None:
    base = _order_event(0, 0)
    assert base is not None
    exact = _order_event(0, 262_144 - len(base))
    assert exact is not None and len(exact) == 262_144
    assert json.loads(exact)["data"]["included"]["items"][0]["note"].startswith("y")
    elided = _order_event(0, 262_145 - len(base))
    assert elided is not None
    assert json.loads(elided)["data"]["included"] == {"meta": {"includes_elided": True}}
    assert json.loads(elided)["data"]["note"] == ""
    assert _order_event(262_144, 10) is None
    multibyte = cloud_event(
        job_id=JOB,
        event_key="cart.updated",
        source="urn:promoforge",
        store_id=STORE,
        integration_id=INTEGRATION,
        payload={"data": {"type": "cart", "name": "é" * 131_072}},
        created_at=CREATED,
    )
    assert multibyte is None  # counted in bytes, not characters


def test_payload_shapes() -> None:
    assert is_deletion_payload({"type": "promotion", "id": "p"})
    assert not is_deletion_payload({"data": {"type": "promotion_codes", "codes": []}})
    assert resource_id({"type": "promotion", "id": "p"}) == "p"
    assert resource_id(ORDER) == "8d0c5b8e-2f7a-4d61-9c3e-5b7a1f0e2d4c"
    assert resource_id({"data": {"type": "promotion_codes"}}) is None
    with pytest.raises(ValueError, match="document"):
        cloud_event(
            job_id=JOB,
            event_key="x",
            source="s",
            store_id=STORE,
            integration_id=INTEGRATION,
            payload={"data": [1]},
            created_at=CREATED,
        )


def test_queue_wire_fields() -> None:
    assert stomp_send_headers(
        destination="/queue/events", job_id=JOB, attempt=2, event_key="order.created"
    ) == {
        "destination": "/queue/events",
        "content-type": "application/cloudevents+json; charset=utf-8",
        "persistent": "true",
        "receipt": f"{JOB}:2",
        "x-moltin-integration-trigger": "order.created",
    }
    assert sqs_fifo_fields(fifo=False, job_id=JOB, payload=ORDER) == {}
    assert sqs_fifo_fields(fifo=True, job_id=JOB, payload=ORDER) == {
        "MessageGroupId": "8d0c5b8e-2f7a-4d61-9c3e-5b7a1f0e2d4c",
        "MessageDeduplicationId": JOB,
    }


def test_the_log_texts_are_the_specs() -> None:
    assert (
        messages.STATUS_OUTSIDE_2XX
        == "Received a status code outside of 2xx range - treating webhook as a fail"
    )
    assert messages.NO_RESPONSE_IN_TIME == "No response within 10 seconds - treating webhook as a fail"
    assert messages.GONE == "Receiver answered 410 Gone - no more retries for this job"
    assert messages.NO_STOMP_RECEIPT == "No STOMP receipt within 10 seconds"
    assert messages.MESSAGE_TOO_LARGE == "Message larger than 262144 bytes after eliding included resources"
    assert messages.could_not_connect("connection refused") == "Could not connect: connection refused"
    assert messages.tls_verification_failed("expired") == "TLS verification failed: expired"
    assert messages.destination_refused("a.example", "10.0.0.1") == (
        "Destination refused: a.example resolves to non-public address 10.0.0.1"
    )
    assert messages.stomp_error("Access refused") == "STOMP broker returned ERROR: Access refused"
    assert messages.sqs_send_failed("AccessDenied") == "SQS SendMessage failed: AccessDenied"


@pytest.mark.parametrize(
    ("status", "detail"),
    [
        (200, None),
        (204, None),
        (299, None),
        (199, messages.STATUS_OUTSIDE_2XX),
        (300, messages.STATUS_OUTSIDE_2XX),
        (302, messages.STATUS_OUTSIDE_2XX),
        (404, messages.STATUS_OUTSIDE_2XX),
        (429, messages.STATUS_OUTSIDE_2XX),
        (410, messages.GONE),
    ],
)
def test_only_2xx_succeeds_and_410_is_gone(status: int, detail: str | None) -> None:
    assert webhook_status_failure(status) == detail


def test_response_excerpts_keep_2048_bytes_with_bad_bytes_replaced() -> None:
    assert response_excerpt(b"") == ""
    assert response_excerpt(b"Not found") == "Not found"
    assert response_excerpt(b"a" * 5000) == "a" * 2048
    assert response_excerpt(b"ok \xff\xfe end") == "ok \ufffd\ufffd end"
    cut = response_excerpt(b"a" * 2047 + "é".encode())
    assert cut == "a" * 2047 + "\ufffd"
    assert processing_time(0.252_944_4) == 0.2529
