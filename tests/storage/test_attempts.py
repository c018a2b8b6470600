"""AttemptCounterRepository: counters of failed code attempts per subject and one-minute window, taken in
one multi-row upsert that returns each count beside the store's limit for it (D12)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from promoforge.domain.errors import TooManyAttempts
from promoforge.services.code_attempts import attempt_window, take_attempts
from promoforge.storage.repositories import Database
from promoforge.storage.repositories.attempts import purge_attempts_before
from seeds import NOW, new_store

WINDOW = attempt_window(NOW)
NEXT_WINDOW = WINDOW + timedelta(minutes=1)
ADDRESS = "address:192.0.2.0"


def subjects(cart_id: str) -> dict[str, str]:
    """The counters one code attempt on a cart from ADDRESS takes from, with their kinds of limit."""
    return {f"cart:{cart_id}": "cart", ADDRESS: "address", "store": "store"}


@pytest.fixture
def store_id(db: Database) -> str:
    """A store allowing 2 failed attempts a minute per cart, 3 per address and 5 in all."""
    return new_store(db, code_attempts_per_cart=2, code_attempts_per_address=3, code_attempts_per_store=5)


def counts(db: Database, store_id: str, window: datetime = WINDOW) -> dict[str, int]:
    """The counts the store's counters of these tests hold in a window."""
    with db.read() as tx:
        return tx.store(store_id).attempts.counts(["cart:c1", "cart:c2", "cart:c3", ADDRESS, "store"], window)


def test_taking_adds_to_every_counter_and_answers_each_with_its_own_limit(
    db: Database, store_id: str
) -> None:
    with db.write() as tx:
        first = tx.store(store_id).attempts.take(subjects("c1"), WINDOW, 1)
    with db.write() as tx:
        second = tx.store(store_id).attempts.take(subjects("c1"), WINDOW, 2)

    assert first == {"cart:c1": (1, 2), ADDRESS: (1, 3), "store": (1, 5)}
    # The repository counts past a limit; refusing is the caller's (and it gives back what it refuses).
    assert second == {"cart:c1": (3, 2), ADDRESS: (3, 3), "store": (3, 5)}
    assert counts(db, store_id) == {"cart:c1": 3, ADDRESS: 3, "store": 3}


def test_counters_are_apart_per_subject_window_and_store(db: Database, store_id: str) -> None:
    other = new_store(db, "other", code_attempts_per_cart=7)
    with db.write() as tx:
        tx.store(store_id).attempts.take(subjects("c1"), WINDOW, 1)
        tx.store(store_id).attempts.take(subjects("c2"), WINDOW, 1)
        tx.store(store_id).attempts.take(subjects("c1"), NEXT_WINDOW, 1)
        theirs = tx.store(other).attempts.take(subjects("c1"), WINDOW, 1)

    assert theirs == {"cart:c1": (1, 7), ADDRESS: (1, 30), "store": (1, 600)}
    assert counts(db, store_id) == {"cart:c1": 1, "cart:c2": 1, ADDRESS: 2, "store": 2}
    assert counts(db, store_id, NEXT_WINDOW) == {"cart:c1": 1, ADDRESS: 1, "store": 1}


def test_giving_back_restores_the_counts_taken(db: Database, store_id: str) -> None:
    with db.write() as tx:
        tx.store(store_id).attempts.take(subjects("c1"), WINDOW, 1)
    with db.write() as tx:
        tx.store(store_id).attempts.take(subjects("c2"), WINDOW, 2)
        tx.store(store_id).attempts.give_back(list(subjects("c2")), WINDOW, 2)

    assert counts(db, store_id) == {"cart:c1": 1, "cart:c2": 0, ADDRESS: 1, "store": 1}


def test_a_take_past_a_limit_is_refused_and_changes_no_counter(db: Database, store_id: str) -> None:
    assert take_attempts(db, store_id, subjects("c1"), WINDOW, 2, NOW) == 2
    before = counts(db, store_id)

    with pytest.raises(TooManyAttempts) as refused:
        take_attempts(db, store_id, subjects("c1"), WINDOW, 1, NOW)

    assert refused.value.retry_after == 45
    assert counts(db, store_id) == before == {"cart:c1": 2, ADDRESS: 2, "store": 2}


def test_a_take_is_cut_to_the_smallest_allowance_left(db: Database, store_id: str) -> None:
    assert take_attempts(db, store_id, subjects("c1"), WINDOW, 2, NOW) == 2
    # The address has one attempt left: of three wanted on a new cart, one is allowed.
    assert take_attempts(db, store_id, subjects("c2"), WINDOW, 3, NOW) == 1
    assert counts(db, store_id) == {"cart:c1": 2, "cart:c2": 1, ADDRESS: 3, "store": 3}
    with pytest.raises(TooManyAttempts):
        take_attempts(db, store_id, subjects("c3"), WINDOW, 1, NOW)
    assert counts(db, store_id) == {"cart:c1": 2, "cart:c2": 1, "cart:c3": 0, ADDRESS: 3, "store": 3}
    # A new minute starts afresh.
    assert take_attempts(db, store_id, subjects("c3"), NEXT_WINDOW, 1, NOW + timedelta(minutes=1)) == 1


def test_adding_returns_the_new_counts_and_old_windows_are_purged(db: Database, store_id: str) -> None:
    other = new_store(db, "other")
    with db.write() as tx:
        assert tx.store(store_id).attempts.add(["carts:customer:c-1"], WINDOW, 1) == {"carts:customer:c-1": 1}
        assert tx.store(store_id).attempts.add(["carts:customer:c-1", "x"], WINDOW, 2) == {
            "carts:customer:c-1": 3,
            "x": 2,
        }
        tx.store(other).attempts.add(["x"], WINDOW, 1)
        tx.store(store_id).attempts.add(["x"], NEXT_WINDOW, 1)
    with db.write() as tx:
        assert purge_attempts_before(tx.connection, NEXT_WINDOW) == 3
    with db.read() as tx:
        assert tx.store(store_id).attempts.counts(["carts:customer:c-1", "x"], WINDOW) == {}
        assert tx.store(store_id).attempts.counts(["carts:customer:c-1", "x"], NEXT_WINDOW) == {"x": 1}
