"""The `meta.messages` a cart mutation answers with: what changed between two pricings (§2.5, B14, B31)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from promoforge.domain.pricing.results import PricedCart, PricedLine

PROMOTION_ADDED = ("Promotion Added", "Promotion has been added to cart.")
PROMOTION_DELETED = ("Deleted Promotion", "Promotion has been removed from cart.")
DISCOUNT_ADDED = ("Discount Added", "Item discount has been added.")
DISCOUNT_UPDATED = ("Discount Updated", "Item discount has been updated.")
DISCOUNT_DELETED = ("Discount Deleted", "Item discount has been removed.")


@dataclass(frozen=True)
class CartMessage:
    """One informational message: what it is about (`source`), a title and a description."""

    source_type: str
    source_id: str
    title: str
    description: str
    code: str | None = None


def currency_mismatch(promotion_id: str, code: str, currency: str) -> CartMessage:
    """The message for a promotion with no amount in the cart currency (P14, B13)."""
    return CartMessage(
        source_type="promotion",
        source_id=promotion_id,
        title="currency mismatch",
        description=f"discount unavailable in currency {currency}",
        code=code,
    )


def gift_added(promotion_id: str, code: str) -> CartMessage:
    """The message of a code whose free gifts were just added at their price (§5.4, revised)."""
    return CartMessage(
        source_type="promotion",
        source_id=promotion_id,
        title="Gift Added",
        description="The free gift was added to the cart; apply the code again to make it free.",
        code=code,
    )


def promotion_line_messages(line_id: str, *, removed: bool, added: bool) -> list[CartMessage]:
    """The messages of a promotion line that went and/or came."""
    texts = ([PROMOTION_DELETED] if removed else []) + ([PROMOTION_ADDED] if added else [])
    return [_message("promotion_item", line_id, text) for text in texts]


def pricing_changes(
    before: PricedCart, after: PricedCart, *, promotion_line_id: Callable[[str], str]
) -> list[CartMessage]:
    """Messages for promotion lines that appeared or went, and line discounts that came, changed or went."""
    messages: list[CartMessage] = []
    old_promotions = {d.promotion_id for d in before.cart_promotions}
    new_promotions = {d.promotion_id for d in after.cart_promotions}
    for discount in before.cart_promotions:
        if discount.promotion_id not in new_promotions:
            messages.append(
                _message("promotion_item", promotion_line_id(discount.promotion_id), PROMOTION_DELETED)
            )
    for discount in after.cart_promotions:
        if discount.promotion_id not in old_promotions:
            messages.append(
                _message("promotion_item", promotion_line_id(discount.promotion_id), PROMOTION_ADDED)
            )
    old_lines = {line.line_id: line for line in before.lines}
    for line in after.lines:
        old = old_lines.get(line.line_id)
        was, now = _item_discounts(old), _item_discounts(line)
        if was == now:
            continue
        kind = DISCOUNT_ADDED if not was else DISCOUNT_DELETED if not now else DISCOUNT_UPDATED
        messages.append(_message(line.kind.value, line.line_id, kind))
    return messages


def _item_discounts(line: PricedLine | None) -> tuple[tuple[str, int], ...]:
    if line is None:
        return ()
    return tuple((d.promotion_id, d.amount) for d in line.item_discounts)


def _message(source_type: str, source_id: str, text: tuple[str, str]) -> CartMessage:
    return CartMessage(source_type=source_type, source_id=source_id, title=text[0], description=text[1])
