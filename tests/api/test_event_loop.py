"""No request holds up the event loop: database work runs in the threadpool, never in a coroutine."""

from __future__ import annotations

import inspect
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.routing import APIRoute
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from promoforge.api.app import ROUTERS
from promoforge.bootstrap import build
from support import TestClient, app_over, make_store, settings_for, truncate_postgres

ANSWER_SECONDS = 15
# Answered on the event loop: a constant document needs no thread; and a process whose request threads are
# all busy is alive, not to be restarted.
ASYNC_BY_DESIGN = ["/v2/promotions/attributes", "/health/live"]


def test_every_endpoint_runs_in_the_threadpool() -> None:
    """Endpoints are plain functions, run in the threadpool; async work (body parsing) is in dependencies."""
    endpoints = [route for router in ROUTERS for route in router.routes if isinstance(route, APIRoute)]
    assert len(endpoints) > 15
    coroutines = [route.path for route in endpoints if inspect.iscoroutinefunction(route.endpoint)]
    assert coroutines == ASYNC_BY_DESIGN


@pytest.fixture
def stores_locked_by_another_connection(migrated_postgres: str) -> Iterator[Connection]:
    """A connection holding an ACCESS EXCLUSIVE lock on `stores`: any read of a store waits for it."""
    truncate_postgres(migrated_postgres)
    engine = create_engine(make_url(migrated_postgres).set(drivername="postgresql+psycopg"))
    with engine.connect() as connection:
        yield connection
        connection.rollback()
    engine.dispose()


def wait_for_a_lock_waiter(connection: Connection) -> None:
    deadline = time.monotonic() + ANSWER_SECONDS
    query = text("SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 'stores'::regclass")
    while time.monotonic() < deadline:
        if connection.execute(query).scalar_one():
            return
        time.sleep(0.01)
    pytest.fail("the token request never waited on the stores lock")


def test_a_token_request_waiting_on_the_database_leaves_other_requests_answered(
    migrated_postgres: str, stores_locked_by_another_connection: Connection, tmp_path: Path
) -> None:
    container = build(settings_for(migrated_postgres, tmp_path))
    try:
        with TestClient(app_over(container)) as client, ThreadPoolExecutor(2) as requests:
            shop = make_store(container, client)
            form = {
                "grant_type": "client_credentials",
                "client_id": shop.client_id,
                "client_secret": shop.client_secret,
            }
            locker = stores_locked_by_another_connection
            locker.execute(text("LOCK TABLE stores IN ACCESS EXCLUSIVE MODE"))
            blocked = requests.submit(client.post, "/oauth/access_token", data=form)
            observer = create_engine(make_url(migrated_postgres).set(drivername="postgresql+psycopg"))
            with observer.connect() as watching:
                wait_for_a_lock_waiter(watching)
            observer.dispose()
            other = requests.submit(shop.get, "/v2/promotions/attributes")
            try:
                answered = other.result(timeout=ANSWER_SECONDS).status_code
            finally:
                locker.rollback()
            assert answered == 200
            assert not blocked.done() or blocked.result().status_code == 200
            assert blocked.result(timeout=ANSWER_SECONDS).status_code == 200
    finally:
        container.close()
