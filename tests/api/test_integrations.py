"""Integrations API (integrations spec W1-W9, X1, X4): wire shapes, validation texts, secrets, isolation,
and the `integration.*` events each change records in its own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from promoforge.bootstrap import Container, build
from promoforge.storage.schema import integration_events, integration_jobs, integrations, stores
from support import StoreClient, TestClient, app_over, make_store, settings_for

RECEIVER = "https://hooks.example.com/promoforge"
NOT_FOUND = "The resource could not be found"


def webhook(**overrides: Any) -> dict[str, Any]:
    """A W1 body for a webhook integration."""
    data: dict[str, Any] = {
        "type": "integration",
        "name": "Orders to ERP",
        "integration_type": "webhook",
        "observes": ["order.created"],
        "configuration": {"url": RECEIVER, "secret_key": "s3cr3t-shared-token"},
    }
    data.update(overrides)
    return {"data": data}


def create(shop: StoreClient, **overrides: Any) -> dict[str, Any]:
    response = shop.post("/v2/integrations", json=webhook(**overrides))
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()["data"]
    return data


def errors(response: Any, status: int = 422) -> list[dict[str, Any]]:
    assert response.status_code == status, response.text
    items: list[dict[str, Any]] = response.json()["errors"]
    return items


@pytest.fixture
def allowing(database_url: str, tmp_path: Path) -> Iterator[Container]:
    """A container whose operator allows private delivery targets."""
    built = build(settings_for(database_url, tmp_path, integrations_private_targets="allow"))
    yield built
    built.close()


def test_create_answers_201_with_defaults_and_the_signing_secret_shown_once(shop: StoreClient) -> None:
    created = create(shop)
    assert created["type"] == "integration"
    assert created["enabled"] is False
    assert created["description"] == ""
    assert created["observes"] == ["order.created"]
    configuration = created["configuration"]
    assert configuration["url"] == RECEIVER
    assert configuration["secret_key"] == "s3cr3t-shared-token"
    secret = configuration["signing_secret"]
    assert secret.startswith("whsec_") and "*" not in secret
    assert created["links"]["self"].endswith(f"/v2/integrations/{created['id']}")
    assert created["meta"]["delivery"]["pending_jobs"] == 0
    shown = shop.get(f"/v2/integrations/{created['id']}").json()["data"]
    masked = shown["configuration"]["signing_secret"]
    assert masked.startswith("whsec_*") and masked.endswith(secret[-4:]) and len(masked) == len(secret)
    assert shown["configuration"]["secret_key"] == "s3cr3t-shared-token"


def test_secrets_are_sealed_in_the_database(shop: StoreClient, container: Container) -> None:
    created = create(shop)
    with container.db.engine.connect() as connection:
        row = connection.execute(select(integrations).where(integrations.c.id == created["id"])).one()
    assert "secret_key" not in row.configuration and "signing_secret" not in row.configuration
    assert b"s3cr3t-shared-token" not in row.secrets
    assert created["configuration"]["signing_secret"].encode() not in row.secrets


@pytest.mark.parametrize(
    ("overrides", "source", "detail"),
    [
        (
            {"observes": ["order.created", "promotion.archived"]},
            "data.observes.1",
            "promotion.archived is not an observable event",
        ),
        (
            {
                "observes": [
                    "order.created",
                    "order.updated",
                    "order.cancelled",
                    "cart.updated",
                    "cart.deleted",
                    "promotion.created",
                ]
            },
            "data.observes",
            "You have reached the integration event limit of 5",
        ),
        (
            {"configuration": {"url": "https://127.0.0.1:9/hook"}},
            "data.configuration.url",
            "url resolves to a non-public address (127.0.0.1); add it to allowed_private_targets to use it",
        ),
    ],
)
def test_invalid_integrations_are_422_naming_the_field(
    shop: StoreClient, container: Container, overrides: dict[str, Any], source: str, detail: str
) -> None:
    problems = errors(shop.post("/v2/integrations", json=webhook(**overrides)))
    assert {
        "status": 422,
        "title": "Validation Error",
        "source": source,
        "detail": detail,
    }.items() <= problems[0].items()
    with container.db.engine.connect() as connection:
        assert connection.execute(select(integrations)).first() is None


def test_missing_fields_are_422_and_a_body_without_data_is_400(shop: StoreClient) -> None:
    problems = errors(shop.post("/v2/integrations", json={"data": {"type": "integration"}}))
    sources = {problem["source"] for problem in problems}
    assert {"data.name", "data.observes", "data.configuration"} <= sources
    errors(shop.post("/v2/integrations", json={"name": "x"}), 400)


def test_implicit_tokens_are_403_and_other_stores_ids_404(
    container: Container, app_client: TestClient, shop: StoreClient
) -> None:
    created = create(shop)
    storefront = make_store(container, app_client, name="storefront", grant="implicit")
    assert storefront.get("/v2/integrations").status_code == 403
    assert storefront.post("/v2/integrations", json=webhook()).status_code == 403
    other = make_store(container, app_client, name="other")
    for path in (
        f"/v2/integrations/{created['id']}",
        f"/v2/integrations/{created['id']}/logs",
        f"/v2/integrations/{created['id']}/jobs",
        "/v2/integrations/not-a-uuid",
        f"/v2/integrations/{uuid.uuid4()}",
    ):
        assert errors(other.get(path), 404)[0]["detail"] == NOT_FOUND
    assert other.delete(f"/v2/integrations/{created['id']}").status_code == 404
    assert shop.get(f"/v2/integrations/{created['id']}").status_code == 200


def test_list_has_the_envelope_and_filters(shop: StoreClient) -> None:
    first = create(shop, name="first", enabled=True)
    create(shop, name="second")
    listed = shop.get("/v2/integrations").json()
    assert [item["name"] for item in listed["data"]] == ["first", "second"]
    assert listed["results"] == {"total": 2} == listed["meta"]["results"]
    enabled = shop.get("/v2/integrations", params={"filter": "eq(enabled,true)"}).json()
    assert [item["id"] for item in enabled["data"]] == [first["id"]]
    assert shop.get("/v2/integrations", params={"filter": "eq(name,first)"}).status_code == 400


def test_update_merges_the_configuration_and_a_no_op_changes_nothing(shop: StoreClient) -> None:
    created = create(shop)
    path = f"/v2/integrations/{created['id']}"
    same = shop.put(path, json={"data": {"type": "integration", "name": "Orders to ERP"}})
    assert same.status_code == 200, same.text
    assert (
        same.json()["data"]["meta"]["timestamps"]["updated_at"] == created["meta"]["timestamps"]["updated_at"]
    )
    renamed = shop.put(
        path, json={"data": {"type": "integration", "name": "Renamed", "configuration": {"secret_key": None}}}
    )
    assert renamed.status_code == 200, renamed.text
    data = renamed.json()["data"]
    assert data["name"] == "Renamed"
    assert data["configuration"]["url"] == RECEIVER
    assert "secret_key" not in data["configuration"]
    assert (
        data["configuration"]["signing_secret"]
        == shop.get(path).json()["data"]["configuration"]["signing_secret"]
    )


def test_delete_answers_200_naming_it_and_removes_it(shop: StoreClient) -> None:
    created = create(shop)
    deleted = shop.delete(f"/v2/integrations/{created['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"data": {"type": "integration", "id": created["id"]}}
    assert shop.get(f"/v2/integrations/{created['id']}").status_code == 404


def test_an_integration_observing_its_own_creation_gets_the_event_and_the_store_knows(
    shop: StoreClient, container: Container
) -> None:
    quiet = create(shop, name="quiet", enabled=True, observes=["integration.created"])
    assert quiet["meta"]["delivery"]["pending_jobs"] == 1  # its own creation, waiting for delivery
    with container.db.engine.connect() as connection:
        observed = connection.execute(
            select(stores.c.observed_events).where(stores.c.id == shop.store_id)
        ).scalar_one()
        assert observed == ["integration.created"]
    jobs = shop.get(f"/v2/integrations/{quiet['id']}/jobs").json()
    assert [job["triggered_by"] for job in jobs["data"]] == ["integration.created"]
    assert jobs["meta"]["limit"] == 100 and jobs["results"] == {"total": 1}
    job = jobs["data"][0]
    assert job["type"] == "integration-job" and job["status"] == "pending" and job["attempts"] == 0
    # The second creation is delivered to the first, with every secret masked in the payload.
    create(shop, name="loud")
    with container.db.engine.connect() as connection:
        payloads = connection.execute(select(integration_events.c.payload)).scalars().all()
    assert len(payloads) == 2
    assert "s3cr3t-shared-token" not in payloads[1] and "whsec_" in payloads[1]


def test_disabling_cancels_pending_jobs_and_refused_changes_record_nothing(
    shop: StoreClient, container: Container
) -> None:
    created = create(shop, enabled=True, observes=["integration.updated"])
    path = f"/v2/integrations/{created['id']}"
    errors(shop.put(path, json={"data": {"type": "integration", "observes": ["nope.created"]}}))
    with container.db.engine.connect() as connection:
        assert connection.execute(select(integration_jobs)).first() is None
    assert shop.put(path, json={"data": {"type": "integration", "name": "again"}}).status_code == 200
    assert shop.put(path, json={"data": {"type": "integration", "enabled": False}}).status_code == 200
    statuses = [job["status"] for job in shop.get(f"{path}/jobs").json()["data"]]
    assert statuses == ["cancelled"]


def test_rotation_shows_the_new_secret_once_and_keeps_the_old_one_a_day(shop: StoreClient) -> None:
    created = create(shop)
    rotated = shop.post(f"/v2/promoforge/integrations/{created['id']}/signing-secret")
    assert rotated.status_code == 201, rotated.text
    data = rotated.json()["data"]
    assert data["type"] == "integration_signing_secret"
    assert data["signing_secret"].startswith("whsec_")
    assert data["signing_secret"] != created["configuration"]["signing_secret"]
    until = datetime.fromisoformat(data["previous_secret_valid_until"].replace("Z", "+00:00"))
    created_at = datetime.fromisoformat(created["meta"]["timestamps"]["created_at"].replace("Z", "+00:00"))
    assert timedelta(hours=23) < until - created_at < timedelta(hours=25)
    shown = shop.get(f"/v2/integrations/{created['id']}").json()["data"]["configuration"]["signing_secret"]
    assert shown.endswith(data["signing_secret"][-4:]) and "*" in shown


def test_logs_and_jobs_lists_page_by_100(shop: StoreClient) -> None:
    created = create(shop)
    for path in (
        "/v2/integrations/logs",
        f"/v2/integrations/{created['id']}/logs",
        f"/v2/integrations/{created['id']}/jobs",
        f"/v2/integrations/{created['id']}/jobs/{uuid.uuid4()}/logs",
    ):
        response = shop.get(path)
        if path.count("/jobs/"):
            assert errors(response, 404)[0]["detail"] == NOT_FOUND
            continue
        document = response.json()
        assert response.status_code == 200, response.text
        assert document["data"] == []
        assert document["meta"]["limit"] == 100 and document["meta"]["page"]["limit"] == 100
        assert document["results"] == {"total": 0}


def test_private_targets_need_the_operator_switch(shop: StoreClient) -> None:
    body = {"data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32"]}}
    problems = errors(shop.put("/v2/promoforge/settings/integrations", json=body))
    assert problems[0]["detail"] == "Private delivery targets are disabled on this server"
    shown = shop.get("/v2/promoforge/settings/integrations").json()["data"]
    assert shown["allowed_private_targets"] == []
    assert shown["max_observes_per_integration"] == 5 and shown["max_integrations"] == 100
    assert shown["meta"] == {"private_targets_enabled_on_server": False}


def test_an_allow_listed_loopback_receiver_may_use_http(allowing: Container) -> None:
    with TestClient(app_over(allowing)) as client:
        shop = make_store(allowing, client)
        body = {
            "data": {"type": "integration_settings", "allowed_private_targets": ["127.0.0.1/32", "localhost"]}
        }
        assert shop.put("/v2/promoforge/settings/integrations", json=body).status_code == 200
        created = create(shop, configuration={"url": "http://127.0.0.1:8123/hook"})
        assert created["configuration"]["url"] == "http://127.0.0.1:8123/hook"
        problems = errors(
            shop.post("/v2/integrations", json=webhook(configuration={"url": "http://10.0.0.7/hook"}))
        )
        assert problems[0]["source"] == "data.configuration.url"
