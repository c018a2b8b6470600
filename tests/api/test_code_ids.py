"""Code ids computed from a code's seq and creation time (docs/adr/0013), and ids stored before."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import MetaData, func, select

from promoforge.bootstrap import Container
from promoforge.domain.identifiers import code_id, code_id_parts
from promoforge.storage import migrate
from promoforge.storage.schema import promotion_codes
from support import StoreClient

pytestmark = pytest.mark.both_backends


def _ids(shop: StoreClient, promotion_id: str) -> dict[str, str]:
    """The promotion's codes as the API lists them: id -> code."""
    return {c["id"]: c["code"] for c in shop.list_codes(promotion_id, **{"page[limit]": 100})}


def _stored_ids(container: Container) -> int:
    with container.db.read() as tx:
        return int(
            tx.connection.execute(
                select(func.count()).select_from(promotion_codes).where(promotion_codes.c.id.is_not(None))
            ).scalar_one()
        )


def _forged(real_id: str) -> str:
    """An id with a real code's seq and a creation time one millisecond later."""
    parts = code_id_parts(real_id)
    assert parts is not None
    seq, unix_ms = parts
    return code_id(seq, datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=unix_ms + 1))


def test_new_codes_get_version_7_ids_made_of_their_rows(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], "Manual-One", "manual-two").status_code == 201
    job = shop.create_job(promotion["id"], number_of_codes=30).json()["data"]
    run_jobs()
    assert shop.job(promotion["id"], job["id"])["status"] == "completed"
    listed = _ids(shop, promotion["id"])
    assert len(listed) == 32
    for text in listed:
        assert uuid.UUID(text).version == 7
        assert code_id_parts(text) is not None
    assert _stored_ids(container) == 0
    seqs = [code_id_parts(text) for text in listed]
    assert len({parts[0] for parts in seqs if parts}) == 32
    with container.db.read() as tx:
        found = tx.store(shop.store_id).codes.many(list(listed))
    assert {i: c.code for i, c in found.items()} == listed

    manual = next(i for i, code in listed.items() if code == "Manual-One")
    generated = next(i for i, code in listed.items() if not code.lower().startswith("manual"))
    for victim in (manual, generated):
        assert shop.delete(f"/v2/promotions/{promotion['id']}/codes/{victim}").status_code == 204
    assert set(_ids(shop, promotion["id"])) == set(listed) - {manual, generated}


def test_an_id_with_a_codes_seq_and_another_time_names_no_code(
    container: Container, shop: StoreClient
) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], {"code": "LIMITED", "uses": 3}).status_code == 201
    (real,) = _ids(shop, promotion["id"])
    forged = _forged(real)
    with container.db.write() as tx:
        codes = tx.store(shop.store_id).codes
        assert codes.many([forged]) == {}
        assert codes.lock([forged]) == {}
        assert not codes.consume(forged, 1)
        assert codes.delete_by_ids(promotion["id"], [forged]) == 0
        assert codes.consume(real, 1)
    assert shop.delete(f"/v2/promotions/{promotion['id']}/codes/{forged}").status_code == 404
    (kept,) = shop.list_codes(promotion["id"])
    assert (kept["id"], kept["uses"]) == (real, 2)


def test_downgrade_stores_the_computed_ids_and_they_still_work_after_the_upgrade(
    container: Container, shop: StoreClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    assert shop.add_codes(promotion["id"], {"code": "KEPT", "uses": 5}, "GONE").status_code == 201
    shop.create_job(promotion["id"], number_of_codes=20)
    run_jobs()
    before = _ids(shop, promotion["id"])
    assert len(before) == 22

    config = migrate._config()
    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0007")
    legacy = MetaData()
    with container.db.engine.connect() as connection:
        legacy.reflect(connection, only=["promotion_codes"])
        stored = list(connection.execute(select(legacy.tables["promotion_codes"].c.id)).scalars())
    as_text = {str(uuid.UUID(bytes=value)) if isinstance(value, bytes) else str(value) for value in stored}
    assert as_text == set(before)

    with container.db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert _stored_ids(container) == 22
    assert _ids(shop, promotion["id"]) == before
    kept = next(i for i, code in before.items() if code == "KEPT")
    gone = next(i for i, code in before.items() if code == "GONE")
    with container.db.write() as tx:
        codes = tx.store(shop.store_id).codes
        assert set(codes.lock([kept, gone])) == {kept, gone}
        assert codes.consume(kept, 2)
        assert not codes.consume(_forged(kept), 1)
    assert shop.delete(f"/v2/promotions/{promotion['id']}/codes/{gone}").status_code == 204
    after = {c["id"]: c for c in shop.list_codes(promotion["id"], **{"page[limit]": 100})}
    assert set(after) == set(before) - {gone}
    assert after[kept]["uses"] == 3
    # A code added now gets a computed id again, next to the stored ones.
    assert shop.add_codes(promotion["id"], "NEWER").status_code == 201
    assert _stored_ids(container) == 21
    newest = set(_ids(shop, promotion["id"])) - set(before)
    assert len(newest) == 1 and code_id_parts(newest.pop()) is not None
