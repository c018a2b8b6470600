"""HTTP fuzzing: schemathesis cases from the app's own OpenAPI, then arbitrary JSON bodies and queries."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import jwt
import pytest
import schemathesis
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy import func, select

from promoforge.bootstrap import Container
from promoforge.storage.repositories.codes import promotion_ref_of
from promoforge.storage.schema import metadata, promotion_codes, promotions
from support import StoreClient, TestClient, promotion_body

pytestmark = pytest.mark.both_backends

SCHEMATHESIS_EXAMPLES = 10
SHOPPER_EXAMPLES = 6
PROPERTY_EXAMPLES = 30
MAX_REPORTED = 40
FUZZ_SETTINGS = settings(
    max_examples=PROPERTY_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)


def error_document_problem(status: int, content: bytes) -> str | None:
    """Check the two response properties; describe the first one broken, or return None."""
    if status >= 500:
        return f"server error {status}: {content[:300]!r}"
    if status < 400:
        return None
    try:
        document = json.loads(content)
    except ValueError:
        return f"{status} without a JSON body: {content[:300]!r}"
    errors = document.get("errors") if isinstance(document, dict) else None
    if not isinstance(errors, list) or not errors:
        return f"{status} without an errors array: {content[:300]!r}"
    for item in errors:
        if not isinstance(item, dict):
            return f"{status} with a non-object error item: {item!r}"
        item_status = item.get("status")
        if isinstance(item_status, bool) or not isinstance(item_status, int) or item_status != status:
            return f"{status} with an error item whose status is {item_status!r}"
        if not isinstance(item.get("title"), str):
            return f"{status} with an error item without a string title: {item!r}"
    return None


@dataclass(frozen=True)
class Seed:
    """A promotion with codes and a completed export, named by the ids a fuzzer can aim at."""

    promotion_id: str
    code: str
    export_job_id: str
    file_path: tuple[str, str, str]
    product_id: str
    cart_id: str = "fuzz-cart"
    cart_item_id: str = ""
    order_id: str = ""


def seed_store(shop: StoreClient, run_jobs: Any) -> Seed:
    """Create the promotion, its codes and a completed export."""
    promotion_id = shop.create_promotion()["id"]
    added = shop.add_codes(promotion_id, "FUZZ-ONE", {"code": "fuzz two", "uses": 2}, "FUZZ%3")
    assert added.status_code == 201, added.text
    job = shop.create_job(promotion_id, "code_export")
    assert job.status_code == 201, job.text
    job_id = job.json()["data"]["id"]
    run_jobs()
    link = shop.get(f"/v2/promotions/{promotion_id}/jobs/{job_id}/file")
    assert link.status_code == 200, link.text
    _, _, store_id, file_promotion, file_name = urlsplit(link.json()["href"]).path.strip("/").split("/")
    product_id = str(uuid.uuid4())
    product = {"type": "product", "attributes": {"sku": "FUZZ-SKU", "name": "Fuzz", "status": "live"}}
    put = shop.put(f"/v2/promoforge/products/{product_id}", json={"data": product})
    assert put.status_code == 201, put.text
    line = {"type": "custom_item", "name": "Fuzz", "sku": "fuzz", "quantity": 2, "price": {"amount": 1500}}
    filled = shop.post(
        "/v2/carts/fuzz-cart/items", json={"data": [line, {"type": "promotion_item", "code": "FUZZ-ONE"}]}
    )
    assert filled.status_code == 201, filled.text
    item_id = filled.json()["data"][0]["id"]
    guest = {
        "customer": {"name": "Fuzz", "email": "fuzz@example.com"},
        "billing_address": {
            "first_name": "F",
            "last_name": "Z",
            "line_1": "1 Way",
            "region": "CA",
            "postcode": "1",
            "country": "US",
        },
    }
    order = shop.post("/v2/carts/fuzz-cart/checkout", json={"data": guest})
    assert order.status_code == 201, order.text
    return Seed(
        promotion_id,
        "FUZZ-ONE",
        job_id,
        (store_id, file_promotion, file_name),
        product_id,
        cart_item_id=item_id,
        order_id=order.json()["data"]["id"],
    )


def real_path_parameters(seed: Seed, path: str) -> dict[str, str]:
    """Values for the operation's path parameters that name existing resources."""
    known = {
        "promotionID": seed.promotion_id,
        "jobID": seed.export_job_id,
        "code": seed.code,
        "store_id": seed.file_path[0],
        "promotion_id": seed.file_path[1],
        "file_name": seed.file_path[2],
        "productID": seed.product_id,
        "cartID": seed.cart_id,
        "cartitemID": seed.cart_item_id,
        "orderID": seed.order_id,
        "promoCode": seed.code,
    }
    return {name: known[name] for name in re.findall(r"{(\w+)}", path) if name in known}


def test_schemathesis_cases_get_errors_documents(
    container: Container, app_client: TestClient, shop: StoreClient, run_jobs: Any
) -> None:
    """Every operation, with generated and with existing ids, in positive and negative modes."""
    seed = seed_store(shop, run_jobs)
    authorization = {"Authorization": f"Bearer {shop.token}"}
    run_schemathesis(container, app_client, seed, authorization, lambda path: True, SCHEMATHESIS_EXAMPLES)


SHOPPER_PATHS = ("/v2/carts", "/v2/orders", "/v2/promoforge/products")


@pytest.mark.parametrize("token", ["storefront", "customer"])
def test_schemathesis_cases_with_shopper_tokens_get_errors_documents(
    container: Container, app_client: TestClient, shop: StoreClient, run_jobs: Any, token: str
) -> None:
    """The cart, checkout, order, usage and product operations as a storefront and as a signed-in shopper."""
    secret = "a-shared-secret-of-at-least-32-bytes!"
    with container.db.write() as tx:
        tx.stores.update(shop.store_id, customer_token_key=secret)
    seed = seed_store(shop, run_jobs)
    implicit = app_client.post(
        "/oauth/access_token", data={"grant_type": "implicit", "client_id": shop.client_id}
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {implicit}"}
    if token == "customer":
        claims = {"sub": "fuzz-customer", "exp": int(time.time()) + 3600}
        headers["X-Moltin-Customer-Token"] = jwt.encode(claims, secret, algorithm="HS256")

    def shopper_route(path: str) -> bool:
        return path.startswith(SHOPPER_PATHS) or path.endswith("/usages")

    run_schemathesis(container, app_client, seed, headers, shopper_route, SHOPPER_EXAMPLES)


def run_schemathesis(
    container: Container,
    app_client: TestClient,
    seed: Seed,
    authorization: dict[str, str],
    covers: Callable[[str], bool],
    examples: int,
) -> None:
    """Schemathesis cases of the operations whose path `covers` accepts, sent with these headers: no
    5xx, EP error documents, and the promotions' code counts stay right."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app_client.app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations = [operation for operation in operations if covers(operation.path)]
    # Deleting the seeded promotion goes last, so earlier operations reach it.
    operations.sort(
        key=lambda op: op.method.upper() == "DELETE" and op.path == "/v2/promotions/{promotionID}"
    )
    failures: list[str] = []
    calls = 0

    def run(strategy: Any) -> None:
        @settings(FUZZ_SETTINGS, max_examples=examples)
        @given(case=strategy)
        def check(case: schemathesis.Case) -> None:
            nonlocal calls
            case.headers = {**(case.headers or {}), **authorization}
            calls += 1
            try:
                response = case.call()
            except Exception as error:  # the app answered 500 and re-raised what it did not handle
                problem: str | None = f"server error (unhandled {type(error).__name__}: {str(error)[:200]})"
            else:
                problem = error_document_problem(response.status_code, response.content)
            if problem is not None and len(failures) < MAX_REPORTED:
                failures.append(
                    f"{case.method} {case.formatted_path}: {problem}\n    {case.as_curl_command()}"
                )

        # An operation without parameters or body has no negative cases.
        with contextlib.suppress(Unsatisfiable):
            check()

    try:
        for operation in operations:
            for mode in GenerationMode:
                run(operation.as_strategy(generation_mode=mode))
                fixed = real_path_parameters(seed, operation.path)
                if fixed:
                    run(operation.as_strategy(generation_mode=mode, path_parameters=fixed))
    finally:
        schemathesis_asgi.shutdown_lifespans()
    assert calls > len(operations) * examples
    assert not failures, "\n".join(failures)
    assert code_count_drift(container) == []


# Arbitrary JSON, leaning on the values that break parsers and storage.

ODD_STRINGS = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\ufeff",
    "\u202e",
    "İ",
    "ß",
    "%00",
    "%2F..%2F",
    "../../etc/passwd",
    "' OR 1=1 --",
    "\\",
    '"',
    "a" * 300,
    "9" * 400,
    "2024-02-30",
    "0000-00-00T00:00:00Z",
    "9999-12-31T23:59:59+14:00",
    "NaN",
    "code_generate",
    "per_item",
    "promotion",
]
HUGE_INTS = [2**31, 2**53, 2**53 + 1, 2**63 - 1, 2**63, -(2**63) - 1, 2**64, 10**30, -(10**30), 10**300]
strings = st.one_of(
    st.text(max_size=20),
    st.text(st.characters(exclude_categories=()), max_size=8),
    st.sampled_from(ODD_STRINGS),
)
integers = st.one_of(st.integers(), st.sampled_from(HUGE_INTS), st.integers(-2, 1001))
leaves = st.one_of(st.none(), st.booleans(), integers, st.floats(), strings)
json_values = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(strings, children, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, document: Any) -> Any:
    """The document with one value somewhere inside it replaced, removed or joined by arbitrary JSON."""
    if isinstance(document, dict) and document and draw(st.integers(0, 3)):
        key = draw(st.sampled_from(sorted(document)))
        action = draw(st.sampled_from(["descend", "descend", "remove", "add"]))
        if action == "remove":
            return {k: v for k, v in document.items() if k != key}
        if action == "add":
            return {**document, draw(strings): draw(json_values)}
        return {**document, key: draw(mutated(document[key]))}
    if isinstance(document, list) and document and draw(st.integers(0, 3)):
        index = draw(st.integers(0, len(document) - 1))
        copy = list(document)
        copy[index] = draw(mutated(copy[index]))
        return copy
    return draw(json_values)


CONDITIONS = {
    "or": [
        {
            "and": [
                {"attribute": {"template": "tpl", "field": "colour", "type": "string", "value": "red"}},
                {"node": {"values": ["node-1"]}},
            ]
        }
    ]
}
SCHEMAS: dict[str, dict[str, Any]] = {
    "fixed_discount": {"currencies": [{"currency": "USD", "amount": 500}], "conditions": CONDITIONS},
    "percent_discount": {"currencies": [{"currency": "USD", "percentage": 10}]},
    "item_fixed_discount": {"currencies": [{"currency": "USD", "amount": 100}], "targets": ["SKU1"]},
    "item_percent_discount": {
        "percent": 12.5,
        "targets": ["SKU1"],
        "target_attributes": [{"template": "tpl", "field": "size", "type": "integer", "values": [1, 2]}],
        "target_conditions": CONDITIONS,
        "exclude": {"targets": None, "nodes": ["n"]},
    },
    "x_for_y": {"x": 3, "y": 2, "targets": ["SKU1"]},
    "x_for_amount": {"x": 3, "currencies": [{"currency": "USD", "amount": 2000}], "targets": ["SKU1"]},
    "bundle_fixed_discount": {
        "requirements": [{"targets": ["SKU1"], "quantity": 1}],
        "currencies": [{"currency": "GBP", "amount": 5000}],
    },
    "bundle_gift": {"requirements": [{"targets": ["SKU1"], "quantity": 2}], "gifts": ["GIFT1"]},
}


def full_promotion(promotion_type: str) -> dict[str, Any]:
    """A valid promotion document of a type, with every optional field set."""
    return promotion_body(
        promotion_type=promotion_type,
        schema=SCHEMAS[promotion_type],
        min_cart_value=[{"currency": "USD", "amount": 1000}],
        max_discount_value=[{"currency": "USD", "amount": 200}],
        max_applications_per_cart=2,
        start="2024-01-01T10:00:00+02:00",
    )


def envelopes(data: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Bodies built around `data`: wrapped, mutated at any depth, or replaced by anything at all."""
    return st.one_of(
        data.map(lambda d: {"data": d}),
        data.flatmap(lambda d: mutated({"data": d})),
        json_values,
        json_values.map(lambda v: {"data": v}),
    )


promotion_bodies = envelopes(st.sampled_from(sorted(SCHEMAS)).map(full_promotion))
update_bodies = envelopes(
    st.one_of(
        st.sampled_from(sorted(SCHEMAS)).map(full_promotion),
        st.just({"type": "promotion", "name": "renamed", "enabled": False}),
        st.just({"type": "promotion", "end": "2020-01-01"}),
        st.just({"type": "promotion", "schema": SCHEMAS["fixed_discount"]}),
    )
)
plausible_codes = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_%\- ]{0,18}", fullmatch=True)
code_texts = st.one_of(plausible_codes, plausible_codes, strings, st.sampled_from(["FUZZ-ONE", " fuzz-one "]))
code_items = st.fixed_dictionaries(
    {"code": code_texts},
    optional={
        "uses": integers,
        "user": st.one_of(strings, st.lists(strings, max_size=3)),
        "consume_unit": st.sampled_from(["per_item", "per_cart", "PER_CART", ""]),
    },
)
add_codes_bodies = envelopes(
    st.fixed_dictionaries(
        {"type": st.just("promotion_codes"), "codes": st.lists(code_items, min_size=1, max_size=4)},
        optional={"consume_unit": st.sampled_from(["per_item", "per_cart"])},
    )
)
delete_codes_bodies = envelopes(
    st.fixed_dictionaries(
        {
            "type": st.just("promotion_codes"),
            "codes": st.lists(
                st.one_of(
                    st.fixed_dictionaries({"code": code_texts}),
                    st.fixed_dictionaries({"id": st.one_of(st.uuids().map(str), strings)}),
                ),
                min_size=1,
                max_size=3,
            ),
        }
    )
)
job_data = st.fixed_dictionaries(
    {"type": st.just("promotion_job"), "job_type": st.sampled_from(["code_generate", "code_export"])},
    optional={
        "name": strings,
        "parameters": st.fixed_dictionaries(
            {"number_of_codes": st.one_of(st.integers(-1, 1001), integers)},
            optional={
                "max_uses_per_code": integers,
                "consume_unit": st.sampled_from(["per_item", "per_cart", "x"]),
                "code_prefix": strings,
                "code_length": st.one_of(st.integers(6, 18), integers),
            },
        ),
    },
)
# EP's reference shows job bodies without the `data` wrapper; the service accepts both.
job_bodies = st.one_of(envelopes(job_data), job_data, job_data.flatmap(mutated))
product_data = st.fixed_dictionaries(
    {
        "type": st.just("product"),
        "attributes": st.fixed_dictionaries(
            {"sku": st.one_of(plausible_codes, strings), "name": strings},
            optional={
                "description": strings,
                "slug": strings,
                "status": st.sampled_from(["live", "draft", "LIVE", ""]),
                "price": st.dictionaries(
                    st.sampled_from(["USD", "EUR", "usd", "XYZ", ""]),
                    st.fixed_dictionaries(
                        {"amount": st.one_of(integers, st.floats(), st.booleans())},
                        optional={"includes_tax": st.one_of(st.booleans(), strings)},
                    ),
                    max_size=3,
                ),
                "extensions": st.dictionaries(strings, st.dictionaries(strings, json_values, max_size=3)),
                "image_href": st.one_of(strings, st.just("https://cdn.example.com/a.png")),
            },
        ),
    },
    optional={
        "id": st.one_of(st.uuids().map(str), strings),
        "meta": st.fixed_dictionaries(
            {},
            optional={
                "catalog_id": strings,
                "bread_crumb_nodes": st.lists(strings, max_size=3),
                "bread_crumbs": st.dictionaries(strings, st.lists(strings, max_size=2), max_size=2),
            },
        ),
    },
)
product_bodies = envelopes(product_data)
import_bodies = envelopes(st.lists(product_data, min_size=1, max_size=4))


def nested(depth: int) -> bytes:
    """A JSON document nested `depth` levels deep inside `data`."""
    return b'{"data": ' + b'{"a": [' * depth + b"1" + b"]}" * depth + b"}"


raw_bodies = st.one_of(
    st.binary(max_size=40),
    st.integers(20, 3000).map(nested),
    st.integers(20, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.sampled_from(
        [
            b"",
            b"null",
            b"NaN",
            b"\xef\xbb\xbf{}",
            b"\xff\xfe{\x00}\x00",
            b'{"data": {"type": "promotion"',
            b'{"data": 1' + b"0" * 5000 + b"}",
            b'{"data": {"type": "promotion_codes", "codes": [{"code": "\xc3\x28"}]}}',
            b'{"data": {}, "data": []}',
        ]
    ),
)


@dataclass(frozen=True)
class Body:
    """A request body and the Content-Type it is sent with."""

    content: bytes
    content_type: str | None


def encoded(value: Any) -> bytes:
    """JSON text for any value: lone surrogates as escapes, NaN and infinities as Python writes them."""
    return json.dumps(value).encode()


def bodies(documents: st.SearchStrategy[Any]) -> st.SearchStrategy[Body]:
    """Mostly JSON documents as application/json; sometimes raw bytes or another media type."""
    as_json = st.builds(Body, documents.map(encoded), st.just("application/json"))
    content_types = st.sampled_from(
        ["application/vnd.api+json", "application/json; charset=latin-1", "text/plain", None]
    )
    return st.one_of(
        as_json,
        as_json,
        as_json,
        st.builds(Body, documents.map(encoded), content_types),
        st.builds(Body, raw_bodies, st.just("application/json")),
    )


def fingerprint(container: Container) -> dict[str, list[str]]:
    """Every row the service keeps for callers, table by table."""
    with container.db.read() as repos:
        return {
            table.name: sorted(
                repr(tuple(row)) for row in repos.connection.execute(select(*_kept_columns(table)))
            )
            for table in metadata.sorted_tables
            if table.name != "service_keys"
        }


def _kept_columns(table: Any) -> list[Any]:
    """A table's columns but promotions.code_numbers: it hands out code numbers as a sequence does, in a
    transaction of its own, so a refused add may have used some (never reused, never visible)."""
    skipped = {"code_numbers"} if table.name == "promotions" else set()
    return [column for column in table.c if column.name not in skipped]


def code_count_drift(container: Container) -> list[tuple[str, int, int]]:
    """Promotions whose stored code_count differs from the codes they own."""
    owned = (
        select(func.count())
        .select_from(promotion_codes)
        .where(promotion_ref_of(promotion_codes.c.seq) == promotions.c.ref)
        .scalar_subquery()
    )
    with container.db.read() as repos:
        rows = repos.connection.execute(select(promotions.c.id, promotions.c.code_count, owned)).all()
    return [(str(pid), int(stored), int(actual)) for pid, stored, actual in rows if stored != actual]


@dataclass(frozen=True)
class Target:
    """An endpoint the property tests send bodies to."""

    method: str
    path: Callable[[str], str]
    documents: st.SearchStrategy[Any]


TARGETS = {
    "create promotion": Target("POST", lambda pid: "/v2/promotions", promotion_bodies),
    "update promotion": Target("PUT", lambda pid: f"/v2/promotions/{pid}", update_bodies),
    "add codes": Target("POST", lambda pid: f"/v2/promotions/{pid}/codes", add_codes_bodies),
    "delete codes": Target("DELETE", lambda pid: f"/v2/promotions/{pid}/codes", delete_codes_bodies),
    "create job": Target("POST", lambda pid: f"/v2/promotions/{pid}/jobs", job_bodies),
    "put product": Target("PUT", lambda pid: f"/v2/promoforge/products/{pid}", product_bodies),
    "import products": Target("POST", lambda pid: "/v2/promoforge/products/import", import_bodies),
}


@pytest.fixture
def quiet(shop: StoreClient) -> StoreClient:
    """The store's client, answering unhandled errors with the app's 500 document instead of raising."""
    return dataclasses.replace(shop, client=TestClient(shop.client.app, raise_server_exceptions=False))


@pytest.fixture
def seeded(quiet: StoreClient) -> str:
    """A promotion with a few codes; returns its id."""
    promotion_id: str = quiet.create_promotion()["id"]
    assert quiet.add_codes(promotion_id, "FUZZ-ONE", "FUZZ-TWO").status_code == 201
    return promotion_id


def check_response(response: Any, container: Container, before: dict[str, list[str]]) -> None:
    """No 5xx, EP error documents, no row changed by a refused request, code counters in step."""
    event(f"status {response.status_code}")
    request = response.request
    described = f"{request.method} {request.url} {request.content[:200]!r}"
    problem = error_document_problem(response.status_code, response.content)
    assert problem is None, f"{described}: {problem}"
    if response.status_code >= 400:
        assert fingerprint(container) == before, (
            f"{described}: refused ({response.status_code}) but changed rows"
        )
    assert code_count_drift(container) == [], described


@pytest.mark.parametrize("target_name", sorted(TARGETS))
@FUZZ_SETTINGS
@given(data=st.data())
def test_arbitrary_bodies_get_errors_documents_and_leave_nothing_behind(
    container: Container, quiet: StoreClient, seeded: str, target_name: str, data: st.DataObject
) -> None:
    """Any body: no 5xx, EP error documents, and a refused request changes no row."""
    target = TARGETS[target_name]
    body = data.draw(bodies(target.documents), label="body")
    before = fingerprint(container)
    headers = {"Content-Type": body.content_type} if body.content_type else {}
    response = quiet.request(target.method, target.path(seeded), content=body.content, headers=headers)
    check_response(response, container, before)
    if target_name == "create job" and response.status_code == 201:
        # Free the promotion for the next example: only one active job is allowed.
        job_id = response.json()["data"]["id"]
        cancelled = quiet.post(f"/v2/promotions/{seeded}/jobs/{job_id}/cancel")
        assert cancelled.status_code == 200, cancelled.text


def percent_encoded(text: str, safe: str = "") -> str:
    """Percent-encode the UTF-8 bytes of `text` (a lone surrogate gives invalid UTF-8, as raw clients may)."""
    return quote(text.encode("utf-8", "surrogatepass"), safe=safe)


QUERY_KEYS = ["page[limit]", "page[offset]", "filter"]
filter_terms = st.builds(
    "{}({},{})".format,
    st.sampled_from(["eq", "like", "in", "gt", "is_null", "EQ"]),
    st.sampled_from(["code", "job_type", "status", "name", "id", "sku", ""]),
    st.one_of(strings, plausible_codes, st.sampled_from(["code_export", "complete", "FUZZ-ONE", "'a:b'"])),
)
query_values = st.one_of(
    strings,
    integers.map(str),
    filter_terms,
    st.lists(filter_terms, min_size=2, max_size=12).map(":".join),
    st.sampled_from(
        [
            "eq(code,FUZZ-ONE)",
            "eq(code,'FUZZ-ONE')",
            'eq(code,"fuzz-one")',
            "eq(code,)",
            "eq(code",
            "eq(job_type,code_export):eq(status,complete)",
            "eq(code," + "x" * 9000 + ")",
            "((((((",
            "1e3",
            "0x10",
            " 5",
            "-0",
            "10000",
            "10001",
            "100",
        ]
    ),
)
query_pairs = st.lists(
    st.tuples(st.one_of(st.sampled_from(QUERY_KEYS), strings), query_values), min_size=1, max_size=4
)


def query_string(pairs: list[tuple[str, str]]) -> str:
    """A query string of the pairs, each key and value percent-encoded."""
    return "&".join(f"{percent_encoded(key, '[]')}={percent_encoded(value, '(),:')}" for key, value in pairs)


LIST_PATHS = {
    "promotions": lambda pid: "/v2/promotions",
    "history": lambda pid: f"/v2/promotions/{pid}/history",
    "codes": lambda pid: f"/v2/promotions/{pid}/codes",
    "jobs": lambda pid: f"/v2/promotions/{pid}/jobs",
    "products": lambda pid: "/v2/promoforge/products",
}


@pytest.mark.parametrize("list_name", sorted(LIST_PATHS))
@FUZZ_SETTINGS
@given(pairs=query_pairs)
@example(pairs=[("filter", "eq(code,a\x00b)")])
@example(pairs=[("filter", "eq(status,\ud800)"), ("page[limit]", "\x00")])
def test_arbitrary_queries_on_lists(
    container: Container, quiet: StoreClient, seeded: str, list_name: str, pairs: list[tuple[str, str]]
) -> None:
    """Any paging and filter parameters: a list document or an EP error document, and nothing changes."""
    before = fingerprint(container)
    response = quiet.get(f"{LIST_PATHS[list_name](seeded)}?{query_string(pairs)}")
    check_response(response, container, before)
    if response.status_code == 200:
        document = response.json()
        assert isinstance(document["data"], list)
        assert isinstance(document["meta"]["results"]["total"], int)
        assert len(document["data"]) <= document["meta"]["page"]["limit"] <= 100
    assert fingerprint(container) == before


SEGMENT_PATHS = {
    "get promotion": ("GET", "/v2/promotions/{segment}"),
    "promotion history": ("GET", "/v2/promotions/{segment}/history"),
    "delete code": ("DELETE", "/v2/promotions/{promotion}/codes/{segment}"),
    "get job": ("GET", "/v2/promotions/{promotion}/jobs/{segment}"),
    "cancel job": ("POST", "/v2/promotions/{promotion}/jobs/{segment}/cancel"),
    "export file": ("GET", "/v2/files/{segment}/{promotion}/{segment}?Expires=1&Signature={segment}"),
    "get product": ("GET", "/v2/promoforge/products/{segment}"),
    "delete product": ("DELETE", "/v2/promoforge/products/{segment}"),
}
segments = st.one_of(strings, code_texts, st.uuids().map(str)).filter(lambda s: s not in ("", ".", ".."))


@pytest.mark.parametrize("path_name", sorted(SEGMENT_PATHS))
@FUZZ_SETTINGS
@given(segment=segments)
@example(segment="a\x00b")
@example(segment="\ud800")
def test_arbitrary_path_segments(
    container: Container, quiet: StoreClient, seeded: str, path_name: str, segment: str
) -> None:
    """Any text where an id or a code goes: 404 (or a success for a real code), never a 5xx."""
    method, template = SEGMENT_PATHS[path_name]
    before = fingerprint(container)
    path = template.format(segment=percent_encoded(segment), promotion=seeded)
    check_response(quiet.request(method, path), container, before)
