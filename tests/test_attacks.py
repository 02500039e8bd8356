"""A participant attacks a run on a real broker: every attack is refused with a counted reason.

The gateway, each agency and the driver run as services that meet only on Kafka, each holding
only its own private keys (the registry is public). One seat, SFS, turns hostile mid-run with a
plain Kafka client and its own keys: it forges a lead "from" NSIG, replays a genuine release meant
for NSS into its own inbox and into NSS's again, writes a fake NSS interdiction and a gateway
event with sequence 10⁹ into their audit topics, and posts a fake clock ``end`` (on a broker
without ACLs; with them, it could write none of these topics: tests/broker/test_kafka_security.py). Then the gateway
crashes and is started again. The run completes with the clean digest; each refusal is counted.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tearline import Lead, RunConfig, Scenario, replay
from tearline.broker import SENDER_HEADER, SIG_HEADER, Keystore, kafka_transport
from tearline.broker._envelope import EventEnvelope, LeadEnvelope
from tearline.broker._topics import LEAD_PARTITIONS
from tearline.model import GATEWAY, WORLD, ActionEvent, DecisionEvent
from tearline.report import verify_audit
from tearline.run import CLOCK, Run
from tearline.run._clock import End, drive, serve

from .kafka_broker import read_topic

pytestmark = pytest.mark.kafka


async def _records(bootstrap: str, topic: str, partitions: int) -> list[Any]:
    """Every record of ``topic``, headers included."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        parts = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(parts)
        ends = await consumer.end_offsets(parts)
        out: list[Any] = []

        async def behind() -> bool:
            return any([await consumer.position(tp) < ends[tp] for tp in parts])

        while await behind():
            for records in (await consumer.getmany(*parts, timeout_ms=1000)).values():
                out.extend(records)
        return out
    finally:
        await consumer.stop()


async def test_a_hostile_participant_changes_nothing_and_every_attack_is_counted(
    kafka_bootstrap: str, teaching: Scenario, tmp_path: Any
) -> None:
    config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
    clean = await replay(config)
    ns = f"attack-{uuid.uuid4().hex[:10]}"
    layout = Run(config, namespace=ns)
    full = Keystore.generate([*layout.senders, CLOCK])

    def seat(*names: str) -> Keystore:
        """What one seat is given: the public registry and its own private keys."""
        return Keystore(full.public, {n: full.private[n] for n in names}, generation=full.generation)

    hostile = seat("SFS")
    topics = layout.topics
    participants = [GATEWAY, *sorted(layout.agencies)]
    windows = 0
    turn_hostile = asyncio.Event()

    def on_step(_: int) -> None:
        nonlocal windows
        windows += 1
        if windows == 40:
            turn_hostile.set()

    async def service(name: str) -> Any:
        async with kafka_transport(kafka_bootstrap, client_id=f"{ns}-{name}") as kafka:
            return await serve(name, kafka, keys=seat(name), namespace=ns, wait=60)

    tasks = {name: asyncio.create_task(service(name)) for name in participants}
    attacked: dict[str, int] = {}

    async def attack() -> None:
        await turn_hostile.wait()
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:

            async def post(topic: str, value: bytes, as_sender: str, key: bytes = b"x") -> None:
                headers = [(SIG_HEADER, hostile.sign("SFS", value)), (SENDER_HEADER, as_sender.encode())]
                await producer.send_and_wait(topic, value, key=key, headers=headers)

            t = teaching.start + 86_400 * 3
            # 1. A lead "from NSIG", signed with SFS's own key (it holds no other).
            fake = Lead(id="fake-nsig", origin="NSIG", observed_at=t)
            lead = LeadEnvelope(run=config.run_id, sender="NSIG", seq=10**6, at=t, body=fake)
            await post(topics.outbox("NSIG"), lead.model_dump_json().encode(), "NSIG", b"fake-nsig")
            # 2. A genuine release for NSS, copied byte for byte into SFS's inbox and NSS's again.
            releases = [
                r
                for r in await _records(kafka_bootstrap, topics.inbox("NSS"), LEAD_PARTITIONS)
                if dict(r.headers).get(SENDER_HEADER) == GATEWAY.encode()
            ]
            assert releases, "no release reached NSS before the attack"
            genuine = releases[0]
            for inbox in (topics.inbox("SFS"), topics.inbox("NSS")):
                await producer.send_and_wait(
                    inbox, genuine.value, key=genuine.key, headers=list(genuine.headers)
                )
            # 3. A fake NSS interdiction in the audit topic, labelled NSS and signed by SFS.
            action = ActionEvent(
                at=t, by="NSS", seq=10**6, agency="NSS", case="NSS-c1", action="interdict",
                identifiers=("karim.vale@example.org",), score=0.99,
            )  # fmt: skip
            forged = EventEnvelope(run=config.run_id, sender="NSS", seq=10**6, at=t, body=action)
            await post(topics.audit("NSS"), forged.model_dump_json().encode(), "NSS")
            # 4. A gateway event with sequence 10⁹: would make a restarted gateway suppress everything.
            decision = DecisionEvent(
                at=t, by=GATEWAY, seq=10**9, lead="x", sender="SFS", recipient="NSS", action="withhold",
                rule="r", reason="forged",
            )  # fmt: skip
            high = EventEnvelope(run=config.run_id, sender=GATEWAY, seq=10**9, at=t, body=decision)
            await post(topics.audit(GATEWAY), high.model_dump_json().encode(), GATEWAY)
            # 5. A fake clock end for the open session.
            announce = next(
                json.loads(v)
                for v in await read_topic(kafka_bootstrap, topics.clock)
                if json.loads(v)["kind"] == "announce"
            )
            end = End(session=announce["session"], reason="finished")
            await post(topics.clock, end.model_dump_json().encode(), CLOCK, announce["session"].encode())
            attacked["done"] = 1
        finally:
            await producer.stop()
        # Then the gateway crashes and is started again: it must not trust the seq-10⁹ record.
        await asyncio.sleep(1.0)
        tasks[GATEWAY].cancel()
        await asyncio.gather(tasks[GATEWAY], return_exceptions=True)
        tasks[GATEWAY] = asyncio.create_task(service(GATEWAY))

    attacker = asyncio.create_task(attack())
    try:
        async with kafka_transport(kafka_bootstrap, client_id=f"{ns}-driver") as kafka:
            result = await drive(
                config, kafka, keys=seat(CLOCK, WORLD), namespace=ns, wait=90, on_step=on_step
            )
        await attacker
        served = await asyncio.wait_for(asyncio.gather(*tasks.values()), 60)
    finally:
        for task in [attacker, *tasks.values()]:
            task.cancel()
        await asyncio.gather(attacker, *tasks.values(), return_exceptions=True)

    assert attacked == {"done": 1}
    assert {s.reason for s in served} == {"finished"}  # the fake end stopped nobody
    assert result.digest == clean.digest
    assert result.record == clean.record
    rejected = result.summary.rejected
    print(f"refused by reason: {rejected}")
    assert rejected.get("forged", 0) >= 1, rejected  # the lead "from NSIG" at the gateway
    assert rejected.get("wrong-recipient", 0) >= 1, rejected  # NSS's release in SFS's inbox
    assert rejected.get("duplicate", 0) >= 1, rejected  # the same release again in NSS's inbox
    assert rejected.get("audit-forged", 0) >= 2, rejected  # the interdiction and the seq-10⁹ event
    assert rejected.get("clock-refused", 0) >= len(participants), rejected  # every reader ignored the end
    dead = [json.loads(v) for v in await read_topic(kafka_bootstrap, topics.deadletter)]
    reasons = " | ".join(d["reason"] for d in dead)
    assert "forged: signature does not match sender 'NSIG'" in reasons
    assert "wrong recipient: sealed for NSS, read by SFS" in reasons
    assert "duplicate:" in reasons
    result.write(tmp_path / "run")
    verdict = verify_audit(tmp_path / "run", trusted=seat())
    assert verdict.ok, verdict.problems
    assert verdict.signers == (CLOCK, GATEWAY)  # the gateway co-signs what it rebuilt from the topics
