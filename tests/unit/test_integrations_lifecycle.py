"""Creating (W1) and changing (W4) an integration (integrations §2.2, §2.5, D-I4, D-I7): defaults, every
problem at once, partial PUTs, no-ops, type changes and the quotas."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.configuration import (
    IntegrationType,
    StompConfiguration,
    WebhookConfiguration,
    public_configuration,
)
from promoforge.domain.integrations.integrations import (
    Integration,
    IntegrationJobStatus,
    check_integration_quota,
    integration_changes,
    new_integration,
)
from promoforge.domain.integrations.messages import IntegrationSummary
from promoforge.domain.integrations.settings import DEFAULT_SETTINGS, IntegrationSettings

SPEC_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
SQS = {
    "url": "https://sqs.eu-west-1.amazonaws.com/123456789012/events",
    "aws_access_key_id": "ASIAJLVYNHUWCPKOPSYQ",
    "aws_secret_access_key": "secret",
    "region": "eu-west-1",
}


def _request(**fields: Any) -> dict[str, Any]:
    return {
        "type": "integration",
        "name": "Orders to ERP",
        "observes": ["order.created", "order.cancelled", "promotion-code.exhausted"],
        "configuration": {"url": "https://erp.example.com/hooks/ep", "secret_key": "s3cr3t-shared-token"},
        **fields,
    }


def _stored(**fields: Any) -> Integration:
    return new_integration(_request(**fields), settings=DEFAULT_SETTINGS).stored_as("8cb9e689")


def _create_problems(
    raw: object, settings: IntegrationSettings = DEFAULT_SETTINGS, **kw: bool
) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        new_integration(raw, settings=settings, **kw)
    assert {problem.title for problem in raised.value.problems} == {"Validation Error"}
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def _change_problems(stored: Integration, raw: object, **kw: Any) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        integration_changes(stored, raw, settings=kw.pop("settings", DEFAULT_SETTINGS), **kw)
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def test_the_specs_create_example_with_its_defaults() -> None:
    created = new_integration(_request(name="  Orders to ERP \t", id="client-id"), settings=DEFAULT_SETTINGS)
    assert created.name == "Orders to ERP"
    assert (created.description, created.enabled, created.integration_type) == (
        "",
        False,
        IntegrationType.WEBHOOK,
    )
    assert created.observes == ("order.created", "order.cancelled", "promotion-code.exhausted")
    assert isinstance(created.configuration, WebhookConfiguration)
    assert created.configuration.secret_key == "s3cr3t-shared-token"
    assert created.signing_secret_generated
    stored = created.stored_as("8cb9e689-ede7-4f6d-b61a-6aa970d572dd")
    assert (stored.id, stored.configuration) == (
        "8cb9e689-ede7-4f6d-b61a-6aa970d572dd",
        created.configuration,
    )
    assert stored.summary() == IntegrationSummary(
        "8cb9e689-ede7-4f6d-b61a-6aa970d572dd", "webhook", "Orders to ERP", ""
    )


def test_create_with_every_field_and_the_aws_sqs_alias() -> None:
    created = new_integration(
        _request(enabled=True, description="d" * 1024, integration_type="aws-sqs", configuration=SQS),
        settings=DEFAULT_SETTINGS,
    )
    assert (created.enabled, created.integration_type, created.signing_secret_generated) == (
        True,
        IntegrationType.AWS_SQS,
        False,
    )
    supplied = new_integration(
        _request(configuration={"url": "https://a.example", "signing_secret": SPEC_SECRET}),
        settings=DEFAULT_SETTINGS,
    )
    assert not supplied.signing_secret_generated
    assert public_configuration(supplied.configuration)["signing_secret"] == "whsec_" + "*" * 40 + "Hh8="


def test_create_reports_every_problem_at_once() -> None:
    assert _create_problems(
        {
            "type": "integrations",
            "name": "   ",
            "description": 5,
            "enabled": "yes",
            "integration_type": "webhook",
            "observes": ["order.created", "promotion.archived"],
            "configuration": {"url": "ftp://x"},
        }
    ) == [
        ("data.type", "type must be integration"),
        ("data.name", "name must be 1 to 255 characters"),
        ("data.description", "description must be a string"),
        ("data.enabled", "enabled must be true or false"),
        ("data.observes.1", "promotion.archived is not an observable event"),
        ("data.configuration.url", "url must use https"),
    ]


def test_create_requires_type_name_observes_and_configuration() -> None:
    assert _create_problems({}) == [
        ("data.type", "type must be integration"),
        ("data.name", "name is required"),
        ("data.observes", "observes is required"),
        ("data.configuration", "configuration is required"),
    ]
    assert _create_problems("nope") == [("data", "data must be an object")]
    assert _create_problems(_request(name="n" * 256, description="d" * 1025)) == [
        ("data.name", "name must be 1 to 255 characters"),
        ("data.description", "description must be at most 1024 characters"),
    ]


def test_an_unknown_integration_type_skips_the_configuration_check() -> None:
    assert _create_problems(_request(integration_type="kafka", configuration={})) == [
        ("data.integration_type", "integration_type must be one of webhook, aws_sqs, stomp")
    ]


def test_the_event_limit_is_the_stores() -> None:
    six = ["order.created", "order.updated", "order.paid", "cart.updated", "cart.deleted", "order.cancelled"]
    assert _create_problems(_request(observes=six)) == [
        ("data.observes", "You have reached the integration event limit of 5")
    ]
    raised = IntegrationSettings(max_observes_per_integration=6)
    assert new_integration(_request(observes=six), settings=raised).observes == tuple(six)


def test_aws_sqs_on_a_server_without_it() -> None:
    assert _create_problems(_request(integration_type="aws_sqs", configuration=SQS), sqs_available=False) == [
        ("data.integration_type", "aws_sqs delivery is not available on this server")
    ]


def test_the_integration_quota() -> None:
    check_integration_quota(99, DEFAULT_SETTINGS)
    with pytest.raises(IntegrationInvalid) as raised:
        check_integration_quota(100, DEFAULT_SETTINGS)
    [problem] = raised.value.problems
    assert (problem.source, problem.detail) == ("data", "You have reached the integration limit of 100")


# ---- W4 -------------------------------------------------------------------------------------------------


def test_a_put_with_only_type_or_unchanged_values_is_a_no_op() -> None:
    stored = _stored(enabled=True)
    assert integration_changes(stored, {"type": "integration"}, settings=DEFAULT_SETTINGS) is None
    echoed = {
        "type": "integration",
        "name": stored.name,
        "description": stored.description,
        "enabled": True,
        "integration_type": "webhook",
        "observes": list(stored.observes),
        "configuration": public_configuration(stored.configuration),
    }
    assert integration_changes(stored, echoed, settings=DEFAULT_SETTINGS) is None
    assert (
        integration_changes(
            stored, {**echoed, "observes": [*stored.observes, "order.created"]}, settings=DEFAULT_SETTINGS
        )
        is None
    )


def test_a_put_changes_only_what_it_sends() -> None:
    stored = _stored()
    renamed = integration_changes(stored, {"type": "integration", "name": " ERP "}, settings=DEFAULT_SETTINGS)
    assert renamed == replace(stored, name="ERP")
    enabled = integration_changes(stored, {"type": "integration", "enabled": True}, settings=DEFAULT_SETTINGS)
    assert enabled == replace(stored, enabled=True)
    observing = integration_changes(
        stored, {"type": "integration", "observes": ["cart.updated"]}, settings=DEFAULT_SETTINGS
    )
    assert observing == replace(stored, observes=("cart.updated",))
    described = integration_changes(
        stored, {"type": "integration", "description": None}, settings=DEFAULT_SETTINGS
    )
    assert described is None  # null description is "", which it already is
    rekeyed = integration_changes(
        stored, {"type": "integration", "configuration": {"secret_key": None}}, settings=DEFAULT_SETTINGS
    )
    assert rekeyed is not None
    assert isinstance(rekeyed.configuration, WebhookConfiguration)
    assert rekeyed.configuration.secret_key is None
    assert isinstance(stored.configuration, WebhookConfiguration)
    assert rekeyed.configuration.signing_secret == stored.configuration.signing_secret


def test_a_put_reports_every_problem() -> None:
    assert _change_problems(
        _stored(),
        {"name": "", "enabled": None, "observes": [], "configuration": {"url": None}, "integration_type": 3},
    ) == [
        ("data.type", "type must be integration"),
        ("data.name", "name must be 1 to 255 characters"),
        ("data.enabled", "enabled must be true or false"),
        ("data.integration_type", "integration_type must be one of webhook, aws_sqs, stomp"),
        ("data.observes", "observes must list at least one event"),
    ]


def test_a_type_change_needs_a_whole_configuration() -> None:
    stored = _stored()
    assert _change_problems(stored, {"type": "integration", "integration_type": "stomp"}) == [
        ("data.configuration", "configuration is required when integration_type changes")
    ]
    changed = integration_changes(
        stored,
        {
            "type": "integration",
            "integration_type": "stomp",
            "configuration": {
                "addresses": ["stomp+ssl://mq.example.com"],
                "destination": "/queue/e",
                "url": "x",
            },
        },
        settings=DEFAULT_SETTINGS,
    )
    assert changed is not None
    assert changed.integration_type is IntegrationType.STOMP
    assert isinstance(changed.configuration, StompConfiguration)


def test_an_integration_over_a_lowered_event_limit_must_be_trimmed_to_change() -> None:
    stored = _stored()
    lowered = IntegrationSettings(max_observes_per_integration=2)
    assert integration_changes(stored, {"type": "integration"}, settings=lowered) is None
    assert _change_problems(stored, {"type": "integration", "name": "New"}, settings=lowered) == [
        ("data.observes", "You have reached the integration event limit of 2")
    ]
    trimmed = integration_changes(
        stored, {"type": "integration", "name": "New", "observes": ["order.created"]}, settings=lowered
    )
    assert trimmed is not None and trimmed.observes == ("order.created",)


def test_an_sqs_integration_cannot_be_enabled_on_a_server_without_sqs_but_can_be_disabled() -> None:
    stored = _stored(integration_type="aws_sqs", configuration=SQS, enabled=True)
    disabled = integration_changes(
        stored, {"type": "integration", "enabled": False}, settings=DEFAULT_SETTINGS, sqs_available=False
    )
    assert disabled is not None and not disabled.enabled
    assert _change_problems(stored, {"type": "integration", "name": "x"}, sqs_available=False) == [
        ("data.integration_type", "aws_sqs delivery is not available on this server")
    ]
    webhook = _stored()
    assert _change_problems(
        webhook,
        {"type": "integration", "integration_type": "aws_sqs", "configuration": SQS},
        sqs_available=False,
    ) == [("data.integration_type", "aws_sqs delivery is not available on this server")]


def test_an_integration_and_its_configuration_agree_on_the_type() -> None:
    stored = _stored()
    with pytest.raises(ValueError, match="integration_type"):
        replace(stored, integration_type=IntegrationType.STOMP)


def test_job_statuses_are_the_specs() -> None:
    assert [status.value for status in IntegrationJobStatus] == [
        "pending",
        "processing",
        "succeeded",
        "failed",
        "cancelled",
    ]
