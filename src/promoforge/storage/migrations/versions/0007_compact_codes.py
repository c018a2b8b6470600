"""Compact code rows: integer refs for stores, promotions and jobs; codes keyed by promotion ref and number,
with 16-byte ids, integer enums and times (docs/adr/0012).

The codes are copied into the new table promotion by promotion, in batches of the old key, numbered from 0
in their old order, with a progress bar, inside the migration's one transaction: an interrupted run
leaves the database as it was.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Sequence

import click
import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 200_000
NUMBER_BITS = 32
OLD = "promotion_codes_0006"
NEW = "promotion_codes_0007"
REF_TABLES = ("stores", "promotions", "promotion_jobs")

UUIDText = sa.String(length=36).with_variant(sa.UUID(as_uuid=False), "postgresql")
CodeKeyText = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _add_refs() -> None:
    """Give every store, promotion and job a ref, numbered in creation order."""
    bind = op.get_bind()
    for table in REF_TABLES:
        if not _is_sqlite():
            op.execute(f"CREATE SEQUENCE {table}_ref_seq")
        op.add_column(table, sa.Column("ref", sa.BigInteger(), nullable=True))
        op.execute(
            f"""
            UPDATE {table} SET ref = numbered.n
            FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM {table}) AS numbered
            WHERE numbered.id = {table}.id
            """
        )
        op.create_index(f"uq_{table}_ref", table, ["ref"], unique=True)
        if not _is_sqlite():
            bind.execute(
                sa.text(
                    f"SELECT setval('{table}_ref_seq', (SELECT coalesce(max(ref), 0) + 1 FROM {table}),"
                    " false)"
                )
            )


def _new_codes_table(name: str) -> sa.Table:
    """The compact layout, without its secondary indexes (made after the copy)."""
    return op.create_table(
        name,
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False, autoincrement=False
        ),
        sa.Column(
            "id", sa.LargeBinary(16).with_variant(sa.UUID(as_uuid=False), "postgresql"), nullable=False
        ),
        sa.Column("store_ref", sa.BigInteger(), nullable=False),
        sa.Column("job_ref", sa.BigInteger(), nullable=True),
        sa.Column("code_key", CodeKeyText, nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=True),
        sa.Column("consume_unit", sa.SmallInteger(), nullable=False),
        sa.Column("user_restriction", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.BigInteger().with_variant(sa.DateTime(timezone=True), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_" + name),
    )


def _uuid_bytes(text: str) -> bytes:
    return uuid.UUID(text).bytes


def _uuid_text(value: bytes) -> str:
    return str(uuid.UUID(bytes=bytes(value)))


def _register_functions() -> None:
    """SQLite 3.40 has no unhex(): UUID text and bytes convert in Python, once per row."""
    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    raw.create_function("promoforge_uuid_bytes", 1, _uuid_bytes, deterministic=True)
    raw.create_function("promoforge_uuid_text", 1, _uuid_text, deterministic=True)


def _copy_by_promotion(label: str, copy: sa.TextClause) -> tuple[int, int]:
    """Run `copy` promotion by promotion over batches of its codes in old `seq` order (:after, :upto],
    numbering them from 0 (`:first` is the batch's first number), with a progress bar; return (codes
    copied, codes there were)."""
    bind = op.get_bind()
    total = int(bind.execute(sa.text("SELECT count(*) FROM promotion_codes")).scalar_one())
    owners = bind.execute(sa.text("SELECT id, store_id FROM promotions ORDER BY ref")).all()
    boundary = sa.text(
        "SELECT seq FROM promotion_codes WHERE store_id = :store_id AND promotion_id = :promotion_id"
        " AND seq > :after ORDER BY seq LIMIT 1 OFFSET :last"
    )
    copied = 0
    with click.progressbar(length=total, label=label, file=sys.stderr) as progress:
        for promotion_id, store_id in owners:
            owner = {"promotion_id": promotion_id, "store_id": store_id}
            after, first = -1, 0
            while True:
                upto = bind.execute(
                    boundary, {**owner, "after": after, "last": BATCH - 1}
                ).scalar_one_or_none()
                window = {**owner, "after": after, "upto": (1 << 62) if upto is None else int(upto)}
                moved = int(bind.execute(copy, {**window, "first": first}).rowcount)
                copied += moved
                first += moved
                progress.update(moved)
                if upto is None:
                    break
                after = int(upto)
    return copied, total


def upgrade() -> None:
    """Apply this revision."""
    sqlite = _is_sqlite()
    if sqlite:
        _register_functions()
    _add_refs()
    op.add_column(
        "promotions", sa.Column("code_numbers", sa.BigInteger(), server_default=sa.text("0"), nullable=False)
    )
    _new_codes_table(NEW)
    if sqlite:
        code_id = "promoforge_uuid_bytes(o.id)"
        # 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC, to the microsecond, with integers only.
        created_at = (
            "CAST(strftime('%s', substr(o.created_at, 1, 19)) AS INTEGER) * 1000000"
            " + CAST(substr(substr(o.created_at, 21) || '000000', 1, 6) AS INTEGER)"
        )
        shift = f"(p.ref << {NUMBER_BITS})"
    else:
        code_id = "o.id"
        created_at = "o.created_at"
        shift = f"(p.ref << {NUMBER_BITS})"
    copy = sa.text(
        f"""
        INSERT INTO {NEW}
            (seq, id, store_ref, job_ref, code_key, code, max_uses, uses, consume_unit, user_restriction,
             created_by, created_at)
        SELECT {shift} + :first + row_number() OVER (ORDER BY o.seq) - 1, {code_id}, s.ref,
               CASE WHEN o.created_by IS NULL AND j.created_by IS NOT NULL THEN NULL ELSE j.ref END,
               o.code_key,
               CASE WHEN o.code = o.code_key THEN NULL ELSE o.code END,
               o.max_uses, o.uses,
               CASE o.consume_unit WHEN 'per_cart' THEN 1 WHEN 'per_item' THEN 2 END,
               o.user_restriction,
               CASE WHEN j.ref IS NOT NULL AND o.created_by = j.created_by THEN NULL ELSE o.created_by END,
               {created_at}
        FROM promotion_codes AS o
        JOIN promotions AS p ON p.id = o.promotion_id
        JOIN stores AS s ON s.id = o.store_id
        LEFT JOIN promotion_jobs AS j ON j.id = o.job_id
        WHERE o.store_id = :store_id AND o.promotion_id = :promotion_id AND o.seq > :after AND o.seq <= :upto
        """
    )
    copied, total = _copy_by_promotion("Converting promotion codes", copy)
    if copied != total:
        raise RuntimeError(
            f"only {copied} of {total} codes have a promotion and a store to convert; nothing was changed"
        )

    op.drop_table("promotion_codes")
    op.rename_table(NEW, "promotion_codes")
    if not sqlite:
        op.execute(f"ALTER INDEX pk_{NEW} RENAME TO pk_promotion_codes")
    op.create_index("uq_promotion_codes_id", "promotion_codes", ["id"], unique=True)
    op.create_index(
        "uq_promotion_codes_store_ref_code_key", "promotion_codes", ["store_ref", "code_key"], unique=True
    )
    op.execute(
        f"""
        UPDATE promotions SET code_numbers = coalesce(
            (SELECT max(seq) - (promotions.ref << {NUMBER_BITS}) + 1 FROM promotion_codes
             WHERE seq >= (promotions.ref << {NUMBER_BITS})
               AND seq < ((promotions.ref + 1) << {NUMBER_BITS})),
            0)
        """
    )


def downgrade() -> None:
    """Revert this revision: the codes go back to text ids and references, in batches."""
    sqlite = _is_sqlite()
    if sqlite:
        _register_functions()
    op.drop_index("uq_promotion_codes_id", table_name="promotion_codes")
    op.create_table(
        OLD,
        sa.Column("seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), sa.Identity(), nullable=False),
        sa.Column("id", UUIDText, nullable=False),
        sa.Column("store_id", UUIDText, nullable=False),
        sa.Column("promotion_id", UUIDText, nullable=False),
        sa.Column("job_id", UUIDText, nullable=True),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("code_key", CodeKeyText, nullable=False),
        sa.Column("max_uses", sa.BigInteger(), nullable=True),
        sa.Column("uses", sa.BigInteger(), nullable=True),
        sa.Column("consume_unit", sa.String(length=16), nullable=False),
        sa.Column("user_restriction", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("created_by", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=f"pk_{OLD}"),
        sa.UniqueConstraint("id", name="uq_promotion_codes_id"),
    )
    if sqlite:
        code_id = "promoforge_uuid_text(c.id)"
        created_at = (
            "strftime('%Y-%m-%d %H:%M:%S', c.created_at / 1000000, 'unixepoch')"
            " || printf('.%06d', c.created_at % 1000000)"
        )
    else:
        code_id = "c.id"
        created_at = "c.created_at"
    copy = sa.text(
        f"""
        INSERT INTO {OLD}
            (id, store_id, promotion_id, job_id, code, code_key, max_uses, uses, consume_unit,
             user_restriction, created_by, created_at)
        SELECT {code_id}, s.id, p.id, j.id, coalesce(c.code, c.code_key), c.code_key, c.max_uses, c.uses,
               CASE c.consume_unit WHEN 1 THEN 'per_cart' WHEN 2 THEN 'per_item' END,
               c.user_restriction, coalesce(c.created_by, j.created_by), {created_at}
        FROM promotion_codes AS c
        JOIN promotions AS p ON p.ref = (c.seq >> {NUMBER_BITS})
        JOIN stores AS s ON s.ref = c.store_ref
        LEFT JOIN promotion_jobs AS j ON j.ref = c.job_ref
        WHERE c.seq > :low AND c.seq <= :high
        ORDER BY c.seq
        """
    )
    bind = op.get_bind()
    if bind.execute(sa.text("SELECT count(*) FROM promotion_codes")).scalar_one():
        # The compact keys are sparse (one 2^32 range per promotion): copy promotion by promotion.
        refs = bind.execute(
            sa.text(f"SELECT DISTINCT seq >> {NUMBER_BITS} FROM promotion_codes ORDER BY 1")
        ).scalars()
        for ref in list(refs):
            start, end = int(ref) << NUMBER_BITS, (int(ref) + 1) << NUMBER_BITS
            while start < end:
                high = min(start - 1 + BATCH, end - 1)
                bind.execute(copy, {"low": start - 1, "high": high})
                following = bind.execute(
                    sa.text("SELECT min(seq) FROM promotion_codes WHERE seq > :after AND seq < :end"),
                    {"after": high, "end": end},
                ).scalar_one()
                if following is None:
                    break
                start = int(following)
    op.drop_table("promotion_codes")
    op.rename_table(OLD, "promotion_codes")
    if not sqlite:
        op.execute(f"ALTER INDEX pk_{OLD} RENAME TO pk_promotion_codes")
    op.create_index(
        "uq_promotion_codes_store_code_key", "promotion_codes", ["store_id", "code_key"], unique=True
    )
    op.create_index(
        "ix_promotion_codes_store_id_promotion_id_seq", "promotion_codes", ["store_id", "promotion_id", "seq"]
    )
    # Plain ALTER TABLE: a batch rebuild of these tables would cascade deletes into their children.
    op.execute("ALTER TABLE promotions DROP COLUMN code_numbers")
    for table in REF_TABLES:
        op.drop_index(f"uq_{table}_ref", table_name=table)
        op.execute(f"ALTER TABLE {table} DROP COLUMN ref")
        if not sqlite:
            op.execute(f"DROP SEQUENCE {table}_ref_seq")
