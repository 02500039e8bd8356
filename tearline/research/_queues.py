"""Kaplan's "terror queues" (Operations Research 58(4), 2010): an analytical oracle for the
surveillance-capacity mechanics.

Plots arrive as a Poisson process (rate λ). Each of n agents, while free, detects each undetected
plot at rate β (random search); an undetected plot matures into an attack at rate μ; a detected plot
holds one agent for an exponential interdiction time (rate ω). The state is (i undetected plots,
j busy agents): a continuous-time Markov chain whose stationary distribution gives the share of
plots detected before they mature. The fluid approximation of the paper is here too, for large λ.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.linalg import spsolve

TAIL = 1e-10
"""Stationary mass allowed in the truncated state i = bound (checked after solving)."""


@dataclass(frozen=True)
class Queue:
    """The model's rates, all per the same time unit (here: per day)."""

    arrival: float
    """λ: plots per day."""
    agents: int
    """n: surveillance slots."""
    search: float
    """β: detections per day, per free agent and per undetected plot."""
    maturing: float
    """μ: per day, the rate at which an undetected plot becomes an attack."""
    release: float
    """ω: per day, the rate at which an interdiction frees its agent."""

    def __post_init__(self) -> None:
        for name in ("arrival", "search", "maturing", "release"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.agents < 0:
            raise ValueError("agents must be at least 0")


@dataclass(frozen=True)
class Solution:
    """What the chain says in steady state."""

    detected: float
    """Probability that a plot is detected before it matures."""
    undetected: float
    """Mean number of undetected plots."""
    busy: float
    """Mean number of busy agents."""
    bound: int
    """Largest number of undetected plots kept in the truncated chain."""
    tail: float
    """Stationary probability of the truncation state (small when the bound is large enough)."""


def _index(i: int, j: int, agents: int) -> int:
    return i * (agents + 1) + j


def generator(q: Queue, bound: int) -> csc_matrix:
    """The generator matrix Q on states (i, j), i ≤ ``bound`` (arrivals beyond it are lost), sparse."""
    n = q.agents
    size = (bound + 1) * (n + 1)
    rows: list[int] = []
    cols: list[int] = []
    rates: list[float] = []

    def move(s: int, t: int, rate: float) -> None:
        rows.extend((s, s))
        cols.extend((t, s))
        rates.extend((rate, -rate))

    for i in range(bound + 1):
        for j in range(n + 1):
            s = _index(i, j, n)
            if i < bound:
                move(s, _index(i + 1, j, n), q.arrival)
            if i > 0:
                move(s, _index(i - 1, j, n), q.maturing * i)
                if j < n:
                    move(s, _index(i - 1, j + 1, n), q.search * i * (n - j))
            if j > 0:
                move(s, _index(i, j - 1, n), q.release * j)
    return coo_matrix((rates, (rows, cols)), shape=(size, size)).tocsc()


def stationary(g: csc_matrix) -> np.ndarray:
    """π with πQ = 0 and Σπ = 1 (one balance equation replaced by the normalisation)."""
    a = g.T.tolil()
    a[a.shape[0] - 1, :] = 1.0
    b = np.zeros(a.shape[0])
    b[-1] = 1.0
    pi = np.asarray(spsolve(a.tocsc(), b))
    pi = np.clip(pi, 0.0, None)
    return pi / pi.sum()


def solve(q: Queue, bound: int | None = None) -> Solution:
    """The exact steady state, truncating i where its stationary mass is below :data:`TAIL`.

    With ``bound``, the chain is truncated there and solved as it is. Without, it starts well above the fluid approximation's mean undetected count
    (mean + 12·√mean + 10) and doubles the bound until the truncation state's mass is below
    :data:`TAIL`.
    """
    fixed = bound is not None
    if bound is None:
        mean = fluid(q).undetected
        bound = int(mean + 12 * math.sqrt(mean) + 10)
    while True:
        pi = stationary(generator(q, bound))
        n = q.agents
        grid = pi.reshape(bound + 1, n + 1)
        tail = float(grid[bound].sum())
        if fixed or tail < TAIL or bound > 5000:
            break
        bound *= 2
    i = np.arange(bound + 1)[:, None]
    j = np.arange(n + 1)[None, :]
    detections = float((grid * q.search * i * (n - j)).sum())
    accepted = q.arrival * (1.0 - tail)
    return Solution(
        detected=detections / accepted,
        undetected=float((grid * i).sum()),
        busy=float((grid * j).sum()),
        bound=bound,
        tail=tail,
    )


def fluid(q: Queue) -> Solution:
    """Kaplan's fluid approximation: λ = μu + ωb and ωb = βu(n − b); p = β(n − b)/(μ + β(n − b)).

    Substituting u = (λ − ωb)/μ gives a quadratic in b with one root in [0, min(n, λ/ω)].
    """
    lam, n, beta, mu, om = q.arrival, q.agents, q.search, q.maturing, q.release
    # ω·b·μ = β·(λ − ω·b)·(n − b)  →  βω·b² − (βλ + βωn + ωμ)·b + βλn = 0
    a = beta * om
    b_ = -(beta * lam + beta * om * n + om * mu)
    c = beta * lam * n
    disc = b_ * b_ - 4 * a * c
    busy = (-b_ - math.sqrt(max(disc, 0.0))) / (2 * a)
    undetected = (lam - om * busy) / mu
    free = n - busy
    return Solution(
        detected=beta * free / (mu + beta * free),
        undetected=undetected,
        busy=busy,
        bound=0,
        tail=0.0,
    )
