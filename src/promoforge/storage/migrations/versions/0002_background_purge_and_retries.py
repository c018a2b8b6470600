"""Tombstones for deleted promotions, retry times for jobs, a store-leading index for a promotion's codes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column("promotions", sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("promotion_jobs", sa.Column("run_after", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_promotion_codes_store_id_promotion_id_seq", "promotion_codes", ["store_id", "promotion_id", "seq"]
    )
    op.drop_index("ix_promotion_codes_promotion_id_seq", table_name="promotion_codes")


def downgrade() -> None:
    """Revert this revision."""
    op.create_index("ix_promotion_codes_promotion_id_seq", "promotion_codes", ["promotion_id", "seq"])
    op.drop_index("ix_promotion_codes_store_id_promotion_id_seq", table_name="promotion_codes")
    # Deleted promotions were tombstones; before this revision a deleted promotion was simply gone.
    deleted = "SELECT id FROM promotions WHERE deleted_at IS NOT NULL"
    op.execute(f"DELETE FROM promotion_codes WHERE promotion_id IN ({deleted})")
    op.execute(f"DELETE FROM promotion_versions WHERE promotion_id IN ({deleted})")
    op.execute(f"DELETE FROM promotion_jobs WHERE promotion_id IN ({deleted})")
    op.execute("DELETE FROM promotions WHERE deleted_at IS NOT NULL")
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): a batch rebuild would lose partial indexes.
    op.execute("ALTER TABLE promotion_jobs DROP COLUMN run_after")
    op.execute("ALTER TABLE promotions DROP COLUMN deleted_at")
