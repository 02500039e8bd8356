"""Outcomes emerge from the mechanics: the teaching scenario under different sharing rules."""

from __future__ import annotations

import pytest

from tearline import RunConfig, Scenario, replay


async def run(scenario: Scenario, policy: str, seed: int = 1, **options: object) -> dict[str, object]:
    result = await replay(RunConfig(scenario=scenario, policy=policy, seed=seed, **options))  # type: ignore[arg-type]
    (outcome,) = result.summary.outcomes
    return outcome.model_dump()


class TestTeachingScenario:
    async def test_siloed_lets_the_attack_happen(self, teaching: Scenario) -> None:
        """No agency holds more than one fragment, so nobody can act."""
        outcome = await run(teaching, "siloed")
        assert outcome["result"] == "attack"
        assert outcome["detected_by"] is None

    async def test_fusion_centre_disrupts_with_warning(self, teaching: Scenario) -> None:
        """Pooled fragments link into one case; the agency with jurisdiction interdicts in time."""
        outcome = await run(teaching, "fusion-centre")
        assert outcome["result"] == "disrupted"
        assert outcome["disrupted_by"] == "NSS"
        assert outcome["warning_hours"] is not None and outcome["warning_hours"] > 24

    async def test_bilateral_ceiling_withholds_the_identity(self, teaching: Scenario) -> None:
        """The foreign service's SECRET report exceeds the treaty ceiling: the identity never crosses."""
        result = await replay(RunConfig(scenario=teaching, policy="bilateral", seed=1))
        assert result.summary.outcomes[0].result == "attack"
        withheld = [
            e for e in result.events
            if e.kind == "decision" and e.lead == "who" and e.action == "withhold"  # type: ignore[union-attr]
        ]  # fmt: skip
        assert {e.recipient for e in withheld} == {"NSS", "NSIG"}  # type: ignore[union-attr]
        assert all("ceiling" in e.rule for e in withheld)  # type: ignore[union-attr]

    async def test_noise_above_triage_capacity_makes_fusion_miss(self, teaching: Scenario) -> None:
        """Sharing has a cost: when partners' noise exceeds the recipients' triage capacity, the real
        leads wait in the queue past the attack."""
        calm = await run(teaching, "fusion-centre", noise_scale=1.0)
        flooded = await run(teaching, "fusion-centre", noise_scale=8.0)
        assert calm["result"] == "disrupted"
        assert flooded["result"] == "attack"

    @pytest.mark.parametrize("seed", range(1, 11))
    async def test_outcome_class_is_stable_over_seeds(self, teaching: Scenario, seed: int) -> None:
        """Noise varies with the seed; at the written noise level the outcomes do not."""
        assert (await run(teaching, "siloed", seed))["result"] == "attack"
        assert (await run(teaching, "fusion-centre", seed))["result"] == "disrupted"
