"""Promotion bodies: validation into typed domain rules, and their precise OpenAPI description."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    WithJsonSchema,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from promoforge.api.documents.common import RequestBody, timestamp_in_seconds
from promoforge.domain import money, promotions
from promoforge.domain.codes import MAX_SAFE_INTEGER
from promoforge.domain.errors import FieldProblem, InvalidInput, SemanticError
from promoforge.domain.money import CURRENCY_CODES, check_currency, exact_decimal, money_documents
from promoforge.domain.promotions import (
    PromotionAttributes,
    PromotionType,
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
Currency = Annotated[
    StrictStr,
    AfterValidator(check_currency),
    WithJsonSchema({"type": "string", "enum": sorted(CURRENCY_CODES), "description": "ISO 4217 code"}),
]
Percent = Annotated[
    StrictInt | StrictFloat,
    Field(gt=0, le=100),
    AfterValidator(check_decimals),
    # Bounds on a union reach the JSON schema as `gt`/`le`, which JSON Schema does not know.
    WithJsonSchema(
        {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 100,
            "description": "A percentage with at most 6 decimal places",
        }
    ),
]
Identifier = Annotated[StrictStr, Field(min_length=1, max_length=255)]
IdentifierList = Annotated[list[Identifier], Field(max_length=MAX_LIST_ITEMS)]


def _time_from_text(value: Any) -> datetime:
    if not isinstance(value, str):
        raise ValueError("must be a date (YYYY-MM-DD) or date-time (RFC 3339) string")
    if len(value) > 64:
        raise ValueError("is too long for a date-time")
    return parse_promotion_time(value)


PromotionTime = Annotated[
    datetime,
    BeforeValidator(_time_from_text),
    WithJsonSchema(
        {
            "anyOf": [
                {"type": "string", "format": "date", "maxLength": 64},
                {"type": "string", "format": "date-time", "maxLength": 64},
            ],
            "description": "A date (YYYY-MM-DD, midnight UTC) or an RFC 3339 date-time",
            "examples": ["2024-01-01", "2024-01-31T12:00:00Z"],
        }
    ),
]


class _Strict(RequestBody):
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
    rules = _domain_rules(schema)
    start, end = parsed.start, parsed.end
    problems: list[FieldProblem] = []
    problems += check_window(start, end)
    problems += schema_rule_problems(rules)
    min_cart = _money(parsed.min_cart_value)
    max_discount = _money(parsed.max_discount_value)
    problems += money_list_problems(min_cart, "data.min_cart_value")
    problems += money_list_problems(max_discount, "data.max_discount_value")
    if problems:
        raise SemanticError(problems)
    return PromotionAttributes(
        name=parsed.name,
        description=parsed.description,
        enabled=parsed.enabled,
        automatic=parsed.automatic,
        schema=rules,
        start=start,
        end=end,
        min_cart_value=min_cart,
        max_discount_value=max_discount,
        max_applications_per_cart=parsed.max_applications_per_cart,
    )


def _money(values: list[Money] | None) -> tuple[money.Money, ...] | None:
    if values is None:
        return None
    return tuple(money.Money(currency=value.currency, amount=value.amount) for value in values)


# The typed domain rules of a validated schema. A field sent as null is kept in `nulls`, so the rules render
# back as they were sent; a field not sent stays out.


def _domain_rules(schema: _Strict) -> promotions.PromotionRules:
    if isinstance(schema, FixedDiscountSchema):
        return promotions.FixedDiscount(currencies=_amounts(schema.currencies), scope=_cart_scope(schema))
    if isinstance(schema, PercentDiscountSchema):
        return promotions.PercentDiscount(
            currencies=tuple(
                promotions.CurrencyPercentage(
                    currency=entry.currency, percentage=exact_decimal(entry.percentage)
                )
                for entry in schema.currencies
            ),
            scope=_cart_scope(schema),
        )
    if isinstance(schema, ItemFixedDiscountSchema):
        return promotions.ItemFixedDiscount(
            currencies=_amounts(schema.currencies), targeting=_item_targeting(schema)
        )
    if isinstance(schema, ItemPercentDiscountSchema):
        return promotions.ItemPercentDiscount(
            percent=exact_decimal(schema.percent), targeting=_item_targeting(schema)
        )
    if isinstance(schema, XForYSchema):
        return promotions.XForY(x=schema.x, y=schema.y, targeting=_item_targeting(schema))
    if isinstance(schema, XForAmountSchema):
        return promotions.XForAmount(
            x=schema.x, currencies=_amounts(schema.currencies), targeting=_item_targeting(schema)
        )
    if isinstance(schema, BundleFixedDiscountSchema):
        return promotions.BundleFixedDiscount(
            requirements=_requirements(schema.requirements),
            currencies=_amounts(schema.currencies),
            target_catalogs=_texts(schema.target_catalogs),
            nulls=_nulls(schema, "target_catalogs"),
        )
    if isinstance(schema, BundleGiftSchema):
        sent_auto_add = "auto_add_free_gift" in schema.model_fields_set
        return promotions.BundleGift(
            requirements=_requirements(schema.requirements),
            gifts=tuple(schema.gifts),
            auto_add_free_gift=schema.auto_add_free_gift if sent_auto_add else None,
            target_catalogs=_texts(schema.target_catalogs),
            nulls=_nulls(schema, "target_catalogs"),
        )
    raise TypeError(f"no promotion rules for {type(schema).__name__}")


def _nulls(model: _Strict, *fields: str) -> frozenset[str]:
    return frozenset(
        name for name in fields if name in model.model_fields_set and getattr(model, name) is None
    )


def _texts(values: list[str] | None) -> tuple[str, ...] | None:
    return None if values is None else tuple(values)


def _amounts(values: list[Money]) -> tuple[money.Money, ...]:
    return tuple(money.Money(currency=value.currency, amount=value.amount) for value in values)


def _requirements(values: list[Requirement]) -> tuple[promotions.Requirement, ...]:
    return tuple(
        promotions.Requirement(targets=tuple(value.targets), quantity=value.quantity) for value in values
    )


def _attribute_value(value: str | int | float | bool) -> promotions.AttributeValue:
    return exact_decimal(value) if isinstance(value, float) else value


def _attribute_match(attribute: Attribute) -> promotions.AttributeMatch:
    values = attribute.values
    return promotions.AttributeMatch(
        template=attribute.template,
        field=attribute.field,
        type=promotions.AttributeType(attribute.type),
        value=None if attribute.value is None else _attribute_value(attribute.value),
        values=None if values is None else tuple(_attribute_value(value) for value in values),
        nulls=_nulls(attribute, "value", "values"),
    )


def _attribute_matches(attributes: list[Attribute] | None) -> tuple[promotions.AttributeMatch, ...] | None:
    return None if attributes is None else tuple(_attribute_match(attribute) for attribute in attributes)


def _conditions(conditions: Conditions | None) -> promotions.Conditions | None:
    if conditions is None:
        return None
    return promotions.Conditions(
        any_of=tuple(
            promotions.ConditionGroup(all_of=tuple(_condition(condition) for condition in group.and_))
            for group in conditions.or_
        )
    )


def _condition(condition: Condition) -> promotions.Condition:
    node = condition.node
    return promotions.Condition(
        attribute=None if condition.attribute is None else _attribute_match(condition.attribute),
        node=None if node is None else promotions.NodeMatch(values=tuple(node.values)),
        nulls=_nulls(condition, "attribute", "node"),
    )


def _exclusion(exclude: Exclude | None) -> promotions.Exclusion | None:
    if exclude is None:
        return None
    return promotions.Exclusion(
        targets=_texts(exclude.targets),
        nodes=_texts(exclude.nodes),
        attributes=_attribute_matches(exclude.attributes),
        conditions=_conditions(exclude.conditions),
        nulls=_nulls(exclude, "targets", "nodes", "attributes", "conditions"),
    )


def _cart_scope(schema: _CartSchema) -> promotions.CartScope:
    return promotions.CartScope(
        target_catalogs=_texts(schema.target_catalogs),
        exclude=_exclusion(schema.exclude),
        conditions=_conditions(schema.conditions),
        nulls=_nulls(schema, "target_catalogs", "exclude", "conditions"),
    )


def _item_targeting(schema: _ItemTargeting) -> promotions.ItemTargeting:
    targets: list[str] | Literal["all"] | None = schema.targets  # "all" only for item_percent_discount
    return promotions.ItemTargeting(
        targets=promotions.ALL_TARGETS if isinstance(targets, str) else _texts(targets),
        target_nodes=_texts(schema.target_nodes),
        target_attributes=_attribute_matches(schema.target_attributes),
        target_conditions=_conditions(schema.target_conditions),
        target_catalogs=_texts(schema.target_catalogs),
        exclude=_exclusion(schema.exclude),
        nulls=_nulls(
            schema,
            "targets",
            "target_nodes",
            "target_attributes",
            "target_conditions",
            "target_catalogs",
            "exclude",
        ),
    )


def new_promotion(document: dict[str, Any]) -> PromotionAttributes:
    """Validate the editable fields of a promotion to create."""
    return validate_promotion({k: v for k, v in document.items() if k in EDITABLE_FIELDS})


def changed_promotion(current: PromotionAttributes, changes: dict[str, Any]) -> PromotionAttributes:
    """Validate a partial update: the fields sent replace the current ones, the others are kept."""
    merged = promotion_document(current)
    merged.update({k: v for k, v in changes.items() if k in EDITABLE_FIELDS})
    return validate_promotion(merged)


def promotion_document(attributes: PromotionAttributes) -> dict[str, Any]:
    """Return the wire document of stored attributes, the base a partial update is merged onto."""
    return {
        "name": attributes.name,
        "description": attributes.description,
        "enabled": attributes.enabled,
        "automatic": attributes.automatic,
        "promotion_type": attributes.promotion_type.value,
        "schema": attributes.schema.to_document(),
        "start": timestamp_in_seconds(attributes.start),
        "end": timestamp_in_seconds(attributes.end),
        "min_cart_value": money_documents(attributes.min_cart_value),
        "max_discount_value": money_documents(attributes.max_discount_value),
        "max_applications_per_cart": attributes.max_applications_per_cart,
    }


# The description of promotion bodies for OpenAPI: the same field models, the schema chosen by
# `promotion_type`. Requests are validated by `validate_promotion` above, which names each field at fault.

MoneyOrMoneyList = Money | Annotated[list[Money], Field(max_length=200)] | None
PromotionName = Annotated[StrictStr, Field(min_length=1, max_length=255)]
PromotionDescription = Annotated[StrictStr, Field(max_length=4096)]


class _PromotionBody(_Strict):
    type: Literal["promotion"]
    id: StrictStr | None = None
    name: PromotionName
    description: PromotionDescription
    enabled: StrictBool
    automatic: StrictBool = False
    start: PromotionTime
    end: PromotionTime
    min_cart_value: MoneyOrMoneyList = Field(None, description="One amount or a list, one per currency")
    max_discount_value: MoneyOrMoneyList = Field(None, description="One amount or a list, one per currency")
    max_applications_per_cart: NonNegativeInt | None = None


class NewFixedDiscount(_PromotionBody):
    """A fixed_discount promotion."""

    promotion_type: Literal["fixed_discount"]
    schema_: Annotated[FixedDiscountSchema, Field(alias="schema")]


class NewPercentDiscount(_PromotionBody):
    """A percent_discount promotion."""

    promotion_type: Literal["percent_discount"]
    schema_: Annotated[PercentDiscountSchema, Field(alias="schema")]


class NewItemFixedDiscount(_PromotionBody):
    """An item_fixed_discount promotion."""

    promotion_type: Literal["item_fixed_discount"]
    schema_: Annotated[ItemFixedDiscountSchema, Field(alias="schema")]


class NewItemPercentDiscount(_PromotionBody):
    """An item_percent_discount promotion."""

    promotion_type: Literal["item_percent_discount"]
    schema_: Annotated[ItemPercentDiscountSchema, Field(alias="schema")]


class NewXForY(_PromotionBody):
    """An x_for_y promotion."""

    promotion_type: Literal["x_for_y"]
    schema_: Annotated[XForYSchema, Field(alias="schema")]


class NewXForAmount(_PromotionBody):
    """An x_for_amount promotion."""

    promotion_type: Literal["x_for_amount"]
    schema_: Annotated[XForAmountSchema, Field(alias="schema")]


class NewBundleFixedDiscount(_PromotionBody):
    """A bundle_fixed_discount promotion."""

    promotion_type: Literal["bundle_fixed_discount"]
    schema_: Annotated[BundleFixedDiscountSchema, Field(alias="schema")]


class NewBundleGift(_PromotionBody):
    """A bundle_gift promotion."""

    promotion_type: Literal["bundle_gift"]
    schema_: Annotated[BundleGiftSchema, Field(alias="schema")]


NewPromotion = Annotated[
    NewFixedDiscount
    | NewPercentDiscount
    | NewItemFixedDiscount
    | NewItemPercentDiscount
    | NewXForY
    | NewXForAmount
    | NewBundleFixedDiscount
    | NewBundleGift,
    Field(discriminator="promotion_type"),
]
AnyPromotionSchema = (
    FixedDiscountSchema
    | PercentDiscountSchema
    | ItemFixedDiscountSchema
    | ItemPercentDiscountSchema
    | XForYSchema
    | XForAmountSchema
    | BundleFixedDiscountSchema
    | BundleGiftSchema
)


class NewPromotionBody(_Strict):
    """`{"data": promotion}` to create; `schema` follows `promotion_type`."""

    data: NewPromotion


def _only_type_required(schema: dict[str, Any]) -> None:
    schema["required"] = ["type"]


class PromotionChanges(_Strict):
    """The fields to change; those not sent are kept. A `schema` follows the promotion's type."""

    # Describes the body only: any field but `type` may be left out; those without `| None` are never null.
    model_config = ConfigDict(json_schema_extra=_only_type_required)

    type: Literal["promotion"]
    id: StrictStr | None = None
    name: PromotionName
    description: PromotionDescription
    enabled: StrictBool
    automatic: StrictBool
    promotion_type: PromotionType = Field(description="Cannot be changed; may repeat the type")
    schema_: AnyPromotionSchema = Field(alias="schema")
    start: PromotionTime
    end: PromotionTime
    min_cart_value: MoneyOrMoneyList = Field(None, description="null removes the minimum")
    max_discount_value: MoneyOrMoneyList = Field(None, description="null removes the cap")
    max_applications_per_cart: NonNegativeInt | None = None


class PromotionChangesBody(_Strict):
    """`{"data": changes}` of a partial update."""

    data: PromotionChanges


# The bodies as the routes read them: loosely typed, so that `validate_promotion` names each field at fault.


class PromotionData(RequestBody):
    """A promotion's fields; which are required depends on create or update, and is checked after merging."""

    type: Literal["promotion"]
    id: StrictStr | None = None
    name: Any = None
    description: Any = None
    enabled: Any = None
    automatic: Any = None
    promotion_type: Any = None
    schema_: Annotated[Any, Field(alias="schema")] = None
    start: Any = None
    end: Any = None
    min_cart_value: Any = None
    max_discount_value: Any = None
    max_applications_per_cart: Any = None

    def document(self) -> dict[str, Any]:
        """The fields sent, by their wire names."""
        return self.model_dump(by_alias=True, exclude_unset=True)


class PromotionRequest(RequestBody):
    """`{"data": promotion}`."""

    data: PromotionData


class NewPromotionRequest(PromotionRequest):
    """A promotion to create; described precisely, validated field by field after parsing."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe the body with the typed models, one per promotion type."""
        return handler(NewPromotionBody.__pydantic_core_schema__)


class PromotionChangesRequest(PromotionRequest):
    """A partial update; described precisely, validated after merging onto the stored promotion."""

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe the body with the typed models; every field may be left out."""
        return handler(PromotionChangesBody.__pydantic_core_schema__)
