"""Readiness and worker heartbeats: whether a process should be sent work, and which workers are alive."""

from __future__ import annotations

from datetime import datetime

from promoforge.domain.health import (
    HEARTBEAT_PURGED_AFTER,
    Check,
    CheckStatus,
    ExpectedWorker,
    Readiness,
    WorkerHeartbeat,
    migrations_check,
    worker_check,
)
from promoforge.storage.repositories import Transactor

MAX_REASON_CHARS = 300


def record_heartbeat(uow: Transactor, *, heartbeat: WorkerHeartbeat) -> None:
    """Record that a worker is alive, and forget the workers that stopped beating long ago."""
    with uow.write() as tx:
        tx.workers.beat(heartbeat)
        tx.workers.purge_silent_since(heartbeat.beat_at - HEARTBEAT_PURGED_AFTER)


def remove_heartbeat(uow: Transactor, *, worker_id: str) -> None:
    """Forget a worker that is stopping."""
    with uow.write() as tx:
        tx.workers.remove(worker_id)


def check_readiness(
    uow: Transactor, *, expected_revision: str | None, worker: ExpectedWorker | None, now: datetime
) -> Readiness:
    """Check the database answers, its schema is at `expected_revision` and, when one is expected, that a
    worker's heartbeat is fresh; never raises."""
    checks: dict[str, Check] = {}
    last_beat: datetime | None = None
    try:
        with uow.read() as tx:
            revision = tx.schema_revision()
            at_head = revision == expected_revision
            if worker is not None and at_head:
                last_beat = tx.workers.latest_beat(worker_id=worker.worker_id, host=worker.host)
    except Exception as error:
        # Whatever went wrong is the answer: a probe must get a reason, never an error of its own.
        checks["database"] = Check(CheckStatus.FAILED, f"cannot read the database: {_cause(error)}")
        return Readiness(checks)
    checks["database"] = Check(CheckStatus.PASSED)
    checks["migrations"] = migrations_check(revision, expected_revision)
    if worker is None:
        checks["worker"] = Check(CheckStatus.SKIPPED, "no job worker expected")
    elif not at_head:
        checks["worker"] = Check(CheckStatus.SKIPPED, "not checked before the schema is current")
    else:
        checks["worker"] = worker_check(worker, last_beat, now)
    return Readiness(checks)


def _cause(error: BaseException) -> str:
    """The driver's own words for a failure (the first line), behind any translation of ours."""
    while error.__cause__ is not None:
        error = error.__cause__
    original = getattr(error, "orig", None) or error
    lines = str(original).strip().splitlines()
    text = f"{type(original).__name__}: {lines[0] if lines else ''}"
    return text[:MAX_REASON_CHARS]
