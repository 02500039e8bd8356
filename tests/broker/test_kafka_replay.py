"""Transport parity: every scenario (and the collection test scenario, whose taskings travel on the
actions topic) under two policies gives the same record on Kafka as in memory.

Also: bad input written by hand to an inbox lands in the dead-letter topic with its reason, and
the run's record does not change.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from tearline import Lead, RunConfig, load_scenario, replay
from tearline.broker import SIG_HEADER, Keystore, kafka_transport
from tearline.broker._envelope import LeadEnvelope, seal
from tearline.run._clock import scope, scoped_replay
from tearline.run._driver import Run

from ..kafka_broker import read_topic

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [
    p
    for p in (
        ROOT / "scenarios" / "examples" / "connect-the-dots.yaml",
        ROOT / "scenarios" / "mumbai-2008.yaml",
        ROOT / "scenarios" / "paris-2015.yaml",
        ROOT / "tests" / "engine" / "scenarios" / "collection.yaml",
    )
    if p.exists()  # the historical scenarios are being written; parity covers whichever exist
]
POLICIES = ["siloed", "fusion-centre"]


def namespace() -> str:
    return f"test-{uuid.uuid4().hex[:10]}"


@pytest.mark.kafka
@pytest.mark.parametrize("policy", POLICIES)
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
async def test_same_digest_on_kafka_as_in_memory(kafka_bootstrap: str, path: Path, policy: str) -> None:
    config = RunConfig(scenario=load_scenario(path), policy=policy, seed=1)
    started = time.perf_counter()
    memory = await replay(config)
    embedded = time.perf_counter() - started
    async with kafka_transport(kafka_bootstrap) as kafka:
        started = time.perf_counter()
        real = await scoped_replay(config, kafka, namespace=namespace())
        on_kafka = time.perf_counter() - started
    print(f"{path.stem} {policy}: memory {embedded:.2f}s, kafka {on_kafka:.2f}s")
    assert real.digest == memory.digest
    assert real.record == memory.record
    assert real.summary.transport == "kafka"


def test_parity_covers_the_teaching_scenario() -> None:
    assert SCENARIOS[0].name == "connect-the-dots.yaml"


@pytest.mark.kafka
async def test_reruns_in_one_namespace_read_only_their_own_records(kafka_bootstrap: str) -> None:
    """The same config twice in one namespace (same run id): the second run starts at the topics' end."""
    config = RunConfig(scenario=load_scenario(SCENARIOS[0]), policy="siloed", seed=2)
    ns = namespace()
    async with kafka_transport(kafka_bootstrap) as kafka:
        first = await scoped_replay(config, kafka, namespace=ns)
    async with kafka_transport(kafka_bootstrap) as kafka:
        second = await scoped_replay(config, kafka, namespace=ns)
    assert first.digest == second.digest
    assert first.summary.dead_letters == second.summary.dead_letters == 0


@pytest.mark.kafka
async def test_bad_messages_written_by_hand_are_dead_lettered(kafka_bootstrap: str) -> None:
    """Garbage, a forged signature and an unsigned envelope produced by a plain Kafka client into an
    inbox end up in the dead-letter topic with their reasons; the record is unchanged."""
    scenario = load_scenario(SCENARIOS[0])
    config = RunConfig(scenario=scenario, policy="fusion-centre", seed=1)
    clean = await replay(config)
    ns = namespace()
    run = Run(config, namespace=ns)
    async with kafka_transport(kafka_bootstrap) as kafka:
        await scope(kafka, run)
        inbox = run.topics.inbox("NSS")
        lead = Lead(id="fake", origin="NSIG", observed_at=scenario.start)
        forged = LeadEnvelope(run=config.run_id, sender="NSIG", seq=1, at=scenario.start, body=lead)
        value, _ = seal(forged, run.keys)
        wrong = Keystore.generate(["NSIG"]).sign("NSIG", value)  # a key that is not NSIG's
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            await producer.send_and_wait(inbox, b"this is not json", key=b"x")
            await producer.send_and_wait(inbox, value, key=b"fake", headers=[(SIG_HEADER, wrong)])
            await producer.send_and_wait(inbox, value, key=b"fake")
        finally:
            await producer.stop()
        dirty = await replay(config, kafka, namespace=ns)

    assert dirty.digest == clean.digest
    assert dirty.summary.dead_letters == 3
    dead = await read_topic(kafka_bootstrap, run.topics.deadletter)
    reasons = sorted(json.loads(v)["reason"] for v in dead)
    assert len(reasons) == 3
    assert reasons[0].startswith("forged: signature does not match sender 'NSIG'")
    assert reasons[1].startswith("malformed message")
    assert reasons[2].startswith("unsigned")
    assert all(json.loads(v)["topic"] == inbox for v in dead)
