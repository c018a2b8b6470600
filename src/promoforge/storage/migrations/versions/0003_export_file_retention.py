"""Export files expire: a retention per store, an expiry time per export job.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_RETENTION_DAYS = 7
KEPT_FILE_CONDITION = "file_size IS NOT NULL"


def upgrade() -> None:
    """Apply this revision."""
    # Plain ALTER TABLE, not batch mode: recreating `stores` on SQLite would drop the old table, and with
    # foreign keys on, that cascades to every promotion.
    op.add_column(
        "stores",
        sa.Column(
            "export_retention_days",
            sa.Integer(),
            server_default=sa.text(str(DEFAULT_RETENTION_DAYS)),
            nullable=False,
        ),
    )
    op.add_column("promotion_jobs", sa.Column("file_expires_at", sa.DateTime(timezone=True), nullable=True))
    op.create_index(
        "ix_promotion_jobs_file_expires_at",
        "promotion_jobs",
        ["file_expires_at"],
        sqlite_where=sa.text(KEPT_FILE_CONDITION),
        postgresql_where=sa.text(KEPT_FILE_CONDITION),
    )
    # Files exported before this revision are kept for the default retention from now on.
    expires = datetime.now(UTC) + timedelta(days=DEFAULT_RETENTION_DAYS)
    if op.get_bind().dialect.name == "sqlite":
        expires = expires.replace(tzinfo=None)  # the service stores UTC without an offset on SQLite
    jobs = sa.table(
        "promotion_jobs",
        sa.column("file_size", sa.BigInteger()),
        sa.column("file_expires_at", sa.DateTime(timezone=True)),
    )
    op.execute(jobs.update().where(jobs.c.file_size.is_not(None)).values(file_expires_at=expires))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("ix_promotion_jobs_file_expires_at", table_name="promotion_jobs")
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): a batch rebuild of `stores` would cascade deletes.
    op.execute("ALTER TABLE promotion_jobs DROP COLUMN file_expires_at")
    op.execute("ALTER TABLE stores DROP COLUMN export_retention_days")
