"""docker-compose.yml agrees with the code. There is no Docker engine in CI: the file is checked, not run."""

from __future__ import annotations

import base64
import re
import shlex
from typing import Any

import pytest
import yaml

from tearline import RunConfig, load_scenario
from tearline.broker import DRIVER, Topics
from tearline.model import GATEWAY
from tearline.run._clock import start_command
from tearline.run._driver import Run

from .conftest import ROOT

COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


def kafka_nodes(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: s
        for name, s in compose["services"].items()
        if str(s.get("image", "")).startswith("apache/kafka")
    }


def tearline_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The services that run in a run (not the one-shot that makes the keystore)."""
    return {
        name: s
        for name, s in compose["services"].items()
        if s.get("image") == "tearline:dev" and name != "keys"
    }


def env(service: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in service.get("environment", {}).items()}


def listeners(value: str) -> dict[str, tuple[str, int]]:
    out = {}
    for item in value.split(","):
        name, _, rest = item.partition("://")
        host, _, port = rest.rpartition(":")
        out[name] = (host, int(port))
    return out


def test_three_kraft_nodes_on_the_official_image_at_the_test_brokers_version(compose: dict[str, Any]) -> None:
    nodes = kafka_nodes(compose)
    assert sorted(nodes) == ["kafka-1", "kafka-2", "kafka-3"]
    pom = (ROOT / "scripts" / "kafka-broker.pom.xml").read_text()
    version = re.search(r"<kafka\.version>(.+?)</kafka\.version>", pom)
    assert version is not None
    ids = set()
    for name, node in nodes.items():
        assert node["image"] == f"apache/kafka:{version.group(1)}"
        e = env(node)
        assert e["KAFKA_PROCESS_ROLES"] == "broker,controller"
        ids.add(e["KAFKA_NODE_ID"])
        assert len(base64.urlsafe_b64decode(e["CLUSTER_ID"] + "==")) == 16, "CLUSTER_ID must be a base64 UUID"
        voters = dict(v.split("@") for v in e["KAFKA_CONTROLLER_QUORUM_VOTERS"].split(","))
        assert voters == {n[-1]: f"{n}:9093" for n in nodes}
        assert voters[e["KAFKA_NODE_ID"]].startswith(name + ":")
    assert ids == {"1", "2", "3"}
    assert len({env(n)["CLUSTER_ID"] for n in nodes.values()}) == 1


def test_listeners_are_consistent_and_reachable_by_the_services(compose: dict[str, Any]) -> None:
    nodes = kafka_nodes(compose)
    internal = []
    host_ports = set()
    for name, node in nodes.items():
        e = env(node)
        protocols = dict(p.split(":") for p in e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
        bound = listeners(e["KAFKA_LISTENERS"])
        advertised = listeners(e["KAFKA_ADVERTISED_LISTENERS"])
        assert set(bound) <= set(protocols)
        assert e["KAFKA_CONTROLLER_LISTENER_NAMES"] in bound
        assert e["KAFKA_CONTROLLER_LISTENER_NAMES"] not in advertised
        assert e["KAFKA_INTER_BROKER_LISTENER_NAME"] in advertised
        for listener, (_, port) in advertised.items():
            assert bound[listener][1] == port or listener == "HOST"
        inter = advertised[e["KAFKA_INTER_BROKER_LISTENER_NAME"]]
        assert inter[0] == name == node["hostname"]
        internal.append(f"{inter[0]}:{inter[1]}")
        host_host, host_port = advertised["HOST"]
        assert host_host == "localhost"
        published = {int(p.split(":")[0]): int(p.split(":")[1]) for p in node["ports"]}
        assert published[host_port] == bound["HOST"][1]
        host_ports.add(host_port)
    assert len(host_ports) == 3
    for name, service in tearline_services(compose).items():
        assert env(service)["TEARLINE_KAFKA_BOOTSTRAP"].split(",") == internal, name
        wanted = set(nodes) if name == "principals" else {"keys", "principals"}
        assert set(service["depends_on"]) == wanted, name


def test_every_listener_authenticates_and_the_authorizer_denies_by_default(compose: dict[str, Any]) -> None:
    """As scripts/kafka start --sasl: SASL everywhere, the StandardAuthorizer, admin the only super user."""
    for node in kafka_nodes(compose).values():
        e = env(node)
        protocols = dict(p.split(":") for p in e["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
        assert all(p.startswith("SASL_") for p in protocols.values()), protocols
        assert e["KAFKA_AUTHORIZER_CLASS_NAME"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
        assert e["KAFKA_SUPER_USERS"] == "User:admin"
        assert e["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
        assert "SCRAM-SHA-512" in e["KAFKA_SASL_ENABLED_MECHANISMS"].split(",")
        for listener in protocols:
            if listener != e["KAFKA_CONTROLLER_LISTENER_NAMES"]:
                assert f"KAFKA_LISTENER_NAME_{listener}_SCRAM___SHA___512_SASL_JAAS_CONFIG" in e


def test_each_participant_runs_as_its_own_principal(compose: dict[str, Any]) -> None:
    """The principals service creates them for the driver's run; each service reads its own password."""
    services = tearline_services(compose)
    job = services.pop("principals")
    assert job["command"][:3] == ["kafka", "principals", "connect-the-dots"]
    assert job["command"][job["command"].index("--out") + 1] == "/secrets"
    assert env(job)["TEARLINE_KAFKA_USERNAME"] == "admin"
    driver_args = services["driver"]["command"]
    assert (
        job["command"][job["command"].index("--policy") + 1] == driver_args[driver_args.index("--policy") + 1]
    )
    expected = {
        "gateway": GATEWAY,
        "driver": DRIVER,
        **{n: n.removeprefix("agency-").upper() for n in services if n.startswith("agency-")},
    }
    assert sorted(expected) == sorted(services)
    for name, principal in expected.items():
        e = env(services[name])
        assert e["TEARLINE_KAFKA_USERNAME"] == principal, name
        assert e["TEARLINE_KAFKA_PASSWORD_FILE"] == f"/secrets/{principal}.password", name
        assert "secrets:/secrets:ro" in services[name]["volumes"], name


def test_topic_settings_match_what_the_code_creates(compose: dict[str, Any]) -> None:
    """Tearline creates its topics itself (no auto-creation), with replication min(3, brokers) = 3,
    and topic configs that the cluster accepts."""
    nodes = kafka_nodes(compose)
    for node in nodes.values():
        e = env(node)
        assert e["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        rf = int(e["KAFKA_DEFAULT_REPLICATION_FACTOR"])
        assert rf == min(3, len(nodes))
        assert 1 <= int(e["KAFKA_MIN_INSYNC_REPLICAS"]) < rf
        assert int(e["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"]) <= len(nodes)
        assert int(e["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"]) <= len(nodes)
        assert e["KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS"] == "0"
    for spec in Topics().specs(["NSS"]):
        assert spec.partitions >= 1
        assert int(spec.config.get("min.insync.replicas", "1")) <= min(3, len(nodes))
        assert set(spec.config) <= {"retention.ms", "min.insync.replicas", "cleanup.policy"}


def test_one_service_per_participant_of_the_teaching_run(compose: dict[str, Any]) -> None:
    """The gateway and every agency of the run the driver service starts, each started the way
    the driver tells a user to start it."""
    services = tearline_services(compose)
    services.pop("principals")
    driver = services.pop("driver")
    assert driver["profiles"] == ["driver"]
    args = driver["command"]
    assert args[:2] == ["run", "connect-the-dots"]
    assert args[args.index("--transport") + 1] == "kafka"
    assert "--remote" in args
    assert "--namespace" not in args
    policy = args[args.index("--policy") + 1]
    scenario = load_scenario(ROOT / "scenarios" / "examples" / "connect-the-dots.yaml")
    run = Run(RunConfig(scenario=scenario, policy=policy))
    expected = {GATEWAY: "gateway", **{a: f"agency-{a.lower()}" for a in run.agencies}}
    assert sorted(services) == sorted(expected.values())
    keys = compose["services"]["keys"]
    assert "tearline keys init /keys --scenario connect-the-dots" in keys["command"][0]
    for service in services.values():
        assert env(service)["TEARLINE_KEYS"] == "/keys"
        assert service["depends_on"]["keys"] == {"condition": "service_completed_successfully"}
    for participant, name in expected.items():
        command = [a for a in services[name]["command"] if a not in ("--log-level", "info")]
        wanted = shlex.split(start_command(participant, "tearline", None))[1:]
        assert command == wanted[: len(command)]
        assert wanted[len(command) :] == ["--namespace", "tearline"]  # the default
        assert services[name]["restart"] == "unless-stopped"


def test_the_image_builds_from_the_repo_with_a_supported_python(compose: dict[str, Any]) -> None:
    build = compose["x-tearline"]["build"]
    assert build["context"] == "."
    dockerfile = build["dockerfile_inline"]
    python = re.search(r"FROM python:(\d+)\.(\d+)", dockerfile)
    assert python is not None
    assert (int(python.group(1)), int(python.group(2))) >= (3, 11)
    for copied in re.findall(r"^COPY (\S+) ", dockerfile, flags=re.MULTILINE):
        assert (ROOT / copied).exists(), copied
    for package in ("tearline", "broker", "agencies", "policies"):
        assert f"COPY {package} {package}" in dockerfile
    assert 'ENTRYPOINT ["tearline"]' in dockerfile
