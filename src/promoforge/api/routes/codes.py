"""Promotion codes: E7-E10."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import (
    PROMOTION_ID,
    AdminDep,
    BaseUrlDep,
    CodeInPathDep,
    ContainerDep,
    PromotionIdDep,
)
from promoforge.api.documents.codes.requests import DeleteCodesRequest, NewCodesRequest
from promoforge.api.documents.codes.responses import CodeResource, code_resource
from promoforge.api.documents.common import (
    COMMON_ERRORS,
    DataDocument,
    DocumentResponse,
    ListDocument,
    list_document,
)
from promoforge.api.documents.promotions.responses import PromotionResource, promotion_resource
from promoforge.api.jsonapi import EQ_ONLY, AllowedFilters, FilterQuery, PageDep, parse_filter
from promoforge.domain.codes import ConsumeUnit, NewCode, canonical_code
from promoforge.services import codes
from promoforge.services.codes import CodeReference

CODE_FILTERS: AllowedFilters = {"code": EQ_ONLY}

router = APIRouter(
    prefix=f"/v2/promotions/{PROMOTION_ID}/codes",
    tags=["Promotion codes"],
    route_class=JSONBodyRoute,
    responses=COMMON_ERRORS,
)


@router.post(
    "",
    status_code=201,
    summary="Add codes to a promotion (all or none); returns the promotion",
    response_model=None,
    responses={201: {"model": DataDocument[PromotionResource], "description": "The promotion"}},
)
def add_codes(
    promotion_id: PromotionIdDep, body: NewCodesRequest, principal: AdminDep, container: ContainerDep
) -> Response:
    """E7."""
    default_unit = body.data.consume_unit or ConsumeUnit.PER_CART
    new_codes = [
        NewCode(
            code=item.code,
            key=canonical_code(item.code),
            max_uses=item.uses,
            consume_unit=(item.consume_unit or default_unit).value,
            user=item.user,
        )
        for item in body.data.codes
    ]
    promotion = codes.add_codes(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        codes=new_codes,
        actor=principal.client_id,
        now=container.clock(),
    )
    return DocumentResponse({"data": promotion_resource(promotion)}, 201)


@router.get(
    "",
    summary="List a promotion's codes",
    response_model=None,
    responses={200: {"model": ListDocument[CodeResource], "description": "A page of codes"}},
)
def list_codes(
    request: Request,
    promotion_id: PromotionIdDep,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
) -> Response:
    """E8; `uses` is the number of uses left, `max_uses` the limit."""
    filters = parse_filter(filter_, CODE_FILTERS)
    items, total = codes.list_codes(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        page=page,
        code=filters.equal_to("code"),
    )
    return DocumentResponse(list_document(request, base, [code_resource(c) for c in items], page, total))


@router.delete("", status_code=204, summary="Delete several codes (unknown ones are ignored)")
def delete_codes(
    promotion_id: PromotionIdDep, body: DeleteCodesRequest, principal: AdminDep, container: ContainerDep
) -> Response:
    """E9."""
    references = [CodeReference(code=item.code, id=item.id) for item in body.data.codes]
    codes.delete_codes(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        references=references,
        now=container.clock(),
    )
    return Response(status_code=204)


@router.delete(
    "/{code:path}",
    status_code=204,
    summary="Delete one code, named by its id or its text (percent-encoded: '/' as %2F)",
)
def delete_code(
    promotion_id: PromotionIdDep,
    code: CodeInPathDep,
    principal: AdminDep,
    container: ContainerDep,
) -> Response:
    """E10."""
    codes.delete_code(
        container.db,
        store_id=principal.store_id,
        promotion_id=promotion_id,
        reference=code,
        now=container.clock(),
    )
    return Response(status_code=204)
