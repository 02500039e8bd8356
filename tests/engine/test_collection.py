"""Collection: tasking on held selectors, random search on free slots, slots held by work."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import RunConfig, Scenario, replay
from tearline.model import (
    ActionEvent,
    DecisionEvent,
    EffectEvent,
    Event,
    Identifier,
    Indicator,
    InjectEvent,
    OutcomeEvent,
    PublishEvent,
    ScenarioError,
    TaskingEvent,
    load_scenario,
)

DAY = 86400
START_T = 1893456000
SCENARIO = Path(__file__).parent / "scenarios" / "collection.yaml"
CAPABILITIES = ("sigint", "surveillance", "border", "database", "humint")
RUNS = settings(max_examples=25, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def iso(t: int) -> str:
    from tearline.model import iso as fmt

    return fmt(t)


@pytest.fixture(scope="module")
def collection() -> Scenario:
    return load_scenario(SCENARIO)


def changed(s: Scenario, **update: Any) -> Scenario:
    return Scenario.model_validate_json(s.model_copy(update=update).model_dump_json(by_alias=True))


def with_agency(s: Scenario, agency: str, **update: Any) -> Scenario:
    return changed(
        s, agencies=tuple(a.model_copy(update=update) if a.id == agency else a for a in s.agencies)
    )


async def events(s: Scenario, policy: str = "fusion-centre", seed: int = 1) -> list[Event]:
    return list((await replay(RunConfig(scenario=s, policy=policy, seed=seed))).events)


def first(found: list[Event], kind: type[Any], **match: Any) -> Any:
    for e in found:
        if isinstance(e, kind) and all(getattr(e, k) == v for k, v in match.items()):
            return e
    raise AssertionError(f"no {kind.__name__} with {match}")


class TestTheChain:
    async def test_a_released_selector_is_tasked_reveals_a_lead_and_leads_to_an_arrest(
        self, collection: Scenario
    ) -> None:
        """Release of the name → the security service tasks it → the watch reveals the meeting → arrest."""
        found = await events(collection)
        release = first(found, DecisionEvent, lead="courier", recipient="NSS", action="release")
        task = first(found, TaskingEvent, agency="NSS", step="task", selector="person:omar stone")
        start = first(found, TaskingEvent, agency="NSS", step="start", selector="person:omar stone")
        revealed = first(found, TaskingEvent, agency="NSS", step="revealed", latent="stone-meeting")
        observed = first(found, InjectEvent, inject="stone-meeting", observer="NSS")
        act = first(found, ActionEvent, agency="NSS", action="interdict")
        arrest = first(found, EffectEvent, agency="NSS", actor="omar-stone", result="arrested")
        outcome = first(found, OutcomeEvent, plot="station")
        assert release.at < task.at < start.at < revealed.at <= observed.at < act.at < arrest.at
        assert revealed.lead == observed.lead == "stone-meeting-nss"
        assert act.case == task.case == revealed.case
        assert outcome.result == "disrupted" and outcome.disrupted_by == "NSS"

    async def test_without_the_release_nothing_is_tasked(self, collection: Scenario) -> None:
        """Siloed, the security service never holds the name: no tasking, and the attack happens."""
        found = await events(collection, policy="siloed")
        assert not any(isinstance(e, TaskingEvent) for e in found)
        assert first(found, OutcomeEvent, plot="station").result == "attack"

    async def test_without_the_capability_the_tasking_reveals_nothing(self, collection: Scenario) -> None:
        """A security service that cannot follow people (database checks only) tasks the name in vain."""
        found = await events(with_agency(collection, "NSS", capabilities=("database",)))
        nothing = [
            e for e in found if isinstance(e, TaskingEvent) and e.agency == "NSS" and e.step == "nothing"
        ]
        assert nothing and not any(isinstance(e, InjectEvent) and e.inject == "stone-meeting" for e in found)
        assert first(found, OutcomeEvent, plot="station").result == "attack"

    async def test_the_tasking_chance_is_drawn_per_seed(self, collection: Scenario) -> None:
        """With a chance of one half per tasking, some seeds reveal the meeting and some do not."""
        latent = tuple(lat.model_copy(update={"chance": 0.5}) for lat in collection.latent)
        s = changed(collection, latent=latent)
        results = {
            first(await events(s, seed=seed), OutcomeEvent, plot="station").result for seed in range(1, 11)
        }
        assert results == {"disrupted", "attack"}

    async def test_surveillance_zero_changes_nothing(self, collection: Scenario) -> None:
        """With no surveillance slots the record is byte-identical to the scenario without any latent
        observation or collection field: nothing is tasked, searched or held."""
        quiet = changed(
            collection,
            agencies=tuple(a.model_copy(update={"surveillance": 0}) for a in collection.agencies),
        )
        bare = changed(
            collection,
            latent=(),
            agencies=tuple(
                a.model_copy(update={"surveillance": None, "tasking_time": None, "interdiction_time": None})
                for a in collection.agencies
            ),
        )
        one = await replay(RunConfig(scenario=quiet, policy="fusion-centre", seed=3))
        two = await replay(RunConfig(scenario=bare, policy="fusion-centre", seed=3))
        assert one.digest == two.digest
        assert not any(isinstance(e, TaskingEvent) for e in one.events)


class TestTheScenarioFile:
    def test_a_latent_observation_nothing_can_reveal_is_refused(self, tmp_path: Path) -> None:
        """No selector and no search rate: the loader names the field and the problem."""
        bad = tmp_path / "bad-latent.yaml"
        bad.write_text(SCENARIO.read_text().replace("    selector: {kind: person, value: Omar Stone}\n", ""))
        with pytest.raises(ScenarioError, match=r"latent\[0\]\.selector.*nothing can reveal it"):
            load_scenario(bad)

    def test_an_unknown_capability_is_refused(self, tmp_path: Path) -> None:
        """A capability outside the list is a located error, not a traceback."""
        bad = tmp_path / "bad-capability.yaml"
        bad.write_text(SCENARIO.read_text().replace("capability: surveillance", "capability: telepathy"))
        with pytest.raises(ScenarioError, match=r"latent\[0\]\.capability"):
            load_scenario(bad)


def later(s: Scenario, latent: str, **update: Any) -> Scenario:
    """The scenario with one latent observation changed (e.g. collectable only later)."""
    return changed(
        s, latent=tuple(lat.model_copy(update=update) if lat.id == latent else lat for lat in s.latent)
    )


MAR_12 = 1899547200  # 2030-03-12T00:00Z: after the security service's five-day watch has ended


class TestStandingAlertsAndRetasking:
    """An observation that becomes collectable after the watch on its selector has ended is missed
    by a single tasking; a standing alert or a re-tasking on a changed case collects it."""

    async def test_a_single_watch_misses_what_comes_later(self, collection: Scenario) -> None:
        found = await events(later(collection, "stone-meeting", start=MAR_12))
        assert (
            first(found, TaskingEvent, agency="NSS", step="start", selector="person:omar stone").until
            < MAR_12
        )
        assert not any(isinstance(e, InjectEvent) and e.inject == "stone-meeting" for e in found)
        assert first(found, OutcomeEvent, plot="station").result == "attack"

    async def test_a_standing_alert_collects_it_and_the_arrest_follows(self, collection: Scenario) -> None:
        s = with_agency(later(collection, "stone-meeting", start=MAR_12), "NSS", alert=30 * DAY)
        found = await events(s)
        alert = first(found, TaskingEvent, agency="NSS", step="alert", selector="person:omar stone")
        hit = first(found, TaskingEvent, agency="NSS", step="hit", latent="stone-meeting")
        follow = first(found, TaskingEvent, agency="NSS", step="follow", latent="stone-meeting")
        observed = first(found, InjectEvent, inject="stone-meeting", observer="NSS")
        assert alert.at < MAR_12 == hit.at == follow.at < observed.at == MAR_12 + DAY
        assert follow.until == observed.at
        assert first(found, OutcomeEvent, plot="station").result == "disrupted"

    async def test_an_alert_that_has_expired_collects_nothing(self, collection: Scenario) -> None:
        s = with_agency(later(collection, "stone-meeting", start=MAR_12), "NSS", alert=5 * DAY)
        found = await events(s)
        assert first(found, TaskingEvent, agency="NSS", step="alert").until < MAR_12
        assert not any(isinstance(e, TaskingEvent) and e.step in ("hit", "follow") for e in found)
        assert first(found, OutcomeEvent, plot="station").result == "attack"

    async def test_a_hit_waits_for_a_free_slot(self, collection: Scenario) -> None:
        """One slot held by a long watch on the name: the phone's hit waits behind it (and behind the
        phone's own tasking) and is never followed up before the attack. With two slots and five-day
        watches, both free again by then, it is followed up at once."""
        phone = Identifier(kind="phone", value="+00 555 0101")
        s = later(collection, "stone-meeting", start=MAR_12, selector=phone)
        busy = with_agency(s, "NSS", alert=30 * DAY, surveillance=1, tasking_time=20 * DAY)
        found = await events(busy)
        assert first(found, TaskingEvent, agency="NSS", step="hit", latent="stone-meeting").at == MAR_12
        assert not any(isinstance(e, TaskingEvent) and e.step == "follow" for e in found)
        assert not any(isinstance(e, InjectEvent) and e.inject == "stone-meeting" for e in found)
        free = await events(with_agency(s, "NSS", alert=30 * DAY, surveillance=2, tasking_time=5 * DAY))
        assert first(free, TaskingEvent, agency="NSS", step="follow", latent="stone-meeting").at == MAR_12

    async def test_a_changed_case_is_tasked_again_after_its_watch(self, collection: Scenario) -> None:
        """A second report on the courier (a target, a new facet) on 12 March re-tasks his name when
        ``retask_rise`` is set; the new watch collects what the first one missed."""
        s = later(collection, "stone-meeting", start=MAR_12 + 3600)
        report = collection.injects[0].model_copy(
            update={
                "id": "courier-target",
                "at": MAR_12,
                "lead": collection.injects[0].lead.model_copy(
                    update={"indicators": (Indicator(kind="target", detail="asks about the station"),)}
                ),
            }
        )
        s = changed(s, injects=(*s.injects, report))
        once = await events(s)
        assert len([e for e in once if isinstance(e, TaskingEvent) and e.step == "task"
                    and e.agency == "NSS" and e.selector == "person:omar stone"]) == 1  # fmt: skip
        assert first(once, OutcomeEvent, plot="station").result == "attack"
        again = await events(with_agency(s, "NSS", retask_rise=0.1))
        tasks = [
            e
            for e in again
            if isinstance(e, TaskingEvent)
            and e.step == "task"
            and e.agency == "NSS"
            and e.selector == "person:omar stone"
        ]
        assert len(tasks) == 2 and tasks[1].at > MAR_12
        assert first(again, InjectEvent, inject="stone-meeting", observer="NSS").at > tasks[1].at
        assert first(again, OutcomeEvent, plot="station").result == "disrupted"


class TestProcessingPerInject:
    async def test_an_inject_with_its_own_processing_is_published_after_it(
        self, collection: Scenario
    ) -> None:
        """The courier report carries ``processing: 15m``: the foreign service publishes it 15 minutes
        after observing it, not after its own two hours; without the field, two hours."""
        quick = changed(collection, injects=(collection.injects[0].model_copy(update={"processing": 900}),))
        for s, wait in ((quick, 900), (collection, 7200)):
            found = await events(s)
            publish = first(found, PublishEvent, lead="courier")
            assert publish.at == collection.injects[0].at + wait


@st.composite
def worlds(draw: st.DrawFn) -> Scenario:
    """Two or three agencies with random capabilities and zero to two slots, sharing in a joint
    centre; a few injects naming people and phones; latent observations on those selectors (or found
    by search only), each with its own capability, window, delay, chance and search rate."""
    people = ("person:p0", "person:p1", "phone:111", "phone:222")

    def selector(key: str) -> dict[str, str]:
        kind, value = key.split(":")
        return {"kind": kind, "value": value}

    agencies = [
        {"id": f"AG{i}", "name": f"Agency {i}", "country": "AA", "kind": "police",
         "capabilities": draw(st.lists(st.sampled_from(CAPABILITIES), max_size=3, unique=True)),
         "surveillance": draw(st.integers(0, 2)), "tasking_time": f"{draw(st.integers(1, 6))}d",
         "interdiction_time": draw(st.sampled_from(["1d", {"mean": "2d", "dist": "exponential"}])),
         "task_threshold": draw(st.sampled_from([0.0, 0.3])),
         "alert": draw(st.sampled_from([None, "2d", "20d"])),
         "retask_rise": draw(st.sampled_from([None, 0.1])),
         "processing": "1h", "action_delay": "2h", "act_on": ["identity", "target"], "act_threshold": 0.5}
        for i in range(draw(st.integers(2, 3)))
    ]  # fmt: skip
    agencies = [{k: v for k, v in a.items() if v is not None} for a in agencies]
    ids = [a["id"] for a in agencies]
    injects = [
        {"id": f"i{n}", "at": iso(START_T + draw(st.integers(0, 30)) * DAY),
         "observer": draw(st.sampled_from(ids)), "what": "a report",
         "lead": {"identifiers": [selector(draw(st.sampled_from(people)))], "grading": "B2"}}
        for n in range(draw(st.integers(1, 4)))
    ]  # fmt: skip
    latent = []
    for n in range(draw(st.integers(1, 5))):
        begin = draw(st.integers(0, 40))
        search = draw(st.sampled_from([0.0, 0.0, 0.3, 2.0]))
        key = draw(st.sampled_from([*people, None])) if search else draw(st.sampled_from(people))
        entry: dict[str, Any] = {
            "id": f"l{n}", "what": "collectable", "capability": draw(st.sampled_from(CAPABILITIES)),
            "from": iso(START_T + begin * DAY), "to": iso(START_T + (begin + draw(st.integers(1, 15))) * DAY),
            "delay": f"{draw(st.integers(0, 3))}d", "chance": draw(st.sampled_from([1.0, 0.5])),
            "search_rate": search,
            "lead": {"identifiers": [selector(draw(st.sampled_from(people))),
                                     {"kind": "venue", "value": "site", "where": "AA"}], "grading": "B2"},
        }  # fmt: skip
        if key is not None:
            entry["selector"] = selector(key)
        if draw(st.booleans()):
            entry["by"] = draw(st.lists(st.sampled_from(ids), min_size=1, max_size=2, unique=True))
        latent.append(entry)
    data: dict[str, Any] = {
        "id": "generated", "title": "generated", "description": "generated", "fictional": "generated for a property test",
        "start": iso(START_T), "end": iso(START_T + 70 * DAY), "agencies": agencies, "injects": injects,
        "latent": latent, "centres": [{"name": "all", "members": ids}],
        "actors": [{"id": "p0", "identifier": {"kind": "person", "value": "p0"},
                    "whereabouts": [{"from": iso(START_T), "in": "AA"}]}],
        "plots": [{"id": "plot", "name": "plot", "attack_at": iso(START_T + 60 * DAY), "place": "site",
                   "jurisdiction": ["AA"], "entities": [{"kind": "person", "value": "p0"}], "team": ["p0"]}],
    }  # fmt: skip
    return Scenario.model_validate_json(json.dumps(data))


def _peak(spans: list[tuple[int, int]]) -> int:
    edges = sorted([(a, 1) for a, _ in spans] + [(b, -1) for _, b in spans])
    peak = level = 0
    for _, step in edges:
        level += step
        peak = max(peak, level)
    return peak


class TestCollectionProperties:
    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_revealed_only_with_the_capability_inside_the_window(self, s: Scenario, seed: int) -> None:
        """A latent observation reaches an agency only if it has the capability (and is among ``by``),
        collected inside the window (its lead comes ``delay`` after), and at most once."""
        found = await events(s, seed=seed)
        latent = {lat.id: lat for lat in s.latent}
        seen: set[tuple[str, str]] = set()
        for e in found:
            if not isinstance(e, InjectEvent) or e.inject not in latent:
                continue
            lat, agency = latent[e.inject], s.resolved[e.observer]
            assert lat.capability in agency.capabilities and (not lat.by or agency.id in lat.by), e
            assert lat.start <= e.at - lat.delay <= lat.end, e
            assert (agency.id, lat.id) not in seen
            seen.add((agency.id, lat.id))

    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_never_more_slots_busy_than_the_agency_has(self, s: Scenario, seed: int) -> None:
        """Taskings, interdictions, finds and alerts' follow-ups never hold more slots at once than
        ``surveillance``."""
        found = await events(s, seed=seed)
        latent = {lat.id: lat for lat in s.latent}
        for agency in s.resolved.values():
            spans = [
                (e.at, e.until)
                for e in found
                if isinstance(e, TaskingEvent) and e.agency == agency.id and e.step in ("start", "hold", "follow")
                and e.until is not None
            ] + [
                (e.at, e.at + latent[e.latent].delay)
                for e in found
                if isinstance(e, TaskingEvent) and e.agency == agency.id and e.step == "found"
                and e.latent is not None and latent[e.latent].delay > 0
            ]  # fmt: skip
            assert _peak(spans) <= agency.surveillance, (agency.id, spans)

    @settings(RUNS, max_examples=60)
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_an_alert_never_collects_after_it_expires(self, s: Scenario, seed: int) -> None:
        """An alert's hit is followed up (and its observation collected) only before the alert expires,
        inside the observation's window; each observation is hit at most once per agency; and an
        agency without ``alert`` places none."""
        found = await events(s, seed=seed)
        latent = {lat.id: lat for lat in s.latent}
        expiry: dict[tuple[str, str], int] = {}
        hit: set[tuple[str, str]] = set()
        for e in found:
            if not isinstance(e, TaskingEvent) or e.step not in ("alert", "hit", "follow"):
                continue
            assert s.resolved[e.agency].alert is not None, e
            if e.step == "alert":
                assert e.until is not None and e.selector is not None
                assert e.until >= e.at + (s.resolved[e.agency].alert or 0), e
                expiry[e.agency, e.selector] = max(expiry.get((e.agency, e.selector), 0), e.until)
            elif e.step == "hit":
                assert e.latent is not None and e.selector is not None
                assert (e.agency, e.latent) not in hit
                hit.add((e.agency, e.latent))
                assert e.at <= expiry[e.agency, e.selector], e
            else:
                assert e.latent is not None and e.selector is not None
                assert (e.agency, e.latent) in hit, e
                assert e.at <= expiry[e.agency, e.selector], e
                lat = latent[e.latent]
                assert lat.start <= e.at <= lat.end, e
                observed = first(found, InjectEvent, inject=e.latent, observer=e.agency)
                assert observed.at == e.at + lat.delay

    @RUNS
    @given(s=worlds(), seed=st.integers(0, 50))
    async def test_without_slots_nothing_is_tasked_or_found(self, s: Scenario, seed: int) -> None:
        """An agency with ``surveillance: 0`` tasks nothing, searches nothing and collects nothing."""
        found = await events(s, seed=seed)
        latent = {lat.id for lat in s.latent}
        for agency in s.resolved.values():
            if agency.surveillance:
                continue
            assert not any(isinstance(e, TaskingEvent) and e.agency == agency.id for e in found)
            assert not any(
                isinstance(e, InjectEvent) and e.observer == agency.id and e.inject in latent for e in found
            )


class TestRandomSearch:
    async def test_the_time_to_a_find_is_exponential_at_the_rate_per_free_slot(
        self, collection: Scenario
    ) -> None:
        """One latent observation with search rate β and n free slots is found after Exp(nβ): the mean
        over 200 seeds lies within four standard errors of 1/(nβ)."""
        beta, slots = 0.25, 2
        lat = collection.latent[0].model_copy(
            update={"id": "drift", "selector": None, "search_rate": beta, "to": collection.horizon}
        )
        s = with_agency(
            changed(collection, latent=(lat,), injects=collection.injects[:1]), "NSS", surveillance=slots
        )
        s = changed(s, centres=())
        waits = []
        for seed in range(200):
            found = await events(s, policy="siloed", seed=seed)
            hits = [e for e in found if isinstance(e, TaskingEvent) and e.step == "found"]
            waits.append((hits[0].at - lat.start) / DAY if hits else (s.horizon - lat.start) / DAY)
        expected = 1 / (slots * beta)
        mean = sum(waits) / len(waits)
        assert abs(mean - expected) < 4 * expected / math.sqrt(len(waits)), (mean, expected)
