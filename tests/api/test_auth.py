"""Tokens: grants, expiry, bad credentials, storefront tokens."""

from __future__ import annotations

from datetime import timedelta

import pytest

from promoforge.bootstrap import Container
from promoforge.services.auth import Grant, Principal
from support import StoreClient, TestClient, make_store


def test_client_credentials_token_has_ep_fields(container: Container, app_client: TestClient) -> None:
    shop = make_store(container, app_client)
    response = app_client.post(
        "/oauth/access_token",
        data={
            "grant_type": "client_credentials",
            "client_id": shop.client_id,
            "client_secret": shop.client_secret,
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "expires", "identifier"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["identifier"] == "client_credentials"
    assert abs(body["expires"] - (container.clock().timestamp() + 3600)) < 60
    assert response.headers["cache-control"] == "no-store"


def test_wrong_secret_unknown_client_and_missing_fields(container: Container, app_client: TestClient) -> None:
    shop = make_store(container, app_client)
    wrong = app_client.post(
        "/oauth/access_token",
        data={"grant_type": "client_credentials", "client_id": shop.client_id, "client_secret": "nope"},
    )
    assert wrong.status_code == 401
    assert wrong.json()["errors"][0]["status"] == 401
    unknown = app_client.post("/oauth/access_token", data={"grant_type": "implicit", "client_id": "who"})
    assert unknown.status_code == 401
    missing = app_client.post("/oauth/access_token", data={"client_id": shop.client_id})
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["source"] == "grant_type"
    no_secret = app_client.post(
        "/oauth/access_token", data={"grant_type": "client_credentials", "client_id": shop.client_id}
    )
    assert no_secret.status_code == 400
    assert no_secret.json()["errors"][0]["source"] == "client_secret"
    bad_grant = app_client.post(
        "/oauth/access_token", data={"grant_type": "password", "client_id": shop.client_id}
    )
    assert bad_grant.status_code == 400
    assert bad_grant.json()["errors"][0]["source"] == "grant_type"


def test_implicit_token_has_no_access_to_promotions(container: Container, app_client: TestClient) -> None:
    storefront = make_store(container, app_client, grant="implicit")
    response = storefront.get("/v2/promotions")
    assert response.status_code == 403
    assert response.json()["errors"][0]["title"] == "Forbidden"
    assert storefront.post("/v2/promotions", json={"data": {}}).status_code == 403


@pytest.mark.parametrize(
    "header", [None, "Bearer", "Bearer ", "Basic abc", "Bearer not-a-token", "Bearer .eJxxxx.yyyy"]
)
def test_missing_or_invalid_token_is_401(app_client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header is not None else {}
    response = app_client.get("/v2/promotions", headers=headers)
    assert response.status_code == 401
    error = response.json()["errors"][0]
    assert error["status"] == 401
    assert error["title"] == "Unauthorized"


def test_tampered_token_is_401(shop: StoreClient) -> None:
    payload, signature = shop.token.rsplit(".", 1)
    tampered = payload + "." + ("A" if signature[0] != "A" else "B") + signature[1:]
    response = shop.get("/v2/promotions", headers={"Authorization": f"Bearer {tampered}"})
    assert response.status_code == 401


def test_expired_token_is_401(container: Container, shop: StoreClient) -> None:
    principal = Principal(store_id=shop.store_id, grant=Grant.CLIENT_CREDENTIALS, client_id=shop.client_id)
    expired = container.tokens.issue(
        principal, now=container.clock() - timedelta(seconds=3601), ttl_seconds=3600
    )
    response = shop.get("/v2/promotions", headers={"Authorization": f"Bearer {expired.access_token}"})
    assert response.status_code == 401
    assert "expired" in response.json()["errors"][0]["detail"]
    fresh = container.tokens.issue(
        principal, now=container.clock() - timedelta(seconds=3500), ttl_seconds=3600
    )
    assert (
        shop.get("/v2/promotions", headers={"Authorization": f"Bearer {fresh.access_token}"}).status_code
        == 200
    )


def test_secrets_are_not_stored_in_plain_text(container: Container, shop: StoreClient) -> None:
    with container.db.read() as repos:
        store = repos.stores.get(shop.store_id)
    assert store is not None
    assert shop.client_secret not in store.client_secret_hash
    assert store.client_secret_hash.startswith("sha256$")
