"""``tearline serve``: the facilitator's web console for a room."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ._common import Enable, ExcludeDisputed, Policy, Seed, clear_errors, fail, load, out, run_config


def serve(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    transport: Annotated[
        str, typer.Option(help="memory (in-process). Kafka is not offered for live exercises yet.")
    ] = "memory",
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

    if transport != "memory":
        fail(
            f"--transport {transport}: the console runs its exercise in-process (memory) only",
            hint="Kafka runs: tearline run SCENARIO --transport kafka",
        )
    with clear_errors():
        session = Session(run_config(load(scenario), policy, seed, exclude_disputed, enable, 1.0), out_dir)

    def ready(base: str) -> None:
        out.print(f"[bold]{session.config.scenario.title}[/] — policy {policy}, seed {seed}")
        out.print(f"facilitator: {base}/f/{session.key}")
        for code, agency in sorted(session.codes.items(), key=lambda kv: kv[1]):
            out.print(f"  {agency:<10} {base}/a/{code}")
        out.print(
            "Ctrl-C stops the server (end the exercise on the facilitator's page to write the debrief)."
        )

    serve_console(session, host, port, ready)
