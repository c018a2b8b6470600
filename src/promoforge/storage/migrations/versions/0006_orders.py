"""Orders with their items, promotion usage records and checkout idempotency keys.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

UUIDText = sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql")

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        "orders",
        sa.Column("id", UUIDText, nullable=False),
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("payment", sa.String(24), nullable=False),
        sa.Column("shipping", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("without_discount", sa.BigInteger(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("with_tax", sa.BigInteger(), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("account_member_id", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("email", sa.Text(), nullable=False),
        sa.Column("party", sa.String(16), nullable=False),
        sa.Column("billing_address", sa.JSON(), nullable=False),
        sa.Column("shipping_address", sa.JSON(), nullable=False),
        sa.Column("order_number", sa.Text(), nullable=True),
        sa.Column("external_ref", sa.Text(), nullable=True),
        sa.Column("custom_attributes", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("promotions", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["store_id"], ["stores.id"], ondelete="CASCADE", name=op.f("fk_orders_store_id_stores")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_orders")),
    )
    op.create_index("ix_orders_store_id_created_at", "orders", ["store_id", "created_at"])
    op.create_index("ix_orders_store_id_customer_id", "orders", ["store_id", "customer_id"])
    op.create_index("ix_orders_store_id_account_id", "orders", ["store_id", "account_id"])
    op.create_table(
        "order_items",
        sa.Column("id", UUIDText, nullable=False),
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("order_id", UUIDText, nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("cart_item_id", sa.Text(), nullable=False),
        sa.Column("product_id", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("sku", sa.Text(), nullable=False),
        sa.Column("quantity", sa.BigInteger(), nullable=False),
        sa.Column("unit_price", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("includes_tax", sa.Boolean(), nullable=False),
        sa.Column("discount", sa.BigInteger(), nullable=False),
        sa.Column("item_discounts", sa.JSON(), nullable=False),
        sa.Column("catalog_id", sa.Text(), nullable=True),
        sa.Column("custom_inputs", sa.JSON(none_as_null=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], ondelete="CASCADE", name=op.f("fk_order_items_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_items")),
    )
    op.create_index("ix_order_items_order_id_position", "order_items", ["order_id", "position"])
    op.create_index("ix_order_items_store_id_product_id", "order_items", ["store_id", "product_id"])
    op.create_index("ix_order_items_store_id_sku", "order_items", ["store_id", "sku"])
    op.create_table(
        "promotion_usages",
        sa.Column("id", UUIDText, nullable=False),
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("promotion_id", UUIDText, nullable=False),
        sa.Column("code_id", UUIDText, nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("order_id", UUIDText, nullable=True),
        sa.Column("times_used", sa.BigInteger(), nullable=False),
        sa.Column("used_on", sa.DateTime(timezone=True), nullable=False),
        sa.Column("customer_id", sa.Text(), nullable=True),
        sa.Column("account_id", sa.Text(), nullable=True),
        sa.Column("customer_email", sa.Text(), nullable=True),
        sa.Column("anonymized", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promotion_usages")),
    )
    op.create_index(
        "ix_promotion_usages_store_id_promotion_id_updated_at",
        "promotion_usages",
        ["store_id", "promotion_id", "updated_at"],
    )
    op.create_index(
        "ix_promotion_usages_store_id_code_id_used_on", "promotion_usages", ["store_id", "code_id", "used_on"]
    )
    op.create_table(
        "checkout_keys",
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("cart_id", sa.String(64), nullable=False),
        sa.Column("order_id", UUIDText, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("store_id", "key", name=op.f("pk_checkout_keys")),
    )
    op.create_index("ix_checkout_keys_created_at", "checkout_keys", ["created_at"])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table("checkout_keys")
    op.drop_table("promotion_usages")
    op.drop_table("order_items")
    op.drop_table("orders")
