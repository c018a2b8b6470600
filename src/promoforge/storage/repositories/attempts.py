"""Counters of failed code applications per cart and per client address, in one-minute windows (D12)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select

from promoforge.storage.column_types import UTCDateTime
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
        return {
            subject: int(row.attempts) for subject, row in self._add(subjects, window_start, attempts).items()
        }

    def take(
        self, subjects: Mapping[str, str], window_start: datetime, attempts: int
    ) -> dict[str, tuple[int, int]]:
        """Add `attempts` to each subject's count; return each subject's new count with its limit, the
        store's setting named by the subject's kind (`cart`, `address` or `store`)."""
        rows = self._add(list(subjects), window_start, attempts)
        return {
            subject: (int(row.attempts), int(getattr(row, f"{kind}_limit")))
            for subject, kind in subjects.items()
            for row in (rows[subject],)
        }

    def give_back(self, subjects: Sequence[str], window_start: datetime, attempts: int) -> None:
        """Take `attempts` off each subject's count again, in one statement that locks the rows in the
        same order as taking them does."""
        self._add(subjects, window_start, -attempts)

    def _add(self, subjects: Sequence[str], window_start: datetime, attempts: int) -> dict[str, Any]:
        # Rows in one order for every request: two upserts of the same counters then lock them alike.
        parameters: dict[str, Any] = {
            "store_id": self.store_id,
            "window_start": window_start,
            "attempts": attempts,
        }
        for number, subject in enumerate(sorted(subjects)):
            parameters[f"subject_{number}"] = subject
        statement = self._counting_up(len(subjects))
        return {row.subject: row for row in self.connection.execute(statement, parameters)}

    def _counting_up(self, subjects: int) -> Any:
        """The upsert of this many subjects' counters, returning their counts and the store's limits;
        built once per dialect and size (a statement object keeps its compiled form's cache key)."""
        key = (type(self.ops), subjects)
        if key not in _COUNTING_UP:
            rows = [
                {
                    "store_id": bindparam("store_id"),
                    "subject": bindparam(f"subject_{number}"),
                    "window_start": bindparam("window_start", type_=UTCDateTime),
                    "attempts": bindparam("attempts"),
                }
                for number in range(subjects)
            ]
            limits = [
                select(column)
                .where(stores.c.id == bindparam("store_id"))
                .scalar_subquery()
                .label(f"{kind}_limit")
                for kind, column in _LIMITS.items()
            ]
            _COUNTING_UP[key] = (
                self.ops.insert_counting_up(
                    attempt_counters, ("store_id", "subject", "window_start"), "attempts"
                )
                .values(rows)
                .returning(attempt_counters.c.subject, attempt_counters.c.attempts, *limits)
            )
        return _COUNTING_UP[key]


_COUNTING_UP: dict[tuple[type, int], Any] = {}


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
