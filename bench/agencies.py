"""Cost per record event as the number of agencies grows: a generated many-agency workload.

The workload is the Paris scenario with more agencies: each added agency is a copy of one of the
scenario's own (cycling through them in file order, renamed ``<ID>-X2``, ``<ID>-X3``, …), with the
same kind, powers and defaults, and, like its original, its own background noise. The plots and
injects are unchanged, so the added agencies observe nothing of the plots: events grow only as
sharing requires (their noise is shared, and every lead meets the policy once per other agency).

It prints, per agency count, the record's events, the CPU and wall time of one replay (medians),
and the cost per event relative to the smallest count. Linear cost means that ratio stays near 1.

    .venv/bin/python -m bench.agencies [--agencies 16 30 48] [--policy fusion-centre] [--repeat 3]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from tearline import RunConfig, Scenario, load_scenario, replay
from tearline.model._log import configure

ROOT = Path(__file__).resolve().parent.parent
PARIS = ROOT / "scenarios" / "paris-2015.yaml"


def with_agencies(count: int, source: Path = PARIS) -> Scenario:
    """The scenario at ``source`` with agencies copied until ``count`` take part."""
    data: dict[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    originals = [a for a in data["agencies"] if not a.get("counterfactual")]
    active = len(originals)
    if count < active:
        raise SystemExit(f"{source.name} has {active} agencies already; ask for at least that many")
    copies = []
    for i in range(count - active):
        original = originals[i % active]
        twin = copy.deepcopy(original)
        twin["id"] = f"{original['id'][:20]}-X{2 + i // active}"
        twin["name"] = f"{original['name']} (copy {2 + i // active})"
        twin.pop("note", None)
        copies.append(twin)
        noise = data.get("noise", {}).get("per_agency", {})
        if original["id"] in noise:
            noise[twin["id"]] = noise[original["id"]]
    data["agencies"] = [*data["agencies"], *copies]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.name
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return load_scenario(path, seeds_dir=ROOT / "seeds")


async def measure(config: RunConfig, repeat: int) -> tuple[float, float, int]:
    """Median CPU and wall seconds of one replay, and its record's events (all in this event loop)."""
    cpu, wall = [], []
    events = 0
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        result = await replay(config)
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
        events = len(result.events)
        del result
    return statistics.median(cpu), statistics.median(wall), events


async def run(counts: list[int], policy: str, repeat: int) -> None:
    print(f"{'agencies':>8} {'events':>8} {'cpu s':>8} {'wall s':>8} {'µs/event':>9} {'× first':>8}")
    first: float | None = None
    for count in counts:
        scenario = with_agencies(count)
        active = len(scenario.active_agencies())
        cpu, wall, events = await measure(RunConfig(scenario=scenario, policy=policy, seed=1), repeat)
        per_event = cpu / events * 1e6
        first = first or per_event
        print(f"{active:>8} {events:>8} {cpu:>8.3f} {wall:>8.3f} {per_event:>9.1f} {per_event / first:>8.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--agencies", type=int, nargs="+", default=[16, 30, 48])
    parser.add_argument("--policy", default="fusion-centre")
    parser.add_argument("--repeat", type=int, default=3, help="replays per count; medians are reported")
    args = parser.parse_args()
    configure(level="error")
    asyncio.run(run(sorted(args.agencies), args.policy, args.repeat))


if __name__ == "__main__":
    main()
