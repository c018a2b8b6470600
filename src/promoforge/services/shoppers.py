"""Who is shopping: customer and account tokens verified with the store's key (D10, §5.3, B42)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from promoforge.domain.errors import Unauthenticated
from promoforge.domain.shoppers import Shopper
from promoforge.domain.stores import Store
from promoforge.storage.repositories.transactions import Transactor

LEEWAY_SECONDS = 30
# NumericDate claims (RFC 7519 §2) are JSON numbers; past the year 9999 none is meaningful.
LATEST_NUMERIC_DATE = 253_402_300_799
NUMERIC_DATE_CLAIMS = ("exp", "nbf", "iat")
CUSTOMER_HEADER = "X-Moltin-Customer-Token"
ACCOUNT_HEADER = "EP-Account-Management-Authentication-Token"


def identify_shopper(
    store: Store,
    *,
    customer_token: str | None,
    account_token: str | None,
    trusted_caller: bool,
    now: datetime,
) -> Shopper:
    """The shopper the request's token headers prove; 401 for a token that cannot be verified or has expired.

    A storefront (implicit) caller's tokens must verify with the store's key, carrying the store's issuer
    and audience when it names them; a shop's back end (client_credentials) is trusted, so without a key
    its tokens are read as they are.
    """
    customer_id = account_id = member_id = None
    if customer_token:
        claims = _claims(store, customer_token, CUSTOMER_HEADER, trusted_caller, now)
        customer_id = _text_claim(claims, "sub", CUSTOMER_HEADER)
    if account_token:
        claims = _claims(store, account_token, ACCOUNT_HEADER, trusted_caller, now)
        account_id = _text_claim(claims, "account_id", ACCOUNT_HEADER, fallback="scope")
        member = claims.get("sub")
        if isinstance(member, str) and member:
            member_id = member
    return Shopper(
        customer_id=customer_id,
        account_id=account_id,
        account_member_id=member_id,
        trusted=trusted_caller,
    )


def check_token_key(key: str) -> str:
    """Accept an HS256 secret (at least 32 bytes) or an RSA / EC public key in PEM; raise ValueError else."""
    key = key.strip()
    if key.startswith("-----BEGIN"):
        public_key = load_pem_public_key(key.encode())
        if not isinstance(public_key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            raise ValueError("the PEM key must be an RSA or EC public key")
        return key
    if len(key.encode()) < 32:
        raise ValueError("an HS256 secret must be at least 32 bytes long")
    return key


def _claims(store: Store, token: str, header: str, trusted_caller: bool, now: datetime) -> dict[str, Any]:
    key = store.customer_token_key
    try:
        if key is None:
            if not trusted_caller:
                raise Unauthenticated(
                    f"{header} cannot be verified: the store has no customer token key configured",
                    source=header,
                )
            claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
            _check_numeric_dates(claims, header)
            return claims
        issuer, audience = store.customer_token_issuer, store.customer_token_audience
        required = ["exp", *(["iss"] if issuer else []), *(["aud"] if audience else [])]
        verified: dict[str, Any] = jwt.decode(
            token,
            key,
            algorithms=_algorithms(key),
            issuer=issuer,
            audience=audience,
            # Without an expected audience an `aud` claim is not ours to judge: tokens from identity
            # providers always carry one.
            options={"require": required, "verify_aud": audience is not None},
            leeway=LEEWAY_SECONDS,
        )
        _check_numeric_dates(verified, header)
        if verified["exp"] + LEEWAY_SECONDS < now.timestamp():
            raise Unauthenticated(f"{header} has expired", source=header)
        return verified
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated(f"{header} has expired", source=header) from error
    except jwt.PyJWTError as error:
        raise Unauthenticated(f"{header} is not a valid token for this store", source=header) from error


def _check_numeric_dates(claims: dict[str, Any], header: str) -> None:
    """`exp`, `nbf` and `iat` must be JSON numbers between 0 and the year 9999, never strings."""
    for name in NUMERIC_DATE_CLAIMS:
        if name not in claims:
            continue
        value = claims[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not 0 <= value <= LATEST_NUMERIC_DATE
        ):
            raise Unauthenticated(f"{header}: {name} must be a number of seconds since 1970", source=header)


def _algorithms(key: str) -> list[str]:
    if not key.startswith("-----BEGIN"):
        return ["HS256"]
    public_key = load_pem_public_key(key.encode())
    return ["ES256"] if isinstance(public_key, ec.EllipticCurvePublicKey) else ["RS256"]


def _text_claim(claims: dict[str, Any], name: str, header: str, fallback: str | None = None) -> str:
    value = claims.get(name)
    if (not isinstance(value, str) or not value) and fallback is not None:
        value = claims.get(fallback)
    if not isinstance(value, str) or not value:
        raise Unauthenticated(f"{header} names no {name}", source=header)
    return value


def shopper_of(
    uow: Transactor,
    *,
    store_id: str,
    customer_token: str | None,
    account_token: str | None,
    trusted_caller: bool,
    now: datetime,
) -> Shopper:
    """Read the store's key and identify the shopper."""
    with uow.read() as tx:
        store = tx.stores.get(store_id)
    assert store is not None
    return identify_shopper(
        store,
        customer_token=customer_token,
        account_token=account_token,
        trusted_caller=trusted_caller,
        now=now,
    )
