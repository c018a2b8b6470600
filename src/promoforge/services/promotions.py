"""Promotion use cases: create, list, get, update, delete, history."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from promoforge.domain.codes import canonical_code
from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound, SemanticError
from promoforge.domain.integrations import events
from promoforge.domain.jobs import JobType, queued_job
from promoforge.domain.promotions import (
    Promotion,
    PromotionAttributes,
    PromotionVersion,
    check_codes_may_be_wiped,
    reenables_expired,
)
from promoforge.domain.queries import Page
from promoforge.storage.repositories import Transactor

PROMOTION_NOT_FOUND = "promotion not found"

# Validates the changes of a partial update merged onto the current attributes (the wire format's concern).
ChangesParser = Callable[[PromotionAttributes, dict[str, Any]], PromotionAttributes]


def create_promotion(
    uow: Transactor, *, store_id: str, attributes: PromotionAttributes, actor: str | None, now: datetime
) -> Promotion:
    """Store a new, validated promotion (its first version)."""
    promotion = Promotion(
        id=str(uuid.uuid4()),
        store_id=store_id,
        attributes=attributes,
        created_by=actor,
        updated_by=actor,
        code_count=0,
        version=1,
        created_at=now,
        updated_at=now,
    )
    with uow.write() as tx:
        tx.store(store_id).promotions.add(promotion)
        tx.outbox.record_observed(store_id, events.PROMOTION_CREATED, promotion, now)
    return promotion


def list_promotions(
    uow: Transactor, *, store_id: str, page: Page, code: str | None = None
) -> tuple[list[Promotion], int]:
    """Return a page of the store's promotions, or those owning `code`."""
    with uow.read() as tx:
        return tx.store(store_id).promotions.list_page(
            page, code_key=None if code is None else canonical_code(code)
        )


def get_promotion(uow: Transactor, *, store_id: str, promotion_id: str) -> Promotion:
    """Return one promotion of the store."""
    with uow.read() as tx:
        promotion = tx.store(store_id).promotions.get(promotion_id)
    if promotion is None:
        raise NotFound(PROMOTION_NOT_FOUND)
    return promotion


def update_promotion(
    uow: Transactor,
    *,
    store_id: str,
    promotion_id: str,
    changes: dict[str, Any],
    parse_changes: ChangesParser,
    actor: str | None,
    now: datetime,
) -> Promotion:
    """Apply a partial update, record a version, and wipe codes when an expired promotion is re-enabled."""
    body_id = changes.get("id")
    if body_id is not None and body_id != promotion_id:
        raise InvalidInput([FieldProblem("data.id", "data.id does not match the promotion in the URL")])
    with uow.write() as tx:
        repos = tx.store(store_id)
        current = repos.promotions.get(promotion_id, for_update=True)
        if current is None:
            raise NotFound(PROMOTION_NOT_FOUND)
        if (
            changes.get("promotion_type", current.attributes.promotion_type)
            != current.attributes.promotion_type
        ):
            raise SemanticError(
                [FieldProblem("data.promotion_type", "promotion_type cannot be changed after creation")]
            )
        attributes = parse_changes(current.attributes, changes)
        if reenables_expired(old_end=current.attributes.end, new_end=attributes.end, now=now):
            check_codes_may_be_wiped(repos.codes.count(promotion_id))
            wiped = repos.codes.delete_all(promotion_id)
            repos.promotions.release_codes(promotion_id, wiped)
        updated = replace(
            current, attributes=attributes, updated_by=actor, version=current.version + 1, updated_at=now
        )
        repos.promotions.save(updated)
        tx.outbox.record_observed(store_id, events.PROMOTION_UPDATED, updated, now)
        return updated


def delete_promotion(uow: Transactor, *, store_id: str, promotion_id: str, now: datetime) -> None:
    """Delete a promotion at once for every reader; its codes, jobs, files and history go in the background.

    Running jobs of the promotion end as cancelled (their work goes with the promotion), and a
    promotion_purge job removes the rest in bounded batches (docs/adr/0008).
    """
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.mark_deleted(promotion_id, now):
            raise NotFound(PROMOTION_NOT_FOUND)
        repos.jobs.cancel_active(promotion_id, now)
        repos.jobs.add(
            queued_job(
                job_id=str(uuid.uuid4()),
                store_id=store_id,
                promotion_id=promotion_id,
                job_type=JobType.PROMOTION_PURGE,
                now=now,
            )
        )
        tx.outbox.record_observed(
            store_id, events.PROMOTION_DELETED, {"type": "promotion", "id": promotion_id}, now
        )


def promotion_history(
    uow: Transactor, *, store_id: str, promotion_id: str, page: Page
) -> tuple[list[PromotionVersion], int, int]:
    """Return a page of versions, newest first, with the total and the current version number."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        promotion = repos.promotions.get(promotion_id)
        if promotion is None:
            raise NotFound(PROMOTION_NOT_FOUND)
        versions, total = repos.promotions.history(promotion_id, page)
    return versions, total, promotion.version
