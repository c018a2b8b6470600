"""Promotion use cases: create, list, get, update, delete, history."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Any

from promoforge.domain.codes import canonical_code
from promoforge.domain.errors import FieldProblem, InvalidInput, NotFound, SemanticError
from promoforge.domain.models import Page, Promotion, PromotionVersion
from promoforge.domain.promotions import check_codes_may_be_wiped, reenables_expired
from promoforge.services.promotion_schema import EDITABLE_FIELDS, promotion_document, validate_promotion
from promoforge.storage.repositories import Database

PROMOTION_NOT_FOUND = "promotion not found"


def create_promotion(
    db: Database, *, store_id: str, document: dict[str, Any], actor: str | None, now: datetime
) -> Promotion:
    """Validate and store a new promotion (its first version)."""
    attributes = validate_promotion({k: v for k, v in document.items() if k in EDITABLE_FIELDS})
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
    with db.write() as repos:
        repos.promotions.add(promotion)
    return promotion


def list_promotions(
    db: Database, *, store_id: str, page: Page, code: str | None = None
) -> tuple[list[Promotion], int]:
    """Return a page of the store's promotions, or those owning `code`."""
    with db.read() as repos:
        return repos.promotions.list_page(
            store_id, page, code_key=None if code is None else canonical_code(code)
        )


def get_promotion(db: Database, *, store_id: str, promotion_id: str) -> Promotion:
    """Return one promotion of the store."""
    with db.read() as repos:
        promotion = repos.promotions.get(store_id, promotion_id)
    if promotion is None:
        raise NotFound(PROMOTION_NOT_FOUND)
    return promotion


def update_promotion(
    db: Database,
    *,
    store_id: str,
    promotion_id: str,
    changes: dict[str, Any],
    actor: str | None,
    now: datetime,
) -> Promotion:
    """Apply a partial update, record a version, and wipe codes when an expired promotion is re-enabled."""
    body_id = changes.get("id")
    if body_id is not None and body_id != promotion_id:
        raise InvalidInput([FieldProblem("data.id", "data.id does not match the promotion in the URL")])
    with db.write() as repos:
        current = repos.promotions.get(store_id, promotion_id, for_update=True)
        if current is None:
            raise NotFound(PROMOTION_NOT_FOUND)
        if (
            changes.get("promotion_type", current.attributes.promotion_type)
            != current.attributes.promotion_type
        ):
            raise SemanticError(
                [FieldProblem("data.promotion_type", "promotion_type cannot be changed after creation")]
            )
        merged = promotion_document(current.attributes)
        merged.update({k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
        attributes = validate_promotion(merged)
        if reenables_expired(old_end=current.attributes.end, new_end=attributes.end, now=now):
            check_codes_may_be_wiped(repos.codes.count(store_id, promotion_id))
            wiped = repos.codes.delete_all(store_id, promotion_id)
            repos.promotions.release_codes(store_id, promotion_id, wiped)
        updated = replace(
            current, attributes=attributes, updated_by=actor, version=current.version + 1, updated_at=now
        )
        repos.promotions.save(updated)
        return updated


def delete_promotion(db: Database, *, store_id: str, promotion_id: str) -> None:
    """Delete a promotion with its codes, jobs, export files and history."""
    with db.write() as repos:
        if not repos.promotions.delete(store_id, promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)


def promotion_history(
    db: Database, *, store_id: str, promotion_id: str, page: Page
) -> tuple[list[PromotionVersion], int, int]:
    """Return a page of versions, newest first, with the total and the current version number."""
    with db.read() as repos:
        promotion = repos.promotions.get(store_id, promotion_id)
        if promotion is None:
            raise NotFound(PROMOTION_NOT_FOUND)
        versions, total = repos.promotions.history(store_id, promotion_id, page)
    return versions, total, promotion.version
