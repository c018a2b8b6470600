"""Abuse limits and owned idempotency keys (issue: safe in production).

Stores get a store-wide budget of failed code applications a minute, hourly limits on the carts one
customer or one client address may create, and the issuer and audience their customer tokens must carry.
Checkout idempotency keys remember who first used them and a digest of the request, so that nobody else
(and no other request) can read the order back through them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STORE_LIMITS = (
    ("code_attempts_per_store", 600),
    ("carts_per_customer_per_hour", 100),
    ("carts_per_address_per_hour", 600),
)


def upgrade() -> None:
    """Apply this revision."""
    # Plain ADD COLUMN: a batch copy of `stores` on SQLite would cascade its drop to every store's rows.
    for name, default in STORE_LIMITS:
        op.add_column(
            "stores", sa.Column(name, sa.Integer(), nullable=False, server_default=sa.text(str(default)))
        )
    op.add_column("stores", sa.Column("customer_token_issuer", sa.Text(), nullable=True))
    op.add_column("stores", sa.Column("customer_token_audience", sa.Text(), nullable=True))
    op.add_column("checkout_keys", sa.Column("owner", sa.Text(), nullable=True))
    op.add_column("checkout_keys", sa.Column("request_digest", sa.String(64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    for table, column in (
        ("checkout_keys", "request_digest"),
        ("checkout_keys", "owner"),
        ("stores", "customer_token_audience"),
        ("stores", "customer_token_issuer"),
        *(("stores", name) for name, _ in reversed(STORE_LIMITS)),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
