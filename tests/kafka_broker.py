"""A real single-node Apache Kafka broker for the test session.

Import it from tests/conftest.py so that pytest sees the fixture, e.g.::

    from kafka_broker import kafka_bootstrap  # noqa: F401

(or ``from tests.kafka_broker import ...`` if tests/ is a package).

``kafka_bootstrap`` (session scope) yields a ``host:port`` bootstrap string:

* if ``TEARLINE_KAFKA_BOOTSTRAP`` is set, that broker is used and never stopped;
* else if ``scripts/kafka status`` finds a broker already running (a developer's,
  say), it is reused and left running;
* else ``scripts/kafka start`` starts one, stopped at the end of the session.

A broker that cannot start makes the fixture FAIL with the tail of the broker's
log; it never skips. The first start fetches the jars with Maven into
``~/.cache/tearline`` (about 20 s more); later starts take about 7-10 s.

With pytest-xdist, start the broker beforehand (``scripts/kafka start``) or export
``TEARLINE_KAFKA_BOOTSTRAP``: each worker is its own session, and only a session
that started the broker stops it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
KAFKA_SCRIPT = REPO_ROOT / "scripts" / "kafka"
BOOTSTRAP_ENV = "TEARLINE_KAFKA_BOOTSTRAP"

# Cold start = Maven download + two start attempts of up to 90 s each: be generous.
START_TIMEOUT_S = 600.0
STATUS_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 120.0

_started_bootstrap: str | None = None


class KafkaBrokerError(RuntimeError):
    """The broker could not start; the message has the script's output and log tail."""


def _run_script(command: str, timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(KAFKA_SCRIPT), command],
        cwd=REPO_ROOT,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _parse_bootstrap(stdout: str) -> str | None:
    for line in stdout.splitlines():
        if line.startswith("BOOTSTRAP="):
            value = line.removeprefix("BOOTSTRAP=").strip()
            if value:
                return value
    return None


def broker_bootstrap() -> str:
    """Return a bootstrap ``host:port`` for a running broker, starting one if needed.

    Raises KafkaBrokerError (with the broker's log tail) if no broker can be started.
    """
    global _started_bootstrap
    from_env = os.environ.get(BOOTSTRAP_ENV, "").strip()
    if from_env:
        return from_env
    if _started_bootstrap is not None:
        return _started_bootstrap

    # A broker already up (not started by this session) is reused and left alone.
    try:
        status = _run_script("status", STATUS_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        status = None
    if status is not None and status.returncode == 0:
        running = _parse_bootstrap(status.stdout)
        if running is not None:
            return running

    try:
        result = _run_script("start", START_TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr or ""
        if isinstance(stderr, bytes):
            stderr = stderr.decode(errors="replace")
        tail = _log_tail()
        _run_script("stop", STOP_TIMEOUT_S)  # do not leave a half-started broker behind
        raise KafkaBrokerError(
            f"`scripts/kafka start` did not finish in {START_TIMEOUT_S:.0f}s\n{stderr}{tail}"
        ) from exc
    bootstrap = _parse_bootstrap(result.stdout)
    if result.returncode != 0 or bootstrap is None:
        raise KafkaBrokerError(
            f"`scripts/kafka start` failed (exit {result.returncode})\n"
            f"--- stdout ---\n{result.stdout}--- stderr ---\n{result.stderr}"
        )
    if "already running" not in result.stderr:
        _started_bootstrap = bootstrap
    return bootstrap


def stop_broker_if_started() -> None:
    """Stop the broker if (and only if) broker_bootstrap() started it here."""
    global _started_bootstrap
    if _started_bootstrap is None:
        return
    _started_bootstrap = None
    _run_script("stop", STOP_TIMEOUT_S)


def _log_tail(lines: int = 80, state: Path | None = None) -> str:
    state = state or Path(os.environ.get("TEARLINE_KAFKA_STATE", str(REPO_ROOT / ".tearline" / "kafka")))
    tails = []
    for log in sorted(state.glob("node-*/logs/server.log")):
        try:
            text = log.read_text(errors="replace").splitlines()[-lines:]
        except OSError:
            continue
        tails.append(f"--- last lines of {log} ---\n" + "\n".join(text) + "\n")
    return "".join(tails)


class Cluster:
    """A Kafka cluster of the test's own (``scripts/kafka`` with a state dir of its own), for tests
    that secure it, or stop, kill and restart its nodes — which the shared session broker must not see."""

    def __init__(self, name: str, *options: str) -> None:
        self.state = REPO_ROOT / ".tearline" / name
        self.options = options
        self.bootstrap = ""

    def script(self, *args: str, timeout: float = START_TIMEOUT_S) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "TEARLINE_KAFKA_STATE": str(self.state)}
        return subprocess.run(
            [str(KAFKA_SCRIPT), *args],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env=env,
        )

    def _expect(self, result: subprocess.CompletedProcess[str], what: str) -> str:
        bootstrap = _parse_bootstrap(result.stdout)
        if result.returncode != 0 or bootstrap is None:
            pytest.fail(
                f"`scripts/kafka {what}` failed (exit {result.returncode})\n{result.stderr}"
                f"{_log_tail(state=self.state)}",
                pytrace=False,
            )
        return bootstrap

    def start(self, *extra: str) -> str:
        self.bootstrap = self._expect(self.script("start", *self.options, *extra), "start")
        return self.bootstrap

    def stop(self, *extra: str) -> None:
        self.script("stop", *extra, timeout=STOP_TIMEOUT_S)

    def kill_node(self, node: int) -> None:
        result = self.script("kill-node", str(node), timeout=STATUS_TIMEOUT_S)
        assert result.returncode == 0, result.stderr

    def start_node(self, node: int) -> str:
        return self._expect(self.script("start-node", str(node)), f"start-node {node}")

    def status(self) -> bool:
        return self.script("status", timeout=STATUS_TIMEOUT_S).returncode == 0

    @property
    def admin_password_file(self) -> Path:
        return self.state / "admin.password"

    @property
    def ca_file(self) -> Path | None:
        ca = self.state / "tls" / "ca.pem"
        return ca if ca.is_file() else None


@pytest.fixture(scope="session")
def secure_kafka() -> Iterator[Cluster]:
    """A single-node cluster of its own with SASL/SCRAM-SHA-512 over TLS and the StandardAuthorizer."""
    cluster = Cluster("kafka-secure", "--tls")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    """Bootstrap ``host:port`` of a real Kafka broker for the whole session."""
    error: str | None = None
    try:
        bootstrap = broker_bootstrap()
    except (KafkaBrokerError, OSError) as exc:
        error = str(exc)
    if error is not None:  # outside the except block, so the report shows it once
        pytest.fail(f"could not start the Kafka test broker:\n{error}", pytrace=False)
    try:
        yield bootstrap
    finally:
        stop_broker_if_started()


async def read_topic(bootstrap: str, topic: str) -> list[bytes]:
    """Every record of a one-partition topic (audit, dead letters), read with a plain aiokafka client."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        end = (await consumer.end_offsets([tp]))[tp]
        out: list[bytes] = []
        while await consumer.position(tp) < end:
            for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                out.extend(r.value for r in records)
        return out
    finally:
        await consumer.stop()
