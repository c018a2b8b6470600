"""Schemathesis against the live app: every operation, seeded with real ids, stays inside its description.

Each operation gets positive (schema-valid) and negative (schema-violating) requests; none may answer 5xx,
a status or body the description does not list, or accept data the description rules out.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import FuzzingPhaseData
from schemathesis.python import asgi as schemathesis_asgi

from promoforge.bootstrap import Container
from support import StoreClient, TestClient, app_over

# Deeper runs: PROMOFORGE_FUZZ_EXAMPLES=200 pytest tests/api/test_openapi_fuzz.py
EXAMPLES_PER_MODE = int(os.environ.get("PROMOFORGE_FUZZ_EXAMPLES", "12"))
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
    checks.ignored_auth,
]
# Cross-field rules (end after start, y < x, one entry per currency) and the stored promotion type
# rightly refuse some schema-valid bodies with 4xx, so positive_data_acceptance does not apply.


class Seed:
    """Real ids of one store: a promotion with codes, a completed export and its signed link."""

    def __init__(self, shop: StoreClient, run_jobs: Callable[[], int]) -> None:
        self.shop = shop
        self.promotion_id: str = shop.create_promotion()["id"]
        shop.add_codes(self.promotion_id, "SUMMER10", "WINTER5", "AUTUMN3")
        job = shop.create_job(self.promotion_id, "code_export").json()["data"]
        self.job_id: str = job["id"]
        run_jobs()
        href = shop.get(f"/v2/promotions/{self.promotion_id}/jobs/{self.job_id}/file").json()["href"]
        link = urlsplit(href)
        store_id, promotion_id, file_name = link.path.split("/")[-3:]
        self.file_path = {"store_id": store_id, "promotion_id": promotion_id, "file_name": file_name}
        query = parse_qs(link.query)
        self.file_query = {"Expires": int(query["Expires"][0]), "Signature": query["Signature"][0]}

    def path_parameters(self, method: str, path: str) -> dict[str, Any]:
        """Real values for the path parameters of one operation."""
        if path.startswith("/v2/files/"):
            return dict(self.file_path)
        if method == "DELETE" and path == "/v2/promotions/{promotionID}":
            # Deleting the seeded promotion would leave the other operations nothing real to work on.
            return {"promotionID": self.shop.create_promotion(name="to delete")["id"]}
        values = {"promotionID": self.promotion_id, "jobID": self.job_id, "code": "SUMMER10"}
        return {name: value for name, value in values.items() if "{" + name + "}" in path}


@pytest.fixture
def api_schema(container: Container) -> Iterator[Any]:
    """The description served by the app, loaded by schemathesis."""
    # Text with NUL is refused before validation (400, tested in test_fuzz.py); leaving it out of the
    # generated strings lets the examples reach the rules behind.
    config = schemathesis.Config.from_dict({"generation": {"allow-x00": False}})
    yield schemathesis.openapi.from_asgi("/openapi.json", app_over(container), config=config)
    # Schemathesis keeps the app's lifespan running for the rest of the process otherwise.
    schemathesis_asgi.shutdown_lifespans()


def _operations(schema: Any) -> list[Any]:
    operations = [result.ok() for result in schema.get_all_operations()]
    # The promotion's own deletion goes last; nothing else then reads a promotion that is gone.
    return sorted(operations, key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))


# Generating the cases is most of the cost, and the description does not depend on the backend
# (test_fuzz.py fuzzes both), so this runs once, on SQLite.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_every_operation_stays_inside_its_description(
    api_schema: Any, shop: StoreClient, run_jobs: Callable[[], int], app_client: TestClient
) -> None:
    seed = Seed(shop, run_jobs)
    operations = _operations(api_schema)
    assert len(operations) >= 16
    for operation in operations:
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            _fuzz(operation, mode, seed)


def _negated_locations(case: Any) -> set[Any]:
    """The parts of a request (path, query, header, body) a negative case makes invalid."""
    meta = case.meta
    if meta is None:
        return set()
    data = meta.phase.data
    if isinstance(data, FuzzingPhaseData) and data.mutations:
        return {data.parameter_location, *(mutation.parameter_location for mutation in data.mutations)}
    return {location for location, info in meta.components.items() if info.mode.is_negative}


def _fuzz(operation: Any, mode: Any, seed: Seed) -> None:
    method, path = operation.method.upper(), operation.path

    @settings(
        max_examples=EXAMPLES_PER_MODE,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=operation.as_strategy(generation_mode=mode),
        ids=st.sampled_from(["real", "real", "real", "generated"]),
    )
    def run(case: Any, ids: str) -> None:
        # Mostly real ids, so requests reach the code behind the lookups; sometimes generated ones.
        # A part the case deliberately breaks keeps its broken value.
        negated = _negated_locations(case)
        if ids == "real" and ParameterLocation.PATH not in negated:
            case.path_parameters = {**(case.path_parameters or {}), **seed.path_parameters(method, path)}
        if path.startswith("/v2/files/") and ids == "real" and ParameterLocation.QUERY not in negated:
            case.query = {**(case.query or {}), **seed.file_query}
        # A generated bearer token becomes the real one; a missing or malformed header (a negative case
        # aimed at authentication) is left alone and must get 401.
        if str((case.headers or {}).get("Authorization", "")).startswith("Bearer "):
            case.headers["Authorization"] = f"Bearer {seed.shop.token}"
        case.call_and_validate(checks=CHECKS)

    run()
