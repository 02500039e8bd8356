"""Topic names and settings, the same on every transport."""

from __future__ import annotations

from collections.abc import Iterable

from tearline.model import GATEWAY, WORLD

from ._transport import TopicSpec

LEAD_PARTITIONS = 3
"""Outboxes and inboxes are keyed by lead id over this many partitions."""
KEEP = {"retention.ms": "-1"}
"""Every run topic is kept (min.insync.replicas: the cluster default, 1 here, 2 in compose)."""


class Topics:
    """``<ns>.<agency>.outbox``, ``<ns>.<agency>.inbox``, ``<ns>.deadletter``, ``<ns>.actions``, ``<ns>.control``, and the
    per-writer topics: ``<ns>.clock`` (the driver's), ``<ns>.clock.<service>`` (a service's reports to
    the driver) and ``<ns>.audit.<writer>`` (one service's record events).

    Each clock and audit topic has one writer, so that a cluster's per-topic ACLs can say who may
    write it (Kafka cannot tell one record of a topic from another)."""

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
        if topic == self.control:
            return GATEWAY
        prefix = f"{self.namespace}."
        if not topic.startswith(prefix):
            return None
        name, _, box = topic[len(prefix) :].rpartition(".")
        if not name or "." in name:
            return None
        return name if box == "inbox" else GATEWAY if box == "outbox" else None

    def audit(self, writer: str) -> str:
        """The record events ``writer`` (the world, the gateway or an agency) alone writes."""
        return f"{self.namespace}.audit.{writer}"

    def audits(self, writers: Iterable[str]) -> list[str]:
        return [self.audit(w) for w in sorted(writers)]

    def audit_writer(self, topic: str) -> str | None:
        """Who alone writes the audit topic ``topic`` (None: not an audit topic)."""
        prefix = f"{self.namespace}.audit."
        return topic[len(prefix) :] if topic.startswith(prefix) and len(topic) > len(prefix) else None

    @property
    def deadletter(self) -> str:
        return f"{self.namespace}.deadletter"

    @property
    def actions(self) -> str:
        """Agencies' arrests and interceptions, for the world to carry out."""
        return f"{self.namespace}.actions"

    @property
    def control(self) -> str:
        """The driver's instructions to the gateway in a live exercise (a policy change, a desk's
        withholding), carried by the world; the gateway alone reads it."""
        return f"{self.namespace}.control"

    @property
    def clock(self) -> str:
        """The driver's announcements, ticks, ends and seals (the driver alone writes it)."""
        return f"{self.namespace}.clock"

    def reports(self, service: str) -> str:
        """``service``'s ready and done reports and its seal (it alone writes it)."""
        return f"{self.namespace}.clock.{service}"

    def specs(self, agencies: Iterable[str]) -> list[TopicSpec]:
        """Every topic a run needs, with explicit partitions and configs."""
        agencies = sorted(agencies)
        specs = [
            TopicSpec(self.deadletter, 1, KEEP),
            TopicSpec(self.clock, 1, KEEP),
            TopicSpec(self.actions, 1, KEEP),
            TopicSpec(self.control, 1, KEEP),
        ]
        specs += [TopicSpec(self.audit(w), 1, KEEP) for w in sorted({WORLD, GATEWAY, *agencies})]
        specs += [TopicSpec(self.reports(s), 1, KEEP) for s in sorted({GATEWAY, *agencies})]
        for a in agencies:
            specs.append(TopicSpec(self.outbox(a), LEAD_PARTITIONS, KEEP))
            specs.append(TopicSpec(self.inbox(a), LEAD_PARTITIONS, KEEP))
        return specs

    def service_specs(self, service: str) -> list[TopicSpec]:
        """The clock topics a service needs before any driver has created the run's topics."""
        return [TopicSpec(self.clock, 1, KEEP), TopicSpec(self.reports(service), 1, KEEP)]
