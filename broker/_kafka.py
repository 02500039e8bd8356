"""The Kafka transport: the transport contract on Apache Kafka, with aiokafka.

Behaves like :class:`broker.MemoryTransport` wherever Tearline can tell: publishing to or reading
from a topic that was not created is an error (at once, not after a 40 s metadata timeout); a key
always lands on the partition Kafka's murmur2 partitioner picks; a new group starts at the earliest
offsets; a member that joins later resumes from the group's committed offsets; partitions are
spread over a group's members with the range assignor.

Delivery is at-least-once: the producer is idempotent (``acks=all``, so broker retries never
duplicate a record); consumers never auto-commit, services commit after they processed and
flushed a step. Duplicates that survive (a service restarted mid-step re-sends what it had not
yet recorded) are dropped by the receivers by (sender, seq). Consumers read with
``isolation_level=read_committed``, so a transactional producer on the same topics (the benchmark
uses one) never exposes aborted records. See docs/kafka.md for why this and not transactions.

A cluster that is down for a while (a broker restarting, a leader moving) is waited for: every
operation of a started transport retries what Kafka calls retriable, with backoff, for up to
``patience`` seconds, and says so once in the log ("kafka unavailable: waiting") and again when it
is back. A record sent again after a timeout may land twice; receivers drop the repeat by
(sender, seq). Authorisation failures are never retried: they become a :class:`TransportError`
that names the operation and the principal.

A run may *scope* the transport to its start offsets (:meth:`KafkaTransport.begin_at`): records
below them belong to earlier runs in the same namespace, and for every consumer the "beginning"
of a partition becomes the run's start. That is what lets runs share topics (``tearline.*``).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.coordinator.assignors.range import RangePartitionAssignor
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    GroupAuthorizationFailedError,
    InvalidProducerEpoch,
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    OutOfOrderSequenceNumber,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
    UnknownProducerId,
)

from tearline.model import TransportClosed, TransportError

from ._credentials import KafkaCredentials
from ._transport import Consumer, Floor, Headers, Message, TopicSpec, Transport

T = TypeVar("T")
log = structlog.get_logger("tearline.kafka")

BOOTSTRAP_ENV = "TEARLINE_KAFKA_BOOTSTRAP"
TOPIC_ALREADY_EXISTS = 36
UNKNOWN_TOPIC = 3
TOPIC_AUTHORIZATION_FAILED = 29
MAX_BATCH_BYTES = 128 * 1024
"""Most bytes the producer puts in one batch for one partition (aiokafka's default is 16 KiB). The
producer has one request in flight per broker, so a step's output to one partition — a gateway's
record events, all on its one-partition audit topic — takes a round trip per batch."""
PATIENCE = 300.0
"""Seconds a started transport waits for an unavailable cluster before it gives up."""


class KafkaSetupError(TransportError):
    """No broker was named: a usage error (the CLI reports it like a bad option, exit 2)."""


def resolve_bootstrap(bootstrap: str | None) -> str:
    """The bootstrap servers from the argument, else ``TEARLINE_KAFKA_BOOTSTRAP``; a clear error if neither."""
    value = (bootstrap or os.environ.get(BOOTSTRAP_ENV, "")).strip()
    if not value:
        raise KafkaSetupError(
            "the kafka transport needs a broker: pass --bootstrap HOST:PORT or set TEARLINE_KAFKA_BOOTSTRAP. "
            "For a local broker without Docker run `scripts/kafka start` and use the BOOTSTRAP=... it prints"
        )
    return value


_LOST_SEQUENCE = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch)
_DENIED = (
    TopicAuthorizationFailedError,
    GroupAuthorizationFailedError,
    InvalidProducerEpoch,
    ClusterAuthorizationFailedError,
    SaslAuthenticationFailed,
)


def transport_error(exc: BaseException, doing: str, principal: str | None = None) -> TransportError:
    """An aiokafka (or timeout) exception as a :class:`TransportError` that says whether to retry."""
    if isinstance(exc, TransportError):
        return exc
    if isinstance(exc, _DENIED):
        who = f" for {principal}" if principal else ""
        what = "authentication failed" if isinstance(exc, SaslAuthenticationFailed) else "not authorised"
        return TransportError(f"kafka: {doing}: {what}{who} ({type(exc).__name__})")
    if isinstance(exc, TimeoutError):
        return TransportError(f"kafka: {doing}: timed out", retriable=True)
    retriable = bool(getattr(exc, "retriable", False)) or isinstance(
        exc, (KafkaConnectionError, KafkaTimeoutError)
    )
    name = type(exc).__name__
    detail = str(exc)
    return TransportError(
        f"kafka: {doing}: {name}{': ' + detail if detail and detail != name else ''}", retriable=retriable
    )


class KafkaTransport(Transport):
    """Topics, keyed publishing and consumer groups on a Kafka cluster. Use as ``async with``.

    ``replication_factor`` defaults to min(3, brokers in the cluster). ``static_members`` maps a
    consumer group to a ``group.instance.id`` (KIP-345 static membership): a service that is
    killed and started again takes its place in the group at once instead of waiting for the
    dead member's session to expire.
    """

    name = "kafka"

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "tearline",
        replication_factor: int | None = None,
        request_timeout_ms: int = 30_000,
        assignment_timeout: float = 60.0,
        static_members: Mapping[str, str] | None = None,
        credentials: KafkaCredentials | None = None,
        patience: float = PATIENCE,
        max_batch_bytes: int = MAX_BATCH_BYTES,
    ) -> None:
        self.bootstrap = bootstrap
        self.credentials = credentials if credentials is not None else KafkaCredentials.resolve()
        self.patience = patience
        self._max_batch_bytes = max_batch_bytes
        self.client_id = client_id
        self._replication = replication_factor
        self._request_timeout_ms = request_timeout_ms
        self._assignment_timeout = assignment_timeout
        self.static_members = dict(static_members or {})
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._known: dict[str, int] = {}
        self._floor: dict[str, tuple[int, ...]] = {}
        self._ends: dict[tuple[str, int], int] = {}
        self._stale_producer = False
        self._unsettled: list[_Sent] = []
        self._unqueued = False
        self.sole_producer = False
        """Set when every record a run's services read is published through this transport (a
        run in one process): consumers then compute their lag from the offsets it published,
        without asking the broker. Records written by anyone else are still read, as soon as a
        background fetch brings them, but no step waits for them."""
        self._consumers: set[KafkaConsumer] = set()
        self._probe_consumer: AIOKafkaConsumer | None = None
        self._started = False
        self._closed = False

    @property
    def address(self) -> str:
        """The bootstrap servers: services in other processes reach the same topics there."""
        return self.bootstrap

    def keep_member(self, group: str, instance: str) -> None:
        """Static membership (KIP-345) for ``group``: ``group.instance.id`` = ``instance``."""
        self.static_members[group] = instance

    # -- lifecycle -------------------------------------------------------------------------
    def _common(self) -> dict[str, Any]:
        return {
            "bootstrap_servers": self.bootstrap,
            "client_id": self.client_id,
            "request_timeout_ms": self._request_timeout_ms,
            "retry_backoff_ms": 10,
            **self.credentials.client_settings(),
        }

    async def _patiently(self, doing: str, attempt: Callable[[], Awaitable[T]]) -> T:
        """``attempt()``, again and again while the cluster is unavailable (up to ``patience`` s)."""
        since: float | None = None
        delay = 0.1
        while True:
            try:
                result = await attempt()
            except (KafkaError, TransportError, TimeoutError, OSError) as exc:
                error = transport_error(exc, doing, self.credentials.principal)
                if not error.retriable or self._closed:
                    raise error from exc
                now = time.monotonic()
                if since is None:
                    since = now
                    log.warning(
                        "kafka unavailable: waiting", doing=doing, error=str(error), patience=self.patience
                    )
                if now - since > self.patience:
                    raise TransportError(
                        f"{error} (the cluster was unavailable for {self.patience:g} s)"
                    ) from exc
                await asyncio.sleep(delay)
                delay = min(2 * delay, 5.0)
                continue
            if since is not None:
                log.warning("kafka is back", doing=doing, waited=round(time.monotonic() - since, 1))
            return result

    async def start(self) -> None:
        """Connect: fails with a retriable TransportError if the cluster does not answer."""
        if self._started:
            return
        self._check_open()
        producer = self._new_producer()
        admin = AIOKafkaAdminClient(**self._common())
        try:
            await producer.start()
            await admin.start()
        except (KafkaError, OSError, TimeoutError) as exc:
            await _quietly(producer.stop())
            await _quietly(admin.close())
            if isinstance(exc, _DENIED) or "SaslAuthenticationFailed" in str(exc):
                raise TransportError(
                    f"kafka: connect to {self.bootstrap}: authentication failed for {self.credentials.principal}"
                    " (check the user, its password and the mechanism)"
                ) from exc
            refused = (
                f", or it refused {self.credentials.principal}'s credentials or TLS"
                if self.credentials.security_protocol != "PLAINTEXT"
                else ""
            )
            raise TransportError(
                f"kafka: cannot reach a broker at {self.bootstrap} ({type(exc).__name__}){refused}; "
                "is it running? (scripts/kafka status)",
                retriable=True,
            ) from exc
        self._producer, self._admin = producer, admin
        self._started = True

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            **self._common(),
            enable_idempotence=True,
            acks="all",
            linger_ms=0,
            max_batch_size=self._max_batch_bytes,
        )

    async def __aenter__(self) -> KafkaTransport:
        await self.start()
        return self

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for consumer in list(self._consumers):
            await _quietly(consumer.close())
        if self._probe_consumer is not None:
            await _quietly(self._probe_consumer.stop())
        if self._producer is not None:
            await _quietly(self._producer.stop())
        if self._admin is not None:
            await _quietly(self._admin.close())

    def _check_open(self) -> None:
        if self._closed:
            raise TransportClosed("the kafka transport is closed")

    def _ready(self) -> tuple[AIOKafkaProducer, AIOKafkaAdminClient]:
        self._check_open()
        if self._producer is None or self._admin is None:
            raise TransportError("the kafka transport is not started: use `async with` or await start()")
        return self._producer, self._admin

    # -- topics ----------------------------------------------------------------------------
    async def replication_factor(self) -> int:
        if self._replication is None:
            producer, _ = self._ready()
            brokers = len(producer.client.cluster.brokers()) or 1
            self._replication = min(3, brokers)
        return self._replication

    async def create_topics(self, specs: Sequence[TopicSpec]) -> frozenset[str]:
        _, admin = self._ready()
        for spec in specs:
            if spec.partitions < 1:
                raise TransportError(f"topic {spec.name!r}: partitions must be at least 1")
        todo = [s for s in specs if s.name not in self._known]
        if not todo:
            return frozenset()
        rf = await self.replication_factor()
        # Replicated topics tolerate one replica down and lose no acknowledged record (acks=all).
        isr = {"min.insync.replicas": str(min(2, rf))}
        new = [NewTopic(s.name, s.partitions, rf, topic_configs={**isr, **dict(s.config)}) for s in todo]
        response = await self._patiently(
            "create topics", lambda: admin.create_topics(new, timeout_ms=self._request_timeout_ms)
        )
        problems = []
        denied = []
        created = []
        for name, code, *rest in response.topic_errors:
            if code == 0:
                created.append(name)
            elif code == TOPIC_AUTHORIZATION_FAILED:
                denied.append(name)  # fine if it exists already (created by the driver)
            elif code not in (0, TOPIC_ALREADY_EXISTS):
                message = rest[0] if rest and isinstance(rest[0], str) else ""
                problems.append(f"{name}: error {code} {message}".strip())
        if problems:
            raise TransportError("kafka: cannot create topics: " + "; ".join(problems))
        if denied:
            try:
                await self._describe(denied)
            except TransportError:
                names = ", ".join(denied)
                raise TransportError(
                    f"kafka: create topics: not authorised for {self.credentials.principal} ({names}); "
                    "have the driver or an admin create them"
                ) from None
        await self._describe([s.name for s in todo if s.name not in denied], wait=True)
        return frozenset(created)

    async def delete_topics(self, topics: Sequence[str]) -> None:
        """Delete ``topics`` (a run's own topics, when it ends). Needs an admin's rights."""
        _, admin = self._ready()
        if not topics:
            return
        response = await self._patiently(
            "delete topics", lambda: admin.delete_topics(list(topics), timeout_ms=self._request_timeout_ms)
        )
        problems = [
            f"{name}: {'not authorised' if code == TOPIC_AUTHORIZATION_FAILED else f'error {code}'}"
            for name, code, *_ in response.topic_error_codes
            if code not in (0, UNKNOWN_TOPIC)
        ]
        if problems:
            raise TransportError(
                f"kafka: cannot delete topics as {self.credentials.principal}: " + "; ".join(problems)
            )
        for name in topics:
            self._known.pop(name, None)

    async def _describe(self, topics: Sequence[str], *, wait: bool = False) -> dict[str, int]:
        """Partition counts of ``topics``; an error naming those that do not exist.

        Right after creation the metadata may lag a little: ``wait`` retries briefly.
        """
        _, admin = self._ready()
        missing = [t for t in topics if t not in self._known]
        for attempt in range(100 if wait else 1):
            if not missing:
                break
            described = await self._patiently(
                "describe topics", functools.partial(admin.describe_topics, list(missing))
            )
            denied = [t["topic"] for t in described if t["error_code"] == TOPIC_AUTHORIZATION_FAILED]
            if denied:
                names = ", ".join(repr(t) for t in denied)
                raise TransportError(f"kafka: topic {names}: not authorised for {self.credentials.principal}")
            for t in described:
                led = all(p["leader"] >= 0 for p in t["partitions"])
                if t["error_code"] == 0 and t["partitions"] and (led or not wait):
                    self._known[t["topic"]] = len(t["partitions"])
            missing = [t for t in missing if t not in self._known]
            if missing and wait:
                await asyncio.sleep(0.02 * (1 + attempt // 10))
        if missing:
            names = ", ".join(repr(t) for t in missing)
            raise TransportError(f"unknown topic {names}: create it first")
        return {t: self._known[t] for t in topics}

    async def partitions(self, topic: str) -> int:
        return (await self._describe([topic]))[topic]

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, tuple[int, ...]]:
        """The next offset of every partition of ``topics`` (where a run that starts now begins)."""
        if not topics:
            return {}
        counts = await self._describe(topics)
        probe = await self._probe()
        tps = [TopicPartition(t, p) for t, n in counts.items() for p in range(n)]
        ends = await self._patiently(
            "read end offsets",
            lambda: asyncio.wait_for(probe.end_offsets(tps), self._request_timeout_ms / 1000),
        )
        return {t: tuple(ends[TopicPartition(t, p)] for p in range(n)) for t, n in counts.items()}

    async def _probe(self) -> AIOKafkaConsumer:
        """A group-less consumer used only to ask for offsets."""
        if self._probe_consumer is None:
            probe = AIOKafkaConsumer(**self._common(), group_id=None, isolation_level="read_committed")
            try:
                await probe.start()
            except KafkaError as exc:
                raise transport_error(exc, "connect", self.credentials.principal) from exc
            self._probe_consumer = probe
        return self._probe_consumer

    def begin_at(self, floor: Floor) -> None:
        """Scope this transport to a run that starts at ``floor``: earlier records are another run's.

        Applies to consumers created afterwards: their positions never go below the floor, and
        :meth:`Consumer.seek_to_beginning` goes to the floor.
        """
        self._floor = {t: tuple(offsets) for t, offsets in floor.items()}
        for topic, offsets in self._floor.items():
            for partition, offset in enumerate(offsets):
                key = (topic, partition)
                self._ends[key] = max(self._ends.get(key, 0), offset)

    # -- publishing ------------------------------------------------------------------------
    async def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        self._ready()
        if topic not in self._known:
            await self._describe([topic])

        async def send() -> Any:
            if self._stale_producer:
                await self._renew_producer()
            producer, _ = self._ready()
            try:
                return await (await producer.send(topic, value, key=key, headers=list(headers)))
            except _LOST_SEQUENCE as exc:
                # The broker lost track of this producer's sequence (a batch expired while it was
                # down, or it restarted): a new producer sends it again; receivers drop repeats.
                self._stale_producer = True
                raise TransportError(
                    f"kafka: publish to {topic}: {type(exc).__name__}", retriable=True
                ) from exc

        meta = await self._patiently(f"publish to {topic}", send)
        self._stored(topic, meta.partition, meta.offset)
        return meta.partition, meta.offset

    def _stored(self, topic: str, partition: int, offset: int) -> None:
        key = (topic, partition)
        self._ends[key] = max(self._ends.get(key, 0), offset + 1)

    async def send(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> None:
        """Hand the record to the producer and return: :meth:`flush` awaits its acknowledgement.

        The producer batches what is sent between two flushes (``linger_ms`` 0: a batch leaves as
        soon as the previous one to the same broker is answered), so a step's output costs one
        round trip, not one per record. After a failure the records from the first one that was
        not stored on are published again one by one, patiently (receivers drop repeats).
        """
        self._ready()
        if topic not in self._known:
            await self._describe([topic])
        future: asyncio.Future[Any] | None = None
        if not self._stale_producer and not self._unqueued:
            producer, _ = self._ready()
            with contextlib.suppress(KafkaError):  # not even queued: published again at the flush
                future = await producer.send(topic, value, key=key, headers=list(headers))
        # Once one record could not be queued, later ones wait for the flush too (order).
        self._unqueued = self._unqueued or future is None
        self._unsettled.append(_Sent(topic, value, key, headers, future))

    async def _renew_producer(self) -> None:
        """Replace a producer whose sequence the broker lost (fails, to be retried, while it is down)."""
        if self._producer is not None:
            await _quietly(self._producer.stop())
        producer = self._new_producer()
        try:
            await producer.start()
        except (KafkaError, OSError, TimeoutError):
            await _quietly(producer.stop())
            raise
        self._producer = producer
        self._stale_producer = False
        log.warning("kafka producer renewed: the broker had lost its sequence")

    def published_end(self, topic: str, partition: int) -> int | None:
        """The end of a partition as far as this transport knows (its run's start, or past what it published)."""
        return self._ends.get((topic, partition))

    async def flush(self) -> None:
        """Wait for every record sent since the last flush; publish again those that failed."""
        self._ready()
        unsettled, self._unsettled, self._unqueued = self._unsettled, [], False
        for i, sent in enumerate(unsettled):
            if sent.future is not None:
                try:
                    meta = await sent.future
                except (KafkaError, TimeoutError, OSError) as exc:
                    error = transport_error(exc, f"publish to {sent.topic}", self.credentials.principal)
                    if isinstance(exc, _LOST_SEQUENCE):
                        self._stale_producer = True
                    elif not error.retriable:
                        await _settle_quietly(unsettled[i + 1 :])
                        raise error from exc
                else:
                    self._stored(sent.topic, meta.partition, meta.offset)
                    continue
            # Not stored: let the rest settle, then publish it and every later record again, in
            # order and patiently (a later record may now be there twice; receivers drop repeats).
            await _settle_quietly(unsettled[i + 1 :])
            for again in unsettled[i:]:
                await self.publish(again.topic, again.value, key=again.key, headers=again.headers)
            break
        producer, _ = self._ready()
        await self._patiently("flush", producer.flush)

    # -- consuming -------------------------------------------------------------------------
    async def subscribe(self, group: str, topics: Sequence[str]) -> KafkaConsumer:
        self._ready()
        await self._describe(topics)
        floor = {t: self._floor[t] for t in topics if t in self._floor}
        consumer = KafkaConsumer(self, group, tuple(topics), floor, self.static_members.get(group))
        await consumer._start(self._common(), self._assignment_timeout)
        self._consumers.add(consumer)
        return consumer


@dataclass(frozen=True, slots=True)
class _Sent:
    """A record handed to the producer and not yet known to be stored."""

    topic: str
    value: bytes
    key: bytes | None
    headers: Headers
    future: asyncio.Future[Any] | None
    """The producer's acknowledgement; None if it could not even be queued."""


async def _settle_quietly(sent: Sequence[_Sent]) -> None:
    await asyncio.gather(*(s.future for s in sent if s.future is not None), return_exceptions=True)


class _Assigned(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, consumer: KafkaConsumer) -> None:
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Any) -> None:
        self._consumer._assigned.clear()

    async def on_partitions_assigned(self, assigned: Any) -> None:
        self._consumer._on_assigned()


class KafkaConsumer(Consumer):
    """A consumer-group member on Kafka. Commits only when asked, and only if it read something."""

    def __init__(
        self,
        transport: KafkaTransport,
        group: str,
        topics: tuple[str, ...],
        floor: dict[str, tuple[int, ...]],
        instance: str | None,
    ) -> None:
        self._transport = transport
        self.group = group
        self._topics = topics
        self._floor = floor
        self._instance = instance
        self._consumer: AIOKafkaConsumer | None = None
        self._assigned = asyncio.Event()
        self._needs_floor = False
        self._dirty = False
        self._pending: asyncio.Future[None] | None = None
        self._pending_offsets: dict[TopicPartition, int] = {}
        self._owed: dict[TopicPartition, int] = {}
        """Positions a commit was asked for while the previous one was still in flight."""
        self._reached: dict[TopicPartition, int] = {}
        """Positions known without asking: where the last poll or lag left each partition. Cleared
        whenever a position may move back (an assignment, a seek)."""
        self._closed = False

    async def _start(self, common: dict[str, Any], timeout: float) -> None:
        consumer = AIOKafkaConsumer(
            **common,
            group_id=self.group,
            group_instance_id=self._instance,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            partition_assignment_strategy=(RangePartitionAssignor,),
            session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000,
            fetch_max_wait_ms=100,
        )
        consumer.subscribe(list(self._topics), listener=_Assigned(self))
        self._consumer = consumer
        try:
            await asyncio.wait_for(consumer.start(), timeout)
            await asyncio.wait_for(self._assigned.wait(), timeout)
        except (KafkaError, TimeoutError) as exc:
            await _quietly(consumer.stop())
            self._closed = True
            raise transport_error(
                exc, f"join group {self.group!r}", self._transport.credentials.principal
            ) from exc

    def _on_assigned(self) -> None:
        self._reached.clear()
        self._assigned.set()
        self._needs_floor = bool(self._floor)

    def _live(self) -> AIOKafkaConsumer:
        if self._closed or self._consumer is None:
            raise TransportClosed("this consumer is closed")
        self._transport._check_open()
        return self._consumer

    def _partitions(self) -> list[TopicPartition]:
        return sorted(self._live().assignment(), key=lambda tp: (tp.topic, tp.partition))

    def assignment(self) -> tuple[tuple[str, int], ...]:
        return tuple((tp.topic, tp.partition) for tp in self._partitions())

    async def _apply_floor(self) -> None:
        """Never read below the run's start (records there belong to earlier runs)."""
        if not self._needs_floor:
            return
        self._needs_floor = False
        consumer = self._live()
        for tp in self._partitions():
            offsets = self._floor.get(tp.topic)
            if offsets is None or tp.partition >= len(offsets):
                continue
            if await consumer.position(tp) < offsets[tp.partition]:
                consumer.seek(tp, offsets[tp.partition])
        self._reached.clear()

    async def poll(self, timeout: float = 0.0, max_records: int | None = None) -> list[Message]:
        consumer = self._live()
        await self._apply_floor()
        batches = await self._transport._patiently(
            f"poll ({self.group})",
            lambda: consumer.getmany(timeout_ms=int(timeout * 1000), max_records=max_records),
        )
        out: list[Message] = []
        for tp in sorted(batches, key=lambda tp: (tp.topic, tp.partition)):
            records = batches[tp]
            if records:
                self._reached[tp] = records[-1].offset + 1
            for r in records:
                out.append(
                    Message(
                        r.topic,
                        r.partition,
                        r.offset,
                        r.key,
                        r.value,
                        tuple((k, bytes(v)) for k, v in r.headers),
                    )
                )
        if out:
            self._dirty = True
        return out

    def may_have_records(self) -> bool:
        """False when this transport is the run's sole producer and, on every assigned partition,
        the position is known and neither what the transport published nor what the last fetch
        saw lies beyond it: a poll would return nothing (what the in-process transport says too).
        Records another client writes are still read, once a background fetch has seen them."""
        transport, consumer = self._transport, self._consumer
        if not transport.sole_producer or consumer is None or self._closed or self._needs_floor:
            return True
        partitions = consumer.assignment()
        if not partitions:
            return True
        for tp in partitions:
            at = self._reached.get(tp)
            end = transport.published_end(tp.topic, tp.partition)
            if at is None or end is None or end > at:
                return True
            stable = consumer.last_stable_offset(tp)
            if stable is not None and stable > at:
                return True
        return False

    async def commit(self) -> None:
        """Commit the positions reached so far, if anything was read since the last commit.

        Commits are pipelined and batched: one is sent now unless the previous one is still in
        flight, in which case the positions are committed by a later call (or by :meth:`close`,
        which waits for the last commit and raises its errors). A broker's group coordinator
        batches offset writes for a few ms (``group.coordinator.append.linger.ms``); not waiting
        for that on every step keeps it off the run's critical path, and while one commit is in
        flight several steps share the next. Nothing relies on a commit having landed before the
        next step: a restarted service rebuilds from the run's start, and a new member of the
        group only joins after this one closed.
        """
        consumer = self._live()
        if self._dirty:
            # The positions asked for now (a later call's replace them).
            self._owed = {tp: await consumer.position(tp) for tp in self._partitions()}
            self._dirty = False
        if self._pending is not None and not self._pending.done():
            return  # owed: a later commit (or close) sends these positions
        await self._settle()
        await self._send_owed()

    async def _send_owed(self) -> None:
        offsets, self._owed = self._owed, {}
        if offsets:
            self._pending = asyncio.ensure_future(self._live().commit(offsets))
            self._pending_offsets = offsets

    async def _settle(self) -> None:
        pending, self._pending = self._pending, None
        if pending is None:
            return
        try:
            await pending
        except KafkaError as exc:
            error = transport_error(exc, f"commit ({self.group})", self._transport.credentials.principal)
            if not error.retriable:
                raise error from exc
            # The cluster was unavailable: commit the same positions again once it is back.
            consumer, offsets = self._live(), self._pending_offsets
            await self._transport._patiently(f"commit ({self.group})", lambda: consumer.commit(offsets))

    async def lag(self) -> int:
        consumer = self._live()
        await self._apply_floor()
        tps = self._partitions()
        if not tps:
            return 0
        return await self._transport._patiently(f"lag ({self.group})", lambda: self._lag(consumer, tps))

    async def _lag(self, consumer: AIOKafkaConsumer, tps: list[TopicPartition]) -> int:
        positions = {tp: await consumer.position(tp) for tp in tps}
        self._reached.update(positions)
        # What the last fetches told us is certainly there: no round trip needed to say "more".
        known = 0
        for tp in tps:
            stable = consumer.last_stable_offset(tp)
            if stable is not None:
                known += max(0, stable - positions[tp])
        if known > 0:
            return known
        if self._transport.sole_producer:
            local = [self._transport.published_end(tp.topic, tp.partition) for tp in tps]
            if all(end is not None for end in local):
                return sum(max(0, end - positions[tp]) for tp, end in zip(tps, local, strict=True) if end)
        # Ask on another connection: this consumer's own has a fetch long-poll in flight, and a
        # broker answers one connection's requests in order (up to fetch_max_wait_ms later).
        probe = await self._transport._probe()
        ends = await probe.end_offsets(tps)
        return sum(max(0, ends[tp] - positions[tp]) for tp in tps)

    async def seek_to_beginning(self) -> None:
        consumer = self._live()
        tps = self._partitions()
        try:
            await consumer.seek_to_beginning(*tps)
        except KafkaError as exc:
            raise transport_error(exc, f"seek ({self.group})") from exc
        self._reached.clear()
        self._needs_floor = bool(self._floor)
        self._dirty = True

    async def close(self) -> None:
        if self._closed:
            return
        try:
            await self._settle()
            if self._owed and not self._transport._closed:
                await self._send_owed()  # what a batched commit left for later
                await self._settle()
        finally:
            self._closed = True
            self._transport._consumers.discard(self)
            if self._consumer is not None:
                await _quietly(self._consumer.stop())


async def _quietly(awaitable: Any) -> None:
    with contextlib.suppress(Exception):  # best effort on shutdown
        await awaitable


@asynccontextmanager
async def kafka_transport(bootstrap: str | None = None, **options: Any) -> AsyncIterator[KafkaTransport]:
    """A started :class:`KafkaTransport` for ``bootstrap`` (or ``TEARLINE_KAFKA_BOOTSTRAP``), closed on exit."""
    transport = KafkaTransport(resolve_bootstrap(bootstrap), **options)
    try:
        await transport.start()
        yield transport
    finally:
        await transport.close()
