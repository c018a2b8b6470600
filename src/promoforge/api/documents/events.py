"""Event payloads (integrations §7): each the document the API answers for its resource, without top-level
`links`; deletions name what went (`{"type", "id"}`)."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from promoforge.api.documents.carts.responses import cart_resource
from promoforge.api.documents.codes.responses import code_resource
from promoforge.api.documents.common import encode
from promoforge.api.documents.integrations.responses import integration_event_document
from promoforge.api.documents.jobs.responses import job_resource
from promoforge.api.documents.orders.responses import order_document, usage_resource
from promoforge.api.documents.promotions.responses import promotion_resource
from promoforge.domain.codes import PromotionCode
from promoforge.domain.jobs import Job
from promoforge.domain.orders import Usage
from promoforge.domain.promotions.promotion import Promotion
from promoforge.services.carts import CartView
from promoforge.services.checkout import OrderView
from promoforge.services.codes import CodesChanged
from promoforge.services.integrations import IntegrationView

# The base of links inside payloads: the operator's public URL, else that of the request causing the event.
request_base_url: ContextVar[str | None] = ContextVar("request_base_url", default=None)
NO_BASE_URL = "urn:promoforge"


class UnknownEventSubject(TypeError):
    """An event was recorded with something no payload is rendered from."""


def event_payload(event_key: str, subject: object, *, public_url: str | None) -> Mapping[str, Any]:
    """The payload of `event_key` for `subject`."""
    base = public_url or request_base_url.get() or NO_BASE_URL
    if isinstance(subject, Mapping):  # a deletion, or a payload its use case already shaped
        return dict(subject)
    if isinstance(subject, CartView):
        return {"data": cart_resource(subject, base)}
    if isinstance(subject, IntegrationView):
        return integration_event_document(subject, base)
    if isinstance(subject, Promotion):
        return {"data": promotion_resource(subject)}
    if isinstance(subject, Usage):
        usage = dict(usage_resource(subject))
        usage["relationships"] = {
            "promotion": {"data": {"type": "promotion", "id": subject.promotion_id}},
            "order": {"data": {"type": "order", "id": subject.order_id} if subject.order_id else None},
        }
        return {"data": usage}
    if isinstance(subject, CodesChanged):
        listed = (
            [{"id": code.id, "code": code.code} for code in subject.codes]
            if subject.removed
            else [dict(code_resource(code)) for code in subject.codes]
        )
        return {
            "data": {
                "type": "promotion_codes",
                "promotion_id": subject.promotion_id,
                "total": subject.total,
                "truncated": len(listed) < subject.total,
                "codes": listed,
            }
        }
    if isinstance(subject, Job):
        return {"data": job_resource(subject)}
    if isinstance(subject, PromotionCode):
        code = dict(code_resource(subject))
        code["relationships"] = {"promotion": {"data": {"type": "promotion", "id": subject.promotion_id}}}
        return {"data": code}
    raise UnknownEventSubject(f"no payload for {event_key} from {type(subject).__name__}")


ORDER_WITH_ITEMS = "order-with-items"


def encoded_order(view: OrderView) -> bytes:
    """The order with its items, as C3 answers it and `order.*` events carry it, encoded once per view."""
    encoded = view.encoded.get(ORDER_WITH_ITEMS)
    if encoded is None:
        encoded = view.encoded[ORDER_WITH_ITEMS] = encode(
            order_document(view.order, view.items, frozenset({"items"}))
        )
    return encoded


def event_payload_text(event_key: str, subject: object, *, public_url: str | None) -> str:
    """The payload of `event_key` for `subject`, as JSON text."""
    if isinstance(subject, OrderView):
        return encoded_order(subject).decode("utf-8")
    return encode(event_payload(event_key, subject, public_url=public_url)).decode("utf-8")
