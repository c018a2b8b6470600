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
from promoforge.domain.stores import Store
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


SECRET = "a-shared-secret-of-at-least-32-bytes!"
KEYED = replace(STORE, customer_token_key=SECRET)


def _identify(store: Store, claims: dict[str, object], *, account: bool = False) -> object:
    token = jwt.encode(claims, SECRET, algorithm="HS256")
    if account:
        return identify_shopper(
            store, customer_token=None, account_token=token, trusted_caller=False, now=NOW
        )
    return identify_shopper(store, customer_token=token, account_token=None, trusted_caller=False, now=NOW)


def test_an_audience_is_accepted_when_the_store_expects_none() -> None:
    shopper = _identify(KEYED, _claims(sub="c-1", aud="https://id.example.com/api"))

    assert shopper.customer_id == "c-1"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("claims", "accepted"),
    [
        ({"aud": "shop-api", "iss": "https://id.example.com"}, True),
        ({"aud": ["other", "shop-api"], "iss": "https://id.example.com"}, True),
        ({"aud": "other", "iss": "https://id.example.com"}, False),
        ({"iss": "https://id.example.com"}, False),
        ({"aud": "shop-api", "iss": "https://evil.example.com"}, False),
        ({"aud": "shop-api"}, False),
    ],
)
def test_the_store_issuer_and_audience_are_both_checked(claims: dict[str, object], accepted: bool) -> None:
    store = replace(KEYED, customer_token_issuer="https://id.example.com", customer_token_audience="shop-api")
    for account in (False, True):
        token_claims = _claims(sub="c-1", account_id="a-1", **claims)
        if accepted:
            _identify(store, token_claims, account=account)
        else:
            with pytest.raises(Unauthenticated):
                _identify(store, token_claims, account=account)


@pytest.mark.parametrize(
    "dates",
    [
        {"exp": str(int(time.time()) + 600)},
        {"exp": 1e308},
        {"exp": True},
        {"exp": -1},
        {"exp": int(time.time()) + 600, "nbf": "0"},
        {"exp": int(time.time()) + 600, "iat": 1e300},
    ],
    ids=["exp as text", "exp 1e308", "exp true", "exp negative", "nbf as text", "iat 1e300"],
)
def test_numeric_dates_must_be_numbers_in_range(dates: dict[str, object]) -> None:
    with pytest.raises(Unauthenticated):
        _identify(KEYED, {"sub": "c-1", **dates})


def test_an_unverified_token_of_a_trusted_caller_still_needs_numeric_dates() -> None:
    token = jwt.encode({"sub": "c-1", "exp": "soon"}, "any-secret-the-back-end-uses-here", algorithm="HS256")
    with pytest.raises(Unauthenticated):
        identify_shopper(STORE, customer_token=token, account_token=None, trusted_caller=True, now=NOW)


def test_customer_and_account_identities_never_stand_for_each_other() -> None:
    account = _identify(KEYED, _claims(sub="member-1", account_id="cust-Y"), account=True)
    customer = _identify(KEYED, _claims(sub="acc-1"))

    assert "cust-Y" not in account.identities  # type: ignore[attr-defined]
    assert "account:cust-Y" in account.identities  # type: ignore[attr-defined]
    assert customer.identities == frozenset({"acc-1"})  # type: ignore[attr-defined]
    assert "account:acc-1" not in customer.identities  # type: ignore[attr-defined]
