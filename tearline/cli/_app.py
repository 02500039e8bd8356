"""The ``tearline`` command: its top-level options, and every command group registered in one place."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from tearline.model import configure

from ._common import err
from .exercise import exercise
from .explain import explain
from .policies import policies_app
from .research import check, compare
from .run import run
from .scenarios import scenarios_app
from .services import agency_service, broker_service

app = typer.Typer(
    name="tearline",
    help=(
        "Replay terrorist plots across simulated intelligence agencies and ask: had they shared "
        "under rule X, would the dots have been connected in time?\n\n"
        "Start with:  tearline run connect-the-dots --policy fusion-centre"
    ),
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)
app.command()(run)
app.command()(check)
app.command()(compare)
app.command()(exercise)
app.command()(explain)
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(policies_app, name="policies")
app.command("broker")(broker_service)
app.command("agency")(agency_service)


@app.callback()
def _main(
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log as JSON lines on stderr (for machines).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    configure(json=log_json, level=log_level)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
