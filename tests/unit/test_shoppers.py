"""Customer and account tokens (D10): verified with the store's HS256 secret or RS256/ES256 public key."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from promoforge.domain.errors import Unauthenticated
from promoforge.domain.models import Store
from promoforge.services.shoppers import check_token_key, identify_shopper

NOW = datetime.now(UTC)
STORE = Store(
    id="s",
    name="s",
    client_id="c",
    client_secret_hash="h",
    max_codes_per_promotion=10,
    created_at=NOW,
    updated_at=NOW,
)


def _pem(public_key: object) -> str:
    return public_key.public_bytes(  # type: ignore[attr-defined,no-any-return]
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def _claims(**extra: object) -> dict[str, object]:
    return {"exp": int(time.time()) + 600, **extra}


@pytest.mark.parametrize("kind", ["RS256", "ES256"])
def test_tokens_signed_with_the_private_half_of_the_store_key_verify(kind: str) -> None:
    private = (
        rsa.generate_private_key(65537, 2048) if kind == "RS256" else ec.generate_private_key(ec.SECP256R1())
    )
    store = replace(STORE, customer_token_key=check_token_key(_pem(private.public_key())))
    token = jwt.encode(_claims(sub="customer-9"), private, algorithm=kind)

    shopper = identify_shopper(store, customer_token=token, account_token=None, trusted_caller=False, now=NOW)

    assert shopper.customer_id == "customer-9"
    assert shopper.identities == frozenset({"customer-9"})


def test_a_token_with_another_algorithm_than_the_key_is_refused() -> None:
    secret = "a-shared-secret-of-at-least-32-bytes!"
    private = ec.generate_private_key(ec.SECP256R1())
    store = replace(STORE, customer_token_key=_pem(private.public_key()))
    # The classic confusion: an HS256 token "signed" with the public key text must not verify.
    forged = jwt.encode(_claims(sub="x"), secret, algorithm="HS256")
    with pytest.raises(Unauthenticated):
        identify_shopper(store, customer_token=forged, account_token=None, trusted_caller=False, now=NOW)


def test_account_tokens_name_the_account_and_its_member() -> None:
    secret = "a-shared-secret-of-at-least-32-bytes!"
    store = replace(STORE, customer_token_key=secret)
    token = jwt.encode(_claims(sub="member-1", account_id="account-1"), secret, algorithm="HS256")

    shopper = identify_shopper(store, customer_token=None, account_token=token, trusted_caller=False, now=NOW)

    assert shopper.account_id == "account-1"
    assert shopper.identities == frozenset({"account:account-1", "account_member:member-1"})


def test_a_trusted_back_end_needs_no_key_but_a_storefront_does() -> None:
    token = jwt.encode(_claims(sub="customer-1"), "whatever-secret-the-shop-uses-here", algorithm="HS256")
    trusted = identify_shopper(STORE, customer_token=token, account_token=None, trusted_caller=True, now=NOW)
    assert trusted.customer_id == "customer-1"
    with pytest.raises(Unauthenticated):
        identify_shopper(STORE, customer_token=token, account_token=None, trusted_caller=False, now=NOW)


@pytest.mark.parametrize("key", ["short", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----"])
def test_unusable_keys_are_refused(key: str) -> None:
    with pytest.raises(ValueError):
        check_token_key(key)
