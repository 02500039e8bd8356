"""The Kafka transport against a real broker: the contract's cases, and what only Kafka has."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

import pytest

from tearline import TransportError
from tearline.broker import KafkaTransport, TopicSpec, Transport, kafka_transport
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
