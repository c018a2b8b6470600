"""The service's records as plain data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from promoforge.domain.jobs import DEFAULT_EXPORT_RETENTION_DAYS, JobStatus, JobType
from promoforge.domain.money import Money
from promoforge.domain.promotions import PromotionRules, PromotionType


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


@dataclass(frozen=True)
class PromotionAttributes:
    """The editable attributes of a promotion, already validated and normalised; `schema` holds its rules."""

    name: str
    description: str
    enabled: bool
    automatic: bool
    schema: PromotionRules
    start: datetime
    end: datetime
    min_cart_value: tuple[Money, ...] | None = None
    max_discount_value: tuple[Money, ...] | None = None
    max_applications_per_cart: int | None = None

    @property
    def promotion_type(self) -> PromotionType:
        """The type, which the rules' class decides."""
        return self.schema.promotion_type


@dataclass(frozen=True)
class Promotion:
    """A stored promotion."""

    id: str
    store_id: str
    attributes: PromotionAttributes
    created_by: str | None
    updated_by: str | None
    code_count: int
    version: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class PromotionVersion:
    """One entry of a promotion's history."""

    promotion_id: str
    version: int
    attributes: PromotionAttributes
    created_by: str | None
    updated_by: str | None
    promotion_created_at: datetime
    created_at: datetime


@dataclass(frozen=True)
class PromotionCode:
    """A stored promotion code; `uses` counts the uses left, `max_uses` the limit (None = unlimited)."""

    id: str
    promotion_id: str
    code: str
    max_uses: int | None
    uses: int | None
    consume_unit: str
    user: str | list[str] | None
    created_by: str | None
    created_at: datetime
    job_id: str | None = None


@dataclass(frozen=True)
class NewCode:
    """A manual code about to be added."""

    code: str
    key: str
    max_uses: int | None
    consume_unit: str
    user: str | list[str] | None


@dataclass(frozen=True)
class Job:
    """A stored job; the row is also the queue entry."""

    id: str
    store_id: str
    promotion_id: str
    job_type: JobType
    name: str | None
    parameters: dict[str, Any] | None
    status: JobStatus
    error: str | None
    created_by: str | None
    capacity_reserved: bool
    generated: int
    deleted: int | None
    progress_done: int
    progress_total: int
    lease_owner: str | None
    lease_expires_at: datetime | None
    attempts: int
    file_name: str | None
    file_size: int | None
    created_at: datetime
    updated_at: datetime
    run_after: datetime | None = None
    # When the export file is deleted; file_size becomes None once its parts are gone.
    file_expires_at: datetime | None = None


@dataclass(frozen=True)
class Page:
    """Which slice of a list to return."""

    limit: int
    offset: int


def queued_job(
    *,
    job_id: str,
    store_id: str,
    promotion_id: str,
    job_type: JobType,
    now: datetime,
    name: str | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: str | None = None,
    progress_total: int = 0,
) -> Job:
    """A new job, pending until a worker claims it."""
    return Job(
        id=job_id,
        store_id=store_id,
        promotion_id=promotion_id,
        job_type=job_type,
        name=name,
        parameters=parameters,
        status=JobStatus.PENDING,
        error=None,
        created_by=created_by,
        capacity_reserved=False,
        generated=0,
        deleted=None,
        progress_done=0,
        progress_total=progress_total,
        lease_owner=None,
        lease_expires_at=None,
        attempts=0,
        file_name=None,
        file_size=None,
        created_at=now,
        updated_at=now,
    )
