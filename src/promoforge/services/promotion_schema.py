"""Validation of promotion documents: top-level fields and the schema of each promotion type."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
)

from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.domain.errors import FieldProblem, InvalidInput, SemanticError
from promoforge.domain.models import PromotionAttributes
from promoforge.domain.promotions import (
    PromotionType,
    check_currency,
    check_decimals,
    check_window,
    money_list_problems,
    parse_promotion_time,
    schema_rule_problems,
)
from promoforge.services.validation import field_problems

MAX_LIST_ITEMS = 1000
MAX_CONDITION_GROUPS = 10
MAX_CONDITIONS_PER_GROUP = 5

NonNegativeInt = Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)]
PositiveInt = Annotated[StrictInt, Field(ge=1, le=MAX_SAFE_INTEGER)]
Currency = Annotated[StrictStr, AfterValidator(check_currency)]
Percent = Annotated[StrictInt | StrictFloat, Field(gt=0, le=100), AfterValidator(check_decimals)]
Identifier = Annotated[StrictStr, Field(min_length=1, max_length=255)]
IdentifierList = Annotated[list[Identifier], Field(max_length=MAX_LIST_ITEMS)]


def _time_from_text(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a date (YYYY-MM-DD) or date-time (RFC 3339) string")
    if len(value) > 64:
        raise ValueError("is too long for a date-time")
    return parse_promotion_time(value)


PromotionTime = Annotated[datetime, BeforeValidator(_time_from_text)]


class _Strict(BaseModel):
    """Unknown fields are dropped, as EP does, so round-tripped GET responses are accepted."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Money(_Strict):
    """An amount in minor units of one currency."""

    currency: Currency
    amount: NonNegativeInt


class Percentage(_Strict):
    """A percentage for one currency."""

    currency: Currency
    percentage: Percent


class Attribute(_Strict):
    """A product attribute to match."""

    template: Identifier
    field: Identifier
    type: Literal["string", "integer", "boolean", "float", "date"]
    value: StrictStr | StrictInt | StrictFloat | StrictBool | None = None
    values: (
        Annotated[list[StrictStr | StrictInt | StrictFloat | StrictBool], Field(max_length=MAX_LIST_ITEMS)]
        | None
    ) = None


class NodeCondition(_Strict):
    """Hierarchy nodes to match."""

    values: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_LIST_ITEMS)]


class Condition(_Strict):
    """One condition: an attribute or a node match."""

    attribute: Attribute | None = None
    node: NodeCondition | None = None


class ConditionGroup(_Strict):
    """Conditions that must all hold."""

    and_: Annotated[list[Condition], Field(min_length=1, max_length=MAX_CONDITIONS_PER_GROUP, alias="and")]


class Conditions(_Strict):
    """Groups of which at least one must hold."""

    or_: Annotated[list[ConditionGroup], Field(min_length=1, max_length=MAX_CONDITION_GROUPS, alias="or")]


class Exclude(_Strict):
    """Items excluded from the promotion when they match any criterion."""

    targets: IdentifierList | None = None
    nodes: IdentifierList | None = None
    attributes: Annotated[list[Attribute], Field(max_length=MAX_LIST_ITEMS)] | None = None
    conditions: Conditions | None = None


class Requirement(_Strict):
    """A bundle requirement: `quantity` units of any of `targets`."""

    targets: Annotated[list[Identifier], Field(min_length=1, max_length=MAX_LIST_ITEMS)]
    quantity: PositiveInt


class _CartSchema(_Strict):
    target_catalogs: IdentifierList | None = None
    exclude: Exclude | None = None
    conditions: Conditions | None = None


class _ItemTargeting(_Strict):
    targets: IdentifierList | None = None
    target_nodes: IdentifierList | None = None
    target_attributes: Annotated[list[Attribute], Field(max_length=MAX_LIST_ITEMS)] | None = None
    target_conditions: Conditions | None = None
    target_catalogs: IdentifierList | None = None
    exclude: Exclude | None = None


MoneyList = Annotated[list[Money], Field(min_length=1, max_length=200)]


class FixedDiscountSchema(_CartSchema):
    """Cart: subtract an amount from the cart total."""

    currencies: MoneyList


class PercentDiscountSchema(_CartSchema):
    """Cart: take a percentage off every item."""

    currencies: Annotated[list[Percentage], Field(min_length=1, max_length=200)]


class ItemFixedDiscountSchema(_ItemTargeting):
    """Item: take an amount off each eligible unit."""

    currencies: MoneyList


class ItemPercentDiscountSchema(_ItemTargeting):
    """Item: take a percentage off each eligible unit."""

    percent: Percent
    targets: IdentifierList | Literal["all"] | None = None  # type: ignore[assignment]


class XForYSchema(_ItemTargeting):
    """Item: take x units of a product, pay for y."""

    x: Annotated[StrictInt, Field(ge=2, le=1_000_000)]
    y: Annotated[StrictInt, Field(ge=1, le=1_000_000)]


class XForAmountSchema(_ItemTargeting):
    """Item: x units of a product for a fixed total."""

    x: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    currencies: MoneyList


class BundleFixedDiscountSchema(_Strict):
    """Item: a bundle of requirements for a fixed total."""

    requirements: Annotated[list[Requirement], Field(min_length=1, max_length=100)]
    currencies: MoneyList
    target_catalogs: IdentifierList | None = None


class BundleGiftSchema(_Strict):
    """Item: gifts become free when the requirements are met."""

    requirements: Annotated[list[Requirement], Field(min_length=1, max_length=100)]
    gifts: Annotated[list[Identifier], Field(min_length=1, max_length=100)]
    auto_add_free_gift: StrictBool = False
    target_catalogs: IdentifierList | None = None


SCHEMA_MODELS: dict[PromotionType, type[_Strict]] = {
    PromotionType.FIXED_DISCOUNT: FixedDiscountSchema,
    PromotionType.PERCENT_DISCOUNT: PercentDiscountSchema,
    PromotionType.ITEM_FIXED_DISCOUNT: ItemFixedDiscountSchema,
    PromotionType.ITEM_PERCENT_DISCOUNT: ItemPercentDiscountSchema,
    PromotionType.X_FOR_Y: XForYSchema,
    PromotionType.X_FOR_AMOUNT: XForAmountSchema,
    PromotionType.BUNDLE_FIXED_DISCOUNT: BundleFixedDiscountSchema,
    PromotionType.BUNDLE_GIFT: BundleGiftSchema,
}


def _as_money_list(value: Any) -> Any:
    # S1 types these as one object; samples and the SDK send arrays. Accept both, store arrays.
    return [value] if isinstance(value, dict) else value


MoneyOrList = Annotated[list[Money], Field(max_length=200)] | None


class PromotionDocument(_Strict):
    """The editable fields of a promotion, as sent on the wire."""

    name: Annotated[StrictStr, Field(min_length=1, max_length=255)]
    description: Annotated[StrictStr, Field(max_length=4096)]
    enabled: StrictBool
    automatic: StrictBool = False
    promotion_type: Annotated[StrictStr, Field(max_length=64)]
    schema_: Annotated[dict[str, Any], Field(alias="schema")]
    start: PromotionTime
    end: PromotionTime
    min_cart_value: MoneyOrList = None
    max_discount_value: MoneyOrList = None
    max_applications_per_cart: NonNegativeInt | None = None


EDITABLE_FIELDS = (
    "name",
    "description",
    "enabled",
    "automatic",
    "promotion_type",
    "schema",
    "start",
    "end",
    "min_cart_value",
    "max_discount_value",
    "max_applications_per_cart",
)


def validate_promotion(document: dict[str, Any]) -> PromotionAttributes:
    """Validate a whole promotion document; raise InvalidInput (shape) or SemanticError (rules)."""
    normalised = dict(document)
    for money_field in ("min_cart_value", "max_discount_value"):
        if money_field in normalised:
            normalised[money_field] = _as_money_list(normalised[money_field])
    try:
        parsed = PromotionDocument.model_validate(normalised)
    except ValidationError as error:
        raise InvalidInput(field_problems(error.errors(), prefix="data")) from None
    try:
        promotion_type = PromotionType(parsed.promotion_type)
    except ValueError:
        allowed = ", ".join(t.value for t in PromotionType)
        raise SemanticError(
            [FieldProblem("data.promotion_type", f"promotion_type must be one of: {allowed}", "oneof")]
        ) from None
    try:
        schema = SCHEMA_MODELS[promotion_type].model_validate(parsed.schema_)
    except ValidationError as error:
        raise InvalidInput(field_problems(error.errors(), prefix="data.schema")) from None
    schema_document = schema.model_dump(mode="json", by_alias=True, exclude_unset=True)
    start, end = parsed.start, parsed.end
    problems: list[FieldProblem] = []
    problems += check_window(start, end)
    problems += schema_rule_problems(promotion_type, schema_document)
    min_cart = _money_document(parsed.min_cart_value)
    max_discount = _money_document(parsed.max_discount_value)
    problems += money_list_problems(min_cart, "data.min_cart_value")
    problems += money_list_problems(max_discount, "data.max_discount_value")
    if problems:
        raise SemanticError(problems)
    return PromotionAttributes(
        name=parsed.name,
        description=parsed.description,
        enabled=parsed.enabled,
        automatic=parsed.automatic,
        promotion_type=promotion_type.value,
        schema=schema_document,
        start=start,
        end=end,
        min_cart_value=min_cart,
        max_discount_value=max_discount,
        max_applications_per_cart=parsed.max_applications_per_cart,
    )


def _money_document(values: list[Money] | None) -> list[dict[str, Any]] | None:
    if values is None:
        return None
    return [value.model_dump(mode="json") for value in values]


def promotion_document(attributes: PromotionAttributes) -> dict[str, Any]:
    """Return the wire document of stored attributes, the base a partial update is merged onto."""
    return {
        "name": attributes.name,
        "description": attributes.description,
        "enabled": attributes.enabled,
        "automatic": attributes.automatic,
        "promotion_type": attributes.promotion_type,
        "schema": attributes.schema,
        "start": format_promotion_time(attributes.start),
        "end": format_promotion_time(attributes.end),
        "min_cart_value": attributes.min_cart_value,
        "max_discount_value": attributes.max_discount_value,
        "max_applications_per_cart": attributes.max_applications_per_cart,
    }


def format_promotion_time(value: datetime) -> str:
    """Format a start or end time as EP does: RFC 3339 UTC, whole seconds (four-digit year, always)."""
    return f"{value.year:04d}-{value:%m-%dT%H:%M:%S}Z"
