"""``tearline sweep``: a design over scenario parameters × policies × seeds, and what moves each outcome."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from tearline.research import (
    AS_WRITTEN,
    analyse,
    load_design,
    markers,
    run_rows,
    sweep_jobs,
    write_batch,
    write_block,
)

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
from ._common import clear_errors, fail, load, out, run_config
from .research import _iv, print_table


def sweep(
    design_file: Annotated[
        Path, typer.Argument(help="A sweep design (YAML); docs/research.md describes it.")
    ],
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--out",
            "-o",
            help="Write runs, points, sensitivity (CSV, Parquet), a tornado plot, sensitivity.md.",
        ),
    ] = None,
    into: Annotated[
        Path | None,
        typer.Option(
            metavar="DOC",
            help="Also rewrite this design's table in DOC (Markdown), between the comments "
            "<!-- sweep DESIGN --> and <!-- end sweep DESIGN -->, with the command that made it.",
        ),
    ] = None,
    jobs: Jobs = 0,
    scheduler: Scheduler = None,
    shard: ShardOption = None,
    cache: CacheDir = DEFAULT_CACHE,
    no_cache: NoCache = False,
) -> None:
    """Sensitivity: replay a grid, Latin hypercube or one-at-a-time design and rank the parameters by
    how far each moves each outcome (disruption per plot, hours of warning, triage wait)."""
    with clear_errors():
        design, locate = load_design(design_file)
        key = design_file.as_posix()
        if into is not None:
            if not into.is_file():
                fail(f"--into {into}: no such document")
            if not all(m in into.read_text() for m in markers(key)):
                begin, end = markers(key)
                fail(f"--into {into}: add the lines {begin} and {end} where the table goes")
        s = load(design.scenario)
        part = shard_of(shard)
        bases = [run_config(s, p, 1, False, None, 1.0) for p in design.policies]
        batch = sweep_jobs(design, bases, (design_file, locate))
        done = run_batch(
            executor(jobs, scheduler, cache, no_cache), batch, part, f"{s.id}: sweep of {len(batch)} runs"
        )
        rows = run_rows(done)
        meta: dict[str, Any] = {
            "kind": "sweep",
            "scenario": s.id,
            "title": s.title,
            "design": design.model_dump(mode="json"),
            "design_file": str(design_file),
            "shard": str(part),
            "runs": len(done),
        }
        tables = analyse("sweep", rows)
        if out_dir is not None:
            tables, written = write_batch(out_dir, meta, rows)
            (out_dir / "sensitivity.md").write_text(
                markdown(tables["points"], design_file) + "\n" + swings_markdown(tables["sensitivity"])
            )
            written.append(out_dir / "sensitivity.md")
        if into is not None:
            command = f"tearline sweep {key}" + (f" --out {out_dir.as_posix()}" if out_dir else "")
            body = f"```sh\n{command}\n```\n\n{markdown(tables['points'], design_file)}\n" + swings_markdown(
                tables["sensitivity"]
            )
            changed = write_block(into, key, body)
    params = [f"p:{p.name}" for p in design.parameters]
    print_table(
        f"{s.title}: {design.design} design, seeds {', '.join(map(str, design.seed_list))}",
        tables["points"],
        {
            "policy": lambda r: str(r["policy"]),
            **{p.removeprefix("p:"): _column(p) for p in params},
            "plot": lambda r: str(r["plot"]),
            "disrupted [95 % CI]": lambda r: _iv(r, "disruption_rate", ".0%"),
            "warning h when disrupted": lambda r: _iv(r, "warning_hours", ".1f"),
            "triage wait h": lambda r: _iv(r, "wait_hours", ".2f"),
        },
    )
    print_table(
        "What moves each outcome most (range of its mean over a parameter's levels)",
        [e for e in tables["sensitivity"] if e["swing"] > 0] or tables["sensitivity"][:10],
        {
            "policy": lambda r: str(r["policy"]),
            "outcome": lambda r: str(r["outcome"]),
            "parameter": lambda r: str(r["parameter"]),
            "swing": lambda r: f"{r['swing']:g}",
            "low (at)": lambda r: f"{r['low']:g} ({r['low_at']})",
            "high (at)": lambda r: f"{r['high']:g} ({r['high_at']})",
        },
    )
    if out_dir is not None:
        out.print(f"wrote {len(written)} files to {out_dir}")
    if into is not None:
        out.print(f"{'rewrote' if changed else 'unchanged:'} the table of {key} in {into}")


def _column(name: str) -> Callable[[dict[str, Any]], str]:
    return lambda r: str(r[name])


def markdown(points: list[dict[str, Any]], design_file: Path) -> str:
    """The points as a Markdown table: the parameters' values, then each plot's result. A
    one-at-a-time design gets one "parameter | value" pair per row instead of a column each."""
    params = [k for k in points[0] if k.startswith("p:")] if points else []
    oat = all(sum(r[p] != AS_WRITTEN for p in params) <= 1 for r in points)
    head = ["parameter", "value"] if oat else [p.removeprefix("p:") for p in params]
    lines = [
        f"<!-- made by: tearline sweep {design_file} -->",
        "| "
        + " | ".join(
            [
                "policy",
                *head,
                "plot",
                "disrupted (95 % CI)",
                "by",
                "warning h when disrupted",
                "triage wait h",
            ]
        )
        + " |",
        "| " + " | ".join("---" for _ in range(len(head) + 6)) + " |",
    ]
    for r in points:
        if oat:
            varied = [p for p in params if r[p] != AS_WRITTEN] or params[:1]
            cells = [varied[0].removeprefix("p:"), str(r[varied[0]])]
        else:
            cells = [str(r[p]) for p in params]
        rate = f"{r['disrupted']}/{r['runs']} ({_iv(r, 'disruption_rate', '.0%')})"
        cells = [str(r["policy"]), *cells, str(r["plot"]), rate, r["disrupted_by"] or "-"]
        cells += [_iv(r, "warning_hours", ".1f"), _iv(r, "wait_hours", ".2f")]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def swings_markdown(effects: list[dict[str, Any]]) -> str:
    """The sensitivity summary as Markdown: per policy and outcome, the parameters that move it,
    largest swing first (those that move nothing are left out)."""
    moving = [e for e in effects if e["swing"] > 0]
    if not moving:
        return "No parameter moves any outcome over these levels and seeds.\n"
    lines = [
        "What moves each outcome most (the range of its mean over a parameter's levels):",
        "",
        "| policy | outcome | parameter | swing | low (at) | high (at) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for e in moving:
        lines.append(
            f"| {e['policy']} | {e['outcome']} | {e['parameter']} | {e['swing']:g} "
            f"| {e['low']:g} ({e['low_at']}) | {e['high']:g} ({e['high_at']}) |"
        )
    return "\n".join(lines) + "\n"
