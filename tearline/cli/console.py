"""``tearline serve``: the facilitator's web console for a room."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from ._common import (
    Bootstrap,
    CaFile,
    Enable,
    ExcludeDisputed,
    Policy,
    SaslPasswordFile,
    SaslUser,
    Seed,
    bootstrap_address,
    clear_errors,
    fail,
    kafka_credentials,
    load,
    out,
    run_config,
)


def serve(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    transport: Annotated[
        str,
        typer.Option(
            help="memory (in-process) or kafka: the exercise's services talk over the cluster, on topics "
            "of their own (tearline-exercise-*), every message signed and sealed."
        ),
    ] = "memory",
    bootstrap: Bootstrap = None,
    sasl_user: SaslUser = None,
    sasl_password_file: SaslPasswordFile = None,
    ca_file: CaFile = None,
    host: Annotated[
        str, typer.Option(help="Address to listen on; 0.0.0.0 lets the room's machines join.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    out_dir: Annotated[
        Path, typer.Option("--out", help="Run directory the debrief writes (record, summary, exercise.yaml).")
    ] = Path("runs/exercise"),
) -> None:
    """Run a live tabletop exercise in the browser: a facilitator's page and one page per agency.

    Prints the facilitator's link and one join link per agency to hand out.
    """
    from tearline.console import Session, serve_console

    if transport not in ("memory", "kafka"):
        fail(f"--transport {transport}: use memory or kafka")
    connect = None
    if transport == "kafka":
        from tearline.broker import kafka_transport

        address = bootstrap_address(bootstrap)
        identity = kafka_credentials(sasl_user, sasl_password_file, ca_file)

        def connect() -> Any:
            return kafka_transport(address, client_id="tearline-console", credentials=identity)

    with clear_errors():
        config = run_config(load(scenario), policy, seed, exclude_disputed, enable, 1.0)
        session = Session(config, out_dir, connect=connect)

    def ready(base: str) -> None:
        out.print(f"[bold]{session.config.scenario.title}[/] — policy {policy}, seed {seed}")
        out.print(f"facilitator: {base}/f/{session.key}")
        for code, agency in sorted(session.codes.items(), key=lambda kv: kv[1]):
            out.print(f"  {agency:<10} {base}/a/{code}")
        out.print(
            "Ctrl-C stops the server (end the exercise on the facilitator's page to write the debrief)."
        )

    serve_console(session, host, port, ready)
