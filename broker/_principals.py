"""Kafka principals and least-privilege ACLs: one principal per agency, the gateway and the driver.

What each may do on a run's topics (``ns`` is the namespace; see docs/security.md for why):

==============  =========================================================================
principal       may
==============  =========================================================================
agency ``A``    write ``ns.A.outbox`` and ``ns.actions`` (its orders to the world); read ``ns.A.inbox``
                (in its group ``ns.A``); read the driver's ``ns.clock``; read and write its own
                ``ns.clock.A`` (its ready/done reports) and ``ns.audit.A`` (its record events; it
                reads them to know where to resume after a restart); write ``ns.deadletter``;
                create ``ns.clock`` and ``ns.clock.A`` if no driver has yet
``GATEWAY``     the same for itself; read every outbox and write every inbox; read every
                ``ns.audit.*`` (it rebuilds the record to co-sign its audit seal); read
                ``ns.control`` (a live exercise's policy changes and desk withholdings)
``DRIVER``      create and describe the run's topics; write every inbox (the world's
                observations), ``ns.clock``, ``ns.control``, ``ns.audit.WORLD`` and the dead letters; read the
                clock, every service's reports, every audit topic (the record) and
                ``ns.actions`` (the world, in the driver's process)
``AUDITOR``     read the clock topics and every audit topic (``tearline audit verify --bootstrap``)
==============  =========================================================================

Every clock and audit topic has exactly one writer, so no principal can write a record that
another principal's topic is read for: an agency cannot post a clock ``end`` or a gateway decision
at all. Nobody but the cluster's admin (a super user) may delete a topic or its records, alter a
topic, read another agency's inbox or write another's outbox.

aiokafka 0.14's admin client has no call for SCRAM credentials or ACLs; both are sent here as
Kafka protocol requests through it (AlterUserScramCredentials v0, CreateAcls v1).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.protocol.admin import CreateAclsRequest
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactBytes,
    CompactString,
    Int8,
    Int16,
    Int32,
    Schema,
    TaggedFields,
)

from tearline.model import GATEWAY, WORLD, TransportError

from ._credentials import KafkaCredentials
from ._kafka import transport_error
from ._topics import Topics

DRIVER = "DRIVER"
"""The principal of the process that drives a run (``tearline run --remote``)."""
AUDITOR = "AUDITOR"
"""A principal that may only read the clock and audit topics (``tearline audit verify --bootstrap``)."""

SCRAM_SHA_512 = 2
SCRAM_ITERATIONS = 8192


class Resource(IntEnum):
    TOPIC = 2
    GROUP = 3
    CLUSTER = 4


class Operation(IntEnum):
    READ = 3
    WRITE = 4
    CREATE = 5
    DESCRIBE = 8
    IDEMPOTENT_WRITE = 12


class Pattern(IntEnum):
    LITERAL = 3
    PREFIXED = 4


ALLOW = 3


@dataclass(frozen=True, order=True)
class Grant:
    """One ACL: ``principal`` may ``operation`` on the resource ``name`` (or every name it prefixes)."""

    principal: str
    resource: Resource
    name: str
    operation: Operation
    pattern: Pattern = Pattern.LITERAL

    def __str__(self) -> str:
        star = "*" if self.pattern is Pattern.PREFIXED else ""
        return f"{self.principal}: {self.operation.name} {self.resource.name.lower()} {self.name}{star}"


def acl_plan(topics: Topics, agencies: Iterable[str]) -> dict[str, list[Grant]]:
    """Every principal of a run in namespace ``topics`` with its grants (see the module's table)."""
    ns = topics.namespace
    agencies = sorted(agencies)
    services = [GATEWAY, *agencies]
    every_audit = topics.audits({WORLD, *services})
    plan: dict[str, list[Grant]] = {}

    def topic(user: str, name: str, *operations: Operation) -> list[Grant]:
        return [Grant(user, Resource.TOPIC, name, op) for op in operations]

    def group(user: str, name: str, prefixed: bool = False) -> Grant:
        return Grant(
            user, Resource.GROUP, name, Operation.READ, Pattern.PREFIXED if prefixed else Pattern.LITERAL
        )

    def service(name: str, reads: list[str], writes: list[str]) -> list[Grant]:
        user = f"User:{name}"
        grants = [g for t in reads for g in topic(user, t, Operation.READ)]
        grants += [g for t in writes for g in topic(user, t, Operation.WRITE)]
        grants += [
            *topic(user, topics.clock, Operation.READ, Operation.CREATE),
            *topic(user, topics.reports(name), Operation.READ, Operation.WRITE, Operation.CREATE),
            *topic(user, topics.audit(name), Operation.READ, Operation.WRITE),
            *topic(user, topics.deadletter, Operation.WRITE),
            group(user, f"{ns}.{name}"),
            group(user, f"{ns}.clock.{name}.", prefixed=True),
            group(user, f"{ns}.restart.{name}.", prefixed=True),
        ]
        return sorted(set(grants))

    for a in agencies:
        plan[a] = service(a, [topics.inbox(a)], [topics.outbox(a), topics.actions])
    plan[GATEWAY] = sorted(
        {
            *service(
                GATEWAY,
                [*(topics.outbox(a) for a in agencies), *every_audit, topics.control],
                [topics.inbox(a) for a in agencies],
            ),
            group(f"User:{GATEWAY}", f"{ns}.record.", prefixed=True),
        }
    )
    user = f"User:{DRIVER}"
    plan[DRIVER] = sorted(
        {
            Grant(user, Resource.TOPIC, f"{ns}.", Operation.CREATE, Pattern.PREFIXED),
            Grant(user, Resource.TOPIC, f"{ns}.", Operation.DESCRIBE, Pattern.PREFIXED),
            *(g for a in agencies for g in topic(user, topics.inbox(a), Operation.WRITE)),
            *topic(user, topics.clock, Operation.READ, Operation.WRITE),
            *(g for s in services for g in topic(user, topics.reports(s), Operation.READ)),
            *(g for t in every_audit for g in topic(user, t, Operation.READ)),
            *topic(user, topics.audit(WORLD), Operation.WRITE),
            *topic(user, topics.control, Operation.WRITE),
            *topic(user, topics.deadletter, Operation.WRITE),
            # the world runs in the driver's process and carries out the agencies' actions
            *topic(user, topics.actions, Operation.READ),
            group(user, f"{ns}.{WORLD}"),
            group(user, f"{ns}.clock.driver.", prefixed=True),
            group(user, f"{ns}.record.", prefixed=True),
        }
    )
    user = f"User:{AUDITOR}"
    plan[AUDITOR] = sorted(
        {
            *topic(user, topics.clock, Operation.READ),
            *(g for s in services for g in topic(user, topics.reports(s), Operation.READ)),
            *(g for t in every_audit for g in topic(user, t, Operation.READ)),
            group(user, f"{ns}.verify.", prefixed=True),
            # Tearline's Kafka client starts an idempotent producer, which the broker grants only
            # with this (or a topic write); it lets the auditor write nothing.
            Grant(user, Resource.CLUSTER, "kafka-cluster", Operation.IDEMPOTENT_WRITE),
        }
    )
    return plan


def new_password() -> str:
    return secrets.token_urlsafe(24)


async def create_principals(
    bootstrap: str,
    admin: KafkaCredentials,
    plan: Mapping[str, list[Grant]],
    passwords: Mapping[str, str],
) -> None:
    """Give every principal of ``plan`` its SCRAM-SHA-512 password and its grants (as ``admin``).

    Safe to repeat: a password is replaced, an ACL that exists already is kept."""
    client = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap, client_id="tearline-principals", **admin.client_settings()
    )
    try:
        await client.start()
        upserts: list[tuple[Any, ...]] = []
        for name in sorted(plan):
            salt = secrets.token_bytes(32)
            salted = hashlib.pbkdf2_hmac("sha512", passwords[name].encode(), salt, SCRAM_ITERATIONS)
            upserts.append((name, SCRAM_SHA_512, SCRAM_ITERATIONS, salt, salted, {}))
        response = await client._send_request(_AlterScram(upserts))
        problems = [f"{user}: {message or code}" for user, code, message, _ in response.results if code]
        if problems:
            raise TransportError("kafka: cannot set SCRAM credentials: " + "; ".join(problems))
        for grants in plan.values():
            for g in grants:
                request = CreateAclsRequest(
                    int(g.resource), g.name, int(g.pattern), g.principal, "*", int(g.operation), ALLOW
                )
                created = await client._send_request(request)
                for code, message in created.creation_responses:
                    if code:
                        raise TransportError(f"kafka: cannot create the ACL {g}: {message or code}")
    except KafkaError as exc:
        raise transport_error(exc, "create principals", admin.principal) from exc
    finally:
        await client.close()


# -- AlterUserScramCredentials v0 (KIP-554), which aiokafka does not define -------------------
class _AlterScramResponse_v0(Response):  # type: ignore[misc]
    API_KEY = 51
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "results",
            CompactArray(
                ("user", CompactString("utf-8")),
                ("error_code", Int16),
                ("error_message", CompactString("utf-8")),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScramRequest_v0(RequestStruct):  # type: ignore[misc]
    FLEXIBLE_VERSION = True
    API_KEY = 51
    API_VERSION = 0
    RESPONSE_TYPE = _AlterScramResponse_v0
    SCHEMA = Schema(
        (
            "deletions",
            CompactArray(("name", CompactString("utf-8")), ("mechanism", Int8), ("tags", TaggedFields)),
        ),
        (
            "upsertions",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("mechanism", Int8),
                ("iterations", Int32),
                ("salt", CompactBytes),
                ("salted_password", CompactBytes),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class _AlterScram(Request[_AlterScramRequest_v0]):  # type: ignore[misc]
    API_KEY: ClassVar[int] = 51

    def __init__(self, upsertions: list[tuple[Any, ...]]) -> None:
        self._upsertions = upsertions

    def build(self, request_struct_class: type[_AlterScramRequest_v0]) -> _AlterScramRequest_v0:
        return request_struct_class([], self._upsertions, {})
