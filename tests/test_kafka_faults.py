"""Broker faults under a distributed run: a broker down for a minute, a node of three SIGKILLed.

Each test starts a cluster of its own (``scripts/kafka`` with its own state dir), since it stops or
kills brokers, and runs the teaching scenario as five processes (driver, gateway, three agencies).
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from structlog.testing import capture_logs

from tearline import RunConfig, Scenario, replay
from tearline.broker import KafkaTransport, TopicSpec
from tearline.model import GATEWAY, configure
from tearline.run._driver import Run

from .conftest import TEACHING
from .kafka_broker import Cluster, read_topic
from .test_distributed import Clock, Processes

pytestmark = pytest.mark.kafka


def _start_run(procs: Processes, config: RunConfig, out: Path, wait: int) -> None:
    procs.start("gateway", "broker", "--wait", "300")
    for agency in sorted(Run(config).agencies):
        procs.start(agency, "agency", agency, "--wait", "300")
    args = ["run", str(TEACHING), "--policy", config.policy, "--seed", str(config.seed), "--quiet"]
    args += ["--transport", "kafka", "--remote", "--wait", str(wait), "--out", str(out)]
    procs.start("driver", *args)


def _check_run(procs: Processes, out: Path, digest: str) -> None:
    for label, proc in procs.procs.items():
        assert proc.returncode == 0, f"{label} died\n{procs.logs()}"
    assert json.loads((out / "summary.json").read_text())["digest"] == digest


async def _audit(bootstrap: str, run: Run) -> list[dict[str, Any]]:
    return [
        json.loads(v) for topic in run.topics.audits(run.senders) for v in await read_topic(bootstrap, topic)
    ]


def _nothing_lost(audit: list[dict[str, Any]], run: Run) -> Counter[tuple[str, int]]:
    """Every (lead, sender, recipient) has its decision on the raw audit topic; the repeats, by (sender, seq)."""
    events = [m["body"] for m in audit]
    decisions = {(e["lead"], e["sender"], e["recipient"]) for e in events if e["kind"] == "decision"}
    published = {(e["lead"], e["agency"]) for e in events if e["kind"] == "publish"}
    agencies = set(run.agencies)
    assert decisions == {(lead, sender, r) for lead, sender in published for r in agencies - {sender}}
    ids = Counter((m["sender"], m["seq"]) for m in audit)
    return Counter({k: v for k, v in ids.items() if v > 1})


@pytest.fixture
def outage_broker() -> Any:
    cluster = Cluster("kafka-outage")
    cluster.start()
    yield cluster
    cluster.stop()


@pytest.fixture
def three_nodes() -> Any:
    cluster = Cluster("kafka-cluster", "--nodes", "3")
    cluster.start()
    yield cluster
    cluster.stop()


async def test_a_broker_down_for_a_minute_mid_run_is_waited_for(
    outage_broker: Cluster, tmp_path: Path, teaching: Scenario
) -> None:
    """The only broker stops mid-run for 60 s and starts again on its data: no service dies, the run
    completes with the embedded digest; a publish and an offset query made meanwhile wait (the query
    outlasts the client's 30 s request timeout: the transport says it waits) and succeed."""
    config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
    embedded = await replay(config)
    procs = Processes(tmp_path, outage_broker.bootstrap, f"out-{uuid.uuid4().hex[:8]}")
    run = Run(config, namespace=procs.namespace)
    out = tmp_path / "out"
    try:
        _start_run(procs, config, out, wait=300)
        async with Clock(procs.bootstrap, procs.namespace) as clock:
            tick = await clock.until(lambda m: m["kind"] == "tick" and m["window"] >= 60)
        async with KafkaTransport(procs.bootstrap, patience=300) as kafka:
            await kafka.create_topics([TopicSpec(f"{procs.namespace}.probe", 1)])
            stopped = time.monotonic()
            await asyncio.to_thread(outage_broker.stop, "--keep-data")
            configure(level="warning")  # the session logs errors only; this test reads a warning
            with capture_logs() as logs:
                # Longer than the client's 30 s request timeout: aiokafka gives up, the transport waits.
                publish = asyncio.create_task(kafka.publish(f"{procs.namespace}.probe", b"sent while down"))
                query = asyncio.create_task(kafka.end_offsets([run.topics.audit(GATEWAY)]))
                await asyncio.sleep(max(0.0, 60 - (time.monotonic() - stopped)))
                assert not publish.done() and not query.done(), (publish, query)
                assert all(p.poll() is None for p in procs.procs.values()), procs.logs()  # nobody died
                bootstrap = await asyncio.to_thread(outage_broker.start, "--keep-data")
                assert bootstrap == procs.bootstrap  # the same address, on the same data
                down = time.monotonic() - stopped
                assert await asyncio.wait_for(publish, 120) == (0, 0)
                assert (await asyncio.wait_for(query, 120))[run.topics.audit(GATEWAY)][0] > 0
            configure(level="error")
            events = [entry["event"] for entry in logs]
            assert "kafka unavailable: waiting" in events and "kafka is back" in events, logs
        await procs.wait_all(timeout=400)
        print(f"broker stopped at window {tick['window']}, down for {down:.0f}s")
        _check_run(procs, out, embedded.digest)
        repeats = _nothing_lost(await _audit(procs.bootstrap, run), run)
        print(f"records repeated on the audit topic: {len(repeats)}")
    finally:
        procs.kill_all()


async def _leader(bootstrap: str, topic: str) -> tuple[int, list[int]]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        (described,) = await admin.describe_topics([topic])
        partition = described["partitions"][0]
        return partition["leader"], list(partition["isr"])
    finally:
        await admin.close()


async def test_a_three_node_cluster_loses_nothing_when_a_broker_is_killed(
    three_nodes: Cluster, tmp_path: Path, teaching: Scenario
) -> None:
    """Mid-run, SIGKILL the broker that leads the audit topic: the run completes with the embedded
    digest, every decision is on the audit topic, and the node, started again, rejoins its ISR."""
    config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
    embedded = await replay(config)
    procs = Processes(tmp_path, three_nodes.bootstrap, f"rf3-{uuid.uuid4().hex[:8]}")
    run = Run(config, namespace=procs.namespace)
    out = tmp_path / "out"
    try:
        _start_run(procs, config, out, wait=120)
        async with Clock(procs.bootstrap, procs.namespace) as clock:
            tick = await clock.until(lambda m: m["kind"] == "tick" and m["window"] >= 60)
        victim, isr = await _leader(procs.bootstrap, run.topics.audit(GATEWAY))
        assert sorted(isr) == [1, 2, 3]  # replication factor 3, every replica in sync
        await asyncio.to_thread(three_nodes.kill_node, victim)
        await procs.wait_all(timeout=300)
        print(f"node {victim} (leader of the audit topic) killed at window {tick['window']}")
        _check_run(procs, out, embedded.digest)
        repeats = _nothing_lost(await _audit(procs.bootstrap, run), run)
        print(f"records repeated on the audit topic: {len(repeats)}")

        await asyncio.to_thread(three_nodes.start_node, victim)
        deadline = time.monotonic() + 90
        while victim not in (await _leader(procs.bootstrap, run.topics.audit(GATEWAY)))[1]:
            assert time.monotonic() < deadline, f"node {victim} did not rejoin the audit topic's ISR"
            await asyncio.sleep(1)
        assert three_nodes.status()
    finally:
        procs.kill_all()
