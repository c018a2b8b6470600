"""Promotion codes as the API shows them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from promoforge.domain.codes import ConsumeUnit


class CreatedAt(BaseModel):
    """When the code was added."""

    created_at: str


class CodeMeta(BaseModel):
    """Timestamps of a code."""

    timestamps: CreatedAt


class CodeResource(BaseModel):
    """A code; `uses` is what is left and `max_uses` the limit, both absent when unlimited."""

    type: Literal["promotion_codes"]
    id: str
    code: str
    uses: int | None = None
    max_uses: int | None = None
    user: str | list[str] | None = None
    consume_unit: ConsumeUnit
    created_by: str | None = None
    meta: CodeMeta
