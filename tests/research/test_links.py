"""Critical links: on the teaching scenario, no single release connects the dots under siloed and
the pair that gives the security service both the who and the what does; on two small scenarios,
the one (lead, recipient) that flips a plot over seeds, with its interval, and the pair of leads
where no single one suffices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tearline import RunConfig, Scenario, load_scenario
from tearline.cli import app
from tearline.research import Executor, base_jobs, candidates, wilson

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

    def test_a_collected_latent_lead_is_a_link_of_its_collector(self) -> None:
        """A lead a latent observation becomes is a (lead, recipient) link on its collector's routes, marked so."""
        scenario = load_scenario(
            Path(__file__).resolve().parents[1] / "engine" / "scenarios" / "collection.yaml"
        )
        config = RunConfig(scenario=scenario, policy="fusion-centre")
        found = candidates(config, Executor(jobs=1).run(base_jobs(config, [1])), "leads")
        latent = [c for c in found if c.leads == ("stone-meeting-nss",)]
        assert {c.label for c in latent} == {
            "release stone-meeting-nss NSS→FIS",
            "release stone-meeting-nss NSS→NSIG",
        }
        assert all(
            "a latent observation, collected only where NSS tasks or finds it" in c.uncertain[0]
            for c in latent
        )


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


SMALL = Path(__file__).resolve().parent / "scenarios"


def links_of(tmp: Path, scenario: str, *options: str) -> dict:  # type: ignore[type-arg]
    r = runner.invoke(
        app,
        ["links", str(SMALL / f"{scenario}.yaml"), "--policy", "siloed", "--jobs", "2",
         "--cache", str(tmp / "cache"), "--out", str(tmp / "result"), *options],
    )  # fmt: skip
    assert r.exit_code == 0, r.output
    data: dict = json.loads((tmp / "result" / "links.json").read_text())  # type: ignore[type-arg]
    data["output"] = r.output
    data["directory"] = tmp / "result"
    return data


@pytest.fixture(scope="module")
def one_link(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    return links_of(tmp_path_factory.mktemp("one-link"), "one-link", "--runs", str(TestOneLink.SEEDS))


@pytest.fixture(scope="module")
def two_links(tmp_path_factory: pytest.TempPathFactory) -> dict:  # type: ignore[type-arg]
    return links_of(tmp_path_factory.mktemp("two-links"), "two-links", "--runs", "2", "--scope", "leads")


class TestOneLink:
    """one-link.yaml: the security service holds the target; the who, which happens in about half
    the seeds at a drawn date, is the one (lead, recipient) that completes its case."""

    SEEDS = 6

    def test_the_one_lead_link_flips_in_the_seeds_its_lead_happens(self, one_link: dict) -> None:  # type: ignore[type-arg]
        """release who FIS→DSS flips exactly the seeds that draw the who, with that rate's Wilson interval."""
        scenario = load_scenario(SMALL / "one-link.yaml")
        happens = sum(
            any(i.id == "who" for i in RunConfig(scenario=scenario, policy="siloed", seed=s).injects())
            for s in range(1, self.SEEDS + 1)
        )
        assert 0 < happens < self.SEEDS  # the draw really varies: the interval is not degenerate
        link = next(r for r in one_link["links"] if r["link"] == "release who FIS→DSS")
        expected = wilson(happens, self.SEEDS)
        assert (link["flips"], link["seeds"], link["gained"], link["lost"]) == (
            happens,
            self.SEEDS,
            happens,
            0,
        )
        assert link["flip_probability_low"] == round(expected.low, 4)
        assert link["flip_probability_high"] == round(expected.high, 4)
        assert link["warning_change_hours"] > 0 and link["rank"] <= 2

    def test_only_routes_to_the_security_service_flip(self, one_link: dict) -> None:  # type: ignore[type-arg]
        """Besides the lead, only its whole channel FIS→DSS flips; releases to the foreign service do nothing."""
        assert {r["link"] for r in one_link["links"] if r["flips"]} == {
            "release who FIS→DSS",
            "release FIS→DSS",
        }

    def test_noise_is_not_measured(self, one_link: dict) -> None:  # type: ignore[type-arg]
        """Every link moves one of the two real leads; background noise names none."""
        assert {lead for r in one_link["links"] for lead in r["leads"]} == {"who", "what"}
        assert one_link["batch"]["links_tried"] == 4

    def test_the_leads_uncertainty_is_shown(self, one_link: dict) -> None:  # type: ignore[type-arg]
        """The link carries its lead's drawn window and chance, printed and in the JSON."""
        link = next(r for r in one_link["links"] if r["link"] == "release who FIS→DSS")
        assert link["uncertain"] == [
            "who: at a time drawn per seed, 2030-03-02 10:00 +00:00 to 2030-03-08 10:00 +00:00, happens with chance 0.5"
        ]
        assert "happens with chance 0.5" in one_link["output"]

    def test_the_report_shows_the_uncertainty(self, one_link: dict) -> None:  # type: ignore[type-arg]
        """report on the links directory lists each link with what the record leaves open about it."""
        r = runner.invoke(app, ["report", str(one_link["directory"])])
        assert r.exit_code == 0, r.output
        text = (one_link["directory"] / "report.html").read_text()
        assert "<th>uncertain</th>" in text
        assert "happens with chance 0.5" in text


class TestTwoLinks:
    """two-links.yaml: the who and the target sit with two agencies; only the one that holds neither can act."""

    def test_no_single_lead_suffices(self, two_links: dict) -> None:  # type: ignore[type-arg]
        """Neither lead alone, to anyone, flips the plot."""
        singles = [r for r in two_links["links"] if r["links"] == 1]
        assert len(singles) == 4 and not any(r["flips"] for r in singles)

    def test_the_pair_to_the_security_service_flips(self, two_links: dict) -> None:  # type: ignore[type-arg]
        """The pair who FIS→DSS + what SIG→DSS flips in every seed, and ranks first."""
        top = two_links["links"][0]
        assert set(top["link"].split(" + ")) == {"release who FIS→DSS", "release what SIG→DSS"}
        assert (top["links"], top["flips"], top["seeds"], top["rank"]) == (2, 2, 2, 1)
        assert top["flip_probability_low"] == round(wilson(2, 2).low, 4)


def test_quiet_prints_only_the_ranked_links(tmp_path: Path) -> None:
    """--quiet leaves out the counts and the file list, and keeps the ranked links."""
    args = ["links", str(SMALL / "one-link.yaml"), "--policy", "siloed", "--runs", "2", "--jobs", "1",
            "--cache", str(tmp_path / "cache"), "--out", str(tmp_path / "result")]  # fmt: skip
    loud, quiet = runner.invoke(app, args), runner.invoke(app, [*args, "--quiet"])
    assert loud.exit_code == quiet.exit_code == 0, quiet.output
    assert "links to try" in loud.output and "wrote" in loud.output
    assert "links to try" not in quiet.output and "wrote" not in quiet.output
    assert "strongest links over 2 seeds" in quiet.output
