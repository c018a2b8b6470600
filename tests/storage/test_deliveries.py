"""Claiming due deliveries (integrations §4.3, D-I17): at most `per_integration` of an integration in flight,
and the integrations at their cap found once per claim, not once per due job (a backlog of n jobs made each
claim read about n²/2 rows, and one worker's deliveries fell to a few a second after an outage)."""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import bindparam, text

from promoforge.domain.queries import Page
from promoforge.storage.column_types import UTCDateTime
from promoforge.storage.repositories import Database
from promoforge.storage.repositories.integrations import (
    _CLAIM,
    AttemptRecord,
    ClaimedDelivery,
    IntegrationRecord,
)
from seeds import NOW

LEASE = timedelta(seconds=60)
SUCCEEDED = AttemptRecord(
    succeeded=True, processing_time_tenths_ms=10, body="ok", status_code=200, error_detail=""
)


def _integrations(db: Database, store_id: str, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with db.write() as tx:
        for number, integration_id in enumerate(ids):
            tx.store(store_id).integrations.add(
                IntegrationRecord(
                    id=integration_id,
                    store_id=store_id,
                    name=f"receiver {number}",
                    description="",
                    enabled=True,
                    integration_type="webhook",
                    observes=("cart.updated",),
                    configuration={"url": f"https://receiver-{number}.example.com/hook"},
                    secrets=b"",
                    previous_secret_valid_until=None,
                    created_at=NOW,
                    updated_at=NOW,
                )
            )
    return ids


def _queue(db: Database, store_id: str, integrations: list[str], events: int) -> None:
    """`events` events, each with a job due now for every integration."""
    with db.write() as tx:
        repository = tx.store(store_id).integrations
        for _ in range(events):
            repository.record_event(
                event_id=str(uuid.uuid4()),
                event_key="cart.updated",
                payload='{"data":{"type":"cart","id":"c1"}}',
                job_ids=[(str(uuid.uuid4()), integration) for integration in integrations],
                now=NOW,
            )


def _claim(db: Database, owner: str, limit: int = 16) -> list[ClaimedDelivery]:
    with db.write() as tx:
        return tx.deliveries.claim(owner, now=NOW, lease_until=NOW + LEASE, limit=limit, per_integration=4)


def test_a_claim_keeps_each_integration_to_its_cap(db: Database, store_id: str) -> None:
    first, second = _integrations(db, store_id, 2)
    _queue(db, store_id, [first, second], 10)
    claimed = _claim(db, "worker-1")
    assert Counter(d.integration.id for d in claimed) == {first: 4, second: 4}
    assert _claim(db, "worker-2") == []  # both at their cap, whoever asks
    done = next(d for d in claimed if d.integration.id == first)
    with db.write() as tx:
        assert tx.deliveries.finish(
            done,
            "worker-1",
            SUCCEEDED,
            status="succeeded",
            next_attempt_at=None,
            log_id=str(uuid.uuid4()),
            now=NOW,
        )
    again = _claim(db, "worker-2", limit=1)
    assert [d.integration.id for d in again] == [first]
    assert again[0].attempt == 1
    # Leases that ran out free their integration's places: the jobs go to whoever claims next.
    with db.write() as tx:
        later = NOW + LEASE + timedelta(seconds=1)
        retaken = tx.deliveries.claim(
            "worker-3", now=later, lease_until=later + LEASE, limit=16, per_integration=4
        )
    assert Counter(d.integration.id for d in retaken) == {first: 4, second: 4}


def test_the_integrations_at_their_cap_are_counted_once_per_claim(db: Database, store_id: str) -> None:
    integrations = _integrations(db, store_id, 2)
    _queue(db, store_id, integrations, 50)
    _claim(db, "worker-1")
    postgresql = db.backend == "postgresql"
    statement = _CLAIM.format(lock="FOR UPDATE SKIP LOCKED" if postgresql else "")
    explain = "EXPLAIN " if postgresql else "EXPLAIN QUERY PLAN "
    query = text(explain + statement).bindparams(
        bindparam("now", type_=UTCDateTime), bindparam("lease_until", type_=UTCDateTime)
    )
    values = {"owner": "w", "now": NOW, "lease_until": NOW + LEASE, "limit": 16, "per_integration": 4}
    with db.write() as tx:
        rows = tx.connection.execute(query, values).all()
    plan = "\n".join(str(row[-1]) for row in rows)
    if postgresql:
        # A hashed subplan runs once; a plain one would run for every due job.
        assert "SubPlan" in plan and "hashed SubPlan" in plan, plan
    else:
        assert "CORRELATED" not in plan and "LIST SUBQUERY" in plan, plan


def test_jobs_of_an_integration_disabled_meanwhile_are_cancelled_not_delivered(
    db: Database, store_id: str
) -> None:
    live, disabled = _integrations(db, store_id, 2)
    _queue(db, store_id, [live, disabled], 2)
    with db.write() as tx:  # disabled after the jobs were recorded, as by a change racing the disabling
        record = tx.store(store_id).integrations.get(disabled)
        assert record is not None
        tx.store(store_id).integrations.save(replace(record, enabled=False))
    claimed = _claim(db, "worker-1")
    assert {d.integration.id for d in claimed} == {live}
    with db.read() as tx:
        jobs, total = tx.store(store_id).integrations.jobs_page(disabled, Page(limit=10, offset=0))
    assert total == 2 and {(job.status, job.attempts) for job in jobs} == {("cancelled", 0)}
    assert _claim(db, "worker-2") == []
