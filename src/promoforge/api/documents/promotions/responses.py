"""Promotions as the API shows them: a promotion, one version of its history, and its fields (E18)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired

from pydantic import Field
from typing_extensions import TypedDict

from promoforge.api.documents.common import DataDocument, Described, timestamp, with_python_floats
from promoforge.api.documents.promotions.requests import AnyPromotionSchema, Money, promotion_document
from promoforge.domain.promotions import Promotion, PromotionAttributes, PromotionType, PromotionVersion

MoneyList = Annotated[list[dict[str, Any]], Described(list[Money])]


class PromotionTimestamps(TypedDict):
    """When the promotion was created and last changed."""

    created_at: str
    updated_at: str


class PromotionMeta(TypedDict):
    """Timestamps, and in history entries the version number."""

    timestamps: PromotionTimestamps
    version: NotRequired[int]


class PromotionResource(TypedDict):
    """A promotion as the API shows it (absent optional fields are left out)."""

    type: Literal["promotion"]
    id: str
    parent_id: str
    name: str
    description: str
    enabled: bool
    automatic: bool
    promotion_type: Annotated[str, Described(PromotionType)]
    schema: Annotated[dict[str, Any], Described(AnyPromotionSchema)]
    start: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    end: Annotated[str, Field(json_schema_extra={"format": "date-time"})]
    min_cart_value: NotRequired[MoneyList]
    max_discount_value: NotRequired[MoneyList]
    max_applications_per_cart: NotRequired[int]
    current: bool
    created_by: NotRequired[str]
    updated_by: NotRequired[str]
    meta: PromotionMeta


class PromotionAttribute(TypedDict):
    """One field of a promotion, as EP's attributes resource lists it."""

    label: str
    value: str
    type: str
    required: bool


def _resource(
    promotion_id: str,
    attributes: PromotionAttributes,
    *,
    current: bool,
    created_by: str | None,
    updated_by: str | None,
    meta: PromotionMeta,
) -> PromotionResource:
    document = promotion_document(attributes)
    resource: PromotionResource = {
        "type": "promotion",
        "id": promotion_id,
        "parent_id": promotion_id,
        "name": attributes.name,
        "description": attributes.description,
        "enabled": attributes.enabled,
        "automatic": attributes.automatic,
        "promotion_type": attributes.promotion_type.value,
        "schema": with_python_floats(document["schema"]),
        "start": document["start"],
        "end": document["end"],
        "current": current,
        "meta": meta,
    }
    if attributes.min_cart_value is not None:
        resource["min_cart_value"] = document["min_cart_value"]
    if attributes.max_discount_value is not None:
        resource["max_discount_value"] = document["max_discount_value"]
    if attributes.max_applications_per_cart is not None:
        resource["max_applications_per_cart"] = attributes.max_applications_per_cart
    if created_by is not None:
        resource["created_by"] = created_by
    if updated_by is not None:
        resource["updated_by"] = updated_by
    return resource


def promotion_resource(promotion: Promotion) -> PromotionResource:
    """A promotion."""
    return _resource(
        promotion.id,
        promotion.attributes,
        current=True,
        created_by=promotion.created_by,
        updated_by=promotion.updated_by,
        meta={
            "timestamps": {
                "created_at": timestamp(promotion.created_at),
                "updated_at": timestamp(promotion.updated_at),
            }
        },
    )


def version_resource(version: PromotionVersion, current_version: int) -> PromotionResource:
    """One history entry: the promotion as it was after one change."""
    return _resource(
        version.promotion_id,
        version.attributes,
        current=version.version == current_version,
        created_by=version.created_by,
        updated_by=version.updated_by,
        meta={
            "timestamps": {
                "created_at": timestamp(version.promotion_created_at),
                "updated_at": timestamp(version.created_at),
            },
            "version": version.version,
        },
    )


PROMOTION_ATTRIBUTES: DataDocument[list[PromotionAttribute]] = {
    "data": [
        {"label": label, "value": value, "type": kind, "required": required}
        for label, value, kind, required in (
            ("ID", "id", "string", False),
            ("Type", "type", "string", True),
            ("Name", "name", "string", True),
            ("Description", "description", "string", True),
            ("Enabled", "enabled", "boolean", True),
            ("Automatic", "automatic", "boolean", False),
            ("Promotion type", "promotion_type", "string", True),
            ("Schema", "schema", "object", True),
            ("Start", "start", "date", True),
            ("End", "end", "date", True),
            ("Minimum cart value", "min_cart_value", "array", False),
            ("Maximum discount value", "max_discount_value", "array", False),
            ("Maximum applications per cart", "max_applications_per_cart", "integer", False),
        )
    ]
}
"""E18's answer: the fields of a promotion, the same for every store."""
