"""Initial schema: stores, promotions and their versions, codes, jobs and export files.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "service_keys",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_service_keys")),
    )
    op.create_table(
        "stores",
        sa.Column(
            "id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("client_secret_hash", sa.String(length=128), nullable=False),
        sa.Column("max_codes_per_promotion", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stores")),
        sa.UniqueConstraint("client_id", name=op.f("uq_stores_client_id")),
    )
    op.create_table(
        "promotions",
        sa.Column(
            "id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column(
            "store_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("automatic", sa.Boolean(), nullable=False),
        sa.Column("promotion_type", sa.String(length=32), nullable=False),
        sa.Column("schema", sa.JSON(), nullable=False),
        sa.Column("min_cart_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("max_discount_value", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("max_applications_per_cart", sa.BigInteger(), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.Column("code_count", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_promotions_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotions")),
    )
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotions_store_id_created_at"), ["store_id", "created_at"], unique=False
        )

    op.create_table(
        "promotion_codes",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            sa.Identity(always=False),
            nullable=False,
        ),
        sa.Column(
            "id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column(
            "store_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "promotion_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "job_id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=True
        ),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("code_key", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=True),
        sa.Column("consume_unit", sa.String(length=16), nullable=False),
        sa.Column("user_restriction", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_promotion_codes")),
        sa.UniqueConstraint("id", name=op.f("uq_promotion_codes_id")),
    )
    with op.batch_alter_table("promotion_codes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_promotion_codes_promotion_id_seq"), ["promotion_id", "seq"], unique=False
        )
        batch_op.create_index("uq_promotion_codes_store_code_key", ["store_id", "code_key"], unique=True)

    op.create_table(
        "promotion_jobs",
        sa.Column(
            "id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column(
            "store_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column(
            "promotion_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("job_type", sa.String(length=32), nullable=False),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("parameters", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("capacity_reserved", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("generated", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("deleted", sa.BigInteger(), nullable=True),
        sa.Column("progress_done", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("progress_total", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("file_size", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_jobs_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_jobs")),
    )
    with op.batch_alter_table("promotion_jobs", schema=None) as batch_op:
        batch_op.create_index(
            "ix_promotion_jobs_claimable",
            ["created_at"],
            unique=False,
            sqlite_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
            postgresql_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
        )
        batch_op.create_index(
            batch_op.f("ix_promotion_jobs_promotion_id_created_at"),
            ["promotion_id", "created_at"],
            unique=False,
        )
        batch_op.create_index(
            "uq_promotion_jobs_one_active",
            ["promotion_id"],
            unique=True,
            sqlite_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
            postgresql_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
        )

    op.create_table(
        "promotion_versions",
        sa.Column(
            "promotion_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column(
            "store_id",
            sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"),
            nullable=False,
        ),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["promotion_id"],
            ["promotions.id"],
            name=op.f("fk_promotion_versions_promotion_id_promotions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("promotion_id", "version", name=op.f("pk_promotion_versions")),
    )
    op.create_table(
        "job_files",
        sa.Column(
            "job_id", sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column("part", sa.Integer(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["job_id"],
            ["promotion_jobs.id"],
            name=op.f("fk_job_files_job_id_promotion_jobs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("job_id", "part", name=op.f("pk_job_files")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("job_files")
    op.drop_table("promotion_versions")
    with op.batch_alter_table("promotion_jobs", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_promotion_jobs_one_active",
            sqlite_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
            postgresql_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
        )
        batch_op.drop_index(batch_op.f("ix_promotion_jobs_promotion_id_created_at"))
        batch_op.drop_index(
            "ix_promotion_jobs_claimable",
            sqlite_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
            postgresql_where=sa.text("status IN ('pending', 'processing', 'cancelling')"),
        )

    op.drop_table("promotion_jobs")
    with op.batch_alter_table("promotion_codes", schema=None) as batch_op:
        batch_op.drop_index("uq_promotion_codes_store_code_key")
        batch_op.drop_index(batch_op.f("ix_promotion_codes_promotion_id_seq"))

    op.drop_table("promotion_codes")
    with op.batch_alter_table("promotions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promotions_store_id_created_at"))

    op.drop_table("promotions")
    op.drop_table("stores")
    op.drop_table("service_keys")
