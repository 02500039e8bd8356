"""The transport contract: topics of partitioned, offset-addressed logs and consumer groups.

Two implementations honour it: :class:`broker.MemoryTransport` (in-process, the default) and
:class:`broker.KafkaTransport` (aiokafka against Apache Kafka). Everything above the transport
(gateway, agencies, driver) is written against this contract only, so the same run gives the
same record on either.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

Headers = tuple[tuple[str, bytes], ...]


@dataclass(frozen=True, slots=True)
class Message:
    """One record read from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()

    def header(self, name: str) -> bytes | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """A topic to create: its name, partition count and topic-level configs."""

    name: str
    partitions: int = 1
    config: Mapping[str, str] = field(default_factory=dict)


class _Closing(ABC):
    """``async with`` support for anything with an async ``close``."""

    @abstractmethod
    async def close(self) -> None: ...

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()


class Consumer(_Closing):
    """A member of a consumer group, reading the partitions assigned to it."""

    @abstractmethod
    async def poll(self, timeout: float = 0.0, max_records: int | None = None) -> list[Message]:
        """Records after the current positions; waits up to ``timeout`` s if there are none."""

    @abstractmethod
    async def commit(self) -> None:
        """Commit the positions reached by :meth:`poll` for the group."""

    @abstractmethod
    async def lag(self) -> int:
        """How many records in the assigned partitions :meth:`poll` has not returned yet."""

    @abstractmethod
    async def seek_to_beginning(self) -> None:
        """Read the assigned partitions again from their first offset."""

    @abstractmethod
    async def close(self) -> None:
        """Leave the group (committed offsets stay)."""


class Transport(_Closing):
    """Topics, keyed publishing and consumer groups. Use as ``async with``."""

    @abstractmethod
    async def create_topics(self, specs: Sequence[TopicSpec]) -> None:
        """Create topics that do not exist yet (existing ones are left as they are)."""

    @abstractmethod
    async def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        """Append to ``topic``; the key picks the partition. Returns (partition, offset)."""

    @abstractmethod
    async def subscribe(self, group: str, topics: Sequence[str]) -> Consumer:
        """Join ``group`` reading ``topics``; a new group starts at the earliest offsets."""

    async def flush(self) -> None:
        """Wait until everything published so far is stored."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections. Safe to call twice."""


async def drain(consumer: Consumer, *, batch: int = 10_000) -> list[Message]:
    """Everything available to ``consumer`` right now (until its lag is zero)."""
    out: list[Message] = []
    while await consumer.lag() > 0:
        out.extend(await consumer.poll(timeout=1.0, max_records=batch))
    return out


def murmur2(data: bytes) -> int:
    """Kafka's key hash (the Java client's ``Utils.murmur2``), so partitions match Kafka's."""
    length = len(data)
    seed = 0x9747B28C
    m = 0x5BD1E995
    r = 24
    h = (seed ^ length) & 0xFFFFFFFF
    length4 = length // 4
    for i in range(length4):
        i4 = i * 4
        k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24)
        k = (k * m) & 0xFFFFFFFF
        k ^= k >> r
        k = (k * m) & 0xFFFFFFFF
        h = (h * m) & 0xFFFFFFFF
        h ^= k
    extra = length % 4
    if extra >= 3:
        h ^= data[(length & ~3) + 2] << 16
    if extra >= 2:
        h ^= data[(length & ~3) + 1] << 8
    if extra >= 1:
        h ^= data[length & ~3]
        h = (h * m) & 0xFFFFFFFF
    h ^= h >> 13
    h = (h * m) & 0xFFFFFFFF
    h ^= h >> 15
    return h


def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner for a keyed record: positive murmur2 modulo partitions."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions
