"""First-run setup is safe when several processes start together."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.services.auth import list_stores

PROCESSES = 6

# What `promoforge serve` does at start, released in every process at the same moment by a file.
START_LIKE_SERVE = """
import sys, time
from pathlib import Path
from promoforge.bootstrap import open_database
from promoforge.config import Settings
from promoforge.services.auth import ensure_default_store
from promoforge.services.clock import utc_now
db = open_database(Settings(database_url=sys.argv[1]))
go = Path(sys.argv[2])
while not go.exists():
    time.sleep(0.005)
created = ensure_default_store(db, now=utc_now())
print(created.store.id if created else "-")
db.dispose()
"""


def test_processes_starting_together_create_one_default_store(database_url: str, tmp_path: Path) -> None:
    go = tmp_path / "go"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", START_LIKE_SERVE, database_url, str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    go.touch()
    outcomes = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        outcomes.append(out.strip())
    created = [store_id for store_id in outcomes if store_id != "-"]
    db = open_database(Settings(database_url=database_url))
    try:
        stores = list_stores(db)
    finally:
        db.dispose()
    assert len(created) == 1
    assert [store.id for store in stores] == created
    assert stores[0].name == "default"
