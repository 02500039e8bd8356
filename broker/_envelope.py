"""Envelopes: every message on a Tearline topic, signed by the service that sent it.

The value is the envelope as JSON or, for a message addressed to one principal (an inbox is read
by its agency, an outbox by the gateway), ``{"sealed": {"from", "to", "box"}}``: the envelope
encrypted to the recipient (see :mod:`._keys`). The sender's signature over the value travels in
the ``tearline-sig`` header, made with its own private key. A message that does not parse, is for
another run, names an unknown sender, is unsigned, fails its signature, is sealed for someone
else or does not decrypt is not processed: the receiving service sends it to the dead-letter
topic with the reason, and counts it under a short code (the summary's ``rejected``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Container
from dataclasses import dataclass
from typing import Annotated, Literal, cast

from pydantic import Field, TypeAdapter, ValidationError

from tearline.model import (
    ActionOrder,
    ConsentAnswer,
    ConsentRequest,
    DeskDecision,
    Event,
    Lead,
    Model,
    Observation,
    PolicyChange,
    Release,
    Request,
    RequestAnswer,
    Share,
    TaskingOrder,
)

from ._keys import Keystore
from ._transport import Headers, Message

Kind = Literal[
    "observation",
    "lead",
    "release",
    "event",
    "consent-request",
    "consent-answer",
    "desk-decision",
    "share",
    "action",
    "request",
    "request-answer",
    "tasking",
    "policy-change",
]
SIG_HEADER = "tearline-sig"
"""The header carrying the sender's signature over the value (see :mod:`._keys`)."""
SENDER_HEADER = "tearline-sender"
"""The header naming the sender, so a reader can skip other senders' records without parsing them."""
TO_HEADER = "tearline-to"
"""The header naming the recipient a sealed value is encrypted to."""
DIGEST_HEADER = "tearline-digest"
"""On a message handed over in one process: the SHA-256 its sender signed (see :func:`hand_over`)."""
PROVED: frozenset[str] = frozenset({"lead", "share", "request-answer"})
"""The kinds whose sender's signature travels on, as the provenance of the copies released."""
MAX_MESSAGE_BYTES = 256 * 1024
"""A message larger than this is refused before it is parsed (a lead is about 1 kB)."""
EXCERPT_BYTES = 1024
"""How much of a refused message its dead letter keeps."""


AUDIT_START = "0" * 64
"""The ``prev`` of a service's first record event."""


class _Envelope(Model):
    """Who sent what, for which run, effective at which sim time."""

    run: str
    sender: str
    seq: int
    at: int
    """When it takes effect at the receiver (sim seconds)."""


class ObservationEnvelope(_Envelope):
    kind: Literal["observation"] = "observation"
    body: Observation


class LeadEnvelope(_Envelope):
    kind: Literal["lead"] = "lead"
    body: Lead


class ReleaseEnvelope(_Envelope):
    kind: Literal["release"] = "release"
    body: Release


class EventEnvelope(_Envelope):
    kind: Literal["event"] = "event"
    body: Event
    prev: str = AUDIT_START
    """The link of the sender's previous record event (:func:`link_of` its JSON): each service's audit
    topic is a hash chain, so a record removed, repeated or moved is seen where it happened."""


class ConsentRequestEnvelope(_Envelope):
    kind: Literal["consent-request"] = "consent-request"
    body: ConsentRequest


class ConsentAnswerEnvelope(_Envelope):
    kind: Literal["consent-answer"] = "consent-answer"
    body: ConsentAnswer


class DeskDecisionEnvelope(_Envelope):
    kind: Literal["desk-decision"] = "desk-decision"
    body: DeskDecision


class ShareEnvelope(_Envelope):
    kind: Literal["share"] = "share"
    body: Share


class ActionEnvelope(_Envelope):
    kind: Literal["action"] = "action"
    body: ActionOrder


class RequestEnvelope(_Envelope):
    kind: Literal["request"] = "request"
    body: Request


class RequestAnswerEnvelope(_Envelope):
    kind: Literal["request-answer"] = "request-answer"
    body: RequestAnswer


class TaskingEnvelope(_Envelope):
    kind: Literal["tasking"] = "tasking"
    body: TaskingOrder


class PolicyChangeEnvelope(_Envelope):
    kind: Literal["policy-change"] = "policy-change"
    body: PolicyChange


Envelope = Annotated[
    ObservationEnvelope
    | LeadEnvelope
    | ReleaseEnvelope
    | EventEnvelope
    | ConsentRequestEnvelope
    | ConsentAnswerEnvelope
    | DeskDecisionEnvelope
    | ShareEnvelope
    | ActionEnvelope
    | RequestEnvelope
    | RequestAnswerEnvelope
    | TaskingEnvelope
    | PolicyChangeEnvelope,
    Field(discriminator="kind"),
]
ENVELOPE: TypeAdapter[Envelope] = TypeAdapter(Envelope)
_BY_KIND: dict[str, type[_Envelope]] = {
    "observation": ObservationEnvelope,
    "lead": LeadEnvelope,
    "release": ReleaseEnvelope,
    "event": EventEnvelope,
    "consent-request": ConsentRequestEnvelope,
    "consent-answer": ConsentAnswerEnvelope,
    "desk-decision": DeskDecisionEnvelope,
    "share": ShareEnvelope,
    "action": ActionEnvelope,
    "request": RequestEnvelope,
    "request-answer": RequestAnswerEnvelope,
    "tasking": TaskingEnvelope,
    "policy-change": PolicyChangeEnvelope,
}

_KINDS = frozenset(_BY_KIND.values())


def envelope(kind: Kind, *, run: str, sender: str, seq: int, at: int, body: Model) -> Envelope:
    return _BY_KIND[kind](run=run, sender=sender, seq=seq, at=at, body=body)  # type: ignore[call-arg,return-value]


def as_json(envelope: Envelope) -> bytes:
    """The envelope as JSON: what is signed (and, addressed to one principal, sealed) on the wire."""
    return envelope.model_dump_json(by_alias=True).encode()


def link_of(value: bytes) -> str:
    """SHA-256 (hex) of an audit record's value as it is on the topic."""
    return hashlib.sha256(value).hexdigest()


class Rejected(Exception):
    """A message that must go to the dead-letter topic, and why (``code``: the summary's count)."""

    def __init__(self, reason: str, code: str = "refused") -> None:
        super().__init__(reason)
        self.reason = reason
        self.code = code


@dataclass(frozen=True)
class Proof:
    """The sender's signature on a message, by the message's SHA-256: a release's provenance."""

    digest: bytes
    signature: bytes


def signed(value: bytes, keys: Keystore, sender: str) -> Headers:
    """The headers that go with ``value`` sent by ``sender``: its signature and its name."""
    return ((SIG_HEADER, keys.sign(sender, value)), (SENDER_HEADER, sender.encode()))


def seal(
    envelope: Envelope, keys: Keystore, *, to: str | None = None, plain: bytes | None = None
) -> tuple[bytes, Headers]:
    """The message value and headers: the envelope (sealed to ``to`` if given), signed by its sender.

    ``plain``: the envelope's :func:`as_json`, if the caller made it already (a record event's,
    for its audit link), so that it is serialised once."""
    value = plain if plain is not None else as_json(envelope)
    headers: tuple[tuple[str, bytes], ...] = ()
    if to is not None and keys.sealed:
        box = keys.seal(envelope.sender, to, value)
        value = json.dumps(
            {"sealed": {"from": envelope.sender, "to": to, "box": base64.b64encode(box).decode()}},
            separators=(",", ":"),
        ).encode()
        headers = (*headers, (TO_HEADER, to.encode()))
    return value, (*signed(value, keys, envelope.sender), *headers)


def hand_over(envelope: Envelope, keys: Keystore) -> Headers:
    """The headers of an envelope handed over as an object inside one process (no JSON, no
    signature: nothing leaves the process). A kind in :data:`PROVED` is still signed, over its
    JSON's SHA-256 as on the wire, because that signature travels on as provenance."""
    if envelope.kind not in PROVED:
        return ()
    sender = envelope.sender
    digest = hashlib.sha256(as_json(envelope)).digest()
    return (
        (SIG_HEADER, keys.sign_digest(sender, digest)),
        (SENDER_HEADER, sender.encode()),
        (DIGEST_HEADER, digest),
    )


def open_envelope(
    message: Message,
    keys: Keystore,
    run: str,
    senders: frozenset[str],
    *,
    me: str | None = None,
    vouched: Container[str] = (),
) -> Envelope:
    """Parse and verify; raises :class:`Rejected` with a reason fit for the dead-letter topic.

    ``me``: the principal reading; on a sealed keystore its input must be sealed to it.
    ``vouched``: links (:func:`link_of`) of values already known to be genuine — an audit record
    named as ``prev`` by a later record of the same writer whose signature was checked, which
    covers this value's hash. Such a value's own signature is not checked again; every other check
    is made."""
    return open_proved(message, keys, run, senders, me=me, vouched=vouched)[0]


def open_proved(
    message: Message,
    keys: Keystore,
    run: str,
    senders: frozenset[str],
    *,
    me: str | None = None,
    vouched: Container[str] = (),
) -> tuple[Envelope, Proof | None]:
    """:func:`open_envelope`, with the sender's signature kept as proof."""
    if message.item is not None:
        return _open_local(message, keys, run, senders)
    value = message.value
    if len(value) > MAX_MESSAGE_BYTES:
        raise Rejected(f"oversized: {len(value)} bytes (the limit is {MAX_MESSAGE_BYTES})", "oversized")
    signer_raw = message.header(SENDER_HEADER)
    signer = signer_raw.decode("utf-8", errors="replace") if signer_raw is not None else None
    sig = message.header(SIG_HEADER)
    outer: dict[str, object] | None = None
    if value.startswith(b'{"sealed"'):
        try:
            parsed = json.loads(value)
            sealed = parsed["sealed"]
            outer = {"from": str(sealed["from"]), "to": str(sealed["to"]), "box": str(sealed["box"])}
        except (ValueError, KeyError, TypeError):
            raise Rejected("malformed message: sealed: not a sealed envelope", "malformed") from None
        signer = str(outer["from"])
    if signer is None:
        try:
            signer = ENVELOPE.validate_json(value).sender
        except ValidationError as exc:
            raise _malformed(exc) from None
    if signer not in senders:
        raise Rejected(f"unknown sender {signer!r}", "unknown-sender")
    if sig is None:
        raise Rejected(f"unsigned: no {SIG_HEADER} header", "unsigned")
    digest = hashlib.sha256(value).digest()  # of the value as sent: what the signature covers
    if not (vouched and digest.hex() in vouched) and not keys.verify_digest(signer, digest, sig):
        raise Rejected(f"forged: signature does not match sender {signer!r}", "forged")
    if outer is not None:
        if me is None or outer["to"] != me:
            raise Rejected(f"wrong recipient: sealed for {outer['to']}, read by {me}", "wrong-recipient")
        try:
            box = base64.b64decode(str(outer["box"]).encode(), validate=True)
        except ValueError:
            box = b""
        plain = keys.unseal(signer, me, box)
        if plain is None:
            raise Rejected(f"tampered: does not decrypt as sealed by {signer} for {me}", "tampered")
        value = plain
    elif me is not None and keys.sealed:
        raise Rejected(f"not sealed: a message for {me} must be encrypted to it", "not-sealed")
    try:
        env = ENVELOPE.validate_json(value)
    except ValidationError as exc:
        raise _malformed(exc) from None
    if env.sender != signer:
        raise Rejected(f"forged: signed by {signer!r} but names sender {env.sender!r}", "forged")
    if env.run != run:
        raise Rejected(f"envelope for another run ({env.run!r}, this run is {run!r})", "other-run")
    return env, Proof(digest, sig)


def _open_local(
    message: Message, keys: Keystore, run: str, senders: frozenset[str]
) -> tuple[Envelope, Proof | None]:
    """A message handed over as an object in this process: the same run, a known sender, and the
    sender's proof where its kind carries one. Between processes (a sealed keystore) only bytes
    are taken."""
    env = cast("Envelope", message.item)
    if keys.sealed:
        raise Rejected("not sealed: an object cannot cross a process boundary", "not-sealed")
    if type(env) not in _KINDS:
        raise Rejected(f"malformed message: not an envelope ({type(env).__name__})", "malformed")
    if env.sender not in senders:
        raise Rejected(f"unknown sender {env.sender!r}", "unknown-sender")
    if env.run != run:
        raise Rejected(f"envelope for another run ({env.run!r}, this run is {run!r})", "other-run")
    proof = None
    if not message.headers:
        return env, proof
    sig = message.header(SIG_HEADER)
    digest = message.header(DIGEST_HEADER)
    if sig is not None and digest is not None:
        if not keys.verify_digest(env.sender, digest, sig):
            raise Rejected(f"forged: signature does not match sender {env.sender!r}", "forged")
        proof = Proof(digest, sig)
    return env, proof


def _malformed(exc: ValidationError) -> Rejected:
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"]) or "value"
    return Rejected(f"malformed message: {where}: {first['msg']}", "malformed")


def dead_letter(message: Message, reason: str, service: str) -> bytes:
    """The dead-letter record: where it came from, why it was refused, its size and a bounded
    excerpt of its bytes (so that no input, however large or undecodable, makes a dead letter
    the broker would refuse)."""
    return json.dumps(
        {
            "service": service,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "reason": reason,
            "size": len(message.value),
            "value": excerpt(message.value),
        },
        sort_keys=True,
    ).encode()


def excerpt(value: bytes, limit: int = EXCERPT_BYTES) -> str:
    """At most ``limit`` bytes of ``value`` as text (undecodable bytes replaced), marked if cut."""
    text = value[:limit].decode("utf-8", errors="replace")
    return text if len(value) <= limit else f"{text}… ({len(value) - limit} more bytes)"
