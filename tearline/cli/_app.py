"""The ``tearline`` command line."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tearline.model import (
    Inject,
    PolicyError,
    Problem,
    RunConfig,
    Scenario,
    ScenarioError,
    TearlineError,
    configure,
    human_duration,
    load_facts,
    load_scenario,
    read,
    resolve_scenario,
    scenario_files,
    validate,
)
from tearline.report import inject_timeline, run_timeline
from tearline.run import RunResult, replay

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 0, 1, 2, 3
ROOT_SEEDS = Path(__file__).resolve().parent.parent / "seeds"

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


def _replay(
    config: RunConfig,
    transport: str,
    bootstrap: str | None,
    progress: bool,
    *,
    remote: bool = False,
    namespace: str | None = None,
    wait: float = 120.0,
) -> RunResult:
    scenario = config.scenario
    span = max(1, scenario.horizon - scenario.start)
    if transport == "kafka":
        bootstrap = _bootstrap(bootstrap)

    async def go(on_step: Callable[[int], None] | None) -> RunResult:
        if transport == "memory":
            return await replay(config, on_step=on_step)
        from tearline.broker import kafka_transport
        from tearline.run import drive, scoped_replay

        async with kafka_transport(bootstrap) as kafka:
            if remote:  # the gateway and agencies are services elsewhere: drive the clock
                return await drive(
                    config, kafka, namespace=namespace or "tearline", wait=wait, on_step=on_step
                )
            return await scoped_replay(
                config, kafka, namespace=namespace or f"tearline-{config.run_id}", on_step=on_step
            )

    if not progress:
        return asyncio.run(go(None))
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.fields[now]}"),
        TimeElapsedColumn(), console=err, transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(f"{scenario.id} · {config.policy} · seed {config.seed}", total=span, now="")
        return asyncio.run(
            go(lambda t: bar.update(task, completed=t - scenario.start, now=scenario.local(t)))
        )


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
    remote: Annotated[
        bool,
        typer.Option(
            "--remote",
            help="Kafka only: the gateway and agencies run as their own services (tearline broker, "
            "tearline agency NAME); this process publishes the injects and drives the clock.",
        ),
    ] = False,
    namespace: Annotated[str | None, NamespaceOption] = None,
    wait: Annotated[float, WaitOption] = 120.0,
) -> None:
    """Replay a scenario under one policy; print who learnt what when, the outcome and the digest.

    Example:  tearline run connect-the-dots --policy fusion-centre --seed 7 --out runs/ctd
    """
    if transport not in {"memory", "kafka"}:
        fail(f"unknown transport {transport!r}", hint="Use --transport memory or --transport kafka.")
    if remote and transport != "kafka":
        fail("--remote needs --transport kafka", hint="Services in other processes meet on Kafka topics.")
    with clear_errors():
        config = _config(_load(scenario), policy, seed, exclude_disputed, enable, noise_scale)
        result = _replay(
            config,
            transport,
            bootstrap,
            progress=not quiet and sys.stderr.isatty(),
            remote=remote,
            namespace=namespace,
            wait=wait,
        )
    s = config.scenario
    if not quiet:
        table = Table(title=f"{s.title} — policy {policy}, seed {seed}", title_justify="left", expand=False)
        table.add_column("sim time", no_wrap=True)
        table.add_column("who", no_wrap=True)
        table.add_column("what")
        for row in run_timeline(s, result.events, show_noise=noise):
            table.add_row(s.local(row.at), row.who, row.what, style=row.style or None)
        out.print(table)
    _print_outcomes(result)
    if out_dir is not None:
        result.write(out_dir)
        out.print(f"wrote {out_dir / 'record.jsonl'} and {out_dir / 'summary.json'}")


def _print_outcomes(result: RunResult) -> None:
    sm = result.summary
    at = result.config.scenario.local
    for o in sm.outcomes:
        if o.result == "disrupted" and o.warning_hours is not None:
            out.print(
                f"[bold green]DISRUPTED[/] {o.name}: by {o.disrupted_by} at {at(o.disrupted_at or 0)}, "
                f"[bold]{o.warning_hours:g} hours of warning[/] before the attack",
                soft_wrap=True,
            )
        else:
            seen = (
                f" (the dots were joined by {o.detected_by} {o.detection_hours_before:g} h before, but nobody who could act did)"
                if o.detected_by and o.detection_hours_before is not None
                else ""
            )
            out.print(f"[bold red]ATTACK[/] {o.name} at {at(o.attack_at)}{seen}", soft_wrap=True)
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
    from tearline.run import check_scenarios, write_junit

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
    from tearline.run import compare_policies, plot_comparison, write_csv

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


EXERCISE_HELP = """commands:
  step [N]            run N clock windows (default 1)
  advance DURATION    move the clock on, e.g. advance 6h, advance 2d
  until TIME          move the clock to a time, e.g. until 2008-11-26T12:00+05:30
  live SPEED [FOR]    run paced against the wall clock: SPEED sim-seconds per second (e.g. live 3600 1d)
  view AGENCY         what one agency holds now: its cases, and what waits for triage
  inject FILE         add injects (scenario inject format, one or a list) from a YAML file
  debrief [DIR]       play out the rest, print the outcome; write record, summary and injects to DIR
  help | quit"""


@app.command()
def exercise(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Policy = "as-happened",
    seed: Seed = 1,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise: Annotated[
        bool, typer.Option("--show-noise", help="Include background noise in the timeline.")
    ] = False,
) -> None:
    """Run a live tabletop exercise: step the clock, inject, show each agency's view, debrief.

    Reads commands from the terminal (or a pipe). Type 'help' for the list.
    """
    from tearline.run import Exercise

    with clear_errors():
        ex = Exercise(_config(_load(scenario), policy, seed, exclude_disputed, enable, 1.0))
    asyncio.run(_exercise_loop(ex, noise))


async def _exercise_loop(ex: Any, noise: bool) -> None:
    import shlex
    import time as wall

    from tearline.model import parse_duration, parse_time
    from tearline.run import Exercise

    assert isinstance(ex, Exercise)
    s = ex.run.scenario
    await ex.start()
    out.print(f"[bold]{s.title}[/] — policy {ex.config.policy}, seed {ex.config.seed}. Type 'help'.")

    async def show() -> None:
        events, since = await ex.events()
        for row in run_timeline(s, events, show_noise=noise, since=since):
            out.print(
                f"{s.local(row.at)}  [bold]{row.who:<10}[/] {row.what}",
                style=row.style or None,
                soft_wrap=True,
            )

    while True:
        try:
            line = input(f"[{s.local(ex.clock)}] > ")
        except EOFError:
            break
        try:
            words = shlex.split(line)
        except ValueError as exc:
            err.print(f"[red]{exc}[/]")
            continue
        if not words:
            continue
        cmd, args = words[0], words[1:]
        try:
            if cmd in {"quit", "exit"}:
                break
            if cmd == "help":
                out.print(EXERCISE_HELP)
            elif cmd == "step":
                await ex.step(int(args[0]) if args else 1)
            elif cmd == "advance":
                await ex.advance_to(ex.clock + parse_duration(args[0]))
            elif cmd == "until":
                await ex.advance_to(parse_time(args[0]))
            elif cmd == "live":
                speed = float(args[0])
                stop = ex.clock + (parse_duration(args[1]) if len(args) > 1 else s.horizon)
                try:
                    while (t := ex.driver.peek()) is not None and t < stop:
                        before = ex.clock
                        await ex.driver.step()
                        await show()
                        wall.sleep(min(5.0, max(0.0, (ex.clock - before) / speed)))
                except KeyboardInterrupt:
                    out.print("paused")
            elif cmd == "view":
                v = ex.view(args[0])
                table = Table(
                    title=f"{v.agency} at {s.local(ex.clock)}: {v.waiting} waiting for triage",
                    title_justify="left",
                )
                for col in ("case", "leads", "facets", "score", "actionable"):
                    table.add_column(col)
                hidden = frozenset() if noise else ex.world.noise_ids
                for c in v.cases:
                    if not hidden.issuperset(c.leads):
                        table.add_row(
                            c.case,
                            ", ".join(c.leads),
                            "+".join(c.facets),
                            f"{c.score:.2f}",
                            "YES" if c.actionable else "",
                        )
                out.print(table)
            elif cmd == "inject":
                for inj in _read_injects(Path(args[0])):
                    ex.inject(inj)
                    out.print(f"injected {inj.id} for {inj.observer} at {s.local(inj.at)}")
            elif cmd == "debrief":
                result = await ex.debrief(Path(args[0]) if args else None)
                await show()
                _print_outcomes(result)
                break
            else:
                err.print(f"unknown command {cmd!r}; type 'help'")
                continue
            if cmd in {"step", "advance", "until"}:
                await show()
        except (IndexError, ValueError) as exc:
            err.print(f"[red]{cmd}: {exc or 'missing argument'}[/] (type 'help')")
        except TearlineError as exc:
            err.print(f"[red]{exc}[/]")


def _read_injects(path: Path) -> list[Inject]:
    """Injects from a YAML file (one, or a list), in the scenario's inject format, citations checked."""
    data, locate = read(path)
    items = data if isinstance(data, list) else [data]
    facts = load_facts(ROOT_SEEDS) if ROOT_SEEDS.is_dir() else {}
    injects = []
    for i, item in enumerate(items):
        prefix: tuple[int, ...] = (i,) if isinstance(data, list) else ()

        def at(loc: Sequence[int | str], prefix: tuple[int, ...] = prefix) -> int | None:
            return locate((*prefix, *loc))

        inj = validate(Inject, item, path, at)
        unknown = [c for c in inj.cites if c not in facts]
        if unknown:
            raise ScenarioError(
                str(path), [Problem("cites", f"unknown fact(s): {', '.join(unknown)}", at(("cites",)))]
            )
        injects.append(inj)
    return injects


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


@policies_app.command("list")
def policies_list() -> None:
    """Every policy available, built-in and plugin, with one line each."""
    from tearline.policies import available

    table = Table()
    for col in ("policy", "what it does", "options", "from"):
        table.add_column(col)
    for info in available():
        table.add_row(info.name, info.summary, ", ".join(info.options) or "-", info.origin)
    out.print(table)


@policies_app.command("show")
def policies_show(name: Annotated[str, typer.Argument(help="A policy name.")]) -> None:
    """A policy's full description: its rule, its real-world source, its options."""
    from tearline.policies import available

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


@policies_app.command("lint")
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
    from rich.markup import escape

    from tearline.policies import lint

    with clear_errors():
        against = _load(scenario) if scenario else None
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


@app.command()
def explain(
    run_dir: Annotated[Path, typer.Argument(help="A run directory written by: tearline run ... --out DIR")],
    lead: Annotated[
        str, typer.Argument(help="A lead id: an inject id, AGENCY-aN (assessment) or AGENCY-nN (noise).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the chain as JSON.")] = False,
) -> None:
    """Why each agency did or did not get a lead: rule, reason, each composed member's verdict, consent, delivery.

    Example:  tearline run connect-the-dots -p tearline:then=bilateral -o runs/ctd && tearline explain runs/ctd what
    """
    import json

    from tearline.report import ExplainError, explain_lead, render
    from tearline.report import as_json as explanation_json

    try:
        x = explain_lead(run_dir, lead)
    except ExplainError as exc:
        fail(str(exc), hint=exc.hint)
    if as_json:
        out.print_json(json.dumps(explanation_json(x)))
    else:
        out.print(render(x), markup=False, soft_wrap=True)


NamespaceOption = typer.Option(
    "--namespace",
    help="Topic prefix: <ns>.<agency>.inbox, <ns>.audit, <ns>.clock... The driver and its services must agree "
    "(default for services and --remote: tearline).",
)
WaitOption = typer.Option(
    "--wait", min=0.0, help="Seconds to wait for services to join, and for each to report on each window."
)
ServiceWaitOption = typer.Option(
    "--wait",
    min=0.0,
    help="Give up if no run is announced within this many seconds (default: wait for ever).",
)
Bootstrap = Annotated[
    str | None, typer.Option(help="Kafka bootstrap servers, HOST:PORT (default: $TEARLINE_KAFKA_BOOTSTRAP).")
]


def _bootstrap(bootstrap: str | None) -> str:
    from tearline.broker import KafkaSetupError, resolve_bootstrap

    try:
        return resolve_bootstrap(bootstrap)
    except KafkaSetupError as exc:
        fail(str(exc), hint="scripts/kafka start   # a local broker without Docker: prints BOOTSTRAP=...")


def _serve(name: str, bootstrap: str | None, namespace: str, wait: float | None) -> None:
    from tearline.broker import kafka_transport
    from tearline.run import serve

    address = _bootstrap(bootstrap)

    async def go() -> tuple[str, str, int]:
        async with kafka_transport(address, client_id=f"tearline-{name}") as kafka:
            served = await serve(name, kafka, namespace=namespace, wait=wait)
            return served.reason, served.detail, served.windows

    with clear_errors():
        reason, detail, windows = asyncio.run(go())
    if reason != "finished":
        fail(f"{name}: the driver aborted the run after {windows} windows: {detail}", code=EXIT_RUNTIME)
    err.print(f"{name}: run finished after {windows} windows")


@app.command("broker")
def broker_service(
    bootstrap: Bootstrap = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    wait: Annotated[float | None, ServiceWaitOption] = None,
) -> None:
    """The release gateway as a service: joins the run a driver announces, applies its policy to every lead.

    Waits for a driver (tearline run SCENARIO --transport kafka --remote), rebuilds and resumes if the run is under way (a restart), exits when the run ends.

    Example:  tearline broker --bootstrap 127.0.0.1:9092
    """
    from tearline.broker import GATEWAY

    _serve(GATEWAY, bootstrap, namespace, wait)


@app.command("agency")
def agency_service(
    name: Annotated[str, typer.Argument(help="The agency's id in the scenario (e.g. NSS).")],
    bootstrap: Bootstrap = None,
    namespace: Annotated[str, NamespaceOption] = "tearline",
    wait: Annotated[float | None, ServiceWaitOption] = None,
) -> None:
    """One agency as a service: triages what it receives, links, acts, publishes its leads.

    Waits for a driver (tearline run SCENARIO --transport kafka --remote), rebuilds and resumes if the run is under way (a restart), exits when the run ends.

    Example:  tearline agency NSS --bootstrap 127.0.0.1:9092
    """
    _serve(name, bootstrap, namespace, wait)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)
