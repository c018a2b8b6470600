"""Time the migrations from 0006 to the newest (0007 converts the codes) on codes written in the 0006 layout.

    .venv/bin/python -m bench.convert_codes sqlite:////tmp/convert.db 1000000
    .venv/bin/python -m bench.convert_codes postgresql://postgres@127.0.0.1:5432/EMPTY_DATABASE 1000000

The database must be empty. It is migrated to 0006, given one store, promotion and generation job and N
codes written straight into the 0006 tables, then `promoforge migrate` is timed in a process of its own.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from alembic import command
from sqlalchemy import JSON, MetaData, insert

from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.domain.codes import generate_random_parts
from promoforge.storage import migrate

INSERT_BATCH = 100_000


def fill_0006(database_url: str, count: int) -> None:
    """Migrate an empty database to 0006 and write `count` generated codes in that layout."""
    db = open_database(Settings(database_url=database_url))
    try:
        config = migrate._config()
        with db.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0006")
        legacy = MetaData()
        with db.engine.connect() as connection:
            legacy.reflect(connection)
        tables = legacy.tables
        tables["promotion_codes"].c.user_restriction.type = JSON(none_as_null=True)
        now = datetime.now(UTC)
        store_id, promotion_id, job_id = (str(uuid.uuid4()) for _ in range(3))
        codes = sorted(set(generate_random_parts(count + count // 100 + 10, 12).codes()))[:count]
        with db.engine.begin() as connection:
            connection.execute(
                insert(tables["stores"]).values(
                    id=store_id,
                    name="convert",
                    client_id=f"convert-{store_id[:8]}",
                    client_secret_hash="-",
                    max_codes_per_promotion=2 * count,
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                insert(tables["promotions"]).values(
                    id=promotion_id,
                    store_id=store_id,
                    name="convert",
                    description="",
                    enabled=True,
                    automatic=False,
                    promotion_type="fixed_discount",
                    schema={"currencies": [{"currency": "USD", "amount": 500}]},
                    starts_at=now,
                    ends_at=now,
                    code_count=len(codes),
                    version=1,
                    created_at=now,
                    updated_at=now,
                )
            )
            connection.execute(
                insert(tables["promotion_jobs"]).values(
                    id=job_id,
                    store_id=store_id,
                    promotion_id=promotion_id,
                    job_type="code_generate",
                    status="completed",
                    created_by="convert-client",
                    created_at=now,
                    updated_at=now,
                )
            )
            for start in range(0, len(codes), INSERT_BATCH):
                connection.execute(
                    insert(tables["promotion_codes"]),
                    [
                        {
                            "id": str(uuid.uuid4()),
                            "store_id": store_id,
                            "promotion_id": promotion_id,
                            "job_id": job_id,
                            "code": code,
                            "code_key": code,
                            "max_uses": 1,
                            "uses": 1,
                            "consume_unit": "per_cart",
                            "user_restriction": None,
                            "created_by": "convert-client",
                            "created_at": now,
                        }
                        for code in codes[start : start + INSERT_BATCH]
                    ],
                )
    finally:
        db.dispose()


def main() -> None:
    """Fill, then time `promoforge migrate`."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("database_url")
    parser.add_argument("codes", type=int)
    options = parser.parse_args()
    fill_0006(options.database_url, options.codes)
    started = time.perf_counter()
    result = subprocess.run(
        [str(Path(sys.executable).with_name("promoforge")), "migrate"],
        env={"PROMOFORGE_DATABASE_URL": options.database_url, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"promoforge migrate failed:\n{result.stderr}")
    print(f"migrations from 0006: {options.codes:,} codes converted in {seconds:.1f} s")


if __name__ == "__main__":
    main()
