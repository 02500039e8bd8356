"""Kafka principals and least-privilege ACLs: one principal per agency, the gateway and the driver.

What each may do on a run's topics (``ns`` is the namespace; see docs/security.md for why):

==============  =========================================================================
principal       may
==============  =========================================================================
agency ``A``    write ``ns.A.outbox`` and ``ns.actions`` (its orders to the world); read ``ns.A.inbox`` (in its group ``ns.A``); read and
                write ``ns.clock`` (its ready/done reports) and ``ns.audit`` (its own record
                events; it reads the audit to know where to resume after a restart); write
                ``ns.deadletter``; create ``ns.clock`` if no driver has yet
``GATEWAY``     the same for itself, and read every outbox and write every inbox
``DRIVER``      create and describe the run's topics; write every inbox (the world's
                observations), the clock, the audit and the dead letters; read the clock,
                the audit (the record) and ``ns.actions`` (the world, in the driver's process)
==============  =========================================================================

Nobody but the cluster's admin (a super user) may delete a topic or its records, alter a topic,
read another agency's inbox or write another's outbox. Kafka cannot tell one record of a topic
from another, so an agency that may write the clock or the audit could write anything there:
signatures (not ACLs) are what make such a record worthless.

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
    plan: dict[str, list[Grant]] = {}

    def service(name: str, reads: list[str], writes: list[str]) -> list[Grant]:
        user = f"User:{name}"
        grants = [Grant(user, Resource.TOPIC, t, Operation.READ) for t in reads]
        grants += [Grant(user, Resource.TOPIC, t, Operation.WRITE) for t in writes]
        grants += [
            Grant(user, Resource.TOPIC, topics.clock, Operation.READ),
            Grant(user, Resource.TOPIC, topics.clock, Operation.WRITE),
            Grant(user, Resource.TOPIC, topics.clock, Operation.CREATE),
            Grant(user, Resource.TOPIC, topics.audit, Operation.READ),
            Grant(user, Resource.TOPIC, topics.audit, Operation.WRITE),
            Grant(user, Resource.TOPIC, topics.deadletter, Operation.WRITE),
            Grant(user, Resource.GROUP, f"{ns}.{name}", Operation.READ),
            Grant(user, Resource.GROUP, f"{ns}.clock.{name}.", Operation.READ, Pattern.PREFIXED),
            Grant(user, Resource.GROUP, f"{ns}.restart.{name}.", Operation.READ, Pattern.PREFIXED),
        ]
        return sorted(set(grants))

    for a in agencies:
        plan[a] = service(a, [topics.inbox(a)], [topics.outbox(a), topics.actions])
    plan[GATEWAY] = service(
        GATEWAY, [topics.outbox(a) for a in agencies], [topics.inbox(a) for a in agencies]
    )
    user = f"User:{DRIVER}"
    plan[DRIVER] = sorted(
        {
            Grant(user, Resource.TOPIC, f"{ns}.", Operation.CREATE, Pattern.PREFIXED),
            Grant(user, Resource.TOPIC, f"{ns}.", Operation.DESCRIBE, Pattern.PREFIXED),
            *(Grant(user, Resource.TOPIC, topics.inbox(a), Operation.WRITE) for a in agencies),
            *(
                Grant(user, Resource.TOPIC, t, op)
                for t in (topics.clock, topics.audit)
                for op in (Operation.READ, Operation.WRITE)
            ),
            Grant(user, Resource.TOPIC, topics.deadletter, Operation.WRITE),
            # the world runs in the driver's process and carries out the agencies' actions
            Grant(user, Resource.TOPIC, topics.actions, Operation.READ),
            Grant(user, Resource.GROUP, f"{ns}.{WORLD}", Operation.READ),
            Grant(user, Resource.GROUP, f"{ns}.clock.driver.", Operation.READ, Pattern.PREFIXED),
            Grant(user, Resource.GROUP, f"{ns}.record.", Operation.READ, Pattern.PREFIXED),
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
