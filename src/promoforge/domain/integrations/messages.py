"""What a delivery sends: the webhook body and headers, the queue CloudEvent, and the texts delivery logs
record (integrations §4.8, §5, §6.1)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from promoforge.domain.integrations.signing import SigningSecret, signature_header

# A queue message may be at most this large, after eliding `included` (EP's SQS rule, §5.2).
MAX_QUEUE_MESSAGE_BYTES = 262_144
# Logs keep at most this much of a receiver's answer (§4.8, §8.5).
MAX_RESPONSE_EXCERPT_BYTES = 2048
CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
ELIDED_INCLUDES: Mapping[str, object] = {"meta": {"includes_elided": True}}

# `error_detail` texts of a failed attempt (§4.8); the first is EP's.
STATUS_OUTSIDE_2XX = "Received a status code outside of 2xx range - treating webhook as a fail"
NO_RESPONSE_IN_TIME = "No response within 10 seconds - treating webhook as a fail"
GONE = "Receiver answered 410 Gone - no more retries for this job"
NO_STOMP_RECEIPT = "No STOMP receipt within 10 seconds"
MESSAGE_TOO_LARGE = f"Message larger than {MAX_QUEUE_MESSAGE_BYTES} bytes after eliding included resources"


def could_not_connect(reason: str) -> str:
    """`error_detail` when no connection could be made (DNS, refused, reset)."""
    return f"Could not connect: {reason}"


def tls_verification_failed(reason: str) -> str:
    """`error_detail` when the receiver's certificate did not verify."""
    return f"TLS verification failed: {reason}"


def destination_refused(host: str, address: str) -> str:
    """`error_detail` when the host resolves to an address the destination rule refuses (§8.1)."""
    return f"Destination refused: {host} resolves to non-public address {address}"


def stomp_error(message: str) -> str:
    """`error_detail` when the broker answered with an ERROR frame."""
    return f"STOMP broker returned ERROR: {message}"


def sqs_send_failed(code: str) -> str:
    """`error_detail` when SendMessage failed, with AWS's error code."""
    return f"SQS SendMessage failed: {code}"


def webhook_status_failure(status_code: int) -> str | None:
    """`error_detail` for a webhook's final HTTP status, or None for a success: 2xx only, redirects
    included among failures (integrations §4.4, D-I16)."""
    if 200 <= status_code <= 299:
        return None
    return GONE if status_code == 410 else STATUS_OUTSIDE_2XX


def response_excerpt(body: bytes) -> str:
    """What a log keeps of a receiver's answer: its first 2,048 bytes as UTF-8, bad bytes replaced."""
    return body[:MAX_RESPONSE_EXCERPT_BYTES].decode("utf-8", errors="replace")


def processing_time(seconds: float) -> float:
    """A log's `processing_time`: seconds with 4 decimals (D-I9)."""
    return round(seconds, 4)


@dataclass(frozen=True)
class IntegrationSummary:
    """The integration as a webhook body names it (§5.1), as configured at the attempt."""

    id: str
    integration_type: str
    name: str
    description: str


def timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with milliseconds and `Z` (a naive moment is UTC)."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _json(document: object) -> bytes:
    """Compact UTF-8 JSON, as delivered and signed."""
    return json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def is_deletion_payload(payload: Mapping[str, object]) -> bool:
    """Whether a payload is the `{"type", "id"}` of a deleted resource rather than a document (§7)."""
    return "data" not in payload and "type" in payload and "id" in payload


def _deleted(payload: Mapping[str, object]) -> dict[str, object]:
    return {"id": payload["id"], "type": payload["type"]}


def resource_id(payload: Mapping[str, object]) -> str | None:
    """The id of the event's primary resource (the SQS FIFO `MessageGroupId`, §5.2)."""
    if is_deletion_payload(payload):
        found = payload["id"]
    else:
        primary = payload.get("data")
        found = primary.get("id") if isinstance(primary, Mapping) else None
    return found if isinstance(found, str) else None


def webhook_body(
    *,
    job_id: str,
    event_key: str,
    attempt: int,
    integration: IntegrationSummary,
    store_id: str,
    payload: Mapping[str, object],
    url: str,
    created_at: datetime,
) -> bytes:
    """The body POSTed to a webhook (integrations §5.1): `resources` is the payload as a JSON string, or
    `{"id", "type"}` for a deletion; the configuration shows only `url` (D-I18, D-I19)."""
    resources: object = _deleted(payload) if is_deletion_payload(payload) else _json(payload).decode()
    return _json(
        {
            "id": job_id,
            "triggered_by": event_key,
            "attempt": attempt,
            "integration": {
                "id": integration.id,
                "integration_type": integration.integration_type,
                "name": integration.name,
                "description": integration.description,
            },
            "store_id": store_id,
            "resources": resources,
            "payload": payload,
            "configuration": {"url": url},
            "meta": {"timestamps": {"created_at": timestamp(created_at)}},
        }
    )


def webhook_headers(
    *,
    job_id: str,
    event_key: str,
    attempt_time: int,
    body: bytes,
    secret_key: str | None,
    signing_secrets: Sequence[SigningSecret],
    version: str,
) -> list[tuple[str, str]]:
    """The request headers of one webhook attempt (integrations §6.1); `attempt_time` is this attempt's
    Unix time in seconds and `signing_secrets` the current secret first."""
    headers = [("Content-Type", "application/json"), ("User-Agent", f"PromoForge-Integrations/{version}")]
    if secret_key is not None:
        headers.append(("X-MOLTIN-SECRET-KEY", secret_key))
    headers += [
        ("X-MOLTIN-INTEGRATION-TRIGGER", event_key),
        ("webhook-id", job_id),
        ("webhook-timestamp", str(attempt_time)),
        ("webhook-signature", signature_header(signing_secrets, job_id, attempt_time, body)),
    ]
    return headers


def _event_data(payload: Mapping[str, object]) -> dict[str, object]:
    """A CloudEvent's `data`: the primary resource, with the payload's `included` as a member (§5.2)."""
    if is_deletion_payload(payload):
        return _deleted(payload)
    primary = payload.get("data")
    if not isinstance(primary, Mapping):
        raise ValueError("an event payload is a document with an object under data, or a deletion")
    data = dict(primary)
    if "included" in payload:
        data["included"] = payload["included"]
    return data


def cloud_event(
    *,
    job_id: str,
    event_key: str,
    source: str,
    store_id: str,
    integration_id: str,
    payload: Mapping[str, object],
    created_at: datetime,
) -> bytes | None:
    """The structured-mode CloudEvent sent to a queue (integrations §5.2, D-I23); over 262,144 bytes its
    `included` is elided, and None means it is too large even then (the attempt fails)."""
    data = _event_data(payload)
    event: dict[str, object] = {
        "specversion": "1.0",
        "id": job_id,
        "source": source,
        "type": event_key,
        "datacontenttype": "application/json",
        "time": timestamp(created_at),
        "integrationid": integration_id,
        "storeid": store_id,
        "data": data,
    }
    message = _json(event)
    if len(message) <= MAX_QUEUE_MESSAGE_BYTES:
        return message
    if "included" not in data:
        return None
    event["data"] = {**data, "included": ELIDED_INCLUDES}
    message = _json(event)
    return message if len(message) <= MAX_QUEUE_MESSAGE_BYTES else None


def stomp_send_headers(*, destination: str, job_id: str, attempt: int, event_key: str) -> dict[str, str]:
    """The headers of the STOMP SEND frame carrying a CloudEvent (integrations §5.2)."""
    return {
        "destination": destination,
        "content-type": CLOUDEVENTS_CONTENT_TYPE,
        "persistent": "true",
        "receipt": f"{job_id}:{attempt}",
        "x-moltin-integration-trigger": event_key,
    }


def sqs_fifo_fields(*, fifo: bool, job_id: str, payload: Mapping[str, object]) -> dict[str, str]:
    """The SendMessage fields a FIFO queue needs: the resource id as group, the job id as deduplication
    id (integrations §5.2, D-I25); none for a standard queue."""
    if not fifo:
        return {}
    return {"MessageGroupId": resource_id(payload) or job_id, "MessageDeduplicationId": job_id}
