"""The ``tearline`` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ._config import RunConfig
from ._errors import PolicyError, ScenarioError, TearlineError
from ._log import configure
from ._paths import resolve_scenario, scenario_files
from ._run import RunResult, replay
from ._scenario import Scenario, load_scenario
from ._time import human_duration, iso
from ._timeline import inject_timeline, run_timeline

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 0, 1, 2, 3

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
scenarios_app = typer.Typer(help="List, validate and show scenarios.", no_args_is_help=True)
policies_app = typer.Typer(help="List and explain sharing policies.", no_args_is_help=True)
app.add_typer(scenarios_app, name="scenarios")
app.add_typer(policies_app, name="policies")


@app.callback()
def _main(
    log_json: Annotated[
        bool, typer.Option("--log-json", help="Log as JSON lines on stderr (for machines).")
    ] = False,
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "warning",
) -> None:
    configure(json=log_json, level=log_level)


def fail(message: str, code: int = EXIT_BAD_INPUT, hint: str | None = None) -> NoReturn:
    err.print(f"[bold red]error:[/] {message}", soft_wrap=True)
    if hint:
        err.print(f"[dim]{hint}[/]", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def clear_errors() -> Iterator[None]:
    """Turn Tearline's own errors into one clear message and an exit code, never a traceback."""
    try:
        yield
    except ScenarioError as exc:
        fail(str(exc), hint="Fix the field named above; docs/scenarios.md describes every field.")
    except PolicyError as exc:
        fail(str(exc), hint="See: tearline policies list")
    except TearlineError as exc:
        fail(str(exc), code=EXIT_RUNTIME)


def _load(name: str) -> Scenario:
    return load_scenario(resolve_scenario(name))


def _config(
    scenario: Scenario,
    policy: str,
    seed: int,
    exclude_disputed: bool,
    enable: list[str] | None,
    noise_scale: float,
) -> RunConfig:
    policy_data: dict[str, Any] | None = None
    path = Path(policy)
    if path.suffix in {".yaml", ".yml"}:
        if not path.is_file():
            raise PolicyError(f"no such policy file: {policy}")
        policy_data = yaml.safe_load(path.read_text())
    return RunConfig(
        scenario=scenario,
        policy=policy,
        policy_data=policy_data,
        seed=seed,
        exclude_disputed=exclude_disputed,
        enable=tuple(enable or ()),
        noise_scale=noise_scale,
    )


def _replay(config: RunConfig, transport: str, bootstrap: str | None, progress: bool) -> RunResult:
    scenario = config.scenario
    span = max(1, scenario.horizon - scenario.start)

    async def go(on_step: Callable[[int], None] | None) -> RunResult:
        if transport == "memory":
            return await replay(config, on_step=on_step)
        from broker import kafka_transport

        async with kafka_transport(bootstrap) as kafka:
            return await replay(config, kafka, namespace=f"tearline-{config.run_id}", on_step=on_step)

    if not progress:
        return asyncio.run(go(None))
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[now]}"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{scenario.id} · {config.policy} · seed {config.seed}", total=span, now="")
        return asyncio.run(go(lambda t: bar.update(task, completed=t - scenario.start, now=iso(t))))


Policy = Annotated[
    str,
    typer.Option("--policy", "-p", help="A policy name (see: tearline policies list) or a policy YAML file."),
]
Seed = Annotated[int, typer.Option("--seed", "-s", help="Seed for noise and chance; same seed, same record.")]
ExcludeDisputed = Annotated[
    bool, typer.Option("--exclude-disputed", help="Leave out injects whose facts are disputed on the record.")
]
Enable = Annotated[
    list[str] | None,
    typer.Option("--enable", help="Switch on a counterfactual agency (e.g. NIA). Repeatable."),
]
NoiseScale = Annotated[
    float,
    typer.Option("--noise-scale", min=0.0, help="Multiply the scenario's background noise (1 = as written)."),
]


@app.command()
def run(
    scenario: Annotated[
        str, typer.Argument(help="A scenario name (tearline scenarios list) or a YAML file.")
    ],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    transport: Annotated[
        str,
        typer.Option(
            help="memory (in-process, no server) or kafka (needs --bootstrap or TEARLINE_KAFKA_BOOTSTRAP)."
        ),
    ] = "memory",
    bootstrap: Annotated[str | None, typer.Option(help="Kafka bootstrap servers, HOST:PORT.")] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write record.jsonl and summary.json here.")
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise_scale: NoiseScale = 1.0,
    noise: Annotated[
        bool, typer.Option("--show-noise", help="Include background noise in the timeline.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print only outcomes and the digest.")] = False,
) -> None:
    """Replay a scenario under one policy; print who learnt what when, the outcome and the digest.

    Example:  tearline run connect-the-dots --policy fusion-centre --seed 7 --out runs/ctd
    """
    if transport not in {"memory", "kafka"}:
        fail(f"unknown transport {transport!r}", hint="Use --transport memory or --transport kafka.")
    with clear_errors():
        config = _config(_load(scenario), policy, seed, exclude_disputed, enable, noise_scale)
        result = _replay(config, transport, bootstrap, progress=not quiet and sys.stderr.isatty())
    s = config.scenario
    if not quiet:
        table = Table(title=f"{s.title} — policy {policy}, seed {seed}", title_justify="left", expand=False)
        table.add_column("sim time (UTC)", no_wrap=True)
        table.add_column("who", no_wrap=True)
        table.add_column("what")
        for row in run_timeline(s, result.events, show_noise=noise):
            table.add_row(row.when, row.who, row.what, style=row.style or None)
        out.print(table)
    _print_outcomes(result)
    if out_dir is not None:
        result.write(out_dir)
        out.print(f"wrote {out_dir / 'record.jsonl'} and {out_dir / 'summary.json'}")


def _print_outcomes(result: RunResult) -> None:
    sm = result.summary
    for o in sm.outcomes:
        if o.result == "disrupted" and o.warning_hours is not None:
            out.print(
                f"[bold green]DISRUPTED[/] {o.name}: by {o.disrupted_by} at {iso(o.disrupted_at or 0)}, "
                f"[bold]{o.warning_hours:g} hours of warning[/] before the attack",
                soft_wrap=True,
            )
        else:
            seen = (
                f" (the dots were joined by {o.detected_by} {o.detection_hours_before:g} h before, but nobody who could act did)"
                if o.detected_by and o.detection_hours_before is not None
                else ""
            )
            out.print(f"[bold red]ATTACK[/] {o.name} at {iso(o.attack_at)}{seen}", soft_wrap=True)
    out.print(
        f"leads published {sm.leads_published} (noise {sm.noise_leads}) · released {sm.released} · withheld {sm.withheld}"
        f" · delayed {sm.delayed} · sanitised {sm.sanitised} · exposure {sm.exposure:g} · false interdictions {sm.false_interdictions}"
    )
    if sm.disputed_included:
        out.print(
            f"disputed injects included: {', '.join(sm.disputed_included)} (drop them with --exclude-disputed)"
        )
    out.print(f"digest {result.digest}")


@app.command()
def check(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenarios to check (default: all with an expect: block).")
    ] = None,
    junit: Annotated[Path | None, typer.Option(help="Also write a JUnit XML report here.")] = None,
) -> None:
    """CI: replay each scenario's ``expect:`` cases and assert the outcomes. Exit 1 on any failure."""
    from ._check import check_scenarios, write_junit

    with clear_errors():
        paths = [resolve_scenario(s) for s in scenarios] if scenarios else scenario_files()
        results = check_scenarios(paths, on_case=lambda c: out.print(c.line(), soft_wrap=True))
    if junit is not None:
        write_junit(results, junit)
    failed = sum(1 for r in results if not r.passed)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Annotated[
        list[str], typer.Option("--policy", "-p", help="Policies to compare. Repeat: -p siloed -p bilateral.")
    ],
    runs: Annotated[int, typer.Option(min=1, help="Seeded runs per policy (seeds 1..N).")] = 20,
    jobs: Annotated[int, typer.Option(min=1, help="Runs in parallel (processes).")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write results.csv and plots here.")
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    noise_scale: NoiseScale = 1.0,
) -> None:
    """Policy research: many seeded runs per policy; disruption rates, warning, cost — and plots."""
    from ._compare import compare_policies, plot_comparison, write_csv

    with clear_errors():
        s = _load(scenario)
        configs = [
            _config(s, p, seed, exclude_disputed, None, noise_scale)
            for p in policy
            for seed in range(1, runs + 1)
        ]
        with Progress(
            TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(), console=err, transient=True, disable=not sys.stderr.isatty(),
        ) as bar:  # fmt: skip
            task = bar.add_task(f"{s.id}: {len(policy)} policies × {runs} seeds", total=len(configs))
            rows, table_rows = compare_policies(configs, jobs=jobs, on_done=lambda: bar.advance(task))
    table = Table(title=f"{s.title}: {runs} seeded runs per policy", title_justify="left")
    for col in table_rows[0]:
        table.add_column(col, justify="left" if col in {"policy", "plot"} else "right")
    for r in table_rows[1:]:
        table.add_row(*r)
    out.print(table)
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        write_csv(rows, out_dir / "results.csv")
        png = plot_comparison(rows, s, out_dir / "comparison.png")
        out.print(f"wrote {out_dir / 'results.csv'} and {png}")


@scenarios_app.command("list")
def scenarios_list() -> None:
    """Every scenario Tearline can find, with its plots."""
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
            s.id, s.title, str(len(s.agencies)), ", ".join(p.id for p in s.plots), str(len(s.injects))
        )
    out.print(table)


@scenarios_app.command("validate")
def scenarios_validate(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenario names or files (default: all).")
    ] = None,
) -> None:
    """Check scenarios: types, references, times, citations. Exit 2 if any is malformed."""
    paths = (
        [Path(s) if Path(s).is_file() else None for s in scenarios] if scenarios else list(scenario_files())
    )
    bad = 0
    for given, path in zip(scenarios or [str(p) for p in paths], paths, strict=True):
        try:
            s = load_scenario(path or resolve_scenario(given))
        except ScenarioError as exc:
            bad += 1
            err.print(f"[red]✗[/] {exc}", soft_wrap=True)
            continue
        out.print(
            f"[green]✓[/] {s.id}: {len(s.agencies)} agencies, {len(s.plots)} plot(s), {len(s.injects)} injects"
        )
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@scenarios_app.command("show")
def scenarios_show(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
) -> None:
    """The scenario's master events list: time, holder, what, source."""
    with clear_errors():
        s = _load(scenario)
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
    for col in ("time (UTC)", "holder", "what", "source"):
        timeline.add_column(col)
    by_what = {(i.at, i.observer): i.id for i in s.injects}
    for row in inject_timeline(s):
        inject_id = by_what.get((row.at, row.who))
        timeline.add_row(
            row.when,
            row.who,
            row.what,
            cites.get(inject_id, "") if inject_id else "",
            style=row.style or None,
        )
    out.print(timeline)
    for p in s.plots:
        out.print(
            f"[bold]plot {p.id}[/]: {p.name} at {iso(p.attack_at)}, {p.place}; disrupted by an interdiction in "
            f"{', '.join(p.jurisdiction)} holding {' + '.join(p.needs)}"
        )
    if s.noise.per_day or s.noise.per_agency:
        out.print(f"background noise: {s.noise.per_day:g} false leads per agency per day {s.noise.note}")
    out.print(f"clock: messages take at least {human_duration(s.transit)} between services")


@policies_app.command("list")
def policies_list() -> None:
    """Every policy available, built-in and plugin, with one line each."""
    from policies import available

    table = Table()
    for col in ("policy", "what it does", "options", "from"):
        table.add_column(col)
    for info in available():
        table.add_row(info.name, info.summary, ", ".join(info.options) or "-", info.origin)
    out.print(table)


@policies_app.command("show")
def policies_show(name: Annotated[str, typer.Argument(help="A policy name.")]) -> None:
    """A policy's full description: its rule, its real-world source, its options."""
    from policies import available

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


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
