"""Kafka principals and ACLs on a secured broker (SASL/SCRAM-SHA-512 over TLS, StandardAuthorizer).

The broker is one of the session's own (``secure_kafka``); each test uses a namespace of its own and
creates its principals with ``tearline kafka principals`` as the cluster's admin.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.errors import KafkaConnectionError, TopicAuthorizationFailedError
from typer.testing import CliRunner

from tearline import RunConfig, Scenario, replay
from tearline.broker import AUDITOR, DRIVER, KafkaCredentials, KafkaTransport, Topics, acl_plan, drain
from tearline.cli import app
from tearline.model import GATEWAY, WORLD, TransportError
from tearline.run._driver import Run

from ..conftest import TEACHING
from ..kafka_broker import Cluster
from ..test_distributed import Processes

AGENCIES = ("NSIG", "NSS", "SFS")


def _admin(cluster: Cluster) -> KafkaCredentials:
    return KafkaCredentials.resolve("admin", cluster.admin_password_file, cluster.ca_file, env={})


def _as(cluster: Cluster, secrets: Path, name: str) -> KafkaCredentials:
    return KafkaCredentials.resolve(name, secrets / f"{name}.password", cluster.ca_file, env={})


def _principals(cluster: Cluster, namespace: str, secrets: Path) -> None:
    args = ["kafka", "principals", str(TEACHING), "--policy", "fusion-centre", "--namespace", namespace]
    args += ["--out", str(secrets), "--bootstrap", cluster.bootstrap, "--sasl-user", "admin"]
    args += ["--sasl-password-file", str(cluster.admin_password_file), "--ca-file", str(cluster.ca_file)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert sorted(p.stem for p in secrets.glob("*.password")) == sorted([AUDITOR, DRIVER, GATEWAY, *AGENCIES])


@pytest.fixture
def principals(secure_kafka: Cluster, tmp_path: Path) -> tuple[Cluster, str, Path]:
    """A fresh namespace with its topics (created by the admin) and a principal per service."""
    namespace = f"sec-{uuid.uuid4().hex[:8]}"
    secrets = tmp_path / "secrets"
    _principals(secure_kafka, namespace, secrets)

    async def topics() -> None:
        async with KafkaTransport(secure_kafka.bootstrap, credentials=_admin(secure_kafka)) as admin:
            await admin.create_topics(Topics(namespace).specs(AGENCIES))

    asyncio.run(topics())
    return secure_kafka, namespace, secrets


def _raw(credentials: KafkaCredentials) -> dict[str, Any]:
    return credentials.client_settings()


class TestThePlan:
    """The grants themselves (no broker)."""

    def test_an_agency_reads_only_its_inbox_and_writes_only_its_outbox(self) -> None:
        topics = Topics("ns")
        plan = acl_plan(topics, AGENCIES)
        nss = {(g.operation.name, g.name) for g in plan["NSS"] if g.resource.name == "TOPIC"}
        assert ("READ", "ns.NSS.inbox") in nss and ("WRITE", "ns.NSS.outbox") in nss
        others = {topics.inbox(a) for a in AGENCIES if a != "NSS"} | {
            topics.outbox(a) for a in AGENCIES if a != "NSS"
        }
        assert not {name for _, name in nss} & others
        assert ("READ", "ns.NSS.outbox") not in nss and ("WRITE", "ns.NSS.inbox") not in nss

    def test_nobody_may_delete_or_alter(self) -> None:
        plan = acl_plan(Topics("ns"), AGENCIES)
        operations = {g.operation.name for grants in plan.values() for g in grants}
        assert operations <= {"READ", "WRITE", "CREATE", "DESCRIBE", "IDEMPOTENT_WRITE"}

    def test_only_the_gateway_reads_outboxes_and_only_gateway_and_driver_write_inboxes(self) -> None:
        topics = Topics("ns")
        plan = acl_plan(topics, AGENCIES)
        for a in AGENCIES:
            readers = {
                n
                for n, gs in plan.items()
                for g in gs
                if g.name == topics.outbox(a) and g.operation.name == "READ"
            }
            writers = {
                n
                for n, gs in plan.items()
                for g in gs
                if g.name == topics.inbox(a) and g.operation.name == "WRITE"
            }
            assert readers == {GATEWAY}
            assert writers == {GATEWAY, DRIVER}

    def test_every_clock_and_audit_topic_has_one_writer(self) -> None:
        """The driver alone writes the clock and the world's audit; each service its reports and its audit."""
        topics = Topics("ns")
        plan = acl_plan(topics, AGENCIES)
        expected = {topics.clock: DRIVER, topics.audit(WORLD): DRIVER}
        for service in (GATEWAY, *AGENCIES):
            expected[topics.reports(service)] = service
            expected[topics.audit(service)] = service
        for topic, writer in expected.items():
            writers = {
                n for n, gs in plan.items() for g in gs if g.name == topic and g.operation.name == "WRITE"
            }
            assert writers == {writer}, topic

    def test_the_auditor_only_reads(self) -> None:
        plan = acl_plan(Topics("ns"), AGENCIES)
        topics = {g.operation.name for g in plan[AUDITOR] if g.resource.name != "CLUSTER"}
        assert topics == {"READ"}
        assert {
            (g.resource.name, g.operation.name) for g in plan[AUDITOR] if g.resource.name == "CLUSTER"
        } == {("CLUSTER", "IDEMPOTENT_WRITE")}


@pytest.mark.kafka
class TestOnASecuredBroker:
    async def test_an_agency_cannot_read_another_agencys_inbox(
        self, principals: tuple[Cluster, str, Path]
    ) -> None:
        """NSS's principal subscribing to SFS's inbox gets Tearline's TransportError naming the principal."""
        cluster, namespace, secrets = principals
        topics = Topics(namespace)
        async with KafkaTransport(
            cluster.bootstrap, credentials=_as(cluster, secrets, "NSS"), patience=5
        ) as nss:
            own = await nss.subscribe(f"{namespace}.NSS", [topics.inbox("NSS")])
            await own.close()
            with pytest.raises(TransportError, match=r"not authorised for User:NSS") as info:
                await nss.subscribe(f"{namespace}.NSS", [topics.inbox("SFS")])
            assert not info.value.retriable
        # A plain client, past Tearline's transport, reads nothing there although it holds a record.
        async with KafkaTransport(cluster.bootstrap, credentials=_admin(cluster)) as admin:
            await admin.publish(topics.inbox("SFS"), b"for SFS only", key=b"k")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=cluster.bootstrap,
            group_id=f"{namespace}.NSS",
            **_raw(_as(cluster, secrets, "NSS")),
        )
        await consumer.start()
        try:
            consumer.assign([TopicPartition(topics.inbox("SFS"), p) for p in range(3)])
            assert await consumer.getmany(timeout_ms=3000) == {}
        finally:
            await consumer.stop()

    async def test_an_agency_cannot_impersonate_the_gateway_or_another_agency(
        self, principals: tuple[Cluster, str, Path]
    ) -> None:
        """NSS may write its outbox; not SFS's outbox, not any inbox (the gateway's releases)."""
        cluster, namespace, secrets = principals
        topics = Topics(namespace)
        async with KafkaTransport(
            cluster.bootstrap, credentials=_as(cluster, secrets, "NSS"), patience=5
        ) as nss:
            await nss.publish(topics.outbox("NSS"), b"allowed")
            for topic in (topics.outbox("SFS"), topics.inbox("SFS"), topics.inbox("NSS")):
                with pytest.raises(TransportError, match="not authorised for User:NSS"):
                    await nss.publish(topic, b"forged")

    async def test_an_agency_writes_only_its_own_clock_reports_and_audit(
        self, principals: tuple[Cluster, str, Path]
    ) -> None:
        """NSS may post its reports and its record events; not the driver's clock (a fake ``end``), not
        the gateway's audit (a decision, a sequence number 10⁹), not another agency's reports."""
        cluster, namespace, secrets = principals
        topics = Topics(namespace)
        async with KafkaTransport(
            cluster.bootstrap, credentials=_as(cluster, secrets, "NSS"), patience=5
        ) as nss:
            await nss.publish(topics.reports("NSS"), b"allowed")
            await nss.publish(topics.audit("NSS"), b"allowed")
            forbidden = (
                topics.clock,
                topics.audit(GATEWAY),
                topics.audit(WORLD),
                topics.audit("SFS"),
                topics.reports(GATEWAY),
                topics.reports("SFS"),
            )
            for topic in forbidden:
                with pytest.raises(TransportError, match="not authorised for User:NSS"):
                    await nss.publish(topic, b"forged")

    async def test_nobody_but_the_admin_deletes_topics_or_records(
        self, principals: tuple[Cluster, str, Path]
    ) -> None:
        """Audit topics survive every principal's delete_topics and delete_records (on an audit topic
        it may read: its own, or the gateway's); the admin's delete works."""
        cluster, namespace, secrets = principals
        topics = Topics(namespace)
        readable = {
            name: topics.audit(name if name in AGENCIES else GATEWAY)
            for name in (*AGENCIES, GATEWAY, DRIVER, AUDITOR)
        }
        async with KafkaTransport(cluster.bootstrap, credentials=_admin(cluster)) as admin_transport:
            for topic in set(readable.values()):
                await admin_transport.publish(topic, b"a record")
        for name, audit in readable.items():
            async with KafkaTransport(
                cluster.bootstrap, credentials=_as(cluster, secrets, name), patience=5
            ) as k:
                with pytest.raises(
                    TransportError, match=rf"cannot delete topics as User:{name}: .*not authorised"
                ):
                    await k.delete_topics([audit, topics.inbox("NSS")])
            client = AIOKafkaAdminClient(
                bootstrap_servers=cluster.bootstrap, **_raw(_as(cluster, secrets, name))
            )
            await client.start()
            try:
                with pytest.raises(TopicAuthorizationFailedError):
                    await client.delete_records({TopicPartition(audit, 0): RecordsToDelete(1)})
            finally:
                await client.close()
        async with KafkaTransport(cluster.bootstrap, credentials=_admin(cluster)) as admin_transport:
            for audit in set(readable.values()):
                assert len(await _read_all(admin_transport, audit)) == 1, audit
            await admin_transport.delete_topics([topics.inbox("NSS")])

    async def test_a_wrong_password_or_no_credentials_are_refused(
        self, principals: tuple[Cluster, str, Path]
    ) -> None:
        cluster, _, _ = principals
        wrong = KafkaCredentials("NSS", "not the password", cluster.ca_file)
        with pytest.raises(TransportError, match=r"refused User:NSS's credentials"):
            async with KafkaTransport(cluster.bootstrap, credentials=wrong):
                pass
        producer = AIOKafkaProducer(bootstrap_servers=cluster.bootstrap, request_timeout_ms=3000)
        with pytest.raises(KafkaConnectionError):  # plaintext and anonymous, against SASL over TLS
            await producer.start()
        await producer.stop()

    async def test_every_service_on_its_own_principal_gives_the_embedded_digest(
        self, secure_kafka: Cluster, tmp_path: Path, teaching: Scenario
    ) -> None:
        """Driver, gateway and each agency as processes, each authenticated as itself under the ACLs:
        the run completes with the digest of the in-process run, sealed by the driver and the gateway.
        The auditor's principal then verifies the live audit topics; after the admin appends a copy of
        a genuine record to one writer's topic and a forged record to another's, the check fails
        naming each."""
        namespace = f"sec-{uuid.uuid4().hex[:8]}"
        secrets = tmp_path / "secrets"
        await asyncio.to_thread(_principals, secure_kafka, namespace, secrets)
        config = RunConfig(scenario=teaching, policy="fusion-centre", seed=1)
        embedded = await replay(config)
        procs = Processes(tmp_path, secure_kafka.bootstrap, namespace)

        def creds(name: str) -> list[str]:
            return [
                "--sasl-user", name, "--sasl-password-file", str(secrets / f"{name}.password"),
                "--ca-file", str(secure_kafka.ca_file),
            ]  # fmt: skip

        try:
            procs.start("gateway", "broker", "--wait", "120", *creds(GATEWAY))
            for agency in sorted(Run(config).agencies):
                procs.start(agency, "agency", agency, "--wait", "120", *creds(agency))
            out = tmp_path / "out"
            args = ["run", str(TEACHING), "--policy", "fusion-centre", "--seed", "1", "--quiet"]
            args += ["--transport", "kafka", "--remote", "--wait", "90", "--out", str(out), *creds(DRIVER)]
            driver = procs.start("driver", *args)
            await procs.wait_all(timeout=240)
            assert driver.returncode == 0, procs.logs()
            for label, proc in procs.procs.items():
                assert proc.returncode == 0, f"{label}\n{procs.logs()}"
            summary = json.loads((out / "summary.json").read_text())
            assert summary["digest"] == embedded.digest
            assert sorted(json.loads((out / "audit.json").read_text())["signatures"]) == ["CLOCK", GATEWAY]
        finally:
            procs.kill_all()

        def verify() -> Any:
            args = ["audit", "verify", "--bootstrap", secure_kafka.bootstrap, "--run", summary["run_id"]]
            args += ["--namespace", namespace, "--keys", str(procs.keys), *creds(AUDITOR)]
            return CliRunner().invoke(app, args)

        clean = await asyncio.to_thread(verify)
        assert clean.exit_code == 0, clean.output
        assert "sealed by CLOCK, GATEWAY" in clean.output
        topics = Topics(namespace)
        async with KafkaTransport(secure_kafka.bootstrap, credentials=_admin(secure_kafka)) as admin:
            records = await _read_all(admin, topics.audit("NSS"))
            await admin.publish(topics.audit("NSS"), records[3].value, key=b"NSS", headers=records[3].headers)
            genuine = json.loads(records[0].value)
            genuine["body"]["seq"] = genuine["seq"] = 10**9
            await admin.publish(
                topics.audit(GATEWAY), json.dumps(genuine).encode(), key=b"x", headers=records[0].headers
            )
        spoiled = await asyncio.to_thread(verify)
        assert spoiled.exit_code == 1, spoiled.output
        output = " ".join(spoiled.output.split())
        assert f"{topics.audit('NSS')}@{len(records)}" in output and "duplicate of seq" in output
        assert f"{topics.audit(GATEWAY)}@" in output and "forged: signature does not match" in output


async def _read_all(transport: KafkaTransport, topic: str) -> list[Any]:
    """Every record of a one-partition topic (a group of its own)."""
    consumer = await transport.subscribe(f"{topic}.check.{uuid.uuid4().hex[:8]}", [topic])
    try:
        return sorted(await drain(consumer), key=lambda m: m.offset)
    finally:
        await consumer.close()


@pytest.mark.kafka
class TestRunTopics:
    def test_a_one_process_run_deletes_its_topics_unless_asked_to_keep_them(
        self, kafka_bootstrap: str, teaching: Scenario, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("TEARLINE_KAFKA_BOOTSTRAP", kafka_bootstrap)
        prefix = f"tearline-{RunConfig(scenario=teaching, policy='siloed', seed=11).run_id}."
        base = ["run", str(TEACHING), "--policy", "siloed", "--seed", "11", "--quiet", "--transport", "kafka"]

        async def run_topics() -> list[str]:
            admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
            await admin.start()
            try:
                return [t for t in await admin.list_topics() if t.startswith(prefix)]
            finally:
                await admin.close()

        kept = CliRunner().invoke(app, [*base, "--keep-topics"])
        assert kept.exit_code == 0, kept.output
        assert asyncio.run(run_topics())
        dropped = CliRunner().invoke(app, base)
        assert dropped.exit_code == 0, dropped.output
        assert kept.output.splitlines()[-1] == dropped.output.splitlines()[-1]  # the digest
        assert asyncio.run(run_topics()) == []
