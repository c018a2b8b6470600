"""The served OpenAPI description: JSON Schema keywords only, public job types, capped error documents."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from pydantic import TypeAdapter

from promoforge.api.documents.common import ErrorDocument
from promoforge.api.errors import MAX_ERROR_ITEMS, error_item, error_response
from support import TestClient

# What a schema object of OpenAPI 3.1 may hold here; anything else is ignored by clients and fuzzers.
SCHEMA_KEYWORDS = {
    "$ref",
    "additionalProperties",
    "allOf",
    "anyOf",
    "const",
    "default",
    "description",
    "discriminator",
    "enum",
    "examples",
    "exclusiveMaximum",
    "exclusiveMinimum",
    "format",
    "items",
    "maxItems",
    "maxLength",
    "maxProperties",
    "maximum",
    "minItems",
    "minLength",
    "minimum",
    "oneOf",
    "pattern",
    "properties",
    "propertyNames",
    "required",
    "title",
    "type",
}


def _schemas(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema object under `node` (the values of `properties` are schemas, not keywords)."""
    if isinstance(node, list):
        for item in node:
            yield from _schemas(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in ("properties", "$defs"):
                for schema in value.values():
                    yield from _schemas(schema)
            elif key not in ("discriminator", "examples", "default", "const", "enum"):
                yield from _schemas(value)


def test_schemas_use_only_json_schema_keywords(app_client: TestClient) -> None:
    description = app_client.get("/openapi.json").json()
    unknown = {
        key
        for schema in _schemas(list(description["components"]["schemas"].values()))
        for key in schema
        if key not in SCHEMA_KEYWORDS
    }
    assert unknown == set()


def test_percentages_are_described_with_their_bounds(app_client: TestClient) -> None:
    schemas = app_client.get("/openapi.json").json()["components"]["schemas"]
    for percent in (
        schemas["ItemPercentDiscountSchema"]["properties"]["percent"],
        schemas["Percentage"]["properties"]["percentage"],
    ):
        assert (percent["type"], percent["exclusiveMinimum"], percent["maximum"]) == ("number", 0, 100)


def test_jobs_are_described_with_the_public_job_types_only(app_client: TestClient) -> None:
    schemas = app_client.get("/openapi.json").json()["components"]["schemas"]
    job_type = schemas["JobResource"]["properties"]["job_type"]["$ref"].rsplit("/", 1)[-1]
    assert sorted(schemas[job_type]["enum"]) == ["code_export", "code_generate"]


def test_a_capped_errors_document_fits_its_description() -> None:
    items = [error_item(400, "Bad Request", f"problem {n}") for n in range(MAX_ERROR_ITEMS + 50)]
    document = json.loads(error_response(400, items).body)
    assert set(document) <= set(ErrorDocument.__annotations__)
    parsed = TypeAdapter(ErrorDocument).validate_python(document)
    assert len(parsed["errors"]) == MAX_ERROR_ITEMS
    assert parsed["meta"]["total_errors"] == MAX_ERROR_ITEMS + 50
