"""OrderRepository's idempotency keys (D13): a key is claimed once per store, read back as claimed, and
taken over only by a caller that read its current claim."""

from __future__ import annotations

from datetime import datetime, timedelta

from promoforge.domain.orders import KeyClaim
from promoforge.storage.repositories import Database
from seeds import NOW, new_store

ORDER_1 = "0190c3a0-0000-7000-8000-000000000001"
ORDER_2 = "0190c3a0-0000-7000-8000-000000000002"


def claim(order_id: str, at: datetime = NOW, cart_id: str = "c1") -> KeyClaim:
    """A claim of a key by the shop's back end, for the request that makes this order."""
    return KeyClaim(cart_id, order_id, "client_credentials", f"digest-{order_id[-1]}", at)


def test_a_key_is_claimed_once_per_store_and_the_first_claim_stays(db: Database, store_id: str) -> None:
    other = new_store(db, "other")
    with db.write() as tx:
        assert tx.store(store_id).orders.claim_key("retry-1", claim(ORDER_1))
    with db.write() as tx:
        assert not tx.store(store_id).orders.claim_key("retry-1", claim(ORDER_2, cart_id="c2"))
        assert tx.store(other).orders.claim_key("retry-1", claim(ORDER_2))

    with db.read() as tx:
        assert tx.store(store_id).orders.claimed_key("retry-1") == claim(ORDER_1)
        assert tx.store(other).orders.claimed_key("retry-1") == claim(ORDER_2)
        assert tx.store(store_id).orders.claimed_key("unknown") is None


def test_a_key_is_taken_over_only_from_the_claim_the_caller_read(db: Database, store_id: str) -> None:
    old = NOW - timedelta(days=2)
    with db.write() as tx:
        assert tx.store(store_id).orders.claim_key("retry-1", claim(ORDER_1, old))

    with db.write() as tx:
        assert tx.store(store_id).orders.reclaim_key("retry-1", old, claim(ORDER_2))
    with db.write() as tx:
        # A second caller that read the old claim too finds it gone.
        assert not tx.store(store_id).orders.reclaim_key("retry-1", old, claim(ORDER_1))

    with db.read() as tx:
        assert tx.store(store_id).orders.claimed_key("retry-1") == claim(ORDER_2)
