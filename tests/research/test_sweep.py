"""Sweep designs: the points a design names, what a point does to the scenario, and the tables a
sweep writes into a document between its markers."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tearline import RunConfig, Scenario, ScenarioError
from tearline.cli import app
from tearline.research import AS_WRITTEN, Design, points, replace_block, sweep_jobs

runner = CliRunner(env={"COLUMNS": "240"})


def design(**fields: object) -> Design:
    base = {"scenario": "connect-the-dots", "policies": ["siloed"], "parameters": []}
    return Design.model_validate_json(json.dumps({**base, **fields}))


WHERE = (Path("design.yaml"), lambda _: None)


class TestPoints:
    def test_grid_is_the_product(self) -> None:
        """A grid names every combination of levels."""
        d = design(parameters=[{"name": "a", "path": "noise_scale", "values": [1, 2, 3]},
                               {"name": "b", "path": "exclude_disputed", "values": [False, True]}])  # fmt: skip
        assert len(points(d)) == 6

    def test_one_at_a_time_varies_one(self) -> None:
        """One-at-a-time names each level of each parameter alone."""
        d = design(design="one-at-a-time", parameters=[{"name": "a", "path": "noise_scale", "values": [1, 2]},
                                                       {"name": "b", "path": "noise_scale", "scale": [3]}])  # fmt: skip
        assert [list(p) for p in points(d)] == [["a"], ["a"], ["b"]]

    @settings(max_examples=30, deadline=None)
    @given(n=st.integers(1, 40), seed=st.integers(0, 10_000))
    def test_latin_hypercube_fills_every_stratum(self, n: int, seed: int) -> None:
        """LHS: each parameter's n samples fall one in each of n equal strata of its range; same seed, same points."""
        d = design(design="lhs", samples=n, sample_seed=seed,
                   parameters=[{"name": "x", "path": "noise_scale", "range": [0, 10]}])  # fmt: skip
        xs = [p["x"][1][1] for p in points(d)]
        assert sorted(min(n - 1, int(x / 10 * n)) for x in xs) == list(range(n))
        assert points(d) == points(d)


class TestApply:
    def test_scale_reads_defaults_and_enters_the_config(self, teaching: Scenario) -> None:
        """Scaling agencies[*].triage_per_day multiplies the defaults where an agency sets none."""
        d = design(parameters=[{"name": "triage", "path": "agencies[*].triage_per_day", "scale": [2]},
                               {"name": "noise", "path": "noise_scale", "values": [3]}])  # fmt: skip
        (job,) = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)
        triage = {a.id: a.triage_per_day for a in job.config.scenario.agencies}
        assert set(triage.values()) == {2 * teaching.defaults.triage_per_day}
        assert job.config.noise_scale == 3
        assert job.labels["p:triage"] == "×2" and job.labels["p:noise"] == "3"

    def test_scaling_a_duration_keeps_whole_seconds(self, teaching: Scenario) -> None:
        """Scaling agencies[*].action_delay by 0.3 gives whole seconds the scenario accepts."""
        d = design(parameters=[{"name": "delay", "path": "agencies[*].action_delay", "scale": [0.3]}])
        (job,) = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)
        assert {a.action_delay for a in job.config.scenario.agencies} == {
            round(0.3 * teaching.defaults.action_delay)
        }

    def test_unvaried_parameters_are_as_written(self, teaching: Scenario) -> None:
        """In one-at-a-time, the other parameters are labelled as written and the scenario keeps them."""
        d = design(design="one-at-a-time", parameters=[{"name": "a", "path": "noise_scale", "values": [2]},
                                                       {"name": "b", "path": "exclude_disputed", "values": [True]}])  # fmt: skip
        first = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)[0]
        assert first.labels["p:b"] == AS_WRITTEN and first.config.exclude_disputed is False

    def test_a_filter_picks_items_by_field(self, teaching: Scenario) -> None:
        """injects[observer=SFS] picks the items whose field reads that value, and only those."""
        d = design(
            parameters=[{"name": "p", "path": "injects[observer=SFS].uncertain.chance", "values": [0.25]}]
        )
        (job,) = sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)
        chances = {i.id: i.uncertain.chance if i.uncertain else None for i in job.config.scenario.injects}
        assert chances == {"who": 0.25, "what": None, "when": None}

    def test_a_filter_that_matches_nothing_names_the_file_and_line(self, teaching: Scenario) -> None:
        """A filter no item fits is a clear error on the design's parameter, not an empty sweep."""
        d = design(
            parameters=[{"name": "p", "path": "injects[disputed=true].uncertain.chance", "values": [0.5]}]
        )
        with pytest.raises(
            ScenarioError, match=r"parameters\[0\]\.path: no item of 'injects' has disputed true"
        ):
            sweep_jobs(d, [RunConfig(scenario=teaching, policy="siloed")], WHERE)


DOC = """# Results

Some prose the sweep never touches.

<!-- sweep tiny.yaml -->
(old table)
<!-- end sweep tiny.yaml -->

More prose.
"""


class TestTablesInDocs:
    def test_only_the_block_between_the_markers_is_rewritten(self) -> None:
        """replace_block swaps what lies between the design's markers and keeps every other line."""
        new = replace_block(DOC, "tiny.yaml", "| a |\n| 1 |\n")
        assert new == DOC.replace("(old table)", "| a |\n| 1 |")
        assert replace_block(new, "tiny.yaml", "| a |\n| 1 |\n") == new  # rerunning changes nothing

    @pytest.mark.parametrize(
        ("doc", "reason"),
        [
            ("no markers at all\n", "0 lines read '<!-- sweep tiny.yaml -->'"),
            (DOC + "<!-- end sweep tiny.yaml -->\n", "2 lines read '<!-- end sweep tiny.yaml -->'"),
            ("<!-- end sweep tiny.yaml -->\n<!-- sweep tiny.yaml -->\n", "comes before"),
        ],
    )
    def test_missing_or_misplaced_markers_are_an_error(self, doc: str, reason: str) -> None:
        """A document without exactly one pair of markers, in order, is reported with file and reason."""
        with pytest.raises(ScenarioError, match=re.escape(reason)):
            replace_block(doc, "tiny.yaml", "x", "doc.md")

    def test_sweep_into_writes_the_table_and_its_command(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """tearline sweep DESIGN --into DOC runs a tiny design and writes its points, swings and command."""
        monkeypatch.chdir(tmp_path)
        Path("tiny.yaml").write_text(
            "scenario: connect-the-dots\npolicies: [fusion-centre]\nseeds: 2\ndesign: one-at-a-time\n"
            "parameters:\n  - name: who's chance\n    path: injects[id=who].uncertain.chance\n    values: [0, 1]\n"
        )
        Path("doc.md").write_text(DOC)
        r = runner.invoke(app, ["sweep", "tiny.yaml", "--into", "doc.md", "--jobs", "1", "--no-cache"])
        assert r.exit_code == 0, r.output
        block = Path("doc.md").read_text().split("<!-- sweep tiny.yaml -->\n")[1].split("<!-- end sweep")[0]
        assert block.startswith("```sh\ntearline sweep tiny.yaml\n```\n")
        assert "| fusion-centre | who's chance | 0 | grand-meridian | 0/2 (0% [0%, 66%]) | - |" in block
        assert "| fusion-centre | who's chance | 1 | grand-meridian | 2/2 (100% [34%, 100%]) | NSS |" in block
        assert "| fusion-centre | disrupted grand-meridian | who's chance | 1 | 0 (0) | 1 (1) |" in block
        assert Path("doc.md").read_text().endswith("<!-- end sweep tiny.yaml -->\n\nMore prose.\n")

    def test_sweep_into_a_document_without_markers_exits_2(self, tmp_path: Path) -> None:
        """No markers for the design: exit 2 before any run, saying which lines to add."""
        (tmp_path / "doc.md").write_text("# nothing here\n")
        r = runner.invoke(app, ["sweep", "docs/sweeps/mumbai-noise.yaml", "--into", str(tmp_path / "doc.md")])
        assert r.exit_code == 2
        assert "add the lines <!-- sweep docs/sweeps/mumbai-noise.yaml -->" in r.output

    def test_regenerate_rewrites_every_designs_table(self, tmp_path: Path) -> None:
        """docs/sweeps/regenerate runs each design under docs/sweeps/ and rewrites its block in docs/scenarios.md."""
        (tmp_path / "docs" / "sweeps").mkdir(parents=True)
        (tmp_path / "docs" / "sweeps" / "tiny.yaml").write_text(
            "scenario: connect-the-dots\npolicies: [siloed]\nseeds: 1\n"
            "parameters:\n  - name: noise\n    path: noise_scale\n    values: [1, 2]\n"
        )
        doc = tmp_path / "docs" / "scenarios.md"
        doc.write_text(DOC.replace("tiny.yaml", "docs/sweeps/tiny.yaml"))
        script = Path(__file__).resolve().parents[2] / "docs" / "sweeps" / "regenerate"
        tearline = Path(sys.executable).parent / "tearline"
        env = {**os.environ, "SWEEP_ROOT": str(tmp_path), "TEARLINE": str(tearline)}
        done = subprocess.run([script, "--jobs", "1", "--no-cache"], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        text = doc.read_text()
        assert "```sh\ntearline sweep docs/sweeps/tiny.yaml --out runs/sweep-tiny\n```" in text
        assert "| siloed | noise | 2 | grand-meridian | 0/1 (0% [0%, 79%]) | - |" in text
        assert "(old table)" not in text and text.endswith("More prose.\n")
        assert (tmp_path / "runs" / "sweep-tiny" / "sensitivity.md").is_file()
