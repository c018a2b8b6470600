"""One tree of domain errors, each with a stable code and title; HTTP statuses live in the API layer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from promoforge.domain.products import ProductClash


@dataclass(frozen=True)
class FieldProblem:
    """One problem with one input field."""

    source: str
    detail: str
    title: str = "invalid"


class DomainError(Exception):
    """Base of every error the service reports; `code` is stable and sent as the error's `code`."""

    code: ClassVar[str] = "error"
    title: ClassVar[str] = "Error"
    # True when the same request may well succeed if simply tried again later.
    transient: ClassVar[bool] = False

    def __init__(
        self, detail: str = "", *, source: str | None = None, meta: dict[str, Any] | None = None
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.source = source
        self.meta = meta


class NotFound(DomainError):
    """The addressed resource does not exist in the caller's store."""

    code = "not_found"
    title = "Not Found"


class InvalidInput(DomainError):
    """Input is malformed or breaks a field rule; carries one problem per field."""

    code = "invalid_input"
    title = "Bad Request"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.detail for p in problems))
        self.problems = problems


class SemanticError(DomainError):
    """Input is well formed but breaks a rule that spans fields or state; carries one problem per field."""

    code = "unprocessable"
    title = "Unprocessable Entity"

    def __init__(self, problems: list[FieldProblem]) -> None:
        super().__init__("; ".join(p.detail for p in problems))
        self.problems = problems


class Unauthenticated(DomainError):
    """The caller has no valid access token or credentials."""

    code = "unauthenticated"
    title = "Unauthorized"


class Forbidden(DomainError):
    """The caller's token may not use this resource."""

    code = "forbidden"
    title = "Forbidden"


class CodeConflict(DomainError):
    """One or more codes already exist in the store."""

    code = "code_conflict"
    title = "Conflict"


class ProductConflict(DomainError):
    """A product's id or SKU clashes with another product of the store or of the same write.

    `numbered` tells whether the clashes' indexes count products of a list (an import) or name the one
    product of a single write.
    """

    code = "product_conflict"
    title = "Conflict"

    def __init__(self, detail: str, clashes: Sequence[ProductClash] = (), *, numbered: bool = False) -> None:
        super().__init__(detail)
        self.clashes = tuple(clashes)
        self.numbered = numbered


class CodesLimitExceeded(DomainError):
    """Adding the codes would take a promotion over its store's code limit."""

    code = "codes_limit_exceeded"
    title = "Unprocessable Entity"


class TooManyCodesToReenable(DomainError):
    """An expired promotion with more than 1000 codes cannot have its end moved into the future."""

    code = "too_many_codes_to_reenable"
    title = "Unprocessable Entity"


class TooManyJobs(DomainError):
    """The promotion already has a job that is pending or processing."""

    code = "too_many_jobs"
    title = "Too many jobs"


class JobNotCancellable(DomainError):
    """Only pending or processing jobs can be cancelled."""

    code = "job_not_cancellable"
    title = "Unprocessable Entity"


class NoFileToDownload(DomainError):
    """The job has no export file (not an export, or not completed)."""

    code = "no_file_to_download"
    title = "Unprocessable Entity"


class ExportFileExpired(NoFileToDownload):
    """The export file outlived its store's retention and was deleted."""

    code = "export_file_expired"


class CodeSpaceTooSmall(DomainError):
    """The requested code length cannot comfortably hold the store's codes plus the new ones."""

    code = "code_space_too_small"
    title = "Unprocessable Entity"


class WriteConflict(DomainError):
    """A concurrent write got in the way; the request can be retried."""

    code = "write_conflict"
    title = "Conflict"
    transient = True


class IntegrityConflict(DomainError):
    """A change broke a database rule that input validation does not cover."""

    code = "integrity_conflict"
    title = "Conflict"


class ServiceUnavailable(DomainError):
    """The database cannot be reached or stayed locked too long."""

    code = "service_unavailable"
    title = "Service Unavailable"
    transient = True


class PayloadTooLarge(DomainError):
    """The request body is larger than the service accepts."""

    code = "payload_too_large"
    title = "Payload Too Large"


@dataclass
class ProblemList:
    """Collects field problems."""

    problems: list[FieldProblem] = field(default_factory=list)

    def add(self, source: str, detail: str, title: str = "invalid") -> None:
        """Record one problem."""
        self.problems.append(FieldProblem(source=source, detail=detail, title=title))
