"""A publish/subscribe program any transport can run, and what it observed.

The contract tests run it on the in-process transport against an exact model of Kafka's
semantics; the Kafka tests run the same programs on a real broker and compare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

from tearline.broker import TopicSpec, Transport


@dataclass(frozen=True)
class Program:
    """Publish ``messages`` (key, value) to one topic; a group member reads ``first`` of them,
    commits, leaves; a second member of the same group reads the rest; another group reads all."""

    messages: Sequence[tuple[str, str]]
    first: int
    partitions: int = 3


@dataclass(frozen=True)
class Observed:
    placements: tuple[tuple[str, int], ...]
    """(key, partition) for every publish, in order."""
    first_member: tuple[tuple[str, str], ...]
    second_member: tuple[tuple[str, str], ...]
    other_group: tuple[tuple[str, str], ...]


async def _read(consumer, count: int | None) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    got: list[tuple[str, str]] = []
    for _ in range(400):
        if count is not None and len(got) >= count:
            break
        if count is None and await consumer.lag() == 0:
            break
        batch = await consumer.poll(timeout=0.5, max_records=1 if count is not None else None)
        got.extend((m.key.decode(), m.value.decode()) for m in batch)
    return got


async def run_program(transport: Transport, program: Program, topic: str, group: str) -> Observed:
    await transport.create_topics([TopicSpec(topic, program.partitions)])
    placements = []
    for key, value in program.messages:
        partition, _ = await transport.publish(topic, value.encode(), key=key.encode())
        placements.append((key, partition))
    await transport.flush()
    first = await transport.subscribe(group, [topic])
    taken = await _read(first, program.first)
    await first.commit()
    await first.close()
    second = await transport.subscribe(group, [topic])
    rest = await _read(second, None)
    await second.close()
    other = await transport.subscribe(f"{group}-other", [topic])
    everything = await _read(other, None)
    await other.close()
    return Observed(tuple(placements), tuple(taken), tuple(rest), tuple(everything))


def by_key(pairs: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for k, v in pairs:
        out.setdefault(k, []).append(v)
    return out


def programs(max_messages: int) -> st.SearchStrategy[Program]:
    """Random programs: up to ``max_messages`` keyed messages, a commit point, 1-4 partitions."""
    keys = st.sampled_from(["IB", "RAW", "MI5", "DGSI", "VSSE", "a-very-long-lead-id-0001"])
    return st.builds(
        lambda msgs, cut, parts: Program(msgs, min(cut, len(msgs)), parts),
        st.lists(st.tuples(keys, st.text(min_size=1, max_size=8)), min_size=1, max_size=max_messages).map(
            lambda ms: [(k, f"{i}:{v}") for i, (k, v) in enumerate(ms)]
        ),
        st.integers(min_value=0, max_value=max_messages),
        st.integers(min_value=1, max_value=4),
    )
