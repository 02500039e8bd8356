"""Research answers with their uncertainty: batches of replays (a local pool or a Dask cluster,
cached and shardable), comparisons with intervals, critical links, and sensitivity sweeps."""

from ._batch import Cache, Done, Executor, Job, RunData, Shard, execute
from ._compare import RUNS_MAX, analyse_comparison, comparison_jobs
from ._links import (
    BASE,
    Candidate,
    analyse_links,
    base_jobs,
    candidate_jobs,
    candidates,
    fact_sources,
    pair_jobs,
)
from ._output import analyse, merge, read_batch, write_batch
from ._queues import Queue, Solution, fluid, solve
from ._stats import Interval, bootstrap_difference, bootstrap_mean, rate_difference, wilson
from ._sweep import AS_WRITTEN, Design, analyse_sweep, load_design, points, sweep_jobs
from ._tables import aggregate, differences, run_rows

__all__ = [
    "AS_WRITTEN",
    "BASE",
    "RUNS_MAX",
    "Cache",
    "Candidate",
    "Design",
    "Done",
    "Executor",
    "Interval",
    "Job",
    "Queue",
    "RunData",
    "Shard",
    "Solution",
    "aggregate",
    "analyse",
    "analyse_comparison",
    "analyse_links",
    "analyse_sweep",
    "base_jobs",
    "bootstrap_difference",
    "bootstrap_mean",
    "candidate_jobs",
    "candidates",
    "comparison_jobs",
    "differences",
    "execute",
    "fact_sources",
    "fluid",
    "load_design",
    "merge",
    "pair_jobs",
    "points",
    "rate_difference",
    "read_batch",
    "run_rows",
    "solve",
    "sweep_jobs",
    "wilson",
    "write_batch",
]
