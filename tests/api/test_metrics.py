"""GET /metrics: the Prometheus text format, read back with the library's own parser as a scenario runs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from checkout_support import checkout, code_promotion, custom_item, fill
from promoforge.bootstrap import Container, build
from support import StoreClient, TestClient, app_over, settings_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(client: TestClient, **headers: str) -> Samples:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def add_code(shop: StoreClient, cart_id: str, code: str) -> Any:
    return shop.post(f"/v2/carts/{cart_id}/items", json={"data": {"type": "promotion_item", "code": code}})


@pytest.mark.both_backends
def test_checkouts_codes_and_requests_move_their_counters(shop: StoreClient, app_client: TestClient) -> None:
    code_promotion(shop, {"code": "TWICE", "uses": 2})
    fill(shop, "cart-1", custom_item("a", 1500))
    before = scrape(app_client)

    assert add_code(shop, "cart-1", "NOT-A-CODE").status_code == 404
    assert add_code(shop, "cart-1", "twice").status_code == 201
    assert checkout(shop, "cart-1", headers={"Idempotency-Key": "k1"}).status_code == 201
    assert checkout(shop, "cart-1", headers={"Idempotency-Key": "k1"}).status_code == 201
    after = scrape(app_client)

    assert moved(before, after, "promoforge_code_applications_total", outcome="refused") == 1
    assert moved(before, after, "promoforge_code_applications_total", outcome="applied") == 1
    assert moved(before, after, "promoforge_code_applications_total", outcome="throttled") == 0
    assert moved(before, after, "promoforge_checkouts_total", outcome="ordered") == 1
    assert moved(before, after, "promoforge_checkouts_total", outcome="repeated") == 1
    assert moved(before, after, "promoforge_code_uses_consumed_total") == 1
    items = {"method": "POST", "route": "/v2/carts/{cartID}/items"}
    assert moved(before, after, "promoforge_http_requests_total", status="404", **items) == 1
    assert moved(before, after, "promoforge_http_requests_total", status="201", **items) == 1
    assert moved(before, after, "promoforge_http_request_duration_seconds_count", **items) == 2
    # Raw paths never become labels: the cart's id appears in none.
    assert not any("cart-1" in dict(labels).get("route", "") for _, labels in after)
    assert value(after, "promoforge_db_pool_size") > 0


@pytest.mark.both_backends
def test_a_bulk_add_counts_each_code_and_throttling_counts_as_throttled(
    container: Container, shop: StoreClient, app_client: TestClient
) -> None:
    code_promotion(shop, {"code": "GOOD"})
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, code_attempts_per_cart=2)
    fill(shop, "bulk", custom_item("a", 1500))
    before = scrape(app_client)
    codes = [{"type": "promotion_item", "code": code} for code in ("GOOD", "BAD-1", "BAD-2")]
    response = shop.post("/v2/carts/bulk/items", json={"data": codes})
    assert response.status_code == 201, response.text
    # Two attempts a minute: GOOD gives its attempt back, BAD-1 keeps one, BAD-2 finds none left.
    assert [error["status"] for error in response.json()["errors"]] == [404, 429]
    assert add_code(shop, "bulk", "BAD-3").status_code == 404
    assert add_code(shop, "bulk", "BAD-4").status_code == 429
    after = scrape(app_client)

    assert moved(before, after, "promoforge_code_applications_total", outcome="applied") == 1
    assert moved(before, after, "promoforge_code_applications_total", outcome="refused") == 2
    assert moved(before, after, "promoforge_code_applications_total", outcome="throttled") == 2


@pytest.mark.both_backends
def test_jobs_move_the_queue_and_the_code_counters(
    shop: StoreClient, app_client: TestClient, run_jobs: Any
) -> None:
    promotion = shop.create_promotion()
    before = scrape(app_client)
    assert shop.create_job(promotion["id"], number_of_codes=25).status_code == 201
    queued = scrape(app_client)
    assert value(queued, "promoforge_job_queue_depth", job_type="code_generate") == 1
    assert value(queued, "promoforge_job_queue_age_seconds", job_type="code_generate") >= 0
    assert value(queued, "promoforge_job_queue_depth", job_type="code_export") == 0

    assert run_jobs() == 1
    assert shop.create_job(promotion["id"], "code_export").status_code == 201
    assert run_jobs() == 1
    after = scrape(app_client)

    assert value(after, "promoforge_job_queue_depth", job_type="code_generate") == 0
    assert moved(before, after, "promoforge_codes_generated_total") == 25
    assert moved(before, after, "promoforge_codes_exported_total") == 25
    done = {"outcome": "completed"}
    assert moved(before, after, "promoforge_job_runs_total", job_type="code_generate", **done) == 1
    assert moved(before, after, "promoforge_job_runs_total", job_type="code_export", **done) == 1
    assert moved(before, after, "promoforge_job_run_duration_seconds_count", job_type="code_export") == 1


def test_a_configured_token_guards_the_metrics(database_url: str, tmp_path: Path) -> None:
    container = build(settings_for(database_url, tmp_path, metrics_token="scrape-me"))
    try:
        with TestClient(app_over(container)) as client:
            for headers in ({}, {"Authorization": "Bearer wrong"}):
                refused = client.get("/metrics", headers=headers)
                assert refused.status_code == 401
                assert refused.json()["errors"][0]["status"] == 401
            assert scrape(client, Authorization="Bearer scrape-me")
    finally:
        container.close()


def test_promtool_accepts_the_exposition(shop: StoreClient, app_client: TestClient, tmp_path: Path) -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.skip("promtool is not installed (Debian package prometheus; .ci/run installs it)")
    fill(shop, "linted", custom_item("a", 1500))
    text = app_client.get("/metrics").text
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
