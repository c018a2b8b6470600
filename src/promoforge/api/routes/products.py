"""The product registry (spec D11): admin endpoints outside EP's surface, under /v2/promoforge/products."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from promoforge.api.body import JSONBodyRoute
from promoforge.api.deps import PRODUCT_ID, AdminDep, BaseUrlDep, ContainerDep, ProductIdDep
from promoforge.api.documents.common import (
    COMMON_ERRORS,
    DataDocument,
    DocumentResponse,
    ListDocument,
    list_document,
)
from promoforge.api.documents.products.requests import ProductImportRequest, ProductRequest, product_fields
from promoforge.api.documents.products.responses import (
    ProductImportResult,
    ProductResource,
    import_result,
    product_resource,
)
from promoforge.api.jsonapi import EQ_ONLY, AllowedFilters, FilterQuery, PageDep, parse_filter
from promoforge.services import products

PRODUCT_FILTERS: AllowedFilters = {"sku": EQ_ONLY}

router = APIRouter(
    prefix="/v2/promoforge/products", tags=["Products"], route_class=JSONBodyRoute, responses=COMMON_ERRORS
)


@router.get(
    "",
    summary="List the store's products in SKU order",
    response_model=None,
    responses={200: {"model": ListDocument[ProductResource], "description": "A page of products"}},
)
def list_products(
    request: Request,
    principal: AdminDep,
    container: ContainerDep,
    base: BaseUrlDep,
    page: PageDep,
    filter_: FilterQuery = None,
) -> Response:
    """`filter=eq(sku,...)` finds the product with a SKU (compared exactly)."""
    filters = parse_filter(filter_, PRODUCT_FILTERS)
    items, total = products.list_products(
        container.db, store_id=principal.store_id, page=page, sku=filters.equal_to("sku")
    )
    return DocumentResponse(list_document(request, base, [product_resource(p) for p in items], page, total))


@router.post(
    "/import",
    summary="Create or replace up to 10,000 products at once (all or none)",
    response_model=None,
    responses={200: {"model": DataDocument[ProductImportResult], "description": "What the import did"}},
)
def import_products(body: ProductImportRequest, principal: AdminDep, container: ContainerDep) -> Response:
    """Products with an id replace that product; without one, the product with their SKU, or are new."""
    result = products.import_products(
        container.db,
        store_id=principal.store_id,
        products=[product_fields(item) for item in body.data],
        now=container.clock(),
    )
    return DocumentResponse({"data": import_result(result)})


@router.put(
    f"/{PRODUCT_ID}",
    summary="Create or replace a product (201 when created, 200 when replaced)",
    response_model=None,
    responses={
        200: {"model": DataDocument[ProductResource], "description": "The product, replaced"},
        201: {"model": DataDocument[ProductResource], "description": "The product, created"},
    },
)
def put_product(
    product_id: ProductIdDep,
    body: ProductRequest,
    principal: AdminDep,
    container: ContainerDep,
) -> Response:
    """Every field is replaced: those not sent take their defaults."""
    product, created = products.put_product(
        container.db,
        store_id=principal.store_id,
        product_id=product_id,
        fields=product_fields(body.data),
        now=container.clock(),
    )
    return DocumentResponse({"data": product_resource(product)}, 201 if created else 200)


@router.get(
    f"/{PRODUCT_ID}",
    summary="Get a product",
    response_model=None,
    responses={200: {"model": DataDocument[ProductResource], "description": "The product"}},
)
def get_product(product_id: ProductIdDep, principal: AdminDep, container: ContainerDep) -> Response:
    """One product of the caller's store."""
    product = products.get_product(container.db, store_id=principal.store_id, product_id=product_id)
    return DocumentResponse({"data": product_resource(product)})


@router.delete(f"/{PRODUCT_ID}", status_code=204, summary="Delete a product")
def delete_product(product_id: ProductIdDep, principal: AdminDep, container: ContainerDep) -> Response:
    """One product of the caller's store."""
    products.delete_product(container.db, store_id=principal.store_id, product_id=product_id)
    return Response(status_code=204)
