"""In-process transport: Kafka's delivery semantics without a server."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from tearline.model import TransportClosed, TransportError

from ._transport import Consumer, Floor, Headers, Message, TopicPartition, TopicSpec, Transport, partition_for


@dataclass
class _Group:
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    members: list[MemoryConsumer] = field(default_factory=list)


class MemoryTransport(Transport):
    """Topics as lists in memory; keyed partitioning, offsets and consumer groups as in Kafka.

    What the rest of Tearline can observe behaves as on Kafka: publishing to a topic that was not
    created fails; a key always lands on the same partition (Kafka's murmur2 partitioner); each
    partition is read in offset order; a group reads each record once, and a member that joins
    later resumes from the group's committed offsets; partitions are spread over a group's
    members with Kafka's range assignment; a run scope (:meth:`begin_at`) hides earlier records
    from consumers created afterwards.
    """

    name = "memory"
    local = True

    def __init__(self) -> None:
        self._logs: dict[str, list[list[Message]]] = {}
        self._floor: dict[str, tuple[int, ...]] = {}
        self._groups: dict[str, _Group] = {}
        self._round_robin: dict[str, itertools.cycle[int]] = {}
        self._published: asyncio.Event | None = None
        """Set on the next publish; made only when a poll waits for one."""
        self._partition: dict[tuple[str, bytes], int] = {}
        """The partition of each (topic, key) published so far: murmur2 once per key."""
        self._readers: dict[TopicPartition, list[MemoryConsumer]] = {}
        """Who reads each partition now (kept by :func:`_rebalance`), to tell them of new records."""
        self._closed = False

    async def create_topics(self, specs: Sequence[TopicSpec]) -> frozenset[str]:
        self._check_open()
        created: set[str] = set()
        for spec in specs:
            if spec.partitions < 1:
                raise TransportError(f"topic {spec.name!r}: partitions must be at least 1")
            if spec.name not in self._logs:
                self._logs[spec.name] = [[] for _ in range(spec.partitions)]
                self._round_robin[spec.name] = itertools.cycle(range(spec.partitions))
                created.add(spec.name)
        for group in self._groups.values():
            _rebalance(group)
        return frozenset(created)

    def topics(self) -> list[str]:
        return sorted(self._logs)

    async def partitions(self, topic: str) -> int:
        self._check_open()
        return len(self._log(topic))

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, tuple[int, ...]]:
        self._check_open()
        return {t: tuple(len(records) for records in self._log(t)) for t in topics}

    def begin_at(self, floor: Floor) -> None:
        self._floor = {t: tuple(offsets) for t, offsets in floor.items()}

    def _log(self, topic: str) -> list[list[Message]]:
        log = self._logs.get(topic)
        if log is None:
            raise TransportError(f"unknown topic {topic!r}: create it first")
        return log

    async def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        return self._append(topic, key, bytes(value), tuple(headers), None)

    def publish_local(
        self, topic: str, item: object, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        return self._append(topic, key, b"", headers, item)

    def _append(
        self, topic: str, key: bytes | None, value: bytes, headers: Headers, item: object
    ) -> tuple[int, int]:
        if self._closed:
            raise TransportClosed("the memory transport is closed")
        if key is None:
            log = self._log(topic)
            partition = next(self._round_robin[topic])
        else:
            partition = self._partition.get((topic, key), -1)
            if partition < 0:
                log = self._log(topic)
                partition = self._partition[(topic, key)] = partition_for(key, len(log))
            else:
                log = self._logs[topic]
        records = log[partition]
        offset = len(records)
        records.append(Message(topic, partition, offset, key, value, headers, item))
        readers = self._readers.get((topic, partition))
        if readers:
            for reader in readers:
                reader._news = True
        if self._published is not None:
            self._published.set()
            self._published = None
        return partition, offset

    def _wait_for_publish(self) -> asyncio.Event:
        if self._published is None:
            self._published = asyncio.Event()
        return self._published

    async def subscribe(self, group: str, topics: Sequence[str]) -> MemoryConsumer:
        self._check_open()
        for t in topics:
            if t not in self._logs:
                raise TransportError(f"unknown topic {t!r}: create it first")
        g = self._groups.setdefault(group, _Group())
        floor = {t: self._floor[t] for t in topics if t in self._floor}
        consumer = MemoryConsumer(self, g, tuple(topics), floor)
        g.members.append(consumer)
        _rebalance(g)
        return consumer

    def _watch(self) -> None:
        """Note who reads each partition (after any change of a group's members)."""
        self._readers = {}
        for group in self._groups.values():
            for member in group.members:
                for tp in member._assigned:
                    self._readers.setdefault(tp, []).append(member)

    def end_offset(self, tp: TopicPartition) -> int:
        return len(self._logs[tp[0]][tp[1]])

    async def close(self) -> None:
        self._closed = True
        # Nothing reads a closed transport: its records are let go of now, by reference counting,
        # rather than by a later garbage collection over whatever still points at the transport.
        for log in self._logs.values():
            for records in log:
                records.clear()
        self._readers = {}

    def _check_open(self) -> None:
        if self._closed:
            raise TransportClosed("the memory transport is closed")


def _rebalance(group: _Group) -> None:
    """Kafka's range assignor: per topic, contiguous partition ranges over sorted members."""
    for member in group.members:
        member._assigned = []
    transport = next((m._transport for m in group.members), None)
    topics = sorted({t for m in group.members for t in m._topics})
    for topic in topics:
        members = sorted((m for m in group.members if topic in m._topics), key=lambda m: m._id)
        n = len(members[0]._transport._logs[topic]) if members else 0
        per, extra = divmod(n, len(members)) if members else (0, 0)
        start = 0
        for i, m in enumerate(members):
            count = per + (1 if i < extra else 0)
            m._assigned.extend((topic, p) for p in range(start, start + count))
            start += count
    for member in group.members:  # eager protocol, as aiokafka: restart from committed offsets
        member._assigned.sort()
        member._positions = {
            tp: max(group.committed.get(tp, 0), member._start(tp)) for tp in member._assigned
        }
        member._news = True
    if transport is not None:
        transport._watch()


_ids = itertools.count()


class MemoryConsumer(Consumer):
    """A consumer-group member of :class:`MemoryTransport`."""

    def __init__(
        self,
        transport: MemoryTransport,
        group: _Group,
        topics: tuple[str, ...],
        floor: dict[str, tuple[int, ...]],
    ) -> None:
        self._transport = transport
        self._group = group
        self._topics = topics
        self._floor = floor
        self._id = next(_ids)
        self._assigned: list[TopicPartition] = []
        """Sorted (by :func:`_rebalance`)."""
        self._positions: dict[TopicPartition, int] = {}
        self._news = True
        """Whether a record may have arrived since the last poll took everything."""
        self._closed = False

    async def poll(self, timeout: float = 0.0, max_records: int | None = None) -> list[Message]:
        self._check_open()
        out = self._take(max_records)
        if not out and timeout > 0:
            try:
                await asyncio.wait_for(self._transport._wait_for_publish().wait(), timeout)
            except TimeoutError:
                return []
            out = self._take(max_records)
        return out

    def _take(self, max_records: int | None) -> list[Message]:
        out: list[Message] = []
        if not self._news:
            return out
        logs = self._transport._logs
        positions = self._positions
        for tp in self._assigned:
            log = logs[tp[0]][tp[1]]
            pos = positions[tp]
            if pos >= len(log):
                continue
            room = None if max_records is None else max_records - len(out)
            if room is not None and room <= 0:
                return out  # more may be left: _news stays set
            chunk = log[pos:] if room is None else log[pos : pos + room]
            out.extend(chunk)
            positions[tp] = pos + len(chunk)
        self._news = any(positions[tp] < len(logs[tp[0]][tp[1]]) for tp in self._assigned)
        return out

    def may_have_records(self) -> bool:
        return self._news

    async def commit(self) -> None:
        self._check_open()
        self._group.committed.update(self._positions)

    async def lag(self) -> int:
        self._check_open()
        if not self._news:
            return 0
        logs = self._transport._logs
        return sum(len(logs[tp[0]][tp[1]]) - pos for tp, pos in self._positions.items())

    async def seek_to_beginning(self) -> None:
        self._check_open()
        self._positions = {tp: self._start(tp) for tp in self._positions}
        self._news = True

    def assignment(self) -> tuple[TopicPartition, ...]:
        self._check_open()
        return tuple(self._assigned)

    def _start(self, tp: TopicPartition) -> int:
        """The first offset this member may read: the run's start (0 if not scoped)."""
        offsets = self._floor.get(tp[0], ())
        return offsets[tp[1]] if tp[1] < len(offsets) else 0

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._group.members.remove(self)
        _rebalance(self._group)
        self._transport._watch()

    def _check_open(self) -> None:
        if self._closed:
            raise TransportClosed("this consumer is closed")
        self._transport._check_open()
