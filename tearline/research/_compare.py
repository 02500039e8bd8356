"""``compare``: seeded runs per policy → disruption rates, warning and load with their intervals,
and each policy's difference from the first."""

from __future__ import annotations

from collections.abc import Sequence

from tearline.model import RunConfig

from ._batch import Job
from ._tables import Row, aggregate, differences

RUNS_MAX = 10_000
"""Most seeded runs per policy ``compare`` accepts: beyond it the rows alone outgrow memory."""


def comparison_jobs(policies: Sequence[RunConfig], seeds: Sequence[int]) -> list[Job]:
    """One job per policy (a configuration each) and seed."""
    return [Job(c.replace(seed=s)) for c in policies for s in seeds]


def analyse_comparison(rows: Sequence[Row]) -> dict[str, list[Row]]:
    """The tables a comparison writes besides its per-run rows."""
    return {"aggregate": aggregate(rows, ("policy",)), "differences": differences(rows, "policy")}
