"""Generated codes may leave max_uses, uses and created_at to their job (docs/adr/0015).

Upgrade adds `promotion_jobs.code_max_uses`, fills it for every code_generate job from its parameters
(so a job that resumes after the upgrade writes codes its column describes), and lets
`promotion_codes.created_at` be NULL; SQLite cannot drop a NOT NULL in place, so there the table is
copied once. No code row changes. Downgrade writes the job's values back into every code that left them
to its job, batch by batch, then restores both columns as they were.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 50_000
# CompactDateTime as stored: timestamptz on PostgreSQL, integer microseconds on SQLite.
CREATED_AT_TYPE = sa.BigInteger().with_variant(sa.TIMESTAMP(timezone=True), "postgresql")
_JOB = "(SELECT j.{column} FROM promotion_jobs AS j WHERE j.ref = promotion_codes.job_ref)"


def _is_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _set_created_at_nullable(nullable: bool) -> None:
    if _is_sqlite():
        # The copy would keep the partial id index without its WHERE; it is made again as it was.
        op.drop_index("uq_promotion_codes_id", table_name="promotion_codes")
        with op.batch_alter_table("promotion_codes", recreate="always") as batch:
            batch.alter_column("created_at", existing_type=CREATED_AT_TYPE, nullable=nullable)
        op.create_index(
            "uq_promotion_codes_id",
            "promotion_codes",
            ["id"],
            unique=True,
            sqlite_where=sa.text("id IS NOT NULL"),
        )
    else:
        op.alter_column("promotion_codes", "created_at", existing_type=CREATED_AT_TYPE, nullable=nullable)


def upgrade() -> None:
    op.add_column("promotion_jobs", sa.Column("code_max_uses", sa.BigInteger(), nullable=True))
    bind = op.get_bind()
    jobs = bind.execute(
        sa.text("SELECT id, parameters FROM promotion_jobs WHERE job_type = 'code_generate'")
    ).all()
    limits = []
    for job_id, parameters in jobs:
        values = json.loads(parameters) if isinstance(parameters, str) else (parameters or {})
        if values.get("max_uses_per_code") is not None:
            limits.append({"id": job_id, "limit": int(values["max_uses_per_code"])})
    if limits:
        bind.execute(sa.text("UPDATE promotion_jobs SET code_max_uses = :limit WHERE id = :id"), limits)
    _set_created_at_nullable(True)


def _fill(assignments: str, condition: str) -> None:
    """Run `UPDATE promotion_codes SET assignments` on the rows matching `condition`, a batch at a time in
    seq order, each batch's search starting after the last."""
    chosen = (
        "SELECT c.seq FROM promotion_codes AS c JOIN promotion_jobs AS j ON j.ref = c.job_ref"
        f" WHERE c.seq > :after AND {condition} ORDER BY c.seq LIMIT :limit"
    )
    last_of = sa.text(f"SELECT max(seq) FROM ({chosen}) AS batch")
    update = sa.text(f"UPDATE promotion_codes SET {assignments} WHERE seq IN ({chosen})")
    bind = op.get_bind()
    after = -1
    while (last := bind.execute(last_of, {"after": after, "limit": BATCH}).scalar()) is not None:
        bind.execute(update, {"after": after, "limit": BATCH})
        after = int(last)


def downgrade() -> None:
    limit = _JOB.format(column="code_max_uses")
    _fill(
        f"max_uses = {limit}, uses = coalesce(uses, {limit})",
        "c.max_uses IS NULL AND j.code_max_uses IS NOT NULL",
    )
    # Only PostgreSQL writes codes without a created_at, and there both columns are timestamptz.
    if not _is_sqlite():
        _fill(f"created_at = {_JOB.format(column='created_at')}", "c.created_at IS NULL")
    _set_created_at_nullable(False)
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): a batch rebuild would cascade deletes to job files.
    op.execute("ALTER TABLE promotion_jobs DROP COLUMN code_max_uses")
