"""Request dependencies: the container, the caller, path ids."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import unquote

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.convertors import Convertor, register_url_convertor

from promoforge.api.documents.events import request_base_url
from promoforge.bootstrap import Container
from promoforge.domain.errors import Forbidden, NotFound, Unauthenticated
from promoforge.domain.identifiers import parse_uuid
from promoforge.observability.logs import note_store
from promoforge.services.auth import Principal
from promoforge.services.products import PRODUCT_NOT_FOUND
from promoforge.services.promotions import PROMOTION_NOT_FOUND

PROMOTION_SUBRESOURCES = ("attributes",)


class PromotionIdConvertor(Convertor[str]):
    """A `{promotionID:promotion_id}` path segment: any segment but the fixed names beside it."""

    # So that PUT /v2/promotions/attributes is a 405 of the attributes route, not "promotion not found".
    regex = "(?!(?:" + "|".join(PROMOTION_SUBRESOURCES) + ")(?:/|$))[^/]+"

    def convert(self, value: str) -> str:
        """The segment as it is."""
        return value

    def to_string(self, value: str) -> str:
        """The segment as it is."""
        return value


register_url_convertor("promotion_id", PromotionIdConvertor())
PROMOTION_ID = "{promotionID:promotion_id}"

PRODUCT_SUBRESOURCES = ("import",)


class ProductIdConvertor(PromotionIdConvertor):
    """A `{productID:product_id}` path segment: any segment but `import`, so GET .../import is a 405."""

    regex = "(?!(?:" + "|".join(PRODUCT_SUBRESOURCES) + ")(?:/|$))[^/]+"


register_url_convertor("product_id", ProductIdConvertor())
PRODUCT_ID = "{productID:product_id}"

_bearer = HTTPBearer(auto_error=False, description="An access token from POST /oauth/access_token")


def container_of(request: Request) -> Container:
    """The application's container."""
    container: Container = request.app.state.container
    return container


# Dependencies that neither block nor wait are `async def`: FastAPI runs a plain `def` dependency in the
# thread pool, a hand-off that costs more than most of them do.
async def get_container(request: Request) -> Container:
    """The application's container."""
    return container_of(request)


ContainerDep = Annotated[Container, Depends(get_container)]


def authenticate(request: Request) -> Principal:
    """The caller behind the request's bearer token, verified once per request; 401 when it is missing,
    invalid or expired."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("An access token is required: send Authorization: Bearer <token>")
    container = container_of(request)
    principal = container.tokens.verify(token.strip(), now=container.clock())
    note_store(principal.store_id)
    request.state.principal = principal
    return principal


async def current_principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind the bearer token (the bearer scheme declared for OpenAPI); 401 as `authenticate`."""
    return authenticate(request)


async def admin_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    """A caller with a client_credentials token; storefront (implicit) tokens get 403."""
    if not principal.is_admin:
        raise Forbidden(
            "Implicit (storefront) tokens have no access to promotions or products; use client_credentials"
        )
    return principal


AdminDep = Annotated[Principal, Depends(admin_principal)]


def _as_uuid(value: str, detail: str) -> str:
    parsed = parse_uuid(value)
    if parsed is None:
        raise NotFound(detail)
    return parsed


async def promotion_id(promotion_id: Annotated[str, Path(alias="promotionID")]) -> str:
    """The promotion id from the path; anything but a UUID names no promotion."""
    return _as_uuid(promotion_id, PROMOTION_NOT_FOUND)


async def job_id(job_id: Annotated[str, Path(alias="jobID")]) -> str:
    """The job id from the path."""
    return _as_uuid(job_id, "job not found")


async def product_id(product_id: Annotated[str, Path(alias="productID")]) -> str:
    """The product id from the path; anything but a UUID names no product."""
    return _as_uuid(product_id, PRODUCT_NOT_FOUND)


PromotionIdDep = Annotated[str, Depends(promotion_id)]
JobIdDep = Annotated[str, Depends(job_id)]
ProductIdDep = Annotated[str, Depends(product_id)]

CODE_PARAMETER = "{code}"
CODE_NOT_FOUND = "code not found"


async def code_in_path(request: Request, code: Annotated[str, Path(max_length=1024)]) -> str:
    """The code in the route's `{code:path}` segment: one raw path segment, so it may hold an encoded '/'."""
    # Servers decode %2F in `path`, so "a%2Fb" and "a/b" look alike there; only `raw_path` tells them apart.
    template = request.scope["route"].path_format.split("/")
    after_code = len(template) - 1 - template.index(CODE_PARAMETER)
    segments = request.scope.get("raw_path", request.url.path.encode()).decode("latin-1").split("/")
    segment = unquote(segments[-1 - after_code]) if len(segments) > after_code else ""
    if not code or segment != code:
        raise NotFound(CODE_NOT_FOUND)
    return code


CodeInPathDep = Annotated[str, Depends(code_in_path)]


async def base_url(request: Request, container: ContainerDep) -> str:
    """The service's public base URL: configured, or the one the request came in on."""
    configured = container.settings.public_url
    base = (configured or str(request.base_url)).rstrip("/")
    request_base_url.set(base)  # links inside the events this request records
    return base


BaseUrlDep = Annotated[str, Depends(base_url)]
