"""Sweep designs: the points a design names, and what a point does to the scenario."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario
from tearline.research import AS_WRITTEN, Design, points, sweep_jobs


def design(**fields: object) -> Design:
    base = {"scenario": "connect-the-dots", "policies": ["siloed"], "parameters": []}
    return Design.model_validate_json(json.dumps({**base, **fields}))


WHERE = (Path("design.yaml"), lambda _: None)


class TestPoints:
    def test_grid_is_the_product(self) -> None:
        """A grid names every combination of levels."""
        d = design(parameters=[{"name": "a", "path": "noise_scale", "values": [1, 2, 3]},
                               {"name": "b", "path": "exclude_disputed", "values": [False, True]}])  # fmt: skip
        assert len(points(d)) == 6

    def test_one_at_a_time_varies_one(self) -> None:
        """One-at-a-time names each level of each parameter alone."""
        d = design(design="one-at-a-time", parameters=[{"name": "a", "path": "noise_scale", "values": [1, 2]},
                                                       {"name": "b", "path": "noise_scale", "scale": [3]}])  # fmt: skip
        assert [list(p) for p in points(d)] == [["a"], ["a"], ["b"]]

    @settings(max_examples=30, deadline=None)
    @given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
    def test_latin_hypercube_fills_every_stratum(self, n: int, seed: int) -> None:
        """LHS: each parameter's n samples fall one in each of n equal strata of its range; same seed, same points."""
        d = design(design="lhs", samples=n, sample_seed=seed,
                   parameters=[{"name": "x", "path": "noise_scale", "range": [0, 10]}])  # fmt: skip
        xs = [p["x"][1][1] for p in points(d)]
        assert sorted(min(n - 1, int(x / 10 * n)) for x in xs) == list(range(n))
        assert points(d) == points(d)


class TestApply:
    def test_scale_reads_defaults_and_enters_the_config(self, teaching: Scenario) -> None:
        """Scaling agencies[*].triage_per_day multiplies the defaults where an agency sets none."""
        d = design(parameters=[{"name": "triage", "path": "agencies[*].triage_per_day", "scale": [2]},
                               {"name": "noise", "path": "noise_scale", "values": [3]}])  # fmt: skip
        (job,) = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)
        triage = {a.id: a.triage_per_day for a in job.config.scenario.agencies}
        assert set(triage.values()) == {2 * teaching.defaults.triage_per_day}
        assert job.config.noise_scale == 3
        assert job.labels["p:triage"] == "×2" and job.labels["p:noise"] == "3"

    def test_unvaried_parameters_are_as_written(self, teaching: Scenario) -> None:
        """In one-at-a-time, the other parameters are labelled as written and the scenario keeps them."""
        d = design(design="one-at-a-time", parameters=[{"name": "a", "path": "noise_scale", "values": [2]},
                                                       {"name": "b", "path": "exclude_disputed", "values": [True]}])  # fmt: skip
        first = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)[0]
        assert first.labels["p:b"] == AS_WRITTEN and first.config.exclude_disputed is False
