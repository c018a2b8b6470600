"""The SQL that differs between SQLite and PostgreSQL, behind one small interface."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from sqlalchemy import ColumnElement, Connection, Insert, Table
from sqlalchemy.sql.elements import TextClause

# A CSV cell starting with one of these runs as a formula in spreadsheet programs (OWASP "CSV
# Injection"); the export writes such a cell with a leading single quote, inside double quotes. As an
# SQL list of code points, the test is one integer comparison on the first character.
FORMULA_FIRST_CHARACTERS = "=+-@\t\r"
FORMULA_CODE_POINTS = "({})".format(", ".join(str(ord(ch)) for ch in FORMULA_FIRST_CHARACTERS))


class DialectOps(Protocol):
    """Statements whose text depends on the backend."""

    name: str

    def insert_ignoring_conflicts(self, table: Table) -> Insert:
        """An INSERT that skips rows clashing with a unique index."""
        ...

    def upsert(self, table: Table, key: Sequence[str], keep: Sequence[str] = ()) -> Insert:
        """An INSERT that, on a clash with the unique `key`, updates every column but the key and `keep`."""
        ...

    def matches_any(self, column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
        """`column` equals one of `values` (a few thousand at most)."""
        ...

    def insert_counting_up(self, table: Table, keys: Sequence[str], counter: str) -> Insert:
        """INSERT of a row with its `counter`, or that much added to the existing row with the same keys."""
        ...

    def insert_random_codes(
        self,
        connection: Connection,
        values: Mapping[str, object],
        bodies: Sequence[str],
        on_send: Callable[[], object],
    ) -> int:
        """Insert one batch of generated codes (random parts, sorted) with the batch's shared `values`,
        numbered from `:first_seq` in order, skipping clashes; return how many went in. `on_send` is
        called once, as the rows start going to the database."""
        ...

    def new_ref(self, table: Table) -> dict[str, Any]:
        """The value of a new row's `ref` for an INSERT (empty where the column's sequence gives it)."""
        ...

    def claim_next_job(self) -> TextClause:
        """UPDATE ... RETURNING (id, store_id) that takes the oldest claimable job and leases it to :owner."""
        ...

    def export_chunk(self, connection: Connection, after: int, end: int, limit: int) -> tuple[Any, Any, int]:
        """(CSV lines as UTF-8 bytes, last seq, row count) of the next `limit` codes with seq in
        (`after`, `end`), formatted and joined by the database."""
        ...

    def begin_snapshot(self, connection: Connection) -> None:
        """Make the current transaction read one consistent snapshot."""
        ...

    def defer_durability(self, connection: Connection) -> None:
        """Let the current transaction's commit return before the commit is on disk."""
        ...

    def refresh_statistics(self, connection: Connection, table: str) -> None:
        """Update the planner's statistics of a table after a bulk change."""
        ...

    def read_file_part(self, connection: Connection, store_id: str, job_id: str, part: int) -> bytes | None:
        """Return one stored part of an export file, fetched as raw bytes."""
        ...


def dialect_ops(backend: str) -> DialectOps:
    """Return the statements for a backend name."""
    if backend == "sqlite":
        from promoforge.storage.dialects.sqlite import SQLiteOps

        return SQLiteOps()
    if backend == "postgresql":
        from promoforge.storage.dialects.postgresql import PostgreSQLOps

        return PostgreSQLOps()
    raise ValueError(f"unsupported backend {backend!r}")
