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

    def record(self, subjects: Sequence[str], window_start: datetime) -> None:
        """Count one more failure for each subject, in one statement per subject."""
        statement = self.ops.insert_counting_up(
            attempt_counters, ("store_id", "subject", "window_start"), "attempts"
        )
        for subject in subjects:
            self.connection.execute(
                statement.values(
                    store_id=self.store_id, subject=subject, window_start=window_start, attempts=1
                )
            )


def purge_attempts_before(connection: Connection, moment: datetime) -> int:
    """Delete the counters of windows that started before `moment`, across stores."""
    return int(
        connection.execute(delete(attempt_counters).where(attempt_counters.c.window_start < moment)).rowcount
    )
