"""Stores, their API keys and access tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeSerializer

from promoforge.domain.codes import DEFAULT_MAX_CODES_PER_PROMOTION
from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound, Unauthenticated
from promoforge.domain.jobs import DEFAULT_EXPORT_RETENTION_DAYS, MAX_EXPORT_RETENTION_DAYS
from promoforge.domain.money import CURRENCY_CODES
from promoforge.domain.stores import Store
from promoforge.services.signing_keys import KID_PATTERN, KeyRing, SigningKey
from promoforge.storage.repositories import Transactor

DEFAULT_STORE_NAME = "default"
DEFAULT_STORE_SETUP_MARKER = "setup:default-store"
MAX_TOKEN_CLAIM = 1024  # characters of an expected issuer or audience
TOKEN_SALT = "promoforge.access-token"  # noqa: S105 - separates tokens from links, not a secret


class Grant(StrEnum):
    """The OAuth2 grants a store's key can use."""

    CLIENT_CREDENTIALS = "client_credentials"
    IMPLICIT = "implicit"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a store, through one of its grants."""

    store_id: str
    grant: Grant
    client_id: str

    @property
    def is_admin(self) -> bool:
        """Client-credentials tokens may manage promotions; implicit (storefront) ones may not."""
        return self.grant is Grant.CLIENT_CREDENTIALS


@dataclass(frozen=True)
class IssuedToken:
    """An access token as the token endpoint returns it."""

    access_token: str
    expires: int
    expires_in: int
    identifier: Grant


@dataclass(frozen=True)
class StoreCredentials:
    """A store with its secret in plain text, shown once when created or rotated."""

    store: Store
    client_secret: str


class TokenSigner:
    """Signs and verifies stateless access tokens (HMAC-SHA256) with the key ring's keys.

    A token is `<kid>.<itsdangerous URL-safe token>`: the kid names the key that signed it and is part
    of the signed claims too.
    """

    def __init__(self, keys: KeyRing) -> None:
        self._keys = keys

    @staticmethod
    def _serializer(key: SigningKey) -> URLSafeSerializer:
        return URLSafeSerializer(key.secret, salt=TOKEN_SALT, signer_kwargs={"digest_method": hashlib.sha256})

    def issue(self, principal: Principal, *, now: datetime, ttl_seconds: int) -> IssuedToken:
        """Return a token for `principal`, valid for `ttl_seconds` from `now`."""
        expires = int(now.timestamp()) + ttl_seconds
        key = self._keys.signing_key()
        claims = {"k": key.kid, "s": principal.store_id, "g": principal.grant.value, "c": principal.client_id}
        token = self._serializer(key).dumps({**claims, "e": expires})
        return IssuedToken(
            access_token=f"{key.kid}.{token}",
            expires=expires,
            expires_in=ttl_seconds,
            identifier=principal.grant,
        )

    def verify(self, token: str, *, now: datetime) -> Principal:
        """Return the principal of a valid, unexpired token; raise Unauthenticated otherwise."""
        kid, _, signed = token.partition(".")
        key = self._keys.key(kid) if KID_PATTERN.fullmatch(kid) else None
        try:
            if key is None:
                raise BadSignature("unknown key")
            claims = self._serializer(key).loads(signed)
            if claims["k"] != kid:
                raise BadSignature("key id mismatch")
            principal = Principal(store_id=claims["s"], grant=Grant(claims["g"]), client_id=claims["c"])
            expires = int(claims["e"])
        except (BadSignature, KeyError, TypeError, ValueError):
            raise Unauthenticated("Unable to validate access token") from None
        if now.timestamp() >= expires:
            raise Unauthenticated("The access token has expired; request a new one")
        return principal


def hash_secret(secret: str) -> str:
    """Hash a client secret for storage (secrets are 256-bit random, so one SHA-256 round suffices)."""
    return "sha256$" + hashlib.sha256(secret.encode()).hexdigest()


def _secret_matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def _new_credentials() -> tuple[str, str]:
    return secrets.token_hex(20), secrets.token_urlsafe(32)


def create_store(
    db: Transactor,
    *,
    name: str,
    max_codes_per_promotion: int = DEFAULT_MAX_CODES_PER_PROMOTION,
    export_retention_days: int = DEFAULT_EXPORT_RETENTION_DAYS,
    now: datetime,
) -> StoreCredentials:
    """Create a store with fresh credentials."""
    _check_store_settings(
        name=name,
        max_codes_per_promotion=max_codes_per_promotion,
        export_retention_days=export_retention_days,
    )
    client_id, client_secret = _new_credentials()
    store = Store(
        id=str(uuid.uuid4()),
        name=name,
        client_id=client_id,
        client_secret_hash=hash_secret(client_secret),
        max_codes_per_promotion=max_codes_per_promotion,
        created_at=now,
        updated_at=now,
        export_retention_days=export_retention_days,
    )
    with db.write() as repos:
        repos.stores.add(store)
    return StoreCredentials(store=store, client_secret=client_secret)


def ensure_default_store(db: Transactor, *, now: datetime) -> StoreCredentials | None:
    """Create the store `default` when the database has no store yet; return it with its secret.

    Safe when several processes start at once: the setup marker is claimed in the same transaction that
    creates the store, and only the caller whose claim succeeded creates it.
    """
    work = db.unit_of_work()
    with work.write() as repos:
        if not repos.keys.claim(DEFAULT_STORE_SETUP_MARKER, now.isoformat(), now) or repos.stores.count():
            return None
        return create_store(work, name=DEFAULT_STORE_NAME, now=now)


def list_stores(db: Transactor) -> list[Store]:
    """Return every store."""
    with db.read() as repos:
        return repos.stores.all()


def find_store(db: Transactor, *, reference: str | None) -> Store:
    """Return the store named by id, client id or name, or the only store when none is named."""
    with db.read() as repos:
        return _find_store(repos.stores.all(), reference)


def update_store(
    db: Transactor,
    *,
    reference: str | None,
    name: str | None = None,
    max_codes_per_promotion: int | None = None,
    export_retention_days: int | None = None,
    carts: CartSettings | None = None,
    rotate_secret: bool = False,
    now: datetime,
) -> StoreCredentials | Store:
    """Change a store named by id, client id or name (or the only one); include a new secret if rotated."""
    _check_store_settings(
        name=name,
        max_codes_per_promotion=max_codes_per_promotion,
        export_retention_days=export_retention_days,
    )
    cart_values = (carts or CartSettings()).values()
    with db.write() as repos:
        store = _find_store(repos.stores.all(), reference)
        values: dict[str, object] = {"updated_at": now}
        if name is not None:
            values["name"] = name
        if max_codes_per_promotion is not None:
            values["max_codes_per_promotion"] = max_codes_per_promotion
        if export_retention_days is not None:
            values["export_retention_days"] = export_retention_days
        values.update(cart_values)
        secret = None
        if rotate_secret:
            secret = secrets.token_urlsafe(32)
            values["client_secret_hash"] = hash_secret(secret)
        repos.stores.update(store.id, **values)
        updated = repos.stores.get(store.id)
    assert updated is not None
    return StoreCredentials(store=updated, client_secret=secret) if secret else updated


@dataclass(frozen=True)
class CartSettings:
    """A store's cart settings to change; None leaves a setting as it is."""

    default_currency: str | None = None
    cart_expiry_days: int | None = None
    code_attempts_per_cart: int | None = None
    code_attempts_per_address: int | None = None
    code_attempts_per_store: int | None = None
    carts_per_customer_per_hour: int | None = None
    carts_per_address_per_hour: int | None = None
    customer_token_key: str | None = None
    remove_customer_token_key: bool = False
    customer_token_issuer: str | None = None  # "" removes it
    customer_token_audience: str | None = None  # "" removes it

    def values(self) -> dict[str, object]:
        """The columns to write, checked; InvalidInput names every bad setting."""
        problems: list[FieldProblem] = []
        values: dict[str, object] = {}
        if self.default_currency is not None:
            if self.default_currency not in CURRENCY_CODES:
                problems.append(FieldProblem("default_currency", "default_currency must be an ISO 4217 code"))
            values["default_currency"] = self.default_currency
        for name, low, high in (
            ("cart_expiry_days", 1, 3650),
            ("code_attempts_per_cart", 1, 1_000_000),
            ("code_attempts_per_address", 1, 1_000_000),
            ("code_attempts_per_store", 1, 100_000_000),
            ("carts_per_customer_per_hour", 1, 1_000_000),
            ("carts_per_address_per_hour", 1, 1_000_000),
        ):
            value = getattr(self, name)
            if value is not None:
                if not low <= value <= high:
                    problems.append(FieldProblem(name, f"{name} must be between {low} and {high}"))
                values[name] = value
        if self.customer_token_key is not None:
            from promoforge.services.shoppers import check_token_key  # loads the pricing engine: only here

            try:
                values["customer_token_key"] = check_token_key(self.customer_token_key)
            except ValueError as error:
                problems.append(FieldProblem("customer_token_key", f"customer_token_key: {error}"))
        if self.remove_customer_token_key:
            values["customer_token_key"] = None
        for name, claim in (
            ("customer_token_issuer", self.customer_token_issuer),
            ("customer_token_audience", self.customer_token_audience),
        ):
            if claim is None:
                continue
            if len(claim) > MAX_TOKEN_CLAIM or claim != claim.strip():
                problems.append(
                    FieldProblem(
                        name,
                        f"{name} must have no surrounding spaces and at most {MAX_TOKEN_CLAIM} characters",
                    )
                )
            values[name] = claim or None
        if problems:
            raise InvalidInput(problems)
        return values


def _find_store(stores: list[Store], reference: str | None) -> Store:
    if reference is None:
        if len(stores) == 1:
            return stores[0]
        raise InvalidInput(
            [FieldProblem("store", f"there are {len(stores)} stores; say which one with --store")]
        )
    matches = [s for s in stores if reference in (s.id, s.client_id, s.name)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise NotFound(f"no store with id, client id or name {reference!r}")
    raise InvalidInput([FieldProblem("store", f"several stores are named {reference!r}; use the id")])


def _check_store_settings(
    *, name: str | None, max_codes_per_promotion: int | None, export_retention_days: int | None = None
) -> None:
    problems = []
    if name is not None and not name.strip():
        problems.append(FieldProblem("name", "name must not be empty"))
    if max_codes_per_promotion is not None and not 1 <= max_codes_per_promotion <= 100_000_000:
        problems.append(FieldProblem("max_codes_per_promotion", "must be between 1 and 100000000"))
    if export_retention_days is not None and not 1 <= export_retention_days <= MAX_EXPORT_RETENTION_DAYS:
        problems.append(
            FieldProblem(
                "export_retention_days",
                f"export_retention_days must be between 1 and {MAX_EXPORT_RETENTION_DAYS}",
            )
        )
    if problems:
        raise InvalidInput(problems)


def issue_token(
    db: Transactor,
    signer: TokenSigner,
    *,
    grant_type: str,
    client_id: str,
    client_secret: str | None,
    now: datetime,
    ttl_seconds: int,
) -> IssuedToken:
    """Exchange a store's client credentials (or client id alone, for the implicit grant) for a token."""
    try:
        grant = Grant(grant_type)
    except ValueError:
        raise InvalidInput(
            [
                FieldProblem(
                    "grant_type",
                    "grant_type must be client_credentials or implicit",
                    "unsupported_grant_type",
                )
            ]
        ) from None
    if grant is Grant.CLIENT_CREDENTIALS and not client_secret:
        raise InvalidInput([FieldProblem("client_secret", "client_secret is required", "required")])
    with db.read() as repos:
        store = repos.stores.by_client_id(client_id)
    if store is None or (
        grant is Grant.CLIENT_CREDENTIALS
        and not _secret_matches(client_secret or "", store.client_secret_hash)
    ):
        raise Unauthenticated("Invalid client credentials", source="client_id")
    principal = Principal(store_id=store.id, grant=grant, client_id=store.client_id)
    return signer.issue(principal, now=now, ttl_seconds=ttl_seconds)
