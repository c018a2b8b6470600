"""Applied codes keep the seq of their code's row, so that a cart's codes are read with their rows and
promotions in one statement.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from promoforge.domain.identifiers import code_id_parts

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table("cart_codes") as batch:
        batch.add_column(sa.Column("code_seq", sa.BigInteger(), nullable=True))
    connection = op.get_bind()
    # A stored id names its row; a computed id carries its seq. A code deleted since finds no row and is
    # dropped from its cart at the cart's next change, as before.
    connection.execute(
        sa.text(
            "UPDATE cart_codes SET code_seq = "
            "(SELECT seq FROM promotion_codes WHERE promotion_codes.id = cart_codes.code_id)"
        )
    )
    rows = connection.execute(
        sa.text("SELECT store_id, cart_id, promotion_id, code_id FROM cart_codes")
    ).all()
    computed = [
        {"store_id": row.store_id, "cart_id": row.cart_id, "promotion_id": row.promotion_id, "seq": parts[0]}
        for row in rows
        if (parts := code_id_parts(str(row.code_id))) is not None
    ]
    if computed:
        connection.execute(
            sa.text(
                "UPDATE cart_codes SET code_seq = :seq WHERE store_id = :store_id AND cart_id = :cart_id "
                "AND promotion_id = :promotion_id AND code_seq IS NULL"
            ),
            computed,
        )


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table("cart_codes") as batch:
        batch.drop_column("code_seq")
