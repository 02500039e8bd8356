"""The service core: bad input goes to the dead-letter topic, order is fixed by content, restarts rebuild."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tearline import Lead, RunConfig, Scenario, replay
from tearline.broker import Keystore, MemoryTransport, Service, ServiceSettings, Topics, drain
from tearline.broker._envelope import EventEnvelope, LeadEnvelope, seal
from tearline.model import GATEWAY, WORLD, ActionEvent
from tearline.run._clock import last_audit_seq
from tearline.run._driver import CLOCK, Driver, Run


class TestDeadLetters:
    async def test_malformed_and_forged_messages_are_dead_lettered(self, teaching: Scenario) -> None:
        """Garbage and a forged signature on an inbox land in the dead-letter topic with a reason;
        the run completes with the same record as without them."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        clean = await replay(config)

        transport = MemoryTransport()
        run = Run(config)
        await run.create_topics(transport)
        inbox = run.topics.inbox("NSS")
        await transport.publish(inbox, b"this is not json", key=b"x")
        lead = Lead(id="fake", origin="NSIG", observed_at=teaching.start)
        forged = LeadEnvelope(run=config.run_id, sender="NSIG", seq=1, at=teaching.start, body=lead)
        attacker = Keystore.in_process(["NSIG"])  # keys of its own, not the run's
        value, headers = seal(forged, attacker)
        await transport.publish(inbox, value, key=b"fake", headers=headers)
        await transport.publish(inbox, value, key=b"fake")  # unsigned
        dirty = await _replay_on(run, transport)

        assert dirty.digest == clean.digest
        dead = await transport.subscribe("inspect", [run.topics.deadletter])
        reasons = [json.loads(m.value)["reason"] for m in await drain(dead)]
        assert any(r.startswith("malformed message") for r in reasons)
        assert any(r.startswith("forged") for r in reasons)
        assert any(r.startswith("unsigned") for r in reasons)
        assert dirty.summary.dead_letters == 3

    async def test_huge_and_undecodable_messages_dead_letter_a_bounded_excerpt(
        self, teaching: Scenario
    ) -> None:
        """200 kB of 0xff and a 300 kB message in an inbox each make a small dead letter (far below a
        broker's 1 MB limit) with the message's size; the run completes with the clean record."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        clean = await replay(config)
        transport = MemoryTransport()
        run = Run(config)
        await run.create_topics(transport)
        inbox = run.topics.inbox("NSS")
        await transport.publish(inbox, b"\xff" * 200_000, key=b"x")
        await transport.publish(inbox, b"[" * 300_000, key=b"y")
        dirty = await _replay_on(run, transport)

        assert dirty.digest == clean.digest
        dead = await transport.subscribe("inspect", [run.topics.deadletter])
        letters = [m.value for m in await drain(dead)]
        assert len(letters) == 2
        assert all(len(v) < 8 * 1024 for v in letters)
        parsed = sorted((json.loads(v) for v in letters), key=lambda d: d["size"])
        assert [d["size"] for d in parsed] == [200_000, 300_000]
        assert parsed[0]["reason"].startswith("malformed message")
        assert parsed[1]["reason"] == "oversized: 300000 bytes (the limit is 262144)"
        assert parsed[1]["value"].endswith("(298976 more bytes)")


async def _driver_on(run: Run, transport: MemoryTransport) -> Driver:
    """The run's world, gateway and agencies on ``transport``, opened, under one driver."""
    await run.create_topics(transport)
    world = run.world(transport)
    others: list[Service] = [
        run.gateway(transport),
        *(run.agency(a, transport) for a in sorted(run.agencies)),
    ]
    for s in [world, *others]:
        await s.open()
    return run.driver(world, others)


async def _replay_on(run: Run, transport: MemoryTransport, restart_gateway_at: int | None = None) -> Any:
    driver = await _driver_on(run, transport)
    world, others = driver.world, driver.others
    if restart_gateway_at is not None:
        # Drive part of the run, lose the gateway (its memory, not its log), start a new one.
        await driver.run(windows=restart_gateway_at)
        assert driver.peek() is not None, "the restart must fall inside the run"
        await others[0].close()
        n = await last_audit_seq(transport, run, GATEWAY)
        fresh = run.gateway(transport, suppress_through=n)
        await fresh.open(rebuild=True)
        others[0] = fresh
    await driver.run()
    events = await run.collect(transport)
    return run.finish(
        events,
        transport_name="memory",
        dead_letters=world.dead_letters + sum(s.dead_letters for s in others if isinstance(s, Service)),
    )


class TestAuditChain:
    async def test_a_chain_is_checked_by_its_last_signature_and_an_inserted_record_is_refused(
        self, teaching: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Every record of an intact audit topic is covered by the signature of the last one (each
        names the SHA-256 of the one before it), so reading the record checks one signature per
        writer; a record slipped into the middle of a topic — signed with another's key — is vouched
        for by nothing, is checked, and is refused. The record is the clean one."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        clean = await replay(config)
        run = Run(config, sealed=True)  # bytes and Ed25519 signatures, as between processes
        transport = MemoryTransport()
        driver = await _driver_on(run, transport)
        others = driver.others
        await driver.run(windows=20)
        assert driver.peek() is not None, "the record must be slipped in mid-run"
        t = teaching.start + 86_400
        action = ActionEvent(
            at=t, by="NSS", seq=10**6, agency="NSS", case="NSS-c1", action="interdict",
            identifiers=("karim.vale@example.org",), score=0.99,
        )  # fmt: skip
        forged = EventEnvelope(run=config.run_id, sender="NSS", seq=10**6, at=t, body=action)
        hostile = Keystore.generate(["NSS", CLOCK])  # right names, wrong keys
        value, headers = seal(forged, hostile)
        nss = next(s for s in others if isinstance(s, Service) and s.name == "NSS")
        before = nss.seq
        await transport.publish(run.topics.audit("NSS"), value, key=b"NSS", headers=headers)
        await driver.run()
        assert nss.seq > before, "NSS must write after the inserted record, so that it is mid-chain"

        checked: list[str] = []
        verify = run.keys.verify_digest

        def counting(signer: str, digest: bytes, signature: bytes) -> bool:
            checked.append(signer)
            return verify(signer, digest, signature)

        monkeypatch.setattr(run.keys, "verify_digest", counting)
        events = await run.collect(transport)
        result = run.finish(events, transport_name="memory")

        assert result.digest == clean.digest
        assert run.rejected == {"audit-forged": 1}
        writers = {e.by for e in events}
        assert len(events) > 10 * len(writers)
        # One signature per writer's chain, and the inserted record's own (which fails).
        assert sorted(checked) == sorted([*writers, "NSS"])


class TestRestart:
    @given(st.data())
    @settings(max_examples=12, deadline=None)
    def test_gateway_restart_rebuilds_without_loss_or_duplicates(
        self, teaching: Scenario, data: st.DataObject
    ) -> None:
        """A gateway that loses its memory mid-run rebuilds from its inputs: same digest, and still
        exactly one decision per (lead, candidate recipient)."""
        import asyncio

        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=3)
        clean = asyncio.run(replay(config))
        # Every drawn window leaves at least one window after the restart: every case is a fault.
        stop_after = data.draw(st.integers(min_value=1, max_value=_windows(config) - 1), label="stop_after")
        transport = MemoryTransport()
        run = Run(config)

        async def go() -> Any:
            await run.create_topics(transport)
            return await _replay_on(run, transport, restart_gateway_at=stop_after)

        restarted = asyncio.run(go())
        assert restarted.digest == clean.digest
        decisions = [(e.lead, e.recipient) for e in restarted.events if e.kind == "decision"]
        assert len(decisions) == len(set(decisions))


_WINDOWS: dict[str, int] = {}


def _windows(config: RunConfig) -> int:
    """How many windows an uninterrupted run of ``config`` takes (measured once)."""
    import asyncio

    if config.run_id not in _WINDOWS:

        async def count() -> int:
            driver = await _driver_on(Run(config), MemoryTransport())
            await driver.run()
            return driver.windows

        _WINDOWS[config.run_id] = asyncio.run(count())
    return _WINDOWS[config.run_id]


class _Recorder(Service):
    """A toy service that logs the order in which its timers run."""

    def __init__(self, settings: ServiceSettings) -> None:
        super().__init__(WORLD, settings, inputs=())
        self.ran: list[tuple[int, int]] = []

    def schedule(self, times: list[int]) -> None:
        for i, t in enumerate(times):
            self.at(t, lambda i=i, t=t: self.ran.append((t, i)))  # type: ignore[misc]


def _toy(transport: MemoryTransport) -> _Recorder:
    settings = ServiceSettings(
        transport=transport,
        run="r",
        topics=Topics("t"),
        keys=Keystore.in_process([WORLD]),
        senders=frozenset({WORLD}),
        start=0,
        transit=60,
    )
    return _Recorder(settings)


class TestClock:
    @given(
        st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=30),
        st.lists(st.integers(1, 60), max_size=10),
    )
    def test_time_never_decreases_and_ties_keep_insertion_order(
        self, times: list[int], cuts: list[int]
    ) -> None:
        """Timers run in time order; same-time timers in the order scheduled; however the run is cut
        into steps (a stopped run resumes where it stopped)."""
        import asyncio

        async def go() -> list[tuple[int, int]]:
            toy = _toy(MemoryTransport())
            toy.schedule(times)
            until = 0
            for c in cuts:
                until += c
                await toy.step(until)
            await toy.step(10_000)
            return toy.ran

        ran = asyncio.run(go())
        assert ran == sorted(((t, i) for i, t in enumerate(times)))


class TestIdleServices:
    async def test_skipping_idle_services_changes_no_byte_and_saves_steps(
        self, teaching: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The driver steps only services with something due, unsent or to read; stepping every
        service in every window gives the same record, with more steps."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        steps = {"n": 0}
        original = Service.step

        async def counted(self: Service, until: int, *, settle: bool = True) -> int | None:
            steps["n"] += 1
            return await original(self, until, settle=settle)

        monkeypatch.setattr(Service, "step", counted)
        skipping = await replay(config)
        skipped_steps, steps["n"] = steps["n"], 0
        monkeypatch.setattr(Service, "has_work", lambda self, until: True)
        every = await replay(config)
        assert every.digest == skipping.digest
        assert skipped_steps < steps["n"]
