"""``tearline check`` and ``tearline compare``: many replays, for CI and for policy research."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from tearline.model import load_scenario, resolve_scenario, scenario_files
from tearline.report import CaseResult, write_junit
from tearline.research import RUNS_MAX, analyse, comparison_jobs, run_rows, write_batch
from tearline.research import merge as merge_batches
from tearline.run import check_scenarios

from ._batch import (
    DEFAULT_CACHE,
    CacheDir,
    Jobs,
    NoCache,
    Scheduler,
    ShardOption,
    executor,
    run_batch,
    shard_of,
)
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


def _iv(r: dict[str, Any], col: str, spec: str) -> str:
    if r.get(col) is None:
        return "-"
    return f"{r[col]:{spec}} [{r[col + '_low']:{spec}}, {r[col + '_high']:{spec}}]"


def print_table(
    title: str, rows: list[dict[str, Any]], columns: dict[str, Callable[[dict[str, Any]], str]]
) -> None:
    table = Table(title=title, title_justify="left")
    for name in columns:
        table.add_column(
            name, justify="left" if name in {"policy", "plot", "link", "parameter", "outcome"} else "right"
        )
    for r in rows:
        table.add_row(*(f(r) for f in columns.values()))
    out.print(table)


def compare(
    scenario: Annotated[str, typer.Argument(help="A scenario name or YAML file.")],
    policy: Annotated[
        list[str], typer.Option("--policy", "-p", help="Policies to compare. Repeat: -p siloed -p bilateral.")
    ],
    runs: Annotated[
        int, typer.Option(min=1, max=RUNS_MAX, metavar="N", help="Seeded runs per policy (seeds 1..N).")
    ] = 20,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            metavar="DIR",
            help="Write runs, aggregate and differences (CSV, Parquet) and plots here.",
        ),
    ] = None,
    exclude_disputed: ExcludeDisputed = False,
    enable: Enable = None,
    noise_scale: NoiseScale = 1.0,
    quiet: Annotated[
        bool, typer.Option("--quiet", "-q", help="Print only the tables (no progress, no file list).")
    ] = False,
    seeds: Seeds = None,
    jobs: Jobs = 0,
    scheduler: Scheduler = None,
    shard: ShardOption = None,
    cache: CacheDir = DEFAULT_CACHE,
    no_cache: NoCache = False,
) -> None:
    """Policy research: seeded runs per policy; disruption rates (Wilson 95 %), hours of warning and
    analyst load (bootstrap 95 %), each policy's difference from the first — and plots."""
    with clear_errors():
        s = load(scenario, seeds)
        check_enable(s, enable)
        part = shard_of(shard)
        configs = [run_config(s, p, 1, exclude_disputed, enable, noise_scale) for p in policy]
        batch = comparison_jobs(configs, range(1, runs + 1))
        done = run_batch(
            executor(jobs, scheduler, cache, no_cache),
            batch,
            part,
            f"{s.id}: {len(policy)} policies × {runs} seeds",
            quiet=quiet,
        )
        rows = run_rows(done)
        meta = {
            "kind": "compare",
            "scenario": s.id,
            "title": s.title,
            "policies": list(policy),
            "seeds": runs,
            "exclude_disputed": exclude_disputed,
            "enable": sorted(enable or ()),
            "noise_scale": noise_scale,
            "shard": str(part),
            "runs": len(done),
        }
        tables = analyse("compare", rows)
        if out_dir is not None:
            tables, written = write_batch(out_dir, meta, rows)
    print_table(
        f"{s.title}: {runs} seeded runs per policy" + (f" (shard {part})" if part.count > 1 else ""),
        tables["aggregate"],
        {
            "policy": lambda r: str(r["policy"]),
            "plot": lambda r: str(r["plot"]),
            "runs": lambda r: str(r["runs"]),
            "disrupted [95 % CI]": lambda r: _iv(r, "disruption_rate", ".0%"),
            "warning h when disrupted": lambda r: _iv(r, "warning_hours", ".1f"),
            "triage wait h": lambda r: _iv(r, "wait_hours", ".2f"),
            "detected": lambda r: f"{r['detected'] / r['runs']:.0%}",
            "released": lambda r: f"{r['released']:g}",
            "exposure": lambda r: f"{r['exposure']:g}",
            "false interdictions": lambda r: f"{r['false_interdictions']:g}",
        },
    )
    if tables["differences"]:
        print_table(
            f"Against {policy[0]}",
            tables["differences"],
            {
                "policy": lambda r: str(r["policy"]),
                "plot": lambda r: str(r["plot"]),
                "Δ disrupted [95 % CI]": lambda r: _iv(r, "rate_difference", "+.0%"),
                "Δ warning h": lambda r: _iv(r, "warning_difference", "+.1f"),
                "Δ triage wait h": lambda r: _iv(r, "wait_difference", "+.2f"),
            },
        )
    if out_dir is not None and not quiet:
        out.print(f"wrote {len(written)} files to {out_dir}")


def merge(
    directories: Annotated[
        list[Path], typer.Argument(help="The shards' output directories (from --shard i/n --out).")
    ],
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Write the merged batch here.")],
) -> None:
    """Join the shards of one compare, links or sweep batch and analyse the whole."""
    with clear_errors():
        meta, _, written = merge_batches(directories, out_dir)
    missing = meta["missing_shards"]
    out.print(f"merged {meta['runs']} run rows of a {meta['kind']} batch ({meta['shard']}) into {out_dir}")
    if missing:
        err.print(f"[yellow]warning:[/] {missing} shard(s) missing: the analysis covers only what was merged")
    out.print(f"wrote {len(written)} files")
