"""Deleting finished deliveries, their logs and events past each store's retention (integrations §4.11),
from the worker's idle time."""

from __future__ import annotations

from promoforge.jobs.chores import IdleChore
from promoforge.services.clock import Clock
from promoforge.services.deliveries import purge_expired_deliveries
from promoforge.storage.repositories import Transactor

PURGE_INTERVAL_SECONDS = 300.0


class DeliveryPurge(IdleChore):
    """Purges expired deliveries in batches, at most once per interval."""

    def __init__(
        self, db: Transactor, clock: Clock, interval_seconds: float = PURGE_INTERVAL_SECONDS
    ) -> None:
        super().__init__(
            db,
            clock,
            what="expired integration deliveries",
            work=lambda db, now: purge_expired_deliveries(db, now=now),
            interval_seconds=interval_seconds,
        )
