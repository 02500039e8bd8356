"""The in-process transport keeps Kafka's semantics where the rest of Tearline can tell."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from tearline.broker import MemoryTransport, TopicSpec, Transport, drain, partition_for

from .contract import Backend, TransportContract


@asynccontextmanager
async def _memory() -> AsyncIterator[Transport]:
    async with MemoryTransport() as transport:
        yield transport


class TestMemoryContract(TransportContract):
    @pytest.fixture
    def backend(self) -> Backend:
        return Backend("memory", None, _memory, examples=150, max_messages=40)


def _keys() -> Iterator[bytes]:
    """22,000 keys: every length from 0 to 40 bytes, and lead ids as the services use them."""
    for i in range(20_000):
        yield hashlib.sha256(str(i).encode()).digest()[: i % 41]
    for i in range(2_000):
        yield f"NSS-{i:04d}".encode()


class TestPartitioner:
    def test_every_key_keeps_its_partition(self) -> None:
        """The partitions of 22,000 keys over 1-12 partitions hash to the digest recorded with the
        Java client's murmur2 as Tearline computed it before it used aiokafka's."""
        h = hashlib.sha256()
        for key in _keys():
            h.update(bytes(partition_for(key, n) for n in range(1, 13)))
        assert h.hexdigest() == "8c5aac370dd8cb95a704be53e9479cc7f1eecebbffc235fabc195289c96cb7a8"

    @pytest.mark.parametrize(
        ("key", "partition"),
        [(b"", 681), (b"a", 524), (b"ab", 434), (b"abc", 107), (b"123456789", 566), (b"\x00 ", 742)],
    )
    def test_java_client_partitions(self, key: bytes, partition: int) -> None:
        """Over 1000 partitions, the partitions Kafka's Java producer picks for these keys."""
        assert partition_for(key, 1000) == partition

    @given(st.binary(max_size=64), st.integers(min_value=1, max_value=64))
    def test_same_partition_as_the_aiokafka_producer(self, key: bytes, partitions: int) -> None:
        """Memory places a keyed record where the Kafka transport's producer sends it."""
        every = list(range(partitions))
        assert partition_for(key, partitions) == DefaultPartitioner()(key, every, every)


_OPS = st.lists(
    st.one_of(
        st.tuples(st.just("publish"), st.sampled_from(["a", "b", "other"]), st.binary(max_size=3)),
        st.tuples(st.just("poll"), st.integers(min_value=1, max_value=4)),
        st.tuples(st.just("drain")),
        st.tuples(st.just("seek")),
    ),
    max_size=40,
)


class TestNews:
    @given(_OPS)
    def test_a_consumer_that_says_it_has_nothing_has_read_everything(
        self, ops: list[tuple[object, ...]]
    ) -> None:
        """Whenever ``may_have_records`` is False, the consumer has read every record its topics hold
        (so a service that trusts it to skip a step never misses input)."""
        import asyncio

        async def go() -> None:
            async with MemoryTransport() as transport:
                await transport.create_topics([TopicSpec("a", 3), TopicSpec("b", 1), TopicSpec("other", 2)])
                consumer = await transport.subscribe("g", ["a", "b"])
                read = 0
                for op in ops:
                    if op[0] == "publish":
                        await transport.publish(str(op[1]), b"v", key=bytes(op[2]))  # type: ignore[arg-type]
                    elif op[0] == "poll":
                        read += len(await consumer.poll(max_records=int(op[1])))  # type: ignore[call-overload]
                    elif op[0] == "drain":
                        read += len(await drain(consumer))
                    else:
                        await consumer.seek_to_beginning()
                        read = 0
                    held = sum(sum(o) for o in (await transport.end_offsets(["a", "b"])).values())
                    if not consumer.may_have_records():
                        assert read == held
                        assert await consumer.lag() == 0

        asyncio.run(go())
