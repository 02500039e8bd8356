"""Keys per principal: an Ed25519 signing key and an X25519 key for each agency and service.

A keystore on disk is a directory: ``registry.json`` holds every principal's public keys (anyone
in the exercise may read it); ``<PRINCIPAL>/keys.json`` holds one principal's private keys and is
given only to the seat that runs it. Nothing is derived from anything that travels on a topic:
the keys are random, made by ``tearline keys init``, replaced by ``tearline keys rotate``.

Messages are signed over their SHA-256 (so a release can carry the original's signature as
provenance, and anyone can check it from the digest alone). A message for one principal is
sealed to it: ChaCha20-Poly1305 under a key from HKDF over the static X25519 agreement between
sender and recipient, so only that recipient (and the sender) can read it.

In one process on the in-process transport no message crosses a process boundary; there the
keystore may be :meth:`Keystore.in_process`: envelopes are handed over as objects, and what is still
signed (a lead's provenance) is authenticated with HMAC under random per-principal keys held in
memory; nothing is encrypted (see docs/security.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tearline.model import TearlineError

REGISTRY = "registry.json"
PRIVATE = "keys.json"
_SIG_CONTEXT = b"tearline-sig-v1:"
_BOX_CONTEXT = b"tearline-box-v1:"
_RAW = serialization.Encoding.Raw
_PUB = serialization.PublicFormat.Raw
_PRIV = serialization.PrivateFormat.Raw
_NOENC = serialization.NoEncryption()


class KeystoreError(TearlineError):
    """A keystore cannot be read or lacks a key; ``hint`` says what to do."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class PublicKeys:
    """What everyone may know of a principal."""

    sign: Ed25519PublicKey
    box: X25519PublicKey

    def to_json(self) -> dict[str, str]:
        return {
            "sign": _b64(self.sign.public_bytes(_RAW, _PUB)),
            "box": _b64(self.box.public_bytes(_RAW, _PUB)),
        }


@dataclass(frozen=True)
class PrivateKeys:
    """What only the principal holds."""

    sign: Ed25519PrivateKey
    box: X25519PrivateKey

    @classmethod
    def generate(cls) -> PrivateKeys:
        return cls(Ed25519PrivateKey.generate(), X25519PrivateKey.generate())

    def public(self) -> PublicKeys:
        return PublicKeys(self.sign.public_key(), self.box.public_key())

    def to_json(self) -> dict[str, str]:
        return {
            "sign": _b64(self.sign.private_bytes(_RAW, _PRIV, _NOENC)),
            "box": _b64(self.box.private_bytes(_RAW, _PRIV, _NOENC)),
        }


class Keystore:
    """The public keys of every principal, and the private keys of those this process acts as."""

    def __init__(
        self,
        public: dict[str, PublicKeys],
        private: dict[str, PrivateKeys],
        *,
        generation: int = 1,
        in_process: bool = False,
    ) -> None:
        self.public = dict(public)
        self.private = dict(private)
        self.generation = generation
        self.sealed = not in_process
        """Whether messages for one principal are encrypted to it and signed with Ed25519."""
        self._mac = {name: secrets.token_bytes(32) for name in public} if in_process else {}
        self._boxes: dict[tuple[str, str], ChaCha20Poly1305] = {}

    # -- making and keeping ----------------------------------------------------------------
    @classmethod
    def generate(cls, principals: Iterable[str], *, generation: int = 1) -> Keystore:
        private = {name: PrivateKeys.generate() for name in sorted(set(principals))}
        return cls({n: k.public() for n, k in private.items()}, private, generation=generation)

    @classmethod
    def in_process(cls, principals: Iterable[str]) -> Keystore:
        """Every principal's keys, in memory, for a run whose services share one process."""
        private = {name: PrivateKeys.generate() for name in sorted(set(principals))}
        return cls({n: k.public() for n, k in private.items()}, private, in_process=True)

    def in_one_process(self) -> Keystore:
        """The same keys for a run whose services share one process: messages authenticated with
        HMAC under fresh random keys, not encrypted; Ed25519 still signs the audit seal."""
        return Keystore(self.public, self.private, generation=self.generation, in_process=True)

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the registry: the same for every holder of the same keystore generation."""
        return hashlib.sha256(json.dumps(self.registry_json(), sort_keys=True).encode()).hexdigest()[:16]

    def registry_json(self) -> dict[str, object]:
        return {
            "generation": self.generation,
            "principals": {n: self.public[n].to_json() for n in sorted(self.public)},
        }

    def save(self, directory: Path) -> None:
        """Write ``registry.json`` and one ``<PRINCIPAL>/keys.json`` (mode 0600) per held key."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / REGISTRY).write_text(json.dumps(self.registry_json(), indent=2, sort_keys=True) + "\n")
        for name, keys in sorted(self.private.items()):
            home = directory / name
            home.mkdir(mode=0o700, exist_ok=True)
            path = home / PRIVATE
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(
                    json.dumps({"principal": name, "generation": self.generation, **keys.to_json()}) + "\n"
                )

    @classmethod
    def load(cls, directory: Path, *, holding: Iterable[str] | None = None) -> Keystore:
        """Read a keystore: the registry and the private keys of ``holding`` (default: all present)."""
        path = Path(directory) / REGISTRY
        hint = f"Create one with: tearline keys init {directory} --scenario SCENARIO"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            generation = int(data["generation"])
            public = {
                str(n): PublicKeys(
                    Ed25519PublicKey.from_public_bytes(_unb64(k["sign"])),
                    X25519PublicKey.from_public_bytes(_unb64(k["box"])),
                )
                for n, k in data["principals"].items()
            }
        except FileNotFoundError:
            raise KeystoreError(f"no keystore at {directory} (no {REGISTRY})", hint) from None
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeystoreError(
                f"{path}: not a Tearline key registry ({type(exc).__name__}: {exc})", hint
            ) from None
        names = sorted(public) if holding is None else sorted(set(holding))
        private: dict[str, PrivateKeys] = {}
        for name in names:
            if name not in public:
                raise KeystoreError(
                    f"{path}: no principal {name!r} (it has {', '.join(sorted(public))})", hint
                )
            kpath = Path(directory) / name / PRIVATE
            if not kpath.is_file():
                if holding is None:
                    continue
                raise KeystoreError(f"{kpath}: missing: this seat does not hold {name}'s private keys", hint)
            try:
                raw = json.loads(kpath.read_text(encoding="utf-8"))
                keys = PrivateKeys(
                    Ed25519PrivateKey.from_private_bytes(_unb64(raw["sign"])),
                    X25519PrivateKey.from_private_bytes(_unb64(raw["box"])),
                )
            except (OSError, ValueError, KeyError, TypeError) as exc:
                raise KeystoreError(f"{kpath}: unreadable private key ({type(exc).__name__})", hint) from None
            if keys.public().to_json() != public[name].to_json():
                raise KeystoreError(
                    f"{kpath}: does not match {name}'s key in {REGISTRY} (a key from another generation?)",
                    hint,
                )
            private[name] = keys
        return cls(public, private, generation=generation)

    def rotated(self) -> Keystore:
        """A new generation: fresh keys for every principal (between runs)."""
        return Keystore.generate(self.public, generation=self.generation + 1)

    def require(self, names: Iterable[str], *, holding: Iterable[str] = ()) -> None:
        """Fail unless every name has public keys and the private keys of ``holding`` are here."""
        hint = "Create a keystore for this scenario with: tearline keys init DIR --scenario SCENARIO"
        missing = sorted(set(names) - set(self.public))
        if missing:
            raise KeystoreError(f"the keystore has no keys for {', '.join(missing)}", hint)
        absent = sorted(set(holding) - set(self.private))
        if absent:
            raise KeystoreError(f"this process does not hold the private keys of {', '.join(absent)}", hint)

    # -- signing ---------------------------------------------------------------------------
    def sign(self, signer: str, value: bytes) -> bytes:
        return self.sign_digest(signer, hashlib.sha256(value).digest())

    def verify(self, signer: str, value: bytes, signature: bytes) -> bool:
        return self.verify_digest(signer, hashlib.sha256(value).digest(), signature)

    def sign_digest(self, signer: str, digest: bytes) -> bytes:
        if not self.sealed:
            return hmac.digest(self._mac[signer], digest, "sha256")
        keys = self.private.get(signer)
        if keys is None:
            raise KeystoreError(f"this process does not hold {signer}'s signing key")
        return keys.sign.sign(_SIG_CONTEXT + digest)

    def verify_digest(self, signer: str, digest: bytes, signature: bytes) -> bool:
        if not self.sealed:
            key = self._mac.get(signer)
            return key is not None and hmac.compare_digest(hmac.digest(key, digest, "sha256"), signature)
        return self.verify_public(signer, digest, signature)

    def sign_public(self, signer: str, digest: bytes) -> bytes:
        """An Ed25519 signature whoever has the registry can check (even on the in-process keystore)."""
        keys = self.private.get(signer)
        if keys is None:
            raise KeystoreError(f"this process does not hold {signer}'s signing key")
        return keys.sign.sign(_SIG_CONTEXT + digest)

    def verify_public(self, signer: str, digest: bytes, signature: bytes) -> bool:
        keys = self.public.get(signer)
        return keys is not None and verify_ed25519(keys.sign, digest, signature)

    # -- sealing ---------------------------------------------------------------------------
    def seal(self, sender: str, recipient: str, plaintext: bytes) -> bytes:
        """Encrypt for ``recipient``: 12-byte nonce then ciphertext (authenticated with both names)."""
        nonce = os.urandom(12)
        return nonce + self._box(sender, recipient, mine=sender).encrypt(
            nonce, plaintext, _aad(sender, recipient)
        )

    def unseal(self, sender: str, recipient: str, box: bytes) -> bytes | None:
        """The plaintext, or None if it was not sealed by ``sender`` for ``recipient`` or was changed."""
        if recipient not in self.private or sender not in self.public or len(box) < 28:
            return None
        try:
            return self._box(sender, recipient, mine=recipient).decrypt(
                box[:12], box[12:], _aad(sender, recipient)
            )
        except InvalidTag:
            return None

    def _box(self, sender: str, recipient: str, *, mine: str) -> ChaCha20Poly1305:
        pair = (sender, recipient)
        aead = self._boxes.get(pair)
        if aead is None:
            other = recipient if mine == sender else sender
            own = self.private.get(mine)
            if own is None:
                raise KeystoreError(f"this process does not hold {mine}'s key agreement key")
            shared = own.box.exchange(self.public[other].box)
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=_BOX_CONTEXT + _aad(sender, recipient)
            ).derive(shared)
            aead = self._boxes[pair] = ChaCha20Poly1305(key)
        return aead


def verify_ed25519(key: Ed25519PublicKey, digest: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, _SIG_CONTEXT + digest)
    except InvalidSignature:
        return False
    return True


def public_key(text: str) -> Ed25519PublicKey:
    """An Ed25519 public key from its base64 form (as in ``registry.json``)."""
    return Ed25519PublicKey.from_public_bytes(_unb64(text))


def public_text(key: Ed25519PublicKey) -> str:
    return _b64(key.public_bytes(_RAW, _PUB))


def _aad(sender: str, recipient: str) -> bytes:
    return f"{sender}>{recipient}".encode()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
