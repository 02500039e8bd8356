"""Fixtures for the exchange tests: the historical scenarios and one recorded run of the teaching one."""

from __future__ import annotations

import asyncio

import pytest

from tearline import RunConfig, RunResult, Scenario, load_scenario, replay

from ..conftest import ROOT

HISTORICAL = {
    "mumbai-2008": ROOT / "scenarios" / "mumbai-2008.yaml",
    "paris-2015": ROOT / "scenarios" / "paris-2015.yaml",
}


@pytest.fixture(scope="session")
def historical() -> dict[str, Scenario]:
    return {name: load_scenario(path) for name, path in HISTORICAL.items()}


@pytest.fixture(scope="session")
def teaching_run(teaching: Scenario) -> RunResult:
    return asyncio.run(replay(RunConfig(scenario=teaching, policy="fusion-centre", seed=1)))
