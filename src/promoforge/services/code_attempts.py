"""The guessing throttle: failed code applications a minute per cart, per client and per store (D12),
taken atomically before a code is looked up and given back by codes that apply (docs/adr/0016)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from promoforge.domain.errors import TooManyAttempts
from promoforge.storage.repositories.transactions import Transaction, Transactor

STORE_SUBJECT = "store"


def attempt_window(now: datetime) -> datetime:
    """The calendar minute an attempt counts in."""
    return now.replace(second=0, microsecond=0)


def attempt_subjects(cart_id: str, client: str | None) -> dict[str, str]:
    """The counters a code attempt is taken from, each with the kind of limit that applies to it."""
    subjects = {f"cart:{cart_id}": "cart", STORE_SUBJECT: "store"}
    if client:
        subjects[f"address:{client}"] = "address"
    return subjects


def take_attempts(
    uow: Transactor, store_id: str, subjects: Mapping[str, str], window: datetime, wanted: int, now: datetime
) -> int:
    """Take up to `wanted` attempts from every subject's allowance at once; 429 if none is left."""
    with uow.write() as tx:
        attempts = tx.store(store_id).attempts
        totals = attempts.take(subjects, window, wanted)
        allowance = min(max(0, min(wanted, limit - (total - wanted))) for total, limit in totals.values())
        if allowance < wanted:
            attempts.give_back(list(subjects), window, wanted - allowance)
    if allowance == 0:
        raise too_many_attempts(now, window)
    return allowance


def give_back_attempts(
    tx: Transaction, store_id: str, subjects: Sequence[str], window: datetime, count: int
) -> None:
    """Return `count` attempts to every subject: the codes that did not fail."""
    if count > 0:
        tx.store(store_id).attempts.give_back(subjects, window, count)


def too_many_attempts(now: datetime, window: datetime) -> TooManyAttempts:
    """The 429 of a spent allowance, with the seconds left in its minute."""
    retry_after = max(1, 60 - int((now - window).total_seconds()))
    return TooManyAttempts(
        f"Too many codes that could not be applied; try again in {retry_after} s", retry_after=retry_after
    )
