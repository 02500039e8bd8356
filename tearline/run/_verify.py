"""Checking a run's audit on the live topics (``tearline audit verify --bootstrap``).

Each service writes its record events to a topic of its own, ``<ns>.audit.<writer>``, and each
event's envelope names the link (SHA-256) of that writer's previous event (``prev``): every audit
topic is a hash chain. This reads the run's announcement on ``<ns>.clock`` (its configuration and
its start offsets), then every writer's topic from there, in offset order, and checks each record:
signed by its writer under the key registry, an event of that writer with the envelope's sequence
number, the next link of the writer's chain, never a second record for a sequence number. The
first bad record of each topic is named. Once the run is over, the record rebuilt from the topics
must also be the one the driver and the gateway sealed (the ``sealed`` message on the clock): that
catches what a chain alone cannot, such as records cut off the end of a topic.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from tearline.broker import (
    AUDIT_START,
    Keystore,
    Message,
    Rejected,
    Topics,
    Transport,
    drain,
    link_of,
    open_envelope,
    verify_ed25519,
)
from tearline.model import GATEWAY, Event, RunError
from tearline.report import head_statement

from ._clock import ClockLog, Session
from ._driver import CLOCK, Run

SEALERS = (CLOCK, GATEWAY)
"""Who must sign the seal of a finished run."""


@dataclass(frozen=True)
class LiveVerdict:
    """What the live topics say about one run's audit."""

    run_id: str
    events: int
    writers: int
    problems: tuple[str, ...]
    sealed_by: tuple[str, ...]
    note: str = ""
    """Said, not a failure: e.g. the run is still under way, so there is no seal yet."""

    @property
    def ok(self) -> bool:
        return not self.problems


async def verify_live(
    transport: Transport, run_id: str, keys: Keystore, *, namespace: str = "tearline"
) -> LiveVerdict:
    """Check run ``run_id``'s audit topics in ``namespace`` on ``transport`` against ``keys``' registry.

    Raises :class:`~tearline.model.RunError` if the run was never announced there."""
    session = await _session(transport, run_id, keys, namespace)
    run = Run(session.announce.config, namespace=namespace, keys=keys)
    transport.begin_at(session.announce.start)
    problems: list[str] = []
    events: list[Event] = []
    for writer in sorted(run.senders):
        topic = run.topics.audit(writer)
        consumer = await transport.subscribe(_group(namespace), [topic])
        try:
            messages = sorted(await drain(consumer), key=lambda m: (m.partition, m.offset))
        finally:
            await consumer.close()
        bad, accepted = _check_writer(messages, writer, run)
        events.extend(accepted)
        if bad is not None:
            problems.append(bad)
    sealed_by: tuple[str, ...] = ()
    note = ""
    if session.sealed is not None:
        problems.extend(_check_seal(session, run, events, keys))
        sealed_by = tuple(sorted(session.sealed.signatures))
    elif session.ended is not None and session.ended.reason == "finished":
        problems.append(f"{run.topics.clock}: the run finished but its audit was never sealed")
    else:
        state = "was aborted" if session.ended is not None else "is under way"
        note = f"not sealed: the run {state}, so only each writer's chain was checked"
    return LiveVerdict(run_id, len(events), len(run.senders), tuple(problems), sealed_by, note)


def _group(namespace: str) -> str:
    return f"{namespace}.verify.{uuid.uuid4().hex[:12]}"


async def _session(transport: Transport, run_id: str, keys: Keystore, namespace: str) -> Session:
    run_topics = Topics(namespace)
    consumer = await transport.subscribe(_group(namespace), [run_topics.clock])
    clock = ClockLog(consumer, "verify", keys, run_topics)
    try:
        await clock.catch_up()
    finally:
        await clock.close()
    mine = [clock.sessions[s] for s in clock.order if clock.sessions[s].announce.run == run_id]
    if not mine:
        raise RunError(
            f"no run {run_id!r} was announced on {run_topics.clock} (under this key registry); "
            "the run id is in the run's summary.json and the driver's log"
        )
    return mine[-1]


def _describe(message: Message) -> str:
    where = f"{message.topic}@{message.offset}"
    try:
        data = json.loads(message.value)
        body = data.get("body", {})
        return f"{where} ({body.get('kind', '?')} by {body.get('by', '?')} seq {body.get('seq', '?')} at {body.get('at', '?')})"
    except (ValueError, AttributeError):
        return f"{where} (not an event)"


def _check_writer(messages: Sequence[Message], writer: str, run: Run) -> tuple[str | None, list[Event]]:
    """The first bad record on ``writer``'s audit topic (None: all good), and the events accepted."""
    head = AUDIT_START
    seen: dict[int, tuple[int, bytes]] = {}
    accepted: list[Event] = []
    for message in messages:
        try:
            env = open_envelope(message, run.keys, run.config.run_id, run.senders)
        except Rejected as exc:
            if exc.code == "other-run":
                continue  # the namespace is shared with other runs
            return f"{_describe(message)}: {exc.reason}", accepted
        if env.kind != "event" or env.sender != writer or env.body.by != writer or env.body.seq != env.seq:
            return f"{_describe(message)}: not an event of {writer}, whose topic this is", accepted
        if env.seq in seen:
            offset, value = seen[env.seq]
            what = "duplicate" if value == message.value else "a second, different record"
            return f"{_describe(message)}: {what} of seq {env.seq} (first at offset {offset})", accepted
        if env.prev != head:
            earlier = [o for o, v in seen.values() if link_of(v) == env.prev]
            why = (
                f"moved: it follows the record at offset {earlier[0]}, not the one before it"
                if earlier
                else "the record before it in the chain is missing (removed, or this one was inserted)"
            )
            return f"{_describe(message)}: broken chain: {why}", accepted
        seen[env.seq] = (message.offset, message.value)
        head = link_of(message.value)
        accepted.append(env.body)
    return None, accepted


def _check_seal(session: Session, run: Run, events: list[Event], keys: Keystore) -> list[str]:
    sealed = session.sealed
    assert sealed is not None
    problems: list[str] = []
    where = run.topics.clock
    for signer in SEALERS:
        if signer not in sealed.signatures:
            problems.append(f"{where}: the seal is not signed by {signer}")
    statement = head_statement(run.config.run_id, sealed.head, sealed.events)
    for signer, text in sorted(sealed.signatures.items()):
        try:
            signature = base64.b64decode(text.encode(), validate=True)
            key = keys.public[signer].sign
        except (KeyError, ValueError):
            problems.append(f"{where}: the seal's signature by {signer} is unreadable or not in the registry")
            continue
        if not verify_ed25519(key, statement, signature):
            problems.append(f"{where}: {signer}'s signature does not match the sealed head")
    result = run.finish(events, transport_name="verify")
    if result.digest != sealed.digest:
        problems.append(
            f"the record on the audit topics ({len(result.audit.chain)} events, digest {result.digest[:12]}) "
            f"is not the sealed one ({sealed.events} events, digest {sealed.digest[:12]}): records were "
            "removed from the end of a topic, or added"
        )
    return problems


__all__: Sequence[str] = ("LiveVerdict", "verify_live")
