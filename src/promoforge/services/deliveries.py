"""The worker's side of integrations (integrations §4.3-§4.5, §4.11): claim due deliveries under a lease,
record how each attempt ended, and purge what retention lets go."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from promoforge.domain.integrations.integrations import IntegrationJobStatus
from promoforge.domain.integrations.schedule import next_attempt_delay
from promoforge.storage.repositories.integrations import AttemptRecord, ClaimedDelivery
from promoforge.storage.repositories.transactions import Transactor

PURGE_BATCH = 1_000


def claim_deliveries(
    uow: Transactor, *, owner: str, now: datetime, lease_seconds: float, limit: int, per_integration: int
) -> list[ClaimedDelivery]:
    """Lease up to `limit` due deliveries to `owner`, in one short transaction."""
    with uow.write() as tx:
        return tx.deliveries.claim(
            owner,
            now=now,
            lease_until=now + timedelta(seconds=lease_seconds),
            limit=limit,
            per_integration=per_integration,
        )


def record_attempt(
    uow: Transactor,
    delivery: ClaimedDelivery,
    *,
    owner: str,
    outcome: AttemptRecord,
    gone: bool,
    retry_after_seconds: float | None,
    jitter: float,
    now: datetime,
    retry_scale: float = 1.0,
) -> IntegrationJobStatus | None:
    """Log the attempt and move its job: succeeded, pending again at the schedule's next time (§4.5, every
    delay times `retry_scale`), or failed for good (10 attempts, or 410). None when the lease was lost or
    the integration deleted meanwhile (the attempt's result is discarded, §2.6, §4.3)."""
    if outcome.succeeded:
        status, next_at = IntegrationJobStatus.SUCCEEDED, None
    else:
        delay = (
            None
            if gone
            else next_attempt_delay(
                delivery.attempt,
                jitter=jitter,
                retry_after_seconds=retry_after_seconds,
                scale=retry_scale,
            )
        )
        if delay is None:
            status, next_at = IntegrationJobStatus.FAILED, None
        else:
            status, next_at = IntegrationJobStatus.PENDING, now + timedelta(seconds=delay)
    with uow.write() as tx:
        finished = tx.deliveries.finish(
            delivery,
            owner,
            outcome,
            status=status.value,
            next_attempt_at=next_at,
            log_id=str(uuid.uuid4()),
            now=now,
        )
    return status if finished else None


def purge_expired_deliveries(uow: Transactor, *, now: datetime) -> int:
    """Delete finished jobs, their logs and events past each store's retention; how many jobs (§4.11)."""
    with uow.read() as tx:
        retention = tx.deliveries.retention_by_store()
    purged = 0
    for store_id, days in retention.items():
        while True:
            with uow.write() as tx:
                gone = tx.deliveries.purge_finished(store_id, now - timedelta(days=days), PURGE_BATCH)
            purged += gone
            if gone < PURGE_BATCH:
                break
    return purged
