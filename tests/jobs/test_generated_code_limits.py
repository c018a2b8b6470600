"""Generated codes whose rows leave max_uses, uses and created_at to their job (docs/adr/0015) read,
count, export and migrate as codes that store them."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from alembic import command
from sqlalchemy import select, update

from promoforge.bootstrap import Container
from promoforge.domain.identifiers import code_id
from promoforge.storage import migrate
from promoforge.storage.repositories.codes import codes_of_promotion
from promoforge.storage.schema import promotion_codes, promotion_jobs
from support import StoreClient


def _rows(container: Container, promotion_id: str) -> list[tuple[Any, ...]]:
    """(max_uses, uses, created_at) as stored, in seq order."""
    with container.db.read() as tx:
        return [
            tuple(row)
            for row in tx.connection.execute(
                select(promotion_codes.c.max_uses, promotion_codes.c.uses, promotion_codes.c.created_at)
                .where(codes_of_promotion(promotion_id))
                .order_by(promotion_codes.c.seq)
            )
        ]


def _limits(shop: StoreClient, promotion_id: str) -> dict[str, tuple[int | None, int | None]]:
    """code -> (max_uses, uses) as the API lists them (an unlimited code shows neither)."""
    listed = shop.list_codes(promotion_id, **{"page[limit]": 100})
    return {c["code"]: (c.get("max_uses"), c.get("uses")) for c in listed}


def _exported(shop: StoreClient, promotion_id: str, run_jobs: Any) -> dict[str, tuple[str, str]]:
    """code -> (max_uses, uses) as the export writes them."""
    job = shop.create_job(promotion_id, "code_export").json()["data"]
    run_jobs()
    assert shop.job(promotion_id, job["id"])["status"] == "completed"
    link = urlsplit(shop.get(f"/v2/promotions/{promotion_id}/jobs/{job['id']}/file").json()["href"])
    rows = list(csv.reader(io.StringIO(shop.client.get(f"{link.path}?{link.query}").text)))
    return {row[0]: (row[2], row[1]) for row in rows[1:]}


def _generate(shop: StoreClient, run_jobs: Any, **parameters: Any) -> tuple[str, list[str]]:
    """A promotion with a completed generation job's codes: its id and the codes' ids."""
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], **parameters).json()["data"]
    run_jobs()
    assert shop.job(promotion["id"], job["id"])["status"] == "completed"
    listed = shop.list_codes(promotion["id"], **{"page[limit]": 100})
    made = job["meta"]["timestamps"]["created_at"]
    assert {c["meta"]["timestamps"]["created_at"] for c in listed} == {made}
    return promotion["id"], [c["id"] for c in listed]


def _made_at(container: Container, promotion_id: str) -> datetime:
    """When the promotion's (only) job was created."""
    with container.db.read() as tx:
        moment = tx.connection.execute(
            select(promotion_jobs.c.created_at).where(promotion_jobs.c.promotion_id == promotion_id)
        ).scalar_one()
    assert isinstance(moment, datetime)
    return moment


def test_generated_codes_are_made_at_their_jobs_creation_and_found_by_their_ids(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion_id, ids = _generate(shop, run_jobs, number_of_codes=3, max_uses_per_code=1)
    made = _made_at(container, promotion_id)
    if container.db.engine.dialect.name == "postgresql":
        assert [row[2] for row in _rows(container, promotion_id)] == [None] * 3
    else:
        assert {row[2] for row in _rows(container, promotion_id)} == {made}
    with container.db.read() as tx:
        seqs = [
            int(seq)
            for seq in tx.connection.execute(
                select(promotion_codes.c.seq)
                .where(codes_of_promotion(promotion_id))
                .order_by(promotion_codes.c.seq)
            ).scalars()
        ]
    assert ids == [code_id(seq, made) for seq in seqs]
    first, second, third = ids
    with container.db.write() as tx:
        codes = tx.store(shop.store_id).codes
        assert set(codes.many([first, third])) == {first, third}
        assert set(codes.lock([first, second])) == {first, second}
        assert codes.consume(second, 1)
        assert not codes.consume(code_id(seqs[2], made + timedelta(milliseconds=1)), 1)
    assert shop.delete(f"/v2/promotions/{promotion_id}/codes/{third}").status_code == 204
    assert [c["id"] for c in shop.list_codes(promotion_id)] == [first, second]


def test_generated_codes_count_down_from_their_jobs_max_uses(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion_id, (first, second, _) = _generate(shop, run_jobs, number_of_codes=3, max_uses_per_code=2)
    if container.db.engine.dialect.name == "postgresql":
        assert _rows(container, promotion_id) == [(None, None, None)] * 3
    assert set(_limits(shop, promotion_id).values()) == {(2, 2)}
    with container.db.write() as tx:
        codes = tx.store(shop.store_id).codes
        assert not codes.consume(first, 3)
        assert codes.consume(first, 2)
        assert not codes.consume(first, 1)
        assert codes.consume(second, 1)
        locked = codes.lock([first, second])
    assert (locked[first].max_uses, locked[first].uses) == (2, 0)
    assert (locked[second].max_uses, locked[second].uses) == (2, 1)
    limits = _limits(shop, promotion_id)
    assert sorted(limits.values()) == [(2, 0), (2, 1), (2, 2)]
    exported = _exported(shop, promotion_id, run_jobs)
    assert {code: (int(most), int(left)) for code, (most, left) in exported.items()} == limits


def test_generated_codes_without_a_limit_stay_unlimited(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion_id, (first, *_) = _generate(shop, run_jobs, number_of_codes=2)
    assert set(_limits(shop, promotion_id).values()) == {(None, None)}
    with container.db.write() as tx:
        assert not tx.store(shop.store_id).codes.consume(first, 1)
    assert set(_limits(shop, promotion_id).values()) == {(None, None)}
    assert set(_exported(shop, promotion_id, run_jobs).values()) == {("", "")}


def test_downgrade_writes_the_jobs_limits_into_the_codes_and_upgrade_fills_the_jobs(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion_id, (first, *_) = _generate(shop, run_jobs, number_of_codes=3, max_uses_per_code=5)
    unlimited_id, _ = _generate(shop, run_jobs, number_of_codes=2)
    with container.db.write() as tx:
        assert tx.store(shop.store_id).codes.consume(first, 2)
    before = _limits(shop, promotion_id)
    assert sorted(before.values()) == [(5, 3), (5, 5), (5, 5)]

    config = migrate._config()
    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    made = _made_at(container, promotion_id)
    assert sorted(_rows(container, promotion_id)) == [(5, 3, made), (5, 5, made), (5, 5, made)]
    assert _rows(container, unlimited_id) == [(None, None, _made_at(container, unlimited_id))] * 2

    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with container.db.read() as tx:
        limits = set(tx.connection.execute(select(promotion_jobs.c.code_max_uses)).scalars())
    assert limits == {5, None}
    assert _limits(shop, promotion_id) == before
    with container.db.write() as tx:
        assert tx.store(shop.store_id).codes.consume(first, 3)
        assert not tx.store(shop.store_id).codes.consume(first, 1)


def test_a_job_whose_row_lacks_its_limit_writes_the_limit_into_its_codes(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    """A job queued by a process that predates promotion_jobs.code_max_uses leaves that column NULL."""
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=3, max_uses_per_code=2).json()["data"]
    with container.db.write() as tx:
        tx.connection.execute(
            update(promotion_jobs).where(promotion_jobs.c.id == job["id"]).values(code_max_uses=None)
        )
    run_jobs()
    assert shop.job(promotion["id"], job["id"])["status"] == "completed"
    assert [row[:2] for row in _rows(container, promotion["id"])] == [(2, 2)] * 3
    assert set(_limits(shop, promotion["id"]).values()) == {(2, 2)}


def test_codes_without_a_job_row_keep_their_limit_and_time(container: Container, shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    made = container.clock()
    with container.db.write() as tx:
        repos = tx.store(shop.store_id)
        numbers = repos.promotions.take_code_numbers(promotion["id"], 2)
        assert numbers is not None
        added = repos.codes.add_random(
            promotion_ref=numbers[0],
            first_number=numbers[1],
            job_id=str(uuid.uuid4()),
            prefix="",
            key_prefix="",
            bodies=["abcd-efgh", "abcd-efgj"],
            max_uses=3,
            consume_unit="per_cart",
            created_at=made,
        )
    assert added == 2
    assert _rows(container, promotion["id"]) == [(3, 3, made)] * 2
    assert set(_limits(shop, promotion["id"]).values()) == {(3, 3)}
