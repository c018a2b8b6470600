"""Validation of whole promotion documents, for each of the eight types."""

from __future__ import annotations

from typing import Any

import pytest

from promoforge.api.documents.promotions.requests import validate_promotion
from promoforge.domain.errors import InvalidInput, SemanticError
from promoforge.domain.money import Money

MONEY = [{"currency": "USD", "amount": 1000}]
VALID_SCHEMAS: dict[str, dict[str, Any]] = {
    "fixed_discount": {"currencies": MONEY},
    "percent_discount": {"currencies": [{"currency": "EUR", "percentage": 12.5}]},
    "item_fixed_discount": {"currencies": MONEY, "targets": ["SKU1"], "target_catalogs": ["c1"]},
    "item_percent_discount": {"percent": 50, "targets": "all"},
    "x_for_y": {"x": 3, "y": 2, "targets": ["SKU1"]},
    "x_for_amount": {"x": 3, "currencies": MONEY, "targets": ["SKU1"]},
    "bundle_fixed_discount": {"requirements": [{"targets": ["A", "B"], "quantity": 1}], "currencies": MONEY},
    "bundle_gift": {
        "requirements": [{"targets": ["A"], "quantity": 2}],
        "gifts": ["G"],
        "auto_add_free_gift": True,
    },
}
# For each type, a schema missing a required field, and the field that must be named.
MISSING: dict[str, tuple[dict[str, Any], str]] = {
    "fixed_discount": ({}, "data.schema.currencies"),
    "percent_discount": ({"currencies": MONEY}, "data.schema.currencies.0.percentage"),
    "item_fixed_discount": ({"targets": ["SKU1"]}, "data.schema.currencies"),
    "item_percent_discount": ({"targets": ["SKU1"]}, "data.schema.percent"),
    "x_for_y": ({"x": 3}, "data.schema.y"),
    "x_for_amount": ({"currencies": MONEY}, "data.schema.x"),
    "bundle_fixed_discount": ({"currencies": MONEY}, "data.schema.requirements"),
    "bundle_gift": ({"requirements": [{"targets": ["A"], "quantity": 1}]}, "data.schema.gifts"),
}


def document(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Promo",
        "description": "text",
        "enabled": True,
        "promotion_type": "fixed_discount",
        "schema": {"currencies": MONEY},
        "start": "2024-01-01",
        "end": "2025-01-01",
    }
    body.update(overrides)
    return body


@pytest.mark.parametrize("promotion_type", sorted(VALID_SCHEMAS))
def test_each_type_accepts_its_schema(promotion_type: str) -> None:
    attributes = validate_promotion(
        document(promotion_type=promotion_type, schema=VALID_SCHEMAS[promotion_type])
    )
    assert attributes.promotion_type == promotion_type
    assert attributes.schema.to_document() == VALID_SCHEMAS[promotion_type]


@pytest.mark.parametrize("promotion_type", sorted(MISSING))
def test_each_type_names_its_missing_required_field(promotion_type: str) -> None:
    schema, source = MISSING[promotion_type]
    with pytest.raises(InvalidInput) as raised:
        validate_promotion(document(promotion_type=promotion_type, schema=schema))
    assert source in [p.source for p in raised.value.problems]


@pytest.mark.parametrize(
    ("schema", "source"),
    [
        ({"currencies": [{"currency": "usd", "amount": 1}]}, "data.schema.currencies.0.currency"),
        ({"currencies": [{"currency": "XYZ", "amount": 1}]}, "data.schema.currencies.0.currency"),
        ({"currencies": [{"currency": "USD", "amount": 10.5}]}, "data.schema.currencies.0.amount"),
        ({"currencies": [{"currency": "USD", "amount": -1}]}, "data.schema.currencies.0.amount"),
        ({"currencies": [{"currency": "USD", "amount": True}]}, "data.schema.currencies.0.amount"),
        ({"currencies": [{"currency": "USD", "amount": 2**60}]}, "data.schema.currencies.0.amount"),
        ({"currencies": []}, "data.schema.currencies"),
    ],
)
def test_amounts_are_integer_minor_units_in_iso_currencies(schema: dict[str, Any], source: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_promotion(document(schema=schema))
    assert source in [p.source for p in raised.value.problems]


@pytest.mark.parametrize(
    ("overrides", "source"),
    [
        ({"enabled": None}, "data.enabled"),
        ({"enabled": "yes"}, "data.enabled"),
        ({"name": ""}, "data.name"),
        ({"start": "not a date"}, "data.start"),
        ({"end": 20250101}, "data.end"),
        ({"max_applications_per_cart": -1}, "data.max_applications_per_cart"),
    ],
)
def test_top_level_fields_are_checked(overrides: dict[str, Any], source: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        validate_promotion(document(**overrides))
    assert [p.source for p in raised.value.problems] == [source]


def test_missing_fields_are_reported_as_required() -> None:
    body = document()
    del body["enabled"]
    with pytest.raises(InvalidInput) as raised:
        validate_promotion(body)
    problem = raised.value.problems[0]
    assert (problem.source, problem.title, problem.detail) == (
        "data.enabled",
        "required",
        "data.enabled is required",
    )


def test_unknown_type_and_bad_window_are_semantic() -> None:
    with pytest.raises(SemanticError) as raised:
        validate_promotion(document(promotion_type="buy_one_get_all"))
    assert raised.value.problems[0].source == "data.promotion_type"
    with pytest.raises(SemanticError) as raised:
        validate_promotion(document(start="2025-01-01", end="2024-12-31T23:59:59Z"))
    assert raised.value.problems[0].source == "data.end"


def test_single_money_object_is_stored_as_a_list() -> None:
    attributes = validate_promotion(document(min_cart_value={"currency": "USD", "amount": 5000}))
    assert attributes.min_cart_value == (Money("USD", 5000),)


def test_percent_allows_six_decimals_only() -> None:
    schema = {"percent": 12.123456}
    assert (
        validate_promotion(
            document(promotion_type="item_percent_discount", schema=schema)
        ).schema.to_document()
        == schema
    )
    with pytest.raises(InvalidInput):
        validate_promotion(document(promotion_type="item_percent_discount", schema={"percent": 12.1234567}))
    with pytest.raises(InvalidInput):
        validate_promotion(document(promotion_type="item_percent_discount", schema={"percent": 101}))


def test_unknown_fields_are_dropped() -> None:
    attributes = validate_promotion(
        document(schema={"currencies": MONEY, "surprise": 1}, id="ignored", meta={"x": 1})
    )
    assert attributes.schema.to_document() == {"currencies": MONEY}


def test_conditions_are_structured() -> None:
    conditions = {
        "or": [
            {
                "and": [
                    {"node": {"values": ["n1"]}},
                    {"attribute": {"template": "t", "field": "f", "type": "string", "value": "v"}},
                ]
            }
        ]
    }
    schema = {"currencies": MONEY, "target_conditions": conditions}
    attributes = validate_promotion(document(promotion_type="item_fixed_discount", schema=schema))
    assert attributes.schema.to_document()["target_conditions"] == conditions
    with pytest.raises(InvalidInput):
        validate_promotion(
            document(
                promotion_type="item_fixed_discount",
                schema={"currencies": MONEY, "target_conditions": {"or": []}},
            )
        )
