"""``tearline audit verify``: check a run's record against its signed audit chain — a run directory,
or the live audit topics of a run on Kafka."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from tearline.broker import Keystore, KeystoreError, kafka_transport
from tearline.report import AuditInputError, verify_audit
from tearline.run import LiveVerdict, verify_live

from ._common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    Bootstrap,
    CaFile,
    Keys,
    NamespaceOption,
    SaslPasswordFile,
    SaslUser,
    bootstrap_address,
    clear_errors,
    err,
    fail,
    kafka_credentials,
    load_keys,
    out,
)

audit_app = typer.Typer(help="Verify a run's audit chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    run_dir: Annotated[
        Path | None,
        typer.Argument(help="A run directory (tearline run ... --out DIR); omit with --bootstrap."),
    ] = None,
    keys_dir: Keys = None,
    bootstrap: Bootstrap = None,
    run_id: Annotated[
        str | None,
        typer.Option(
            "--run", metavar="RUN_ID", help="With --bootstrap: the run to check (its summary's run_id)."
        ),
    ] = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
) -> None:
    """Check record.jsonl against audit.json, or a run's live audit topics: chain, signatures, gaps, duplicates.

    Exit 0: intact; 1: the record or its seal was changed (the first bad event is named); 2: unreadable.
    With --keys, the signatures must come from that key registry; without, from the keys the seal names.
    With --bootstrap and --run, every writer's audit topic on the cluster is checked (--keys required)
    and, once the run is over, the record they hold against the seal of the driver and the gateway.

    Examples:  tearline audit verify runs/ctd --keys keys/
               tearline audit verify --bootstrap 127.0.0.1:9092 --run RUN_ID --keys keys/
    """
    if bootstrap is not None or run_id is not None:
        if run_dir is not None:
            fail("give a run directory or --bootstrap with --run, not both")
        if run_id is None:
            fail("--bootstrap needs --run RUN_ID (the run id is in the run's summary.json)")
        _verify_live(bootstrap, run_id, keys_dir, namespace, (sasl_user, sasl_password_file, ca_file))
        return
    if run_dir is None:
        fail("give a run directory, or --bootstrap HOST:PORT --run RUN_ID for a run's live topics")
    trusted: Keystore | None = None
    if keys_dir is not None:
        try:
            trusted = Keystore.load(keys_dir, holding=())
        except KeystoreError as exc:
            fail(str(exc), hint=exc.hint)
    try:
        verdict = verify_audit(run_dir, trusted=trusted)
    except AuditInputError as exc:
        fail(
            str(exc), code=EXIT_BAD_INPUT, hint="Write a run directory with: tearline run SCENARIO --out DIR"
        )
    if not verdict.ok:
        for problem in verdict.problems:
            err.print(f"[bold red]bad audit:[/] {problem}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    against = "the trusted registry" if trusted is not None else "the keys named in audit.json"
    out.print(
        f"audit intact: {verdict.events} events chained; head signed by {', '.join(verdict.signers)} "
        f"(checked against {against})"
    )


def _verify_live(
    bootstrap: str | None,
    run_id: str,
    keys_dir: Path | None,
    namespace: str,
    credentials: tuple[str | None, Path | None, Path | None],
) -> None:
    address = bootstrap_address(bootstrap)
    keys = load_keys(keys_dir, (), "checking a run's live audit")
    identity = kafka_credentials(*credentials)

    async def go() -> LiveVerdict:
        async with kafka_transport(address, client_id="tearline-audit", credentials=identity) as kafka:
            return await verify_live(kafka, run_id, keys, namespace=namespace)

    with clear_errors():
        verdict = asyncio.run(go())
    if not verdict.ok:
        for problem in verdict.problems:
            err.print(f"[bold red]bad audit:[/] {problem}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED)
    sealed = f"; sealed by {', '.join(verdict.sealed_by)}" if verdict.sealed_by else ""
    out.print(
        f"audit intact: {verdict.events} events on {verdict.writers} writers' topics, every chain whole"
        f"{sealed} (checked against the trusted registry)",
        soft_wrap=True,
    )
    if verdict.note:
        err.print(verdict.note)
