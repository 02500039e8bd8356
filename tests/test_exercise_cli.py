"""``tearline exercise`` never dies on a typo; ``tearline serve`` refuses what it cannot do."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline import RunConfig, Scenario
from tearline.cli import app
from tearline.cli.exercise import _live
from tearline.run import Exercise

runner = CliRunner(env={"COLUMNS": "240"})


def kinds(out: Path) -> list[str]:
    return [json.loads(line)["kind"] for line in (out / "record.jsonl").read_text().splitlines()]


class TestNeverDiesOnATypo:
    def test_missing_inject_file_keeps_the_session(self, tmp_path: Path) -> None:
        """A mistyped inject path is one error line; the exercise and its state go on to the debrief."""
        out = tmp_path / "out"
        script = f"advance 2d\ninject /nonexistent.yaml\nnote after the typo\nadvance 1d\ndebrief {out}\n"
        result = runner.invoke(app, ["exercise", "connect-the-dots", "--policy", "siloed"], input=script)
        assert result.exit_code == 0, result.output
        assert "/nonexistent.yaml" in result.output and "No such file or directory" in result.output
        assert "Traceback" not in result.output
        assert "ATTACK" in result.output
        assert "note" in kinds(out)

    def test_malformed_inject_names_file_line_and_field(self, tmp_path: Path) -> None:
        """A bad inject file is reported with its file, line and field, and the session continues."""
        bad = tmp_path / "bad.yaml"
        bad.write_text("id: tip\nat: 2030-03-05T00:00+00:00\nobserver: NSS\nwhat: x\nlead:\n  grading: Z9\n")
        script = f"inject {bad}\nstep\nquit\n"
        result = runner.invoke(app, ["exercise", "connect-the-dots"], input=script)
        assert result.exit_code == 0, result.output
        assert f"{bad}:6: lead.grading" in result.output

    def test_every_bad_command_is_one_line(self) -> None:
        """Wrong arguments, unknown agencies and policies, bad times: each an error, none fatal."""
        script = "step x\nview MI6\npolicy nope\nuntil yesterday\nadvance\nrewind 2031-01-01T00:00+00:00\nlive 0\nstep\nquit\n"
        result = runner.invoke(app, ["exercise", "connect-the-dots"], input=script)
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        for said in (
            "step:",
            "no agency 'MI6'",
            "unknown policy 'nope'",
            "until:",
            "advance:",
            "after the exercise clock",
            "live:",
        ):
            assert said in result.output, said

    def test_quiet_periods_are_said_in_the_scenario_time_zone(self) -> None:
        """Mumbai: `advance 2d` stays two days on (not at the next inject); each move names what it skips, in IST."""
        result = runner.invoke(app, ["exercise", "mumbai-2008"], input="advance 2d\nstep\nquit\n")
        assert result.exit_code == 0, result.output
        assert "[2005-08-03 00:00 +05:30] >" in result.output
        assert (
            "nothing happens from 2005-08-03 00:00 +05:30 to 2005-08-15 21:30 +05:30 (12d 21h skipped)"
            in result.output
        )


class TestLivePacing:
    async def test_live_does_not_block_the_event_loop(self, teaching: Scenario) -> None:
        """While `live` paces the clock, other tasks on the loop keep running."""
        ex = Exercise(RunConfig(scenario=teaching, policy="siloed", seed=1))
        await ex.start()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        async def show() -> None:
            return None

        task = asyncio.create_task(ticker())
        await _live(ex, 2 * 86400, ex.clock + 86400, show, lambda skip: None)  # 1 day at 2 days a second
        task.cancel()
        assert ex.clock >= teaching.start + 86400
        assert ticks >= 10  # about half a second of pacing, shared with the ticker


class TestServe:
    def test_an_unknown_transport_or_kafka_without_a_broker_is_exit_2(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--transport takes memory or kafka; kafka without a bootstrap says how to get a broker."""
        result = runner.invoke(app, ["serve", "connect-the-dots", "--transport", "carrier-pigeon"])
        assert result.exit_code == 2
        assert "use memory or kafka" in result.output
        monkeypatch.delenv("TEARLINE_KAFKA_BOOTSTRAP", raising=False)
        result = runner.invoke(app, ["serve", "connect-the-dots", "--transport", "kafka"])
        assert result.exit_code == 2
        assert "scripts/kafka start" in result.output

    def test_unknown_scenario_is_exit_2(self) -> None:
        result = runner.invoke(app, ["serve", "no-such-scenario"])
        assert result.exit_code == 2
