"""``tearline policies``: list, show and lint sharing policies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from tearline.policies import available, lint

from ._common import EXIT_BAD_INPUT, Command, Group, clear_errors, err, fail, load, out

policies_app = typer.Typer(help="List and explain sharing policies.", no_args_is_help=True, cls=Group)


@policies_app.command("list", cls=Command)
def policies_list() -> None:
    """Every policy available, built-in and plugin, with one line each."""
    table = Table()
    for col in ("policy", "what it does", "options", "from"):
        table.add_column(col)
    for info in available():
        table.add_row(info.name, info.summary, ", ".join(info.options) or "-", info.origin)
    out.print(table)


@policies_app.command("show", cls=Command)
def policies_show(name: Annotated[str, typer.Argument(help="A policy name.")]) -> None:
    """A policy's full description: its rule, its real-world source, its options."""
    for info in available():
        if info.name == name:
            out.print(f"[bold]{info.name}[/] ({info.origin})\n")
            out.print(info.doc or info.summary)
            if info.options:
                out.print(
                    f"\noptions: {', '.join(info.options)}  (e.g. --policy '{info.name}:{info.options[0]}=...')"
                )
            return
    fail(f"unknown policy {name!r}", hint="See: tearline policies list")


@policies_app.command("lint", cls=Command)
def policies_lint(
    file: Annotated[
        Path, typer.Argument(help="A YAML policy file (see docs/policies.md, policies/examples/).")
    ],
    scenario: Annotated[
        str | None,
        typer.Option("--scenario", help="Also check agency ids and countries against this scenario."),
    ] = None,
) -> None:
    """Check a YAML policy file: fields, values, policy names, groups, unreachable rules. Exit 2 on errors.

    Example:  tearline policies lint policies/examples/caveats-first.yaml --scenario connect-the-dots
    """
    with clear_errors():
        against = load(scenario) if scenario else None
    report = lint(file, against)
    for p in report.errors:
        err.print(f"[bold red]error:[/] {escape(p.render(report.file))}", soft_wrap=True)
    for p in report.warnings:
        err.print(f"[yellow]warning:[/] {escape(p.render(report.file))}", soft_wrap=True)
    if report.policy is None:
        err.print(f"[dim]{len(report.errors)} error(s); docs/policies.md describes every field.[/]")
        raise typer.Exit(EXIT_BAD_INPUT)
    out.print(
        f"[green]✓[/] {escape(str(file))}: policy {escape(report.policy.name)} — {escape(report.policy.summary)}"
        + (f" ({len(report.warnings)} warning(s))" if report.warnings else ""),
        soft_wrap=True,
    )
