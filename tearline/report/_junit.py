"""The outcome of ``tearline check`` cases, and their JUnit XML report for CI."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tearline.model import Expectation


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
