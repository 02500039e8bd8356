"""The Kafka transport against a real broker: the same contract, the same observable behaviour as memory."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings

from tearline import TransportClosed, TransportError
from tearline.broker import (
    KafkaTransport,
    MemoryTransport,
    TopicSpec,
    drain,
    kafka_transport,
    partition_for,
)
from tearline.broker._kafka import KafkaSetupError, transport_error

from .contract import Program, by_key, run_program
from .contract import programs as contract_programs


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


@pytest.fixture
async def kafka(kafka_bootstrap: str) -> AsyncIterator[KafkaTransport]:
    async with kafka_transport(kafka_bootstrap) as transport:
        yield transport


programs = contract_programs(25)


@pytest.mark.kafka
class TestContractOnKafka:
    @given(programs)
    @settings(
        max_examples=6,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def test_same_programs_same_observations_as_memory(self, kafka_bootstrap: str, program: Program) -> None:
        """The contract programs give the same placements on Kafka as in memory, and the same
        guarantees: per-key order, no loss and no duplicate across a member leaving after a commit
        and a new one joining, another group reads everything."""

        async def both() -> tuple[object, object]:
            memory = await run_program(MemoryTransport(), program, "t", "g")
            async with kafka_transport(kafka_bootstrap) as k:
                real = await run_program(k, program, unique("contract"), unique("g"))
            return memory, real

        memory, real = asyncio.run(both())
        published = by_key(program.messages)
        assert real.placements == memory.placements  # type: ignore[attr-defined]
        for seen in (memory, real):
            assert by_key(seen.other_group) == published  # type: ignore[attr-defined]
            group_total = [*seen.first_member, *seen.second_member]  # type: ignore[attr-defined]
            assert len(seen.first_member) == program.first  # type: ignore[attr-defined]
            assert Counter(group_total) == Counter(program.messages)  # resumed from the commit
            for key, values in by_key(group_total).items():
                assert values == published[key], "per-key order"

    async def test_keys_land_where_kafka_puts_them(self, kafka: KafkaTransport) -> None:
        """The broker-side partition of a keyed record is the murmur2 partition memory computes."""
        topic = unique("keys")
        await kafka.create_topics([TopicSpec(topic, 3)])
        for key in (b"IB", b"RAW", b"NSS-0001", b"", b"\xff\x00"):
            partition, offset = await kafka.publish(topic, b"v", key=key)
            assert partition == partition_for(key, 3)
            assert offset >= 0


@pytest.mark.kafka
class TestBehaviour:
    async def test_unknown_topic_is_an_error_at_once(self, kafka: KafkaTransport) -> None:
        """Like memory (and unlike a bare producer, which waits 40 s for metadata)."""
        started = time.monotonic()
        with pytest.raises(TransportError, match="unknown topic"):
            await kafka.publish(unique("nope"), b"x", key=b"k")
        with pytest.raises(TransportError, match="unknown topic"):
            await kafka.subscribe("g", [unique("nope")])
        assert time.monotonic() - started < 5

    async def test_create_is_idempotent_and_keeps_existing_topics(self, kafka: KafkaTransport) -> None:
        topic = unique("twice")
        await kafka.create_topics([TopicSpec(topic, 2, {"retention.ms": "-1"})])
        async with kafka_transport(kafka.bootstrap) as other:  # no cache: the broker says "exists"
            await other.create_topics([TopicSpec(topic, 5)])
            assert await other.partitions(topic) == 2

    async def test_uncommitted_reads_are_redelivered(self, kafka: KafkaTransport) -> None:
        """At-least-once: what a member read but did not commit comes back to the next member."""
        topic, group = unique("redeliver"), unique("g")
        await kafka.create_topics([TopicSpec(topic, 2)])
        for i in range(6):
            await kafka.publish(topic, str(i).encode(), key=str(i).encode())
        c = await kafka.subscribe(group, [topic])
        assert len(await drain(c)) == 6
        await c.close()
        c2 = await kafka.subscribe(group, [topic])
        assert len(await drain(c2)) == 6
        await c2.commit()
        await c2.close()
        c3 = await kafka.subscribe(group, [topic])
        assert await c3.poll(timeout=0.2) == []
        assert await c3.lag() == 0
        await c3.close()

    async def test_poll_waits_for_a_publish_and_lag_counts(self, kafka: KafkaTransport) -> None:
        topic = unique("wait")
        await kafka.create_topics([TopicSpec(topic)])
        c = await kafka.subscribe(unique("g"), [topic])
        assert await c.lag() == 0

        async def later() -> None:
            await asyncio.sleep(0.05)
            await kafka.publish(topic, b"hello", key=b"k")

        task = asyncio.create_task(later())
        got = await c.poll(timeout=5.0)
        await task
        assert [m.value for m in got] == [b"hello"]
        await kafka.publish(topic, b"again", key=b"k")
        assert await c.lag() == 1
        assert [m.value for m in await drain(c)] == [b"again"]
        await c.close()

    async def test_seek_to_beginning_rereads_with_headers(self, kafka: KafkaTransport) -> None:
        topic = unique("seek")
        await kafka.create_topics([TopicSpec(topic)])
        await kafka.publish(topic, b"1", key=b"k", headers=(("tearline-sig", b"\x00\x01"),))
        c = await kafka.subscribe(unique("g"), [topic])
        first = await drain(c)
        await c.seek_to_beginning()
        again = await drain(c)
        assert [m.value for m in again] == [m.value for m in first] == [b"1"]
        assert again[0].header("tearline-sig") == b"\x00\x01"
        await c.close()

    async def test_members_share_partitions(self, kafka: KafkaTransport) -> None:
        """Two members of a group split the partitions and together read everything once."""
        topic, group = unique("share"), unique("g")
        await kafka.create_topics([TopicSpec(topic, 4)])
        for i in range(40):
            await kafka.publish(topic, str(i).encode(), key=f"k{i}".encode())
        a = await kafka.subscribe(group, [topic])
        b = await kafka.subscribe(group, [topic])
        for _ in range(100):  # b's join makes a rejoin in the background
            if len(a._partitions()) + len(b._partitions()) == 4 and a._partitions() and b._partitions():
                break
            await asyncio.sleep(0.1)
        got_a, got_b = await drain(a), await drain(b)
        assert {m.partition for m in got_a}.isdisjoint({m.partition for m in got_b})
        assert sorted(int(m.value) for m in [*got_a, *got_b]) == list(range(40))
        await a.close()
        await b.close()

    async def test_a_run_scope_hides_earlier_records(self, kafka: KafkaTransport) -> None:
        """After begin_at(end offsets), a new group and seek_to_beginning start at the run's start."""
        topic = unique("scope")
        await kafka.create_topics([TopicSpec(topic, 2)])
        for i in range(5):
            await kafka.publish(topic, f"old{i}".encode(), key=str(i).encode())
        floor = await kafka.end_offsets([topic])
        assert sum(floor[topic]) == 5
        kafka.begin_at(floor)
        for i in range(3):
            await kafka.publish(topic, f"new{i}".encode(), key=str(i).encode())
        c = await kafka.subscribe(unique("g"), [topic])
        assert sorted(m.value for m in await drain(c)) == [b"new0", b"new1", b"new2"]
        await c.seek_to_beginning()
        assert sorted(m.value for m in await drain(c)) == [b"new0", b"new1", b"new2"]
        await c.close()

    async def test_commit_without_reading_costs_nothing(self, kafka: KafkaTransport) -> None:
        topic = unique("idle")
        await kafka.create_topics([TopicSpec(topic)])
        c = await kafka.subscribe(unique("g"), [topic])
        started = time.monotonic()
        for _ in range(50):
            await c.commit()
        assert time.monotonic() - started < 0.5
        await c.close()

    async def test_closed_transport_refuses_work(self, kafka_bootstrap: str) -> None:
        async with kafka_transport(kafka_bootstrap) as k:
            topic = unique("closed")
            await k.create_topics([TopicSpec(topic)])
            c = await k.subscribe(unique("g"), [topic])
        with pytest.raises(TransportClosed):
            await k.publish(topic, b"x", key=b"k")
        with pytest.raises(TransportClosed):
            await c.poll()


class TestSetupErrors:
    """No broker needed: what a user sees when the broker is missing or unreachable."""

    async def test_no_bootstrap_says_how_to_start_one(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("TEARLINE_KAFKA_BOOTSTRAP", raising=False)
        with pytest.raises(KafkaSetupError, match=r"scripts/kafka start"):
            async with kafka_transport(None):
                pass

    async def test_unreachable_broker_is_a_retriable_error(self) -> None:
        with pytest.raises(TransportError, match=r"cannot reach a broker at 127\.0\.0\.1:1") as info:
            async with kafka_transport("127.0.0.1:1", request_timeout_ms=2000):
                pass
        assert info.value.retriable

    def test_aiokafka_errors_keep_their_retriability(self) -> None:
        from aiokafka.errors import NotLeaderForPartitionError, RecordTooLargeError

        assert transport_error(NotLeaderForPartitionError(), "publish").retriable
        assert not transport_error(RecordTooLargeError(), "publish").retriable
        assert transport_error(TimeoutError(), "poll").retriable
