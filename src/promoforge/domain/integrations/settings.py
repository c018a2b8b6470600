"""A store's integration settings: private-target allow-list, quotas and log retention (integrations
§2.11, §8.3, D-I6, D-I27, D-I29)."""

from __future__ import annotations

from dataclasses import dataclass

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.destinations import (
    NO_PRIVATE_TARGETS,
    PrivateTargets,
    parse_private_targets,
)
from promoforge.domain.integrations.validation import Problems, problem

SETTINGS_TYPE = "integration_settings"
PRIVATE_TARGETS_DISABLED = "Private delivery targets are disabled on this server"
# (default, lowest, highest) of each number a store may set.
OBSERVES_LIMITS = (5, 1, 100)
INTEGRATIONS_LIMITS = (100, 1, 1000)
RETENTION_DAYS_LIMITS = (30, 1, 365)


@dataclass(frozen=True)
class IntegrationSettings:
    """A store's integration settings; the defaults are EP's quotas (D-I6) and 30 days of logs (D-I27)."""

    allowed_private_targets: PrivateTargets = NO_PRIVATE_TARGETS
    max_observes_per_integration: int = OBSERVES_LIMITS[0]
    max_integrations: int = INTEGRATIONS_LIMITS[0]
    log_retention_days: int = RETENTION_DAYS_LIMITS[0]

    def effective_private_targets(self, *, private_targets_enabled: bool) -> PrivateTargets:
        """The allow-list deliveries honour: none while the operator has private targets off (§8.3)."""
        return self.allowed_private_targets if private_targets_enabled else NO_PRIVATE_TARGETS


DEFAULT_SETTINGS = IntegrationSettings()


def _whole_number(
    name: str,
    raw: dict[str, object],
    current: int,
    limits: tuple[int, int, int],
    problems: Problems,
    source: str,
) -> int:
    """The number sent for `name`, or `current` when it was not sent."""
    if name not in raw:
        return current
    value = raw[name]
    _default, lowest, highest = limits
    if isinstance(value, bool) or not isinstance(value, int) or not lowest <= value <= highest:
        problems.add(f"{source}.{name}", f"{name} must be a whole number from {lowest} to {highest}")
        return current
    return value


def update_settings(
    current: IntegrationSettings, raw: object, *, private_targets_enabled: bool, source: str = "data"
) -> IntegrationSettings:
    """The settings after an X4 PUT: fields not sent keep their value; a non-empty allow-list needs the
    operator's switch (integrations §2.11, §8.3)."""
    if not isinstance(raw, dict):
        raise IntegrationInvalid([problem(source, "data must be an object")])
    problems = Problems()
    if "type" in raw and raw["type"] != SETTINGS_TYPE:
        problems.add(f"{source}.type", f"type must be {SETTINGS_TYPE}")
    targets = current.allowed_private_targets
    if "allowed_private_targets" in raw:
        at = f"{source}.allowed_private_targets"
        sent = problems.check(lambda: parse_private_targets(raw["allowed_private_targets"], at))
        if sent is not None and not sent.is_empty and not private_targets_enabled:
            problems.add(at, PRIVATE_TARGETS_DISABLED)
        elif sent is not None:
            targets = sent
    updated = IntegrationSettings(
        allowed_private_targets=targets,
        max_observes_per_integration=_whole_number(
            "max_observes_per_integration",
            raw,
            current.max_observes_per_integration,
            OBSERVES_LIMITS,
            problems,
            source,
        ),
        max_integrations=_whole_number(
            "max_integrations", raw, current.max_integrations, INTEGRATIONS_LIMITS, problems, source
        ),
        log_retention_days=_whole_number(
            "log_retention_days", raw, current.log_retention_days, RETENTION_DAYS_LIMITS, problems, source
        ),
    )
    problems.raise_if_any()
    return updated


def settings_document_fields(
    settings: IntegrationSettings, *, private_targets_enabled: bool
) -> dict[str, object]:
    """The `data` of X4's response (integrations §2.11)."""
    return {
        "type": SETTINGS_TYPE,
        "allowed_private_targets": list(settings.allowed_private_targets.entries),
        "max_observes_per_integration": settings.max_observes_per_integration,
        "max_integrations": settings.max_integrations,
        "log_retention_days": settings.log_retention_days,
        "meta": {"private_targets_enabled_on_server": private_targets_enabled},
    }
