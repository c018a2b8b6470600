"""Usage records of a store's codes: one per order and code that gave a discount (B19)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Row, and_, insert, select, update

from promoforge.domain.orders import ANONYMIZED_EMAIL, Usage
from promoforge.domain.queries import Comparison, Page, SortKey
from promoforge.storage.repositories.filtering import comparison_condition
from promoforge.storage.repositories.paging import count_and_page
from promoforge.storage.schema import promotion_usages

_FIELDS: dict[str, ColumnElement[Any]] = {
    "id": promotion_usages.c.id,
    "code": promotion_usages.c.code,
    "code_id": promotion_usages.c.code_id,
    "order_id": promotion_usages.c.order_id,
    "customer_id": promotion_usages.c.customer_id,
    "customer_email": promotion_usages.c.customer_email,
    "used_on": promotion_usages.c.used_on,
    "updated_at": promotion_usages.c.updated_at,
}


class UsageRepository:
    """Usages of one store's codes; they outlive their promotion."""

    def __init__(self, connection: Connection, store_id: str) -> None:
        self.connection = connection
        self.store_id = store_id

    def add(self, usages: Sequence[Usage]) -> None:
        """Insert usage records."""
        if usages:
            self.connection.execute(insert(promotion_usages), [self._values(u) for u in usages])

    def list_page(
        self,
        page: Page,
        *,
        promotion_id: str,
        comparisons: Sequence[Comparison],
        sort: SortKey,
        code_id: str | None = None,
    ) -> tuple[list[Usage], int]:
        """A page of a promotion's (or one of its codes') usages matching every comparison, sorted."""
        conditions = [
            promotion_usages.c.store_id == self.store_id,
            promotion_usages.c.promotion_id == promotion_id,
        ]
        if code_id is not None:
            conditions.append(promotion_usages.c.code_id == code_id)
        conditions += [comparison_condition(_FIELDS[c.field], c) for c in comparisons]
        column = _FIELDS[sort.field]
        order = (
            (column.desc(), promotion_usages.c.id.desc())
            if sort.descending
            else (column, promotion_usages.c.id)
        )
        return count_and_page(self.connection, promotion_usages, and_(*conditions), order, page, _usage)

    def anonymize(self, usage_ids: Sequence[str], updated_by: str, now: datetime) -> list[Usage]:
        """Mask the e-mail of these usages (idempotent); return the usages found, in the order asked."""
        if not usage_ids:
            return []
        condition = and_(
            promotion_usages.c.store_id == self.store_id, promotion_usages.c.id.in_(list(usage_ids))
        )
        self.connection.execute(
            update(promotion_usages)
            .where(condition)
            .values(customer_email=ANONYMIZED_EMAIL, anonymized=True, updated_by=updated_by, updated_at=now)
        )
        found = {
            str(row.id): _usage(row)
            for row in self.connection.execute(select(promotion_usages).where(condition))
        }
        return [found[usage_id] for usage_id in dict.fromkeys(usage_ids) if usage_id in found]

    def _values(self, usage: Usage) -> dict[str, Any]:
        return {
            "id": usage.id,
            "store_id": self.store_id,
            "promotion_id": usage.promotion_id,
            "code_id": usage.code_id,
            "code": usage.code,
            "order_id": usage.order_id,
            "times_used": usage.times_used,
            "used_on": usage.used_on,
            "customer_id": usage.customer_id,
            "account_id": usage.account_id,
            "customer_email": usage.customer_email,
            "anonymized": usage.anonymized,
            "updated_at": usage.updated_at,
            "updated_by": usage.updated_by,
        }


def _usage(row: Row[Any]) -> Usage:
    m = row._mapping
    return Usage(
        id=str(m["id"]),
        promotion_id=str(m["promotion_id"]),
        code_id=str(m["code_id"]),
        code=m["code"],
        order_id=None if m["order_id"] is None else str(m["order_id"]),
        times_used=int(m["times_used"]),
        used_on=m["used_on"],
        customer_id=m["customer_id"],
        account_id=m["account_id"],
        customer_email=m["customer_email"],
        anonymized=bool(m["anonymized"]),
        updated_at=m["updated_at"],
        updated_by=m["updated_by"],
    )
