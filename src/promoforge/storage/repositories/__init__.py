"""The storage port: transactions, and repositories bound to one connection and (where owned) one store."""

from promoforge.storage.repositories.transactions import (
    Database,
    StoreScope,
    Transaction,
    Transactor,
    UnitOfWork,
)

__all__ = ["Database", "StoreScope", "Transaction", "Transactor", "UnitOfWork"]
