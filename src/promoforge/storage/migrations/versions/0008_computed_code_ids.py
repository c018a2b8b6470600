"""Computed code ids: a new code's id is made from its seq and creation time and not stored, so the id
index holds only the ids made before this revision (docs/adr/0013).

Upgrade changes no row: `promotion_codes.id` becomes nullable and its unique index partial. SQLite cannot
drop a NOT NULL in place, so there the table is copied once. Downgrade stores the computed ids.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

from promoforge.domain.identifiers import code_id

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 50_000
ID_TYPE = sa.LargeBinary(16).with_variant(sa.UUID(as_uuid=False), "postgresql")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _set_id_nullable(nullable: bool) -> None:
    if _is_sqlite():
        with op.batch_alter_table("promotion_codes", recreate="always") as batch:
            batch.alter_column("id", existing_type=ID_TYPE, nullable=nullable)
    else:
        op.alter_column("promotion_codes", "id", existing_type=ID_TYPE, nullable=nullable)


def upgrade() -> None:
    op.drop_index("uq_promotion_codes_id", table_name="promotion_codes")
    _set_id_nullable(True)
    op.create_index(
        "uq_promotion_codes_id",
        "promotion_codes",
        ["id"],
        unique=True,
        sqlite_where=sa.text("id IS NOT NULL"),
        postgresql_where=sa.text("id IS NOT NULL"),
    )


def _created_at(value: object) -> datetime:
    """A stored created_at: a datetime on PostgreSQL, microseconds since the epoch on SQLite."""
    if isinstance(value, datetime):
        return value
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(str(value)))


def _store_computed_ids() -> None:
    """Write each computed id into its row, batch by batch."""
    bind = op.get_bind()
    sqlite = _is_sqlite()
    select_batch = sa.text(
        "SELECT seq, created_at FROM promotion_codes"
        " WHERE id IS NULL AND seq > :after ORDER BY seq LIMIT :limit"
    )
    update = sa.text("UPDATE promotion_codes SET id = :id WHERE seq = :seq")
    after = -1
    while rows := bind.execute(select_batch, {"after": after, "limit": BATCH}).all():
        values = []
        for seq, created_at in rows:
            text_id = code_id(int(seq), _created_at(created_at))
            values.append({"seq": seq, "id": uuid.UUID(text_id).bytes if sqlite else text_id})
        bind.execute(update, values)
        after = int(rows[-1][0])


def downgrade() -> None:
    _store_computed_ids()
    op.drop_index("uq_promotion_codes_id", table_name="promotion_codes")
    _set_id_nullable(False)
    op.create_index("uq_promotion_codes_id", "promotion_codes", ["id"], unique=True)
