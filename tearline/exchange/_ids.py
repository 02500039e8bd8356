"""Deterministic identifiers for exported objects: the same scenario (and run) gives the same ids."""

from __future__ import annotations

import hashlib
import uuid

from tearline.model import SimTime, iso


def stable_uuid(*parts: str) -> uuid.UUID:
    """A version-4-shaped UUID derived from ``parts`` (no randomness: exports are reproducible)."""
    digest = hashlib.sha256("\x1f".join(("tearline", *parts)).encode()).digest()
    return uuid.UUID(bytes=digest[:16], version=4)


def stix_time(t: SimTime) -> str:
    """A STIX timestamp (UTC, millisecond precision): ``2008-11-26T15:50:00.000Z``."""
    return iso(t).removesuffix("Z") + ".000Z"
