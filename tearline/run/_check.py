"""``tearline check``: replay each scenario's ``expect:`` cases and compare, for CI (with JUnit XML)."""

from __future__ import annotations

import asyncio
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from tearline.model import Expectation, RunConfig, human_duration, load_scenario

from ._driver import replay


@dataclass(frozen=True)
class CaseResult:
    scenario: str
    expectation: Expectation
    failures: tuple[str, ...]
    seconds: float
    digest: str

    @property
    def name(self) -> str:
        e = self.expectation
        extra = " exclude-disputed" if e.exclude_disputed else ""
        return f"{self.scenario} · {e.policy} · seed {e.seed}{extra}"

    @property
    def passed(self) -> bool:
        return not self.failures

    def line(self) -> str:
        mark = "[green]PASS[/]" if self.passed else "[red]FAIL[/]"
        return f"{mark} {self.name}" + "".join(f"\n     {f}" for f in self.failures)


def check_scenarios(
    paths: Sequence[Path], on_case: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    results = []
    for path in paths:
        scenario = load_scenario(path)
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


def write_junit(results: Sequence[CaseResult], path: Path) -> None:
    suite = ET.Element(
        "testsuite",
        name="tearline check",
        tests=str(len(results)),
        failures=str(sum(1 for r in results if not r.passed)),
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite, "testcase", classname=f"tearline.{r.scenario}", name=r.name, time=f"{r.seconds:.3f}"
        )
        ET.SubElement(case, "system-out").text = f"digest {r.digest}"
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=r.failures[0])
            failure.text = "\n".join(r.failures)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)
