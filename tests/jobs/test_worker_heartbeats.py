"""Worker heartbeats: one row per running worker, purged when stale; `promoforge worker --check`."""

from __future__ import annotations

import json
import socket
import subprocess
from datetime import timedelta

from promoforge.bootstrap import Container
from promoforge.domain.health import HEARTBEAT_PURGED_AFTER, WorkerHeartbeat
from promoforge.jobs.worker import Worker
from promoforge.services import health
from support import clean_environment, promoforge_command, stop_process, wait_for


def heartbeat_ids(container: Container) -> list[str]:
    with container.db.read() as tx:
        return [row.id for row in tx.workers.all()]


def test_a_worker_is_on_record_from_start_to_stop(container: Container) -> None:
    container.settings.worker_heartbeat_seconds = 0.05
    worker = Worker(container.db, container.settings, clock=container.clock, concurrency=2)
    worker.start()
    try:
        with container.db.read() as tx:
            (row,) = tx.workers.all()
        assert row.id == worker.worker_id
        assert row.host == socket.gethostname()
        assert row.threads == 2
        first_beat = row.beat_at

        def beat_again() -> bool:
            with container.db.read() as tx:
                return tx.workers.latest_beat(worker_id=worker.worker_id) != first_beat

        wait_for(beat_again, timeout=30)
    finally:
        worker.stop(10)
    assert heartbeat_ids(container) == []


def test_a_heartbeat_purges_the_rows_of_workers_silent_for_long(container: Container) -> None:
    now = container.clock()
    for worker_id, age in (("gone", HEARTBEAT_PURGED_AFTER + timedelta(seconds=1)), ("slow", timedelta(0))):
        then = now - age
        health.record_heartbeat(container.db, heartbeat=WorkerHeartbeat(worker_id, "host", 1, 1, then, then))
    assert heartbeat_ids(container) == ["slow"]


def worker_check(database_url: str) -> tuple[int, dict[str, object]]:
    result = subprocess.run(
        [promoforge_command(), "worker", "--check"],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def test_worker_check_exits_0_only_while_a_worker_on_this_host_beats(
    container: Container, database_url: str
) -> None:
    status, body = worker_check(database_url)
    assert status == 1
    assert body["status"] == "not_ready"
    assert f"host {socket.gethostname()}" in body["checks"]["worker"]["reason"]  # type: ignore[index]

    now = container.clock()
    health.record_heartbeat(container.db, heartbeat=WorkerHeartbeat("far", "another-host", 1, 1, now, now))
    assert worker_check(database_url)[0] == 1

    process = subprocess.Popen(
        [promoforge_command(), "worker"],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: len(heartbeat_ids(container)) == 2, timeout=60)
        status, body = worker_check(database_url)
        assert status == 0, body
        assert body["status"] == "ready"
    finally:
        stop_process(process)
    assert process.returncode == 0
    assert heartbeat_ids(container) == ["far"]
    assert worker_check(database_url)[0] == 1
