"""Helpers shared by the tests: clients of a store, valid documents, throwaway databases."""

from __future__ import annotations

import os
import subprocess
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from promoforge.api.app import bind_container, create_app
from promoforge.bootstrap import Container
from promoforge.config import Settings
from promoforge.services import auth
from promoforge.storage.schema import metadata

warnings.filterwarnings("ignore", message=".*httpx2.*")
from fastapi.testclient import TestClient  # noqa: E402

POSTGRES_ENV = "PROMOFORGE_TEST_POSTGRES_URL"

ServeApi = Callable[..., str]
"""The `serve_api` fixture: starts `promoforge serve` over the test database and returns its base URL."""


def postgres_server_url() -> str | None:
    """The PostgreSQL the suite may use, or None (the PostgreSQL half then skips)."""
    return os.environ.get(POSTGRES_ENV) or None


_RESET_ENGINES: dict[str, Any] = {}


class PostgresDatabases:
    """Creates throwaway databases next to the configured one and drops them at the end."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.created: list[str] = []

    def _admin(self) -> Any:
        url = make_url(self.server_url).set(drivername="postgresql+psycopg")
        return create_engine(url, isolation_level="AUTOCOMMIT")

    def create(self, prefix: str = "promoforge_test") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        engine = self._admin()
        with engine.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        self.created.append(name)
        return make_url(self.server_url).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        for reset_engine in _RESET_ENGINES.values():
            reset_engine.dispose()
        _RESET_ENGINES.clear()
        engine = self._admin()
        with engine.connect() as connection:
            for name in self.created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()


def truncate_postgres(url: str) -> None:
    """Empty every table of the database at `url`, children first, in one transaction."""
    engine = _RESET_ENGINES.get(url)
    if engine is None:
        engine = create_engine(make_url(url).set(drivername="postgresql+psycopg"), pool_size=1)
        _RESET_ENGINES[url] = engine
    # DELETE of a few rows a table costs about a millisecond; TRUNCATE rewrites every relation (~70 ms).
    with engine.begin() as connection:
        for table in reversed(metadata.sorted_tables):
            connection.execute(table.delete())


def settings_for(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test: short leases and polls so recovery tests run fast."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "data_dir": tmp_path / "data",
        "job_lease_seconds": 2.0,
        "job_poll_seconds": 0.05,
    }
    values.update(overrides)
    return Settings(**values)


@dataclass
class StoreClient:
    """A store's credentials and an authenticated client."""

    client: TestClient
    store_id: str
    client_id: str
    client_secret: str
    token: str
    headers: dict[str, str] = field(default_factory=dict)

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Any:
        return self.request("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Any:
        return self.request("DELETE", path, **kwargs)

    def create_promotion(self, **overrides: Any) -> dict[str, Any]:
        response = self.post("/v2/promotions", json={"data": promotion_body(**overrides)})
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()["data"]
        return data

    def add_codes(self, promotion_id: str, *codes: str | dict[str, Any]) -> Any:
        items = [{"code": c} if isinstance(c, str) else c for c in codes]
        return self.post(
            f"/v2/promotions/{promotion_id}/codes", json={"data": {"type": "promotion_codes", "codes": items}}
        )

    def list_codes(self, promotion_id: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(f"/v2/promotions/{promotion_id}/codes", params=params)
        assert response.status_code == 200, response.text
        data: list[dict[str, Any]] = response.json()["data"]
        return data

    def create_job(self, promotion_id: str, job_type: str = "code_generate", **parameters: Any) -> Any:
        data: dict[str, Any] = {"type": "promotion_job", "job_type": job_type}
        if parameters:
            data["parameters"] = parameters
        return self.post(f"/v2/promotions/{promotion_id}/jobs", json={"data": data})

    def job(self, promotion_id: str, job_id: str) -> dict[str, Any]:
        response = self.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}")
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()["data"]
        return data


def promotion_body(**overrides: Any) -> dict[str, Any]:
    """A valid promotion document, with fields replaced by `overrides`."""
    body: dict[str, Any] = {
        "type": "promotion",
        "name": "Summer sale",
        "description": "$5 off the cart",
        "enabled": True,
        "automatic": False,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 500}]},
        "start": "2024-01-01",
        "end": "2099-12-31",
    }
    body.update(overrides)
    return body


def make_store(
    container: Container,
    client: TestClient,
    *,
    name: str = "shop",
    max_codes: int = 1000,
    grant: str = "client_credentials",
) -> StoreClient:
    """Create a store and get a token for it."""
    credentials = auth.create_store(
        container.db, name=name, max_codes_per_promotion=max_codes, now=container.clock()
    )
    form = {"grant_type": grant, "client_id": credentials.store.client_id}
    if grant == "client_credentials":
        form["client_secret"] = credentials.client_secret
    response = client.post("/oauth/access_token", data=form)
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return StoreClient(
        client=client,
        store_id=credentials.store.id,
        client_id=credentials.store.client_id,
        client_secret=credentials.client_secret,
        token=token,
        headers={"Authorization": f"Bearer {token}"},
    )


def promoforge_command() -> str:
    """The installed `promoforge` script next to this interpreter."""
    import sys

    return str(Path(sys.executable).with_name("promoforge"))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: Any) -> None:
    """Ask a server or worker process to stop (SIGTERM), killing it if it has not within 20 s."""
    process.terminate()
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


def clean_environment(**values: str) -> dict[str, str]:
    """The current environment without PROMOFORGE_* settings, plus `values`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMOFORGE_")}
    env.update(values)
    return env


def run_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `promoforge migrate` on a database; its output is captured as text."""
    return subprocess.run(
        [promoforge_command(), "migrate"],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def wait_for(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    """Poll `condition` every 50 ms until it holds; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@contextmanager
def running_server(
    database_url: str,
    log: Path,
    *,
    workers: int | None = None,
    options: Sequence[str] = (),
    **settings: str,
) -> Iterator[str]:
    """`promoforge serve` on a free port over `database_url`, with PROMOFORGE_* `settings` and more command
    line `options`; yields its base URL once it answers, stops it at the end and fails if it logged a
    traceback."""
    port = free_port()
    env = clean_environment(PROMOFORGE_DATABASE_URL=database_url, **settings)
    command = [promoforge_command(), "serve", "--port", str(port), *options]
    if workers is not None:
        command += ["--workers", str(workers)]
    with log.open("w") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    # One client for all the probes: a new one per probe costs CPU the starting workers need. The first
    # request of a worker builds the OpenAPI document, which takes a while on a busy machine.
    probe = httpx.Client(base_url=base, timeout=10)

    def answers() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            probe.get("/openapi.json")
        except httpx.TransportError:
            return False
        return True

    try:
        with probe:
            wait_for(answers)
        yield base
    finally:
        stop_process(process)
        assert "Traceback" not in log.read_text(), log.read_text()


def server_store(base: str, container: Container, *, name: str = "races", **settings: Any) -> dict[str, str]:
    """A new store with these settings (store columns, e.g. `code_attempts_per_cart`), and the headers of
    a client_credentials token for it from the server at `base`."""
    credentials = auth.create_store(container.db, name=name, now=container.clock())
    if settings:
        with container.db.write() as tx:
            tx.stores.update(credentials.store.id, **settings)
    form = {
        "grant_type": "client_credentials",
        "client_id": credentials.store.client_id,
        "client_secret": credentials.client_secret,
    }
    response = httpx.post(f"{base}/oauth/access_token", data=form)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def run_idle_hook_once(worker: Any, hook_type: type, timeout: float = 30.0) -> None:
    """Start `worker` with only its idle hook of `hook_type`, wait until that hook has run once, stop it."""
    (hook,) = [hook for hook in worker.idle_hooks if isinstance(hook, hook_type)]
    ran = threading.Event()

    class Signalling:
        def run_if_due(self) -> None:
            hook.run_if_due()
            ran.set()

    worker.idle_hooks = [Signalling()]
    worker.start()
    try:
        assert ran.wait(timeout), "the idle hook did not run"
    finally:
        worker.stop(10)


def put_product(shop: StoreClient, sku: str, amount: int, **attributes: Any) -> str:
    """A live product priced in USD; returns its id."""
    product_id = str(uuid.uuid4())
    meta = attributes.pop("meta", {})
    body = {
        "data": {
            "type": "product",
            "id": product_id,
            "attributes": {
                "sku": sku,
                "name": sku.title(),
                "status": attributes.pop("status", "live"),
                "price": attributes.pop("price", {"USD": {"amount": amount, "includes_tax": False}}),
                **attributes,
            },
            "meta": meta,
        }
    }
    response = shop.put(f"/v2/promoforge/products/{product_id}", json=body)
    assert response.status_code == 201, response.text
    return product_id


# One app per test process and per the settings an app is built with, rebound to each test's container:
# FastAPI builds its routes' state on an app's first request, a fifth of a second every test would pay.
_shared_apps: dict[tuple[int, bool], FastAPI] = {}


def app_over(container: Container) -> FastAPI:
    """An app without a worker of its own, serving from `container`."""
    key = (container.settings.max_body_bytes, container.settings.access_log)
    app = _shared_apps.get(key)
    if app is None:
        app = _shared_apps[key] = create_app(container)
    else:
        bind_container(app, container)
    return app
