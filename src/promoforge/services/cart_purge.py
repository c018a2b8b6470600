"""Expired carts, old attempt counters and checkout keys go in bounded batches, from the worker, never in a
request."""

from __future__ import annotations

from datetime import datetime, timedelta

from promoforge.domain.integrations import events
from promoforge.domain.orders import IDEMPOTENCY_WINDOW
from promoforge.storage.repositories.attempts import purge_attempts_before
from promoforge.storage.repositories.orders import purge_checkout_keys_before
from promoforge.storage.repositories.transactions import Transactor

ATTEMPT_COUNTERS_KEPT = timedelta(hours=1)


def purge_expired_carts(uow: Transactor, *, now: datetime, batch: int) -> int:
    """Delete up to `batch` carts per store that were not updated for their store's `cart_expiry_days`."""
    with uow.read() as tx:
        stores = tx.stores.all()
    purged = 0
    for store in stores:
        with uow.write() as tx:
            cutoff = now - timedelta(days=store.cart_expiry_days)
            gone = tx.store(store.id).carts.delete_expired(cutoff, batch)
            for cart_id in gone:
                tx.outbox.record(store, events.CART_DELETED, {"type": "cart", "id": cart_id}, now)
            purged += len(gone)
    with uow.write() as tx:
        purge_attempts_before(tx.connection, now - ATTEMPT_COUNTERS_KEPT)
        purge_checkout_keys_before(tx.connection, now - IDEMPOTENCY_WINDOW)
    return purged
