"""0007 converts a database written in the 0006 layout in place: every id, text, count and time is kept."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import JSON, MetaData, func, insert, select

from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.codes import NewCode
from promoforge.domain.queries import Page
from promoforge.services.codes import add_codes
from promoforge.storage import migrate
from promoforge.storage.schema import promotions, stores
from support import run_migrate

STORE_A, STORE_B = "0a000000-0000-4000-8000-000000000001", "0b000000-0000-4000-8000-000000000001"
LIVE, SECOND, DELETED = (f"00000000-0000-4000-8000-0000000001{n:02d}" for n in (1, 2, 3))
JOB, SOLO_JOB = "00000000-0000-4000-8000-000000000201", "00000000-0000-4000-8000-000000000202"
AUTHOR = "client-id-of-the-job-author-0123456789"
START = datetime(2026, 3, 4, 5, 6, 7, 123456, tzinfo=UTC)


def _codes() -> list[dict[str, Any]]:
    """Old-layout code rows, interleaved across promotions and stores, covering every kind of value."""
    rows: list[dict[str, Any]] = []
    for n in range(40):
        promotion = (LIVE, SECOND, DELETED)[n % 3]
        store = STORE_B if promotion == SECOND else STORE_A
        generated = n % 2 == 0 and promotion == LIVE
        job, author = (JOB, AUTHOR) if n % 4 == 0 else (SOLO_JOB, None)
        code = f"gen-{n:04d}" if generated else f"Manual-{n:04d}" if n % 4 == 1 else f"manual-{n:04d}"
        rows.append(
            {
                "id": f"{n:08x}-1111-4222-8333-{n * 7919:012x}",
                "store_id": store,
                "promotion_id": promotion,
                "job_id": job if generated else None,
                "code": code,
                "code_key": code.lower(),
                "max_uses": None if n % 5 == 0 else n + 3,
                "uses": None if n % 5 == 0 else n,
                "consume_unit": "per_item" if n % 3 == 1 else "per_cart",
                "user_restriction": (None, "customer-1", ["a@example.com", 'b,c"d'])[n // 3 % 3],
                "created_by": author if generated else (None if n % 7 == 0 else f"admin-{n}"),
                "created_at": START + timedelta(microseconds=n * 1_000_001),
            }
        )
    # Made by hand by the job's author: it stays a code of its own author, with no job.
    rows.append(
        {
            **rows[3],
            "id": "ffffffff-1111-4222-8333-000000000001",
            "code": "x",
            "code_key": "x",
            "created_by": AUTHOR,
        }
    )
    return rows


def _fill_0006(db: Any) -> list[dict[str, Any]]:
    legacy = MetaData()
    with db.engine.connect() as connection:
        legacy.reflect(connection)
    table = legacy.tables
    # As the code of that revision declared it: None is SQL NULL, not JSON null.
    table["promotion_codes"].c.user_restriction.type = JSON(none_as_null=True)
    codes = _codes()
    with db.engine.begin() as connection:
        for number, store in enumerate((STORE_A, STORE_B)):
            connection.execute(
                insert(table["stores"]).values(
                    id=store,
                    name=f"s{number}",
                    client_id=f"c{number}",
                    client_secret_hash="h",
                    max_codes_per_promotion=1000,
                    created_at=START + timedelta(seconds=number),
                    updated_at=START,
                )
            )
        for number, (promotion, store) in enumerate(((LIVE, STORE_A), (SECOND, STORE_B), (DELETED, STORE_A))):
            connection.execute(
                insert(table["promotions"]).values(
                    id=promotion,
                    store_id=store,
                    name="p",
                    description="",
                    enabled=True,
                    automatic=False,
                    promotion_type="fixed_discount",
                    schema={"currencies": [{"currency": "USD", "amount": 500}]},
                    starts_at=START,
                    ends_at=START + timedelta(days=365),
                    code_count=sum(1 for code in codes if code["promotion_id"] == promotion),
                    version=1,
                    created_at=START + timedelta(seconds=number),
                    updated_at=START,
                    deleted_at=START if promotion == DELETED else None,
                )
            )
        for job_id, created_by in ((JOB, AUTHOR), (SOLO_JOB, None)):
            connection.execute(
                insert(table["promotion_jobs"]).values(
                    id=job_id,
                    store_id=STORE_A,
                    promotion_id=LIVE,
                    job_type="code_generate",
                    status="completed",
                    created_by=created_by,
                    created_at=START,
                    updated_at=START,
                )
            )
        connection.execute(insert(table["promotion_codes"]), codes)
    return codes


def _as_read(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["id"],
        row["promotion_id"],
        row["code"],
        row["max_uses"],
        row["uses"],
        row["consume_unit"],
        row["user_restriction"],
        row["created_by"],
        row["created_at"],
        row["job_id"],
    )


def test_upgrade_from_0006_keeps_every_code_and_downgrade_gives_them_back(empty_database_url: str) -> None:
    db = open_database(Settings(database_url=empty_database_url))
    try:
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        codes = _fill_0006(db)

        result = run_migrate(empty_database_url)
        assert result.returncode == 0, result.stderr
        assert "Converting promotion codes" in result.stderr
        assert migrate.is_up_to_date(db.engine)

        with db.read() as tx:
            refs = {
                "stores": list(
                    tx.connection.execute(select(stores.c.ref).order_by(stores.c.created_at)).scalars()
                ),
                "numbers": dict(
                    tx.connection.execute(select(promotions.c.id, promotions.c.code_numbers)).all()
                ),
            }
            read = {}
            for store, promotion in ((STORE_A, LIVE), (STORE_B, SECOND)):
                page, total = tx.store(store).codes.list_page(promotion, Page(offset=0, limit=100))
                expected = [code for code in codes if code["promotion_id"] == promotion]
                assert total == len(expected)
                # Same codes, same values, in the old creation order.
                assert [_as_read(asdict(code) | {"user_restriction": code.user}) for code in page] == [
                    _as_read(code) for code in expected
                ]
                read[promotion] = page
            assert tx.store(STORE_A).codes.by_key("manual-0003") is not None
            assert tx.store(STORE_A).codes.by_key("manual-0002") is None  # of the deleted promotion
            assert set(tx.store(STORE_A).codes.many([codes[0]["id"], codes[1]["id"]])) == {codes[0]["id"]}
            assert tx.store(STORE_A).codes.count(DELETED) == sum(c["promotion_id"] == DELETED for c in codes)
        assert refs["stores"] == [1, 2]
        with db.read() as tx:
            exported = b"\r\n".join(part for part, _ in tx.store(STORE_A).codes.export_csv_chunks(LIVE, 7))
        lines = exported.decode().split("\r\n")
        assert len(lines) == len(read[LIVE])
        assert (
            lines[0] == "gen-0000,,,per_cart,,client-id-of-the-job-author-0123456789,2026-03-04T05:06:07.123Z"
        )
        assert '"[""a@example.com"", ""b,c\\""d""]"' in exported.decode()

        # Codes added after the conversion come after the old ones, and a new ref is a new number.
        add_codes(
            db,
            store_id=STORE_A,
            promotion_id=LIVE,
            codes=[NewCode(code="After", key="after", max_uses=1, consume_unit="per_cart", user=None)],
            actor="later",
            now=START,
        )
        with db.read() as tx:
            page, total = tx.store(STORE_A).codes.list_page(LIVE, Page(offset=0, limit=100))
        assert page[-1].code == "After" and total == len(read[LIVE]) + 1
        # Each promotion's codes are numbered 0, 1, 2, ... in their old order; new numbers follow.
        assert refs["numbers"] == {
            promotion: sum(code["promotion_id"] == promotion for code in codes)
            for promotion in (LIVE, SECOND, DELETED)
        }

        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0006")
        legacy = MetaData()
        with db.engine.connect() as connection:
            legacy.reflect(connection)
            rows = [row._asdict() for row in connection.execute(select(legacy.tables["promotion_codes"]))]
        restored = {str(row["id"]): _old_row(row) for row in rows}
        assert set(restored) == {code["id"] for code in codes} | {page[-1].id}
        for code in codes:
            assert restored[code["id"]] == code
    finally:
        db.dispose()


def _old_row(row: dict[str, Any]) -> dict[str, Any]:
    """A 0006 row as the test wrote it: text ids, an aware time, no seq."""
    values = {key: value for key, value in row.items() if key != "seq"}
    for key in ("id", "store_id", "promotion_id", "job_id"):
        values[key] = None if values[key] is None else str(values[key])
    created = values["created_at"]
    values["created_at"] = created.replace(tzinfo=UTC) if created.tzinfo is None else created.astimezone(UTC)
    return values


def test_codes_without_a_promotion_stop_the_upgrade_and_change_nothing(empty_database_url: str) -> None:
    db = open_database(Settings(database_url=empty_database_url))
    try:
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        codes = _fill_0006(db)
        legacy = MetaData()
        with db.engine.connect() as connection:
            legacy.reflect(connection)
        with db.engine.begin() as connection:
            connection.execute(
                insert(legacy.tables["promotion_codes"]).values(
                    {
                        **codes[0],
                        "id": "eeeeeeee-1111-4222-8333-000000000001",
                        "code": "lost",
                        "code_key": "lost",
                        "promotion_id": "99999999-0000-4000-8000-000000000000",
                    }
                )
            )
        result = run_migrate(empty_database_url)
        assert result.returncode != 0
        assert f"only {len(codes)} of {len(codes) + 1} codes" in result.stderr
        assert migrate.current_revision(db.engine) == "0006"
        with db.engine.connect() as connection:
            assert (
                connection.execute(
                    select(func.count()).select_from(legacy.tables["promotion_codes"])
                ).scalar_one()
                == len(codes) + 1
            )
    finally:
        db.dispose()
