"""Codes to add to a promotion, and codes to delete from it."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictInt, StrictStr, model_validator

from promoforge.api.documents.common import RequestBody, UUIDText
from promoforge.domain.codes import MAX_SAFE_INTEGER, ConsumeUnit, clean_manual_code

MAX_CODES_PER_REQUEST = 10_000

UserRestriction = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class NewCodeData(RequestBody):
    """One code to add."""

    code: Annotated[StrictStr, AfterValidator(clean_manual_code)]
    uses: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)] | None = None
    user: UserRestriction | Annotated[list[UserRestriction], Field(min_length=1, max_length=100)] | None = (
        None
    )
    consume_unit: ConsumeUnit | None = None


class NewCodesData(RequestBody):
    """Codes to add; a top-level `consume_unit` is the default for codes without one."""

    type: Literal["promotion_codes"]
    # Larger sets belong in several requests or a code_generate job; this keeps each write short.
    codes: Annotated[list[NewCodeData], Field(min_length=1, max_length=MAX_CODES_PER_REQUEST)]
    consume_unit: ConsumeUnit | None = None


class NewCodesRequest(RequestBody):
    """`{"data": {"type": "promotion_codes", "codes": [...]}}`."""

    data: NewCodesData


class CodeReferenceData(RequestBody):
    """A code to delete, by text or by id."""

    code: Annotated[StrictStr, Field(min_length=1, max_length=1024)] | None = None
    id: UUIDText | None = None

    @model_validator(mode="after")
    def _names_a_code(self) -> CodeReferenceData:
        if self.code is None and self.id is None:
            raise ValueError("give the code's text (code) or its id")
        return self


class DeleteCodesData(RequestBody):
    """Codes to delete."""

    type: Literal["promotion_codes"]
    codes: Annotated[list[CodeReferenceData], Field(min_length=1, max_length=100_000)]


class DeleteCodesRequest(RequestBody):
    """`{"data": {"type": "promotion_codes", "codes": [{"code": ...}]}}`."""

    data: DeleteCodesData
