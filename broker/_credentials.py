"""Who a Kafka client is: its SASL principal, its password, and the CA it trusts.

A secured cluster (``scripts/kafka start --sasl [--tls]``, or any cluster with SASL/SCRAM) knows
each agency, the gateway and the driver as a principal of its own, and its ACLs say what each may
read and write (see :mod:`broker._principals`). The credentials come from the command line
(``--sasl-user``, ``--sasl-password-file``, ``--ca-file``) or the environment:

``TEARLINE_KAFKA_USERNAME``, ``TEARLINE_KAFKA_PASSWORD`` (or ``TEARLINE_KAFKA_PASSWORD_FILE``),
``TEARLINE_KAFKA_CA_FILE``, ``TEARLINE_KAFKA_SASL_MECHANISM`` (default ``SCRAM-SHA-512``) and
``TEARLINE_KAFKA_SECURITY_PROTOCOL`` (default: ``SASL_SSL`` with a CA file, ``SASL_PLAINTEXT``
with a user only, else ``PLAINTEXT``).
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tearline.model import TransportError

PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN")


class CredentialsError(TransportError):
    """Credentials that cannot be used as given: a usage error (exit 2), not a broker failure."""


@dataclass(frozen=True)
class KafkaCredentials:
    """A client's identity on the cluster. ``password`` never appears in a repr or a log line."""

    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_file: Path | None = None
    mechanism: str = "SCRAM-SHA-512"
    protocol: str | None = None

    @property
    def security_protocol(self) -> str:
        if self.protocol is not None:
            return self.protocol
        if self.username is not None:
            return "SASL_SSL" if self.ca_file is not None else "SASL_PLAINTEXT"
        return "SSL" if self.ca_file is not None else "PLAINTEXT"

    @property
    def principal(self) -> str:
        """How the broker names this client in its ACLs (``User:ANONYMOUS`` without SASL)."""
        return f"User:{self.username}" if self.username else "User:ANONYMOUS"

    def client_settings(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        protocol = self.security_protocol
        if protocol not in PROTOCOLS:
            raise CredentialsError(
                f"unknown Kafka security protocol {protocol!r} (one of {', '.join(PROTOCOLS)})"
            )
        out: dict[str, Any] = {"security_protocol": protocol}
        if protocol in {"SSL", "SASL_SSL"}:
            try:
                out["ssl_context"] = ssl.create_default_context(
                    cafile=str(self.ca_file) if self.ca_file is not None else None
                )
            except (OSError, ssl.SSLError) as exc:
                raise CredentialsError(f"cannot use the CA file {self.ca_file}: {exc}") from None
        if protocol.startswith("SASL"):
            if self.mechanism not in MECHANISMS:
                raise CredentialsError(
                    f"unknown SASL mechanism {self.mechanism!r} (one of {', '.join(MECHANISMS)})"
                )
            if not self.username or self.password is None:
                raise CredentialsError(
                    f"{protocol} needs a user and a password: pass --sasl-user and --sasl-password-file "
                    "(or set TEARLINE_KAFKA_USERNAME and TEARLINE_KAFKA_PASSWORD)"
                )
            out["sasl_mechanism"] = self.mechanism
            out["sasl_plain_username"] = self.username
            out["sasl_plain_password"] = self.password
        return out

    @classmethod
    def resolve(
        cls,
        user: str | None = None,
        password_file: Path | None = None,
        ca_file: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> KafkaCredentials:
        """Credentials from the options given, else from the environment."""
        env = os.environ if env is None else env
        username = user or env.get("TEARLINE_KAFKA_USERNAME") or None
        password: str | None = None
        file = password_file or (
            Path(env["TEARLINE_KAFKA_PASSWORD_FILE"]) if env.get("TEARLINE_KAFKA_PASSWORD_FILE") else None
        )
        if file is not None:
            password = read_password(file)
        elif env.get("TEARLINE_KAFKA_PASSWORD"):
            password = env["TEARLINE_KAFKA_PASSWORD"]
        ca = ca_file or (Path(env["TEARLINE_KAFKA_CA_FILE"]) if env.get("TEARLINE_KAFKA_CA_FILE") else None)
        if ca is not None and not ca.is_file():
            raise CredentialsError(f"no such CA file: {ca}")
        protocol = env.get("TEARLINE_KAFKA_SECURITY_PROTOCOL", "").strip().upper() or None
        mechanism = env.get("TEARLINE_KAFKA_SASL_MECHANISM", "").strip().upper() or "SCRAM-SHA-512"
        return cls(username, password, ca, mechanism, protocol)


def read_password(path: Path) -> str:
    """A password from a file of its own (one line; surrounding whitespace is not part of it)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CredentialsError(f"no such password file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(f"cannot read the password file {path}: {exc}") from None
    password = text.strip()
    if not password:
        raise CredentialsError(f"the password file {path} is empty")
    return password
