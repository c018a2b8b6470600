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


class IntegrationInvalid(SemanticError):
    """An integration, its configuration or the store's integration settings break a rule (integrations
    spec D-I3): one problem per field, `source` the JSON path."""

    code = "integration_invalid"
    title = "Validation Error"


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


class CodeNotApplicable(NotFound):
    """A code that does not exist or gives this cart nothing; the two look the same (§5.1, B13, B16)."""

    code = "promotion_code_not_found"
    title = "Not Found"

    def __init__(self, code_text: str) -> None:
        super().__init__("No promotion could be found with the given code.", meta={"code": code_text})


class CustomDiscountsEnabled(DomainError):
    """The cart uses custom discounts, so EP promotions cannot be applied to it (§5.1)."""

    code = "custom_discounts_enabled"
    title = "Could not apply EP promotion with the given code"

    def __init__(self, code_text: str) -> None:
        super().__init__("The cart is configured to use custom discounts", meta={"code": code_text})


class ProductNotFound(NotFound):
    """No live product with this id or SKU in the store (§4.3)."""

    code = "product_not_found"
    title = "Product not found"


class CartCurrencyMismatch(DomainError):
    """A product has no price in the cart's currency (B30)."""

    code = "cart_currency_mismatch"
    title = "Cart Currency Mismatch"


class CartFull(DomainError):
    """The cart already holds the most unique lines it may (B38)."""

    code = "cart_full"
    title = "Bad Request"


class CartItemNotFound(NotFound):
    """The line is not in the cart."""

    code = "cart_item_not_found"
    title = "Not Found"


class CartExists(DomainError):
    """A cart with this id already exists (B7)."""

    code = "cart_exists"
    title = "Conflict"


class CartRuleBroken(DomainError):
    """A cart request breaks a rule of the cart's state (a preview date, both discount settings on)."""

    code = "cart_rule"
    title = "Bad Request"


class BothDiscountSettings(DomainError):
    """A cart cannot use custom discounts and Rule promotions at once (§3.6)."""

    code = "both_discount_settings"
    title = "Cannot use both discounts together"


class BulkFailed(DomainError):
    """An all-or-nothing bulk request (or merge, or re-order) in which some entries failed; nothing was
    changed. Failures of a merge inside a bulk request are listed alongside the others."""

    code = "bulk_failed"
    title = "Bad Request"

    errors: list[DomainError]

    def __init__(self, errors: list[DomainError]) -> None:
        flat: list[DomainError] = []
        for error in errors:
            flat.extend(error.errors if isinstance(error, BulkFailed) else [error])
        super().__init__(flat[0].detail if flat else "")
        self.errors = flat


class TooManyAttempts(DomainError):
    """Too many failed code applications from this cart or address; try again after `retry_after` seconds."""

    code = "too_many_attempts"
    title = "Too Many Requests"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class TooManyCarts(TooManyAttempts):
    """Too many carts created by this customer or client address this hour."""

    code = "too_many_carts"


class CartTooLarge(DomainError):
    """A cart would store more text than a cart may (MAX_CART_TEXT)."""

    code = "cart_too_large"
    title = "Bad Request"


class CartEmpty(DomainError):
    """Checkout of a cart without product or custom lines (B27)."""

    code = "cart_empty"
    title = "Bad Request"


class OrderNotFound(NotFound):
    """No such order in the caller's store, or not one the caller's identity may read."""

    code = "order_not_found"
    title = "Not Found"


class OrderStateConflict(DomainError):
    """O4 asked for a transition the order's state does not allow (§7.7)."""

    code = "order_state"
    title = "Unprocessable Entity"


class IdempotencyKeyReused(DomainError):
    """An `Idempotency-Key` already used for a checkout of another cart (D13)."""

    code = "idempotency_key_reused"
    title = "Unprocessable Entity"


class UsagesNotFound(NotFound):
    """None of the usages to anonymise exist in the store (B28)."""

    code = "usages_not_found"
    title = "Could not anonymize some usages"
