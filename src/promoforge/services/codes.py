"""Promotion code use cases: add in bulk, list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from promoforge.domain.codes import canonical_code
from promoforge.domain.errors import (
    CodeConflict,
    CodesLimitExceeded,
    FieldProblem,
    NotFound,
    SemanticError,
)
from promoforge.domain.identifiers import new_id, parse_uuid
from promoforge.domain.models import NewCode, Page, Promotion, PromotionCode
from promoforge.services.promotions import PROMOTION_NOT_FOUND
from promoforge.storage.repositories import Database, Repositories


@dataclass(frozen=True)
class CodeReference:
    """A code named for deletion, by its text or by its id."""

    code: str | None = None
    id: str | None = None


def refuse_duplicate_codes(codes: Sequence[NewCode]) -> None:
    """Refuse a request that names the same code twice (in any case)."""
    first_seen: dict[str, int] = {}
    problems: list[FieldProblem] = []
    for index, code in enumerate(codes):
        if code.key in first_seen:
            problems.append(
                FieldProblem(
                    f"data.codes.{index}.code",
                    f"code {code.code!r} is already at data.codes.{first_seen[code.key]} of this request",
                    "duplicate",
                )
            )
        else:
            first_seen[code.key] = index
    if problems:
        raise SemanticError(problems)


def _refuse_clashes(clashes: list[str]) -> None:
    if clashes:
        raise CodeConflict(
            f"{len(clashes)} code(s) already exist in this store: {', '.join(clashes[:20])}",
            source="data.codes",
            meta={"codes": clashes},
        )


def _limit_exceeded(repos: Repositories, store_id: str) -> CodesLimitExceeded:
    store = repos.stores.get(store_id)
    limit = store.max_codes_per_promotion if store else 0
    return CodesLimitExceeded(
        f"codes limit exceeded: a promotion may have at most {limit} codes",
        source="data.codes",
        meta={"max_codes_per_promotion": limit},
    )


def add_codes(
    db: Database,
    *,
    store_id: str,
    promotion_id: str,
    codes: Sequence[NewCode],
    actor: str | None,
    now: datetime,
) -> Promotion:
    """Add codes to a promotion, all or none; return the promotion."""
    refuse_duplicate_codes(codes)
    keys = [c.key for c in codes]
    try:
        with db.write() as repos:
            if not repos.promotions.lock(store_id, promotion_id):
                raise NotFound(PROMOTION_NOT_FOUND)
            _refuse_clashes(repos.codes.existing(store_id, keys))
            if not repos.promotions.reserve_codes(store_id, promotion_id, len(codes)):
                raise _limit_exceeded(repos, store_id)
            repos.codes.add(
                store_id=store_id,
                promotion_id=promotion_id,
                codes=[(new_id(), code) for code in codes],
                created_by=actor,
                now=now,
            )
            promotion = repos.promotions.get(store_id, promotion_id)
    except CodeConflict as conflict:
        if conflict.meta is not None:
            raise
        # Another request added one of these codes between our check and our insert: name them.
        with db.read() as repos:
            _refuse_clashes(repos.codes.existing(store_id, keys))
        raise
    assert promotion is not None
    return promotion


def list_codes(
    db: Database, *, store_id: str, promotion_id: str, page: Page, code: str | None = None
) -> tuple[list[PromotionCode], int]:
    """Return a page of a promotion's codes, or the one matching `code`."""
    with db.read() as repos:
        if not repos.promotions.exists(store_id, promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        return repos.codes.list_page(
            store_id, promotion_id, page, code_key=None if code is None else canonical_code(code)
        )


def delete_codes(
    db: Database, *, store_id: str, promotion_id: str, references: Sequence[CodeReference]
) -> int:
    """Delete the named codes of a promotion (unknown ones are ignored); return how many went."""
    keys = [canonical_code(r.code) for r in references if r.code is not None]
    ids = [r.id for r in references if r.id is not None]
    with db.write() as repos:
        if not repos.promotions.lock(store_id, promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        deleted = repos.codes.delete_by_keys(store_id, promotion_id, keys)
        deleted += repos.codes.delete_by_ids(store_id, promotion_id, ids)
        repos.promotions.release_codes(store_id, promotion_id, deleted)
    return deleted


def delete_code(db: Database, *, store_id: str, promotion_id: str, reference: str) -> None:
    """Delete one code named by its id or, failing that, its text."""
    with db.write() as repos:
        if not repos.promotions.lock(store_id, promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        code_id = parse_uuid(reference)
        deleted = repos.codes.delete_by_ids(store_id, promotion_id, [code_id]) if code_id else 0
        if not deleted:
            deleted = repos.codes.delete_by_keys(store_id, promotion_id, [canonical_code(reference)])
        if not deleted:
            raise NotFound("code not found")
        repos.promotions.release_codes(store_id, promotion_id, deleted)
