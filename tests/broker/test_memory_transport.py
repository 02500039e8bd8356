"""The in-process transport keeps Kafka's semantics where the rest of Tearline can tell."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from tearline.broker import MemoryTransport, Transport, partition_for

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
