"""`promoforge serve` over real sockets: several API processes answer as fast as one; codes in URLs."""

from __future__ import annotations

import socket
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from support import clean_environment, free_port, promoforge_command, promotion_body, stop_process

KEEP_ALIVE_REQUESTS = 30
# A connection without TCP_NODELAY waits on the client's delayed ACK: about 40 ms a request on Linux.
MEDIAN_LIMIT_SECONDS = 0.020


def wait_until_serving(client: httpx.Client, process: subprocess.Popen[str], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            client.get("/openapi.json", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    pytest.fail(log.read_text())


@contextmanager
def served(tmp_path: Path, *options: str) -> Iterator[httpx.Client]:
    """`promoforge serve` on a new database and a free port; a keep-alive client with an admin token."""
    env = clean_environment(PROMOFORGE_DATA_DIR=str(tmp_path / "var"))
    assert subprocess.run([promoforge_command(), "migrate"], env=env, check=False).returncode == 0
    port = free_port()
    log = tmp_path / "serve.log"
    server = subprocess.Popen(
        [promoforge_command(), "serve", "--port", str(port), "--no-worker", *options],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:
            wait_until_serving(client, server, log)
            output = log.read_text()
            client_id = output.split("client_id:")[1].split()[0]
            secret = output.split("client_secret:")[1].split()[0]
            token = client.post(
                "/oauth/access_token",
                data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
            ).json()["access_token"]
            client.headers["Authorization"] = f"Bearer {token}"
            yield client
    finally:
        stop_process(server)


@pytest.mark.slow
def test_two_workers_answer_keep_alive_requests_without_delay(tmp_path: Path) -> None:
    with served(tmp_path, "--workers", "2") as client:
        durations = []
        for _ in range(KEEP_ALIVE_REQUESTS):
            started = time.perf_counter()
            response = client.get("/v2/promotions/attributes")
            durations.append(time.perf_counter() - started)
            assert response.status_code == 200, response.text
    median = statistics.median(durations)
    print(f"serve --workers 2: median {median * 1000:.1f} ms over {KEEP_ALIVE_REQUESTS} keep-alive requests")
    assert median < MEDIAN_LIMIT_SECONDS, f"median {median * 1000:.1f} ms over {KEEP_ALIVE_REQUESTS} requests"


@pytest.mark.slow
def test_a_code_with_a_slash_is_deleted_through_the_server(tmp_path: Path) -> None:
    with served(tmp_path) as client:
        promotion = client.post("/v2/promotions", json={"data": promotion_body()}).json()["data"]
        codes = f"/v2/promotions/{promotion['id']}/codes"
        added = client.post(
            codes, json={"data": {"type": "promotion_codes", "codes": [{"code": "a/b"}, {"code": "b"}]}}
        )
        assert added.status_code == 201, added.text
        assert client.delete(f"{codes}/a/b").status_code == 404
        assert client.delete(f"{codes}/{quote('a/b', safe='')}").status_code == 204
        assert [c["code"] for c in client.get(codes).json()["data"]] == ["b"]
        refused = client.post(codes, json={"data": {"type": "promotion_codes", "codes": [{"code": ".."}]}})
        assert refused.status_code == 400
        assert client.get(f"/v2/promotions/{promotion['id']}").status_code == 200


@pytest.mark.slow
def test_a_client_that_goes_away_mid_body_leaves_one_quiet_line(tmp_path: Path) -> None:
    with served(tmp_path) as client:
        port = client.base_url.port
        assert port is not None
        with socket.create_connection(("127.0.0.1", port)) as raw:
            authorization = client.headers["Authorization"].encode()
            raw.sendall(
                b"POST /v2/promotions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: " + authorization + b"\r\n"
                b'Content-Length: 900\r\n\r\n{"data": {"na'
            )
        log = tmp_path / "serve.log"
        deadline = time.monotonic() + 30
        while "went away" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/v2/promotions/attributes").status_code == 200
    output = log.read_text()
    assert "client went away before sending its whole request: POST /v2/promotions" in output
    assert "Traceback" not in output
    assert " ERROR " not in output
