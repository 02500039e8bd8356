"""``tearline check`` and ``tearline compare``: many replays, for CI and for policy research."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tearline.model import load_scenario, resolve_scenario, scenario_files
from tearline.report import CaseResult, plot_comparison, write_csv, write_junit
from tearline.run import RUNS_MAX, check_scenarios, compare_policies

from ._common import (
    EXIT_FAILED,
    EXIT_OK,
    Enable,
    ExcludeDisputed,
    NoiseScale,
    Seeds,
    check_enable,
    clear_errors,
    err,
    load,
    out,
    run_config,
)


def _bar(quiet: bool = False) -> Progress:
    """A progress bar on stderr, shown only when stderr is a terminal (and not asked to be quiet)."""
    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(), console=err, transient=True, disable=quiet or not sys.stderr.isatty(),
    )  # fmt: skip


def check(
    scenarios: Annotated[
        list[str] | None, typer.Argument(help="Scenarios to check (default: all with an expect: block).")
    ] = None,
    junit: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write a JUnit XML report here.")
    ] = None,
    seeds: Seeds = None,
) -> None:
    """CI: replay each scenario's expect: cases and assert the outcomes. Exit 1 on any failure."""
    with clear_errors():
        paths = [resolve_scenario(s) for s in scenarios] if scenarios else scenario_files()
        cases = sum(len(load_scenario(p, seeds).expect) for p in paths)
        with _bar() as bar:
            task = bar.add_task(f"{len(paths)} scenario(s)", total=cases)

            def done(case: CaseResult) -> None:
                out.print(case.line(), soft_wrap=True)
                bar.advance(task)

            results = check_scenarios(paths, on_case=done, seeds=seeds)
    if junit is not None:
        write_junit(results, junit)
    failed = sum(1 for r in results if not r.passed)
    out.print(f"{len(results) - failed} passed, {failed} failed")
    raise typer.Exit(EXIT_FAILED if failed else EXIT_OK)


def compare(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Annotated[
        list[str], typer.Option("--policy", "-p", help="Policies to compare. Repeat: -p siloed -p bilateral.")
    ],
    runs: Annotated[
        int, typer.Option(min=1, max=RUNS_MAX, metavar="N", help="Seeded runs per policy (seeds 1..N).")
    ] = 20,
    jobs: Annotated[int, typer.Option(min=1, metavar="N", help="Runs in parallel (processes).")] = 1,
    out_dir: Annotated[
        Path | None, typer.Option("--out", "-o", metavar="DIR", help="Write results.csv and plots here.")
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise_scale: NoiseScale = 1.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the table (no file list).")
    ] = False,
    seeds: Seeds = None,
) -> None:
    """Policy research: many seeded runs per policy; disruption rates, warning, cost — and plots."""
    with clear_errors():
        s = load(scenario, seeds)
        check_enable(s, enable)
        configs = [
            run_config(s, p, seed, exclude_disputed, enable, noise_scale)
            for p in policy
            for seed in range(1, runs + 1)
        ]
        with _bar(quiet) as bar:
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
        if not quiet:
            out.print(f"wrote {out_dir / 'results.csv'} and {png}")
