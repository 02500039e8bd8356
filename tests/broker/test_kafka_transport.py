"""The Kafka transport against a real broker: the contract's cases, and what only Kafka has."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from tearline import TransportError
from tearline.broker import KafkaTransport, TopicSpec, Transport, drain, kafka_transport
from tearline.broker._kafka import KafkaSetupError, transport_error

from .contract import Backend, TransportContract


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def _connect(bootstrap: str) -> Callable[[], AbstractAsyncContextManager[Transport]]:
    return lambda: kafka_transport(bootstrap)


@pytest.fixture
async def kafka(kafka_bootstrap: str) -> AsyncIterator[KafkaTransport]:
    async with kafka_transport(kafka_bootstrap) as transport:
        yield transport


@pytest.mark.kafka
class TestKafkaContract(TransportContract):
    @pytest.fixture
    def backend(self, kafka_bootstrap: str) -> Backend:
        return Backend("kafka", kafka_bootstrap, _connect(kafka_bootstrap), examples=6, max_messages=25)


@pytest.mark.kafka
class TestBehaviour:
    async def test_create_asks_the_broker_not_a_cache(self, kafka: KafkaTransport) -> None:
        """A second client creating an existing topic hears "exists" from the broker and keeps it."""
        topic = unique("twice")
        await kafka.create_topics([TopicSpec(topic, 2, {"retention.ms": "-1"})])
        async with kafka_transport(kafka.bootstrap) as other:
            await other.create_topics([TopicSpec(topic, 5)])
            assert await other.partitions(topic) == 2

    async def test_commit_without_reading_costs_nothing(self, kafka: KafkaTransport) -> None:
        topic = unique("idle")
        await kafka.create_topics([TopicSpec(topic)])
        c = await kafka.subscribe(unique("g"), [topic])
        started = time.monotonic()
        for _ in range(50):
            await c.commit()
        assert time.monotonic() - started < 0.5
        await c.close()

    async def test_a_sole_producer_knows_when_a_poll_would_return_nothing(
        self, kafka: KafkaTransport
    ) -> None:
        """With every record published through this transport, a consumer that has read up to what
        it published says so without asking (a service with nothing to read is not stepped); a
        record another client writes is still seen, once a background fetch brings it."""
        topic = unique("sole")
        await kafka.create_topics([TopicSpec(topic, 2)])
        kafka.begin_at(await kafka.end_offsets([topic]))  # a run's scope: where its topics begin
        kafka.sole_producer = True
        c = await kafka.subscribe(unique("g"), [topic])
        assert c.may_have_records()  # positions not known yet
        assert await drain(c) == []
        assert not c.may_have_records()
        await kafka.publish(topic, b"mine", key=b"k")
        assert c.may_have_records()
        assert [m.value for m in await drain(c)] == [b"mine"]
        assert not c.may_have_records()
        async with kafka_transport(kafka.bootstrap) as other:
            await other.publish(topic, b"theirs", key=b"k")
        deadline = time.monotonic() + 20
        while not c.may_have_records() and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert [m.value for m in await drain(c)] == [b"theirs"]
        assert not c.may_have_records()
        await c.seek_to_beginning()
        assert c.may_have_records()
        assert [m.value for m in await drain(c)] == [b"mine", b"theirs"]
        await c.close()


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
