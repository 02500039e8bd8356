"""Distributed mode: the driver, the gateway and each agency as separate services on the clock protocol.

Fast tests run the protocol in one process on the in-process transport (including a crash at any
point of the gateway's work). The ``kafka`` tests start real ``tearline`` processes against the
test broker: gateway + every agency + the driver, a SIGKILLed gateway that is started again, and
bad messages written by hand into an inbox mid-run.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tearline import Lead, RunConfig, RunError, Scenario, load_scenario, replay
from tearline.broker import Consumer, Floor, Keystore, MemoryTransport, TopicSpec, Transport
from tearline.broker._envelope import LeadEnvelope, seal
from tearline.broker._transport import Headers
from tearline.cli import app
from tearline.model import GATEWAY
from tearline.run._clock import drive, serve
from tearline.run._driver import CLOCK, Run

from .conftest import ROOT, TEACHING
from .kafka_broker import read_topic


def namespace() -> str:
    return f"dist-{uuid.uuid4().hex[:10]}"


def keystore(config: RunConfig, *, sealed: bool = False) -> Keystore:
    """Keys for every principal of a run; sealed: Ed25519/X25519 as between processes."""
    names = [*Run(config).senders, CLOCK]
    return Keystore.generate(names) if sealed else Keystore.in_process(names)


async def _memory_run(
    config: RunConfig,
    services: Sequence[str],
    *,
    wait: float = 30.0,
    transport: Transport | None = None,
    per_service: Callable[[str, Transport], Transport] | None = None,
    keys: Keystore | None = None,
) -> Any:
    memory = transport or MemoryTransport()
    keys = keys or keystore(config)
    tasks = [
        asyncio.create_task(
            serve(name, per_service(name, memory) if per_service else memory, keys=keys, wait=10)
        )
        for name in services
    ]
    try:
        return await drive(config, memory, keys=keys, wait=wait)
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


class TestClockInProcess:
    """The protocol itself, on the in-process transport (no broker)."""

    async def test_services_driven_over_the_clock_give_the_embedded_record(self, teaching: Scenario) -> None:
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=4)
        embedded = await replay(config)
        run = Run(config)
        distributed = await _memory_run(
            config, [GATEWAY, *sorted(run.agencies)], keys=keystore(config, sealed=True)
        )
        assert distributed.digest == embedded.digest
        assert distributed.record == embedded.record

    async def test_a_missing_service_is_named_with_the_command_that_starts_it(
        self, teaching: Scenario
    ) -> None:
        config = RunConfig(scenario=teaching, policy="siloed", seed=1)
        agencies = sorted(Run(config).agencies)
        with pytest.raises(RunError) as info:
            await _memory_run(config, [GATEWAY, *agencies[:-1]], wait=0.5)
        message = str(info.value)
        assert f"{agencies[-1]} did not join the run within 0.5 s" in message
        assert f"tearline agency {agencies[-1]} --namespace tearline" in message
        assert "tearline broker" not in message

    async def test_an_agency_outside_the_run_is_refused(self, teaching: Scenario) -> None:
        config = RunConfig(scenario=teaching, policy="siloed", seed=1)
        memory = MemoryTransport()
        keys = Keystore.in_process([*Run(config).senders, CLOCK, "MOSSAD"])  # a seat of the exercise
        driver = asyncio.create_task(drive(config, memory, keys=keys, wait=5))
        with pytest.raises(
            RunError, match=r"MOSSAD is not in the announced run .*: its services are GATEWAY, "
        ):
            await serve("MOSSAD", memory, keys=keys, wait=5)
        driver.cancel()
        await asyncio.gather(driver, return_exceptions=True)

    async def test_an_aborted_run_tells_every_service(self, teaching: Scenario) -> None:
        """A driver that fails mid-run announces the abort; the services stop and say why."""
        config = RunConfig(scenario=teaching, policy="siloed", seed=1)
        memory = MemoryTransport()
        names = [GATEWAY, *sorted(Run(config).agencies)]
        keys = keystore(config)
        services = [asyncio.create_task(serve(n, memory, keys=keys, wait=5)) for n in names]

        def boom(t: int) -> None:
            if t > teaching.start + 86_400:
                raise RuntimeError("the operator pulled the plug")

        with pytest.raises(RuntimeError, match="pulled the plug"):
            await drive(config, memory, keys=keys, wait=5, on_step=boom)
        served = await asyncio.wait_for(asyncio.gather(*services), 5)
        assert {s.reason for s in served} == {"aborted"}
        assert all("RuntimeError: the operator pulled the plug" in s.detail for s in served)
        assert all(s.windows > 0 for s in served)

    async def test_a_service_gives_up_waiting_for_a_run(self) -> None:
        with pytest.raises(RunError, match=r"no run was announced on tearline\.clock within 0\.2 s"):
            await serve(GATEWAY, MemoryTransport(), keys=Keystore.in_process([GATEWAY]), wait=0.2)

    @given(st.data())
    @settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    def test_a_gateway_that_crashes_anywhere_resumes_without_loss(
        self, teaching: Scenario, data: st.DataObject
    ) -> None:
        """The gateway dies after its n-th publish — mid-window, with part of a step's output on the
        log — and is started again: same record, one decision per (lead, recipient)."""
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=3)
        # n < the publishes of an uninterrupted run: every drawn case crashes the gateway.
        crash_after = data.draw(
            st.integers(min_value=0, max_value=_gateway_publishes(config) - 1), label="crash_after"
        )

        async def go() -> tuple[Any, Any, int]:
            embedded = _EMBEDDED.get(config.run_id) or await replay(config)
            _EMBEDDED[config.run_id] = embedded
            memory = MemoryTransport()
            crashing = _CrashAfter(memory, crash_after)
            names = [GATEWAY, *sorted(Run(config).agencies)]
            keys = keystore(config)
            tasks = {
                n: asyncio.create_task(serve(n, crashing if n == GATEWAY else memory, keys=keys, wait=10))
                for n in names
            }
            driver = asyncio.create_task(drive(config, memory, keys=keys, wait=10))
            restarts = 0
            try:
                while not driver.done():
                    await asyncio.sleep(0.01)
                    gw = tasks[GATEWAY]
                    if gw.done() and isinstance(gw.exception(), _Crash):
                        restarts += 1
                        tasks[GATEWAY] = asyncio.create_task(serve(GATEWAY, memory, keys=keys, wait=10))
                return embedded, await driver, restarts
            finally:
                for t in tasks.values():
                    t.cancel()
                await asyncio.gather(*tasks.values(), return_exceptions=True)

        embedded, resumed, restarts = asyncio.run(go())
        assert resumed.digest == embedded.digest
        decisions = Counter((e.lead, e.recipient) for e in resumed.events if e.kind == "decision")
        assert set(decisions.values()) == {1}
        assert restarts == 1


_EMBEDDED: dict[str, Any] = {}
_PUBLISHES: dict[str, int] = {}


def _gateway_publishes(config: RunConfig) -> int:
    """How many records of run data the gateway publishes in an uninterrupted run (measured once)."""
    if config.run_id not in _PUBLISHES:

        async def count() -> int:
            memory = MemoryTransport()
            counting = _CrashAfter(memory, 10**9)
            names = [GATEWAY, *sorted(Run(config).agencies)]
            await _memory_run(
                config, names, transport=memory, per_service=lambda n, t: counting if n == GATEWAY else t
            )
            return 10**9 - counting.left

        _PUBLISHES[config.run_id] = asyncio.run(count())
    return _PUBLISHES[config.run_id]


class _Crash(Exception):
    """The process died."""


class _CrashAfter(Transport):
    """A view of a transport that 'kills the process' at its n-th publish of run data."""

    name = "crashing"

    def __init__(self, inner: Transport, publishes: int) -> None:
        self.inner = inner
        self.left = publishes

    async def create_topics(self, specs: Sequence[TopicSpec]) -> frozenset[str]:
        return await self.inner.create_topics(specs)

    async def partitions(self, topic: str) -> int:
        return await self.inner.partitions(topic)

    async def end_offsets(self, topics: Sequence[str]) -> dict[str, tuple[int, ...]]:
        return await self.inner.end_offsets(topics)

    def begin_at(self, floor: Floor) -> None:
        self.inner.begin_at(floor)

    async def publish(
        self, topic: str, value: bytes, *, key: bytes | None = None, headers: Headers = ()
    ) -> tuple[int, int]:
        await asyncio.sleep(0)  # let the other services run meanwhile, as processes would
        if ".clock" not in topic:
            self.left -= 1
            if self.left < 0:
                raise _Crash(topic)
        return await self.inner.publish(topic, value, key=key, headers=headers)

    async def subscribe(self, group: str, topics: Sequence[str]) -> Consumer:
        return await self.inner.subscribe(group, topics)

    async def flush(self) -> None:
        await self.inner.flush()

    async def close(self) -> None:
        pass


class TestCommandLine:
    def test_a_service_without_a_broker_says_how_to_get_one(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TEARLINE_KAFKA_BOOTSTRAP", raising=False)
        result = CliRunner().invoke(app, ["agency", "NSS"])
        assert result.exit_code == 2
        assert "scripts/kafka start" in result.output

    def test_remote_needs_kafka(self) -> None:
        result = CliRunner().invoke(app, ["run", "connect-the-dots", "--remote"])
        assert result.exit_code == 2
        assert "--remote needs --transport kafka" in result.output


# -- real processes on the real broker ------------------------------------------------------
class Processes:
    """``tearline`` processes of one test; whatever is still running at the end is killed."""

    def __init__(self, tmp_path: Path, bootstrap: str, namespace: str) -> None:
        self.tmp = tmp_path
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.keys = tmp_path / "keys"
        """One keystore for the test's seats (each seat reads only its own private keys)."""
        if not (self.keys / "registry.json").exists():
            principals = [GATEWAY, "WORLD", CLOCK, *(a.id for a in load_scenario(TEACHING).agencies)]
            Keystore.generate(principals).save(self.keys)

    def start(self, label: str, *args: str) -> subprocess.Popen[bytes]:
        env = {**os.environ, "COLUMNS": "200"}
        env.pop("TEARLINE_KAFKA_BOOTSTRAP", None)  # the explicit --bootstrap must be enough
        cmd = [sys.executable, "-m", "tearline", "--log-level", "info", *args]
        cmd += ["--bootstrap", self.bootstrap, "--namespace", self.namespace, "--keys", str(self.keys)]
        with (self.tmp / f"{label}.out").open("wb") as out, (self.tmp / f"{label}.err").open("wb") as err:
            proc = subprocess.Popen(cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, cwd=ROOT, env=env)
        self.procs[label] = proc
        return proc

    def services(self, config: RunConfig) -> list[str]:
        labels = []
        self.start("gateway", "broker", "--wait", "120")
        labels.append("gateway")
        for agency in sorted(Run(config).agencies):
            self.start(agency, "agency", agency, "--wait", "120")
            labels.append(agency)
        return labels

    def driver(self, out: Path, policy: str = "fusion-centre", seed: int = 1) -> subprocess.Popen[bytes]:
        args = ["run", str(TEACHING), "--policy", policy, "--seed", str(seed), "--quiet"]
        args += ["--transport", "kafka", "--remote", "--wait", "60", "--out", str(out)]
        return self.start("driver", *args)

    def log(self, label: str) -> str:
        return (self.tmp / f"{label}.out").read_text() + (self.tmp / f"{label}.err").read_text()

    async def wait_all(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while any(p.poll() is None for p in self.procs.values()):
            if time.monotonic() > deadline:
                running = [k for k, p in self.procs.items() if p.poll() is None]
                pytest.fail(f"still running after {timeout:g}s: {running}\n" + self.logs())
            await asyncio.sleep(0.1)

    def logs(self) -> str:
        return "\n".join(
            f"--- {k} (exit {p.poll()}) ---\n{self.log(k)[-3000:]}" for k, p in self.procs.items()
        )

    def kill_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.fixture
def processes(tmp_path: Path, kafka_bootstrap: str) -> Any:
    procs = Processes(tmp_path, kafka_bootstrap, namespace())
    yield procs
    procs.kill_all()


class Clock:
    """Reads ``<ns>.clock`` and the gateway's reports with a plain Kafka client (the protocol's
    messages are JSON)."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.bootstrap = bootstrap
        self.tps = [
            TopicPartition(f"{namespace}.clock", 0),
            TopicPartition(f"{namespace}.clock.{GATEWAY}", 0),
        ]
        self.seen: list[dict[str, Any]] = []
        self._consumer: AIOKafkaConsumer | None = None

    async def __aenter__(self) -> Clock:
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._consumer is not None:
            await self._consumer.stop()

    async def until(
        self, predicate: Callable[[dict[str, Any]], bool], timeout: float = 120.0
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for msg in self.seen:
            if predicate(msg):
                return msg
        while time.monotonic() < deadline:
            if self._consumer is None:
                try:
                    consumer = AIOKafkaConsumer(
                        bootstrap_servers=self.bootstrap, auto_offset_reset="earliest"
                    )
                    await consumer.start()
                    if not {tp.topic for tp in self.tps} <= await consumer.topics():
                        await consumer.stop()
                        await asyncio.sleep(0.2)
                        continue
                    consumer.assign(self.tps)
                    self._consumer = consumer
                except Exception:
                    await asyncio.sleep(0.2)
                    continue
            for records in (await self._consumer.getmany(timeout_ms=200)).values():
                for r in records:
                    msg = json.loads(r.value)
                    self.seen.append(msg)
                    if predicate(msg):
                        return msg
        pytest.fail(f"no such clock message within {timeout:g}s")


def _digest(out: Path) -> str:
    return str(json.loads((out / "summary.json").read_text())["digest"])


@pytest.fixture
async def bad_producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    yield producer
    await producer.stop()


@pytest.mark.kafka
async def test_gateway_and_agencies_as_processes_give_the_embedded_digest(
    processes: Processes, tmp_path: Path, teaching: Scenario, bad_producer: AIOKafkaProducer
) -> None:
    """Gateway + every agency of the teaching scenario + the driver: five processes, one record.
    Mid-run, garbage and a forged lead are written by hand into an inbox: they are dead-lettered
    with their reasons, the service keeps going, the record does not change."""
    config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
    embedded = await replay(config)
    labels = processes.services(config)
    started = time.perf_counter()
    driver = processes.driver(tmp_path / "out")
    run = Run(config, namespace=processes.namespace)
    async with Clock(processes.bootstrap, processes.namespace) as clock:
        await clock.until(lambda m: m["kind"] == "tick" and m["window"] >= 20)
        lead = Lead(id="fake", origin="NSIG", observed_at=teaching.start)
        env = LeadEnvelope(run=config.run_id, sender="NSIG", seq=99, at=teaching.horizon, body=lead)
        value, headers = seal(
            env, Keystore.generate(["NSIG", "NSS"]), to="NSS"
        )  # keys that are not the run's
        inbox = run.topics.inbox("NSS")
        await bad_producer.send_and_wait(inbox, b"{not json", key=b"x")
        await bad_producer.send_and_wait(inbox, value, key=b"fake", headers=list(headers))
    await processes.wait_all()
    elapsed = time.perf_counter() - started
    print(f"5 processes: {elapsed:.1f}s")
    assert len(processes.procs) >= 5
    assert driver.returncode == 0, processes.logs()
    for label in labels:
        assert processes.procs[label].returncode == 0, processes.logs()
        assert "run finished after" in processes.log(label)
    assert _digest(tmp_path / "out") == embedded.digest
    dead = [json.loads(v) for v in await read_topic(processes.bootstrap, run.topics.deadletter)]
    reasons = sorted(d["reason"] for d in dead if d["service"] == "NSS")
    assert len(reasons) == 2, dead
    assert reasons[0].startswith("forged: signature does not match sender 'NSIG'")
    assert reasons[1].startswith("malformed message")


@pytest.mark.kafka
async def test_a_killed_gateway_restarts_without_loss(
    processes: Processes, tmp_path: Path, teaching: Scenario
) -> None:
    """SIGKILL the gateway mid-run, start it again: the driver waits, the gateway rebuilds from the
    log, every lead has exactly one decision per candidate recipient on the audit topic itself
    (not only after deduplication), and the digest is the embedded one."""
    config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
    embedded = await replay(config)
    processes.services(config)
    driver = processes.driver(tmp_path / "out")
    async with Clock(processes.bootstrap, processes.namespace) as clock:
        tick = await clock.until(lambda m: m["kind"] == "tick" and m["window"] >= 120)
        processes.procs["gateway"].send_signal(signal.SIGKILL)  # mid-window: the tick is being answered
        processes.procs["gateway"].wait()
        assert processes.procs["gateway"].returncode == -signal.SIGKILL
        restarted_at = time.monotonic()
        processes.start("gateway-2", "broker", "--wait", "60")
        ready = await clock.until(
            lambda m: m["kind"] == "ready" and m["service"] == GATEWAY and m["resumed"], timeout=60
        )
        rejoin = time.monotonic() - restarted_at
    await processes.wait_all()
    print(
        f"killed at window {tick['window']}; rejoined in {rejoin:.1f}s; suppress_through={ready['suppress_through']}"
    )
    assert driver.returncode == 0, processes.logs()
    assert processes.procs["gateway-2"].returncode == 0, processes.logs()
    assert ready["suppress_through"] > 0
    assert _digest(tmp_path / "out") == embedded.digest

    run = Run(config, namespace=processes.namespace)
    audit = [
        json.loads(v)
        for topic in run.topics.audits(run.senders)
        for v in await read_topic(processes.bootstrap, topic)
    ]
    ids = Counter((m["sender"], m["seq"]) for m in audit)
    assert max(ids.values()) == 1, "a record appears twice on the audit topic"
    events = [m["body"] for m in audit]
    decisions = Counter((e["lead"], e["sender"], e["recipient"]) for e in events if e["kind"] == "decision")
    published = {(e["lead"], e["agency"]) for e in events if e["kind"] == "publish"}
    agencies = set(run.agencies)
    expected = {(lead, sender, r) for lead, sender in published for r in agencies - {sender}}
    assert set(decisions) == expected
    assert set(decisions.values()) == {1}
