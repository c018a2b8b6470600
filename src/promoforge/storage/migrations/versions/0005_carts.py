"""Carts with their lines and applied codes; store settings for carts; an index of automatic promotions.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UUIDText = sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql")
AUTOMATIC_PROMOTION_CONDITION = "automatic AND deleted_at IS NULL"

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.add_column(
        "stores", sa.Column("default_currency", sa.String(3), nullable=False, server_default=sa.text("'USD'"))
    )
    op.add_column(
        "stores", sa.Column("cart_expiry_days", sa.Integer(), nullable=False, server_default=sa.text("7"))
    )
    op.add_column(
        "stores",
        sa.Column("code_attempts_per_cart", sa.Integer(), nullable=False, server_default=sa.text("10")),
    )
    op.add_column(
        "stores",
        sa.Column("code_attempts_per_address", sa.Integer(), nullable=False, server_default=sa.text("30")),
    )
    op.add_column("stores", sa.Column("customer_token_key", sa.Text(), nullable=True))
    op.create_table(
        "attempt_counters",
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("subject", sa.String(320), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "subject", "window_start", name=op.f("pk_attempt_counters")),
    )
    op.create_index("ix_attempt_counters_window_start", "attempt_counters", ["window_start"])
    op.create_index(
        "ix_promotions_automatic",
        "promotions",
        ["store_id", "ends_at"],
        sqlite_where=sa.text(AUTOMATIC_PROMOTION_CONDITION),
        postgresql_where=sa.text(AUTOMATIC_PROMOTION_CONDITION),
    )
    op.create_table(
        "carts",
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=True),
        sa.Column("custom_discounts_enabled", sa.Boolean(), nullable=False),
        sa.Column("use_rule_promotions", sa.Boolean(), nullable=False),
        sa.Column("snapshot_date", sa.DateTime(timezone=True), nullable=True),
        sa.Column("custom_attributes", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], ondelete="CASCADE", name=op.f("fk_carts_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("store_id", "id", name=op.f("pk_carts")),
    )
    op.create_index("ix_carts_store_id_updated_at", "carts", ["store_id", "updated_at"])
    op.create_index("ix_carts_store_id_customer_id", "carts", ["store_id", "customer_id"])
    op.create_table(
        "cart_items",
        sa.Column("id", UUIDText, nullable=False),
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("merge_key", sa.Text(), nullable=True),
        sa.Column("product_id", UUIDText, nullable=True),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("slug", sa.Text(), nullable=False),
        sa.Column("image_href", sa.Text(), nullable=True),
        sa.Column("catalog_id", sa.Text(), nullable=True),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("includes_tax", sa.Boolean(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("custom_inputs", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("auto_add_quantity", sa.BigInteger(), nullable=False, server_default=sa.text("0")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "cart_id"],
            ["carts.store_id", "carts.id"],
            ondelete="CASCADE",
            name=op.f("fk_cart_items_carts"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cart_items")),
    )
    op.create_index(
        "ix_cart_items_store_id_cart_id_created_at", "cart_items", ["store_id", "cart_id", "created_at"]
    )
    op.create_index(
        "uq_cart_items_merge_key", "cart_items", ["store_id", "cart_id", "merge_key"], unique=True
    )
    op.create_table(
        "cart_codes",
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=False),
        sa.Column("promotion_id", UUIDText, nullable=False),
        sa.Column("code_id", UUIDText, nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id", "cart_id"],
            ["carts.store_id", "carts.id"],
            ondelete="CASCADE",
            name=op.f("fk_cart_codes_carts"),
        ),
        sa.PrimaryKeyConstraint("store_id", "cart_id", "promotion_id", name=op.f("pk_cart_codes")),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("attempt_counters")
    op.drop_table("cart_codes")
    op.drop_table("cart_items")
    op.drop_table("carts")
    op.drop_index("ix_promotions_automatic", table_name="promotions")
    op.execute("ALTER TABLE stores DROP COLUMN customer_token_key")
    op.execute("ALTER TABLE stores DROP COLUMN code_attempts_per_address")
    op.execute("ALTER TABLE stores DROP COLUMN code_attempts_per_cart")
    op.execute("ALTER TABLE stores DROP COLUMN cart_expiry_days")
    op.execute("ALTER TABLE stores DROP COLUMN default_currency")
