"""Signing keys: SHA-256 signatures, rotation without logging anyone out, retirement, keys kept outside
the database."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import Signer, URLSafeSerializer
from sqlalchemy import func, select

from promoforge.api.app import create_app
from promoforge.bootstrap import Container, build
from promoforge.config import Settings
from promoforge.domain.errors import InvalidInput
from promoforge.jobs.worker import Worker
from promoforge.services import signing_keys
from promoforge.services.auth import TOKEN_SALT
from promoforge.services.jobs import LINK_SALT
from promoforge.storage.schema import service_keys
from support import StoreClient, TestClient, app_over, make_store, settings_for

pytestmark = pytest.mark.both_backends


def status_with(client: TestClient, token: str) -> int:
    status: int = client.get("/v2/promotions", headers={"Authorization": f"Bearer {token}"}).status_code
    return status


def claims(shop: StoreClient, container: Container, kid: str | None = None) -> dict[str, Any]:
    document: dict[str, Any] = {
        "s": shop.store_id,
        "g": "client_credentials",
        "c": shop.client_id,
        "e": int(container.clock().timestamp()) + 3600,
    }
    if kid is not None:
        document["k"] = kid
    return document


def stored_key_count(container: Container) -> int:
    with container.db.read() as repos:
        return int(repos.connection.execute(select(func.count()).select_from(service_keys)).scalar_one())


@pytest.fixture
def second_process(container: Container, tmp_path: Path) -> Iterator[Container]:
    """Another process on the same database: its own container (and key ring), re-reading keys at once."""
    other = build(
        settings_for(container.settings.database_url or "", tmp_path, signing_keys_refresh_seconds=1e-9)
    )
    yield other
    other.close()


def test_sha1_tokens_and_links_no_longer_verify(container: Container, shop: StoreClient) -> None:
    key = container.keys.signing_key()
    sha1 = URLSafeSerializer(key.secret, salt=TOKEN_SALT)
    sha256 = URLSafeSerializer(key.secret, salt=TOKEN_SALT, signer_kwargs={"digest_method": hashlib.sha256})
    assert status_with(shop.client, sha1.dumps(claims(shop, container))) == 401
    assert status_with(shop.client, f"{key.kid}.{sha1.dumps(claims(shop, container, key.kid))}") == 401
    # The same claims signed with SHA-256 are a valid token: the digest alone made the difference.
    assert status_with(shop.client, f"{key.kid}.{sha256.dumps(claims(shop, container, key.kid))}") == 200

    path = f"/v2/files/{shop.store_id}/p/j_codes.csv"
    expires = int(container.clock().timestamp()) + 3600
    old_link = Signer(key.secret, salt=LINK_SALT, sep=".").sign(f"{path}|{expires}".encode())
    old_signature = old_link.rsplit(b".", 1)[1].decode()
    assert not container.links.valid(path, expires, old_signature)
    assert not container.links.valid(path, expires, f"{key.kid}.{old_signature}")
    assert container.links.valid(path, expires, container.links.sign(path, expires))


def test_tokens_carry_the_key_id_and_a_swapped_one_fails(
    container: Container, shop: StoreClient, second_process: Container
) -> None:
    first = container.keys.signing_key()
    assert shop.token.startswith(f"{first.kid}.")
    signing_keys.rotate_keys(container.settings, container.db, now=container.clock())
    second = second_process.keys.signing_key()
    assert second.kid != first.kid
    # The payload and signature made with one key, presented under the other key's id.
    swapped = f"{second.kid}.{shop.token.partition('.')[2]}"
    assert status_with(shop.client, swapped) == 401
    assert status_with(shop.client, f"nosuchkid.{shop.token.partition('.')[2]}") == 401
    assert status_with(shop.client, shop.token) == 200


def test_rotation_keeps_old_tokens_and_retirement_ends_them(
    container: Container, app_client: TestClient, shop: StoreClient, second_process: Container
) -> None:
    before = shop.token
    rotated = signing_keys.rotate_keys(container.settings, container.db, now=container.clock())
    with TestClient(create_app(second_process)) as other_client:
        other = make_store(second_process, other_client, name="other")
        # The other process signs with the new key; this one verifies it without a restart.
        assert other.token.startswith(f"{rotated.kid}.")
        assert status_with(app_client, other.token) == 200
        assert status_with(app_client, before) == 200
        assert status_with(other_client, before) == 200

        now = container.clock()
        assert signing_keys.retire_keys(container.settings, container.db, now=now) == []
        # Retired once no token or link signed before the rotation can still be valid.
        later = now + timedelta(seconds=3600 + 60 + 1)
        retired = signing_keys.retire_keys(container.settings, container.db, now=later)
        assert [key.kid for key in retired] == [before.partition(".")[0]]
        assert status_with(other_client, before) == 401
        assert status_with(other_client, other.token) == 200
    container.keys.reload()  # what each process does every signing_keys_refresh_seconds
    assert status_with(app_client, before) == 401
    assert status_with(app_client, other.token) == 200


def test_retire_keep_and_refusals(container: Container) -> None:
    for _ in range(3):
        signing_keys.rotate_keys(container.settings, container.db, now=container.clock())
    listing = signing_keys.list_keys(container.settings, container.db)
    assert len(listing.keys) == 4
    retired = signing_keys.retire_keys(container.settings, container.db, now=container.clock(), keep=2)
    assert [key.kid for key in retired] == [key.kid for key in listing.keys[2:]]
    assert [key.kid for key in container.keys.reload()] == [key.kid for key in listing.keys[:2]]
    with pytest.raises(InvalidInput):
        signing_keys.retire_keys(container.settings, container.db, now=container.clock(), keep=0)


def key_entry(kid: str) -> str:
    return f"{kid}:{secrets.token_urlsafe(40)}"


def env_container(database_url: str, tmp_path: Path, **settings: Any) -> Container:
    return build(settings_for(database_url, tmp_path, **settings))


def test_keys_from_the_environment_and_a_file_leave_the_database_without_secrets(
    database_url: str, tmp_path: Path
) -> None:
    old, new = key_entry("k2025"), key_entry("k2026")
    before = env_container(database_url, tmp_path, signing_keys=old)
    try:
        with TestClient(app_over(before)) as client:
            old_token = make_store(before, client, name="first").token
    finally:
        before.close()
    key_file = tmp_path / "keys"
    key_file.write_text(f"# signing key first\n{new}\n{old}\n")
    for settings in ({"signing_keys": f"{new},{old}"}, {"signing_key_file": key_file}):
        container = env_container(database_url, tmp_path, **settings)
        try:
            with TestClient(app_over(container)) as client:
                shop = make_store(container, client, name="second")
                assert shop.token.startswith("k2026.")
                assert status_with(client, old_token) == 200
                promotion = shop.create_promotion()
                shop.add_codes(promotion["id"], "CODE1")
                job = shop.create_job(promotion["id"], "code_export").json()["data"]
                Worker(container.db, container.settings, clock=container.clock).run_until_empty()
                href = shop.get(f"/v2/promotions/{promotion['id']}/jobs/{job['id']}/file").json()["href"]
                assert parse_qs(urlsplit(href).query)["Signature"][0].startswith("k2026.")
                parts = urlsplit(href)
                assert client.get(f"{parts.path}?{parts.query}").status_code == 200
            assert stored_key_count(container) == 0
            with pytest.raises(signing_keys.KeysNotRotatable, match="PROMOFORGE_SIGNING_KEY"):
                signing_keys.rotate_keys(container.settings, container.db, now=container.clock())
        finally:
            container.close()

    # Dropping the old key from the set ends its tokens.
    only_new = env_container(database_url, tmp_path, signing_keys=new)
    try:
        with TestClient(app_over(only_new)) as client:
            assert status_with(client, old_token) == 401
    finally:
        only_new.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"signing_keys": "k1:short"}, "at least 32"),
        ({"signing_keys": "no-secret-here"}, "kid:secret"),
        ({"signing_keys": "bad.kid:" + "x" * 40}, "kid:secret"),
        ({"signing_keys": f"k1:{'x' * 40},k1:{'y' * 40}"}, "twice"),
        ({"signing_keys": " , "}, "no key"),
        ({"signing_key_file": Path("/nonexistent/keys")}, "cannot read"),
        ({"signing_keys": f"k1:{'x' * 40}", "signing_key_file": Path("/tmp/k")}, "not both"),
    ],
)
def test_unusable_key_settings_are_refused(
    database_url: str, tmp_path: Path, settings: dict[str, Any], message: str
) -> None:
    with pytest.raises(signing_keys.SigningKeysInvalid, match=message):
        env_container(database_url, tmp_path, **settings)


def test_legacy_plain_keys_are_dropped(container: Container, tmp_path: Path) -> None:
    with container.db.write() as repos:
        for name in signing_keys.LEGACY_KEY_NAMES:
            repos.keys.get_or_create(name, "old-secret", container.clock())
    again = build(Settings(database_url=container.settings.database_url))
    again.close()
    with container.db.read() as repos:
        names = [name for name, _, _ in repos.keys.with_prefix("")]
    assert len(names) == 1 and names[0].startswith(signing_keys.KEY_NAME_PREFIX)
