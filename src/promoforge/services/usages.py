"""Usage records (E15-E17): list a promotion's or a code's, and anonymise them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from promoforge.domain.codes import canonical_code
from promoforge.domain.errors import NotFound, UsagesNotFound
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.orders import Usage
from promoforge.domain.queries import Comparison, Page, SortKey
from promoforge.services.promotions import PROMOTION_NOT_FOUND
from promoforge.storage.repositories.transactions import Transactor

CODE_NOT_FOUND = "code not found"


def list_usages(
    uow: Transactor,
    *,
    store_id: str,
    promotion_id: str,
    page: Page,
    comparisons: Sequence[Comparison],
    sort: SortKey,
    code: str | None = None,
) -> tuple[list[Usage], int]:
    """A page of a promotion's usages (E15), or of one of its codes (E16)."""
    with uow.read() as tx:
        repos = tx.store(store_id)
        if not repos.promotions.exists(promotion_id):
            raise NotFound(PROMOTION_NOT_FOUND)
        code_id = None
        if code is not None:
            found = repos.codes.by_key(canonical_code(code))
            if found is None or found.promotion_id != promotion_id:
                raise NotFound(CODE_NOT_FOUND)
            code_id = found.id
        return repos.usages.list_page(
            page, promotion_id=promotion_id, comparisons=comparisons, sort=sort, code_id=code_id
        )


def anonymize_usages(
    uow: Transactor, *, store_id: str, usage_ids: Sequence[str], updated_by: str, now: datetime
) -> tuple[list[Usage], list[str]]:
    """Mask the e-mail of these usages (E17); return those found and the ids not found (B28)."""
    given = list(dict.fromkeys(usage_ids))
    parsed = {usage_id: parse_uuid(usage_id) for usage_id in given}
    with uow.write() as tx:
        wanted = [value for value in parsed.values() if value is not None]
        found = tx.store(store_id).usages.anonymize(wanted, updated_by, now)
        known = {usage.id for usage in found}
        missing = [usage_id for usage_id in given if parsed[usage_id] not in known]
        if not found:
            raise UsagesNotFound("Usages not found.", meta={"usage_ids": missing})
        return found, missing
