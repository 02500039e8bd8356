"""The command line: bad input gets one clear error and exit 2; good input tells its story."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from tearline.cli import app

from .conftest import ROOT, TEACHING

runner = CliRunner(env={"COLUMNS": "240"})


def broken(tmp_path: Path, edit: object) -> Path:
    """A copy of the teaching scenario (inside a project with seeds/) with one thing broken."""
    data = yaml.safe_load(TEACHING.read_text())
    edit(data)  # type: ignore[operator]
    (tmp_path / "seeds").symlink_to(ROOT / "seeds")
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def set_in(path: list[object], value: object):  # type: ignore[no-untyped-def]
    def edit(data: dict) -> None:  # type: ignore[type-arg]
        node = data
        for p in path[:-1]:
            node = node[p]  # type: ignore[index]
        node[path[-1]] = value  # type: ignore[index]

    return edit


MALFORMED = {
    "wrong type": (set_in(["defaults", "triage_per_day"], "lots"), "defaults.triage_per_day", "valid number"),
    "unknown agency": (
        set_in(["injects", 1, "observer"], "MOSSAD"),
        "injects[1].observer",
        "unknown agency 'MOSSAD'",
    ),
    "inject before start": (
        set_in(["injects", 0, "at"], "2029-12-31T00:00+00:00"),
        "injects[0].at",
        "before the scenario start",
    ),
    "missing citation": (
        lambda data: (data.pop("fictional"), set_in(["injects", 2, "cites"], [])(data)),
        "injects[2].cites",
        "missing citation",
    ),
    "unknown fact": (
        set_in(["injects", 2, "cites"], ["mum-no-such-fact"]),
        "injects[2].cites[0]",
        "unknown fact",
    ),
    "unknown field": (
        set_in(["agencies", 0, "jurisdictoin"], ["XN"]),
        "agencies[0].jurisdictoin",
        "unknown field",
    ),
    "bad time": (set_in(["start"], "next tuesday"), "start", "not a date-time"),
    "bad time zone": (set_in(["timezone"], "IST"), "timezone", "should match pattern"),
}


class TestMalformedScenario:
    @pytest.mark.parametrize("case", sorted(MALFORMED))
    def test_one_clear_error_naming_file_field_and_reason(self, tmp_path: Path, case: str) -> None:
        edit, field, reason = MALFORMED[case]
        path = broken(tmp_path, edit)
        result = runner.invoke(app, ["run", str(path), "--policy", "siloed"])
        assert result.exit_code == 2, result.output
        message = result.output
        assert str(path) in message
        assert field in message
        assert reason in message
        assert "Traceback" not in message
        assert result.exception is None or isinstance(result.exception, SystemExit)

    def test_error_gives_the_line(self, tmp_path: Path) -> None:
        path = broken(tmp_path, set_in(["injects", 1, "observer"], "MOSSAD"))
        result = runner.invoke(app, ["scenarios", "validate", str(path)])
        assert result.exit_code == 2
        line = next(i for i, text in enumerate(path.read_text().splitlines(), 1) if "MOSSAD" in text)
        assert f"{path}:{line}: injects[1].observer" in result.output

    def test_not_yaml(self, tmp_path: Path) -> None:
        path = tmp_path / "bad.yaml"
        path.write_text("id: [unclosed\n")
        result = runner.invoke(app, ["run", str(path)])
        assert result.exit_code == 2
        assert "not valid YAML" in result.output

    def test_console_script_prints_no_traceback(self, tmp_path: Path) -> None:
        """The installed entry point, as a user runs it."""
        path = broken(tmp_path, set_in(["injects", 1, "observer"], "MOSSAD"))
        proc = subprocess.run(
            [sys.executable, "-m", "tearline", "run", str(path)], capture_output=True, text=True, check=False
        )
        assert proc.returncode == 2
        assert "unknown agency 'MOSSAD'" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout

    def test_unknown_policy(self) -> None:
        result = runner.invoke(app, ["run", "connect-the-dots", "--policy", "share-everything-always"])
        assert result.exit_code == 2
        assert "unknown policy" in result.output


MALFORMED_POLICY = {
    "bad YAML syntax": (
        "policy: broken\ncombine: deny-overrides\nmembers:\n  - bilateral\n"
        "  - {use: tlp, options: {community: [IN, US]}\ndelays: max\n",
        6,
        "(yaml)",
        "not valid YAML",
    ),
    "unknown field": (
        "policy: broken\nrules:\n  - name: home\n    match: {domestic: true}\n    action: release\n"
        "    colour: red\n",
        6,
        "rules[0].colour",
        "unknown field",
    ),
    "unknown policy inside of": (
        "policy: broken\ncombine: first-applicable\nmembers:\n  - releasability\n  - use: deny-overrides\n"
        "    options:\n      of: [bilateral, tlp, bilaterl]\n",
        7,
        "members[1].options.of",
        "unknown policy 'bilaterl'",
    ),
}


class TestMalformedPolicyFile:
    @pytest.mark.parametrize("case", sorted(MALFORMED_POLICY))
    def test_run_names_file_line_field_and_problem(self, tmp_path: Path, case: str) -> None:
        """``run -p FILE.yaml`` reports a bad policy file as ``file:line: field: problem``, exit 2."""
        text, line, field, reason = MALFORMED_POLICY[case]
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        result = runner.invoke(app, ["run", "connect-the-dots", "--policy", str(path), "--quiet"])
        assert result.exit_code == 2, result.output
        assert isinstance(result.exception, SystemExit)  # a clean exit, not an exception caught by the runner
        assert f"{path}:{line}: {field}: " in result.output
        assert reason in result.output
        assert "Traceback" not in result.output

    def test_lint_and_run_report_the_same_problem(self, tmp_path: Path) -> None:
        """One reporter: the line ``policies lint`` prints is the one ``run`` prints."""
        text, line, field, _ = MALFORMED_POLICY["unknown policy inside of"]
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        lint = runner.invoke(app, ["policies", "lint", str(path)])
        run = runner.invoke(app, ["run", "connect-the-dots", "--policy", str(path), "--quiet"])
        assert lint.exit_code == run.exit_code == 2
        problem = next(s for s in lint.output.splitlines() if f":{line}: {field}" in s)
        assert problem.removeprefix("error: ") in run.output

    def test_console_script_prints_no_traceback(self, tmp_path: Path) -> None:
        """The installed entry point, as a user runs it, on a policy file that is not YAML."""
        text, line, _, _ = MALFORMED_POLICY["bad YAML syntax"]
        path = tmp_path / "policy.yaml"
        path.write_text(text)
        proc = subprocess.run(
            [sys.executable, "-m", "tearline", "run", "connect-the-dots", "-p", str(path)],
            capture_output=True,
            text=True,
            check=False,
            cwd=ROOT,
        )
        assert proc.returncode == 2
        assert f"{path}:{line}: (yaml): not valid YAML" in proc.stderr
        assert "Traceback" not in proc.stderr + proc.stdout

    def test_a_missing_policy_file(self, tmp_path: Path) -> None:
        result = runner.invoke(app, ["run", "connect-the-dots", "--policy", str(tmp_path / "nope.yaml")])
        assert result.exit_code == 2
        assert "no such policy file" in result.output


class TestRun:
    def test_prints_timeline_outcome_warning_and_digest(self, tmp_path: Path) -> None:
        result = runner.invoke(
            app,
            ["run", "connect-the-dots", "--policy", "fusion-centre", "--seed", "1", "--out", str(tmp_path)],
        )
        assert result.exit_code == 0, result.output
        out = " ".join(result.output.split())
        assert "observes: A source names Karim Vale" in out
        assert "INTERDICTS" in out
        assert "DISRUPTED" in out and "hours of warning" in out
        digest = (tmp_path / "record.jsonl").read_bytes()
        import hashlib

        assert f"digest {hashlib.sha256(digest).hexdigest()}" in out
        assert (tmp_path / "summary.json").is_file()

    def test_times_show_in_the_scenario_time_zone(self) -> None:
        """People read Mumbai in IST; the record stays in UTC."""
        result = runner.invoke(app, ["run", "mumbai-2008", "--policy", "siloed", "--quiet"])
        assert result.exit_code == 0
        assert "2008-11-26 21:20 +05:30" in result.output

    def test_siloed_reports_the_attack(self) -> None:
        result = runner.invoke(app, ["run", "connect-the-dots", "--policy", "siloed", "--quiet"])
        assert result.exit_code == 0
        assert "ATTACK" in result.output


class TestScenarioCommands:
    def test_list_validate_show(self) -> None:
        listed = runner.invoke(app, ["scenarios", "list"])
        assert listed.exit_code == 0 and "connect-the-dots" in listed.output
        valid = runner.invoke(app, ["scenarios", "validate"])
        assert valid.exit_code == 0, valid.output
        shown = runner.invoke(app, ["scenarios", "show", "connect-the-dots"])
        assert shown.exit_code == 0
        assert "Karim Vale" in shown.output and "mum-fbi-wife-warning-2005" in shown.output

    def test_policies_list_and_show(self) -> None:
        listed = runner.invoke(app, ["policies", "list"])
        assert listed.exit_code == 0
        for name in ("siloed", "as-happened", "bilateral", "fusion-centre"):
            assert name in listed.output
        shown = runner.invoke(app, ["policies", "show", "bilateral"])
        assert shown.exit_code == 0 and "treaty" in shown.output


class TestCheck:
    def test_check_passes_and_writes_junit(self, tmp_path: Path) -> None:
        junit = tmp_path / "report.xml"
        result = runner.invoke(app, ["check", "connect-the-dots", "--junit", str(junit)])
        assert result.exit_code == 0, result.output
        suite = ET.parse(junit).getroot()
        assert suite.get("tests") == "3" and suite.get("failures") == "0"

    def test_check_fails_on_a_wrong_expectation(self, tmp_path: Path) -> None:
        path = broken(
            tmp_path, set_in(["expect"], [{"policy": "siloed", "outcomes": {"grand-meridian": "disrupted"}}])
        )
        junit = tmp_path / "report.xml"
        result = runner.invoke(app, ["check", str(path), "--junit", str(junit)])
        assert result.exit_code == 1
        assert "expected disrupted, got attack" in result.output
        assert ET.parse(junit).getroot().get("failures") == "1"


class TestExercise:
    def test_facilitator_steps_injects_views_and_debriefs(self, tmp_path: Path) -> None:
        """A scripted exercise: an inject a facilitator adds changes the outcome, and is saved for replay."""
        inject = tmp_path / "inject.yaml"
        inject.write_text(
            yaml.safe_dump(
                [
                    {
                        "id": "tipoff",
                        "at": "2030-03-05T12:00+00:00",
                        "observer": "NSS",
                        "what": "A neighbour reports Karim Vale staying near the Grand Meridian",
                        "lead": {
                            "identifiers": [
                                {"kind": "person", "value": "Karim Vale"},
                                {"kind": "venue", "value": "Grand Meridian Hotel", "where": "XN"},
                            ],
                            "indicators": [
                                {
                                    "kind": "timing",
                                    "window": {
                                        "from": "2030-03-10T00:00+00:00",
                                        "to": "2030-03-20T00:00+00:00",
                                    },
                                }
                            ],
                            "grading": "B2",
                        },
                    }
                ]
            )
        )
        script = f"advance 3d\nview NSS\ninject {inject}\nadvance 2d\nview NSS\nnonsense\ndebrief {tmp_path / 'out'}\n"
        result = runner.invoke(app, ["exercise", "connect-the-dots", "--policy", "siloed"], input=script)
        assert result.exit_code == 0, result.output
        assert "injected tipoff for NSS" in result.output
        assert "unknown command 'nonsense'" in result.output
        assert "DISRUPTED" in result.output  # siloed alone would let the attack happen
        saved = yaml.safe_load((tmp_path / "out" / "facilitator-injects.yaml").read_text())
        assert [i["id"] for i in saved] == ["tipoff"]


class TestCompare:
    def test_numbers_csv_and_plot(self, tmp_path: Path) -> None:
        result = runner.invoke(
            app,
            [
                "compare",
                "connect-the-dots",
                "-p",
                "siloed",
                "-p",
                "fusion-centre",
                "--runs",
                "2",
                "--no-cache",
                "--out",
                str(tmp_path),
            ],
        )
        assert result.exit_code == 0, result.output
        rows = (tmp_path / "runs.csv").read_text().splitlines()
        assert len(rows) == 1 + 4
        assert len((tmp_path / "aggregate.csv").read_text().splitlines()) == 1 + 2
        assert "fusion-centre" in result.output and "100% [34%, 100%]" in result.output
        assert (tmp_path / "comparison.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (tmp_path / "comparison.svg").read_text().lstrip().startswith("<?xml")
        assert (tmp_path / "runs.parquet").read_bytes()[:4] == b"PAR1"


class TestLogging:
    def test_log_json_binds_scenario_seed_and_sim_time(self) -> None:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "tearline",
                "--log-json",
                "--log-level",
                "info",
                "run",
                "connect-the-dots",
                "-q",
                "-s",
                "4",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        import json

        lines = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
        assert lines, proc.stderr
        for entry in lines:
            assert entry["scenario"] == "connect-the-dots"
            assert entry["seed"] == 4
            assert "sim_time" in entry
