"""Whole runs: every built-in on every scenario, the example files, the consent loop, the CLI."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tearline import RunConfig, RunResult, Scenario, load_scenario, replay
from tearline.cli import app
from tearline.model._paths import scenario_files
from tearline.model._record import ConsentEvent, DecisionEvent
from tearline.model._scenario import ConsentTerms
from tearline.policies import BUILTIN

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted(
    (p for p in (ROOT / "scenarios").rglob("*.yaml")), key=lambda p: (p.parent.name != "examples", p.name)
)
"""The teaching scenario first (quick); the historical ones after it are marked slow (seconds each)."""
EXAMPLES = sorted((ROOT / "policies" / "examples").glob("*.yaml"))
_LOADED: dict[Path, Scenario] = {}


def scenario(path: Path) -> Scenario:
    if path not in _LOADED:
        _LOADED[path] = load_scenario(path)
    return _LOADED[path]


def decisions(result: RunResult) -> list[DecisionEvent]:
    return [e for e in result.events if isinstance(e, DecisionEvent)]


def test_every_scenario_file_is_covered() -> None:
    assert {p.stem for p in SCENARIOS} >= {"connect-the-dots"}
    assert {p.stem for p in scenario_files()} <= {p.stem for p in SCENARIOS}


@pytest.mark.parametrize(
    "path",
    [pytest.param(p, marks=[pytest.mark.slow] if i else [], id=p.stem) for i, p in enumerate(SCENARIOS)],
)
@pytest.mark.parametrize("name", sorted(BUILTIN))
async def test_every_builtin_runs_on_every_scenario(name: str, path: Path) -> None:
    """Each built-in completes on each scenario under scenarios/ (noise thinned to keep this quick),
    and every decision it records names its rule and a reason."""
    result = await replay(RunConfig(scenario=scenario(path), policy=name, noise_scale=0.2))
    made = decisions(result)
    assert made, "the gateway decided nothing"
    assert all(d.rule.strip() and d.reason.strip() for d in made)
    if name == "siloed":
        assert not [d for d in made if d.action == "release"]
    assert result.summary.outcomes


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
async def test_every_example_file_runs(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    config = RunConfig(scenario=scenario(SCENARIOS[0]), policy=str(path), policy_data=data, noise_scale=0.5)
    made = decisions(await replay(config))
    assert made and all(d.rule for d in made)
    assert any(d.trail for d in made) or data.get("rules")


class TestConsentLoop:
    """Onward release under the third-party rule, end to end through the gateway and the originators."""

    SPEC = "deny-overrides:of=fusion-centre+third-party-rule"

    async def test_consent_requested_answered_and_obeyed(self, teaching: Scenario) -> None:
        result = await replay(RunConfig(scenario=teaching, policy=self.SPEC, noise_scale=0))
        steps = Counter(e.step for e in result.events if isinstance(e, ConsentEvent))
        assert steps["request"] >= 2 and steps["request"] == steps["grant"] + steps["refuse"]
        for e in result.events:
            if isinstance(e, ConsentEvent) and e.step != "request":
                d = next(d for d in decisions(result) if d.lead == e.lead and d.recipient == e.recipient)
                assert d.action == ("release" if e.step == "grant" else "withhold"), d
                assert d.at >= e.at

    async def test_refusal_and_delay_come_from_the_scenario(self, teaching: Scenario) -> None:
        strict = teaching.model_copy(update={"consent": ConsentTerms(delay=3600, refusal=1.0)})
        result = await replay(RunConfig(scenario=strict, policy=self.SPEC, noise_scale=0))
        answers = [e for e in result.events if isinstance(e, ConsentEvent) and e.step != "request"]
        assert answers and all(e.step == "refuse" for e in answers)
        onward = [d for d in decisions(result) if "-a" in d.lead]
        assert onward and all(d.action == "withhold" for d in onward if d.rule.startswith("third-party"))
        requests = {
            (e.lead, e.recipient): e.at
            for e in result.events
            if isinstance(e, ConsentEvent) and e.step == "request"
        }
        assert all(e.at - requests[(e.lead, e.recipient)] >= 3600 for e in answers)


class TestCli:
    def test_policies_list_shows_at_least_fourteen_with_descriptions(self) -> None:
        result = CliRunner().invoke(app, ["policies", "list"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        rows = [line for line in result.output.splitlines() if "built-in" in line]
        assert len(rows) >= 14
        for name in BUILTIN:
            assert any(f" {name} " in row for row in rows), name

    def test_lint_ok_and_bad(self, tmp_path: Path) -> None:
        ok = CliRunner().invoke(app, ["policies", "lint", str(EXAMPLES[0]), "--scenario", str(SCENARIOS[0])])
        assert ok.exit_code == 0 and "✓" in ok.output
        bad = tmp_path / "bad.yaml"
        bad.write_text("policy: bad\nrules: [{name: a, action: relase}]\n")
        result = CliRunner().invoke(app, ["policies", "lint", str(bad)])
        assert result.exit_code == 2
        assert "bad.yaml:2: rules[0].action" in result.output

    def test_run_with_a_policy_file_then_explain(self, tmp_path: Path) -> None:
        out = tmp_path / "run"
        spec = "deny-overrides:of=fusion-centre+third-party-rule+approval-delay"
        run = CliRunner().invoke(app, ["run", str(SCENARIOS[0]), "-p", spec, "-q", "--out", str(out)])
        assert run.exit_code == 0, run.output
        result = CliRunner().invoke(app, ["explain", str(out), "SFS-a1"], env={"COLUMNS": "250"})
        assert result.exit_code == 0, result.output
        text = result.output
        assert "assessment published by SFS" in text and "built from: what, when, who" in text
        assert "consent requested from" in text and "chain:" in text
        assert (
            "1. fusion-centre: release" in text and "third-party-rule:" in text and "approval-delay:" in text
        )

    def test_explain_json_and_errors(self, tmp_path: Path) -> None:
        out = tmp_path / "run"
        assert (
            CliRunner()
            .invoke(app, ["run", str(SCENARIOS[0]), "-p", "bilateral", "-q", "--out", str(out)])
            .exit_code
            == 0
        )
        data = json.loads(CliRunner().invoke(app, ["explain", str(out), "what", "--json"]).output)
        assert data["lead"] == "what" and {r["agency"] for r in data["recipients"]} == {"NSS", "SFS"}
        assert all(r["decision"]["rule"] for r in data["recipients"])
        missing = CliRunner().invoke(app, ["explain", str(out), "wht"])
        assert missing.exit_code == 2 and "Did you mean: what" in missing.output
        nowhere = CliRunner().invoke(app, ["explain", str(tmp_path / "nope"), "what"])
        assert nowhere.exit_code == 2 and "no such run directory" in nowhere.output
