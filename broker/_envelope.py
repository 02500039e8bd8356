"""Envelopes: every message on a Tearline topic, signed by the service that sent it.

The value is the envelope as JSON; its signature travels in the ``tearline-sig`` header: an
HMAC-SHA256 of the value under the sending service's key, derived with HKDF-SHA256 from the run's
secret and the service's name. A message that does not parse, is for another run, names an unknown
sender, or fails the signature check is not processed: the receiving service sends it to the
dead-letter topic with the reason. Every service of a run holds the secret, so signatures keep out
outsiders and catch a message relabelled with another sender, not a compromised service (that
would need one private key per service; see docs/architecture.md). Set ``TEARLINE_SECRET`` on a
shared cluster; the default secret is derived from the run id.
"""

from __future__ import annotations

import hmac
import json
from functools import cache
from typing import Annotated, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field, TypeAdapter, ValidationError

from tearline.model import (
    ConsentAnswer,
    ConsentRequest,
    DeskDecision,
    Event,
    Lead,
    Model,
    Observation,
    Release,
    Share,
)

from ._transport import Headers, Message

Kind = Literal[
    "observation", "lead", "release", "event", "consent-request", "consent-answer", "desk-decision", "share"
]
SIG_HEADER = "tearline-sig"
"""The header carrying the value's HMAC-SHA256 under the sender's key."""
SENDER_HEADER = "tearline-sender"
"""The header naming the sender, so a reader can skip other senders' records without parsing them."""


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


Envelope = Annotated[
    ObservationEnvelope
    | LeadEnvelope
    | ReleaseEnvelope
    | EventEnvelope
    | ConsentRequestEnvelope
    | ConsentAnswerEnvelope
    | DeskDecisionEnvelope
    | ShareEnvelope,
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
}


def envelope(kind: Kind, *, run: str, sender: str, seq: int, at: int, body: Model) -> Envelope:
    return _BY_KIND[kind](run=run, sender=sender, seq=seq, at=at, body=body)  # type: ignore[call-arg,return-value]


class Rejected(Exception):
    """A message that must go to the dead-letter topic, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Keyring:
    """Signing keys of one run's services, derived from the run secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def key(self, name: str) -> bytes:
        return _derive(self._secret, name)

    def sign(self, name: str, value: bytes) -> bytes:
        return hmac.digest(self.key(name), value, "sha256")

    def verify(self, name: str, value: bytes, signature: bytes) -> bool:
        return hmac.compare_digest(self.sign(name, value), signature)


@cache
def _derive(secret: bytes, name: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tearline", info=name.encode()).derive(secret)


def signed(value: bytes, keyring: Keyring, sender: str) -> Headers:
    """The headers that go with ``value`` sent by ``sender``: its signature and its name."""
    return ((SIG_HEADER, keyring.sign(sender, value)), (SENDER_HEADER, sender.encode()))


def seal(envelope: Envelope, keyring: Keyring) -> tuple[bytes, Headers]:
    value = envelope.model_dump_json(by_alias=True).encode()
    return value, signed(value, keyring, envelope.sender)


def open_envelope(message: Message, keyring: Keyring, run: str, senders: frozenset[str]) -> Envelope:
    """Parse and verify; raises :class:`Rejected` with a reason fit for the dead-letter topic."""
    try:
        env = ENVELOPE.validate_json(message.value)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise Rejected(f"malformed message: {where}: {first['msg']}") from None
    if env.run != run:
        raise Rejected(f"envelope for another run ({env.run!r}, this run is {run!r})")
    if env.sender not in senders:
        raise Rejected(f"unknown sender {env.sender!r}")
    sig = message.header(SIG_HEADER)
    if sig is None:
        raise Rejected(f"unsigned: no {SIG_HEADER} header")
    if not keyring.verify(env.sender, message.value, sig):
        raise Rejected(f"forged: signature does not match sender {env.sender!r}")
    return env


def dead_letter(message: Message, reason: str, service: str) -> bytes:
    """The dead-letter record: where it came from, why it was refused, and the raw bytes."""
    return json.dumps(
        {
            "service": service,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "reason": reason,
            "value": message.value.decode("utf-8", errors="replace"),
        },
        sort_keys=True,
    ).encode()
