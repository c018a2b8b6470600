"""A real `promoforge serve`: JSON logs without secrets, metrics that add up across processes."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
from prometheus_client.parser import text_string_to_metric_families

from support import clean_environment, free_port, promoforge_command, promotion_body, stop_process, wait_for

CUSTOMER_TOKEN_KEY = "customer-token-key-" + uuid.uuid4().hex
EMAIL = f"ada.{uuid.uuid4().hex[:8]}@example.org"
ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "line_1": f"{uuid.uuid4().hex[:6]} Analytical Engine Lane",
    "line_2": f"Flat {uuid.uuid4().hex[:4]}",
    "city": "Marylebone",
    "region": "Greater London",
    "postcode": "NW1 6XE",
    "country": "GB",
}
# Values that are personal but ordinary words (a city, a country code) may appear by chance anywhere.
SECRET_ADDRESS_FIELDS = ("line_1", "line_2", "postcode")
ACCESS_FIELDS = {
    "time",
    "level",
    "logger",
    "message",
    "request_id",
    "method",
    "route",
    "status",
    "duration_ms",
}


def promoforge(env: dict[str, str], *arguments: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [promoforge_command(), *arguments], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@contextmanager
def server(env: dict[str, str], log: Path, *options: str) -> Iterator[httpx.Client]:
    """`promoforge serve` with its stdout and stderr in `log`; a client once it is ready."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [promoforge_command(), "serve", "--port", str(port), *options],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:

            def ready() -> bool:
                assert process.poll() is None, log.read_text()
                try:
                    return client.get("/health/ready").status_code == 200
                except httpx.TransportError:
                    return False

            wait_for(ready, timeout=90)
            yield client
    finally:
        stop_process(process)


def token(client: httpx.Client, **form: str) -> str:
    response = client.post("/oauth/access_token", data=form)
    assert response.status_code == 200, response.text
    access_token: str = response.json()["access_token"]
    return access_token


def generate(client: httpx.Client, admin: dict[str, str], promotion_id: str, codes: int) -> None:
    """Queue a code_generate job of `codes` codes and wait until it completes."""
    body = {"type": "promotion_job", "job_type": "code_generate", "parameters": {"number_of_codes": codes}}
    job = client.post(f"/v2/promotions/{promotion_id}/jobs", json={"data": body}, headers=admin)
    assert job.status_code == 201, job.text
    wait_for_job(client, admin, promotion_id, job.json()["data"]["id"])


def wait_for_job(client: httpx.Client, admin: dict[str, str], promotion_id: str, job_id: str) -> None:
    def done() -> bool:
        job = client.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}", headers=admin).json()["data"]
        assert job["status"] not in ("failed", "cancelled"), job
        return bool(job["status"] == "completed")

    wait_for(done, timeout=60)


def run_scenario(client: httpx.Client, env: dict[str, str], data_dir: Path) -> list[str]:
    """Token, second store, promotion, codes, generation, cart, code, checkout; returns the secrets used."""
    credentials_file = data_dir / "default-store-credentials.json"
    assert stat.S_IMODE(credentials_file.stat().st_mode) == 0o600
    credentials = json.loads(credentials_file.read_text())
    admin_token = token(client, grant_type="client_credentials", **credentials)
    admin = {"Authorization": f"Bearer {admin_token}"}
    second = json.loads(promoforge(env, "stores", "create", "--name", "second").stdout)
    promoforge(env, "stores", "update", "--store", "default", "--customer-token-key", CUSTOMER_TOKEN_KEY)
    storefront_token = token(client, grant_type="implicit", client_id=credentials["client_id"])
    customer_token = jwt.encode(
        {"sub": "customer-7", "exp": int(time.time()) + 600}, CUSTOMER_TOKEN_KEY, algorithm="HS256"
    )
    shopper = {"Authorization": f"Bearer {storefront_token}", "X-Moltin-Customer-Token": customer_token}

    promotion = client.post("/v2/promotions", json={"data": promotion_body()}, headers=admin).json()["data"]
    codes = f"/v2/promotions/{promotion['id']}/codes"
    added = client.post(
        codes, json={"data": {"type": "promotion_codes", "codes": [{"code": "LOGSAFE7"}]}}, headers=admin
    )
    assert added.status_code == 201, added.text
    generate(client, admin, promotion["id"], 20)

    items = "/v2/carts/log-cart/items"
    line = {"type": "custom_item", "name": "Gear", "sku": "gear-1", "quantity": 2, "price": {"amount": 2500}}
    assert client.post(items, json={"data": line}, headers=shopper).status_code == 201
    applied = client.post(
        items, json={"data": {"type": "promotion_item", "code": "logsafe7"}}, headers=shopper
    )
    assert applied.status_code == 201, applied.text
    order = client.post(
        "/v2/carts/log-cart/checkout",
        json={
            "data": {
                "customer": {"name": "Ada Lovelace", "email": EMAIL},
                "billing_address": ADDRESS,
                "shipping_address": ADDRESS,
            }
        },
        headers=shopper,
    )
    assert order.status_code == 201, order.text
    assert order.json()["data"]["customer"]["email"] == EMAIL
    return [
        credentials["client_secret"],
        second["client_secret"],
        admin_token,
        storefront_token,
        customer_token,
        CUSTOMER_TOKEN_KEY,
        EMAIL,
        "LOGSAFE7",
        *(ADDRESS[field] for field in SECRET_ADDRESS_FIELDS),
    ]


@pytest.mark.slow
def test_json_logs_carry_requests_and_jobs_and_no_secret(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = clean_environment(
        PROMOFORGE_DATA_DIR=str(data_dir), PROMOFORGE_LOG_FORMAT="json", PROMOFORGE_JOB_POLL_SECONDS="0.05"
    )
    promoforge(env, "migrate")
    log = tmp_path / "serve.log"
    with server(env, log) as client:
        secrets = run_scenario(client, env, data_dir)
        traced = client.get("/health/live", headers={"X-Request-ID": "trace-me-42"})
        assert traced.headers["x-request-id"] == "trace-me-42"
        made = client.get("/health/live").headers["x-request-id"]
        assert len(made) == 32
    output = log.read_text()

    lines = [json.loads(line) for line in output.splitlines()]  # every line is one JSON object
    assert all({"time", "level", "logger", "message"} <= line.keys() for line in lines)
    for secret in secrets:
        assert secret not in output, f"a secret value reached the logs: {secret[:12]}..."
    access = [line for line in lines if line["logger"] == "promoforge.access"]
    assert all(line.keys() >= ACCESS_FIELDS for line in access)
    checkout_line = next(line for line in access if line["route"] == "/v2/carts/{cartID}/checkout")
    assert checkout_line["status"] == 201
    assert checkout_line["method"] == "POST"
    assert "store_id" in checkout_line
    assert any(line["request_id"] == "trace-me-42" for line in access)
    assert any(line["request_id"] == made for line in access)
    assert not any(line["logger"] == "uvicorn.access" for line in lines)
    job_lines = [line for line in lines if "job_id" in line]
    assert job_lines and all(line["job_type"] == "code_generate" for line in job_lines)
    assert any(line["logger"] == "uvicorn.error" for line in lines)  # uvicorn's own lines are JSON too


def samples(client: httpx.Client) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


@pytest.mark.slow
def test_metrics_add_up_the_api_processes_and_a_separate_worker(tmp_path: Path) -> None:
    data_dir = tmp_path / "var"
    env = clean_environment(PROMOFORGE_DATA_DIR=str(data_dir), PROMOFORGE_JOB_POLL_SECONDS="0.05")
    promoforge(env, "migrate")
    stale = data_dir / "metrics" / "counter_999999999.db"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"left by a process long gone")
    worker = subprocess.Popen(
        [promoforge_command(), "worker"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    log = tmp_path / "serve.log"
    try:
        with server(env, log, "--workers", "2", "--no-worker") as client:
            assert not stale.exists()
            output = log.read_text()
            client_id = output.split("client_id:")[1].split()[0]
            secret = output.split("client_secret:")[1].split()[0]
            admin_token = token(
                client, grant_type="client_credentials", client_id=client_id, client_secret=secret
            )
            admin = {"Authorization": f"Bearer {admin_token}"}
            promotion = client.post("/v2/promotions", json={"data": promotion_body()}, headers=admin).json()[
                "data"
            ]
            generate(client, admin, promotion["id"], 30)
            # Fresh connections, so that both API processes answer some of them.
            for _ in range(20):
                assert httpx.get(f"{client.base_url}/v2/promotions", headers=admin).status_code == 200
            scraped = samples(client)
            text = client.get("/metrics").text
    finally:
        stop_process(worker)
    # Counted in the worker process, seen through an API process.
    assert scraped[("promoforge_codes_generated_total", frozenset())] == 30
    listed = frozenset({("method", "GET"), ("route", "/v2/promotions"), ("status", "200")})
    assert scraped[("promoforge_http_requests_total", listed)] == 20
    done = frozenset({("job_type", "code_generate"), ("outcome", "completed")})
    assert scraped[("promoforge_job_runs_total", done)] == 1
    promtool = shutil.which("promtool")
    if promtool is not None:
        checked = subprocess.run(
            [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr


@pytest.mark.slow
def test_text_logs_have_one_access_line_a_request_naming_the_route_not_the_path(tmp_path: Path) -> None:
    env = clean_environment(PROMOFORGE_DATA_DIR=str(tmp_path / "var"))
    promoforge(env, "migrate")
    store = json.loads(promoforge(env, "stores", "create", "--name", "text-logs").stdout)
    log = tmp_path / "serve.log"
    with server(env, log) as client:
        storefront = token(client, grant_type="implicit", client_id=store["client_id"])
        headers = {"Authorization": f"Bearer {storefront}"}
        removed = client.delete("/v2/carts/CART-LOGSAFE/discounts/CODE-LOGSAFE-9", headers=headers)
        assert removed.status_code in (204, 404), removed.text
    output = log.read_text()
    assert "CODE-LOGSAFE-9" not in output and "CART-LOGSAFE" not in output
    access = [line for line in output.splitlines() if " promoforge.access: " in line]
    route = "/v2/carts/{cartID}/discounts/{promoCode}"
    assert any(f"DELETE {route} {removed.status_code} " in line and line.endswith(" ms") for line in access)
    assert not any("uvicorn.access" in line or '"DELETE ' in line for line in output.splitlines())
