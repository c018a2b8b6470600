"""GET /health/live and /health/ready: unauthenticated, and 503 with the failing checks when not ready."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from promoforge.api.app import create_app
from promoforge.bootstrap import Container, build, open_database
from promoforge.config import Settings
from promoforge.domain.health import HEARTBEAT_FRESH_FOR, WorkerHeartbeat
from promoforge.services import health
from promoforge.storage.migrate import head_revision
from support import TestClient, app_over, settings_for

pytestmark = pytest.mark.both_backends


def beat(container: Container, worker_id: str, age: timedelta, host: str = "elsewhere") -> None:
    now = container.clock()
    heartbeat = WorkerHeartbeat(worker_id, host, 4242, 1, now - age, now - age)
    health.record_heartbeat(container.db, heartbeat=heartbeat)


def readiness(client: TestClient) -> tuple[int, dict[str, Any]]:
    response = client.get("/health/ready")
    assert response.headers["cache-control"] == "no-store"
    return response.status_code, response.json()


def test_live_answers_without_a_token(app_client: TestClient) -> None:
    response = app_client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "live"}


def test_ready_needs_a_live_worker_when_the_process_runs_none(
    container: Container, app_client: TestClient
) -> None:
    status, body = readiness(app_client)
    assert status == 503
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == {"status": "pass"}
    assert body["checks"]["migrations"]["status"] == "pass"
    assert body["checks"]["migrations"]["revision"] == head_revision()
    assert body["checks"]["worker"]["status"] == "fail"
    assert "no heartbeat" in body["checks"]["worker"]["reason"]

    beat(container, "old-worker", HEARTBEAT_FRESH_FOR + timedelta(seconds=5))
    status, body = readiness(app_client)
    assert status == 503
    assert "older than 60 s" in body["checks"]["worker"]["reason"]

    beat(container, "live-worker", timedelta(seconds=3))
    status, body = readiness(app_client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["worker"]["status"] == "pass"
    assert body["checks"]["worker"]["last_heartbeat_seconds_ago"] == pytest.approx(3, abs=1)


def test_ready_without_an_expected_worker(database_url: str, tmp_path: Path) -> None:
    container = build(settings_for(database_url, tmp_path, expect_worker=False))
    try:
        with TestClient(app_over(container)) as client:
            status, body = readiness(client)
            assert status == 200, body
            assert body["checks"]["worker"]["status"] == "skip"
    finally:
        container.close()


def test_a_process_with_its_own_worker_is_ready_when_started_and_checks_that_worker(
    database_url: str, tmp_path: Path
) -> None:
    container = build(settings_for(database_url, tmp_path))
    try:
        with TestClient(create_app(container, run_worker=True)) as client:
            status, body = readiness(client)
            assert status == 200, body
            own_id = client.app.state.job_worker.worker_id  # type: ignore[attr-defined]
            # Another process's live worker does not stand in for this process's own.
            with container.db.write() as tx:
                tx.connection.execute(text("DELETE FROM worker_heartbeats"))
            beat(container, "another-process", timedelta(seconds=1))
            status, body = readiness(client)
            assert status == 503
            assert own_id in body["checks"]["worker"]["reason"]
        with container.db.read() as tx:
            assert [row.id for row in tx.workers.all()] == ["another-process"]
    finally:
        container.close()


def test_ready_fails_on_a_schema_at_another_revision(container: Container, app_client: TestClient) -> None:
    beat(container, "live-worker", timedelta(seconds=1))
    with container.db.write() as tx:
        tx.connection.execute(text("UPDATE alembic_version SET version_num = '0010'"))
    try:
        status, body = readiness(app_client)
        assert status == 503
        assert body["checks"]["migrations"]["status"] == "fail"
        assert body["checks"]["migrations"]["revision"] == "0010"
        assert "0010" in body["checks"]["migrations"]["reason"]
        assert body["checks"]["worker"]["status"] == "skip"
    finally:
        with container.db.write() as tx:
            tx.connection.execute(
                text("UPDATE alembic_version SET version_num = :head"), {"head": head_revision()}
            )


@pytest.fixture
def unreachable(container: Container) -> Iterator[Container]:
    """The container with its database replaced by a PostgreSQL server that is not there."""
    db = open_database(Settings(database_url="postgresql://postgres@127.0.0.1:1/nothing"))
    yield dataclasses.replace(container, db=db)
    db.dispose()


def test_ready_answers_503_with_the_reason_when_the_database_is_unreachable(unreachable: Container) -> None:
    with TestClient(app_over(unreachable)) as client:
        for _ in range(2):
            status, body = readiness(client)
            assert status == 503
            assert body["status"] == "not_ready"
            assert body["checks"]["database"]["status"] == "fail"
            assert "OperationalError" in body["checks"]["database"]["reason"]
        assert client.get("/health/live").status_code == 200
