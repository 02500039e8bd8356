"""The live exercise engine: moves, rewind, replay, players' decisions and the shared actionability rule."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario, replay
from tearline.model import (
    DAY,
    CaseEvent,
    DecisionEvent,
    DeskDecision,
    DeskEvent,
    Inject,
    InjectEvent,
    NoteEvent,
    PolicyEvent,
    RunError,
    load_scenario,
    parse_time,
    resolve_scenario,
)
from tearline.run import Exercise, read_moves


async def started(config: RunConfig) -> Exercise:
    ex = Exercise(config)
    await ex.start()
    return ex


async def played(scenario: Scenario) -> Exercise:
    """An exercise with one move of each kind, left at 2030-03-06."""
    ex = await started(RunConfig(scenario=scenario, policy="siloed", seed=1))
    await ex.advance_to(parse_time("2030-03-03T00:00+00:00"))
    await ex.decide(DeskDecision(agency="SFS", lead="who", action="release", counterpart="NSS"))
    await ex.note("the room asks NSIG about the e-mail address")
    await ex.advance_to(parse_time("2030-03-04T00:00+00:00"))
    await ex.change_policy("fusion-centre")
    await ex.inject(
        Inject.model_validate_json(
            '{"id": "tipoff", "at": "2030-03-05T00:00+00:00", "observer": "NSS", "what": "a tip-off",'
            ' "lead": {"identifiers": [{"kind": "person", "value": "Karim Vale"}], "grading": "B2"}}'
        )
    )
    await ex.advance_to(parse_time("2030-03-06T00:00+00:00"))
    return ex


class TestMoves:
    async def test_every_move_is_in_the_record(self, teaching: Scenario) -> None:
        """A desk release, a note, a policy change and an inject each leave their event in the record."""
        ex = await played(teaching)
        events = await ex.record()
        assert [(e.agency, e.lead, e.action, e.held) for e in events if isinstance(e, DeskEvent)] == [
            ("SFS", "who", "release", True)
        ]
        assert any(isinstance(e, DecisionEvent) and e.rule == "desk" and e.recipient == "NSS" for e in events)
        assert [e.text for e in events if isinstance(e, NoteEvent)] == [
            "the room asks NSIG about the e-mail address"
        ]
        assert [(e.policy, e.previous) for e in events if isinstance(e, PolicyEvent)] == [
            ("fusion-centre", "siloed")
        ]
        assert any(isinstance(e, InjectEvent) and e.inject == "tipoff" for e in events)
        assert "who" in {h.lead.id for h in ex.holdings("NSS")}

    async def test_a_desks_withholding_stops_the_gateway_releasing_that_lead_to_that_counterpart(
        self, teaching: Scenario
    ) -> None:
        """NSS's desk withholds a fresh lead from SFS before the gateway sees it: the gateway withholds
        it from SFS (rule ``desk``) and still releases it to NSIG by the policy; replay agrees."""
        ex = await started(RunConfig(scenario=teaching, policy="fusion-centre", seed=1))
        await ex.advance_to(parse_time("2030-03-03T00:00+00:00"))
        tip = await ex.inject(
            Inject.model_validate_json(
                '{"id": "tipoff", "at": "2030-03-03T00:00+00:00", "observer": "NSS", "what": "a tip-off",'
                ' "lead": {"identifiers": [{"kind": "person", "value": "Karim Vale"}], "grading": "B2"}}'
            )
        )
        lead = next(
            h.lead.id for h in ex.holdings("NSS") if h.lead.observed_at == tip.at and h.source == "NSS"
        )
        await ex.decide(DeskDecision(agency="NSS", lead=lead, action="withhold", counterpart="SFS"))
        await ex.advance_to(parse_time("2030-03-06T00:00+00:00"))
        decisions = {
            e.recipient: (e.action, e.rule)
            for e in await ex.record()
            if isinstance(e, DecisionEvent) and e.lead == lead and e.sender == "NSS"
        }
        assert decisions["SFS"] == ("withhold", "desk")
        assert decisions["NSIG"][0] == "release" and decisions["NSIG"][1] != "desk"
        assert lead not in {h.lead.id for h in ex.holdings("SFS")}
        again = await Exercise.replay(ex.config, ex.moves, until=ex.clock)
        assert (await again.debrief()).record == (await ex.debrief()).record

    async def test_saved_moves_replay_byte_for_byte(self, teaching: Scenario, tmp_path: Path) -> None:
        """exercise.yaml, replayed, gives the same record bytes as the debriefed exercise."""
        ex = await played(teaching)
        result = await ex.debrief(tmp_path)
        again = await Exercise.replay(ex.config, read_moves(tmp_path / "exercise.yaml"))
        assert (await again.debrief()).record == result.record == (tmp_path / "record.jsonl").read_bytes()

    async def test_no_moves_is_the_plain_run(self, teaching: Scenario) -> None:
        """An exercise nobody touches, stepped in any way, is the same run as `tearline run`."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        ex = await started(config)
        await ex.step(7)
        await ex.advance_to(parse_time("2030-03-09T13:00+00:00"))
        assert (await ex.debrief()).digest == (await replay(config)).digest

    async def test_now_is_not_delayed_by_a_pause(self, teaching: Scenario) -> None:
        """An inject made now is observed now, without the clock moving."""
        ex = await started(RunConfig(scenario=teaching, policy="siloed", seed=1))
        await ex.advance_to(parse_time("2030-03-02T00:00+00:00"))
        clock = ex.clock
        inject = Inject.model_validate_json(
            '{"id": "now", "at": "2030-03-01T00:00+00:00", "observer": "NSIG", "what": "now",'
            ' "lead": {"identifiers": [{"kind": "person", "value": "X"}]}}'
        )
        made = await ex.inject(inject)
        assert made.at == clock  # an inject for a past time is observed now
        assert ex.clock == clock
        assert any(isinstance(e, InjectEvent) and e.inject == "now" for e in await ex.record())
        assert "now" in {h.lead.id for h in ex.holdings("NSIG")}

    async def test_bad_moves_change_nothing(self, teaching: Scenario) -> None:
        """A decision about a lead the desk does not hold, to itself, or an unknown policy, is refused."""
        ex = await started(RunConfig(scenario=teaching, policy="siloed", seed=1))
        with pytest.raises(RunError, match="does not hold"):
            await ex.decide(DeskDecision(agency="NSS", lead="who", action="release", counterpart="SFS"))
        with pytest.raises(RunError, match="no agency"):
            await ex.decide(DeskDecision(agency="NSS", lead="who", action="request", counterpart="MI5"))
        with pytest.raises(Exception, match="unknown policy"):
            await ex.change_policy("no-such-policy")
        assert ex.moves == []


class TestRewind:
    @settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(hours=st.integers(min_value=0, max_value=5 * 24))
    def test_rewind_equals_replaying_the_earlier_moves(self, teaching: Scenario, hours: int) -> None:
        """Rewinding to any time and playing on gives the digest of the moves made by then, replayed."""

        async def go() -> tuple[str, str]:
            ex = await played(teaching)
            to = teaching.start + hours * 3600
            back = await ex.rewound(to)
            assert back.clock == to
            kept = [m for m in ex.moves if m.clock <= to]
            assert back.moves == kept
            fresh = await Exercise.replay(ex.config, kept)
            return (await back.debrief()).digest, (await fresh.debrief()).digest

        rewound, replayed = asyncio.run(go())
        assert rewound == replayed

    async def test_cannot_rewind_forwards(self, teaching: Scenario) -> None:
        """Rewinding past the clock is an error, not a jump."""
        ex = await started(RunConfig(scenario=teaching, policy="siloed", seed=1))
        with pytest.raises(RunError, match="after the exercise clock"):
            await ex.rewound(teaching.start + DAY)


class TestClock:
    async def test_quiet_periods_are_named(self) -> None:
        """Mumbai's clock stays where the facilitator jumped to; the next step says what it skips."""
        mumbai = load_scenario(resolve_scenario("mumbai-2008"))
        ex = await started(RunConfig(scenario=mumbai, policy="as-happened", seed=1))
        to = parse_time("2005-08-17T00:00+05:30")
        await ex.advance_to(to)
        assert ex.local(ex.clock) == "2005-08-17 00:00 +05:30"
        skip = await ex.step()
        assert skip is not None and skip.start == to and skip.length > DAY
        assert "+05:30" in skip.describe(ex.local)


class TestActionability:
    async def test_views_and_analysts_agree(self, teaching: Scenario) -> None:
        """The exercise's view of a case and the agency's recorded case use the same rule."""
        ex = await started(RunConfig(scenario=teaching, policy="fusion-centre", seed=1))
        await ex.advance_to(parse_time("2030-03-10T19:00+00:00"))
        last: dict[str, CaseEvent] = {}
        for e in await ex.record():
            if isinstance(e, CaseEvent) and e.agency == "NSS":
                last[e.case] = e
        view = {c.case: c for c in ex.view("NSS").cases}
        assert any(c.actionable for c in view.values())
        for case_id, event in last.items():
            if case_id in view:
                assert view[case_id].actionable == event.actionable, case_id
        service = ex.agencies["NSS"]
        for case in service.cases.cases():
            assert case.actionable(service.agency, ex.clock) == view[case.id].actionable
