"""The transport contract's test cases, run on every transport (faststream style).

:class:`TransportContract` holds the cases; each backend's module subclasses it and provides one
fixture, ``backend``: how to open a transport of that kind (a fresh one per call, on the same
topics for Kafka) and what the transport should call itself. The same cases thus run on the
in-process transport and on a real Kafka broker, and say the two behave alike wherever Tearline
can tell.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tearline import TransportClosed, TransportError
from tearline.broker import SIG_HEADER, Consumer, TopicSpec, Transport, drain, partition_for


@dataclass(frozen=True)
class Backend:
    """One transport kind under test."""

    name: str
    """What the transport calls itself (``Transport.name``)."""
    address: str | None
    """Where another process reaches it (``Transport.address``)."""
    connect: Callable[[], AbstractAsyncContextManager[Transport]]
    """A started transport, closed on exit."""
    examples: int
    """Hypothesis examples for the property (each one is a real round trip on Kafka)."""
    max_messages: int


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


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


async def _read(consumer: Consumer, count: int | None) -> list[tuple[str, str]]:
    got: list[tuple[str, str]] = []
    for _ in range(400):
        if count is not None and len(got) >= count:
            break
        if count is None and await consumer.lag() == 0:
            break
        batch = await consumer.poll(timeout=0.5, max_records=1 if count is not None else None)
        got.extend((m.key.decode() if m.key else "", m.value.decode()) for m in batch)
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


class TransportContract:
    """The cases every transport passes. Subclasses provide the ``backend`` fixture."""

    def test_programs_keep_order_lose_nothing_and_resume_from_commits(self, backend: Backend) -> None:
        """Each key's messages arrive in publish order on Kafka's murmur2 partition; a group reads
        every message exactly once across a member leaving after a commit and a new member
        joining; another group reads everything."""

        @settings(
            max_examples=backend.examples,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )
        @given(programs(backend.max_messages))
        def check(program: Program) -> None:
            async def go() -> Observed:
                async with backend.connect() as transport:
                    return await run_program(transport, program, unique("contract"), unique("g"))

            seen = asyncio.run(go())
            assert seen.placements == tuple(
                (k, partition_for(k.encode(), program.partitions)) for k, _ in program.messages
            )
            published = by_key(program.messages)
            assert by_key(seen.other_group) == published
            group_total = [*seen.first_member, *seen.second_member]
            assert Counter(group_total) == Counter(program.messages)  # no loss, no duplicate
            assert len(seen.first_member) == program.first
            for key, values in by_key(group_total).items():
                assert values == published[key], "per-key order"

        check()

    async def test_keys_land_where_kafka_puts_them(self, backend: Backend) -> None:
        """Any key, empty and non-UTF-8 ones included, lands on Kafka's murmur2 partition."""
        async with backend.connect() as transport:
            topic = unique("keys")
            await transport.create_topics([TopicSpec(topic, 3)])
            for key in (b"IB", b"RAW", b"NSS-0001", b"", b"\xff\x00"):
                partition, offset = await transport.publish(topic, b"v", key=key)
                assert partition == partition_for(key, 3)
                assert offset >= 0

    async def test_says_what_it_is_and_where_it_is_reached(self, backend: Backend) -> None:
        """``name`` is what summaries print; ``address`` is what another process connects to."""
        async with backend.connect() as transport:
            assert transport.name == backend.name
            assert transport.address == backend.address

    async def test_unknown_topic_is_an_error_at_once(self, backend: Backend) -> None:
        """Like Kafka with auto-creation off, and without a producer's 40 s metadata wait."""
        async with backend.connect() as transport:
            started = time.monotonic()
            for call in (
                lambda t: transport.publish(t, b"x", key=b"k"),
                lambda t: transport.subscribe(unique("g"), [t]),
                lambda t: transport.partitions(t),
                lambda t: transport.end_offsets([t]),
            ):
                with pytest.raises(TransportError, match="unknown topic"):
                    await call(unique("nope"))
            assert time.monotonic() - started < 5

    async def test_create_is_idempotent_and_keeps_existing_topics(self, backend: Backend) -> None:
        async with backend.connect() as transport:
            topic, other = unique("twice"), unique("other")
            assert await transport.create_topics([TopicSpec(topic, 2, {"retention.ms": "-1"})]) == {topic}
            created = await transport.create_topics([TopicSpec(topic, 5), TopicSpec(other, 1)])
            assert created == {other}  # only what this call created: it holds nothing older
            assert await transport.partitions(topic) == 2
            with pytest.raises(TransportError, match="at least 1"):
                await transport.create_topics([TopicSpec(unique("none"), 0)])

    async def test_uncommitted_reads_are_redelivered(self, backend: Backend) -> None:
        """At-least-once: what a member read but did not commit comes back to the next member."""
        async with backend.connect() as transport:
            topic, group = unique("redeliver"), unique("g")
            await transport.create_topics([TopicSpec(topic, 2)])
            for i in range(6):
                await transport.publish(topic, str(i).encode(), key=str(i).encode())
            c = await transport.subscribe(group, [topic])
            assert len(await drain(c)) == 6
            await c.close()
            c2 = await transport.subscribe(group, [topic])
            assert len(await drain(c2)) == 6
            await c2.commit()
            await c2.close()
            c3 = await transport.subscribe(group, [topic])
            assert await c3.poll(timeout=0.2) == []
            assert await c3.lag() == 0
            await c3.close()

    async def test_poll_waits_for_a_publish_and_lag_counts(self, backend: Backend) -> None:
        async with backend.connect() as transport:
            topic = unique("wait")
            await transport.create_topics([TopicSpec(topic)])
            c = await transport.subscribe(unique("g"), [topic])
            assert await c.lag() == 0

            async def later() -> None:
                await asyncio.sleep(0.05)
                await transport.publish(topic, b"hello", key=b"k")

            task = asyncio.create_task(later())
            got = await c.poll(timeout=5.0)
            await task
            assert [m.value for m in got] == [b"hello"]
            await transport.publish(topic, b"again", key=b"k")
            assert await c.lag() == 1
            assert [m.value for m in await drain(c)] == [b"again"]
            await c.close()

    async def test_pipelined_sends_are_stored_in_order_by_the_flush(self, backend: Backend) -> None:
        """Records sent without waiting are all readable after ``flush``, in send order per key,
        with their headers, and a sole producer's consumers count them in their lag."""
        async with backend.connect() as transport:
            topic = unique("sent")
            await transport.create_topics([TopicSpec(topic, 3)])
            c = await transport.subscribe(unique("g"), [topic])
            transport.sole_producer = True
            sent = [(f"k{i % 5}".encode(), f"v{i}".encode()) for i in range(200)]
            for key, value in sent:
                await transport.send(topic, value, key=key, headers=(("n", value),))
            await transport.flush()
            assert await c.lag() == len(sent)
            got = await drain(c)
            by_key: dict[bytes | None, list[bytes]] = {}
            for m in got:
                assert m.partition == partition_for(m.key or b"", 3)
                assert m.header("n") == m.value
                by_key.setdefault(m.key, []).append(m.value)
            expected: dict[bytes | None, list[bytes]] = {}
            for key, value in sent:
                expected.setdefault(key, []).append(value)
            assert by_key == expected
            await c.close()

    async def test_seek_to_beginning_rereads_with_headers(self, backend: Backend) -> None:
        async with backend.connect() as transport:
            topic = unique("seek")
            await transport.create_topics([TopicSpec(topic)])
            await transport.publish(topic, b"1", key=b"k", headers=((SIG_HEADER, b"\x00\x01"),))
            c = await transport.subscribe(unique("g"), [topic])
            first = await drain(c)
            await c.seek_to_beginning()
            again = await drain(c)
            assert [m.value for m in again] == [m.value for m in first] == [b"1"]
            assert again[0].header(SIG_HEADER) == b"\x00\x01"
            assert again[0].header("absent") is None
            await c.close()

    async def test_members_share_partitions(self, backend: Backend) -> None:
        """Two members of a group split the partitions (range assignment) and together read all once."""
        async with backend.connect() as transport:
            topic, group = unique("share"), unique("g")
            await transport.create_topics([TopicSpec(topic, 4)])
            for i in range(40):
                await transport.publish(topic, str(i).encode(), key=f"k{i}".encode())
            a = await transport.subscribe(group, [topic])
            b = await transport.subscribe(group, [topic])
            for _ in range(100):  # on Kafka, b's join makes a rejoin in the background
                if a.assignment() and b.assignment() and len(a.assignment()) + len(b.assignment()) == 4:
                    break
                await asyncio.sleep(0.1)
            assert sorted([*a.assignment(), *b.assignment()]) == [(topic, p) for p in range(4)]
            assert {p for _, p in a.assignment()} == {0, 1} or {p for _, p in b.assignment()} == {0, 1}
            got_a, got_b = await drain(a), await drain(b)
            assert {m.partition for m in got_a}.isdisjoint({m.partition for m in got_b})
            assert sorted(int(m.value) for m in [*got_a, *got_b]) == list(range(40))
            await a.close()
            await b.close()

    async def test_a_run_scope_hides_earlier_records(self, backend: Backend) -> None:
        """After begin_at(end offsets), a new group and seek_to_beginning start at the run's start;
        a topic the scope does not name is read from its first offset."""
        async with backend.connect() as transport:
            topic, other = unique("scope"), unique("unscoped")
            await transport.create_topics([TopicSpec(topic, 2), TopicSpec(other)])
            for i in range(5):
                await transport.publish(topic, f"old{i}".encode(), key=str(i).encode())
            await transport.publish(other, b"kept", key=b"k")
            floor = await transport.end_offsets([topic])
            assert list(floor) == [topic]
            assert len(floor[topic]) == 2
            assert sum(floor[topic]) == 5
            transport.begin_at(floor)
            for i in range(3):
                await transport.publish(topic, f"new{i}".encode(), key=str(i).encode())
            c = await transport.subscribe(unique("g"), [topic, other])
            assert sorted(m.value for m in await drain(c)) == [b"kept", b"new0", b"new1", b"new2"]
            await c.seek_to_beginning()
            assert sorted(m.value for m in await drain(c)) == [b"kept", b"new0", b"new1", b"new2"]
            await c.close()

    async def test_a_kept_member_resumes_from_its_groups_commits(self, backend: Backend) -> None:
        """A member subscribed under ``keep_member`` and started again (a restarted service) takes
        its place at once and resumes from what the group committed."""
        async with backend.connect() as transport:
            topic, group = unique("kept"), unique("g")
            await transport.create_topics([TopicSpec(topic)])
            transport.keep_member(group, f"{group}-member")
            for i in range(4):
                await transport.publish(topic, str(i).encode(), key=b"k")
            first = await transport.subscribe(group, [topic])
            assert len(await drain(first)) == 4
            await first.commit()
            await first.close()
            await transport.publish(topic, b"4", key=b"k")
            started = time.monotonic()
            again = await transport.subscribe(group, [topic])
            assert [m.value for m in await drain(again)] == [b"4"]
            assert time.monotonic() - started < 8  # well inside a member's 10 s session time-out
            await again.close()

    async def test_closed_transport_refuses_work(self, backend: Backend) -> None:
        async with backend.connect() as transport:
            topic = unique("closed")
            await transport.create_topics([TopicSpec(topic)])
            c = await transport.subscribe(unique("g"), [topic])
        with pytest.raises(TransportClosed):
            await transport.publish(topic, b"x", key=b"k")
        with pytest.raises(TransportClosed):
            await c.poll()
        await transport.close()  # twice is fine
