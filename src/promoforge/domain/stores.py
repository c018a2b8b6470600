"""A store: the tenant every promotion, code and job belongs to, with its settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from promoforge.domain.jobs import DEFAULT_EXPORT_RETENTION_DAYS


@dataclass(frozen=True)
class Store:
    """A tenant: every promotion, code and job belongs to exactly one store."""

    id: str
    name: str
    client_id: str
    client_secret_hash: str
    max_codes_per_promotion: int
    created_at: datetime
    updated_at: datetime
    export_retention_days: int = DEFAULT_EXPORT_RETENTION_DAYS
    default_currency: str = "USD"  # a cart's currency when its first line brings none (B36)
    cart_expiry_days: int = 7  # carts not updated for this long are purged (§2.4)
    code_attempts_per_cart: int = 10  # failed code applications a minute per cart (D12)
    code_attempts_per_address: int = 30  # ... and per client address (IPv6: per /64)
    code_attempts_per_store: int = 600  # ... and across the whole store
    carts_per_customer_per_hour: int = 100  # carts one customer (or account) may create an hour
    carts_per_address_per_hour: int = 600  # ... and one client address
    customer_token_key: str | None = None  # verifies shoppers' customer and account tokens (D10)
    customer_token_issuer: str | None = None  # the `iss` those tokens must carry, when set
    customer_token_audience: str | None = None  # the `aud` they must name, when set
    observed_events: frozenset[str] = frozenset()  # what its enabled integrations observe (D-I14)
