"""The transactional outbox (integrations §4.2, D-I14): an event and one delivery job per observing
integration, written in the transaction of the change that causes them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection

from promoforge.domain.stores import Store
from promoforge.storage.dialects import DialectOps
from promoforge.storage.repositories.integrations import IntegrationRepository

# Renders an event's payload from what changed: (event key, the changed thing) -> the payload as JSON text.
EventRenderer = Callable[[str, object], str]


@dataclass(frozen=True)
class LazySubject:
    """What changed, read only when some integration observes the event."""

    load: Callable[[], object]


class OutboxNotWired(RuntimeError):
    """An event has observers but this process was built without a way to render payloads."""


class Outbox:
    """Records events of one transaction."""

    def __init__(self, connection: Connection, ops: DialectOps, render: EventRenderer | None) -> None:
        self.connection = connection
        self.ops = ops
        self.render = render

    def record(self, store: Store, event_key: str, subject: object, now: datetime) -> int:
        """Record `event_key` for the store's enabled integrations observing it, the payload rendered from
        `subject` now (a snapshot); how many jobs. A store that observes nothing costs no statement."""
        if event_key not in store.observed_events:
            return 0
        return self.record_observed(store.id, event_key, subject, now)

    def record_observed(self, store_id: str, event_key: str, subject: object, now: datetime) -> int:
        """As `record`, for a caller that has no store row at hand (it looks the observers up itself)."""
        integrations = IntegrationRepository(self.connection, self.ops, store_id)
        observers = integrations.observing(event_key)
        if not observers:
            return 0
        if self.render is None:
            raise OutboxNotWired(f"cannot render the payload of {event_key}")
        if isinstance(subject, LazySubject):
            subject = subject.load()
        payload = self.render(event_key, subject)
        jobs = [(str(uuid.uuid4()), observer) for observer in observers]
        integrations.record_event(
            event_id=str(uuid.uuid4()), event_key=event_key, payload=payload, job_ids=jobs, now=now
        )
        return len(jobs)
