"""Generated codes may leave max_uses and uses to their job (docs/adr/0015).

Upgrade adds `promotion_jobs.code_max_uses` and fills it for every code_generate job from its
parameters, so a job that resumes after the upgrade writes codes its column describes. No code row
changes. Downgrade writes the job's value back into every code that left it to the job, batch by batch,
then drops the column.

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


def downgrade() -> None:
    bind = op.get_bind()
    fill = sa.text(
        """
        UPDATE promotion_codes
        SET max_uses = (SELECT j.code_max_uses FROM promotion_jobs AS j
                        WHERE j.ref = promotion_codes.job_ref),
            uses = coalesce(uses, (SELECT j.code_max_uses FROM promotion_jobs AS j
                                   WHERE j.ref = promotion_codes.job_ref))
        WHERE seq IN (SELECT c.seq FROM promotion_codes AS c JOIN promotion_jobs AS j ON j.ref = c.job_ref
                      WHERE c.max_uses IS NULL AND j.code_max_uses IS NOT NULL
                      ORDER BY c.seq LIMIT :limit)
        """
    )
    while bind.execute(fill, {"limit": BATCH}).rowcount:
        pass
    # Plain ALTER TABLE (SQLite 3.35+ has DROP COLUMN): a batch rebuild would cascade deletes to job files.
    op.execute("ALTER TABLE promotion_jobs DROP COLUMN code_max_uses")
