"""The core every Tearline service shares: a small deterministic event loop fed by topics.

A service reads its input topics, verifies each envelope, and queues it by the sim time at which
it takes effect. :meth:`Service.step` then runs every queued message and timer due before
``until``, in (time, priority, sender, sequence) order — an order fixed by the content of the
messages, never by when they arrived — so the same inputs always give the same outputs, whichever
transport carried them. Every message a service sends takes at least the scenario's ``transit``
to take effect, so nothing a service sends during one step can be due within that step: that is
what lets all services step side by side and still agree with a single sequential loop.
"""

from __future__ import annotations

import heapq
import itertools
import json
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError

from tearline.model import Event, Model, RunError, SimTime, iso

from ._envelope import (
    AUDIT_START,
    Envelope,
    EventEnvelope,
    Kind,
    Proof,
    Rejected,
    as_json,
    dead_letter,
    envelope,
    hand_over,
    link_of,
    open_proved,
    seal,
)
from ._keys import Keystore
from ._topics import Topics
from ._transport import Consumer, Transport, drain

MESSAGE, TIMER = 0, 1


_Due = tuple[SimTime, int, str, int, "Envelope | Callable[[], None]", "Proof | None"]
"""(time, priority, sender, sequence, what, proof): a queued message or timer. The first four are
unique (a sender's sequence numbers are; timers number themselves), so tuples compare on those
alone, in the order the module's docstring gives."""


@dataclass(frozen=True)
class ServiceSettings:
    """What every service of a run shares: where it talks, as which run, and how time passes."""

    transport: Transport
    run: str
    """The run id every envelope carries; envelopes for another run are dead-lettered."""
    topics: Topics
    keys: Keystore
    """Every principal's public keys, and the private keys of those this process runs."""
    senders: frozenset[str]
    """Who may send on this run's topics: the world, the gateway and the run's agencies."""
    start: SimTime
    """The scenario's start: every service's clock begins there."""
    transit: int
    """The least time (s) any message between services takes to take effect."""
    suppress_through: int = 0
    """After a restart: outputs with this sequence number or lower are already on the log."""
    log_context: Mapping[str, Any] = field(default_factory=dict)
    """Bound to every log line (scenario, seed, policy)."""


@dataclass(slots=True)
class Outgoing:
    topic: str
    key: bytes
    envelope: Envelope
    event: bool = False
    """A record event (for the service's own audit topic)."""
    plain: bytes | None = None
    """The envelope's JSON, where it was made already (a record event's, for its audit link)."""


class Service:
    """Base of the world, the release gateway and the agencies."""

    def __init__(self, name: str, settings: ServiceSettings, *, inputs: tuple[str, ...]) -> None:
        self.name = name
        self.settings = settings
        self.transport = settings.transport
        self.run = settings.run
        self.topics = settings.topics
        self.transit = settings.transit
        self.now: SimTime = settings.start
        self.keys = settings.keys
        self._senders = settings.senders
        self._inputs = inputs
        self._consumer: Consumer | None = None
        self._queue: list[_Due] = []
        self._ties = itertools.count()
        self._seen: dict[tuple[str, int], tuple[str, int, int]] = {}
        self.proof: Proof | None = None
        """The sender's signature on the message being handled."""
        self._outgoing: list[Outgoing] = []
        self._audit = settings.topics.audit(name)
        self._name_key = name.encode()
        self._addressee: dict[str, str | None] = {}
        self._local = self.transport.local and not self.keys.sealed
        """Hand envelopes over as objects: every reader is in this process (see :mod:`._envelope`)."""
        self._unread = False
        """Input read since the last commit."""
        self._seq = 0
        self._audit_head = AUDIT_START
        """The link of this service's last record event: the next one names it (``prev``)."""
        self._suppress_through = settings.suppress_through
        self.rejected: Counter[str] = Counter()
        """Messages refused, by reason code (each also on the dead-letter topic)."""
        self.log = structlog.get_logger("tearline").bind(service=name, **settings.log_context)

    # -- lifecycle -------------------------------------------------------------------------
    async def open(self, *, rebuild: bool = False) -> None:
        """Join the service's consumer group.

        ``rebuild`` is for a restart: the service's state is a pure function of its inputs, so it
        reads them again from the start and rebuilds it; outputs up to ``suppress_through`` are
        already on the log and are not sent again, and receivers drop any other repeat by
        (sender, seq).
        """
        if self._inputs:
            self._consumer = await self.transport.subscribe(
                f"{self.topics.namespace}.{self.name}", self._inputs
            )
            if rebuild:
                await self._consumer.seek_to_beginning()

    async def close(self) -> None:
        if self._consumer is not None:
            await self._consumer.close()
            self._consumer = None
        # Timers left at the end hold callbacks on this service: dropped, so that a finished run is
        # freed as soon as it is let go of, not by a later garbage collection over everything.
        self._queue.clear()

    def first_due(self) -> SimTime | None:
        """The earliest timer already scheduled (before any step)."""
        return self._queue[0][0] if self._queue else None

    def has_work(self, until: SimTime) -> bool:
        """Whether :meth:`step` to ``until`` would do anything: something due before it, something
        not yet sent, or input that may be waiting. A service without work need not be stepped:
        it would read nothing, run nothing, send nothing, and return :meth:`first_due`."""
        return bool(
            (self._queue and self._queue[0][0] < until)
            or self._outgoing
            or (self._consumer is not None and self._consumer.may_have_records())
        )

    @property
    def dead_letters(self) -> int:
        return sum(self.rejected.values())

    @property
    def seq(self) -> int:
        """The sequence number of the last message this service produced."""
        return self._seq

    # -- the loop --------------------------------------------------------------------------
    async def step(self, until: SimTime, *, settle: bool = True) -> SimTime | None:
        """Run everything due before ``until``; publish what it produced; return the next due time.

        With ``settle`` (a service on its own) the step ends once its output is stored and its
        input committed. Without, it ends once its output is sent: a caller stepping several
        services on one transport then awaits the acknowledgements once for all, with
        :meth:`settle`, before anything reads what they sent.
        """
        await self._read()
        queue = self._queue
        while queue and queue[0][0] < until:
            at, priority, _, _, what, proof = heapq.heappop(queue)
            self.now = at
            if priority == TIMER:
                what()  # type: ignore[operator]
                continue
            env: Envelope = what  # type: ignore[assignment]
            self.proof = proof
            try:
                self.handle(env)
            except (ValidationError, Rejected) as exc:
                reason = exc.reason if isinstance(exc, Rejected) else _first_error(exc)
                code = exc.code if isinstance(exc, Rejected) else "malformed"
                await self._dead_body(env, reason, code)
            finally:
                self.proof = None
        sent_at = await self._flush(until, ordered=settle)
        if settle:
            await self.settle()
        head = queue[0][0] if queue else None
        if sent_at is None or (head is not None and head < sent_at):
            return head
        return sent_at

    async def settle(self) -> None:
        """Wait until everything sent is stored, then commit the input read (pipelined)."""
        await self.transport.flush()
        if self._consumer is not None and self._unread:
            await self._consumer.commit()
            self._unread = False

    async def _read(self) -> None:
        if self._consumer is None or not self._consumer.may_have_records():
            return
        messages = await drain(self._consumer)
        self._unread = self._unread or bool(messages)
        for message in messages:
            try:
                env, proof = open_proved(message, self.keys, self.run, self._senders, me=self.name)
            except Rejected as exc:
                await self._dead(dead_letter(message, exc.reason, self.name), exc.reason, exc.code)
                continue
            ident = (env.sender, env.seq)
            where = (message.topic, message.partition, message.offset)
            first = self._seen.get(ident)
            if first == where:
                continue  # a redelivery of the same record (at-least-once): already queued or handled
            if first is not None:
                # The same (sender, seq) again at another offset: a replayed copy, or a restarted
                # sender's re-send. Either way it has no effect; it is counted, never silent.
                reason = (
                    f"duplicate: ({env.sender}, {env.seq}) already read at {first[0]}:{first[1]}@{first[2]}"
                )
                await self._dead(dead_letter(message, reason, self.name), reason, "duplicate")
                continue
            self._seen[ident] = where
            if env.at < self.now:
                reason = "takes effect before this service's clock"
                await self._dead(dead_letter(message, reason, self.name), reason, "late")
                continue
            heapq.heappush(self._queue, (env.at, MESSAGE, env.sender, env.seq, env, proof))

    def handle(self, envelope: Envelope) -> None:
        """Act on one message at ``self.now``. Raise ValidationError/Rejected to dead-letter it."""
        raise NotImplementedError

    # -- what handlers call ----------------------------------------------------------------
    def at(self, when: SimTime, callback: Callable[[], None]) -> None:
        """Run ``callback`` at sim time ``when`` (same-time timers run in the order scheduled)."""
        if when < self.now:
            raise RunError(f"{self.name}: cannot schedule in the past ({iso(when)} < {iso(self.now)})")
        heapq.heappush(self._queue, (when, TIMER, "", next(self._ties), callback, None))

    def send(self, topic: str, kind: Kind, body: Model, *, key: str, at: SimTime | None = None) -> None:
        """Queue a message for another service; it takes effect no sooner than ``now + transit``."""
        effective = max(at if at is not None else self.now, self.now + self.transit)
        self._emit(topic, kind, body, key=key, at=effective)

    def record(self, event_type: type[Event], **fields: Any) -> None:
        """Add an event to the run record (the audit topic), stamped now, by this service."""
        self._seq += 1
        event = event_type(at=self.now, by=self.name, seq=self._seq, **fields)
        env = EventEnvelope(
            run=self.run, sender=self.name, seq=self._seq, at=self.now, body=event, prev=self._audit_head
        )
        plain = None
        if not self._local:
            # Each writer's audit topic is a hash chain (in one process nobody else reads it).
            # Suppressed events after a restart are chained too: the chain is the one before the crash.
            plain = as_json(env)
            self._audit_head = link_of(plain)
        self._outgoing.append(Outgoing(self._audit, self._name_key, env, event=True, plain=plain))

    def _emit(self, topic: str, kind: Kind, body: Model, *, key: str, at: SimTime) -> None:
        self._seq += 1
        self._queue_out(topic, kind, body, key=key, at=at, seq=self._seq)

    def _queue_out(self, topic: str, kind: Kind, body: Model, *, key: str, at: SimTime, seq: int) -> None:
        env = envelope(kind, run=self.run, sender=self.name, seq=seq, at=at, body=body)
        self._outgoing.append(Outgoing(topic, key.encode(), env))

    async def _flush(self, until: SimTime, *, ordered: bool) -> SimTime | None:
        """Send what this step produced; return the earliest time any of it is due after ``until``
        (the world's observations are due inside the window and are read in it).

        Messages to other services go first, the step's record events after them. ``ordered``
        waits for the messages to be stored before the record is sent (the transport keeps order
        only within a partition): then, whatever part of a step a crash leaves on the log, the
        highest sequence a service has on the audit topic means that everything it sent up to
        there is stored, which is what a restart relies on (``suppress_through``).
        """
        earliest: SimTime | None = None
        out, self._outgoing = self._outgoing, []
        if not out:
            return None
        record: list[Outgoing] = []
        messages = 0
        for o in out:
            if o.envelope.seq <= self._suppress_through:
                continue  # already on the log before a restart
            if o.event:
                record.append(o)
                continue
            await self._send(o)
            messages += 1
            if o.envelope.at >= until:
                earliest = o.envelope.at if earliest is None else min(earliest, o.envelope.at)
        if ordered and messages and record:
            await self.transport.flush()
        for o in record:
            await self._send(o)
        return earliest

    async def _send(self, o: Outgoing) -> None:
        if self._local:
            self.transport.publish_local(
                o.topic, o.envelope, key=o.key, headers=hand_over(o.envelope, self.keys)
            )
            return
        value, headers = seal(o.envelope, self.keys, to=self._addressee_of(o.topic), plain=o.plain)
        await self.transport.send(o.topic, value, key=o.key, headers=headers)

    def _addressee_of(self, topic: str) -> str | None:
        if topic not in self._addressee:
            self._addressee[topic] = self.topics.addressee(topic)
        return self._addressee[topic]

    async def _dead(self, message_value: bytes, reason: str, code: str) -> None:
        self.rejected[code] += 1
        self.log.warning("dead-letter", reason=reason, code=code, sim_time=iso(self.now))
        await self.transport.publish(self.topics.deadletter, message_value, key=self.name.encode())

    async def _dead_body(self, env: Envelope, reason: str, code: str) -> None:
        self.rejected[code] += 1
        self.log.warning(
            "dead-letter", reason=reason, code=code, sender=env.sender, seq=env.seq, sim_time=iso(self.now)
        )
        payload = as_json(env)
        await self.transport.publish(
            self.topics.deadletter,
            b'{"service": "%s", "reason": %s, "envelope": %s}'
            % (self.name.encode(), _json_str(reason), payload),
            key=self.name.encode(),
        )


def _first_error(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    return f"malformed {exc.title}: {'.'.join(str(p) for p in err['loc'])}: {err['msg']}"


def _json_str(text: str) -> bytes:
    return json.dumps(text).encode()
