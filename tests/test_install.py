"""Install anywhere: the wheel carries the scenarios, seeds and example policies, and replays from a
directory outside the checkout give the golden digest.

Marked slow so developers can skip it (``-m "not slow"``); ``make test`` runs it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import tomllib
import zipfile
from pathlib import Path

import pytest

from .conftest import ROOT

VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
GOLDEN: dict[str, str] = json.loads((ROOT / "tests" / "engine" / "golden" / "digests.json").read_text())


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, f"{args}\n{proc.stdout}\n{proc.stderr}"
    return proc


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with Tearline installed from its wheel (dependencies from the registry or pip's cache)."""
    base = tmp_path_factory.mktemp("install")
    wheels = base / "wheels"
    started = time.perf_counter()
    build = _run(
        [sys.executable, "-m", "pip", "wheel", "-v", "--no-deps", "-w", str(wheels), str(ROOT)], cwd=base
    )
    assert "Deprecat" not in build.stdout + build.stderr, "setuptools warns on building the wheel"
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], cwd=base)
    (wheel,) = wheels.glob("tearline-*.whl")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)], cwd=base)
    print(f"built and installed the wheel in {time.perf_counter() - started:.0f} s")
    return venv


class TestWheel:
    def test_wheel_ships_scenarios_seeds_and_example_policies(self, installed: Path) -> None:
        """The wheel holds every bundled scenario, every seeds file and every example policy."""
        (wheel,) = (installed.parent / "wheels").glob("tearline-*.whl")
        names = set(zipfile.ZipFile(wheel).namelist())
        expected = {
            *(
                f"tearline/scenarios/{p.relative_to(ROOT / 'scenarios')}"
                for p in ROOT.glob("scenarios/**/*.yaml")
            ),
            *(f"tearline/seeds/{p.name}" for p in ROOT.glob("seeds/*.yaml")),
            *(f"tearline/policies/examples/{p.name}" for p in ROOT.glob("policies/examples/*.yaml")),
        }
        assert expected <= names, expected - names

    def test_replays_mumbai_outside_the_checkout(self, installed: Path, tmp_path: Path) -> None:
        """From an empty directory, scenarios list finds the bundled scenarios and the replay is golden."""
        elsewhere = tmp_path / "elsewhere"
        elsewhere.mkdir()
        tearline = str(installed / "bin" / "tearline")
        env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV"}}
        listed = _run([tearline, "scenarios", "list"], cwd=elsewhere, env=env)
        for name in ("connect-the-dots", "mumbai-2008", "paris-2015"):
            assert name in listed.stdout
        replay = _run([tearline, "run", "mumbai-2008", "-q"], cwd=elsewhere, env=env)
        assert f"digest {GOLDEN['mumbai-2008/as-happened']}" in replay.stdout
        where = _run(
            [str(installed / "bin" / "python"), "-c", "import tearline; print(tearline.__file__)"],
            cwd=elsewhere,
            env=env,
        )
        assert Path(where.stdout.strip()).is_relative_to(installed), (
            "the checkout was imported, not the install"
        )

    def test_version_and_example_policy_from_the_install(self, installed: Path, tmp_path: Path) -> None:
        """--version names the installed distribution; the packaged example policy lints."""
        tearline = str(installed / "bin" / "tearline")
        assert _run([tearline, "--version"], cwd=tmp_path).stdout.strip() == f"tearline {VERSION}"
        example = _run(
            [str(installed / "bin" / "python"), "-c",
             "from importlib.resources import files; print(files('tearline.policies') / 'examples' / 'caveats-first.yaml')"],
            cwd=tmp_path,
        ).stdout.strip()  # fmt: skip
        _run([tearline, "policies", "lint", example, "--scenario", "connect-the-dots"], cwd=tmp_path)
