"""Runs per second for the research batches (``links`` and ``sweep``): the local process pool
against a Dask LocalCluster on the same machine, as ratios measured in one run.

A benchmark, not a test. No result cache: every run is executed (a cached result is never counted).
Each batch is the real thing on a small scale: the critical-link candidates of the teaching
scenario under ``siloed`` (2 seeds), and a 2×2 grid sweep over triage capacity and noise.

    .venv/bin/python -m bench.research [--workers 2] [--scenario connect-the-dots]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path

from tearline import RunConfig, load_scenario
from tearline.model import resolve_scenario
from tearline.model._log import configure
from tearline.research import Design, Executor, Job, base_jobs, candidate_jobs, candidates, points, sweep_jobs

SWEEP = {
    "policies": ["siloed", "fusion-centre"],
    "seeds": 2,
    "design": "grid",
    "parameters": [
        {"name": "triage capacity", "path": "agencies[*].triage_per_day", "scale": [0.5, 2]},
        {"name": "noise", "path": "noise_scale", "values": [1, 2]},
    ],
}


def links_jobs(config: RunConfig) -> list[Job]:
    seeds = [1, 2]
    base = Executor(jobs=1).run(base_jobs(config, seeds))
    return candidate_jobs(config, candidates(config, base), seeds)


def timed(executor: Executor, jobs: Sequence[Job]) -> tuple[float, list[str]]:
    started = time.perf_counter()
    done = executor.run(jobs)
    seconds = time.perf_counter() - started
    assert not any(d.cached for d in done)
    return len(jobs) / seconds, [d.data["digest"] for d in done]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workers", type=int, default=2, help="local processes, and Dask worker processes")
    parser.add_argument("--scenario", default="connect-the-dots")
    args = parser.parse_args()
    configure(level="error")
    from distributed import LocalCluster

    scenario = load_scenario(resolve_scenario(args.scenario))
    config = RunConfig(scenario=scenario, policy="siloed")
    design = Design.model_validate_json(json.dumps({"scenario": args.scenario, **SWEEP}))
    batches = {
        "links": links_jobs(config),
        "sweep": sweep_jobs(
            design, [config.replace(policy=p) for p in design.policies], (Path("bench"), lambda _: None)
        ),
    }
    print(f"{scenario.id}: {len(batches['links'])} link runs, {len(batches['sweep'])} sweep runs "
          f"({len(points(design))} points), {args.workers} workers")  # fmt: skip
    print(
        f"{'batch':<7} {'inline runs/s':>14} {'pool runs/s':>12} {'dask runs/s':>12} {'pool ×':>8} {'dask ×':>8} same"
    )
    with LocalCluster(
        n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        for name, jobs in batches.items():
            inline, d0 = timed(Executor(jobs=1), jobs)
            pool, d1 = timed(Executor(jobs=args.workers), jobs)
            dask, d2 = timed(Executor(scheduler=cluster.scheduler_address), jobs)
            same = "yes" if d0 == d1 == d2 else "NO"
            print(
                f"{name:<7} {inline:>14.2f} {pool:>12.2f} {dask:>12.2f} {pool / inline:>8.2f} {dask / inline:>8.2f} {same}"
            )


if __name__ == "__main__":
    main()
