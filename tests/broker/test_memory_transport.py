"""The in-process transport keeps Kafka's semantics where the rest of Tearline can tell."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import given, settings
from hypothesis import strategies as st

from tearline import TransportClosed, TransportError
from tearline.broker import MemoryTransport, TopicSpec, partition_for
from tearline.broker._transport import murmur2

from .contract import Program, by_key, run_program
from .contract import programs as contract_programs

programs = contract_programs(40)


class TestProperties:
    @given(programs)
    @settings(max_examples=150, deadline=None)
    def test_per_key_order_no_loss_and_resume_from_commit(self, program: Program) -> None:
        """Each key's messages arrive in publish order; a group reads every message exactly once
        across a member leaving after a commit and a new member joining; another group reads all."""
        seen = asyncio.run(run_program(MemoryTransport(), program, "t", "g"))
        published = by_key(program.messages)
        assert by_key(seen.other_group) == published
        group_total = [*seen.first_member, *seen.second_member]
        assert Counter(group_total) == Counter(program.messages)  # no loss, no duplicate
        assert len(seen.first_member) == program.first
        for key, values in by_key(group_total).items():
            assert values == published[key], "per-key order"

    @given(st.binary(max_size=64))
    def test_partitioner_matches_kafka_clients(self, key: bytes) -> None:
        """Keys land on the partition Kafka's own partitioner picks (murmur2, as in aiokafka)."""
        assert murmur2(key) == aiokafka_murmur2(key)
        assert partition_for(key, 3) == (aiokafka_murmur2(key) & 0x7FFFFFFF) % 3


class TestContract:
    async def test_unknown_topic_is_an_error(self) -> None:
        """Like Kafka with auto-creation off: publish and subscribe need created topics."""
        t = MemoryTransport()
        with pytest.raises(TransportError, match="unknown topic"):
            await t.publish("nope", b"x", key=b"k")
        with pytest.raises(TransportError, match="unknown topic"):
            await t.subscribe("g", ["nope"])

    async def test_uncommitted_reads_are_redelivered(self) -> None:
        """At-least-once: what a member read but did not commit comes back to the next member."""
        t = MemoryTransport()
        await t.create_topics([TopicSpec("t", 2)])
        for i in range(6):
            await t.publish("t", str(i).encode(), key=str(i).encode())
        c = await t.subscribe("g", ["t"])
        assert len(await c.poll()) == 6
        await c.close()
        c2 = await t.subscribe("g", ["t"])
        assert len(await c2.poll()) == 6
        await c2.commit()
        await c2.close()
        c3 = await t.subscribe("g", ["t"])
        assert await c3.poll() == []
        assert await c3.lag() == 0

    async def test_members_share_partitions(self) -> None:
        """Two members of a group split the partitions (range assignment) and together read all once."""
        t = MemoryTransport()
        await t.create_topics([TopicSpec("t", 4)])
        for i in range(40):
            await t.publish("t", str(i).encode(), key=f"k{i}".encode())
        a = await t.subscribe("g", ["t"])
        b = await t.subscribe("g", ["t"])
        got_a, got_b = await a.poll(), await b.poll()
        assert {m.partition for m in got_a}.isdisjoint({m.partition for m in got_b})
        assert sorted(int(m.value) for m in [*got_a, *got_b]) == list(range(40))

    async def test_poll_waits_for_a_publish(self) -> None:
        """poll(timeout) returns as soon as something arrives."""
        t = MemoryTransport()
        await t.create_topics([TopicSpec("t")])
        c = await t.subscribe("g", ["t"])

        async def later() -> None:
            await asyncio.sleep(0.01)
            await t.publish("t", b"hello", key=b"k")

        task = asyncio.create_task(later())
        got = await c.poll(timeout=2.0)
        await task
        assert [m.value for m in got] == [b"hello"]

    async def test_seek_to_beginning_rereads(self) -> None:
        t = MemoryTransport()
        await t.create_topics([TopicSpec("t")])
        await t.publish("t", b"1", key=b"k")
        c = await t.subscribe("g", ["t"])
        await c.poll()
        await c.seek_to_beginning()
        assert [m.value for m in await c.poll()] == [b"1"]

    async def test_closed_transport_refuses_work(self) -> None:
        t = MemoryTransport()
        await t.create_topics([TopicSpec("t")])
        await t.close()
        with pytest.raises(TransportClosed):
            await t.publish("t", b"x", key=b"k")
