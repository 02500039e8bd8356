"""``tearline kafka``: set a secured cluster up for Tearline (principals and their ACLs)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

from tearline.broker import AUDITOR, DRIVER, acl_plan, create_principals, new_password
from tearline.model import GATEWAY
from tearline.run import Run

from ._common import (
    Bootstrap,
    CaFile,
    Command,
    Enable,
    Group,
    NamespaceOption,
    Policy,
    SaslPasswordFile,
    SaslUser,
    bootstrap_address,
    check_enable,
    clear_errors,
    err,
    kafka_credentials,
    load,
    out,
    run_config,
)

kafka_app = typer.Typer(help="Set a secured Kafka cluster up for Tearline.", no_args_is_help=True, cls=Group)


@kafka_app.command("principals", cls=Command)
def principals(
    scenario: Annotated[
        str, typer.Argument(help="A scenario name (tearline scenarios list) or a YAML file.")
    ],
    out_dir: Annotated[
        Path,
        typer.Option(
            "--out", "-o", help="Write one <PRINCIPAL>.password file per principal here (mode 600)."
        ),
    ],
    policy: Policy = "as-happened",
    enable: Enable = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    bootstrap: Bootstrap = None,
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the grants; change nothing.")] = False,
) -> None:
    """Create one SASL/SCRAM principal per agency, the gateway and the driver, with least-privilege ACLs.

    Authenticate as the cluster's admin (a super user). Each service then runs as its own principal,
    e.g. tearline agency NSS --sasl-user NSS --sasl-password-file OUT/NSS.password. Running it again
    gives every principal a new password (a rotation) and keeps the ACLs.

    Example:  tearline kafka principals connect-the-dots --out secrets --sasl-user admin --sasl-password-file admin.password
    """
    with clear_errors():
        loaded = load(scenario)
        check_enable(loaded, enable)
        config = run_config(loaded, policy, 1, False, enable, 1.0)
        run = Run(config, namespace=namespace)
        plan = acl_plan(run.topics, run.agencies)
    if dry_run:
        for name in sorted(plan):
            for grant in plan[name]:
                out.print(str(grant), soft_wrap=True)
        return
    address = bootstrap_address(bootstrap)
    admin = kafka_credentials(sasl_user, sasl_password_file, ca_file)
    passwords = {name: new_password() for name in plan}
    with clear_errors():
        asyncio.run(create_principals(address, admin, plan, passwords))
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, password in passwords.items():
        path = out_dir / f"{name}.password"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
    grants = sum(len(g) for g in plan.values())
    services = ", ".join(n for n in sorted(plan) if n not in {AUDITOR, DRIVER, GATEWAY})
    err.print(
        f"{len(plan)} principals ({DRIVER}, {GATEWAY}, {AUDITOR}, {services}) with {grants} ACLs in namespace "
        f"{namespace}; passwords in {out_dir}/"
    )
