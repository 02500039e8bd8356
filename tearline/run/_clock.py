"""The distributed clock: a driver and services in other processes agree on sim time over ``<ns>.clock``.

One process drives (``tearline run --transport kafka --remote``): it owns the world (the injects
and the noise) and the clock. The release gateway (``tearline broker``) and each agency
(``tearline agency NAME``) run as their own services, anywhere that reaches the cluster. They
talk in signed JSON messages on single-partition topics that each have one writer: the driver's
``<ns>.clock`` (announce, tick, end, sealed), read by everyone, and each service's
``<ns>.clock.<service>`` (ready, done, cosign), read by the driver and by the service itself when
it restarts. A message is taken only from its writer's topic, so a cluster's ACLs can say who may
write the clock:

``announce``  driver → all. A new *session*: the whole :class:`~tearline.RunConfig` (so every
              process builds the same :class:`~tearline._run.Run`: agencies, topics, keys), the
              participants it expects, and the run's *start offsets* — the end of every run topic
              when the session began. Records below them belong to earlier runs in the namespace:
              every process reads its topics from there (:meth:`~tearline.broker.Transport.begin_at`).
``ready``     service → driver. It joined the session (again, after a restart: a new incarnation).
``tick``      driver → all. Window ``n``: process everything due before ``until``.
``done``      service → driver. Window ``n`` is processed, its output flushed and its input
              committed; carries the service's next due time, its last sequence number and its
              dead-letter count.
``end``       driver → all. The session finished (or was aborted); services exit.
``cosign``    gateway → driver. After a finished session the gateway reads the record from the
              audit topics itself and signs the head of its audit chain (``tearline.report``).
``sealed``    driver → all. The audit seal: the record's digest, the chain's head and the
              signatures of the driver and the gateway (``tearline audit verify --bootstrap``).

The driver publishes ``tick n+1`` only when every participant has reported ``done n``: each of them
has read everything that was on its input topics when the tick went out (the world's
observations of the window included) and flushed what it sent. As every message between services
takes at least the scenario's ``transit`` to take effect, nothing sent during a window is due
inside it, so the services step side by side and the record is the one a single process makes.

Restart. A service that dies (even SIGKILL) is started again with the same command. It reads
the clock from the beginning, finds the open session, and rebuilds: its state is a pure function
of its inputs, so it re-reads them from the run's start offsets and replays them; what it had
already published (everything up to the highest sequence number it has on the audit topic, or
reported in a ``done``) is not sent again, and receivers drop any other repeat by (sender, seq).
If a tick is outstanding it answers it, reporting a next due time no later than the tick's
``until`` (a message it had published before dying may be due right then; an extra, empty window
changes nothing in the record). The driver waits for it, up to ``wait`` seconds per window.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import os
import signal
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import structlog
from pydantic import Field, TypeAdapter, ValidationError

from tearline.broker import (
    SENDER_HEADER,
    SIG_HEADER,
    Consumer,
    Keystore,
    Message,
    Rejected,
    Service,
    Topics,
    Transport,
    drain,
    open_envelope,
    signed,
)
from tearline.model import GATEWAY, Model, RunConfig, RunError, SimTime, iso
from tearline.report import cosign as cosign_seal
from tearline.report import seal_head

from ._driver import CLOCK, Run, RunResult, paced_collection, replay

log = structlog.get_logger("tearline.clock")


class Announce(Model):
    kind: Literal["announce"] = "announce"
    session: str
    run: str
    config: RunConfig
    participants: tuple[str, ...]
    start: dict[str, tuple[int, ...]]
    driver: str
    announced_at: float
    registry: str = ""
    """Fingerprint of the driver's key registry (the keystore generation every seat must hold)."""


class Ready(Model):
    kind: Literal["ready"] = "ready"
    session: str
    service: str
    incarnation: str
    suppress_through: int
    resumed: bool


class Tick(Model):
    kind: Literal["tick"] = "tick"
    session: str
    window: int
    until: int


class Done(Model):
    kind: Literal["done"] = "done"
    session: str
    service: str
    incarnation: str
    window: int
    next: int | None
    seq: int
    dead_letters: int
    rejected: dict[str, int] = Field(default_factory=dict)


class End(Model):
    kind: Literal["end"] = "end"
    session: str
    reason: Literal["finished", "aborted"]
    detail: str = ""


class Cosign(Model):
    kind: Literal["cosign"] = "cosign"
    session: str
    service: str
    digest: str
    """The record's digest as the co-signer rebuilt it."""
    events: int
    head: str
    signature: str
    """Ed25519 (base64) over the audit chain's head (:func:`tearline.report.head_statement`)."""


class Sealed(Model):
    kind: Literal["sealed"] = "sealed"
    session: str
    run: str
    digest: str
    events: int
    head: str
    signatures: dict[str, str]


Control = Annotated[Announce | Ready | Tick | Done | End | Cosign | Sealed, Field(discriminator="kind")]
CONTROL: TypeAdapter[Control] = TypeAdapter(Control)
DRIVER_KINDS = (Announce, Tick, End, Sealed)
"""What only the driver writes, on ``<ns>.clock``; the rest a service writes on its own topic."""
PENDING_LIMIT = 10_000
"""Reports read before their session's announcement are kept (at most this many) until it is."""


@dataclass
class Session:
    """What the clock topic says about one session."""

    announce: Announce
    ended: End | None = None
    last_tick: Tick | None = None
    readies: dict[str, Ready] = field(default_factory=dict)
    dones: dict[tuple[str, int], Done] = field(default_factory=dict)
    latest: dict[str, Done] = field(default_factory=dict)
    """Each service's most recent report."""
    cosigns: dict[str, Cosign] = field(default_factory=dict)
    sealed: Sealed | None = None

    @property
    def id(self) -> str:
        return self.announce.session


def start_command(service: str, namespace: str, bootstrap: str | None) -> str:
    """The command that starts (or restarts) ``service`` for a session in ``namespace``."""
    where = f" --bootstrap {bootstrap}" if bootstrap else ""
    what = "broker" if service == GATEWAY else f"agency {service}"
    return f"tearline {what}{where} --namespace {namespace}"


class ClockLog:
    """Reads the clock topics: verifies each message and keeps the state of every session."""

    def __init__(self, consumer: Consumer, name: str, keys: Keystore, topics: Topics) -> None:
        self._consumer = consumer
        self._name = name
        self._keys = keys
        self._topics = topics
        self.sessions: dict[str, Session] = {}
        self.order: list[str] = []
        self.ignored = 0
        self._pending: list[tuple[Message, Control]] = []

    async def read(self, timeout: float) -> list[Control]:
        """New verified messages (waiting up to ``timeout`` s for the first)."""
        out: list[Control] = []
        for message in await self._consumer.poll(timeout=timeout):
            out.extend(self._accept(message))
        return out

    async def catch_up(self) -> None:
        """Read everything on the clock topics now."""
        for message in await drain(self._consumer):
            self._accept(message)

    def _accept(self, message: Message) -> list[Control]:
        try:
            msg = CONTROL.validate_json(message.value)
        except ValidationError:
            return self._ignore(message, "not a clock message")
        is_driver = isinstance(msg, DRIVER_KINDS)
        writer = CLOCK if is_driver else getattr(msg, "service", "")
        topic = self._topics.clock if is_driver else self._topics.reports(writer)
        if message.topic != topic:
            return self._ignore(message, f"a {msg.kind} message on {message.topic} (it belongs on {topic})")
        sig = message.header(SIG_HEADER) or b""
        if isinstance(msg, Announce):
            if msg.run != msg.config.run_id or not self._keys.verify(CLOCK, message.value, sig):
                other = msg.registry and msg.registry != self._keys.fingerprint
                return self._ignore(
                    message,
                    "announcement with a bad signature"
                    + (
                        f" (signed under key registry {msg.registry}; this seat holds {self._keys.fingerprint})"
                        if other
                        else ""
                    ),
                )
            self.adopt(msg)
            return [msg, *self._release(msg.session)]
        if msg.session not in self.sessions:
            # A report read before its session's announcement (another topic), or a session
            # announced before this reader's start offsets: kept until the announcement comes.
            if not is_driver and len(self._pending) < PENDING_LIMIT:
                self._pending.append((message, msg))
            return []
        return self._apply(message, msg)

    def _release(self, session: str) -> list[Control]:
        mine = [(m, c) for m, c in self._pending if c.session == session]
        self._pending = [(m, c) for m, c in self._pending if c.session != session]
        return [c for m, c in mine for c in self._apply(m, c)]

    def _apply(self, message: Message, msg: Control) -> list[Control]:
        session = self.sessions[msg.session]
        sig = message.header(SIG_HEADER) or b""
        signer = CLOCK if isinstance(msg, DRIVER_KINDS) else getattr(msg, "service", "")
        if signer != CLOCK and signer not in session.announce.participants:
            return self._ignore(message, f"report from {signer}, who is not in the session")
        if not self._keys.verify(signer, message.value, sig):
            return self._ignore(message, f"clock message with a bad signature for {signer}")
        if isinstance(msg, Ready):
            session.readies[msg.service] = msg
        elif isinstance(msg, Tick):
            if session.last_tick is None or msg.window > session.last_tick.window:
                session.last_tick = msg
        elif isinstance(msg, Done):
            session.dones.setdefault((msg.service, msg.window), msg)
            previous = session.latest.get(msg.service)
            if previous is None or msg.window >= previous.window:
                session.latest[msg.service] = msg
        elif isinstance(msg, End):
            session.ended = msg
        elif isinstance(msg, Cosign):
            session.cosigns.setdefault(msg.service, msg)
        elif isinstance(msg, Sealed):
            session.sealed = session.sealed or msg
        return [msg]

    def adopt(self, announce: Announce) -> Session:
        """Know of a session (the driver adopts its own before it reads it back)."""
        if announce.session not in self.sessions:
            self.sessions[announce.session] = Session(announce)
            self.order.append(announce.session)
        return self.sessions[announce.session]

    def _ignore(self, message: Message, reason: str) -> list[Control]:
        self.ignored += 1
        log.warning(
            "clock message ignored",
            reader=self._name,
            reason=reason,
            topic=message.topic,
            offset=message.offset,
        )
        return []

    def open_session(self) -> Session | None:
        """The most recently announced session, unless it has ended."""
        for sid in reversed(self.order):
            session = self.sessions[sid]
            return None if session.ended is not None else session
        return None

    async def close(self) -> None:
        await self._consumer.close()


async def post(transport: Transport, topic: str, msg: Control, keys: Keystore, signer: str) -> None:
    value = msg.model_dump_json(by_alias=True).encode()
    await transport.publish(topic, value, key=msg.session.encode(), headers=signed(value, keys, signer))
    await transport.flush()


async def scope(transport: Transport, run: Run) -> dict[str, tuple[int, ...]]:
    """Create the run's topics and start every reader at their current end (the run's start offsets).

    A topic this call created starts at 0 without asking the broker (on Kafka, asking about
    dozens of new topics waits for the client's metadata to learn each: 0.75 s for Mumbai's 67)."""
    created = await run.create_topics(transport)
    specs = run.topics.specs(run.agencies)
    floor = await transport.end_offsets([s.name for s in specs if s.name not in created])
    floor.update({s.name: (0,) * s.partitions for s in specs if s.name in created})
    transport.begin_at(floor)
    return floor


async def scoped_replay(
    config: RunConfig,
    transport: Transport,
    *,
    namespace: str = "tearline",
    on_step: Callable[[SimTime], None] | None = None,
    keys: Keystore | None = None,
) -> RunResult:
    """:func:`tearline.replay` in this process on a shared transport, reading only this run's records.

    Topics may already hold earlier runs (same namespace); the run starts at their current end,
    so an earlier run's leftovers are never read as this run's input or record.
    """
    await scope(transport, Run(config, namespace=namespace))
    transport.sole_producer = True  # every service of the run publishes through it
    return await replay(config, transport, namespace=namespace, on_step=on_step, keys=keys)


def _clock_group(namespace: str, who: str) -> str:
    return f"{namespace}.clock.{who}.{uuid.uuid4().hex[:12]}"


# -- the driver ------------------------------------------------------------------------------
class RemoteRun:
    """The driver's end of the clock: announces a session, ticks, collects reports."""

    def __init__(self, transport: Transport, run: Run, *, wait: float) -> None:
        self.transport = transport
        self.run = run
        self.wait = wait
        self.participants = (GATEWAY, *sorted(run.agencies))
        self.session_id = uuid.uuid4().hex
        self.window = 0
        self._until: SimTime | None = None
        self._clock: ClockLog | None = None

    @property
    def session(self) -> Session:
        assert self._clock is not None
        return self._clock.sessions[self.session_id]

    def _command(self, service: str) -> str:
        return start_command(service, self.run.topics.namespace, self.transport.address)

    async def announce(self) -> None:
        """Create the topics, fix the run's start offsets, announce the session, wait for every service."""
        start = await scope(self.transport, self.run)
        topics = self.run.topics
        consumer = await self.transport.subscribe(
            _clock_group(topics.namespace, "driver"),
            [topics.clock, *(topics.reports(p) for p in self.participants)],
        )
        self._clock = ClockLog(consumer, "driver", self.run.keys, topics)
        await self._clock.catch_up()
        msg = Announce(
            session=self.session_id,
            run=self.run.config.run_id,
            config=self.run.config,
            participants=self.participants,
            start=start,
            driver=f"{socket.gethostname()}:{os.getpid()}",
            announced_at=time.time(),
            registry=self.run.keys.fingerprint,
        )
        self._clock.adopt(msg)
        await post(self.transport, self.run.topics.clock, msg, self.run.keys, CLOCK)
        log.info("session announced", session=self.session_id, run=self.run.config.run_id)
        await self._await(
            lambda: [p for p in self.participants if p not in self.session.readies],
            lambda missing: (
                f"{', '.join(missing)} did not join the run within {self.wait:g} s. Start "
                + ("it" if len(missing) == 1 else "them")
                + " (each in its own shell or machine):\n"
                + "\n".join(f"  {self._command(p)}" for p in missing)
            ),
        )

    async def _await(self, missing: Callable[[], list[str]], explain: Callable[[list[str]], str]) -> None:
        assert self._clock is not None
        deadline = time.monotonic() + self.wait
        incarnations = {p: r.incarnation for p, r in self.session.readies.items()}
        while missing():
            left = deadline - time.monotonic()
            if left <= 0:
                raise RunError(explain(missing()))
            for msg in await self._clock.read(timeout=min(left, 1.0)):
                if isinstance(msg, Ready) and msg.session == self.session_id:
                    if incarnations.get(msg.service) not in (None, msg.incarnation):
                        log.warning("service restarted; it resumes the run", service=msg.service)
                        deadline = time.monotonic() + self.wait  # give the rebuild its own time
                    incarnations[msg.service] = msg.incarnation

    async def tick(self, until: SimTime) -> int:
        """Publish the tick for ``until`` (once, however many participants ask); its window number."""
        if self._until != until:
            self.window += 1
            self._until = until
            tick = Tick(session=self.session_id, window=self.window, until=until)
            await post(self.transport, self.run.topics.clock, tick, self.run.keys, CLOCK)
        return self.window

    async def done(self, service: str, window: int) -> Done:
        """Wait for ``service``'s report on ``window``."""
        await self._await(
            lambda: [] if (service, window) in self.session.dones else [service],
            lambda _: self._late(window),
        )
        return self.session.dones[(service, window)]

    def _late(self, window: int) -> str:
        missing = [p for p in self.participants if (p, window) not in self.session.dones]
        until = iso(self._until) if self._until is not None else "?"
        return (
            f"no report from {', '.join(missing)} on window {window} (sim time before {until}) within "
            f"{self.wait:g} s. A service that stopped can be started again and resumes the run:\n"
            + "\n".join(f"  {self._command(p)}" for p in missing)
        )

    async def end(self, reason: Literal["finished", "aborted"], detail: str = "") -> None:
        if self._clock is None:
            return
        msg = End(session=self.session_id, reason=reason, detail=detail)
        await post(self.transport, self.run.topics.clock, msg, self.run.keys, CLOCK)

    async def cosign(self, result: RunResult) -> RunResult:
        """Wait for the gateway's signature on the record's audit chain and add it to the seal.

        The gateway rebuilds the record from the audit topics itself: a signature over another
        record (or none within ``wait`` s) leaves the seal without it, said in a warning, and
        ``tearline audit verify`` then fails for want of the gateway's signature."""
        assert self._clock is not None
        deadline = time.monotonic() + self.wait
        while GATEWAY not in self.session.cosigns and time.monotonic() < deadline:
            await self._clock.read(timeout=min(1.0, max(0.0, deadline - time.monotonic())))
        cosign = self.session.cosigns.get(GATEWAY)
        if cosign is None:
            log.warning("the gateway did not co-sign the audit seal", wait=self.wait)
            return result
        if cosign.digest != result.digest:
            log.warning(
                "the gateway sealed another record; its signature is left out",
                gateway_digest=cosign.digest,
                digest=result.digest,
            )
            return result
        try:
            signature = base64.b64decode(cosign.signature.encode(), validate=True)
        except ValueError:
            signature = b""
        audit = cosign_seal(result.audit, GATEWAY, signature, self.run.keys)
        if audit is None:
            log.warning("the gateway's signature on the audit seal does not verify; it is left out")
            return result
        return dataclasses.replace(result, audit=audit)

    async def sealed(self, result: RunResult) -> None:
        """Publish the audit seal on the clock, for ``tearline audit verify --bootstrap``."""
        msg = Sealed(
            session=self.session_id,
            run=self.run.config.run_id,
            digest=result.digest,
            events=len(result.audit.chain),
            head=seal_head(result.audit),
            signatures=dict(result.audit.signatures),
        )
        await post(self.transport, self.run.topics.clock, msg, self.run.keys, CLOCK)

    def dead_letters(self) -> int:
        return sum(d.dead_letters for d in self.session.latest.values())

    def rejected(self) -> Counter[str]:
        """Refusals every service reported, by reason, and clock messages the driver ignored."""
        total: Counter[str] = Counter()
        for d in self.session.latest.values():
            total.update(d.rejected)
        if self._clock is not None and self._clock.ignored:
            total["clock-refused"] += self._clock.ignored
        return total

    async def close(self) -> None:
        if self._clock is not None:
            await self._clock.close()


class RemoteParticipant:
    """A service in another process, as the :class:`~tearline._run.Driver` sees it."""

    def __init__(self, name: str, remote: RemoteRun) -> None:
        self.name = name
        self._remote = remote

    async def step(self, until: SimTime) -> SimTime | None:
        window = await self._remote.tick(until)
        return (await self._remote.done(self.name, window)).next


async def drive(
    config: RunConfig,
    transport: Transport,
    *,
    keys: Keystore,
    namespace: str = "tearline",
    wait: float = 120.0,
    on_step: Callable[[SimTime], None] | None = None,
) -> RunResult:
    """Drive a run whose gateway and agencies are services in other processes; return its result.

    The world (injects and noise) runs here. Waits up to ``wait`` seconds for the services to
    join and, per window, for each to report. ``keys``: the keystore's registry and the driver's
    own private keys (``CLOCK`` and ``WORLD``).
    """
    run = Run(config, namespace=namespace, keys=keys)
    keys.require((), holding=(CLOCK, "WORLD"))
    remote = RemoteRun(transport, run, wait=wait)
    world = run.world(transport)
    rlog = log.bind(**run.log_context)
    try:
        await remote.announce()
        await world.open()
        rlog.info("run started", run_id=config.run_id, session=remote.session_id)
        driver = run.driver(world, [RemoteParticipant(p, remote) for p in remote.participants])
        stop = _Stop()
        try:
            with _cancel_on_sigterm(stop):
                await driver.run(on_step=on_step)
        except BaseException as exc:
            await asyncio.shield(_abort(remote, exc))
            if stop.requested:
                raise RunError(
                    f"stopped (SIGTERM) after {driver.windows} windows; the services were told the run is aborted"
                ) from None
            raise
        await remote.end("finished")
        events = await run.collect(transport)
        rejected = remote.rejected() + world.rejected
        result = run.finish(
            events,
            transport_name=transport.name,
            dead_letters=world.dead_letters + remote.dead_letters(),
            rejected=rejected,
        )
        result = await remote.cosign(result)
        await remote.sealed(result)
        rlog.info("run finished", digest=result.digest, windows=driver.windows)
        return result
    finally:
        await world.close()
        await remote.close()


@dataclass
class _Stop:
    requested: bool = False


@contextlib.contextmanager
def _cancel_on_sigterm(stop: _Stop) -> Iterator[None]:
    """SIGTERM cancels the run like Ctrl-C does, so the services hear that it was aborted."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    installed = False

    def cancel() -> None:
        stop.requested = True
        if task is not None:
            task.cancel()

    if task is not None:
        # Not in the main thread, or no signals on this platform: leave SIGTERM alone.
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, cancel)
            installed = True
    try:
        yield
    finally:
        if installed:
            loop.remove_signal_handler(signal.SIGTERM)


async def _abort(remote: RemoteRun, exc: BaseException) -> None:
    detail = (
        "the driver was interrupted" if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt) else ""
    )
    try:
        await remote.end("aborted", detail or f"{type(exc).__name__}: {exc}"[:500])
    except Exception as err:  # the original error matters more
        log.warning("could not announce the abort", error=str(err))


def _clock_refused(clock: ClockLog) -> Counter[str]:
    return Counter({"clock-refused": clock.ignored}) if clock.ignored else Counter()


# -- a service -------------------------------------------------------------------------------
async def _cosign(transport: Transport, run: Run, session: Session, slog: Any) -> None:
    """The gateway's part of the audit seal: rebuild the record from the audit topics, sign its head."""
    events = await run.collect(transport)
    result = run.finish(events, transport_name=transport.name, cosigners=(GATEWAY,))
    msg = Cosign(
        session=session.id,
        service=GATEWAY,
        digest=result.digest,
        events=len(result.audit.chain),
        head=seal_head(result.audit),
        signature=result.audit.signatures[GATEWAY],
    )
    await post(transport, run.topics.reports(GATEWAY), msg, run.keys, GATEWAY)
    slog.info("audit seal co-signed", digest=result.digest, events=len(result.audit.chain))


@dataclass(frozen=True)
class Served:
    """How a service's session ended."""

    session: str
    run: str
    reason: str
    detail: str
    windows: int
    dead_letters: int


async def last_audit_seq(transport: Transport, run: Run, service: str) -> int:
    """The highest sequence number ``service`` has on the run's audit topic (0 if none).

    Reads with a group of its own, so services restarting at the same time do not split the topic.
    """
    consumer = await transport.subscribe(
        f"{run.topics.namespace}.restart.{service}.{uuid.uuid4().hex[:12]}", [run.topics.audit(service)]
    )
    top = 0
    try:
        for message in await drain(consumer):
            if message.header(SENDER_HEADER) != service.encode():
                continue
            try:
                env = open_envelope(message, run.keys, run.config.run_id, run.senders)
            except Rejected as exc:
                # Never trusted: a record that does not verify cannot move what is suppressed.
                log.warning(
                    "audit record not trusted", service=service, reason=exc.reason, offset=message.offset
                )
                continue
            if env.sender != service:
                continue
            top = max(top, env.seq)
    finally:
        await consumer.close()
    return top


async def serve(
    name: str,
    transport: Transport,
    *,
    keys: Keystore,
    namespace: str = "tearline",
    wait: float | None = None,
) -> Served:
    """Run service ``name`` (``GATEWAY`` or an agency id) for the session a driver announces.

    Waits up to ``wait`` seconds (None: for ever) for an announcement, joins (rebuilding if the
    session is under way: a restart), answers every tick, and returns when the session ends.
    ``keys``: the keystore's registry and this service's own private keys.
    """
    keys.require((name,), holding=(name,))
    topics = Topics(namespace)
    await transport.create_topics(topics.service_specs(name))
    reader = await transport.subscribe(_clock_group(namespace, name), [topics.clock, topics.reports(name)])
    clock = ClockLog(reader, name, keys, topics)
    try:
        await clock.catch_up()
        session = clock.open_session()
        deadline = None if wait is None else time.monotonic() + wait
        if session is None:
            log.info("waiting for a run", service=name, namespace=namespace)
        while session is None:
            if deadline is not None and time.monotonic() >= deadline:
                raise RunError(
                    f"{name}: no run was announced on {namespace}.clock within {wait:g} s. Start the "
                    "driver: tearline run SCENARIO --transport kafka --remote --bootstrap HOST:PORT"
                    + ("" if namespace == "tearline" else f" --namespace {namespace}")
                )
            left = 1.0 if deadline is None else max(0.0, min(1.0, deadline - time.monotonic()))
            await clock.read(timeout=left)
            session = clock.open_session()
        while True:
            # A service keeps its run's state to the end, as a replay does: the same collector pacing.
            with paced_collection():
                served = await _serve_session(name, transport, clock, session, namespace, keys)
            if isinstance(served, Served):
                return served
            session = served  # superseded by a newer session
    finally:
        await clock.close()


async def _serve_session(
    name: str, transport: Transport, clock: ClockLog, session: Session, namespace: str, keys: Keystore
) -> Served | Session:
    announce = session.announce
    if name not in announce.participants:
        raise RunError(
            f"{name} is not in the announced run ({announce.config.scenario.id}, policy "
            f"{announce.config.policy}): its services are {', '.join(announce.participants)}"
        )
    run = Run(announce.config, namespace=namespace, keys=keys)
    slog = log.bind(service=name, session=session.id, **run.log_context)
    transport.begin_at(announce.start)
    # A restarted service takes its own place in its group at once.
    transport.keep_member(f"{namespace}.{name}", f"{namespace}.{name}")
    reported = session.latest.get(name)
    suppress = max(await last_audit_seq(transport, run, name), reported.seq if reported else 0)
    service: Service = (
        run.gateway(transport, suppress) if name == GATEWAY else run.agency(name, transport, suppress)
    )
    incarnation = uuid.uuid4().hex[:12]
    answered = 0
    try:
        await service.open(rebuild=True)
        resumed = session.last_tick is not None or suppress > 0
        ready = Ready(
            session=session.id,
            service=name,
            incarnation=incarnation,
            suppress_through=suppress,
            resumed=resumed,
        )
        await post(transport, run.topics.reports(name), ready, run.keys, name)
        slog.info("joined", resumed=resumed, suppress_through=suppress)

        async def answer(tick: Tick, *, restarted: bool) -> None:
            nxt = await service.step(tick.until)
            if restarted:  # something published before the crash may be due right at `until`
                nxt = tick.until if nxt is None else min(nxt, tick.until)
            done = Done(
                session=session.id,
                service=name,
                incarnation=incarnation,
                window=tick.window,
                next=nxt,
                seq=service.seq,
                dead_letters=service.dead_letters,
                rejected=dict(service.rejected + _clock_refused(clock)),
            )
            await post(transport, run.topics.reports(name), done, run.keys, name)

        if session.last_tick is not None:
            await answer(session.last_tick, restarted=True)
            answered = session.last_tick.window
        while True:
            for msg in await clock.read(timeout=1.0):
                if isinstance(msg, Announce) and msg.session != session.id:
                    slog.warning("a newer run was announced; leaving this one", new_session=msg.session)
                    newer = clock.sessions[msg.session]
                    return newer
                if msg.session != session.id:
                    continue
                if isinstance(msg, Tick) and msg.window > answered:
                    await answer(msg, restarted=False)
                    answered = msg.window
                elif isinstance(msg, End):
                    slog.info("run ended", reason=msg.reason, windows=answered)
                    if name == GATEWAY and msg.reason == "finished":
                        await _cosign(transport, run, session, slog)
                    return Served(
                        session.id, run.config.run_id, msg.reason, msg.detail, answered, service.dead_letters
                    )
    finally:
        await service.close()


__all__: Sequence[str] = (
    "CLOCK",
    "Announce",
    "ClockLog",
    "Cosign",
    "Done",
    "End",
    "Ready",
    "RemoteParticipant",
    "RemoteRun",
    "Sealed",
    "Served",
    "Tick",
    "drive",
    "last_audit_seq",
    "scoped_replay",
    "serve",
    "start_command",
)
