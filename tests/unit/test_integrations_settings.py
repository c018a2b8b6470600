"""A store's integration settings (integrations §2.11): partial updates, ranges, the operator's switch."""

from __future__ import annotations

import pytest

from promoforge.domain.errors import IntegrationInvalid
from promoforge.domain.integrations.destinations import NO_PRIVATE_TARGETS
from promoforge.domain.integrations.settings import (
    DEFAULT_SETTINGS,
    IntegrationSettings,
    settings_document_fields,
    update_settings,
)


def _problems(raw: object, *, enabled: bool = True) -> list[tuple[str, str]]:
    with pytest.raises(IntegrationInvalid) as raised:
        update_settings(DEFAULT_SETTINGS, raw, private_targets_enabled=enabled)
    assert {problem.title for problem in raised.value.problems} == {"Validation Error"}
    return [(problem.source, problem.detail) for problem in raised.value.problems]


def test_defaults_are_eps_quotas_and_30_days() -> None:
    assert IntegrationSettings(NO_PRIVATE_TARGETS, 5, 100, 30) == DEFAULT_SETTINGS
    assert settings_document_fields(DEFAULT_SETTINGS, private_targets_enabled=False) == {
        "type": "integration_settings",
        "allowed_private_targets": [],
        "max_observes_per_integration": 5,
        "max_integrations": 100,
        "log_retention_days": 30,
        "meta": {"private_targets_enabled_on_server": False},
    }


def test_a_put_changes_only_what_it_sends() -> None:
    allowed = ["127.0.0.1/32", "::1/128", "localhost", "rabbit.internal:61613"]
    updated = update_settings(
        DEFAULT_SETTINGS,
        {"type": "integration_settings", "allowed_private_targets": allowed, "meta": {"x": 1}},
        private_targets_enabled=True,
    )
    assert updated.allowed_private_targets.entries == tuple(allowed)
    assert (updated.max_observes_per_integration, updated.max_integrations, updated.log_retention_days) == (
        5,
        100,
        30,
    )
    again = update_settings(
        updated, {"log_retention_days": 365, "max_integrations": 1}, private_targets_enabled=True
    )
    assert again.allowed_private_targets == updated.allowed_private_targets
    assert (again.max_observes_per_integration, again.max_integrations, again.log_retention_days) == (
        5,
        1,
        365,
    )
    assert settings_document_fields(again, private_targets_enabled=True)["allowed_private_targets"] == allowed
    cleared = update_settings(again, {"allowed_private_targets": []}, private_targets_enabled=False)
    assert cleared.allowed_private_targets.is_empty


def test_a_non_empty_allow_list_needs_the_operators_switch() -> None:
    assert _problems({"allowed_private_targets": ["localhost"]}, enabled=False) == [
        ("data.allowed_private_targets", "Private delivery targets are disabled on this server")
    ]
    stored = update_settings(
        DEFAULT_SETTINGS, {"allowed_private_targets": ["localhost"]}, private_targets_enabled=True
    )
    assert stored.effective_private_targets(private_targets_enabled=False).is_empty
    assert stored.effective_private_targets(private_targets_enabled=True) == stored.allowed_private_targets


@pytest.mark.parametrize(
    ("name", "low", "high"),
    [("max_observes_per_integration", 1, 100), ("max_integrations", 1, 1000), ("log_retention_days", 1, 365)],
)
def test_numbers_have_their_ranges(name: str, low: int, high: int) -> None:
    assert getattr(update_settings(DEFAULT_SETTINGS, {name: low}, private_targets_enabled=False), name) == low
    assert (
        getattr(update_settings(DEFAULT_SETTINGS, {name: high}, private_targets_enabled=False), name) == high
    )
    detail = f"{name} must be a whole number from {low} to {high}"
    for bad in (low - 1, high + 1, "5", 5.0, True, None):
        assert _problems({name: bad}) == [(f"data.{name}", detail)]


def test_every_problem_is_reported_at_once() -> None:
    assert _problems(
        {
            "type": "integration",
            "allowed_private_targets": ["ok.example", "not a host"],
            "max_integrations": 0,
            "log_retention_days": 400,
        }
    ) == [
        ("data.type", "type must be integration_settings"),
        (
            "data.allowed_private_targets.1",
            "not a host is not a CIDR network or a hostname with an optional :port",
        ),
        ("data.max_integrations", "max_integrations must be a whole number from 1 to 1000"),
        ("data.log_retention_days", "log_retention_days must be a whole number from 1 to 365"),
    ]
    assert _problems([]) == [("data", "data must be an object")]
