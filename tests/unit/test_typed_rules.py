"""Typed promotion rules: stored documents round-trip exactly, money is whole minor units, percents exact."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest

from promoforge.api.documents.promotions.requests import SCHEMA_MODELS, validate_promotion
from promoforge.domain.money import Money, exact_decimal, json_number
from promoforge.domain.promotions import (
    BundleFixedDiscount,
    BundleGift,
    FixedDiscount,
    ItemFixedDiscount,
    ItemPercentDiscount,
    PercentDiscount,
    PromotionType,
    XForAmount,
    XForY,
    rules_from_document,
)

ATTRIBUTE = {"template": "t", "field": "colour", "type": "string", "value": "red"}
FLOAT_ATTRIBUTE = {"template": "t", "field": "weight", "type": "float", "values": [1.5, 2, 2.0, True, "x"]}
CONDITIONS = {
    "or": [
        {"and": [{"node": {"values": ["n1"]}}, {"attribute": ATTRIBUTE}]},
        {"and": [{"attribute": FLOAT_ATTRIBUTE, "node": {"values": ["n2", "n3"]}}]},
    ]
}
EXCLUDE = {"targets": ["X"], "nodes": ["n9"], "attributes": [ATTRIBUTE], "conditions": CONDITIONS}
TARGETING = {
    "targets": ["SKU1", "SKU2"],
    "target_nodes": ["n1"],
    "target_attributes": [ATTRIBUTE, FLOAT_ATTRIBUTE],
    "target_conditions": CONDITIONS,
    "target_catalogs": ["c1"],
    "exclude": EXCLUDE,
}
MONEY = [{"currency": "USD", "amount": 1000}, {"currency": "EUR", "amount": 900}]
CART_SCOPE = {"target_catalogs": ["c1"], "exclude": EXCLUDE, "conditions": CONDITIONS}

# Every field of every type, in the order the wire and the database hold them.
FULL_DOCUMENTS: dict[PromotionType, tuple[type[Any], dict[str, Any]]] = {
    PromotionType.FIXED_DISCOUNT: (FixedDiscount, {**CART_SCOPE, "currencies": MONEY}),
    PromotionType.PERCENT_DISCOUNT: (
        PercentDiscount,
        {
            **CART_SCOPE,
            "currencies": [{"currency": "USD", "percentage": 33.3}, {"currency": "EUR", "percentage": 5}],
        },
    ),
    PromotionType.ITEM_FIXED_DISCOUNT: (ItemFixedDiscount, {**TARGETING, "currencies": MONEY}),
    PromotionType.ITEM_PERCENT_DISCOUNT: (ItemPercentDiscount, {**TARGETING, "percent": 12.125}),
    PromotionType.X_FOR_Y: (XForY, {**TARGETING, "x": 3, "y": 2}),
    PromotionType.X_FOR_AMOUNT: (XForAmount, {**TARGETING, "x": 3, "currencies": MONEY}),
    PromotionType.BUNDLE_FIXED_DISCOUNT: (
        BundleFixedDiscount,
        {
            "requirements": [{"targets": ["A", "B"], "quantity": 1}, {"targets": ["C"], "quantity": 2}],
            "currencies": MONEY,
            "target_catalogs": ["c1"],
        },
    ),
    PromotionType.BUNDLE_GIFT: (
        BundleGift,
        {
            "requirements": [{"targets": ["A"], "quantity": 2}],
            "gifts": ["G1", "G2"],
            "auto_add_free_gift": False,
            "target_catalogs": [],
        },
    ),
}
MINIMAL_DOCUMENTS: dict[PromotionType, dict[str, Any]] = {
    PromotionType.FIXED_DISCOUNT: {"currencies": MONEY[:1]},
    PromotionType.PERCENT_DISCOUNT: {"currencies": [{"currency": "EUR", "percentage": 12.5}]},
    PromotionType.ITEM_FIXED_DISCOUNT: {"currencies": MONEY[:1]},
    PromotionType.ITEM_PERCENT_DISCOUNT: {"targets": "all", "percent": 50},
    PromotionType.X_FOR_Y: {"x": 2, "y": 1},
    PromotionType.X_FOR_AMOUNT: {"x": 1, "currencies": MONEY[:1]},
    PromotionType.BUNDLE_FIXED_DISCOUNT: {
        "requirements": [{"targets": ["A"], "quantity": 1}],
        "currencies": MONEY,
    },
    PromotionType.BUNDLE_GIFT: {"requirements": [{"targets": ["A"], "quantity": 1}], "gifts": ["G"]},
}


def wire(promotion_type: PromotionType, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": "Promo",
        "description": "",
        "enabled": True,
        "promotion_type": promotion_type.value,
        "schema": schema,
        "start": "2024-01-01",
        "end": "2025-01-01",
    }


@pytest.mark.parametrize("promotion_type", list(PromotionType))
def test_every_type_round_trips_its_stored_document_byte_for_byte(promotion_type: PromotionType) -> None:
    rule_class, document = FULL_DOCUMENTS[promotion_type]
    stored = json.loads(json.dumps(document))
    rules = rules_from_document(promotion_type.value, stored)
    assert type(rules) is rule_class
    assert rules.promotion_type is promotion_type
    assert json.dumps(rules.to_document()) == json.dumps(document)


@pytest.mark.parametrize("promotion_type", list(PromotionType))
def test_validation_keeps_the_wire_document_and_its_field_order(promotion_type: PromotionType) -> None:
    for document in (FULL_DOCUMENTS[promotion_type][1], MINIMAL_DOCUMENTS[promotion_type]):
        attributes = validate_promotion(wire(promotion_type, json.loads(json.dumps(document))))
        assert attributes.promotion_type is promotion_type
        assert json.dumps(attributes.schema.to_document()) == json.dumps(document)


SENT_WITH_NULLS: list[tuple[PromotionType, dict[str, Any]]] = [
    (
        PromotionType.ITEM_PERCENT_DISCOUNT,
        {
            "targets": None,
            "target_nodes": None,
            "target_attributes": [
                {"template": "t", "field": "f", "type": "float", "value": None, "values": None},
                {
                    "template": "t",
                    "field": "g",
                    "type": "integer",
                    "value": 2.0,
                    "values": [1, 1.0, True, "1"],
                },
            ],
            "target_conditions": {"or": [{"and": [{"attribute": None, "node": {"values": ["n"]}}]}]},
            "target_catalogs": None,
            "exclude": {"targets": None, "nodes": None, "attributes": None, "conditions": None},
            "percent": 7.25,
            "unknown": "dropped",
        },
    ),
    (PromotionType.ITEM_PERCENT_DISCOUNT, {"targets": "all", "exclude": None, "percent": 1e-06}),
    (
        PromotionType.FIXED_DISCOUNT,
        {"target_catalogs": None, "exclude": None, "conditions": None, "currencies": MONEY},
    ),
    (PromotionType.PERCENT_DISCOUNT, {"exclude": {}, "currencies": [{"currency": "USD", "percentage": 100}]}),
    (PromotionType.X_FOR_Y, {"targets": ["A"], "exclude": {"nodes": ["n"]}, "x": 5, "y": 1}),
    (PromotionType.X_FOR_AMOUNT, {"target_conditions": None, "x": 2, "currencies": MONEY}),
    (
        PromotionType.BUNDLE_FIXED_DISCOUNT,
        {**MINIMAL_DOCUMENTS[PromotionType.BUNDLE_FIXED_DISCOUNT], "target_catalogs": None},
    ),
    (
        PromotionType.BUNDLE_GIFT,
        {**MINIMAL_DOCUMENTS[PromotionType.BUNDLE_GIFT], "auto_add_free_gift": True, "target_catalogs": None},
    ),
]


def _shape(value: Any) -> Any:
    """A value's every field, `nulls` included, with the type of each leaf."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = dataclasses.fields(value)
        return (type(value).__name__, [(field.name, _shape(getattr(value, field.name))) for field in fields])
    if isinstance(value, frozenset):
        return ("frozenset", sorted(value))
    if isinstance(value, tuple):
        return ("tuple", [_shape(item) for item in value])
    return (type(value).__name__, repr(value))


@pytest.mark.parametrize(
    ("promotion_type", "schema"),
    [(promotion_type, document) for promotion_type, (_, document) in FULL_DOCUMENTS.items()]
    + list(MINIMAL_DOCUMENTS.items())
    + SENT_WITH_NULLS,
)
def test_validation_builds_the_rules_its_json_form_reads_back_as(
    promotion_type: PromotionType, schema: dict[str, Any]
) -> None:
    built = validate_promotion(wire(promotion_type, json.loads(json.dumps(schema)))).schema
    validated = SCHEMA_MODELS[promotion_type].model_validate(json.loads(json.dumps(schema)))
    read = rules_from_document(
        promotion_type.value, validated.model_dump(mode="json", by_alias=True, exclude_unset=True)
    )
    assert built == read
    assert _shape(built) == _shape(read)
    assert json.dumps(built.to_document()) == json.dumps(read.to_document())


def test_fields_written_as_null_render_back_as_null() -> None:
    document = {
        "targets": None,
        "target_attributes": [{"template": "t", "field": "f", "type": "string", "value": None}],
        "exclude": {"targets": None, "nodes": ["n1"]},
        "percent": 5,
    }
    rules = rules_from_document("item_percent_discount", document)
    assert isinstance(rules, ItemPercentDiscount)
    assert rules.targeting.targets is None
    assert json.dumps(rules.to_document()) == json.dumps(document)
    # A null is no rule: it equals the same rules without the field.
    assert rules == rules_from_document(
        "item_percent_discount",
        {
            "target_attributes": [{"template": "t", "field": "f", "type": "string"}],
            "exclude": {"nodes": ["n1"]},
            "percent": 5,
        },
    )


def test_rules_are_typed_values() -> None:
    rules = validate_promotion(
        wire(PromotionType.ITEM_FIXED_DISCOUNT, FULL_DOCUMENTS[PromotionType.ITEM_FIXED_DISCOUNT][1])
    ).schema
    assert isinstance(rules, ItemFixedDiscount)
    assert rules.currencies == (Money("USD", 1000), Money("EUR", 900))
    assert rules.targeting.targets == ("SKU1", "SKU2")
    assert rules.targeting.exclude is not None and rules.targeting.exclude.nodes == ("n9",)
    conditions = rules.targeting.target_conditions
    assert conditions is not None and conditions.any_of[1].all_of[0].node is not None
    weights = conditions.any_of[1].all_of[0].attribute
    assert weights is not None and weights.values == (Decimal("1.5"), 2, Decimal("2.0"), True, "x")
    gift = rules_from_document("bundle_gift", MINIMAL_DOCUMENTS[PromotionType.BUNDLE_GIFT])
    assert isinstance(gift, BundleGift) and gift.auto_add_free_gift is None and not gift.adds_gifts


@pytest.mark.parametrize(
    ("sent", "expected"),
    [(33.3, "33.3"), (12.5, "12.5"), (0.1, "0.1"), (12.123456, "12.123456"), (50, "50"), (50.0, "50.0")],
)
def test_percentages_are_the_exact_decimals_sent(sent: float, expected: str) -> None:
    rules = validate_promotion(wire(PromotionType.ITEM_PERCENT_DISCOUNT, {"percent": sent})).schema
    assert isinstance(rules, ItemPercentDiscount)
    assert isinstance(rules.percent, Decimal)
    assert str(rules.percent) == expected
    # The JSON the wire and the database show is what was sent, int or float alike.
    assert json.dumps(rules.to_document()["percent"]) == json.dumps(sent)


def test_decimal_percentages_add_up_where_floats_do_not() -> None:
    assert 0.1 + 0.2 != 0.3
    per_currency = rules_from_document(
        "percent_discount",
        {"currencies": [{"currency": "USD", "percentage": 0.1}, {"currency": "EUR", "percentage": 0.2}]},
    )
    assert isinstance(per_currency, PercentDiscount)
    total = sum((entry.percentage for entry in per_currency.currencies), Decimal(0))
    assert total == Decimal("0.3")
    # Converting through the binary float would not give the percentage that was sent.
    assert Decimal(33.3) != Decimal("33.3")  # noqa: RUF032
    assert exact_decimal(33.3) == Decimal("33.3")
    # 0.07 % of 10,000 minor units is exactly 7, which float arithmetic misses.
    assert 0.07 * 10_000 / 100 != 7
    assert exact_decimal(0.07) * 10_000 / 100 == 7


def test_json_numbers_come_back_as_they_were_written() -> None:
    for value in (33.3, 0.1, 50, 50.0, 1e-06, 1e16, 100):
        assert json.dumps(json_number(exact_decimal(value))) == json.dumps(value)


def test_money_is_whole_minor_units() -> None:
    rules = validate_promotion(wire(PromotionType.FIXED_DISCOUNT, {"currencies": MONEY})).schema
    assert isinstance(rules, FixedDiscount)
    assert all(type(entry.amount) is int for entry in rules.currencies)
    with pytest.raises(TypeError):
        Money("USD", 10.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money("USD", 10.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        Money("USD", True)
    with pytest.raises(TypeError):
        Money("USD", Decimal(10))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("promotion_type", "document"),
    [
        ("fixed_discount", {"currencies": [{"currency": "USD", "amount": 10.5}]}),
        ("fixed_discount", {"currencies": [{"currency": "USD", "amount": 10.0}]}),
        ("x_for_amount", {"x": 2, "currencies": [{"currency": "USD", "amount": "10"}]}),
        ("x_for_y", {"x": 3.0, "y": 2}),
        ("bundle_gift", {"requirements": [{"targets": ["A"], "quantity": 1.5}], "gifts": ["G"]}),
        ("bundle_gift", {"requirements": [], "gifts": ["G"], "auto_add_free_gift": "yes"}),
        ("item_percent_discount", {"percent": "12.5"}),
        ("item_fixed_discount", {"currencies": [], "targets": "SKU1"}),
    ],
)
def test_stored_documents_with_wrong_json_types_are_refused(
    promotion_type: str, document: dict[str, Any]
) -> None:
    with pytest.raises(TypeError):
        rules_from_document(promotion_type, document)


def test_an_unknown_promotion_type_is_refused() -> None:
    with pytest.raises(ValueError):
        rules_from_document("buy_one_get_all", {})
