"""``tearline audit verify``: check a run directory's record against its signed audit chain."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tearline.broker import Keystore, KeystoreError
from tearline.report import AuditInputError, verify_audit

from ._common import EXIT_BAD_INPUT, EXIT_FAILED, Keys, err, fail, out

audit_app = typer.Typer(help="Verify a run's audit chain.", no_args_is_help=True)


@audit_app.command("verify")
def audit_verify(
    run_dir: Annotated[Path, typer.Argument(help="A run directory (tearline run ... --out DIR).")],
    keys_dir: Keys = None,
) -> None:
    """Check record.jsonl against audit.json: every link of the hash chain and the signatures on its head.

    Exit 0: intact; 1: the record or its seal was changed (the first bad event is named); 2: unreadable.
    With --keys, the signatures must come from that key registry; without, from the keys the seal names.

    Example:  tearline audit verify runs/ctd --keys keys/
    """
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
