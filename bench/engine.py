"""Replays per second on the in-process transport, per scenario and policy.

A benchmark, not a test: it prints figures, and ratios against a baseline measured in the same
run (the ``siloed`` policy on the same scenario: the same world, noise and agencies, with no
sharing), so the numbers compare across machines.

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

BASELINE = "siloed"


def measure(config: RunConfig, repeat: int) -> tuple[float, int]:
    """Median wall seconds per replay, and events per replay."""
    times = []
    events = 0
    for i in range(repeat):
        cfg = config.model_copy(update={"seed": config.seed + i})
        started = time.perf_counter()
        result = asyncio.run(replay(cfg))
        times.append(time.perf_counter() - started)
        events = len(result.events)
    return statistics.median(times), events


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repeat", type=int, default=5, help="replays per (scenario, policy); the median is reported"
    )
    parser.add_argument("--scenario", action="append", help="scenario names (default: all)")
    parser.add_argument("--policy", action="append", help="policies (default: the four engine policies)")
    args = parser.parse_args()
    configure(level="error")
    policies = args.policy or ["siloed", "as-happened", "bilateral", "fusion-centre"]
    paths = [p for p in scenario_files() if not args.scenario or p.stem in args.scenario]
    print(
        f"{'scenario':<18} {'policy':<16} {'replays/s':>10} {'events/s':>10} {'events':>8} {'× siloed time':>14}"
    )
    for path in paths:
        scenario = load_scenario(Path(path))
        base, _ = measure(RunConfig(scenario=scenario, policy=BASELINE, seed=1), args.repeat)
        for policy in policies:
            seconds, events = measure(RunConfig(scenario=scenario, policy=policy, seed=1), args.repeat)
            print(
                f"{scenario.id:<18} {policy:<16} {1 / seconds:>10.2f} {events / seconds:>10.0f} {events:>8}"
                f" {seconds / base:>14.2f}"
            )


if __name__ == "__main__":
    main()
