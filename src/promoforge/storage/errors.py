"""Driver errors translated into domain errors, by constraint name."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import exc

from promoforge.domain.errors import (
    CodeConflict,
    DomainError,
    FieldProblem,
    IntegrityConflict,
    InvalidInput,
    ProductConflict,
    ServiceUnavailable,
    TooManyJobs,
    WriteConflict,
)
from promoforge.storage.schema import CODE_KEY_INDEX

# Constraint names (PostgreSQL) and the column lists SQLite names in its messages instead.
_UNIQUE_VIOLATIONS: list[tuple[str, str, type[DomainError], str]] = [
    (
        "uq_promotion_jobs_one_active",
        "promotion_jobs.promotion_id",
        TooManyJobs,
        "Only 1 pending or processing job is allowed per promotion.",
    ),
    (
        CODE_KEY_INDEX,
        "promotion_codes.store_ref, promotion_codes.code_key",
        CodeConflict,
        "A code with this text already exists in the store.",
    ),
    (
        "uq_products_store_sku",
        "products.store_id, products.sku",
        ProductConflict,
        "A product with this SKU already exists in the store.",
    ),
]


def _constraint_name(error: exc.DBAPIError) -> str | None:
    diag = getattr(error.orig, "diag", None)
    return getattr(diag, "constraint_name", None)


def _translate_integrity(error: exc.IntegrityError) -> DomainError:
    name = _constraint_name(error)
    message = str(error.orig)
    for constraint, sqlite_columns, error_type, detail in _UNIQUE_VIOLATIONS:
        if name == constraint or (name is None and message.endswith(sqlite_columns)):
            return error_type(detail)
    return IntegrityConflict("The change conflicts with data the service holds.")


@contextmanager
def translated_errors() -> Iterator[None]:
    """Re-raise driver errors as domain errors the API layer knows how to report."""
    try:
        yield
    except exc.IntegrityError as error:
        raise _translate_integrity(error) from error
    except exc.OperationalError as error:
        sqlstate = getattr(error.orig, "sqlstate", None)
        if sqlstate in ("40001", "40P01"):
            raise WriteConflict("The change raced with another one; retry it.") from error
        if "locked" in str(error.orig) or "busy" in str(error.orig):
            raise WriteConflict("The database is busy; retry the request.") from error
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from error
    except exc.DataError as error:
        # Input validation should stop such values first; this keeps a slip from becoming a 500.
        raise InvalidInput([FieldProblem("request", "a value in the request cannot be stored")]) from error
    except exc.TimeoutError as error:
        raise ServiceUnavailable("The service is busy; retry shortly.") from error
    except exc.InterfaceError as error:
        raise ServiceUnavailable("The database is unavailable; retry shortly.") from error
