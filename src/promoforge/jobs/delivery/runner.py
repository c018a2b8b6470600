"""The delivery loop of a worker process (integrations §4.1-§4.5): claim due deliveries under a lease, send
each on a pool of threads (never more than the per-integration cap at once), record how it ended.

It wakes when a delivery is queued: on PostgreSQL through LISTEN/NOTIFY (the outbox notifies in the
transaction that records an event, so the notice arrives at its commit), on SQLite by polling.
"""

from __future__ import annotations

import json
import logging
import random
import select
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from promoforge import __version__
from promoforge.config import Settings
from promoforge.domain.integrations.configuration import (
    IntegrationType,
    SqsConfiguration,
    StompConfiguration,
    WebhookConfiguration,
    join_configuration,
)
from promoforge.domain.integrations.destinations import (
    NO_PRIVATE_TARGETS,
    IPAddress,
    PrivateTargets,
    parse_private_targets,
    vet_destination,
)
from promoforge.domain.integrations.integrations import IntegrationJobStatus
from promoforge.domain.integrations.messages import (
    MESSAGE_TOO_LARGE,
    IntegrationSummary,
    cloud_event,
    sqs_fifo_fields,
    sqs_send_failed,
    stomp_send_headers,
    webhook_body,
    webhook_headers,
)
from promoforge.domain.integrations.schedule import RETRY_AFTER_STATUSES, parse_retry_after
from promoforge.domain.integrations.signing import SigningSecret, signing_secrets_at
from promoforge.jobs.delivery.outcome import AttemptOutcome, failed
from promoforge.jobs.delivery.sqs import SqsSender
from promoforge.jobs.delivery.stomp import StompSender
from promoforge.jobs.delivery.webhook import WebhookSender
from promoforge.observability import metrics
from promoforge.services import deliveries
from promoforge.services.clock import Clock
from promoforge.services.integrations import PREVIOUS_SIGNING_SECRET, sqs_available
from promoforge.services.secret_box import SecretBox, SecretUnreadable
from promoforge.storage.repositories import Database
from promoforge.storage.repositories.integrations import DELIVERIES_CHANNEL, AttemptRecord, ClaimedDelivery

log = logging.getLogger("promoforge.deliveries")

ATTEMPT_TIMEOUT_SECONDS = 10.0
# Longer than an attempt's timeout and the writes around it: a live owner never loses its lease.
LEASE_SECONDS = 60.0
NO_BASE_URL = "urn:promoforge"
_OUTCOME_LABELS = {
    IntegrationJobStatus.SUCCEEDED: "succeeded",
    IntegrationJobStatus.PENDING: "retrying",
    IntegrationJobStatus.FAILED: "failed",
}


@dataclass(frozen=True)
class _Vetting:
    """Judges each host an attempt connects to, knowing which it reaches without TLS (integrations §8)."""

    targets: PrivateTargets
    enabled: bool
    plain: dict[tuple[str, int], str]

    def __call__(self, host: str, port: int, addresses: list[IPAddress]) -> tuple[bool, str]:
        verdict = vet_destination(
            host,
            port,
            addresses,
            allowed=self.targets,
            private_targets_enabled=self.enabled,
            plain_scheme=self.plain.get((host.lower(), port)),
        )
        return verdict.allowed, verdict.reason


def _not_attempted(error_detail: str) -> AttemptOutcome:
    """A failed attempt that never reached a receiver."""
    moment = time.monotonic()
    return failed(error_detail, started=moment, now=moment)


class DeliveryRunner:
    """Delivers integration jobs from one worker process."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        secrets: SecretBox,
        *,
        clock: Clock,
        stop: threading.Event,
    ) -> None:
        self.db = db
        self.settings = settings
        self.secrets = secrets
        self.clock = clock
        self.stop_event = stop
        self.concurrency = settings.delivery_concurrency
        self.owner = f"deliveries:{uuid.uuid4().hex[:12]}"
        self._wake = threading.Event()
        self._slots = threading.Semaphore(self.concurrency)
        self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="delivery")
        self._webhooks = WebhookSender()
        self._stomp = StompSender()
        self._sqs = SqsSender(endpoint_url=settings.sqs_endpoint_url)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Run the claim loop, and on PostgreSQL the listener that wakes it, in background threads."""
        loop = threading.Thread(target=self._loop, name="deliveries", daemon=True)
        loop.start()
        self._threads.append(loop)
        if self.db.backend == "postgresql":
            listener = threading.Thread(target=self._listen, name="deliveries-listen", daemon=True)
            listener.start()
            self._threads.append(listener)

    def wake(self) -> None:
        """Look for due deliveries now."""
        self._wake.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop claiming, let attempts in flight finish, close connections."""
        self.stop_event.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._pool.shutdown(wait=True)
        self._webhooks.close()
        self._stomp.close()

    def deliver_due(self) -> int:
        """Claim what is due now and deliver it in this thread; how many attempts were made (tests, CLI)."""
        claimed = self._claim(self.concurrency)
        for delivery in claimed:
            self.attempt(delivery)
        return len(claimed)

    def attempt(self, delivery: ClaimedDelivery) -> None:
        """Send one delivery and record how it ended."""
        now = self.clock()
        try:
            outcome = self._send(delivery, now)
        except Exception as error:  # a damaged row or secret must not stop the loop: the attempt fails
            log.exception("delivery %s could not be attempted", delivery.job_id)
            outcome = _not_attempted(f"Could not attempt the delivery: {type(error).__name__}")
        retry_after = None
        if outcome.retry_after is not None and outcome.status_code in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(outcome.retry_after, self.clock())
        record = AttemptRecord(
            succeeded=outcome.succeeded,
            processing_time_tenths_ms=round(outcome.processing_time * 10_000),
            body=outcome.body,
            status_code=outcome.status_code,
            error_detail=outcome.error_detail,
        )
        status = deliveries.record_attempt(
            self.db,
            delivery,
            owner=self.owner,
            outcome=record,
            gone=outcome.gone,
            retry_after_seconds=retry_after,
            jitter=random.uniform(0.8, 1.2),
            now=self.clock(),
            retry_scale=self.settings.delivery_retry_scale,
        )
        label = "discarded" if status is None else _OUTCOME_LABELS[status]
        metrics.record_delivery_attempt(delivery.integration.integration_type, label, outcome.processing_time)
        if status is None:
            log.info(
                "delivery %s: the lease was lost or the integration deleted; result discarded",
                delivery.job_id,
            )

    # The loop

    def _claim(self, limit: int) -> list[ClaimedDelivery]:
        return deliveries.claim_deliveries(
            self.db,
            owner=self.owner,
            now=self.clock(),
            lease_seconds=LEASE_SECONDS,
            limit=limit,
            per_integration=self.settings.delivery_per_integration,
        )

    def _loop(self) -> None:
        while not self.stop_event.is_set():
            free = 0
            while self._slots.acquire(blocking=False):
                free += 1
            claimed: list[ClaimedDelivery] = []
            try:
                claimed = self._claim(free) if free else []
            except Exception:
                log.warning("could not claim deliveries", exc_info=True)
            for _ in range(free - len(claimed)):
                self._slots.release()
            for delivery in claimed:
                self._pool.submit(self._attempt_in_slot, delivery)
            if not claimed or len(claimed) < free:
                self._wake.wait(self.settings.delivery_poll_seconds)
                self._wake.clear()

    def _attempt_in_slot(self, delivery: ClaimedDelivery) -> None:
        try:
            self.attempt(delivery)
        except Exception:
            log.exception("delivery %s failed to record", delivery.job_id)
        finally:
            self._slots.release()
            self._wake.set()

    def _listen(self) -> None:
        """Wake the loop at each NOTIFY of the outbox (PostgreSQL)."""
        while not self.stop_event.is_set():
            try:
                with self.db.engine.connect() as connection:
                    raw: Any = connection.connection.dbapi_connection
                    raw.autocommit = True
                    raw.execute(f"LISTEN {DELIVERIES_CHANNEL}")
                    while not self.stop_event.is_set():
                        ready, _, _ = select.select([raw.fileno()], [], [], 1.0)
                        if ready:
                            for _ in raw.notifies(timeout=0, stop_after=100):
                                self._wake.set()
                            self._wake.set()
                    raw.execute(f"UNLISTEN {DELIVERIES_CHANNEL}")
            except Exception:
                if self.stop_event.wait(1.0):
                    return
                log.warning("lost the deliveries listener; listening again", exc_info=True)

    # One attempt

    def _send(self, delivery: ClaimedDelivery, now: datetime) -> AttemptOutcome:
        record = delivery.integration
        try:
            secrets: dict[str, str] = json.loads(self.secrets.open(record.secrets, belongs_to=record.id))
        except SecretUnreadable as error:
            return _not_attempted(f"Could not attempt the delivery: {error}")
        previous = secrets.pop(PREVIOUS_SIGNING_SECRET, None)
        integration_type = IntegrationType(record.integration_type)
        configuration = join_configuration(integration_type, record.configuration, secrets)
        payload = json.loads(delivery.payload)
        enabled = self.settings.integrations_private_targets == "allow"
        targets = (
            parse_private_targets(list(delivery.allowed_private_targets), "allowed_private_targets")
            if enabled
            else NO_PRIVATE_TARGETS
        )
        if isinstance(configuration, WebhookConfiguration):
            body = webhook_body(
                job_id=delivery.job_id,
                event_key=delivery.event_key,
                attempt=delivery.attempt,
                integration=IntegrationSummary(
                    record.id, record.integration_type, record.name, record.description
                ),
                store_id=delivery.store_id,
                payload=payload,
                url=configuration.url,
                created_at=delivery.event_created_at,
            )
            signing = signing_secrets_at(
                configuration.signing_secret,
                None if previous is None else SigningSecret.parse(previous),
                record.previous_secret_valid_until,
                now,
            )
            headers = webhook_headers(
                job_id=delivery.job_id,
                event_key=delivery.event_key,
                attempt_time=int(time.time()),
                body=body,
                secret_key=configuration.secret_key,
                signing_secrets=signing,
                version=__version__,
            )
            parts = urlsplit(configuration.url)
            plain = (
                {((parts.hostname or "").lower(), parts.port or 80): "http"} if parts.scheme == "http" else {}
            )
            vet = _Vetting(targets, enabled, plain)
            return self._webhooks.send(
                configuration.url, body, headers, vet=vet, timeout=ATTEMPT_TIMEOUT_SECONDS
            )
        message = cloud_event(
            job_id=delivery.job_id,
            event_key=delivery.event_key,
            source=(self.settings.public_url or NO_BASE_URL).rstrip("/"),
            store_id=delivery.store_id,
            integration_id=record.id,
            payload=payload,
            created_at=delivery.event_created_at,
        )
        if message is None:
            return _not_attempted(MESSAGE_TOO_LARGE)
        if isinstance(configuration, StompConfiguration):
            headers_by_name = stomp_send_headers(
                destination=configuration.destination,
                job_id=delivery.job_id,
                attempt=delivery.attempt,
                event_key=delivery.event_key,
            )
            receipt = headers_by_name.pop("receipt")
            destination = headers_by_name.pop("destination")
            plain = {(a.host.lower(), a.port): "stomp" for a in configuration.addresses if not a.tls}
            return self._stomp.send(
                [(a.scheme, a.host, a.port) for a in configuration.addresses],
                destination=destination,
                body=message,
                headers=headers_by_name,
                receipt=receipt,
                login=configuration.username,
                passcode=configuration.password,
                virtual_host=configuration.virtual_host,
                vet=_Vetting(targets, enabled, plain),
                timeout=ATTEMPT_TIMEOUT_SECONDS,
            )
        assert isinstance(configuration, SqsConfiguration)
        if not sqs_available():
            return _not_attempted(sqs_send_failed("NotAvailableOnThisServer"))
        fifo = sqs_fifo_fields(fifo=configuration.fifo, job_id=delivery.job_id, payload=payload)
        return self._sqs.send(configuration, message, fifo_fields=fifo, timeout=ATTEMPT_TIMEOUT_SECONDS)
