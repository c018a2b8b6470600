"""Counters of failed code applications per cart and per client address, in one-minute windows (D12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, case, delete, literal, select

from promoforge.storage.dialects import DialectOps
from promoforge.storage.schema import attempt_counters, stores


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
        """Add `attempts` to each subject's count in one upsert that returns the new counts, so concurrent
        requests always see each other's attempts."""
        return {subject: total for subject, (total, _) in self._add(subjects, window_start, attempts).items()}

    def take(
        self, subjects: Mapping[str, str], window_start: datetime, attempts: int
    ) -> dict[str, tuple[int, int]]:
        """Add `attempts` to each subject's count; return each subject's new count with its limit, the
        store's setting named by the subject's kind (`cart`, `address` or `store`)."""
        limits = {
            kind: select(column).where(stores.c.id == self.store_id).scalar_subquery()
            for kind, column in _LIMITS.items()
        }
        limit = case(
            *((attempt_counters.c.subject == subject, limits[kind]) for subject, kind in subjects.items()),
            else_=None,
        )
        return self._add(list(subjects), window_start, attempts, limit)

    def _add(
        self, subjects: Sequence[str], window_start: datetime, attempts: int, limit: Any = None
    ) -> dict[str, tuple[int, int]]:
        # Rows in one order for every request: two upserts of the same counters then lock them alike.
        rows = [
            {
                "store_id": self.store_id,
                "subject": subject,
                "window_start": window_start,
                "attempts": attempts,
            }
            for subject in sorted(subjects)
        ]
        statement = self.ops.insert_counting_up(
            attempt_counters, ("store_id", "subject", "window_start"), "attempts"
        ).values(rows)
        returned = [attempt_counters.c.subject, attempt_counters.c.attempts]
        result = self.connection.execute(
            statement.returning(*returned, (limit if limit is not None else literal(0)).label("limit"))
        )
        return {row.subject: (int(row.attempts), int(row.limit or 0)) for row in result}

    def give_back(self, subjects: Sequence[str], window_start: datetime, attempts: int) -> None:
        """Take `attempts` off each subject's count again, in one statement that locks the rows in the
        same order as taking them does."""
        self._add(subjects, window_start, -attempts)


_LIMITS = {
    "cart": stores.c.code_attempts_per_cart,
    "address": stores.c.code_attempts_per_address,
    "store": stores.c.code_attempts_per_store,
}


def purge_attempts_before(connection: Connection, moment: datetime) -> int:
    """Delete the counters of windows that started before `moment`, across stores."""
    return int(
        connection.execute(delete(attempt_counters).where(attempt_counters.c.window_start < moment)).rowcount
    )
