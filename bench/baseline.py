"""The workload of one replay, run again on bare discrete-event cores: SimPy, and a ``heapq`` loop.

A replay's work, seen from outside, is messages and record events: every message a service sends
(leads, releases, consent, actions, observations, and the audit records themselves) is put where
its reader takes it, and takes effect at its time; every audit record becomes a line of the
record, which is sorted and hashed. :func:`trace` takes that workload from a real Tearline replay
on the in-process transport; :func:`on_simpy` and :func:`on_heapq` run exactly those messages
(same senders, readers, times) with nothing else: no policy, no casebook, no envelope checks.
They are the floor a discrete-event engine cannot go below, so ``Tearline time / SimPy time`` says
how much of a replay is the engine rather than the model.

In SimPy each service is a process that sends its messages (a timeout to each send time, a put
into the reader's Store) and each reader a process that takes from its Store and waits until the
message takes effect (a timeout); the record's reader writes a line per event. The ``heapq`` loop
does the same with one heap of (time, order) entries.

    .venv/bin/python -m bench.baseline [--scenario paris-2015] [--policy fusion-centre] [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import heapq
import statistics
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path

import simpy

from tearline import RunConfig, load_scenario, replay
from tearline.broker import MemoryTransport, Topics, drain
from tearline.model import SimTime
from tearline.model._log import configure
from tearline.run import RunResult

ROOT = Path(__file__).resolve().parent.parent
RECORD = "RECORD"
"""The reader of the audit topic: the record."""


@dataclass(frozen=True, slots=True)
class Sent:
    """One message: sent at ``sent`` by ``sender`` to ``reader``; takes effect at ``at``."""

    sent: SimTime
    at: SimTime
    sender: str
    seq: int
    reader: str
    kind: str


@dataclass(frozen=True)
class Workload:
    """Every message of one replay, in send order, and the services that send and read them."""

    start: SimTime
    messages: tuple[Sent, ...]
    services: tuple[str, ...]

    @property
    def events(self) -> int:
        """Record events (the audit topic's messages)."""
        return sum(1 for m in self.messages if m.reader == RECORD)


async def trace(config: RunConfig, namespace: str = "tearline") -> tuple[Workload, RunResult]:
    """Replay ``config`` on the in-process transport and read back every message it carried.

    A message's send time is not on it: an audit record is sent when it is stamped, anything else
    ``transit`` before it takes effect (the least it can be; later only for delayed releases,
    whose delay is in the workload's times either way)."""
    transport = MemoryTransport()
    result = await replay(config, transport, namespace=namespace)
    topics = Topics(namespace)
    reader = await transport.subscribe("bench.trace", transport.topics())
    transit = config.scenario.transit
    messages: list[Sent] = []
    for message in await drain(reader):
        env = message.item
        if env is None or message.topic in (topics.deadletter, topics.clock):
            continue
        at, sender, seq, kind = env.at, env.sender, env.seq, env.kind  # type: ignore[attr-defined]
        if topics.audit_writer(message.topic) is not None:
            messages.append(Sent(at, at, sender, seq, RECORD, kind))
        else:
            messages.append(Sent(at - transit, at, sender, seq, topics.addressee(message.topic) or "", kind))
    await transport.close()
    messages.sort(key=lambda m: (m.sent, m.sender, m.seq))
    services = tuple(sorted({m.sender for m in messages} | {m.reader for m in messages}))
    return Workload(config.scenario.start, tuple(messages), services), result


def _line(m: Sent) -> bytes:
    return b"%d %s %d %s\n" % (m.at, m.sender.encode(), m.seq, m.kind.encode())


def _digest(lines: list[tuple[SimTime, str, int, bytes]]) -> str:
    lines.sort()
    return hashlib.sha256(b"".join(line for *_, line in lines)).hexdigest()


def on_simpy(w: Workload) -> tuple[str, int]:
    """Run the workload in SimPy; the record's digest and how many messages were handled."""
    env = simpy.Environment(initial_time=w.start)
    stores = {s: simpy.Store(env) for s in w.services}
    record: list[tuple[SimTime, str, int, bytes]] = []
    handled = [0]

    def send(mine: list[Sent]) -> Generator[simpy.Event, object, None]:
        for m in mine:
            if m.sent > env.now:
                yield env.timeout(m.sent - env.now)
            yield stores[m.reader].put(m)

    def read(name: str) -> Generator[simpy.Event, object, None]:
        store = stores[name]
        while True:
            m = yield store.get()
            assert isinstance(m, Sent)
            if m.at > env.now:
                yield env.timeout(m.at - env.now)
            handled[0] += 1
            if name == RECORD:
                record.append((m.at, m.sender, m.seq, _line(m)))

    by_sender: dict[str, list[Sent]] = {}
    for m in w.messages:
        by_sender.setdefault(m.sender, []).append(m)
    for mine in by_sender.values():
        env.process(send(mine))
    for name in w.services:
        env.process(read(name))
    env.run()
    return _digest(record), handled[0]


def on_heapq(w: Workload) -> tuple[str, int]:
    """The same with one heap: a send puts the message in its reader's queue, due at its time."""
    SEND, TAKE = 0, 1
    heap: list[tuple[SimTime, int, int, Sent]] = [(m.sent, SEND, i, m) for i, m in enumerate(w.messages)]
    heapq.heapify(heap)
    record: list[tuple[SimTime, str, int, bytes]] = []
    handled = 0
    tie = len(heap)
    while heap:
        _, step, _, m = heapq.heappop(heap)
        if step == SEND:
            tie += 1
            heapq.heappush(heap, (m.at, TAKE, tie, m))
            continue
        handled += 1
        if m.reader == RECORD:
            record.append((m.at, m.sender, m.seq, _line(m)))
    return _digest(record), handled


@dataclass(frozen=True)
class Timing:
    cpu: float
    """Median CPU seconds (this process)."""
    wall: float
    """Median wall seconds."""


def timed(run: Callable[[], object], repeat: int) -> Timing:
    cpu, wall = [], []
    for _ in range(repeat):
        c0, w0 = time.process_time(), time.perf_counter()
        run()
        cpu.append(time.process_time() - c0)
        wall.append(time.perf_counter() - w0)
    return Timing(statistics.median(cpu), statistics.median(wall))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", default="paris-2015", help="a bundled scenario (default: paris-2015)")
    parser.add_argument("--policy", default="fusion-centre")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each; medians are reported")
    args = parser.parse_args()
    configure(level="error")
    path = next((ROOT / "scenarios").rglob(f"{args.scenario}.yaml"))
    config = RunConfig(scenario=load_scenario(path), policy=args.policy, seed=1)
    workload, _ = asyncio.run(trace(config))
    sim = timed(lambda: on_simpy(workload), args.repeat)
    bare = timed(lambda: on_heapq(workload), args.repeat)
    print(
        f"{config.scenario.id} / {args.policy}: {len(workload.messages)} messages, {workload.events} events"
    )
    for name, t in [("simpy", sim), ("heapq", bare)]:
        print(f"{name:<8} cpu {t.cpu * 1000:8.1f} ms   wall {t.wall * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
