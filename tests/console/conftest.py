"""The console under a real headless Chromium (Debian's, installed by scripts/chromium), driven by Playwright."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tearline.console import Background, Session
from tearline.model import RunConfig, load_scenario, resolve_scenario

from .browser import CHROMIUM_ARGS, chromium_path


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    path = chromium_path()
    if path is None:
        pytest.fail("no Chromium: run scripts/chromium (make test does) to install Debian's chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, timeout=60_000)
        yield b
        b.close()


Console = Callable[..., Background]


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    """Start a console for a scenario and policy on a free port; stopped after the test."""
    started: list[Background] = []

    def start(scenario: str = "connect-the-dots", policy: str = "siloed", seed: int = 1) -> Background:
        config = RunConfig(scenario=load_scenario(resolve_scenario(scenario)), policy=policy, seed=seed)
        server = Background(Session(config, tmp_path / f"run-{len(started)}"))
        started.append(server.__enter__())
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)
