"""Promotion codes as the API shows them."""

from __future__ import annotations

from typing import Annotated, Literal, NotRequired

from typing_extensions import TypedDict

from promoforge.api.documents.common import Described, timestamp
from promoforge.domain.codes import ConsumeUnit, PromotionCode


class CreatedAt(TypedDict):
    """When the code was added."""

    created_at: str


class CodeMeta(TypedDict):
    """Timestamps of a code."""

    timestamps: CreatedAt


class CodeResource(TypedDict):
    """A code; `uses` is what is left and `max_uses` the limit, both absent when unlimited."""

    type: Literal["promotion_codes"]
    id: str
    code: str
    uses: NotRequired[int | None]
    max_uses: NotRequired[int]
    user: NotRequired[str | list[str]]
    consume_unit: Annotated[str, Described(ConsumeUnit)]
    created_by: NotRequired[str]
    meta: CodeMeta


def code_resource(code: PromotionCode) -> CodeResource:
    """A code; `uses` is what is left, `max_uses` the limit; both absent when unlimited."""
    resource: CodeResource = {
        "type": "promotion_codes",
        "id": code.id,
        "code": code.code,
        "consume_unit": code.consume_unit,
        "meta": {"timestamps": {"created_at": timestamp(code.created_at)}},
    }
    if code.max_uses is not None:
        resource["uses"] = code.uses
        resource["max_uses"] = code.max_uses
    if code.user is not None:
        resource["user"] = code.user
    if code.created_by is not None:
        resource["created_by"] = code.created_by
    return resource
