"""A real `promoforge serve` over the test database, for the races that need separate server processes."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from itertools import count
from pathlib import Path

import pytest

from promoforge.bootstrap import Container
from support import ServeApi, running_server


@pytest.fixture
def serve_api(container: Container, database_url: str, tmp_path: Path) -> Iterator[ServeApi]:
    """Start `promoforge serve` over the test database: `serve_api(workers=2, JOB_POLL_SECONDS="0.05")`
    (settings without their PROMOFORGE_ prefix); each server stops at the end of the test."""
    numbers = count()
    with ExitStack() as servers:

        def serve(*, workers: int | None = None, **settings: str) -> str:
            log = tmp_path / f"server-{next(numbers)}.log"
            env = {f"PROMOFORGE_{name}": value for name, value in settings.items()}
            return servers.enter_context(running_server(database_url, log, workers=workers, **env))

        yield serve


@pytest.fixture
def server(serve_api: ServeApi) -> str:
    """`promoforge serve --workers 2` over the test database; its base URL."""
    return serve_api(workers=2)
