"""``tearline broker`` and ``tearline agency``: the services of a distributed run on Kafka."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from tearline.broker import kafka_transport
from tearline.model import GATEWAY
from tearline.run import serve

from ._common import (
    EXIT_RUNTIME,
    Bootstrap,
    CaFile,
    Keys,
    NamespaceOption,
    SaslPasswordFile,
    SaslUser,
    ServiceWaitOption,
    bootstrap_address,
    clear_errors,
    err,
    fail,
    kafka_credentials,
    load_keys,
)


def _serve(
    name: str,
    bootstrap: str | None,
    namespace: str,
    wait: float | None,
    keys_dir: Path | None,
    credentials: tuple[str | None, Path | None, Path | None],
) -> None:
    address = bootstrap_address(bootstrap)
    keys = load_keys(keys_dir, (name,), f"{name} as a service")
    identity = kafka_credentials(*credentials)

    async def go() -> tuple[str, str, int]:
        async with kafka_transport(address, client_id=f"tearline-{name}", credentials=identity) as kafka:
            served = await serve(name, kafka, keys=keys, namespace=namespace, wait=wait)
            return served.reason, served.detail, served.windows

    with clear_errors():
        reason, detail, windows = asyncio.run(go())
    if reason != "finished":
        fail(f"{name}: the driver aborted the run after {windows} windows: {detail}", code=EXIT_RUNTIME)
    err.print(f"{name}: run finished after {windows} windows")


def broker_service(
    bootstrap: Bootstrap = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    wait: Annotated[float | None, ServiceWaitOption] = None,
    keys: Keys = None,
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
) -> None:
    """The release gateway as a service: joins the run a driver announces, applies its policy to every lead.

    Waits for a driver (tearline run SCENARIO --transport kafka --remote), rebuilds and resumes if the run is under way (a restart), exits when the run ends.

    Example:  tearline broker --bootstrap 127.0.0.1:9092 --keys keys/
    """
    _serve(GATEWAY, bootstrap, namespace, wait, keys, (sasl_user, sasl_password_file, ca_file))


def agency_service(
    name: Annotated[str, typer.Argument(help="The agency's id in the scenario (e.g. NSS).")],
    bootstrap: Bootstrap = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    wait: Annotated[float | None, ServiceWaitOption] = None,
    keys: Keys = None,
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
) -> None:
    """One agency as a service: triages what it receives, links, acts, publishes its leads.

    Waits for a driver (tearline run SCENARIO --transport kafka --remote), rebuilds and resumes if the run is under way (a restart), exits when the run ends.

    Example:  tearline agency NSS --bootstrap 127.0.0.1:9092 --keys keys/
    """
    _serve(name, bootstrap, namespace, wait, keys, (sasl_user, sasl_password_file, ca_file))
