"""Counters of failed code applications per cart and per client address, in one-minute windows (D12)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, delete, select

from promoforge.storage.dialects import DialectOps
from promoforge.storage.schema import attempt_counters


class AttemptCounterRepository:
    """Failed attempts of one store, counted per subject (`cart:<id>`, `address:<ip>`) and window."""

    def __init__(self, connection: Connection, ops: DialectOps, store_id: str) -> None:
        self.connection = connection
        self.ops = ops
        self.store_id = store_id

    def counts(self, subjects: Sequence[str], window_start: datetime) -> dict[str, int]:
        """How many failures each subject has in the window."""
        rows = self.connection.execute(
            select(attempt_counters.c.subject, attempt_counters.c.attempts).where(
                attempt_counters.c.store_id == self.store_id,
                attempt_counters.c.subject.in_(list(subjects)),
                attempt_counters.c.window_start == window_start,
            )
        ).all()
        return {row.subject: int(row.attempts) for row in rows}

    def add(self, subjects: Sequence[str], window_start: datetime, attempts: int) -> dict[str, int]:
        """Add `attempts` (negative: give some back) to each subject's count with one upsert per subject that
        returns the new count, so concurrent requests always see each other's attempts."""
        statement = self.ops.insert_counting_up(
            attempt_counters, ("store_id", "subject", "window_start"), "attempts"
        ).returning(attempt_counters.c.attempts)
        totals: dict[str, int] = {}
        for subject in subjects:
            values = {"store_id": self.store_id, "subject": subject, "window_start": window_start}
            row = self.connection.execute(statement.values(**values, attempts=attempts))
            totals[subject] = int(row.scalar_one())
        return totals


def purge_attempts_before(connection: Connection, moment: datetime) -> int:
    """Delete the counters of windows that started before `moment`, across stores."""
    return int(
        connection.execute(delete(attempt_counters).where(attempt_counters.c.window_start < moment)).rowcount
    )
