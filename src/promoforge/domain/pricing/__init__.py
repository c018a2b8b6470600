"""The discount engine: prices a cart's lines with Standard promotions exactly as Elastic Path shows them."""

from promoforge.domain.pricing.engine import is_cart_level, price_cart
from promoforge.domain.pricing.inputs import (
    AUTOMATIC_CODE_PREFIX,
    CartLine,
    LineKind,
    Offer,
    ProductFacts,
    automatic_code,
)
from promoforge.domain.pricing.messages import (
    CartMessage,
    currency_mismatch,
    gift_added,
    pricing_changes,
    promotion_line_messages,
)
from promoforge.domain.pricing.results import (
    Application,
    Discount,
    DisplayAmount,
    GiftSuggestion,
    LineDisplay,
    PricedCart,
    PricedLine,
    Skipped,
    SkipReason,
    Totals,
    display_amount,
)
from promoforge.domain.pricing.rounding import apportion, divide_rounded, percent_of

__all__ = [
    "AUTOMATIC_CODE_PREFIX",
    "Application",
    "CartLine",
    "CartMessage",
    "Discount",
    "DisplayAmount",
    "GiftSuggestion",
    "LineDisplay",
    "LineKind",
    "Offer",
    "PricedCart",
    "PricedLine",
    "ProductFacts",
    "SkipReason",
    "Skipped",
    "Totals",
    "apportion",
    "automatic_code",
    "currency_mismatch",
    "display_amount",
    "divide_rounded",
    "gift_added",
    "is_cart_level",
    "percent_of",
    "price_cart",
    "pricing_changes",
    "promotion_line_messages",
]
