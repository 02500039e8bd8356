"""Message plumbing: the transport contract and its implementations, envelopes, the release gateway."""

from ._clearance import CLEARANCE_RULE, clearance_floor
from ._credentials import CredentialsError, KafkaCredentials
from ._envelope import (
    AUDIT_START,
    SENDER_HEADER,
    SIG_HEADER,
    Envelope,
    EventEnvelope,
    Proof,
    Rejected,
    link_of,
    open_envelope,
    seal,
    signed,
)
from ._gateway import Gateway
from ._kafka import KafkaConsumer, KafkaSetupError, KafkaTransport, kafka_transport, resolve_bootstrap
from ._keys import Keystore, KeystoreError, PublicKeys, public_key, public_text, verify_ed25519
from ._memory import MemoryConsumer, MemoryTransport
from ._principals import AUDITOR, DRIVER, Grant, acl_plan, create_principals, new_password
from ._service import Service, ServiceSettings
from ._topics import Topics
from ._transport import Consumer, Floor, Message, TopicSpec, Transport, drain, partition_for

__all__ = [
    "AUDITOR",
    "AUDIT_START",
    "CLEARANCE_RULE",
    "DRIVER",
    "SENDER_HEADER",
    "SIG_HEADER",
    "Consumer",
    "CredentialsError",
    "Envelope",
    "EventEnvelope",
    "Floor",
    "Gateway",
    "Grant",
    "KafkaConsumer",
    "KafkaCredentials",
    "KafkaSetupError",
    "KafkaTransport",
    "Keystore",
    "KeystoreError",
    "MemoryConsumer",
    "MemoryTransport",
    "Message",
    "Proof",
    "PublicKeys",
    "Rejected",
    "Service",
    "ServiceSettings",
    "TopicSpec",
    "Topics",
    "Transport",
    "acl_plan",
    "clearance_floor",
    "create_principals",
    "drain",
    "kafka_transport",
    "link_of",
    "new_password",
    "open_envelope",
    "partition_for",
    "public_key",
    "public_text",
    "resolve_bootstrap",
    "seal",
    "signed",
    "verify_ed25519",
]
