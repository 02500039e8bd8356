"""Message plumbing: the transport contract and its implementations, envelopes, the release gateway."""

from ._envelope import Envelope, Keyring, Rejected
from ._gateway import GATEWAY, Gateway
from ._kafka import KafkaConsumer, KafkaTransport, kafka_transport
from ._memory import MemoryConsumer, MemoryTransport
from ._service import Service
from ._topics import Topics
from ._transport import Consumer, Message, TopicSpec, Transport, drain, partition_for

__all__ = [
    "GATEWAY",
    "Consumer",
    "Envelope",
    "Gateway",
    "KafkaConsumer",
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
    "partition_for",
]
