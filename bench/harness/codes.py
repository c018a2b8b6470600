"""How benchmarks read and write code rows directly, in the compact layout (docs/adr/0012)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from promoforge.domain.identifiers import code_id, code_id_parts
from promoforge.storage.column_types import (
    CONSUME_UNIT_NUMBERS,
    from_epoch_microseconds,
    to_epoch_microseconds,
)
from promoforge.storage.schema import CODE_NUMBER_LIMIT


def stored_id(backend: str, code_id: str) -> Any:
    """A code id as the driver must send it: 16 bytes on SQLite, text on PostgreSQL."""
    return uuid.UUID(code_id).bytes if backend == "sqlite" else code_id


def id_text(value: Any) -> str:
    """A stored code id back as canonical text."""
    return str(uuid.UUID(bytes=bytes(value))) if isinstance(value, bytes | memoryview) else str(value)


def code_condition(backend: str, code_id_text: str, marker: str) -> tuple[str, tuple[Any, ...]]:
    """SQL naming one code as the service finds it: by seq for a computed id, else by the stored id."""
    parts = code_id_parts(code_id_text)
    if parts is not None:
        return f"seq = {marker} AND id IS NULL", (parts[0],)
    return f"id = {marker}", (stored_id(backend, code_id_text),)


def row_code_id(seq: int, stored: Any, created_at: Any) -> str:
    """A code row's id as the service serves it: stored, or computed from seq and created_at."""
    if stored is not None:
        return id_text(stored)
    moment = created_at if isinstance(created_at, datetime) else from_epoch_microseconds(int(created_at))
    return code_id(int(seq), moment)


def stored_time(backend: str, moment: datetime) -> Any:
    """A code's created_at as stored: microseconds on SQLite, the datetime on PostgreSQL."""
    return to_epoch_microseconds(moment) if backend == "sqlite" else moment.astimezone(UTC)


def consume_unit_number(name: str) -> int:
    """consume_unit as stored."""
    return CONSUME_UNIT_NUMBERS[name]


def ref_of(conn: Any, table: str, marker: str, row_id: str) -> int:
    """The compact ref of a store, promotion or job."""
    row = conn.execute(f"SELECT ref FROM {table} WHERE id = {marker}", (row_id,)).fetchone()
    if row is None or row[0] is None:
        raise LookupError(f"no {table} row {row_id}")
    return int(row[0])


def seq_range(conn: Any, marker: str, promotion_id: str) -> tuple[int, int]:
    """[first, end) of the promotion's code seqs."""
    ref = ref_of(conn, "promotions", marker, promotion_id)
    return ref * CODE_NUMBER_LIMIT, (ref + 1) * CODE_NUMBER_LIMIT


CODE_COLUMNS = (
    "seq, id, store_ref, job_ref, code, code_key, max_uses, uses, consume_unit, user_restriction, "
    "created_by, created_at"
)
