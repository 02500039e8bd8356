"""Shared fixtures: quiet logging, the teaching scenario, and the real Kafka broker for ``kafka`` tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tearline import Scenario, load_scenario
from tearline.model._log import configure
from tests.kafka_broker import kafka_bootstrap, secure_kafka  # noqa: F401 - the session fixtures

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "examples" / "connect-the-dots.yaml"


def pytest_configure(config: pytest.Config) -> None:
    configure(level="error")


@pytest.fixture(scope="session")
def teaching() -> Scenario:
    return load_scenario(TEACHING)
