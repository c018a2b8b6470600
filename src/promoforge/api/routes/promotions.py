"""Promotions: E1-E6."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import PROMOTION_ID, AdminDep, BaseUrlDep, ContainerDep, PromotionIdDep
from promoforge.api.documents.common import (
    COMMON_ERRORS,
    DataDocument,
    DocumentResponse,
    ListDocument,
    list_document,
)
from promoforge.api.documents.promotions.requests import (
    NewPromotionRequest,
    PromotionChangesRequest,
    changed_promotion,
    new_promotion,
)
from promoforge.api.documents.promotions.responses import (
    PROMOTION_ATTRIBUTES,
    PromotionAttribute,
    PromotionResource,
    promotion_resource,
    version_resource,
)
from promoforge.api.jsonapi import EQ_ONLY, AllowedFilters, FilterQuery, PageDep, parse_filter
from promoforge.services import promotions

PROMOTION_FILTERS: AllowedFilters = {"code": EQ_ONLY}

router = APIRouter(
    prefix="/v2/promotions", tags=["Promotions"], route_class=JSONBodyRoute, responses=COMMON_ERRORS
)


def _one(status: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": DataDocument[PromotionResource], "description": "The promotion"}}


def _many() -> dict[int | str, dict[str, Any]]:
    return {200: {"model": ListDocument[PromotionResource], "description": "A page of promotions"}}


@router.post("", status_code=201, summary="Create a promotion", response_model=None, responses=_one(201))
def create_promotion(body: NewPromotionRequest, principal: AdminDep, container: ContainerDep) -> Response:
    """E1."""
    promotion = promotions.create_promotion(
        container.db,
        store_id=principal.store_id,
        attributes=new_promotion(body.data.document()),
        actor=principal.client_id,
        now=container.clock(),
    )
    return DocumentResponse({"data": promotion_resource(promotion)}, 201)


@router.get("", summary="List promotions", response_model=None, responses=_many())
def list_promotions(
    request: Request,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
) -> Response:
    """E2; `filter=eq(code,...)` finds the promotion owning a code."""
    filters = parse_filter(filter_, PROMOTION_FILTERS)
    items, total = promotions.list_promotions(
        container.db, store_id=principal.store_id, page=page, code=filters.equal_to("code")
    )
    return DocumentResponse(list_document(request, base, [promotion_resource(p) for p in items], page, total))


@router.get(
    "/attributes",
    summary="The fields of a promotion",
    response_model=None,
    responses={200: {"model": DataDocument[list[PromotionAttribute]], "description": "The fields"}},
)
async def promotion_attributes(principal: AdminDep) -> Response:
    """E18: field metadata, as EP's generic attributes resource lists it (constant: no thread needed)."""
    return DocumentResponse(PROMOTION_ATTRIBUTES)


@router.get(f"/{PROMOTION_ID}", summary="Get a promotion", response_model=None, responses=_one(200))
def get_promotion(promotion_id: PromotionIdDep, principal: AdminDep, container: ContainerDep) -> Response:
    """E3."""
    promotion = promotions.get_promotion(container.db, store_id=principal.store_id, promotion_id=promotion_id)
    return DocumentResponse({"data": promotion_resource(promotion)})


@router.put(
    f"/{PROMOTION_ID}",
    summary="Update a promotion (fields not sent are kept)",
    response_model=None,
    responses=_one(200),
)
def update_promotion(
    promotion_id: PromotionIdDep, body: PromotionChangesRequest, principal: AdminDep, container: ContainerDep
) -> Response:
    """E4."""
    promotion = promotions.update_promotion(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        changes=body.data.document(),
        parse_changes=changed_promotion,
        actor=principal.client_id,
        now=container.clock(),
    )
    return DocumentResponse({"data": promotion_resource(promotion)})


@router.delete(f"/{PROMOTION_ID}", status_code=204, summary="Delete a promotion with its codes and jobs")
def delete_promotion(promotion_id: PromotionIdDep, principal: AdminDep, container: ContainerDep) -> Response:
    """E5."""
    promotions.delete_promotion(
        container.db, store_id=principal.store_id, promotion_id=promotion_id, now=container.clock()
    )
    return Response(status_code=204)


@router.get(
    f"/{PROMOTION_ID}/history",
    summary="Versions of a promotion, newest first",
    response_model=None,
    responses=_many(),
)
def promotion_history(
    request: Request,
    promotion_id: PromotionIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
) -> Response:
    """E6."""
    versions, total, current = promotions.promotion_history(
        container.db, store_id=principal.store_id, promotion_id=promotion_id, page=page
    )
    return DocumentResponse(
        list_document(request, base, [version_resource(v, current) for v in versions], page, total)
    )
