"""Message plumbing: the transport contract and its implementations, envelopes, the release gateway."""

from ._envelope import SIG_HEADER, Envelope, Keyring, Rejected, open_envelope
from ._gateway import GATEWAY, Gateway
from ._kafka import KafkaConsumer, KafkaSetupError, KafkaTransport, kafka_transport, resolve_bootstrap
from ._memory import MemoryConsumer, MemoryTransport
from ._service import Service
from ._topics import Topics
from ._transport import Consumer, Message, TopicSpec, Transport, drain, partition_for

__all__ = [
    "GATEWAY",
    "SIG_HEADER",
    "Consumer",
    "Envelope",
    "Gateway",
    "KafkaConsumer",
    "KafkaSetupError",
    "KafkaTransport",
    "Keyring",
    "MemoryConsumer",
    "MemoryTransport",
    "Message",
    "Rejected",
    "Service",
    "TopicSpec",
    "Topics",
    "Transport",
    "drain",
    "kafka_transport",
    "open_envelope",
    "partition_for",
    "resolve_bootstrap",
]
