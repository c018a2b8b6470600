"""`promoforge worker --concurrency N` gets a connection pool that fits N workers and their exports."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from promoforge import cli
from promoforge.bootstrap import CONNECTIONS_PER_WORKER
from promoforge.jobs.worker import Worker


def test_the_worker_command_sizes_its_pool_for_its_concurrency(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    def record_pool(self: Worker) -> None:
        pool: Any = self.db.engine.pool
        seen["connections"] = pool.size()
        seen["concurrency"] = self.concurrency

    monkeypatch.setattr(Worker, "run_forever", record_pool)
    monkeypatch.setenv("PROMOFORGE_DATABASE_URL", database_url)
    monkeypatch.delenv("PROMOFORGE_WORKER_CONCURRENCY", raising=False)
    result = CliRunner().invoke(cli.main, ["worker", "--concurrency", "40"])
    assert result.exit_code == 0, result.output
    assert seen["concurrency"] == 40
    # Each worker thread may hold an export's snapshot read, the write of a part and a lease renewal at once.
    assert seen["connections"] >= 40 * CONNECTIONS_PER_WORKER
