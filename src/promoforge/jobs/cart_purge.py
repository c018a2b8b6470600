"""Deleting carts past their store's expiry, and old counters of failed codes, from the worker's idle time."""

from __future__ import annotations

from promoforge.jobs.chores import IdleChore
from promoforge.services.cart_purge import purge_expired_carts
from promoforge.services.clock import Clock
from promoforge.storage.repositories import Transactor

PURGE_INTERVAL_SECONDS = 60.0
PURGE_BATCH_CARTS = 500  # per store and round: one short transaction each


class CartPurge(IdleChore):
    """Deletes expired carts in batches, at most once per interval."""

    def __init__(
        self, db: Transactor, clock: Clock, interval_seconds: float = PURGE_INTERVAL_SECONDS
    ) -> None:
        super().__init__(
            db,
            clock,
            what="expired carts",
            work=lambda db, now: purge_expired_carts(db, now=now, batch=PURGE_BATCH_CARTS),
            interval_seconds=interval_seconds,
        )
