"""Carts on the wire: request bodies as EP clients send them, priced carts as EP shows them (§2-§5)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal

from babel.numbers import format_currency, get_currency_precision
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from promoforge.api.documents.common import ErrorItem, Links, ListMeta
from promoforge.domain.carts import (
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTE_TEXT,
    MAX_CUSTOM_ATTRIBUTES,
    MAX_LINE_DESCRIPTION,
    MAX_QUANTITY,
    AppliedCode,
    CartItem,
    DiscountSettings,
    check_custom_inputs,
    is_cart_id,
)
from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.pricing import (
    CartMessage,
    Discount,
    DisplayAmount,
    LineKind,
    PricedLine,
    display_amount,
)
from promoforge.domain.promotions import Promotion
from promoforge.services.carts import (
    CartChanges,
    CartToMerge,
    CartView,
    CodeToApply,
    NewCustomLine,
    NewLine,
    NewProductLine,
    OrderToRepeat,
)

MAX_BULK_ENTRIES = 100


class _Body(BaseModel):
    """Unknown fields are ignored, as EP does (the SDK spreads arbitrary data into line bodies)."""

    model_config = ConfigDict(extra="ignore")


def _check_representable(value: datetime) -> datetime:
    try:
        value.astimezone(UTC)
    except OverflowError:
        raise ValueError("must be a time before the year 10000 in UTC") from None
    return value


def _check_cart_id(value: str) -> str:
    if not is_cart_id(value):
        raise ValueError("may hold only letters, digits, _ and -, 1 to 64 of them")
    return value


def _check_uuid(value: str) -> str:
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValueError("must be a UUID")
    return parsed


CartId = Annotated[StrictStr, AfterValidator(_check_cart_id)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
NewQuantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
CustomInputs = Annotated[dict[str, Any], Field(max_length=50), AfterValidator(check_custom_inputs)]


class CustomAttribute(_Body):
    """One custom attribute of a cart: a typed value."""

    type: Literal["string", "integer", "boolean", "float"]
    value: Annotated[StrictStr, Field(max_length=MAX_ATTRIBUTE_TEXT)] | StrictInt | StrictBool | float

    @model_validator(mode="after")
    def _value_has_its_type(self) -> CustomAttribute:
        expected: dict[str, tuple[type, ...]] = {
            "string": (str,),
            "integer": (int,),
            "boolean": (bool,),
            "float": (int, float),
        }
        if not isinstance(self.value, expected[self.type]) or (
            self.type != "boolean" and isinstance(self.value, bool)
        ):
            raise ValueError(f"value must be a {self.type}")
        return self


class DiscountSettingsBody(_Body):
    """`discount_settings` of a cart."""

    custom_discounts_enabled: StrictBool = False
    use_rule_promotions: StrictBool = False


class CartData(_Body):
    """The fields of a cart a client sets (C4, C6)."""

    id: CartId | None = None
    name: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    description: Annotated[StrictStr, Field(max_length=10_000)] | None = None
    discount_settings: DiscountSettingsBody | None = None
    snapshot_date: Annotated[AwareDatetime, AfterValidator(_check_representable)] | None = None
    custom_attributes: (
        Annotated[
            dict[Annotated[str, StringConstraints(max_length=MAX_ATTRIBUTE_NAME)], CustomAttribute],
            Field(max_length=MAX_CUSTOM_ATTRIBUTES),
        ]
        | None
    ) = None

    @model_validator(mode="after")
    def _name_not_blank(self) -> CartData:
        if self.name is not None and not self.name.strip():
            raise ValueError("name must not be blank")
        return self

    def changes(self) -> CartChanges:
        """The partial update these fields make."""
        settings = self.discount_settings
        return CartChanges(
            name=self.name,
            description=self.description,
            discount_settings=None
            if settings is None
            else DiscountSettings(settings.custom_discounts_enabled, settings.use_rule_promotions),
            snapshot_date=self.snapshot_date,
            custom_attributes=None
            if self.custom_attributes is None
            else {name: attribute.model_dump() for name, attribute in self.custom_attributes.items()},
            removes_snapshot_date="snapshot_date" in self.model_fields_set and self.snapshot_date is None,
        )


class CartRequest(_Body):
    """`{"data": cart}`."""

    data: CartData


class ProductEntry(_Body):
    """A catalog product line to add, by `id` or by `sku`."""

    type: Literal["cart_item"]
    id: Annotated[StrictStr, AfterValidator(_check_uuid)] | None = None
    sku: Annotated[StrictStr, Field(min_length=1, max_length=255)] | None = None
    quantity: Quantity = 1
    custom_inputs: CustomInputs | None = None

    @model_validator(mode="after")
    def _id_or_sku(self) -> ProductEntry:
        if self.id is None and self.sku is None:
            raise ValueError("a cart_item needs an id or a sku")
        return self

    def entry(self) -> NewLine:
        """The service's form."""
        return NewProductLine(
            quantity=self.quantity, product_id=self.id, sku=self.sku, custom_inputs=self.custom_inputs
        )


class CustomPrice(_Body):
    """A custom item's price in the cart currency; tax included unless said otherwise (§4.2)."""

    amount: Amount
    includes_tax: StrictBool = True


class CustomEntry(_Body):
    """A line priced by the caller."""

    type: Literal["custom_item"]
    name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    sku: Annotated[StrictStr, Field(max_length=255)] = ""
    description: Annotated[StrictStr, Field(max_length=MAX_LINE_DESCRIPTION)] = ""
    quantity: Quantity
    price: CustomPrice
    custom_inputs: CustomInputs | None = None

    def entry(self) -> NewLine:
        """The service's form."""
        return NewCustomLine(
            name=self.name,
            quantity=self.quantity,
            unit_price=self.price.amount,
            includes_tax=self.price.includes_tax,
            sku=self.sku,
            description=self.description,
            custom_inputs=self.custom_inputs,
        )


class PromotionEntry(_Body):
    """A code to apply (C1)."""

    type: Literal["promotion_item"]
    code: Annotated[StrictStr, Field(min_length=1, max_length=1024)]

    def entry(self) -> NewLine:
        """The service's form."""
        return CodeToApply(code=self.code)


class CartMergeEntry(_Body):
    """Merge another cart into this one (`cart_items`; the SDK's `Cart(id).Merge(otherId)`)."""

    type: Literal["cart_items"]
    cart_id: CartId

    def source(self, *, all_or_nothing: bool) -> NewLine:
        """The service's form, with the request's options."""
        return CartToMerge(self.cart_id, all_or_nothing=all_or_nothing)


class ReorderEntry(_Body):
    """Add an order's items again (`order_items`, re-order)."""

    type: Literal["order_items"]
    order_id: Annotated[StrictStr, AfterValidator(_check_uuid)]

    def source(self, *, all_or_nothing: bool) -> NewLine:
        """The service's form, with the request's options."""
        return OrderToRepeat(self.order_id, all_or_nothing=all_or_nothing)


Entry = Annotated[
    ProductEntry | CustomEntry | PromotionEntry | CartMergeEntry | ReorderEntry, Field(discriminator="type")
]


class AddOptions(_Body):
    """`options` of a bulk add."""

    add_all_or_nothing: StrictBool = False


class AddItemsRequest(_Body):
    """One entry, or a bulk array (also the SDK's `{"data":{"data":[...]}}` without options, B24)."""

    data: Entry | Annotated[list[Entry], Field(min_length=1, max_length=MAX_BULK_ENTRIES)]
    options: AddOptions | None = None

    @model_validator(mode="before")
    @classmethod
    def _unwrap_double_data(cls, value: Any) -> Any:
        if isinstance(value, dict):
            inner = value.get("data")
            if isinstance(inner, dict) and set(inner) == {"data"} and isinstance(inner["data"], list):
                return {**value, "data": inner["data"]}
        return value

    @property
    def bulk(self) -> bool:
        """Whether the request carried an array."""
        return isinstance(self.data, list)

    def entries(self) -> list[NewLine]:
        """The entries in order; a merge or a re-order also takes `add_all_or_nothing`."""
        all_or_nothing = bool(self.options and self.options.add_all_or_nothing)
        return [
            item.source(all_or_nothing=all_or_nothing)
            if isinstance(item, CartMergeEntry | ReorderEntry)
            else item.entry()
            for item in (self.data if isinstance(self.data, list) else [self.data])
        ]


class QuantityData(_Body):
    """C10: a new quantity; `type` and `id` in the body are ignored, the path names the line (§4.4)."""

    quantity: NewQuantity


class QuantityRequest(_Body):
    """`{"data": {"quantity": n}}`."""

    data: QuantityData


class BulkQuantityData(_Body):
    """One line of a C13 bulk update."""

    id: Annotated[StrictStr, AfterValidator(_check_uuid)]
    quantity: NewQuantity


class BulkQuantityRequest(_Body):
    """C13: `{"data": [{"id", "quantity"}, ...]}`."""

    data: Annotated[list[BulkQuantityData], Field(min_length=1, max_length=MAX_BULK_ENTRIES)]


# Responses, as OpenAPI describes them (the renderers below build them as plain dicts)


class FormattedMoney(BaseModel):
    """`{amount, currency, formatted}`; `currency` is "" and `formatted` "0" in a cart without a currency."""

    amount: int
    currency: str
    formatted: str


class PriceDocument(BaseModel):
    """`{amount, currency, includes_tax}`."""

    amount: int
    currency: str
    includes_tax: bool


class DisplayBlock(BaseModel):
    """A line total and the per-unit figure rounded from it."""

    unit: FormattedMoney
    value: FormattedMoney


class DiscountByCode(FormattedMoney):
    """One code's discount, split by the promotions behind it."""

    constituents: dict[str, FormattedMoney]


class LineDisplayPrice(BaseModel):
    """A line's display blocks (§2.3)."""

    with_tax: DisplayBlock
    without_tax: DisplayBlock
    tax: DisplayBlock
    discount: DisplayBlock
    without_discount: DisplayBlock
    discounts: dict[str, DiscountByCode] | None = None


class LineTimestamps(BaseModel):
    """When a line was added and last changed."""

    created_at: str
    updated_at: str


class LineMeta(BaseModel):
    """A line's `meta`."""

    display_price: LineDisplayPrice
    timestamps: LineTimestamps


class ImageDocument(BaseModel):
    """A line's image (three empty strings without one)."""

    mime_type: str
    file_name: str
    href: str


class LineDiscount(BaseModel):
    """An item-level discount on a line."""

    amount: PriceDocument
    code: str
    id: str


class CartLineResource(BaseModel):
    """A cart line: a catalog product, a custom item, or a cart-level promotion (§4.6)."""

    id: str
    type: Literal["cart_item", "custom_item", "promotion_item"]
    product_id: str | None = None
    promotion_id: str | None = None
    name: str
    description: str
    sku: str
    slug: str
    image: ImageDocument
    quantity: int
    manage_stock: bool
    unit_price: PriceDocument
    value: PriceDocument
    discounts: list[LineDiscount] | None = None
    links: dict[str, str]
    meta: LineMeta
    catalog_id: str | None = None
    catalog_source: str | None = None
    custom_inputs: dict[str, Any] | None = None
    auto_add_quantity: int | None = None
    relationships: dict[str, Any] | None = None


class CartTotals(BaseModel):
    """A cart's totals (§2.2)."""

    with_tax: FormattedMoney
    without_tax: FormattedMoney
    tax: FormattedMoney
    discount: FormattedMoney
    without_discount: FormattedMoney
    shipping: FormattedMoney
    discounts: dict[str, DiscountByCode] | None = None


class CartTimestamps(BaseModel):
    """When a cart was made, last changed, and will be purged."""

    created_at: str
    updated_at: str
    expires_at: str


class CartMeta(BaseModel):
    """A cart's `meta`."""

    display_price: CartTotals
    timestamps: CartTimestamps


class DiscountSettingsDocument(BaseModel):
    """A cart's discount switches."""

    custom_discounts_enabled: bool
    use_rule_promotions: bool


class CartResource(BaseModel):
    """The cart object (§3.2)."""

    id: str
    type: Literal["cart"]
    name: str
    description: str
    discount_settings: DiscountSettingsDocument
    links: dict[str, str]
    meta: CartMeta
    relationships: dict[str, Any]
    snapshot_date: str | None = None
    custom_attributes: dict[str, Any] | None = None


class CondensedPromotion(BaseModel):
    """A promotion as `included.promotions` shows it (§3.5)."""

    type: Literal["promotion"]
    id: str
    name: str
    description: str
    automatic: bool
    promotion_type: str
    start: str
    end: str


class CartIncluded(BaseModel):
    """`included` of a cart read with `include`."""

    items: list[CartLineResource] | None = None
    promotions: list[CondensedPromotion] | None = None


class CartDocument(BaseModel):
    """`{data: cart}` with what `include` asked for."""

    data: CartResource
    included: CartIncluded | None = None


class MessageSource(BaseModel):
    """What a message is about."""

    type: str
    id: str
    code: str | None = None


class MessageDocument(BaseModel):
    """One `meta.messages` entry (§2.5)."""

    source: MessageSource
    title: str
    description: str


class ItemsMeta(BaseModel):
    """Totals and timestamps of the collection; messages after a change; gift suggestions."""

    display_price: CartTotals
    timestamps: CartTimestamps
    messages: list[MessageDocument] | None = None
    promotion_suggestions: list[dict[str, Any]] | None = None


class ItemsDocument(BaseModel):
    """The lines with totals (§4.7); a partial bulk add lists its failures in `errors` (§4.8)."""

    data: list[CartLineResource]
    meta: ItemsMeta
    errors: list[ErrorItem] | None = None
    included: CartIncluded | None = None


class CartListDocument(BaseModel):
    """A page of carts."""

    data: list[CartResource]
    links: Links
    meta: ListMeta


# Money (§2.1, B47)


FORMAT_LOCALE = "en_US"


@dataclass(frozen=True)
class MoneyStyle:
    """How `format_currency` writes a currency in the service's locale: its symbol before a grouped number."""

    symbol: str
    digits: int


@cache
def money_style(currency: str) -> MoneyStyle | None:
    """The currency's style, learnt once from babel; None when babel writes it in another shape."""
    digits = get_currency_precision(currency)
    probe = 123_456_789
    written = str(format_currency(Decimal(probe).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    number = _grouped(probe, digits)
    if not written.endswith(number):
        return None
    style = MoneyStyle(written.removesuffix(number), digits)
    negative = str(format_currency(Decimal(-probe).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    return style if negative == f"-{style.symbol}{number}" else None


def _grouped(amount: int, digits: int) -> str:
    major, minor = divmod(amount, 10**digits)
    return f"{major:,}.{minor:0{digits}d}" if digits else f"{major:,}"


def formatted(amount: int, currency: str) -> str:
    """An amount in minor units as the shopper reads it: `$89.99`, `-$10.00`; `0` with no currency."""
    if not currency:
        return "0"
    # Babel is the reference; a pricing writes a thousand amounts, so its shape is learnt once per currency.
    style = money_style(currency)
    if style is None:
        digits = get_currency_precision(currency)
        return str(format_currency(Decimal(amount).scaleb(-digits), currency, locale=FORMAT_LOCALE))
    sign = "-" if amount < 0 else ""
    return f"{sign}{style.symbol}{_grouped(abs(amount), style.digits)}"


def formatted_price(amount: int, currency: str) -> dict[str, Any]:
    """`{amount, currency, formatted}`."""
    return {"amount": amount, "currency": currency, "formatted": formatted(amount, currency)}


def price(amount: int, currency: str, includes_tax: bool) -> dict[str, Any]:
    """`{amount, currency, includes_tax}`."""
    return {"amount": amount, "currency": currency, "includes_tax": includes_tax}


def display_block(amount: DisplayAmount, currency: str) -> dict[str, Any]:
    """A display block: `{unit, value}`, each with its formatted amount."""
    return {"unit": formatted_price(amount.unit, currency), "value": formatted_price(amount.value, currency)}


def _seconds(value: datetime) -> str:
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"


# Documents


def cart_resource(view: CartView, base_url: str, *, include: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The cart object (§3.2)."""
    cart = view.cart
    relationships: dict[str, Any] = {
        "items": {"data": _line_references(view) or None},
        "customers": {"data": [{"type": "customer", "id": cart.customer_id}]} if cart.customer_id else {},
        "accounts": {"data": [{"type": "account", "id": cart.account_id}]} if cart.account_id else {},
    }
    if "promotions" in include:
        relationships["promotions"] = {
            "data": [{"type": "promotion", "id": d.promotion_id} for d in view.priced.cart_promotions]
        }
    resource: dict[str, Any] = {
        "id": cart.id,
        "type": "cart",
        "name": cart.name,
        "description": cart.description,
        "discount_settings": {
            "custom_discounts_enabled": cart.discount_settings.custom_discounts_enabled,
            "use_rule_promotions": cart.discount_settings.use_rule_promotions,
        },
        "links": {"self": f"{base_url}/v2/carts/{cart.id}"},
        "meta": {"display_price": _cart_totals(view), "timestamps": _cart_timestamps(view)},
        "relationships": relationships,
    }
    if cart.snapshot_date is not None:
        resource["snapshot_date"] = _seconds(cart.snapshot_date)
    if cart.custom_attributes:
        resource["custom_attributes"] = dict(cart.custom_attributes)
    return resource


def cart_document(view: CartView, base_url: str, include: frozenset[str]) -> dict[str, Any]:
    """C4/C5/C6: `{data: cart}`, with `included.items` / `included.promotions` when asked (§3.4)."""
    document: dict[str, Any] = {"data": cart_resource(view, base_url, include=include)}
    included: dict[str, Any] = {}
    if "items" in include:
        included["items"] = _lines(view, base_url, with_promotions="promotions" in include)
    if "promotions" in include:
        cart_level = [d.promotion_id for d in view.priced.cart_promotions]
        item_level = [a.promotion_id for a in view.priced.applications if not a.cart_level]
        shown = cart_level + (item_level if "items" in include else [])
        included["promotions"] = [
            condensed_promotion(view.promotions[pid]) for pid in shown if pid in view.promotions
        ]
    if included:
        document["included"] = included
    return document


def items_document(
    view: CartView,
    base_url: str,
    *,
    include: frozenset[str] = frozenset(),
    messages: bool = False,
    errors: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """C8 and every line mutation: the whole collection with totals (§4.7), messages on mutations (B31)."""
    meta: dict[str, Any] = {"display_price": _cart_totals(view), "timestamps": _cart_timestamps(view)}
    if messages and view.messages:
        meta["messages"] = [_message(message) for message in view.messages]
    suggestions = view.priced.suggestions
    if suggestions:
        meta["promotion_suggestions"] = [
            {
                "promotion_id": s.promotion_id,
                "code": s.code,
                "info": view.promotions[s.promotion_id].attributes.description
                if s.promotion_id in view.promotions
                else "",
                "bundle": [{"targets": [s.gift], "quantity": s.quantity, "auto_add_free_gift": s.auto_add}],
                "message": "Gift",
            }
            for s in suggestions
        ]
    document: dict[str, Any] = {
        "data": _lines(view, base_url, with_promotions="promotions" in include),
        "meta": meta,
    }
    if errors:
        document["errors"] = errors
    if "promotions" in include:
        shown = [a.promotion_id for a in view.priced.applications]
        document["included"] = {
            "promotions": [
                condensed_promotion(view.promotions[pid]) for pid in shown if pid in view.promotions
            ]
        }
    return document


def condensed_promotion(promotion: Promotion) -> dict[str, Any]:
    """The condensed promotion of `included.promotions` (§3.5)."""
    attributes = promotion.attributes
    return {
        "type": "promotion",
        "id": promotion.id,
        "name": attributes.name,
        "description": attributes.description,
        "automatic": attributes.automatic,
        "promotion_type": attributes.promotion_type.value,
        "start": _seconds(attributes.start),
        "end": _seconds(attributes.end),
    }


def _cart_totals(view: CartView) -> dict[str, Any]:
    currency = view.priced.currency
    totals = view.priced.totals
    display: dict[str, Any] = {
        "with_tax": formatted_price(totals.with_tax, currency),
        "without_tax": formatted_price(totals.without_tax, currency),
        "tax": formatted_price(0, currency),
        "discount": formatted_price(-totals.discount, currency),
        "without_discount": formatted_price(totals.without_discount, currency),
        "shipping": formatted_price(0, currency),
    }
    by_code: dict[str, dict[str, int]] = {}
    for application in view.priced.applications:
        by_code.setdefault(application.code, {})[application.promotion_id] = application.amount
    if by_code:
        display["discounts"] = {code: _discount_entry(parts, currency) for code, parts in by_code.items()}
    return display


def _discount_entry(parts: dict[str, int], currency: str) -> dict[str, Any]:
    total = sum(parts.values())
    return {
        **formatted_price(-total, currency),
        "constituents": {pid: formatted_price(-amount, currency) for pid, amount in parts.items()},
    }


def _cart_timestamps(view: CartView) -> dict[str, str]:
    cart = view.cart
    return {
        "created_at": _seconds(cart.created_at),
        "updated_at": _seconds(cart.updated_at),
        "expires_at": _seconds(cart.expires_at(view.expiry_days)),
    }


def _line_references(view: CartView) -> list[dict[str, str]]:
    """`{type, id}` of each line, in `_lines` order, without rendering the lines."""
    references = [{"type": item.kind.value, "id": item.id} for item in view.items]
    references.extend(
        {"type": "promotion_item", "id": view.promotion_line_id(d.promotion_id)}
        for d in view.priced.cart_promotions
    )
    return references


def _lines(view: CartView, base_url: str, *, with_promotions: bool = False) -> list[dict[str, Any]]:
    """Product and custom lines by creation, then promotion lines (B52)."""
    priced = {line.line_id: line for line in view.priced.lines}
    lines = [_item_line(item, priced[item.id], view, base_url, with_promotions) for item in view.items]
    applied = {code.promotion_id: code for code in view.codes}
    for discount in view.priced.cart_promotions:
        lines.append(_promotion_line(discount, view, applied.get(discount.promotion_id), with_promotions))
    return lines


def _item_line(
    item: CartItem, priced: PricedLine, view: CartView, base_url: str, with_promotions: bool
) -> dict[str, Any]:
    currency = view.priced.currency
    display = priced.display()
    blocks: dict[str, Any] = {
        "with_tax": display_block(display.with_tax, currency),
        "without_tax": display_block(display.without_tax, currency),
        "tax": display_block(display.tax, currency),
        "discount": display_block(display.discount, currency),
        "without_discount": display_block(display.without_discount, currency),
    }
    if priced.item_discounts:
        blocks["discounts"] = {
            d.code: _discount_entry({d.promotion_id: d.amount}, currency) for d in priced.item_discounts
        }
    line: dict[str, Any] = {"id": item.id, "type": item.kind.value}
    if item.kind is LineKind.PRODUCT:
        line["product_id"] = item.product_id
    line.update(
        {
            "name": item.name,
            "description": item.description,
            "sku": item.sku,
            "slug": item.slug,
            "image": _image(item.image_href),
            "quantity": item.quantity,
            "manage_stock": False,
            "unit_price": price(item.unit_price, currency, item.includes_tax),
            "value": price(item.unit_price * item.quantity, currency, item.includes_tax),
        }
    )
    if priced.item_discounts:
        line["discounts"] = [
            {"amount": price(-d.amount, currency, False), "code": d.code, "id": d.promotion_id}
            for d in priced.item_discounts
        ]
    line["links"] = {"product": f"{base_url}/v2/products/{item.product_id}"} if item.product_id else {}
    line["meta"] = {
        "display_price": blocks,
        "timestamps": {"created_at": _seconds(item.created_at), "updated_at": _seconds(item.updated_at)},
    }
    if item.kind is LineKind.PRODUCT:
        if item.catalog_id:
            line["catalog_id"] = item.catalog_id
        line["catalog_source"] = "pim"
    if item.custom_inputs:
        line["custom_inputs"] = dict(item.custom_inputs)
    if item.auto_add_quantity:
        line["auto_add_quantity"] = item.auto_add_quantity
    if with_promotions:
        line["relationships"] = _line_relationships([d.promotion_id for d in priced.item_discounts])
    return line


def _promotion_line(
    discount: Discount, view: CartView, applied: AppliedCode | None, with_promotions: bool
) -> dict[str, Any]:
    currency = view.priced.currency
    promotion = view.promotions.get(discount.promotion_id)
    negative = DisplayAmount(-discount.amount, -discount.amount)
    at = _seconds(applied.applied_at if applied else view.cart.updated_at)
    line: dict[str, Any] = {
        "id": view.promotion_line_id(discount.promotion_id),
        "type": "promotion_item",
        "promotion_id": discount.promotion_id,
        "name": promotion.attributes.name if promotion else "",
        "description": "Promotion",
        "sku": discount.code,
        "slug": "",
        "image": _image(None),
        "quantity": 1,
        "manage_stock": False,
        "unit_price": price(-discount.amount, currency, False),
        "value": price(-discount.amount, currency, False),
        "links": {},
        "meta": {
            "display_price": {
                "with_tax": display_block(negative, currency),
                "without_tax": display_block(negative, currency),
                "tax": display_block(display_amount(0, 1), currency),
                "discount": display_block(display_amount(0, 1), currency),
                "without_discount": display_block(display_amount(0, 1), ""),
            },
            "timestamps": {"created_at": at, "updated_at": at},
        },
    }
    if with_promotions:
        line["relationships"] = _line_relationships([discount.promotion_id])
    return line


def _line_relationships(promotion_ids: list[str]) -> dict[str, Any]:
    return {
        "taxes": {"data": None},
        "custom_discounts": {"data": None},
        "promotions": {"data": [{"type": "promotion", "id": pid} for pid in promotion_ids]},
    }


def _image(href: str | None) -> dict[str, str]:
    if not href:
        return {"mime_type": "", "file_name": "", "href": ""}
    name = href.rsplit("/", 1)[-1]
    return {"mime_type": "", "file_name": name, "href": href}


def _message(message: CartMessage) -> dict[str, Any]:
    source: dict[str, Any] = {"type": message.source_type, "id": message.source_id}
    if message.code is not None:
        source["code"] = message.code
    return {"source": source, "title": message.title, "description": message.description}
