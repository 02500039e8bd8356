"""The Mumbai-2008 and Paris-2015 replays: traceable to the record, valid, and stable in outcome.

What the outcomes are, and why, is argued in docs/scenarios.md. The plots are judged on the people
who carried them out (their whereabouts are in the scenarios' ``actors``). In short:

- Mumbai: the attack happens under every policy. No agency held a name of any of the ten gunmen or
  of the Kuber; the only people and vessel the leads name (Zarrar Shah, Headley, the vessel the IB
  reported) were in Pakistan, outside India's reach, or in international waters.
- Paris: the Verviers cell is disrupted under every policy. The three 13 November teams and the two
  Brussels teams of 22 March 2016 are attacked under ``as-happened`` and ``siloed``; pooled policies
  can remove one member of the terrace team a year early (a partial disruption, drawn per seed).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tearline import Fact, RunConfig, RunResult, Scenario, load_facts, load_scenario, replay
from tearline.model._record import DecisionEvent, EffectEvent, InjectEvent
from tearline.model._scenario import Centre, Treaty
from tearline.model._yaml import read

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SCENARIOS = {name: ROOT / "scenarios" / f"{name}.yaml" for name in ("mumbai-2008", "paris-2015")}
POLICIES = ("siloed", "as-happened", "bilateral", "fusion-centre")

_PARIS_HISTORY = {
    "verviers-cell": "disrupted",
    "stade-de-france": "attack",
    "terraces": "attack",
    "bataclan": "attack",
    "brussels-airport": "attack",
    "maelbeek": "attack",
}
# The outcome each policy gives with seed 1, per plot (the scenarios' expect blocks say the same).
EXPECTED: dict[str, dict[str, dict[str, str]]] = {
    "mumbai-2008": {policy: {"mumbai-26-11": "attack"} for policy in POLICIES},
    "paris-2015": {
        "siloed": _PARIS_HISTORY,
        "as-happened": _PARIS_HISTORY,
        # The Belgian prosecutor, acting on who + where, holds the Verviers flat and the 2014 source
        # tying the Abdeslam brothers to Abaaoud in one case, but nothing places Brahim anywhere: its
        # January 2015 order finds the cell, not him (``unplaced``).
        "bilateral": _PARIS_HISTORY,
        # The chain of docs/scenarios.md ("Paris, pooled"): the federal police's intercept of the
        # Athens calls places Abaaoud in Athens and reaches the Greek police through the European
        # centre; their order of 3 January 2015 succeeds at seed 1. One of the terrace team removed.
        "fusion-centre": {**_PARIS_HISTORY, "terraces": "partly-disrupted"},
    },
}
# Plots each scenario's historical run must show attacked: the attacks that happened.
HISTORICAL_ATTACKS = {
    "mumbai-2008": {"mumbai-26-11"},
    "paris-2015": {"stade-de-france", "terraces", "bataclan", "brussels-airport", "maelbeek"},
}
DISPUTED_INJECTS = {
    "mumbai-2008": {"embassy-headley-wife-2007"},
    "paris-2015": {
        "trpolice-mostefai-entry-2013",
        "iqintel-warning-nov-12",
        "trpolice-bakraoui-deported",
        "sis-abdeslam-flag",
        "mechelen-quatre-vents-report",
    },
}
_SOURCE_SEED_FILE = re.compile(r"^\d{3}_[0-9a-f]{16}\.txt$")


@pytest.fixture(scope="module")
def facts() -> dict[str, Fact]:
    return load_facts(SEEDS)


@pytest.fixture(scope="module")
def scenarios() -> dict[str, Scenario]:
    return {name: load_scenario(path) for name, path in SCENARIOS.items()}


async def _run(scenario: Scenario, policy: str, seed: int = 1, **options: object) -> RunResult:
    return await replay(RunConfig(scenario=scenario, policy=policy, seed=seed, **options))  # type: ignore[arg-type]


def _outcomes(result: RunResult) -> dict[str, str]:
    return {o.plot: o.result for o in result.summary.outcomes}


class TestTraceability:
    """Every inject stands on facts, every fact on a source."""

    def test_every_fact_cites_a_source(self, facts: dict[str, Fact]) -> None:
        assert len(facts) >= 127
        for fact in facts.values():
            assert fact.sources, fact.id
            for source in fact.sources:
                is_url = source.startswith(("http://", "https://"))
                is_seed_file = bool(_SOURCE_SEED_FILE.match(source))
                is_publication = '"' in source  # publication and "title", where no URL exists
                assert is_url or is_seed_file or is_publication, f"{fact.id}: unrecognised source {source!r}"

    def test_disputed_and_uncertain_facts_say_why(self, facts: dict[str, Fact]) -> None:
        for fact in facts.values():
            if fact.disputed or fact.uncertain:
                assert fact.note.strip(), f"{fact.id} is flagged but its note does not say why"

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_scenario_validates(self, name: str) -> None:
        scenario = load_scenario(SCENARIOS[name])
        assert scenario.id == name
        assert len(scenario.injects) >= 15

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_every_inject_cites_existing_facts(
        self, name: str, scenarios: dict[str, Scenario], facts: dict[str, Fact]
    ) -> None:
        for inject in scenarios[name].injects:
            assert inject.cites, f"{inject.id} cites nothing"
            for fact_id in inject.cites:
                assert fact_id in facts, f"{inject.id} cites unknown fact {fact_id}"
            for release in inject.as_happened:
                assert release.cites, f"{inject.id}: historical release to {release.to} cites nothing"
                assert set(release.cites) <= set(facts)

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_every_other_citation_exists(
        self, name: str, scenarios: dict[str, Scenario], facts: dict[str, Fact]
    ) -> None:
        s = scenarios[name]
        cited = [c for p in s.plots for c in p.cites]
        cited += [
            c
            for group in (s.agencies, s.channels, s.treaties, s.centres)
            for item in group
            for c in item.cites
        ]
        cited += list(s.noise.cites)
        assert cited
        assert set(cited) <= set(facts), set(cited) - set(facts)
        for plot in s.plots:
            assert plot.cites, plot.id

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_every_latent_observation_cites_and_labels(
        self, name: str, scenarios: dict[str, Scenario], facts: dict[str, Fact]
    ) -> None:
        """Each latent observation cites existing facts; its delay, chance and who can collect it say their basis."""
        s = scenarios[name]
        assert len(s.latent) >= 3
        data, locate = read(SCENARIOS[name])
        lines = SCENARIOS[name].read_text(encoding="utf-8").splitlines()
        for i, obs in enumerate(s.latent):
            assert obs.cites, f"{obs.id} cites nothing"
            assert set(obs.cites) <= set(facts), f"{obs.id}: {set(obs.cites) - set(facts)}"
            for key in ("delay", "chance", "by"):
                if key in data["latent"][i]:
                    line = locate(("latent", i, key))
                    assert line is not None
                    why = lines[line - 1].partition("#")[2].strip()
                    assert why.startswith(("cited", "assumption")), f"{obs.id}.{key}: {why!r}"

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_disputed_flag_follows_the_facts(
        self, name: str, scenarios: dict[str, Scenario], facts: dict[str, Fact]
    ) -> None:
        flagged = {i.id for i in scenarios[name].injects if i.disputed}
        citing_disputed = {i.id for i in scenarios[name].injects if any(facts[c].disputed for c in i.cites)}
        assert flagged == citing_disputed == DISPUTED_INJECTS[name]


class TestParameterBasis:
    """Every numeric parameter is cited or labelled an assumption (docs/scenarios.md has the table)."""

    AGENCY_PARAMETERS = (
        "triage_per_day",
        "processing",
        "action_delay",
        "act_threshold",
        "act_on",
        "interdicts",
        "clearance",
        "capabilities",
        "surveillance",
        "tasking_time",
        "answers",
        "alert",
        "retask_rise",
    )

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_agency_and_default_parameters_carry_a_basis(self, name: str) -> None:
        path = SCENARIOS[name]
        data, locate = read(path)
        lines = path.read_text(encoding="utf-8").splitlines()

        def basis(loc: tuple[str | int, ...]) -> str:
            line = locate(loc)
            assert line is not None, loc
            return lines[line - 1].partition("#")[2].strip()

        checked = 0
        for key in ("triage_per_day", "processing", "action_delay", "act_threshold", "act_on", "retask_rise"):
            if key in data["defaults"]:
                assert basis(("defaults", key)).startswith("assumption"), f"defaults.{key}"
                checked += 1
        for i, agency in enumerate(data["agencies"]):
            for key in self.AGENCY_PARAMETERS:
                if key in agency:
                    why = basis(("agencies", i, key))
                    assert why.startswith(("cited", "assumption")), f"{agency['id']}.{key}: {why!r}"
                    if why.startswith("cited"):
                        assert agency.get("cites"), (
                            f"{agency['id']}.{key} says cited but the agency cites nothing"
                        )
                    checked += 1
        for i, inject in enumerate(data.get("injects", [])):
            for key in ("processing", "checks"):
                if key in inject:
                    why = basis(("injects", i, key))
                    assert why.startswith(("cited", "assumption")), f"{inject['id']}.{key}: {why!r}"
                    checked += 1
        for i, registry in enumerate(data.get("registries", [])):
            for key in ("members", "report_delay"):
                if key in registry:
                    why = basis(("registries", i, key))
                    assert why.startswith(("cited", "assumption")), (
                        f"registry {registry['id']}.{key}: {why!r}"
                    )
                    checked += 1
        assert checked >= 10

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    def test_arrangements_and_noise_carry_a_basis(self, name: str, scenarios: dict[str, Scenario]) -> None:
        s = scenarios[name]
        arrangements: list[Treaty | Centre] = [*s.treaties, *s.centres]
        for item in arrangements:
            assert item.cites or "assumption" in item.note, item.name
            assert "assumption" in item.note or item.delay == 0, (
                f"{item.name}: a non-zero delay needs its basis"
            )
        assert s.noise.per_day > 0
        assert "assumption" in s.noise.note and s.noise.cites
        assert s.noise.start is not None, "noise must be windowed (see docs/scenarios.md)"

    def test_docs_explain_every_parameter(self) -> None:
        doc = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
        for word in (
            "triage_per_day",
            "processing",
            "action_delay",
            "act_threshold",
            "act_on",
            "per_day",
            "grading",
        ):
            assert word in doc
        for name in SCENARIOS:
            assert name in doc


class TestCounterfactualAgencies:
    """The NIA did not exist in November 2008: only a policy that needs it switches it on."""

    async def test_nia_absent_from_the_historical_run(self, scenarios: dict[str, Scenario]) -> None:
        result = await _run(scenarios["mumbai-2008"], "as-happened")
        assert "NIA" not in result.summary.agencies
        assert result.summary.enabled == ()

    async def test_nia_switched_on_by_the_joint_centres(self, scenarios: dict[str, Scenario]) -> None:
        result = await _run(scenarios["mumbai-2008"], "fusion-centre")
        assert "NIA" in result.summary.enabled
        assert "NIA" in result.summary.agencies


class TestOutcomesFixedSeed:
    """Seed 1: the outcome per policy and plot, as argued in docs/scenarios.md."""

    @pytest.mark.parametrize(("name", "policy"), [(n, p) for n in sorted(SCENARIOS) for p in POLICIES])
    async def test_outcomes(self, name: str, policy: str, scenarios: dict[str, Scenario]) -> None:
        result = await _run(scenarios[name], policy)
        assert _outcomes(result) == EXPECTED[name][policy]
        for o in result.summary.outcomes:
            if o.result in ("disrupted", "partly-disrupted"):
                assert o.warning_hours is not None and o.warning_hours > 0
                assert o.disrupted_at is not None and o.disrupted_at < o.attack_at
                assert o.removed
            else:
                assert o.warning_hours is None
        # Against the ground truth, not the record's word: every arrest or interception was within
        # the acting agency's jurisdiction at that moment, and whoever was removed before an attack
        # is counted out of it.
        s = scenarios[name]
        removals = [
            e for e in result.events if isinstance(e, EffectEvent) and e.result in ("arrested", "intercepted")
        ]
        for e in removals:
            here = s.actor[e.actor].where(e.at)
            assert here is not None and here.country in s.resolved[e.agency].jurisdiction, e
        for o in result.summary.outcomes:
            plot = next(p for p in s.plots if p.id == o.plot)
            gone = {e.actor for e in removals if e.at < plot.attack_at}
            assert set(o.removed) == gone & {*plot.team, *plot.approach}, o.plot

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    @pytest.mark.parametrize("policy", ["as-happened", "siloed"])
    async def test_history_repeats(self, name: str, policy: str, scenarios: dict[str, Scenario]) -> None:
        """Without cooperation the attacks that happened still happen."""
        outcomes = _outcomes(await _run(scenarios[name], policy))
        assert {plot for plot, result in outcomes.items() if result == "attack"} == HISTORICAL_ATTACKS[name]

    @pytest.mark.parametrize("policy", POLICIES)
    async def test_mumbai_actions_fall_out_of_reach(
        self, policy: str, scenarios: dict[str, Scenario]
    ) -> None:
        """Whatever the policy, no Indian action reaches anyone: the people and the vessel the leads
        name are in Pakistan or in international waters when the orders come."""
        s = scenarios["mumbai-2008"]
        result = await _run(s, policy)
        effects = [e for e in result.events if isinstance(e, EffectEvent)]
        assert all(e.result == "out-of-reach" and e.where in {"PK", "XZ", "ZZ"} for e in effects), effects
        (outcome,) = result.summary.outcomes
        assert outcome.removed == ()

    async def test_mumbai_coast_guard_searches_the_wrong_waters(self, scenarios: dict[str, Scenario]) -> None:
        """As happened, the Coast Guard acts on the IB's alert while the vessel is in Pakistani waters."""
        result = await _run(scenarios["mumbai-2008"], "as-happened")
        searches = [e for e in result.events if isinstance(e, EffectEvent) and e.agency == "IN-CG"]
        assert searches and {(e.actor, e.result, e.where) for e in searches} == {
            ("lashkar-vessel", "out-of-reach", "PK")
        }

    async def test_mumbai_bilateral_explains_itself(self, scenarios: dict[str, Scenario]) -> None:
        """The run's record says why: GCHQ reads its Shah material only once the attack is under way
        (its per-inject processing, mum-gchq-not-analysed-not-shared), and then it stops at the
        India-UK ceiling."""
        s = scenarios["mumbai-2008"]
        result = await _run(s, "bilateral")
        attack = s.plots[0].attack_at
        to_india = {a.id for a in s.agencies if a.country == "IN" and not a.counterfactual}
        decided = [
            e for e in result.events if isinstance(e, DecisionEvent) and e.lead.startswith("gchq-shah-")
        ]
        assert decided and all(e.at >= attack for e in decided)
        gchq = [e for e in decided if e.lead == "gchq-shah-collection" and e.recipient in to_india]
        assert {e.recipient for e in gchq} == to_india
        assert all(e.action == "withhold" and e.rule == "bilateral: above ceiling" for e in gchq)
        released_to_us = {
            e.recipient for e in decided if e.lead == "gchq-shah-collection" and e.action == "release"
        }
        assert {"NSA", "CIA", "FBI", "MI5"} <= released_to_us

    async def test_paris_verviers_is_disrupted_hours_ahead(self, scenarios: dict[str, Scenario]) -> None:
        result = await _run(scenarios["paris-2015"], "as-happened")
        verviers = next(o for o in result.summary.outcomes if o.plot == "verviers-cell")
        assert verviers.disrupted_by == "BE-FEDPOL"
        assert verviers.warning_hours is not None
        assert 0 < verviers.warning_hours < 12


class TestDisputedFacts:
    """Runs include disputed facts by default; --exclude-disputed drops them; the summary says which were in."""

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    async def test_included_by_default_and_listed(self, name: str, scenarios: dict[str, Scenario]) -> None:
        """A disputed fact with a chance (an even one between two accounts) is in only the runs that
        draw it; the others are always in."""
        drawn = {i.id for i in scenarios[name].injects if i.uncertain is not None and i.uncertain.chance < 1}
        for seed in (1, 2, 3):
            result = await _run(scenarios[name], "as-happened", seed=seed)
            included = set(result.summary.disputed_included)
            assert DISPUTED_INJECTS[name] - drawn <= included <= DISPUTED_INJECTS[name]
            observed = {e.inject for e in result.events if isinstance(e, InjectEvent)}
            assert included <= observed
            assert not (DISPUTED_INJECTS[name] - included) & observed

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    async def test_excluded_on_request(self, name: str, scenarios: dict[str, Scenario]) -> None:
        result = await _run(scenarios[name], "as-happened", exclude_disputed=True)
        assert result.summary.exclude_disputed is True
        assert result.summary.disputed_included == ()
        observed = {e.inject for e in result.events if isinstance(e, InjectEvent)}
        assert not DISPUTED_INJECTS[name] & observed
        undisputed = {i.id for i in scenarios[name].injects if not i.disputed}
        assert undisputed <= observed

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    async def test_no_outcome_rests_on_a_disputed_fact(
        self, name: str, scenarios: dict[str, Scenario]
    ) -> None:
        for policy in ("as-happened", "fusion-centre"):
            result = await _run(scenarios[name], policy, exclude_disputed=True)
            assert _outcomes(result) == EXPECTED[name][policy]


def test_expect_blocks_agree_with_this_file(scenarios: dict[str, Scenario]) -> None:
    """``tearline check`` reads the scenarios' expect blocks; they must say what these tests assert."""
    for name, scenario in scenarios.items():
        declared = {e.policy: dict(e.outcomes) for e in scenario.expect if e.seed == 1}
        assert declared == EXPECTED[name]


@pytest.mark.slow
class TestOutcomesManySeeds:
    """Seeds draw noise, uncertain dates, disputed facts and whether an action succeeds (20 seeds)."""

    SEEDS = range(1, 21)

    @pytest.mark.parametrize("name", sorted(SCENARIOS))
    @pytest.mark.parametrize("policy", ["as-happened", "siloed"])
    async def test_history_repeats_in_every_seed(
        self, name: str, policy: str, scenarios: dict[str, Scenario]
    ) -> None:
        """Without more cooperation than there was, every attack that happened happens, whatever is drawn."""
        for seed in self.SEEDS:
            result = await _run(scenarios[name], policy, seed=seed)
            attacked = {plot for plot, outcome in _outcomes(result).items() if outcome == "attack"}
            assert attacked == HISTORICAL_ATTACKS[name], f"seed {seed}"

    @pytest.mark.parametrize("policy", POLICIES)
    async def test_verviers_is_disrupted_in_every_seed(
        self, policy: str, scenarios: dict[str, Scenario]
    ) -> None:
        for seed in self.SEEDS:
            result = await _run(scenarios["paris-2015"], policy, seed=seed)
            assert _outcomes(result)["verviers-cell"] == "disrupted", f"seed {seed}"

    async def test_brussels_bombers_are_never_located(self, scenarios: dict[str, Scenario]) -> None:
        """As happened, the orders that name a Brussels bomber (the wanted 'Kayal', Abrini) find him
        nowhere the record places him: every such effect is out of reach."""
        team = {
            "ibrahim-el-bakraoui",
            "najim-laachraoui",
            "mohamed-abrini",
            "khalid-el-bakraoui",
            "osama-krayem",
        }
        for seed in self.SEEDS:
            result = await _run(scenarios["paris-2015"], "as-happened", seed=seed)
            effects = [e for e in result.events if isinstance(e, EffectEvent) and e.actor in team]
            assert effects, f"seed {seed}"
            assert {e.result for e in effects} == {"out-of-reach"}, f"seed {seed}"
