"""Deleting a promotion: gone at once for every reader, its codes purged in the background in batches."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.schema import job_files, promotion_codes, promotion_jobs, promotion_versions
from support import StoreClient

pytestmark = pytest.mark.both_backends


def rows_of(container: Container, table: Any, promotion_id: str) -> int:
    column = table.c.promotion_id if "promotion_id" in table.c else None
    with container.db.read() as tx:
        if table is promotion_codes:
            query = select(func.count()).select_from(table).where(codes_of_promotion(promotion_id))
        elif column is None:
            owned = select(promotion_jobs.c.id).where(promotion_jobs.c.promotion_id == promotion_id)
            query = select(func.count()).select_from(table).where(table.c.job_id.in_(owned.scalar_subquery()))
        else:
            query = select(func.count()).select_from(table).where(column == promotion_id)
        return int(tx.connection.execute(query).scalar_one())


def test_a_deleted_promotion_vanishes_at_once_and_is_purged_in_batches(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    container.settings.purge_batch_rows = 7
    doomed = shop.create_promotion(name="Doomed")
    kept = shop.create_promotion(name="Kept")
    assert shop.add_codes(doomed["id"], *[f"GONE{i}" for i in range(30)]).status_code == 201
    assert shop.add_codes(kept["id"], "STAYS").status_code == 201
    export = shop.create_job(doomed["id"], "code_export").json()["data"]
    run_jobs()
    assert shop.job(doomed["id"], export["id"])["status"] == "completed"

    assert shop.delete(f"/v2/promotions/{doomed['id']}").status_code == 204

    # Gone for every reader before any purge ran:
    assert shop.get(f"/v2/promotions/{doomed['id']}").status_code == 404
    assert shop.get(f"/v2/promotions/{doomed['id']}/codes").status_code == 404
    assert shop.get(f"/v2/promotions/{doomed['id']}/jobs").status_code == 404
    assert shop.get(f"/v2/promotions/{doomed['id']}/jobs/{export['id']}/file").status_code == 404
    assert shop.delete(f"/v2/promotions/{doomed['id']}").status_code == 404
    listed = shop.get("/v2/promotions").json()
    assert [p["id"] for p in listed["data"]] == [kept["id"]]
    assert listed["meta"]["results"]["total"] == 1
    assert shop.get("/v2/promotions", params={"filter": "eq(code,gone3)"}).json()["data"] == []
    # Its codes no longer clash with new ones.
    assert shop.add_codes(kept["id"], "gone4").status_code == 201
    assert rows_of(container, promotion_codes, doomed["id"]) == 29

    # The purge runs in the background, batch by batch, and leaves nothing behind.
    assert run_jobs() == 1
    for table in (promotion_codes, promotion_versions, job_files):
        assert rows_of(container, table, doomed["id"]) == 0
    with container.db.read() as tx:
        jobs = tx.connection.execute(
            select(promotion_jobs.c.job_type, promotion_jobs.c.status, promotion_jobs.c.progress_done).where(
                promotion_jobs.c.promotion_id == doomed["id"]
            )
        ).all()
    assert [tuple(row) for row in jobs] == [("promotion_purge", "completed", 29)]
    assert [c["code"] for c in shop.list_codes(kept["id"])] == ["STAYS", "gone4"]


def test_deleting_a_promotion_cancels_its_active_jobs(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=200).json()["data"]
    assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    with container.db.read() as tx:
        statuses = dict(
            tx.connection.execute(
                select(promotion_jobs.c.id, promotion_jobs.c.status).where(
                    promotion_jobs.c.promotion_id == promotion["id"]
                )
            ).all()
        )
    assert statuses.pop(job["id"]) == "cancelled"
    assert list(statuses.values()) == ["pending"]  # the purge
    assert run_jobs() == 1
    assert rows_of(container, promotion_codes, promotion["id"]) == 0


def test_a_deleted_promotions_codes_do_not_count_towards_the_code_space(
    container: Container, shop: StoreClient
) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], *[f"X{i}" for i in range(900)]).status_code == 201
    assert shop.delete(f"/v2/promotions/{promotion['id']}").status_code == 204
    other = shop.create_promotion()
    # code_length 8 holds far more; the point is the store total no longer includes the deleted 900.
    with container.db.read() as tx:
        assert tx.store(shop.store_id).promotions.code_total() == 0
    assert shop.create_job(other["id"], number_of_codes=1000).status_code == 201
