"""The audit chain beside a record: ``audit.json`` makes ``record.jsonl`` verifiable.

Each line of the record (one event) is hashed, and each link of the chain commits to the one
before: ``link[i] = SHA-256(link[i-1] || SHA-256(line[i]))``, starting from the run id. The last
link, the head, is signed at the end by the gateway and the driver (``CLOCK``) with their Ed25519
keys. The signatures depend on the keys, which are random per keystore, so they live here and not
in ``record.jsonl``, whose bytes (and digest) stay the same on any transport and with any keys.

:func:`verify_audit` checks the record against the chain and the head's signatures and names the
first bad event: changed, removed, duplicated, moved or appended.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from tearline.broker import Keystore, public_key, public_text, verify_ed25519
from tearline.model import Model, TearlineError

AUDIT_FILE = "audit.json"


class AuditSeal(Model):
    """What ``audit.json`` holds."""

    version: int = 1
    run_id: str
    digest: str
    """SHA-256 of ``record.jsonl`` (the run's digest)."""
    lines: tuple[str, ...]
    """SHA-256 of each record line, in order."""
    chain: tuple[str, ...]
    """The chain's links, one per line; the last is the head."""
    signatures: dict[str, str]
    """Signer → Ed25519 signature (base64) over the head."""
    keys: dict[str, str]
    """Signer → its Ed25519 public key (base64), as in the registry it signed with."""
    registry: str
    """Fingerprint of that key registry."""


class AuditInputError(TearlineError):
    """A run directory's record or audit file cannot be read at all."""


@dataclass(frozen=True)
class AuditVerdict:
    """The result of checking a record against its audit chain."""

    events: int
    problems: tuple[str, ...]
    signers: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _start(run_id: str) -> bytes:
    return hashlib.sha256(b"tearline-audit-v1:" + run_id.encode()).digest()


def _link(previous: bytes, line_hash: bytes) -> bytes:
    return hashlib.sha256(previous + line_hash).digest()


def _statement(run_id: str, head: str, events: int) -> bytes:
    """What the signers sign: the run, the head and the number of events."""
    return hashlib.sha256(f"tearline-audit-head:{run_id}:{events}:{head}".encode()).digest()


def seal_audit(record: bytes, run_id: str, keys: Keystore, signers: Sequence[str]) -> AuditSeal:
    """The chain over ``record``'s lines, its head signed by each of ``signers``."""
    lines = [hashlib.sha256(line).digest() for line in record.splitlines()]
    chain: list[str] = []
    link = _start(run_id)
    for h in lines:
        link = _link(link, h)
        chain.append(link.hex())
    head = chain[-1] if chain else _start(run_id).hex()
    statement = _statement(run_id, head, len(lines))
    return AuditSeal(
        run_id=run_id,
        digest=hashlib.sha256(record).hexdigest(),
        lines=tuple(h.hex() for h in lines),
        chain=tuple(chain),
        signatures={s: base64.b64encode(keys.sign_public(s, statement)).decode() for s in signers},
        keys={s: public_text(keys.public[s].sign) for s in signers},
        registry=keys.fingerprint,
    )


def seal_head(seal: AuditSeal) -> str:
    """The chain's head (the start link for an empty record)."""
    return seal.chain[-1] if seal.chain else _start(seal.run_id).hex()


def head_statement(run_id: str, head: str, events: int) -> bytes:
    """What a signer of the audit seal signs (the run, the chain's head, the number of events)."""
    return _statement(run_id, head, events)


def cosign(seal: AuditSeal, signer: str, signature: bytes, keys: Keystore) -> AuditSeal | None:
    """``seal`` with ``signer``'s signature over its head added, if it verifies against ``signer``'s
    key in ``keys``' registry (None: it does not, so the signer sealed another record)."""
    key = keys.public[signer].sign
    if not verify_ed25519(key, head_statement(seal.run_id, seal_head(seal), len(seal.chain)), signature):
        return None
    return seal.model_copy(
        update={
            "signatures": {**seal.signatures, signer: base64.b64encode(signature).decode()},
            "keys": {**seal.keys, signer: public_text(key)},
        }
    )


def write_audit(out: Path, seal: AuditSeal) -> None:
    (out / AUDIT_FILE).write_text(seal.model_dump_json(indent=2) + "\n")


def verify_audit(
    run_dir: Path, *, trusted: Keystore | None = None, required: Sequence[str] = ("CLOCK", "GATEWAY")
) -> AuditVerdict:
    """Check ``record.jsonl`` against ``audit.json``: every link, the head's signatures.

    ``trusted``: the key registry the signatures must come from; without it the public keys in
    ``audit.json`` itself are used, which proves the record was not changed after it was sealed,
    not who sealed it. Raises :class:`AuditInputError` if either file cannot be read."""
    run_dir = Path(run_dir)
    try:
        record = (run_dir / "record.jsonl").read_bytes()
        raw = (run_dir / AUDIT_FILE).read_bytes()
    except OSError as exc:
        raise AuditInputError(
            f"{run_dir}: {exc.strerror or exc}: {Path(exc.filename or run_dir).name}"
        ) from None
    try:
        seal = AuditSeal.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"]) or "value"
        raise AuditInputError(f"{run_dir / AUDIT_FILE}: {where}: {first['msg']}") from None
    if len(seal.lines) != len(seal.chain):
        raise AuditInputError(f"{run_dir / AUDIT_FILE}: lines and chain differ in length")
    lines = record.splitlines()
    problems: list[str] = []
    bad = _first_bad(lines, seal)
    if bad is not None:
        problems.append(bad)
    problems.extend(_check_signatures(seal, trusted, required))
    if not problems and hashlib.sha256(record).hexdigest() != seal.digest:
        problems.append("record.jsonl: its SHA-256 is not the sealed digest (a change outside the lines?)")
    return AuditVerdict(len(lines), tuple(problems), tuple(sorted(seal.signatures)))


def _describe(line: bytes) -> str:
    try:
        data = json.loads(line)
        return f"{data.get('kind', '?')} by {data.get('by', '?')} seq {data.get('seq', '?')} at {data.get('at', '?')}"
    except (ValueError, AttributeError):
        return "an unreadable line"


def _first_bad(lines: list[bytes], seal: AuditSeal) -> str | None:
    link = _start(seal.run_id)
    seen: dict[str, int] = {}
    for i, line in enumerate(lines):
        n = i + 1
        h = hashlib.sha256(line).digest()
        if i >= len(seal.chain):
            return f"line {n} ({_describe(line)}): appended: the sealed record has {len(seal.chain)} events"
        link = _link(link, h)
        if link.hex() != seal.chain[i]:
            hx = h.hex()
            if hx in seen:
                return f"line {n} ({_describe(line)}): duplicate of line {seen[hx]}"
            if hx in seal.lines:
                j = seal.lines.index(hx) + 1
                if j == n + 1:
                    return f"line {n}: event {n} of the sealed record was removed (this line was event {j})"
                return f"line {n} ({_describe(line)}): moved: it was event {j} of the sealed record"
            return f"line {n} ({_describe(line)}): changed: does not match the audit chain"
        seen[h.hex()] = n
    if len(lines) < len(seal.chain):
        return f"line {len(lines) + 1}: events {len(lines) + 1}–{len(seal.chain)} of the sealed record were removed"
    return None


def _check_signatures(seal: AuditSeal, trusted: Keystore | None, required: Sequence[str]) -> list[str]:
    problems: list[str] = []
    head = seal.chain[-1] if seal.chain else _start(seal.run_id).hex()
    statement = _statement(seal.run_id, head, len(seal.chain))
    for signer in required:
        if signer not in seal.signatures:
            problems.append(f"{AUDIT_FILE}: not signed by {signer}")
    for signer, sig in sorted(seal.signatures.items()):
        try:
            embedded = public_key(seal.keys[signer])
            signature = base64.b64decode(sig.encode(), validate=True)
        except (KeyError, ValueError):
            problems.append(f"{AUDIT_FILE}: {signer}'s signature or key is unreadable")
            continue
        key = embedded
        if trusted is not None:
            if signer not in trusted.public:
                problems.append(f"{AUDIT_FILE}: signed by {signer}, who is not in the trusted registry")
                continue
            key = trusted.public[signer].sign
            if public_text(key) != seal.keys[signer]:
                problems.append(
                    f"{AUDIT_FILE}: {signer} signed with a key that is not its key in the registry"
                )
                continue
        if not verify_ed25519(key, statement, signature):
            problems.append(f"{AUDIT_FILE}: {signer}'s signature does not match the chain's head")
    return problems
