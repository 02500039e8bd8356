"""Every bundled scenario under the four base policies, seed 1, gives the digest recorded in golden/.

The digests were recorded before the code was re-homed; a refactor that changes any byte of any record
fails here. A deliberate change of behaviour re-records them (and says why in its commit).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tearline import RunConfig, load_scenario, replay

ROOT = Path(__file__).resolve().parents[2]
GOLDEN: dict[str, str] = json.loads((Path(__file__).parent / "golden" / "digests.json").read_text())
SCENARIOS = {
    "connect-the-dots": ROOT / "scenarios" / "examples" / "connect-the-dots.yaml",
    "mumbai-2008": ROOT / "scenarios" / "mumbai-2008.yaml",
    "paris-2015": ROOT / "scenarios" / "paris-2015.yaml",
}


class TestGoldenDigests:
    @pytest.mark.parametrize("case", sorted(GOLDEN))
    async def test_digest_unchanged(self, case: str) -> None:
        """The record of scenario × policy (seed 1) is byte-identical to the recorded one."""
        name, policy = case.split("/")
        result = await replay(RunConfig(scenario=load_scenario(SCENARIOS[name]), policy=policy, seed=1))
        assert result.digest == GOLDEN[case]

    def test_every_bundled_scenario_is_covered(self) -> None:
        """Adding a scenario without recording its digests fails, so nothing escapes the check."""
        bundled = {p.stem for p in (ROOT / "scenarios").rglob("*.yaml")}
        assert bundled == {case.split("/")[0] for case in GOLDEN}
