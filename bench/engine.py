"""Replays on the in-process transport, per scenario and policy, against bare discrete-event cores.

A benchmark, not a test. Every replay runs in one event loop (no loop is made or torn down per
replay, so its set-up and teardown never count), timed as CPU time of this process and as wall
time. Each (scenario, policy) is compared with the same workload — the same messages and record
events, taken from one of its replays — run on SimPy and on a bare ``heapq`` loop
(:mod:`bench.baseline`), measured in the same run, so the ratios compare across machines.

    .venv/bin/python -m bench.engine [--repeat 5] [--scenario NAME ...] [--policy NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from tearline import RunConfig, load_scenario, replay
from tearline.model._log import configure
from tearline.model._paths import scenario_files

from .baseline import Timing, on_heapq, on_simpy, timed, trace


async def measure(config: RunConfig, repeat: int) -> tuple[Timing, int]:
    """Median CPU and wall seconds per replay, and the record's events."""
    cpu, wall = [], []
    events = 0
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = await replay(config)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        events = len(result.events)
        del result  # nothing of one replay outlives its timing
    return Timing(statistics.median(cpu), statistics.median(wall)), events


async def run(paths: list[Path], policies: list[str], repeat: int) -> None:
    print(
        f"{'scenario':<18} {'policy':<14} {'events':>7} {'msgs':>6} {'cpu ms':>8} {'wall ms':>8}"
        f" {'events/s':>9} {'simpy ms':>9} {'heapq ms':>9} {'×simpy cpu':>10} {'×simpy wall':>11}"
        f" {'×heapq cpu':>10}"
    )
    for path in paths:
        scenario = load_scenario(path)
        for policy in policies:
            config = RunConfig(scenario=scenario, policy=policy, seed=1)
            workload, first = await trace(config)
            del first
            engine, events = await measure(config, repeat)
            sim = timed(lambda w=workload: on_simpy(w), repeat)  # type: ignore[misc]
            bare = timed(lambda w=workload: on_heapq(w), repeat)  # type: ignore[misc]
            print(
                f"{scenario.id:<18} {policy:<14} {events:>7} {len(workload.messages):>6}"
                f" {engine.cpu * 1000:>8.1f} {engine.wall * 1000:>8.1f} {events / engine.cpu:>9.0f}"
                f" {sim.cpu * 1000:>9.1f} {bare.cpu * 1000:>9.1f} {engine.cpu / sim.cpu:>10.2f}"
                f" {engine.wall / sim.wall:>11.2f} {engine.cpu / bare.cpu:>10.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="replays per (scenario, policy); medians are reported"
    )
    parser.add_argument("--scenario", action="append", help="scenario names (default: all)")
    parser.add_argument("--policy", action="append", help="policies (default: the four engine policies)")
    args = parser.parse_args()
    configure(level="error")
    policies = args.policy or ["siloed", "as-happened", "bilateral", "fusion-centre"]
    paths = [Path(p) for p in scenario_files() if not args.scenario or Path(p).stem in args.scenario]
    asyncio.run(run(paths, policies, args.repeat))


if __name__ == "__main__":
    main()
