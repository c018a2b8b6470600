"""Promotion code use cases: add in bulk, list, delete."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from promoforge.domain.codes import NewCode, PromotionCode, canonical_code
from promoforge.domain.errors import (
    CodeConflict,
    CodesLimitExceeded,
    FieldProblem,
    NotFound,
    SemanticError,
)
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.integrations import events
from promoforge.domain.promotions import Promotion
from promoforge.domain.queries import Page
from promoforge.services.promotions import PROMOTION_NOT_FOUND
from promoforge.storage.repositories import Transaction, Transactor
from promoforge.storage.repositories.outbox import LazySubject


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


def _limit_exceeded(tx: Transaction, store_id: str) -> CodesLimitExceeded:
    store = tx.stores.get(store_id)
    limit = store.max_codes_per_promotion if store else 0
    return CodesLimitExceeded(
        f"codes limit exceeded: a promotion may have at most {limit} codes",
        source="data.codes",
        meta={"max_codes_per_promotion": limit},
    )


def add_codes(
    uow: Transactor,
    *,
    store_id: str,
    promotion_id: str,
    codes: Sequence[NewCode],
    actor: str | None,
    now: datetime,
) -> Promotion:
    """Add codes to a promotion, all or none; return the promotion."""
    refuse_duplicate_codes(codes)
    # The codes' numbers are taken in a transaction of their own, which holds the promotion's lock for
    # one statement: parallel adds still queue only from the counter update to their commit (docs/adr/
    # 0007). The numbers of an add that is then undone are skipped, never reused.
    with uow.write() as tx:
        repos = tx.store(store_id)
        numbers = repos.promotions.take_code_numbers(promotion_id, len(codes))
        if numbers is None:
            if not repos.promotions.exists(promotion_id):
                raise NotFound(PROMOTION_NOT_FOUND)
            raise _limit_exceeded(tx, store_id)
    promotion_ref, first_number = numbers
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.exists(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        # The unique index is the judge: clashing codes are skipped and named, and the whole add is undone.
        numbered = [(first_number + place, code) for place, code in enumerate(codes)]
        inserted = repos.codes.add(promotion_ref=promotion_ref, codes=numbered, created_by=actor, now=now)
        clashing = [entry for entry in numbered if entry[1].key not in inserted]
        if clashing and repos.codes.delete_of_deleted_promotions([code.key for _, code in clashing]):
            # Codes of a deleted promotion awaiting its purge no longer count: they made room.
            inserted = repos.codes.add(promotion_ref=promotion_ref, codes=clashing, created_by=actor, now=now)
            clashing = [entry for entry in clashing if entry[1].key not in inserted]
        if clashing:
            stored = repos.codes.existing([code.key for _, code in clashing])
            _refuse_clashes(stored or [code.code for _, code in clashing])
        # The counter update is this transaction's only lock on the promotion, and its last statement. A
        # delete that committed since the check above leaves no live row to count against: a 404.
        promotion = repos.promotions.reserve_codes(promotion_id, len(codes))
        if promotion is None:
            if not repos.promotions.exists(promotion_id):
                raise NotFound(PROMOTION_NOT_FOUND)
            raise _limit_exceeded(tx, store_id)
        listed = min(len(codes), MAX_CODES_IN_EVENT)
        batch = LazySubject(
            lambda: CodesChanged(
                promotion_id, len(codes), tuple(repos.codes.numbered(promotion_ref, first_number, listed))
            )
        )
        tx.outbox.record_observed(store_id, events.PROMOTION_CODES_CREATED, batch, now)
    return promotion


def list_codes(
    uow: Transactor, *, store_id: str, promotion_id: str, page: Page, code: str | None = None
) -> tuple[list[PromotionCode], int]:
    """Return a page of a promotion's codes, or the one matching `code`."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.exists(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        return repos.codes.list_page(
            promotion_id, page, code_key=None if code is None else canonical_code(code)
        )


def delete_codes(
    uow: Transactor, *, store_id: str, promotion_id: str, references: Sequence[CodeReference], now: datetime
) -> int:
    """Delete the named codes of a promotion (unknown ones are ignored); return how many went."""
    keys = [canonical_code(r.code) for r in references if r.code is not None]
    ids = [r.id for r in references if r.id is not None]
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.lock(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        observed = _observes(tx, store_id, events.PROMOTION_CODES_DELETED)
        going = (
            repos.codes.with_keys(promotion_id, keys) + repos.codes.with_ids(promotion_id, ids)
            if observed
            else []
        )
        deleted = repos.codes.delete_by_keys(promotion_id, keys)
        deleted += repos.codes.delete_by_ids(promotion_id, ids)
        repos.promotions.release_codes(promotion_id, deleted)
        _record_deleted(tx, store_id, promotion_id, going, now)
    return deleted


def delete_code(uow: Transactor, *, store_id: str, promotion_id: str, reference: str, now: datetime) -> None:
    """Delete one code named by its id or, failing that, its text."""
    with uow.write() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.lock(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        code_id = parse_uuid(reference)
        observed = _observes(tx, store_id, events.PROMOTION_CODES_DELETED)
        going = repos.codes.with_ids(promotion_id, [code_id]) if code_id and observed else []
        deleted = repos.codes.delete_by_ids(promotion_id, [code_id]) if code_id else 0
        if not deleted:
            key = canonical_code(reference)
            going = repos.codes.with_keys(promotion_id, [key]) if observed else []
            deleted = repos.codes.delete_by_keys(promotion_id, [key])
        if not deleted:
            raise NotFound("code not found")
        repos.promotions.release_codes(promotion_id, deleted)
        _record_deleted(tx, store_id, promotion_id, going, now)


@dataclass(frozen=True)
class CodesChanged:
    """The codes one request added or removed, as `promotion-codes.*` events list them (at most 1,000)."""

    promotion_id: str
    total: int
    codes: tuple[PromotionCode, ...]
    removed: bool = False


# One event per request lists at most this many of its codes (integrations §7.2, D-I33).
MAX_CODES_IN_EVENT = 1_000


def _observes(tx: Transaction, store_id: str, event_key: str) -> bool:
    store = tx.stores.get(store_id)
    return store is not None and event_key in store.observed_events


def _record_deleted(
    tx: Transaction, store_id: str, promotion_id: str, going: list[PromotionCode], now: datetime
) -> None:
    """`promotion-codes.deleted` naming the codes the request removed; none removed, no event."""
    if going:
        listed = tuple(going[:MAX_CODES_IN_EVENT])
        changed = CodesChanged(promotion_id, len(going), listed, removed=True)
        tx.outbox.record_observed(store_id, events.PROMOTION_CODES_DELETED, changed, now)
