"""Integrations: webhooks and queues a store subscribes to events, the events recorded with their change,
one delivery job per integration and event, and one log per attempt.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UUID = sa.String(36).with_variant(postgresql.UUID(as_uuid=False), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
WAITING = "status IN ('pending', 'processing')"


def upgrade() -> None:
    """Apply this revision."""
    # A plain ADD COLUMN: SQLite's batch mode would copy and drop `stores`, and the drop cascades.
    op.add_column(
        "stores", sa.Column("observed_events", sa.JSON(), server_default=sa.text("'[]'"), nullable=False)
    )
    op.create_table(
        "integrations",
        sa.Column("id", UUID, nullable=False),
        sa.Column("store_id", UUID, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("integration_type", sa.String(16), nullable=False),
        sa.Column("observes", sa.JSON(), nullable=False),
        sa.Column("configuration", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.LargeBinary(), nullable=False),
        sa.Column("previous_secret_valid_until", TIMESTAMP, nullable=True),
        sa.Column("last_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("last_success_at", TIMESTAMP, nullable=True),
        sa.Column("last_failure_at", TIMESTAMP, nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_integrations_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integrations")),
    )
    op.create_index("ix_integrations_store_id_created_at", "integrations", ["store_id", "created_at"])
    op.create_table(
        "integration_settings",
        sa.Column("store_id", UUID, nullable=False),
        sa.Column("allowed_private_targets", sa.JSON(), nullable=False),
        sa.Column("max_observes_per_integration", sa.Integer(), nullable=False),
        sa.Column("max_integrations", sa.Integer(), nullable=False),
        sa.Column("log_retention_days", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_integration_settings_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("store_id", name=op.f("pk_integration_settings")),
    )
    op.create_table(
        "integration_events",
        sa.Column("id", UUID, nullable=False),
        sa.Column("store_id", UUID, nullable=False),
        sa.Column("event_key", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"],
            ["stores.id"],
            name=op.f("fk_integration_events_store_id_stores"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_events")),
    )
    op.create_table(
        "integration_jobs",
        sa.Column("id", UUID, nullable=False),
        sa.Column("store_id", UUID, nullable=False),
        sa.Column("integration_id", UUID, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", TIMESTAMP, nullable=True),
        sa.Column("lease_owner", sa.String(64), nullable=True),
        sa.Column("lease_expires_at", TIMESTAMP, nullable=True),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_jobs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["integration_events.id"],
            name=op.f("fk_integration_jobs_event_id_integration_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_jobs")),
    )
    op.create_index(
        "ix_integration_jobs_integration_id_created_at", "integration_jobs", ["integration_id", "created_at"]
    )
    op.create_index("ix_integration_jobs_event_id", "integration_jobs", ["event_id"])
    op.create_index(
        "ix_integration_jobs_due",
        "integration_jobs",
        ["next_attempt_at"],
        sqlite_where=sa.text(WAITING),
        postgresql_where=sa.text(WAITING),
    )
    op.create_index("ix_integration_jobs_updated_at", "integration_jobs", ["updated_at"])
    op.create_table(
        "integration_logs",
        sa.Column("id", UUID, nullable=False),
        sa.Column("store_id", UUID, nullable=False),
        sa.Column("integration_id", UUID, nullable=False),
        sa.Column("job_id", UUID, nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("processing_time", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("error_detail", sa.Text(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.ForeignKeyConstraint(
            ["integration_id"],
            ["integrations.id"],
            name=op.f("fk_integration_logs_integration_id_integrations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["integration_jobs.id"],
            name=op.f("fk_integration_logs_job_id_integration_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_integration_logs")),
    )
    op.create_index("ix_integration_logs_store_id_created_at", "integration_logs", ["store_id", "created_at"])
    op.create_index(
        "ix_integration_logs_integration_id_created_at", "integration_logs", ["integration_id", "created_at"]
    )
    op.create_index("ix_integration_logs_job_id_created_at", "integration_logs", ["job_id", "created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("integration_logs")
    op.drop_table("integration_jobs")
    op.drop_table("integration_events")
    op.drop_table("integration_settings")
    op.drop_table("integrations")
    op.drop_column("stores", "observed_events")
