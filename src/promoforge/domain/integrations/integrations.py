"""The integration itself: creating one (W1), changing one (W4), its quota, and its jobs' states
(integrations §2.2, §2.5, §4.7, D-I4, D-I7)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.configuration import (
    Configuration,
    IntegrationType,
    merge_configuration,
    parse_configuration,
    parse_integration_type,
)
from promoforge.domain.integrations.events import event_limit_detail, parse_observes
from promoforge.domain.integrations.messages import IntegrationSummary
from promoforge.domain.integrations.settings import IntegrationSettings
from promoforge.domain.integrations.validation import Problems, problem

RESOURCE_TYPE = "integration"
MAX_NAME_CHARS = 255
MAX_DESCRIPTION_CHARS = 1024
SQS_UNAVAILABLE = "aws_sqs delivery is not available on this server"
JOB_ALREADY_SCHEDULED = "Job is already scheduled"


class IntegrationJobStatus(StrEnum):
    """Where one event's delivery to one integration is (integrations §4.7)."""

    PENDING = "pending"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# Jobs X2/X3 may put back to pending; the others are already scheduled (§2.10).
REDELIVERABLE_JOB_STATUSES = frozenset(
    {IntegrationJobStatus.SUCCEEDED, IntegrationJobStatus.FAILED, IntegrationJobStatus.CANCELLED}
)
# Jobs retention never purges (§4.11).
UNFINISHED_JOB_STATUSES = frozenset({IntegrationJobStatus.PENDING, IntegrationJobStatus.PROCESSING})


@dataclass(frozen=True)
class Integration:
    """A stored integration: what it observes and where it delivers."""

    id: str
    name: str
    description: str
    enabled: bool
    integration_type: IntegrationType
    observes: tuple[str, ...]
    configuration: Configuration

    def __post_init__(self) -> None:
        if self.configuration.integration_type is not self.integration_type:
            raise ValueError("an integration's configuration must be of its integration_type")

    def summary(self) -> IntegrationSummary:
        """The integration as a webhook body names it (§5.1)."""
        return IntegrationSummary(self.id, self.integration_type, self.name, self.description)


@dataclass(frozen=True)
class NewIntegration:
    """A valid W1 request; `signing_secret_generated` tells the 201 to show the secret in full (D-I22)."""

    name: str
    description: str
    enabled: bool
    integration_type: IntegrationType
    observes: tuple[str, ...]
    configuration: Configuration
    signing_secret_generated: bool

    def stored_as(self, integration_id: str) -> Integration:
        """The integration as stored under its new id."""
        return Integration(
            id=integration_id,
            name=self.name,
            description=self.description,
            enabled=self.enabled,
            integration_type=self.integration_type,
            observes=self.observes,
            configuration=self.configuration,
        )


def integration_limit_detail(limit: int) -> str:
    """EP's text for a store that already has as many integrations as it may (integrations §2.2)."""
    return f"You have reached the integration limit of {limit}"


def check_integration_quota(existing: int, settings: IntegrationSettings, *, source: str = "data") -> None:
    """Refuse a new integration when the store already has `max_integrations` (D-I6)."""
    if existing >= settings.max_integrations:
        raise IntegrationInvalid([problem(source, integration_limit_detail(settings.max_integrations))])


def _request(raw: object) -> dict[str, object]:
    if not isinstance(raw, dict):
        raise IntegrationInvalid([problem("data", "data must be an object")])
    return raw


def _check_type(raw: dict[str, object], problems: Problems) -> None:
    if raw.get("type") != RESOURCE_TYPE:
        problems.add("data.type", f"type must be {RESOURCE_TYPE}")


def _name(value: object, problems: Problems) -> str | None:
    if value is None:
        problems.add("data.name", "name is required")
        return None
    if not isinstance(value, str):
        problems.add("data.name", "name must be a string")
        return None
    name = value.strip()
    if not 1 <= len(name) <= MAX_NAME_CHARS:
        problems.add("data.name", f"name must be 1 to {MAX_NAME_CHARS} characters")
        return None
    return name


def _description(value: object, problems: Problems) -> str | None:
    if value is None:
        return ""
    if not isinstance(value, str):
        problems.add("data.description", "description must be a string")
        return None
    if len(value) > MAX_DESCRIPTION_CHARS:
        problems.add("data.description", f"description must be at most {MAX_DESCRIPTION_CHARS} characters")
        return None
    return value


def _enabled(value: object, problems: Problems) -> bool | None:
    if not isinstance(value, bool):
        problems.add("data.enabled", "enabled must be true or false")
        return None
    return value


def _is_absent(value: object) -> bool:
    return value is None or value == ""


def new_integration(
    raw: object, *, settings: IntegrationSettings, sqs_available: bool = True
) -> NewIntegration:
    """A W1 request checked against every rule (integrations §2.2, D-I4): all problems are reported at
    once as a 422."""
    fields = _request(raw)
    problems = Problems()
    _check_type(fields, problems)
    name = _name(fields.get("name"), problems)
    description = _description(fields.get("description"), problems)
    enabled = _enabled(fields.get("enabled", False), problems)
    integration_type: IntegrationType | None = IntegrationType.WEBHOOK
    if fields.get("integration_type") is not None:
        integration_type = problems.check(
            lambda: parse_integration_type(fields["integration_type"], "data.integration_type")
        )
    if integration_type is IntegrationType.AWS_SQS and not sqs_available:
        problems.add("data.integration_type", SQS_UNAVAILABLE)
    observes = None
    if fields.get("observes") is None:
        problems.add("data.observes", "observes is required")
    else:
        observes = problems.check(
            lambda: parse_observes(fields["observes"], limit=settings.max_observes_per_integration)
        )
    configuration = None
    raw_configuration = fields.get("configuration")
    if raw_configuration is None:
        problems.add("data.configuration", "configuration is required")
    elif integration_type is not None:
        known_type = integration_type
        configuration = problems.check(lambda: parse_configuration(known_type, raw_configuration))
    problems.raise_if_any()
    assert name is not None and description is not None and enabled is not None
    assert integration_type is not None and observes is not None and configuration is not None
    generated = integration_type is IntegrationType.WEBHOOK and (
        not isinstance(raw_configuration, dict) or _is_absent(raw_configuration.get("signing_secret"))
    )
    return NewIntegration(
        name=name,
        description=description,
        enabled=enabled,
        integration_type=integration_type,
        observes=observes,
        configuration=configuration,
        signing_secret_generated=generated,
    )


def integration_changes(
    stored: Integration, raw: object, *, settings: IntegrationSettings, sqs_available: bool = True
) -> Integration | None:
    """The integration after a W4 PUT, or None when the PUT changes nothing (integrations §2.5, D-I7):
    fields not sent keep their value, `observes` is replaced whole, `configuration` is merged per key."""
    fields = _request(raw)
    problems = Problems()
    _check_type(fields, problems)
    name = _name(fields["name"], problems) if "name" in fields else stored.name
    description = (
        _description(fields["description"], problems) if "description" in fields else stored.description
    )
    enabled = _enabled(fields["enabled"], problems) if "enabled" in fields else stored.enabled
    integration_type: IntegrationType | None = stored.integration_type
    if "integration_type" in fields:
        integration_type = problems.check(
            lambda: parse_integration_type(fields["integration_type"], "data.integration_type")
        )
    limit = settings.max_observes_per_integration
    observes: tuple[str, ...] | None = stored.observes
    if "observes" in fields:
        observes = problems.check(lambda: parse_observes(fields["observes"], limit=limit))
    configuration: Configuration | None = stored.configuration
    type_changes = integration_type is not None and integration_type is not stored.integration_type
    if type_changes and fields.get("configuration") is None:
        problems.add("data.configuration", "configuration is required when integration_type changes")
    elif "configuration" in fields and integration_type is not None:
        new_type = integration_type
        configuration = problems.check(
            lambda: merge_configuration(stored.configuration, fields["configuration"], new_type=new_type)
        )
    problems.raise_if_any()
    assert name is not None and description is not None and enabled is not None
    assert integration_type is not None and observes is not None and configuration is not None
    updated = Integration(
        id=stored.id,
        name=name,
        description=description,
        enabled=enabled,
        integration_type=integration_type,
        observes=observes,
        configuration=configuration,
    )
    if updated == stored:
        return None
    # An integration above a since-lowered limit keeps working but is not updated until trimmed (§2.11).
    if len(updated.observes) > limit:
        problems.add("data.observes", event_limit_detail(limit))
    # An enabled SQS integration on a server without SQS would queue events that can never leave (D-I25).
    if integration_type is IntegrationType.AWS_SQS and not sqs_available and (enabled or type_changes):
        problems.add("data.integration_type", SQS_UNAVAILABLE)
    problems.raise_if_any()
    return updated
