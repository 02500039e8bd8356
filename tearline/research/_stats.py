"""Intervals for research answers: Wilson for rates, Newcombe for a difference of rates, and a
seeded percentile bootstrap for means (hours of warning, analyst load) and their differences."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054
"""The standard normal's 97.5th percentile: two-sided 95 %."""

BOOTSTRAP_RESAMPLES = 4000


@dataclass(frozen=True)
class Interval:
    """An estimate with its 95 % interval (``low`` ≤ ``estimate`` ≤ ``high`` for rates and means)."""

    estimate: float
    low: float
    high: float

    def fmt(self, spec: str = ".0%") -> str:
        return f"{self.estimate:{spec}} [{self.low:{spec}}, {self.high:{spec}}]"


def wilson(successes: int, trials: int, z: float = Z95) -> Interval:
    """Wilson's score interval for a binomial rate (good at 0 %, 100 % and small n)."""
    if trials <= 0:
        raise ValueError("a rate needs at least one trial")
    if not 0 <= successes <= trials:
        raise ValueError(f"{successes} successes out of {trials} trials")
    p = successes / trials
    z2 = z * z
    centre = (p + z2 / (2 * trials)) / (1 + z2 / trials)
    half = z / (1 + z2 / trials) * math.sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials))
    return Interval(p, max(0.0, centre - half), min(1.0, centre + half))


def rate_difference(k1: int, n1: int, k2: int, n2: int) -> Interval:
    """p₁ − p₂ with Newcombe's hybrid score interval (built from the two Wilson intervals)."""
    a, b = wilson(k1, n1), wilson(k2, n2)
    d = a.estimate - b.estimate
    low = d - math.sqrt((a.estimate - a.low) ** 2 + (b.high - b.estimate) ** 2)
    high = d + math.sqrt((a.high - a.estimate) ** 2 + (b.estimate - b.low) ** 2)
    return Interval(d, max(-1.0, low), min(1.0, high))


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def bootstrap_mean(
    values: Sequence[float], *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> Interval | None:
    """The mean with a percentile-bootstrap 95 % interval; deterministic for a given ``seed``.

    None for no values; a single value (or identical values) gives a zero-width interval."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return None
    means = x[_rng(seed).integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    return Interval(float(x.mean()), float(low), float(high))


def bootstrap_difference(
    a: Sequence[float], b: Sequence[float], *, seed: int = 0, resamples: int = BOOTSTRAP_RESAMPLES
) -> Interval | None:
    """mean(a) − mean(b), the two samples resampled independently (percentile bootstrap)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.size == 0 or y.size == 0:
        return None
    rng = _rng(seed)
    mx = x[rng.integers(0, x.size, size=(resamples, x.size))].mean(axis=1)
    my = y[rng.integers(0, y.size, size=(resamples, y.size))].mean(axis=1)
    low, high = np.percentile(mx - my, [2.5, 97.5])
    return Interval(float(x.mean() - y.mean()), float(low), float(high))
