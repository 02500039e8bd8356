"""Seeded randomness: every random draw in a run comes from a stream keyed by the run seed and a purpose."""

from __future__ import annotations

import random


def rng(seed: int, *purpose: str) -> random.Random:
    """A random stream fixed by ``seed`` and ``purpose`` (e.g. ``"noise", agency``).

    The key is the text ``"<seed>:<purpose>:..."``; :class:`random.Random` seeds from a string's
    SHA-512, never from ``hash()``, so the stream is the same in every process and on every platform.
    """
    return random.Random(":".join((str(seed), *purpose)))
