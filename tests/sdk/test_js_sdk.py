"""The official Elastic Path JavaScript SDK drives a real server through its Promotions, cart, checkout,
Orders and Integrations calls."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SDK_DIR = Path(__file__).resolve().parent
SCRIPT = SDK_DIR / "promotions_sdk.mjs"
STARTUP_SECONDS = 15.0
STOP_SECONDS = 10.0
NODE_SECONDS = 60.0
SDK_CALLS = {
    "Attributes",
    "Create",
    "All",
    "Get",
    "Update",
    "Delete",
    "History",
    "AddCodes",
    "Codes",
    "DeleteCode",
    "DeleteCodes",
    "AddCodesJob",
    "PromotionJobs",
    "GetCodeExportFile",
}


@dataclass(frozen=True)
class RunningServer:
    """A `promoforge serve` subprocess and the credentials of its store."""

    host: str
    client_id: str
    client_secret: str
    log: Path
    data_dir: Path


def _promoforge() -> Path:
    """The promoforge console script of the interpreter running the tests."""
    script = Path(sys.executable).parent / "promoforge"
    assert script.exists(), f"{script} not found; install the package into this environment"
    return script


def _free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _server_env(data_dir: Path) -> dict[str, str]:
    """The environment without inherited PROMOFORGE_* settings, on a SQLite file in `data_dir`."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PROMOFORGE_")}
    env["PROMOFORGE_DATA_DIR"] = str(data_dir)
    env["PROMOFORGE_JOB_POLL_SECONDS"] = "0.1"
    return env


def _tail(path: Path, lines: int = 40) -> str:
    """The last lines of a log file."""
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _wait_until_listening(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Poll `url` until the server answers with any HTTP status, failing if it exits or takes too long."""
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer within {STARTUP_SECONDS} s:\n{_tail(log)}")
            time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process outlives the grace period."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


@pytest.fixture
def node() -> str:
    """The node executable, with the SDK installed from the lock file (skips without node)."""
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("node is not on PATH")
    # Test workers start SDK tests at once: one installs while the others wait for it.
    with (SDK_DIR / ".install.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (SDK_DIR / "node_modules" / "@elasticpath" / "js-sdk").is_dir():
            npm = shutil.which("npm")
            assert npm is not None, "node is installed but npm is not; cannot install the SDK"
            installed = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=SDK_DIR,
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            assert installed.returncode == 0, f"npm ci failed:\n{installed.stdout}\n{installed.stderr}"
    return executable


@pytest.fixture
def server(tmp_path: Path) -> Iterator[RunningServer]:
    """A migrated SQLite database, a new store and `promoforge serve` with its in-process job worker."""
    promoforge = _promoforge()
    env = _server_env(tmp_path / "data")
    migrated = subprocess.run(
        [str(promoforge), "migrate"], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert migrated.returncode == 0, migrated.stderr
    created = subprocess.run(
        [str(promoforge), "stores", "create", "--name", "sdk"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stderr
    store = json.loads(created.stdout)
    port = _free_port()
    log = tmp_path / "server.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(promoforge), "serve", "--port", str(port)],
            cwd=tmp_path,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_listening(process, f"http://127.0.0.1:{port}/v2/promotions", log)
        yield RunningServer(
            host=f"127.0.0.1:{port}",
            client_id=store["client_id"],
            client_secret=store["client_secret"],
            log=log,
            data_dir=tmp_path / "data",
        )
    finally:
        _stop(process)


@pytest.mark.slow
def test_js_sdk_promotions_endpoint(node: str, server: RunningServer) -> None:
    """Every Promotions call of @elasticpath/js-sdk succeeds against the server."""
    env = {
        **os.environ,
        "PROMOFORGE_SDK_HOST": server.host,
        "PROMOFORGE_SDK_CLIENT_ID": server.client_id,
        "PROMOFORGE_SDK_CLIENT_SECRET": server.client_secret,
        "PROMOFORGE_SDK_DEADLINE_SECONDS": "15",
    }
    run = subprocess.run(
        [node, str(SCRIPT)],
        cwd=SDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    report = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}\nserver log:\n{_tail(server.log)}"
    assert run.returncode == 0, report
    lines = [line for line in run.stdout.splitlines() if line.strip()]
    assert lines, report
    summary = json.loads(lines[-1])
    assert summary["ok"] is True, report
    exercised = {name.split(" ")[0].split(".")[0] for name in summary["calls"]}
    assert exercised >= SDK_CALLS, f"not exercised: {sorted(SDK_CALLS - exercised)}"


CART_CALLS = {
    "CreateCart",
    "UpdateCart",
    "AddProduct",
    "AddProducts",
    "AddPromotion",
    "RemovePromotion",
    "AddCustomItem",
    "BulkAdd",
    "Get",
    "Items",
    "UpdateItem",
    "UpdateItems",
    "RemoveItem",
    "RemoveAllItems",
    "Delete",
    "Merge",
}
SHOE_ID = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
SOCK_ID = "0f1e2d3c-4b5a-4968-8776-5a4b3c2d1e0f"
SOCK_SKU = "SOCK-MER-01"


def _admin(server: RunningServer, method: str, path: str, body: dict[str, object]) -> dict[str, object]:
    """One admin request with a client_credentials token; returns the parsed answer."""
    form = f"grant_type=client_credentials&client_id={server.client_id}&client_secret={server.client_secret}"
    token_request = urllib.request.Request(
        f"http://{server.host}/oauth/access_token",
        data=form.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with urllib.request.urlopen(token_request, timeout=10) as answer:
        token = json.loads(answer.read())["access_token"]
    request = urllib.request.Request(
        f"http://{server.host}{path}",
        data=json.dumps(body).encode(),
        method=method,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        parsed: dict[str, object] = json.loads(answer.read() or b"{}")
        return parsed


def _add_products(server: RunningServer) -> None:
    """The shoe (8999) and the socks (1299, SKU SOCK-MER-01), in USD."""
    _admin(server, "PUT", f"/v2/promoforge/products/{SHOE_ID}", _product(SHOE_ID, "SHOE-TR-01", "Shoe", 8999))
    _admin(server, "PUT", f"/v2/promoforge/products/{SOCK_ID}", _product(SOCK_ID, SOCK_SKU, "Socks", 1299))


def _add_promotion(
    server: RunningServer, code: str, rules: dict[str, object], uses: int | None = None
) -> str:
    """An enabled promotion with one code (`uses` of them, or unlimited); returns the promotion's id."""
    body = {
        "data": {
            "type": "promotion",
            "name": code,
            "description": code,
            "enabled": True,
            "automatic": False,
            "start": "2024-01-01",
            "end": "2099-01-01",
            **rules,
        }
    }
    created = _admin(server, "POST", "/v2/promotions", body)
    promotion_id: str = created["data"]["id"]  # type: ignore[index]
    entry: dict[str, object] = {"code": code} if uses is None else {"code": code, "uses": uses}
    codes = {"data": {"type": "promotion_codes", "codes": [entry]}}
    _admin(server, "POST", f"/v2/promotions/{promotion_id}/codes", codes)
    return promotion_id


def _product(product_id: str, sku: str, name: str, amount: int) -> dict[str, object]:
    return {
        "data": {
            "type": "product",
            "id": product_id,
            "attributes": {
                "sku": sku,
                "name": name,
                "slug": sku.lower(),
                "status": "live",
                "price": {"USD": {"amount": amount, "includes_tax": False}},
            },
        }
    }


@pytest.mark.slow
def test_js_sdk_cart_endpoint(node: str, server: RunningServer) -> None:
    """Every cart call of @elasticpath/js-sdk but checkout and orders succeeds against the server."""
    _add_products(server)
    promotions = [
        (
            "RUN15",
            {"promotion_type": "item_percent_discount", "schema": {"percent": 15, "targets": ["SHOE-TR-01"]}},
        ),
        (
            "SAVE10",
            {
                "promotion_type": "fixed_discount",
                "schema": {"currencies": [{"currency": "USD", "amount": 1000}]},
            },
        ),
    ]
    for code, rules in promotions:
        _add_promotion(server, code, rules)
    env = {
        **os.environ,
        "PROMOFORGE_SDK_HOST": server.host,
        "PROMOFORGE_SDK_CLIENT_ID": server.client_id,
        "PROMOFORGE_SDK_CLIENT_SECRET": server.client_secret,
        "PROMOFORGE_SDK_SHOE_ID": SHOE_ID,
        "PROMOFORGE_SDK_SOCK_SKU": SOCK_SKU,
    }
    run = subprocess.run(
        [node, str(SDK_DIR / "carts_sdk.mjs")],
        cwd=SDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    report = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}\nserver log:\n{_tail(server.log)}"
    assert run.returncode == 0, report
    summary = json.loads([line for line in run.stdout.splitlines() if line.strip()][-1])
    assert summary["ok"] is True, report
    exercised = {name.split(" ")[0] for name in summary["calls"]}
    assert exercised >= CART_CALLS, f"not exercised: {sorted(CART_CALLS - exercised)}"


ORDER_CALLS = {
    "Checkout",
    "CheckoutWithAccountManagementToken",
    "Orders.Get",
    "Orders.With(items).Get",
    "Orders.Items",
    "Orders.All",
    "Orders.Filter(status).All",
    "Orders.Update",
    "Orders.Sort(with_tax).All",
    "Orders.Sort(-with_tax).All",
    "Orders.Sort(created_at).All",
    "Orders.Sort(-created_at).All",
    "Orders.Sort(status).All",
    "BulkAdd",
    "Merge",
}
CUSTOMER_TOKEN_KEY = "sdk-orders-hs256-secret-of-32-bytes-or-more"


CUSTOMER_ID = "c8c1c511-beef-4812-9b7a-9f92c587217c"


def _token(**claims: str) -> str:
    """A customer or account management token as EP issues them: an HS256 JWT, for an hour."""
    import jwt

    return jwt.encode({**claims, "exp": int(time.time()) + 3600}, CUSTOMER_TOKEN_KEY, algorithm="HS256")


@pytest.mark.slow
def test_js_sdk_checkout_and_orders(node: str, server: RunningServer) -> None:
    """The SDK's checkout and Orders calls succeed against the server; a code's discount is consumed once."""
    keyed = subprocess.run(
        [str(_promoforge()), "stores", "update", "--customer-token-key", CUSTOMER_TOKEN_KEY],
        cwd=server.data_dir.parent,
        env=_server_env(server.data_dir),
        capture_output=True,
        text=True,
        check=False,
    )
    assert keyed.returncode == 0, keyed.stderr
    _add_products(server)
    save10 = {
        "promotion_type": "fixed_discount",
        "schema": {"currencies": [{"currency": "USD", "amount": 1000}]},
    }
    promotion_id = _add_promotion(server, "SAVE10", save10, uses=5)
    env = {
        **os.environ,
        "PROMOFORGE_SDK_HOST": server.host,
        "PROMOFORGE_SDK_CLIENT_ID": server.client_id,
        "PROMOFORGE_SDK_CLIENT_SECRET": server.client_secret,
        "PROMOFORGE_SDK_SHOE_ID": SHOE_ID,
        "PROMOFORGE_SDK_SOCK_SKU": SOCK_SKU,
        "PROMOFORGE_SDK_PROMOTION_ID": promotion_id,
        "PROMOFORGE_SDK_ACCOUNT_TOKEN": _token(sub="member-sdk", account_id="account-sdk"),
        "PROMOFORGE_SDK_CUSTOMER_TOKEN": _token(sub=CUSTOMER_ID),
        "PROMOFORGE_SDK_ACCOUNT_ID": "account-sdk",
        "PROMOFORGE_SDK_MEMBER_ID": "member-sdk",
    }
    run = subprocess.run(
        [node, str(SDK_DIR / "orders_sdk.mjs")],
        cwd=SDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    report = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}\nserver log:\n{_tail(server.log)}"
    assert run.returncode == 0, report
    summary = json.loads([line for line in run.stdout.splitlines() if line.strip()][-1])
    assert summary["ok"] is True, report
    exercised = {name.split(" ")[0] for name in summary["calls"]}
    assert exercised >= ORDER_CALLS, f"not exercised: {sorted(ORDER_CALLS - exercised)}"


INTEGRATION_CALLS = {
    "Create",
    "All",
    "Get",
    "Update",
    "Delete",
    "GetAllLogs",
    "GetLogs",
    "GetJobs",
    "GetAllLogsForJob",
}


@pytest.mark.slow
def test_js_sdk_integrations_endpoint(node: str, server: RunningServer) -> None:
    """Every Integrations call of @elasticpath/js-sdk succeeds against the server (integrations W1-W9)."""
    env = {
        **os.environ,
        "PROMOFORGE_SDK_HOST": server.host,
        "PROMOFORGE_SDK_CLIENT_ID": server.client_id,
        "PROMOFORGE_SDK_CLIENT_SECRET": server.client_secret,
        "PROMOFORGE_SDK_DEADLINE_SECONDS": "15",
    }
    run = subprocess.run(
        [node, str(SDK_DIR / "integrations_sdk.mjs")],
        cwd=SDK_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=NODE_SECONDS,
        check=False,
    )
    report = f"stdout:\n{run.stdout}\nstderr:\n{run.stderr}\nserver log:\n{_tail(server.log)}"
    assert run.returncode == 0, report
    summary = json.loads([line for line in run.stdout.splitlines() if line.strip()][-1])
    assert summary["ok"] is True, report
    exercised = {name.split(" ")[0] for name in summary["calls"]}
    assert exercised >= INTEGRATION_CALLS, f"not exercised: {sorted(INTEGRATION_CALLS - exercised)}"
    results = summary["results"]
    assert results["Create"]["status"] == 201 and results["Create"]["enabled"] is False
    assert results["Get"]["signing_secret"].startswith("whsec_****")
    assert results["GetJobs"]["triggered_by"] == "integration.updated"
    assert results["GetJobs"]["status"] == "pending"
    for name in ("GetAllLogs", "GetLogs", "GetAllLogsForJob"):
        assert results[name]["meta_limit"] == 100 and results[name]["total"] >= 1, results[name]
    assert results["GetLogs"]["succeeded"] is False and results["GetLogs"]["status_code"] == 0
    assert results["All (implicit token)"]["status"] == 403
    assert results["Delete"]["data"]["type"] == "integration"
    assert results["Get (deleted)"]["status"] == 404
