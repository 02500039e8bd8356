"""Kaplan's "terror queues" (Operations Research 58(4), 2010): an analytical oracle for the
surveillance-capacity mechanics.

Plots arrive as a Poisson process (rate λ). Each of n agents, while free, detects each undetected
plot at rate β (random search); an undetected plot matures into an attack at rate μ; a detected plot
holds one agent for an exponential interdiction time (rate ω). The state is (i undetected plots,
j busy agents): a continuous-time Markov chain whose stationary distribution gives the share of
plots detected before they mature. The fluid approximation of the paper is here too, for large λ.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.sparse import coo_matrix, csc_matrix
from scipy.sparse.linalg import spsolve

from tearline.model import OutcomeEvent, RunConfig, Scenario, iso
from tearline.run import replay

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
    pi: np.ndarray = np.asarray(spsolve(a.tocsc(), b), dtype=float)
    pi = np.clip(pi, 0.0, None)
    total: float = pi.sum()
    out: np.ndarray = pi / total
    return out


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


# -- the scenario family -------------------------------------------------------------------------
FAMILY_START = 2_208_988_800
"""Family scenarios start on 1 January 2040, 00:00 UTC (seconds since the epoch)."""


@dataclass(frozen=True)
class Family:
    """How a terror-queues scenario is laid out in time (days)."""

    warmup: float
    """Plots arriving before this are not counted: the chain starts empty, not in steady state."""
    window: float
    """Plots arriving in ``[warmup, warmup + window)`` are counted."""
    tail: float
    """Plots keep arriving, and the run goes on, this long after the window: a counted plot
    matures within it except with probability e^(−μ·tail)."""

    @property
    def horizon(self) -> float:
        return self.warmup + self.window + self.tail


def family_layout(q: Queue, plots: float = 400.0) -> Family:
    """A layout with about ``plots`` counted plots, a warm-up of ten of the slowest mean times
    (1/μ, 1/ω, 1/(β·n)) and a tail of fifteen mean maturing times."""
    slowest = max(1 / q.maturing, 1 / q.release, 1 / (q.search * max(1, q.agents)))
    return Family(warmup=10 * slowest, window=plots / q.arrival, tail=15 / q.maturing)


def family(q: Queue, seed: int, layout: Family | None = None) -> dict[str, object]:
    """A scenario (as the data of a scenario file) with Kaplan's rates, drawn for ``seed``.

    One security service (``SVC``) has ``n`` surveillance slots and nothing else to do; plots arrive
    as a Poisson process at λ a day, each with one member (an actor within the service's reach) and
    an attack at arrival + Exp(μ). Each plot is a latent observation found by random search at
    β a day per free slot while it is undetected and not yet an attack; a find reveals the member,
    the service acts at once, and the interdiction holds a slot for Exp(ω). Background noise is
    off; ``transit`` is one minute, against means of hours or days.
    """
    layout = layout or family_layout(q)
    draw = random.Random(f"terror-queues:{seed}")
    day = 86_400
    t = 0.0
    arrivals: list[tuple[int, int]] = []
    while True:
        t += draw.expovariate(q.arrival)
        if t >= layout.horizon:
            break
        matures = t + draw.expovariate(q.maturing)
        arrivals.append((FAMILY_START + round(t * day), FAMILY_START + round(matures * day)))
    horizon = FAMILY_START + round(layout.horizon * day) + 1
    start = iso(FAMILY_START)
    actors, plots, latent = [], [], []
    for k, (arrives, matures) in enumerate(arrivals, start=1):
        member = {"kind": "person", "value": f"member {k}"}
        attack = max(arrives + 1, matures)
        actors.append({"id": f"m{k}", "identifier": member, "whereabouts": [{"from": start, "in": "XQ"}]})
        plots.append(
            {
                "id": f"p{k}",
                "name": f"plot {k}",
                "attack_at": iso(attack),
                "place": "Q",
                "jurisdiction": ["XQ"],
                "entities": [member],
                "needs": ["identity"],
                "team": [f"m{k}"],
            }
        )
        latent.append(
            {
                "id": f"l{k}",
                "what": f"member {k} of plot {k}",
                "capability": "surveillance",
                "from": iso(arrives),
                "to": iso(attack - 1),
                "search_rate": q.search,
                "lead": {"identifiers": [member], "grading": "B2"},
            }
        )
    return {
        "id": "terror-queues",
        "title": f"Terror queues: λ={q.arrival}, n={q.agents}, β={q.search}, μ={q.maturing}, ω={q.release}",
        "description": "Kaplan's terror-queues model (Operations Research 58(4), 2010) as a scenario.",
        "fictional": "generated from the rates of an analytical model; it describes no real event",
        "start": start,
        "end": iso(horizon),
        "transit": 60,
        "defaults": {"processing": 0, "action_delay": 0, "act_threshold": 0.0, "act_on": ["identity"]},
        "agencies": [
            {
                "id": "SVC",
                "name": "Security service",
                "country": "XQ",
                "kind": "domestic-security",
                "capabilities": ["surveillance"],
                "surveillance": q.agents,
                "task_threshold": 1.0,
                "interdiction_time": {"mean": max(1, round(day / q.release)), "dist": "exponential"},
            },
            {"id": "OTHER", "name": "Another service", "country": "XR", "kind": "foreign-intelligence"},
        ],
        "actors": actors,
        "plots": plots,
        "injects": [],
        "latent": latent,
    }


@dataclass(frozen=True)
class Estimate:
    """The simulated share of counted plots detected before they matured, with its 95 % interval."""

    detected: int
    plots: int
    runs: int
    share: float
    low: float
    high: float


def detected_share(counts: list[tuple[int, int]]) -> Estimate:
    """Pooled share over runs with a 95 % interval for a ratio of sums (runs independent, plots in
    one run not: the variance comes from the runs' residuals, with Student's t on runs − 1)."""
    r = len(counts)
    d = sum(c[0] for c in counts)
    n = sum(c[1] for c in counts)
    p = d / n
    mean_n = n / r
    var = sum((di - p * ni) ** 2 for di, ni in counts) / (r - 1) / r / mean_n**2
    half = float(stats.t.ppf(0.975, r - 1)) * math.sqrt(var)
    return Estimate(d, n, r, p, max(0.0, p - half), min(1.0, p + half))


def counted(q: Queue, seed: int, layout: Family | None = None) -> tuple[int, int]:
    """Replay one family scenario (policy ``siloed``: nothing to share) and count the plots that
    arrived in the window: (detected before maturing, all)."""
    layout = layout or family_layout(q)
    data = family(q, seed, layout)
    scenario = Scenario.model_validate_json(json.dumps(data))
    result = asyncio.run(replay(RunConfig(scenario=scenario, policy="siloed", seed=seed)))
    first = FAMILY_START + layout.warmup * 86_400
    last = first + layout.window * 86_400
    arrived = {lat.id[1:]: lat.start for lat in scenario.latent}
    outcomes = [e for e in result.events if isinstance(e, OutcomeEvent)]
    plots = [o for o in outcomes if first <= arrived[o.plot[1:]] < last]
    hits = sum(1 for o in plots if o.detected_at is not None and o.detected_at < o.at)
    return hits, len(plots)
