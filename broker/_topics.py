"""Topic names and settings, the same on every transport."""

from __future__ import annotations

from collections.abc import Iterable

from tearline.model import GATEWAY, WORLD

from ._transport import TopicSpec

LEAD_PARTITIONS = 3
"""Outboxes and inboxes are keyed by lead id over this many partitions."""


class Topics:
    """``<ns>.<agency>.outbox``, ``<ns>.<agency>.inbox``, ``<ns>.audit``, ``<ns>.deadletter``, ``<ns>.clock``,
    ``<ns>.actions``."""

    def __init__(self, namespace: str = "tearline") -> None:
        self.namespace = namespace

    def outbox(self, agency: str) -> str:
        return f"{self.namespace}.{agency}.outbox"

    def inbox(self, agency: str) -> str:
        return f"{self.namespace}.{agency}.inbox"

    def addressee(self, topic: str) -> str | None:
        """Who alone reads ``topic``: an inbox's agency, an outbox's gateway, the actions topic's world
        (None: a shared topic)."""
        if topic == self.actions:
            return WORLD
        prefix = f"{self.namespace}."
        if not topic.startswith(prefix):
            return None
        name, _, box = topic[len(prefix) :].rpartition(".")
        if not name or "." in name:
            return None
        return name if box == "inbox" else GATEWAY if box == "outbox" else None

    @property
    def audit(self) -> str:
        return f"{self.namespace}.audit"

    @property
    def deadletter(self) -> str:
        return f"{self.namespace}.deadletter"

    @property
    def actions(self) -> str:
        """Agencies' arrests and interceptions, for the world to carry out."""
        return f"{self.namespace}.actions"

    @property
    def clock(self) -> str:
        return f"{self.namespace}.clock"

    def specs(self, agencies: Iterable[str]) -> list[TopicSpec]:
        """Every topic a run needs, with explicit partitions and configs."""
        keep = {"retention.ms": "-1"}  # min.insync.replicas: the cluster default (1 here, 2 in compose)
        specs = [
            TopicSpec(self.audit, 1, keep),
            TopicSpec(self.deadletter, 1, keep),
            TopicSpec(self.clock, 1, keep),
            TopicSpec(self.actions, 1, keep),
        ]
        for a in sorted(agencies):
            specs.append(TopicSpec(self.outbox(a), LEAD_PARTITIONS, keep))
            specs.append(TopicSpec(self.inbox(a), LEAD_PARTITIONS, keep))
        return specs
