"""Envelopes: every message on a Tearline topic, signed by the service that sent it.

The value is the envelope as JSON; the signature (Ed25519 over the value) travels in the
``tearline-sig`` header. A message that does not parse, names an unknown sender, or fails the
signature check is not processed: the receiving service sends it to the dead-letter topic.
Keys are derived per service from the run's secret (HKDF-SHA256), so every service of a run can
verify every other without a key exchange; set ``TEARLINE_SECRET`` to keep outsiders out.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Annotated, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import Field, TypeAdapter, ValidationError

from tearline._lead import Lead
from tearline._messages import ConsentAnswer, ConsentRequest, Observation, Release
from tearline._model import Model
from tearline._record import Event

from ._transport import Headers, Message

Kind = Literal["observation", "lead", "release", "event", "consent-request", "consent-answer"]
SIG_HEADER = "tearline-sig"


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


Envelope = Annotated[
    ObservationEnvelope | LeadEnvelope | ReleaseEnvelope | EventEnvelope | ConsentRequestEnvelope
    | ConsentAnswerEnvelope,
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
}


def envelope(kind: Kind, *, run: str, sender: str, seq: int, at: int, body: Model) -> Envelope:
    return _BY_KIND[kind](run=run, sender=sender, seq=seq, at=at, body=body)  # type: ignore[return-value]


class Rejected(Exception):
    """A message that must go to the dead-letter topic, and why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Keyring:
    """Signing keys of one run's services, derived from the run secret."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def signer(self, name: str) -> Ed25519PrivateKey:
        return _derive(self._secret, name)

    def verifier(self, name: str) -> Ed25519PublicKey:
        return _public(self._secret, name)


@cache
def _derive(secret: bytes, name: str) -> Ed25519PrivateKey:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tearline", info=name.encode()).derive(secret)
    return Ed25519PrivateKey.from_private_bytes(seed)


@cache
def _public(secret: bytes, name: str) -> Ed25519PublicKey:
    return _derive(secret, name).public_key()


def seal(envelope: Envelope, key: Ed25519PrivateKey) -> tuple[bytes, Headers]:
    value = envelope.model_dump_json(by_alias=True).encode()
    return value, ((SIG_HEADER, key.sign(value)), ("tearline-sender", envelope.sender.encode()))


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
        raise Rejected("unsigned: no tearline-sig header")
    try:
        keyring.verifier(env.sender).verify(sig, message.value)
    except InvalidSignature:
        raise Rejected(f"forged: signature does not match sender {env.sender!r}") from None
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
