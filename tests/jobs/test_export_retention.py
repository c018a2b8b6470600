"""Export files expire after their store's retention: 422 with a clear detail, and their bytes deleted."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.jobs.export_purge import ExportPurge
from promoforge.jobs.worker import Worker
from promoforge.services import auth
from promoforge.services.jobs import purge_expired_exports
from promoforge.storage.schema import job_files, promotion_jobs
from support import StoreClient, TestClient, make_store, run_idle_hook_once

DAY = timedelta(days=1)


def completed_export(shop: StoreClient, promotion_id: str, run_jobs: Any) -> str:
    job_id: str = shop.create_job(promotion_id, "code_export").json()["data"]["id"]
    run_jobs()
    assert shop.job(promotion_id, job_id)["status"] == "completed"
    return job_id


def file_endpoint(shop: StoreClient, promotion_id: str, job_id: str) -> Any:
    return shop.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}/file")


def download(shop: StoreClient, href: str) -> Any:
    parts = urlsplit(href)
    return shop.client.get(f"{parts.path}?{parts.query}")


def part_count(container: Container, job_id: str) -> int:
    with container.db.read() as tx:
        query = select(func.count()).select_from(job_files).where(job_files.c.job_id == job_id)
        return int(tx.connection.execute(query).scalar_one())


def stored_job(container: Container, shop: StoreClient, job_id: str) -> Any:
    with container.db.read() as tx:
        job = tx.store(shop.store_id).jobs.by_id(job_id)
    assert job is not None
    return job


def expiry_of(container: Container, shop: StoreClient, job_id: str) -> datetime:
    expires: datetime | None = stored_job(container, shop, job_id).file_expires_at
    assert expires is not None
    return expires


def shift_clock(container: Container, by: timedelta, *shops: StoreClient) -> Callable[[], datetime]:
    """Move the service's clock, and give the shops tokens valid at the new time; return the real clock."""
    real = container.clock
    container.clock = lambda: real() + by
    for shop in shops:
        principal = auth.Principal(
            store_id=shop.store_id, grant=auth.Grant.CLIENT_CREDENTIALS, client_id=shop.client_id
        )
        token = container.tokens.issue(principal, now=container.clock(), ttl_seconds=3600).access_token
        shop.headers["Authorization"] = f"Bearer {token}"
    return real


def expired_detail(expires: datetime) -> str:
    return (
        f"The export file expired on {expires.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ} and was deleted; "
        "run a new code_export job"
    )


def test_exports_are_kept_seven_days_by_default(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "ONE")
    before = container.clock()
    job_id = completed_export(shop, promotion["id"], run_jobs)
    expires = expiry_of(container, shop, job_id)
    assert before + 7 * DAY <= expires <= container.clock() + 7 * DAY
    # Other jobs have no file, and so no expiry.
    generate_id = shop.create_job(promotion["id"], number_of_codes=5).json()["data"]["id"]
    run_jobs()
    assert stored_job(container, shop, generate_id).file_expires_at is None


def test_an_expired_export_is_refused_then_purged_and_a_fresh_one_downloads(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    container.settings.export_part_bytes = 1024
    container.settings.export_chunk_rows = 10
    promotion = shop.create_promotion()
    shop.create_job(promotion["id"], number_of_codes=300)
    run_jobs()
    old_job = completed_export(shop, promotion["id"], run_jobs)
    expires = expiry_of(container, shop, old_job)
    old_parts = part_count(container, old_job)
    assert old_parts > 3

    real = shift_clock(container, expires - container.clock() - timedelta(minutes=10), shop)
    try:
        href = file_endpoint(shop, promotion["id"], old_job).json()["href"]
        assert download(shop, href).status_code == 200
        # Nothing has expired yet: the purge leaves every part alone.
        assert purge_expired_exports(container.db, now=container.clock(), batch=2) == 0
        assert part_count(container, old_job) == old_parts
    finally:
        container.clock = real

    real = shift_clock(container, expires - container.clock() + timedelta(seconds=1), shop)
    try:
        refused = file_endpoint(shop, promotion["id"], old_job)
        assert refused.status_code == 422
        error = refused.json()["errors"][0]
        assert error["detail"] == expired_detail(expires)
        assert error["code"] == "export_file_expired"
        # A link handed out before the expiry, still within its hour, no longer serves the file.
        late = download(shop, href)
        assert late.status_code == 422
        assert late.json()["errors"][0]["detail"] == expired_detail(expires)

        fresh_job = completed_export(shop, promotion["id"], run_jobs)
        fresh_parts = part_count(container, fresh_job)
        fresh_href = file_endpoint(shop, promotion["id"], fresh_job).json()["href"]

        deleted = purge_expired_exports(container.db, now=container.clock(), batch=2)
        assert deleted == old_parts
        assert part_count(container, old_job) == 0
        assert part_count(container, fresh_job) == fresh_parts
        assert purge_expired_exports(container.db, now=container.clock(), batch=2) == 0
        fresh = download(shop, fresh_href)
        assert fresh.status_code == 200
        assert len(fresh.content.decode().splitlines()) == 301
    finally:
        container.clock = real
    # Once deleted the file stays refused with the same detail, whatever the clock says.
    assert file_endpoint(shop, promotion["id"], old_job).json()["errors"][0]["detail"] == expired_detail(
        expires
    )
    gone = stored_job(container, shop, old_job)
    assert gone.file_size is None and gone.file_name is not None


def test_the_store_retention_is_honoured(
    container: Container, app_client: TestClient, shop: StoreClient, run_jobs: Any
) -> None:
    updated = auth.update_store(
        container.db, reference=shop.store_id, export_retention_days=1, now=container.clock()
    )
    assert isinstance(updated, auth.Store) and updated.export_retention_days == 1
    other = make_store(container, app_client, name="other")
    promotion = shop.create_promotion()
    other_promotion = other.create_promotion()
    before = container.clock()
    job_id = completed_export(shop, promotion["id"], run_jobs)
    other_job = completed_export(other, other_promotion["id"], run_jobs)
    expires = expiry_of(container, shop, job_id)
    assert before + DAY <= expires <= container.clock() + DAY
    assert expiry_of(container, other, other_job) >= before + 7 * DAY

    real = shift_clock(container, DAY - timedelta(minutes=1), shop, other)
    try:
        assert file_endpoint(shop, promotion["id"], job_id).status_code == 200
    finally:
        container.clock = real
    real = shift_clock(container, DAY + timedelta(minutes=1), shop, other)
    try:
        assert file_endpoint(shop, promotion["id"], job_id).status_code == 422
        assert file_endpoint(other, other_promotion["id"], other_job).status_code == 200
        assert purge_expired_exports(container.db, now=container.clock(), batch=100) == 1
    finally:
        container.clock = real
    assert part_count(container, job_id) == 0
    assert part_count(container, other_job) == 1


def test_a_changed_retention_applies_to_exports_completed_afterwards(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    earlier = completed_export(shop, promotion["id"], run_jobs)
    auth.update_store(container.db, reference=shop.store_id, export_retention_days=30, now=container.clock())
    later = completed_export(shop, promotion["id"], run_jobs)
    assert expiry_of(container, shop, later) - expiry_of(container, shop, earlier) >= 23 * DAY


def test_idle_workers_delete_expired_files(container: Container, shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "ONE", "TWO")
    job_id = completed_export(shop, promotion["id"], run_jobs)
    assert part_count(container, job_id) == 1
    later = container.clock() + 8 * DAY
    worker = Worker(container.db, container.settings, clock=lambda: later)
    run_idle_hook_once(worker, ExportPurge)
    assert part_count(container, job_id) == 0
    assert stored_job(container, shop, job_id).file_size is None


def test_the_purge_runs_at_most_once_per_interval(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    first = completed_export(shop, promotion["id"], run_jobs)
    purge = ExportPurge(container.db, lambda: container.clock() + 8 * DAY, interval_seconds=3600)
    purge.run_if_due()
    assert part_count(container, first) == 0
    second = completed_export(shop, promotion["id"], run_jobs)
    purge.run_if_due()
    assert part_count(container, second) == 1


def test_the_purge_skips_files_another_transaction_holds(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    """On PostgreSQL the purge never waits on a lock (so it cannot deadlock with a promotion's purge)."""
    if container.db.backend != "postgresql":
        pytest.skip("SQLite serialises writers: there is no row lock to skip")
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], "ONE")
    held_job, free_job = (completed_export(shop, promotion["id"], run_jobs) for _ in range(2))
    later = container.clock() + 8 * DAY
    for target in (promotion_jobs, job_files):
        key = promotion_jobs.c.id if target is promotion_jobs else job_files.c.job_id
        with container.db.engine.connect() as holder, holder.begin():
            holder.execute(select(target).where(key == held_job).with_for_update())
            purge = threading.Thread(
                target=purge_expired_exports, args=(container.db,), kwargs={"now": later, "batch": 8}
            )
            purge.start()
            purge.join(20)
            assert not purge.is_alive(), "the purge waited on a lock"
        assert part_count(container, held_job) == 1
        assert part_count(container, free_job) == 0
    assert purge_expired_exports(container.db, now=later, batch=8) == 1
    assert part_count(container, held_job) == 0
    assert stored_job(container, shop, held_job).file_size is None
