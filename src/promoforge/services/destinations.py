"""Where integrations may send (integrations §8): names resolved through the system resolver, then judged by
the domain's address rule; at save time a name that does not resolve yet is accepted (it is judged again at
every attempt)."""

from __future__ import annotations

import ipaddress
import socket

from promoforge.domain.errors import FieldProblem, IntegrationInvalid
from promoforge.domain.integrations.configuration import Configuration, destination_targets
from promoforge.domain.integrations.destinations import IPAddress
from promoforge.domain.integrations.settings import IntegrationSettings


def resolve(host: str, port: int) -> list[IPAddress] | None:
    """Every address `host` resolves to (an IP literal: itself); None when it does not resolve."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        answers = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return None
    found: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in answers:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    return found


def check_saved_destinations(
    configuration: Configuration, settings: IntegrationSettings, *, private_targets_enabled: bool
) -> None:
    """422 when a webhook URL or a STOMP address is refused, or uses a plain scheme where only an allow-listed
    private target may (§8.1-§8.3)."""
    problems: list[FieldProblem] = []
    for target in destination_targets(configuration):
        verdict = target.vet(
            resolve(target.host, target.port) or [],
            allowed=settings.allowed_private_targets,
            private_targets_enabled=private_targets_enabled,
        )
        if not verdict.allowed:
            problems.append(FieldProblem(target.source, verdict.detail, "Validation Error"))
    if problems:
        raise IntegrationInvalid(problems)
