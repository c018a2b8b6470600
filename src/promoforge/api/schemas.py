"""Request bodies as the wire carries them; their validation errors name the field."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    TypeAdapter,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from promoforge.api.documents.promotions import NewPromotionBody, PromotionChangesBody
from promoforge.domain.codes import (
    DEFAULT_CODE_LENGTH,
    MAX_CODE_LENGTH,
    MAX_SAFE_INTEGER,
    MIN_CODE_LENGTH,
    ConsumeUnit,
    clean_code_prefix,
    clean_manual_code,
)
from promoforge.domain.identifiers import parse_uuid
from promoforge.domain.jobs import MAX_JOB_NAME_CHARS, JobType

MAX_CODES_PER_REQUEST = 10_000


class _Body(BaseModel):
    """Unknown fields are ignored, as EP does."""

    model_config = ConfigDict(extra="ignore")


def _check_uuid(value: str) -> str:
    parsed = parse_uuid(value)
    if parsed is None:
        raise ValueError("must be a UUID")
    return parsed


UUIDText = Annotated[StrictStr, AfterValidator(_check_uuid)]
UserRestriction = Annotated[StrictStr, Field(min_length=1, max_length=255)]


class PromotionData(_Body):
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


class PromotionRequest(_Body):
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


class NewCodeData(_Body):
    """One code to add."""

    code: Annotated[StrictStr, AfterValidator(clean_manual_code)]
    uses: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)] | None = None
    user: UserRestriction | Annotated[list[UserRestriction], Field(min_length=1, max_length=100)] | None = (
        None
    )
    consume_unit: ConsumeUnit | None = None


class NewCodesData(_Body):
    """Codes to add; a top-level `consume_unit` is the default for codes without one."""

    type: Literal["promotion_codes"]
    # Larger sets belong in several requests or a code_generate job; this keeps each write short.
    codes: Annotated[list[NewCodeData], Field(min_length=1, max_length=MAX_CODES_PER_REQUEST)]
    consume_unit: ConsumeUnit | None = None


class NewCodesRequest(_Body):
    """`{"data": {"type": "promotion_codes", "codes": [...]}}`."""

    data: NewCodesData


class CodeReferenceData(_Body):
    """A code to delete, by text or by id."""

    code: Annotated[StrictStr, Field(min_length=1, max_length=1024)] | None = None
    id: UUIDText | None = None

    @model_validator(mode="after")
    def _names_a_code(self) -> CodeReferenceData:
        if self.code is None and self.id is None:
            raise ValueError("give the code's text (code) or its id")
        return self


class DeleteCodesData(_Body):
    """Codes to delete."""

    type: Literal["promotion_codes"]
    codes: Annotated[list[CodeReferenceData], Field(min_length=1, max_length=100_000)]


class DeleteCodesRequest(_Body):
    """`{"data": {"type": "promotion_codes", "codes": [{"code": ...}]}}`."""

    data: DeleteCodesData


class GenerateParametersData(_Body):
    """Parameters of a code_generate job."""

    number_of_codes: Annotated[StrictInt, Field(ge=1, le=MAX_SAFE_INTEGER)]
    max_uses_per_code: Annotated[StrictInt, Field(ge=0, le=MAX_SAFE_INTEGER)] | None = None
    consume_unit: ConsumeUnit = ConsumeUnit.PER_CART
    code_prefix: Annotated[StrictStr, AfterValidator(clean_code_prefix)] | None = None
    code_length: Annotated[StrictInt, Field(ge=MIN_CODE_LENGTH, le=MAX_CODE_LENGTH)] = DEFAULT_CODE_LENGTH


class PublicJobType(StrEnum):
    """The job types a client can create."""

    CODE_GENERATE = JobType.CODE_GENERATE.value
    CODE_EXPORT = JobType.CODE_EXPORT.value


class JobData(_Body):
    """A job to create."""

    type: Literal["promotion_job"]
    job_type: PublicJobType
    name: Annotated[StrictStr, Field(max_length=MAX_JOB_NAME_CHARS)] | None = None
    parameters: dict[str, Any] | None = None


class _NewJob(_Body):
    type: Literal["promotion_job"]
    name: Annotated[StrictStr, Field(max_length=MAX_JOB_NAME_CHARS)] | None = None


class NewGenerateJob(_NewJob):
    """A code_generate job: its parameters say how many codes and what they look like."""

    job_type: Literal[PublicJobType.CODE_GENERATE]
    parameters: GenerateParametersData


class NewExportJob(_NewJob):
    """A code_export job (parameters are ignored)."""

    job_type: Literal[PublicJobType.CODE_EXPORT]
    parameters: dict[str, Any] | None = None


NewJob = Annotated[NewGenerateJob | NewExportJob, Field(discriminator="job_type")]


class NewJobEnvelope(_Body):
    """`{"data": job}`."""

    data: NewJob


class JobRequest(_Body):
    """A job wrapped in `data`, as the SDK sends it; a bare job object (EP's reference) is accepted too."""

    data: JobData

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        """Describe both forms, with the parameters each job type takes."""
        return {
            "anyOf": [
                handler(NewJobEnvelope.__pydantic_core_schema__),
                handler(TypeAdapter(NewJob).core_schema),
            ]
        }

    @model_validator(mode="before")
    @classmethod
    def _wrap_bare_job(cls, value: Any) -> Any:
        if isinstance(value, dict) and "data" not in value and ("job_type" in value or "type" in value):
            return {"data": value}
        return value
