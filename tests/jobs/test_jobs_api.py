"""Jobs through the API: validation, one active job, listing, cancelling a pending job, file states."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from promoforge.bootstrap import Container
from support import StoreClient, TestClient, make_store


def job_count(shop: StoreClient, promotion_id: str) -> int:
    total: int = shop.get(f"/v2/promotions/{promotion_id}/jobs").json()["meta"]["results"]["total"]
    return total


def test_created_job_echoes_parameters_with_defaults(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    response = shop.post(
        f"/v2/promotions/{promotion['id']}/jobs",
        json={
            "data": {
                "type": "promotion_job",
                "job_type": "code_generate",
                "name": "Summer Sale Job",
                "parameters": {"number_of_codes": 100, "max_uses_per_code": 1, "code_prefix": "summer"},
            }
        },
    )
    assert response.status_code == 201
    job = response.json()["data"]
    assert job["type"] == "promotion_job"
    assert uuid.UUID(job["id"])
    assert job["promotion_id"] == promotion["id"]
    assert job["job_type"] == "code_generate"
    assert job["name"] == "Summer Sale Job"
    assert job["status"] == "pending"
    assert job["parameters"] == {
        "number_of_codes": 100,
        "max_uses_per_code": 1,
        "code_prefix": "summer",
        "consume_unit": "per_cart",
        "code_length": 8,
    }
    assert job["meta"]["progress"] == {"done": 0, "total": 100}


def test_bare_job_body_is_accepted(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    response = shop.post(
        f"/v2/promotions/{promotion['id']}/jobs", json={"type": "promotion_job", "job_type": "code_export"}
    )
    assert response.status_code == 201
    job = response.json()["data"]
    assert job["job_type"] == "code_export"
    assert "parameters" not in job and "result" not in job


@pytest.mark.parametrize(
    ("data", "status", "source"),
    [
        ({"type": "promotion_job", "job_type": "code_delete"}, 400, "data.job_type"),
        ({"type": "promotion_job", "job_type": "code_export", "name": "x" * 51}, 400, "data.name"),
        ({"type": "job", "job_type": "code_export"}, 400, "data.type"),
        ({"type": "promotion_job", "job_type": "code_generate"}, 400, "data.parameters"),
        ({"job_type": "code_generate", "parameters": {"number_of_codes": 1}}, 400, "data.type"),
        (
            {"type": "promotion_job", "job_type": "code_generate", "parameters": {"number_of_codes": 0}},
            400,
            "data.parameters.number_of_codes",
        ),
        (
            {"type": "promotion_job", "job_type": "code_generate", "parameters": {"number_of_codes": 1001}},
            422,
            "data.parameters.number_of_codes",
        ),
        (
            {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 5, "code_length": 7},
            },
            400,
            "data.parameters.code_length",
        ),
        (
            {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 5, "code_length": 17},
            },
            400,
            "data.parameters.code_length",
        ),
        (
            {"type": "promotion_job", "job_type": "code_generate", "parameters": {"number_of_codes": "5"}},
            400,
            "data.parameters.number_of_codes",
        ),
        (
            {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 5, "consume_unit": "per_order"},
            },
            400,
            "data.parameters.consume_unit",
        ),
        (
            {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 5, "code_prefix": "has space"},
            },
            400,
            "data.parameters.code_prefix",
        ),
        (
            {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 5, "max_uses_per_code": -1},
            },
            400,
            "data.parameters.max_uses_per_code",
        ),
    ],
)
def test_invalid_jobs_are_refused_and_create_nothing(
    shop: StoreClient, data: dict[str, Any], status: int, source: str
) -> None:
    promotion = shop.create_promotion()
    response = shop.post(f"/v2/promotions/{promotion['id']}/jobs", json={"data": data})
    assert response.status_code == status, response.text
    errors = response.json()["errors"]
    assert source in [e["source"] for e in errors]
    assert all(e["status"] == status for e in errors)
    assert job_count(shop, promotion["id"]) == 0


def test_number_of_codes_limit_follows_the_store_setting(
    container: Container, app_client: TestClient
) -> None:
    shop = make_store(container, app_client, max_codes=5000)
    promotion = shop.create_promotion()
    assert shop.create_job(promotion["id"], number_of_codes=5000).status_code == 201
    other = shop.create_promotion()
    assert shop.create_job(other["id"], number_of_codes=5001).status_code == 422


def test_second_active_job_is_too_many(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    assert shop.create_job(promotion["id"], number_of_codes=3).status_code == 201
    second = shop.create_job(promotion["id"], "code_export")
    assert second.status_code == 400
    assert second.json()["errors"] == [
        {
            "status": 400,
            "title": "Too many jobs",
            "code": "too_many_jobs",
            "detail": "Only 1 pending or processing job is allowed per promotion.",
        }
    ]
    other = shop.create_promotion()
    assert shop.create_job(other["id"], "code_export").status_code == 201
    run_jobs()
    assert shop.create_job(promotion["id"], "code_export").status_code == 201


def test_list_filters_by_type_and_status(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    shop.create_job(promotion["id"], number_of_codes=2)
    run_jobs()
    shop.create_job(promotion["id"], "code_export")
    path = f"/v2/promotions/{promotion['id']}/jobs"

    def listed(filter_text: str) -> list[str]:
        response = shop.get(path, params={"filter": filter_text})
        assert response.status_code == 200, response.text
        return [j["job_type"] + ":" + j["status"] for j in response.json()["data"]]

    assert listed("eq(job_type,code_generate)") == ["code_generate:completed"]
    assert listed("eq(job_type, code_export)") == ["code_export:pending"]
    assert listed("eq(status,complete)") == ["code_generate:completed"]
    assert listed("eq(status,pending):eq(job_type,code_export)") == ["code_export:pending"]
    all_jobs = shop.get(path).json()
    assert [j["job_type"] for j in all_jobs["data"]] == ["code_export", "code_generate"]
    assert shop.get(path, params={"filter": "eq(status,done)"}).status_code == 400
    assert shop.get(path, params={"filter": "eq(job_type,other)"}).status_code == 400
    assert shop.get(path, params={"filter": "eq(name,x)"}).status_code == 400


def test_cancel_pending_job(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=10).json()["data"]
    response = shop.post(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/cancel")
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "cancelling"
    assert shop.job(promotion["id"], job["id"])["status"] == "cancelled"
    assert run_jobs() == 0
    assert shop.list_codes(promotion["id"]) == []
    again = shop.post(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/cancel")
    assert again.status_code == 422
    assert again.json()["errors"][0]["detail"] == "Only pending or processing jobs can be cancelled."
    assert shop.create_job(promotion["id"], "code_export").status_code == 201


def test_completed_job_cannot_be_cancelled(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    job = shop.create_job(promotion["id"], number_of_codes=1).json()["data"]
    run_jobs()
    assert shop.post(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/cancel").status_code == 422


def test_file_only_for_completed_exports(shop: StoreClient, run_jobs: Any) -> None:
    promotion = shop.create_promotion()
    generate = shop.create_job(promotion["id"], number_of_codes=1).json()["data"]
    pending = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{generate['id']}/file")
    assert pending.status_code == 422
    assert pending.json()["errors"][0]["detail"] == "Job has no file to download. Job status: pending"
    run_jobs()
    done_generate = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{generate['id']}/file")
    assert done_generate.json()["errors"][0]["detail"] == "Job has no file to download. Job status: completed"
    export = shop.create_job(promotion["id"], "code_export").json()["data"]
    waiting = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{export['id']}/file")
    assert waiting.status_code == 422
    assert waiting.json()["errors"][0]["detail"].endswith("Job status: pending")
    run_jobs()
    ready = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{export['id']}/file")
    assert ready.status_code == 200
    assert list(ready.json()) == ["href"]


def test_jobs_of_unknown_promotion_or_job_are_404(shop: StoreClient) -> None:
    promotion = shop.create_promotion()
    missing = str(uuid.uuid4())
    assert shop.create_job(missing, "code_export").status_code == 404
    assert shop.get(f"/v2/promotions/{missing}/jobs").status_code == 404
    for suffix in ("", "/file"):
        assert shop.get(f"/v2/promotions/{promotion['id']}/jobs/{missing}{suffix}").status_code == 404
    assert shop.post(f"/v2/promotions/{promotion['id']}/jobs/{missing}/cancel").status_code == 404
    assert shop.post(f"/v2/promotions/{promotion['id']}/jobs/not-a-uuid/cancel").status_code == 404


def test_in_process_worker_starts_a_new_job_without_waiting_for_its_poll(container: Container) -> None:
    import time

    from promoforge.api.app import create_app

    container.settings.job_poll_seconds = 60
    with TestClient(create_app(container, run_worker=True)) as client:
        shop = make_store(container, client)
        promotion = shop.create_promotion()
        job = shop.create_job(promotion["id"], number_of_codes=20).json()["data"]
        deadline = time.monotonic() + 10
        while shop.job(promotion["id"], job["id"])["status"] != "completed":
            assert time.monotonic() < deadline, "the worker did not wake up for the new job"
            time.sleep(0.02)


def test_a_job_that_would_crowd_the_code_space_is_refused(
    shop: StoreClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from promoforge.domain import codes

    # Shrink the space so the rule can be reached: 31^8 holds far more codes than any store may have.
    monkeypatch.setattr(codes, "code_space_size", lambda length: 100 if length == 8 else 31**length)
    promotion = shop.create_promotion()
    shop.add_codes(promotion["id"], *[f"EXISTING{i}" for i in range(40)])
    refused = shop.create_job(promotion["id"], number_of_codes=11)
    assert refused.status_code == 422
    error = refused.json()["errors"][0]
    assert error["source"] == "data.parameters.code_length"
    assert error["code"] == "code_space_too_small"
    assert job_count(shop, promotion["id"]) == 0
    assert shop.create_job(promotion["id"], number_of_codes=10).status_code == 201
    other = shop.create_promotion()
    assert shop.create_job(other["id"], number_of_codes=11, code_length=9).status_code == 201
