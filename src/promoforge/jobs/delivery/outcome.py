"""What one delivery attempt came to, in the terms of an integration log (spec integrations.md §4.8)."""

from __future__ import annotations

from dataclasses import dataclass

# The most of a receiver's answer that is kept (§8.5).
ANSWER_LIMIT_BYTES = 2048

NON_2XX_STATUS = "Received a status code outside of 2xx range - treating webhook as a fail"
GONE = "Receiver answered 410 Gone - no more retries for this job"


def no_response_within(seconds: float) -> str:
    """The error detail of a webhook attempt that ran out of time."""
    return f"No response within {seconds:g} seconds - treating webhook as a fail"


def no_receipt_within(seconds: float) -> str:
    """The error detail of a STOMP attempt that ran out of time."""
    return f"No STOMP receipt within {seconds:g} seconds"


def could_not_connect(reason: str) -> str:
    """The error detail of a DNS, connection or protocol failure."""
    return f"Could not connect: {reason}"


def tls_verification_failed(reason: str) -> str:
    """The error detail of a failed TLS handshake."""
    return f"TLS verification failed: {reason}"


def stomp_error(message: str) -> str:
    """The error detail of a STOMP ERROR frame."""
    return f"STOMP broker returned ERROR: {message}"


def answer_text(answer: bytes) -> str:
    """The first 2,048 bytes of an answer as UTF-8, invalid bytes replaced."""
    return answer[:ANSWER_LIMIT_BYTES].decode("utf-8", errors="replace")


@dataclass(frozen=True)
class AttemptOutcome:
    """One attempt's result: what the log row records and what the retry schedule needs."""

    succeeded: bool
    # The HTTP status; 0 when there was no HTTP response, and always for STOMP.
    status_code: int
    body: str
    error_detail: str
    # The raw Retry-After header of a 429 or 503 response.
    retry_after: str | None
    # True for an HTTP 410: the job is not retried.
    gone: bool
    # Seconds from the start of the attempt to its outcome, 4 decimals.
    processing_time: float


def failed(error_detail: str, *, started: float, now: float, body: str = "") -> AttemptOutcome:
    """A failed attempt without an HTTP response."""
    return AttemptOutcome(
        succeeded=False,
        status_code=0,
        body=body,
        error_detail=error_detail,
        retry_after=None,
        gone=False,
        processing_time=elapsed(started, now),
    )


def elapsed(started: float, now: float) -> float:
    """Seconds between two monotonic readings, rounded to 4 decimals."""
    return round(max(now - started, 0.0), 4)
