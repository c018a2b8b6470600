"""The per-store product registry that cart lines and promotion targeting read.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_UUID = sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql")


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "products",
        sa.Column("store_id", _UUID, nullable=False),
        sa.Column("id", _UUID, nullable=False),
        sa.Column("sku", sa.Text().with_variant(sa.Text(collation="C"), "postgresql"), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("prices", sa.JSON(), nullable=False),
        sa.Column("catalog_id", sa.Text(), nullable=True),
        sa.Column("node_ids", sa.JSON(), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("image_href", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], name=op.f("fk_products_store_id_stores"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_products")),
    )
    op.create_index("uq_products_store_sku", "products", ["store_id", "sku"], unique=True)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index("uq_products_store_sku", table_name="products")
    op.drop_table("products")
