"""What the batch commands (compare, links, sweep) share: where runs execute, shards, the cache,
and a progress bar that says how many results came from the cache."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from tearline.research import Cache, Done, Executor, Job, Shard

from ._common import err

Jobs = Annotated[int, typer.Option(min=0, help="Local processes running replays (0: one per CPU).")]
Scheduler = Annotated[
    str | None,
    typer.Option(
        help="Run on a Dask cluster: its scheduler's address, tcp://HOST:PORT (default: local processes)."
    ),
]
ShardOption = Annotated[
    str | None,
    typer.Option(
        "--shard", help="Run only part i of n of the batch (i/n); join the parts with tearline merge."
    ),
]
CacheDir = Annotated[
    Path,
    typer.Option(
        "--cache", help="Finished runs, keyed by their full configuration: an interrupted batch resumes here."
    ),
]
NoCache = Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the result cache.")]
DEFAULT_CACHE = Path(".tearline/runs-cache")


def executor(jobs: int, scheduler: str | None, cache: Path, no_cache: bool) -> Executor:
    return Executor(jobs=jobs, scheduler=scheduler, cache=None if no_cache else Cache(cache))


def shard_of(text: str | None) -> Shard:
    return Shard.parse(text) if text else Shard()


def run_batch(
    ex: Executor, jobs: Sequence[Job], shard: Shard, what: str, *, quiet: bool = False
) -> list[Done]:
    """Run a batch with a progress bar on stderr; report runs done, cached and the time taken."""
    total = len(shard.select(jobs))
    started = time.perf_counter()
    counts = {"run": 0, "cached": 0}
    where = ex.scheduler or f"{ex.jobs or 'all'} local processes"
    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[cached]} cached"), TimeElapsedColumn(), TimeRemainingColumn(),
        console=err, transient=True, disable=quiet or not sys.stderr.isatty(),
    ) as bar:  # fmt: skip
        task = bar.add_task(what, total=total, cached=0)

        def on_done(d: Done) -> None:
            counts["cached" if d.cached else "run"] += 1
            bar.update(task, advance=1, cached=counts["cached"])

        done = ex.run(jobs, on_done, shard=shard)
    seconds = time.perf_counter() - started
    rate = f", {counts['run'] / seconds:.2f} runs/s" if counts["run"] and seconds > 0 else ""
    if not quiet:
        err.print(
            f"{what}: {counts['run']} runs, {counts['cached']} from the cache, {seconds:.1f} s on {where}{rate}"
            + (f" (shard {shard})" if shard.count > 1 else "")
        )
    return done
