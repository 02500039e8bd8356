"""The ``tearline`` command: its top-level options, and every command group registered in one place."""

from __future__ import annotations

import sys
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated

import typer

from tearline.model import LogLevel, configure

from ._common import Command, Group, err, out
from .audit import audit_app
from .console import serve
from .exchange import export_app, import_app
from .exercise import exercise
from .explain import explain
from .kafka import kafka_app
from .keys import keys_app
from .links import links
from .policies import policies_app
from .report import report
from .research import check, compare, merge
from .run import run
from .scenarios import scenarios_app
from .services import agency_service, broker_service
from .sweep import sweep

app = typer.Typer(
    name="tearline",
    help=(
        "Replay terrorist plots across simulated intelligence agencies and ask: had they shared "
        "under rule X, would the dots have been connected in time?\n\n"
        "Start with:  tearline run connect-the-dots --policy fusion-centre"
    ),
    cls=Group,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command(cls=Command)(run)
app.command(cls=Command)(check)
app.command(cls=Command)(compare)
app.command(cls=Command)(links)
app.command(cls=Command)(sweep)
app.command(cls=Command)(merge)
app.command(cls=Command)(report)
app.command(cls=Command)(exercise)
app.command(cls=Command)(serve)
app.command(cls=Command)(explain)
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(policies_app, name="policies")
app.add_typer(keys_app, name="keys")
app.add_typer(audit_app, name="audit")
app.add_typer(export_app, name="export")
app.add_typer(import_app, name="import")
app.command("broker", cls=Command)(broker_service)
app.command("agency", cls=Command)(agency_service)
app.add_typer(kafka_app, name="kafka")


def installed_version() -> str:
    """The installed distribution's version."""
    try:
        return version("tearline")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed)"


def _print_version(value: bool) -> None:
    if value:
        out.print(f"tearline {installed_version()}")
        raise typer.Exit()


@app.callback()
def _main(
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log as JSON lines on stderr (for machines).")
    ] = False,
    log_level: Annotated[
        LogLevel,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            case_sensitive=False,
            help="The least severe messages logged: debug, info, warning or error.",
        ),
    ] = LogLevel.WARNING,
    _version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the installed version and exit.", is_eager=True, callback=_print_version
        ),
    ] = False,
) -> None:
    configure(json=log_json, level=log_level)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
