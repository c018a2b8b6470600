"""Deleting expired export files, from the worker's idle time."""

from __future__ import annotations

from promoforge.jobs.chores import IdleChore
from promoforge.services import jobs
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Transactor

PURGE_INTERVAL_SECONDS = 60.0
# Parts are up to export_part_bytes (4 MiB by default) each: this bounds one transaction to about 32 MiB.
PURGE_BATCH_PARTS = 8


class ExportPurge(IdleChore):
    """Deletes the parts of expired export files, at most once per interval."""

    def __init__(
        self, db: Transactor, clock: Clock, interval_seconds: float = PURGE_INTERVAL_SECONDS
    ) -> None:
        super().__init__(
            db,
            clock,
            what="parts of expired export files",
            work=lambda db, now: jobs.purge_expired_exports(db, now=now, batch=PURGE_BATCH_PARTS),
            interval_seconds=interval_seconds,
        )
