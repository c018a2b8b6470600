"""Cart bodies as EP clients send them: carts, lines to add, quantities (§3-§5)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    StringConstraints,
    model_validator,
)

from promoforge.api.documents.common import RequestBody, UUIDText
from promoforge.domain.carts import (
    MAX_ATTRIBUTE_NAME,
    MAX_ATTRIBUTE_TEXT,
    MAX_CUSTOM_ATTRIBUTES,
    MAX_LINE_DESCRIPTION,
    MAX_QUANTITY,
    DiscountSettings,
    check_custom_inputs,
    is_cart_id,
)
from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.services.carts import (
    CartChanges,
    CartToMerge,
    CodeToApply,
    NewCustomLine,
    NewLine,
    NewProductLine,
    OrderToRepeat,
)

MAX_BULK_ENTRIES = 100


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


CartId = Annotated[StrictStr, AfterValidator(_check_cart_id)]
Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_QUANTITY)]
NewQuantity = Annotated[StrictInt, Field(ge=0, le=MAX_QUANTITY)]
Amount = Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
CustomInputs = Annotated[dict[str, Any], Field(max_length=50), AfterValidator(check_custom_inputs)]


class CustomAttribute(RequestBody):
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


class DiscountSettingsBody(RequestBody):
    """`discount_settings` of a cart."""

    custom_discounts_enabled: StrictBool = False
    use_rule_promotions: StrictBool = False


class CartData(RequestBody):
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


class CartRequest(RequestBody):
    """`{"data": cart}`."""

    data: CartData


class ProductEntry(RequestBody):
    """A catalog product line to add, by `id` or by `sku`."""

    type: Literal["cart_item"]
    id: UUIDText | None = None
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


class CustomPrice(RequestBody):
    """A custom item's price in the cart currency; tax included unless said otherwise (§4.2)."""

    amount: Amount
    includes_tax: StrictBool = True


class CustomEntry(RequestBody):
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


class PromotionEntry(RequestBody):
    """A code to apply (C1)."""

    type: Literal["promotion_item"]
    code: Annotated[StrictStr, Field(min_length=1, max_length=1024)]

    def entry(self) -> NewLine:
        """The service's form."""
        return CodeToApply(code=self.code)


class CartMergeEntry(RequestBody):
    """Merge another cart into this one (`cart_items`; the SDK's `Cart(id).Merge(otherId)`)."""

    type: Literal["cart_items"]
    cart_id: CartId

    def source(self, *, all_or_nothing: bool) -> NewLine:
        """The service's form, with the request's options."""
        return CartToMerge(self.cart_id, all_or_nothing=all_or_nothing)


class ReorderEntry(RequestBody):
    """Add an order's items again (`order_items`, re-order)."""

    type: Literal["order_items"]
    order_id: UUIDText

    def source(self, *, all_or_nothing: bool) -> NewLine:
        """The service's form, with the request's options."""
        return OrderToRepeat(self.order_id, all_or_nothing=all_or_nothing)


Entry = Annotated[
    ProductEntry | CustomEntry | PromotionEntry | CartMergeEntry | ReorderEntry, Field(discriminator="type")
]


class AddOptions(RequestBody):
    """`options` of a bulk add."""

    add_all_or_nothing: StrictBool = False


class AddItemsRequest(RequestBody):
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


class QuantityData(RequestBody):
    """C10: a new quantity; `type` and `id` in the body are ignored, the path names the line (§4.4)."""

    quantity: NewQuantity


class QuantityRequest(RequestBody):
    """`{"data": {"quantity": n}}`."""

    data: QuantityData


class BulkQuantityData(RequestBody):
    """One line of a C13 bulk update."""

    id: UUIDText
    quantity: NewQuantity


class BulkQuantityRequest(RequestBody):
    """C13: `{"data": [{"id", "quantity"}, ...]}`."""

    data: Annotated[list[BulkQuantityData], Field(min_length=1, max_length=MAX_BULK_ENTRIES)]
