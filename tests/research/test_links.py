"""Critical links on the teaching scenario: no single release connects the dots under siloed; the
pair that gives the security service both the who and the what does, and is ranked first."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tearline import RunConfig, Scenario
from tearline.cli import app
from tearline.research import Executor, base_jobs, candidates

runner = CliRunner(env={"COLUMNS": "240"})


@pytest.fixture(scope="module")
def links_json(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    out = tmp_path_factory.mktemp("links")
    r = runner.invoke(
        app,
        ["links", "connect-the-dots", "--policy", "siloed", "--runs", "1", "--jobs", "2",
         "--cache", str(out / "cache"), "--out", str(out / "result")],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    for name in ("links.csv", "links.parquet", "runs.parquet", "batch.json"):
        assert (out / "result" / name).stat().st_size > 0
    data: dict = json.loads((out / "result" / "links.json").read_text())  # type: ignore[type-arg]
    data["output"] = r.output
    return data


class TestCandidates:
    def test_every_withheld_route_is_a_candidate(self, teaching: Scenario) -> None:
        """Under siloed every route is withheld, so each (lead, recipient) and channel gets a release."""
        config = RunConfig(scenario=teaching, policy="siloed")
        found = candidates(config, Executor(jobs=1).run(base_jobs(config, [1])))
        labels = {c.label for c in found}
        assert {"release who SFS→NSS", "release what NSIG→NSS", "release SFS→NSS"} <= labels
        assert all(o.action == "release" for c in found for o in c.overrides)


class TestRanking:
    def test_no_single_link_flips_but_a_pair_does(self, links_json: dict) -> None:  # type: ignore[type-arg]
        """Singles never flip the plot; the top link is the pair SFS→NSS + NSIG→NSS, flipping in every seed."""
        links = links_json["links"]
        assert all(r["flips"] == 0 for r in links if r["links"] == 1)
        top = links[0]
        assert top["rank"] == 1
        assert set(top["link"].split(" + ")) == {"release NSIG→NSS", "release SFS→NSS"}
        assert (top["flips"], top["seeds"], top["gained"]) == (1, 1, 1)
        assert top["flip_probability_low"] < 1 == top["flip_probability"]
        assert top["warning_change_hours"] > 0

    def test_links_carry_their_facts(self, links_json: dict) -> None:  # type: ignore[type-arg]
        """Each link lists the seeds/ facts of the leads it moves, with their sources."""
        top = links_json["links"][0]
        assert top["facts"] and all(f["sources"] for f in top["facts"])
        assert top["facts"][0]["id"] in links_json["output"]
