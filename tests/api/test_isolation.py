"""Store isolation: one store's token can neither see nor change another store's data or files."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from itsdangerous import URLSafeSerializer

from promoforge.bootstrap import Container
from support import StoreClient, TestClient, make_store

pytestmark = pytest.mark.both_backends

A_NAME = "Store A private sale"


@dataclass(frozen=True)
class Stores:
    """Store A with a promotion, codes and jobs in several states; store B with a promotion and an export."""

    a: StoreClient
    b: StoreClient
    promotion_id: str
    code_id: str
    code_text: str
    generated_code: str
    generate_job_id: str
    export_job_id: str
    pending_job_id: str
    href: str
    b_promotion_id: str
    b_export_job_id: str
    b_href: str


@dataclass(frozen=True)
class Call:
    """One request, its path and JSON body built from the seeded ids."""

    name: str
    method: str
    path: Callable[[Stores], str]
    body: Callable[[Stores], Any] | None = None


def completed_export(shop: StoreClient, promotion_id: str, run_jobs: Any) -> tuple[str, str]:
    """Run a code_export job to completion; return its id and its download href."""
    response = shop.create_job(promotion_id, "code_export")
    assert response.status_code == 201, response.text
    job_id: str = response.json()["data"]["id"]
    run_jobs()
    assert shop.job(promotion_id, job_id)["status"] == "completed"
    link = shop.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}/file")
    assert link.status_code == 200, link.text
    href: str = link.json()["href"]
    return job_id, href


@pytest.fixture
def stores(container: Container, app_client: TestClient, run_jobs: Any) -> Stores:
    """Seed both stores through the API."""
    a = make_store(container, app_client, name="store-a")
    b = make_store(container, app_client, name="store-b")
    promotion_id = a.create_promotion(name=A_NAME)["id"]
    added = a.add_codes(promotion_id, {"code": "ALPHA-ONE", "uses": 3}, "ALPHA-TWO")
    assert added.status_code == 201, added.text
    generate = a.create_job(promotion_id, "code_generate", number_of_codes=5, code_prefix="gen")
    assert generate.status_code == 201, generate.text
    generate_job_id = generate.json()["data"]["id"]
    run_jobs()
    assert a.job(promotion_id, generate_job_id)["status"] == "completed"
    export_job_id, href = completed_export(a, promotion_id, run_jobs)
    b_promotion_id = b.create_promotion(name="Store B sale")["id"]
    b_export_job_id, b_href = completed_export(b, b_promotion_id, run_jobs)
    pending = a.create_job(promotion_id, "code_export", name="left pending")
    assert pending.status_code == 201, pending.text
    assert pending.json()["data"]["status"] == "pending"
    codes = {c["code"]: c for c in a.list_codes(promotion_id, **{"page[limit]": 100})}
    assert len(codes) == 7
    generated = next(text for text in codes if text.startswith("gen-"))
    return Stores(
        a=a,
        b=b,
        promotion_id=promotion_id,
        code_id=codes["ALPHA-ONE"]["id"],
        code_text="ALPHA-ONE",
        generated_code=generated,
        generate_job_id=generate_job_id,
        export_job_id=export_job_id,
        pending_job_id=pending.json()["data"]["id"],
        href=href,
        b_promotion_id=b_promotion_id,
        b_export_job_id=b_export_job_id,
        b_href=b_href,
    )


def local(href: str) -> str:
    """The path and query of an absolute href, for the in-process client."""
    parts = urlsplit(href)
    return f"{parts.path}?{parts.query}"


def snapshot(s: Stores) -> dict[str, Any]:
    """Everything store A can read about its data, including the exported file."""
    base = f"/v2/promotions/{s.promotion_id}"
    reads = {
        "promotion": (base, {}),
        "history": (f"{base}/history", {}),
        "codes": (f"{base}/codes", {"page[limit]": "100"}),
        "jobs": (f"{base}/jobs", {}),
        "generate_job": (f"{base}/jobs/{s.generate_job_id}", {}),
        "export_job": (f"{base}/jobs/{s.export_job_id}", {}),
        "pending_job": (f"{base}/jobs/{s.pending_job_id}", {}),
        "promotions": ("/v2/promotions", {}),
        "by_code": ("/v2/promotions", {"filter": f"eq(code,{s.code_text})"}),
    }
    state: dict[str, Any] = {}
    for key, (path, params) in reads.items():
        response = s.a.get(path, params=params)
        assert response.status_code == 200, (path, response.text)
        state[key] = response.json()
    download = s.a.client.get(local(s.href))
    assert download.status_code == 200, download.text
    state["csv"] = download.content
    return state


def error_problem(response: Any, status: int) -> str | None:
    """Describe how a response differs from `status` with an EP errors array, or None when it matches."""
    if response.status_code != status:
        return f"status {response.status_code} (expected {status}): {response.text[:300]}"
    try:
        document = response.json()
    except ValueError:
        return f"body is not JSON: {response.text[:300]!r}"
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list) or not errors:
        return f"no errors array: {response.text[:300]}"
    if "data" in document:
        return f"an error document carries data: {response.text[:300]}"
    for item in errors:
        if (
            not isinstance(item, dict)
            or item.get("status") != status
            or not isinstance(item.get("title"), str)
        ):
            return f"malformed error item {item!r}"
    return None


def send(shop: StoreClient, call: Call, s: Stores) -> Any:
    """Send `call` with the client's token."""
    kwargs: dict[str, Any] = {}
    if call.body is not None:
        kwargs["json"] = call.body(s)
    return shop.request(call.method, call.path(s), **kwargs)


def promotion_path(suffix: str = "") -> Callable[[Stores], str]:
    """A path under store A's promotion."""
    return lambda s: f"/v2/promotions/{s.promotion_id}{suffix}"


def job_path(attribute: str, suffix: str = "") -> Callable[[Stores], str]:
    """A path naming one of store A's jobs under store A's promotion."""
    return lambda s: f"/v2/promotions/{s.promotion_id}/jobs/{getattr(s, attribute)}{suffix}"


def own_promotion_path(suffix: Callable[[Stores], str]) -> Callable[[Stores], str]:
    """A path under store B's own promotion, naming one of store A's ids."""
    return lambda s: f"/v2/promotions/{s.b_promotion_id}{suffix(s)}"


def codes_body(s: Stores) -> dict[str, Any]:
    """A request naming store A's code by text and by id."""
    return {"data": {"type": "promotion_codes", "codes": [{"code": s.code_text}, {"id": s.code_id}]}}


ON_A_PROMOTION = [
    Call("get promotion", "GET", promotion_path()),
    Call(
        "update promotion",
        "PUT",
        promotion_path(),
        lambda s: {
            "data": {"type": "promotion", "id": s.promotion_id, "name": "taken over", "enabled": False}
        },
    ),
    Call("delete promotion", "DELETE", promotion_path()),
    Call("history", "GET", promotion_path("/history")),
    Call(
        "add codes",
        "POST",
        promotion_path("/codes"),
        lambda s: {"data": {"type": "promotion_codes", "codes": [{"code": "INTRUDER"}]}},
    ),
    Call("list codes", "GET", promotion_path("/codes")),
    Call(
        "list codes filtered",
        "GET",
        lambda s: f"/v2/promotions/{s.promotion_id}/codes?filter=eq(code,{s.code_text})",
    ),
    Call("delete codes", "DELETE", promotion_path("/codes"), codes_body),
    Call("delete code by id", "DELETE", lambda s: f"/v2/promotions/{s.promotion_id}/codes/{s.code_id}"),
    Call("delete code by text", "DELETE", lambda s: f"/v2/promotions/{s.promotion_id}/codes/{s.code_text}"),
    Call(
        "delete generated code",
        "DELETE",
        lambda s: f"/v2/promotions/{s.promotion_id}/codes/{s.generated_code}",
    ),
    Call(
        "create export job",
        "POST",
        promotion_path("/jobs"),
        lambda s: {"data": {"type": "promotion_job", "job_type": "code_export"}},
    ),
    Call(
        "create generate job",
        "POST",
        promotion_path("/jobs"),
        lambda s: {
            "data": {
                "type": "promotion_job",
                "job_type": "code_generate",
                "parameters": {"number_of_codes": 1},
            }
        },
    ),
    Call("list jobs", "GET", promotion_path("/jobs")),
    Call("list usages", "GET", promotion_path("/usages")),
    Call(
        "list a code's usages", "GET", lambda s: f"/v2/promotions/{s.promotion_id}/codes/{s.code_text}/usages"
    ),
    Call("get generate job", "GET", job_path("generate_job_id")),
    Call("get export job", "GET", job_path("export_job_id")),
    Call("get pending job", "GET", job_path("pending_job_id")),
    Call("cancel pending job", "POST", job_path("pending_job_id", "/cancel")),
    Call("cancel completed job", "POST", job_path("export_job_id", "/cancel")),
    Call("export file", "GET", job_path("export_job_id", "/file")),
    Call("file of pending job", "GET", job_path("pending_job_id", "/file")),
]

ON_OWN_PROMOTION_WITH_A_IDS = [
    Call("get A's job", "GET", own_promotion_path(lambda s: f"/jobs/{s.export_job_id}")),
    Call("cancel A's job", "POST", own_promotion_path(lambda s: f"/jobs/{s.pending_job_id}/cancel")),
    Call("A's export file", "GET", own_promotion_path(lambda s: f"/jobs/{s.export_job_id}/file")),
    Call("delete A's code by id", "DELETE", own_promotion_path(lambda s: f"/codes/{s.code_id}")),
    Call("delete A's code by text", "DELETE", own_promotion_path(lambda s: f"/codes/{s.code_text}")),
]


STORE_WIDE = [
    Call("list promotions", "GET", lambda s: "/v2/promotions"),
    Call("attributes", "GET", lambda s: "/v2/promotions/attributes"),
    Call("list by code", "GET", lambda s: f"/v2/promotions?filter=eq(code,{s.code_text})"),
    Call(
        "create promotion",
        "POST",
        lambda s: "/v2/promotions",
        lambda s: {
            "data": {
                "type": "promotion",
                "name": "storefront",
                "description": "d",
                "enabled": True,
                "automatic": False,
                "promotion_type": "fixed_discount",
                "schema": {"currencies": [{"currency": "USD", "amount": 1}]},
                "start": "2024-01-01",
                "end": "2099-01-01",
            }
        },
    ),
]


def test_other_store_gets_404_for_every_endpoint_and_changes_nothing(stores: Stores) -> None:
    before = snapshot(stores)
    problems: list[str] = []
    for call in ON_A_PROMOTION + ON_OWN_PROMOTION_WITH_A_IDS:
        response = send(stores.b, call, stores)
        problem = error_problem(response, 404)
        if problem is None and A_NAME in response.text:
            problem = f"the error names store A's promotion: {response.text[:300]}"
        if problem is not None:
            problems.append(f"{call.name}: {call.method} {call.path(stores)} -> {problem}")
        if snapshot(stores) != before:
            problems.append(f"{call.name}: {call.method} {call.path(stores)} changed store A's data")
            before = snapshot(stores)
    assert not problems, "\n".join(problems)


def test_filter_by_code_of_another_store_finds_nothing(stores: Stores) -> None:
    for code in (stores.code_text, stores.code_text.lower(), stores.generated_code):
        response = stores.b.get("/v2/promotions", params={"filter": f"eq(code,{code})"})
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["data"] == []
        assert body["meta"]["results"]["total"] == 0
    listed = stores.b.get("/v2/promotions").json()
    assert [p["id"] for p in listed["data"]] == [stores.b_promotion_id]
    assert listed["meta"]["results"]["total"] == 1


def test_same_code_text_is_allowed_in_another_store(stores: Stores) -> None:
    before = snapshot(stores)
    added = stores.b.add_codes(stores.b_promotion_id, stores.code_text, stores.generated_code.upper())
    assert added.status_code == 201, added.text
    assert {c["code"] for c in stores.b.list_codes(stores.b_promotion_id)} == {
        stores.code_text,
        stores.generated_code.upper(),
    }
    for shop, owner in ((stores.a, stores.promotion_id), (stores.b, stores.b_promotion_id)):
        found = shop.get("/v2/promotions", params={"filter": f"eq(code,{stores.code_text})"}).json()
        assert [p["id"] for p in found["data"]] == [owner]
    deleted = stores.b.delete(f"/v2/promotions/{stores.b_promotion_id}/codes/{stores.code_text}")
    assert deleted.status_code == 204, deleted.text
    assert snapshot(stores) == before


def test_bulk_delete_in_own_promotion_ignores_the_other_stores_codes(stores: Stores) -> None:
    before = snapshot(stores)
    response = stores.b.delete(f"/v2/promotions/{stores.b_promotion_id}/codes", json=codes_body(stores))
    assert response.status_code == 204, response.text
    assert snapshot(stores) == before


@pytest.mark.parametrize("position", ["payload", "signature"])
def test_tampered_token_is_401_and_changes_nothing(stores: Stores, position: str) -> None:
    token = stores.a.token
    index = 1 if position == "payload" else token.rindex(".") + 5
    tampered = token[:index] + ("A" if token[index] != "A" else "B") + token[index + 1 :]
    assert tampered != token
    headers = {"Authorization": f"Bearer {tampered}"}
    before = snapshot(stores)
    problems: list[str] = []
    for call in STORE_WIDE + ON_A_PROMOTION:
        kwargs = {"json": call.body(stores)} if call.body is not None else {}
        response = stores.a.client.request(call.method, call.path(stores), headers=headers, **kwargs)
        problem = error_problem(response, 401)
        if problem is not None:
            problems.append(f"{call.name}: {call.method} {call.path(stores)} -> {problem}")
    assert not problems, "\n".join(problems)
    assert snapshot(stores) == before


def test_token_signed_with_another_key_is_401(stores: Stores) -> None:
    claims = {"s": stores.a.store_id, "g": "client_credentials", "c": stores.a.client_id, "e": 2**40}
    forged = URLSafeSerializer("not-the-service-key", salt="promoforge.access-token").dumps(claims)
    response = stores.a.client.get(
        f"/v2/promotions/{stores.promotion_id}", headers={"Authorization": f"Bearer {forged}"}
    )
    assert error_problem(response, 401) is None, response.text


def test_export_link_downloads_without_a_token(stores: Stores) -> None:
    response = stores.b.client.get(local(stores.href))
    assert response.status_code == 200, response.text
    assert stores.code_text in response.text
    assert stores.generated_code in response.text


@pytest.mark.parametrize(
    "swap",
    ["store", "promotion", "job", "all"],
)
def test_export_link_path_is_bound_to_its_signature(stores: Stores, swap: str) -> None:
    parts = urlsplit(stores.href)
    path = parts.path
    if swap in ("store", "all"):
        path = path.replace(stores.a.store_id, stores.b.store_id)
    if swap in ("promotion", "all"):
        path = path.replace(stores.promotion_id, stores.b_promotion_id)
    if swap == "job":
        path = path.replace(stores.export_job_id, stores.generate_job_id)
    if swap == "all":
        b_file_name = urlsplit(stores.b_href).path.rsplit("/", 1)[1]
        path = path.rsplit("/", 1)[0] + "/" + b_file_name
    assert path != parts.path
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    response = stores.b.get(path, params=query)
    assert error_problem(response, 403) is None, (path, response.text)
    assert stores.code_text not in response.text


def test_export_link_of_one_store_does_not_open_the_other(stores: Stores) -> None:
    a_query = parse_qs(urlsplit(stores.href).query)
    b_path = urlsplit(stores.b_href).path
    response = stores.b.client.get(
        b_path, params={"Expires": a_query["Expires"][0], "Signature": a_query["Signature"][0]}
    )
    assert error_problem(response, 403) is None, response.text


def implicit_token(shop: StoreClient) -> StoreClient:
    """A storefront (implicit) client of the same store."""
    response = shop.client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    return StoreClient(
        client=shop.client,
        store_id=shop.store_id,
        client_id=shop.client_id,
        client_secret=shop.client_secret,
        token=token,
        headers={"Authorization": f"Bearer {token}"},
    )


def test_implicit_tokens_get_403_on_every_promotions_endpoint(
    container: Container, app_client: TestClient, stores: Stores
) -> None:
    before = snapshot(stores)
    b_before = stores.b.get("/v2/promotions").json()
    storefronts = {
        "store A's implicit token": implicit_token(stores.a),
        "a fresh store's implicit token": make_store(container, app_client, name="front", grant="implicit"),
    }
    problems: list[str] = []
    for label, storefront in storefronts.items():
        for call in STORE_WIDE + ON_A_PROMOTION + ON_OWN_PROMOTION_WITH_A_IDS:
            response = send(storefront, call, stores)
            problem = error_problem(response, 403)
            if problem is not None:
                problems.append(f"{label}, {call.name}: {call.method} {call.path(stores)} -> {problem}")
    assert not problems, "\n".join(problems)
    assert snapshot(stores) == before
    assert stores.b.get("/v2/promotions").json() == b_before


def test_random_ids_are_404_like_other_stores_ids(stores: Stores) -> None:
    unknown = str(uuid.uuid4())
    response = stores.b.get(f"/v2/promotions/{unknown}")
    foreign = stores.b.get(f"/v2/promotions/{stores.promotion_id}")
    assert error_problem(response, 404) is None
    assert error_problem(foreign, 404) is None
    assert response.json() == foreign.json()
