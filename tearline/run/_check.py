"""``tearline check``: replay each scenario's ``expect:`` cases and compare, for CI (with JUnit XML)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from tearline.model import RunConfig, human_duration, load_scenario
from tearline.report import CaseResult

from ._driver import replay


def check_scenarios(
    paths: Sequence[Path], on_case: Callable[[CaseResult], None] | None = None, seeds: Path | None = None
) -> list[CaseResult]:
    """Replay every ``expect:`` case of each scenario; citations resolve against ``seeds`` if given."""
    results = []
    for path in paths:
        scenario = load_scenario(path, seeds)
        for e in scenario.expect:
            config = RunConfig(
                scenario=scenario,
                policy=e.policy,
                seed=e.seed,
                exclude_disputed=e.exclude_disputed,
                enable=e.enable,
            )
            started = time.perf_counter()
            result = asyncio.run(replay(config))
            got = {o.plot: o for o in result.summary.outcomes}
            failures = []
            for plot, want in e.outcomes.items():
                o = got[plot]
                if o.result != want:
                    failures.append(f"{plot}: expected {want}, got {o.result}")
                elif (
                    want == "disrupted"
                    and e.min_warning is not None
                    and o.warning_hours is not None
                    and o.warning_hours * 3600 < e.min_warning
                ):
                    failures.append(
                        f"{plot}: disrupted with {o.warning_hours:g} h warning, expected at least "
                        f"{human_duration(e.min_warning)}"
                    )
            case = CaseResult(scenario.id, e, tuple(failures), time.perf_counter() - started, result.digest)
            if on_case is not None:
                on_case(case)
            results.append(case)
    return results
