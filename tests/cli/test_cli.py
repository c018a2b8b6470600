"""The command line: stores, serve's first run, refusal on an unmigrated database."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from support import clean_environment, free_port, promoforge_command


def cli(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promoforge_command(), *args],
        env=clean_environment(PROMOFORGE_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def token_status(base_url: str, client_id: str, secret: str) -> int:
    return httpx.post(
        f"{base_url}/oauth/access_token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    ).status_code


def test_store_commands(empty_database_url: str) -> None:
    assert cli(empty_database_url, "migrate").returncode == 0
    created = cli(
        empty_database_url, "stores", "create", "--name", "north", "--max-codes-per-promotion", "5000"
    )
    assert created.returncode == 0, created.stderr
    store = json.loads(created.stdout)
    assert {"store_id", "client_id", "client_secret"} <= set(store)
    assert store["max_codes_per_promotion"] == 5000
    listed = json.loads(cli(empty_database_url, "stores", "list").stdout)
    assert [s["client_id"] for s in listed] == [store["client_id"]]
    assert "client_secret" not in listed[0]
    updated = cli(empty_database_url, "stores", "update", "--max-codes-per-promotion", "2000000")
    assert updated.returncode == 0, updated.stderr
    assert json.loads(updated.stdout)["max_codes_per_promotion"] == 2000000
    cli(empty_database_url, "stores", "create", "--name", "south")
    ambiguous = cli(empty_database_url, "stores", "update", "--name", "x")
    assert ambiguous.returncode != 0
    assert "--store" in ambiguous.stderr
    renamed = cli(empty_database_url, "stores", "update", "--store", "south", "--name", "west")
    assert json.loads(renamed.stdout)["name"] == "west"
    bad = cli(empty_database_url, "stores", "update", "--store", "west", "--max-codes-per-promotion", "0")
    assert bad.returncode != 0
    missing = cli(empty_database_url, "stores", "update", "--store", "nowhere", "--name", "x")
    assert missing.returncode != 0


def test_commands_refuse_an_unmigrated_database(tmp_path: Path) -> None:
    result = cli(f"sqlite:///{tmp_path / 'new.db'}", "stores", "list")
    assert result.returncode != 0
    assert "promoforge migrate" in result.stderr


def start_server(env: dict[str, str], port: int, log: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [promoforge_command(), "serve", "--port", str(port)],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_serving(base_url: str, process: subprocess.Popen[Any], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            httpx.get(f"{base_url}/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(log.read_text())


def stop(process: subprocess.Popen[Any]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(10)


@pytest.mark.slow
def test_serve_creates_the_default_store_once_and_rotation_revokes_the_old_secret(tmp_path: Path) -> None:
    env = clean_environment(PROMOFORGE_DATA_DIR=str(tmp_path / "var"))
    assert subprocess.run([promoforge_command(), "migrate"], env=env, check=False).returncode == 0
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    first_log = tmp_path / "first.log"
    server = start_server(env, port, first_log)
    try:
        wait_until_serving(base_url, server, first_log)
        output = first_log.read_text()
        client_id = output.split("client_id:")[1].split()[0]
        secret = output.split("client_secret:")[1].split()[0]
        assert token_status(base_url, client_id, secret) == 200
    finally:
        stop(server)
    assert (tmp_path / "var" / "promoforge.db").exists()
    second_log = tmp_path / "second.log"
    server = start_server(env, port, second_log)
    try:
        wait_until_serving(base_url, server, second_log)
        assert "client_secret" not in second_log.read_text()
        rotated = subprocess.run(
            [promoforge_command(), "stores", "update", "--rotate-secret"],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        new_secret = json.loads(rotated.stdout)["client_secret"]
        assert token_status(base_url, client_id, secret) == 401
        assert token_status(base_url, client_id, new_secret) == 200
    finally:
        stop(server)
