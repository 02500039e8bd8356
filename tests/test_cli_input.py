"""The command line for CI logs and newcomers: bounded, checked input with one clear error and exit 2;
output that is never wrapped or cut off a terminal; help without type placeholders."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tearline.cli import app
from tearline.model import configure

from .conftest import ROOT, TEACHING

GOLDEN: dict[str, str] = json.loads((ROOT / "tests" / "engine" / "golden" / "digests.json").read_text())
narrow = CliRunner(env={"COLUMNS": "60"})


def own_scenario(folder: Path, edit: object = None, name: str = "mine.yaml") -> Path:
    """A copy of the teaching scenario outside the repository (optionally edited)."""
    data = yaml.safe_load(TEACHING.read_text())
    if edit is not None:
        edit(data)  # type: ignore[operator]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def huge_noise(data: dict) -> None:  # type: ignore[type-arg]
    data["noise"]["per_day"] = 100_000


# Each bad input of the CLI issue: arguments (a scenario file is written under tmp_path when the
# arguments hold "{huge-noise}"), the exit code, and words the message must hold.
BAD_INPUT: dict[str, tuple[list[str], int, list[str]]] = {
    "log level not a choice": (
        ["--log-level", "loud", "scenarios", "list"],
        2,
        ["Invalid value for '--log-level'", "'loud' is not one of"],
    ),
    "run --enable unknown agency": (
        ["run", "connect-the-dots", "--enable", "NIA", "-q"],
        2,
        ["--enable: 'NIA' is not an agency of connect-the-dots", "NSS, NSIG, SFS"],
    ),
    "compare --enable unknown agency": (
        ["compare", "mumbai-2008", "-p", "siloed", "--enable", "IN-NIA", "--runs", "1"],
        2,
        ["--enable: 'IN-NIA' is not an agency of mumbai-2008", "Counterfactual agencies to enable: NIA"],
    ),
    "run --noise-scale above bound": (
        ["run", "connect-the-dots", "--noise-scale", "1000"],
        2,
        ["Invalid value for '--noise-scale'", "less than or equal to 100"],
    ),
    "compare --noise-scale above bound": (
        ["compare", "connect-the-dots", "-p", "siloed", "--noise-scale", "1e9"],
        2,
        ["Invalid value for '--noise-scale'", "less than or equal to 100"],
    ),
    "compare --runs above bound": (
        ["compare", "connect-the-dots", "-p", "siloed", "--runs", "1000000000"],
        2,
        ["Invalid value for '--runs'", "less than or equal to 10000"],
    ),
    "noise.per_day above bound": (
        ["run", "{huge-noise}", "-q"],
        2,
        ["noise.per_day", "less than or equal to 1000"],
    ),
    "--seeds folder missing": (
        ["scenarios", "show", "connect-the-dots", "--seeds", "/no/such/seeds"],
        2,
        ["/no/such/seeds", "no such seeds folder"],
    ),
}


class TestBadInput:
    @pytest.mark.parametrize("case", sorted(BAD_INPUT))
    def test_exit_code_and_message_without_traceback(self, tmp_path: Path, case: str) -> None:
        """Each bad input exits with its code and a message naming the problem; no traceback."""
        args, code, words = BAD_INPUT[case]
        if "{huge-noise}" in args:
            path = own_scenario(tmp_path, huge_noise)
            args = [str(path) if a == "{huge-noise}" else a for a in args]
        result = narrow.invoke(app, args)
        assert result.exit_code == code, result.output
        assert result.exception is None or isinstance(result.exception, SystemExit)
        message = " ".join(result.output.replace("│", " ").split())  # usage errors come in a box
        for word in words:
            assert " ".join(word.split()) in message, result.output
        assert "Traceback" not in result.output

    def test_console_script_log_level_exits_2(self) -> None:
        """The installed entry point answers a bad --log-level with exit 2 and a message, not a KeyError."""
        proc = subprocess.run(
            [sys.executable, "-m", "tearline", "--log-level", "LOUD", "scenarios", "list"],
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 2
        assert "--log-level" in proc.stderr
        assert "Traceback" not in proc.stderr and "KeyError" not in proc.stderr

    def test_log_level_is_case_insensitive(self) -> None:
        """--log-level INFO is the same choice as info."""
        result = narrow.invoke(app, ["--log-level", "INFO", "scenarios", "list"])
        configure(level="error")
        assert result.exit_code == 0, result.output


class TestOutputOffATerminal:
    def test_compare_table_and_summary_lines_are_never_cut(self) -> None:
        """With 60 columns announced but no terminal, headers and summary lines stay whole."""
        result = narrow.invoke(app, ["compare", "connect-the-dots", "-p", "fusion-centre", "--runs", "1"])
        assert result.exit_code == 0, result.output
        assert "…" not in result.output
        header = next(line for line in result.output.splitlines() if "policy" in line and "plot" in line)
        for column in ("disrupted [95 % CI]", "warning h when disrupted", "detected", "false interdictions"):
            assert column in header

    def test_run_summary_line_is_one_line(self) -> None:
        """The sharing summary is one line, as long as it needs to be."""
        result = narrow.invoke(app, ["run", "connect-the-dots", "-p", "fusion-centre", "-q"])
        assert result.exit_code == 0, result.output
        line = next(line for line in result.output.splitlines() if line.startswith("leads published"))
        assert line.endswith("false interdictions 0")
        assert len(line) > 60


class TestNewcomerOptions:
    def test_version_is_the_installed_distribution(self) -> None:
        """--version prints the version the installed metadata holds."""
        result = narrow.invoke(app, ["--version"])
        assert result.exit_code == 0
        assert result.output.strip() == f"tearline {version('tearline')}"

    def test_run_json_prints_the_summary(self, tmp_path: Path) -> None:
        """run --json prints only the summary, the same bytes summary.json holds."""
        result = narrow.invoke(app, ["run", "mumbai-2008", "--json", "--out", str(tmp_path)])
        assert result.exit_code == 0, result.output
        summary = json.loads(result.output)
        assert summary["digest"] == GOLDEN["mumbai-2008/as-happened"]
        assert result.output == (tmp_path / "summary.json").read_text()

    def test_compare_takes_the_scenario_options_run_does(self) -> None:
        """compare accepts --enable, --exclude-disputed and -q, and enabling NIA changes nothing invalid."""
        args = [
            "compare",
            "mumbai-2008",
            "-p",
            "siloed",
            "--runs",
            "1",
            "--enable",
            "NIA",
            "--exclude-disputed",
        ]
        result = narrow.invoke(app, [*args, "-q"])
        assert result.exit_code == 0, result.output
        assert "siloed" in result.output and "mumbai-26-11" in result.output

    @pytest.mark.parametrize(
        "command",
        [[], ["run"], ["check"], ["compare"], ["explain"], ["exercise"], ["broker"], ["agency"]]
        + [["scenarios", c] for c in ("list", "validate", "show")]
        + [["policies", c] for c in ("list", "show", "lint")],
        ids=lambda c: " ".join(c) or "tearline",
    )
    def test_help_has_no_type_placeholders_or_backticks(self, command: list[str]) -> None:
        """Help names values (SEED, DIR) and shows nothing beside flags: no <bool>, <str>, ``code``."""
        result = CliRunner(env={"COLUMNS": "200"}).invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
        for placeholder in ("<bool>", "<str>", "<int>", "<float", "<path>", "<list", "``"):
            assert placeholder not in result.output, (placeholder, result.output)


class TestStdlibLogging:
    def test_stdlib_loggers_write_json_with_log_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A standard-library logger (aiokafka's) writes a JSON line like Tearline's own."""
        configure(json=True, level="info")
        try:
            logging.getLogger("aiokafka.conn").warning("connection to %s lost", "broker:9092")
        finally:
            configure(level="error")
        entries = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.strip()]
        assert entries[-1]["event"] == "connection to broker:9092 lost"
        assert entries[-1]["level"] == "warning"
        assert entries[-1]["logger"] == "aiokafka.conn"

    def test_level_filters_stdlib_loggers(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Below the chosen level, standard-library messages are dropped too."""
        configure(json=True, level="error")
        logging.getLogger("aiokafka").warning("not shown")
        assert "not shown" not in capsys.readouterr().err


class TestOwnScenario:
    def test_own_scenario_outside_the_repository_validates_and_runs(self, tmp_path: Path) -> None:
        """Citations of a scenario with no seeds/ above it resolve against the installed seeds."""
        path = own_scenario(tmp_path / "elsewhere", lambda d: d.pop("fictional"))
        result = narrow.invoke(app, ["scenarios", "validate", str(path)])
        assert result.exit_code == 0, result.output
        result = narrow.invoke(app, ["run", str(path), "-q"])
        assert result.exit_code == 0, result.output
        assert "digest" in result.output

    def test_seeds_option_resolves_citations_against_another_folder(self, tmp_path: Path) -> None:
        """--seeds DIR replaces the installed seeds: a fact it lacks is an unknown citation, exit 2."""
        path = own_scenario(tmp_path / "elsewhere", lambda d: d.pop("fictional"))
        seeds = tmp_path / "my-seeds"
        seeds.mkdir()
        shutil.copy(ROOT / "seeds" / "context.yaml", seeds)
        result = narrow.invoke(app, ["scenarios", "validate", str(path), "--seeds", str(seeds)])
        assert result.exit_code == 2
        assert "cites unknown fact 'mum-fbi-wife-warning-2005'" in result.output
        shutil.copy(ROOT / "seeds" / "mumbai-2008.yaml", seeds)
        result = narrow.invoke(app, ["run", str(path), "-q", "--seeds", str(seeds)])
        assert result.exit_code == 0, result.output

    def test_fictional_scenario_cites_nothing(self, tmp_path: Path) -> None:
        """A scenario marked fictional validates and runs with no citation anywhere."""

        def uncited(data: dict) -> None:  # type: ignore[type-arg]
            for block in ("injects", "plots", "agencies", "actors"):
                for item in data[block]:
                    item.pop("cites", None)

        path = own_scenario(tmp_path, uncited)
        assert "cites" not in path.read_text()
        result = narrow.invoke(app, ["run", str(path), "-q", "-p", "fusion-centre"])
        assert result.exit_code == 0, result.output

    def test_unmarked_scenario_must_cite(self, tmp_path: Path) -> None:
        """Without fictional:, a missing citation is an error that says how to declare one."""
        path = own_scenario(tmp_path, lambda d: (d.pop("fictional"), d["plots"][0].pop("cites")))
        result = narrow.invoke(app, ["scenarios", "validate", str(path)])
        assert result.exit_code == 2
        assert "plots[0].cites" in result.output and "fictional: <why>" in result.output

    def test_list_and_run_accept_the_same_name(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A scenario in the working directory's scenarios/ is listed by the name run accepts."""
        own_scenario(tmp_path / "scenarios", name="my-drill.yaml")
        monkeypatch.chdir(tmp_path)
        listed = CliRunner(env={"COLUMNS": "200"}).invoke(app, ["scenarios", "list"])
        assert listed.exit_code == 0, listed.output
        names = [line.split("│")[1].strip() for line in listed.output.splitlines() if line.startswith("│")]
        assert "my-drill" in names and "mumbai-2008" in names
        result = narrow.invoke(app, ["run", "my-drill", "-q"])
        assert result.exit_code == 0, result.output
