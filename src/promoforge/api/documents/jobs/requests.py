"""Jobs to create: code generation with its parameters, or an export."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    Field,
    GetJsonSchemaHandler,
    StrictInt,
    StrictStr,
    TypeAdapter,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from promoforge.api.documents.common import RequestBody
from promoforge.domain.codes import (
    DEFAULT_CODE_LENGTH,
    MAX_CODE_LENGTH,
    MAX_SAFE_INTEGER,
    MIN_CODE_LENGTH,
    ConsumeUnit,
    clean_code_prefix,
)
from promoforge.domain.jobs import MAX_JOB_NAME_CHARS, JobType


class GenerateParametersData(RequestBody):
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


class JobData(RequestBody):
    """A job to create."""

    type: Literal["promotion_job"]
    job_type: PublicJobType
    name: Annotated[StrictStr, Field(max_length=MAX_JOB_NAME_CHARS)] | None = None
    parameters: dict[str, Any] | None = None


class _NewJob(RequestBody):
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


class NewJobEnvelope(RequestBody):
    """`{"data": job}`."""

    data: NewJob


class JobRequest(RequestBody):
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
