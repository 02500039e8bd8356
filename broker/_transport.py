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
from typing import ClassVar, Self

from aiokafka.partitioner import murmur2

from tearline.model import TransportError

Headers = tuple[tuple[str, bytes], ...]

TopicPartition = tuple[str, int]

Floor = Mapping[str, Sequence[int]]
"""Per topic, per partition: the offset a run starts at (see :meth:`Transport.begin_at`)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One record read from a topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Headers = ()
    item: object = None
    """A message handed over inside one process (:meth:`Transport.publish_local`): the envelope
    object itself, never serialised; ``value`` is then empty."""

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

    def may_have_records(self) -> bool:
        """False only when :meth:`poll` certainly has nothing to return now (a transport that cannot
        tell without asking a server says True)."""
        return True

    @abstractmethod
    async def seek_to_beginning(self) -> None:
        """Read the assigned partitions again from their first offset (the run's start, if scoped)."""

    @abstractmethod
    def assignment(self) -> tuple[TopicPartition, ...]:
        """The (topic, partition) pairs this member reads now, sorted."""

    @abstractmethod
    async def close(self) -> None:
        """Leave the group (committed offsets stay)."""


class Transport(_Closing):
    """Topics, keyed publishing and consumer groups. Use as ``async with``.

    Besides topics and groups, the contract carries what a run spread over processes needs:
    :attr:`name` (for summaries), :attr:`address` (how another process reaches the same topics),
    run scoping (:meth:`end_offsets` and :meth:`begin_at`), and two hints a transport may use or
    ignore (:attr:`sole_producer`, :meth:`keep_member`).
    """

    name: ClassVar[str]
    """What summaries call this transport: ``memory``, ``kafka``."""

    sole_producer: bool = False
    """Set when every record a run's services read is published through this transport (a run in
    one process). A transport whose consumers must otherwise ask a server how far a partition
    reaches may then count from what it published itself; records written by anyone else are still
    read, but no step waits for them."""

    local: ClassVar[bool] = False
    """Whether every reader is in this process. Then services hand envelopes over as objects
    (:meth:`publish_local`): no JSON and no signature inside one process."""

    @property
    def address(self) -> str | None:
        """Where services in other processes reach the same topics (None: only in this process)."""
        return None

    @abstractmethod
    async def create_topics(self, specs: Sequence[TopicSpec]) -> frozenset[str]:
        """Create topics that do not exist yet (existing ones are left as they are); return the
        names of those this call created, which hold nothing older than the call."""

    @abstractmethod
    async def partitions(self, topic: str) -> int:
        """How many partitions ``topic`` has; an error if it does not exist."""

    @abstractmethod
    async def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        """Append to ``topic``; the key picks the partition. Returns (partition, offset)."""

    def publish_local(
        self, topic: str, item: object, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        """Append an object for readers in this process (only where :attr:`local` is set)."""
        raise TransportError(f"the {self.name} transport carries bytes only")

    @abstractmethod
    async def subscribe(self, group: str, topics: Sequence[str]) -> Consumer:
        """Join ``group`` reading ``topics``; a new group starts at the earliest offsets (or the run's start)."""

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> None:
        """Append to ``topic`` without waiting for the record to be stored (pipelined).

        :meth:`flush` waits for every record sent so far and raises what could not be stored.
        Records keep their order within a partition, not across partitions: a caller that needs
        one record stored before another on a different partition flushes between them. A
        transport that stores at once (in memory) simply publishes here.
        """
        await self.publish(topic, value, key=key, headers=headers)

    async def flush(self) -> None:
        """Wait until everything published or sent so far is stored."""

    @abstractmethod
    async def end_offsets(self, topics: Sequence[str]) -> dict[str, tuple[int, ...]]:
        """The next offset of every partition of ``topics``: where a run that starts now begins."""

    @abstractmethod
    def begin_at(self, floor: Floor) -> None:
        """Scope this transport to a run that starts at ``floor``: earlier records are another run's.

        Applies to consumers created afterwards: their positions never go below the floor, and
        :meth:`Consumer.seek_to_beginning` goes to the floor. Topics not in ``floor`` start at 0.
        """

    def keep_member(self, group: str, instance: str) -> None:
        """Members of ``group`` subscribed from now on are the same member ``instance`` across
        restarts, so a restarted service takes its place in the group at once instead of waiting
        for the old member to time out. A transport whose groups have no time-outs ignores it."""

    @abstractmethod
    async def close(self) -> None:
        """Release connections. Safe to call twice."""


async def drain(consumer: Consumer, *, batch: int = 10_000) -> list[Message]:
    """Everything available to ``consumer`` right now (until its lag is zero)."""
    out: list[Message] = []
    while await consumer.lag() > 0:
        out.extend(await consumer.poll(timeout=1.0, max_records=batch))
    return out


def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner for a keyed record: positive murmur2 modulo partitions.

    The hash is the one the aiokafka producer uses (the Java client's ``Utils.murmur2``), so a key
    lands on the same partition in memory as on a broker.
    """
    hashed: int = murmur2(key)
    return (hashed & 0x7FFFFFFF) % partitions
