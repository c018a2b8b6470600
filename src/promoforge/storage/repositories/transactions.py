"""Transactions: the Database opens them, a UnitOfWork shares one between use cases, repositories use one."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

from sqlalchemy import Connection, Engine

from promoforge.storage.dialects import DialectOps, dialect_ops
from promoforge.storage.errors import translated_errors
from promoforge.storage.repositories.attempts import AttemptCounterRepository
from promoforge.storage.repositories.carts import CartRepository
from promoforge.storage.repositories.codes import CodeRepository
from promoforge.storage.repositories.integrations import IntegrationDeliveries, IntegrationRepository
from promoforge.storage.repositories.jobs import ExpiredExports, JobQueue, JobRepository
from promoforge.storage.repositories.orders import OrderRepository
from promoforge.storage.repositories.outbox import EventRenderer, Outbox
from promoforge.storage.repositories.pricing_inputs import PricingInputRepository
from promoforge.storage.repositories.products import ProductRepository
from promoforge.storage.repositories.promotions import PromotionRepository
from promoforge.storage.repositories.stores import ServiceKeyRepository, StoreRepository
from promoforge.storage.repositories.usages import UsageRepository
from promoforge.storage.repositories.workers import WorkerHeartbeatRepository, schema_revision


class StoreScope:
    """The repositories of one store's data; every query they run is limited to that store."""

    def __init__(
        self, connection: Connection, ops: DialectOps, store_id: str, outbox: Outbox | None = None
    ) -> None:
        self.store_id = store_id
        # The transaction's outbox, for use cases that record events through a store's repositories.
        self.outbox = outbox or Outbox(connection, ops, None)
        self.promotions = PromotionRepository(connection, ops, store_id)
        self.codes = CodeRepository(connection, ops, store_id)
        self.jobs = JobRepository(connection, ops, store_id)
        self.products = ProductRepository(connection, ops, store_id)
        self.carts = CartRepository(connection, ops, store_id)
        self.pricing = PricingInputRepository(connection, ops, store_id)
        self.attempts = AttemptCounterRepository(connection, ops, store_id)
        self.orders = OrderRepository(connection, ops, store_id)
        self.usages = UsageRepository(connection, store_id)
        self.integrations = IntegrationRepository(connection, ops, store_id)


class Transaction:
    """One open transaction: the service-wide repositories, and `store(id)` for a store's own data."""

    def __init__(
        self,
        connection: Connection,
        ops: DialectOps,
        *,
        writable: bool,
        render_events: EventRenderer | None = None,
    ) -> None:
        self.connection = connection
        self.ops = ops
        self.writable = writable
        self.outbox = Outbox(connection, ops, render_events)
        self.stores = StoreRepository(connection, ops)
        self.keys = ServiceKeyRepository(connection, ops)
        self.queue = JobQueue(connection, ops)
        self.expired_exports = ExpiredExports(connection)
        self.workers = WorkerHeartbeatRepository(connection)
        self.deliveries = IntegrationDeliveries(connection, ops)
        self._scopes: dict[str, StoreScope] = {}

    def defer_durability(self) -> None:
        """Let this transaction's commit return before it is on disk.

        A crash may then lose the transaction, but only whole, and the next commit that does wait for the
        disk (any other) makes it durable along with everything committed before it.
        """
        self.ops.defer_durability(self.connection)

    def schema_revision(self) -> str | None:
        """The revision the database's schema is at."""
        return schema_revision(self.connection)

    def store(self, store_id: str) -> StoreScope:
        """The repositories bound to one store."""
        scope = self._scopes.get(store_id)
        if scope is None:
            scope = self._scopes[store_id] = StoreScope(self.connection, self.ops, store_id, self.outbox)
        return scope


class Transactor(Protocol):
    """What a use case needs to run: read and write transactions (fresh, or joined to an outer one)."""

    def read(self) -> AbstractContextManager[Transaction]:
        """A transaction for reading."""
        ...

    def write(self) -> AbstractContextManager[Transaction]:
        """A transaction that may write."""
        ...

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work whose outermost transaction the use cases called with it share."""
        ...


class Database:
    """Opens transactions over one engine; each `read()` or `write()` is a transaction of its own."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        # How event payloads are rendered (the API's documents); set by the composition root.
        self.render_events: EventRenderer | None = None
        self.backend = engine.dialect.name
        self.ops = dialect_ops(self.backend)
        self._write_engine = (
            engine.execution_options(sqlite_begin="IMMEDIATE") if self.backend == "sqlite" else engine
        )

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """A transaction for reading."""
        with translated_errors(), self.engine.begin() as connection:
            yield Transaction(connection, self.ops, writable=False)

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """A transaction that may write; on SQLite it takes the write lock up front."""
        with translated_errors(), self._write_engine.begin() as connection:
            yield Transaction(connection, self.ops, writable=True, render_events=self.render_events)

    def unit_of_work(self) -> UnitOfWork:
        """A unit of work: the first transaction opened through it is shared by every nested use case."""
        return UnitOfWork(self)

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()


class UnitOfWork:
    """Lets use cases compose: the outermost `read()`/`write()` opens (and commits) the transaction, and the
    use cases called inside it join that same transaction instead of opening their own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._current: Transaction | None = None

    @contextmanager
    def read(self) -> Iterator[Transaction]:
        """Join the open transaction, or open one for reading."""
        with self._joined(writable=False) as transaction:
            yield transaction

    @contextmanager
    def write(self) -> Iterator[Transaction]:
        """Join the open transaction (it must be writable), or open a writable one."""
        with self._joined(writable=True) as transaction:
            yield transaction

    @contextmanager
    def _joined(self, *, writable: bool) -> Iterator[Transaction]:
        if self._current is not None:
            if writable and not self._current.writable:
                raise RuntimeError("a use case that writes was called inside a read-only transaction")
            yield self._current
            return
        opened = self.db.write() if writable else self.db.read()
        with opened as transaction:
            self._current = transaction
            try:
                yield transaction
            finally:
                self._current = None

    def unit_of_work(self) -> UnitOfWork:
        """This unit of work: use cases composed inside one share it."""
        return self
