"""Alembic environment: runs on the connection `promoforge migrate` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from promoforge.storage.schema import metadata

connection: Connection | None = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `promoforge migrate`, which supplies the connection")

context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
