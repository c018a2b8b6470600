"""One backend run: a fresh database, migrated, with a bench store, and the server; all removed afterwards."""

from __future__ import annotations

import json
import secrets
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.harness.api import HTTP_TIMEOUT_SECONDS, access_token
from bench.harness.databases import (
    create_database,
    drop_database,
    postgres_info,
    redacted,
    with_database,
)
from bench.harness.server import Server, run_cli, service_environment
from bench.harness.timing import BenchError, log


@dataclass
class BackendRun:
    """Everything a benchmark needs on one backend; `result` becomes that backend's part of the JSON."""

    backend: str
    bin_dir: Path
    temp_dir: Path
    database_url: str
    env: dict[str, str]
    store: dict[str, Any]
    result: dict[str, Any]
    server: Server | None = field(default=None)
    headers: dict[str, str] = field(default_factory=dict)

    def start_server(self, *, serve_args: Sequence[str] = (), workers: int | None = None) -> Server:
        """Start `promoforge serve` on this database, record its process and get a token of the store."""
        self.server = Server(
            self.bin_dir, self.env, self.temp_dir / "server.log", serve_args=serve_args, workers=workers
        )
        self.server.start()
        self.result["server"] = self.server.describe()
        log(f"{self.backend}: server pid {self.server.pid} on {self.server.base_url}")
        with httpx.Client(base_url=self.server.base_url, timeout=HTTP_TIMEOUT_SECONDS) as client:
            token = access_token(client, self.store["client_id"], self.store["client_secret"])
        self.headers = {"Authorization": f"Bearer {token}"}
        return self.server

    def client(self) -> httpx.Client:
        """A new HTTP client for the server, sending the store's token."""
        if self.server is None:
            raise BenchError("server not started")
        return httpx.Client(base_url=self.server.base_url, headers=self.headers, timeout=HTTP_TIMEOUT_SECONDS)


@contextmanager
def prepared_backend(
    backend: str, bin_dir: Path, admin_url: str | None, max_codes_per_promotion: int
) -> Iterator[BackendRun]:
    """Create the database, migrate it and create the store `bench`; clean up even on failure or Ctrl-C."""
    temp_dir = Path(tempfile.mkdtemp(prefix=f"promoforge-bench-{backend}-"))
    database_name: str | None = None
    run: BackendRun | None = None
    result: dict[str, Any] = {"backend": backend}
    try:
        if backend == "sqlite":
            database_url = f"sqlite:///{temp_dir / 'bench.db'}"
            result["database"] = {"url": database_url, "version": sqlite3.sqlite_version}
        else:
            assert admin_url is not None
            database_name = f"promoforge_bench_{secrets.token_hex(6)}"
            create_database(admin_url, database_name)
            database_url = with_database(admin_url, database_name)
            result["database"] = {"url": redacted(database_url), **postgres_info(admin_url)}
        log(f"{backend}: database {result['database']['url']}")

        env = service_environment(database_url, temp_dir)
        run_cli(bin_dir, env, "migrate")
        store = json.loads(
            run_cli(
                bin_dir,
                env,
                "stores",
                "create",
                "--name",
                "bench",
                "--max-codes-per-promotion",
                str(max_codes_per_promotion),
            )
        )
        result["service_settings"] = {
            key: value for key, value in env.items() if key.startswith("PROMOFORGE_") and "URL" not in key
        }
        run = BackendRun(backend, bin_dir, temp_dir, database_url, env, store, result)
        yield run
    except Exception:
        if run is not None and run.server is not None:
            log(f"{backend}: server log tail:\n{run.server.log_tail()}")
        raise
    finally:
        if run is not None and run.server is not None:
            run.server.stop()
        if database_name is not None and admin_url is not None:
            try:
                drop_database(admin_url, database_name)
            except Exception as error:  # cleanup must not hide the error that got us here
                log(f"{backend}: could not drop database {database_name}: {error}")
        shutil.rmtree(temp_dir, ignore_errors=True)
