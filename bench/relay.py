"""Kafka throughput, in one run on one broker: a raw pipe, the release gateway, and whole replays.

(a) raw pipe: a plain aiokafka consumer → producer copying N lead-sized records from one topic to
    another (idempotent producer, commit after the copies are acknowledged) — pipelined, and one
    acknowledged send at a time (for comparison);
(b) gateway relay: the release gateway reading N leads from the outboxes and, per lead and other
    agency, applying the policy, recording the decision and delivering the released copy, its
    records out per second against (a) pipelined (goal: at least 0.8 ×). (a) and (b) alternate
    for --rounds rounds after one uncounted warm-up, each round's ratio against its own pipe;
(c) replays: each scenario on Kafka (in one process) against the in-process transport, wall and
    CPU time, median of --repeat, the digests checked equal (goal: Kafka within 3 × wall).

It prints the rates and their ratios. A benchmark, not a test.

    .venv/bin/python -m bench.relay [--bootstrap HOST:PORT] [--leads 8000] [--rounds 3] [--policy fusion-centre]

Without --bootstrap (or TEARLINE_KAFKA_BOOTSTRAP) it starts a broker with scripts/kafka (and
stops it afterwards if it started it).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import statistics
import subprocess
import time
import uuid
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from tearline import RunConfig, load_scenario, replay
from tearline.broker import TopicSpec, kafka_transport
from tearline.broker._envelope import LeadEnvelope, seal
from tearline.model import GATEWAY
from tearline.model._log import configure
from tearline.model._paths import scenario_files
from tearline.run._clock import scoped_replay
from tearline.run._driver import Run, paced_collection

ROOT = Path(__file__).resolve().parent.parent
TEACHING = ROOT / "scenarios" / "examples" / "connect-the-dots.yaml"


def _bootstrap(given: str | None) -> tuple[str, bool]:
    value = given or os.environ.get("TEARLINE_KAFKA_BOOTSTRAP")
    if value:
        return value, False
    status = subprocess.run(
        [ROOT / "scripts" / "kafka", "status"], capture_output=True, text=True, check=False
    )
    for line in status.stdout.splitlines():
        if status.returncode == 0 and line.startswith("BOOTSTRAP="):
            return line.removeprefix("BOOTSTRAP="), False
    started = subprocess.run(
        [ROOT / "scripts" / "kafka", "start"], capture_output=True, text=True, check=True
    )
    for line in started.stdout.splitlines():
        if line.startswith("BOOTSTRAP="):
            return line.removeprefix("BOOTSTRAP="), True
    raise SystemExit(f"scripts/kafka start printed no BOOTSTRAP=\n{started.stderr}")


def _leads(
    config: RunConfig, run: Run, n: int
) -> list[tuple[str, bytes, bytes, tuple[tuple[str, bytes], ...]]]:
    """N signed lead envelopes on the agencies' outboxes, as the agencies would publish them."""
    scenario = config.scenario
    injects = [i for i in scenario.injects if i.observer in run.agencies]
    out = []
    for k in range(n):
        inject = injects[k % len(injects)]
        lead = scenario.lead_of(inject)
        lead = lead.model_copy(update={"id": f"{lead.id}-bench-{k}"})
        env = LeadEnvelope(run=config.run_id, sender=lead.origin, seq=k + 1, at=scenario.start + k, body=lead)
        value, headers = seal(env, run.keys, to=run.topics.addressee(run.topics.outbox(lead.origin)))
        out.append((run.topics.outbox(lead.origin), lead.id.encode(), value, headers))
    return out


async def raw_pipe(bootstrap: str, payloads: list[bytes], *, one_at_a_time: bool) -> float:
    """Records per second copied from one topic to another by a plain consumer → producer."""
    ns = f"bench-{uuid.uuid4().hex[:8]}"
    source, sink = f"{ns}.source", f"{ns}.sink"
    async with kafka_transport(bootstrap) as kafka:
        await kafka.create_topics([TopicSpec(source, 3), TopicSpec(sink, 3)])
    loader = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, acks="all")
    await loader.start()
    try:
        futures = [await loader.send(source, p, key=str(i).encode()) for i, p in enumerate(payloads)]
        await asyncio.gather(*futures)
    finally:
        await loader.stop()
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{ns}.pipe",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=0 if one_at_a_time else 5
    )
    await consumer.start()
    await producer.start()
    try:
        copied = 0
        started = time.perf_counter()
        while copied < len(payloads):
            batches = await consumer.getmany(timeout_ms=1000, max_records=2000)
            pending = []
            for records in batches.values():
                for r in records:
                    if one_at_a_time:
                        await producer.send_and_wait(sink, r.value, key=r.key, headers=list(r.headers))
                    else:
                        pending.append(await producer.send(sink, r.value, key=r.key, headers=list(r.headers)))
                copied += len(records)
            await asyncio.gather(*pending)
            await consumer.commit()
        return copied / (time.perf_counter() - started)
    finally:
        await consumer.stop()
        await producer.stop()


async def gateway_relay(bootstrap: str, config: RunConfig, n: int) -> tuple[float, float, int, int]:
    """Wall and CPU seconds the release gateway takes to relay N leads; decisions and records it produced."""
    run = Run(config, namespace=f"bench-{uuid.uuid4().hex[:8]}", sealed=True)
    leads = _leads(config, run, n)
    async with kafka_transport(bootstrap) as kafka:
        await run.create_topics(kafka)
        for topic, key, value, headers in leads:
            await kafka.publish(topic, value, key=key, headers=headers)
        gateway = run.gateway(kafka)
        await gateway.open()
        try:
            # Paced as a served gateway (``tearline broker``) paces Python's cycle collector.
            with paced_collection():
                started, cpu = time.perf_counter(), time.process_time()
                await gateway.step(config.scenario.horizon + 1)
                elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
        finally:
            await gateway.close()
    decisions = n * (len(run.agencies) - 1)  # one per lead and other agency
    return elapsed, cpu, decisions, gateway.seq  # seq: every record it produced


Timing = tuple[float, float]
"""Wall and CPU seconds."""


async def replays(
    bootstrap: str, policy: str, repeat: int, names: list[str] | None
) -> list[tuple[str, Timing, Timing, int]]:
    """Per scenario: the median embedded and Kafka (one process) replay, and its events."""
    out = []
    for path in scenario_files():
        if names and path.stem not in names:
            continue
        scenario = load_scenario(path)
        config = RunConfig(scenario=scenario, policy=policy, seed=1)
        embedded: list[Timing] = []
        on_kafka: list[Timing] = []
        for _ in range(repeat):
            started, cpu = time.perf_counter(), time.process_time()
            result = await replay(config)
            embedded.append((time.perf_counter() - started, time.process_time() - cpu))
            async with kafka_transport(bootstrap) as kafka:
                started, cpu = time.perf_counter(), time.process_time()
                kafka_result = await scoped_replay(config, kafka, namespace=f"bench-{uuid.uuid4().hex[:8]}")
                on_kafka.append((time.perf_counter() - started, time.process_time() - cpu))
            assert kafka_result.digest == result.digest, f"{scenario.id}: the digests differ"
        out.append(
            (
                scenario.id,
                _median(embedded),
                _median(on_kafka),
                len(result.events),
            )
        )
    return out


def _spread(values: list[float], fmt: str = ".0f") -> str:
    """The median, and the range in brackets."""
    median = statistics.median(values)
    return f"{median:>9{fmt}} [{min(values):{fmt}}–{max(values):{fmt}}]"


def _median(timings: list[Timing]) -> Timing:
    return statistics.median(w for w, _ in timings), statistics.median(c for _, c in timings)


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--bootstrap", help="a broker (default: TEARLINE_KAFKA_BOOTSTRAP, else scripts/kafka)"
    )
    parser.add_argument("--leads", type=int, default=8000, help="leads through the pipe and the gateway")
    parser.add_argument("--policy", default="fusion-centre", help="the gateway's policy (and the replays')")
    parser.add_argument("--repeat", type=int, default=3, help="replays per scenario and transport (median)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="pipe-then-gateway rounds, after one uncounted warm-up"
    )
    parser.add_argument("--scenario", action="append", help="replay only these scenarios (default: all)")
    parser.add_argument("--no-replays", action="store_true", help="measure the pipe and the gateway only")
    args = parser.parse_args()
    configure(level="error")
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    bootstrap, started = _bootstrap(args.bootstrap)
    try:
        config = RunConfig(scenario=load_scenario(TEACHING), policy=args.policy, seed=1)
        payloads = [value for _, _, value, _ in _leads(config, Run(config, sealed=True), args.leads)]
        size = statistics.mean(len(p) for p in payloads)
        print(f"broker {bootstrap}; {args.leads} leads of ~{size:.0f} bytes; policy {args.policy}\n")
        # Alternated, after one round that is not counted (a fresh broker is slower at first): the
        # pipe and the gateway of each round run next to each other, and each round's ratio is theirs.
        sequential = await raw_pipe(bootstrap, payloads, one_at_a_time=True)
        rounds: list[tuple[float, float, float, int, int]] = []
        for r in range(args.rounds + 1):
            pipelined = await raw_pipe(bootstrap, payloads, one_at_a_time=False)
            wall, cpu, decisions, produced = await gateway_relay(bootstrap, config, args.leads)
            if r > 0:
                rounds.append((pipelined, wall, cpu, decisions, produced))
        pipes = [p for p, *_ in rounds]
        outs = [produced / wall for _, wall, _, _, produced in rounds]
        ratios = [o / p for o, p in zip(outs, pipes, strict=True)]
        _, wall, cpu, decisions, produced = rounds[ratios.index(statistics.median_low(ratios))]
        print(f"{args.rounds} rounds after a warm-up; medians, with the range over rounds:")
        print(f"(a) raw aiokafka consume→produce, pipelined      {_spread(pipes)} records/s")
        print(f"    raw aiokafka consume→produce, one ack a time {sequential:>9.0f} records/s")
        print(
            f"(b) {GATEWAY} relaying {args.leads} leads under {args.policy} (median round): {wall:.2f} s wall, "
            f"{cpu:.2f} s CPU; {decisions} decisions, {produced} records out "
            f"({produced / args.leads:.1f} per lead)"
        )
        print(f"    gateway records out                          {_spread(outs)} records/s")
        print(
            f"    gateway records out / raw pipelined pipe     {_spread(ratios, '.2f')} ×  (goal ≥ 0.8; "
            "each round's own pipe)"
        )
        if args.no_replays:
            return
        print(
            f"\n(c) replays, policy {args.policy}, median of {args.repeat}: Kafka (one process) vs embedded"
        )
        print(
            f"    {'scenario':<18} {'embedded wall/CPU s':>20} {'kafka wall/CPU s':>17} "
            f"{'× wall':>7} {'× CPU':>6} {'events':>7}"
        )
        for scenario, embedded, on_kafka, events in await replays(
            bootstrap, args.policy, args.repeat, args.scenario
        ):
            print(
                f"    {scenario:<18} {embedded[0]:>11.2f} / {embedded[1]:>5.2f} {on_kafka[0]:>8.2f} / "
                f"{on_kafka[1]:>5.2f} {on_kafka[0] / embedded[0]:>7.1f} {on_kafka[1] / embedded[1]:>6.1f} "
                f"{events:>7}"
            )
    finally:
        if started:
            subprocess.run([ROOT / "scripts" / "kafka", "stop"], capture_output=True, check=False)


if __name__ == "__main__":
    asyncio.run(main())
