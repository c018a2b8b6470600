"""The command line: stores, serve's first run, refusal on an unmigrated database."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from promoforge.cli import main
from support import clean_environment, free_port, promoforge_command, stop_process


@dataclass(frozen=True)
class CommandResult:
    """What a command printed and how it ended."""

    returncode: int
    stdout: str
    stderr: str


def cli(database_url: str, *args: str) -> CommandResult:
    """Run a command in this process: the same code as the console script, without starting Python again."""
    unset: dict[str, str | None] = {key: None for key in os.environ if key.startswith("PROMOFORGE_")}
    result = CliRunner().invoke(main, list(args), env={**unset, "PROMOFORGE_DATABASE_URL": database_url})
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return CommandResult(result.exit_code, result.stdout, result.stderr)


def console_script(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `promoforge` script in a process of its own."""
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
    result = console_script(f"sqlite:///{tmp_path / 'new.db'}", "stores", "list")
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


stop = stop_process


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


def test_keys_commands(empty_database_url: str) -> None:
    assert cli(empty_database_url, "migrate").returncode == 0
    first = json.loads(cli(empty_database_url, "keys", "list").stdout)
    assert first["source"] == "database"
    assert [key["signing"] for key in first["keys"]] == [True]
    assert "secret" not in json.dumps(first)
    rotated = cli(empty_database_url, "keys", "rotate")
    assert rotated.returncode == 0, rotated.stderr
    new_kid = json.loads(rotated.stdout)["rotated"]["kid"]
    listed = json.loads(cli(empty_database_url, "keys", "list").stdout)["keys"]
    assert [(key["kid"], key["signing"]) for key in listed] == [
        (new_kid, True),
        (first["keys"][0]["kid"], False),
    ]
    # The replaced key may still have valid tokens, so a plain retire keeps it.
    assert json.loads(cli(empty_database_url, "keys", "retire").stdout) == {"retired": []}
    retired = json.loads(cli(empty_database_url, "keys", "retire", "--keep", "1").stdout)["retired"]
    assert [key["kid"] for key in retired] == [first["keys"][0]["kid"]]
    assert cli(empty_database_url, "keys", "retire", "--keep", "0").returncode != 0

    env_keys = f"ops1:{'s' * 40}"
    outside = clean_environment(PROMOFORGE_DATABASE_URL=empty_database_url, PROMOFORGE_SIGNING_KEYS=env_keys)

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [promoforge_command(), *args],
            env=outside,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    refused = run("keys", "rotate")
    assert refused.returncode != 0
    assert "PROMOFORGE_SIGNING_KEYS" in refused.stderr and "rotate them there" in refused.stderr
    listing = json.loads(run("keys", "list").stdout)
    assert listing["source"] == "PROMOFORGE_SIGNING_KEYS"
    assert [key["kid"] for key in listing["keys"]] == ["ops1"]
    assert listing["keys_in_database"] == 1
    assert [key["kid"] for key in json.loads(run("keys", "retire").stdout)["retired"]] == [new_kid]
    assert json.loads(run("keys", "list").stdout)["keys_in_database"] == 0
    bad = subprocess.run(
        [promoforge_command(), "keys", "list"],
        env={**outside, "PROMOFORGE_SIGNING_KEYS": "ops1:short"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert bad.returncode != 0 and "at least 32" in bad.stderr


@pytest.mark.slow
def test_a_running_server_follows_keys_rotated_and_retired_from_the_command_line(tmp_path: Path) -> None:
    env = clean_environment(
        PROMOFORGE_DATA_DIR=str(tmp_path / "var"), PROMOFORGE_SIGNING_KEYS_REFRESH_SECONDS="0.2"
    )
    assert subprocess.run([promoforge_command(), "migrate"], env=env, check=False).returncode == 0
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = tmp_path / "serve.log"
    server = start_server(env, port, log)

    def token() -> str:
        response = httpx.post(
            f"{base_url}/oauth/access_token",
            data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
        )
        assert response.status_code == 200, response.text
        value: str = response.json()["access_token"]
        return value

    def status(value: str) -> int:
        return httpx.get(
            f"{base_url}/v2/promotions", headers={"Authorization": f"Bearer {value}"}
        ).status_code

    def keys(*args: str) -> dict[str, Any]:
        result = subprocess.run(
            [promoforge_command(), "keys", *args], env=env, capture_output=True, text=True, check=True
        )
        document: dict[str, Any] = json.loads(result.stdout)
        return document

    try:
        wait_until_serving(base_url, server, log)
        output = log.read_text()
        client_id = output.split("client_id:")[1].split()[0]
        secret = output.split("client_secret:")[1].split()[0]
        before = token()
        new_kid = keys("rotate")["rotated"]["kid"]
        deadline = time.monotonic() + 20
        while not token().startswith(f"{new_kid}.") and time.monotonic() < deadline:
            time.sleep(0.05)
        after = token()
        assert after.startswith(f"{new_kid}.")
        assert status(before) == 200
        keys("retire", "--keep", "1")
        while status(before) != 401 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert status(before) == 401
        assert status(after) == 200
    finally:
        stop(server)


def test_store_export_retention_option(empty_database_url: str) -> None:
    url = empty_database_url
    assert cli(url, "migrate").returncode == 0
    default = json.loads(cli(url, "stores", "create", "--name", "plain").stdout)
    assert default["export_retention_days"] == 7
    created = cli(url, "stores", "create", "--name", "brief", "--export-retention-days", "3")
    assert json.loads(created.stdout)["export_retention_days"] == 3
    updated = cli(url, "stores", "update", "--store", "brief", "--export-retention-days", "30")
    assert json.loads(updated.stdout)["export_retention_days"] == 30
    refused = cli(url, "stores", "update", "--store", "brief", "--export-retention-days", "0")
    assert refused.returncode != 0 and "export_retention_days" in refused.stderr
    too_long = cli(url, "stores", "create", "--name", "hoarder", "--export-retention-days", "3651")
    assert too_long.returncode != 0 and "export_retention_days" in too_long.stderr
    listed = {s["name"]: s["export_retention_days"] for s in json.loads(cli(url, "stores", "list").stdout)}
    assert listed == {"plain": 7, "brief": 30}


def test_store_cart_options(empty_database_url: str, tmp_path: Path) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    assert cli(empty_database_url, "migrate").returncode == 0
    cli(empty_database_url, "stores", "create", "--name", "north")
    defaults = json.loads(cli(empty_database_url, "stores", "list").stdout)[0]
    assert (defaults["default_currency"], defaults["cart_expiry_days"], defaults["customer_token_key"]) == (
        "USD",
        7,
        None,
    )
    changed = cli(
        empty_database_url,
        "stores",
        "update",
        "--default-currency",
        "eur",
        "--cart-expiry-days",
        "30",
        "--code-attempts-per-cart",
        "5",
        "--code-attempts-per-address",
        "50",
        "--customer-token-key",
        "a-shared-secret-of-at-least-32-bytes!",
    )
    assert changed.returncode == 0, changed.stderr
    document = json.loads(changed.stdout)
    assert (document["default_currency"], document["cart_expiry_days"]) == ("EUR", 30)
    assert (document["code_attempts_per_cart"], document["code_attempts_per_address"]) == (5, 50)
    assert document["customer_token_key"] == "set"  # never printed

    pem = tmp_path / "customers.pem"
    public = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem.write_bytes(
        public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    assert cli(empty_database_url, "stores", "update", "--customer-token-key", f"@{pem}").returncode == 0
    for bad in (
        ("--default-currency", "EURO"),
        ("--cart-expiry-days", "0"),
        ("--customer-token-key", "too-short"),
    ):
        refused = cli(empty_database_url, "stores", "update", *bad)
        assert refused.returncode != 0
        assert bad[0].strip("-").replace("-", "_") in refused.stderr, refused.stderr
    removed = cli(empty_database_url, "stores", "update", "--no-customer-token-key")
    assert json.loads(removed.stdout)["customer_token_key"] is None


def test_stores_update_sets_the_abuse_limits_and_the_expected_token_issuer_and_audience(
    empty_database_url: str,
) -> None:
    assert cli(empty_database_url, "migrate").returncode == 0
    cli(empty_database_url, "stores", "create", "--name", "north")
    defaults = json.loads(cli(empty_database_url, "stores", "list").stdout)[0]
    assert (
        defaults["code_attempts_per_store"],
        defaults["carts_per_customer_per_hour"],
        defaults["carts_per_address_per_hour"],
        defaults["customer_token_issuer"],
        defaults["customer_token_audience"],
    ) == (600, 100, 600, None, None)
    changed = cli(
        empty_database_url,
        "stores",
        "update",
        "--code-attempts-per-store",
        "120",
        "--carts-per-customer-per-hour",
        "20",
        "--carts-per-address-per-hour",
        "200",
        "--customer-token-issuer",
        "https://id.example.com",
        "--customer-token-audience",
        "shop-api",
    )
    assert changed.returncode == 0, changed.stderr
    document = json.loads(changed.stdout)
    assert (
        document["code_attempts_per_store"],
        document["carts_per_customer_per_hour"],
        document["carts_per_address_per_hour"],
        document["customer_token_issuer"],
        document["customer_token_audience"],
    ) == (120, 20, 200, "https://id.example.com", "shop-api")
    for bad in (("--code-attempts-per-store", "0"), ("--customer-token-issuer", " padded ")):
        refused = cli(empty_database_url, "stores", "update", *bad)
        assert refused.returncode != 0
        assert bad[0].strip("-").replace("-", "_") in refused.stderr, refused.stderr
    cleared = cli(empty_database_url, "stores", "update", "--customer-token-issuer", "")
    assert json.loads(cleared.stdout)["customer_token_issuer"] is None
