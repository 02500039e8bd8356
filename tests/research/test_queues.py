"""Kaplan's terror-queues model, solved exactly: checked by hand, by simulating the chain, and
against the paper's fluid approximation."""

from __future__ import annotations

import json
import random

import pytest

from tearline.model import Scenario
from tearline.research import Queue, counted, detected_share, family, family_layout, fluid, solve


def _simulate_chain(q: Queue, horizon: float, seed: int) -> float:
    """Gillespie simulation of the (undetected, busy) chain: detected arrivals / arrivals."""
    draw = random.Random(seed)
    t, i, j, arrivals, detections = 0.0, 0, 0, 0, 0
    while t < horizon:
        rates = (q.arrival, q.maturing * i, q.search * i * (q.agents - j), q.release * j)
        total = sum(rates)
        t += draw.expovariate(total)
        u = draw.random() * total
        if u < rates[0]:
            i, arrivals = i + 1, arrivals + 1
        elif u < rates[0] + rates[1]:
            i -= 1
        elif u < rates[0] + rates[1] + rates[2]:
            i, j, detections = i - 1, j + 1, detections + 1
        else:
            j -= 1
    return detections / arrivals


class TestExactSolution:
    def test_tiny_chain_by_hand(self) -> None:
        """With one agent, at most one undetected plot and every rate 1, π = (5, 2, 3, 1)/11 and p = 3/7."""
        s = solve(Queue(arrival=1, agents=1, search=1, maturing=1, release=1), bound=1)
        assert s.detected == pytest.approx(3 / 7, abs=1e-12)
        assert s.busy == pytest.approx(3 / 11, abs=1e-12)  # π(0,1) + π(1,1) = 2/11 + 1/11
        assert s.undetected == pytest.approx(4 / 11, abs=1e-12)  # π(1,0) + π(1,1)

    def test_no_agents_detect_nothing(self) -> None:
        """Without agents no plot is ever detected."""
        assert solve(Queue(arrival=2, agents=0, search=1, maturing=1, release=1)).detected == 0

    def test_truncation_is_negligible(self) -> None:
        """The automatic bound leaves less than 1e-10 of the stationary mass at the edge."""
        s = solve(Queue(arrival=20, agents=6, search=0.3, maturing=0.2, release=1))
        assert s.tail < 1e-10

    @pytest.mark.parametrize(
        "q",
        [
            Queue(arrival=1, agents=1, search=1, maturing=1, release=1),
            Queue(arrival=4, agents=3, search=0.5, maturing=0.5, release=1),
        ],
    )
    def test_matches_a_simulation_of_the_chain(self, q: Queue) -> None:
        """A long Gillespie run of the same chain lands within 0.02 of the exact value."""
        assert _simulate_chain(q, horizon=40_000, seed=7) == pytest.approx(solve(q).detected, abs=0.02)

    def test_more_agents_detect_more(self) -> None:
        """Detection grows with the number of agents."""
        values = [
            solve(Queue(arrival=5, agents=n, search=0.4, maturing=0.3, release=1)).detected for n in range(6)
        ]
        assert values == sorted(values) and values[-1] > values[0]


class TestFluidApproximation:
    def test_close_to_exact_at_large_arrival_rates(self) -> None:
        """Scaling λ and n together, the fluid value approaches the exact one (within 0.002 at λ = 100)."""
        q = Queue(arrival=100, agents=40, search=0.1, maturing=0.1, release=2)
        assert fluid(q).detected == pytest.approx(solve(q).detected, abs=0.002)

    def test_is_self_consistent(self) -> None:
        """The fluid point satisfies both balance equations."""
        q = Queue(arrival=7, agents=4, search=0.3, maturing=0.2, release=1.5)
        f = fluid(q)
        assert q.arrival == pytest.approx(q.maturing * f.undetected + q.release * f.busy)
        assert q.release * f.busy == pytest.approx(q.search * f.undetected * (q.agents - f.busy))
        assert 0 <= f.busy <= q.agents


class TestEngineAgainstTheChain:
    """The surveillance-capacity mechanics, run on a generated terror-queues family, detect plots as
    often as the exact chain says."""

    @pytest.mark.parametrize(
        "q",
        [
            Queue(arrival=1.0, agents=1, search=0.5, maturing=0.2, release=1.0),
            Queue(arrival=1.0, agents=3, search=0.5, maturing=0.2, release=1.0),
        ],
        ids=["n=1", "n=3"],
    )
    def test_exact_value_inside_the_engines_interval(self, q: Queue) -> None:
        """Over 6 seeded runs of ~80 counted plots, the 95 % interval holds the chain's exact value."""
        layout = family_layout(q, plots=80)
        estimate = detected_share([counted(q, seed, layout) for seed in range(1, 7)])
        exact = solve(q).detected
        assert estimate.low <= exact <= estimate.high, (estimate, exact)
        assert estimate.high - estimate.low < 0.2  # an interval narrow enough to mean something

    def test_a_family_scenario_is_valid_and_drawn_by_its_seed(self) -> None:
        """The same seed gives the same scenario; another seed, other arrivals."""
        q = Queue(arrival=2.0, agents=2, search=0.5, maturing=0.2, release=1.0)
        layout = family_layout(q, plots=20)
        one, again, other = family(q, 1, layout), family(q, 1, layout), family(q, 2, layout)
        assert one == again and one != other
        scenario = Scenario.model_validate_json(json.dumps(one))
        assert len(scenario.plots) == len(scenario.latent) == len(scenario.actors) > 20
        assert all(lat.search_rate == q.search and lat.selector is None for lat in scenario.latent)
