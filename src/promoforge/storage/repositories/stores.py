"""Stores (the tenants) and the service's own keys: the only tables that belong to no store."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Label, Row, RowMapping, delete, func, insert, select, update

from promoforge.domain.stores import Store
from promoforge.storage.dialects import DialectOps
from promoforge.storage.schema import service_keys, stores


class StoreRepository:
    """Stores and their API credentials."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def add(self, store: Store) -> None:
        """Insert a store."""
        self.connection.execute(insert(stores).values(**_store_values(store), **self.ops.new_ref(stores)))

    def get(self, store_id: str) -> Store | None:
        """Return a store by id."""
        row = self.connection.execute(select(stores).where(stores.c.id == store_id)).first()
        return _store(row) if row else None

    def by_client_id(self, client_id: str) -> Store | None:
        """Return the store owning a client id."""
        row = self.connection.execute(select(stores).where(stores.c.client_id == client_id)).first()
        return _store(row) if row else None

    def all(self) -> list[Store]:
        """Return every store, oldest first."""
        rows = self.connection.execute(select(stores).order_by(stores.c.created_at, stores.c.id)).all()
        return [_store(row) for row in rows]

    def count(self) -> int:
        """Return how many stores exist."""
        return int(self.connection.execute(select(func.count()).select_from(stores)).scalar_one())

    def update(self, store_id: str, **values: Any) -> None:
        """Change some columns of a store."""
        self.connection.execute(update(stores).where(stores.c.id == store_id).values(**values))


class ServiceKeyRepository:
    """Values the service keeps for itself (signing secrets, one-time setup markers)."""

    def __init__(self, connection: Connection, ops: DialectOps) -> None:
        self.connection = connection
        self.ops = ops

    def claim(self, name: str, value: str, now: datetime) -> bool:
        """Store `value` under `name` unless something is stored there already; tell whether this call did.

        A concurrent caller waits for the first one's transaction, then sees the name taken.
        """
        statement = (
            self.ops.insert_ignoring_conflicts(service_keys)
            .values(name=name, secret=value, created_at=now)
            .returning(service_keys.c.name)
        )
        return self.connection.execute(statement).first() is not None

    def get(self, name: str) -> str | None:
        """Return the value stored under `name`."""
        value = self.connection.execute(
            select(service_keys.c.secret).where(service_keys.c.name == name)
        ).scalar_one_or_none()
        return None if value is None else str(value)

    def get_or_create(self, name: str, candidate: str, now: datetime) -> str:
        """Return the value stored under `name`, storing `candidate` first if there is none."""
        self.claim(name, candidate, now)
        value = self.get(name)
        assert value is not None
        return value

    def with_prefix(self, prefix: str) -> list[tuple[str, str, datetime]]:
        """Return (name, secret, created_at) of every value whose name starts with `prefix`."""
        query = select(service_keys).where(service_keys.c.name.startswith(prefix, autoescape=True))
        return [(row.name, row.secret, row.created_at) for row in self.connection.execute(query)]

    def delete(self, names: Sequence[str]) -> None:
        """Delete the values with these names."""
        if names:
            self.connection.execute(delete(service_keys).where(service_keys.c.name.in_(list(names))))


def _store_values(store: Store) -> dict[str, Any]:
    return {
        "id": store.id,
        "name": store.name,
        "client_id": store.client_id,
        "client_secret_hash": store.client_secret_hash,
        "max_codes_per_promotion": store.max_codes_per_promotion,
        "default_currency": store.default_currency,
        "cart_expiry_days": store.cart_expiry_days,
        "code_attempts_per_cart": store.code_attempts_per_cart,
        "code_attempts_per_address": store.code_attempts_per_address,
        "code_attempts_per_store": store.code_attempts_per_store,
        "carts_per_customer_per_hour": store.carts_per_customer_per_hour,
        "carts_per_address_per_hour": store.carts_per_address_per_hour,
        "customer_token_key": store.customer_token_key,
        "customer_token_issuer": store.customer_token_issuer,
        "customer_token_audience": store.customer_token_audience,
        "created_at": store.created_at,
        "updated_at": store.updated_at,
        "export_retention_days": store.export_retention_days,
        "observed_events": sorted(store.observed_events),
    }


def _store(row: Row[Any]) -> Store:
    return store_from(row._mapping)


STORE_PREFIX = "store__"


def prefixed_store_columns() -> list[Label[Any]]:
    """The store's columns, named with `STORE_PREFIX`, for a statement that reads them beside another
    table's."""
    return [column.label(STORE_PREFIX + column.name) for column in stores.c]


def store_from(mapping: RowMapping, prefix: str = "") -> Store:
    """The store of a row (its columns named with `prefix`)."""
    m = {name: mapping[prefix + name] for name in (column.name for column in stores.c)} if prefix else mapping
    return Store(
        id=str(m["id"]),
        name=m["name"],
        client_id=m["client_id"],
        client_secret_hash=m["client_secret_hash"],
        max_codes_per_promotion=int(m["max_codes_per_promotion"]),
        default_currency=m["default_currency"],
        cart_expiry_days=int(m["cart_expiry_days"]),
        code_attempts_per_cart=int(m["code_attempts_per_cart"]),
        code_attempts_per_address=int(m["code_attempts_per_address"]),
        code_attempts_per_store=int(m["code_attempts_per_store"]),
        carts_per_customer_per_hour=int(m["carts_per_customer_per_hour"]),
        carts_per_address_per_hour=int(m["carts_per_address_per_hour"]),
        customer_token_key=m["customer_token_key"],
        customer_token_issuer=m["customer_token_issuer"],
        customer_token_audience=m["customer_token_audience"],
        observed_events=frozenset(m["observed_events"]),
        created_at=m["created_at"],
        updated_at=m["updated_at"],
        export_retention_days=int(m["export_retention_days"]),
    )
