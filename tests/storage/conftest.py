"""Fixtures of the repository contract tests, which run on SQLite and on PostgreSQL: the test database's
transactor and a store in it."""

from __future__ import annotations

import pytest

from promoforge.bootstrap import Container
from promoforge.storage.repositories import Database
from seeds import new_store


@pytest.fixture
def db(container: Container) -> Database:
    """The test database's transactions."""
    return container.db


@pytest.fixture
def store_id(db: Database) -> str:
    """A store with the default settings."""
    return new_store(db)
