"""Which single channel, added to what happened, changes an outcome? A search, not a choice.

For every ordered pair of the scenario's historical agencies (sender → recipient), the replay runs
under ``as-happened`` plus one channel: everything the sender publishes is released to that
recipient at once (``permit-overrides`` of ``as-happened`` and a one-rule policy). It prints each
channel that changes a plot's outcome, or moves its warning (or the time its dots were first
joined) by at least ``--threshold`` hours, against ``as-happened`` alone with the same seed.

    .venv/bin/python -m bench.single_channels mumbai-2008 [--seed 1] [--threshold 24]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import time
from typing import Any

from tearline import RunConfig, load_scenario, replay
from tearline.model import Scenario
from tearline.model._log import configure
from tearline.model._paths import resolve_scenario


def channel_policy(sender: str, recipient: str) -> tuple[str, dict[str, Any]]:
    name = f"as-happened-plus-{sender}-{recipient}".lower()
    doc = {
        "policy": name,
        "summary": f"as-happened, plus everything {sender} publishes released to {recipient} at once",
        "combine": "permit-overrides",
        "members": [
            "as-happened",
            {
                "rules": [
                    {
                        "name": f"added channel {sender}→{recipient}",
                        "match": {"sender": sender, "recipient": recipient},
                        "action": "release",
                    }
                ],
                "default": "withhold",
            },
        ],
    }
    return name, doc


def outcomes(scenario: Scenario, policy: str, data: dict[str, Any] | None, seed: int) -> dict[str, Any]:
    result = asyncio.run(replay(RunConfig(scenario=scenario, policy=policy, policy_data=data, seed=seed)))
    return {
        o.plot: (o.result, o.warning_hours, o.detection_hours_before, o.disrupted_by)
        for o in result.summary.outcomes
    }


def differs(base: tuple[Any, ...], got: tuple[Any, ...], threshold: float) -> str | None:
    if base[0] != got[0]:
        return f"{base[0]} → {got[0]}" + (f" by {got[3]}, {got[1]:g} h ahead" if got[1] is not None else "")
    for i, what in ((1, "warning"), (2, "dots joined")):
        a, b = base[i], got[i]
        if (a is None) != (b is None) or (a is not None and b is not None and abs(a - b) >= threshold):
            return f"{what} {a if a is not None else '—'} h → {b if b is not None else '—'} h"
    return None


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("scenario")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threshold", type=float, default=24.0, help="hours (default 24)")
    args = parser.parse_args()
    configure(level="warning")
    scenario = load_scenario(resolve_scenario(args.scenario))
    agencies = sorted(a.id for a in scenario.agencies if not a.counterfactual)
    started = time.perf_counter()
    base = outcomes(scenario, "as-happened", None, args.seed)
    found = 0
    pairs = list(itertools.permutations(agencies, 2))
    for sender, recipient in pairs:
        name, doc = channel_policy(sender, recipient)
        got = outcomes(scenario, name, doc, args.seed)
        changes = [
            f"{plot}: {change}"
            for plot in base
            if (change := differs(base[plot], got[plot], args.threshold)) is not None
        ]
        if changes:
            found += 1
            print(f"{sender} → {recipient}: " + "; ".join(changes), flush=True)
    print(
        f"{found} of {len(pairs)} single channels change an outcome or move a warning by ≥ "
        f"{args.threshold:g} h ({args.scenario}, seed {args.seed}, {time.perf_counter() - started:.0f} s)"
    )


if __name__ == "__main__":
    main()
