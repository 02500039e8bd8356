"""Actions meet the world: reach, chance of success, removal from later plots, partial outcomes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario, replay
from tearline.model import (
    EffectEvent,
    OutcomeEvent,
    ProtectionEvent,
    ScenarioError,
    Uncertainty,
    Window,
    load_scenario,
)

DAY = 86400
START = "2030-01-01T00:00+00:00"
START_T = 1893456000
COUNTRIES = ("AA", "BB")
REMOVED = ("arrested", "intercepted")
RUNS = settings(max_examples=30, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def iso(t: int) -> str:
    from tearline.model import iso as fmt

    return fmt(t)


@st.composite
def worlds(draw: st.DrawFn) -> Scenario:
    """Two or three agencies in two countries sharing through a joint centre (some taking requests
    to act); three people who move
    between the countries; one or two plots whose teams draw on them; injects naming them with a
    target and a date, observed by random agencies at random times."""
    agencies = [
        {"id": f"AG{i}", "name": f"Agency {i}", "country": COUNTRIES[i % 2], "kind": "police",
         "action_success": draw(st.sampled_from([1.0, 0.7])), "search_success": draw(st.sampled_from([0.0, 0.5])),
         "posture": draw(st.sampled_from([None, "10d"])),
         "processing": "1h", "action_delay": "2h",
         "act_on": ["identity", "target"], "act_threshold": 0.3}
        for i in range(draw(st.integers(2, 3)))
    ]  # fmt: skip
    for a in agencies:  # some take requests (to act in their jurisdiction), on drawn terms
        if draw(st.booleans()):
            a["answers"] = {
                "chance": draw(st.sampled_from([1.0, 0.5])),
                "delay": draw(st.sampled_from(["0s", "1d"])),
            }
    actors = []
    for k in range(3):
        moves = sorted(draw(st.lists(st.integers(0, 40), min_size=1, max_size=3, unique=True)))
        actors.append(
            {
                "id": f"p{k}",
                "identifier": {"kind": "person", "value": f"person {k}"},
                "whereabouts": [
                    {"from": iso(START_T + d * DAY), "in": draw(st.sampled_from(COUNTRIES))} for d in moves
                ],
                "cites": ["ctx-mumbai-nobody-whole-picture"],
            }
        )
    plots = []
    for j in range(draw(st.integers(1, 2))):
        team = draw(st.lists(st.sampled_from(["p0", "p1", "p2"]), min_size=1, max_size=3, unique=True))
        plots.append(
            {
                "id": f"plot{j}", "name": f"plot {j}", "attack_at": iso(START_T + (20 + 15 * j) * DAY),
                "place": "x", "jurisdiction": list(COUNTRIES),
                "entities": [{"kind": "person", "value": f"person {p[1]}"} for p in team]
                + [{"kind": "venue", "value": f"site {j}", "where": "AA"}],
                "team": team, "disrupt_at": draw(st.integers(1, len(team))),
                "cites": ["ctx-mumbai-nobody-whole-picture"],
            }
        )  # fmt: skip
    injects = []
    for n in range(draw(st.integers(1, 4))):
        person = draw(st.sampled_from(["0", "1", "2"]))
        injects.append(
            {
                "id": f"i{n}", "at": iso(START_T + draw(st.integers(0, 45)) * DAY),
                "observer": draw(st.sampled_from([a["id"] for a in agencies])), "what": "a report",
                "lead": {"identifiers": [{"kind": "person", "value": f"person {person}"},
                                         {"kind": "venue", "value": f"site {draw(st.integers(0, 1))}",
                                          "where": draw(st.sampled_from([None, *COUNTRIES]))}],
                         "grading": "B2"},
                "cites": ["ctx-mumbai-nobody-whole-picture"],
            }
        )  # fmt: skip
    data: dict[str, Any] = {
        "id": "generated", "title": "generated", "description": "generated", "start": START,
        "agencies": agencies, "actors": actors, "plots": plots, "injects": injects,
        "centres": [{"name": "all", "members": [a["id"] for a in agencies]}],
    }  # fmt: skip
    return Scenario.model_validate_json(json.dumps(data))


def changed(s: Scenario, **update: Any) -> Scenario:
    """A copy with fields replaced, validated afresh (no cached look-ups carried over)."""
    return Scenario.model_validate_json(s.model_copy(update=update).model_dump_json(by_alias=True))


async def outcomes_and_effects(s: Scenario, seed: int) -> tuple[list[OutcomeEvent], list[EffectEvent]]:
    result = await replay(RunConfig(scenario=s, policy="fusion-centre", seed=seed))
    outcomes = [e for e in result.events if isinstance(e, OutcomeEvent)]
    return outcomes, [e for e in result.events if isinstance(e, EffectEvent)]


class TestMechanicsProperties:
    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_every_credited_action_was_within_reach(self, s: Scenario, seed: int) -> None:
        """Every arrest the judge credits was made by an agency whose jurisdiction held the person at
        that moment (ground truth, not the record's word for it) — including arrests a partner made
        because it was asked to act."""
        outcomes, effects = await outcomes_and_effects(s, seed)
        for e in effects:
            here = s.actor[e.actor].where(e.at)
            if e.result in REMOVED:
                assert here is not None and here.country in s.resolved[e.agency].jurisdiction, e
                # found where the case placed him, or searched for at the agency's stated chance
                assert e.where in e.placed or e.chance <= s.resolved[e.agency].search_success, e
            if e.result == "unplaced":
                assert e.where not in e.placed, e
            if e.result == "out-of-reach":
                assert here is None or here.country not in s.resolved[e.agency].jurisdiction, e
        for o in outcomes:
            for actor in o.removed:
                assert any(e.actor == actor and e.result in REMOVED and e.at < o.at for e in effects), o

    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_an_arrested_person_takes_part_in_no_later_attack(self, s: Scenario, seed: int) -> None:
        """Whoever is arrested before an attack is counted out of it, whichever plot the arrest was for;
        an attack that goes ahead at full strength had nobody of its team arrested before it."""
        outcomes, effects = await outcomes_and_effects(s, seed)
        plots = {p.id: p for p in s.plots}
        for o in outcomes:
            gone = {e.actor for e in effects if e.result in REMOVED and e.at < o.at}
            team = set(plots[o.plot].team)
            assert set(o.removed) == team & gone, o
            if o.result == "attack":
                assert not team & gone
            if o.result == "partly-disrupted":
                assert len(team & gone) < plots[o.plot].enough
                assert team & gone or o.protected, o

    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_a_guard_counts_only_if_it_held_at_the_attack(self, s: Scenario, seed: int) -> None:
        """Every place an outcome calls guarded was guarded, by an order given before the attack, for
        a span containing the attack time; and a guard alone never makes a plot disrupted."""
        events = (await replay(RunConfig(scenario=s, policy="fusion-centre", seed=seed))).events
        guards = [e for e in events if isinstance(e, ProtectionEvent)]
        for o in (e for e in events if isinstance(e, OutcomeEvent)):
            for place in o.protected:
                assert any(g.place == place and g.at < o.at and g.start <= o.at <= g.end for g in guards), o
            if o.result == "disrupted":
                assert o.removed, o


class TestReach:
    def test_a_team_member_must_be_an_actor(self, tmp_path: Path) -> None:
        """A plot naming an unknown actor is refused with the file, line and field."""
        path = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "connect-the-dots.yaml"
        bad = tmp_path / "bad-team.yaml"
        bad.write_text(path.read_text().replace("team: [karim-vale]", "team: [nobody]"))
        with pytest.raises(ScenarioError, match=r"plots\[0\]\.team\[0\].*unknown actor 'nobody'"):
            load_scenario(bad, seeds_dir=path.parents[2] / "seeds")

    async def test_out_of_reach_is_recorded_and_not_credited(self, teaching: Scenario) -> None:
        """If Karim Vale is still abroad when the security service acts, the arrest is out of reach and
        not credited."""
        (vale,) = teaching.actors
        abroad = vale.model_copy(update={"whereabouts": vale.whereabouts[:1]})
        s = changed(teaching, actors=(abroad,))
        outcomes, effects = await outcomes_and_effects(s, 1)
        assert [e.result for e in effects] == ["out-of-reach"] and effects[0].where == "XS"
        # nobody removed: the guard on the hotel (the booking's window) is all the order achieves
        assert outcomes[0].removed == () and outcomes[0].result == "partly-disrupted"

    async def test_an_order_finds_only_whom_its_case_places(self, teaching: Scenario) -> None:
        """With the hotel's country unknown, nothing places Karim Vale: the security service's order
        does not find him and the attack happens — unless it searches, at a stated chance."""
        injects = tuple(
            i.model_copy(
                update={
                    "lead": i.lead.model_copy(
                        update={
                            "identifiers": tuple(
                                x.model_copy(update={"where": None}) for x in i.lead.identifiers
                            )
                        }
                    )
                }
            )
            for i in teaching.injects
        )
        s = changed(teaching, injects=injects)
        outcomes, effects = await outcomes_and_effects(s, 1)
        assert {(e.result, e.where, e.placed) for e in effects} == {("unplaced", "XN", ())}
        assert outcomes[0].result == "attack"
        searching = changed(s, defaults=s.defaults.model_copy(update={"search_success": 1.0}))
        outcomes, effects = await outcomes_and_effects(searching, 1)
        assert effects[0].result == "arrested" and outcomes[0].result == "disrupted"

    async def test_success_is_drawn_per_seed(self, teaching: Scenario) -> None:
        """With a stated chance of success, some seeds' arrests fail: the rate lies strictly between 0 and 1."""
        agencies = tuple(a.model_copy(update={"action_success": 0.5}) for a in teaching.agencies)
        s = changed(teaching, agencies=agencies)
        results = [(await outcomes_and_effects(s, seed))[0][0].result for seed in range(1, 13)]
        assert "disrupted" in results and "partly-disrupted" in results  # a failed arrest leaves the guard


class TestProtection:
    """An order guards the places of its case within the agency's jurisdiction, for the case's timing
    windows (or a raised posture without one); a guarded target at attack time makes the attack
    partly disrupted, never disrupted."""

    def _abroad(self, teaching: Scenario, window: tuple[str, str] | None) -> Scenario:
        """Karim Vale never comes within reach; the booking's window is ``window`` (None: no window)."""
        (vale,) = teaching.actors
        injects = []
        for i in teaching.injects:
            if i.id == "when":
                indicators = tuple(
                    ind.model_copy(
                        update={
                            "window": Window.model_validate({"from": window[0], "to": window[1]})
                            if window
                            else None
                        }
                    )
                    for ind in i.lead.indicators
                )
                i = i.model_copy(update={"lead": i.lead.model_copy(update={"indicators": indicators})})
            injects.append(i)
        return changed(
            teaching,
            actors=(vale.model_copy(update={"whereabouts": vale.whereabouts[:1]}),),
            injects=tuple(injects),
        )

    async def _run(self, s: Scenario) -> tuple[OutcomeEvent, list[ProtectionEvent]]:
        result = await replay(RunConfig(scenario=s, policy="fusion-centre", seed=1))
        guards = [e for e in result.events if isinstance(e, ProtectionEvent)]
        return next(e for e in result.events if isinstance(e, OutcomeEvent)), guards

    async def test_a_guarded_target_partly_disrupts(self, teaching: Scenario) -> None:
        s = self._abroad(teaching, ("2030-03-14T00:00+00:00", "2030-03-16T23:59+00:00"))
        outcome, guards = await self._run(s)
        assert guards and {g.place for g in guards} == {"venue:grand meridian hotel"}
        assert all(g.agency == "NSS" and g.at < outcome.at for g in guards)
        assert outcome.result == "partly-disrupted" and outcome.removed == ()
        assert outcome.protected == ("venue:grand meridian hotel",) and outcome.disrupted_by == "NSS"

    async def test_a_guard_that_has_lapsed_protects_nothing(self, teaching: Scenario) -> None:
        """The booking's window ends hours before the attack: the guard is gone when it comes."""
        s = self._abroad(teaching, ("2030-03-14T00:00+00:00", "2030-03-15T12:00+00:00"))
        outcome, guards = await self._run(s)
        assert guards and all(g.end < outcome.at for g in guards)
        assert outcome.result == "attack" and outcome.protected == ()

    async def test_without_a_window_only_a_posture_guards(self, teaching: Scenario) -> None:
        """With no timing the security service guards nothing unless it raises a posture; a posture
        shorter than the wait before the attack lapses, a longer one covers it."""
        s = self._abroad(teaching, None)
        s = changed(s, defaults=s.defaults.model_copy(update={"act_on": ("identity", "target")}))
        outcome, guards = await self._run(s)
        assert guards == [] and outcome.result == "attack"
        short = changed(s, defaults=s.defaults.model_copy(update={"posture": 3600}))
        outcome, guards = await self._run(short)
        assert guards and outcome.result == "attack"
        long = changed(s, defaults=s.defaults.model_copy(update={"posture": 30 * DAY}))
        outcome, guards = await self._run(long)
        assert outcome.result == "partly-disrupted" and outcome.protected == ("venue:grand meridian hotel",)


class TestUncertainInjects:
    """An inject with ``uncertain`` is drawn per seed: its time within the window, whether it happens."""

    def _with(self, teaching: Scenario, **uncertain: Any) -> Scenario:
        injects = tuple(
            i.model_copy(update={"uncertain": Uncertainty.model_validate(uncertain)}) if i.id == "what" else i
            for i in teaching.injects
        )
        return changed(teaching, injects=injects)

    def test_the_time_is_drawn_in_the_window_and_fixed_by_the_seed(self, teaching: Scenario) -> None:
        """Each seed gives a minute between ``at`` and ``until``; the same seed gives the same one."""
        nominal = next(i for i in teaching.injects if i.id == "what").at
        s = self._with(teaching, until=nominal + 5 * DAY)
        times = {
            seed: next(
                i.at for i in RunConfig(scenario=s, policy="siloed", seed=seed).injects() if i.id == "what"
            )
            for seed in range(1, 31)
        }
        assert all(nominal <= t <= nominal + 5 * DAY and (t - nominal) % 60 == 0 for t in times.values())
        assert len(set(times.values())) > 20
        again = RunConfig(scenario=s, policy="siloed", seed=7).injects()
        assert next(i.at for i in again if i.id == "what") == times[7]

    def test_chance_decides_whether_it_happens(self, teaching: Scenario) -> None:
        """With chance 0 it never happens, with 1 always, with 0.5 in some seeds only."""
        for chance, low, high in ((0.0, 0, 0), (1.0, 30, 30), (0.5, 5, 25)):
            s = self._with(teaching, chance=chance)
            n = sum(
                any(i.id == "what" for i in RunConfig(scenario=s, policy="siloed", seed=seed).injects())
                for seed in range(1, 31)
            )
            assert low <= n <= high, (chance, n)

    def test_a_window_ending_before_the_inject_is_refused(self, tmp_path: Path) -> None:
        """The loader names the field and the problem."""
        path = Path(__file__).resolve().parents[2] / "scenarios" / "examples" / "connect-the-dots.yaml"
        bad = tmp_path / "bad-window.yaml"
        text = path.read_text().replace(
            "    observer: NSIG\n", "    observer: NSIG\n    uncertain: {until: 2030-03-01T00:00+00:00}\n"
        )
        bad.write_text(text)
        with pytest.raises(ScenarioError, match=r"injects\[1\]\.uncertain\.until.*ends at or before"):
            load_scenario(bad, seeds_dir=path.parents[2] / "seeds")
