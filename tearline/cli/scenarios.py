"""``tearline scenarios``: list, validate and show scenarios."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tearline.model import ScenarioError, human_duration, load_scenario, resolve_scenario, scenario_files
from tearline.report import inject_timeline

from ._common import EXIT_BAD_INPUT, Command, Group, Seeds, clear_errors, err, load, out

scenarios_app = typer.Typer(help="List, validate and show scenarios.", no_args_is_help=True, cls=Group)


@scenarios_app.command("list", cls=Command)
def scenarios_list() -> None:
    """Every scenario Tearline can find (the working directory's scenarios/, then those installed), by the
    name run and the other commands accept."""
    table = Table()
    table.add_column("name", no_wrap=True)
    for col in ("title", "agencies", "plots", "injects"):
        table.add_column(col)
    for path in scenario_files():
        try:
            s = load_scenario(path)
        except ScenarioError as exc:
            table.add_row(
                path.stem,
                f"[red]invalid: {len(exc.problems)} problem(s); run: tearline scenarios validate {path}[/]",
            )
            continue
        table.add_row(
            path.stem, s.title, str(len(s.agencies)), ", ".join(p.id for p in s.plots), str(len(s.injects))
        )
    out.print(table)


@scenarios_app.command("validate", cls=Command)
def scenarios_validate(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or files (default: all).")
    ] = None,
    seeds: Seeds = None,
) -> None:
    """Check scenarios: types, references, times, citations. Exit 2 if any is malformed."""
    paths = (
        [Path(s) if Path(s).is_file() else None for s in scenarios] if scenarios else list(scenario_files())
    )
    bad = 0
    for given, path in zip(scenarios or [str(p) for p in paths], paths, strict=True):
        try:
            s = load_scenario(path or resolve_scenario(given), seeds)
        except ScenarioError as exc:
            bad += 1
            err.print(f"[red]✗[/] {exc}", soft_wrap=True)
            continue
        out.print(
            f"[green]✓[/] {s.id}: {len(s.agencies)} agencies, {len(s.plots)} plot(s), {len(s.injects)} injects"
        )
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@scenarios_app.command("show", cls=Command)
def scenarios_show(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    seeds: Seeds = None,
) -> None:
    """The scenario's master events list: time, holder, what, source."""
    with clear_errors():
        s = load(scenario, seeds)
    out.print(f"[bold]{s.title}[/]\n{s.description}\n")
    agencies = Table(title="Agencies", title_justify="left")
    for col in ("id", "name", "country", "kind", "acts in", "triage/day", "note"):
        agencies.add_column(col)
    for a in s.agencies:
        r = s.resolved[a.id]
        agencies.add_row(
            a.id + (" (counterfactual)" if a.counterfactual else ""), a.name, a.country, a.kind,
            ",".join(r.jurisdiction) if r.interdicts else "warns only", f"{r.triage_per_day:g}", a.note,
        )  # fmt: skip
    out.print(agencies)
    cites = {i.id: ", ".join(i.cites) for i in s.injects}
    timeline = Table(title="Timeline", title_justify="left")
    for col in ("time", "holder", "what", "source"):
        timeline.add_column(col)
    by_what = {(i.at, i.observer): i.id for i in s.injects}
    for row in inject_timeline(s):
        inject_id = by_what.get((row.at, row.who))
        timeline.add_row(
            s.local(row.at),
            row.who,
            row.what,
            cites.get(inject_id, "") if inject_id else "",
            style=row.style or None,
        )
    out.print(timeline)
    for p in s.plots:
        out.print(
            f"[bold]plot {p.id}[/]: {p.name} at {s.local(p.attack_at)}, {p.place}; disrupted by an interdiction in "
            f"{', '.join(p.jurisdiction)} holding {' + '.join(p.needs)}"
        )
    if s.noise.per_day or s.noise.per_agency:
        out.print(f"background noise: {s.noise.per_day:g} false leads per agency per day {s.noise.note}")
    out.print(f"clock: messages take at least {human_duration(s.transit)} between services")
